#include "lmr_adapters/p25/records_link.hpp"

#include <algorithm>

#include <fmt/ranges.h>

#include "common/link_limits.hpp"
#include "lmr_adapters/p25/side_fields.hpp"

namespace iwf::lmr::p25 {

using net::endpointName;

void RecordsShardGroup::join(RecordsLink& link, asio::io_context& io) {
    std::lock_guard lock(mu_);
    // Call refs are unique per link, not per instance: the K-th instance to join numbers its
    // calls from K << 48 (iwfd joins instance 0 first, then the workers in order), so that
    // the events of every instance can meet in one engine (shard 0 owns the calls when some
    // link runs on shard 0 only) without two calls sharing (link, ref). Engine refs use bit 63.
    link.next_ref_ = (static_cast<CallRef>(members_.size()) << 48) + 1;
    link.channel_ = channel_;
    members_.emplace_back(&link, &io);
}

void RecordsShardGroup::leave(RecordsLink& link) {
    std::lock_guard lock(mu_);
    std::erase_if(members_, [&](const auto& m) { return m.first == &link; });
}

void RecordsShardGroup::announce(RecordsLink& from, const asio::ip::udp::endpoint& peer,
                                 bool linked) {
    std::lock_guard lock(mu_);
    for (auto& [link, io] : members_) {
        if (link != &from) {
            asio::post(*io, [l = link, peer, linked] { l->onRemotePeer(peer, linked); });
        }
    }
}

bool RelayChannel::claim(const void* owner, const Endpoint& ep, std::int64_t now_ns,
                         std::int64_t timeout_ns) {
    std::lock_guard lock(mu_);
    const bool free = owner_ == nullptr || now_ns - last_ns_ > timeout_ns;
    if (free || (!outbound_ && owner_ == owner && ep_ == ep)) {
        owner_ = owner;
        ep_ = ep;
        outbound_ = false;
        last_ns_ = now_ns;
        return true;
    }
    return false;
}

void RelayChannel::claimOutbound(const void* owner, std::int64_t now_ns) {
    std::lock_guard lock(mu_);
    owner_ = owner;
    ep_ = Endpoint();
    outbound_ = true;
    last_ns_ = now_ns;
}

bool RelayChannel::outboundActive(std::int64_t now_ns, std::int64_t timeout_ns) {
    std::lock_guard lock(mu_);
    return owner_ != nullptr && outbound_ && now_ns - last_ns_ <= timeout_ns;
}

void RelayChannel::release(const void* owner, const Endpoint* ep) {
    std::lock_guard lock(mu_);
    if (owner_ != owner) {
        return;
    }
    if ((ep == nullptr && outbound_) || (ep != nullptr && !outbound_ && ep_ == *ep)) {
        owner_ = nullptr;
        outbound_ = false;
    }
}

RecordsLinkConfig RecordsLinkConfig::fromConfig(const ConfigNode& n) {
    n.expectKeys({"name", "type", "address", "port", "wacn", "system", "tgid", "callsign",
                  "peer_timeout", "call_timeout", "reflect", "max_peers", "allow", "rate_limit",
                  "receive_buffer"});
    RecordsLinkConfig c;
    c.name = n.getString("name");
    c.address = n.getIpAddress("address", "0.0.0.0");
    c.port = static_cast<std::uint16_t>(n.getInt("port", 0, 65535, 41000));
    c.system.wacn = static_cast<std::uint32_t>(n.getInt("wacn", 0, 0xFFFFF, 0xBB800));
    c.system.system = static_cast<std::uint16_t>(n.getInt("system", 0, 0xFFF, 1));
    if (n.has("tgid")) {
        c.tgid = static_cast<std::uint16_t>(n.getInt("tgid", 1, 0xFFFF));
    }
    c.callsign = n.getString("callsign", "OPENIWF");
    if (c.callsign.empty() || c.callsign.size() > kCallsignLen) {
        n.fail("callsign", "expected 1 to 10 characters");
    }
    c.peer_timeout = n.getDuration("peer_timeout", std::chrono::seconds(60));
    c.call_timeout = n.getDuration("call_timeout", std::chrono::seconds(1));
    if (c.peer_timeout.count() <= 0) {
        n.fail("peer_timeout", "must be positive");
    }
    if (c.call_timeout.count() <= 0) {
        n.fail("call_timeout", "must be positive");
    }
    c.reflect = n.getBool("reflect", true);
    c.max_peers = static_cast<std::size_t>(n.getInt("max_peers", 1, 4096, 64));
    c.allow = net::allowListFromConfig(n, c.address);
    c.rate = net::rateLimitFromConfig(n, c.rate);
    c.receive_buffer = net::receiveBufferFromConfig(n, c.receive_buffer);
    return c;
}

RecordsLink::RecordsLink(RecordsLinkConfig cfg, asio::io_context& io, metrics::Registry& metrics,
                         const Clock& clock)
    : UdpLink(cfg.name, io, metrics, clock, 8, 512, "records", cfg.worker), cfg_(std::move(cfg)) {
    const metrics::Labels l{{"link", cfg_.name}};
    rx_records_ = &metrics_.counter("iwf_p25_records_rx_total", "P25 records received", l);
    tx_records_ = &metrics_.counter("iwf_p25_records_tx_total", "P25 records sent", l);
    late_entry_ = &metrics_.counter("iwf_p25_late_entry_total",
                                    "P25 encrypted calls joined before any MI was seen", l);
    mi_regenerated_ = &metrics_.counter("iwf_p25_mi_regenerated_total",
                                        "P25 MIs recomputed with the LFSR after a lost LDU2", l);
    mi_backfilled_ = &metrics_.counter(
        "iwf_p25_mi_backfilled_total",
        "P25 MIs of a headerless call's first superframe recovered with the inverse LFSR", l);
    undecided_ =
        &metrics_.counter("iwf_p25_crypto_undecided_total",
                          "P25 calls set up without an LDU2 ES in their first two superframes", l);
    relay_held_ = &metrics_.counter(
        "iwf_p25_relay_held_total",
        "P25 records not relayed because another stream held the channel (one talker at a time)",
        l);
    outbound_busy_ = &metrics_.counter(
        "iwf_p25_outbound_busy_total",
        "Outbound calls refused because the link was carrying another (one stream at a time)", l);
    peers_gauge_ = &metrics_.gauge("iwf_p25_peers", "P25 peers linked (polling)", l);
    // At 0 from the start, like iwf_dmr_peer_timeouts_total: increase() cannot see the first
    // timeout of a series born at 1.
    peer_timeouts_ =
        &metrics_.counter("iwf_p25_peer_timeouts_total", "P25 peers dropped for not polling", l);
}

RecordsLink::~RecordsLink() {
    stop();
    if (group_) {
        group_->leave(*this);
    }
}

void RecordsLink::joinShardGroup(std::shared_ptr<RecordsShardGroup> group) {
    group_ = std::move(group);
    group_->join(*this, io_);
}

void RecordsLink::announce(const Endpoint& ep, bool linked) {
    if (group_) {
        group_->announce(*this, ep, linked);
    }
}

void RecordsLink::onRemotePeer(const Endpoint& ep, bool linked) {
    std::lock_guard lock(mu_);
    if (!running_) {
        return;
    }
    auto it = std::find(remote_peers_.begin(), remote_peers_.end(), ep);
    if (linked && it == remote_peers_.end()) {
        remote_peers_.push_back(ep);
    } else if (!linked && it != remote_peers_.end()) {
        remote_peers_.erase(it);
    }
}

Status RecordsLink::start(EventSink& sink) {
    std::lock_guard lock(mu_);
    if (running_) {
        return Error{"already_started"};
    }
    if (Status st = bindSocket(cfg_.address, cfg_.port, {cfg_.reuse_port, cfg_.join_port},
                               cfg_.receive_buffer);
        !st) {
        return st;
    }
    sink_ = &sink;
    running_ = true;
    log_->info("link={} listening port={} allow={} rate_limit={}/s", cfg_.name, localPort(),
               fmt::join(cfg_.allow.entries(), ","), cfg_.rate.pps);
    receiver_.start([this](const Endpoint& from, ByteView data) { onReceived(from, data); });
    armTimer();
    return Status::success();
}

void RecordsLink::stop() {
    {
        std::lock_guard lock(mu_);
        if (!running_) {
            return;
        }
        running_ = false;
        // Tell every linked peer that we go: an 0xF1 unlink (+ our callsign) three times, as
        // P25Gateway does when it leaves a reflector (g4klx/P25Clients P25Gateway.cpp, the
        // three writeUnlink calls; P25Network.cpp writeUnlink builds 0xF1 + callsign). Calls in
        // progress end below; a transmission iwfd originates (MC -> P25) gets its 0x80
        // end-of-transmission record first, so radios do not wait for a timeout.
        InlineBytes<kMaxRecordLen> end;
        if (out_ && encodeRecord(EndRecord{}, end)) {
            for (const auto& [ep, peer] : peers_) {
                sendTo(ep, end.view());
            }
        }
        InlineBytes<kMaxRecordLen> unlink;
        if (encodeRecord(makePoll(cfg_.callsign, true), unlink)) {
            for (const auto& [ep, peer] : peers_) {
                for (int i = 0; i < 3; ++i) {
                    sendTo(ep, unlink.view());
                }
            }
        }
        closeSocket();
        remote_peers_.clear();
        for (auto& [ep, peer] : peers_) {
            if (peer.call) {
                endCall(peer, EndReason::LinkDown, "link stopped");
            }
        }
        peers_.clear();
        peers_gauge_->set(0);
        out_.reset();
    }
    flushOutbox();
}

std::uint16_t RecordsLink::localPort() const {
    return boundPort();
}

Status RecordsLink::reconfigure(const RecordsLinkConfig& next, std::string& what) {
    {
        std::lock_guard lock(mu_);
        std::vector<std::string> changed;
        std::size_t unlinked = 0;
        if (!(next.allow == cfg_.allow)) {
            changed.push_back("allow");
            cfg_.allow = next.allow;
            for (auto it = peers_.begin(); it != peers_.end();) {
                auto cur = it++;
                if (!cfg_.allow.allows(cur->first.address())) {
                    unlink(cur, "no longer allowed (reload)");
                    ++unlinked;
                }
            }
        }
        if (next.rate.pps != cfg_.rate.pps || next.rate.burst != cfg_.rate.burst) {
            changed.push_back("rate_limit");
            cfg_.rate = next.rate;
            for (auto& [ep, p] : peers_) {
                p.gate = cfg_.rate.gate();
            }
        }
        what = changed.empty() ? "unchanged"
                               : fmt::format("applied {} (peers unlinked: {})",
                                             fmt::join(changed, ","), unlinked);
        log_->info("link={} reload {} allow={}", cfg_.name, what,
                   fmt::join(cfg_.allow.entries(), ","));
    }
    flushOutbox();
    return Status::success();
}

Status RecordsLink::disconnectPeer(std::string_view peer) {
    {
        std::lock_guard lock(mu_);
        auto it = std::find_if(peers_.begin(), peers_.end(), [&](const auto& e) {
            return e.second.callsign == peer || e.second.name == peer;
        });
        if (it == peers_.end()) {
            return Error{"no_such_peer"};
        }
        InlineBytes<kMaxRecordLen> unlink_rec;
        if (encodeRecord(makePoll(cfg_.callsign, true), unlink_rec)) {
            for (int i = 0; i < 3; ++i) {
                sendTo(it->first, unlink_rec.view());
            }
        }
        unlink(it, "disconnected by the operator");
    }
    flushOutbox();
    return Status::success();
}

LinkView RecordsLink::view() const {
    LinkView v;
    const std::uint16_t port = boundPort();
    v.state = port != 0 ? "running" : "stopped";
    v.local = port != 0 ? fmt::format("{}:{}", cfg_.address, port) : std::string();
    const auto now = clock_.now();
    std::lock_guard lock(mu_);
    for (const auto& [ep, p] : peers_) {
        PeerView pv;
        pv.id = p.callsign.empty() ? p.name : p.callsign;
        pv.address = p.name;
        pv.state = p.unlink_pending ? "unlinking" : (p.call ? "in_call" : "linked");
        pv.last_seen_s = std::chrono::duration<double>(now - p.last_poll).count();
        v.peers.push_back(std::move(pv));
    }
    return v;
}

std::size_t RecordsLink::peerCount() const {
    std::lock_guard lock(mu_);
    return peers_.size();
}

void RecordsLink::onReceived(const Endpoint& from, ByteView data) {
    {
        std::lock_guard lock(mu_);
        if (!running_) {
            return;
        }
        onDatagram(from, data);
    }
    flushOutbox();
}

void RecordsLink::flushOutbox() {
    // flushing_ is only touched here, on the link's thread; the two vectors trade places so
    // that neither gives up its capacity (no allocation per frame).
    {
        std::lock_guard lock(mu_);
        if (outbox_.empty()) {
            return;
        }
        flushing_.swap(outbox_);
    }
    if (sink_ != nullptr) {
        for (auto& e : flushing_) {
            sink_->onEvent(id_, std::move(e));
        }
    }
    flushing_.clear();
    // A call's setup burst (its setup and the frames held until the stream said its crypto,
    // up to two superframes) grows a vector to 32 events; give that back, or every link kept
    // it for good (~1.3 KB per idle call with one link per talk path). A voice datagram makes
    // one event, so the steady state stays within kKeepEvents and never allocates per frame.
    if (flushing_.capacity() > kKeepEvents) {
        std::vector<Event>().swap(flushing_);
    }
}

void RecordsLink::drop(const Endpoint& peer, std::string_view reason, std::int64_t detail) {
    drops_.drop(peer, reason, detail);
}

std::map<RecordsLink::Endpoint, RecordsLink::Peer>::iterator RecordsLink::link(
    const Endpoint& from, std::string_view callsign, std::string_view how) {
    if (peers_.size() >= cfg_.max_peers) {
        drop(from, "too_many_peers");
        return peers_.end();
    }
    Peer p;
    p.name = endpointName(from);
    p.callsign = std::string(callsign);
    p.gate = cfg_.rate.gate();
    drops_.admitPeer(p.name);
    auto it = peers_.emplace(from, std::move(p)).first;
    peers_gauge_->set(static_cast<double>(peers_.size()));
    log_->info("link={} peer={} callsign={} linked by={}", cfg_.name, it->second.name, callsign,
               how);
    announce(from, true);
    return it;
}

void RecordsLink::unlink(std::map<Endpoint, Peer>::iterator it, std::string_view why) {
    log_->info("link={} peer={} callsign={} unlinked ({})", cfg_.name, it->second.name,
               it->second.callsign, why);
    if (it->second.call) {
        endCall(it->second, EndReason::LinkDown, std::string(why));
    }
    channel().release(this, &it->first);
    announce(it->first, false);
    peers_.erase(it);
    peers_gauge_->set(static_cast<double>(peers_.size()));
}

void RecordsLink::onDatagram(const Endpoint& from, ByteView data) {
    // The allow-list first: nothing from elsewhere is decoded, linked or relayed.
    if (!cfg_.allow.allows(from.address())) {
        drop(from, "not_allowed");
        return;
    }
    const auto now = clock_.now();
    auto it = peers_.find(from);
    // A linked peer's budget is spent before any work is done for the datagram.
    if (it != peers_.end() && !it->second.gate.take(toNs(now))) {
        drop(from, "rate_limited");
        return;
    }
    auto rec = decodeRecord(data);
    if (!rec) {
        drop(from, rec.error().reason, rec.error().detail);
        return;
    }
    rx_records_->inc();
    if (const auto* poll = std::get_if<PollRecord>(&*rec)) {
        if (poll->unlink) {
            if (it == peers_.end()) {
                drop(from, "not_linked");
                return;
            }
            const bool busy = it->second.call.has_value() ||
                              channel().outboundActive(
                                  toNs(now), std::chrono::nanoseconds(cfg_.call_timeout).count());
            if (busy) {
                // Never cut a call: a P25Gateway unlinks between transmissions, so an unlink in
                // the middle of one is at best early; it takes effect when the calls are over.
                if (!it->second.unlink_pending) {
                    log_->info("link={} peer={} callsign={} unlink deferred: a call is running",
                               cfg_.name, it->second.name, it->second.callsign);
                }
                it->second.unlink_pending = true;
                return;
            }
            unlink(it, "peer unlinked");
            return;
        }
        if (it == peers_.end()) {
            it = link(from, poll->callsignView(), "poll");
            if (it == peers_.end()) {
                return;
            }
        }
        it->second.callsign = std::string(poll->callsignView());
        it->second.last_poll = now;
        it->second.unlink_pending = false;
        // The answer is the poll itself, byte for byte, as P25Reflector (nostar/DVReflectors
        // P25Reflector.cpp run(): "Return the poll") and P25Parrot (g4klx/P25Clients
        // P25Parrot/Network.cpp read()) do. P25Gateway recognises only an echo of its own poll
        // (P25Gateway.cpp run(): memcmp with its callsign); any other 0xF0 is taken for network
        // activity and links it to this reflector ("Switched to reflector ... due to network
        // activity"), then unlinks at the hang timer: a flap every ~65 s.
        sendTo(from, data);
        return;
    }
    if (it == peers_.end()) {
        // An allowed source sending voice before its poll: after an iwfd restart a
        // P25Gateway keeps sending to the address it linked and polls again within 5 s
        // (P25Gateway.cpp pollTimer). Link it now so that the stream is carried again.
        it = link(from, "", "voice");
        if (it == peers_.end()) {
            return;
        }
        it->second.last_poll = now;
        it->second.gate.take(toNs(now));
    }
    Peer& peer = it->second;
    // Any record keeps a linked peer alive, as in P25Reflector (run(): m_timer.start() on data).
    peer.last_poll = now;
    if (std::holds_alternative<EndRecord>(*rec)) {
        if (cfg_.reflect && mayRelay(from, now)) {
            relay(from, data);
        }
        channel().release(this, &from);
        if (peer.call) {
            endCall(peer, EndReason::Normal, "");
        }
        return;
    }
    onVoice(peer, std::get<VoiceRecord>(*rec), data, from);
}

RelayChannel& RecordsLink::channel() {
    return *channel_;
}

bool RecordsLink::mayRelay(const Endpoint& from, Clock::TimePoint now) {
    if (channel().claim(this, from, toNs(now),
                        std::chrono::nanoseconds(cfg_.call_timeout).count())) {
        return true;
    }
    relay_held_->inc();
    return false;
}

std::string RecordsLink::sendLabel(const Endpoint& to) const {
    std::string name = endpointName(to);
    return drops_.admitted(name) ? name : std::string(net::DropCounter::kOther);
}

void RecordsLink::onVoice(Peer& peer, const VoiceRecord& rec, ByteView raw, const Endpoint& from) {
    if (cfg_.reflect && mayRelay(from, clock_.now())) {
        relay(from, raw);
    }
    const auto now = clock_.now();
    if (!peer.call) {
        peer.call.emplace();
        peer.call->ref = next_ref_++;
    }
    InCall& c = *peer.call;
    c.last_rx = now;
    const FramePosition pos = c.tracker.onFrame(rec.index());
    if (auto lc = lcOf(rec)) {
        c.tracker.onLcf(lc->lcf);
        c.tracker.onServiceOptions(lc->service_options);
    }
    if (auto d = dstOf(rec)) {
        c.dst = *d;
    }
    if (auto s = srcOf(rec)) {
        c.src = *s;
    }
    if (auto es = esOf(rec)) {
        c.tracker.onEsFragment(rec.index(), *es);
    }
    VoiceFrame f;
    f.codec = VoiceCodec::ImbeFullRate;
    f.pos = pos;
    f.crypto = c.tracker.current();
    f.payload.assign(ByteView(rec.imbe.data(), rec.imbe.size()));
    f.side = InlineBytes<16>(rec.side.view());
    // The records carry no sequence number: the frame's place in the stream is its sequence,
    // so a lost record shows as a gap to the engine (iwf_engine_frames_lost_total).
    f.seq = pos.superframe * kFramesPerSuperframe + pos.index;
    ++c.seq;
    f.rx_ns = toNs(now);
    if (!c.setup_sent) {
        c.pending.push_back(f);
        // Held until the stream says whether it is encrypted: MMDVMHost sends no header and 0
        // in the service options byte, so only an LDU2 (frame 15: ALGID/KID, frames 12-14:
        // MI) decides; the call is then set up with that crypto and the held frames follow,
        // superframe 0 with its MI recovered (CryptoTracker). Never refused or forwarded as
        // clear in between. A stream that says nothing for two superframes (both LDU2s lost)
        // is set up with what its LC says.
        if (c.tracker.decided()) {
            emitSetup(peer);
        } else if (c.pending.size() >= kMaxHeldFrames) {
            undecided_->inc();
            log_->warn("link={} peer={} call={} no LDU2 ES in {} frames: setup as the LC says",
                       cfg_.name, peer.name, c.ref, c.pending.size());
            emitSetup(peer);
        }
        return;
    }
    emit(Voice{c.ref, f});
}

void RecordsLink::emitSetup(Peer& peer) {
    InCall& c = *peer.call;
    CallSetup s;
    s.call = c.ref;
    s.kind = CallKind::Group;
    s.codec = VoiceCodec::ImbeFullRate;
    const bool hidden = c.tracker.protectedLc();
    if (c.src && !hidden) {
        s.caller.id = P25Unit{cfg_.system, *c.src};
    }
    if (c.dst && !hidden) {
        s.callee = P25Group{cfg_.system, static_cast<std::uint16_t>(*c.dst & 0xFFFF)};
    } else if (cfg_.tgid) {
        s.callee = P25Group{cfg_.system, *cfg_.tgid};
    }
    if (auto so = c.tracker.serviceOptions(); so && (*so & kSvcEmergency)) {
        s.priority = CallPriority::Emergency;
    }
    if (c.tracker.essKnown() || c.tracker.encrypted()) {
        s.crypto = c.tracker.current();
    }
    if (c.tracker.lateEntry()) {
        late_entry_->inc();
        log_->info("link={} peer={} call={} late entry: encrypted, MI not yet seen", cfg_.name,
                   peer.name, c.ref);
    }
    log_->info("link={} peer={} call={} setup caller={} callee={} protected_lc={}", cfg_.name,
               peer.name, c.ref, toString(s.caller.id), toString(s.callee), hidden);
    emit(std::move(s));
    c.setup_sent = true;
    for (auto& f : c.pending) {
        // What is known now applies to the held frames too: their superframe's MI follows
        // from the current one (inverse LFSR) once the current one is known.
        f.crypto = c.tracker.cryptoOfSuperframe(f.pos.superframe);
        emit(Voice{c.ref, f});
    }
    // Freed, not cleared: once set up, a call never holds frames again, and an idle call
    // kept up to two superframes of capacity (~0.9 KB per call, docs/perf.md "State per idle
    // call").
    std::vector<VoiceFrame>().swap(c.pending);
}

void RecordsLink::endCall(Peer& peer, EndReason reason, std::string detail) {
    InCall& c = *peer.call;
    if (!c.setup_sent && !c.pending.empty()) {
        if (!c.tracker.decided() && !c.tracker.encrypted()) {
            // Ended before any LDU2 said whether it was encrypted (a key-up shorter than
            // 15 frames): neither refused nor forwarded as clear on a guess.
            drops_.drop(std::string_view(peer.name), "crypto_undecided",
                        static_cast<std::int64_t>(c.pending.size()));
            mi_backfilled_->inc(c.tracker.miBackfilled());
            peer.call.reset();
            return;
        }
        emitSetup(peer);
    }
    mi_regenerated_->inc(c.tracker.miRegenerated());
    mi_backfilled_->inc(c.tracker.miBackfilled());
    log_->info("link={} peer={} call={} end reason={} frames={}", cfg_.name, peer.name, c.ref,
               toString(reason), c.seq);
    emit(CallEnd{c.ref, reason, std::move(detail)});
    peer.call.reset();
}

void RecordsLink::relay(const Endpoint& from, ByteView raw) {
    for (const auto& [ep, p] : peers_) {
        if (ep != from) {
            sendTo(ep, raw);
        }
    }
    for (const auto& ep : remote_peers_) {
        if (ep != from) {
            sendTo(ep, raw);
        }
    }
}

void RecordsLink::sendTo(const Endpoint& to, ByteView data) {
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(data.data(), data.size()), to, 0, ec);
    if (ec) {
        metrics_
            .counter("iwf_lmr_send_errors_total", "LMR datagrams that could not be sent",
                     {{"link", cfg_.name}, {"peer", sendLabel(to)}})
            .inc();
        return;
    }
    tx_records_->inc();
}

