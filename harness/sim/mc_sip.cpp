// The simulated MC system's SIP side (sip Stack / Dialog over UDP): iwfd's INVITE answered
// with an SDP answer naming the call's own RTP and floor ports, BYE both ways, MESSAGE
// (MCData SDS / interworking-data) from iwfd, and the INVITEs the simulator originates (a late
// joiner's chat INVITE, a talk with no call up).
#include "harness/sim/mc_system_impl.hpp"
#include "mc_adapters/mcdata/sds_sip.hpp"
#include "mc_adapters/mcptt/mcptt_info.hpp"
#include "mc_adapters/security/interworking_data.hpp"
#include "sip/multipart.hpp"
#include "sip/sdp.hpp"

namespace iwf::harness {

namespace mcptt = mc::mcptt;
using mcsim::angle;
using mcsim::nowNs;
using mcsim::priorityRank;

void McSystem::Impl::onMessage(sip::ServerTxId tx, const sip::Message& req) {
    McDataRecord r;
    r.rx_ns = nowNs();
    if (auto sec = mc::security::parseSecurityMessage(req); sec.ok()) {
        r.kmm = true;
        r.from = sec->sender;
        r.to = sec->target_id;
        r.payload = sec->payload;
    } else if (auto sds = mc::mcdata::parseSdsMessage(req); sds.ok()) {
        r.from = sds->env.sender;
        r.to = sds->env.target;
        if (sds->payload) {
            for (const auto& p : sds->payload->payloads) {
                r.payload.insert(r.payload.end(), p.data.begin(), p.data.end());
            }
        }
    } else {
        (void)stack->respond(tx, sip::makeResponse(req, 415, {}, stack->newTag()));
        event(0, "mc-system", "message_refused", std::string(sds.error().reason));
        return;
    }
    (void)stack->respond(tx, sip::makeResponse(req, 200, {}, stack->newTag()));
    event(0, "mc-system", r.kmm ? "kmm_received" : "sds_received", r.from + " -> " + r.to);
    std::lock_guard lock(mu);
    data.push_back(std::move(r));
}

void McSystem::Impl::keepForConformance(const sip::Message& req) {
    std::lock_guard lock(mu);
    if (kept_requests.size() < kMaxKeptRequests) {
        kept_requests.push_back(req.serialize());
    }
}

void McSystem::Impl::onRequest(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
    keepForConformance(req);
    if (req.method() == "MESSAGE" && req.toTag().empty()) {
        onMessage(tx, req);
        return;
    }
    if (req.method() == "INVITE" && req.toTag().empty()) {
        onInvite(tx, req, from);
        return;
    }
    const sip::DialogId did = sip::Dialog::idOfIncoming(req);
    auto d = by_dialog.find(did);
    if (d == by_dialog.end()) {
        (void)stack->respond(tx, sip::makeResponse(req, 481, {}, {}));
        return;
    }
    Call& c = *calls[d->second];
    if (req.method() == "BYE") {
        (void)stack->respond(tx, sip::makeResponse(req, 200, {}, {}));
        endCall(c, "bye from iwfd");
        return;
    }
    // re-INVITE / UPDATE / INFO / MESSAGE inside the call: accept with our media again.
    sip::Message ok = sip::makeResponse(req, 200, {}, {});
    if (req.method() == "INVITE" || req.method() == "UPDATE") {
        ok.addHeader("Contact", angle(stack->contactUri("mc", sip::Protocol::Udp)));
        ok.setBody(mcptt::buildMcpttSdp(ourMedia(c), c.id, 2).toString(), sip::kSdpContentType);
    }
    (void)stack->respond(tx, std::move(ok));
    event(c.id, "mc-system", "in_dialog_" + req.method());
}

void McSystem::Impl::endCall(Call& c, const std::string& why) {
    if (c.ended) {
        return;
    }
    c.ended = true;
    event(c.id, "mc-system", "call_end", why);
    if (c.talk) {
        std::lock_guard lock(mu);
        if (c.talk->outcome.empty()) {
            c.talk->outcome = "ended";
            c.talk->reason = why;
        }
        c.talk->revoked = true;
        cv.notify_all();
    }
    if (c.voice) {
        c.voice->close();
    }
    if (c.floor) {
        c.floor->close();
    }
}

void McSystem::Impl::reject(sip::ServerTxId tx, const sip::Message& req, int status,
                            const std::string& why) {
    sip::Message r = sip::makeResponse(req, status, {}, stack->newTag());
    r.addHeader("Warning", "399 mc-sim \"" + why + "\"");
    (void)stack->respond(tx, std::move(r));
    event(0, "mc-system", "invite_refused", why);
}

void McSystem::Impl::attachMembers(Call& c, const std::string& grp) {
    for (auto& [name, st] : clients) {
        if (!st.joined) {
            continue;
        }
        for (const auto& gg : st.cfg->groups) {
            if (gg == grp) {
                c.clients.insert(name);
            }
        }
    }
}

namespace {

CallPriority priorityOf(const mcptt::McpttInfo& info) {
    return info.emergency.value_or(false)        ? CallPriority::Emergency
           : info.imminent_peril.value_or(false) ? CallPriority::ImminentPeril
                                                 : CallPriority::Normal;
}

}  // namespace

void McSystem::Impl::onInvite(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
    auto xml = sip::bodyOfType(req, mcptt::kMcpttInfoContentType);
    auto sdp_text = sip::bodyOfType(req, sip::kSdpContentType);
    if (!xml || !sdp_text) {
        reject(tx, req, 400, "missing mcptt-info or SDP");
        return;
    }
    auto info = mcptt::parseMcpttInfo(*xml);
    auto sdp = sip::parseSdp(*sdp_text);
    if (!info.ok() || !sdp.ok()) {
        reject(tx, req, 400, "bad mcptt-info or SDP");
        return;
    }
    auto offer = mcptt::readMcpttSdp(*sdp);
    if (!offer.ok()) {
        reject(tx, req, 488, std::string(offer.error().reason));
        return;
    }
    auto c = std::make_unique<Call>();
    c->id = next_call++;
    c->group = !info->calling_group_id.empty() ? info->calling_group_id : info->request_uri;
    const ScenarioGroup* g = group(c->group);
    c->home_mc = g != nullptr && g->home == "mc";
    if (auto st = openMedia(*c); !st.ok()) {
        reject(tx, req, 500, "media: " + st.error().toString());
        return;
    }
    setRemotes(*c, *offer);
    auto answer = mcptt::answerMedia(*offer, ourMedia(*c));
    if (!answer.ok()) {
        reject(tx, req, 488, std::string(answer.error().reason));
        return;
    }
    const CallPriority prio = priorityOf(*info);
    bool granted_now = false;
    if (c->home_mc && offer->floor && offer->floor_params.implicit_request) {
        // Controlling function: the implicit request is granted when the group is idle
        // (no other call of this group with an MC holder).
        bool busy = false;
        for (const auto& [id, other] : calls) {
            if (!other->ended && other->group == c->group && !other->holder.empty() &&
                other->holder != "iwf") {
                busy = priorityRank(prio) <= other->holder_priority;
            }
        }
        if (!busy) {
            answer->floor_params.granted = true;
            c->holder = "iwf";
            c->holder_priority = priorityRank(prio);
            granted_now = true;
        }
    }
    attachMembers(*c, c->group);
    const std::string tag = stack->newTag();
    c->dialog = sip::Dialog::asUas(req, tag, from);
    by_dialog[c->dialog->id()] = c->id;
    c->established = true;
    sip::Message ok = sip::makeResponse(req, 200, {}, tag);
    ok.addHeader("Contact", angle(stack->contactUri("mc", sip::Protocol::Udp)) + ";+g.3gpp.mcptt");
    ok.setBody(mcptt::buildMcpttSdp(*answer, c->id, 1).toString(), sip::kSdpContentType);
    (void)stack->respond(tx, std::move(ok));
    {
        std::lock_guard lock(mu);
        ++calls_received;
    }
    std::string detail =
        c->group + " caller " + info->calling_user_id +
        (prio != CallPriority::Normal ? " priority " + std::string(toString(prio)) : "");
    if (granted_now) {
        detail += " (implicit floor request granted)";
    }
    event(c->id, "mc-system", "invite_from_iwfd", detail);
    Call& cc = *c;
    calls[cc.id] = std::move(c);
    // An emergency call of an MC-homed group pre-empts an MC talker of that group.
    if (cc.home_mc && offer->floor_params.implicit_request && !granted_now) {
        arbitrateIwfRequest(cc, priorityRank(prio), Talker{McId{info->calling_user_id}, {}, {}});
    }
}

void McSystem::Impl::originate(const std::string& client, const std::string& grp, bool chat,
                               bool implicit_request, int prio,
                               std::function<void(std::uint64_t, std::string)> done) {
    auto cit = clients.find(client);
    if (cit == clients.end() || cfg.iwf_sip_port == 0) {
        done(0, "unknown client or iwfd SIP port");
        return;
    }
    auto c = std::make_unique<Call>();
    c->id = next_call++;
    c->group = grp;
    c->outgoing = true;
    const ScenarioGroup* g = group(grp);
    c->home_mc = g != nullptr && g->home == "mc";
    if (auto st = openMedia(*c); !st.ok()) {
        done(0, "media: " + st.error().toString());
        return;
    }
    c->clients.insert(client);
    if (chat) {
        c->only_client = client;
    } else {
        attachMembers(*c, grp);  // a group call the MC system sets up includes every member
    }
    mcptt::McpttInfo info;
    info.session_type = chat ? "chat" : "prearranged";
    info.request_uri = grp;
    info.calling_user_id = cit->second.cfg->mc_id;
    info.calling_group_id = grp;
    if (prio == 2) {
        info.emergency = true;
    } else if (prio == 1) {
        info.imminent_peril = true;
    }
    mcptt::McpttMedia offer = ourMedia(*c);
    offer.floor_params.implicit_request = implicit_request;
    sip::Message inv =
        sip::Message::request("INVITE", "sip:iwf@127.0.0.1:" + std::to_string(cfg.iwf_sip_port));
    inv.addHeader("From", angle(cit->second.cfg->mc_id) + ";tag=" + stack->newTag());
    inv.addHeader("To", angle(grp));
    inv.addHeader("Call-ID", stack->newCallId());
    inv.addHeader("CSeq", "1 INVITE");
    inv.addHeader("Contact", angle(stack->contactUri("mc", sip::Protocol::Udp)) + ";+g.3gpp.mcptt");
    inv.addHeader("P-Asserted-Identity", angle(cit->second.cfg->mc_id));
    inv.addHeader("Accept-Contact", "*;+g.3gpp.mcptt;require;explicit");
    inv.addHeader("P-Asserted-Service", "urn:urn-7:3gpp-service.ims.icsi.mcptt");
    if (prio == 2) {
        inv.addHeader("Resource-Priority", "mcpttp.15");
    }
    sip::setBodies(
        inv, {sip::BodyPart{std::string(sip::kSdpContentType),
                            {},
                            mcptt::buildMcpttSdp(offer, c->id, 1).toString()},
              sip::BodyPart{
                  std::string(mcptt::kMcpttInfoContentType), {}, mcptt::buildMcpttInfo(info)}});
    c->invite = inv;
    const std::uint64_t id = c->id;
    calls[id] = std::move(c);
    event(id, client, chat ? "join_invite" : "talk_invite", grp);
    stack->sendRequest(inv, iwfPeer(), [this, id, inv, done](const sip::Message& rsp) {
        if (rsp.status() < 200) {
            return;
        }
        auto it = calls.find(id);
        if (it == calls.end()) {
            return;
        }
        Call& cc = *it->second;
        if (rsp.status() >= 300) {
            const std::string why = std::to_string(rsp.status()) + " " + rsp.reason() + " " +
                                    rsp.header("Warning").value_or("");
            event(id, "mc-system", "invite_refused", why);
            endCall(cc, "refused " + std::to_string(rsp.status()));
            done(0, why);
            return;
        }
        cc.dialog = sip::Dialog::asUac(inv, rsp, iwfPeer());
        by_dialog[cc.dialog->id()] = id;
        stack->sendAck(cc.dialog->makeAck(inv.cseqNumber()), iwfPeer());
        cc.established = true;
        bool granted = false;
        if (auto body = sip::bodyOfType(rsp, sip::kSdpContentType)) {
            if (auto s = sip::parseSdp(*body); s.ok()) {
                if (auto m = mcptt::readMcpttSdp(*s); m.ok()) {
                    setRemotes(cc, *m);
                    granted = m->floor_params.granted;
                }
            }
        }
        event(id, "mc-system", "invite_answered", granted ? "mc_granted" : "");
        if (granted) {
            decide(cc, "granted", "mc_granted in the SDP answer");
        }
        done(id, "ok");
    });
}

void McSystem::Impl::bye(Call& c) {
    if (!c.dialog || c.ended) {
        return;
    }
    sip::Message b = c.dialog->makeRequest("BYE");
    stack->sendRequest(b, iwfPeer(), [](const sip::Message&) {});
    endCall(c, "bye from mc");
}

McSystem::Impl::Call* McSystem::Impl::callFor(const std::string& grp, const std::string& client) {
    Call* best = nullptr;
    for (auto& [id, c] : calls) {
        if (c->ended || !c->established || c->group != grp) {
            continue;
        }
        if (!c->only_client.empty() && c->only_client != client) {
            continue;
        }
        best = c.get();
    }
    return best;
}

}  // namespace iwf::harness
