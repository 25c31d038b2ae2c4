#pragma once
// "p25-records": a reflector-style endpoint that P25 network peers (P25Gateway, with
// MMDVMHost behind it; DVM peers speaking the MMDVM record set) link to over UDP.
//
// Only sources on the allow-list (`allow`, docs/security.md "LMR links") are heard at all:
// anything else is dropped before it is decoded. Peers link by polling (0xF0 + callsign,
// answered with the same datagram) and unlink with 0xF1; a peer that has sent nothing within
// peer_timeout is dropped. A voice record from an allowed source that has not polled yet links
// it as its poll would (after an iwfd restart a P25Gateway keeps sending and polls again only
// every 5 s). An unlink never cuts a call in progress: it takes effect once neither the peer's
// stream nor ours is running (a P25Gateway unlinks between transmissions; a forged unlink
// mid-call changes nothing). Each peer has a packet-rate budget (rate_limit, token bucket):
// records beyond it are dropped and counted before anything else is done with them.
//
// Voice records from a linked peer become a call: CallSetup once the stream said its crypto
// (LDU2 frame 15: the frames before are held, docs/protocols/peers.md), Voice frames with their
// superframe position and CryptoSync, CallEnd on 0x80 or after call_timeout of silence. Like a
// reflector, records are also relayed bit-exact to the other linked peers (reflect: true) — one
// talker at a time, as P25Reflector does (g4klx/P25Clients P25Reflector/P25Reflector.cpp,
// `current`): the first peer to transmit holds the channel until its 0x80 or call_timeout of
// silence, and while iwfd itself sends a stream (deliver()) nothing is relayed, so no second
// talker's records are ever interleaved into the stream a radio is decoding (counted in
// iwf_p25_relay_held_total).
//
// deliver() originates toward the peers: CallSetup opens an outbound stream, each Voice
// becomes one record (IMBE codeword and side bytes exactly as given when they fit the record
// layout; otherwise the LC/ES bytes are built from the call setup and the frame's CryptoSync),
// CallEnd sends 0x80. One outbound call at a time (OutCall): a second one is refused as "busy"
// (iwf_p25_outbound_busy_total) while the first has sent within call_timeout.
//
// Every malformed or unexpected datagram is dropped and counted in
// iwf_lmr_dropped_total{link, peer, reason}, with a rate-limited warning.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address_filter.hpp"
#include "common/config_node.hpp"
#include "common/peer_control.hpp"
#include "lmr_adapters/p25/crypto_tracker.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "lmr_adapters/p25/udp_link.hpp"

namespace iwf::lmr::p25 {

struct RecordsLinkConfig {
    std::string name = "p25-net";
    std::string address = "0.0.0.0";
    std::uint16_t port = 41000;         // 0 = any (tests)
    P25System system;                   // WACN / system of the network's IDs
    std::optional<std::uint16_t> tgid;  // the reflector's talkgroup: callee when LC is protected
    // Accepted so that existing configs load; not sent: a poll is answered with itself, as
    // P25Reflector does, and P25Gateway takes nothing else for an answer (peers.md G2).
    std::string callsign = "OPENIWF";
    std::chrono::milliseconds peer_timeout{60000};
    std::chrono::milliseconds call_timeout{1000};
    bool reflect = true;
    std::size_t max_peers = 64;
    // Sources heard at all (docs/security.md "LMR links"; YAML default: link_limits.hpp).
    net::AddressFilter allow = net::AddressFilter::loopback();
    // Per-peer packet budget: a stream is 50 records/s, MMDVMHost sends an LDU's 9 records
    // at once; 200/s with bursts of 100 leaves a peer 4x its stream and a poll.
    net::RateLimitConfig rate{200, 100};
    int receive_buffer = 4 << 20;  // SO_RCVBUF asked for (bytes)
    // Not from YAML: set by iwfd when the link runs one instance per worker thread.
    bool reuse_port = false;  // instance 0: bind exclusively, then open the port to sharing
    bool join_port = false;   // instances > 0: share the port instance 0 bound
    unsigned worker = 0;      // instance index (socket statistics label)

