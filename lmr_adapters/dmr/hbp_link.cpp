#include "lmr_adapters/dmr/hbp_link.hpp"

#include <charconv>

#include <fmt/ranges.h>
#include <openssl/crypto.h>

namespace iwf::lmr::dmr {

namespace {
std::string endpointLabel(const asio::ip::udp::endpoint& ep) {
    return net::endpointName(ep);
}
}  // namespace

// ------------------------------------------------------------------ base

HbpLinkBase::HbpLinkBase(LinkId id, const HbpCommonConfig& cfg, asio::io_context& io,
                         metrics::Registry& metrics, const Clock& clock)
    : id_(std::move(id))
    , common_(cfg)
    , io_(io)
    , metrics_(metrics)
    , clock_(clock)
    , socket_(io)
    , timer_(io)
    , rx_(socket_, 8, 2048)
    , encoder_(EncoderConfig{cfg.id, cfg.slot, cfg.color_code, 3})
    , data_rx_(cfg.data)
    , data_tx_(DataSenderConfig{cfg.id, cfg.slot, cfg.color_code}, cfg.data)
    , rng_(std::random_device{}())
    , rx_packets_(metrics.counter("iwf_dmr_packets_total", "HBP datagrams by direction",
                                  {{"link", id_.name}, {"dir", "rx"}}))
    , tx_packets_(metrics.counter("iwf_dmr_packets_total", "HBP datagrams by direction",
                                  {{"link", id_.name}, {"dir", "tx"}}))
    , events_(metrics.counter("iwf_dmr_events_total", "Events reported to the engine",
                              {{"link", id_.name}}))
    , log_(log::get("dmr"))
    , drops_(metrics, id_.name, log_)
    , socket_stats_(metrics, id_.name, "hbp") {}

HbpLinkBase::~HbpLinkBase() {
    *alive_ = false;
}

Status HbpLinkBase::openSocket(const std::string& address, std::uint16_t port) {
    std::string why;
    if (Status st = net::bind(socket_, address, port, {}, &why); !st) {
        log_->error("link={} bind={}:{} error=\"{}\"", id_.name, address, port, why);
        return st;
    }
    boost::system::error_code ec;
    // One socket carries every peer's talk paths (a master with hundreds of repeaters): the
    // default receive buffer (~212 KB, ~250 small datagrams, ~6 ms at 2,500 streams) is too
    // short for a scheduling hiccup. The kernel caps it at net.core.rmem_max (warned).
    const int want = common_.receive_buffer;
    const int granted = net::SocketStats::setReceiveBuffer(socket_, want);
    if (want > 0 && granted / 2 < want) {
        log_->warn(
            "link={} receive_buffer={} granted={} (the kernel caps SO_RCVBUF at "
            "net.core.rmem_max; raise it to get the configured size)",
            id_.name, want, granted / 2);
    }
    socket_stats_.attach(socket_);
    local_port_ = socket_.local_endpoint(ec).port();
    return {};
}

void HbpLinkBase::closeSocket() {
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
    boost::system::error_code ec;
    timer_.cancel();
    rx_.stop();
    socket_stats_.detach();
    socket_.close(ec);
}

void HbpLinkBase::startReceive() {
    rx_.start([this](const udp::endpoint& from, ByteView d) {
        rx_packets_.inc();
        onDatagram(d, from);
    });
}

void HbpLinkBase::startTimer(std::chrono::milliseconds tick) {
    auto alive = alive_;
    timer_.expires_after(tick);
    timer_.async_wait([this, alive, tick](const boost::system::error_code& ec) {
        if (!*alive || ec) {
            return;
        }
        onTick();
        if (*alive) {
            startTimer(tick);
        }
    });
}

void HbpLinkBase::sendTo(const udp::endpoint& to, Bytes data) {
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(data), to, 0, ec);
    if (ec) {
        drop(endpointLabel(to), "send_failed");
        return;
    }
    tx_packets_.inc();
}

void HbpLinkBase::drop(const std::string& peer, std::string_view reason) {
    drops_.drop(peer, reason);
}

void HbpLinkBase::emit(std::vector<Event>& events) {
    for (auto& e : events) {
        events_.inc();
        if (sink_ != nullptr) {
            sink_->onEvent(id_, std::move(e));
        }
    }
    events.clear();
}

