// Media relay: late entry starts at the next sync point and not before; frames are never
// reordered, dropped or duplicated by the engine (property test with random input loss);
// input gaps are reported as loss. Short data and the KMM tunnel pass bytes unchanged.

#include <random>

#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

using namespace std::chrono_literals;

class MediaTest : public EngineTest {};

TEST_F(MediaTest, LateEntryStartsAtNextSyncPointAndNotBefore) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111, 1)));
    CallRef first = mcRef();
    // Superframe 0 and half of superframe 1 flow to the first MC leg.
    for (std::uint32_t seq = 0; seq < 27; ++seq) {
        fromLmr(Voice{1, frame(seq, aes(0x1111, static_cast<std::uint8_t>(seq / 18 + 1)), seq / 18,
                               static_cast<std::uint8_t>(seq % 18))});
    }
    // A participant joins from another MC link mid-superframe.
    fromMc2(mcSetup(500, "sip:bob@mc", "sip:g100@mc"));
    EXPECT_EQ(counter("iwf_engine_late_entries_total"), 1u);
    clock.advance(180ms);
    for (std::uint32_t seq = 27; seq < 54; ++seq) {
        fromLmr(Voice{1, frame(seq, aes(0x1111, static_cast<std::uint8_t>(seq / 18 + 1)), seq / 18,
                               static_cast<std::uint8_t>(seq % 18))});
    }
    auto late = mc2.voice(500);
    ASSERT_EQ(late.size(), 18u) << "frames 27..35 are withheld; superframe 2 (frame 36..) flows";
    EXPECT_EQ(late.front().frame.seq, 36u);
    EXPECT_EQ(late.front().frame.pos.index, 0u);
    EXPECT_EQ(late.front().frame.crypto.mi, aes(0x1111, 3).mi);
    EXPECT_EQ(counter("iwf_engine_late_entry_wait_frames_total", {{"link", "mc2"}}), 9u);
    EXPECT_EQ(counter("iwf_engine_late_entry_synced_total"), 1u);
    EXPECT_EQ(mc.voice(first).size(), 54u) << "the first receiver is not affected";
    auto j = engine->callsJson();
    bool found = false;
    for (const auto& leg : j["calls"][0]["legs"]) {
        if (leg["link"] == "mc2") {
            found = true;
            EXPECT_EQ(leg["late_entry"], true);
            EXPECT_EQ(leg["late_entry_wait_frames"], 9u);
            EXPECT_EQ(leg["synced"], true);
        }
    }
    EXPECT_TRUE(found);
}

TEST_F(MediaTest, LateEntryWaitsWhileTheMiIsUnknown) {
    // The IWF itself joined an encrypted LMR call late: frames carry no MI yet.
    CryptoSync no_mi = aes(0x1111);
    no_mi.mi.clear();
    fromLmr(lmrSetup(1, 1, 100, std::nullopt));
    CallSetup join = mcSetup(500, "sip:bob@mc", "sip:g100@mc");
    for (std::uint32_t seq = 0; seq < 18; ++seq) {
        fromLmr(Voice{1, frame(seq, no_mi, 0, static_cast<std::uint8_t>(seq))});
        if (seq == 2) {
            fromMc2(join);
        }
    }
    fromLmr(Voice{1, frame(18, aes(0x1111), 1, 0)});
    auto late = mc2.voice(500);
    ASSERT_EQ(late.size(), 1u);
    EXPECT_EQ(late[0].frame.seq, 18u);
}

TEST_F(MediaTest, LateEntryIntoClearCallHasNoWait) {
    fromLmr(lmrSetup(1, 1, 400, CryptoSync::clear(LmrFamily::P25)));
    sendFrames(1, 0, 5, CryptoSync::clear(LmrFamily::P25));
    fromMc2(mcSetup(500, "sip:bob@mc", "sip:g400@mc"));
    sendFrames(1, 5, 3, CryptoSync::clear(LmrFamily::P25));
    auto late = mc2.voice(500);
    ASSERT_EQ(late.size(), 3u);
    EXPECT_EQ(late[0].frame.seq, 5u);
    EXPECT_EQ(counter("iwf_engine_late_entry_wait_frames_total", {{"link", "mc2"}}), 0u);
}

