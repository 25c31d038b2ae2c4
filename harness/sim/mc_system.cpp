#include "harness/sim/mc_system.hpp"

#include <future>
#include <random>

#include "common/clock.hpp"
#include "harness/conformance/mc_conformance.hpp"
#include "harness/crypto/dmr_crypto.hpp"
#include "harness/sim/dmr_radio.hpp"
#include "harness/sim/p25_radio.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"
#include "mc_adapters/floor/floor_events.hpp"
#include "mc_adapters/floor/floor_message.hpp"
#include "mc_adapters/mcdata/sds_sip.hpp"
#include "mc_adapters/mcptt/mcptt_info.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "mc_adapters/security/interworking_data.hpp"
#include "sip/dialog.hpp"
#include "sip/multipart.hpp"
#include "sip/sdp.hpp"
#include "sip/stack.hpp"

namespace iwf::harness {

namespace rtp = mc::rtp;
namespace mcptt = mc::mcptt;
namespace mcfloor = mc::floor;

namespace {

std::int64_t nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::string angle(const std::string& uri) {
    return "<" + uri + ">";
}

int priorityRank(const std::string& p) {
    return p == "emergency" ? 2 : (p == "imminent_peril" ? 1 : 0);
}

int priorityRank(CallPriority p) {
    return p == CallPriority::Emergency ? 2 : (p == CallPriority::ImminentPeril ? 1 : 0);
}

const char* floorName(mcfloor::MessageType t) {
    switch (t) {
        case mcfloor::MessageType::FloorRequest:
            return "floor_request";
        case mcfloor::MessageType::FloorGranted:
            return "floor_granted";
        case mcfloor::MessageType::FloorTaken:
            return "floor_taken";
        case mcfloor::MessageType::FloorDeny:
            return "floor_deny";
        case mcfloor::MessageType::FloorRelease:
            return "floor_release";
        case mcfloor::MessageType::FloorIdle:
            return "floor_idle";
        case mcfloor::MessageType::FloorRevoke:
            return "floor_revoke";
        case mcfloor::MessageType::FloorQueuePositionInfo:
            return "floor_queued";
        case mcfloor::MessageType::FloorAck:
            return "floor_ack";
        default:
            return "floor_other";
    }
}

}  // namespace

struct McSystem::Impl {
    // What iwfd sent, kept for the conformance check at the end of the run (checking here
    // would spawn xmllint on the io thread and disturb the scenario's timing). Bounded.
    static constexpr std::size_t kMaxKeptRequests = 256;
    std::vector<std::string> kept_requests;
    void keepForConformance(const sip::Message& req) {
        std::lock_guard lock(mu);
        if (kept_requests.size() < kMaxKeptRequests) {
            kept_requests.push_back(req.serialize());
        }
    }

    struct ClientState {
        const ScenarioClient* cfg = nullptr;
        P25Decryptor p25;
        DmrDecryptor dmr;
        bool joined = true;
    };

    // A talk in progress (runner thread waits on it).
    struct Talk {
        std::string client;
        std::string mc_id;
        int priority = 0;
        std::string outcome;  // set once decided
        std::string reason;
        bool revoked = false;
        bool granted = false;
        bool was_queued = false;  // the first decision was Floor Queue Position Info
        std::int64_t queued_ns = 0;
    };

    struct Call {
        std::uint64_t id = 0;
        std::string group;
        bool home_mc = false;
        bool outgoing = false;  // we sent the INVITE
        bool established = false;
        bool ended = false;
        std::optional<sip::Dialog> dialog;
        sip::Message invite;
        std::unique_ptr<rtp::VoiceEndpoint> voice;
        std::unique_ptr<rtp::FloorEndpoint> floor;
        std::set<std::string> clients;  // attached clients
        std::string only_client;        // a late joiner's own call
        // Floor as the controlling function (MC-homed groups).
        std::string holder;  // "" idle, "iwf", or a client name
        int holder_priority = 0;
        std::shared_ptr<Talk> talk;  // a client of this call talking / asking
        // A floor decision that arrived before the talk was attached (e.g. Floor Granted
        // racing the 200 OK of the INVITE that carried the implicit request).
        std::string early_outcome;
        std::string early_reason;
        std::uint32_t floor_ssrc = 0;
    };

    explicit Impl(McSystemConfig c) : cfg(std::move(c)) {}

    McSystemConfig cfg;
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;
    metrics::Registry metrics;
    std::unique_ptr<sip::Stack> stack;
    std::map<std::uint64_t, std::unique_ptr<Call>> calls;
    std::map<sip::DialogId, std::uint64_t> by_dialog;
    std::map<std::string, ClientState> clients;
    std::uint64_t next_call = 1;
    std::mt19937 rng{std::random_device{}()};

