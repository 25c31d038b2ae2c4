// iwf_load --mc-talk steps (load_steps.hpp): MC -> LMR, the talker on the MC side. N MC
// talkers (tests/bench/load/lean_mc_talker.hpp), one group call each, send encrypted
// X-IWF-LMR RTP from their own voice sockets:
//  - through iwfd: each talker INVITEs iwfd's mcptt-iwf1 link with an implicit floor request
//    into its LMR-homed group (keymap as in --mc); iwfd grants the floor, originates the LMR
//    transmission and sends every frame out as
//      P25 (--protocol p25): records on the group's p25-records link (one link per talk path,
//        as in --mc) to the one peer linked to it, a generator socket with kernel timestamps;
//      DMR (--protocol dmr): DMRD on one dmr-hbp-master link to the one repeater logged in
//        (a generator socket: one HBP connection carrying every talk path, routed by
//        talkgroup), TS1 or TS2 as the keymap says.
//  - through the bare relay in the same socket shape: iwf_relay --inputs N (one input socket
//    per talker, epoll, like iwfd's per-call RTP sockets) routes input k to stream k's
//    receiver (P25 shape: N receivers) or to the one receiver (DMR shape: one socket, the
//    stream told by the RTP SSRC).
// Bookkeeping outside the payload: per stream and sequence number the send time and the
// FNV-1a digest of the vocoder bytes; what comes out is matched by stream and digest and its
// superframe position checked (P25 record tag, DMR burst index A..F, X-IWF-LMR frame index).
#include <arpa/inet.h>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "lmr_adapters/dmr/burst.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "mc_adapters/rtp/lmr_payload.hpp"
#include "mc_adapters/rtp/rtp_packet.hpp"
#include "tests/bench/load/dmr_shape.hpp"
#include "tests/bench/load/forwarder.hpp"
#include "tests/bench/load/forwarder_setup.hpp"
#include "tests/bench/load/lean_mc_talker.hpp"
#include "tests/bench/load/load_measure.hpp"
#include "tests/bench/load/load_net.hpp"
#include "tests/bench/load/load_steps.hpp"

namespace iwf::bench {

namespace {

constexpr char kTalkHbpPassword[] = "iwf-load-hbp";
constexpr std::uint32_t kAnyStream = 0xFFFFFFFFu;

// What the receivers decode: iwfd's P25 records, iwfd's DMRD, or the relay's RTP unchanged.
enum class RxFormat : std::uint8_t { P25Records, Dmrd, Rtp };

struct TalkRx {
    std::deque<LeanRx> records;
    std::uint64_t datagrams = 0;
    std::uint64_t other = 0;  // not a voice frame (polls, pongs, headers, terminators)
};

// One receiver thread over every receiving socket (epoll; data = stream, or kAnyStream when
// the packet tells the stream).
void receiveLoop(int epfd, RxFormat fmt, unsigned n, const std::atomic<bool>& stop, TalkRx& out) {
    std::vector<epoll_event> events(1024);
    std::uint8_t buf[2048];
    while (!stop.load(std::memory_order_relaxed)) {
        const int k = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), 20);
        for (int e = 0; e < k; ++e) {
            const std::uint64_t key = events[static_cast<std::size_t>(e)].data.u64;
            const int fd = static_cast<int>(key >> 32);
            const auto sock_stream = static_cast<std::uint32_t>(key & 0xFFFFFFFFu);
            for (;;) {
                std::int64_t t_rx = 0;
                const ssize_t len = recvTimestamped(fd, buf, sizeof buf, t_rx);
                if (len < 0) {
                    break;
                }
                ++out.datagrams;
                const ByteView d(buf, static_cast<std::size_t>(len));
                LeanRx r;
                r.t_rx_ns = t_rx;
                r.stream = sock_stream;
                bool voice = false;
                if (fmt == RxFormat::P25Records) {
                    auto rec = lmr::p25::decodeRecord(d);
                    if (rec.ok()) {
                        if (const auto* v = std::get_if<lmr::p25::VoiceRecord>(&*rec)) {
                            r.digest = fnv1a(v->imbe.data(), v->imbe.size());
                            r.index = v->index();
                            voice = true;
                        }
                    }
                } else if (fmt == RxFormat::Dmrd) {
                    auto p = lmr::dmr::decodeDmrd(d);
                    if (p.ok() && p->frame_type != lmr::dmr::FrameType::DataSync &&
                        p->dst >= 9000 && p->dst < 9000 + n) {
                        const auto parts = lmr::dmr::splitVoiceBurst(p->burst);
                        r.digest = fnv1a(parts.ambe.data(), parts.ambe.size());
                        r.index = p->dtype_vseq;
                        r.stream = p->dst - 9000;
                        voice = true;
                    }
                } else {
                    auto pkt = mc::rtp::RtpView::parse(d);
                    if (pkt.ok()) {
                        auto f = mc::rtp::decodeLmrPayload(pkt->payload());
                        if (f.ok()) {
                            r.digest = fnv1a(f->payload.data(), f->payload.size());
                            r.index = f->pos.index;
                            if (r.stream == kAnyStream) {
                                r.stream = pkt->ssrc() - 0x10000u;
                            }
                            voice = true;
                        }
                    }
                }
                if (voice) {
                    out.records.push_back(r);
                } else {
                    ++out.other;
                }
            }
        }
    }
}

