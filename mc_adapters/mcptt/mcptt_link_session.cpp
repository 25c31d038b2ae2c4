// Session timers of the mcptt-iwf1 link's calls (RFC 4028; the header rules are in
// session_timer.hpp). Issue #21: after `kill -9` and a restart iwfd forgot two MC dialogs and
// nothing ever ended them. With a session timer:
//  - the refresher sends UPDATE (re-INVITE if the peer refuses UPDATE) every half interval;
//    a side that forgot the dialog answers 481 and the other ends the call (RFC 5057 §5.1);
//  - the side that does not refresh sends BYE when no refresh came for interval -
//    min(32 s, interval/3) (RFC 4028 §10).
// Both directions of call use it: the IWF asks for a timer in the INVITEs it sends and
// answers one (or proposes its own, refresher=uas, to a peer without timer support) in its
// 200 OK.
#include "common/log.hpp"
#include "mc_adapters/mcptt/ims_headers.hpp"
#include "mc_adapters/mcptt/mcptt_call.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"

namespace iwf::mc::mcptt {

using namespace link_detail;

void McpttLink::addSessionAnswer(sip::Message& ok, const UasSessionAnswer& a) {
    if (!a.answer) {
        return;
    }
    ok.addHeader("Supported", std::string(kTimerOptionTag));
    if (a.require_timer) {
        ok.addHeader("Require", std::string(kTimerOptionTag));
    }
    ok.setHeader("Session-Expires", formatSessionExpires(*a.answer));
}

void McpttLink::startSession(Call& call, std::chrono::seconds interval, bool we_refresh) {
    call.session_interval = interval;
    call.we_refresh = we_refresh;
    call.refreshing = false;
    armSessionTimer(call);
}

void McpttLink::armSessionTimer(Call& call) {
    if (call.session_interval.count() == 0) {
        return;
    }
    if (!call.session_timer) {
        call.session_timer = std::make_unique<asio::steady_timer>(io_);
    }
    std::chrono::milliseconds after =
        call.we_refresh ? refreshAfter(call.session_interval) : expireAfter(call.session_interval);
    if (call.refreshing) {
        // Our refresh is out: if it is not answered by the time the session would expire,
        // the session is over.
        after = expireAfter(call.session_interval) - refreshAfter(call.session_interval);
    }
    call.session_timer->expires_after(after);  // cancels a pending wait
    const CallRef ref = call.ref;
    std::weak_ptr<bool> alive = alive_;
    call.session_timer->async_wait([this, alive, ref](const boost::system::error_code& ec) {
        auto a = alive.lock();
        if (ec || !a || !*a) {
            return;
        }
        onSessionTimer(ref);
    });
}

void McpttLink::onSessionTimer(CallRef ref) {
    auto it = calls_.find(ref);
    if (it == calls_.end()) {
        return;
    }
    Call& c = *it->second;
    if (!c.dialog || c.ending) {
        return;
    }
    if (c.we_refresh && !c.refreshing) {
        refreshSession(c);
        return;
    }
    // The peer's refresh did not come, or ours was not answered in time.
    session_expired_->inc();
    endDialog(ref, true, c.refreshing ? "session refresh unanswered" : "session expired");
}

void McpttLink::refreshSession(Call& c) {
    sip::Message req;
    if (c.refresh_with_invite) {
        // The same SDP with the same version: nothing changes (RFC 3264 §8), no floor request.
        req = c.dialog->makeRequest("INVITE");
        req.setBody(buildMcpttSdp(ourMedia(c), c.ref, c.sdp_version).toString(),
                    sip::kSdpContentType);
    } else {
        req = c.dialog->makeRequest("UPDATE");  // RFC 3311: no body, no ACK
    }
    req.addHeader("Contact", angle(stack_->contactUri("iwf", c.dialog->peer().protocol)) +
                                 ims::mcpttContactFeatures());
    addUacSessionHeaders(req, cfg_.session_timer, c.session_interval, true);
    c.refreshing = true;
    armSessionTimer(c);
    const CallRef ref = c.ref;
    std::weak_ptr<bool> alive = alive_;
    stack_->sendRequest(req, c.dialog->peer(), [this, alive, ref, req](const sip::Message& rsp) {
        auto a = alive.lock();
        if (!a || !*a || rsp.status() < 200) {
            return;
        }
        onRefreshAnswer(ref, req, rsp);
    });
}

void McpttLink::onRefreshAnswer(CallRef ref, const sip::Message& request, const sip::Message& rsp) {
    auto it = calls_.find(ref);
    if (it == calls_.end()) {
        return;
    }
    Call& c = *it->second;
    const int st = rsp.status();
    if (st < 300) {
        if (request.method() == "INVITE") {
            stack_->sendAck(c.dialog->makeAck(request.cseqNumber()), c.dialog->peer());
        }
        session_refreshes_->inc();
        // §7.2: the 2xx says the interval and who refreshes next. A 2xx without
        // Session-Expires keeps the IWF refreshing at its interval: the refresh costs one
        // transaction per half interval and still finds out a dialog the peer forgot.
        if (auto s = sessionFromUacResponse(rsp)) {
            startSession(c, s->interval, s->we_refresh);
        } else {
            startSession(c, c.session_interval, true);
        }
        return;
    }
    if (st == 481 || st == 408) {
        // RFC 5057 §5.1: the peer no longer knows the dialog (481) or cannot be reached (408,
        // also the stack's transaction timeout): the call is over.
        session_expired_->inc();
        endDialog(ref, st == 408, "session refresh answered " + std::to_string(st));
        return;
    }
    if ((st == 405 || st == 501) && !c.refresh_with_invite) {
        c.refresh_with_invite = true;  // the peer does not take UPDATE
        c.refreshing = false;
        refreshSession(c);
        return;
    }
    if (st == 422) {
        // §7.4: the peer wants a longer interval; ask again with its Min-SE.
        auto min_se = rsp.header("Min-SE") ? parseMinSe(*rsp.header("Min-SE")) : std::nullopt;
        if (min_se && *min_se > c.session_interval) {
            c.session_interval = *min_se;
            c.refreshing = false;
            refreshSession(c);
            return;
        }
    }
    // Another failure (491 glare, 5xx): the session holds until the timer armed with the
    // refresh runs out (c.refreshing stays set), unless a later refresh succeeds.
}

void McpttLink::endDialog(CallRef ref, bool send_bye, std::string_view why) {
    auto it = calls_.find(ref);
    if (it == calls_.end()) {
        return;
    }
    Call& c = *it->second;
    c.ending = true;
    if (send_bye && c.dialog) {
        stack_->sendRequest(c.dialog->makeRequest("BYE"), c.dialog->peer(), {});
    }
    report(CallEnd{ref, EndReason::Error, std::string(why)});
    forget(ref);
}

}  // namespace iwf::mc::mcptt
