// libspeexdsp's adaptive jitter buffer behind media::JitterBuffer: frames put out of order
// come out in timestamp order, a frame that never came is reported Missing (for the
// decoder to conceal), a late frame behind the playout point is dropped, and a stream whose
// arrival jitter grows makes the buffer hold more.
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "media/speech.hpp"

namespace iwf::media {
namespace {

constexpr std::uint32_t kSpan = 160;

InlineBytes<512> payloadFor(std::uint32_t ts) {
    std::string s = "frame " + std::to_string(ts);
    return InlineBytes<512>(asBytes(s));
}

TEST(JitterBuffer, ReordersAndReportsMissingFrames) {
    auto jb = JitterBuffer::create(kSpan);
    ASSERT_TRUE(jb.ok());
    // Frames 0..9, frame 3 lost, 4 and 5 swapped on the way.
    for (std::uint32_t f : {0u, 1u, 2u, 5u, 4u, 6u, 7u, 8u, 9u}) {
        auto p = payloadFor(f * kSpan);
        ASSERT_TRUE((*jb)->put(p.view(), f * kSpan).ok());
    }
    std::vector<std::string> got;
    for (int i = 0; i < 10; ++i) {
        InlineBytes<512> out;
        std::uint32_t ts = 0;
        if ((*jb)->get(out, ts) == JitterBuffer::Get::Frame) {
            EXPECT_EQ(out, payloadFor(ts));
            got.push_back(std::to_string(ts / kSpan));
        } else {
            got.push_back("missing");
        }
        (*jb)->tick();
    }
    const std::vector<std::string> want = {"0", "1", "2", "missing", "4", "5", "6", "7", "8", "9"};
    EXPECT_EQ(got, want);
}

// Frames sent every 20 ms arrive 0..60 ms late (a fixed pseudo-random pattern); the
// receiver asks for one frame per 20 ms. At first the buffer plays out too early and finds
// frames missing; it then measures the late arrivals and raises its delay, so the last
// 200 frames lose far fewer than the first 50.
TEST(JitterBuffer, AdaptsItsDelayToArrivalJitter) {
    auto jb = JitterBuffer::create(kSpan);
    ASSERT_TRUE(jb.ok());
    constexpr int kFrames = 400;
    std::vector<int> arrival(kFrames);
    std::uint32_t x = 99;
    for (int f = 0; f < kFrames; ++f) {
        x = x * 1664525u + 1013904223u;
        arrival[f] = f + static_cast<int>((x >> 16) % 4);  // 0..3 frame periods late
    }
    int missing_first = 0, missing_last = 0;
    for (int t = 0; t < kFrames; ++t) {
        for (int f = 0; f < kFrames; ++f) {
            if (arrival[f] == t) {
                auto p = payloadFor(static_cast<std::uint32_t>(f) * kSpan);
                ASSERT_TRUE((*jb)->put(p.view(), static_cast<std::uint32_t>(f) * kSpan).ok());
            }
        }
        InlineBytes<512> out;
        std::uint32_t ts = 0;
        const bool missing = (*jb)->get(out, ts) == JitterBuffer::Get::Missing;
        (*jb)->tick();
        if (t >= 5 && t < 55) {
            missing_first += missing;
        }
        if (t >= kFrames - 200) {
            missing_last += missing;
        }
    }
    std::printf(
        "[ measure  ] jitter 0..60 ms: %d of the first 50 frames missing, %d of the "
        "last 200\n",
        missing_first, missing_last);
    EXPECT_LT(missing_last * 50, missing_first * 200);  // a lower rate after adapting
    EXPECT_LE(missing_last, 10);                        // at most 5 % once adapted
}

TEST(JitterBuffer, RefusesOversizedPayloads) {
    auto jb = JitterBuffer::create(kSpan);
    ASSERT_TRUE(jb.ok());
    std::vector<std::uint8_t> big(JitterBuffer::kMaxPayload + 1, 0);
    EXPECT_EQ((*jb)->put(big, 0).error().reason, "too_long");
}

}  // namespace
}  // namespace iwf::media
