#include "mc_adapters/mcptt/session_timer.hpp"

#include <algorithm>
#include <cctype>

#include "common/text.hpp"

namespace iwf::mc::mcptt {

namespace {

// delta-seconds = 1*DIGIT (RFC 3261 §25.1); values beyond 2^32-1 are refused (§20.10 caps
// delta-seconds at 2^32-1 as well).
std::optional<std::uint32_t> deltaSeconds(std::string_view s) {
    s = text::trimChars(s, " \t");
    if (s.empty() || s.size() > 10 ||
        !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
        return std::nullopt;
    }
    const std::uint64_t v = std::stoull(std::string(s));
    if (v > 0xFFFFFFFFULL) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(v);
}

}  // namespace

std::optional<SessionExpires> parseSessionExpires(std::string_view value) {
    const auto semi = value.find(';');
    auto secs = deltaSeconds(value.substr(0, semi));
    if (!secs || *secs == 0) {
        return std::nullopt;
    }
    SessionExpires se;
    se.interval = std::chrono::seconds(*secs);
    std::string_view rest = semi == std::string_view::npos ? "" : value.substr(semi + 1);
    while (!rest.empty()) {
        const auto next = rest.find(';');
        std::string_view param = text::trimChars(rest.substr(0, next), " \t");
        rest = next == std::string_view::npos ? "" : rest.substr(next + 1);
        const auto eq = param.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        if (text::iequalsAscii(text::trimChars(param.substr(0, eq), " \t"), "refresher")) {
            const std::string_view v = text::trimChars(param.substr(eq + 1), " \t");
            if (text::iequalsAscii(v, "uac")) {
                se.refresher = Refresher::Uac;
            } else if (text::iequalsAscii(v, "uas")) {
                se.refresher = Refresher::Uas;
            } else {
                return std::nullopt;
            }
        }
    }
    return se;
}

std::string formatSessionExpires(const SessionExpires& se) {
    std::string out = std::to_string(se.interval.count());
    if (se.refresher) {
        out += *se.refresher == Refresher::Uac ? ";refresher=uac" : ";refresher=uas";
    }
    return out;
}

std::optional<std::chrono::seconds> parseMinSe(std::string_view value) {
    auto secs = deltaSeconds(value.substr(0, value.find(';')));
    if (!secs) {
        return std::nullopt;
    }
    return std::chrono::seconds(*secs);
}

bool hasOptionTag(const sip::Message& m, std::string_view header, std::string_view tag) {
    for (const auto& v : m.headers(header)) {
        std::string_view rest = v;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            if (text::iequalsAscii(text::trimChars(rest.substr(0, comma), " \t"), tag)) {
                return true;
            }
            rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
        }
    }
    return false;
}

UasSessionAnswer answerAsUas(const sip::Message& request, const SessionTimerConfig& cfg) {
    UasSessionAnswer a;
    if (!cfg.enabled) {
        return a;
    }
    const bool uac_supports = hasOptionTag(request, "Supported", kTimerOptionTag) ||
                              hasOptionTag(request, "Require", kTimerOptionTag);
    auto asked = request.header("Session-Expires")
                     ? parseSessionExpires(*request.header("Session-Expires"))
                     : std::nullopt;
    const auto uac_min =
        request.header("Min-SE")
            ? parseMinSe(*request.header("Min-SE")).value_or(std::chrono::seconds(0))
            : std::chrono::seconds(0);
    const auto floor = std::max(uac_min, cfg.min_se);
    SessionExpires se;
    if (asked) {
        if (asked->interval < cfg.min_se && uac_supports) {
            // §9: too small for our policy: 422 with our Min-SE; the UAC retries.
            a.too_small = true;
            a.min_se = cfg.min_se;
            return a;
        }
        // §9: the UAS may shorten the interval (never below the request's Min-SE) and, when
        // the UAC does not support timers (so cannot be told 422), lengthens it to its own
        // minimum instead.
        se.interval = std::max(std::min(asked->interval, cfg.expires), floor);
        se.refresher = asked->refresher.value_or(uac_supports ? Refresher::Uac : Refresher::Uas);
    } else {
        se.interval = std::max(cfg.expires, floor);
        se.refresher = uac_supports ? Refresher::Uac : Refresher::Uas;
    }
    if (!uac_supports) {
        // §9: a UAC without timer support cannot refresh (it would not know it should).
        se.refresher = Refresher::Uas;
    }
    a.answer = se;
    // §9: Require: timer when the UAC refreshes (MUST) or supports timers (SHOULD).
    a.require_timer = uac_supports;
    return a;
}

void addUacSessionHeaders(sip::Message& m, const SessionTimerConfig& cfg,
                          std::chrono::seconds interval, bool we_refresh) {
    if (!cfg.enabled) {
        return;
    }
    m.addHeader("Supported", std::string(kTimerOptionTag));
    SessionExpires se;
    se.interval = interval;
    if (we_refresh) {
        se.refresher = Refresher::Uac;
    }
    m.setHeader("Session-Expires", formatSessionExpires(se));
    m.setHeader("Min-SE", std::to_string(cfg.min_se.count()));
}

std::optional<SessionTimerState> sessionFromUacResponse(const sip::Message& response) {
    auto v = response.header("Session-Expires");
    if (!v) {
        return std::nullopt;  // §7.2: no Session-Expires in the 2xx: no session timer
    }
    auto se = parseSessionExpires(*v);
    if (!se) {
        return std::nullopt;
    }
    // §9 makes the refresher parameter mandatory in the 2xx; if a peer leaves it out, the IWF
    // refreshes (the session stays alive and a peer that forgot it answers 481).
    return SessionTimerState{se->interval,
                             se->refresher.value_or(Refresher::Uac) == Refresher::Uac};
}

std::chrono::milliseconds refreshAfter(std::chrono::seconds interval) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(interval) / 2;
}

std::chrono::milliseconds expireAfter(std::chrono::seconds interval) {
    const auto margin = std::min<std::chrono::milliseconds>(
        std::chrono::seconds(32), std::chrono::milliseconds(interval) / 3);
    return std::chrono::milliseconds(interval) - margin;
}

}  // namespace iwf::mc::mcptt
