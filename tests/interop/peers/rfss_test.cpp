// The real iwfd as the home RFSS of a P25 group on its p25-issi link, joined by a serving
// RFSS that builds every SIP message and ISSI packet as NIST's ISSI conformance test tool
// does (fake_rfss.hpp: p25-wireline GroupCallControlManager, SipUtils, ContentList, PttSession,
// SmfTransmitter, HeartbeatTransmitter/Receiver; cited there), and the harness's MC system
// on the other side: MC clients that decrypt with their own keys.
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "fake_rfss.hpp"
#include "harness/runner/runner.hpp"
#include "harness/sim/p25_radio.hpp"
#include "peers_env.hpp"

namespace iwf::test::peers {
namespace {

using namespace std::chrono_literals;

// iwfd's p25-issi link, home of fire-ops (P25 TG 100 of the harness system), connection
// heartbeats every second (the default is 30 s; the fake's THEARTBEAT is scaled down too).
std::string withIssiLink(std::string config) {
    const std::string link =
        "  - name: rfss-issi\n    type: p25-issi\n    address: 127.0.0.1\n"
        "    sip_port: 0\n    rtp_port: 0\n    wacn: " +
        std::to_string(harness::kHarnessP25Wacn) +
        "\n    system: " + std::to_string(harness::kHarnessP25System) +
        "\n    rfss: 3\n    groups: [100]\n    heartbeat: 1\n";
    const std::string at = "lmr_links:\n";
    config.insert(config.find(at) + at.size(), link);
    return config;
}

struct IssiPorts {
    std::uint16_t sip = 0;
    std::uint16_t rtp = 0;
};

// IssiLink::start's log line.
IssiPorts issiPorts(const std::string& log) {
    std::smatch m;
    IssiPorts p;
    if (std::regex_search(log, m,
                          std::regex(R"(link=rfss-issi issi sip_port=(\d+) rtp_port=(\d+))"))) {
        p.sip = static_cast<std::uint16_t>(std::stoul(m[1].str()));
        p.rtp = static_cast<std::uint16_t>(std::stoul(m[2].str()));
    }
    return p;
}

// An encrypted group call (AES-256, ALGID 0x84, key 0x0101, the MI in the header word and the
// LDU2 ES) from a NIST-built serving RFSS into fire-ops, whose home is iwfd: the INVITE
// (multipart, c-protected:1) answered with a body NIST can read, the PTT Request granted with
// the request's TSN, 24 PTT Progress packets of 3 IMBE blocks, the MC client decrypts every
// frame (ciphertext, ALGID, KID and MI arrived bit-exact), iwfd answers the heartbeat query
// and sends connection heartbeats that keep the call, and the call ends by BYE.
//
// Before (iwfd as it was): the 200 OK's multipart boundary was "issi-<tag>", and NIST splits
// bodies at "--P25 ISSI body boundary" only: "No session description - dropping response", no
// ACK, no call. With that fixed, the PTT Grant carried TSN 0 (our own send-side TSN), which
// NIST's serving side drops (PttSession.verifyPttPacket): request timeout, PTT End, 0 frames.
// With that fixed, iwfd sent no connection heartbeats (it only answered queries): NIST tears
// the call down with a BYE at 4 x THEARTBEAT (GroupServing.heartbeatTimeout).
TEST(RfssInterop, NistServingRfssEncryptedGroupCall) {
    PeersEnv env;
    ASSERT_TRUE(env.start(peersScenario(), withIssiLink)) << env.error();
    IssiPorts ports;
    ASSERT_TRUE(waitFor(
        [&] {
            ports = issiPorts(env.iwfd().log());
            return ports.sip != 0;
        },
        20s))
        << env.iwfd().log();
    const harness::Scenario sc = peersScenario();
    RfssConfig rc;
    rc.wacn = harness::kHarnessP25Wacn;
    rc.system = harness::kHarnessP25System;
    rc.group = 100;
    rc.unit = 1001;
    rc.home_sip_port = ports.sip;
    rc.key = sc.keys[0].key;
    rc.kid = 0x0101;
    for (std::size_t i = 0; i < 8; ++i) {
        rc.first_mi[i] = static_cast<std::uint8_t>(0x31 + 7 * i);
    }
    rc.t_heartbeat = 500ms;  // 10 s / 20: the first heartbeat timeout is 2 s after the INVITE
    rc.t_request = 1000ms;   // the MC side's grant crosses a loaded machine
    FakeRfss rfss(rc);
    auto step = [&](std::int64_t ms) { rfss.clock(ms); };

    rfss.subscribeToGroup();
    runUntil(
        step,
        [&] { return rfss.acked() || !rfss.answerError().empty() || rfss.inviteStatus() >= 300; },
        20s);
    ASSERT_EQ(rfss.inviteStatus(), 200);
    ASSERT_EQ(rfss.answerError(), "") << rfss.answer();
    ASSERT_TRUE(rfss.acked());
    EXPECT_NE(rfss.answer().find("boundary=\"P25 ISSI body boundary\""), std::string::npos)
        << rfss.answer();
    EXPECT_NE(rfss.answer().find("c-protected:1"), std::string::npos) << rfss.answer();

    // A heartbeat query (TSN 0) is answered with a TSN-0 heartbeat.
    rfss.sendHeartbeatQuery();
    EXPECT_TRUE(runUntil(
        step, [&] { return rfss.heartbeatsFromHome() >= 1; }, 10s));

    rfss.sendSpurt();
    EXPECT_TRUE(runUntil(
        step, [&] { return rfss.spurtDone(); }, 30s));
    EXPECT_TRUE(rfss.granted());
    EXPECT_FALSE(rfss.requestTimedOut());
    EXPECT_EQ(rfss.droppedForTsn(), 0u);
    EXPECT_EQ(rfss.progressSent(), 24u);
    EXPECT_EQ(rfss.blocksSent(), 72u);

    // Every frame at the MC client: the ciphertext the RFSS sent, its ALGID/KID/MI, and the
    // canary after decryption with the client's own key.
    harness::P25VoiceCipher cipher(rc.key, rc.first_mi);
    std::set<std::uint32_t> ok;
    std::size_t bad = 0;
    auto tally = [&] {
        ok.clear();
        bad = 0;
        for (const auto& r : env.mc().records()) {
            if (r.client != "alice") {
                continue;
            }
            const auto sf = r.frame.pos.superframe;
            const auto idx = r.frame.pos.index;
            harness::Imbe11 want = harness::p25Canary(rc.tag, rc.nonce, sf, idx);
            harness::Imbe11 wire = want;
            (void)cipher.applyImbe(sf, idx, MutableByteView(wire.data(), wire.size()));
            const lmr::p25::Mi mi = cipher.miOf(sf);
            const bool exact = r.decrypted && r.plaintext == Bytes(want.begin(), want.end()) &&
                               r.frame.payload.view().size() == wire.size() &&
                               std::equal(wire.begin(), wire.end(), r.frame.payload.data()) &&
                               r.frame.crypto.encrypted && r.frame.crypto.algid == 0x84 &&
                               r.frame.crypto.key_id == 0x0101 &&
                               r.frame.crypto.mi.view().size() == mi.size() &&
                               std::equal(mi.begin(), mi.end(), r.frame.crypto.mi.data());
            if (exact) {
                ok.insert(sf * 18 + idx);
            } else {
                ++bad;
            }
        }
    };
    runUntil(
        step,
        [&] {
            tally();
            return ok.size() >= 72;
        },
        20s);
    tally();
    EXPECT_EQ(ok.size(), 72u);
    EXPECT_EQ(bad, 0u);

    // The call stays up past the fake's first heartbeat timeout (4 x 500 ms after the
    // INVITE) because iwfd sends connection heartbeats (TSN 0, its 1 s interval).
    runUntil(
        step, [&] { return rfss.heartbeatsFromHome() >= 4 || rfss.heartbeatTimeouts() > 0; }, 20s);
    EXPECT_EQ(rfss.heartbeatTimeouts(), 0u);
    EXPECT_GE(rfss.heartbeatsFromHome(), 4u);
    for (const auto& r : rfss.received()) {
        EXPECT_EQ(r.ssrc, 1u);  // LinkType.GROUP_HOME
        if (r.type == 9) {
            EXPECT_EQ(r.tsn, 0);
            EXPECT_EQ(r.interval, 1);
        }
    }

    rfss.bye();
    EXPECT_TRUE(runUntil(
        step, [&] { return rfss.byeStatus() != 0; }, 10s));
    EXPECT_EQ(rfss.byeStatus(), 200);
    EXPECT_FALSE(rfss.byeFromHome());
    EXPECT_TRUE(waitFor(
        [&] {
            return std::regex_search(
                env.iwfd().log(), std::regex(R"(link=rfss-issi call=\d+ end reason=normal BYE)"));
        },
        10s))
        << env.iwfd().log();
    EXPECT_EQ(env.metric("iwf_lmr_dropped_total", {"link=\"rfss-issi\""}), 0) << env.iwfd().log();
    EXPECT_EQ(env.metric("iwf_engine_refusals_total"), 0);
}

}  // namespace
}  // namespace iwf::test::peers
