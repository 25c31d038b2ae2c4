#include "mc_adapters/mcptt/mcptt_link.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "mc_adapters/mcptt/ims_headers.hpp"

namespace iwf::mc::mcptt {

namespace {

std::string uriOf(const Address& a) {
    if (const auto* u = std::get_if<McId>(&a)) {
        return u->uri;
    }
    if (const auto* g = std::get_if<McGroupId>(&a)) {
        return g->uri;
    }
    return {};
}

std::string angle(const std::string& uri) {
    return "<" + uri + ">";
}

std::string stripAngle(std::string_view v) {
    auto na = sip::parseNameAddr(v);
    return na ? na->uri : std::string(v);
}

CallPriority priorityOf(const McpttInfo& info) {
    if (info.emergency.value_or(false)) {
        return CallPriority::Emergency;
    }
    if (info.imminent_peril.value_or(false)) {
        return CallPriority::ImminentPeril;
    }
    return CallPriority::Normal;
}

// The indication an INVITE carries for `p` (the inverse of priorityOf): emergency-ind or
// imminentperil-ind true, neither for a normal call.
void setIndication(McpttInfo& info, CallPriority p) {
    info.emergency.reset();
    info.imminent_peril.reset();
    if (p == CallPriority::Emergency) {
        info.emergency = true;
    } else if (p == CallPriority::ImminentPeril) {
        info.imminent_peril = true;
    }
}

}  // namespace

struct McpttLink::Call {
    CallRef ref = 0;
    CallKind kind = CallKind::Group;
    CallPriority priority = CallPriority::Normal;
    bool broadcast = false;
    bool floor_control = true;
    bool outgoing = false;
    bool e2ee = false;
    std::string session_type;
    std::string target;  // group ID or called MCPTT ID
    std::string caller;  // calling MCPTT ID
    std::optional<EncryptionInfo> encryption;
    std::optional<sip::Dialog> dialog;
    // The peer's INVITE while we have not answered it (incoming calls; outgoing calls keep
    // none): an established call keeps only its dialog (idle-call memory, docs/perf/mc-path.md).
    sip::Message invite;
    sip::ClientTxId invite_tx = 0;
    bool queued = false;    // outgoing: waiting for an INVITE slot (max_outstanding_invites)
    McpttInfo queued_info;  // while queued: to rebuild the INVITE on a priority change
    sip::ServerTxId server_tx = 0;     // incoming INVITE awaiting its final response
    sip::ServerTxId invite_tx_in = 0;  // the initial incoming INVITE (key in by_server_tx_)
    bool established = false;
    bool ending = false;
    McpttMedia remote;
    std::uint64_t sdp_version = 1;
    // Media (docs/protocols/iwf-1-media.md): our sockets, the peer's ports once known.
    std::unique_ptr<rtp::VoiceEndpoint> voice;
    std::unique_ptr<rtp::FloorEndpoint> floor;
    floor::FloorMapping floor_map;
    bool media_ready = false;  // the peer's media address is known (its SDP arrived)
    bool talk_start = true;    // the next voice frame starts a talk spurt (RTP marker)
    // Voice / floor events held until media_ready, in order; emptied (and freed) on flush. A
    // vector: a std::list (one 224-byte node per event) measured ~4.5 KB more RSS per call
    // after a burst of setups than the vector's few large blocks (docs/perf/mc-path.md).
    std::vector<Event> pending;
};

McpttLink::McpttLink(asio::io_context& io, metrics::Registry& metrics, McpttLinkConfig cfg,
                     const Clock& clock)
    : io_(io), metrics_(metrics), cfg_(std::move(cfg)), clock_(clock) {
    id_ = LinkId{Side::Mc, cfg_.name};
    const metrics::Labels l{{"link", cfg_.name}};
    invites_queued_ = &metrics_.counter(
        "iwf_mcptt_invites_queued_total",
        "Outgoing calls that waited for an INVITE slot (max_outstanding_invites)", l);
    queue_depth_ = &metrics_.gauge("iwf_mcptt_invite_queue_depth",
                                   "Outgoing calls waiting for an INVITE slot now", l);
    outstanding_gauge_ = &metrics_.gauge("iwf_mcptt_invites_outstanding",
                                         "Initial INVITEs sent and not finally answered yet", l);
}

McpttLink::~McpttLink() {
    // Whoever received our events may already be gone (it usually outlives a started link,
    // which it stops first): a destructor ends the calls without reporting them.
    sink_ = nullptr;
    stop();
    *alive_ = false;
    retired_voice_.clear();
    retired_floor_.clear();
}

std::uint16_t McpttLink::audioPort(CallRef call) const {
    auto it = calls_.find(call);
    return it != calls_.end() && it->second->voice ? it->second->voice->localEndpoint().port() : 0;
}

std::uint16_t McpttLink::floorPort(CallRef call) const {
    auto it = calls_.find(call);
    return it != calls_.end() && it->second->floor ? it->second->floor->localEndpoint().port() : 0;
}

void McpttLink::dropMedia(std::string_view reason, std::uint64_t n) {
    if (n == 0) {
        return;
    }
    metrics_
        .counter("iwf_mcptt_media_dropped_total",
                 "Voice frames and floor events the IWF-1 link could not send, by reason",
                 {{"link", cfg_.name}, {"reason", std::string(reason)}})
        .inc(n);
}

Status McpttLink::openMedia(Call& call) {
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(cfg_.media.address, ec);
    if (ec) {
        return Error{"bad_media_address"};
    }
    rtp::VoiceEndpointConfig vc;
    vc.payload_type = cfg_.media.payload_type;
    vc.ssrc = static_cast<std::uint32_t>(rng_());
    vc.initial_sequence = static_cast<std::uint16_t>(rng_());
    vc.timestamp_base = static_cast<std::uint32_t>(rng_());
    call.voice = std::make_unique<rtp::VoiceEndpoint>(io_, metrics_, clock_, cfg_.name, vc);
    if (call.floor_control) {
        call.floor = std::make_unique<rtp::FloorEndpoint>(io_, metrics_, cfg_.name);
        call.floor_map.ssrc = static_cast<std::uint32_t>(rng_());
        call.floor_map.normal_priority = static_cast<std::uint8_t>(cfg_.floor_priority);
        call.floor_map.call_indicator =
            call.broadcast ? floor::indicator::kBroadcastGroupCall : floor::indicator::kNormalCall;
    }
    auto bindPair = [&](std::uint16_t audio, std::uint16_t fl) -> bool {
        if (!call.voice->open({addr, audio}).ok()) {
            return false;
        }
        if (call.floor && !call.floor->open({addr, fl}).ok()) {
            call.voice->close();
            return false;
        }
        return true;
    };
    bool bound = false;
    if (cfg_.port_range.first == 0) {
        bound = bindPair(0, 0);
    } else {
        // Audio on an even port P, floor control on P + 1 (docs/protocols/iwf-1-media.md).
        const std::uint32_t pairs = (cfg_.port_range.last - cfg_.port_range.first + 1U) / 2U;
        for (std::uint32_t i = 0; i < pairs && !bound; ++i) {
            const std::uint32_t k = (port_cursor_ + i) % pairs;
            const auto audio = static_cast<std::uint16_t>(cfg_.port_range.first + 2U * k);
            if (bindPair(audio, static_cast<std::uint16_t>(audio + 1U))) {
                bound = true;
                port_cursor_ = (k + 1U) % pairs;
            }
        }
    }
    if (!bound) {
        call.voice.reset();
        call.floor.reset();
        count("iwf_mcptt_refused_total", "no_media_port");
        return Error{"no_media_port"};
    }
    const CallRef ref = call.ref;
    call.voice->onFrame([this, ref](VoiceFrame&& f, const rtp::RtpView&) {
        if (calls_.count(ref) == 0) {
            return;  // the call ended while this datagram was being handled
        }
        report(Voice{ref, std::move(f)});
    });
    if (call.floor) {
        call.floor->onMessage([this, ref](const floor::FloorMessage& m, const rtp::Udp::endpoint&) {
            onFloorMessage(ref, m);
        });
    }
    return {};
}

Status McpttLink::setRemoteMedia(Call& call, const McpttMedia& remote,
                                 const asio::ip::address& sig) {
    boost::system::error_code ec;
    asio::ip::address addr = asio::ip::make_address(remote.address, ec);
    if (ec || addr.is_unspecified()) {
        addr = sig;  // no usable c= address: the peer's signalling address
    }
    if (remote.audio_port == 0) {
        return Error{"no_audio_port"};
    }
    call.remote = remote;
    if (call.voice) {
        call.voice->setRemote({addr, remote.audio_port});
    }
    if (call.floor) {
        if (remote.floor && remote.floor_port != 0) {
            call.floor->setRemote({addr, remote.floor_port});
        }
    }
    call.media_ready = true;
    return {};
}

void McpttLink::flushPending(Call& call) {
    std::vector<Event> pending;
    pending.swap(call.pending);
    const CallRef ref = call.ref;
    for (const Event& e : pending) {
        auto it = calls_.find(ref);
        if (it == calls_.end()) {
            return;
        }
        if (const auto* v = std::get_if<Voice>(&e)) {
            (void)sendVoice(*it->second, v->frame);
        } else {
            (void)sendFloor(*it->second, e);
        }
    }
}

Status McpttLink::sendVoice(Call& call, const VoiceFrame& f) {
    if (!call.voice) {
        dropMedia("no_media");
        return Error{"no_media"};
    }
    if (!call.media_ready) {
        if (call.pending.size() >= kMaxPendingMedia) {
            dropMedia("pending_overflow");
            return Error{"pending_overflow"};
        }
        call.pending.emplace_back(Voice{call.ref, f});
        return {};
    }
    const bool marker = call.talk_start;
    Status st = call.voice->send(f, marker);
    if (!st) {
        dropMedia(st.error().reason);
        return st;
    }
    call.talk_start = false;
    return {};
}

Status McpttLink::sendFloor(Call& call, const Event& e) {
    if (std::holds_alternative<FloorTaken>(e) || std::holds_alternative<FloorGranted>(e) ||
        std::holds_alternative<FloorIdle>(e) || std::holds_alternative<FloorRelease>(e) ||
        std::holds_alternative<FloorRevoke>(e)) {
        call.talk_start = true;  // a new talk spurt follows
    }
    if (!call.floor) {
        dropMedia("no_floor_control");
        return Error{"no_floor_control"};
    }
    if (!call.media_ready) {
        if (call.pending.size() >= kMaxPendingMedia) {
            dropMedia("pending_overflow");
            return Error{"pending_overflow"};
        }
        call.pending.push_back(e);
        return {};
    }
    auto m = floor::toMessage(e, call.floor_map);
    if (!m) {
        dropMedia(m.error().reason);
        return m.error();
    }
    if (call.priority == CallPriority::Emergency && m->type != floor::MessageType::FloorRequest) {
        // The floor indicator of an emergency call says so in every message that carries it.
        for (auto& f : m->fields) {
            if (auto* fi = std::get_if<floor::FloorIndicator>(&f)) {
                fi->bits |= floor::indicator::kEmergencyCall;
            }
        }
    }
    Status st = call.floor->send(*m);
    if (!st) {
        dropMedia(st.error().reason);
    }
    return st;
}

void McpttLink::onFloorMessage(CallRef ref, const floor::FloorMessage& m) {
    auto it = calls_.find(ref);
    if (it == calls_.end()) {
        return;  // the call ended while this datagram was being handled
    }
    Call& call = *it->second;
    if (m.ack_required && call.floor) {
        // 24.380 §8.2.11 Floor Ack: Source (who acknowledges) + Message Type (the acknowledged
        // subtype). A message a floor control server sends is acknowledged by us as the
        // participant; a participant's message by us as the controlling function.
        const bool from_server = m.type != floor::MessageType::FloorRequest &&
                                 m.type != floor::MessageType::FloorRelease &&
                                 m.type != floor::MessageType::FloorQueuePositionRequest;
        floor::FloorMessage ack;
        ack.type = floor::MessageType::FloorAck;
        ack.ssrc = call.floor_map.ssrc;
        ack.add(floor::Source{
            static_cast<std::uint16_t>(from_server ? floor::SourceValue::FloorParticipant
                                                   : floor::SourceValue::ControllingFunction)});
        ack.add(floor::AckMessageType{m.subtype()});
        if (call.floor->send(ack).ok()) {
            count("iwf_mcptt_floor_acks_total", "sent");
        } else {
            dropMedia("ack_send_failed");
        }
    }
    if (m.type == floor::MessageType::FloorAck) {
        count("iwf_mcptt_floor_acks_total", "received");
        return;
    }
    auto ev = floor::toEvent(m, ref);
    if (!ev) {
        count("iwf_mcptt_floor_ignored_total", std::string(floor::toString(m.type)));
        return;
    }
    if (std::holds_alternative<FloorTaken>(*ev) || std::holds_alternative<FloorGranted>(*ev) ||
        std::holds_alternative<FloorIdle>(*ev)) {
        call.talk_start = true;
    }
    report(std::move(*ev));
}

void McpttLink::count(std::string_view what, std::string_view reason) {
    metrics_
        .counter(what, "MCPTT IWF-1 link events by reason",
                 {{"link", cfg_.name}, {"reason", std::string(reason)}})
        .inc();
}

Status McpttLink::start(EventSink& sink) {
    sink_ = &sink;
    sip::StackConfig sc;
    sc.name = cfg_.name;
    sc.listeners = cfg_.listen;
    sc.timers = cfg_.timers;
    sc.user_agent = "OpenIWF IWF-1";
    if (!cfg_.listen.empty()) {
        sc.advertised_host = cfg_.listen[0].address;
    }
    stack_ = std::make_unique<sip::Stack>(io_, metrics_, sc);
    stack_->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer& p) {
        onRequest(tx, req, p);
    });
    stack_->onCancel(
        [this](sip::ServerTxId tx, const sip::Message& invite) { onCancelled(tx, invite); });
    stack_->onAck([this](const sip::Message& ack, const sip::Peer&) {
        auto it = by_dialog_.find(sip::Dialog::idOfIncoming(ack));
        if (it != by_dialog_.end()) {
            auto c = calls_.find(it->second);
            if (c != calls_.end()) {
                c->second->established = true;
            }
        }
    });
    stack_->onAckTimeout([this](sip::ServerTxId tx, const sip::Message&) {
        auto it = by_server_tx_.find(tx);
        if (it == by_server_tx_.end()) {
            return;
        }
        CallRef ref = it->second;
        auto c = calls_.find(ref);
        if (c != calls_.end() && c->second->dialog) {
            stack_->sendRequest(c->second->dialog->makeRequest("BYE"), c->second->dialog->peer(),
                                {});
        }
        report(CallEnd{ref, EndReason::Error, "no ACK for 200 OK"});
        forget(ref);
    });
    auto st = stack_->start();
    if (!st) {
        return st;
    }
    // Affiliation (23.283 §10.1.2.2): model "group" affiliates the IWF's PSI once per group;
    // model "per-user" affiliates each LMR user (their MCPTT IDs) to each group.
    for (const auto& g : cfg_.affiliation_groups) {
        if (cfg_.affiliation_model == AffiliationModel::Group) {
            affiliate(cfg_.psi, g, true);
        } else {
            for (const auto& u : cfg_.affiliation_users) {
                affiliate(u, g, true);
            }
        }
    }
    return {};
}

