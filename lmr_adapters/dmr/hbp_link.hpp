#pragma once
// HBP links (iwf::LmrLink):
//   "dmr-hbp-master": repeaters / HBP peers log in to iwfd (RPTL, salt, RPTK, RPTC, RPTO);
//     a wrong key gets MSTNAK; a peer silent for ping_timeout is dropped. A login in progress
//     (half-open: RPTL answered, RPTC not yet received) is kept apart from the logged-in peers,
//     keyed by its source address and port: it expires after login_timeout, does not count
//     toward max_peers, and the half-open table is bounded (per source address and in
//     total, the oldest giving way). A logged-in peer is never displaced by an RPTL: only a
//     login completed with the password (RPTK verified, RPTC received) replaces its session,
//     from whatever address (a repeater behind a NAT that rebound its port gets MSTNAK for
//     its pings from the new address, logs in again from there, and moves). Wrong keys from
//     one source address are counted; after kLoginFailuresFree of them the address is
//     ignored for a backoff that doubles per further failure (1 s .. login_backoff_max).
//     Each logged-in peer has a packet-rate budget (rate_limit).
//   "dmr-hbp-peer": iwfd logs in to an HBP master (BrandMeister-style server, HBlink,
//     DMRGateway as master), pings it, and logs in again when the master goes silent or
//     refuses it.
// Received DMRD packets become CallSetup / Voice / CallEnd events (calls.hpp), and packet data
// (data types 6/7) DataMessage / SecurityMessage events (data.hpp); deliver() encodes engine
// events into DMRD packets toward the peers / the master.
//
// Threading: start() and stop() run on the io_context's thread (or while it is not running);
// deliver() may be called from any thread (it encodes under a lock and posts the send).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/address_filter.hpp"
#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/link.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/peer_control.hpp"
#include "common/udp_socket.hpp"
#include "lmr_adapters/dmr/calls.hpp"
#include "lmr_adapters/dmr/data.hpp"
#include "lmr_adapters/dmr/hbp.hpp"

namespace iwf::lmr::dmr {

struct HbpCommonConfig {
    std::string address = "0.0.0.0";  // local bind address
    std::uint16_t port = 62031;       // local port (0 = any)
    std::uint32_t id = 0;             // our ID (peer role: login ID; both: DMRD bytes 11..14)
    std::string password;
    std::chrono::milliseconds stream_timeout{1500};  // a call silent this long ends
    std::uint8_t slot = 1;                           // slot of calls we originate
    std::uint8_t color_code = 1;
    // Packet data: SAPs, the KMM tunnel service, reassembly timeout and size limit (data.hpp).
    DataConfig data;
    int receive_buffer = 1 << 20;  // SO_RCVBUF asked for (bytes, 0 = kernel default)
};

struct HbpMasterConfig : HbpCommonConfig {
    // A silent peer is dropped after this. DMRGateway and MMDVMHost ping every 10 s (their
    // retry timer, CTimer(1000U, 10U) in DMRNetwork.cpp): 35 s = three missed pings + 5 s.
    std::chrono::milliseconds ping_timeout{35000};
    std::size_t max_peers = 64;  // logged-in peers
    // Half-open logins: expiry, total and per source address (the oldest gives way).
    std::chrono::milliseconds login_timeout{5000};
    std::size_t max_pending_logins = 1024;
    std::size_t max_pending_per_address = 8;
    std::chrono::milliseconds login_backoff_max{60000};
    // Sources heard at all. HBP logins are password-protected, so the default is any address;
    // an operator who knows the repeaters' addresses narrows it (docs/security.md).
    net::AddressFilter allow = [] {
        net::AddressFilter f;
        (void)f.add("any");
        return f;
    }();
    // Per logged-in peer: a repeater sends 2 slots x 16.7 DMRD/s and a ping every 10 s.
    net::RateLimitConfig rate{200, 100};
};

// Timings as DMRGateway's HBP client does them (g4klx/DMRGateway DMRNetwork.cpp: m_retryTimer
// 10 s, m_timeoutTimer 60 s, clock()).
struct HbpPeerConfig : HbpCommonConfig {
    std::string master_address;
    std::uint16_t master_port = 62031;
    std::chrono::milliseconds ping_interval{10000};  // RPTPING while logged in
    std::chrono::milliseconds pong_timeout{60000};   // no MSTPONG this long -> log in again
    // A login step (RPTL, RPTK, RPTC, RPTO) is sent again every login_retry until the master
    // answers; no progress for login_timeout -> wait login_retry, start over with RPTL. After
    // MSTNAK, MSTCL or a pong timeout: wait login_retry, then RPTL.
    std::chrono::milliseconds login_timeout{60000};
    std::chrono::milliseconds login_retry{10000};
    RptcConfig rptc;
    std::string options;  // RPTO text; empty = not sent
};

class HbpLinkBase : public LmrLink {
  public:
    HbpLinkBase(LinkId id, const HbpCommonConfig& cfg, asio::io_context& io,
                metrics::Registry& metrics, const Clock& clock);
    ~HbpLinkBase() override;
    const LinkId& id() const override { return id_; }
    LmrFamily family() const override { return LmrFamily::Dmr; }
    // The bound local port (after start()).
    std::uint16_t localPort() const { return local_port_.load(); }

