#pragma once
// Internal to the mcptt-iwf1 link (mcptt_link*.cpp): the state of one call and the small
// helpers the link's files share. Not for use outside mc_adapters/mcptt/.
//
// The link is split by concern (issue #13: no file over 1,000 lines):
//   mcptt_link.cpp        lifecycle (start/stop), deliver() dispatch, call bookkeeping, the
//                         incoming request router;
//   mcptt_link_uas.cpp    calls the MC system starts (INVITE, in-dialog requests, CANCEL);
//   mcptt_link_uac.cpp    calls the IWF starts (INVITE building and pacing, priority change,
//                         ending a call) and affiliation PUBLISH;
//   mcptt_link_media.cpp  per-call RTP / floor endpoints, held media, floor messages;
//   mcptt_link_security.cpp  TS 33.180 media protection: keys, SRTP / SRTCP per call.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mc_adapters/mcptt/mcptt_link.hpp"

namespace iwf::mc::mcptt::link_detail {

inline std::string uriOf(const Address& a) {
    if (const auto* u = std::get_if<McId>(&a)) {
        return u->uri;
    }
    if (const auto* g = std::get_if<McGroupId>(&a)) {
        return g->uri;
    }
    return {};
}

inline std::string angle(const std::string& uri) {
    return "<" + uri + ">";
}

inline std::string stripAngle(std::string_view v) {
    auto na = sip::parseNameAddr(v);
    return na ? na->uri : std::string(v);
}

inline CallPriority priorityOf(const McpttInfo& info) {
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
inline void setIndication(McpttInfo& info, CallPriority p) {
    info.emergency.reset();
    info.imminent_peril.reset();
    if (p == CallPriority::Emergency) {
        info.emergency = true;
    } else if (p == CallPriority::ImminentPeril) {
        info.imminent_peril = true;
    }
}

}  // namespace iwf::mc::mcptt::link_detail

namespace iwf::mc::mcptt {

struct McpttLink::Call {
    CallRef ref = 0;
    CallKind kind = CallKind::Group;
    CallPriority priority = CallPriority::Normal;
    bool broadcast = false;
    bool floor_control = true;
    bool outgoing = false;
    Bytes pck_message;  // outgoing private call: our PCK's I_MESSAGE (a=key-mgmt, §7.2)
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
    // AMR-WB on the audio line (an analogue-backed call, issue #19): RFC 4867 payloads, in
    // the layout negotiated; nullopt = the configured encoding (X-IWF-LMR), as before.
    std::optional<AmrWbParams> amr;
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
    // Peers (mcptt_link_peers.cpp): the configured peer the call is with (index into the
    // link's table), and whether it counts among that peer's unacknowledged setups.
    int peer = -1;
    bool setup_counted = false;
    // Session timer (RFC 4028, mcptt_link_session.cpp): interval 0 = none. The timer fires for
    // our refresh (we_refresh) or for the expiry of the peer's.
    std::chrono::seconds session_interval{0};
    bool we_refresh = false;
    bool refreshing = false;           // our refresh request is outstanding
    bool refresh_with_invite = false;  // the peer refused UPDATE: refresh with re-INVITE
    bool session_retried = false;      // our INVITE was sent again after a 422
    std::unique_ptr<asio::steady_timer> session_timer;
};

}  // namespace iwf::mc::mcptt
