// iwf_load relaying steps (load_steps.hpp): LMR streams through the bare relay or iwfd's
// reflector path to receivers on loopback, and the DMR HBP-master shape through the relay.
#include <atomic>
#include <fstream>
#include <stdexcept>
#include <sys/epoll.h>
#include <thread>
#include <unistd.h>

#include "tests/bench/load/dmr_shape.hpp"
#include "tests/bench/load/forwarder.hpp"
#include "tests/bench/load/forwarder_setup.hpp"
#include "tests/bench/load/lmr_sender.hpp"
#include "tests/bench/load/load_book.hpp"
#include "tests/bench/load/load_measure.hpp"
#include "tests/bench/load/load_net.hpp"
#include "tests/bench/load/load_steps.hpp"

namespace iwf::bench {

json runStep(const Options& o, unsigned n, const fs::path& workdir) {
    std::vector<StreamKind> kinds(n);
    std::vector<std::uint8_t> periods(n);
    std::vector<Group> groups{{StreamKind::P25, {}, intervalNs(StreamKind::P25)},
                              {StreamKind::Dmr, {}, intervalNs(StreamKind::Dmr)}};
    for (unsigned i = 0; i < n; ++i) {
        StreamKind k = StreamKind::P25;
        if (o.protocol == "dmr" || (o.protocol == "mix" && i % 2 == 1)) {
            k = StreamKind::Dmr;
        }
        kinds[i] = k;
        periods[i] = periodOf(k);
        groups[k == StreamKind::P25 ? 0 : 1].ids.push_back(i);
    }
    std::vector<StreamSource> sources;
    sources.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
        sources.emplace_back(kinds[i], i);
    }

    Sockets socks;
    const int epfd = openReceivers(socks, n, true);

    // The forwarder under test.
    const fs::path fwd_log = workdir / ("forwarder-" + std::to_string(n) + ".log");
    Forwarder fwd;
    std::vector<std::uint16_t> dst_ports(n);
    if (o.target == "relay") {
        const fs::path routes = workdir / ("routes-" + std::to_string(n) + ".txt");
        {
            std::ofstream f(routes);
            for (unsigned i = 0; i < n; ++i) {
                f << localPort(socks.tx[i]) << ' ' << localPort(socks.rx[i]) << '\n';
            }
        }
        const std::uint16_t relay_port = startRelay(o, routes, {}, fwd_log, fwd);
        if (relay_port == 0) {
            ::close(epfd);
            throw std::runtime_error("relay did not report its port; see " + fwd_log.string());
        }
        std::fill(dst_ports.begin(), dst_ports.end(), relay_port);
    } else {
        // The links bind port 0 and iwfd logs the port each got ("link=p25-I listening
        // port=P"): no window in which another process could take a port picked for them.
        std::fill(dst_ports.begin(), dst_ports.end(), std::uint16_t{0});
        const fs::path cfg = workdir / ("iwfd-" + std::to_string(n) + ".yaml");
        writeIwfdConfig(cfg, workdir, n, o.threads);
        startIwfd(o, cfg, workdir, fwd_log, fwd);
        if (const std::string err = linkIwfdP25(fwd_log, socks, dst_ports, fwd); !err.empty()) {
            ::close(epfd);
            throw std::runtime_error(err);
        }
    }
    const auto rss_kib = readRssKib(fwd.pid());
    bool fwd_rt = true;
    if (o.rt_prio > 0) {
        // Every thread of the forwarder (its workers exist once it printed its port).
        setProcessRealtime(fwd.pid(), o.rt_prio, fwd_rt);
    }

    LoadBook book(periods);
    const StepSchedule sch = stepSchedule(o);
    const std::int64_t t0 = sch.t0;
    const std::int64_t w_begin = sch.begin;
    const std::int64_t w_end = sch.end;
    book.setWindow(w_begin, w_end);

    std::vector<std::uint64_t> seqs(n, 0);
    std::atomic<bool> stop_rx{false};
    SenderStats sst;
    ReceiverStats rst;
    std::thread rx = startReceiver(o, epfd, kinds, socks, book, stop_rx, rst);
    std::thread tx([&] {
        pinThisThread(parseCpuList(o.gen_cpus));
        setRealtime(o.rt_prio);
        senderLoop(groups, sources, seqs, socks, dst_ports, book, t0, w_end, sst);
    });

    WindowReadings w;
    w.measure(fwd.pid(), w_begin, w_end);
    tx.join();
    sleepUntilNs(w_end + 300'000'000);  // drain: anything still in flight counts as late/lost
    stop_rx.store(true);
    rx.join();
    const std::string load_end = readLoadavg();
    fwd.stop();
    ::close(epfd);
    const std::string fwd_report = lastJsonLine(fwd_log);

    const BookCounters c = book.counters();
    std::vector<std::int64_t> lat = book.latencies();
    const double secs = o.duration_s;
    const double gen_cpu = w.selfCpu();
    double voice_frames = 0;
    for (unsigned i = 0; i < n; ++i) {
        voice_frames +=
            voiceFramesPerPacket(kinds[i]) * 1e9 / static_cast<double>(intervalNs(kinds[i]));
    }

