#include <algorithm>

#include "common/log.hpp"
#include "mc_adapters/mcptt/ims_headers.hpp"
#include "mc_adapters/mcptt/mcptt_call.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"

namespace iwf::mc::mcptt {

using namespace link_detail;

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
    // RFC 4028: ask for a session timer (the peer picks the refresher); a re-INVITE keeps the
    // one the call has (a re-INVITE without Session-Expires would turn it off, §7.4).
    if (!call.dialog) {
        addUacSessionHeaders(m, cfg_.session_timer, cfg_.session_timer.expires, false);
    } else if (call.session_interval.count() != 0) {
        addUacSessionHeaders(m, cfg_.session_timer, call.session_interval, call.we_refresh);
    }
    sip::setBodies(m, bodies(call, info));
    return m;
}

Status McpttLink::originate(const CallSetup& s) {
    const std::string target = uriOf(s.callee);
    if (target.empty()) {
        return Error{"callee_not_mc_address"};
    }
    if (s.kind == CallKind::Group && !std::holds_alternative<McGroupId>(s.callee)) {
        return Error{"group_call_needs_group_id"};
    }
    if (dest_peer_ < 0) {
        return Error{"no_peer"};  // the destination is no configured peer: nothing could answer
    }
    if (calls_.size() >= cfg_.limits.max_calls) {
        refusals_.refused(cfg_.peer, peers::Refusal::CallCap, "outgoing call at max_calls");
        return Error{"call_cap"};
    }
    if (calls_per_peer_[static_cast<std::size_t>(dest_peer_)] >= cfg_.limits.max_calls_per_peer) {
        refusals_.refused(cfg_.peer, peers::Refusal::PeerCallCap,
                          "outgoing call at max_calls_per_peer");
        return Error{"peer_call_cap"};
    }
    auto call = std::make_unique<Call>();
    call->ref = s.call;
    call->peer = dest_peer_;
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
    if (s.codec == VoiceCodec::AmrWb) {
        // An analogue talker (issue #19): offer AMR-WB in the configured layout, every mode.
        call->amr = AmrWbParams{cfg_.media.amr_octet_align, kAmrWbModeSet};
    }
    if (auto st = openMedia(*call); !st) {
        return st;
    }
    if (auto st = makeOurPck(*call); !st) {
        return st;  // protection wanted and no key could be made: no call rather than plain
    }
    call->invite = buildInvite(*call, info);
    const CallRef ref = s.call;
    Call* raw = call.get();
    calls_[ref] = std::move(call);
    ++calls_per_peer_[static_cast<std::size_t>(dest_peer_)];
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
                if (auto st = sessionFromUacResponse(rsp)) {
                    startSession(c, st->interval, st->we_refresh);
                }
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
            if (rsp.status() == 422 && !c.ending && retrySessionInterval(c, invite, rsp)) {
                return;  // sent again with the interval the peer asked for (RFC 4028 §7.4)
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
    stack_->sendRequest(
        reinvite, call.dialog->peer(), [this, alive, ref, reinvite, old](const sip::Message& rsp) {
            auto a = alive.lock();
            if (!a || !*a || rsp.status() < 200) {
                return;
            }
            auto it = calls_.find(ref);
            if (it == calls_.end()) {
                return;
            }
            if (rsp.status() < 300) {
                Call& c = *it->second;
                stack_->sendAck(c.dialog->makeAck(reinvite.cseqNumber()), c.dialog->peer());
                if (auto st = sessionFromUacResponse(rsp)) {
                    startSession(c, st->interval, st->we_refresh);
                }
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

bool McpttLink::retrySessionInterval(Call& c, const sip::Message& invite, const sip::Message& rsp) {
    auto min_se = rsp.header("Min-SE") ? parseMinSe(*rsp.header("Min-SE")) : std::nullopt;
    const auto asked = invite.header("Session-Expires")
                           ? parseSessionExpires(*invite.header("Session-Expires"))
                           : std::nullopt;
    // Once, and only upward: a peer that keeps answering 422 does not loop the call.
    if (!min_se || !asked || *min_se <= asked->interval || c.session_retried) {
        return false;
    }
    c.session_retried = true;
    sip::Message again = invite;  // the same dialog-forming request with the next CSeq
    again.setHeader("CSeq", std::to_string(invite.cseqNumber() + 1) + " INVITE");
    again.setHeader("Session-Expires", formatSessionExpires({*min_se, asked->refresher}));
    again.setHeader("Min-SE", std::to_string(min_se->count()));
    c.invite = std::move(again);
    // Sent on the next executor turn, not from inside the first INVITE's response handler.
    const CallRef ref = c.ref;
    std::weak_ptr<bool> alive = alive_;
    asio::post(io_, [this, alive, ref] {
        auto a = alive.lock();
        if (!a || !*a) {
            return;
        }
        auto it = calls_.find(ref);
        if (it != calls_.end() && !it->second->ending && !it->second->dialog) {
            sendInvite(*it->second);
        } else if (it != calls_.end()) {
            forget(ref);  // ended meanwhile: its first INVITE is already finally answered
        }
    });
    return true;
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
    m.setBody(buildAffiliationPidf(user, affiliated ? group : std::string(),
                                   "iwf-" + stack_->newTag(), cfg_.name),
              "application/pidf+xml");
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