void McpttLink::stop() {
    if (!stack_) {
        return;
    }
    // In-progress calls end with LinkDown (link.hpp contract).
    std::vector<CallRef> refs;
    for (const auto& [ref, c] : calls_) {
        refs.push_back(ref);
    }
    std::sort(refs.begin(), refs.end());  // calls end in the order they were created
    for (auto ref : refs) {
        auto& c = *calls_.at(ref);
        if (c.dialog) {
            stack_->sendRequest(c.dialog->makeRequest("BYE"), c.dialog->peer(), {});
        }
        report(CallEnd{ref, EndReason::LinkDown, "link stopped"});
    }
    calls_.clear();  // closes every call's media sockets
    invite_queue_.clear();
    urgent_queue_.clear();
    outstanding_invites_ = 0;
    queue_depth_->set(0);
    outstanding_gauge_->set(0);
    by_dialog_.clear();
    by_server_tx_.clear();
    retired_voice_.clear();
    retired_floor_.clear();
    stack_->stop();
}

void McpttLink::report(Event e) {
    if (sink_ != nullptr) {
        sink_->onEvent(id_, std::move(e));
    }
}

void McpttLink::forget(CallRef ref) {
    auto it = calls_.find(ref);
    if (it == calls_.end()) {
        return;
    }
    if (it->second->dialog) {
        by_dialog_.erase(it->second->dialog->id());
    }
    Call& c = *it->second;
    if (c.invite_tx_in != 0) {
        by_server_tx_.erase(c.invite_tx_in);  // by key: a scan was O(calls) per call end
    }
    dropMedia("call_ended", c.pending.size());
    // The endpoints may be running the receive handler that ended this call: close them on
    // the next executor turn, not now. Their handlers look the call up and find nothing.
    if (c.voice) {
        retired_voice_.push_back(std::move(c.voice));
    }
    if (c.floor) {
        retired_floor_.push_back(std::move(c.floor));
    }
    calls_.erase(it);
    if (!retired_voice_.empty() || !retired_floor_.empty()) {
        postOnce(reap_posted_, [this] {
            retired_voice_.clear();
            retired_floor_.clear();
        });
    }
}

