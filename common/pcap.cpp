#include "common/pcap.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <pcap/pcap.h>

#include <fmt/format.h>

namespace iwf::pcap {

namespace {

// pcapng section header block type (also its first four bytes in either byte order).
constexpr std::uint32_t kPcapngMagic = 0x0a0d0d0a;

Result<Bytes> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return Error{"cannot_open_file"};
    }
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::uint32_t rd32(ByteView v, std::size_t off, bool swap) {
    std::uint32_t x = static_cast<std::uint32_t>(v[off]) |
                      (static_cast<std::uint32_t>(v[off + 1]) << 8) |
                      (static_cast<std::uint32_t>(v[off + 2]) << 16) |
                      (static_cast<std::uint32_t>(v[off + 3]) << 24);
    if (swap) {
        x = __builtin_bswap32(x);
    }
    return x;
}

// Returns the offset of the IPv4 header inside a link-layer frame, or -1.
long ipOffset(std::uint32_t linktype, ByteView f) {
    switch (linktype) {
        case 1: {  // Ethernet
            std::size_t off = 12;
            while (f.size() >= off + 2) {
                std::uint16_t et = static_cast<std::uint16_t>((f[off] << 8) | f[off + 1]);
                if (et == 0x8100 || et == 0x88a8) {
                    off += 4;
                    continue;
                }
                return et == 0x0800 ? static_cast<long>(off + 2) : -1;
            }
            return -1;
        }
        case 101:
        case 228:
            return 0;
        case 113:  // Linux cooked v1: protocol at 14
            if (f.size() >= 16 && f[14] == 0x08 && f[15] == 0x00) {
                return 16;
            }
            return -1;
        case 276:  // Linux cooked v2: protocol at 0
            if (f.size() >= 20 && f[0] == 0x08 && f[1] == 0x00) {
                return 20;
            }
            return -1;
        default:
            return -1;
    }
}

// One link-layer frame: the IPv4/UDP datagram in it (if any) goes to cap.udp.
void addFrame(Capture& cap, std::uint32_t linktype, ByteView f, bool cut, double time) {
    ++cap.frames;
    if (cut) {
        ++cap.truncated;
    }
    long ip = ipOffset(linktype, f);
    if (ip < 0 || f.size() < static_cast<std::size_t>(ip) + 20) {
        ++cap.not_udp;
        return;
    }
    ByteView iph = f.subspan(static_cast<std::size_t>(ip));
    if ((iph[0] >> 4) != 4) {
        ++cap.not_udp;
        return;
    }
    std::size_t ihl = static_cast<std::size_t>(iph[0] & 0x0f) * 4;
    std::uint16_t total = static_cast<std::uint16_t>((iph[2] << 8) | iph[3]);
    std::uint16_t frag = static_cast<std::uint16_t>(((iph[6] << 8) | iph[7]) & 0x3fff);
    if (iph[9] != 17 || ihl < 20 || iph.size() < ihl + 8) {
        ++cap.not_udp;
        return;
    }
    if (frag != 0) {
        ++cap.fragments;
        return;
    }
    std::size_t ip_len = std::min<std::size_t>(total, iph.size());
    ByteView udp = iph.subspan(ihl, ip_len - ihl);
    std::uint16_t ulen = static_cast<std::uint16_t>((udp[4] << 8) | udp[5]);
    if (ulen < 8 || ulen > udp.size()) {
        ++cap.truncated;
        return;
    }
    UdpDatagram d;
    d.index = cap.frames;
    d.time = time;
    d.src_ip =
        (static_cast<std::uint32_t>(iph[12]) << 24) | (iph[13] << 16) | (iph[14] << 8) | iph[15];
    d.dst_ip =
        (static_cast<std::uint32_t>(iph[16]) << 24) | (iph[17] << 16) | (iph[18] << 8) | iph[19];
    d.src_port = static_cast<std::uint16_t>((udp[0] << 8) | udp[1]);
    d.dst_port = static_cast<std::uint16_t>((udp[2] << 8) | udp[3]);
    d.payload.assign(udp.begin() + 8, udp.begin() + ulen);
    cap.udp.push_back(std::move(d));
}

}  // namespace