void addToEpoll(int epfd, int fd, std::uint32_t stream) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = (std::uint64_t(static_cast<std::uint32_t>(fd)) << 32) | stream;
    ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

void enableTimestamps(int fd) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    int rcv = 4 << 20;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
}

struct TalkSent {
    SentFrames sent;
    std::uint64_t in_window = 0;
    std::uint64_t send_errors = 0;
    std::int64_t max_behind = 0;
};

// The talkers: stream i sends frame seq at t0 + seq*T + i*T/n from fds[i] to ports[i], until
// the window's end.
void sendTalk(const Options& o, TalkFamily fam, unsigned n, const StepSchedule& sch,
              const std::vector<int>& fds, const std::vector<std::uint16_t>& ports, TalkSent& out) {
    pinThisThread(parseCpuList(o.gen_cpus));
    setRealtime(o.rt_prio);
    const std::int64_t interval = McTalkSource::intervalNs(fam);
    std::vector<McTalkSource> src;
    src.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
        src.emplace_back(fam, i);
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    Bytes buf;
    const std::size_t frames = out.sent.empty() ? 0 : out.sent[0].size();
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
            const std::uint32_t digest = src[i].build(seq, buf);
            const std::int64_t t = nowNs();
            out.max_behind = std::max(out.max_behind, t - due);
            out.sent[i][seq] = {t, digest};
            dst.sin_port = htons(ports[i]);
            if (::sendto(fds[i], buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                         sizeof dst) < 0) {
                ++out.send_errors;
            } else if (t >= sch.begin && t < sch.end) {
                ++out.in_window;
            }
        }
    }
}

// The config of iwfd for --mc-talk: keymap, mcptt-iwf1 link (peer: the talkers' SIP port)
// and the LMR side (P25: one p25-records link per stream; DMR: one dmr-hbp-master link).
void writeTalkConfig(const Options& o, const fs::path& cfg, const fs::path& workdir,
                     const std::string& km_db, std::uint16_t mc_port, unsigned n, bool p25) {
    std::ofstream f(cfg);
    writeIwfdHead(f, "iwf_load --mc-talk", p25 ? "p25" : "dmr", o.threads, workdir);
    writeMcLink(f, km_db, mc_port, n);
    f << "lmr_links:\n";
    if (p25) {
        for (unsigned i = 0; i < n; ++i) {
            f << "  - {name: p25-" << i << ", type: p25-records, address: 127.0.0.1, port: 0"
              << ", wacn: 0xBEE00, system: 0x001, tgid: " << 1000 + i
              << ", peer_timeout: 600s, call_timeout: 2s, reflect: false, max_peers: 2}\n";
        }
    } else {
        f << "  - {name: dmr-0, type: dmr-hbp-master, address: 127.0.0.1, port: 0, "
          << "password: " << kTalkHbpPassword << ", id: 9990, ping_timeout: 60s, "
          << "stream_timeout: 2s, max_peers: 64}\n";
    }
}