void McpttLink::postOnce(bool& posted, std::function<void()> fn) {
    if (posted) {
        return;
    }
    posted = true;
    std::weak_ptr<bool> alive = alive_;
    asio::post(io_, [alive, &posted, fn = std::move(fn)] {
        auto a = alive.lock();
        if (!a || !*a) {
            return;  // the link is gone (posted is a member of it)
        }
        posted = false;
        fn();
    });
}

bool McpttLink::isE2eeGroup(const std::string& group) const {
    return std::find(cfg_.e2ee_groups.begin(), cfg_.e2ee_groups.end(), group) !=
           cfg_.e2ee_groups.end();
}

McpttMedia McpttLink::ourMedia(const Call& call) const {
    McpttMedia m = cfg_.media;
    m.audio_port = call.voice ? call.voice->localEndpoint().port() : 0;
    m.floor = call.floor_control && call.floor != nullptr;
    m.floor_port = call.floor ? call.floor->localEndpoint().port() : 0;
    m.floor_params.queueing = true;
    m.floor_params.priority = cfg_.floor_priority;
    return m;
}

void McpttLink::addServiceHeaders(sip::Message& m, CallPriority p) const {
    // 29.379 / 24.379: MCPTT service identification.
    m.addHeader("Accept-Contact", ims::acceptContactFeature(ims::kMcpttFeatureTag));
    m.addHeader("Accept-Contact", ims::acceptContactIcsi(kMcpttIcsi));
    m.addHeader("P-Asserted-Service", std::string(kMcpttIcsi));
    m.addHeader("P-Asserted-Identity", angle(cfg_.psi));
    if (p == CallPriority::Emergency) {
        m.addHeader("Resource-Priority", cfg_.rp_emergency);
    } else if (p == CallPriority::ImminentPeril) {
        m.addHeader("Resource-Priority", cfg_.rp_imminent_peril);
    }
}

