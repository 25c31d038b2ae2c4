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

TEST(HarnessScanner, SelfTestFindsPlantedCanaryInChildAndNothingElse) {
    Status s = scannerSelfTest();
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().toString());
}

TEST(HarnessScanner, MissingProcessIsAnError) {
    NeedleSet set;
    set.add("x", bytesOf("abcdefgh"));
    EXPECT_FALSE(scanProcessMemory(set, 999999999).ok());
}