void HbpLinkBase::handleDmrd(ByteView d, std::uint32_t peer_id) {
    auto p = decodeDmrd(d);
    if (!p) {
        drop(dataPeerLabel(peer_id), p.error().reason);
        return;
    }
    if (isDataPacket(*p)) {
        handleData(*p, peer_id);
        return;
    }
    // One vector for every packet (emit() leaves it empty, keeping its capacity).
    rx_events_.clear();
    Status st = decoder_.onPacket(*p, nowNs(), rx_events_);
    if (!st.ok()) {
        // Burst metadata damaged: counted; any opaque voice it carried was still reported.
        drop(dataPeerLabel(peer_id), st.error().reason);
    }
    emit(rx_events_);
}

Result<std::vector<DmrdPacket>> HbpLinkBase::encode(const Event& e) {
    std::lock_guard<std::mutex> lock(enc_mu_);
    if (std::holds_alternative<DataMessage>(e) || std::holds_alternative<SecurityMessage>(e)) {
        return data_tx_.onEvent(e);
    }
    return encoder_.onEvent(e);
}

void HbpLinkBase::handleData(const DmrdPacket& p, std::uint32_t peer_id) {
    std::vector<Event> events;
    std::vector<std::string_view> drops;
    data_rx_.onPacket(p, nowNs(), events, drops);
    for (auto reason : drops) {
        drop(dataPeerLabel(peer_id), reason);
    }
    emit(events);
}

void HbpLinkBase::expireData() {
    std::vector<std::string_view> drops;
    std::vector<std::uint32_t> peers;
    data_rx_.expire(nowNs(), drops, &peers);
    for (std::size_t i = 0; i < drops.size(); ++i) {
        drop(dataPeerLabel(peers[i]), drops[i]);
    }
}

// ------------------------------------------------------------------ master

namespace {
constexpr std::size_t kMaxSources = 4096;  // source addresses whose failures are remembered
constexpr auto kFailureMemory = std::chrono::seconds(60);
}  // namespace

HbpMasterLink::HbpMasterLink(LinkId id, HbpMasterConfig cfg, asio::io_context& io,
                             metrics::Registry& metrics, const Clock& clock)
    : HbpLinkBase(std::move(id), cfg, io, metrics, clock)
    , cfg_(std::move(cfg))
    , peers_gauge_(metrics.gauge("iwf_dmr_peers", "HBP peers logged in", {{"link", id_.name}}))
    , timeouts_(metrics.counter("iwf_dmr_peer_timeouts_total", "HBP peers dropped as silent",
                                {{"link", id_.name}}))
    , not_subscribed_(metrics.counter(
          "iwf_dmr_not_subscribed_total",
          "DMRD packets not sent to a peer whose RPTO subscriptions exclude the talkgroup",
          {{"link", id_.name}})) {
    metrics.callbackGauge("iwf_dmr_pending_logins", "HBP logins in progress (half-open)",
                          {{"link", id_.name}},
                          [this] { return static_cast<double>(pending_count_.load()); });
}

Status HbpMasterLink::start(EventSink& sink) {
    sink_ = &sink;
    IWF_TRY_STATUS(openSocket(cfg_.address, cfg_.port));
    startReceive();
    const auto tick = std::clamp(cfg_.ping_timeout / 4, std::chrono::milliseconds(10),
                                 std::chrono::milliseconds(1000));
    startTimer(std::min({tick,
                         std::clamp(cfg_.stream_timeout / 4, std::chrono::milliseconds(10),
                                    std::chrono::milliseconds(1000)),
                         std::clamp(cfg_.login_timeout / 4, std::chrono::milliseconds(10),
                                    std::chrono::milliseconds(1000))}));
    log_->info("link={} role=master port={} allow={}", id_.name, localPort(),
               fmt::join(cfg_.allow.entries(), ","));
    return {};
}

void HbpMasterLink::stop() {
    for (const auto& [id, p] : peers_) {
        sendTo(p.ep, encodeHbp(hbpSimple(HbpType::Mstcl, id)));
    }
    std::vector<Event> events;
    decoder_.endAll(std::nullopt, EndReason::LinkDown, events);
    data_rx_.clear(std::nullopt);
    emit(events);
    peers_.clear();
    pending_.clear();
    pending_order_.clear();
    pending_count_ = 0;
    updateConnected();
    closeSocket();
}