std::vector<sip::BodyPart> McpttLink::bodies(const Call& call, const McpttInfo& info) const {
    McpttMedia media = ourMedia(call);
    media.floor_params.implicit_request = call.outgoing;
    return {{std::string(sip::kSdpContentType),
             {},
             buildMcpttSdp(media, call.ref, call.sdp_version).toString()},
            {std::string(kMcpttInfoContentType), {}, buildMcpttInfo(info)}};
}

sip::Message McpttLink::buildInvite(Call& call, const McpttInfo& info) {
    sip::Message m;
    if (call.dialog) {
        m = call.dialog->makeRequest("INVITE");
    } else {
        m = sip::Message::request("INVITE", cfg_.server_uri);
        m.addHeader("From", angle(cfg_.psi) + ";tag=" + stack_->newTag());
        m.addHeader("To", angle(call.target));
        m.addHeader("Call-ID", stack_->newCallId());
        m.addHeader("CSeq", "1 INVITE");
    }
    const auto proto = cfg_.peer.protocol;
    m.addHeader("Contact", angle(stack_->contactUri("iwf", proto)) + ims::mcpttContactFeatures());
    addServiceHeaders(m, call.priority);
    sip::setBodies(m, bodies(call, info));
    return m;
}

Status McpttLink::deliver(const Event& event) {
    if (!stack_) {
        return Error{"not_started"};
    }
    if (const auto* v = std::get_if<Voice>(&event)) {  // the per-frame case first
        auto it = calls_.find(v->call);
        if (it == calls_.end()) {
            dropMedia("unknown_call");
            return Error{"unknown_call"};
        }
        return sendVoice(*it->second, v->frame);
    }
    if (const auto* s = std::get_if<CallSetup>(&event)) {
        auto it = calls_.find(s->call);
        if (it != calls_.end()) {
            return changePriority(*it->second, s->priority);
        }
        return originate(*s);
    }
    if (const auto* e = std::get_if<CallEnd>(&event)) {
        return endCall(*e);
    }
    if (std::holds_alternative<FloorRequest>(event) ||
        std::holds_alternative<FloorGranted>(event) || std::holds_alternative<FloorTaken>(event) ||
        std::holds_alternative<FloorDeny>(event) || std::holds_alternative<FloorRelease>(event) ||
        std::holds_alternative<FloorIdle>(event) || std::holds_alternative<FloorRevoke>(event) ||
        std::holds_alternative<FloorQueued>(event)) {
        const CallRef ref = std::visit(
            [](const auto& f) -> CallRef {
                if constexpr (requires { f.call; }) {
                    return f.call;
                } else {
                    return 0;
                }
            },
            event);
        auto it = calls_.find(ref);
        if (it == calls_.end()) {
            dropMedia("unknown_call");
            return Error{"unknown_call"};
        }
        return sendFloor(*it->second, event);
    }
    return Error{"unsupported_event"};
}

