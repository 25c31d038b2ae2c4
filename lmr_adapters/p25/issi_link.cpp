#include "lmr_adapters/p25/issi_link.hpp"

#include <algorithm>

#include <fmt/ranges.h>

#include "common/link_limits.hpp"
#include "lmr_adapters/p25/side_fields.hpp"

namespace iwf::lmr::p25 {

namespace {

using net::endpointName;

Talker talkerOf(const PttControlWord& w) {
    Talker t;
    t.id = P25Unit{P25System{w.wacn, w.system}, w.unit};
    return t;
}

PttControlWord wordOf(const Talker& t, const P25System& dflt) {
    PttControlWord w;
    w.wacn = dflt.wacn;
    w.system = dflt.system;
    if (const auto* u = std::get_if<P25Unit>(&t.id)) {
        w.wacn = u->sys.wacn;
        w.system = u->sys.system;
        w.unit = u->unit;
    }
    w.priority = 0x04;
    return w;
}

// The first connection heartbeat of a call: after `heartbeat` seconds, but never later than
// 10 s. NIST's serving RFSS (HeartbeatReceiver) tears the call down with a BYE when no
// heartbeat came within 4 x its own THEARTBEAT (10 s, TimerValues) of the session's start
// (GroupServing.heartbeatTimeout); after the first one it waits 4 x the interval we announce.
std::chrono::milliseconds firstHeartbeat(std::uint8_t heartbeat_s) {
    return std::chrono::seconds(std::min<int>(heartbeat_s, 10));
}

// ISSI side bytes of a VoiceFrame: FT, 2 status bytes, extra (as in the IMBE block).
bool isIssiSide(const VoiceFrame& f) {
    if (f.side.size() < 3) {
        return false;
    }
    ImbeBlock b;
    b.ft = f.side.data()[0];
    auto len = imbeBlockLength(b.ft);
    return len && b.index() == f.pos.index && f.side.size() == 3 + (*len - kImbeBlockBase);
}

}  // namespace

IssiLinkConfig IssiLinkConfig::fromConfig(const ConfigNode& n) {
    n.expectKeys({"name", "type", "address", "sip_port", "rtp_port", "wacn", "system", "rfss",
                  "groups", "peer", "peer_port", "auto_grant", "rtp_timeout", "heartbeat", "allow",
                  "rate_limit", "receive_buffer"});
    IssiLinkConfig c;
    c.name = n.getString("name");
    c.address = n.getIpAddress("address", "0.0.0.0");
    c.sip_port = static_cast<std::uint16_t>(n.getInt("sip_port", 0, 65535, 5060));
    c.rtp_port = static_cast<std::uint16_t>(n.getInt("rtp_port", 0, 65535, 25000));
    c.system.wacn = static_cast<std::uint32_t>(n.getInt("wacn", 0, 0xFFFFF));
    c.system.system = static_cast<std::uint16_t>(n.getInt("system", 0, 0xFFF));
    c.rfss = static_cast<std::uint8_t>(n.getInt("rfss", 0, 255, 1));
    for (const auto& g : n.optionalList("groups")) {
        c.groups.push_back(static_cast<std::uint16_t>(g.asInt(1, 0xFFFF)));
    }
    if (n.has("peer")) {
        c.peer_host = n.getIpAddress("peer");
    }
    c.peer_port = static_cast<std::uint16_t>(n.getInt("peer_port", 1, 65535, 5060));
    c.auto_grant = n.getBool("auto_grant", false);
    c.rtp_timeout = n.getDuration("rtp_timeout", std::chrono::milliseconds(4000));
    if (c.rtp_timeout.count() <= 0) {
        n.fail("rtp_timeout", "must be positive");
    }
    c.heartbeat_s = static_cast<std::uint8_t>(n.getInt("heartbeat", 0, 255, 30));
    std::vector<std::string> implied;
    if (c.peer_host) {
        implied.push_back(*c.peer_host);
    }
    c.allow = net::allowListFromConfig(n, c.address, implied);
    c.rate = net::rateLimitFromConfig(n, c.rate);
    c.receive_buffer = net::receiveBufferFromConfig(n, c.receive_buffer);
    return c;
}

IssiLink::IssiLink(IssiLinkConfig cfg, asio::io_context& io, metrics::Registry& metrics,
                   const Clock& clock)
    : UdpLink(cfg.name, io, metrics, clock, 8, 2048, "rtp"), cfg_(std::move(cfg)) {}

IssiLink::~IssiLink() {
    *alive_ = false;
    stop();
}

Status IssiLink::start(EventSink& sink) {
    if (running_) {
        return Error{"already_started"};
    }
    if (Status st = bindSocket(cfg_.address, cfg_.rtp_port, {}, cfg_.receive_buffer); !st) {
        return st;
    }
    sip::StackConfig sc;
    sc.name = cfg_.name;
    sc.listeners.push_back(
        sip::ListenerConfig{sip::Protocol::Udp, cfg_.address, cfg_.sip_port, {}});
    sc.user_agent = "OpenIWF ISSI";
    sc.send_gate = cfg_.send_gate;
    sip_ = std::make_unique<sip::Stack>(io_, metrics_, sc);
    sip_->onRequest([this](sip::ServerTxId tx, const sip::Message& m, const sip::Peer& from) {
        onSipRequest(tx, m, from);
    });
    // Only configured RFSSs are parsed at all: anything else (requests, responses, ACK,
    // CANCEL) is dropped before parsing, unanswered, and counted here as not_allowed.
    sip_->admitOnly([this](const sip::Peer& from) {
        if (cfg_.allow.allows(from.address)) {
            return true;
        }
        drop(addressLabel(from.address), "not_allowed");
        return false;
    });
    if (Status st = sip_->start(); !st) {
        closeSocket();
        sip_.reset();
        return st;
    }
    sink_ = &sink;
    running_ = true;
    log_->info("link={} issi sip_port={} rtp_port={} allow={}", cfg_.name, sipPort(), rtpPort(),
               fmt::join(cfg_.allow.entries(), ","));
    receiver_.start([this](const Endpoint& from, ByteView data) {
        if (running_) {
            onRtp(from, data);
        }
    });
    armTimer();
    return Status::success();
}

void IssiLink::stop() {
    if (!running_) {
        return;
    }
    running_ = false;
    std::vector<CallRef> refs;
    for (const auto& [ref, c] : calls_) {
        refs.push_back(ref);
    }
    for (auto ref : refs) {
        endCall(ref, EndReason::LinkDown, "link stopped");
    }
    closeSocket();
    if (sip_) {
        sip_->stop();
    }
}

LinkView IssiLink::view() const {
    LinkView v;
    const std::uint16_t sip = sipPort();
    v.state = sip != 0 ? "running" : "stopped";
    if (sip != 0) {
        v.local = fmt::format("{}:{} rtp {}", cfg_.address, sip, rtpPort());
    }
    const auto now = clock_.now();
    std::map<std::string, PeerView> by_address;
    for (const auto& [ref, c] : calls_) {
        if (!c.rtp_peer_known) {
            continue;
        }
        const std::string addr =
            fmt::format("{}:{}", c.rtp_peer.address().to_string(), c.rtp_peer.port());
        PeerView& pv = by_address[addr];
        pv.id = "rtp " + addr;
        pv.address = addr;
        pv.state = "in_call";
        if (c.inbound && c.last_rx != Clock::TimePoint{}) {
            const double s = std::chrono::duration<double>(now - c.last_rx).count();
            pv.last_seen_s = pv.last_seen_s ? std::min(*pv.last_seen_s, s) : s;
        }
    }
    if (cfg_.peer_host) {
        PeerView pv;
        pv.id = "peer";
        pv.address = fmt::format("{}:{}", *cfg_.peer_host, cfg_.peer_port);
        pv.state = "configured";
        v.peers.push_back(std::move(pv));
    }
    for (auto& [addr, pv] : by_address) {
        v.peers.push_back(std::move(pv));
    }
    return v;
}

std::uint16_t IssiLink::sipPort() const {
    return sip_ ? sip_->port(sip::Protocol::Udp) : 0;
}

std::uint16_t IssiLink::rtpPort() const {
    return boundPort();
}

void IssiLink::emit(Event&& e) {
    if (sink_ != nullptr) {
        sink_->onEvent(id_, std::move(e));
    }
}

void IssiLink::drop(const std::string& peer, std::string_view reason, std::int64_t detail) {
    drops_.drop(peer, reason, detail);
}

void IssiLink::deliverError(std::string_view reason) {
    metrics_
        .counter("iwf_lmr_deliver_errors_total", "events a LMR link could not carry",
                 {{"link", cfg_.name}, {"reason", std::string(reason)}})
        .inc();
}

std::string IssiLink::localSdp() const {
    IssiSdp sdp;
    sdp.address = cfg_.address == "0.0.0.0" ? sip_->host() : cfg_.address;
    sdp.port = rtpPort();
    sdp.imbe_pt = kIssiRtpPayloadType;
    sdp.session_id = static_cast<std::uint64_t>(clock_.wallNow().time_since_epoch().count());
    return buildIssiSdp(sdp);
}

Status IssiLink::reconfigure(const IssiLinkConfig& next, std::string& what) {
    std::vector<std::string> changed;
    std::size_t ended = 0;
    if (!(next.allow == cfg_.allow)) {
        changed.push_back("allow");
        cfg_.allow = next.allow;
        std::vector<CallRef> gone;
        for (const auto& [ref, c] : calls_) {
            if (c.dialog && !cfg_.allow.allows(c.dialog->peer().address)) {
                gone.push_back(ref);
            }
        }
        for (auto ref : gone) {
            if (GroupCall* c = findByRef(ref); c != nullptr && c->dialog) {
                auto bye = c->dialog->makeRequest("BYE");
                sip_->sendRequest(std::move(bye), c->dialog->peer(), [](const sip::Message&) {});
            }
            endCall(ref, EndReason::LinkDown, "RFSS no longer allowed (reload)");
            ++ended;
        }
    }
    if (next.rate.pps != cfg_.rate.pps || next.rate.burst != cfg_.rate.burst) {
        changed.push_back("rate_limit");
        cfg_.rate = next.rate;
        for (auto& [ref, c] : calls_) {
            c.gate = cfg_.rate.gate();
        }
    }
    what = changed.empty()
               ? "unchanged"
               : fmt::format("applied {} (calls ended: {})", fmt::join(changed, ","), ended);
    log_->info("link={} reload {} allow={}", cfg_.name, what, fmt::join(cfg_.allow.entries(), ","));
    return Status::success();
}

bool IssiLink::inDialog(const GroupCall& c, const sip::Message& req, const sip::Peer& from) {
    return c.dialog && sip::Dialog::idOfIncoming(req) == c.dialog->id() &&
           from.address == c.dialog->peer().address && from.protocol == c.dialog->peer().protocol;
}

void IssiLink::onSipRequest(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
    const std::string& m = req.method();
    if (m == "INVITE") {
        onInvite(tx, req, from);
    } else if (m == "BYE") {
        onBye(tx, req, from);
    } else if (m == "OPTIONS") {
        auto rsp = sip::makeResponse(req, 200, "OK", sip_->newTag());
        rsp.addHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS");
        rsp.addHeader("Accept", "application/sdp, application/x-tia-p25-issi, multipart/mixed");
        (void)sip_->respond(tx, std::move(rsp));
    } else {
        auto rsp = sip::makeResponse(req, 405, "Method Not Allowed", sip_->newTag());
        rsp.addHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS");
        (void)sip_->respond(tx, std::move(rsp));
    }
}

void IssiLink::onInvite(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
    const std::string call_id = req.callId();
    auto group = parseIssiGroupUri(req.requestUri());
    if (!group) {
        if (auto to = req.header("To")) {
            if (auto na = sip::parseNameAddr(*to)) {
                group = parseIssiGroupUri(na->uri);
            }
        }
    }
    auto reject = [&](int status, std::string_view reason, std::string_view why) {
        drop(addressLabel(from.address), why);
        (void)sip_->respond(tx, sip::makeResponse(req, status, reason, sip_->newTag()));
    };
    // A re-INVITE (known Call-ID or a To tag) must come from the dialog's peer, with its tags:
    // anything else would move the call's media to an address of the sender's choosing.
    if (auto known = by_call_id_.find(call_id); known != by_call_id_.end()) {
        const GroupCall* c = findByRef(known->second);
        if (c == nullptr || !inDialog(*c, req, from)) {
            return reject(403, "Forbidden", "not_in_dialog");
        }
    } else if (!req.toTag().empty()) {
        return reject(481, "Call/Transaction Does Not Exist", "no_such_dialog");
    } else if (draining_) {
        // RFC 3261 21.5.4: the serving RFSS may try another home or come back later.
        drop(addressLabel(from.address), "draining");
        auto rsp = sip::makeResponse(req, 503, "Service Unavailable", sip_->newTag());
        rsp.addHeader("Retry-After", "30");
        (void)sip_->respond(tx, std::move(rsp));
        return;
    }
    if (!group) {
        return reject(404, "Not Found", "not_a_group_uri");
    }
    if (!cfg_.groups.empty() &&
        std::find(cfg_.groups.begin(), cfg_.groups.end(), group->tgid) == cfg_.groups.end()) {
        return reject(404, "Not Found", "not_home_group");
    }
    auto body = parseIssiBody(req.header("Content-Type").value_or("application/sdp"), req.body());
    if (!body || !body->sdp) {
        return reject(488, "Not Acceptable Here", body ? "sdp_missing" : body.error().reason);
    }
    if (!body->sdp->imbe_pt) {
        return reject(488, "Not Acceptable Here", "no_imbe_payload");
    }
    boost::system::error_code ec;
    auto rtp_addr = asio::ip::make_address(body->sdp->address, ec);
    if (ec) {
        return reject(488, "Not Acceptable Here", "sdp_bad_address");
    }
    if (!cfg_.allow.allows(rtp_addr)) {
        // Media goes to configured RFSSs only, never to an address a request names.
        return reject(488, "Not Acceptable Here", "sdp_address_not_allowed");
    }
    if (auto it = by_call_id_.find(call_id); it != by_call_id_.end()) {
        // re-INVITE: refresh the media address, answer again.
        if (GroupCall* c = findByRef(it->second)) {
            c->rtp_peer = Endpoint(rtp_addr, body->sdp->port);
        }
    }
    const std::string tag = sip_->newTag();
    auto rsp = sip::makeResponse(req, 200, "OK", tag);
    rsp.addHeader("Contact",
                  "<" + sip_->contactUri(issiGroupUri(*group).substr(4, 12), sip::Protocol::Udp) +
                      ";user=TIA-P25-SG>");
    rsp.addHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS");
    if (body->params) {
        IssiCallParams answer;
        answer.protected_mode = body->params->protected_mode;
        answer.confirmed_group_call = body->params->confirmed_group_call;
        if (answer.confirmed_group_call.value_or(false)) {
            answer.resource_available = true;
        }
        std::string ct;
        std::string mp =
            buildMultipart({{"application/sdp", localSdp()},
                            {std::string(kIssiContentType), buildIssiCallParams(answer)}},
                           kIssiBodyBoundary, ct);
        rsp.setBody(std::move(mp), ct);
    } else {
        rsp.setBody(localSdp(), "application/sdp");
    }
    if (by_call_id_.count(call_id)) {
        (void)sip_->respond(tx, std::move(rsp));
        return;
    }
    GroupCall c;
    c.ref = next_ref_++;
    c.group = *group;
    c.inbound = true;
    c.dialog = sip::Dialog::asUas(req, tag, from);
    c.rtp_peer = Endpoint(rtp_addr, body->sdp->port);
    c.rtp_peer_known = true;
    c.gate = cfg_.rate.gate();
    c.last_rx = clock_.now();
    c.next_heartbeat = c.last_rx + firstHeartbeat(cfg_.heartbeat_s);
    c.protected_call = body->params && body->params->protected_mode.value_or(false);
    drops_.admitPeer(addressLabel(from.address));
    const CallRef ref = c.ref;
    calls_.emplace(ref, std::move(c));
    by_call_id_[call_id] = ref;
    (void)sip_->respond(tx, std::move(rsp));
    CallSetup s;
    s.call = ref;
    s.callee = *group;
    s.kind = CallKind::Group;
    s.codec = VoiceCodec::ImbeFullRate;
    if (calls_[ref].protected_call) {
        // c-protected: encrypted, ALGID/KID/MI come with the stream.
        s.crypto = CryptoSync::lateEntry(LmrFamily::P25);
    }
    log_->info("link={} call={} group={} inbound from={} protected={}", cfg_.name, ref,
               toString(Address(*group)), from.toString(), calls_[ref].protected_call);
    emit(std::move(s));
}

void IssiLink::onBye(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
    auto it = by_call_id_.find(req.callId());
    const GroupCall* c = it == by_call_id_.end() ? nullptr : findByRef(it->second);
    if (c == nullptr || !inDialog(*c, req, from)) {
        // RFC 3261 §12.2.2: a request that matches no dialog (Call-ID, tags) gets 481; the
        // source must be the dialog's peer too, or anyone who saw a Call-ID could end a call.
        if (c != nullptr) {
            drop(addressLabel(from.address), "bye_not_in_dialog");
        }
        (void)sip_->respond(tx, sip::makeResponse(req, 481, "Call/Transaction Does Not Exist"));
        return;
    }
    const CallRef ref = it->second;
    (void)sip_->respond(tx, sip::makeResponse(req, 200, "OK"));
    endCall(ref, EndReason::Normal, "BYE");
}

IssiLink::GroupCall* IssiLink::findByRef(CallRef ref) {
    auto it = calls_.find(ref);
    return it == calls_.end() ? nullptr : &it->second;
}

IssiLink::GroupCall* IssiLink::findByRtp(const Endpoint& from) {
    GroupCall* by_addr = nullptr;
    for (auto& [ref, c] : calls_) {
        if (!c.rtp_peer_known) {
            continue;
        }
        if (c.rtp_peer == from) {
            return &c;
        }
        if (c.rtp_peer.address() == from.address() && by_addr == nullptr) {
            by_addr = &c;
        }
    }
    return by_addr;
}

void IssiLink::endCall(CallRef ref, EndReason reason, std::string detail) {
    auto it = calls_.find(ref);
    if (it == calls_.end()) {
        return;
    }
    GroupCall& c = it->second;
    if (c.transmitting && c.talker) {
        emit(FloorRelease{ref, talkerOf(*c.talker)});
    }
    if (c.dialog) {
        by_call_id_.erase(c.dialog->callId());
    }
    log_->info("link={} call={} end reason={} {}", cfg_.name, ref, toString(reason), detail);
    calls_.erase(it);
    emit(CallEnd{ref, reason, std::move(detail)});
}

void IssiLink::onRtp(const Endpoint& from, ByteView data) {
    if (!cfg_.allow.allows(from.address())) {
        drop(addressLabel(from.address()), "not_allowed");
        return;
    }
    const std::string peer = addressLabel(from.address());
    auto pkt = decodeIssiPacket(data);
    if (!pkt) {
        drop(peer, pkt.error().reason, pkt.error().detail);
        return;
    }
    if (pkt->rtp.payload_type != kIssiRtpPayloadType) {
        drop(peer, "bad_payload_type", pkt->rtp.payload_type);
        return;
    }
    GroupCall* c = findByRtp(from);
    if (c == nullptr) {
        drop(peer, "unknown_stream");
        return;
    }
    const auto now = clock_.now();
    if (!c->gate.take(toNs(now))) {
        drop(peer, "rate_limited");
        return;
    }
    c->last_rx = now;
    onIssiPacket(*c, *pkt);
}

void IssiLink::onIssiPacket(GroupCall& c, const IssiPacket& p) {
    const PacketTypeBlock* pt = p.payload.packetType();
    if (pt == nullptr) {
        drop(addressLabel(c.rtp_peer.address()), "no_packet_type");
        return;
    }
    const PttControlWord* word = p.payload.pttControl();
    const auto kind = static_cast<IssiPacketKind>(pt->type);
    switch (kind) {
        case IssiPacketKind::HeartbeatQuery:
            // Connection heartbeats carry TSN 0: NIST's PttSession.handleIncomingPttPacket
            // hands only a TSN-0 HEARTBEAT to its HeartbeatReceiver (any other TSN is a mute
            // heartbeat), and only that resets the connection timer.
            sendPacketType(c, IssiPacketKind::Heartbeat, nullptr, 0);
            return;
        case IssiPacketKind::Heartbeat:
        case IssiPacketKind::Mute:
        case IssiPacketKind::Unmute:
            return;
        case IssiPacketKind::PttRequest:
        case IssiPacketKind::PttStart: {
            if (word == nullptr) {
                drop(addressLabel(c.rtp_peer.address()), "ptt_without_control_word");
                return;
            }
            c.talker = *word;
            c.rx_tsn = pt->tsn;
            c.tracker = CryptoTracker{};
            c.transmitting = true;
            c.rx_seq = 0;
            FloorRequest fr;
            fr.call = c.ref;
            fr.who = talkerOf(*word);
            if (pt->service_options & kSvcEmergency) {
                fr.priority = CallPriority::Emergency;
            }
            emit(std::move(fr));
            if (cfg_.auto_grant) {
                sendPacketType(c, IssiPacketKind::PttGrant, word, c.rx_tsn);
            }
            break;
        }
        case IssiPacketKind::PttEnd:
            if (c.transmitting) {
                c.transmitting = false;
                emit(FloorRelease{c.ref, c.talker ? talkerOf(*c.talker) : Talker{}});
            }
            return;
        default:
            break;
    }
    if (kind != IssiPacketKind::PttProgress && kind != IssiPacketKind::PttStart &&
        kind != IssiPacketKind::PttRequest) {
        return;
    }
    if (!c.transmitting) {
        // Joined mid-transmission: the talker has the floor already.
        c.transmitting = true;
        c.tracker = CryptoTracker{};
        c.rx_seq = 0;
        if (word) {
            c.talker = *word;
        }
        emit(FloorTaken{c.ref, c.talker ? talkerOf(*c.talker) : Talker{}});
    }
    c.tracker.onServiceOptions(pt->service_options);
    if (const HeaderWord* hw = p.payload.headerWord()) {
        c.tracker.onHeader(CryptoTracker::essOf(hw->algid, hw->kid, hw->mi));
    }
    for (const auto& b : p.payload.blocks) {
        const auto* v = std::get_if<ImbeBlock>(&b.body);
        if (v == nullptr) {
            continue;
        }
        auto idx = v->index();
        if (!idx) {
            drop(addressLabel(c.rtp_peer.address()), "bad_frame_type", v->ft);
            continue;
        }
        const FramePosition pos = c.tracker.onFrame(*idx);
        if (*idx >= 11 && *idx <= 14 && v->extra.size() >= 3) {
            c.tracker.onEsFragment(*idx,
                                   {v->extra.data()[0], v->extra.data()[1], v->extra.data()[2]});
        }
        VoiceFrame f;
        f.codec = VoiceCodec::ImbeFullRate;
        f.pos = pos;
        f.crypto = c.tracker.current();
        f.payload.assign(ByteView(v->imbe.data(), v->imbe.size()));
        std::array<std::uint8_t, 16> side{};
        side[0] = v->ft;
        side[1] = v->status[0];
        side[2] = v->status[1];
        std::copy(v->extra.data(), v->extra.data() + v->extra.size(), side.begin() + 3);
        f.side.assign(ByteView(side.data(), 3 + v->extra.size()));
        f.seq = c.rx_seq++;
        f.rx_ns = toNs(clock_.now());
        emit(Voice{c.ref, f});
    }
}

void IssiLink::sendIssi(GroupCall& c, IssiPayload payload) {
    if (!c.rtp_peer_known) {
        deliverError("no_media_address");
        return;
    }
    IssiPacket p;
    p.rtp.payload_type = kIssiRtpPayloadType;
    p.rtp.seq = c.tx_seq++;
    p.rtp.timestamp = c.tx_ts;
    p.rtp.ssrc = 1;  // group call, home -> serving
    p.payload = std::move(payload);
    Bytes out;
    if (!encodeIssiPacket(p, out)) {
        deliverError("encode_failed");
        return;
    }
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(out), c.rtp_peer, 0, ec);
    if (ec) {
        deliverError("send_failed");
    }
}