Status HbpMasterLink::reconfigure(const HbpMasterConfig& next, std::string& what) {
    // The daemon calls this only when nothing but the reloadable keys (password, allow,
    // rate_limit: dmr link_types.cpp) differ; the other fields of `next` are ignored.
    std::vector<std::string> changed;
    if (next.password != cfg_.password) {
        changed.push_back("password");
        cfg_.password = next.password;
        common_.password = next.password;
        // Sessions were opened with the old password: each peer logs in again (DMRGateway /
        // MMDVMHost do on MSTCL) and must know the new one. Logins in progress start over.
        std::vector<std::uint32_t> ids;
        for (const auto& [id, p] : peers_) {
            ids.push_back(id);
            sendTo(p.ep, encodeHbp(hbpSimple(HbpType::Mstcl, id)));
        }
        for (auto id : ids) {
            removePeer(id, EndReason::LinkDown);
        }
        pending_.clear();
        pending_order_.clear();
        pending_count_ = 0;
        what = "password changed: " + std::to_string(ids.size()) +
               " sessions closed (MSTCL) to log in again with it";
    }
    if (!(next.allow == cfg_.allow)) {
        changed.push_back("allow");
        cfg_.allow = next.allow;
        std::vector<std::uint32_t> gone;
        for (const auto& [id, p] : peers_) {
            if (!cfg_.allow.allows(p.ep.address())) {
                gone.push_back(id);
                sendTo(p.ep, encodeHbp(hbpSimple(HbpType::Mstcl, id)));
            }
        }
        for (auto id : gone) {
            removePeer(id, EndReason::LinkDown);
        }
    }
    if (next.rate.pps != cfg_.rate.pps || next.rate.burst != cfg_.rate.burst) {
        changed.push_back("rate_limit");
        cfg_.rate = next.rate;
        for (auto& [id, p] : peers_) {
            p.gate = cfg_.rate.gate();
        }
    }
    if (what.empty()) {
        what = changed.empty() ? "unchanged" : "applied";
    }
    if (!changed.empty()) {
        log_->info("link={} reload applied={} {}", id_.name, fmt::join(changed, ","), what);
    }
    return {};
}

Status HbpMasterLink::disconnectPeer(std::string_view peer) {
    std::uint32_t id = 0;
    const auto [end, ec] = std::from_chars(peer.data(), peer.data() + peer.size(), id);
    if (ec != std::errc() || end != peer.data() + peer.size()) {
        return Error{"no_such_peer"};
    }
    auto it = peers_.find(id);
    if (it == peers_.end()) {
        return Error{"no_such_peer"};
    }
    sendTo(it->second.ep, encodeHbp(hbpSimple(HbpType::Mstcl, id)));
    log_->info("link={} peer={} disconnect=admin (MSTCL)", id_.name, id);
    removePeer(id, EndReason::LinkDown);
    return {};
}

void HbpMasterLink::reply(const udp::endpoint& to, HbpType t, std::uint32_t id) {
    sendTo(to, encodeHbp(hbpSimple(t, id)));
}

void HbpMasterLink::updateConnected() {
    connected_ = peers_.size();
    peers_gauge_.set(static_cast<double>(peers_.size()));
}

void HbpMasterLink::countLogin(std::string_view result, std::uint64_t n) {
    metrics_
        .counter("iwf_dmr_logins_total", "HBP logins by result",
                 {{"link", id_.name}, {"result", std::string(result)}})
        .inc(n);
}

void HbpMasterLink::removePeer(std::uint32_t id, EndReason reason) {
    peers_.erase(id);
    data_rx_.clear(id);  // its unfinished PDUs cannot complete any more
    std::vector<Event> events;
    decoder_.endAll(id, reason, events);
    emit(events);
    updateConnected();
}

bool HbpMasterLink::inBackoff(const asio::ip::address& a, Clock::TimePoint now) {
    auto it = sources_.find(a);
    return it != sources_.end() && now < it->second.blocked_until;
}

void HbpMasterLink::loginFailed(const udp::endpoint& from, Clock::TimePoint now) {
    auto it = sources_.find(from.address());
    if (it == sources_.end()) {
        if (sources_.size() >= kMaxSources) {
            std::erase_if(sources_, [&](const auto& kv) {
                return now >= kv.second.blocked_until &&
                       now - kv.second.last_failure > kFailureMemory;
            });
        }
        if (sources_.size() >= kMaxSources) {
            // Still full: forget the source whose last failure is the oldest.
            auto oldest = std::min_element(sources_.begin(), sources_.end(),
                                           [](const auto& x, const auto& y) {
                                               return x.second.last_failure < y.second.last_failure;
                                           });
            sources_.erase(oldest);
        }
        it = sources_.emplace(from.address(), Source{}).first;
    }
    Source& s = it->second;
    if (now - s.last_failure > kFailureMemory && now >= s.blocked_until) {
        s.failures = 0;  // an old mistake is forgiven
    }
    ++s.failures;
    s.last_failure = now;
    if (s.failures >= kLoginFailuresFree) {
        const std::uint32_t doublings =
            std::min<std::uint32_t>(s.failures - kLoginFailuresFree, 16);
        const auto backoff = std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(1000LL << doublings), cfg_.login_backoff_max);
        s.blocked_until = now + backoff;
        log_->warn("link={} source={} login_failures={} backoff_ms={}", id_.name,
                   from.address().to_string(), s.failures, backoff.count());
    }
}

