#include "common/pcap.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdlib.h>

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

// pcapng, the default of Wireshark, dumpcap and text2pcap: written here by text2pcap (not
// by anything of ours) from a hex dump, read back with the addresses text2pcap put in.
// Before: `iwfctl decode` answered "bad_hex_digit (1)".
TEST(Pcap, ReadsPcapngWrittenByText2pcap) {
    char dir_tmpl[] = "/tmp/iwf_pcapng_XXXXXX";
    const std::string dir = ::mkdtemp(dir_tmpl);
    const std::string txt = dir + "/in.txt";
    const std::string out = dir + "/out.pcapng";
    {
        std::ofstream f(txt);
        f << "0000  44 4d 52 44 01 02 03 04 05\n";
        f << "0000  f0 47 34 4b 4c 58 20 20 20 20 20\n";
    }
    const std::string cmd =
        "text2pcap -4 127.0.0.2,127.0.0.3 -u 40000,62031 " + txt + " " + out + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "text2pcap (wireshark-common, scripts/setup)";
    std::ifstream in(out, std::ios::binary);
    Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GE(file.size(), 4u);
    EXPECT_EQ(toHex(ByteView(file).first(4)), "0a0d0d0a");  // a section header block
    auto cap = readCaptureFile(out);
    ASSERT_TRUE(cap.ok()) << cap.error().toString();
    ASSERT_EQ(cap->udp.size(), 2u);
    EXPECT_EQ(toHex(cap->udp[0].payload), "444d52440102030405");
    EXPECT_EQ(toHex(cap->udp[1].payload), "f047344b4c582020202020");
    EXPECT_EQ(ipToString(cap->udp[0].src_ip), "127.0.0.2");
    EXPECT_EQ(ipToString(cap->udp[0].dst_ip), "127.0.0.3");
    EXPECT_EQ(cap->udp[0].src_port, 40000);
    EXPECT_EQ(cap->udp[1].dst_port, 62031);
    EXPECT_EQ(cap->udp[1].index, 2u);
    std::filesystem::remove_all(dir);
}

// A file that is neither pcap, pcapng nor text is refused naming what it is, never parsed
// as a hex dump ("bad_hex_digit").
TEST(Pcap, NamesTheFormatOfAFileItCannotRead) {
    char dir_tmpl[] = "/tmp/iwf_pcapng_XXXXXX";
    const std::string dir = ::mkdtemp(dir_tmpl);
    auto write = [&](const std::string& name, const Bytes& b) {
        std::ofstream f(dir + "/" + name, std::ios::binary);
        f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
        return dir + "/" + name;
    };
    auto gz = readCaptureFile(write("c.pcapng.gz", Bytes{0x1f, 0x8b, 0x08, 0x00, 1, 2, 3}));
    ASSERT_FALSE(gz.ok());
    EXPECT_NE(gz.error().toString().find("gzip"), std::string::npos);
    auto bin = readCaptureFile(write("x.bin", Bytes{0xDE, 0xAD, 0xBE, 0xEF, 0, 1}));
    ASSERT_FALSE(bin.ok());
    EXPECT_NE(bin.error().toString().find("neither pcap nor pcapng"), std::string::npos);
    EXPECT_EQ(bin.error().detail, 0xDEADBEEF);
    // A pcapng cut in the middle of a block: an error, not a crash or a silent success.
    Bytes ng = {0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0};
    EXPECT_FALSE(parsePcapng(ng).ok());
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace iwf::pcap