void IssiLink::sendPacketType(GroupCall& c, IssiPacketKind kind, const PttControlWord* word,
                              std::uint8_t tsn) {
    IssiPayload pl;
    pl.signal = kind != IssiPacketKind::Heartbeat;
    PacketTypeBlock t;
    t.type = static_cast<std::uint8_t>(kind);
    t.tsn = tsn;
    t.heartbeat = cfg_.heartbeat_s;
    pl.blocks.push_back(IssiBlock{true, static_cast<std::uint8_t>(BlockType::PacketType), 0, t});
    if (word != nullptr) {
        pl.blocks.push_back(
            IssiBlock{true, static_cast<std::uint8_t>(BlockType::PttControl), 0, *word});
    }
    sendIssi(c, std::move(pl));
}

Status IssiLink::deliver(const Event& event) {
    if (!running_) {
        return Error{"not_started"};
    }
    if (!std::holds_alternative<CallSetup>(event) && !std::holds_alternative<Voice>(event) &&
        !std::holds_alternative<CallEnd>(event) && !std::holds_alternative<FloorRequest>(event) &&
        !std::holds_alternative<FloorGranted>(event) && !std::holds_alternative<FloorDeny>(event) &&
        !std::holds_alternative<FloorRelease>(event)) {
        return Error{"unsupported_event"};
    }
    if (const auto* v = std::get_if<Voice>(&event)) {
        if (v->frame.codec != VoiceCodec::ImbeFullRate) {
            return Error{"bad_codec"};
        }
        if (v->frame.payload.size() != kImbeBytes) {
            return Error{"bad_payload_size", static_cast<std::int64_t>(v->frame.payload.size())};
        }
    }
    if (const auto* s = std::get_if<CallSetup>(&event)) {
        if (!std::holds_alternative<P25Group>(s->callee)) {
            return Error{"not_a_p25_group"};
        }
        if (!cfg_.peer_host) {
            return Error{"no_peer_configured"};
        }
    }
    std::weak_ptr<bool> alive = alive_;
    asio::post(io_, [this, alive, e = event] {
        if (!alive.expired() && running_) {
            doDeliver(e);
        }
    });
    return Status::success();
}

