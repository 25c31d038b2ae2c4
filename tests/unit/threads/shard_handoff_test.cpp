// ShardHandoff (gateway/daemon/shard_handoff.hpp): the events a worker shard hands to the owner
// shard arrive on the owner's io_context thread, all of them, in order, attributed to the
// owner's instance of the link; a full ring drops and counts; an unknown link is counted.
#include "gateway/daemon/shard_handoff.hpp"

#include <future>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace iwf::gateway {
namespace {

struct RecordingSink : EventSink {
    void onEvent(const LinkId& from, Event&& e) override {
        froms.push_back(&from);
        threads.push_back(std::this_thread::get_id());
        events.push_back(std::move(e));
    }
    std::vector<const LinkId*> froms;
    std::vector<std::thread::id> threads;
    std::vector<Event> events;
};

Event handoffVoice(CallRef call, std::uint32_t seq) {
    VoiceFrame f;
    f.seq = seq;
    f.pos.superframe = seq / 18;
    f.pos.index = static_cast<std::uint8_t>(seq % 18);
    const std::uint8_t b[11] = {static_cast<std::uint8_t>(seq),
                                static_cast<std::uint8_t>(seq >> 8),
                                0xA5,
                                1,
                                2,
                                3,
                                4,
                                5,
                                6,
                                7,
                                static_cast<std::uint8_t>(call)};
    f.payload.assign(ByteView(b, sizeof b));
    return Voice{call, f};
}

TEST(ShardHandoff, EveryEventArrivesOnTheOwnerThreadInOrder) {
    asio::io_context owner_io;
    auto work = asio::make_work_guard(owner_io);
    RecordingSink owner;
    metrics::Registry reg;
    ShardHandoff h(1, owner_io, owner, reg, 64);  // small ring: the producer outruns it
    const LinkId local{Side::Lmr, "p25"};
    const LinkId owner_id{Side::Lmr, "p25"};
    h.addLink(local, owner_id);

    std::thread consumer([&] { owner_io.run(); });
    const std::thread::id consumer_id = consumer.get_id();
    constexpr std::uint32_t kEvents = 20000;
    std::uint32_t sent = 0;
    std::thread producer([&] {
        // Retry what a full ring refused: the test wants every event through, the setup and
        // the end too (the end used to be sent once: dropped when it met a full ring, 1 run
        // in ~20 on a loaded machine).
        auto hand = [&](const Event& e) {
            for (;;) {
                const auto before = h.dropped();
                h.onEvent(local, Event(e));
                if (h.dropped() == before) {
                    return;
                }
                std::this_thread::yield();
            }
        };
        CallSetup setup;
        setup.call = 7;
        setup.callee = P25Group{{0xBEE00, 1}, 100};
        hand(setup);
        for (std::uint32_t i = 0; i < kEvents; ++i) {
            hand(handoffVoice(7, i));
            ++sent;
        }
        hand(CallEnd{7, EndReason::Normal, ""});
    });
    producer.join();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::size_t n = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        std::promise<std::size_t> p;
        asio::post(owner_io, [&] { p.set_value(owner.events.size()); });
        n = p.get_future().get();
        if (n == kEvents + 2) {
            break;
        }
        std::this_thread::yield();
    }
    work.reset();
    consumer.join();
    ASSERT_EQ(owner.events.size(), kEvents + 2);
    EXPECT_EQ(h.handedOff(), kEvents + 2);
    ASSERT_TRUE(std::holds_alternative<CallSetup>(owner.events.front()));
    ASSERT_TRUE(std::holds_alternative<CallEnd>(owner.events.back()));
    for (std::uint32_t i = 0; i < kEvents; ++i) {
        const auto* v = std::get_if<Voice>(&owner.events[i + 1]);
        ASSERT_NE(v, nullptr) << i;
        ASSERT_EQ(v->frame.seq, i);
        ASSERT_EQ(v->frame.payload.view().size(), 11u);
        EXPECT_EQ(v->frame.payload.data()[0], static_cast<std::uint8_t>(i));
        EXPECT_EQ(v->frame.payload.data()[1], static_cast<std::uint8_t>(i >> 8));
    }
    for (std::size_t i = 0; i < owner.events.size(); ++i) {
        ASSERT_EQ(owner.froms[i], &owner_id) << i;
        ASSERT_EQ(owner.threads[i], consumer_id) << i;
    }
    EXPECT_EQ(reg.counterValue("iwf_shard_handoff_events_total", {{"link", "p25"}, {"shard", "1"}}),
              kEvents + 2);
}