Status McpttLink::originate(const CallSetup& s) {
    const std::string target = uriOf(s.callee);
    if (target.empty()) {
        return Error{"callee_not_mc_address"};
    }
    if (s.kind == CallKind::Group && !std::holds_alternative<McGroupId>(s.callee)) {
        return Error{"group_call_needs_group_id"};
    }
    auto call = std::make_unique<Call>();
    call->ref = s.call;
    call->kind = s.kind;
    call->priority = s.priority;
    call->broadcast = s.broadcast;
    call->floor_control = s.kind == CallKind::Group ? true : s.floor_control;
    call->outgoing = true;
    call->target = target;
    call->caller = uriOf(s.caller.id);
    if (call->caller.empty()) {
        call->caller = cfg_.psi;  // the LMR talker has no MCPTT ID: the IWF speaks for it
    }
    call->session_type = s.kind == CallKind::Group ? "prearranged" : "private";
    call->e2ee =
        s.kind == CallKind::Group ? isE2eeGroup(target) : (s.crypto && s.crypto->encrypted);
    McpttInfo info;
    info.session_type = call->session_type;
    info.request_uri = target;
    info.calling_user_id = call->caller;
    if (s.kind == CallKind::Group) {
        info.calling_group_id = target;
        if (s.broadcast) {
            info.broadcast = true;
        }
    } else {
        info.called_party_id = target;
        call->encryption = encryptionFromCrypto(s.crypto, call->e2ee);
        info.lmr_encryption = call->encryption;
    }
    setIndication(info, s.priority);
    if (!s.caller.alias.empty()) {
        info.functional_alias = s.caller.alias;
    }
    if (auto st = openMedia(*call); !st) {
        return st;
    }
    call->invite = buildInvite(*call, info);
    const CallRef ref = s.call;
    Call* raw = call.get();
    calls_[ref] = std::move(call);
    if (cfg_.max_outstanding_invites != 0 && outstanding_invites_ >= cfg_.max_outstanding_invites) {
        // Pacing: the call waits, in order, with its INVITE (and, like any unanswered call,
        // its media held) until an outstanding INVITE gets its final response. Emergency and
        // imminent-peril calls wait in a queue of their own that goes first.
        raw->queued = true;
        raw->queued_info = info;
        queueFor(raw->priority).push_back(ref);
        invites_queued_->inc();
        updateQueueDepth();
        return {};
    }
    sendInvite(*raw);
    return {};
}

void McpttLink::sendInvite(Call& call) {
    const CallRef ref = call.ref;
    std::weak_ptr<bool> alive = alive_;
    ++outstanding_invites_;
    outstanding_gauge_->set(static_cast<double>(outstanding_invites_));
    // Counts this INVITE out of the outstanding ones once, at its final response.
    auto finished = std::make_shared<bool>(false);
    // An outgoing call needs its INVITE only here (the transaction and the response handler
    // keep their copies until the final response): the call does not keep one.
    const sip::Message invite = std::move(call.invite);
    call.invite = sip::Message{};
    call.invite_tx = stack_->sendRequest(
        invite, cfg_.peer, [this, alive, ref, invite, finished](const sip::Message& rsp) {
            auto a = alive.lock();
            if (!a || !*a) {
                return;
            }
            if (rsp.status() >= 200 && !*finished) {
                *finished = true;
                inviteFinished();
            }
            auto it = calls_.find(ref);
            if (it == calls_.end()) {
                return;
            }
            Call& c = *it->second;
            if (rsp.status() < 200) {
                return;
            }
            if (rsp.status() < 300) {
                c.dialog = sip::Dialog::asUac(invite, rsp, cfg_.peer);
                by_dialog_[c.dialog->id()] = ref;
                stack_->sendAck(c.dialog->makeAck(invite.cseqNumber()), cfg_.peer);
                c.established = true;
                bool media_ok = false;
                if (auto sdp = sip::bodyOfType(rsp, sip::kSdpContentType)) {
                    if (auto parsed = sip::parseSdp(*sdp)) {
                        if (auto media = readMcpttSdp(*parsed)) {
                            media_ok = setRemoteMedia(c, *media, cfg_.peer.address).ok();
                            if (media_ok && media->floor && media->floor_params.granted) {
                                // mc_granted: the implicit floor request was granted.
                                report(FloorGranted{ref, Talker{McId{c.caller}, {}, {}}, {}});
                            }
                        }
                    }
                }
                if (!media_ok && !c.ending) {
                    // An answer without usable media: the call cannot carry anything.
                    count("iwf_mcptt_refused_total", "bad_sdp_answer");
                    stack_->sendRequest(c.dialog->makeRequest("BYE"), c.dialog->peer(), {});
                    report(CallEnd{ref, EndReason::Error, "no usable SDP answer"});
                    forget(ref);
                    return;
                }
                it = calls_.find(ref);  // a report above may have ended the call
                if (it == calls_.end()) {
                    return;
                }
                if (!c.ending) {
                    flushPending(c);
                }
                if (calls_.count(ref) != 0 && c.ending) {
                    stack_->sendRequest(c.dialog->makeRequest("BYE"), c.dialog->peer(), {});
                    forget(ref);
                }
                count("iwf_mcptt_calls_total", "originated");
                return;
            }
            count("iwf_mcptt_calls_failed_total", std::to_string(rsp.status()));
            const bool cancelled = rsp.status() == 487;
            if (!c.ending) {
                report(CallEnd{ref, cancelled ? EndReason::Cancelled : EndReason::Refused,
                               std::to_string(rsp.status()) + " " + rsp.reason()});
            }
            forget(ref);
        });
}

void McpttLink::inviteFinished() {
    if (outstanding_invites_ > 0) {
        --outstanding_invites_;
    }
    outstanding_gauge_->set(static_cast<double>(outstanding_invites_));
    if (invite_queue_.empty() && urgent_queue_.empty()) {
        return;
    }
    // The next INVITEs go on the next executor turn, not from inside this response handler.
    postOnce(pump_posted_, [this] { pumpInvites(); });
}

