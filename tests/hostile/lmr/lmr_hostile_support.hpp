#pragma once
// Support of the LMR hostile-network tests (tests/hostile/lmr): the real iwfd on loopback
// with a keymap (imported by the real iwfctl) and an MC system (a SIP stack and an RTP / floor
// endpoint that answers iwfd's INVITEs and counts the frames it receives), UDP sockets bound
// to any 127.x.y.z address ("other hosts"), and the legitimate encrypted calls the attacks run
// next to: a P25 radio's AES-256 superframes (records hand-built as MMDVMHost writes them,
// tests/unit/lmr_p25/superframe_builder.hpp) and a DMR repeater's AES-128 call
// (tests/unit/lmr_dmr/superframe.hpp).

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/bytes.hpp"
#include "common/loopback_port.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "sip/multipart.hpp"
#include "sip/stack.hpp"
#include "superframe_builder.hpp"
#include "tests/integration/support/iwfd_process.hpp"
#include "tests/support/io_wait.hpp"
#include "tests/support/mc_fake.hpp"

namespace iwf::hostile {

using namespace std::chrono_literals;
using test::httpGet;
using test::prometheusValue;
using test::waitFor;

// A UDP socket bound to `address` (any 127.x.y.z: another "host"), port 0 or `port`;
// `reuse_port` lets a second socket bind the same address and port (a forged source).
class Sock {
  public:
    explicit Sock(const std::string& address = "127.0.0.1", std::uint16_t port = 0,
                  bool reuse_port = false) {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (reuse_port) {
            const int one = 1;
            ::setsockopt(fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
        }
        const int buf = 4 << 20;
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
        sockaddr_in a{};
        a.sin_family = AF_INET;
        ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
        a.sin_port = htons(port);
        bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    }
    ~Sock() { ::close(fd_); }
    Sock(const Sock&) = delete;
    Sock& operator=(const Sock&) = delete;
    bool bound() const { return bound_; }

    void sendTo(std::uint16_t port, ByteView data, const std::string& to = "127.0.0.1") {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        ::inet_pton(AF_INET, to.c_str(), &a.sin_addr);
        a.sin_port = htons(port);
        ::sendto(fd_, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    }
    std::optional<Bytes> receive(std::chrono::milliseconds timeout = 5s) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
            return std::nullopt;
        }
        Bytes buf(4096);
        const auto n = ::recv(fd_, buf.data(), buf.size(), 0);
        if (n < 0) {
            return std::nullopt;
        }
        buf.resize(static_cast<std::size_t>(n));
        return buf;
    }
    std::uint16_t port() const {
        sockaddr_in a{};
        socklen_t l = sizeof(a);
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &l);
        return ntohs(a.sin_port);
    }

  private:
    int fd_ = -1;
    bool bound_ = false;
};

inline Bytes pollBytes(std::string_view callsign, bool unlink = false) {
    InlineBytes<lmr::p25::kMaxRecordLen> b;
    EXPECT_TRUE(lmr::p25::encodeRecord(lmr::p25::makePoll(callsign, unlink), b).ok());
    return Bytes(b.view().begin(), b.view().end());
}

inline Bytes endRecord() {
    Bytes b(17, 0);
    b[0] = 0x80;
    return b;
}