void HbpMasterLink::makeRoomForPending(const udp::endpoint& from) {
    // Per source address, then in total: the oldest login in progress gives way. A flood of
    // RPTLs ages its own entries out; a real repeater answers its salt within a round trip.
    // pending_ is ordered by (address, port): one address's entries are contiguous.
    std::size_t same = 0;
    auto oldest_same = pending_.end();
    for (auto it = pending_.lower_bound(udp::endpoint(from.address(), 0));
         it != pending_.end() && it->first.address() == from.address(); ++it) {
        ++same;
        if (oldest_same == pending_.end() || it->second.started < oldest_same->second.started) {
            oldest_same = it;
        }
    }
    if (same >= cfg_.max_pending_per_address && oldest_same != pending_.end()) {
        pending_.erase(oldest_same);
        countLogin("evicted");
        return;
    }
    if (pending_.size() < cfg_.max_pending_logins) {
        return;
    }
    // The oldest overall: the front of the insertion order that is still pending (entries
    // that completed, expired or were replaced are skipped and discarded on the way).
    while (!pending_order_.empty()) {
        const auto [ep, gen] = pending_order_.front();
        pending_order_.pop_front();
        auto it = pending_.find(ep);
        if (it != pending_.end() && it->second.gen == gen) {
            pending_.erase(it);
            countLogin("evicted");
            return;
        }
    }
}

void HbpMasterLink::onLogin(std::uint32_t id, const udp::endpoint& from, Clock::TimePoint now) {
    if (inBackoff(from.address(), now)) {
        // Silently: no answer to reflect, nothing to learn; counted and logged per source.
        drop(endpointLabel(from), "login_backoff");
        countLogin("backoff");
        return;
    }
    auto it = pending_.find(from);
    if (it == pending_.end()) {
        makeRoomForPending(from);
        it = pending_.emplace(from, Pending{}).first;
    }
    Pending& p = it->second;
    p.id = id;
    p.state = LoginState::WaitKey;
    p.started = now;
    p.gen = ++pending_gen_;
    pending_order_.emplace_back(from, p.gen);
    p.salt = idBytes(static_cast<std::uint32_t>(rng_()));
    pending_count_ = pending_.size();
    HbpMessage ack;
    ack.type = HbpType::Rptack;
    ack.ack = p.salt;
    sendTo(from, encodeHbp(ack));
}

void HbpMasterLink::onKey(const HbpMessage& m, const udp::endpoint& from, Clock::TimePoint now) {
    auto it = pending_.find(from);
    if (it == pending_.end() || it->second.id != m.peer_id ||
        it->second.state != LoginState::WaitKey) {
        drop(endpointLabel(from), "unexpected_login");
        reply(from, HbpType::Mstnak, m.peer_id);
        return;
    }
    const auto want = hbpLoginKey(it->second.salt, cfg_.password);
    if (CRYPTO_memcmp(want.data(), m.key.data(), want.size()) != 0) {
        countLogin("bad_password");
        drop(endpointLabel(from), "bad_password");
        pending_.erase(it);
        pending_count_ = pending_.size();
        loginFailed(from, now);
        reply(from, HbpType::Mstnak, m.peer_id);
        return;
    }
    it->second.state = LoginState::WaitConfig;
    reply(from, HbpType::Rptack, m.peer_id);
}

