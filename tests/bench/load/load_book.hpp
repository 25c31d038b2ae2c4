#pragma once
// The load generator's own bookkeeping: what was sent on each stream and when, and the added
// latency of each frame that came back out of the forwarder.
//
// Frames are keyed by (stream, sequence). The stream is known from the receiving socket; the
// sequence is recovered from protocol metadata only (the frame's position in its superframe:
// P25 record tag 0..17, DMR burst A..F), never from the opaque payload. Position p matches
// the latest sent frame of that stream with seq % period == p whose send time is not after
// the receive time and that has not been matched yet. That is exact while the added latency
// stays under one superframe (360 ms for both P25 and DMR), far beyond anything measured.
//
// One sender thread calls noteSent(), one receiver thread calls noteReceived(); every slot
// field is atomic so the two never race.
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace iwf::bench {

struct BookCounters {
    std::uint64_t sent = 0;       // frames sent inside the measurement window
    std::uint64_t matched = 0;    // of those, frames that came out (first copy)
    std::uint64_t unmatched = 0;  // datagrams received that matched no sent frame
    std::uint64_t corrupted = 0;  // matched, but the opaque bytes differed from those sent
    std::uint64_t late = 0;       // received inside the window but sent before it
};

class LoadBook {
  public:
    static constexpr std::size_t kRing = 72;  // a multiple of 18 (P25) and 6 (DMR)

    // period[i]: frames per superframe of stream i (18 or 6).
    explicit LoadBook(std::vector<std::uint8_t> periods);

    std::size_t streams() const { return periods_.size(); }

    // Measurement window in the book's clock (ns). Frames sent in [begin, end) are counted.
    void setWindow(std::int64_t begin_ns, std::int64_t end_ns);

    // Sender: frame `seq` of `stream` left at t_ns carrying opaque bytes with hash `digest`.
    void noteSent(std::size_t stream, std::uint64_t seq, std::int64_t t_ns, std::uint32_t digest);

    // Receiver: a frame at superframe position `pos` arrived on `stream` at t_ns. Returns the
    // added latency in ns, or -1 when nothing matched. Latencies of in-window frames are kept.
    std::int64_t noteReceived(std::size_t stream, std::uint8_t pos, std::int64_t t_ns,
                              std::uint32_t digest);

    // Call after the sender stopped and the receiver drained.
    BookCounters counters() const;
    // Latencies (ns) of matched in-window frames, in arrival order.
    const std::vector<std::int64_t>& latencies() const { return latencies_; }

  private:
    struct Slot {
        std::atomic<std::uint64_t> seq_plus1{0};  // 0 = empty; published last by the sender
        std::atomic<std::int64_t> t_sent{0};
        std::atomic<std::uint32_t> digest{0};
        std::atomic<bool> matched{false};
    };
    Slot& slot(std::size_t stream, std::uint64_t seq) {
        return slots_[stream * kRing + seq % kRing];
    }

    std::vector<std::uint8_t> periods_;
    std::unique_ptr<Slot[]> slots_;
    std::int64_t win_begin_ = 0;
    std::int64_t win_end_ = 0;
    std::atomic<std::uint64_t> sent_{0};
    std::uint64_t matched_ = 0;  // receiver-only counters
    std::uint64_t unmatched_ = 0;
    std::uint64_t corrupted_ = 0;
    std::uint64_t late_ = 0;
    std::vector<std::int64_t> latencies_;
};

// Percentile (0..100) of a sample, nearest-rank; 0 for an empty sample. Reorders `v`.
std::int64_t percentile(std::vector<std::int64_t>& v, double pct);

// p50 / p99 / p99.9 / max of a latency sample in ns, returned in µs. Reorders `v`.
struct LatencyUs {
    double p50 = 0;
    double p99 = 0;
    double p999 = 0;
    double max = 0;
};
LatencyUs latencyUs(std::vector<std::int64_t>& v);

// FNV-1a, 32 bit: fingerprint of the opaque bytes so bit-exactness is checked end to end.
std::uint32_t fnv1a(const std::uint8_t* p, std::size_t n);

}  // namespace iwf::bench