    mutable std::mutex mu;  // records, events, talk state
    std::condition_variable cv;
    std::vector<McRxRecord> records;
    std::vector<McDataRecord> data;
    std::vector<McEvent> events;
    std::size_t calls_received = 0;
    std::set<std::uint16_t> ports;
    std::vector<std::pair<std::string, Bytes>> needles;

    const ScenarioGroup* group(const std::string& g) const {
        for (const auto& x : cfg.groups) {
            if (x.mc_group == g) {
                return &x;
            }
        }
        return nullptr;
    }

    sip::Peer iwfPeer() const {
        sip::Peer p;
        p.protocol = sip::Protocol::Udp;
        p.address = asio::ip::make_address(cfg.iwf_address);
        p.port = cfg.iwf_sip_port;
        return p;
    }

    void event(std::uint64_t call, std::string who, std::string what, std::string detail = {}) {
        std::lock_guard lock(mu);
        events.push_back({nowNs(), call, std::move(who), std::move(what), std::move(detail)});
    }

    // ---- media -------------------------------------------------------------------------

    Status openMedia(Call& c) {
        rtp::VoiceEndpointConfig vc;
        vc.payload_type = cfg.payload_type;
        vc.ssrc = rng();
        vc.initial_sequence = static_cast<std::uint16_t>(rng());
        vc.timestamp_base = rng();
        c.voice = std::make_unique<rtp::VoiceEndpoint>(io, metrics, SteadyClock::instance(),
                                                       "mc-sim", vc);
        const auto local = rtp::Udp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
        IWF_TRY_STATUS(c.voice->open(local));
        c.floor = std::make_unique<rtp::FloorEndpoint>(io, metrics, "mc-sim");
        IWF_TRY_STATUS(c.floor->open(local));
        c.floor_ssrc = rng();
        const std::uint64_t id = c.id;
        c.voice->onFrame([this, id](VoiceFrame&& f, const rtp::RtpView&) { onFrame(id, f); });
        c.floor->onMessage([this, id](const mcfloor::FloorMessage& m, const rtp::Udp::endpoint&) {
            onFloor(id, m);
        });
        std::lock_guard lock(mu);
        ports.insert(c.voice->localEndpoint().port());
        ports.insert(c.floor->localEndpoint().port());
        return {};
    }

    void setRemotes(Call& c, const mcptt::McpttMedia& remote) {
        const auto addr =
            asio::ip::make_address(remote.address.empty() ? cfg.iwf_address : remote.address);
        c.voice->setRemote(rtp::Udp::endpoint(addr, remote.audio_port));
        if (remote.floor && remote.floor_port != 0) {
            c.floor->setRemote(rtp::Udp::endpoint(addr, remote.floor_port));
        }
    }

    mcptt::McpttMedia ourMedia(const Call& c) const {
        mcptt::McpttMedia m;
        m.address = "127.0.0.1";
        m.audio_port = c.voice->localEndpoint().port();
        m.payload_type = cfg.payload_type;
        m.floor = true;
        m.floor_port = c.floor->localEndpoint().port();
        m.floor_params.queueing = true;
        m.floor_params.priority = 5;
        return m;
    }

    // Each attached client decrypts the frame with its own keys.
    void deliverToClients(std::uint64_t call_id, const std::set<std::string>& to,
                          const VoiceFrame& f, std::int64_t rx) {
        for (const auto& name : to) {
            auto it = clients.find(name);
            if (it == clients.end()) {
                continue;
            }
            McRxRecord r;
            r.client = name;
            r.call = call_id;
            r.frame = f;
            r.rx_ns = rx;
            if (f.crypto.family == LmrFamily::P25) {
                auto p = it->second.p25.decrypt(f);
                if (p.ok()) {
                    r.decrypted = true;
                    r.plaintext.assign(p->begin(), p->end());
                } else {
                    r.error = std::string(p.error().reason);
                }
            } else if (f.crypto.family == LmrFamily::Dmr) {
                auto p = it->second.dmr.decrypt(f);
                if (p.ok()) {
                    r.decrypted = true;
                    r.plaintext.assign(p->begin(), p->end());
                } else {
                    r.error = std::string(p.error().reason);
                }
            } else {
                r.error = "family_not_supported";
            }
            std::lock_guard lock(mu);
            records.push_back(std::move(r));
        }
    }