std::string ipToString(std::uint32_t ip) {
    return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

Result<Capture> parsePcap(ByteView file) {
    if (file.size() < 24) {
        return Error{"pcap_too_short"};
    }
    std::uint32_t magic = rd32(file, 0, false);
    bool swap = false;
    bool nano = false;
    switch (magic) {
        case 0xa1b2c3d4:
            break;
        case 0xd4c3b2a1:
            swap = true;
            break;
        case 0xa1b23c4d:
            nano = true;
            break;
        case 0x4d3cb2a1:
            swap = true;
            nano = true;
            break;
        default:
            return Error{"not_a_pcap_file"};
    }
    std::uint32_t linktype = rd32(file, 20, swap) & 0x0fffffff;
    Capture cap;
    std::size_t off = 24;
    while (off < file.size()) {
        if (file.size() - off < 16) {
            return Error{"pcap_record_header_truncated", static_cast<std::int64_t>(off)};
        }
        std::uint32_t sec = rd32(file, off, swap);
        std::uint32_t frac = rd32(file, off + 4, swap);
        std::uint32_t incl = rd32(file, off + 8, swap);
        std::uint32_t orig = rd32(file, off + 12, swap);
        off += 16;
        if (incl > file.size() - off) {
            return Error{"pcap_record_truncated", static_cast<std::int64_t>(off)};
        }
        ByteView f = file.subspan(off, incl);
        off += incl;
        addFrame(cap, linktype, f, incl < orig, sec + frac / (nano ? 1e9 : 1e6));
    }
    return cap;
}

Result<Capture> readPcapFile(const std::string& path) {
    auto data = readFile(path);
    if (!data.ok()) {
        return data.error();
    }
    return parsePcap(*data);
}

Result<Capture> readHexDumpFile(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        return Error{"cannot_open_file"};
    }
    Capture cap;
    std::string line;
    while (std::getline(in, line)) {
        std::size_t start = line.find_first_not_of(" \t\r");
        if (start == std::string::npos || line[start] == '#') {
            continue;
        }
        auto bytes = fromHex(line.substr(start));
        ++cap.frames;
        if (!bytes.ok()) {
            return Error{bytes.error().reason, cap.frames};
        }
        UdpDatagram d;
        d.index = cap.frames;
        d.payload = std::move(*bytes);
        cap.udp.push_back(std::move(d));
    }
    return cap;
}

Result<Capture> parsePcapng(ByteView file) {
    if (file.size() < 12 || rd32(file, 0, false) != kPcapngMagic) {
        return Error{"not_a_pcapng_file"};
    }
    // libpcap reads pcapng (section header, interface description, enhanced / simple packet
    // blocks, either byte order) since 1.1; the file is handed to it from memory.
    FILE* f = fmemopen(const_cast<std::uint8_t*>(file.data()), file.size(), "rb");
    if (f == nullptr) {
        return Error{"cannot_open_file"};
    }
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == nullptr) {
        std::fclose(f);  // not taken over by libpcap when the open fails
        return Error{"pcapng_unreadable"};
    }
    const auto linktype = static_cast<std::uint32_t>(pcap_datalink(p));
    Capture cap;
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    int rc = 0;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        addFrame(cap, linktype, ByteView(data, h->caplen), h->caplen < h->len,
                 static_cast<double>(h->ts.tv_sec) + static_cast<double>(h->ts.tv_usec) / 1e9);
    }
    pcap_close(p);  // closes f
    if (rc == PCAP_ERROR) {
        return Error{"pcapng_block_truncated", cap.frames + 1};
    }
    return cap;
}

Result<Capture> readCaptureFile(const std::string& path) {
    auto data = readFile(path);
    if (!data.ok()) {
        return data.error();
    }
    const ByteView d = *data;
    if (d.size() >= 4) {
        const std::uint32_t m = rd32(d, 0, false);
        if (m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1) {
            return parsePcap(d);
        }
        if (m == kPcapngMagic) {
            return parsePcapng(d);
        }
        // Not a capture iwfctl reads: say what it is rather than failing on its first byte
        // as a hex dump ("bad_hex_digit").
        if (d[0] == 0x1f && d[1] == 0x8b) {
            return Error{
                "gzip-compressed file, not a capture: gunzip it first (pcap, pcapng "
                "and hex dumps are read)"};
        }
        if (m == 0xfd2fb528) {
            return Error{
                "zstd-compressed file, not a capture: unzstd it first (pcap, pcapng "
                "and hex dumps are read)"};
        }
        if (d.size() >= 8 && std::memcmp(d.data(), "snoop\0\0\0", 8) == 0) {
            return Error{
                "Sun snoop capture: convert it with `editcap -F pcapng` (pcap, pcapng "
                "and hex dumps are read)"};
        }
    }
    for (std::size_t i = 0; i < std::min<std::size_t>(d.size(), 4096); ++i) {
        const std::uint8_t c = d[i];
        if (c < 0x09 || (c > 0x0d && c < 0x20) || c > 0x7e) {
            return Error{
                "binary file that is neither pcap nor pcapng (magic in detail); pcap, "
                "pcapng and hex dumps are read",
                d.size() >= 4 ? static_cast<std::int64_t>((std::uint32_t{d[0]} << 24) |
                                                          (std::uint32_t{d[1]} << 16) |
                                                          (std::uint32_t{d[2]} << 8) | d[3])
                              : 0};
        }
    }
    return readHexDumpFile(path);
}

}  // namespace iwf::pcap