// Property: whatever the input loss pattern, the MC side receives exactly the frames that
// arrived, in arrival order, bit-exact; the loss counter equals the gaps.
TEST_F(MediaTest, NeverReordersDropsOrDuplicatesUnderRandomInputLoss) {
    std::uint64_t expected_lost = 0;
    std::size_t total_out = 0;
    for (std::uint32_t trial = 0; trial < 20; ++trial) {
        std::mt19937 rng(1234 + trial);
        std::uniform_real_distribution<double> u(0, 1);
        double loss = 0.01 + 0.02 * (trial % 5);
        CallRef ref = 1000 + trial;
        auto c = aes(0x1111, static_cast<std::uint8_t>(trial));
        fromLmr(lmrSetup(ref, 1, 100, c));
        CallRef m = mcRef();
        std::vector<VoiceFrame> sent;
        std::uint32_t last_sent = 0;
        bool any = false;
        for (std::uint32_t seq = 0; seq < 900; ++seq) {
            if (seq > 0 && u(rng) < loss) {
                continue;  // lost on the LMR side before it reached the gateway
            }
            VoiceFrame f = frame(seq, c, seq / 18, static_cast<std::uint8_t>(seq % 18));
            f.rx_ns = toNs(clock.now());
            if (any) {
                expected_lost += seq - last_sent - 1;
            }
            any = true;
            last_sent = seq;
            sent.push_back(f);
            fromLmr(Voice{ref, f});
            clock.advance(20ms);
        }
        fromLmr(CallEnd{ref, EndReason::Normal, ""});
        timers.advance(10s);  // hang time: the call ends, the next trial starts a new one
        ASSERT_EQ(engine->callCount(), 0u);
        auto got = mc.voice(m);
        ASSERT_EQ(got.size(), sent.size()) << "trial " << trial;
        for (std::size_t i = 0; i < sent.size(); ++i) {
            ASSERT_EQ(got[i].frame, sent[i]) << "trial " << trial << " frame " << i;
        }
        total_out += got.size();
    }
    EXPECT_EQ(counter("iwf_engine_frames_lost_total", {{"link", "p25"}}), expected_lost);
    EXPECT_GT(expected_lost, 0u);
    EXPECT_EQ(counter("iwf_engine_frames_relayed_total", {{"link", "mc"}}), total_out);
    EXPECT_EQ(engine->latency().count(), total_out);
}

TEST_F(MediaTest, InputReorderIsReportedAndPassedAsItCame) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    CallRef m = mcRef();
    for (std::uint32_t seq : {0u, 1u, 3u, 2u, 4u}) {
        fromLmr(Voice{1, frame(seq, aes(0x1111), 0, static_cast<std::uint8_t>(seq))});
    }
    auto got = mc.voice(m);
    ASSERT_EQ(got.size(), 5u);
    std::vector<std::uint32_t> order;
    for (const auto& v : got) {
        order.push_back(v.frame.seq);
    }
    EXPECT_EQ(order, (std::vector<std::uint32_t>{0, 1, 3, 2, 4}));
    EXPECT_EQ(counter("iwf_engine_frames_out_of_order_total", {{"link", "p25"}}), 1u);
    EXPECT_EQ(counter("iwf_engine_frames_lost_total", {{"link", "p25"}}), 1u);
}

TEST_F(MediaTest, LatencyHistogramRecordsPerFrame) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    VoiceFrame f = frame(0, aes(0x1111), 0, 0);
    f.rx_ns = toNs(clock.now());
    clock.advance(3us);
    fromLmr(Voice{1, f});
    EXPECT_EQ(engine->latency().count(), 1u);
    EXPECT_EQ(engine->latency().quantileUpperNs(0.5), 5'000);
    auto j = engine->callsJson();
    EXPECT_EQ(j["latency"]["count"], 1u);
    EXPECT_EQ(j["latency"]["p50_le_ns"], 5000);
    // The Prometheus histogram of the path (P25 radio -> MC): 3 us is in the first bucket
    // (50 us); the other paths saw nothing.
    const std::string text = metrics.renderPrometheus();
    for (const char* line :
         {"# TYPE iwf_engine_frame_latency_seconds histogram\n",
          "iwf_engine_frame_latency_seconds_bucket{path=\"lmr_to_mc\",le=\"5e-05\"} 1\n",
          "iwf_engine_frame_latency_seconds_bucket{path=\"lmr_to_mc\",le=\"+Inf\"} 1\n",
          "iwf_engine_frame_latency_seconds_sum{path=\"lmr_to_mc\"} 3e-06\n",
          "iwf_engine_frame_latency_seconds_count{path=\"lmr_to_mc\"} 1\n",
          "iwf_engine_frame_latency_seconds_count{path=\"mc_to_lmr\"} 0\n",
          "iwf_engine_frame_latency_seconds_count{path=\"mc_to_mc\"} 0\n"}) {
        EXPECT_NE(text.find(line), std::string::npos) << line;
    }
}

DataMessage sds(Address from, Address to, std::vector<std::uint8_t> bytes, bool enc) {
    DataMessage d;
    d.from = std::move(from);
    d.to = std::move(to);
    d.message_id = "m-1";
    d.payload = std::move(bytes);
    if (enc) {
        d.crypto = aes(0x1111);
    }
    return d;
}

