#pragma once
// What iwf_load measures and reports per step: the schedule and measured window, the readings
// at both ends of it, the totals every relaying step reports alike, and the matching of what
// an MC side received against what was sent (by stream, digest and superframe position).
#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/sim/mc_system.hpp"
#include "tests/bench/load/forwarder.hpp"
#include "tests/bench/load/lean_mc_sink.hpp"
#include "tests/bench/load/lmr_sender.hpp"
#include "tests/bench/load/load_book.hpp"
#include "tests/bench/load/load_common.hpp"

namespace iwf::bench {

using nlohmann::json;

// A relaying step's schedule: the first send 50 ms from now (t0), the measured window
// [begin, end) after --warmup seconds, for --duration seconds.
struct StepSchedule {
    std::int64_t t0 = 0;
    std::int64_t begin = 0;
    std::int64_t end = 0;
};

StepSchedule stepSchedule(const Options& o);

// iwfd's admin API (harness/runner/admin_client.hpp), 5 s per receive: a saturated iwfd
// answers slowly.
std::string httpGet(std::uint16_t port, const std::string& path);
// Sum of every sample of a Prometheus metric family (all label sets); -1 when absent.
double sumMetric(const std::string& text, const std::string& name);

// Read at both ends of the measured window: the forwarder's and this process's CPU times and
// the host's UDP receive-buffer drops; the load average at its start.
struct WindowReadings {
    std::optional<ProcCpu> fwd0, fwd1, self0, self1;
    std::int64_t rcvbuf0 = -1;
    std::int64_t rcvbuf1 = -1;
    std::string load_begin;
    void begin(pid_t fwd) {
        fwd0 = readProcCpu(fwd);
        self0 = readProcCpu(0);
        rcvbuf0 = udpRcvbufErrors();
        load_begin = readLoadavg();
    }
    void end(pid_t fwd) {
        fwd1 = readProcCpu(fwd);
        self1 = readProcCpu(0);
        rcvbuf1 = udpRcvbufErrors();
    }
    // Waits for the window [b, e) (CLOCK_REALTIME ns) and reads at both ends.
    void measure(pid_t fwd, std::int64_t b, std::int64_t e) {
        sleepUntilNs(b);
        begin(fwd);
        sleepUntilNs(e);
        end(fwd);
    }
    double fwdCpu() const { return cpuSeconds(fwd0, fwd1); }
    double selfCpu() const { return cpuSeconds(self0, self1); }
    std::int64_t rcvbufErrors() const {
        return (rcvbuf0 >= 0 && rcvbuf1 >= 0) ? rcvbuf1 - rcvbuf0 : -1;
    }
};

// What every relaying step reports alike: load offered and carried in the measured window,
// loss, latency, the forwarder's CPU and the generator's sends.
struct StepTotals {
    unsigned n = 0;
    double offered_pps = 0;
    std::uint64_t sent = 0;     // frames sent in the window
    std::uint64_t matched = 0;  // of those, received intact
    double secs = 0;
    LatencyUs latency;
    bool latency_max = true;  // report the largest latency too
    double fwd_cpu = -1;      // forwarder CPU seconds in the window (-1: unknown)
    std::uint64_t send_errors = 0;
    std::int64_t max_behind_ns = 0;
    bool realtime = false;
    std::string load_begin;
    std::string load_end;
};

StepTotals stepTotals(const Options& o, unsigned n, double offered_pps, std::uint64_t sent,
                      std::uint64_t matched, std::vector<std::int64_t>& lat,
                      const WindowReadings& w, std::uint64_t send_errors,
                      std::int64_t max_behind_ns, bool fwd_rt, std::string load_end);
// Writes the StepTotals fields into r; returns the loss.
double putStepTotals(json& r, const StepTotals& t);
// A step passes when p99 and loss are in bounds, `clean` (nothing corrupted, misplaced ...),
// something arrived and the generator really offered the load (>= 98 % of the schedule: a
// generator that falls behind would make any forwarder look good).
void putPass(json& r, const Options& o, const StepTotals& t, double loss, bool clean);
// The totals of a DMR step (offered: one packet a stream every 60 ms) after its window.
StepTotals dmrTotals(const Options& o, unsigned n, std::uint64_t sent, std::uint64_t matched,
                     std::vector<std::int64_t>& lat, const WindowReadings& w,
                     std::uint64_t send_errors, std::int64_t max_behind_ns, bool fwd_rt);
// The fields both DMR steps report: the totals, per-packet CPU (3 voice frames a packet), the
// generator's sendmmsg sender and the HBP shape; returns the loss.
double putDmrStep(json& r, const StepTotals& t, const WindowReadings& w, const DmrSendStats& sst,
                  unsigned k, const char* path);
// The memory fields of an --idle-calls step: RSS and Pss before and after, per call.
void putMemoryPerCall(json& r, const MemKib& before, const MemKib& after, unsigned n);

// Per stream and sequence number: when a frame left and the digest of its opaque bytes.
struct SentFrame {
    std::int64_t t = 0;
    std::uint32_t digest = 0;
};
using SentFrames = std::vector<std::vector<SentFrame>>;

// Per stream: digest -> sequence number of every frame sent.
std::vector<std::unordered_map<std::uint32_t, std::size_t>> digestIndex(const SentFrames& sent);
// Harness MC simulator: call -> stream, from the group named in iwfd's INVITE.
std::map<std::uint64_t, unsigned> streamOfCalls(const std::vector<harness::McEvent>& events);
// Harness MC simulator: its records as the lean sink's (stream, digest, position, crypto,
// receive time on the sender's clock = rx_ns + offset). A record of a call that no INVITE
// names counts in unmatched, a decrypted one in decrypted.
std::deque<LeanRx> simRecords(const std::vector<harness::McRxRecord>& records,
                              const std::vector<harness::McEvent>& events, std::int64_t offset,
                              std::uint64_t& unmatched, std::uint64_t& decrypted);
// realtime - steady clock, ns (the harness simulator stamps with the steady clock).
std::int64_t steadyToRealtimeNs();

struct McMatch {
    std::uint64_t matched = 0;  // first copies of frames sent in the window
    std::uint64_t unmatched = 0;
    std::uint64_t misplaced = 0;
    std::uint64_t duplicates = 0;
    std::uint64_t crypto_wrong = 0;
    std::uint64_t first_superframe = 0;  // before crypto_from: crypto header not checked
    std::vector<std::int64_t> lat;
};

// Matches what the MC side received against what was sent: stream and digest give the
// sequence number, whose superframe position (seq % period) the frame must keep; from
// sequence crypto_from on, crypto_ok(stream, frame) checks its crypto header; the latency of
// the first copy of every frame sent in [wb, we) is kept.
template <typename CryptoOk>
McMatch matchMcFrames(const std::deque<LeanRx>& rx, const SentFrames& sent, unsigned period,
                      std::size_t crypto_from, std::int64_t wb, std::int64_t we,
                      CryptoOk crypto_ok) {
    const auto by_digest = digestIndex(sent);
    std::vector<std::vector<bool>> got(sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        got[i].assign(sent[i].size(), false);
    }
    McMatch m;
    for (const auto& r : rx) {
        const unsigned i = r.stream;
        if (i >= sent.size()) {
            ++m.unmatched;
            continue;
        }
        const auto s = by_digest[i].find(r.digest);
        if (s == by_digest[i].end()) {
            ++m.unmatched;
            continue;
        }
        const std::size_t seq = s->second;
        if (r.index != seq % period) {
            ++m.misplaced;
        }
        if (seq < crypto_from) {
            ++m.first_superframe;
        } else if (!crypto_ok(i, r)) {
            ++m.crypto_wrong;
        }
        if (got[i][seq]) {
            ++m.duplicates;
            continue;
        }
        got[i][seq] = true;
        const std::int64_t t_sent = sent[i][seq].t;
        if (t_sent >= wb && t_sent < we) {
            ++m.matched;
            m.lat.push_back(r.t_rx_ns - t_sent);
        }
    }
    return m;
}

}  // namespace iwf::bench