    // Reads the link's YAML section (throws ConfigError naming file/line/field).
    static RecordsLinkConfig fromConfig(const ConfigNode& node);
};

// Who may be relayed now: one peer stream, or iwfd's own stream (outbound), or nobody. A
// holder silent for the timeout loses it. Thread-safe (one per link, shared by its instances).
class RelayChannel {
  public:
    using Endpoint = asio::ip::udp::endpoint;
    // True if `ep` (of instance `owner`) holds the channel or takes it now.
    bool claim(const void* owner, const Endpoint& ep, std::int64_t now_ns, std::int64_t timeout_ns);
    // iwfd's own stream takes the channel whoever holds it (the engine granted it the floor).
    void claimOutbound(const void* owner, std::int64_t now_ns);
    // True while an outbound stream holds it (and has not been silent for the timeout).
    bool outboundActive(std::int64_t now_ns, std::int64_t timeout_ns);
    // Releases the channel if `ep` (nullptr: the outbound stream) of `owner` holds it.
    void release(const void* owner, const Endpoint* ep);

  private:
    std::mutex mu_;
    const void* owner_ = nullptr;
    Endpoint ep_;
    bool outbound_ = false;
    std::int64_t last_ns_ = 0;
};

class RecordsLink;

// The instances of one p25-records link on several worker threads (iwfd `workers: N`). Each
// binds the same address with SO_REUSEPORT, so the kernel keeps each peer (source address and
// port) on one instance, which owns that peer's state and calls. An instance tells its
// siblings which peers it linked or lost (posted to their threads: control-plane rate, never
// per frame) so that reflect and deliver() still reach every linked peer.
//
// The group also holds the relay channel of the link (who may be relayed now) so that the
// one-talker rule holds across instances.
class RecordsShardGroup {
  public:
    void join(RecordsLink& link, asio::io_context& io);
    void leave(RecordsLink& link);

  private:
    friend class RecordsLink;
    void announce(RecordsLink& from, const asio::ip::udp::endpoint& peer, bool linked);
    std::mutex mu_;
    std::vector<std::pair<RecordsLink*, asio::io_context*>> members_;
    std::shared_ptr<RelayChannel> channel_ = std::make_shared<RelayChannel>();
};

class RecordsLink final : public UdpLink, public PeerControl {
  public:
    RecordsLink(RecordsLinkConfig cfg, asio::io_context& io, metrics::Registry& metrics,
                const Clock& clock);
    ~RecordsLink() override;

    Status start(EventSink& sink) override;
    void stop() override;
    Status deliver(const Event& event) override;

    std::uint16_t localPort() const;
    std::size_t peerCount() const;
    // The peers this instance linked (a sharded link's siblings show theirs).
    LinkView view() const override;
    // A config reload (call on the link's thread): `allow` and `rate` of `next` apply at once
    // (a linked peer no longer allowed is unlinked); the daemon refuses reloads that change
    // anything else. `what` says what was done.
    Status reconfigure(const RecordsLinkConfig& next, std::string& what);
    // POST /v1/links/{id}/peers/{peer}/disconnect (call on the link's thread): `peer` is the
    // peer's callsign as view() names it, or its "ip:port". The peer gets an 0xF1 unlink three
    // times (what stop() sends), its call ends, and iwfd forgets it: a P25Gateway that polls
    // again is linked again by that poll, as after a reflector restart.
    Status disconnectPeer(std::string_view peer) override;
    // Joins a shard group before start() (iwfd workers > 1).
    void joinShardGroup(std::shared_ptr<RecordsShardGroup> group);

