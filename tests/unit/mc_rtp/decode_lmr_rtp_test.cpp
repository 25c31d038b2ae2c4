// `iwfctl decode lmr-rtp`: the example payload of docs/protocols/iwf-1-media.md ("Example",
// P25, AES-256 0x84, KID 0x1234, superframe 0x00010203, frame 10) behind a hand-written RTP
// header (RFC 3550 5.1) decodes to exactly the fields of the table; other datagrams are
// skipped, a refused payload is reported with its reason.
#include "mc_adapters/rtp/cli/decode_lmr_rtp.hpp"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace iwf::mc::rtp {
namespace {

pcap::UdpDatagram datagram(std::uint32_t index, std::vector<std::uint8_t> bytes) {
    pcap::UdpDatagram d;
    d.index = index;
    d.src_ip = 0x7F000001;
    d.dst_ip = 0x7F000001;
    d.src_port = 40000;
    d.dst_port = 40002;
    d.payload.assign(bytes.begin(), bytes.end());
    return d;
}

// V=2, M=1, PT=96, seq 0x1234, ts 0x00000a00, SSRC 0xdeadbeef
const std::vector<std::uint8_t> kRtp = {0x80, 0xE0, 0x12, 0x34, 0x00, 0x00,
                                        0x0A, 0x00, 0xDE, 0xAD, 0xBE, 0xEF};
// docs/protocols/iwf-1-media.md, "Example"
const std::vector<std::uint8_t> kExample = {
    0x60, 0x00, 0x00, 0x0a, 0x00, 0x01, 0x02, 0x03, 0x00, 0x84, 0x00, 0x00, 0x12, 0x34,
    0x09, 0x0b, 0x03, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0xa1, 0xa2,
    0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0x5a, 0x5b, 0x5c};

std::vector<std::uint8_t> cat(std::vector<std::uint8_t> a, const std::vector<std::uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

TEST(DecodeLmrRtp, TheSpecExampleGivesEveryFieldOfThePayloadTable) {
    pcap::Capture cap;
    cap.udp.push_back(datagram(1, {'I', 'N', 'V', 'I', 'T', 'E', ' ', 's', 'i', 'p', ':', 'x', ' ',
                                   'S', 'I', 'P'}));  // skipped: not RTP
    // PT 97: another payload type, skipped
    cap.udp.push_back(datagram(2, cat({0x80, 0x61, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, kExample)));
    cap.udp.push_back(datagram(3, cat(kRtp, kExample)));  // PT 96: decoded
    std::ostringstream out;
    EXPECT_EQ(decodeLmrRtpCapture(cap, 96, out), 0U);
    std::istringstream lines(out.str());
    std::string line;
    ASSERT_TRUE(std::getline(lines, line));
    EXPECT_FALSE(std::getline(lines, line)) << "only the PT 96 packet is decoded";
    const auto j = nlohmann::json::parse(out.str());
    EXPECT_EQ(j["frame"], 3);
    EXPECT_EQ(j["marker"], true);
    EXPECT_EQ(j["pt"], 96);
    EXPECT_EQ(j["seq"], 0x1234);
    EXPECT_EQ(j["ts"], 0x0A00);
    EXPECT_EQ(j["ssrc"], 0xDEADBEEFU);
    EXPECT_EQ(j["version"], 1);
    EXPECT_EQ(j["encrypted"], true);
    EXPECT_EQ(j["family"], 0);
    EXPECT_EQ(j["codec"], 0);
    EXPECT_EQ(j["index"], 10);
    EXPECT_EQ(j["superframe"], 0x00010203);
    EXPECT_EQ(j["algid"], 0x84);
    EXPECT_EQ(j["key_id"], 0x1234);
    EXPECT_EQ(j["mi_len"], 9);
    EXPECT_EQ(j["payload_len"], 11);
    EXPECT_EQ(j["side_len"], 3);
    EXPECT_EQ(j["mi"], "010203040506070809");
    EXPECT_EQ(j["payload"], "a1a2a3a4a5a6a7a8a9aaab");
    EXPECT_EQ(j["side"], "5a5b5c");
    EXPECT_EQ(j["src"], "127.0.0.1:40000");
}

TEST(DecodeLmrRtp, ARefusedPayloadIsCountedWithItsReason) {
    auto bad = kExample;
    bad[0] |= 0x01;  // a reserved bit
    pcap::Capture cap;
    cap.udp.push_back(datagram(1, cat(kRtp, bad)));
    std::ostringstream out;
    EXPECT_EQ(decodeLmrRtpCapture(cap, 96, out), 1U);
    const auto j = nlohmann::json::parse(out.str());
    EXPECT_EQ(j["error"], "reserved_bits_set");
}

}  // namespace
}  // namespace iwf::mc::rtp