  protected:
    using udp = asio::ip::udp;
    Status openSocket(const std::string& address, std::uint16_t port);
    void closeSocket();
    void startReceive();
    void startTimer(std::chrono::milliseconds tick);
    virtual void onDatagram(ByteView d, const udp::endpoint& from) = 0;
    virtual void onTick() = 0;

    void sendTo(const udp::endpoint& to, Bytes data);
    void drop(const std::string& peer, std::string_view reason);
    void emit(std::vector<Event>& events);
    // DMRD from an authenticated source: decode, count, report. The drop label of the source
    // is dataPeerLabel(peer_id), built only when something is dropped (not per packet).
    void handleDmrd(ByteView d, std::uint32_t peer_id);
    Result<std::vector<DmrdPacket>> encode(const Event& e);
    // Packet data: reassembly timeouts (called from onTick) and the data path of handleDmrd.
    void expireData();
    void handleData(const DmrdPacket& p, std::uint32_t peer_id);
    // The `peer` label of data drops found by the timer (DMRD peer ID of the PDU).
    virtual std::string dataPeerLabel(std::uint32_t peer_id) const {
        return std::to_string(peer_id);
    }
    std::int64_t nowNs() const { return toNs(clock_.now()); }

    LinkId id_;
    HbpCommonConfig common_;
    asio::io_context& io_;
    metrics::Registry& metrics_;
    const Clock& clock_;
    EventSink* sink_ = nullptr;
    udp::socket socket_;
    asio::steady_timer timer_;
    net::BatchReceiver rx_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::atomic<std::uint16_t> local_port_{0};
    CallDecoder decoder_;
    std::vector<Event> rx_events_;  // events of one received packet (receive thread only)
    std::mutex enc_mu_;
    CallEncoder encoder_;
    DataReceiver data_rx_;
    DataSender data_tx_;  // under enc_mu_
    std::mt19937 rng_;
    metrics::Counter& rx_packets_;
    metrics::Counter& tx_packets_;
    metrics::Counter& events_;
    std::shared_ptr<spdlog::logger> log_;
    net::DropCounter drops_;
    net::SocketStats socket_stats_;
};

class HbpMasterLink final : public HbpLinkBase, public PeerControl {
  public:
    HbpMasterLink(LinkId id, HbpMasterConfig cfg, asio::io_context& io, metrics::Registry& metrics,
                  const Clock& clock);
    Status start(EventSink& sink) override;
    void stop() override;
    Status deliver(const Event& event) override;
    // Peers logged in completely (thread-safe, for tests and status).
    std::size_t connectedPeers() const { return connected_.load(); }
    // Logins in progress (thread-safe, for tests and status).
    std::size_t pendingLogins() const { return pending_count_.load(); }
    // Logged-in repeaters ("logged_in") and logins in progress ("login").
    LinkView view() const override;

    // A config reload: password, allow-list and rate limit apply at once (call on the link's
    // thread; the daemon refuses a reload that changes anything else, see link_types.cpp). A
    // changed password closes every session (MSTCL): each peer logs in again and must know the
    // new one. A peer no longer allowed is closed. `what` says what was done.
    Status reconfigure(const HbpMasterConfig& next, std::string& what);
    // MSTCL to the repeater `peer` (decimal peer ID), its calls end, it is forgotten: it logs
    // in again (MMDVMHost / DMRGateway do on MSTCL: DMRNetwork.cpp, "Login to the master has
    // failed, retrying login").
    Status disconnectPeer(std::string_view peer) override;