TEST_F(MediaTest, ShortDataBothDirectionsBytesUnchanged) {
    std::vector<std::uint8_t> bytes(200);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        bytes[i] = static_cast<std::uint8_t>(i * 37 + 5);
    }
    fromLmr(sds(unit(1), unit(2), bytes, true));
    auto d = mc.last<DataMessage>();
    EXPECT_EQ(d.from, Address{McId{"sip:alice@mc"}});
    EXPECT_EQ(d.to, Address{McId{"sip:bob@mc"}});
    EXPECT_EQ(d.payload, bytes);
    EXPECT_EQ(d.message_id, "m-1");
    EXPECT_EQ(d.crypto, aes(0x1111));
    fromMc(sds(McId{"sip:bob@mc"}, McGroupId{"sip:g100@mc"}, bytes, true));
    auto back = p25.last<DataMessage>();
    EXPECT_EQ(back.from, Address{unit(2)});
    EXPECT_EQ(back.to, Address{tg(100)});
    EXPECT_EQ(back.payload, bytes);
    EXPECT_EQ(counter("iwf_engine_data_total", {{"direction", "lmr_to_mc"}}), 1u);
    EXPECT_EQ(counter("iwf_engine_data_total", {{"direction", "mc_to_lmr"}}), 1u);
}

TEST_F(MediaTest, ClearShortDataIntoSecureGroupIsRefused) {
    fromLmr(sds(unit(1), tg(100), {1, 2, 3}, false));
    EXPECT_EQ(mc.count<DataMessage>(), 0u);
    EXPECT_EQ(counter("iwf_engine_refusals_total",
                      {{"link", "p25"}, {"reason", "clear_in_secure_group"}}),
              1u);
    fromMc(sds(McId{"sip:nobody@mc"}, McId{"sip:alice@mc"}, {1}, false));
    EXPECT_EQ(counter("iwf_engine_refusals_total", {{"link", "mc"}, {"reason", "unmapped_sender"}}),
              1u);
    EXPECT_EQ(p25.count<DataMessage>(), 0u);
}

