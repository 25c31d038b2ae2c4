// The real iwfd against DMR peers written from their sources (fake_dmrgateway.hpp follows
// g4klx/DMRGateway DMRNetwork.cpp; the MMDVMHost shapes follow MMDVMHost DMRNetwork.cpp and,
// for hotspots that still log in by themselves, DMRDirectNetwork.cpp as it was until June
// 2023), over UDP on 127.0.0.1, with the harness's MC system on the other side.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "fake_dmrgateway.hpp"
#include "lmr_adapters/dmr/burst.hpp"
#include "lmr_adapters/dmr/fec.hpp"
#include "peers_env.hpp"

namespace iwf::test::peers {
namespace {

using namespace std::chrono_literals;
using lmr::dmr::Burst;

// DMRGateway's timers divided by 50 (10 s -> 200 ms, 60 s -> 1.2 s): same logic, a test that
// does not wait a minute.
DmrGatewayConfig gatewayConfig(std::uint16_t master_port, std::uint32_t id, std::uint32_t freq,
                               const std::string& options) {
    DmrGatewayConfig c;
    c.id = id;
    c.password = harness::kHarnessHbpPassword;
    c.config_text = dmrGatewayConfigText("G9BF", freq, freq);
    c.options = options;
    c.master_port = master_port;
    c.retry = 200ms;
    c.timeout = 1200ms;
    return c;
}

std::size_t voiceBursts(const std::vector<Bytes>& dmrd) {
    std::size_t n = 0;
    for (const auto& d : dmrd) {
        n += (d[15] & 0x20) == 0 ? 1 : 0;  // not data sync: voice sync (A) or voice (B..F)
    }
    return n;
}

// A DMRGateway on 23 cm (RX/TX 1297 MHz: its RPTC is 304 bytes) with Options "TS1=91;TS2="
// logs in to iwfd's master, and an MC client talking in the talkgroup is heard through it.
// Before: the RPTC was refused (bad_length, no answer) so DMRGateway timed out and started
// over for ever; and, logged in at 70 cm, every DMRD iwfd sent was 53 bytes, which
// DMRGateway drops without a word: 0 bursts reached the hotspot.
TEST(DmrGatewayInterop, LogsInOn23cmAndHearsAnMcTalker) {
    PeersEnv env;
    ASSERT_TRUE(env.start(peersScenario())) << env.error();
    FakeDmrGateway gw(gatewayConfig(env.dmrPort(), 234100101, 1297000000, "TS1=91;TS2="));
    gw.open();
    auto step = [&](std::int64_t ms) { gw.clock(ms); };
    ASSERT_TRUE(runUntil(
        step, [&] { return gw.status() == FakeDmrGateway::Status::Running; }, 20s))
        << "failures: " << gw.linkFailures().size() << "\n"
        << env.iwfd().log();
    EXPECT_EQ(gw.sent("RPTC"), 1u);
    EXPECT_TRUE(gw.linkFailures().empty());

    std::atomic<bool> done{false};
    harness::McTalkResult result;
    std::thread talker([&] {
        harness::McTalkRequest r;
        r.client = "bob";
        r.group = "sip:city-ops@iwf.example";
        r.encrypted = false;
        r.superframes = 3;
        r.tag = 7;
        result = env.mc().talk(r);
        done = true;
    });
    const bool heard = runUntil(
        step, [&] { return done && voiceBursts(gw.queued()) >= 18; }, 60s);
    talker.join();
    ASSERT_EQ(result.outcome, "granted") << result.reason << "\n" << env.iwfd().log();
    EXPECT_TRUE(heard) << "queued " << gw.queued().size() << ", dropped for their length "
                       << gw.dmrdIgnored();
    EXPECT_EQ(voiceBursts(gw.queued()), 18u);
    EXPECT_EQ(gw.dmrdIgnored(), 0u);
    for (const auto& d : gw.queued()) {
        EXPECT_EQ(d.size(), 55u);
        EXPECT_EQ(toHex(ByteView(d).subspan(8, 3)), "00005b");  // TG 91
        EXPECT_EQ(d[15] & 0x80, 0);                             // TS1 (subscribed there)
    }
    // Pinged every retry period while running, answered every time.
    EXPECT_GE(gw.sent("RPTPING"), 1u);
    EXPECT_TRUE(gw.linkFailures().empty());
}

// RPTO subscriptions are honoured: a second DMRGateway that subscribed only TG 92 on TS1
// and nothing on TS2 receives nothing of a call to TG 91 (counted), the first one all of it.
// Before: every connected peer got every call.
TEST(DmrGatewayInterop, TalkgroupSubscriptionsFromRptoAreHonoured) {
    PeersEnv env;
    ASSERT_TRUE(env.start(peersScenario())) << env.error();
    FakeDmrGateway a(gatewayConfig(env.dmrPort(), 234100101, 435000000, "TS1=91;TS2="));
    FakeDmrGateway b(gatewayConfig(env.dmrPort(), 234100102, 435000000, "TS1=92;TS2="));
    a.open();
    b.open();
    auto step = [&](std::int64_t ms) {
        a.clock(ms);
        b.clock(ms);
    };
    ASSERT_TRUE(runUntil(
        step,
        [&] {
            return a.status() == FakeDmrGateway::Status::Running &&
                   b.status() == FakeDmrGateway::Status::Running;
        },
        20s))
        << env.iwfd().log();
    std::atomic<bool> done{false};
    std::thread talker([&] {
        harness::McTalkRequest r;
        r.client = "bob";
        r.group = "sip:city-ops@iwf.example";
        r.encrypted = false;
        r.superframes = 2;
        r.tag = 8;
        (void)env.mc().talk(r);
        done = true;
    });
    runUntil(
        step, [&] { return done && voiceBursts(a.queued()) >= 12; }, 60s);
    talker.join();
    EXPECT_EQ(voiceBursts(a.queued()), 12u);
    EXPECT_TRUE(b.queued().empty());
    EXPECT_GT(env.metric("iwf_dmr_not_subscribed_total"), 0);
}

// A hotspot that logs in by itself (MMDVMHost before June 2023, DMRDirectNetwork.cpp) sends
// its RPTC at exactly 302 bytes and a talker alias as "DMRA" + source ID (3) + block + 7
// bytes: bytes 4..7 are not its peer ID. Before: iwfd answered MSTNAK, which makes MMDVMHost
// log in again (and end its calls) at every alias block. Now the alias is learned and a call
// from that radio carries it to the MC side.
TEST(DmrGatewayInterop, MmdvmHostTalkerAliasDoesNotForceALoginAndNamesTheTalker) {
    PeersEnv env;
    ASSERT_TRUE(env.start(peersScenario())) << env.error();
    DmrGatewayConfig c = gatewayConfig(env.dmrPort(), 312000901, 435000000, "");
    FakeDmrGateway hs(c);  // same login as DMRGateway (DMRDirectNetwork.cpp clock())
    hs.open();
    auto step = [&](std::int64_t ms) { hs.clock(ms); };
    ASSERT_TRUE(runUntil(
        step, [&] { return hs.status() == FakeDmrGateway::Status::Running; }, 20s))
        << env.iwfd().log();
    // writeTalkerAlias(id, type, data): "DMRA", id (3), type, data + 2 (7 bytes): 15 bytes.
    // "PD0ZRY Ralf" in 7-bit characters: header and block 1.
    const std::uint32_t src = 3120097;
    auto dmra = [&](std::uint8_t block, const char* hex7) {
        Bytes b = {'D',
                   'M',
                   'R',
                   'A',
                   static_cast<std::uint8_t>(src >> 16),
                   static_cast<std::uint8_t>(src >> 8),
                   static_cast<std::uint8_t>(src),
                   block};
        auto d = fromHex(hex7);
        b.insert(b.end(), d->begin(), d->end());
        return b;
    };
    hs.writeRaw(dmra(0, "1742230b54aca0"));
    hs.writeRaw(dmra(1, "a5876660000000"));
    // A clear call from that radio to TG 91, as MMDVMHost's write() frames it: voice LC
    // header, two superframes A..F, terminator; 60 ms apart.
    const std::array<std::uint8_t, 9> lc = {0x00, 0x00, 0x00, 0x00, 0x00, 0x5B, 0x2F, 0x9B, 0xE1};
    auto lcBurst = [&](lmr::dmr::DataType t) {
        return lmr::dmr::buildFullLcBurst(lmr::dmr::parseFullLc(lc), t, 1,
                                          lmr::dmr::SyncPattern::BsData);
    };
    const auto emb = lmr::dmr::encodeEmbeddedLc(lc);
    std::vector<Bytes> call;
    std::uint8_t seq = 0;
    const std::uint32_t stream = 0x11223344;
    call.push_back(dmrGatewayDmrd(seq++, src, 91, c.id, 0x21, stream,
                                  lcBurst(lmr::dmr::DataType::VoiceLcHeader)));
    for (int sf = 0; sf < 2; ++sf) {
        for (std::uint8_t i = 0; i < 6; ++i) {
            std::array<std::uint8_t, 27> ambe{};
            ambe.fill(static_cast<std::uint8_t>(sf * 6 + i + 1));
            Burst b = lmr::dmr::joinVoiceBurst(ambe, std::array<std::uint8_t, 6>{});
            if (i == 0) {
                lmr::dmr::setSync(b, lmr::dmr::SyncPattern::BsVoice);
            } else {
                lmr::dmr::Emb e;
                e.color_code = 1;
                e.lcss = i == 1 ? 1 : i == 4 ? 2 : i == 5 ? 0 : 3;
                lmr::dmr::encodeEmb(b, e);
                if (i <= 4) {
                    lmr::dmr::setEmbeddedFragment(b, emb[i - 1]);
                }
            }
            call.push_back(dmrGatewayDmrd(seq++, src, 91, c.id,
                                          static_cast<std::uint8_t>(i == 0 ? 0x10 : i), stream, b));
        }
    }
    call.push_back(dmrGatewayDmrd(seq++, src, 91, c.id, 0x22, stream,
                                  lcBurst(lmr::dmr::DataType::TerminatorWithLc)));
    std::string alias_seen;
    std::size_t k = 0;
    PeerTimer pace(60ms);
    pace.start();
    runUntil(
        [&](std::int64_t ms) {
            hs.clock(ms);
            pace.clock(ms);
            if (pace.hasExpired() && k < call.size()) {
                hs.write(call[k++]);
                pace.start();
            }
            if (alias_seen.empty()) {
                const auto calls = httpGet(env.iwfd().adminPort(), "/v1/calls").body;
                if (calls.find("PD0ZRY Ralf") != std::string::npos) {
                    alias_seen = calls;
                }
            }
        },
        [&] { return k == call.size() && !alias_seen.empty(); }, 30s);
    EXPECT_FALSE(alias_seen.empty()) << env.iwfd().log();
    EXPECT_TRUE(hs.linkFailures().empty()) << hs.linkFailures().front();
    EXPECT_EQ(hs.loggedIn(), 1u);
    EXPECT_EQ(hs.sent("RPTL"), 1u);
}

}  // namespace
}  // namespace iwf::test::peers