void IssiLink::doDeliver(const Event& e) {
    if (const auto* s = std::get_if<CallSetup>(&e)) {
        originate(*s);
        return;
    }
    CallRef ref = std::visit(
        [](const auto& ev) -> CallRef {
            if constexpr (requires { ev.call; }) {
                return ev.call;
            } else {
                return 0;
            }
        },
        e);
    GroupCall* c = findByRef(ref);
    if (c == nullptr) {
        deliverError("unknown_call");
        return;
    }
    if (const auto* v = std::get_if<Voice>(&e)) {
        sendVoice(*c, v->frame);
    } else if (const auto* g = std::get_if<FloorGranted>(&e)) {
        // The answer carries the TSN of the request it answers: NIST's serving side
        // (PttSession.verifyPttPacket, SMF) drops a Grant/Deny whose TSN is none of its own.
        PttControlWord w = c->talker ? *c->talker : wordOf(g->who, cfg_.system);
        sendPacketType(*c, IssiPacketKind::PttGrant, &w, c->rx_tsn);
    } else if (const auto* d = std::get_if<FloorDeny>(&e)) {
        PttControlWord w = c->talker ? *c->talker : wordOf(d->who, cfg_.system);
        sendPacketType(*c, IssiPacketKind::PttDeny, &w, c->rx_tsn);
    } else if (const auto* r = std::get_if<FloorRequest>(&e)) {
        c->tx_word = wordOf(r->who, cfg_.system);
        c->tx_header_sent = false;
        // Home-side TSNs are odd (NIST PttManager.getNewTsn: lastGroupHomeTSN starts at -1
        // and steps by 2); a serving RFSS drops Start/Progress/End with an even TSN
        // (PttSession.verifyPttPacket, SMF). 0 belongs to connection heartbeats.
        c->tsn = static_cast<std::uint8_t>(c->tsn == 0 ? 1 : (c->tsn + 2) & 0x7F);
        sendPacketType(*c, IssiPacketKind::PttRequest, &c->tx_word, c->tsn);
    } else if (std::holds_alternative<FloorRelease>(e)) {
        sendPacketType(*c, IssiPacketKind::PttEnd, &c->tx_word, c->tsn);
        c->tx_header_sent = false;
    } else if (std::holds_alternative<CallEnd>(e)) {
        if (c->dialog) {
            auto bye = c->dialog->makeRequest("BYE");
            sip_->sendRequest(std::move(bye), c->dialog->peer(), [](const sip::Message&) {});
            by_call_id_.erase(c->dialog->callId());
        }
        calls_.erase(ref);
    }
}