TEST_F(MediaTest, KeyManagementTunnelBothDirectionsBytesUnchanged) {
    // A P25 KMM (Rekey command, header as in lmr.md 1.3) from the KMF to unit 1's MC client.
    std::vector<std::uint8_t> kmm{0x1E, 0x00, 0x10, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0x00,
                                  0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
    fromLmr(SecurityMessage{unit(0x00FFFF), unit(1), kmm});
    auto m = mc.last<SecurityMessage>();
    EXPECT_EQ(m.from, Address{McId{"sip:kmf@lmr"}});
    EXPECT_EQ(m.to, Address{McId{"sip:alice@mc"}});
    EXPECT_EQ(m.payload, kmm);
    // The client's answer goes back to the KMF.
    std::vector<std::uint8_t> ack{0x1D, 0x00, 0x02, 0x00, 0x7F};
    fromMc(SecurityMessage{McId{"sip:alice@mc"}, McId{"sip:kmf@lmr"}, ack});
    auto b = p25.last<SecurityMessage>();
    EXPECT_EQ(b.from, Address{unit(1)});
    EXPECT_EQ(b.to, Address{unit(0x00FFFF)});
    EXPECT_EQ(b.payload, ack);
    fromMc(SecurityMessage{McId{"sip:alice@mc"}, McId{"sip:other-kmf@lmr"}, ack});
    EXPECT_EQ(counter("iwf_engine_refusals_total", {{"link", "mc"}, {"reason", "unknown_kmf"}}),
              1u);
}

// Short data and KMMs toward an LMR unit or KMF go to a link of the unit's own family, not to
// the first LMR link (here the P25 one).
TEST_F(MediaTest, DataAndKmmGoToALinkOfTheAddressFamily) {
    FakeLmrLink dmr{"dmr", LmrFamily::Dmr};
    engine->addLink(dmr);
    DirectoryContent d = baseContent();
    UserInfo erin;
    erin.lmr_unit = DmrUnit{2001};
    erin.mc_id = McId{"sip:erin@mc"};
    erin.kmf_uri = "sip:dmr-kmf@lmr";
    d.users.push_back(erin);
    d.kmfs.push_back(KmfInfo{"sip:dmr-kmf@lmr", DmrUnit{9999002}, ""});
    directory.publish(d);
    fromMc(sds(McId{"sip:alice@mc"}, McId{"sip:erin@mc"}, {4, 5, 6}, false));
    ASSERT_EQ(dmr.count<DataMessage>(), 1u);
    EXPECT_EQ(dmr.last<DataMessage>().to, Address{DmrUnit{2001}});
    EXPECT_EQ(p25.count<DataMessage>(), 0u);
    std::vector<std::uint8_t> kmm{0x0C, 0x00, 0x01, 0x00};
    fromMc(SecurityMessage{McId{"sip:erin@mc"}, McId{"sip:dmr-kmf@lmr"}, kmm});
    ASSERT_EQ(dmr.count<SecurityMessage>(), 1u);
    EXPECT_EQ(dmr.last<SecurityMessage>().to, Address{DmrUnit{9999002}});
    EXPECT_EQ(dmr.last<SecurityMessage>().payload, kmm);
    EXPECT_EQ(p25.count<SecurityMessage>(), 0u);
}

// An engine with no links yet: the test adds links of the kinds it needs.
class EngineLinks : public ::testing::Test {
  protected:
    static CallSetup clearRadioCall(std::uint32_t u, std::uint16_t t) {
        CallSetup s;
        s.call = 1;
        s.caller.id = unit(u);
        s.callee = tg(t);
        s.crypto = CryptoSync::clear(LmrFamily::P25);
        return s;
    }
    metrics::Registry metrics;
    ManualClock clock;
    ManualTimerService timers{clock};
    MemoryDirectory directory{baseContent()};
    TimerTable timer_values;
    Engine engine{EngineDeps{metrics, clock, timers, directory, timer_values}};
};

// An MCPTT-only link first and an MCData-only link after it (iwfd with mcptt-iwf1 and
// mcdata-iwf2, no link named in the keymap): calls take the first, data and KMMs the second.
TEST_F(EngineLinks, DataTakesAnMcLinkThatCarriesData) {
    FakeLmrLink p25{"p25", LmrFamily::P25};
    FakeMcLink calls{"iwf1", true, false};
    FakeMcLink data{"iwf2", false, true};
    engine.addLink(p25);
    engine.addLink(calls);
    engine.addLink(data);
    engine.onEvent(p25.id(), Event{sds(unit(1), unit(2), {7, 8, 9}, true)});
    ASSERT_EQ(data.count<DataMessage>(), 1u);
    EXPECT_EQ(calls.count<DataMessage>(), 0u);
    engine.onEvent(p25.id(), Event{SecurityMessage{unit(0x00FFFF), unit(1), {1, 2}}});
    EXPECT_EQ(data.count<SecurityMessage>(), 1u);
    EXPECT_EQ(calls.count<SecurityMessage>(), 0u);
    CallSetup s = clearRadioCall(1, 300);
    engine.onEvent(p25.id(), Event{s});
    EXPECT_EQ(calls.count<CallSetup>(), 1u);
    EXPECT_EQ(data.count<CallSetup>(), 0u);
}

// A link whose protocol has no floor signalling (P25 records, DMR HBP) gets no floor events:
// they are counted, not failed; the call and its voice still go through.
TEST_F(EngineLinks, NoFloorEventsToALinkWithoutFloorSignalling) {
    FakeLmrLink records{"records", LmrFamily::P25, false};
    FakeMcLink mc{"mc"};
    engine.addLink(records);
    engine.addLink(mc);
    // A radio talks into the clear LMR-homed group 300: the IWF grants it the floor (an event
    // the records protocol has no message for) and calls the MC side.
    CallSetup s = clearRadioCall(1, 300);
    engine.onEvent(records.id(), Event{s});
    EXPECT_EQ(mc.count<CallSetup>(), 1u);
    EXPECT_EQ(records.count<FloorGranted>() + records.count<FloorTaken>(), 0u);
    EXPECT_GE(
        metrics.counter("iwf_engine_floor_unsignalled_total", "", {{"link", "records"}}).value(),
        1u);
    EXPECT_EQ(metrics
                  .counter("iwf_engine_deliver_failures_total", "",
                           {{"link", "records"}, {"reason", "unsupported_event"}})
                  .value(),
              0u);
}

TEST(TimerServices, AsioTimersFireAndCancel) {
    asio::io_context io;
    AsioTimerService t(io);
    int fired = 0;
    auto a = t.start(5ms, [&] { fired += 1; });
    auto b = t.start(10ms, [&] { fired += 10; });
    (void)a;
    t.cancel(b);
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (fired == 0 && std::chrono::steady_clock::now() < deadline) {
        io.run_for(20ms);
    }
    io.run_for(30ms);
    EXPECT_EQ(fired, 1);
    EXPECT_EQ(t.pending(), 0u);
}

TEST(TimerServices, ManualTimersFireInDeadlineOrder) {
    ManualClock clock;
    ManualTimerService t(clock);
    std::vector<int> order;
    t.start(30ms, [&] { order.push_back(3); });
    t.start(10ms, [&] {
        order.push_back(1);
        t.start(5ms, [&] { order.push_back(2); });
    });
    auto c = t.start(20ms, [&] { order.push_back(99); });
    t.cancel(c);
    EXPECT_EQ(t.advance(29ms), 2u);
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    t.advance(1ms);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace iwf::gateway::engine::test