// With the producer's own io_context, the owner is woken once per turn of the producer's loop:
// nothing reaches it before that turn's flush runs, then everything does, in order.
TEST(ShardHandoff, AProducerLoopWakesTheOwnerOncePerTurn) {
    asio::io_context owner_io;
    asio::io_context local_io;
    RecordingSink owner;
    metrics::Registry reg;
    ShardHandoff h(1, owner_io, owner, reg, 64, &local_io);
    const LinkId local{Side::Lmr, "p25"};
    const LinkId owner_id{Side::Lmr, "p25"};
    h.addLink(local, owner_id);
    asio::post(local_io, [&] {
        for (std::uint32_t i = 0; i < 10; ++i) {
            h.onEvent(local, handoffVoice(2, i));
        }
    });
    local_io.run_one();  // the turn that produced the events; its flush is still queued
    EXPECT_EQ(h.handedOff(), 10u);
    owner_io.poll();
    EXPECT_TRUE(owner.events.empty()) << "woken before the producer's turn ended";
    owner_io.restart();
    local_io.run();  // the flush: one wake-up
    owner_io.poll();
    ASSERT_EQ(owner.events.size(), 10u);
    for (std::uint32_t i = 0; i < 10; ++i) {
        EXPECT_EQ(std::get<Voice>(owner.events[i]).frame.seq, i);
    }
}

TEST(ShardHandoff, AFullRingDropsAndCountsAndKeepsWhatItHas) {
    asio::io_context owner_io;  // not running: nothing is consumed until run below
    RecordingSink owner;
    metrics::Registry reg;
    ShardHandoff h(3, owner_io, owner, reg, 4);
    ASSERT_EQ(h.capacity(), 4u);
    const LinkId local{Side::Lmr, "p25"};
    const LinkId owner_id{Side::Lmr, "p25"};
    h.addLink(local, owner_id);
    for (std::uint32_t i = 0; i < 6; ++i) {
        h.onEvent(local, handoffVoice(1, i));
    }
    EXPECT_EQ(h.handedOff(), 4u);
    EXPECT_EQ(h.dropped(), 2u);
    EXPECT_EQ(reg.counterValue("iwf_shard_handoff_dropped_total",
                               {{"link", "p25"}, {"shard", "3"}, {"reason", "queue_full"}}),
              2u);
    owner_io.run();
    ASSERT_EQ(owner.events.size(), 4u);
    for (std::uint32_t i = 0; i < 4; ++i) {
        EXPECT_EQ(std::get<Voice>(owner.events[i]).frame.seq, i);
    }
    // Room again: the next event goes through.
    h.onEvent(local, handoffVoice(1, 6));
    owner_io.restart();
    owner_io.run();
    ASSERT_EQ(owner.events.size(), 5u);
    EXPECT_EQ(std::get<Voice>(owner.events[4]).frame.seq, 6u);
}

TEST(ShardHandoff, AnEventFromALinkItDoesNotKnowIsCounted) {
    asio::io_context owner_io;
    RecordingSink owner;
    metrics::Registry reg;
    ShardHandoff h(1, owner_io, owner, reg, 8);
    h.onEvent(LinkId{Side::Lmr, "other"}, handoffVoice(1, 0));
    owner_io.run();
    EXPECT_TRUE(owner.events.empty());
    EXPECT_EQ(h.dropped(), 1u);
    EXPECT_EQ(reg.counterValue("iwf_shard_handoff_dropped_total",
                               {{"link", ""}, {"shard", "1"}, {"reason", "unknown_link"}}),
              1u);
}

}  // namespace
}  // namespace iwf::gateway