// The records of `superframes` encrypted superframes (AES-256 0x84, key 0x0101, unit 1001 to
// TG 100, MIs chained by the LFSR), as a radio behind MMDVMHost sends them.
inline std::vector<Bytes> encryptedP25Call(int superframes, std::uint8_t seed = 1,
                                           std::uint32_t src = 1001) {
    std::vector<Bytes> out;
    lmr::p25::Mi mi{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
    for (int n = 0; n < superframes; ++n) {
        lmr::p25::test::SuperframeSpec s;
        s.service_options = 0x40;  // encrypted
        s.dst = 100;
        s.src = src;
        s.algid = 0x84;
        s.kid = 0x0101;
        mi = lmr::p25::nextMi(mi);
        std::copy(mi.begin(), mi.end(), s.next_mi.begin());
        s.imbe_seed = static_cast<std::uint8_t>(seed + n * 5);
        for (auto& r : lmr::p25::test::buildSuperframe(s)) {
            out.push_back(std::move(r));
        }
    }
    return out;
}

inline bool isVoiceRecord(const Bytes& d) {
    return !d.empty() && d[0] >= 0x62 && d[0] <= 0x73;
}

// The voice / end records `s` receives (poll answers skipped) until `n` arrived or nothing came
// for `quiet`.
inline std::vector<Bytes> collectRecords(Sock& s, std::size_t n, std::chrono::milliseconds quiet) {
    std::vector<Bytes> got;
    while (got.size() < n) {
        auto d = s.receive(quiet);
        if (!d) {
            break;
        }
        if (isVoiceRecord(*d) || (*d)[0] == 0x80) {
            got.push_back(*d);
        }
    }
    return got;
}

// Exactly `want` (in order, byte for byte) arrives at `s`, and nothing after it: waits up to
// 20 s for each record, then 500 ms for one too many.
inline void expectRecords(Sock& s, const std::vector<Bytes>& want, const std::string& log_hint) {
    auto got = collectRecords(s, want.size(), 20s);
    auto extra = collectRecords(s, 1, 500ms);
    got.insert(got.end(), extra.begin(), extra.end());
    ASSERT_EQ(got.size(), want.size()) << log_hint;
    for (std::size_t k = 0; k < want.size(); ++k) {
        EXPECT_EQ(toHex(got[k]), toHex(want[k])) << "record " << k;
    }
}

// Lines of family `name` in a Prometheus text ("name{...} v" or "name v").
inline std::size_t seriesOf(const std::string& text, const std::string& name) {
    std::size_t n = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) {
            end = text.size();
        }
        const std::string_view line(text.data() + pos, end - pos);
        if (line.rfind(name + "{", 0) == 0 || line.rfind(name + " ", 0) == 0) {
            ++n;
        }
        pos = end + 1;
    }
    return n;
}

// The keymap of the hostile tests: fire-ops = P25 TG 100 (AES-256 0x84, key 0x0101) and
// dmr-ops = DMR TG 91 (AES-128 ALGID 4, key 0x2A, the PI header of superframe.hpp), both
// secure and homed on the LMR side (iwfd arbitrates, the MC system only listens here), and
// fire-dispatch = P25 TG 300, homed on the MC side (the MC system's floor decides).
inline const char* kKeymap = R"(format: 1
unknown_talker: sip:unknown-lmr-talker@iwf.example
systems:
  - {id: p25-north, type: p25, wacn: 0xBEE00, system_id: 0x001}
  - {id: dmr-city, type: dmr, network_id: 3100}
users:
  - mc_id: sip:p25-1001@iwf.example
    system: p25-north
    unit: 1001
    kmf_uri: sip:kmf@kmf.p25-north.example
    e2ee: true
    authorised: [{algid: 0x84, key_id: 0x0101}]
  - mc_id: sip:dmr-3120097@iwf.example
    system: dmr-city
    unit: 3120097
    kmf_uri: sip:kmf@kmf.dmr-city.example
    e2ee: true
    authorised: [{algid: 4, key_id: 0x2A}]
groups:
  - mc_group: sip:fire-ops@iwf.example
    system: p25-north
    tgid: 100
    home: lmr
    mode: secure
    algid: 0x84
    key_id: 0x0101
    codec: imbe
    members: [sip:p25-1001@iwf.example]
  - mc_group: sip:dmr-ops@iwf.example
    system: dmr-city
    tgid: 91
    home: lmr
    mode: secure
    algid: 4
    key_id: 0x2A
    codec: dmr-ambe
    members: [sip:dmr-3120097@iwf.example]
  - mc_group: sip:fire-dispatch@iwf.example
    system: p25-north
    tgid: 300
    home: mc
    mode: secure
    algid: 0x84
    key_id: 0x0101
    codec: imbe
    members: [sip:p25-1001@iwf.example]
)";

