#include "common/pcap.hpp"

#include <gtest/gtest.h>

namespace iwf::pcap {
namespace {

void le32(Bytes& b, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
}

Bytes ethIpv4(std::uint8_t proto, std::uint16_t frag, const Bytes& l4) {
    Bytes f(12, 0x02);
    f.push_back(0x08);
    f.push_back(0x00);
    std::uint16_t total = static_cast<std::uint16_t>(20 + l4.size());
    Bytes ip = {0x45,
                0,
                static_cast<std::uint8_t>(total >> 8),
                static_cast<std::uint8_t>(total),
                0,
                1,
                static_cast<std::uint8_t>(frag >> 8),
                static_cast<std::uint8_t>(frag),
                64,
                proto,
                0,
                0,
                127,
                0,
                0,
                1,
                127,
                0,
                0,
                2};
    f.insert(f.end(), ip.begin(), ip.end());
    f.insert(f.end(), l4.begin(), l4.end());
    return f;
}

Bytes udp(std::uint16_t sp, std::uint16_t dp, const Bytes& payload) {
    std::uint16_t len = static_cast<std::uint16_t>(8 + payload.size());
    Bytes u = {static_cast<std::uint8_t>(sp >> 8),
               static_cast<std::uint8_t>(sp),
               static_cast<std::uint8_t>(dp >> 8),
               static_cast<std::uint8_t>(dp),
               static_cast<std::uint8_t>(len >> 8),
               static_cast<std::uint8_t>(len),
               0,
               0};
    u.insert(u.end(), payload.begin(), payload.end());
    return u;
}

Bytes pcapFile(const std::vector<Bytes>& frames) {
    Bytes b;
    le32(b, 0xa1b2c3d4);
    b.insert(b.end(), {2, 0, 4, 0});
    le32(b, 0);
    le32(b, 0);
    le32(b, 65535);
    le32(b, 1);  // Ethernet
    std::uint32_t t = 1000;
    for (const auto& f : frames) {
        le32(b, t++);
        le32(b, 500000);
        le32(b, static_cast<std::uint32_t>(f.size()));
        le32(b, static_cast<std::uint32_t>(f.size()));
        b.insert(b.end(), f.begin(), f.end());
    }
    return b;
}

TEST(Pcap, ExtractsUdpAndCountsTheRest) {
    Bytes file = pcapFile({
        ethIpv4(17, 0, udp(5000, 41000, {0xde, 0xad})),
        ethIpv4(6, 0, Bytes(20, 0)),                    // TCP
        ethIpv4(17, 0x2000, udp(5000, 41000, {0x01})),  // first fragment
        ethIpv4(17, 0, udp(62031, 62032, {1, 2, 3, 4, 5})),
    });
    auto cap = parsePcap(file);
    ASSERT_TRUE(cap.ok()) << cap.error().toString();
    EXPECT_EQ(cap->frames, 4u);
    EXPECT_EQ(cap->not_udp, 1u);
    EXPECT_EQ(cap->fragments, 1u);
    ASSERT_EQ(cap->udp.size(), 2u);
    EXPECT_EQ(cap->udp[0].index, 1u);
    EXPECT_EQ(cap->udp[0].src_port, 5000);
    EXPECT_EQ(cap->udp[0].dst_port, 41000);
    EXPECT_EQ(ipToString(cap->udp[0].src_ip), "127.0.0.1");
    EXPECT_EQ(cap->udp[0].payload, (Bytes{0xde, 0xad}));
    EXPECT_DOUBLE_EQ(cap->udp[0].time, 1000.5);
    EXPECT_EQ(cap->udp[1].index, 4u);
    EXPECT_EQ(cap->udp[1].payload.size(), 5u);
}

TEST(Pcap, RejectsGarbageAndTruncation) {
    EXPECT_EQ(parsePcap(Bytes(10, 0)).error().reason, "pcap_too_short");
    EXPECT_EQ(parsePcap(Bytes(24, 0x55)).error().reason, "not_a_pcap_file");
    Bytes file = pcapFile({ethIpv4(17, 0, udp(1, 2, {9, 9, 9}))});
    file.resize(file.size() - 2);
    EXPECT_EQ(parsePcap(file).error().reason, "pcap_record_truncated");
}

}  // namespace
}  // namespace iwf::pcap