    static constexpr std::uint32_t kLoginFailuresFree = 3;  // wrong keys before the backoff

  private:
    struct Peer {
        udp::endpoint ep;
        Clock::TimePoint last_heard;
        RptcConfig config;
        RptoOptions options;  // talkgroup subscriptions (RPTO); none = everything
        net::RateGate gate;
    };
    enum class LoginState { WaitKey, WaitConfig };
    struct Pending {
        std::uint32_t id = 0;
        LoginState state = LoginState::WaitKey;
        std::array<std::uint8_t, 4> salt{};
        Clock::TimePoint started;
        std::uint64_t gen = 0;  // matches its entry in pending_order_
    };
    struct Source {  // login failures of one source address
        std::uint32_t failures = 0;
        Clock::TimePoint last_failure;
        Clock::TimePoint blocked_until;
    };
    void onDatagram(ByteView d, const udp::endpoint& from) override;
    // DMRA / DMRG / RPTG / RPTSBKN: the sender is known by its endpoint (MMDVMHost's DMRA and
    // DMRG carry a radio ID, not the peer ID, after the magic).
    void onSideMessage(const HbpMessage& m, ByteView d, const udp::endpoint& from);
    // The slot a group call to `tg` goes out on to a peer, nullopt when its RPTO subscriptions
    // exclude `tg` on both slots.
    std::optional<std::uint8_t> slotFor(const Peer& p, std::uint8_t slot, std::uint32_t tg) const;
    void onTick() override;
    void reply(const udp::endpoint& to, HbpType t, std::uint32_t id);
    void removePeer(std::uint32_t id, EndReason reason);
    void updateConnected();
    void onLogin(std::uint32_t id, const udp::endpoint& from, Clock::TimePoint now);
    void onKey(const HbpMessage& m, const udp::endpoint& from, Clock::TimePoint now);
    void onConfig(const HbpMessage& m, const udp::endpoint& from, Clock::TimePoint now);
    void loginFailed(const udp::endpoint& from, Clock::TimePoint now);
    bool inBackoff(const asio::ip::address& a, Clock::TimePoint now);
    void countLogin(std::string_view result, std::uint64_t n = 1);
    void makeRoomForPending(const udp::endpoint& from);

    HbpMasterConfig cfg_;
    std::unordered_map<std::uint32_t, Peer> peers_;  // logged in
    std::map<udp::endpoint, Pending> pending_;       // logins in progress, by source
    std::deque<std::pair<udp::endpoint, std::uint64_t>> pending_order_;  // oldest first
    std::uint64_t pending_gen_ = 0;
    std::map<asio::ip::address, Source> sources_;  // login failures by source address
    std::atomic<std::size_t> connected_{0};
    std::atomic<std::size_t> pending_count_{0};
    metrics::Gauge& peers_gauge_;
    metrics::Counter& timeouts_;
    metrics::Counter& not_subscribed_;
};

class HbpPeerLink final : public HbpLinkBase {
  public:
    HbpPeerLink(LinkId id, HbpPeerConfig cfg, asio::io_context& io, metrics::Registry& metrics,
                const Clock& clock);
    Status start(EventSink& sink) override;
    void stop() override;
    Status deliver(const Event& event) override;
    bool loggedIn() const { return running_.load(); }
    // The master as the one peer: its login step and when it last answered a ping.
    LinkView view() const override;
    std::uint64_t logins() const { return logins_ok_.value(); }

  private:
    enum class State { Idle, WaitSalt, WaitKeyAck, WaitConfigAck, WaitOptionsAck, Running };
    void onDatagram(ByteView d, const udp::endpoint& from) override;
    void onTick() override;
    void sendLogin();
    // Sends the message of the current login step (again, on login_retry).
    void sendStep();
    void enter(State s);
    void lost(std::string_view why);
    std::string dataPeerLabel(std::uint32_t) const override { return "master"; }

    HbpPeerConfig cfg_;
    udp::endpoint master_;
    State state_ = State::Idle;
    Clock::TimePoint state_since_;
    Clock::TimePoint last_sent_;  // last login step sent
    Clock::TimePoint last_pong_;
    Clock::TimePoint last_ping_;
    std::array<std::uint8_t, 4> salt_{};
    std::atomic<bool> running_{false};
    metrics::Counter& logins_ok_;
    metrics::Counter& refused_;
    metrics::Counter& relogins_;
    metrics::Counter& beacons_;
};

}  // namespace iwf::lmr::dmr
