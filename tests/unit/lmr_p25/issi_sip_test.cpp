#include "lmr_adapters/p25/issi_sip.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lmr_adapters/p25/cli/decode_commands.hpp"

namespace iwf::lmr::p25 {
namespace {

// SDP body of the INVITE in NIST's VHF_UHF_ISSI.pcap.
const char* kNistSdp =
    "v=0\r\no=- 1227710338 1227710338 IN IP4 10.0.0.24\r\ns=TIA-P25-Groupcall\r\n"
    "c=IN IP4 10.0.0.24\r\nt=0 0\r\nm=audio 25000 RTP/AVP 100\r\n"
    "a=rtpmap:100 X-TIA-P25-IMBE/8000\r\n";

TEST(P25IssiSip, NistSdp) {
    auto s = parseIssiSdp(kNistSdp);
    ASSERT_TRUE(s.ok()) << s.error().toString();
    EXPECT_EQ(s->address, "10.0.0.24");
    EXPECT_EQ(s->port, 25000);
    EXPECT_EQ(s->imbe_pt, 100);
    EXPECT_EQ(s->session_id, 1227710338U);
    auto again = parseIssiSdp(buildIssiSdp(*s));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->address, s->address);
    EXPECT_EQ(again->port, s->port);
    EXPECT_EQ(again->imbe_pt, s->imbe_pt);
    EXPECT_EQ(parseIssiSdp("v=0\r\nm=audio 1 RTP/AVP 100\r\n").error().reason, "sdp_no_connection");
    EXPECT_EQ(parseIssiSdp("v=0\r\nc=IN IP4 1.2.3.4\r\n").error().reason, "sdp_no_audio");
    EXPECT_EQ(parseIssiSdp("c=IN IP4 1.2.3.4\r\nm=audio 70000 RTP/AVP 100\r\n").error().reason,
              "sdp_bad_port");
    EXPECT_EQ(parseIssiSdp("garbage\r\n").error().reason, "sdp_bad_line");
}

TEST(P25IssiSip, CallParamsLongAndCompactNames) {
    auto p =
        parseIssiCallParams("c-protected:1\r\nc-gct:0\r\nc-i:0\r\nc-ctxrp:3\r\nc-algid:84\r\n");
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->protected_mode, true);
    EXPECT_EQ(p->confirmed_group_call, false);
    EXPECT_EQ(p->initial_transmitter, true);  // c-initrans:0 = initial transmitter (NIST)
    EXPECT_EQ(p->console_priority, 3);
    EXPECT_EQ(p->other.at("c-algid"), "84");
    auto again = parseIssiCallParams(buildIssiCallParams(*p));
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *p);
    EXPECT_NE(buildIssiCallParams(*p).find("c-initrans:0\r\n"), std::string::npos);
    EXPECT_EQ(parseIssiCallParams("c-protected:2\r\n").error().reason, "param_bad_value");
    EXPECT_EQ(parseIssiCallParams("c-protected\r\n").error().reason, "param_bad_line");
}

TEST(P25IssiSip, MultipartRoundTrip) {
    IssiCallParams params;
    params.protected_mode = true;
    std::string ct;
    std::string body =
        buildMultipart({{"application/sdp", kNistSdp},
                        {std::string(kIssiContentType), buildIssiCallParams(params)}},
                       "xyz", ct);
    EXPECT_EQ(ct, "multipart/mixed;boundary=xyz");
    auto b = parseIssiBody(ct, body);
    ASSERT_TRUE(b.ok()) << b.error().toString();
    ASSERT_TRUE(b->sdp);
    ASSERT_TRUE(b->params);
    EXPECT_EQ(b->sdp->port, 25000);
    EXPECT_EQ(b->params->protected_mode, true);
    auto parts = parseMultipart(ct, body);
    ASSERT_TRUE(parts.ok());
    ASSERT_EQ(parts->size(), 2U);
    EXPECT_EQ((*parts)[0].body, kNistSdp);
    EXPECT_EQ(parseMultipart("multipart/mixed", body).error().reason, "multipart_no_boundary");
    EXPECT_EQ(parseMultipart(ct, "--xyz\r\nContent-Type: a/b\r\n\r\nno end").error().reason,
              "multipart_bad_body");
}