void RecordsLink::sendToAll(ByteView data) {
    for (const auto& [ep, p] : peers_) {
        sendTo(ep, data);
    }
    for (const auto& ep : remote_peers_) {
        sendTo(ep, data);
    }
}

void RecordsLink::armTimer() {
    const auto period =
        std::max(std::chrono::milliseconds(20), std::min(cfg_.peer_timeout, cfg_.call_timeout) / 4);
    timer_.expires_after(period);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) {
            return;
        }
        tick();
        flushOutbox();
        std::lock_guard lock(mu_);
        if (running_) {
            armTimer();
        }
    });
}

void RecordsLink::tick() {
    std::lock_guard lock(mu_);
    if (!running_) {
        return;
    }
    const auto now = clock_.now();
    const auto timeout_ns = std::chrono::nanoseconds(cfg_.call_timeout).count();
    const bool outbound = channel().outboundActive(toNs(now), timeout_ns);
    for (auto it = peers_.begin(); it != peers_.end();) {
        Peer& p = it->second;
        if (p.call && now - p.call->last_rx > cfg_.call_timeout) {
            endCall(p, EndReason::Timeout, "stream silent");
        }
        if (p.unlink_pending && !p.call && !outbound) {
            auto gone = it++;
            unlink(gone, "peer unlinked (deferred until the call ended)");
            continue;
        }
        if (now - p.last_poll > cfg_.peer_timeout) {
            log_->info("link={} peer={} callsign={} timed out", cfg_.name, p.name, p.callsign);
            peer_timeouts_->inc();
            if (p.call) {
                endCall(p, EndReason::LinkDown, "peer timed out");
            }
            channel().release(this, &it->first);
            announce(it->first, false);
            it = peers_.erase(it);
            peers_gauge_->set(static_cast<double>(peers_.size()));
        } else {
            ++it;
        }
    }
}