void HbpMasterLink::onConfig(const HbpMessage& m, const udp::endpoint& from, Clock::TimePoint now) {
    auto it = pending_.find(from);
    if (it == pending_.end() || it->second.id != m.peer_id ||
        it->second.state != LoginState::WaitConfig) {
        drop(endpointLabel(from), "unexpected_config");
        reply(from, HbpType::Mstnak, m.peer_id);
        return;
    }
    const std::uint32_t id = m.peer_id;
    pending_.erase(it);
    pending_count_ = pending_.size();
    auto old = peers_.find(id);
    if (old == peers_.end() && peers_.size() >= cfg_.max_peers) {
        drop(endpointLabel(from), "too_many_peers");
        countLogin("too_many_peers");
        reply(from, HbpType::Mstnak, id);
        return;
    }
    if (old != peers_.end()) {
        // The same ID logged in again with the password: a restarted repeater, or one whose
        // address changed (NAT rebinding). The new session replaces the old one; its calls end.
        log_->info("link={} peer={} relogin endpoint={} replaces={}", id_.name, id,
                   endpointLabel(from), endpointLabel(old->second.ep));
        countLogin("relogin");
        std::vector<Event> events;
        decoder_.endAll(id, EndReason::LinkDown, events);
        emit(events);
    }
    sources_.erase(from.address());  // a good login forgives the source its failures
    Peer& p = peers_[id];
    p.ep = from;
    p.last_heard = now;
    p.config = m.config;
    p.gate = cfg_.rate.gate();
    drops_.admitPeer(std::to_string(id));
    updateConnected();
    countLogin("ok");
    log_->info("link={} peer={} login=ok callsign={} endpoint={}", id_.name, id, m.config.callsign,
               endpointLabel(from));
    reply(from, HbpType::Rptack, id);
}

void HbpMasterLink::onDatagram(ByteView d, const udp::endpoint& from) {
    if (!cfg_.allow.allows(from.address())) {
        drop(endpointLabel(from), "not_allowed");
        return;
    }
    // DMRD, the hot path, first: decodeHbp() would only recognise its magic (and build an
    // HbpMessage with its strings per packet); the packet itself is parsed by decodeDmrd().
    if (isDmrd(d)) {
        if (d.size() < 15) {
            drop(endpointLabel(from), "truncated");
            return;
        }
        const std::uint32_t pid = (std::uint32_t{d[11]} << 24) | (std::uint32_t{d[12]} << 16) |
                                  (std::uint32_t{d[13]} << 8) | d[14];
        auto it = peers_.find(pid);
        if (it == peers_.end() || it->second.ep != from) {
            drop(endpointLabel(from), "not_logged_in");
            return;
        }
        const auto now = clock_.now();
        if (!it->second.gate.take(toNs(now))) {
            drop(std::to_string(pid), "rate_limited");
            return;
        }
        it->second.last_heard = now;
        handleDmrd(d, pid);
        return;
    }
    auto m = decodeHbp(d);
    if (!m) {
        drop(endpointLabel(from), m.error().reason);
        return;
    }
    const auto now = clock_.now();
    const std::uint32_t id = m->peer_id;
    auto it = peers_.find(id);
    const bool known = it != peers_.end() && it->second.ep == from;
    if (known && !it->second.gate.take(toNs(now))) {
        drop(std::to_string(id), "rate_limited");
        return;
    }
    switch (m->type) {
        case HbpType::Rptl:
            onLogin(id, from, now);
            return;
        case HbpType::Rptk:
            onKey(*m, from, now);
            return;
        case HbpType::Rptc:
            onConfig(*m, from, now);
            return;
        case HbpType::Rpto:
        case HbpType::Rptping:
            if (!known) {
                // Not (or no longer, or not from here) logged in: MSTNAK tells the peer to
                // log in again (MMDVMHost / DMRGateway DMRNetwork.cpp do on MSTNAK).
                drop(endpointLabel(from), "not_logged_in");
                reply(from, HbpType::Mstnak, id);
                return;
            }
            it->second.last_heard = now;
            if (m->type == HbpType::Rptping) {
                reply(from, HbpType::Mstpong, id);
            } else {
                // Talkgroup subscriptions (HBlink4 "TS1=..;TS2=..", DMR+ "TS1_1=.."), any
                // number of times while connected; DMRGateway sends its Options= text once
                // after the config (DMRNetwork.cpp clock(), WAITING_CONFIG).
                std::size_t bad = 0;
                it->second.options = parseRptoOptions(m->text, &bad);
                log_->info("link={} peer={} options=\"{}\" ts1={} ts2={} bad_items={}", id_.name,
                           id, m->text, it->second.options.ts1 ? it->second.options.ts1->size() : 0,
                           it->second.options.ts2 ? it->second.options.ts2->size() : 0, bad);
                reply(from, HbpType::Rptack, id);
            }
            return;
        case HbpType::Dmra:
        case HbpType::Dmrg:
        case HbpType::Rptg:
        case HbpType::Rptsbkn:
            onSideMessage(*m, d, from);
            return;
        case HbpType::Rptcl:
            if (known) {
                log_->info("link={} peer={} close=by_peer", id_.name, id);
                removePeer(id, EndReason::LinkDown);
            } else if (auto p = pending_.find(from); p != pending_.end() && p->second.id == id) {
                pending_.erase(p);
                pending_count_ = pending_.size();
            }
            return;
        default:
            drop(endpointLabel(from), "unexpected_message");
            return;
    }
}

