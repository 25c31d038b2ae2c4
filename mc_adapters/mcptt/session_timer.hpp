#pragma once
// SIP session timers (RFC 4028) as the mcptt-iwf1 link negotiates them: pure functions over
// the Session-Expires / Min-SE / Supported / Require headers, no sockets, no clocks.
//
// Why: a dialog one side forgot (iwfd killed and restarted, or the MC system's) must not live
// for ever on the other side. With a session timer the refresher re-sends a request every
// half interval (RFC 4028 §10); a side that forgot the dialog answers it 481 and the other
// side ends the call (RFC 5057 §5.1); without refreshes the other side sends BYE before the
// interval runs out (§10). docs/protocols/iwf-1.md "Session timers".
//
//   Session-Expires = ("Session-Expires" / "x") HCOLON delta-seconds *(SEMI se-params)
//   se-params       = refresher-param / generic-param;  refresher-param = "refresher="
//   ("uas"/"uac") Min-SE          = "Min-SE" HCOLON delta-seconds *(SEMI generic-param)      (RFC
//   4028 §4, §5)

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sip/message.hpp"

namespace iwf::mc::mcptt {

// RFC 4028 §4: the option tag, and the smallest Min-SE a UA should use (90 s).
inline constexpr std::string_view kTimerOptionTag = "timer";
inline constexpr std::chrono::seconds kRfcMinSe{90};

struct SessionTimerConfig {
    bool enabled = true;
    // The interval the IWF asks for and the largest it accepts (RFC 4028 §4 recommends 1800 s).
    std::chrono::seconds expires{1800};
    // The smallest interval the IWF accepts (a request below it gets 422 with this Min-SE).
    std::chrono::seconds min_se{kRfcMinSe};
};

// Who refreshes, named by the role in the transaction that carried the header: "uac" = the
// sender of that request, "uas" = the side that answered it.
enum class Refresher : std::uint8_t { Uac = 0, Uas = 1 };

struct SessionExpires {
    std::chrono::seconds interval{0};
    std::optional<Refresher> refresher;
};

// Parses a Session-Expires value ("1800;refresher=uac"); nullopt if malformed or 0.
std::optional<SessionExpires> parseSessionExpires(std::string_view value);
std::string formatSessionExpires(const SessionExpires& se);
// Parses a Min-SE value ("90"); nullopt if malformed.
std::optional<std::chrono::seconds> parseMinSe(std::string_view value);
// Whether `m` lists option tag `tag` in any `header` (Supported, Require).
bool hasOptionTag(const sip::Message& m, std::string_view header, std::string_view tag);

// What the IWF answers to a request (initial INVITE, or a refresh: re-INVITE / UPDATE) as
// its UAS (RFC 4028 §9).
struct UasSessionAnswer {
    bool too_small = false;  // answer 422 with Min-SE: min_se
    std::chrono::seconds min_se{0};
    std::optional<SessionExpires> answer;  // Session-Expires of the 2xx (none: no timer)
    bool require_timer = false;            // Require: timer in the 2xx
};
UasSessionAnswer answerAsUas(const sip::Message& request, const SessionTimerConfig& cfg);

// The headers a request the IWF sends (INVITE, refresh) carries to ask for a session timer:
// Supported: timer, Session-Expires: interval[;refresher=uac], Min-SE.
void addUacSessionHeaders(sip::Message& m, const SessionTimerConfig& cfg,
                          std::chrono::seconds interval, bool we_refresh);

// The session timer a 2xx to a request the IWF sent sets up (RFC 4028 §7.2): the interval
// and whether the IWF (the UAC of that transaction) refreshes; nullopt = no session timer.
struct SessionTimerState {
    std::chrono::seconds interval{0};
    bool we_refresh = false;
};
std::optional<SessionTimerState> sessionFromUacResponse(const sip::Message& response);

// When the refresher sends its refresh: half the interval (§10).
std::chrono::milliseconds refreshAfter(std::chrono::seconds interval);
// When the side that does not refresh gives up and sends BYE: interval - min(32 s, interval/3)
// after the last refresh (§10).
std::chrono::milliseconds expireAfter(std::chrono::seconds interval);

}  // namespace iwf::mc::mcptt