    void onFrame(std::uint64_t id, const VoiceFrame& f) {
        const std::int64_t rx = nowNs();
        auto it = calls.find(id);
        if (it == calls.end()) {
            return;
        }
        deliverToClients(id, it->second->clients, f, rx);
    }

    // ---- floor -------------------------------------------------------------------------

    void sendFloor(Call& c, mcfloor::FloorMessage m) {
        m.ssrc = c.floor_ssrc;
        if (c.floor->hasRemote()) {
            (void)c.floor->send(m);
        }
    }

    void sendFloorEvent(Call& c, const Event& e) {
        mcfloor::FloorMapping map;
        map.ssrc = c.floor_ssrc;
        auto m = mcfloor::toMessage(e, map);
        if (m.ok()) {
            sendFloor(c, std::move(*m));
        }
    }

    void decide(Call& c, const std::string& outcome, const std::string& reason) {
        if (!c.talk) {
            c.early_outcome = outcome;
            c.early_reason = reason;
            return;
        }
        std::lock_guard lock(mu);
        if (c.talk->outcome.empty() || c.talk->outcome == "queued") {
            c.talk->outcome = outcome;
            c.talk->reason = reason;
            c.talk->granted = outcome == "granted";
        }
        cv.notify_all();
    }

    void onFloor(std::uint64_t id, const mcfloor::FloorMessage& m) {
        auto it = calls.find(id);
        if (it == calls.end()) {
            return;
        }
        Call& c = *it->second;
        std::string detail;
        if (const auto* rc = m.find<mcfloor::RejectCause>()) {
            detail = "cause " + std::to_string(rc->cause) + " " + rc->phrase;
        }
        if (const auto* g = m.find<mcfloor::GrantedPartyIdentity>()) {
            detail += (detail.empty() ? "" : " ") + g->id;
        }
        if (const auto* u = m.find<mcfloor::UserId>()) {
            detail += (detail.empty() ? "" : " ") + u->id;
        }
        event(id, "mc-system", floorName(m.type), detail);
        if (m.ack_required) {
            mcfloor::FloorMessage ack;
            ack.type = mcfloor::MessageType::FloorAck;
            ack.add(mcfloor::Source{static_cast<std::uint16_t>(
                c.home_mc ? mcfloor::SourceValue::ControllingFunction
                          : mcfloor::SourceValue::ParticipatingFunction)});
            ack.add(mcfloor::AckMessageType{m.subtype()});
            sendFloor(c, std::move(ack));
        }
        switch (m.type) {
            case mcfloor::MessageType::FloorRequest: {
                // The IWF asks the controlling function (us, MC-homed group) for the floor.
                auto ev = mcfloor::toEvent(m, id);
                CallPriority p = CallPriority::Normal;
                Talker who;
                if (ev) {
                    if (const auto* fr = std::get_if<FloorRequest>(&*ev)) {
                        p = fr->priority;
                        who = fr->who;
                    }
                }
                arbitrateIwfRequest(c, priorityRank(p), who);
                break;
            }
            case mcfloor::MessageType::FloorRelease:
                if (c.holder == "iwf") {
                    c.holder.clear();
                    sendFloorEvent(c, FloorIdle{id});
                }
                break;
            case mcfloor::MessageType::FloorGranted:
                decide(c, "granted", "");
                break;
            case mcfloor::MessageType::FloorDeny:
                decide(c, "denied", detail);
                break;
            case mcfloor::MessageType::FloorQueuePositionInfo:
                if (c.talk) {
                    std::lock_guard lock(mu);
                    if (c.talk->outcome.empty()) {
                        c.talk->outcome = "queued";
                        c.talk->was_queued = true;
                        c.talk->queued_ns = nowNs();
                    }
                    cv.notify_all();
                }
                break;
            case mcfloor::MessageType::FloorRevoke:
                if (c.talk) {
                    std::lock_guard lock(mu);
                    c.talk->revoked = true;
                    c.talk->reason = detail;
                    cv.notify_all();
                }
                break;
            default:
                break;
        }
    }

    // Controlling function of an MC-homed group: the IWF (an LMR talker) asks for the floor.
    void arbitrateIwfRequest(Call& c, int prio, const Talker& who) {
        if (c.holder.empty() || c.holder == "iwf") {
            c.holder = "iwf";
            c.holder_priority = prio;
            sendFloorEvent(c, FloorGranted{c.id, who, {}});
            event(c.id, "mc-system", "granted_to_iwf");
            return;
        }
        if (prio > c.holder_priority && c.talk) {
            // Pre-emption: the MC talker is revoked, the IWF gets the floor.
            {
                std::lock_guard lock(mu);
                c.talk->revoked = true;
                c.talk->reason = "pre-empted by a higher priority request";
                cv.notify_all();
            }
            c.holder = "iwf";
            c.holder_priority = prio;
            sendFloorEvent(c, FloorGranted{c.id, who, {}});
            event(c.id, "mc-system", "preempted_mc_talker", c.talk->client);
            return;
        }
        sendFloorEvent(c, FloorDeny{c.id, who, mcfloor::deny_cause::kAnotherHasPermission,
                                    "another MC client has permission"});
        event(c.id, "mc-system", "denied_iwf", c.holder);
    }

