#include <algorithm>

#include "common/log.hpp"
#include "mc_adapters/mcptt/ims_headers.hpp"
#include "mc_adapters/mcptt/mcptt_call.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"

namespace iwf::mc::mcptt {

using namespace link_detail;

bool McpttLink::readInvite(sip::ServerTxId tx, const sip::Message& req, McpttInfo& info,
                           McpttMedia& offer) {
    auto info_xml = sip::bodyOfType(req, kMcpttInfoContentType);
    if (!info_xml) {
        reject(tx, req, 400, "missing mcptt-info");
        return false;
    }
    auto parsed_info = parseMcpttInfo(*info_xml);
    if (!parsed_info) {
        reject(tx, req, 400, "bad mcptt-info: " + std::string(parsed_info.error().reason));
        return false;
    }
    auto sdp_text = sip::bodyOfType(req, sip::kSdpContentType);
    if (!sdp_text) {
        reject(tx, req, 400, "missing SDP offer");
        return false;
    }
    auto sdp = sip::parseSdp(*sdp_text);
    if (!sdp) {
        reject(tx, req, 400, "bad SDP: " + std::string(sdp.error().reason));
        return false;
    }
    auto parsed_offer = readMcpttSdp(*sdp);
    if (!parsed_offer) {
        reject(tx, req, 488, "SDP: " + std::string(parsed_offer.error().reason));
        return false;
    }
    info = std::move(*parsed_info);
    offer = std::move(*parsed_offer);
    return true;
}

std::unique_ptr<McpttLink::Call> McpttLink::newIncomingCall(const sip::Message& req,
                                                            const McpttInfo& info,
                                                            const McpttMedia& offer) {
    auto call = std::make_unique<Call>();
    call->session_type = info.session_type;
    call->kind = info.session_type == "private" ? CallKind::Private : CallKind::Group;
    call->priority = priorityOf(info);
    call->broadcast = info.broadcast.value_or(false);
    call->floor_control = offer.floor;
    call->caller =
        !info.calling_user_id.empty()
            ? info.calling_user_id
            : stripAngle(
                  req.header("P-Asserted-Identity").value_or(req.header("From").value_or("")));
    if (call->kind == CallKind::Group) {
        call->target = !info.calling_group_id.empty() ? info.calling_group_id : info.request_uri;
        call->e2ee = isE2eeGroup(call->target);
    } else {
        call->target = !info.called_party_id.empty() ? info.called_party_id : info.request_uri;
        call->encryption = info.lmr_encryption;
        call->e2ee = info.lmr_encryption && info.lmr_encryption->e2ee;
    }
    return call;
}

CallSetup McpttLink::setupOf(const Call& call, const McpttInfo& info) const {
    CallSetup setup;
    setup.call = call.ref;
    setup.caller = Talker{McId{call.caller}, info.functional_alias, {}};
    setup.callee =
        call.kind == CallKind::Group ? Address{McGroupId{call.target}} : Address{McId{call.target}};
    setup.kind = call.kind;
    setup.priority = call.priority;
    setup.broadcast = call.broadcast;
    setup.floor_control = call.floor_control;
    if (call.amr) {
        setup.codec = VoiceCodec::AmrWb;  // the engine admits it to analogue groups only
    }
    if (call.encryption && call.encryption->e2ee && call.encryption->algorithm) {
        CryptoSync cs;
        cs.family = call.encryption->family;
        cs.encrypted = true;
        cs.algid = *call.encryption->algorithm;
        setup.crypto = cs;
    }
    return setup;
}

sip::Message McpttLink::answerInvite(const sip::Message& req, const std::string& tag,
                                     const Call& call, const McpttMedia& answer,
                                     const sip::Peer& from, const UasSessionAnswer& session) {
    sip::Message ok = sip::makeResponse(req, 200, {}, tag);
    ok.addHeader("Contact",
                 angle(stack_->contactUri("iwf", from.protocol)) + ims::mcpttContactFeatures());
    ok.addHeader("P-Asserted-Identity", angle(cfg_.psi));
    ok.addHeader("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE, OPTIONS");
    if (call.priority == CallPriority::Emergency) {
        ok.addHeader("Resource-Priority", cfg_.rp_emergency);
    } else if (call.priority == CallPriority::ImminentPeril) {
        ok.addHeader("Resource-Priority", cfg_.rp_imminent_peril);
    }
    addSessionAnswer(ok, session);
    ok.setBody(buildMcpttSdp(answer, call.ref, 1).toString(), sip::kSdpContentType);
    return ok;
}

void McpttLink::onNewInvite(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
    peers::Refusal why = peers::Refusal::NotAPeer;
    const int peer = peers_.match(from, &why);
    if (peer < 0) {
        refuse(tx, req, from, why, 403, "INVITE from no configured peer");
        return;
    }
    McpttInfo info;
    McpttMedia offer;
    if (!readInvite(tx, req, info, offer)) {
        return;
    }
    auto call = newIncomingCall(req, info, offer);
    if (call->target.empty()) {
        reject(tx, req, 404, "no target in mcptt-info");
        return;
    }
    if (!peers_.domainAllowed(peer, call->caller)) {
        // Issue #21: the caller identity came from the body unchecked; a peer asserts only
        // identities of its own domains.
        refuse(tx, req, from, peers::Refusal::Domain, 403, "caller " + call->caller);
        return;
    }
    const UasSessionAnswer session = answerAsUas(req, cfg_.session_timer);
    if (session.too_small) {
        sip::Message rsp = sip::makeResponse(req, 422, {}, stack_->newTag());
        rsp.addHeader("Min-SE", std::to_string(session.min_se.count()));
        count("iwf_mcptt_refused_total", "session_interval_too_small");
        (void)stack_->respond(tx, std::move(rsp));
        return;
    }
    // The media realm and the caps before any socket is opened for the call.
    if (!admitMedia(peer, offer, from.address)) {
        refuse(tx, req, from, peers::Refusal::MediaRealm, 488,
               "SDP media address " + mediaAddress(offer, from.address).to_string());
        return;
    }
    if (!admitCall(peer, tx, req, from)) {
        return;
    }
    call->ref = next_ref_++;
    call->peer = peer;
    if (auto st = openMedia(*call); !st) {
        reject(tx, req, 503, "no media port free");
        return;
    }
    if (auto st = keyFromOffer(*call, offer); !st) {
        reject(tx, req, 488, "key-mgmt: " + std::string(st.error().reason));
        return;
    }
    auto answer = answerMedia(offer, ourMedia(*call));
    if (!answer) {
        reject(tx, req, 488, std::string(answer.error().reason));
        return;
    }
    if (answer->encoding == kAmrWbEncoding) {
        auto p = parseAmrWbFmtp(answer->audio_fmtp);
        call->amr = p ? *p : AmrWbParams{};
    }
    if (auto st = setRemoteMedia(*call, offer, from.address); !st) {
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

    CallSetup setup = setupOf(*call, info);
    const bool implicit = offer.floor && offer.floor_params.implicit_request;
    Talker who = setup.caller;
    Call* raw = call.get();
    calls_[ref] = std::move(call);
    ++calls_per_peer_[static_cast<std::size_t>(peer)];

    // Automatic commencement: answer at once with the SDP answer.
    sip::Message ok = answerInvite(req, tag, *raw, *answer, from, session);
    raw->server_tx = tx;
    count("iwf_mcptt_calls_total", "received");
    report(std::move(setup));
    if (implicit && calls_.count(ref) != 0) {
        report(FloorRequest{ref, who, raw->priority});
    }
    if (calls_.count(ref) != 0) {  // the sink may have refused it synchronously
        raw->server_tx = 0;
        raw->invite = sip::Message{};  // answered: the dialog has what the call needs now
        countSetup(*raw, true);        // until its ACK
        (void)stack_->respond(tx, std::move(ok));
        if (session.answer) {
            startSession(*raw, session.answer->interval,
                         session.answer->refresher == Refresher::Uas);
        }
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
        onTargetRefresh(call, tx, req);
        return;
    }
    if (m == "INFO" || m == "OPTIONS") {
        (void)stack_->respond(tx, sip::makeResponse(req, 200, {}));
        return;
    }
    reject(tx, req, 405, "method not allowed in an MCPTT call");
}

CallPriority McpttLink::requestedPriority(const Call& call, const sip::Message& req,
                                          bool& bad_info) const {
    // Emergency / imminent-peril upgrade or cancel (29.379 §6.4, §6.6.3): read the new state
    // from mcptt-info, else from Resource-Priority.
    bad_info = false;
    CallPriority p = call.priority;
    if (auto xml = sip::bodyOfType(req, kMcpttInfoContentType)) {
        auto info = parseMcpttInfo(*xml);
        if (!info) {
            bad_info = true;
            return p;
        }
        if (info->emergency || info->imminent_peril) {
            p = priorityOf(*info);
        }
    } else if (auto rp = req.header("Resource-Priority")) {
        p = *rp == cfg_.rp_emergency        ? CallPriority::Emergency
            : *rp == cfg_.rp_imminent_peril ? CallPriority::ImminentPeril
                                            : CallPriority::Normal;
    }
    return p;
}

void McpttLink::onTargetRefresh(Call& call, sip::ServerTxId tx, const sip::Message& req) {
    const CallRef ref = call.ref;
    bool bad_info = false;
    const CallPriority p = requestedPriority(call, req, bad_info);
    if (bad_info) {
        reject(tx, req, 400, "bad mcptt-info");
        return;
    }
    // A re-INVITE or UPDATE is also a session refresh (RFC 4028 §9).
    const UasSessionAnswer session = answerAsUas(req, cfg_.session_timer);
    if (session.too_small) {
        sip::Message rsp = sip::makeResponse(req, 422, {});
        rsp.addHeader("Min-SE", std::to_string(session.min_se.count()));
        (void)stack_->respond(tx, std::move(rsp));
        return;
    }
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
    call.dialog->refreshTarget(req);  // only once the request is accepted
    addSessionAnswer(ok, session);
    (void)stack_->respond(tx, std::move(ok));
    if (session.answer) {
        startSession(call, session.answer->interval, session.answer->refresher == Refresher::Uas);
    }
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

}  // namespace iwf::mc::mcptt