    double offered_pps = 0;
    for (unsigned i = 0; i < n; ++i) {
        offered_pps += 1e9 / static_cast<double>(intervalNs(kinds[i]));
    }
    const StepTotals t = stepTotals(o, n, offered_pps, c.sent, c.matched, lat, w, sst.send_errors,
                                    sst.max_behind_ns, fwd_rt, load_end);
    json r;
    const double loss = putStepTotals(r, t);
    r["offered_voice_frames_per_s"] = voice_frames;
    r["unmatched"] = c.unmatched;
    r["corrupted"] = c.corrupted;
    r["late_from_warmup"] = c.late;
    r["undecodable"] = rst.undecodable;
    r["no_kernel_timestamp"] = rst.no_timestamp;
    r["fwd_rss_kib_at_start"] = rss_kib ? static_cast<std::int64_t>(*rss_kib) : -1;
    r["gen_cpu_util"] = gen_cpu >= 0 ? gen_cpu / secs : -1.0;
    r["gen_sends_behind_1ms"] = sst.behind_over_1ms;
    r["forwarder_report"] = fwd_report.empty() ? json() : json::parse(fwd_report, nullptr, false);
    putPass(r, o, t, loss, c.corrupted == 0);
    return r;
}

// --protocol dmr --target relay --dmr-peers K: the bare relay in the same shape (K input
// sockets carrying every stream; iwf_relay --route-by dmr-dst forwards by the DMRD
// destination ID to stream i's receiver socket, which checks position, digest and latency
// with kernel receive timestamps, as runStep does).
json runDmrRelayStep(const Options& o, unsigned n, const fs::path& workdir) {
    const unsigned k = std::max(1u, o.dmr_peers);
    std::vector<StreamKind> kinds(n, StreamKind::Dmr);
    Sockets socks;
    const int epfd = openReceivers(socks, n, false);
    HbpPeerSockets peers(k);
    const fs::path routes = workdir / ("dmr-routes-" + std::to_string(n) + ".txt");
    {
        std::ofstream f(routes);
        for (unsigned i = 0; i < n; ++i) {
            f << dmrStreamIds(i).talkgroup << ' ' << localPort(socks.rx[i]) << '\n';
        }
    }
    const fs::path fwd_log = workdir / ("relay-dmr-" + std::to_string(n) + ".log");
    Forwarder fwd;
    const std::uint16_t relay_port = startRelay(o, routes, {"--route-by", "dmr-dst"}, fwd_log, fwd);
    if (relay_port == 0) {
        ::close(epfd);
        throw std::runtime_error("relay did not report its port; see " + fwd_log.string());
    }
    bool fwd_rt = true;
    if (o.rt_prio > 0) {
        setProcessRealtime(fwd.pid(), o.rt_prio, fwd_rt);
    }
    std::vector<DmrCallSource> sources = dmrSources(n);
    LoadBook book(std::vector<std::uint8_t>(n, 6));
    const StepSchedule sch = stepSchedule(o);
    const std::int64_t t0 = sch.t0;
    const std::int64_t wb = sch.begin;
    const std::int64_t we = sch.end;
    book.setWindow(wb, we);
    std::atomic<std::int64_t> stop_at{we};
    std::atomic<std::int64_t> w_begin{wb};
    std::atomic<std::int64_t> w_end{we};
    DmrTickSender txs(peerFds(peers, k), relay_port);
    DmrSendStats sst;
    std::atomic<bool> stop_rx{false};
    ReceiverStats rst;
    std::thread rx = startReceiver(o, epfd, kinds, socks, book, stop_rx, rst);
    std::thread tx = startDmrSender(
        o, sources, k, txs, t0, stop_at, w_begin, w_end,
        [&book](std::uint32_t i, std::uint64_t seq, std::int64_t t, std::uint32_t,
                std::uint32_t bd) { book.noteSent(i, seq, t, bd); },
        sst);
    WindowReadings w;
    w.measure(fwd.pid(), wb, we);
    tx.join();
    sleepUntilNs(we + 300'000'000);
    stop_rx.store(true);
    rx.join();
    fwd.stop();
    ::close(epfd);
    const std::string fwd_report = lastJsonLine(fwd_log);
    const BookCounters c = book.counters();
    std::vector<std::int64_t> lat = book.latencies();
    json r;
    const StepTotals t =
        dmrTotals(o, n, c.sent, c.matched, lat, w, sst.send_errors, sst.max_behind_ns, fwd_rt);
    const double loss = putDmrStep(r, t, w, sst, k, "relay by DMRD destination ID");
    r["unmatched"] = c.unmatched;
    r["corrupted"] = c.corrupted;
    r["late_from_warmup"] = c.late;
    r["undecodable"] = rst.undecodable;  // the call start packets (data sync) among them
    r["forwarder_report"] = fwd_report.empty() ? json() : json::parse(fwd_report, nullptr, false);
    putPass(r, o, t, loss, c.corrupted == 0);
    return r;
}

}  // namespace iwf::bench