void McpttLink::pumpInvites() {
    while (stack_ && (!urgent_queue_.empty() || !invite_queue_.empty()) &&
           (cfg_.max_outstanding_invites == 0 ||
            outstanding_invites_ < cfg_.max_outstanding_invites)) {
        auto& q = !urgent_queue_.empty() ? urgent_queue_ : invite_queue_;
        const CallRef ref = q.front();
        q.pop_front();
        auto it = calls_.find(ref);
        if (it == calls_.end() || !it->second->queued) {
            continue;
        }
        it->second->queued = false;
        it->second->queued_info = McpttInfo{};
        sendInvite(*it->second);
    }
    updateQueueDepth();
}

std::deque<CallRef>& McpttLink::queueFor(CallPriority p) {
    return p == CallPriority::Normal ? invite_queue_ : urgent_queue_;
}

bool McpttLink::unqueue(CallRef ref) {
    for (auto* q : {&urgent_queue_, &invite_queue_}) {
        auto it = std::find(q->begin(), q->end(), ref);
        if (it != q->end()) {
            q->erase(it);
            return true;
        }
    }
    return false;
}

void McpttLink::updateQueueDepth() {
    queue_depth_->set(static_cast<double>(urgent_queue_.size() + invite_queue_.size()));
}

Status McpttLink::changePriority(Call& call, CallPriority p) {
    if (call.priority == p) {
        return {};
    }
    if (call.queued) {
        // Not sent yet: the INVITE is rebuilt with the new indication and Resource-Priority,
        // and an upgraded call moves to the urgent queue (a downgraded one stays where it is).
        call.priority = p;
        setIndication(call.queued_info, p);
        call.invite = buildInvite(call, call.queued_info);
        if (p != CallPriority::Normal && std::find(urgent_queue_.begin(), urgent_queue_.end(),
                                                   call.ref) == urgent_queue_.end()) {
            (void)unqueue(call.ref);
            urgent_queue_.push_back(call.ref);
        }
        return {};
    }
    if (!call.dialog || !call.established) {
        return Error{"call_not_established"};
    }
    const CallPriority old = call.priority;
    call.priority = p;
    McpttInfo info;
    info.session_type = call.session_type;
    info.request_uri = call.target;
    info.calling_user_id = call.caller;
    if (call.kind == CallKind::Group) {
        info.calling_group_id = call.target;
    }
    // Upgrade: emergency-ind/imminentperil-ind true; cancel: the indication set to false.
    setIndication(info, p);
    if (p == CallPriority::Normal) {
        (old == CallPriority::Emergency ? info.emergency : info.imminent_peril) = false;
    }
    ++call.sdp_version;
    sip::Message reinvite = buildInvite(call, info);
    const CallRef ref = call.ref;
    std::weak_ptr<bool> alive = alive_;
    stack_->sendRequest(reinvite, call.dialog->peer(),
                        [this, alive, ref, reinvite, old](const sip::Message& rsp) {
                            auto a = alive.lock();
                            if (!a || !*a || rsp.status() < 200) {
                                return;
                            }
                            auto it = calls_.find(ref);
                            if (it == calls_.end()) {
                                return;
                            }
                            if (rsp.status() < 300) {
                                stack_->sendAck(it->second->dialog->makeAck(reinvite.cseqNumber()),
                                                it->second->dialog->peer());
                            } else {
                                it->second->priority = old;  // refused (e.g. 403): unchanged
                                count("iwf_mcptt_refused_total", "priority_change_refused");
                            }
                        });
    return {};
}

Status McpttLink::endCall(const CallEnd& e) {
    auto it = calls_.find(e.call);
    if (it == calls_.end()) {
        return Error{"unknown_call"};
    }
    Call& c = *it->second;
    c.ending = true;
    if (!c.outgoing && c.server_tx != 0) {
        // Not answered yet (the engine refused it while we reported the setup): a final
        // error response instead of a BYE.
        const int status = e.reason == EndReason::Refused
                               ? (e.detail.rfind("unknown", 0) == 0 ? 404 : 403)
                           : e.reason == EndReason::LinkDown  ? 480
                           : e.reason == EndReason::Cancelled ? 487
                                                              : 500;
        sip::Message rsp = sip::makeResponse(c.invite, status, {}, c.dialog->localTag());
        if (!e.detail.empty()) {
            std::string d = e.detail;
            std::replace(d.begin(), d.end(), '"', '\'');
            rsp.addHeader("Warning", "399 " + stack_->host() + " \"" + d + "\"");
        }
        (void)stack_->respond(c.server_tx, std::move(rsp));
        count("iwf_mcptt_refused_total", "engine_refused");
        forget(e.call);
        return {};
    }
    if (c.dialog) {
        stack_->sendRequest(c.dialog->makeRequest("BYE"), c.dialog->peer(), {});
        forget(e.call);
        return {};
    }
    if (c.outgoing && c.queued) {
        // Never sent (waiting for an INVITE slot): nothing to cancel toward the peer.
        (void)unqueue(e.call);
        updateQueueDepth();
        metrics_
            .counter("iwf_mcptt_invites_dequeued_unsent_total",
                     "Calls that ended while waiting for an INVITE slot (never sent)",
                     {{"link", cfg_.name}})
            .inc();
        forget(e.call);
        return {};
    }
    if (c.outgoing) {
        stack_->cancel(c.invite_tx);  // forgotten once the INVITE's final response arrives
        return {};
    }
    if (c.server_tx != 0) {
        (void)stack_->respond(c.server_tx, sip::makeResponse(c.invite, 603, {}, stack_->newTag()));
    }
    forget(e.call);
    return {};
}

void McpttLink::reject(sip::ServerTxId tx, const sip::Message& req, int status,
                       std::string_view fault) {
    count("iwf_mcptt_refused_total", fault);
    sip::Message rsp = sip::makeResponse(req, status, {}, stack_->newTag());
    rsp.addHeader("Warning", "399 " + stack_->host() + " \"" + std::string(fault) + "\"");
    (void)stack_->respond(tx, std::move(rsp));
}