void HbpMasterLink::onSideMessage(const HbpMessage& m, ByteView d, const udp::endpoint& from) {
    // Never MSTNAK here: MMDVMHost's DMRA / DMRG carry a radio ID after the magic, so bytes
    // 4..7 are not the peer ID (DMRDirectNetwork.cpp writeTalkerAlias / writeRadioPosition);
    // refusing them made a logged-in MMDVMHost log in again at every talker alias.
    Peer* peer = nullptr;
    std::uint32_t peer_id = 0;
    for (auto& [pid, p] : peers_) {
        if (p.ep == from) {
            peer = &p;
            peer_id = pid;
            break;
        }
    }
    if (peer == nullptr) {
        drop(endpointLabel(from), "not_logged_in");
        return;
    }
    peer->last_heard = clock_.now();
    if (m.type == HbpType::Dmra) {
        auto f = parseDmra(d, peer_id);
        if (f && !f->from_gateway && f->data.size() == 7) {
            decoder_.onTalkerAliasBlock(f->src, f->block, f->data);
        }
        // DMRGateway's DMRA keeps 3 of the 7 alias bytes: unusable; the alias is read from
        // the embedded LC of the voice bursts, which both peers forward.
    }
    // DMRG / RPTG (positions) and RPTSBKN (a master's beacon request, sent by old notes'
    // peers) are accepted and not used.
}

std::optional<std::uint8_t> HbpMasterLink::slotFor(const Peer& p, std::uint8_t slot,
                                                   std::uint32_t tg) const {
    if (p.options.allows(slot, tg)) {
        return slot;
    }
    const std::uint8_t other = slot == 1 ? 2 : 1;
    if (p.options.allows(other, tg)) {
        return other;  // subscribed on the other slot: it goes out there (as HBlink does)
    }
    return std::nullopt;
}

void HbpMasterLink::onTick() {
    const auto now = clock_.now();
    std::vector<std::uint32_t> silent;
    for (const auto& [id, p] : peers_) {
        if (now - p.last_heard > cfg_.ping_timeout) {
            silent.push_back(id);
        }
    }
    for (auto id : silent) {
        timeouts_.inc();
        log_->warn("link={} peer={} timeout=ping action=drop", id_.name, id);
        removePeer(id, EndReason::LinkDown);
    }
    const auto expired = std::erase_if(
        pending_, [&](const auto& kv) { return now - kv.second.started > cfg_.login_timeout; });
    if (expired > 0) {
        countLogin("expired", expired);
    }
    pending_count_ = pending_.size();
    // Keep the insertion order from growing with entries that are gone.
    while (!pending_order_.empty()) {
        auto it = pending_.find(pending_order_.front().first);
        if (it != pending_.end() && it->second.gen == pending_order_.front().second) {
            break;
        }
        pending_order_.pop_front();
    }
    if (pending_order_.size() > 4 * pending_.size() + 64) {
        std::deque<std::pair<udp::endpoint, std::uint64_t>> live;
        for (const auto& e : pending_order_) {
            auto it = pending_.find(e.first);
            if (it != pending_.end() && it->second.gen == e.second) {
                live.push_back(e);
            }
        }
        pending_order_.swap(live);
    }
    std::vector<Event> events;
    decoder_.expire(nowNs(), std::chrono::nanoseconds(cfg_.stream_timeout).count(), events);
    emit(events);
    expireData();
}

Status HbpMasterLink::deliver(const Event& event) {
    if ((std::holds_alternative<DataMessage>(event) ||
         std::holds_alternative<SecurityMessage>(event)) &&
        connectedPeers() == 0) {
        // Short data or a KMM with no repeater logged in reaches nobody: say so. The engine
        // reports it not delivered (DataReceipt); with a durable message store the MCData link
        // keeps it and iwfd tries again once a repeater is logged in (common/message_store.hpp),
        // without one it answers its sender 480 (issue #21).
        return Error{"no_repeater"};
    }
    auto pkts = encode(event);
    if (!pkts) {
        return pkts.error();
    }
    if (pkts->empty()) {
        return {};
    }
    std::vector<Bytes> wire;
    wire.reserve(pkts->size());
    for (const auto& p : *pkts) {
        wire.push_back(encodeDmrd(p));
    }
    // Every packet of one event has one destination and slot.
    const bool group = !pkts->front().unit_call;
    const std::uint32_t tg = pkts->front().dst;
    const std::uint8_t slot = pkts->front().slot;
    auto alive = alive_;
    asio::post(io_, [this, alive, wire = std::move(wire), group, tg, slot]() {
        if (!*alive) {
            return;
        }
        for (const auto& [id, p] : peers_) {
            std::optional<std::uint8_t> out = slot;
            if (group) {
                out = slotFor(p, slot, tg);
            }
            if (!out) {
                not_subscribed_.inc(wire.size());
                continue;
            }
            for (const auto& w : wire) {
                if (*out == slot) {
                    sendTo(p.ep, w);
                } else {
                    Bytes moved = w;  // DMRD byte 15 bit 7: 0 = TS1, 1 = TS2
                    moved[15] =
                        static_cast<std::uint8_t>((moved[15] & 0x7F) | (*out == 2 ? 0x80 : 0x00));
                    sendTo(p.ep, std::move(moved));
                }
            }
        }
    });
    return {};
}

