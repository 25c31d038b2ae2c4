// The real iwfd as the "reflector" of a P25Gateway static talkgroup (fake_p25gateway.hpp,
// written from g4klx/P25Clients P25Gateway.cpp run()), with an MMDVMHost behind it writing
// records as P25Network.cpp writeLDU1/writeLDU2 do (the harness P25 radio: AES-256 encrypted
// canaries, no header, service options 0, the ES only in the LDU2), and the harness's MC
// system: MC clients that decrypt with their own keys.
#include <set>

#include <gtest/gtest.h>

#include "fake_p25gateway.hpp"
#include "harness/sim/p25_radio.hpp"
#include "peers_env.hpp"

namespace iwf::test::peers {
namespace {

using namespace std::chrono_literals;

P25GatewayConfig gatewayConfig(const PeersEnv& env, std::uint16_t mmdvm_port) {
    P25GatewayConfig c;
    c.static_tg = 100;
    c.reflector_port = env.p25Port();
    c.mmdvm_port = mmdvm_port;
    c.poll = 100ms;       // 5 s / 50
    c.rf_hang = 2400ms;   // 120 s / 50
    c.net_hang = 1200ms;  // 60 s / 50
    return c;
}

// iwfd answers P25Gateway's polls with the poll itself, so P25Gateway never mistakes the
// answer for network activity. Before: the answer carried iwfd's own callsign; P25Gateway
// "switched to reflector due to network activity" at the first one, forwarded the stray poll
// and a TG record to its MMDVMHost, unlinked at the hang timer and did it again: a flap every
// ~65 s.
TEST(P25GatewayInterop, PollAnswersKeepAnIdleGatewayIdle) {
    PeersEnv env;
    ASSERT_TRUE(env.start(peersScenario())) << env.error();
    Udp mmdvm;
    FakeP25Gateway gw(gatewayConfig(env, mmdvm.port()));
    gw.start();
    runUntil([&](std::int64_t ms) { gw.clock(ms); }, [&] { return gw.pollsSent() >= 40; }, 30s);
    EXPECT_GE(gw.pollsSent(), 40u);
    EXPECT_EQ(gw.switchesByNetwork(), 0u);
    EXPECT_EQ(gw.unlinksByTimer(), 0u);
    for (const auto& d : gw.toMmdvm()) {
        // Only the Rpt side's own polls (RptNetwork.cpp writePoll) ever reach the MMDVMHost.
        EXPECT_EQ(toHex(d), "f047344b4c582020202020");
    }
    EXPECT_EQ(env.metric("iwf_lmr_dropped_total", {"link=\"harness-p25\""}), 0);
}

// An encrypted call from an MMDVMHost whose LDU2 carries the radio's ES (ALGID 0x84, key
// 0x0101), into the secure group fire-ops, through the gateway: first while the gateway is
// idle (it drops 0x62..0x64 until the 0x65 links it: the call reaches iwfd from frame 4 on),
// then a second call while it is linked (from frame 1). Carried, never refused: every frame
// the MC clients receive decrypts to what the radio sent. Before: classified clear at its
// first frame (nothing before the LDU2 says "encrypted"), refused (clear_in_secure_group),
// 0 frames at the MC side.
TEST(P25GatewayInterop, MmdvmHostEncryptedCallsIntoASecureGroupAreCarried) {
    PeersEnv env;
    ASSERT_TRUE(env.start(peersScenario())) << env.error();
    Udp mmdvm;
    FakeP25Gateway gw(gatewayConfig(env, mmdvm.port()));
    gw.start();
    const harness::Scenario sc = peersScenario();
    auto radioFor = [&](std::uint16_t nonce) {
        harness::P25RadioConfig rc;
        rc.unit = 1001;
        rc.tgid = 100;
        rc.encrypted = true;
        rc.key = sc.keys[0].key;
        rc.key_id = 0x0101;
        rc.tag = 3;
        rc.nonce = nonce;
        for (std::size_t i = 0; i < rc.first_mi.size() - 1; ++i) {
            rc.first_mi[i] = static_cast<std::uint8_t>(0x21 + i + nonce);
        }
        return harness::P25Radio(rc);
    };
    auto transmit = [&](harness::P25Radio& radio, std::uint32_t superframes) {
        std::vector<Bytes> recs;
        for (std::uint32_t sf = 0; sf < superframes; ++sf) {
            auto r = radio.superframe(sf);
            EXPECT_TRUE(r.ok());
            recs.insert(recs.end(), r->begin(), r->end());
        }
        recs.push_back(radio.end());
        // MMDVMHost writes a whole LDU (9 records) when the RF LDU is complete: every 180 ms.
        std::size_t k = 0;
        PeerTimer ldu(180ms);
        ldu.start();
        runUntil(
            [&](std::int64_t ms) {
                gw.clock(ms);
                ldu.clock(ms);
                if (ldu.hasExpired()) {
                    for (int i = 0; i < 9 && k < recs.size(); ++i) {
                        mmdvm.sendTo(gw.localPort(), recs[k++]);
                    }
                    if (k + 1 == recs.size()) {
                        mmdvm.sendTo(gw.localPort(), recs[k++]);  // 0x80 with the last LDU
                    }
                    ldu.start();
                }
            },
            [&] { return k == recs.size(); }, 30s);
    };
    harness::P25Radio first = radioFor(1);
    transmit(first, 4);
    EXPECT_EQ(gw.switchesByRf(), 1u);
    // The second call while the gateway is still linked (RF hang time).
    harness::P25Radio second = radioFor(2);
    transmit(second, 4);
    // Both calls reach the MC side and every frame decrypts there.
    std::map<std::uint16_t, std::size_t> ok;
    std::map<std::uint16_t, std::size_t> bad;
    std::map<std::uint16_t, std::uint32_t> first_sf;
    std::map<std::uint16_t, std::set<std::uint32_t>> seen;  // sf * 18 + index
    std::size_t undecrypted = 0;
    auto tally = [&] {
        ok.clear();
        bad.clear();
        first_sf.clear();
        seen.clear();
        undecrypted = 0;
        for (const auto& r : env.mc().records()) {
            if (r.client != "alice") {
                continue;
            }
            if (!r.decrypted || r.plaintext.size() != 11) {
                ++undecrypted;
                continue;
            }
            const auto nonce = static_cast<std::uint16_t>((r.plaintext[9] << 8) | r.plaintext[10]);
            const harness::Imbe11 want =
                harness::p25Canary(3, nonce, r.frame.pos.superframe, r.frame.pos.index);
            if (std::equal(want.begin(), want.end(), r.plaintext.begin())) {
                ++ok[nonce];
                first_sf.try_emplace(nonce, r.frame.pos.superframe);
                seen[nonce].insert(r.frame.pos.superframe * 18 + r.frame.pos.index);
            } else {
                ++bad[nonce];
            }
        }
    };
    runUntil([&](std::int64_t ms) { gw.clock(ms); },
             [&] {
                 tally();
                 return ok[2] >= 72;
             },
             20s);
    tally();
    EXPECT_EQ(undecrypted, 0u);
    EXPECT_TRUE(bad.empty());
    // Second call (gateway linked): all 72 frames, from superframe 0 frame 1 (its MI
    // recovered from the first LDU2). First call (gateway idle): superframe 0 reaches iwfd
    // from frame 4; the engine starts an encrypted stream only at a frame 1 with an MI
    // (gateway/engine policy isSyncPoint), so the MC side decrypts from superframe 1.
    EXPECT_EQ(gw.unlinksByTimer(), 0u);
    std::string missing;
    for (std::uint32_t k = 0; k < 72; ++k) {
        if (seen[2].count(k) == 0) {
            missing += " sf" + std::to_string(k / 18) + "/" + std::to_string(k % 18);
        }
    }
    EXPECT_EQ(ok[2], 72u) << "missing:" << missing;
    EXPECT_EQ(first_sf[2], 0u);
    EXPECT_GE(ok[1], 54u) << "first call: " << ok[1] << " frames from superframe " << first_sf[1];
    // Both calls ended (0x80 through the gateway) with superframe 0's MI recovered.
    EXPECT_TRUE(runUntil([&](std::int64_t ms) { gw.clock(ms); },
                         [&] { return env.metric("iwf_p25_mi_backfilled_total") >= 2; }, 10s));
    EXPECT_EQ(env.metric("iwf_engine_refusals_total"), 0);
}

}  // namespace
}  // namespace iwf::test::peers
