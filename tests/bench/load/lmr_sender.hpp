#pragma once
// The LMR side of iwf_load: N simulated encrypted streams at real time (P25 records at 50/s,
// DMR DMRD at 16.7 bursts/s), the receivers (kernel receive timestamps), and the DMR
// HBP-master shape (K sockets, one sendmmsg per socket per tick).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <time.h>
#include <vector>

#include "tests/bench/load/dmr_shape.hpp"
#include "tests/bench/load/forwarder.hpp"
#include "tests/bench/load/load_book.hpp"
#include "tests/bench/load/load_common.hpp"
#include "tests/bench/load/stream_source.hpp"

namespace iwf::bench {

// Streams of one kind share an interval; stream j of a group of m starts at phase j*T/m so
// the offered load is smooth (no 20 ms bursts), as independent radios would be.
struct Group {
    StreamKind kind;
    std::vector<std::uint32_t> ids;
    std::int64_t interval = 0;
    std::size_t cursor = 0;
    std::uint64_t round = 0;
    std::int64_t due(std::int64_t t0) const {
        const auto m = static_cast<std::int64_t>(ids.size());
        return t0 + static_cast<std::int64_t>(round) * interval +
               static_cast<std::int64_t>(cursor) * interval / m;
    }
    void advance() {
        if (++cursor == ids.size()) {
            cursor = 0;
            ++round;
        }
    }
};

struct SenderStats {
    std::uint64_t sent = 0;
    std::uint64_t send_errors = 0;
    std::int64_t max_behind_ns = 0;     // worst lateness of a send against its schedule
    std::uint64_t behind_over_1ms = 0;  // sends more than 1 ms behind schedule
};

void senderLoop(std::vector<Group>& groups, std::vector<StreamSource>& sources,
                std::vector<std::uint64_t>& seqs, const Sockets& socks,
                const std::vector<std::uint16_t>& dst_ports, LoadBook& book, std::int64_t t0,
                std::int64_t t_end, SenderStats& st);

struct ReceiverStats {
    std::uint64_t datagrams = 0;
    std::uint64_t undecodable = 0;  // not a voice frame (e.g. a poll answer from iwfd)
    std::uint64_t no_timestamp = 0;
};

void receiverLoop(int epfd, const std::vector<StreamKind>& kinds, const Sockets& socks,
                  LoadBook& book, const std::atomic<bool>& stop, ReceiverStats& st);

// Receivers of a relaying step: stream i's socket (kernel timestamps, 256 KiB buffer) in
// socks.rx[i], with `senders` a sender socket in socks.tx[i] too; returns the epoll set.
int openReceivers(Sockets& socks, unsigned n, bool senders);
// The receiver thread, on the generator's CPUs one step above the sender: on a shared CPU a
// busy FIFO sender must not starve the receiver (its socket buffers would overflow and count
// as forwarder loss).
std::thread startReceiver(const Options& o, int epfd, const std::vector<StreamKind>& kinds,
                          const Sockets& socks, LoadBook& book, const std::atomic<bool>& stop,
                          ReceiverStats& st);
std::vector<StreamSource> p25Sources(unsigned n);
// Every stream sends records 0..frames-1 to its link at 20 ms pacing (with `drain`, the
// receivers are emptied after each round). Returns how many the kernel took.
std::uint64_t sendP25Rounds(std::vector<StreamSource>& sources, const Sockets& socks,
                            const std::vector<std::uint16_t>& ports, unsigned frames, bool drain);

// ------------------------------------------------------------------ DMR, HBP-master shape
//
// --protocol dmr with --target iwfd --mc, or --target relay --dmr-peers K: N encrypted DMR
// calls (tests/bench/load/dmr_shape.hpp) over K generator sockets, every tick's packets sent
// with one sendmmsg per socket. Stream i starts at phase i * 60 ms / N with its call start
// (voice LC header + PI header); its voice burst v leaves (v + 1) * 60 ms later.
struct DmrSendStats {
    std::uint64_t packets = 0;  // every packet handed to the kernel (call starts too)
    std::uint64_t voice_in_window = 0;
    std::uint64_t send_errors = 0;
    std::uint64_t syscalls = 0;
    std::int64_t max_behind_ns = 0;
    std::uint64_t behind_over_1ms = 0;
    double thread_cpu_s = 0;  // the sender thread's own CPU time
};

// on_voice(stream, seq, t_ns, vocoder_digest, burst_digest) for every voice burst sent.
template <typename OnVoice>
void dmrSenderLoop(std::vector<DmrCallSource>& src, unsigned k, DmrTickSender& tx, std::int64_t t0,
                   std::int64_t tick_ns, const std::atomic<std::int64_t>& stop_at,
                   const std::atomic<std::int64_t>& w_begin, const std::atomic<std::int64_t>& w_end,
                   OnVoice on_voice, DmrSendStats& st) {
    const auto n = static_cast<std::int64_t>(src.size());
    struct Pending {
        std::uint32_t stream;
        std::uint64_t seq;
        std::uint32_t digest;
        std::uint32_t burst_digest;
        std::int64_t due;
    };
    std::vector<Pending> pending;
    pending.reserve(4096);
    Bytes a;
    Bytes b;
    a.reserve(64);
    b.reserve(64);
    std::int64_t idx = 0;
    std::int64_t round = 0;
    auto due = [&] { return t0 + round * kDmrBurstNs + idx * kDmrBurstNs / n; };
    std::int64_t tick = t0;
    while (true) {
        sleepUntilNs(tick);
        std::int64_t now = nowNs();
        if (now >= stop_at.load(std::memory_order_relaxed)) {
            break;
        }
        pending.clear();
        for (std::int64_t d = due(); d <= now; d = due()) {
            const auto i = static_cast<std::uint32_t>(idx);
            const unsigned s = HbpPeerSockets::socketOf(i, k);
            if (round == 0) {
                src[i].callStart(a, b);
                tx.add({s, a.data(), a.size()});
                tx.add({s, b.data(), b.size()});
            } else {
                Pending p{i, static_cast<std::uint64_t>(round - 1), 0, 0, d};
                p.digest = src[i].voice(p.seq, a, &p.burst_digest);
                tx.add({s, a.data(), a.size()});
                pending.push_back(p);
            }
            if (++idx == n) {
                idx = 0;
                ++round;
            }
        }
        // Bookkeeping before the send (the receiver may see a packet before flush returns);
        // t = the sender's clock just before the first sendmmsg of the tick.
        const std::int64_t t = nowNs();
        const std::int64_t wb = w_begin.load(std::memory_order_relaxed);
        const std::int64_t we = w_end.load(std::memory_order_relaxed);
        for (const auto& p : pending) {
            on_voice(p.stream, p.seq, t, p.digest, p.burst_digest);
            if (t >= wb && t < we) {
                // Lateness counted in the window only (call setup before it is busy on CPU 0).
                ++st.voice_in_window;
                st.max_behind_ns = std::max(st.max_behind_ns, t - p.due);
                if (t - p.due > 1'000'000) {
                    ++st.behind_over_1ms;
                }
            }
        }
        std::int64_t t_flush = 0;
        st.packets += tx.flush(t_flush);
        tick += tick_ns;
        if (tick < now) {
            tick = now;  // fell behind: no catch-up burst of ticks, the lateness is counted
        }
    }
    st.send_errors = tx.errors();
    st.syscalls = tx.syscalls();
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    st.thread_cpu_s = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

std::vector<DmrCallSource> dmrSources(unsigned n);
std::vector<int> peerFds(const HbpPeerSockets& peers, unsigned k);

// the sender's priority.
template <typename OnVoice>
std::thread startDmrSender(const Options& o, std::vector<DmrCallSource>& sources, unsigned k,
                           DmrTickSender& txs, std::int64_t t0,
                           const std::atomic<std::int64_t>& stop_at,
                           const std::atomic<std::int64_t>& w_begin,
                           const std::atomic<std::int64_t>& w_end, OnVoice on_voice,
                           DmrSendStats& sst) {
    const auto tick_ns = static_cast<std::int64_t>(o.dmr_tick_us * 1000.0);
    return std::thread(
        [&o, &sources, k, &txs, t0, tick_ns, &stop_at, &w_begin, &w_end, on_voice, &sst] {
            pinThisThread(parseCpuList(o.gen_cpus));
            setRealtime(o.rt_prio);
            dmrSenderLoop(sources, k, txs, t0, tick_ns, stop_at, w_begin, w_end, on_voice, sst);
        });
}

}  // namespace iwf::bench