// Scheduling of this process's receiver thread: one step above the sender on the generator's
// CPUs (a busy FIFO sender must not starve it).
void receiverScheduling(const Options& o, std::thread& t) {
    if (o.rt_prio <= 0) {
        return;
    }
    sched_param sp{};
    sp.sched_priority = o.rt_prio + 1;
    ::pthread_setschedparam(t.native_handle(), SCHED_FIFO, &sp);
    const auto cpus = parseCpuList(o.gen_cpus);
    if (!cpus.empty()) {
        cpu_set_t set;
        CPU_ZERO(&set);
        for (int c : cpus) {
            CPU_SET(c, &set);
        }
        ::pthread_setaffinity_np(t.native_handle(), sizeof set, &set);
    }
}

// The measured part shared by iwfd and relay: send for warm-up + window, receive, match.
json measureTalk(const Options& o, TalkFamily fam, unsigned n, Forwarder& fwd, bool fwd_rt,
                 const std::vector<int>& tx_fds, const std::vector<std::uint16_t>& dst_ports,
                 int epfd, RxFormat fmt, const std::function<void()>& keep_alive) {
    const std::int64_t interval = McTalkSource::intervalNs(fam);
    const StepSchedule sch = stepSchedule(o);
    TalkSent out;
    out.sent.assign(
        n, std::vector<SentFrame>(static_cast<std::size_t>((sch.end - sch.t0) / interval + 2)));
    TalkRx rx;
    std::atomic<bool> stop{false};
    std::thread rxt([&] { receiveLoop(epfd, fmt, n, stop, rx); });
    receiverScheduling(o, rxt);
    std::thread tx([&] { sendTalk(o, fam, n, sch, tx_fds, dst_ports, out); });
    WindowReadings w;
    sleepUntilNs(sch.begin);
    if (keep_alive) {
        keep_alive();
    }
    w.begin(fwd.pid());
    sleepUntilNs(sch.end);
    w.end(fwd.pid());
    tx.join();
    sleepUntilNs(sch.end + 500'000'000);  // drain
    stop.store(true);
    rxt.join();
    const unsigned per = McTalkSource::period(fam);
    McMatch m = matchMcFrames(rx.records, out.sent, per, 0, sch.begin, sch.end,
                              [](unsigned, const LeanRx&) { return true; });
    StepTotals t = stepTotals(o, n, static_cast<double>(n) * 1e9 / static_cast<double>(interval),
                              out.in_window, m.matched, m.lat, w, out.send_errors, out.max_behind,
                              fwd_rt, readLoadavg());
    json r;
    const double loss = putStepTotals(r, t);
    r["rx_datagrams"] = rx.datagrams;
    r["rx_other"] = rx.other;
    r["unmatched"] = m.unmatched;
    r["misplaced"] = m.misplaced;
    r["duplicates"] = m.duplicates;
    putPass(r, o, t, loss, m.misplaced == 0);
    return r;
}

// The --mc / DMR --mc keymap plus one user per talker (sip:talker-i@mc.example <-> LMR unit):
// the LMR transmission iwfd originates needs the talker's LMR address as its caller.
std::string talkKeymap(unsigned n, bool p25) {
    std::string km = p25 ? keymapForStreams(n) : dmrKeymapForStreams(n);
    km += "users:\n";
    for (unsigned i = 0; i < n; ++i) {
        km += "  - {mc_id: \"sip:talker-" + std::to_string(i) +
              "@mc.example\", system: " + (p25 ? "p25-load" : "dmr-load") +
              ", unit: " + std::to_string(p25 ? 100000 + i : 3100000 + i) + "}\n";
    }
    return km;
}