// ------------------------------------------------------------------ peer

HbpPeerLink::HbpPeerLink(LinkId id, HbpPeerConfig cfg, asio::io_context& io,
                         metrics::Registry& metrics, const Clock& clock)
    : HbpLinkBase(std::move(id), cfg, io, metrics, clock)
    , cfg_(std::move(cfg))
    , logins_ok_(metrics.counter("iwf_dmr_logins_total", "HBP logins by result",
                                 {{"link", id_.name}, {"result", "ok"}}))
    , refused_(metrics.counter("iwf_dmr_logins_total", "HBP logins by result",
                               {{"link", id_.name}, {"result", "refused"}}))
    , relogins_(metrics.counter("iwf_dmr_relogins_total",
                                "Logins started again (master silent, refused or closed)",
                                {{"link", id_.name}}))
    , beacons_(metrics.counter("iwf_dmr_beacon_requests_total",
                               "RPTSBKN beacon requests from the master (no RF here: ignored)",
                               {{"link", id_.name}})) {
    drops_.admitPeer("master");
}

Status HbpPeerLink::start(EventSink& sink) {
    sink_ = &sink;
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(cfg_.master_address, ec);
    if (ec) {
        return Error{"bad_master_address", 0};
    }
    master_ = udp::endpoint(addr, cfg_.master_port);
    IWF_TRY_STATUS(openSocket(cfg_.address, cfg_.port));
    startReceive();
    auto tick =
        std::min({cfg_.ping_interval, cfg_.login_timeout, cfg_.pong_timeout, cfg_.stream_timeout}) /
        4;
    startTimer(std::clamp(tick, std::chrono::milliseconds(10), std::chrono::milliseconds(1000)));
    sendLogin();
    return {};
}

void HbpPeerLink::stop() {
    if (state_ == State::Running) {
        sendTo(master_, encodeHbp(hbpSimple(HbpType::Rptcl, cfg_.id)));
    }
    std::vector<Event> events;
    decoder_.endAll(std::nullopt, EndReason::LinkDown, events);
    data_rx_.clear(std::nullopt);
    emit(events);
    enter(State::Idle);
    closeSocket();
}

void HbpPeerLink::enter(State s) {
    state_ = s;
    state_since_ = clock_.now();
    running_ = s == State::Running;
}

void HbpPeerLink::sendLogin() {
    enter(State::WaitSalt);
    sendStep();
}

void HbpPeerLink::sendStep() {
    last_sent_ = clock_.now();
    switch (state_) {
        case State::WaitSalt:
            sendTo(master_, encodeHbp(hbpSimple(HbpType::Rptl, cfg_.id)));
            return;
        case State::WaitKeyAck: {
            HbpMessage k = hbpSimple(HbpType::Rptk, cfg_.id);
            k.key = hbpLoginKey(salt_, cfg_.password);
            sendTo(master_, encodeHbp(k));
            return;
        }
        case State::WaitConfigAck: {
            HbpMessage c = hbpSimple(HbpType::Rptc, cfg_.id);
            c.config = cfg_.rptc;
            sendTo(master_, encodeHbp(c));
            return;
        }
        case State::WaitOptionsAck: {
            HbpMessage o = hbpSimple(HbpType::Rpto, cfg_.id);
            o.text = cfg_.options;
            sendTo(master_, encodeHbp(o));
            return;
        }
        default:
            return;
    }
}

void HbpPeerLink::lost(std::string_view why) {
    relogins_.inc();
    log_->warn("link={} master={} lost={} action=login", id_.name, endpointLabel(master_), why);
    std::vector<Event> events;
    decoder_.endAll(std::nullopt, EndReason::LinkDown, events);
    data_rx_.clear(std::nullopt);
    emit(events);
}