void McpttLink::onRequest(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
    const std::string& m = req.method();
    if (!req.toTag().empty()) {
        auto it = by_dialog_.find(sip::Dialog::idOfIncoming(req));
        if (it == by_dialog_.end()) {
            reject(tx, req, 481, "no such dialog");
            return;
        }
        onInDialog(*calls_.at(it->second), tx, req);
        return;
    }
    if (m == "INVITE") {
        onNewInvite(tx, req, from);
    } else if (m == "OPTIONS") {
        sip::Message ok = sip::makeResponse(req, 200, {}, stack_->newTag());
        ok.addHeader("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE, OPTIONS, MESSAGE");
        (void)stack_->respond(tx, std::move(ok));
    } else {
        reject(tx, req, 405, "method not handled by the IWF-1 link");
    }
}

void McpttLink::onNewInvite(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
    auto info_xml = sip::bodyOfType(req, kMcpttInfoContentType);
    if (!info_xml) {
        reject(tx, req, 400, "missing mcptt-info");
        return;
    }
    auto info = parseMcpttInfo(*info_xml);
    if (!info) {
        reject(tx, req, 400, "bad mcptt-info: " + std::string(info.error().reason));
        return;
    }
    auto sdp_text = sip::bodyOfType(req, sip::kSdpContentType);
    if (!sdp_text) {
        reject(tx, req, 400, "missing SDP offer");
        return;
    }
    auto sdp = sip::parseSdp(*sdp_text);
    if (!sdp) {
        reject(tx, req, 400, "bad SDP: " + std::string(sdp.error().reason));
        return;
    }
    auto offer = readMcpttSdp(*sdp);
    if (!offer) {
        reject(tx, req, 488, "SDP: " + std::string(offer.error().reason));
        return;
    }
    auto call = std::make_unique<Call>();
    call->ref = next_ref_++;
    call->session_type = info->session_type;
    call->kind = info->session_type == "private" ? CallKind::Private : CallKind::Group;
    call->priority = priorityOf(*info);
    call->broadcast = info->broadcast.value_or(false);
    call->floor_control = offer->floor;
    call->caller =
        !info->calling_user_id.empty()
            ? info->calling_user_id
            : stripAngle(
                  req.header("P-Asserted-Identity").value_or(req.header("From").value_or("")));
    if (call->kind == CallKind::Group) {
        call->target = !info->calling_group_id.empty() ? info->calling_group_id : info->request_uri;
        call->e2ee = isE2eeGroup(call->target);
    } else {
        call->target = !info->called_party_id.empty() ? info->called_party_id : info->request_uri;
        call->encryption = info->lmr_encryption;
        call->e2ee = info->lmr_encryption && info->lmr_encryption->e2ee;
    }
    if (call->target.empty()) {
        reject(tx, req, 404, "no target in mcptt-info");
        return;
    }
    if (auto st = openMedia(*call); !st) {
        reject(tx, req, 503, "no media port free");
        return;
    }
    auto answer = answerMedia(*offer, ourMedia(*call));
    if (!answer) {
        reject(tx, req, 488, std::string(answer.error().reason));
        return;
    }
    if (auto st = setRemoteMedia(*call, *offer, from.address); !st) {
        reject(tx, req, 488, "SDP: " + std::string(st.error().reason));
        return;
    }
    call->invite = req;
    const std::string tag = stack_->newTag();
    call->dialog = sip::Dialog::asUas(req, tag, from);
    const CallRef ref = call->ref;
    by_dialog_[call->dialog->id()] = ref;
    by_server_tx_[tx] = ref;
    call->invite_tx_in = tx;

    CallSetup setup;
    setup.call = ref;
    setup.caller = Talker{McId{call->caller}, info->functional_alias, {}};
    setup.callee = call->kind == CallKind::Group ? Address{McGroupId{call->target}}
                                                 : Address{McId{call->target}};
    setup.kind = call->kind;
    setup.priority = call->priority;
    setup.broadcast = call->broadcast;
    setup.floor_control = call->floor_control;
    if (call->encryption && call->encryption->e2ee && call->encryption->algorithm) {
        CryptoSync cs;
        cs.family = call->encryption->family;
        cs.encrypted = true;
        cs.algid = *call->encryption->algorithm;
        setup.crypto = cs;
    }
    const bool implicit = offer->floor && offer->floor_params.implicit_request;
    Talker who = setup.caller;
    Call* raw = call.get();
    calls_[ref] = std::move(call);

    // Automatic commencement: answer at once with the SDP answer.
    sip::Message ok = sip::makeResponse(req, 200, {}, tag);
    ok.addHeader("Contact",
                 angle(stack_->contactUri("iwf", from.protocol)) + ims::mcpttContactFeatures());
    ok.addHeader("P-Asserted-Identity", angle(cfg_.psi));
    ok.addHeader("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE, OPTIONS");
    if (raw->priority == CallPriority::Emergency) {
        ok.addHeader("Resource-Priority", cfg_.rp_emergency);
    } else if (raw->priority == CallPriority::ImminentPeril) {
        ok.addHeader("Resource-Priority", cfg_.rp_imminent_peril);
    }
    ok.setBody(buildMcpttSdp(*answer, ref, 1).toString(), sip::kSdpContentType);
    raw->server_tx = tx;
    count("iwf_mcptt_calls_total", "received");
    report(std::move(setup));
    if (implicit && calls_.count(ref) != 0) {
        report(FloorRequest{ref, who, raw->priority});
    }
    if (calls_.count(ref) != 0) {  // the sink may have refused it synchronously
        raw->server_tx = 0;
        raw->invite = sip::Message{};  // answered: the dialog has what the call needs now
        (void)stack_->respond(tx, std::move(ok));
    }
}