json runIwfdTalk(const Options& o, unsigned n, const fs::path& workdir, TalkFamily fam) {
    const bool p25 = fam == TalkFamily::P25;
    const std::string tag = std::string("talk-") + (p25 ? "p25-" : "dmr-") + std::to_string(n);
    LeanMcTalker talker;
    if (auto st = talker.start(); !st.ok()) {
        throw std::runtime_error("MC talker: " + st.error().toString());
    }
    const std::string km_db = importKeymap(o, workdir, tag, talkKeymap(n, p25));
    const fs::path cfg = workdir / ("iwfd-" + tag + ".yaml");
    writeTalkConfig(o, cfg, workdir, km_db, talker.sipPort(), n, p25);
    const fs::path fwd_log = workdir / ("iwfd-" + tag + ".log");
    Forwarder fwd;
    startIwfd(o, cfg, workdir, fwd_log, fwd);
    const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
    Sockets socks;  // P25: rx[i] linked to link i (tx[i] a dup of it: one peer per link)
    std::unique_ptr<HbpPeerSockets> peers;
    if (p25) {
        for (unsigned i = 0; i < n; ++i) {
            socks.rx.push_back(udpSocket(true, 4 << 20));
            socks.tx.push_back(::dup(socks.rx.back()));
            addToEpoll(epfd, socks.rx.back(), i);
        }
        std::vector<std::uint16_t> ports(n, 0);
        if (const std::string err = linkIwfdP25(fwd_log, socks, ports, fwd); !err.empty()) {
            ::close(epfd);
            throw std::runtime_error(err);
        }
    } else {
        const std::uint16_t hbp_port = readHbpMasterPort(fwd_log, fwd, "dmr-0");
        peers = std::make_unique<HbpPeerSockets>(1);
        std::string why;
        // One repeater ID (that of streams 0 and 1) logged in: iwfd sends it every talk path.
        if (hbp_port == 0 || !peers->login(
                                 hbp_port, kTalkHbpPassword, 1,
                                 [&] { return processAlive(fwd.pid()); }, 60.0, why)) {
            fwd.stop();
            ::close(epfd);
            throw std::runtime_error("iwfd: " + (hbp_port == 0 ? "no HBP master port" : why) +
                                     "; its log ends: " + logTail(fwd_log));
        }
        peers->sendPings();
        enableTimestamps(peers->fd(0));
        addToEpoll(epfd, peers->fd(0), kAnyStream);
    }
    const std::uint16_t sip = readSipPort(fwd_log, fwd, "mc");
    if (sip == 0) {
        fwd.stop();
        ::close(epfd);
        throw std::runtime_error("iwfd: no SIP port; its log ends: " + logTail(fwd_log));
    }
    const auto t_setup = std::chrono::steady_clock::now();
    talker.originate(n, sip);
    const auto deadline = t_setup + std::chrono::seconds(60);
    while (talker.answered() + talker.refused() < n &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double setup_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_setup).count();
    const std::vector<TalkerCall> calls = talker.calls();
    std::vector<int> tx_fds(n, -1);
    std::vector<std::uint16_t> dst(n, 0);
    for (unsigned i = 0; i < n; ++i) {
        tx_fds[i] = calls[i].voice_fd;
        dst[i] = calls[i].iwf_voice_port;
    }
    if (talker.answered() < n) {
        fwd.stop();
        ::close(epfd);
        throw std::runtime_error(std::to_string(talker.answered()) + " of " + std::to_string(n) +
                                 " MC calls answered (" + std::to_string(talker.refused()) +
                                 " refused); iwfd's log ends: " + logTail(fwd_log));
    }
    bool fwd_rt = true;
    if (o.rt_prio > 0) {
        setProcessRealtime(fwd.pid(), o.rt_prio, fwd_rt);
    }
    std::size_t granted_at_window = 0;
    json r = measureTalk(o, fam, n, fwd, fwd_rt, tx_fds, dst, epfd,
                         p25 ? RxFormat::P25Records : RxFormat::Dmrd, [&] {
                             granted_at_window = talker.drainFloorGrants();
                             if (peers) {
                                 peers->sendPings();
                             }
                         });
    const std::uint16_t admin = readAdminPort(workdir / "admin.port");
    const std::string metrics = admin != 0 ? httpGet(admin, "/metrics") : std::string();
    if (const char* dump = std::getenv("IWF_LOAD_DUMP")) {  // debugging: metrics + iwfd log
        std::ofstream(std::string(dump) + ".metrics") << metrics;
        std::error_code ec;
        fs::copy_file(fwd_log, std::string(dump) + ".log", fs::copy_options::overwrite_existing,
                      ec);
    }
    fwd.stop();
    talker.stop();
    ::close(epfd);
    r["path"] = p25 ? "mcptt-iwf1 RTP -> engine -> p25-records (one link per talk path)"
                    : "mcptt-iwf1 RTP -> engine -> dmr-hbp-master (one repeater, every talk path)";
    r["mc_calls"] = talker.answered();
    r["call_setup_s"] = setup_s;
    r["floor_granted_at_window"] = granted_at_window;
    r["engine_calls_started"] = sumMetric(metrics, "iwf_engine_calls_started_total");
    r["iwfd_engine_dropped"] = sumMetric(metrics, "iwf_engine_dropped_total");
    r["iwfd_lmr_dropped"] = sumMetric(metrics, "iwf_lmr_dropped_total");
    // P25: each group goes to the p25-records link whose `tgid` is its talkgroup (before
    // issue #16's fix, all went to the first link: 1,341 of 1,500 frames failed here as
    // unknown_call at N = 10).
    r["iwfd_deliver_failures"] = sumMetric(metrics, "iwf_engine_deliver_failures_total");
    if (granted_at_window < n) {
        r["pass"] = false;
    }
    return r;
}

