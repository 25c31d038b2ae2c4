// Bounded state and honest reloads of the real iwfd's LMR links, next to a legitimate
// encrypted P25 call (radio A -> reflector -> radio B, every record exact):
//  - junk from thousands of source addresses (and HBP peer IDs) creates no metric series;
//  - SIGHUP applies a changed HBP password and P25 allow-list at once, or refuses the whole
//    file as needing a restart — never "reload=ok" with a change ignored.
#include <csignal>
#include <random>

#include <gtest/gtest.h>

#include "lmr_adapters/dmr/hbp.hpp"
#include "lmr_hostile_support.hpp"

namespace iwf::hostile {
namespace {

using lmr::dmr::hbpSimple;
using lmr::dmr::HbpType;

struct LmrStateHostile : ::testing::Test {
    void SetUp() override {
        p25_port = pickLoopbackPort(PortProtocol::Udp);
        dmr_port = pickLoopbackPort(PortProtocol::Udp);
    }
    std::string links(const std::string& password, const std::string& p25_allow,
                      const std::string& dmr_extra = "") const {
        return "  - name: p25\n    type: p25-records\n    address: 127.0.0.1\n    port: " +
               std::to_string(p25_port) +
               "\n    wacn: 0xBEE00\n    system: 0x001\n    tgid: 100\n    call_timeout: 5s\n"
               "    allow: " +
               p25_allow + "\n  - name: dmr\n    type: dmr-hbp-master\n    address: 127.0.0.1\n" +
               "    port: " + std::to_string(dmr_port) + "\n    password: " + password +
               "\n    id: 9990\n" + dmr_extra;
    }
    void linkRadios() {
        b.sendTo(p25_port, pollBytes("RADIOB"));
        ASSERT_TRUE(b.receive(10s)) << iwfd.iwfd.log();
        a.sendTo(p25_port, pollBytes("RADIOA"));
        ASSERT_TRUE(a.receive(10s)) << iwfd.iwfd.log();
    }
    void expectCallCarried(const std::vector<Bytes>& call) {
        std::vector<Bytes> want = call;
        want.push_back(endRecord());
        expectRecords(b, want, iwfd.iwfd.log());
    }
    // HBP login; true when RPTC was acknowledged.
    bool hbpLogin(Sock& s, std::uint32_t id, const std::string& password) {
        s.sendTo(dmr_port, lmr::dmr::encodeHbp(hbpSimple(HbpType::Rptl, id)));
        auto salt = s.receive(5s);
        auto sm = salt ? lmr::dmr::decodeHbp(*salt) : Result<lmr::dmr::HbpMessage>(Error{"none"});
        if (!sm || sm->type != HbpType::Rptack) {
            return false;
        }
        auto k = hbpSimple(HbpType::Rptk, id);
        k.key = lmr::dmr::hbpLoginKey(sm->ack, password);
        s.sendTo(dmr_port, lmr::dmr::encodeHbp(k));
        auto a1 = s.receive(5s);
        auto m1 = a1 ? lmr::dmr::decodeHbp(*a1) : Result<lmr::dmr::HbpMessage>(Error{"none"});
        if (!m1 || m1->type != HbpType::Rptack) {
            return false;
        }
        auto c = hbpSimple(HbpType::Rptc, id);
        c.config.callsign = "N0CALL";
        s.sendTo(dmr_port, lmr::dmr::encodeHbp(c));
        auto a2 = s.receive(5s);
        auto m2 = a2 ? lmr::dmr::decodeHbp(*a2) : Result<lmr::dmr::HbpMessage>(Error{"none"});
        return m2 && m2->type == HbpType::Rptack;
    }
    double revision() { return iwfd.metric("iwf_config_revision"); }

