#include <algorithm>

#include "common/log.hpp"
#include "mc_adapters/mcptt/mcptt_call.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"

namespace iwf::mc::mcptt {

using namespace link_detail;

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
    ok.addHeader("Contact", angle(stack_->contactUri("iwf", from.protocol)) + ";+g.3gpp.mcptt");
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
                                    ";+g.3gpp.mcptt");
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

}  // namespace iwf::mc::mcptt
