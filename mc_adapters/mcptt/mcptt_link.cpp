#include "mc_adapters/mcptt/mcptt_link.hpp"

#include <algorithm>

#include "common/log.hpp"
#include "mc_adapters/mcptt/mcptt_call.hpp"

namespace iwf::mc::mcptt {

using namespace link_detail;

McpttLink::McpttLink(asio::io_context& io, metrics::Registry& metrics, McpttLinkConfig cfg,
                     const Clock& clock)
    : io_(io)
    , metrics_(metrics)
    , cfg_(std::move(cfg))
    , clock_(clock)
    , peers_(cfg_.peers)
    , refusals_(metrics, cfg_.name)
    , replay_(cfg_.media_protection.replay) {
    id_ = LinkId{Side::Mc, cfg_.name};
    dest_peer_ = peers_.byAddress(cfg_.peer.address);
    calls_per_peer_.assign(peers_.size(), 0);
    seen_ = peers::PeerSeen(peers_.size());
    setups_per_peer_.assign(peers_.size(), 0);
    const metrics::Labels l{{"link", cfg_.name}};
    session_refreshes_ = &metrics_.counter(
        "iwf_mcptt_session_refreshes_total",
        "Session refreshes (RFC 4028) the IWF sent and that the peer answered 2xx", l);
    session_expired_ = &metrics_.counter(
        "iwf_mcptt_sessions_expired_total",
        "Calls ended because their session timer ran out or a refresh failed (RFC 4028)", l);
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
    stopKmsClient();  // joins its thread before the link it posts to goes
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

void McpttLink::count(std::string_view what, std::string_view reason) {
    metrics_
        .counter(what, "MCPTT IWF-1 link events by reason",
                 {{"link", cfg_.name}, {"reason", std::string(reason)}})
        .inc();
}

Status McpttLink::start(EventSink& sink) {
    sink_ = &sink;
    installProvisionedKeys();  // media_protection.key_file (mcptt_link_security.cpp)
    startKmsClient();          // media_protection.mikey (mcptt_link_security.cpp)
    sip::StackConfig sc;
    sc.name = cfg_.name;
    sc.listeners = cfg_.listen;
    sc.timers = cfg_.timers;
    sc.user_agent = "OpenIWF IWF-1";
    sc.send_gate = cfg_.send_gate;
    if (!cfg_.listen.empty()) {
        sc.advertised_host = cfg_.listen[0].address;
    }
    stack_ = std::make_unique<sip::Stack>(io_, metrics_, sc);
    stack_->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer& p) {
        onRequest(tx, req, p);
    });
    stack_->onCancel(
        [this](sip::ServerTxId tx, const sip::Message& invite) { onCancelled(tx, invite); });
    stack_->admitOnly([this](const sip::Peer& from) { return admitSource(from); });
    stack_->onAck([this](const sip::Message& ack, const sip::Peer& from) { onAck(ack, from); });
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
    stopKmsClient();
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
    calls_per_peer_.assign(peers_.size(), 0);
    setups_per_peer_.assign(peers_.size(), 0);
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
    countSetup(c, false);
    if (c.peer >= 0) {
        --calls_per_peer_[static_cast<std::size_t>(c.peer)];
    }
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
        Call& call = *calls_.at(it->second);
        if (peers_.match(from) != call.peer) {
            // Another configured peer may not end, refresh or re-target this peer's call.
            refuse(tx, req, from, peers::Refusal::WrongPeer, 403, "in-dialog request");
            return;
        }
        onInDialog(call, tx, req);
        return;
    }
    if (draining_ && m != "ACK") {
        reject(tx, req, 503, "draining");  // RFC 3261 21.5.4: try another server or later
        return;
    }
    if (m == "INVITE") {
        onNewInvite(tx, req, from);
    } else if (m == "OPTIONS") {
        sip::Message ok = sip::makeResponse(req, 200, {}, stack_->newTag());
        ok.addHeader("Allow", "INVITE, ACK, BYE, CANCEL, UPDATE, OPTIONS, MESSAGE, NOTIFY");
        (void)stack_->respond(tx, std::move(ok));
    } else if (m == "MESSAGE" || m == "NOTIFY") {
        onGroupKeyTransport(tx, req);  // a group document with GKTPs (mc-security.md §12b)
    } else {
        reject(tx, req, 405, "method not handled by the IWF-1 link");
    }
}

}  // namespace iwf::mc::mcptt
