// iwf_load --mc steps (load_steps.hpp): LMR -> MC through iwfd's engine, with the harness MC
// system simulator (harness/sim/mc_system.hpp) or the lean MC sink (lean_mc_sink.hpp) as the
// MC side.
#include <arpa/inet.h>
#include <atomic>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <limits>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <variant>

#include "harness/sim/mc_system.hpp"
#include "mc_adapters/security/key_file.hpp"
#include "tests/bench/load/dmr_shape.hpp"
#include "tests/bench/load/forwarder.hpp"
#include "tests/bench/load/forwarder_setup.hpp"
#include "tests/bench/load/lean_mc_sink.hpp"
#include "tests/bench/load/lmr_sender.hpp"
#include "tests/bench/load/load_measure.hpp"
#include "tests/bench/load/load_steps.hpp"

namespace iwf::bench {

namespace h = iwf::harness;

namespace {

// The MC side of --mc (P25): the harness MC system with one client ("sink") in every group,
// holding every stream's key.
std::unique_ptr<h::McSystem> startP25McSide(const Options& o, unsigned n,
                                            const mc::security::ProvisionedKeys& gmks) {
    h::McSystemConfig mcc;
    for (const auto& [group, gmk] : gmks.gmks) {
        mcc.gmks[group].push_back(gmk);
    }
    h::ScenarioClient sink;
    sink.name = "sink";
    sink.mc_id = "sip:sink@mc.example";
    for (unsigned i = 0; i < n && i < 256; ++i) {
        h::ScenarioKey k;
        k.name = "k" + std::to_string(i);
        k.key_id = 0x0100 + i;
        mcc.keys.push_back(k);
        sink.keys.push_back(k.name);
    }
    for (unsigned i = 0; i < n; ++i) {
        h::ScenarioGroup g;
        g.mc_group = "sip:load-" + std::to_string(i) + "@iwf.example";
        g.lmr_group = 1000 + i;
        g.key = "k" + std::to_string(i & 0xFF);
        mcc.groups.push_back(g);
        sink.groups.push_back(g.mc_group);
    }
    mcc.clients.push_back(sink);
    auto mc = std::make_unique<h::McSystem>(mcc);
    if (auto st = mc->start(); !st.ok()) {
        throw std::runtime_error("MC simulator: " + st.error().toString());
    }
    if (o.rt_prio > 0) {
        // The simulator's io thread is the receiver: one step above the sender (as in runStep).
        bool ok = true;
        setProcessRealtime(::getpid(), o.rt_prio + 1, ok);
        pinThisThread(parseCpuList(o.gen_cpus));
    }
    return mc;
}

// --mc-srtp: a media_protection.key_file (mode 0600) with one GMK per load group, each with
// its own key, GMK-ID (purpose tag 0, 33.180 §5.2.2), GUK-ID and RAND; the 33.180 default
// group profile (AEAD_AES_128_GCM with RCCm3).
std::string writeGmkFile(const fs::path& workdir, const std::string& tag, unsigned n) {
    const fs::path path = workdir / ("mc-keys-" + tag);
    {
        std::ofstream f(path);
        char line[256];
        for (unsigned i = 0; i < n; ++i) {
            std::snprintf(line, sizeof line,
                          "gmk sip:load-%u@iwf.example %08x%08x%08x%08x %08x %08x "
                          "%08x%08x%08x%08x gcm-rcc\n",
                          i, 0x6b657930u + i, 0x11223344u, 0x55667788u ^ i, 0x99aabbccu,
                          0x01000000u | i, 0x02000000u | i, 0xca2f5d51u, i, 0x2c1d85a5u,
                          0x6f84651eu);
            f << line;
        }
    }
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write,
                    fs::perm_options::replace);
    return path.string();
}

// iwfd for --mc (P25): the keymap store, the mcptt-iwf1 link and one p25-records link per
// stream (reflect off), every port 0.
void writeP25McConfig(const Options& o, const fs::path& cfg, const fs::path& workdir,
                      const std::string& km_db, std::uint16_t mc_port, unsigned n,
                      const std::string& key_file) {
    std::ofstream f(cfg);
    writeIwfdHead(f, "iwf_load --mc", "p25", o.threads, workdir);
    writeMcLink(f, km_db, mc_port, n, key_file);
    f << "lmr_links:\n";
    for (unsigned i = 0; i < n; ++i) {
        f << "  - {name: p25-" << i << ", type: p25-records, address: 127.0.0.1, port: 0"
          << ", wacn: 0xBEE00, system: 0x001, tgid: " << 1000 + i
          << ", peer_timeout: 600s, call_timeout: " << (o.idle_calls ? "600s" : "2s")
          << ", reflect: false, max_peers: 2}\n";
    }
}

// The SIP port iwfd's mcptt-iwf1 link ("mc") bound; throws (iwfd stopped) when it is not in
// the log.
std::uint16_t iwfdSipPort(const fs::path& fwd_log, Forwarder& fwd) {
    const std::uint16_t port = readSipPort(fwd_log, fwd, "mc");
    if (port == 0) {
        fwd.stop();
        throw std::runtime_error("iwfd: its mcptt-iwf1 link reported no SIP port; its log ends: " +
                                 logTail(fwd_log));
    }
    return port;
}

// --mc --idle-calls: memory before, then every stream sends idle_frames records (20 ms
// pacing) and goes silent inside its call timeout (600 s); memory again once the MC side got
// one call per stream and after 1 s of silence.
json idleMcCalls(const Options& o, unsigned n, const fs::path& workdir, Forwarder& fwd,
                 h::McSystem& mc, const Sockets& socks, const std::vector<std::uint16_t>& ports) {
    const std::uint16_t admin = readAdminPort(workdir / "admin.port");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const MemKib before = readMem(fwd.pid());
    std::vector<StreamSource> src = p25Sources(n);
    // At least two superframes: the engine sets up the MC call once a frame carries the
    // stream's crypto sync (MI), i.e. from the second superframe on (the first ES, record
    // 17, announces the MI of the next superframe).
    const unsigned frames_sent = std::max(o.idle_frames, 36u);
    sendP25Rounds(src, socks, ports, frames_sent, false);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (mc.callsReceived() < n && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const MemKib after = readMem(fwd.pid());
    const std::string metrics = admin != 0 ? httpGet(admin, "/metrics") : std::string();
    const std::size_t calls = mc.callsReceived();
    fwd.stop();
    mc.stop();
    json r;
    r["n"] = n;
    r["frames_per_stream"] = frames_sent;
    r["mc_calls"] = calls;
    r["engine_calls_open"] = sumMetric(metrics, "iwf_engine_calls");
    r["engine_refusals"] = sumMetric(metrics, "iwf_engine_refusals_total");
    r["iwfd_records_rx"] = sumMetric(metrics, "iwf_p25_records_rx_total");
    putMemoryPerCall(r, before, after, n);
    return r;
}

// What the P25 --mc sender did in the measured window.
struct P25McSent {
    SentFrames sent;
    std::uint64_t in_window = 0;
    std::uint64_t send_errors = 0;
    std::int64_t max_behind = 0;
};

// The P25 sender of --mc: stream i at 50 records/s, phase i*20ms/n, until the window's end;
// every frame's send time and digest in out.sent.
void sendP25Window(const Options& o, unsigned n, const StepSchedule& sch, const Sockets& socks,
                   const std::vector<std::uint16_t>& ports, std::vector<StreamSource>& sources,
                   P25McSent& out) {
    const std::int64_t interval = intervalNs(StreamKind::P25);
    const auto frames = out.sent.empty() ? 0 : out.sent[0].size();
    pinThisThread(parseCpuList(o.gen_cpus));
    setRealtime(o.rt_prio);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    Bytes buf;
    for (std::size_t seq = 0; seq < frames; ++seq) {
        for (unsigned i = 0; i < n; ++i) {
            const std::int64_t due = sch.t0 + static_cast<std::int64_t>(seq) * interval +
                                     static_cast<std::int64_t>(i) * interval / n;
            if (due >= sch.end) {
                return;
            }
            if (due - nowNs() > 30'000) {
                sleepUntilNs(due);
            }
            const std::uint32_t digest = sources[i].build(seq, buf);
            const std::int64_t t = nowNs();
            out.max_behind = std::max(out.max_behind, t - due);
            out.sent[i][seq] = {t, digest};
            dst.sin_port = htons(ports[i]);
            if (::sendto(socks.tx[i], buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                         sizeof dst) < 0) {
                ++out.send_errors;
            } else if (t >= sch.begin && t < sch.end) {
                ++out.in_window;
            }
        }
    }
}

}  // namespace

// --mc: LMR -> MC through the engine. iwfd gets a keymap (iwfctl keymap import into a temp
// SQLite store) with one secure LMR-homed interworking group per stream (TGID 1000+i <->
// sip:load-i@iwf.example, ALGID 0x84, the stream's key ID), one p25-records link per stream
// (reflect off) and one mcptt-iwf1 link whose peer is the harness MC system simulator
// (harness/sim/mc_system.hpp): iwfd INVITEs it once per group call, and it receives the
// X-IWF-LMR RTP of every call. Bookkeeping: every sent frame's send time and the digest of its
// opaque IMBE bytes, per stream and sequence number; a received frame is matched by its call's
// group (-> stream) and its digest, and its superframe index is checked against the one sent.
// The receive time is when the simulator's io thread handled the RTP packet (steady clock,
// converted to the sender's clock), not a kernel timestamp: it includes the simulator's own
// wake-up, so these latencies are an upper bound on iwfd's.
json runMcStep(const Options& o, unsigned n, const fs::path& workdir) {
    const std::string tag = std::to_string(n);
    // --mc-srtp: one GMK per group, given to iwfd in its key_file and to the MC side.
    const std::string key_file = o.mc_srtp ? writeGmkFile(workdir, tag, n) : std::string();
    mc::security::ProvisionedKeys gmks;
    if (!key_file.empty()) {
        auto loaded = mc::security::loadKeyFile(key_file);
        if (auto* e = std::get_if<mc::security::KeyFileError>(&loaded)) {
            throw std::runtime_error(key_file + ":" + std::to_string(e->line) + ": " + e->message);
        }
        gmks = std::get<mc::security::ProvisionedKeys>(std::move(loaded));
    }
    // The MC side first: iwfd's mcptt-iwf1 link needs its SIP port as the peer.
    std::unique_ptr<h::McSystem> mc = startP25McSide(o, n, gmks);
    const std::string km_db = importKeymap(o, workdir, tag, keymapForStreams(n));
    const fs::path cfg = workdir / ("iwfd-mc-" + tag + ".yaml");
    writeP25McConfig(o, cfg, workdir, km_db, mc->sipPort(), n, key_file);
    Sockets socks;
    for (unsigned i = 0; i < n; ++i) {
        socks.tx.push_back(udpSocket(false, 0));
        socks.rx.push_back(udpSocket(false, 0));
    }
    const fs::path fwd_log = workdir / ("iwfd-mc-" + tag + ".log");
    Forwarder fwd;
    startIwfd(o, cfg, workdir, fwd_log, fwd);
    std::vector<std::uint16_t> ports(n, 0);
    if (const std::string err = linkIwfdP25(fwd_log, socks, ports, fwd); !err.empty()) {
        throw std::runtime_error(err);
    }
    mc->setIwfSipPort(iwfdSipPort(fwd_log, fwd));
    if (o.idle_calls) {
        return idleMcCalls(o, n, workdir, fwd, *mc, socks, ports);
    }
    bool fwd_rt = true;
    if (o.rt_prio > 0) {
        setProcessRealtime(fwd.pid(), o.rt_prio, fwd_rt);
    }
    std::vector<StreamSource> sources = p25Sources(n);
    const std::int64_t interval = intervalNs(StreamKind::P25);
    const StepSchedule sch = stepSchedule(o);
    P25McSent out;
    out.sent.assign(
        n, std::vector<SentFrame>(static_cast<std::size_t>((sch.end - sch.t0) / interval + 2)));
    std::thread tx([&] { sendP25Window(o, n, sch, socks, ports, sources, out); });
    WindowReadings w;
    w.measure(fwd.pid(), sch.begin, sch.end);
    tx.join();
    sleepUntilNs(sch.end + 500'000'000);  // drain
    const std::int64_t offset = steadyToRealtimeNs();
    const auto records = mc->records();
    const auto events = mc->events();
    const std::size_t calls = mc->callsReceived();
    const std::uint64_t srtp_refused = mc->srtpRefused();
    fwd.stop();
    mc->stop();

    std::uint64_t unmatched = 0;
    std::uint64_t decrypted = 0;
    const std::deque<LeanRx> rx = simRecords(records, events, offset, unmatched, decrypted);
    // The first superframe's records precede the stream's first ES (ALGID / key ID / MI arrive
    // with record 17): their crypto header is not known yet when they leave.
    McMatch m =
        matchMcFrames(rx, out.sent, 18, 18, sch.begin, sch.end, [](unsigned i, const LeanRx& r) {
            return r.algid == 0x84 && r.key_id == 0x0100u + (i & 0xFF);
        });
    unmatched += m.unmatched;
    StepTotals t = stepTotals(o, n, static_cast<double>(n) * 1e9 / static_cast<double>(interval),
                              out.in_window, m.matched, m.lat, w, out.send_errors, out.max_behind,
                              fwd_rt, readLoadavg());
    t.latency_max = false;
    json r;
    putStepTotals(r, t);
    r["path"] = o.mc_srtp ? "p25-records -> engine -> mcptt-iwf1 SRTP (TS 33.180, required)"
                          : "p25-records -> engine -> mcptt-iwf1 RTP";
    r["mc_srtp"] = o.mc_srtp;
    r["mc_srtp_refused"] = srtp_refused;
    r["mc_calls"] = calls;
    r["mc_records"] = records.size();
    r["unmatched"] = unmatched;
    r["misplaced"] = m.misplaced;
    r["duplicates"] = m.duplicates;
    r["crypto_header_wrong"] = m.crypto_wrong;  // after the first superframe
    r["first_superframe_frames"] = m.first_superframe;
    return r;
}

namespace {

// The MC side of --protocol dmr --mc: the lean sink (kernel receive timestamps) or the harness
// MC system (--mc-sink sim).
class DmrMcSide {
  public:
    DmrMcSide(const Options& o, unsigned n) : lean_(o.mc_sink == "lean") {
        if (lean_) {
            startLean(o);
        } else {
            startSim(o, n);
        }
    }
    bool lean() const { return lean_; }
    std::uint16_t sipPort() const { return lean_ ? sink_.sipPort() : sim_->sipPort(); }
    void setIwfSipPort(std::uint16_t port) {
        if (!lean_) {
            sim_->setIwfSipPort(port);
        }
    }
    std::size_t calls() const { return lean_ ? sink_.callsReceived() : sim_->callsReceived(); }
    std::size_t callsWithMedia() const { return lean_ ? sink_.callsWithMedia() : 0; }
    // Every call is up (and, for the lean sink, acknowledged its media).
    bool allCallsUp(unsigned n) const { return calls() >= n && (!lean_ || callsWithMedia() >= n); }
    void stop() {
        if (lean_) {
            sink_.stop();
        } else {
            sim_->stop();
        }
    }
    LeanMcSink& sink() { return sink_; }
    h::McSystem& sim() { return *sim_; }