    std::uint16_t p25_port = 0;
    std::uint16_t dmr_port = 0;
    HostileIwfd iwfd;
    Sock a;
    Sock b;
};

// Before: junk from 5x10^5 source addresses made 494,148 series (RSS 119 -> 968 MB, /metrics
// 45 MB, 0.9 s per scrape); HBP peer IDs became labels. Now the peer label is a bounded set
// (linked / logged-in peers, "other").
TEST_F(LmrStateHostile, JunkFromThousandsOfSourcesCreatesNoSeries) {
    ASSERT_TRUE(iwfd.start(links("hbp-pass", "[127.0.0.1]"))) << iwfd.iwfd.log();
    ASSERT_NO_FATAL_FAILURE(linkRadios());
    const auto call = encryptedP25Call(3);
    std::mt19937 rng(11);
    constexpr int kSources = 3000;
    for (int i = 0; i < kSources; ++i) {
        Sock s("127.2." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250));
        s.sendTo(p25_port, Bytes{0x99, 0x01});                           // junk record
        s.sendTo(p25_port, encryptedP25Call(1, 9)[0]);                   // a record, never linked
        auto key = hbpSimple(HbpType::Rptk, 1000000 + rng() % 9000000);  // unknown peer IDs
        s.sendTo(dmr_port, lmr::dmr::encodeHbp(key));
        Bytes dmrd(55, 0);
        std::copy_n("DMRD", 4, dmrd.begin());
        dmrd[11] = static_cast<std::uint8_t>(rng());
        dmrd[14] = static_cast<std::uint8_t>(rng());
        s.sendTo(dmr_port, dmrd);
        if (i % 55 == 0 && static_cast<std::size_t>(i / 55) < call.size()) {
            a.sendTo(p25_port, call[static_cast<std::size_t>(i / 55)]);
        }
    }
    for (std::size_t k = kSources / 55 + 1; k < call.size(); ++k) {
        a.sendTo(p25_port, call[k]);
    }
    a.sendTo(p25_port, endRecord());
    expectCallCarried(call);
    ASSERT_TRUE(waitFor(
        [&] {
            const auto m = iwfd.metrics();
            return prometheusValue(
                       m, R"(iwf_lmr_dropped_total{link="p25",peer="other",reason="not_allowed"})")
                           .value_or(0) >= 2 * kSources &&
                   prometheusValue(
                       m,
                       R"(iwf_lmr_dropped_total{link="dmr",peer="other",reason="unexpected_login"})")
                           .value_or(0) >= kSources;
        },
        30s, 200ms))
        << iwfd.metrics();
    const std::string m = iwfd.metrics();
    EXPECT_LE(seriesOf(m, "iwf_lmr_dropped_total"), 10u) << m;
    EXPECT_EQ(m.find("127.2."), std::string::npos) << "a source address became a label";
    EXPECT_LT(m.size(), 64u * 1024) << "the /metrics page stays small";
    iwfd.stop();
}

// Before: SIGHUP logged reload=ok for a changed HBP password while the old one kept working.
TEST_F(LmrStateHostile, ReloadAppliesThePasswordAndAllowListOrRefusesTheWholeFile) {
    ASSERT_TRUE(iwfd.start(links("old-pass", "[127.0.0.1, 127.0.0.3]"))) << iwfd.iwfd.log();
    ASSERT_NO_FATAL_FAILURE(linkRadios());
    Sock repeater;
    ASSERT_TRUE(hbpLogin(repeater, 312000, "old-pass"));
    Sock third("127.0.0.3");
    third.sendTo(p25_port, pollBytes("THIRD"));
    ASSERT_TRUE(third.receive(10s)) << "127.0.0.3 is allowed at first";
    ASSERT_EQ(revision(), 1);

    // 1. A file that changes the password, the allow-list and a key only a restart applies
    //    (the HBP port): refused whole, nothing of it applied.
    const std::uint16_t other_port = pickLoopbackPort(PortProtocol::Udp);
    std::string moved = links("new-pass", "[127.0.0.1]");
    moved.replace(moved.find("port: " + std::to_string(dmr_port)),
                  6 + std::to_string(dmr_port).size(), "port: " + std::to_string(other_port));
    iwfd.rewrite(moved);
    iwfd.iwfd.signal(SIGHUP);
    ASSERT_TRUE(
        waitFor([&] { return iwfd.iwfd.log().find("needs a restart") != std::string::npos; }, 10s))
        << iwfd.iwfd.log();
    EXPECT_EQ(revision(), 1);
    EXPECT_EQ(iwfd.iwfd.log().find("reload=ok"), std::string::npos);
    Sock still;
    EXPECT_TRUE(hbpLogin(still, 312001, "old-pass")) << "the old config stays whole";

    // 2. Only the password and the allow-list change: applied at once.
    iwfd.rewrite(links("new-pass", "[127.0.0.1]"));
    iwfd.iwfd.signal(SIGHUP);
    ASSERT_TRUE(waitFor([&] { return revision() == 2; }, 10s)) << iwfd.iwfd.log();
    Sock old_pw;
    EXPECT_FALSE(hbpLogin(old_pw, 312002, "old-pass")) << "the old password no longer works";
    Sock new_pw;
    EXPECT_TRUE(hbpLogin(new_pw, 312003, "new-pass"));
    // Sessions opened with the old password were closed (MSTCL) to log in again.
    bool closed = false;
    while (auto d = repeater.receive(500ms)) {
        auto m = lmr::dmr::decodeHbp(*d);
        closed = closed || (m.ok() && m->type == HbpType::Mstcl);
    }
    EXPECT_TRUE(closed);
    third.sendTo(p25_port, pollBytes("THIRD"));
    EXPECT_FALSE(third.receive(500ms)) << "127.0.0.3 is no longer allowed";

    // The legitimate call still runs across all of it.
    const auto call = encryptedP25Call(3);
    for (const auto& r : call) {
        a.sendTo(p25_port, r);
    }
    a.sendTo(p25_port, endRecord());
    expectCallCarried(call);
    iwfd.stop();
}

}  // namespace
}  // namespace iwf::hostile