json runRelayTalk(const Options& o, unsigned n, const fs::path& workdir, TalkFamily fam) {
    const bool p25 = fam == TalkFamily::P25;
    const std::string tag =
        std::string("talk-relay-") + (p25 ? "p25-" : "dmr-") + std::to_string(n);
    const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
    Sockets socks;
    for (unsigned i = 0; i < n; ++i) {
        socks.tx.push_back(udpSocket(false, 0));
        if (p25 || i == 0) {
            socks.rx.push_back(udpSocket(true, 4 << 20));
            addToEpoll(epfd, socks.rx.back(), p25 ? i : kAnyStream);
        }
    }
    const fs::path routes = workdir / (tag + "-routes.txt");
    {
        std::ofstream f(routes);
        for (unsigned i = 0; i < n; ++i) {
            f << i + 1 << " " << localPort(socks.rx[p25 ? i : 0]) << "\n";
        }
    }
    const fs::path ports_file = workdir / (tag + "-ports.txt");
    const fs::path fwd_log = workdir / (tag + ".log");
    Forwarder fwd;
    if (startRelay(o, routes,
                   {"--route-by", "input", "--inputs", std::to_string(n), "--ports-file",
                    ports_file.string()},
                   fwd_log, fwd) == 0) {
        ::close(epfd);
        throw std::runtime_error("iwf_relay reported no port: " + logTail(fwd_log));
    }
    std::vector<std::uint16_t> dst;
    {
        std::ifstream f(ports_file);
        unsigned p = 0;
        while (f >> p) {
            dst.push_back(static_cast<std::uint16_t>(p));
        }
    }
    if (dst.size() != n) {
        fwd.stop();
        ::close(epfd);
        throw std::runtime_error("iwf_relay wrote " + std::to_string(dst.size()) + " of " +
                                 std::to_string(n) + " input ports");
    }
    bool fwd_rt = true;
    if (o.rt_prio > 0) {
        setProcessRealtime(fwd.pid(), o.rt_prio, fwd_rt);
    }
    json r = measureTalk(o, fam, n, fwd, fwd_rt, socks.tx, dst, epfd, RxFormat::Rtp, {});
    fwd.stop();
    ::close(epfd);
    r["path"] = p25 ? "iwf_relay --inputs N: N input sockets -> N receivers"
                    : "iwf_relay --inputs N: N input sockets -> one receiver";
    return r;
}

}  // namespace

json runMcTalkStep(const Options& o, unsigned n, const fs::path& workdir) {
    const TalkFamily fam = o.protocol == "dmr" ? TalkFamily::Dmr : TalkFamily::P25;
    return o.target == "iwfd" ? runIwfdTalk(o, n, workdir, fam) : runRelayTalk(o, n, workdir, fam);
}

}  // namespace iwf::bench
