#pragma once
// The hostile-network suite, SIP core and TCP servers (docs/security.md "SIP transports (UDP,
// TCP, TLS) and the admin endpoint"): the real iwfd on loopback with a p25-records link and an
// mcptt-iwf1 link whose SIP listens on UDP, TCP and TLS, next to a legitimate encrypted P25
// group call (radio -> iwfd -> MC system) whose frames must all arrive, in order and unchanged,
// while the test attacks from other "hosts" (127.0.0.2 and up: all of 127/8 is loopback).
//
//   HostileSip f;                       // keymap imported, ports and a small PKI made
//   f.start({.extra = "connections: {idle_timeout: 1s}\n"});
//   f.call.start(6);                    // 6 superframes, paced, from a thread of its own
//   ... attack f.tcpPort() / f.tlsPort() / f.adminPort() from 127.0.0.2 ...
//   f.call.expectExact();               // 108 frames, bit-exact, in order
//
// Attacker sockets are plain POSIX sockets bound to the source address they pretend to be.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/bytes.hpp"
#include "common/metrics.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "sip/stack.hpp"
#include "superframe_builder.hpp"
#include "tests/integration/support/iwfd_process.hpp"
#include "tests/support/link_fixtures.hpp"

namespace iwf::hostile {

using namespace std::chrono_literals;

// A CA and certificates signed by it (openssl CLI at test time, EC P-256), in `dir`.
struct Pki {
    std::string ca;  // CA certificate (PEM)
    struct Leaf {
        std::string cert;
        std::string key;
    };
    // A leaf signed by the CA with the given subject CN and subjectAltName (e.g.
    // "DNS:iwf.test,IP:127.0.0.1"; empty = no SAN extension).
    Leaf issue(const std::string& name, const std::string& cn, const std::string& san) const;
    std::string dir;
    std::string ca_key;
};
Pki makePki(const std::string& dir);

// The MC system: a SIP stack answering iwfd's INVITE with its RTP / floor ports; runs on an
// io thread of its own. Everything it records is read under `mu`.
class McSystem {
  public:
    // Over TLS its certificate (signed by `pki`'s CA) carries subjectAltName `san`.
    McSystem(sip::Protocol protocol, const Pki* pki,
             const std::string& san = "DNS:mc.test,IP:127.0.0.1");
    ~McSystem();
    std::uint16_t sipPort() const { return port_; }
    std::size_t frameCount() const;
    std::vector<VoiceFrame> frames() const;
    std::size_t invites() const;

  private:
    void onRequest(sip::ServerTxId tx, const sip::Message& req);
    iwf::test::IoThread io_;
    metrics::Registry reg_;
    std::unique_ptr<sip::Stack> stack_;
    std::unique_ptr<mc::rtp::VoiceEndpoint> voice_;
    std::unique_ptr<mc::rtp::FloorEndpoint> floor_;
    std::uint16_t port_ = 0;
    mutable std::mutex mu_;
    std::vector<VoiceFrame> frames_;
    std::size_t invites_ = 0;
};

// The legitimate call: a P25 radio linked to iwfd sends `superframes` encrypted superframes to
// TG 100 (fire-ops: secure, AES-256 0x84, key 0x0101), one record every `pace`, from a thread
// of its own, while the test attacks.
class LegitCall {
  public:
    void attach(McSystem* mc, std::uint16_t p25_port) {
        mc_ = mc;
        p25_port_ = p25_port;
    }
    // Links the radio (a poll answered by iwfd) and starts talking.
    void start(int superframes, std::chrono::milliseconds pace = 4ms);
    // Waits for the talker to finish and every frame to reach the MC system, then checks each
    // frame (count exact, order, IMBE payload byte for byte). Use with ASSERT_NO_FATAL_FAILURE.
    void expectExact(std::chrono::milliseconds timeout = 30s);
    ~LegitCall();

  private:
    McSystem* mc_ = nullptr;
    std::uint16_t p25_port_ = 0;
    std::vector<lmr::p25::test::SuperframeSpec> specs_;
    std::thread talker_;
    std::atomic<bool> stop_{false};
};

struct StartOptions {
    std::string extra;                                 // more top-level YAML (limits, ...)
    std::string binary = IWFD_BIN;                     // e.g. a wrapper that lowers ulimit -n
    sip::Protocol peer_protocol = sip::Protocol::Udp;  // how iwfd reaches the MC system
    std::size_t admin_max_connections = 0;             // admin.max_connections; 0 = iwfd's default
    std::string tls_listener_extra;                    // more keys of the TLS listener
    std::string mc_link_extra;                         // more keys of the MC link (indented)
    std::string mc_san = "DNS:mc.test,IP:127.0.0.1";   // what the MC system's certificate names
};

class HostileSip : public ::testing::Test {
  protected:
    void SetUp() override;
    void TearDown() override;
    // Starts iwfd (waits for its keymap); with ASSERT_NO_FATAL_FAILURE.
    void start(const StartOptions& o = {});

    std::uint16_t udpPort() const { return sip_udp_; }
    std::uint16_t tcpPort() const { return sip_tcp_; }
    std::uint16_t tlsPort() const { return sip_tls_; }
    std::uint16_t adminPort() { return iwfd.adminPort(); }
    // A sample of iwfd's /metrics (-1 when absent or the endpoint did not answer).
    double metric(const std::string& series);

    iwf::test::TempDir dir;
    iwf::test::IwfdProcess iwfd;
    Pki pki;
    Pki::Leaf iwf_cert;
    std::unique_ptr<McSystem> mc;
    LegitCall call;
    std::string store;
    std::uint16_t p25_port = 0;

  private:
    std::uint16_t sip_udp_ = 0;
    std::uint16_t sip_tcp_ = 0;
    std::uint16_t sip_tls_ = 0;
};

// --- attacker side: raw sockets from a chosen 127.x.y.z source ---

// A TCP connection from `source` to 127.0.0.1:`port`; -1 if connect failed.
int connectFrom(const std::string& source, std::uint16_t port);
bool sendAll(int fd, std::string_view data);
// True once the server closed `fd` (EOF or reset) within `timeout`; bytes it sends meanwhile
// are read and discarded.
bool closedByServer(int fd, std::chrono::milliseconds timeout);
// Reads what arrives on `fd` until `needle` is in it or the deadline passes.
std::string readUntil(int fd, std::string_view needle, std::chrono::milliseconds timeout);
// An OPTIONS request from `source` (Via sent-by, branch and Call-ID from `tag`).
std::string optionsRequest(const std::string& transport, const std::string& source,
                           const std::string& tag);

// A TLS client (OpenSSL through Asio) for attacks that need a finished handshake.
class TlsClient {
  public:
    TlsClient();
    ~TlsClient();
    // Connects from `source`, handshakes (trusting `ca`, no name check: an attacker does not
    // care); false if either failed.
    bool connect(const std::string& source, std::uint16_t port, const std::string& ca,
                 const Pki::Leaf* cert = nullptr);
    bool write(std::string_view data);
    std::string readUntil(std::string_view needle, std::chrono::milliseconds timeout);
    // True once the server closed the TLS connection within `timeout`.
    bool closedByServer(std::chrono::milliseconds timeout);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace iwf::hostile