  private:
    void startLean(const Options& o) {
        if (auto st = sink_.start(); !st.ok()) {
            throw std::runtime_error("lean MC sink: " + st.error().toString());
        }
        if (o.rt_prio <= 0) {
            return;
        }
        // Kernel receive timestamps: the sink's own wake-up is not in the latency, so it may
        // run below the sender.
        for (auto t : sink_.threads()) {
            sched_param sp{};
            sp.sched_priority = std::max(1, o.rt_prio - 1);
            ::pthread_setschedparam(t, SCHED_FIFO, &sp);
            cpu_set_t set;
            CPU_ZERO(&set);
            for (int c : parseCpuList(o.gen_cpus)) {
                CPU_SET(c, &set);
            }
            if (!o.gen_cpus.empty()) {
                ::pthread_setaffinity_np(t, sizeof set, &set);
            }
        }
    }
    void startSim(const Options& o, unsigned n) {
        h::McSystemConfig mcc;
        h::ScenarioClient client;
        client.name = "sink";
        client.mc_id = "sip:sink@mc.example";
        for (unsigned i = 0; i < n; ++i) {
            h::ScenarioGroup g;
            g.mc_group = "sip:load-" + std::to_string(i) + "@iwf.example";
            g.family = LmrFamily::Dmr;
            g.lmr_group = dmrStreamIds(i).talkgroup;
            mcc.groups.push_back(g);
            client.groups.push_back(g.mc_group);
        }
        mcc.clients.push_back(client);
        sim_ = std::make_unique<h::McSystem>(mcc);
        if (auto st = sim_->start(); !st.ok()) {
            throw std::runtime_error("MC simulator: " + st.error().toString());
        }
        if (o.rt_prio > 0) {
            // The simulator's threads one step BELOW the sender (the P25 --mc mode puts them
            // above): the simulator keeps every frame it receives in one growing vector, and
            // its long pauses (a reallocation copies every record so far) must not hold the
            // sender back, or the sender's catch-up burst overflows iwfd's socket and counts
            // as iwfd's loss. Its pauses still show in the latencies (it stamps on handling).
            bool ok = true;
            setProcessRealtime(::getpid(), std::max(1, o.rt_prio - 1), ok);
            pinThisThread(parseCpuList(o.gen_cpus));
        }
    }