void IssiLink::sendVoice(GroupCall& c, const VoiceFrame& f) {
    IssiPayload pl;
    pl.signal = true;
    PacketTypeBlock t;
    t.type = static_cast<std::uint8_t>(IssiPacketKind::PttProgress);
    t.tsn = c.tsn;
    t.service_options = static_cast<std::uint8_t>(0x04 | (f.crypto.encrypted ? kSvcEncrypted : 0));
    pl.blocks.push_back(IssiBlock{true, static_cast<std::uint8_t>(BlockType::PacketType), 0, t});
    pl.blocks.push_back(
        IssiBlock{true, static_cast<std::uint8_t>(BlockType::PttControl), 0, c.tx_word});
    if (!c.tx_header_sent && (!f.crypto.encrypted || f.crypto.mi.size() == kMiBytes)) {
        HeaderWord hw;
        hw.algid = static_cast<std::uint8_t>(f.crypto.encrypted ? f.crypto.algid : kP25AlgidClear);
        hw.kid = static_cast<std::uint16_t>(f.crypto.key_id);
        std::copy_n(f.crypto.mi.data(), std::min(f.crypto.mi.size(), kMiBytes), hw.mi.begin());
        hw.group = c.group.tgid;
        pl.blocks.push_back(
            IssiBlock{true, static_cast<std::uint8_t>(BlockType::HeaderWord), 0, hw});
        c.tx_header_sent = true;
    }
    ImbeBlock v;
    std::copy_n(f.payload.data(), kImbeBytes, v.imbe.begin());
    if (isIssiSide(f)) {
        v.ft = f.side.data()[0];
        v.status = {f.side.data()[1], f.side.data()[2]};
        v.extra.assign(f.side.view().subspan(3));
    } else {
        const std::uint8_t i = f.pos.index;
        v.ft = issiFrameType(i);
        const std::size_t extra = *imbeBlockLength(v.ft) - kImbeBlockBase;
        std::array<std::uint8_t, 8> x{};
        const bool records_side = f.side.size() == sideBytesForIndex(i);
        if (i >= 11 && i <= 14) {
            auto es = records_side ? std::array<std::uint8_t, 3>{f.side.data()[0], f.side.data()[1],
                                                                 f.side.data()[2]}
                                   : esBytesFor(i, f.crypto);
            std::copy(es.begin(), es.end(), x.begin());
        } else if ((i == 8 || i == 17) && records_side) {
            x[0] = f.side.data()[0];  // LSD pair
            x[1] = f.side.data()[1];
        }
        v.extra.assign(ByteView(x.data(), extra));
    }
    pl.blocks.push_back(IssiBlock{true, static_cast<std::uint8_t>(BlockType::ImbeVoice), 0, v});
    sendIssi(c, std::move(pl));
    c.tx_ts += 160;
}