  private:
    using Endpoint = asio::ip::udp::endpoint;
    // Frames held at most while a headerless stream has not said whether it is encrypted:
    // two superframes, so that one lost LDU2 still decides (the next one does).
    static constexpr std::size_t kMaxHeldFrames = 2 * kFramesPerSuperframe;
    // Outbox capacity kept between flushes (a voice datagram makes one event; more is a setup
    // burst, whose capacity is given back).
    static constexpr std::size_t kKeepEvents = 4;
    struct InCall {
        InCall() {}  // NOLINT: user-provided (clang needs it for optional::emplace)
        CallRef ref = 0;
        CryptoTracker tracker;
        std::optional<std::uint32_t> src;
        std::optional<std::uint32_t> dst;
        bool setup_sent = false;
        std::vector<VoiceFrame> pending;  // frames before the stream said its crypto
        std::uint32_t seq = 0;
        Clock::TimePoint last_rx{};
    };
    struct Peer {
        std::string name;  // "ip:port"
        std::string callsign;
        Clock::TimePoint last_poll{};
        std::optional<InCall> call;
        net::RateGate gate;
        bool unlink_pending = false;  // unlinked during a call: removed once it is over
    };
    // The one stream iwfd originates at a time. The record set has no stream or call
    // identifier (only the LC's talkgroup, which P25Gateway rewrites to its own: peers.md G3),
    // and a records peer decodes one stream: P25Reflector relays one talker (`current`), and a
    // DVM FNE keeps one call per P25 system and does not route a second talkgroup onto a busy
    // one (DVMProject/dvmfne2 src/fnerouter/FneSystemBase.P25.cs P25DataReceived, "Contention
    // Handling" on status[P25_FIXED_SLOT]). A second outbound call while one runs is refused
    // ("busy"), never interleaved into it nor allowed to take it over; calls on several
    // talkgroups at once go through one link per talkgroup (`tgid`, one reflector each).
    struct OutCall {
        CallRef ref = 0;
        CallSetup setup;
        Clock::TimePoint last{};  // setup or last frame: silent for call_timeout = over
    };

    friend class RecordsShardGroup;
    void onRemotePeer(const Endpoint& ep, bool linked);
    void onReceived(const Endpoint& from, ByteView data);
    void announce(const Endpoint& ep, bool linked);
    void onDatagram(const Endpoint& from, ByteView data);
    std::map<Endpoint, Peer>::iterator link(const Endpoint& from, std::string_view callsign,
                                            std::string_view how);
    void unlink(std::map<Endpoint, Peer>::iterator it, std::string_view why);
    void onVoice(Peer& peer, const VoiceRecord& rec, ByteView raw, const Endpoint& from);
    bool mayRelay(const Endpoint& from, Clock::TimePoint now);
    RelayChannel& channel();
    std::string sendLabel(const Endpoint& to) const;
    void emitSetup(Peer& peer);
    void endCall(Peer& peer, EndReason reason, std::string detail);
    void relay(const Endpoint& from, ByteView raw);
    void sendTo(const Endpoint& to, ByteView data);
    void sendToAll(ByteView data);
    void drop(const Endpoint& peer, std::string_view reason, std::int64_t detail = 0);
    void emit(Event&& e) { outbox_.push_back(std::move(e)); }
    void flushOutbox();  // called without mu_ held
    void tick();
    void armTimer();
    Status deliverVoice(const Voice& v);

    RecordsLinkConfig cfg_;
    EventSink* sink_ = nullptr;
    mutable std::mutex mu_;
    std::map<Endpoint, Peer> peers_;
    std::vector<Endpoint> remote_peers_;  // linked to sibling instances (shard group)
    std::shared_ptr<RecordsShardGroup> group_;
    std::shared_ptr<RelayChannel> channel_ = std::make_shared<RelayChannel>();
    std::optional<OutCall> out_;
    std::vector<Event> outbox_;    // events produced under mu_, delivered after unlocking
    std::vector<Event> flushing_;  // outbox_'s twin: swapped, so neither reallocates per frame
    CallRef next_ref_ = 1;
    bool running_ = false;
    metrics::Counter* rx_records_ = nullptr;
    metrics::Counter* tx_records_ = nullptr;
    metrics::Counter* late_entry_ = nullptr;
    metrics::Counter* mi_regenerated_ = nullptr;
    metrics::Counter* mi_backfilled_ = nullptr;
    metrics::Counter* undecided_ = nullptr;
    metrics::Counter* relay_held_ = nullptr;
    metrics::Counter* outbound_busy_ = nullptr;
    // Peers linked now (iwf_p25_peers, the P25 side of "link up"; iwf_dmr_peers is the DMR
    // one): set wherever peers_ changes.
    metrics::Gauge* peers_gauge_ = nullptr;
    metrics::Counter* peer_timeouts_ = nullptr;
};

}  // namespace iwf::lmr::p25