// The MC system (tests/support/mc_fake.hpp): answers iwfd's INVITEs with its own RTP / floor
// ports, offering floor queueing, and keeps every frame and floor message it receives (driven
// by pump() on the test's thread).
struct McSystem : test::CountingMcSystem {
    McSystem(asio::io_context& io, metrics::Registry& reg)
        : test::CountingMcSystem(io, reg, /*queueing=*/true) {}
};

// Runs `io` (the MC system) until `done` or the deadline.
inline bool pump(asio::io_context& io, const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = 20s) {
    return test::runIoUntil(io, done, timeout);
}

// iwfd with the hostile keymap, `lmr_links` (YAML list items, indented by 2) and, when
// `mc_port` is set, an mcptt-iwf1 link toward the MC system.
struct HostileIwfd {
    HostileIwfd() {
        store = "sqlite:" + dir.file("keymap.db");
        const std::string km = dir.write("keymap.yaml", kKeymap);
        auto r = test::runCommand({IWFCTL_BIN, "keymap", "--store", store, "import", km});
        EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    }
    std::string config(const std::string& lmr_links, std::uint16_t mc_port = 0) {
        std::string c = "instance: hostile\nlog: {level: info}\nkeymap:\n  store: \"" + store +
                        "\"\n  poll_interval: 200ms\ntimers:\n  hang: 20s\nlmr_links:\n" +
                        lmr_links;
        if (mc_port == 0) {
            return c + "mc_links: []\n";
        }
        if (mc_sip == 0) {
            mc_sip = pickLoopbackPort(PortProtocol::Udp);
        }
        return c + "mc_links:\n  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n" +
               "    server_uri: sip:cf@mc.example\n    listen: [{transport: udp, address: " +
               "127.0.0.1, port: " + std::to_string(mc_sip) +
               "}]\n    peer: {transport: udp, address: 127.0.0.1, port: " +
               std::to_string(mc_port) +
               "}\n    media: {address: 127.0.0.1}\n"
               "    peers: [{name: mc, address: 127.0.0.1, domains: [mc.example, iwf.example]}]\n"
               "    e2ee_groups: [sip:fire-ops@iwf.example, sip:dmr-ops@iwf.example,\n"
               "                  sip:fire-dispatch@iwf.example]\n";
    }
    // Starts iwfd and waits for its keymap (revision 1). Call with ASSERT_TRUE.
    bool start(const std::string& lmr_links, std::uint16_t mc_port = 0) {
        if (!iwfd.start(dir, config(lmr_links, mc_port))) {
            return false;
        }
        return waitFor([&] { return metric("iwf_keymap_revision") == 1; }, 20s);
    }
    // Rewrites iwfd.yaml (for SIGHUP) with other `lmr_links`, the admin section as start()
    // wrote it (port 0, port file).
    void rewrite(const std::string& lmr_links, std::uint16_t mc_port = 0) {
        dir.write("iwfd.yaml", config(lmr_links, mc_port) +
                                   "\nadmin:\n  address: 127.0.0.1\n  port: 0\n  port_file: " +
                                   dir.file("admin.port") + "\n");
    }
    std::string metrics() { return httpGet(iwfd.adminPort(), "/metrics").body; }
    double metric(const std::string& series) {
        return prometheusValue(metrics(), series).value_or(-1);
    }
    double metricOr0(const std::string& series) {
        return prometheusValue(metrics(), series).value_or(0);
    }
    // Waits until `series` reaches `value` (deadline generous: the machine may be loaded).
    bool waitMetric(const std::string& series, double value, std::chrono::milliseconds t = 20s) {
        return waitFor([&] { return metricOr0(series) >= value; }, t, 50ms);
    }
    void stop() {
        iwfd.signal(SIGTERM);
        EXPECT_EQ(iwfd.waitExit(10s), std::optional<int>(0)) << iwfd.log();
    }

    test::TempDir dir;
    test::IwfdProcess iwfd;
    std::string store;
    std::uint16_t mc_sip = 0;
};

}  // namespace iwf::hostile