TEST(P25IssiSip, GroupUris) {
    auto g = parseIssiGroupUri("sip:bee07ad50333@p25dr;user=TIA-P25-SG");
    ASSERT_TRUE(g);
    EXPECT_EQ(g->sys.wacn, 0xBEE07U);
    EXPECT_EQ(g->sys.system, 0xAD5);
    EXPECT_EQ(g->tgid, 0x333);
    EXPECT_EQ(issiGroupUri(*g), "sip:bee07ad50333@p25dr;user=TIA-P25-SG");
    EXPECT_TRUE(parseIssiGroupUri("sip:abcde0020001@04.002.abcde.p25dr;user=TIA-P25-SG"));
    EXPECT_FALSE(parseIssiGroupUri("sip:alice@example.com"));
    EXPECT_FALSE(parseIssiGroupUri("sip:zzzzzzzzzzzz@p25dr"));
    EXPECT_EQ(issiRfssDomain(3, {0xBEE07, 0xAD5}), "03.ad5.bee07.p25dr");
}

// `iwfctl decode issi` on a NIST capture: one JSON line per datagram, no error, SIP bodies
// parsed, ISSI blocks named.
TEST(P25DecodeCli, IssiCaptureAsJsonLines) {
    std::ostringstream out;
    int rc = decodeIssiFile(std::string(IWF_ISSI_DATA_DIR) + "/VHF_UHF_ISSI.pcap", out);
    EXPECT_EQ(rc, 0);
    const std::string s = out.str();
    EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 126);
    EXPECT_EQ(s.find("\"error\""), std::string::npos);
    EXPECT_NE(s.find("\"group\":\"p25:group:BEE07.AD5.0333\""), std::string::npos);
    EXPECT_NE(s.find("\"packet_type\":\"ptt_progress\""), std::string::npos);
    EXPECT_NE(s.find("\"block\":\"header_word\""), std::string::npos);
    EXPECT_NE(s.find("\"unit\":\"BEE07.AD5.0000C5\""), std::string::npos);
    EXPECT_EQ(decodeIssiFile("/nonexistent.pcap", out), 2);
}

TEST(P25DecodeCli, RecordsHexDump) {
    const std::string path = ::testing::TempDir() + "/p25_records.hex";
    {
        std::ofstream f(path);
        f << "# poll, LC record, ES record, garbage\n";
        f << "f04e3043414c4c20202020\n";
        f << "6480004400000102030405060708090a02\n";
        f << "70841234000001020304050607080900a02\n";  // odd length: pcap reader refuses
    }
    std::ostringstream out;
    EXPECT_EQ(decodeRecordsFile(path, out), 2);
    {
        std::ofstream f(path);
        f << "f04e3043414c4c20202020\n";
        f << "6480004400000102030405060708090a02\n";
        f << "55aa\n";
    }
    std::ostringstream out2;
    EXPECT_EQ(decodeRecordsFile(path, out2), 1);
    const std::string s = out2.str();
    EXPECT_NE(s.find("\"callsign\":\"N0CALL\""), std::string::npos);
    EXPECT_NE(s.find("\"protected_lc\":true"), std::string::npos);
    EXPECT_NE(s.find("\"late_entry\":true"), std::string::npos);
    EXPECT_NE(s.find("\"error\":\"unknown_tag\""), std::string::npos);
}

// The LDU1 record 0x65 carries the destination ID (TG 100 in the recorded call): it goes under
// `dst_id`, and `dst` stays the datagram's UDP destination address (it used to be overwritten
// by the talkgroup number).
TEST(P25DecodeCli, RecordsDestinationIdApartFromAddress) {
    std::ostringstream out;
    decodeRecordsFile(std::string(IWF_WIRESHARK_DATA_DIR) + "/p25_call.pcapng", out);
    std::istringstream lines(out.str());
    std::string line;
    int seen = 0;
    while (std::getline(lines, line)) {
        auto j = nlohmann::json::parse(line);
        if (j.value("tag", "") != "0x65") {
            continue;
        }
        ++seen;
        EXPECT_EQ(j["dst_id"], 100) << line;
        ASSERT_TRUE(j["dst"].is_string()) << line;
        EXPECT_EQ(j["dst"].get<std::string>().rfind("127.0.0.1:", 0), 0u) << line;
    }
    EXPECT_GT(seen, 0);
}

}  // namespace
}  // namespace iwf::lmr::p25