void HbpPeerLink::onDatagram(ByteView d, const udp::endpoint& from) {
    if (from != master_) {
        drop(endpointLabel(from), "unknown_source");
        return;
    }
    auto m = decodeHbp(d);
    if (!m) {
        drop("master", m.error().reason);
        return;
    }
    switch (m->type) {
        case HbpType::Rptack:
            // Each RPTACK moves the login one step on (DMRGateway DMRNetwork.cpp clock():
            // WAITING_LOGIN -> RPTK with the salt, WAITING_AUTHORISATION -> RPTC,
            // WAITING_CONFIG -> RPTO when options are set, else running).
            switch (state_) {
                case State::WaitSalt:
                    salt_ = m->ack;
                    enter(State::WaitKeyAck);
                    sendStep();
                    return;
                case State::WaitKeyAck:
                    enter(State::WaitConfigAck);
                    sendStep();
                    return;
                case State::WaitConfigAck:
                    if (!cfg_.options.empty()) {
                        enter(State::WaitOptionsAck);
                        sendStep();
                        return;
                    }
                    [[fallthrough]];
                case State::WaitOptionsAck:
                    enter(State::Running);
                    last_pong_ = clock_.now();
                    last_ping_ = clock_.now();
                    logins_ok_.inc();
                    log_->info("link={} master={} login=ok id={}", id_.name, endpointLabel(master_),
                               cfg_.id);
                    return;
                default:
                    drop("master", "unexpected_ack");
                    return;
            }
        case HbpType::Mstnak:
            refused_.inc();
            if (state_ == State::Running) {
                // DMRGateway: back to WAITING_LOGIN, RPTL when the retry timer expires.
                lost("mstnak");
                enter(State::Idle);
            } else {
                log_->warn("link={} master={} login=refused id={}", id_.name,
                           endpointLabel(master_), cfg_.id);
                enter(State::Idle);  // retried after login_retry
            }
            return;
        case HbpType::Mstpong:
            last_pong_ = clock_.now();
            return;
        case HbpType::Mstcl:
            if (state_ == State::Running) {
                lost("mstcl");
            }
            enter(State::Idle);
            return;
        case HbpType::Dmrd:
            if (state_ != State::Running) {
                drop("master", "not_logged_in");
                return;
            }
            handleDmrd(d, 0);  // labelled "master" (dataPeerLabel)
            return;
        case HbpType::Rptsbkn:
            // The master asks for a beacon (DMRGateway sets m_beacon and its MMDVMHost keys
            // up). iwfd has no transmitter: counted, nothing else.
            beacons_.inc();
            return;
        default:
            drop("master", "unexpected_message");
            return;
    }
}

void HbpPeerLink::onTick() {
    const auto now = clock_.now();
    switch (state_) {
        case State::Idle:
            if (now - state_since_ >= cfg_.login_retry) {
                sendLogin();
            }
            break;
        case State::Running:
            if (now - last_pong_ > cfg_.pong_timeout) {
                // DMRGateway: "Connection to the master has timed out", close / open, RPTL
                // after the retry timer.
                lost("pong_timeout");
                enter(State::Idle);
                break;
            }
            if (now - last_ping_ >= cfg_.ping_interval) {
                last_ping_ = now;
                sendTo(master_, encodeHbp(hbpSimple(HbpType::Rptping, cfg_.id)));
            }
            break;
        default:
            if (now - state_since_ > cfg_.login_timeout) {
                // No progress: start over after login_retry.
                relogins_.inc();
                log_->warn("link={} master={} login=timeout action=retry", id_.name,
                           endpointLabel(master_));
                enter(State::Idle);
            } else if (now - last_sent_ >= cfg_.login_retry) {
                sendStep();  // the same step again, as DMRGateway's retry timer does
            }
            break;
    }
    std::vector<Event> events;
    decoder_.expire(nowNs(), std::chrono::nanoseconds(cfg_.stream_timeout).count(), events);
    emit(events);
    expireData();
}

Status HbpPeerLink::deliver(const Event& event) {
    if (!running_.load()) {
        return Error{"not_logged_in", 0};
    }
    auto pkts = encode(event);
    if (!pkts) {
        return pkts.error();
    }
    std::vector<Bytes> wire;
    for (const auto& p : *pkts) {
        wire.push_back(encodeDmrd(p));
    }
    auto alive = alive_;
    asio::post(io_, [this, alive, wire = std::move(wire)]() {
        if (!*alive || state_ != State::Running) {
            return;
        }
        for (const auto& w : wire) {
            sendTo(master_, w);
        }
    });
    return {};
}

}  // namespace iwf::lmr::dmr