void IssiLink::originate(const CallSetup& s) {
    const auto& group = std::get<P25Group>(s.callee);
    boost::system::error_code ec;
    sip::Peer peer;
    peer.protocol = sip::Protocol::Udp;
    peer.address = asio::ip::make_address(*cfg_.peer_host, ec);
    peer.port = cfg_.peer_port;
    const std::string uri = issiGroupUri(group);
    auto req = sip::Message::request("INVITE", uri);
    const std::string tag = sip_->newTag();
    req.addHeader("From", "<" + uri + ">;tag=" + tag);
    req.addHeader("To", "<" + uri + ">");
    req.addHeader("Call-ID", sip_->newCallId());
    req.addHeader("CSeq", "1 INVITE");
    req.addHeader("Contact", "<" + sip_->contactUri(uri.substr(4, 12), sip::Protocol::Udp) +
                                 ";user=TIA-P25-SG>");
    req.addHeader("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS");
    req.addHeader("Accept", "application/sdp, application/x-tia-p25-issi, multipart/mixed");
    IssiCallParams params;
    params.protected_mode = s.crypto && s.crypto->encrypted;
    params.confirmed_group_call = false;
    std::string ct;
    std::string body =
        buildMultipart({{"application/sdp", localSdp()},
                        {std::string(kIssiContentType), buildIssiCallParams(params)}},
                       kIssiBodyBoundary, ct);
    req.setBody(std::move(body), ct);

    GroupCall c;
    c.ref = s.call;
    c.group = group;
    c.inbound = false;
    c.protected_call = params.protected_mode.value_or(false);
    c.tx_word = wordOf(s.caller, cfg_.system);
    c.gate = cfg_.rate.gate();
    c.last_rx = clock_.now();
    c.next_heartbeat = c.last_rx + firstHeartbeat(cfg_.heartbeat_s);
    calls_[c.ref] = std::move(c);
    const CallRef ref = s.call;
    sip::Message sent = req;
    std::weak_ptr<bool> alive = alive_;
    sip_->sendRequest(
        std::move(req), peer, [this, alive, ref, sent, peer](const sip::Message& rsp) {
            if (alive.expired()) {
                return;
            }
            GroupCall* call = findByRef(ref);
            if (call == nullptr || rsp.status() < 200) {
                return;
            }
            if (rsp.status() >= 300) {
                deliverError("invite_refused");
                endCall(ref, EndReason::Refused, std::to_string(rsp.status()) + " " + rsp.reason());
                return;
            }
            call->dialog = sip::Dialog::asUac(sent, rsp, peer);
            by_call_id_[call->dialog->callId()] = ref;
            sip_->sendAck(call->dialog->makeAck(sent.cseqNumber()), peer);
            auto b =
                parseIssiBody(rsp.header("Content-Type").value_or("application/sdp"), rsp.body());
            boost::system::error_code e2;
            if (b && b->sdp) {
                auto a = asio::ip::make_address(b->sdp->address, e2);
                if (!e2 && !cfg_.allow.allows(a)) {
                    deliverError("sdp_address_not_allowed");
                } else if (!e2) {
                    call->rtp_peer = Endpoint(a, b->sdp->port);
                    call->rtp_peer_known = true;
                }
            }
            if (!call->rtp_peer_known) {
                deliverError("answer_without_sdp");
            }
        });
}

