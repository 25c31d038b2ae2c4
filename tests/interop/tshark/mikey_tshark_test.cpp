// tshark (Debian 12's Wireshark 4.0, epan/dissectors/packet-mikey.c) decodes the MIKEY-SAKKE
// I_MESSAGE layout OpenIWF's codec writes (mc_adapters/security/mikey.cpp): every payload a
// TS 33.180 Annex E message carries, field by field, with no malformed-packet mark.
//
// The message goes into a classic pcap as UDP to port 2269, the port Wireshark registers for
// MIKEY, and is read back with `tshark -T fields`.
//
// Known tshark 4.0 limit: packet-mikey.c decodes the SRTP-ID map (type 0) and the empty map
// (type 1) of the common header but not RFC 6043's GENERIC-ID map (type 2): it stops after
// the header and reads the map's octets as the next payload. The messages here therefore use
// the empty map, which TS 33.180 E.1.2 allows (#CS = 0: default policies); the GENERIC-ID
// layout is checked octet by octet against RFC 6043 §6.1.1 in tests/unit/mc_security.
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/bytes.hpp"
#include "mc_adapters/security/mikey.hpp"
#include "tests/support/classic_pcap.hpp"

namespace iwf::mc::security::mikey {
namespace {

Bytes hex(std::string_view s) {
    return fromHex(s).value();
}
Bytes text(std::string_view s) {
    return Bytes(s.begin(), s.end());
}

// A GMK distribution as TS 33.180 E.2 lists its payloads: HDR, T, RAND, IDRi, IDRr, IDRkmsi,
// IDRkmsr, SP, SAKKE, the "3GPP key parameters" extension, SIGN (ECCSI).
Message gmkMessage() {
    Message m;
    m.hdr.csb_id = 0x06a12aea;  // a GUK-ID: purpose tag 0 (GMK)
    m.hdr.map_type = kMapEmpty;
    m.payloads.emplace_back(Timestamp{kTsNtpUtc, 0xec898da800000000ULL});
    m.payloads.emplace_back(RandPayload{hex("ca2f5d51ff0866362c1d85a56f84651e")});
    m.payloads.emplace_back(
        IdrPayload{kRoleInitiator, kIdTypeUri, text("sip:gms@mcptt.example.org")});
    m.payloads.emplace_back(
        IdrPayload{kRoleResponder, kIdTypeUri, text("sip:iwf@mcptt.example.org")});
    m.payloads.emplace_back(
        IdrPayload{kRoleInitiatorKms, kIdTypeUri, text("kms.mcptt.example.org")});
    m.payloads.emplace_back(
        IdrPayload{kRoleResponderKms, kIdTypeUri, text("kms.mcptt.example.org")});
    m.payloads.emplace_back(SpPayload{0, 0, {{0, {6}}, {1, {16}}, {4, {12}}}});
    m.payloads.emplace_back(SakkePayload{kSakkeParamSet1, 2, Bytes(273, 0x5a)});
    m.payloads.emplace_back(GeneralExt{kExtKeyParameters, hex("01020304")});
    m.sign_type = kSignEccsi;
    m.signature = Bytes(129, 0x33);
    return m;
}

const std::vector<std::string> kFields = {
    "mikey.version",       "mikey.type",           "mikey.prf_func",      "mikey.csb_id",
    "mikey.cs_count",      "mikey.cs_id_map_type", "mikey.t.ts_type",     "mikey.rand.len",
    "mikey.rand.data",     "mikey.id.role",        "mikey.id.type",       "mikey.id.len",
    "mikey.id.data",       "mikey.sp.no",          "mikey.sp.proto_type", "mikey.sp.param_len",
    "mikey.sakke.params",  "mikey.sakke.idscheme", "mikey.sakke.len",     "mikey.ext.type",
    "mikey.ext.len",       "mikey.sign.type",      "mikey.sign.len",      "_ws.malformed",
    "_ws.expert.severity",
};

std::map<std::string, std::string> decode(const Bytes& datagram) {
    const std::string pcap = (std::filesystem::temp_directory_path() /
                              ("iwf_mikey_" + std::to_string(::getpid()) + ".pcap"))
                                 .string();
    test::writePcap(pcap, 40000, 2269, {datagram});
    std::string cmd = std::string(IWF_TSHARK) + " -n -r " + pcap +
                      " -T fields -E separator=/t -E occurrence=a -E aggregator='|'";
    for (const auto& f : kFields) {
        cmd += " -e " + f;
    }
    cmd += " 2>/dev/null";
    int status = 0;
    std::string out = test::run(cmd, &status);
    std::filesystem::remove(pcap);
    EXPECT_EQ(status, 0) << out;
    std::map<std::string, std::string> row;
    std::istringstream in(out);
    std::string line;
    std::getline(in, line);
    std::vector<std::string> cols;
    std::string cur;
    for (char c : line) {
        if (c == '\t') {
            cols.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    cols.push_back(cur);
    EXPECT_EQ(cols.size(), kFields.size()) << line;
    for (std::size_t i = 0; i < cols.size() && i < kFields.size(); ++i) {
        row[kFields[i]] = cols[i];
    }
    return row;
}

TEST(MikeyTshark, EveryPayloadOfAGmkIMessageDecodesAsWritten) {
    auto wire = encode(gmkMessage());
    ASSERT_TRUE(wire);
    auto row = decode(*wire);
    EXPECT_EQ(row["_ws.malformed"], "");
    EXPECT_EQ(row["_ws.expert.severity"], "");
    EXPECT_EQ(row["mikey.version"], "1");
    EXPECT_EQ(row["mikey.type"], "26");  // SAKKE msg (RFC 6509 §4.1)
    EXPECT_EQ(row["mikey.prf_func"], "1");
    EXPECT_EQ(row["mikey.csb_id"], "0x06a12aea");
    EXPECT_EQ(row["mikey.cs_count"], "0");
    EXPECT_EQ(row["mikey.cs_id_map_type"], "1");
    EXPECT_EQ(row["mikey.t.ts_type"], "0");  // NTP-UTC (33.180 E.1.1)
    EXPECT_EQ(row["mikey.rand.len"], "16");
    EXPECT_EQ(row["mikey.rand.data"], "ca2f5d51ff0866362c1d85a56f84651e");
    EXPECT_EQ(row["mikey.id.role"], "1|2|6|7");
    EXPECT_EQ(row["mikey.id.type"], "1|1|1|1");
    EXPECT_EQ(row["mikey.id.len"], "25|25|21|21");
    EXPECT_EQ(row["mikey.id.data"],
              "sip:gms@mcptt.example.org|sip:iwf@mcptt.example.org|kms.mcptt.example.org|"
              "kms.mcptt.example.org");
    EXPECT_EQ(row["mikey.sp.no"], "0");
    EXPECT_EQ(row["mikey.sp.proto_type"], "0");
    EXPECT_EQ(row["mikey.sp.param_len"], "9");
    EXPECT_EQ(row["mikey.sakke.params"], "1");
    EXPECT_EQ(row["mikey.sakke.idscheme"], "2");
    EXPECT_EQ(row["mikey.sakke.len"], "273");
    EXPECT_EQ(row["mikey.ext.type"], "7");
    EXPECT_EQ(row["mikey.ext.len"], "4");
    EXPECT_EQ(row["mikey.sign.type"], "2");  // ECCSI (RFC 6509 §4.3)
    EXPECT_EQ(row["mikey.sign.len"], "129");
}

}  // namespace
}  // namespace iwf::mc::security::mikey