    bool lean_;
    LeanMcSink sink_;
    std::unique_ptr<h::McSystem> sim_;
};

constexpr char kDmrLoadPassword[] = "iwf-load-hbp";

void writeDmrMcConfig(const Options& o, const fs::path& cfg, const fs::path& workdir,
                      const std::string& km_db, std::uint16_t mc_port, unsigned n) {
    std::ofstream f(cfg);
    writeIwfdHead(f, "iwf_load --protocol dmr --mc", "dmr", o.threads, workdir);
    writeMcLink(f, km_db, mc_port, n);
    f << "lmr_links:\n  - {name: dmr-0, type: dmr-hbp-master, address: 127.0.0.1, port: 0, "
      << "password: " << kDmrLoadPassword << ", id: 9990, ping_timeout: 30s, stream_timeout: 2s, "
      << "max_peers: " << std::max(64u, (n + 1) / 2 + 8) << "}\n";
}

// Keep-alive of the HBP peers while calls come up and run: RPTPING every 5 s, replies read
// every 50 ms.
class HbpKeepAlive {
  public:
    explicit HbpKeepAlive(HbpPeerSockets& peers) : peers_(peers) {}
    // For `d`, or until `done` (when given) is true.
    void runFor(std::chrono::steady_clock::duration d, const std::function<bool()>& done = {}) {
        const auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until && !(done && done())) {
            peers_.drainReplies();
            if (std::chrono::steady_clock::now() - last_ping_ > std::chrono::seconds(5)) {
                peers_.sendPings();
                last_ping_ = std::chrono::steady_clock::now();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

  private:
    HbpPeerSockets& peers_;
    std::chrono::steady_clock::time_point last_ping_ = std::chrono::steady_clock::now();
};

std::chrono::steady_clock::duration seconds(double s) {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::duration<double>(s));
}

// What the DMR --mc step saw, for its report.
struct DmrMcRun {
    double login_s = 0;
    double setup_s = 0;
    std::size_t calls_at_window = 0;
    std::size_t acked_at_window = 0;
    std::size_t calls = 0;
    std::int64_t wb = 0;
    std::int64_t dur = 0;
    std::string metrics;
    bool fwd_rt = true;
};

json dmrMcReport(const Options& o, unsigned n, unsigned k, DmrMcSide& mc, HbpPeerSockets& peers,
                 const SentFrames& sent, const WindowReadings& w, const DmrSendStats& sst,
                 const DmrMcRun& run, std::int64_t offset) {
    std::uint64_t unmatched = 0;
    std::uint64_t decrypted = 0;
    const bool lean = mc.lean();
    const std::deque<LeanRx> sim_rx =
        lean ? std::deque<LeanRx>()
             : simRecords(mc.sim().records(), mc.sim().events(), offset, unmatched, decrypted);
    const std::deque<LeanRx>& rx = lean ? mc.sink().records() : sim_rx;
    McMatch m =
        matchMcFrames(rx, sent, 6, 0, run.wb, run.wb + run.dur, [](unsigned i, const LeanRx& r) {
            return r.encrypted && r.algid == kLoadDmrAlgid && r.key_id == dmrStreamIds(i).key_id;
        });
    unmatched += m.unmatched;
    json r;
    const StepTotals t = dmrTotals(o, n, sst.voice_in_window, m.matched, m.lat, w, sst.send_errors,
                                   sst.max_behind_ns, run.fwd_rt);
    const double loss = putDmrStep(r, t, w, sst, k, "dmr-hbp-master -> engine -> mcptt-iwf1 RTP");
    r["repeater_ids"] = peers.loggedIn();
    r["login_s"] = run.login_s;
    r["call_setup_s"] = run.setup_s;
    r["mc_calls_at_window"] = run.calls_at_window;
    r["mc_calls_with_media_at_window"] = run.acked_at_window;
    r["mc_calls"] = run.calls;
    r["mc_sink"] = o.mc_sink;
    r["mc_records"] = rx.size() + (lean ? 0 : unmatched);
    r["mc_undecodable"] = lean ? mc.sink().undecodable() : 0;
    r["mc_decrypted"] = decrypted;
    r["unmatched"] = unmatched;
    r["misplaced"] = m.misplaced;
    r["duplicates"] = m.duplicates;
    r["crypto_header_wrong"] = m.crypto_wrong;
    r["gen_packets"] = sst.packets;
    r["hbp_pongs"] = peers.pongs();
    r["hbp_naks"] = peers.naks();
    r["iwfd_dmr_rx"] = sumMetric(run.metrics, "iwf_dmr_packets_total");
    r["iwfd_lmr_dropped"] = sumMetric(run.metrics, "iwf_lmr_dropped_total");
    r["iwfd_engine_dropped"] = sumMetric(run.metrics, "iwf_engine_dropped_total");
    r["engine_calls_started"] = sumMetric(run.metrics, "iwf_engine_calls_started_total");
    r["mc_sink_prio"] = o.rt_prio > 0 ? std::max(1, o.rt_prio - 1) : 0;
    putPass(r, o, t, loss, run.calls == n && m.crypto_wrong == 0 && m.misplaced == 0);
    return r;
}

}  // namespace

// --protocol dmr --target iwfd --mc: DMR through iwfd's dmr-hbp-master link, the engine and
// the mcptt-iwf1 link to the harness MC simulator. One keymap group per stream (talkgroup
// 9000+i <-> sip:load-i@iwf.example, ALGID 5, the stream's key ID). The MC side is the lean
// sink of tests/bench/load/lean_mc_sink.hpp (kernel receive timestamps), or with --mc-sink sim
// the harness MC system, whose client holds no DMR key (it decrypts nothing: every frame is
// recorded with "unknown_key") and which stamps a frame when its io thread handles it.
json runDmrMcStep(const Options& o, unsigned n, const fs::path& workdir) {
    const std::string tag = "dmr-" + std::to_string(n);
    const unsigned k = std::max(1u, o.dmr_peers);
    DmrMcSide mc(o, n);
    const std::string km_db = importKeymap(o, workdir, tag, dmrKeymapForStreams(n));
    const fs::path cfg = workdir / ("iwfd-" + tag + ".yaml");
    writeDmrMcConfig(o, cfg, workdir, km_db, mc.sipPort(), n);
    HbpPeerSockets peers(k);
    const fs::path fwd_log = workdir / ("iwfd-" + tag + ".log");
    Forwarder fwd;
    startIwfd(o, cfg, workdir, fwd_log, fwd);
    const std::uint16_t hbp_port = readHbpMasterPort(fwd_log, fwd, "dmr-0");
    DmrMcRun run;
    std::string why;
    const auto t_login = std::chrono::steady_clock::now();
    if (hbp_port == 0 ||
        !peers.login(
            hbp_port, kDmrLoadPassword, n, [&] { return processAlive(fwd.pid()); }, 60.0, why)) {
        fwd.stop();
        throw std::runtime_error("iwfd: " + (hbp_port == 0 ? "no HBP master port" : why) +
                                 "; its log ends: " + logTail(fwd_log));
    }
    run.login_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_login).count();
    mc.setIwfSipPort(readSipPort(fwd_log, fwd, "mc"));
    peers.sendPings();
    if (o.rt_prio > 0) {
        setProcessRealtime(fwd.pid(), o.rt_prio, run.fwd_rt);
    }

