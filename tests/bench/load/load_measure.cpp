// What iwf_load measures and reports per step (load_measure.hpp): the measured window, the
// totals every relaying step reports alike, and the matching of what an MC side received
// against what was sent.
#include "tests/bench/load/load_measure.hpp"

#include <algorithm>

#include "harness/runner/admin_client.hpp"
#include "tests/bench/load/forwarder.hpp"

namespace iwf::bench {

// iwfd's admin API (harness/runner/admin_client.hpp), 5 s per receive: a saturated iwfd answers
// slowly.
std::string httpGet(std::uint16_t port, const std::string& path) {
    return iwf::harness::adminGet(port, path, std::chrono::seconds(5));
}

// Sum of every sample of a Prometheus metric family (all label sets); -1 when absent.
double sumMetric(const std::string& text, const std::string& name) {
    return iwf::harness::metricTotal(text, name).value_or(-1.0);
}

StepSchedule stepSchedule(const Options& o) {
    StepSchedule s;
    s.t0 = nowNs() + 50'000'000;
    s.begin = s.t0 + static_cast<std::int64_t>(o.warmup_s * 1e9);
    s.end = s.begin + static_cast<std::int64_t>(o.duration_s * 1e9);
    return s;
}

// Read at both ends of the measured window: the forwarder's and this process's CPU times and

// The totals after the window: latency from lat, CPU and load average from w.
StepTotals stepTotals(const Options& o, unsigned n, double offered_pps, std::uint64_t sent,
                      std::uint64_t matched, std::vector<std::int64_t>& lat,
                      const WindowReadings& w, std::uint64_t send_errors,
                      std::int64_t max_behind_ns, bool fwd_rt, std::string load_end) {
    StepTotals t;
    t.n = n;
    t.offered_pps = offered_pps;
    t.sent = sent;
    t.matched = matched;
    t.secs = o.duration_s;
    t.latency = latencyUs(lat);
    t.fwd_cpu = w.fwdCpu();
    t.send_errors = send_errors;
    t.max_behind_ns = max_behind_ns;
    t.realtime = o.rt_prio > 0 && fwd_rt;
    t.load_begin = w.load_begin;
    t.load_end = std::move(load_end);
    return t;
}

// Writes the StepTotals fields into r; returns the loss.
double putStepTotals(json& r, const StepTotals& t) {
    const double loss = t.sent == 0 ? 1.0
                                    : static_cast<double>(t.sent - std::min(t.sent, t.matched)) /
                                          static_cast<double>(t.sent);
    r["n"] = t.n;
    r["offered_pps"] = t.offered_pps;
    r["in_pps"] = static_cast<double>(t.sent) / t.secs;
    r["out_pps"] = static_cast<double>(t.matched) / t.secs;
    r["sent"] = t.sent;
    r["received"] = t.matched;
    r["loss"] = loss;
    r["latency_us"] = {{"p50", t.latency.p50}, {"p99", t.latency.p99}, {"p99_9", t.latency.p999}};
    if (t.latency_max) {
        r["latency_us"]["max"] = t.latency.max;
    }
    r["fwd_cpu_s"] = t.fwd_cpu;
    r["fwd_cpu_s_per_1000"] = (t.fwd_cpu >= 0 && t.matched > 0)
                                  ? t.fwd_cpu / (static_cast<double>(t.matched) / 1000.0)
                                  : -1.0;
    r["fwd_cpu_util"] = t.fwd_cpu >= 0 ? t.fwd_cpu / t.secs : -1.0;
    r["gen_send_errors"] = t.send_errors;
    r["gen_max_behind_us"] = static_cast<double>(t.max_behind_ns) / 1e3;
    r["realtime"] = t.realtime;
    r["loadavg_begin"] = t.load_begin;
    r["loadavg_end"] = t.load_end;
    return loss;
}

// A step passes when p99 and loss are in bounds, `clean` (nothing corrupted, misplaced ...),
// something arrived and the generator really offered the load (>= 98 % of the schedule: a
// generator that falls behind would make any forwarder look good).
void putPass(json& r, const Options& o, const StepTotals& t, double loss, bool clean) {
    r["generator_kept_up"] = static_cast<double>(t.sent) / t.secs >= 0.98 * t.offered_pps;
    r["pass"] = t.latency.p99 < o.p99_limit_us && loss <= o.max_loss && clean && t.matched > 0 &&
                r["generator_kept_up"].get<bool>();
}

// Per stream: digest -> sequence number of every frame sent.
std::vector<std::unordered_map<std::uint32_t, std::size_t>> digestIndex(const SentFrames& sent) {
    std::vector<std::unordered_map<std::uint32_t, std::size_t>> by_digest(sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
        for (std::size_t s = 0; s < sent[i].size(); ++s) {
            if (sent[i][s].t != 0) {
                by_digest[i][sent[i][s].digest] = s;
            }
        }
    }
    return by_digest;
}

// Harness MC simulator: call -> stream, from the group named in iwfd's INVITE.
std::map<std::uint64_t, unsigned> streamOfCalls(const std::vector<harness::McEvent>& events) {
    std::map<std::uint64_t, unsigned> stream_of;
    for (const auto& e : events) {
        if (e.what != "invite_from_iwfd") {
            continue;
        }
        const auto a = e.detail.find("sip:load-");
        if (a != std::string::npos) {
            stream_of[e.call] = static_cast<unsigned>(std::stoul(e.detail.substr(a + 9)));
        }
    }
    return stream_of;
}

// Harness MC simulator: its records as the lean sink's (stream, digest, position, crypto,
// receive time on the sender's clock = rx_ns + offset). A record of a call that no INVITE
// names counts in unmatched, a decrypted one in decrypted.
std::deque<LeanRx> simRecords(const std::vector<harness::McRxRecord>& records,
                              const std::vector<harness::McEvent>& events, std::int64_t offset,
                              std::uint64_t& unmatched, std::uint64_t& decrypted) {
    const std::map<std::uint64_t, unsigned> stream_of = streamOfCalls(events);
    std::deque<LeanRx> rx;
    for (const auto& rec : records) {
        decrypted += rec.decrypted ? 1 : 0;
        const auto it = stream_of.find(rec.call);
        if (it == stream_of.end()) {
            ++unmatched;
            continue;
        }
        LeanRx x;
        x.stream = it->second;
        x.digest = fnv1a(rec.frame.payload.data(), rec.frame.payload.size());
        x.index = rec.frame.pos.index;
        x.encrypted = rec.frame.crypto.encrypted;
        x.algid = rec.frame.crypto.algid;
        x.key_id = rec.frame.crypto.key_id;
        x.t_rx_ns = rec.rx_ns + offset;
        rx.push_back(x);
    }
    return rx;
}

std::int64_t steadyToRealtimeNs() {
    const std::int64_t steady_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count();
    return nowNs() - steady_now;
}

// The memory fields of an --idle-calls step: RSS and Pss before and after, per call.
void putMemoryPerCall(json& r, const MemKib& before, const MemKib& after, unsigned n) {
    r["rss_kib_before"] = before.rss;
    r["rss_kib_after"] = after.rss;
    r["pss_kib_before"] = before.pss;
    r["pss_kib_after"] = after.pss;
    r["rss_bytes_per_call"] = static_cast<double>(after.rss - before.rss) * 1024.0 / n;
    r["pss_bytes_per_call"] = static_cast<double>(after.pss - before.pss) * 1024.0 / n;
    // Kernel memory is not in RSS: the sockets the calls added, times what one idle UDP
    // socket holds in the kernel's slabs.
    r["sockets_before"] = before.sockets;
    r["sockets_after"] = after.sockets;
    const double sockets_per_call = static_cast<double>(after.sockets - before.sockets) / n;
    const std::int64_t per_socket = kernelBytesPerUdpSocket();
    r["sockets_per_call"] = sockets_per_call;
    r["kernel_bytes_per_socket"] = per_socket;
    r["kernel_bytes_per_call"] =
        per_socket > 0 ? sockets_per_call * static_cast<double>(per_socket) : -1.0;
    r["loadavg"] = readLoadavg();
}

// The totals of a DMR step (offered: one packet a stream every 60 ms) after its window.
StepTotals dmrTotals(const Options& o, unsigned n, std::uint64_t sent, std::uint64_t matched,
                     std::vector<std::int64_t>& lat, const WindowReadings& w,
                     std::uint64_t send_errors, std::int64_t max_behind_ns, bool fwd_rt) {
    return stepTotals(o, n, static_cast<double>(n) * 1e9 / static_cast<double>(kDmrBurstNs), sent,
                      matched, lat, w, send_errors, max_behind_ns, fwd_rt, readLoadavg());
}

// The fields both DMR steps report: the totals, per-packet CPU (3 voice frames a packet), the
// generator's sendmmsg sender and the HBP shape; returns the loss.
double putDmrStep(json& r, const StepTotals& t, const WindowReadings& w, const DmrSendStats& sst,
                  unsigned k, const char* path) {
    const double loss = putStepTotals(r, t);
    const auto matched = static_cast<double>(t.matched);
    const bool cpu_known = t.fwd_cpu >= 0 && t.matched > 0;
    r["protocol"] = "dmr";
    r["path"] = path;
    r["hbp_sockets"] = k;
    r["voice_frames_per_packet"] = 3;
    r["fwd_cpu_us_per_packet"] = cpu_known ? t.fwd_cpu * 1e6 / matched : -1.0;
    r["fwd_cpu_s_per_1000_voice_frames"] = cpu_known ? t.fwd_cpu / (3.0 * matched / 1000.0) : -1.0;
    const double gen_cpu = w.selfCpu();
    r["gen_process_cpu_util"] = gen_cpu >= 0 ? gen_cpu / t.secs : -1.0;
    r["gen_sender_thread_cpu_s"] = sst.thread_cpu_s;
    r["gen_sendmmsg_calls"] = sst.syscalls;
    r["gen_sends_behind_1ms"] = sst.behind_over_1ms;
    r["udp_rcvbuf_errors_in_window"] = w.rcvbufErrors();
    return loss;
}

}  // namespace iwf::bench