Status RecordsLink::deliver(const Event& event) {
    Status st;
    {
        std::lock_guard lock(mu_);
        if (!running_) {
            return Error{"not_started"};
        }
        if (const auto* s = std::get_if<CallSetup>(&event)) {
            if (s->codec != VoiceCodec::ImbeFullRate) {
                return Error{"bad_codec"};
            }
            const auto now = clock_.now();
            if (out_ && out_->ref != s->call && now - out_->last <= cfg_.call_timeout) {
                outbound_busy_->inc();
                return Error{"busy"};  // the running stream keeps the link (OutCall)
            }
            out_ = OutCall{s->call, *s, now};
            // iwfd's stream takes the channel: no peer is relayed into it meanwhile.
            channel().claimOutbound(this, toNs(clock_.now()));
        } else if (const auto* v = std::get_if<Voice>(&event)) {
            st = deliverVoice(*v);
        } else if (const auto* e = std::get_if<CallEnd>(&event)) {
            if (!out_ || out_->ref != e->call) {
                return Error{"unknown_call"};
            }
            InlineBytes<kMaxRecordLen> buf;
            if (encodeRecord(EndRecord{}, buf)) {
                sendToAll(buf.view());
            }
            out_.reset();
            channel().release(this, nullptr);
        } else {
            return Error{"unsupported_event"};
        }
    }
    return st;
}