void McpttLink::onInDialog(Call& call, sip::ServerTxId tx, const sip::Message& req) {
    const std::string& m = req.method();
    const CallRef ref = call.ref;
    if (call.dialog && !call.dialog->acceptRemoteCseq(req)) {
        reject(tx, req, 500, "CSeq out of order");
        return;
    }
    if (m == "BYE") {
        (void)stack_->respond(tx, sip::makeResponse(req, 200, {}));
        report(CallEnd{ref, EndReason::Normal, "BYE"});
        forget(ref);
        return;
    }
    if (m == "INVITE" || m == "UPDATE") {
        // Emergency / imminent-peril upgrade or cancel (29.379 §6.4, §6.6.3): read the new
        // state from mcptt-info, else from Resource-Priority.
        CallPriority p = call.priority;
        if (auto xml = sip::bodyOfType(req, kMcpttInfoContentType)) {
            auto info = parseMcpttInfo(*xml);
            if (!info) {
                reject(tx, req, 400, "bad mcptt-info: " + std::string(info.error().reason));
                return;
            }
            if (info->emergency || info->imminent_peril) {
                p = priorityOf(*info);
            }
        } else if (auto rp = req.header("Resource-Priority")) {
            p = *rp == cfg_.rp_emergency        ? CallPriority::Emergency
                : *rp == cfg_.rp_imminent_peril ? CallPriority::ImminentPeril
                                                : CallPriority::Normal;
        }
        call.dialog->refreshTarget(req);
        sip::Message ok = sip::makeResponse(req, 200, {});
        ok.addHeader("Contact", angle(stack_->contactUri("iwf", call.dialog->peer().protocol)) +
                                    ims::mcpttContactFeatures());
        if (auto sdp_text = sip::bodyOfType(req, sip::kSdpContentType)) {
            auto sdp = sip::parseSdp(*sdp_text);
            auto offer = sdp ? readMcpttSdp(*sdp) : Result<McpttMedia>(Error{"bad_sdp"});
            auto answer =
                offer ? answerMedia(*offer, ourMedia(call)) : Result<McpttMedia>(offer.error());
            if (!answer) {
                reject(tx, req, 488, std::string(answer.error().reason));
                return;
            }
            if (auto st = setRemoteMedia(call, *offer, call.dialog->peer().address); !st) {
                reject(tx, req, 488, "SDP: " + std::string(st.error().reason));
                return;
            }
            ok.setBody(buildMcpttSdp(*answer, ref, ++call.sdp_version).toString(),
                       sip::kSdpContentType);
        }
        (void)stack_->respond(tx, std::move(ok));
        if (p != call.priority) {
            call.priority = p;
            // A CallSetup with a ref the engine already knows = a priority change.
            CallSetup s;
            s.call = ref;
            s.caller = Talker{McId{call.caller}, {}, {}};
            s.callee = call.kind == CallKind::Group ? Address{McGroupId{call.target}}
                                                    : Address{McId{call.target}};
            s.kind = call.kind;
            s.priority = p;
            s.broadcast = call.broadcast;
            s.floor_control = call.floor_control;
            count("iwf_mcptt_priority_changes_total", std::string(toString(p)));
            report(std::move(s));
        }
        return;
    }
    if (m == "INFO" || m == "OPTIONS") {
        (void)stack_->respond(tx, sip::makeResponse(req, 200, {}));
        return;
    }
    reject(tx, req, 405, "method not allowed in an MCPTT call");
}

void McpttLink::onCancelled(sip::ServerTxId tx, const sip::Message&) {
    auto it = by_server_tx_.find(tx);
    if (it == by_server_tx_.end()) {
        return;
    }
    const CallRef ref = it->second;
    report(CallEnd{ref, EndReason::Cancelled, "CANCEL"});
    forget(ref);
}

void McpttLink::affiliate(const std::string& user, const std::string& group, bool affiliated) {
    if (!stack_) {
        return;
    }
    // 24.379 §9.2.1: affiliation by SIP PUBLISH, Event: presence, a PIDF body with the
    // MCPTT presence extension (urn:3gpp:ns:mcpttPresInfo:1.0).
    sip::Message m = sip::Message::request("PUBLISH", cfg_.server_uri);
    m.addHeader("From", angle(user) + ";tag=" + stack_->newTag());
    m.addHeader("To", angle(user));
    m.addHeader("Call-ID", stack_->newCallId());
    m.addHeader("CSeq", "1 PUBLISH");
    m.addHeader("Event", "presence");
    m.addHeader("Expires", affiliated ? std::to_string(cfg_.affiliation_expires) : "0");
    addServiceHeaders(m, CallPriority::Normal);
    std::string body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
        "xmlns:mcpttPI10=\"urn:3gpp:ns:mcpttPresInfo:1.0\" entity=\"" +
        user + "\">\n  <tuple id=\"iwf-" + stack_->newTag() + "\">\n    <status>\n" +
        (affiliated ? "      <mcpttPI10:affiliation group=\"" + group + "\"/>\n" : "") +
        "    </status>\n    <mcpttPI10:p-id>" + cfg_.name +
        "</mcpttPI10:p-id>\n  </tuple>\n</presence>\n";
    m.setBody(std::move(body), "application/pidf+xml");
    std::weak_ptr<bool> alive = alive_;
    stack_->sendRequest(std::move(m), cfg_.peer, [this, alive](const sip::Message& rsp) {
        auto a = alive.lock();
        if (!a || !*a || rsp.status() < 200) {
            return;
        }
        metrics_
            .counter("iwf_mcptt_affiliation_results_total", "Affiliation PUBLISH results",
                     {{"link", cfg_.name}, {"result", rsp.status() < 300 ? "ok" : "refused"}})
            .inc();
    });
}

}  // namespace iwf::mc::mcptt
