#include "lmr_adapters/dmr/hbp_link.hpp"

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
    , drops_(metrics, id_.name, log_) {}

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
    // short for a scheduling hiccup. Best effort (the kernel caps it at net.core.rmem_max).
    socket_.set_option(asio::socket_base::receive_buffer_size(kReceiveBuffer), ec);
    local_port_ = socket_.local_endpoint(ec).port();
    return {};
}

void HbpLinkBase::closeSocket() {
    *alive_ = false;
    alive_ = std::make_shared<bool>(true);
    boost::system::error_code ec;
    timer_.cancel();
    rx_.stop();
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
          {{"link", id_.name}})) {}

Status HbpMasterLink::start(EventSink& sink) {
    sink_ = &sink;
    IWF_TRY_STATUS(openSocket(cfg_.address, cfg_.port));
    startReceive();
    const auto tick = std::clamp(cfg_.ping_timeout / 4, std::chrono::milliseconds(10),
                                 std::chrono::milliseconds(1000));
    startTimer(std::min(tick, std::clamp(cfg_.stream_timeout / 4, std::chrono::milliseconds(10),
                                         std::chrono::milliseconds(1000))));
    log_->info("link={} role=master port={}", id_.name, localPort());
    return {};
}

void HbpMasterLink::stop() {
    for (const auto& [id, p] : peers_) {
        if (p.state == PeerState::Connected) {
            sendTo(p.ep, encodeHbp(hbpSimple(HbpType::Mstcl, id)));
        }
    }
    std::vector<Event> events;
    decoder_.endAll(std::nullopt, EndReason::LinkDown, events);
    data_rx_.clear(std::nullopt);
    emit(events);
    peers_.clear();
    updateConnected();
    closeSocket();
}

void HbpMasterLink::reply(const udp::endpoint& to, HbpType t, std::uint32_t id) {
    sendTo(to, encodeHbp(hbpSimple(t, id)));
}

void HbpMasterLink::updateConnected() {
    std::size_t n = 0;
    for (const auto& [id, p] : peers_) {
        n += p.state == PeerState::Connected ? 1 : 0;
    }
    connected_ = n;
    peers_gauge_.set(static_cast<double>(n));
}

void HbpMasterLink::removePeer(std::uint32_t id, EndReason reason) {
    peers_.erase(id);
    data_rx_.clear(id);  // its unfinished PDUs cannot complete any more
    std::vector<Event> events;
    decoder_.endAll(id, reason, events);
    emit(events);
    updateConnected();
}

void HbpMasterLink::onDatagram(ByteView d, const udp::endpoint& from) {
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
        if (it == peers_.end() || it->second.state != PeerState::Connected ||
            it->second.ep != from) {
            drop(endpointLabel(from), "not_logged_in");
            return;
        }
        it->second.last_heard = clock_.now();
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
    switch (m->type) {
        case HbpType::Rptl: {
            if (it == peers_.end() && peers_.size() >= cfg_.max_peers) {
                drop(endpointLabel(from), "too_many_peers");
                reply(from, HbpType::Mstnak, id);
                return;
            }
            if (it != peers_.end() && it->second.state == PeerState::Connected) {
                // A connected peer logging in again (restart): its calls end.
                std::vector<Event> events;
                decoder_.endAll(id, EndReason::LinkDown, events);
                emit(events);
            }
            Peer p;
            p.ep = from;
            p.last_heard = now;
            const std::uint32_t salt = static_cast<std::uint32_t>(rng_());
            p.salt = idBytes(salt);
            peers_[id] = p;
            updateConnected();
            HbpMessage ack;
            ack.type = HbpType::Rptack;
            ack.ack = p.salt;
            sendTo(from, encodeHbp(ack));
            return;
        }
        case HbpType::Rptk: {
            if (!known || it->second.state != PeerState::WaitKey) {
                drop(std::to_string(id), "unexpected_login");
                reply(from, HbpType::Mstnak, id);
                return;
            }
            const auto want = hbpLoginKey(it->second.salt, cfg_.password);
            if (CRYPTO_memcmp(want.data(), m->key.data(), want.size()) != 0) {
                metrics_
                    .counter("iwf_dmr_logins_total", "HBP logins by result",
                             {{"link", id_.name}, {"result", "bad_password"}})
                    .inc();
                drop(std::to_string(id), "bad_password");
                peers_.erase(it);
                reply(from, HbpType::Mstnak, id);
                return;
            }
            it->second.state = PeerState::WaitConfig;
            it->second.last_heard = now;
            reply(from, HbpType::Rptack, id);
            return;
        }
        case HbpType::Rptc: {
            if (!known || it->second.state != PeerState::WaitConfig) {
                drop(std::to_string(id), "unexpected_config");
                reply(from, HbpType::Mstnak, id);
                return;
            }
            it->second.state = PeerState::Connected;
            it->second.config = m->config;
            it->second.last_heard = now;
            updateConnected();
            metrics_
                .counter("iwf_dmr_logins_total", "HBP logins by result",
                         {{"link", id_.name}, {"result", "ok"}})
                .inc();
            log_->info("link={} peer={} login=ok callsign={} endpoint={}", id_.name, id,
                       m->config.callsign, endpointLabel(from));
            reply(from, HbpType::Rptack, id);
            return;
        }
        case HbpType::Rpto:
        case HbpType::Rptping:
            if (!known || it->second.state != PeerState::Connected) {
                // Not (or no longer) logged in: MSTNAK tells the peer to log in again.
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
        if (p.ep == from && p.state == PeerState::Connected) {
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
        if (peers_[id].state == PeerState::Connected) {
            timeouts_.inc();
            log_->warn("link={} peer={} timeout=ping action=drop", id_.name, id);
        }
        removePeer(id, EndReason::LinkDown);
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
            if (p.state != PeerState::Connected) {
                continue;
            }
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
                               {{"link", id_.name}})) {}

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
