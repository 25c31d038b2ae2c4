// Opacity scanner: counting in buffers, files (across chunk boundaries) and live process
// memory, plus the self-test that proves a planted canary is found.
#include "harness/opacity/scanner.hpp"

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

using namespace iwf;
using namespace iwf::harness;

namespace {
Bytes bytesOf(std::string_view s) {
    return Bytes(s.begin(), s.end());
}
}  // namespace

TEST(HarnessScanner, CountsEveryOccurrenceInBuffer) {
    NeedleSet set;
    ASSERT_TRUE(set.add("a", bytesOf("CANARY-1")));
    ASSERT_TRUE(set.add("b", bytesOf("CANARY-2")));
    ASSERT_TRUE(set.add("k", bytesOf("KEYKEYKEY")));
    EXPECT_FALSE(set.add("short", bytesOf("abc")));
    const std::string hay = "xxCANARY-1yyCANARY-1CANARY-2zzCANARY-";
    auto rep = scanBuffer(set, asBytes(hay));
    ASSERT_EQ(rep.hits.size(), 3u);
    EXPECT_EQ(rep.hits[0], 2u);
    EXPECT_EQ(rep.hits[1], 1u);
    EXPECT_EQ(rep.hits[2], 0u);
    EXPECT_EQ(rep.total(), 3u);
    EXPECT_EQ(rep.found(set), (std::vector<std::string>{"a", "b"}));
}

TEST(HarnessScanner, FileScanFindsNeedleStraddlingChunkBoundary) {
    const std::string path = ::testing::TempDir() + "/scanner_file_test.bin";
    std::string data(3u << 20, 'z');
    const std::string needle = "0123456789abcdef";
    data.replace((1u << 20) - 5, needle.size(), needle);  // crosses the 1 MiB chunk boundary
    data.replace((2u << 20) + 100, needle.size(), needle);
    {
        std::ofstream out(path, std::ios::binary);
        out << data;
    }
    NeedleSet set;
    set.add("n", bytesOf(needle));
    auto rep = scanFile(set, path);
    ASSERT_TRUE(rep.ok());
    EXPECT_EQ(rep->hits[0], 2u);
    EXPECT_EQ(rep->bytes_scanned, data.size());
    std::remove(path.c_str());
    EXPECT_FALSE(scanFile(set, path).ok());
}

TEST(HarnessScanner, ProcessMemoryScanFindsOwnHeapCanary) {
    // Build the needle from two halves so the full string exists only in the heap buffer.
    std::string a = "OPENIWF-SELF-";
    std::string b = "CANARY-7f3a9";
    auto* heap = new std::string(a + b);
    NeedleSet set;
    set.add("heap", bytesOf(*heap));
    auto rep = scanProcessMemory(set, static_cast<int>(::getpid()));
    ASSERT_TRUE(rep.ok());
    EXPECT_GE(rep->hits[0], 1u);
    EXPECT_GT(rep->regions, 0u);
    delete heap;
}

// A periodic sample gives way to the final one: a set cancel flag stops the scan with an error
// (never a partial report that would count as a sample); unset, the scan completes.
TEST(HarnessScanner, ProcessMemoryScanStopsWhenCancelled) {
    NeedleSet set;
    set.add("x", bytesOf("OPENIWF-NEVER-THERE"));
    std::atomic<bool> cancel{true};
    auto rep = scanProcessMemory(set, static_cast<int>(::getpid()), &cancel);
    ASSERT_FALSE(rep.ok());
    EXPECT_EQ(rep.error().reason, "cancelled");
    cancel = false;
    EXPECT_TRUE(scanProcessMemory(set, static_cast<int>(::getpid()), &cancel).ok());
}

TEST(HarnessScanner, SelfTestFindsPlantedCanaryInChildAndNothingElse) {
    Status s = scannerSelfTest();
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().toString());
}

TEST(HarnessScanner, MissingProcessIsAnError) {
    NeedleSet set;
    set.add("x", bytesOf("abcdefgh"));
    EXPECT_FALSE(scanProcessMemory(set, 999999999).ok());
}

// The zero-run skip and the prefix filter must not hide a needle: one right after a zero run
// at every offset modulo 8, one that starts with zero bytes (the skip is off then), and
// needles whose 4-byte prefixes collide with others' filter slots or with each other.
TEST(HarnessScanner, ZeroRunsAndPrefixFilterHideNothing) {
    NeedleSet set;
    const Bytes plain = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
    const Bytes three_zeros = {0, 0, 0, 0x41, 0x52};  // its 4-byte prefix is not zero
    ASSERT_TRUE(set.add("plain", plain));
    ASSERT_TRUE(set.add("three-zeros", three_zeros));
    Bytes hay(8192, 0);
    std::size_t placed = 0;
    // The zero run before each three_zeros copy grows by one byte each time, so the scan
    // meets it at every phase of its skip.
    for (std::size_t at = 64; at + 128 < hay.size(); at += 137) {
        std::copy(plain.begin(), plain.end(), hay.begin() + static_cast<std::ptrdiff_t>(at));
        std::copy(three_zeros.begin(), three_zeros.end(),
                  hay.begin() + static_cast<std::ptrdiff_t>(at + 20 + placed % 17));
        ++placed;
    }
    auto rep = scanBuffer(set, hay);
    EXPECT_EQ(rep.hits[0], placed);
    EXPECT_EQ(rep.hits[1], placed);

    NeedleSet zeros;
    const Bytes zero_led = {0, 0, 0, 0, 0, 0, 0x7E};
    const Bytes same_prefix = {0x11, 0x22, 0x33, 0x44, 0x99};  // shares plain's prefix
    ASSERT_TRUE(zeros.add("zero-led", zero_led));
    ASSERT_TRUE(zeros.add("plain", plain));
    ASSERT_TRUE(zeros.add("same-prefix", same_prefix));
    Bytes hay2(1000, 0);
    hay2[500] = 0x7E;  // zero_led ends here: starts at 494 (and nowhere else)
    std::copy(plain.begin(), plain.end(), hay2.begin() + 801);
    std::copy(same_prefix.begin(), same_prefix.end(), hay2.begin() + 901);
    auto rep2 = scanBuffer(zeros, hay2);
    EXPECT_EQ(rep2.hits[0], 1u);
    EXPECT_EQ(rep2.hits[1], 1u);
    EXPECT_EQ(rep2.hits[2], 1u);
}