    // ---- SIP ---------------------------------------------------------------------------

    // MCData (mcdata-iwf2): SDS or interworking-data (KMM tunnel) from iwfd.
    void onMessage(sip::ServerTxId tx, const sip::Message& req) {
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

    void onRequest(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
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
            (void)stack->respond(
                tx, sip::makeResponse(req, req.method() == "INVITE" ? 481 : 481, {}, {}));
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

    void endCall(Call& c, const std::string& why) {
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

    void reject(sip::ServerTxId tx, const sip::Message& req, int status, const std::string& why) {
        sip::Message r = sip::makeResponse(req, status, {}, stack->newTag());
        r.addHeader("Warning", "399 mc-sim \"" + why + "\"");
        (void)stack->respond(tx, std::move(r));
        event(0, "mc-system", "invite_refused", why);
    }

    void onInvite(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from) {
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
        const CallPriority prio = info->emergency.value_or(false) ? CallPriority::Emergency
                                  : info->imminent_peril.value_or(false)
                                      ? CallPriority::ImminentPeril
                                      : CallPriority::Normal;
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
        for (auto& [name, st] : clients) {
            if (!st.joined) {
                continue;
            }
            for (const auto& gg : st.cfg->groups) {
                if (gg == c->group) {
                    c->clients.insert(name);
                }
            }
        }
        const std::string tag = stack->newTag();
        c->dialog = sip::Dialog::asUas(req, tag, from);
        by_dialog[c->dialog->id()] = c->id;
        c->established = true;
        sip::Message ok = sip::makeResponse(req, 200, {}, tag);
        ok.addHeader("Contact",
                     angle(stack->contactUri("mc", sip::Protocol::Udp)) + ";+g.3gpp.mcptt");
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
        // An emergency call of an MC-homed group pre-empts an MC talker of that group.
        if (c->home_mc && offer->floor_params.implicit_request && !granted_now) {
            Call& cc = *c;
            calls[cc.id] = std::move(c);
            Talker who{McId{info->calling_user_id}, {}, {}};
            arbitrateIwfRequest(cc, priorityRank(prio), who);
            return;
        }
        calls[c->id] = std::move(c);
    }

    // Originates an INVITE to iwfd for `group` on behalf of `client`: a late join (chat) or
    // a talk with no call up (prearranged + implicit floor request). Runs on the io thread;
    // `done` is called with the call id (0 on failure) and a reason.
    void originate(const std::string& client, const std::string& grp, bool chat,
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
            // A group call the MC system sets up includes every joined member of the group.
            for (auto& [name, st] : clients) {
                if (!st.joined) {
                    continue;
                }
                for (const auto& gg : st.cfg->groups) {
                    if (gg == grp) {
                        c->clients.insert(name);
                    }
                }
            }
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
        sip::Message inv = sip::Message::request(
            "INVITE", "sip:iwf@127.0.0.1:" + std::to_string(cfg.iwf_sip_port));
        inv.addHeader("From", angle(cit->second.cfg->mc_id) + ";tag=" + stack->newTag());
        inv.addHeader("To", angle(grp));
        inv.addHeader("Call-ID", stack->newCallId());
        inv.addHeader("CSeq", "1 INVITE");
        inv.addHeader("Contact",
                      angle(stack->contactUri("mc", sip::Protocol::Udp)) + ";+g.3gpp.mcptt");
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
                event(id, "mc-system", "invite_refused",
                      std::to_string(rsp.status()) + " " + rsp.reason() + " " +
                          rsp.header("Warning").value_or(""));
                endCall(cc, "refused " + std::to_string(rsp.status()));
                done(0, std::to_string(rsp.status()) + " " + rsp.reason() + " " +
                            rsp.header("Warning").value_or(""));
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

    void bye(Call& c) {
        if (!c.dialog || c.ended) {
            return;
        }
        sip::Message b = c.dialog->makeRequest("BYE");
        stack->sendRequest(b, iwfPeer(), [](const sip::Message&) {});
        endCall(c, "bye from mc");
    }

    // A call of `group` we can use for `client` (not a late joiner's private leg of another).
    Call* callFor(const std::string& grp, const std::string& client) {
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

    template <typename F>
    auto onIo(F&& f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::forward<F>(f));
        auto fut = task.get_future();
        asio::post(io, [&task] { task(); });
        return fut.get();
    }
};

McSystem::McSystem(McSystemConfig cfg) : impl_(std::make_unique<Impl>(std::move(cfg))) {
    for (const auto& c : impl_->cfg.clients) {
        Impl::ClientState st;
        st.cfg = &c;
        st.joined = impl_->cfg.late_clients.count(c.name) == 0;
        for (const auto& kn : c.keys) {
            for (const auto& k : impl_->cfg.keys) {
                if (k.name != kn) {
                    continue;
                }
                if (k.family == LmrFamily::P25) {
                    st.p25.addKey(static_cast<std::uint16_t>(k.key_id), k.key);
                } else {
                    st.dmr.addKey(static_cast<std::uint8_t>(k.key_id), k.key);
                }
            }
        }
        impl_->clients.emplace(c.name, std::move(st));
    }
}

McSystem::~McSystem() {
    stop();
}

Status McSystem::start() {
    sip::StackConfig sc;
    sc.name = "mc-sim";
    sip::ListenerConfig l;
    l.protocol = sip::Protocol::Udp;
    l.address = "127.0.0.1";
    l.port = 0;
    sc.listeners.push_back(l);
    sc.user_agent = "iwf-harness-mc";
    sc.timers.t1 = std::chrono::milliseconds(100);
    impl_->stack = std::make_unique<sip::Stack>(impl_->io, impl_->metrics, sc);
    impl_->stack->onRequest([this](sip::ServerTxId tx, const sip::Message& m, const sip::Peer& p) {
        impl_->onRequest(tx, m, p);
    });
    IWF_TRY_STATUS(impl_->stack->start());
    sip_port_ = impl_->stack->port(sip::Protocol::Udp);
    {
        std::lock_guard lock(impl_->mu);
        impl_->ports.insert(sip_port_);
    }
    impl_->work.emplace(asio::make_work_guard(impl_->io));
    impl_->thread = std::thread([this] { impl_->io.run(); });
    return {};
}

void McSystem::stop() {
    if (!impl_ || !impl_->thread.joinable()) {
        return;
    }
    impl_->onIo([this] {
        for (auto& [id, c] : impl_->calls) {
            impl_->endCall(*c, "harness stop");
        }
        impl_->stack->stop();
        return 0;
    });
    impl_->work.reset();
    impl_->io.stop();
    impl_->thread.join();
}

void McSystem::setIwfSipPort(std::uint16_t port) {
    impl_->cfg.iwf_sip_port = port;
}

std::string McSystem::join(const std::string& client, const std::string& group,
                           std::chrono::milliseconds timeout) {
    auto result = std::make_shared<std::promise<std::string>>();
    auto fut = result->get_future();
    asio::post(impl_->io, [this, client, group, result] {
        auto it = impl_->clients.find(client);
        if (it != impl_->clients.end()) {
            it->second.joined = true;
        }
        impl_->originate(client, group, true, false, 0,
                         [result](std::uint64_t id, std::string why) {
                             result->set_value(id != 0 ? "joined" : "join refused: " + why);
                         });
    });
    if (fut.wait_for(timeout) != std::future_status::ready) {
        return "join: no answer from iwfd";
    }
    return fut.get();
}

McTalkResult McSystem::talk(const McTalkRequest& req) {
    McTalkResult res;
    auto talk = std::make_shared<Impl::Talk>();
    talk->client = req.client;
    talk->priority = priorityRank(req.priority);
    const ScenarioClient* client = nullptr;
    for (const auto& c : impl_->cfg.clients) {
        if (c.name == req.client) {
            client = &c;
        }
    }
    const ScenarioGroup* g = impl_->group(req.group);
    if (client == nullptr || g == nullptr) {
        res.outcome = "not run";
        res.reason = "unknown client or group";
        return res;
    }
    talk->mc_id = client->mc_id;
    // 1. Ask for the floor: on a call that is up, or with a new INVITE (implicit request).
    auto call_id = std::make_shared<std::promise<std::uint64_t>>();
    auto call_fut = call_id->get_future();
    asio::post(impl_->io, [this, req, talk, g, call_id] {
        Impl::Call* c = impl_->callFor(req.group, req.client);
        const CallPriority prio = talk->priority == 2   ? CallPriority::Emergency
                                  : talk->priority == 1 ? CallPriority::ImminentPeril
                                                        : CallPriority::Normal;
        Talker who{McId{talk->mc_id}, {}, {}};
        if (c != nullptr) {
            c->talk = talk;
            c->clients.insert(req.client);
            if (g->home == "mc") {
                // We are the controlling function: decide here, tell the IWF who talks.
                if (c->holder.empty() || talk->priority > c->holder_priority) {
                    const bool preempt = !c->holder.empty();
                    c->holder = req.client;
                    c->holder_priority = talk->priority;
                    if (preempt) {
                        impl_->sendFloorEvent(
                            *c, FloorRevoke{c->id, mcfloor::revoke_cause::kMediaBurstPreempted,
                                            "pre-empted"});
                    }
                    impl_->sendFloorEvent(*c, FloorTaken{c->id, who});
                    impl_->decide(*c, "granted", "");
                } else {
                    impl_->decide(*c, "denied", "cause 1 another participant has permission");
                }
            } else {
                mcfloor::FloorMapping map;
                map.ssrc = c->floor_ssrc;
                map.normal_priority = 5;
                if (talk->priority > 0) {
                    map.call_indicator |= talk->priority == 2
                                              ? mcfloor::indicator::kEmergencyCall
                                              : mcfloor::indicator::kImminentPerilCall;
                }
                auto m = mcfloor::toMessage(FloorRequest{c->id, who, prio}, map);
                if (m.ok()) {
                    impl_->sendFloor(*c, std::move(*m));
                }
                impl_->event(c->id, req.client, "floor_request_sent", req.group);
            }
            call_id->set_value(c->id);
            return;
        }
        impl_->originate(req.client, req.group, false, g->home != "mc", talk->priority,
                         [this, talk, g, call_id, who](std::uint64_t id, std::string why) {
                             if (id == 0) {
                                 std::lock_guard lock(impl_->mu);
                                 talk->outcome = "denied";
                                 talk->reason = why;
                                 impl_->cv.notify_all();
                                 call_id->set_value(0);
                                 return;
                             }
                             Impl::Call& nc = *impl_->calls[id];
                             nc.talk = talk;
                             if (!nc.early_outcome.empty()) {
                                 impl_->decide(nc, nc.early_outcome, nc.early_reason);
                             }
                             if (g->home == "mc") {
                                 nc.holder = talk->client;
                                 nc.holder_priority = talk->priority;
                                 impl_->sendFloorEvent(nc, FloorTaken{id, who});
                                 impl_->decide(nc, "granted", "");
                             }
                             call_id->set_value(id);
                         });
        // The call may have been answered with mc_granted before `talk` was attached.
    });
    if (call_fut.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
        res.outcome = "no answer";
        res.reason = "INVITE to iwfd not answered";
        return res;
    }
    const std::uint64_t cid = call_fut.get();
    // 2. Wait for the decision (granted / denied / queued).
    {
        std::unique_lock lock(impl_->mu);
        impl_->cv.wait_for(lock, std::chrono::seconds(3),
                           [&] { return !talk->outcome.empty() && talk->outcome != "queued"; });
        if (talk->outcome.empty() && cid != 0) {
            // A new call answered with mc_granted before `talk` was attached to it.
            for (const auto& e : impl_->events) {
                if (e.call == cid && e.what == "invite_answered" && e.detail == "mc_granted") {
                    talk->outcome = "granted";
                    talk->granted = true;
                }
            }
        }
        res.outcome = talk->outcome.empty() ? "no answer" : talk->outcome;
        res.reason = talk->reason;
        if (talk->was_queued) {
            // The first decision counts (the loser of a contention is queued); whether the
            // queue later granted the floor is reported with it.
            res.outcome = "queued";
            res.reason = talk->granted
                             ? "then granted after " +
                                   std::to_string((nowNs() - talk->queued_ns) / 1'000'000) + " ms"
                             : "still queued";
        }
    }
    if (!talk->granted) {
        return res;
    }
    // 3. Talk: encrypted frames paced in real time, each also fanned out to the other clients.
    const ScenarioKey* k = req.encrypted ? req.key : nullptr;
    const bool p25 = g->family == LmrFamily::P25;
    std::optional<P25VoiceCipher> p25c;
    std::optional<DmrVoiceCipher> dmrc;
    lmr::p25::Mi first_mi{};
    std::uint32_t first_iv = 0;
    {
        std::random_device rd;
        for (std::size_t i = 0; i < 8; ++i) {
            first_mi[i] = static_cast<std::uint8_t>(rd());
        }
        first_iv = rd();
    }
    if (k != nullptr) {
        if (p25) {
            p25c.emplace(k->key, first_mi);
        } else {
            dmrc.emplace(k->key, first_iv);
        }
    }
    auto next = std::chrono::steady_clock::now();
    const auto period = std::chrono::milliseconds(p25 ? 20 : 60);
    const std::uint8_t per_sf = p25 ? 18 : 6;
    bool first = true;
    for (std::uint32_t sf = 0; sf < req.superframes; ++sf) {
        for (std::uint8_t idx = 0; idx < per_sf; ++idx) {
            {
                std::lock_guard lock(impl_->mu);
                if (talk->revoked) {
                    res.outcome = "preempted";
                    res.reason = talk->reason;
                    goto release;
                }
            }
            next += period;
            std::this_thread::sleep_until(next);
            VoiceFrame f;
            f.pos = {sf, idx};
            Bytes plain;
            if (p25) {
                f.codec = VoiceCodec::ImbeFullRate;
                const Imbe11 c = p25Canary(req.tag, req.nonce, sf, idx);
                plain.assign(c.begin(), c.end());
                Imbe11 w = c;
                if (p25c) {
                    f.crypto.family = LmrFamily::P25;
                    f.crypto.encrypted = true;
                    f.crypto.algid = k->algid;
                    f.crypto.key_id = k->key_id;
                    const auto mi = p25c->miOf(sf);
                    f.crypto.mi.assign(mi);
                    (void)p25c->applyImbe(sf, idx, w);
                } else {
                    f.crypto = CryptoSync::clear(LmrFamily::P25);
                }
                f.payload.assign(w);
            } else {
                f.codec = VoiceCodec::DmrAmbe;
                const Ambe27 c = dmrCanary(req.tag, req.nonce, sf, idx);
                plain.assign(c.begin(), c.end());
                const std::array<std::uint8_t, 6> middle{};  // the DMR link sets EMB / sync
                lmr::dmr::Burst b = lmr::dmr::joinVoiceBurst(ByteView(c.data(), c.size()),
                                                             ByteView(middle.data(), 6));
                if (dmrc) {
                    f.crypto.family = LmrFamily::Dmr;
                    f.crypto.encrypted = true;
                    f.crypto.algid = k->algid;
                    f.crypto.key_id = k->key_id;
                    const std::uint8_t iv[4] = {static_cast<std::uint8_t>(first_iv >> 24),
                                                static_cast<std::uint8_t>(first_iv >> 16),
                                                static_cast<std::uint8_t>(first_iv >> 8),
                                                static_cast<std::uint8_t>(first_iv)};
                    f.crypto.mi.assign(ByteView(iv, 4));
                    (void)dmrc->applyBurst(sf, idx, b);
                } else {
                    f.crypto = CryptoSync::clear(LmrFamily::Dmr);
                }
                const auto parts = lmr::dmr::splitVoiceBurst(b);
                f.payload.assign(ByteView(parts.ambe.data(), parts.ambe.size()));
                f.side.assign(ByteView(parts.middle.data(), parts.middle.size()));
            }
            const std::int64_t tx = nowNs();
            f.rx_ns = tx;
            res.plaintext[{sf, idx}] = plain;
            res.crypto[{sf, idx}] = f.crypto;
            res.tx_ns[{sf, idx}] = tx;
            if (k != nullptr) {
                std::lock_guard lock(impl_->mu);
                impl_->needles.emplace_back("canary:" + req.client + ":sf" + std::to_string(sf) +
                                                ":f" + std::to_string(idx),
                                            plain);
            }
            const bool marker = first;
            first = false;
            asio::post(impl_->io, [this, cid, f, marker, req] {
                auto it = impl_->calls.find(cid);
                if (it == impl_->calls.end() || it->second->ended) {
                    return;
                }
                (void)it->second->voice->send(f, marker);
                // The MC system fans the talker's media out to its other clients.
                std::set<std::string> others;
                for (const auto& [id, c] : impl_->calls) {
                    if (c->ended || c->group != req.group) {
                        continue;
                    }
                    for (const auto& n : c->clients) {
                        if (n != req.client) {
                            others.insert(n);
                        }
                    }
                }
                impl_->deliverToClients(cid, others, f, nowNs());
            });
            ++res.sent;
        }
    }
release:
    asio::post(impl_->io, [this, cid, talk, g] {
        auto it = impl_->calls.find(cid);
        if (it == impl_->calls.end() || it->second->ended) {
            return;
        }
        Impl::Call& c = *it->second;
        Talker who{McId{talk->mc_id}, {}, {}};
        if (g->home == "mc") {
            if (c.holder == talk->client) {
                c.holder.clear();
                impl_->sendFloorEvent(c, FloorIdle{c.id});
            }
        } else {
            impl_->sendFloorEvent(c, FloorRelease{c.id, who});
        }
        c.talk.reset();
        impl_->event(c.id, talk->client, "floor_release_sent");
    });
    return res;
}

void McSystem::setIwfMcdataPort(std::uint16_t port) {
    impl_->cfg.iwf_mcdata_port = port;
}

std::string McSystem::sendSds(const std::string& client, const std::string& target,
                              const Bytes& bytes, std::chrono::milliseconds timeout) {
    const ScenarioClient* c = nullptr;
    for (const auto& x : impl_->cfg.clients) {
        if (x.name == client) {
            c = &x;
        }
    }
    if (c == nullptr || impl_->cfg.iwf_mcdata_port == 0) {
        return "no such client or no MCData link";
    }
    mc::mcdata::SdsSipMessage m;
    m.env.request_uri = "sip:iwf@127.0.0.1:" + std::to_string(impl_->cfg.iwf_mcdata_port);
    m.env.sender = c->mc_id;
    m.env.target = target;
    m.env.iwf_psi = c->mc_id;
    mc::mcdata::SdsSignalling sig;
    sig.date_time =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    std::mt19937_64 rng(std::random_device{}());
    sig.conversation_id = mc::mcdata::randomUuid(rng);
    sig.message_id = mc::mcdata::randomUuid(rng);
    m.signalling = sig;
    mc::mcdata::DataPayload dp;
    dp.payloads.push_back({mc::mcdata::content_type::kBinary, bytes});
    m.payload = dp;
    auto msg = mc::mcdata::buildSdsMessage(m);
    if (!msg.ok()) {
        return "build: " + msg.error().toString();
    }
    auto result = std::make_shared<std::promise<std::string>>();
    auto fut = result->get_future();
    sip::Message req = std::move(*msg);
    const std::string sender = c->mc_id;
    asio::post(impl_->io, [this, req, result, sender]() mutable {
        req.setHeader("From", angle(sender) + ";tag=" + impl_->stack->newTag());
        if (!req.hasHeader("Call-ID")) {
            req.addHeader("Call-ID", impl_->stack->newCallId());
        }
        if (!req.hasHeader("CSeq")) {
            req.addHeader("CSeq", "1 MESSAGE");
        }
        sip::Peer p;
        p.protocol = sip::Protocol::Udp;
        p.address = asio::ip::make_address(impl_->cfg.iwf_address);
        p.port = impl_->cfg.iwf_mcdata_port;
        impl_->stack->sendRequest(req, p, [result](const sip::Message& rsp) {
            if (rsp.status() < 200) {
                return;
            }
            result->set_value(rsp.status() < 300
                                  ? "ok"
                                  : std::to_string(rsp.status()) + " " + rsp.reason() + " " +
                                        rsp.header("Warning").value_or(""));
        });
    });
    if (fut.wait_for(timeout) != std::future_status::ready) {
        return "no answer from iwfd";
    }
    return fut.get();
}

std::vector<McDataRecord> McSystem::dataRecords() const {
    std::lock_guard lock(impl_->mu);
    return impl_->data;
}

std::vector<McRxRecord> McSystem::records() const {
    std::lock_guard lock(impl_->mu);
    return impl_->records;
}

std::vector<McEvent> McSystem::events() const {
    std::lock_guard lock(impl_->mu);
    return impl_->events;
}

std::vector<std::string> McSystem::conformanceViolations() const {
    std::vector<std::string> kept;
    {
        std::lock_guard lock(impl_->mu);
        kept = impl_->kept_requests;
    }
    McConformance check(IWF_XSD_DIR);
    std::vector<std::string> out;
    for (const auto& wire : kept) {
        for (auto& v : check.checkRequest(wire)) {
            out.push_back(std::move(v));
        }
    }
    return out;
}

std::size_t McSystem::callsReceived() const {
    std::lock_guard lock(impl_->mu);
    return impl_->calls_received;
}

void McSystem::addNeedles(NeedleSet& set) const {
    std::lock_guard lock(impl_->mu);
    for (const auto& [label, b] : impl_->needles) {
        set.add(label, b);
    }
}

std::vector<std::uint16_t> McSystem::ports() const {
    std::lock_guard lock(impl_->mu);
    return {impl_->ports.begin(), impl_->ports.end()};
}

}  // namespace iwf::harness