Status RecordsLink::deliverVoice(const Voice& v) {
    if (!out_ || out_->ref != v.call) {
        return Error{"unknown_call"};
    }
    const VoiceFrame& f = v.frame;
    if (f.codec != VoiceCodec::ImbeFullRate) {
        return Error{"bad_codec"};
    }
    if (f.payload.size() != kImbeBytes) {
        return Error{"bad_payload_size", static_cast<std::int64_t>(f.payload.size())};
    }
    if (f.pos.index >= kFramesPerSuperframe) {
        return Error{"bad_frame_index", f.pos.index};
    }
    VoiceRecord r;
    r.tag = tagOfFrameIndex(f.pos.index);
    std::copy(f.payload.data(), f.payload.data() + kImbeBytes, r.imbe.begin());
    if (f.side.size() == sideBytesForIndex(f.pos.index)) {
        r.side.assign(f.side.view());  // as received: bit-exact
    } else {
        r.side = recordSideFromSetup(f.pos.index, out_->setup, f.crypto);
    }
    InlineBytes<kMaxRecordLen> buf;
    IWF_TRY_STATUS(encodeRecord(r, buf));
    out_->last = clock_.now();
    channel().claimOutbound(this, toNs(out_->last));
    sendToAll(buf.view());
    return Status::success();
}

}  // namespace iwf::lmr::p25
