// The refusal log (gateway/engine/refusal_log.hpp): a bounded ring of the last refusals, filled
// where the engine counts iwf_engine_refusals_total, read by GET /v1/refusals.
#include "gateway/engine/refusal_log.hpp"

#include <regex>

#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

RefusalRecord numbered(int i) {
    RefusalRecord r;
    r.time_ms = i;
    r.reason = "r" + std::to_string(i);
    return r;
}

TEST(RefusalLog, KeepsTheNewestCapacityRecordsNewestFirst) {
    RefusalLog log(3);
    EXPECT_TRUE(log.newestFirst().empty());
    for (int i = 1; i <= 250; ++i) {
        log.add(numbered(i));
    }
    auto got = log.newestFirst();
    ASSERT_EQ(got.size(), RefusalLog::kCapacity);
    EXPECT_EQ(log.total(), 250u);
    // Newest first: 250, 249, ... 151; seq counts every add, shard is the log's.
    for (std::size_t k = 0; k < got.size(); ++k) {
        EXPECT_EQ(got[k].reason, "r" + std::to_string(250 - k)) << k;
        EXPECT_EQ(got[k].seq, 250 - k);
        EXPECT_EQ(got[k].shard, 3u);
    }
}

TEST(RefusalLog, PartlyFilledRingIsNewestFirstToo) {
    RefusalLog log(0, 4);
    for (int i = 1; i <= 3; ++i) {
        log.add(numbered(i));
    }
    auto got = log.newestFirst();
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].reason, "r3");
    EXPECT_EQ(got[2].reason, "r1");
    for (int i = 4; i <= 6; ++i) {  // wraps once: 6 5 4 3
        log.add(numbered(i));
    }
    got = log.newestFirst();
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0].reason, "r6");
    EXPECT_EQ(got[3].reason, "r3");
}

TEST(RefusalLog, IsoTimeIsUtcWithMilliseconds) {
    // Expected strings from Python's datetime (an independent implementation):
    //   datetime.fromtimestamp(1796562245.123, timezone.utc) -> 2026-12-06T13:04:05.123
    //   datetime.fromtimestamp(951782400, timezone.utc)      -> 2000-02-29T00:00:00 (leap day)
    EXPECT_EQ(RefusalLog::isoTime(0), "1970-01-01T00:00:00.000Z");
    EXPECT_EQ(RefusalLog::isoTime(1796562245123), "2026-12-06T13:04:05.123Z");
    EXPECT_EQ(RefusalLog::isoTime(951782400000), "2000-02-29T00:00:00.000Z");
}

TEST(RefusalLog, JsonHasTheContractFieldsWithNullForWhatIsNotKnown) {
    RefusalRecord r;
    r.time_ms = 1000;
    r.link = "p25";
    r.reason = "unknown_group";
    r.source = "p25-unit:1001";
    nlohmann::json j = RefusalLog::toJson(r);
    for (const char* k : {"time", "link", "call", "group", "source", "reason", "cause"}) {
        EXPECT_TRUE(j.contains(k)) << k;
    }
    EXPECT_TRUE(j["call"].is_null());
    EXPECT_TRUE(j["cause"].is_null());
    EXPECT_EQ(j["time"], "1970-01-01T00:00:01.000Z");
}

using RefusalLogEngine = EngineTest;

TEST_F(RefusalLogEngine, ARefusedTransmissionIsLoggedWithCallGroupSourceAndCause) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    fromLmr(lmrSetup(2, 2, 100, aes(0x1111)));  // a second radio while the first talks
    ASSERT_EQ(p25.last<FloorDeny>().reason, "floor_busy");
    auto got = engine->refusalLog().newestFirst();
    ASSERT_EQ(got.size(), 1u);
    const std::string call = engine->callsJson()["calls"][0]["id"].get<std::string>();
    EXPECT_EQ(got[0].link, "p25");
    EXPECT_EQ(got[0].reason, "floor_busy");
    EXPECT_EQ(got[0].call, call);
    EXPECT_EQ(got[0].group, toString(Address{tg(100)}));  // as the refused (LMR) side names it
    EXPECT_EQ(got[0].source, toString(Address{unit(2)}));
    EXPECT_EQ(got[0].cause, std::optional<std::uint16_t>(kDenyAnotherHasPermission));
    // The fixture's ManualClock starts at 1 s after the epoch.
    EXPECT_EQ(RefusalLog::toJson(got[0])["time"], "1970-01-01T00:00:01.000Z");
    EXPECT_EQ(counter("iwf_engine_refusals_total", {{"link", "p25"}, {"reason", "floor_busy"}}),
              engine->refusalLog().total());
}

TEST_F(RefusalLogEngine, ARefusedSetupHasNoCallButTheGroupItAskedFor) {
    fromLmr(lmrSetup(1, 1, 4242, aes(0x1111)));
    fromMc(mcSetup(50, "sip:bob@mc", "sip:nosuch@mc"));
    auto got = engine->refusalLog().newestFirst();
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].link, "mc");  // newest first
    EXPECT_EQ(got[0].reason, "unknown_group");
    EXPECT_EQ(got[0].group, "mcgroup:sip:nosuch@mc");
    EXPECT_EQ(got[0].source, "mc:sip:bob@mc");
    EXPECT_FALSE(got[0].cause.has_value()) << "the MC side is told with a SIP refusal";
    EXPECT_EQ(got[1].link, "p25");
    EXPECT_EQ(got[1].call, "");
    EXPECT_EQ(got[1].group, toString(Address{tg(4242)}));
    EXPECT_EQ(got[1].cause, std::optional<std::uint16_t>(kDenyOther));
}

}  // namespace
}  // namespace iwf::gateway::engine::test
