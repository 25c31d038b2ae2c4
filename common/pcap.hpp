#pragma once
// Reading captures for decoders, tests and `iwfctl decode`: classic libpcap files (both byte
// orders, micro- and nanosecond) and pcapng (what Wireshark and dumpcap write by default; read
// with libpcap), link types Ethernet (1, with 802.1Q tags), raw IPv4 (101,
// 228), Linux cooked v1 (113) and v2 (276); IPv4 + UDP extracted (fragments are skipped and
// counted). Also hex dumps: one datagram per line, hex bytes with optional spaces.

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::pcap {

struct UdpDatagram {
    std::uint32_t index = 0;  // 1-based frame number in the capture (as Wireshark counts)
    double time = 0;          // seconds since the epoch
    std::uint32_t src_ip = 0;
    std::uint32_t dst_ip = 0;
    std::uint16_t src_port = 0;
    std::uint16_t dst_port = 0;
    Bytes payload;
};

struct Capture {
    std::vector<UdpDatagram> udp;
    std::uint32_t frames = 0;     // frames read
    std::uint32_t not_udp = 0;    // frames that were not IPv4/UDP (TCP, ARP, IPv6, ...)
    std::uint32_t fragments = 0;  // IPv4 fragments (not reassembled)
    std::uint32_t truncated = 0;  // frames cut short by the snap length
};

// Parses a whole pcap file in memory.
Result<Capture> parsePcap(ByteView file);
Result<Capture> readPcapFile(const std::string& path);
// A whole pcapng file in memory (every interface must have one link type: libpcap's rule).
Result<Capture> parsePcapng(ByteView file);
// One datagram per non-empty, non-# line of hex.
Result<Capture> readHexDumpFile(const std::string& path);
// By content: pcap magic -> pcap, pcapng section header -> pcapng, text -> hex dump; any other
// binary file is refused with an error naming what it is (gzip, zstd, snoop, unknown magic).
Result<Capture> readCaptureFile(const std::string& path);

std::string ipToString(std::uint32_t ip);

}  // namespace iwf::pcap
