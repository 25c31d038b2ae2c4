#pragma once
// A minimal classic pcap writer (LINKTYPE_RAW = 101: IPv4/UDP packets between 127.0.0.1 ports)
// and a popen() runner, for the tests that hand OpenIWF's datagrams to tshark as the
// independent decoder (tests/interop/tshark). Header-only.

#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "common/bytes.hpp"

namespace iwf::test {

inline void putLe32(std::ofstream& o, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        o.put(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
}
inline void putLe16(std::ofstream& o, std::uint16_t v) {
    o.put(static_cast<char>(v & 0xFF));
    o.put(static_cast<char>(v >> 8));
}

inline Bytes ipv4Udp(std::uint16_t sport, std::uint16_t dport, const Bytes& payload) {
    Bytes p;
    ByteWriter w(p);
    const auto total = static_cast<std::uint16_t>(20 + 8 + payload.size());
    w.u8(0x45);
    w.u8(0);
    w.u16(total);
    w.u16(1);
    w.u16(0x4000);
    w.u8(64);
    w.u8(17);
    w.u16(0);           // checksum, filled below
    w.u32(0x7F000001);  // 127.0.0.1
    w.u32(0x7F000001);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2) {
        sum += static_cast<std::uint32_t>(p[i]) << 8 | p[i + 1];
    }
    while (sum >> 16) {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    p[10] = static_cast<std::uint8_t>(~sum >> 8);
    p[11] = static_cast<std::uint8_t>(~sum);
    w.u16(sport);
    w.u16(dport);
    w.u16(static_cast<std::uint16_t>(8 + payload.size()));
    w.u16(0);  // UDP checksum optional over IPv4
    w.bytes(payload);
    return p;
}

inline void writePcap(const std::string& path, std::uint16_t sport, std::uint16_t dport,
                      const std::vector<Bytes>& datagrams) {
    std::ofstream o(path, std::ios::binary);
    putLe32(o, 0xa1b2c3d4);
    putLe16(o, 2);
    putLe16(o, 4);
    putLe32(o, 0);
    putLe32(o, 0);
    putLe32(o, 65535);
    putLe32(o, 101);
    std::uint32_t t = 1'700'000'000;
    for (const auto& d : datagrams) {
        Bytes pkt = ipv4Udp(sport, dport, d);
        putLe32(o, t++);
        putLe32(o, 0);
        putLe32(o, static_cast<std::uint32_t>(pkt.size()));
        putLe32(o, static_cast<std::uint32_t>(pkt.size()));
        o.write(reinterpret_cast<const char*>(pkt.data()),
                static_cast<std::streamsize>(pkt.size()));
    }
}

inline std::string run(const std::string& cmd, int* status) {
    std::string out;
    FILE* f = ::popen(cmd.c_str(), "r");
    if (f == nullptr) {
        *status = -1;
        return out;
    }
    std::array<char, 4096> buf{};
    std::size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) {
        out.append(buf.data(), n);
    }
    *status = ::pclose(f);
    return out;
}

}  // namespace iwf::test
