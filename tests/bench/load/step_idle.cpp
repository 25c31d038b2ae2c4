// iwf_load --idle-calls: iwfd's memory per idle call (load_steps.hpp).
#include <fstream>
#include <stdexcept>
#include <thread>

#include "tests/bench/load/forwarder.hpp"
#include "tests/bench/load/forwarder_setup.hpp"
#include "tests/bench/load/lmr_sender.hpp"
#include "tests/bench/load/load_measure.hpp"
#include "tests/bench/load/load_steps.hpp"

namespace iwf::bench {

// --idle-calls: iwfd with one p25-records link per stream (call timeout 600 s, so nothing
// ends during the step). Memory is read once every link is up and both peers of every link
// are linked (polls answered), then every stream sends idle_frames records at 20 ms pacing
// (LDU1 LC "encrypted", TGID, source, ES with MI/ALGID/key ID: a complete encrypted call
// start) and goes silent. After the calls are seen open (iwf_p25 rx counters reach the sent
// count) and 1 s of silence, memory is read again: (after - before) / N = bytes per idle call.
json runIdleStep(const Options& o, unsigned n, const fs::path& workdir) {
    std::vector<StreamSource> sources = p25Sources(n);
    Sockets socks;
    for (unsigned i = 0; i < n; ++i) {
        socks.tx.push_back(udpSocket(false, 0));
        socks.rx.push_back(udpSocket(false, 1 << 16));
    }
    const fs::path fwd_log = workdir / ("iwfd-idle-" + std::to_string(n) + ".log");
    const fs::path cfg = workdir / ("iwfd-idle-" + std::to_string(n) + ".yaml");
    std::vector<std::uint16_t> ports(n, 0);
    writeIwfdConfig(cfg, workdir, n, o.threads, "600s");
    Forwarder fwd;
    startIwfd(o, cfg, workdir, fwd_log, fwd);
    if (const std::string err = linkIwfdP25(fwd_log, socks, ports, fwd); !err.empty()) {
        throw std::runtime_error(err);
    }
    const std::uint16_t admin = readAdminPort(workdir / "admin.port");
    drainSockets(socks);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // settle: links, peers
    const MemKib before = readMem(fwd.pid());
    const std::string metrics0 = admin != 0 ? httpGet(admin, "/metrics") : std::string();
    const double rx0 = sumMetric(metrics0, "iwf_p25_records_rx_total");

    const std::uint64_t sent = sendP25Rounds(sources, socks, ports, o.idle_frames, true);
    // Wait (10 s deadline) until iwfd counted every record sent, then 1 s of silence.
    double rx1 = -1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (admin != 0 && std::chrono::steady_clock::now() < deadline) {
        rx1 = sumMetric(httpGet(admin, "/metrics"), "iwf_p25_records_rx_total");
        if (rx0 >= 0 && rx1 - rx0 >= static_cast<double>(sent)) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        drainSockets(socks);
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    drainSockets(socks);
    const MemKib after = readMem(fwd.pid());
    const std::string metrics1 = admin != 0 ? httpGet(admin, "/metrics") : std::string();
    fwd.stop();

    json r;
    r["n"] = n;
    r["frames_per_stream"] = o.idle_frames;
    r["sent"] = sent;
    r["iwfd_records_rx"] = (rx0 >= 0 && rx1 >= 0) ? rx1 - rx0 : -1.0;
    r["engine_calls_open"] = sumMetric(metrics1, "iwf_engine_calls");
    r["engine_calls_started"] = sumMetric(metrics1, "iwf_engine_calls_started_total");
    r["engine_refused"] = sumMetric(metrics1, "iwf_engine_refusals_total");
    putMemoryPerCall(r, before, after, n);
    return r;
}

}  // namespace iwf::bench