// Connection maintenance (TIA-102.BACA §7.6.10 as NIST's HeartbeatTransmitter does it): a
// Heartbeat with TSN 0 and our interval every `heartbeat` seconds on every call whose media
// address is known, whether anyone talks or not. heartbeat: 0 sends none.
void IssiLink::sendHeartbeats(Clock::TimePoint now) {
    if (cfg_.heartbeat_s == 0) {
        return;
    }
    for (auto& [ref, c] : calls_) {
        if (c.rtp_peer_known && now >= c.next_heartbeat) {
            sendPacketType(c, IssiPacketKind::Heartbeat, nullptr, 0);
            c.next_heartbeat = now + std::chrono::seconds(cfg_.heartbeat_s);
        }
    }
}

void IssiLink::armTimer() {
    timer_.expires_after(std::max(std::chrono::milliseconds(20), cfg_.rtp_timeout / 4));
    std::weak_ptr<bool> alive = alive_;
    timer_.async_wait([this, alive](boost::system::error_code ec) {
        if (ec || alive.expired() || !running_) {
            return;
        }
        const auto now = clock_.now();
        std::vector<CallRef> stale;
        for (const auto& [ref, c] : calls_) {
            if (c.inbound && c.transmitting && now - c.last_rx > cfg_.rtp_timeout) {
                stale.push_back(ref);
            }
        }
        for (auto ref : stale) {
            endCall(ref, EndReason::Timeout, "RTP inactivity");
        }
        sendHeartbeats(now);
        armTimer();
    });
}

}  // namespace iwf::lmr::p25
