// IWF_ASSERT stays on in release builds: this file is compiled with NDEBUG defined (as a
// Release build would), and a failing assertion still aborts, naming the condition, what it
// guards, file and line. A passing one evaluates its condition once and does nothing else.

#ifndef NDEBUG
#define NDEBUG 1
#endif
#include "common/assert.hpp"

#include <cassert>

#include <gtest/gtest.h>

namespace iwf {
namespace {

int evaluations = 0;
bool countedTrue() {
    ++evaluations;
    return true;
}

TEST(IwfAssert, PassingConditionIsEvaluatedOnce) {
    evaluations = 0;
    IWF_ASSERT(countedTrue(), "counted");
    EXPECT_EQ(evaluations, 1);
    // The debug-only assert() is compiled out under NDEBUG: its condition is not evaluated.
    assert(countedTrue());
    EXPECT_EQ(evaluations, 1);
}

TEST(IwfAssertDeathTest, FailingConditionAbortsEvenWithNdebug) {
    const int legs = 2;
    const int leg = 5;
    EXPECT_DEATH(
        IWF_ASSERT(leg < legs, "leg index inside its call"),
        "IWF_ASSERT failed: leg < legs \\(leg index inside its call\\) at .*assert_test\\.cpp:");
}

}  // namespace
}  // namespace iwf