    std::vector<DmrCallSource> sources = dmrSources(n);
    // Bookkeeping: per stream and voice sequence, send time and vocoder digest.
    const std::size_t max_frames = static_cast<std::size_t>(
        (o.dmr_setup_timeout_s + o.warmup_s + o.duration_s + 2.0) * 1e9 / kDmrBurstNs + 4);
    SentFrames sent(n, std::vector<SentFrame>(max_frames));
    std::atomic<std::int64_t> stop_at{std::numeric_limits<std::int64_t>::max()};
    std::atomic<std::int64_t> w_begin{std::numeric_limits<std::int64_t>::max()};
    std::atomic<std::int64_t> w_end{std::numeric_limits<std::int64_t>::max()};
    DmrTickSender txs(peerFds(peers, k), hbp_port);
    DmrSendStats sst;
    const std::int64_t t0 = nowNs() + 50'000'000;
    std::thread tx = startDmrSender(
        o, sources, k, txs, t0, stop_at, w_begin, w_end,
        [&sent, max_frames](std::uint32_t i, std::uint64_t seq, std::int64_t t, std::uint32_t d,
                            std::uint32_t) {
            if (seq < max_frames) {
                sent[i][seq] = {t, d};
            }
        },
        sst);
    HbpKeepAlive keep_alive(peers);
    const auto t_setup = std::chrono::steady_clock::now();
    keep_alive.runFor(seconds(o.dmr_setup_timeout_s), [&] { return mc.allCallsUp(n); });
    run.setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_setup).count();
    run.calls_at_window = mc.calls();
    run.acked_at_window = mc.callsWithMedia();
    keep_alive.runFor(seconds(o.warmup_s));
    run.wb = nowNs();
    run.dur = static_cast<std::int64_t>(o.duration_s * 1e9);
    w_end.store(run.wb + run.dur);
    w_begin.store(run.wb);
    WindowReadings w;
    w.begin(fwd.pid());
    keep_alive.runFor(std::chrono::nanoseconds(run.dur));
    w.end(fwd.pid());
    stop_at.store(nowNs());
    tx.join();
    keep_alive.runFor(std::chrono::milliseconds(500));  // drain
    const std::int64_t offset = steadyToRealtimeNs();
    run.calls = mc.calls();
    const std::uint16_t admin = readAdminPort(workdir / "admin.port");
    run.metrics = admin != 0 ? httpGet(admin, "/metrics") : std::string();
    fwd.stop();
    mc.stop();
    return dmrMcReport(o, n, k, mc, peers, sent, w, sst, run, offset);
}

}  // namespace iwf::bench
