// RFC 4028 session timer rules of the mcptt-iwf1 link (session_timer.hpp). The header values
// are the RFC's own examples (§4: "Session-Expires: 4000;refresher=uac", §5: "Min-SE: 3600";
// compact form "x"); the decisions follow §7.2, §9 and §10 clause by clause. SIPp judges the
// wire exchange (tests/interop/sipp, session_timer scenarios).
#include "mc_adapters/mcptt/session_timer.hpp"

#include <gtest/gtest.h>

namespace iwf::mc::mcptt {
namespace {

using std::chrono::seconds;

TEST(SessionTimer, ParsesAndFormatsRfc4028Values) {
    auto a = parseSessionExpires("4000;refresher=uac");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->interval, seconds(4000));
    EXPECT_EQ(a->refresher, Refresher::Uac);
    auto b = parseSessionExpires(" 120 ; Refresher = UAS ;foo=bar");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->refresher, Refresher::Uas);
    auto c = parseSessionExpires("1800");
    ASSERT_TRUE(c);
    EXPECT_FALSE(c->refresher);
    for (const char* bad : {"", "0", "abc", "90;refresher=foo", "-5", "99999999999"}) {
        EXPECT_FALSE(parseSessionExpires(bad)) << bad;
    }
    EXPECT_EQ(formatSessionExpires({seconds(90), Refresher::Uas}), "90;refresher=uas");
    EXPECT_EQ(formatSessionExpires({seconds(1800), std::nullopt}), "1800");
    EXPECT_EQ(parseMinSe("3600"), seconds(3600));
    EXPECT_FALSE(parseMinSe("x"));
    sip::Message m = sip::Message::request("INVITE", "sip:iwf@iwf.example");
    m.addHeader("k", "100rel, Timer");       // compact Supported
    m.addHeader("x", "4000;refresher=uac");  // compact Session-Expires
    EXPECT_TRUE(hasOptionTag(m, "Supported", "timer"));
    EXPECT_FALSE(hasOptionTag(m, "Require", "timer"));
    EXPECT_EQ(m.header("Session-Expires").value_or(""), "4000;refresher=uac");
}

sip::Message request(std::vector<std::pair<std::string, std::string>> headers) {
    sip::Message m = sip::Message::request("INVITE", "sip:iwf@iwf.example");
    for (auto& [k, v] : headers) {
        m.addHeader(k, v);
    }
    return m;
}

TEST(SessionTimer, AnswersAsUasPerRfc4028Section9) {
    const SessionTimerConfig cfg;  // 1800 s, Min-SE 90 s
    // A UAC with timer support, no refresher named: the interval is capped at ours and the
    // UAC refreshes; Require: timer because it does.
    auto a = answerAsUas(request({{"Supported", "timer"}, {"Session-Expires", "4000"}}), cfg);
    ASSERT_TRUE(a.answer);
    EXPECT_EQ(a.answer->interval, seconds(1800));
    EXPECT_EQ(a.answer->refresher, Refresher::Uac);
    EXPECT_TRUE(a.require_timer);
    // Too small for our Min-SE, and the UAC understands 422.
    auto b = answerAsUas(request({{"Supported", "timer"}, {"Session-Expires", "60"}}), cfg);
    EXPECT_TRUE(b.too_small);
    EXPECT_EQ(b.min_se, seconds(90));
    // A UAC without timer support cannot be told 422: the interval is raised instead, and
    // the IWF refreshes.
    auto c = answerAsUas(request({{"Session-Expires", "60;refresher=uac"}}), cfg);
    ASSERT_TRUE(c.answer);
    EXPECT_FALSE(c.too_small);
    EXPECT_EQ(c.answer->interval, seconds(90));
    EXPECT_EQ(c.answer->refresher, Refresher::Uas);
    EXPECT_FALSE(c.require_timer);
    // Nothing asked: the IWF proposes its interval and refreshes itself.
    auto d = answerAsUas(request({}), cfg);
    ASSERT_TRUE(d.answer);
    EXPECT_EQ(d.answer->interval, seconds(1800));
    EXPECT_EQ(d.answer->refresher, Refresher::Uas);
    // Never below the UAC's own Min-SE when shortening.
    auto e = answerAsUas(request({{"Supported", "timer"},
                                  {"Session-Expires", "4000;refresher=uas"},
                                  {"Min-SE", "3600"}}),
                         cfg);
    ASSERT_TRUE(e.answer);
    EXPECT_EQ(e.answer->interval, seconds(3600));
    EXPECT_EQ(e.answer->refresher, Refresher::Uas);
    // Switched off by config: no Session-Expires at all.
    SessionTimerConfig off;
    off.enabled = false;
    EXPECT_FALSE(answerAsUas(request({{"Session-Expires", "90"}}), off).answer);
}

TEST(SessionTimer, UacSideAndTiming) {
    SessionTimerConfig cfg;
    sip::Message inv = sip::Message::request("INVITE", "sip:cf@mc.example");
    addUacSessionHeaders(inv, cfg, seconds(1800), false);
    EXPECT_TRUE(hasOptionTag(inv, "Supported", "timer"));
    EXPECT_EQ(inv.header("Session-Expires").value_or(""), "1800");
    EXPECT_EQ(inv.header("Min-SE").value_or(""), "90");
    sip::Message refresh = sip::Message::request("UPDATE", "sip:cf@mc.example");
    addUacSessionHeaders(refresh, cfg, seconds(600), true);
    EXPECT_EQ(refresh.header("Session-Expires").value_or(""), "600;refresher=uac");

    sip::Message ok = sip::Message::response(200, "OK");
    EXPECT_FALSE(sessionFromUacResponse(ok));  // §7.2: no Session-Expires, no timer
    ok.setHeader("Session-Expires", "1200;refresher=uas");
    auto s = sessionFromUacResponse(ok);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->interval, seconds(1200));
    EXPECT_FALSE(s->we_refresh);
    ok.setHeader("Session-Expires", "1200;refresher=uac");
    EXPECT_TRUE(sessionFromUacResponse(ok)->we_refresh);

    // §10: refresh at half the interval; the other side gives up at interval - min(32, I/3).
    EXPECT_EQ(refreshAfter(seconds(1800)), seconds(900));
    EXPECT_EQ(expireAfter(seconds(1800)), seconds(1768));
    EXPECT_EQ(expireAfter(seconds(6)), seconds(4));
}

}  // namespace
}  // namespace iwf::mc::mcptt
