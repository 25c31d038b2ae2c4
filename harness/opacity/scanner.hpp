#pragma once
// Opacity scanner: counts occurrences of secret byte strings (plaintext canaries, keys) in a
// buffer, a file (iwfd's log, a loopback capture) or a live process's memory (/proc/PID/mem
// over the readable mappings of /proc/PID/maps). Every scenario requires a count of 0 in
// iwfd; scannerSelfTest() proves the scanner finds a planted canary, so the check can fail.

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::harness {

struct Needle {
    std::string label;  // "canary:radio-1:sf3:f7", "key:0x1234" (never the secret itself)
    Bytes bytes;        // at least 4 bytes
};

class NeedleSet {
  public:
    // Returns false (and ignores it) when the needle is shorter than 4 bytes.
    bool add(std::string label, Bytes bytes);
    std::size_t size() const { return needles_.size(); }
    std::size_t maxLength() const { return max_len_; }
    const Needle& operator[](std::size_t i) const { return needles_[i]; }

    // Adds to hits[i] the occurrences of needle i that start at data[0 .. starts_end).
    void scan(ByteView data, std::size_t starts_end, std::vector<std::uint64_t>& hits) const;

  private:
    // A 2^20-bit filter over a hash of every needle's first 4 bytes: nearly every position of
    // a scanned process fails it, so the hash-map lookup runs only on candidates. Scanning
    // hundreds of MiB of a sanitised iwfd costs ~10x less than a lookup per byte.
    static constexpr unsigned kFilterBits = 20;
    static std::uint32_t filterSlot(std::uint32_t prefix) {
        return (prefix * 0x9E3779B1u) >> (32 - kFilterBits);
    }
    bool mayStartWith(std::uint32_t prefix) const {
        const std::uint32_t s = filterSlot(prefix);
        return ((filter_[s >> 6] >> (s & 63)) & 1) != 0;
    }

    std::vector<Needle> needles_;
    std::unordered_multimap<std::uint32_t, std::size_t> by_prefix_;
    std::vector<std::uint64_t> filter_ = std::vector<std::uint64_t>((1u << kFilterBits) / 64, 0);
    bool zero_prefix_ = false;  // some needle starts with four zero bytes
    std::size_t max_len_ = 0;
};

struct ScanReport {
    std::string source;               // "buffer", file path, "pid 1234 memory"
    std::vector<std::uint64_t> hits;  // per needle
    std::uint64_t bytes_scanned = 0;
    std::uint64_t regions = 0;         // process memory: mappings read
    std::uint64_t regions_failed = 0;  // process memory: mappings that could not be read
    // Process memory: readable mappings larger than kMaxScannedRegion, not read. Only
    // sanitizer shadow memory is that large (AddressSanitizer reserves terabytes of
    // rw-p NORESERVE shadow; the application heap is in separate, small mappings).
    std::uint64_t regions_skipped = 0;
    std::uint64_t total() const;
    // Labels of needles with at least one hit.
    std::vector<std::string> found(const NeedleSet& set) const;
};

ScanReport scanBuffer(const NeedleSet& set, ByteView data);
// Errors: "open_failed".
Result<ScanReport> scanFile(const NeedleSet& set, const std::string& path);
// Reads every readable private/anonymous/file mapping of the process. Errors: "open_failed"
// (no such process or no permission), "cancelled" (`cancel` became true during the scan: a
// periodic sample gives way to the final one, which is taken without it).
Result<ScanReport> scanProcessMemory(const NeedleSet& set, int pid,
                                     const std::atomic<bool>* cancel = nullptr);

// Forks a child that holds a planted canary in its heap, scans the child's memory and
// checks the planted canary is found and a canary made after the fork is not. Returns
// Status::success() when the scanner works; "self_test_missed" / "self_test_false_hit"
// otherwise.
Status scannerSelfTest();

}  // namespace iwf::harness
