// `iwfctl decode hbp` over the committed HBP session: every datagram decodes, and the JSON
// carries the login, the PI header crypto fields, the LC and the embedded LC.
#include "lmr_adapters/dmr/cli/decode_hbp.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace iwf::lmr::dmr {
namespace {

TEST(DmrDecodeHbp, CommittedSessionDecodesToJsonLines) {
    auto cap = pcap::readCaptureFile(std::string(IWF_DMR_DATA) + "/encrypted_call.hex");
    ASSERT_TRUE(cap.ok()) << cap.error().toString();
    std::vector<std::string> lines;
    EXPECT_EQ(decodeHbpCapture(*cap, std::nullopt, lines), 0u);
    ASSERT_EQ(lines.size(), 6u + 10u + 2u);
    std::vector<nlohmann::json> j;
    for (const auto& l : lines) {
        j.push_back(nlohmann::json::parse(l));
    }
    EXPECT_EQ(j[0]["type"], "RPTL");
    EXPECT_EQ(j[0]["peer_id"], 312000);
    EXPECT_EQ(j[1]["type"], "RPTACK");
    EXPECT_EQ(j[2]["type"], "RPTK");
    EXPECT_EQ(j[4]["type"], "RPTC");
    EXPECT_EQ(j[4]["config"]["callsign"], "N0CALL");
    EXPECT_EQ(j[6]["type"], "DMRD");
    EXPECT_EQ(j[6]["data_type"], "voice_lc_header");
    EXPECT_EQ(j[6]["lc"]["privacy"], true);
    EXPECT_EQ(j[6]["lc"]["dst"], 91);
    EXPECT_EQ(j[8]["data_type"], "pi_header");
    EXPECT_EQ(j[8]["pi_header"]["algid"], 4);
    EXPECT_EQ(j[8]["pi_header"]["key_id"], 0x2A);
    EXPECT_EQ(j[8]["pi_header"]["fid"], 0x10);
    EXPECT_EQ(j[8]["pi_header"]["iv"], "deadbeef");
    EXPECT_EQ(j[9]["voice_burst"], "A");
    EXPECT_EQ(j[9]["sync"], "bs_voice");
    EXPECT_EQ(j[10]["emb"]["pi"], true);
    EXPECT_EQ(j[13]["voice_burst"], "E");
    EXPECT_EQ(j[13]["embedded_lc"]["src"], 3120097);
    EXPECT_EQ(j[15]["data_type"], "terminator_with_lc");
    EXPECT_EQ(j[17]["type"], "MSTPONG");

    // A broken datagram becomes an error line and is counted.
    pcap::Capture bad;
    bad.udp.push_back({});
    bad.udp.back().payload = {'D', 'M', 'R', 'D', 1, 2};
    lines.clear();
    EXPECT_EQ(decodeHbpCapture(bad, std::nullopt, lines), 1u);
    EXPECT_EQ(nlohmann::json::parse(lines[0])["error"], "truncated");
}

}  // namespace
}  // namespace iwf::lmr::dmr
