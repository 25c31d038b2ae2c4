// iwf_load: data-plane load generator. Opens N simulated encrypted LMR streams at real time
// (P25 records at 50 records/s, DMR HBP DMRD at 16.7 bursts/s = 50 AMBE frames/s), sends them
// through a forwarder under test to N receivers on loopback, and reports per step of N:
// packets/s in and out, loss, the forwarder's CPU seconds per 1,000 packets (from
// /proc/PID/stat utime+stime), added latency p50/p99/p99.9 (send timestamp in this
// program's bookkeeping, receive timestamp from the kernel via SO_TIMESTAMPNS), and the
// largest N whose p99 stays under the limit. Output: a table on stdout, JSON with --json.
//
// Targets: "relay" (tests/bench/relay/iwf_relay, the bare baseline) and "iwfd". Through iwfd:
// P25 records through p25-records links (one link per talk path, the reflector path, or with
// --mc the engine and mcptt-iwf1 to the harness MC simulator), and with --protocol dmr --mc
// DMR through one dmr-hbp-master link (K generator sockets logged in as many repeater IDs, one
// sendmmsg per socket per tick) and the engine to MC calls (tests/bench/load/dmr_shape.hpp,
// lean_mc_sink.hpp). --target relay --protocol dmr --dmr-peers K is the relay in that shape.
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <string>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "harness/runner/admin_client.hpp"
#include "harness/sim/mc_system.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "tests/bench/load/dmr_shape.hpp"
#include "tests/bench/load/forwarder.hpp"
#include "tests/bench/load/lean_mc_sink.hpp"
#include "tests/bench/load/load_book.hpp"
#include "tests/bench/load/load_net.hpp"
#include "tests/bench/load/stream_source.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace iwf::bench {
namespace {

struct Options {
    std::string target = "relay";
    std::string relay_bin;
    std::string iwfd_bin;
    std::string protocol = "mix";  // p25 | dmr | mix
    std::vector<unsigned> steps{100, 250, 500, 1000, 2500, 5000};
    unsigned threads = 1;
    unsigned batch = 1;
    double duration_s = 5.0;
    double warmup_s = 1.0;
    double max_total_s = 300.0;
    double p99_limit_us = 1000.0;
    double max_loss = 0.001;
    std::string fwd_cpus;
    std::string gen_cpus;
    std::string json_path;
    std::string label;
    bool keep_going = false;
    int rt_prio = 0;                  // >0: SCHED_FIFO for the generator threads and the forwarder
    bool mc = false;                  // LMR -> MC through the engine (keymap, mcptt-iwf1, MC sink)
    bool idle_calls = false;          // measure iwfd's memory per idle call instead of relaying
    unsigned idle_frames = 18;        // frames each stream sends before going silent
    unsigned dmr_peers = 0;           // DMR HBP-master shape: K generator sockets (0 = off / 1)
    double dmr_tick_us = 500;         // DMR shape: the generator's send tick
    double dmr_setup_timeout_s = 60;  // DMR --mc: wait this long for every MC call
    std::string mc_sink = "lean";     // DMR --mc: lean (tests/bench) | sim (harness MC system)
};

std::int64_t nowNs() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void sleepUntilNs(std::int64_t t) {
    timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
    while (::clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
}

int udpSocket(bool timestamps, int rcvbuf) {
    const int fd = openLoopbackUdp(timestamps, rcvbuf);
    if (fd < 0) {
        throw std::runtime_error(std::string("loopback UDP socket: ") + std::strerror(errno));
    }
    return fd;
}

struct Sockets {
    std::vector<int> tx;
    std::vector<int> rx;
    ~Sockets() {
        for (int fd : tx) {
            ::close(fd);
        }
        for (int fd : rx) {
            ::close(fd);
        }
    }
};

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
                std::int64_t t_end, SenderStats& st) {
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    Bytes buf;
    buf.reserve(64);
    while (true) {
        Group* g = nullptr;
        std::int64_t due = 0;
        for (auto& cand : groups) {
            if (cand.ids.empty()) {
                continue;
            }
            const std::int64_t d = cand.due(t0);
            if (g == nullptr || d < due) {
                g = &cand;
                due = d;
            }
        }
        if (g == nullptr || due >= t_end) {
            return;
        }
        std::int64_t now = nowNs();
        if (due - now > 30'000) {
            sleepUntilNs(due);
            now = nowNs();
        }
        const std::uint32_t id = g->ids[g->cursor];
        g->advance();
        const std::uint64_t seq = seqs[id]++;
        const std::uint32_t digest = sources[id].build(seq, buf);
        const std::int64_t t = nowNs();
        if (t - due > st.max_behind_ns) {
            st.max_behind_ns = t - due;
        }
        if (t - due > 1'000'000) {
            ++st.behind_over_1ms;
        }
        book.noteSent(id, seq, t, digest);
        dst.sin_port = htons(dst_ports[id]);
        if (::sendto(socks.tx[id], buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                     sizeof dst) < 0) {
            ++st.send_errors;
        } else {
            ++st.sent;
        }
    }
}

struct ReceiverStats {
    std::uint64_t datagrams = 0;
    std::uint64_t undecodable = 0;  // not a voice frame (e.g. a poll answer from iwfd)
    std::uint64_t no_timestamp = 0;
};

void receiverLoop(int epfd, const std::vector<StreamKind>& kinds, const Sockets& socks,
                  LoadBook& book, const std::atomic<bool>& stop, ReceiverStats& st) {
    std::vector<epoll_event> events(512);
    std::uint8_t buf[2048];
    while (!stop.load(std::memory_order_relaxed)) {
        const int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), 20);
        for (int i = 0; i < n; ++i) {
            const std::uint32_t id = events[static_cast<std::size_t>(i)].data.u32;
            while (true) {
                std::int64_t t_rx = 0;
                const ssize_t len = recvTimestamped(socks.rx[id], buf, sizeof buf, t_rx);
                if (len < 0) {
                    break;
                }
                ++st.datagrams;
                if (t_rx == 0) {
                    ++st.no_timestamp;
                    t_rx = nowNs();
                }
                const auto frame =
                    extractFrame(kinds[id], ByteView(buf, static_cast<std::size_t>(len)));
                if (!frame) {
                    ++st.undecodable;
                    continue;
                }
                book.noteReceived(id, frame->pos, t_rx, frame->digest);
            }
        }
    }
}

// SCHED_FIFO at prio for the calling thread (0 = leave the default policy).
bool setRealtime(int prio) {
    if (prio <= 0) {
        return true;
    }
    sched_param sp{};
    sp.sched_priority = prio;
    return ::sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
}

// The end of a log (its last 600 characters): the work directory goes when iwf_load exits.
std::string logTail(const fs::path& log) {
    std::ifstream lf(log);
    std::string text((std::istreambuf_iterator<char>(lf)), std::istreambuf_iterator<char>());
    return text.size() > 600 ? "..." + text.substr(text.size() - 600) : text;
}

bool processAlive(pid_t pid) {
    siginfo_t info{};
    return !(::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
             info.si_pid == pid);
}

// SCHED_FIFO at prio for every thread of pid; ok becomes false when one cannot get it.
void setProcessRealtime(pid_t pid, int prio, bool& ok) {
    std::error_code ec;
    for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
        sched_param sp{};
        sp.sched_priority = prio;
        ok = ::sched_setscheduler(std::stoi(t.path().filename().string()), SCHED_FIFO, &sp) == 0 &&
             ok;
    }
}

// The head of every generated iwfd config: instance, log level, workers and the admin API
// (port 0; iwfd writes the port it got to workdir/admin.port).
void writeIwfdHead(std::ostream& f, const char* generated_by, const char* subsystem,
                   unsigned workers, const fs::path& workdir) {
    f << "# generated by " << generated_by << "\ninstance: iwf-load\n"
      << "log: {level: warn, subsystems: {" << subsystem << ": info}}\nworkers: " << workers << "\n"
      << "admin: {address: 127.0.0.1, port: 0, port_file: " << (workdir / "admin.port").string()
      << "}\n";
}

// --mc: the keymap store and the one mcptt-iwf1 link (SIP on sip_port, its peer the MC side
// on mc_sip_port) with the group of every stream end-to-end encrypted.
void writeMcLink(std::ostream& f, const std::string& km_db, std::uint16_t sip_port,
                 std::uint16_t mc_sip_port, unsigned n) {
    f << "keymap: {store: \"sqlite:" << km_db << "\", poll_interval: 60s}\n"
      << "mc_links:\n  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
      << "    listen: [{transport: udp, address: 127.0.0.1, port: " << sip_port << "}]\n"
      << "    peer: {transport: udp, address: 127.0.0.1, port: " << mc_sip_port << "}\n"
      << "    peers: [{name: mc-sim, address: 127.0.0.1, domains: [mc.example]}]\n"
      // A load bench: one call per stream must never meet the call caps.
      << "    limits: {max_calls: " << n + 1000 << ", max_calls_per_peer: " << n + 1000 << "}\n"
      << "    server_uri: sip:mcptt-cf@mc.example\n    media: {address: 127.0.0.1}\n"
      << "    e2ee_groups:\n";
    for (unsigned i = 0; i < n; ++i) {
        f << "      - \"sip:load-" << i << "@iwf.example\"\n";
    }
}

// iwfd with one p25-records link per talk path: the generator's sender and receiver of stream
// i both link to link i; the link relays the sender's records to the receiver bit-exact (the
// reflector path) and turns them into call events for the daemon.
void writeIwfdConfig(const fs::path& path, const fs::path& workdir,
                     const std::vector<std::uint16_t>& ports, unsigned workers,
                     const std::string& call_timeout = "1s") {
    std::ofstream f(path);
    writeIwfdHead(f, "iwf_load", "p25", workers, workdir);
    f << "mc_links: []\nlmr_links:\n";
    for (std::size_t i = 0; i < ports.size(); ++i) {
        f << "  - {name: p25-" << i << ", type: p25-records, address: 127.0.0.1, port: " << ports[i]
          << ", tgid: " << 1000 + i << ", peer_timeout: 600s, call_timeout: " << call_timeout
          << ", reflect: true, max_peers: 2}\n";
    }
}

// Reads the port of every p25-records link from iwfd's log (30 s deadline).
bool readIwfdPorts(const fs::path& log, Forwarder& fwd, std::vector<std::uint16_t>& ports,
                   std::string& why) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::size_t found = 0;
    std::streamoff offset = 0;
    std::string partial;
    while (found < ports.size()) {
        std::ifstream f(log);
        f.seekg(offset);
        std::string chunk((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        offset += static_cast<std::streamoff>(chunk.size());
        partial += chunk;
        std::size_t eol;
        while ((eol = partial.find('\n')) != std::string::npos) {
            const std::string line = partial.substr(0, eol);
            partial.erase(0, eol + 1);
            const auto a = line.find("link=p25-");
            const auto b = line.find(" listening port=");
            if (a == std::string::npos || b == std::string::npos) {
                continue;
            }
            const auto i = static_cast<std::size_t>(std::stoul(line.substr(a + 9)));
            if (i < ports.size() && ports[i] == 0) {
                ports[i] = static_cast<std::uint16_t>(std::stoi(line.substr(b + 16)));
                ++found;
            }
        }
        if (found == ports.size()) {
            break;
        }
        if (!processAlive(fwd.pid())) {
            why = "iwfd exited before its links were listening";
            return false;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            why = std::to_string(ports.size() - found) + " links did not report a port in 30 s";
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

// Links every sender and receiver socket to its iwfd link by P25 polls (0xF0 + callsign),
// waiting for each poll answer; polls are repeated every 500 ms until a 30 s deadline.
bool linkP25Peers(const Sockets& socks, const std::vector<std::uint16_t>& ports, Forwarder& fwd,
                  std::string& why) {
    namespace p25 = iwf::lmr::p25;
    InlineBytes<p25::kMaxRecordLen> poll;
    if (!p25::encodeRecord(p25::makePoll("IWFLOAD"), poll).ok()) {
        why = "cannot encode a poll";
        return false;
    }
    const std::size_t n = ports.size();
    std::vector<int> fds;
    std::vector<std::uint16_t> to;
    for (std::size_t i = 0; i < n; ++i) {
        fds.push_back(socks.tx[i]);
        to.push_back(ports[i]);
        fds.push_back(socks.rx[i]);
        to.push_back(ports[i]);
    }
    std::vector<bool> linked(fds.size(), false);
    std::size_t left = fds.size();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto next_poll = std::chrono::steady_clock::now();
    std::uint8_t buf[2048];
    while (left > 0) {
        const auto now = std::chrono::steady_clock::now();
        if (now > deadline) {
            why = std::to_string(left) + " of " + std::to_string(fds.size()) +
                  " peers got no poll answer within 30 s";
            return false;
        }
        if (!processAlive(fwd.pid())) {
            why = "iwfd exited while the peers were linking";
            return false;
        }
        if (now >= next_poll) {
            for (std::size_t k = 0; k < fds.size(); ++k) {
                if (linked[k]) {
                    continue;
                }
                sockaddr_in a{};
                a.sin_family = AF_INET;
                a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                a.sin_port = htons(to[k]);
                ::sendto(fds[k], poll.data(), poll.size(), 0, reinterpret_cast<sockaddr*>(&a),
                         sizeof a);
            }
            next_poll = now + std::chrono::milliseconds(500);
        }
        std::vector<pollfd> pf;
        std::vector<std::size_t> idx;
        for (std::size_t k = 0; k < fds.size(); ++k) {
            if (!linked[k]) {
                pf.push_back({fds[k], POLLIN, 0});
                idx.push_back(k);
            }
        }
        if (::poll(pf.data(), pf.size(), 100) <= 0) {
            continue;
        }
        for (std::size_t j = 0; j < pf.size(); ++j) {
            if ((pf[j].revents & POLLIN) == 0) {
                continue;
            }
            const ssize_t len = ::recv(pf[j].fd, buf, sizeof buf, MSG_DONTWAIT);
            if (len <= 0) {
                continue;
            }
            auto rec = p25::decodeRecord(ByteView(buf, static_cast<std::size_t>(len)));
            if (rec.ok() && std::holds_alternative<p25::PollRecord>(rec.value())) {
                linked[idx[j]] = true;
                --left;
            }
        }
    }
    return true;
}

std::string selfDir() {
    std::error_code ec;
    const auto p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(".") : p.parent_path().string();
}

// Memory of a process in KiB: VmRSS from status, Pss from smaps_rollup (-1 when unreadable).
struct MemKib {
    std::int64_t rss = -1;
    std::int64_t pss = -1;
};

MemKib readMem(pid_t pid) {
    MemKib m;
    if (const auto r = readRssKib(pid)) {
        m.rss = static_cast<std::int64_t>(*r);
    }
    std::ifstream f("/proc/" + std::to_string(pid) + "/smaps_rollup");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("Pss:", 0) == 0) {
            m.pss = std::stoll(line.substr(4));
            break;
        }
    }
    return m;
}

// iwfd's admin API (harness/runner/admin_client.hpp), 5 s per receive: a saturated iwfd answers
// slowly.
std::string httpGet(std::uint16_t port, const std::string& path) {
    return iwf::harness::adminGet(port, path, std::chrono::seconds(5));
}

// Sum of every sample of a Prometheus metric family (all label sets); -1 when absent.
double sumMetric(const std::string& text, const std::string& name) {
    return iwf::harness::metricTotal(text, name).value_or(-1.0);
}

std::uint16_t readAdminPort(const fs::path& file) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream f(file);
        unsigned port = 0;
        if (f >> port && port != 0) {
            return static_cast<std::uint16_t>(port);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
}

void drainSockets(const Sockets& socks) {
    std::uint8_t buf[2048];
    for (int fd : socks.rx) {
        while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        }
    }
}

// Udp RcvbufErrors of /proc/net/snmp (the whole host: datagrams dropped because a socket's
// receive buffer was full); -1 when unreadable.
std::int64_t udpRcvbufErrors() {
    std::ifstream f("/proc/net/snmp");
    std::string head;
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("Udp: ", 0) != 0) {
            continue;
        }
        if (head.empty()) {
            head = line;
            continue;
        }
        std::istringstream hn(head);
        std::istringstream vn(line);
        std::string name;
        std::string value;
        while (hn >> name && vn >> value) {
            if (name == "RcvbufErrors") {
                return std::stoll(value);
            }
        }
        return -1;
    }
    return -1;
}

// A relaying step's schedule: the first send 50 ms from now (t0), the measured window
// [begin, end) after --warmup seconds, for --duration seconds.
struct StepSchedule {
    std::int64_t t0 = 0;
    std::int64_t begin = 0;
    std::int64_t end = 0;
};

StepSchedule stepSchedule(const Options& o) {
    StepSchedule s;
    s.t0 = nowNs() + 50'000'000;
    s.begin = s.t0 + static_cast<std::int64_t>(o.warmup_s * 1e9);
    s.end = s.begin + static_cast<std::int64_t>(o.duration_s * 1e9);
    return s;
}

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

// Per stream and sequence number: when a frame left and the digest of its opaque bytes.
struct SentFrame {
    std::int64_t t = 0;
    std::uint32_t digest = 0;
};
using SentFrames = std::vector<std::vector<SentFrame>>;

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

// realtime - steady clock, ns (the harness simulator stamps with the steady clock).
std::int64_t steadyToRealtimeNs() {
    const std::int64_t steady_now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count();
    return nowNs() - steady_now;
}

// Receivers of a relaying step: stream i's socket (kernel timestamps, 256 KiB buffer) in
// socks.rx[i], with `senders` a sender socket in socks.tx[i] too; returns the epoll set.
int openReceivers(Sockets& socks, unsigned n, bool senders) {
    const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
    for (unsigned i = 0; i < n; ++i) {
        if (senders) {
            socks.tx.push_back(udpSocket(false, 0));
        }
        socks.rx.push_back(udpSocket(true, 1 << 18));
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = i;
        ::epoll_ctl(epfd, EPOLL_CTL_ADD, socks.rx.back(), &ev);
    }
    return epfd;
}

// The receiver thread, on the generator's CPUs one step above the sender: on a shared CPU a
// busy FIFO sender must not starve the receiver (its socket buffers would overflow and count
// as forwarder loss).
std::thread startReceiver(const Options& o, int epfd, const std::vector<StreamKind>& kinds,
                          const Sockets& socks, LoadBook& book, const std::atomic<bool>& stop,
                          ReceiverStats& st) {
    return std::thread([&o, epfd, &kinds, &socks, &book, &stop, &st] {
        pinThisThread(parseCpuList(o.gen_cpus));
        setRealtime(o.rt_prio > 0 ? o.rt_prio + 1 : 0);
        receiverLoop(epfd, kinds, socks, book, stop, st);
    });
}

// Starts iwf_relay on the routes file (extra arguments after it); the port it reports, or 0
// when it reported none within 10 s (it is stopped then).
std::uint16_t startRelay(const Options& o, const fs::path& routes,
                         const std::vector<std::string>& extra, const fs::path& fwd_log,
                         Forwarder& fwd) {
    std::vector<std::string> argv{o.relay_bin, "--routes", routes.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(),
                {"--threads", std::to_string(o.threads), "--batch", std::to_string(o.batch)});
    fwd.start(argv, parseCpuList(o.fwd_cpus), fwd_log.string());
    const auto port_line = fwd.waitLine("port=", std::chrono::seconds(10));
    if (!port_line) {
        fwd.stop();
        return 0;
    }
    return static_cast<std::uint16_t>(std::stoi(*port_line));
}

// Starts iwfd with cfg (its output in fwd_log), after removing the admin port file of an
// earlier step so that readAdminPort waits for this iwfd's.
void startIwfd(const Options& o, const fs::path& cfg, const fs::path& workdir,
               const fs::path& fwd_log, Forwarder& fwd) {
    std::error_code ec;
    fs::remove(workdir / "admin.port", ec);
    fwd.start({o.iwfd_bin, "-c", cfg.string()}, parseCpuList(o.fwd_cpus), fwd_log.string());
}

// After startIwfd with one p25-records link per stream: reads every link's port into ports
// and links both peers of every stream. Empty when done, else why with the end of iwfd's log
// (iwfd is stopped then).
std::string linkIwfdP25(const fs::path& fwd_log, const Sockets& socks,
                        std::vector<std::uint16_t>& ports, Forwarder& fwd) {
    std::string why;
    if (readIwfdPorts(fwd_log, fwd, ports, why) && linkP25Peers(socks, ports, fwd, why)) {
        return {};
    }
    fwd.stop();
    return "iwfd: " + why + "; its log ends: " + logTail(fwd_log);
}

std::vector<StreamSource> p25Sources(unsigned n) {
    std::vector<StreamSource> sources;
    sources.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
        sources.emplace_back(StreamKind::P25, i);
    }
    return sources;
}

// Every stream sends records 0..frames-1 to its link at 20 ms pacing (with `drain`, the
// receivers are emptied after each round). Returns how many the kernel took.
std::uint64_t sendP25Rounds(std::vector<StreamSource>& sources, const Sockets& socks,
                            const std::vector<std::uint16_t>& ports, unsigned frames, bool drain) {
    Bytes buf;
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::uint64_t sent = 0;
    std::int64_t due = nowNs();
    for (unsigned seq = 0; seq < frames; ++seq) {
        sleepUntilNs(due);
        for (std::size_t i = 0; i < sources.size(); ++i) {
            sources[i].build(seq, buf);
            dst.sin_port = htons(ports[i]);
            if (::sendto(socks.tx[i], buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                         sizeof dst) > 0) {
                ++sent;
            }
        }
        if (drain) {
            drainSockets(socks);
        }
        due += intervalNs(StreamKind::P25);
    }
    return sent;
}

// The memory fields of an --idle-calls step: RSS and Pss before and after, per call.
void putMemoryPerCall(json& r, const MemKib& before, const MemKib& after, unsigned n) {
    r["rss_kib_before"] = before.rss;
    r["rss_kib_after"] = after.rss;
    r["pss_kib_before"] = before.pss;
    r["pss_kib_after"] = after.pss;
    r["rss_bytes_per_call"] = static_cast<double>(after.rss - before.rss) * 1024.0 / n;
    r["pss_bytes_per_call"] = static_cast<double>(after.pss - before.pss) * 1024.0 / n;
    r["loadavg"] = readLoadavg();
}

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
    writeIwfdConfig(cfg, workdir, ports, o.threads, "600s");
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
std::string keymapForStreams(unsigned n) {
    std::ostringstream o;
    o << "# generated by iwf_load --mc\nformat: 1\nunknown_talker: sip:unknown@iwf.example\n"
      << "systems:\n  - {id: p25-load, type: p25, wacn: 0xBEE00, system_id: 0x001}\ngroups:\n";
    for (unsigned i = 0; i < n; ++i) {
        o << "  - {mc_group: \"sip:load-" << i
          << "@iwf.example\", system: p25-load, tgid: " << 1000 + i
          << ", home: lmr, mode: secure, algid: 0x84, key_id: " << 0x0100 + (i & 0xFF)
          << ", codec: imbe}\n";
    }
    return o.str();
}

// Writes keymap_yaml to workdir/keymap-TAG.yaml and imports it with iwfctl (next to iwfd)
// into a new SQLite store workdir/keymap-TAG.db; returns the store's path.
std::string importKeymap(const Options& o, const fs::path& workdir, const std::string& tag,
                         const std::string& keymap_yaml) {
    const fs::path km_yaml = workdir / ("keymap-" + tag + ".yaml");
    const fs::path km_db = workdir / ("keymap-" + tag + ".db");
    { std::ofstream(km_yaml) << keymap_yaml; }
    std::error_code ec;
    fs::remove(km_db, ec);
    const std::string iwfctl = (fs::path(o.iwfd_bin).parent_path() / "iwfctl").string();
    const std::string imp = iwfctl + " keymap --store sqlite:" + km_db.string() + " import " +
                            km_yaml.string() + " >" + (workdir / "iwfctl.log").string() + " 2>&1";
    if (std::system(imp.c_str()) != 0) {
        throw std::runtime_error("iwfctl keymap import failed: " + imp);
    }
    return km_db.string();
}

std::uint16_t freeUdpPort() {
    const int fd = udpSocket(false, 0);
    const std::uint16_t p = localPort(fd);
    ::close(fd);
    return p;
}

json runMcStep(const Options& o, unsigned n, const fs::path& workdir) {
    namespace h = iwf::harness;
    const std::string tag = std::to_string(n);
    // The MC side first: iwfd's mcptt-iwf1 link needs its SIP port as the peer.
    h::McSystemConfig mcc;
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
    h::McSystem mc(mcc);
    if (auto st = mc.start(); !st.ok()) {
        throw std::runtime_error("MC simulator: " + st.error().toString());
    }
    if (o.rt_prio > 0) {
        // The simulator's io thread is the receiver: one step above the sender (as in runStep).
        bool ok = true;
        setProcessRealtime(::getpid(), o.rt_prio + 1, ok);
        pinThisThread(parseCpuList(o.gen_cpus));
    }

    const std::string km_db = importKeymap(o, workdir, tag, keymapForStreams(n));
    const std::uint16_t sip_port = freeUdpPort();
    const fs::path cfg = workdir / ("iwfd-mc-" + tag + ".yaml");
    {
        std::ofstream f(cfg);
        writeIwfdHead(f, "iwf_load --mc", "p25", o.threads, workdir);
        writeMcLink(f, km_db, sip_port, mc.sipPort(), n);
        f << "lmr_links:\n";
        for (unsigned i = 0; i < n; ++i) {
            f << "  - {name: p25-" << i << ", type: p25-records, address: 127.0.0.1, port: 0"
              << ", wacn: 0xBEE00, system: 0x001, tgid: " << 1000 + i
              << ", peer_timeout: 600s, call_timeout: " << (o.idle_calls ? "600s" : "2s")
              << ", reflect: false, max_peers: 2}\n";
        }
    }
    mc.setIwfSipPort(sip_port);

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
        mc.stop();
        throw std::runtime_error(err);
    }
    if (o.idle_calls) {
        // Idle calls held by the engine: memory before, then every stream sends idle_frames
        // records (20 ms pacing) and goes silent inside its call timeout (600 s); memory again
        // once the MC side got one call per stream and after 1 s of silence.
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
    bool fwd_rt = true;
    if (o.rt_prio > 0) {
        setProcessRealtime(fwd.pid(), o.rt_prio, fwd_rt);
    }

    // Sender: P25 streams at 50 records/s each, stream j at phase j*20ms/n.
    std::vector<StreamSource> sources = p25Sources(n);
    const std::int64_t interval = intervalNs(StreamKind::P25);
    const StepSchedule sch = stepSchedule(o);
    const std::int64_t t0 = sch.t0;
    const std::int64_t w_begin = sch.begin;
    const std::int64_t w_end = sch.end;
    const auto frames = static_cast<std::size_t>((w_end - t0) / interval + 2);
    SentFrames sent(n, std::vector<SentFrame>(frames));
    std::uint64_t sent_in_window = 0;
    std::uint64_t send_errors = 0;
    std::int64_t max_behind = 0;
    std::thread tx([&] {
        pinThisThread(parseCpuList(o.gen_cpus));
        setRealtime(o.rt_prio);
        sockaddr_in dst{};
        dst.sin_family = AF_INET;
        dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        Bytes buf;
        for (std::size_t seq = 0; seq < frames; ++seq) {
            for (unsigned i = 0; i < n; ++i) {
                const std::int64_t due = t0 + static_cast<std::int64_t>(seq) * interval +
                                         static_cast<std::int64_t>(i) * interval / n;
                if (due >= w_end) {
                    return;
                }
                if (due - nowNs() > 30'000) {
                    sleepUntilNs(due);
                }
                const std::uint32_t digest = sources[i].build(seq, buf);
                const std::int64_t t = nowNs();
                max_behind = std::max(max_behind, t - due);
                sent[i][seq] = {t, digest};
                dst.sin_port = htons(ports[i]);
                if (::sendto(socks.tx[i], buf.data(), buf.size(), 0,
                             reinterpret_cast<sockaddr*>(&dst), sizeof dst) < 0) {
                    ++send_errors;
                } else if (t >= w_begin && t < w_end) {
                    ++sent_in_window;
                }
            }
        }
    });
    WindowReadings w;
    w.measure(fwd.pid(), w_begin, w_end);
    tx.join();
    sleepUntilNs(w_end + 500'000'000);  // drain
    const std::int64_t offset = steadyToRealtimeNs();
    const auto records = mc.records();
    const auto events = mc.events();
    const std::size_t calls = mc.callsReceived();
    fwd.stop();
    mc.stop();

    std::uint64_t unmatched = 0;
    std::uint64_t decrypted = 0;
    const std::deque<LeanRx> rx = simRecords(records, events, offset, unmatched, decrypted);
    // The first superframe's records precede the stream's first ES (ALGID / key ID / MI arrive
    // with record 17): their crypto header is not known yet when they leave.
    McMatch m = matchMcFrames(rx, sent, 18, 18, w_begin, w_end, [](unsigned i, const LeanRx& r) {
        return r.algid == 0x84 && r.key_id == 0x0100u + (i & 0xFF);
    });
    unmatched += m.unmatched;
    StepTotals t = stepTotals(o, n, static_cast<double>(n) * 1e9 / static_cast<double>(interval),
                              sent_in_window, m.matched, m.lat, w, send_errors, max_behind, fwd_rt,
                              readLoadavg());
    t.latency_max = false;
    json r;
    putStepTotals(r, t);
    r["path"] = "p25-records -> engine -> mcptt-iwf1 RTP";
    r["mc_calls"] = calls;
    r["mc_records"] = records.size();
    r["unmatched"] = unmatched;
    r["misplaced"] = m.misplaced;
    r["duplicates"] = m.duplicates;
    r["crypto_header_wrong"] = m.crypto_wrong;  // after the first superframe
    r["first_superframe_frames"] = m.first_superframe;
    return r;
}

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

std::vector<DmrCallSource> dmrSources(unsigned n) {
    std::vector<DmrCallSource> sources;
    sources.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
        sources.emplace_back(i);
    }
    return sources;
}

std::vector<int> peerFds(const HbpPeerSockets& peers, unsigned k) {
    std::vector<int> fds;
    for (unsigned s = 0; s < k; ++s) {
        fds.push_back(peers.fd(s));
    }
    return fds;
}

// The DMR sender thread: dmrSenderLoop at the --dmr-tick-us tick, on the generator's CPUs at
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

std::string dmrKeymapForStreams(unsigned n) {
    std::ostringstream o;
    o << "# generated by iwf_load --protocol dmr --mc\nformat: 1\n"
      << "unknown_talker: sip:unknown@iwf.example\n"
      << "systems:\n  - {id: dmr-load, type: dmr, network_id: 3100}\ngroups:\n";
    for (unsigned i = 0; i < n; ++i) {
        const DmrStreamIds ids = dmrStreamIds(i);
        o << "  - {mc_group: \"sip:load-" << i
          << "@iwf.example\", system: dmr-load, tgid: " << ids.talkgroup
          << ", home: lmr, mode: secure, algid: " << static_cast<int>(kLoadDmrAlgid)
          << ", key_id: " << static_cast<int>(ids.key_id) << ", codec: dmr-ambe}\n";
    }
    return o.str();
}

// Reads "link=NAME role=master port=P" from iwfd's log (30 s deadline); 0 on failure.
std::uint16_t readHbpMasterPort(const fs::path& log, Forwarder& fwd, const std::string& link) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    const std::string key = "link=" + link + " role=master port=";
    while (std::chrono::steady_clock::now() < deadline) {
        std::ifstream f(log);
        std::string line;
        while (std::getline(f, line)) {
            const auto a = line.find(key);
            if (a != std::string::npos) {
                return static_cast<std::uint16_t>(std::stoi(line.substr(a + key.size())));
            }
        }
        if (!processAlive(fwd.pid())) {
            return 0;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
}

// --protocol dmr --target iwfd --mc: DMR through iwfd's dmr-hbp-master link, the engine and
// the mcptt-iwf1 link to the harness MC simulator. One keymap group per stream (talkgroup
// 9000+i <-> sip:load-i@iwf.example, ALGID 5, the stream's key ID). The MC side is the lean
// sink of tests/bench/load/lean_mc_sink.hpp (kernel receive timestamps), or with --mc-sink sim
// the harness MC system, whose client holds no DMR key (it decrypts nothing: every frame is
// recorded with "unknown_key") and which stamps a frame when its io thread handles it.
json runDmrMcStep(const Options& o, unsigned n, const fs::path& workdir) {
    namespace h = iwf::harness;
    const std::string tag = "dmr-" + std::to_string(n);
    const unsigned k = std::max(1u, o.dmr_peers);
    const bool lean = o.mc_sink == "lean";
    std::unique_ptr<h::McSystem> sim;
    LeanMcSink sink_lean;
    if (lean) {
        if (auto st = sink_lean.start(); !st.ok()) {
            throw std::runtime_error("lean MC sink: " + st.error().toString());
        }
        if (o.rt_prio > 0) {
            // Kernel receive timestamps: the sink's own wake-up is not in the latency, so
            // it may run below the sender.
            for (auto t : sink_lean.threads()) {
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
    } else {
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
        sim = std::make_unique<h::McSystem>(mcc);
        if (auto st = sim->start(); !st.ok()) {
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
    auto mcCalls = [&]() -> std::size_t {
        return lean ? sink_lean.callsReceived() : sim->callsReceived();
    };
    auto stopMc = [&] {
        if (lean) {
            sink_lean.stop();
        } else {
            sim->stop();
        }
    };
    const std::uint16_t mc_sip_port = lean ? sink_lean.sipPort() : sim->sipPort();
    std::string km_db;
    try {
        km_db = importKeymap(o, workdir, tag, dmrKeymapForStreams(n));
    } catch (const std::exception&) {
        stopMc();
        throw;
    }
    const std::uint16_t sip_port = freeUdpPort();
    const fs::path cfg = workdir / ("iwfd-" + tag + ".yaml");
    const std::string password = "iwf-load-hbp";
    {
        std::ofstream f(cfg);
        writeIwfdHead(f, "iwf_load --protocol dmr --mc", "dmr", o.threads, workdir);
        writeMcLink(f, km_db, sip_port, mc_sip_port, n);
        f << "lmr_links:\n  - {name: dmr-0, type: dmr-hbp-master, address: 127.0.0.1, port: 0, "
          << "password: " << password << ", id: 9990, ping_timeout: 30s, stream_timeout: 2s, "
          << "max_peers: " << std::max(64u, (n + 1) / 2 + 8) << "}\n";
    }
    if (!lean) {
        sim->setIwfSipPort(sip_port);
    }
    HbpPeerSockets peers(k);
    const fs::path fwd_log = workdir / ("iwfd-" + tag + ".log");
    Forwarder fwd;
    startIwfd(o, cfg, workdir, fwd_log, fwd);
    const std::uint16_t hbp_port = readHbpMasterPort(fwd_log, fwd, "dmr-0");
    std::string why;
    const auto t_login = std::chrono::steady_clock::now();
    if (hbp_port == 0 ||
        !peers.login(
            hbp_port, password, n, [&] { return processAlive(fwd.pid()); }, 60.0, why)) {
        fwd.stop();
        stopMc();
        throw std::runtime_error("iwfd: " + (hbp_port == 0 ? "no HBP master port" : why) +
                                 "; its log ends: " + logTail(fwd_log));
    }
    const double login_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_login).count();
    peers.sendPings();
    bool fwd_rt = true;
    if (o.rt_prio > 0) {
        setProcessRealtime(fwd.pid(), o.rt_prio, fwd_rt);
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
    // Keep-alive while the calls come up and run: RPTPING every 5 s, replies read every 50 ms.
    auto last_ping = std::chrono::steady_clock::now();
    auto keepAliveFor = [&](std::chrono::steady_clock::duration d,
                            const std::function<bool()>& done) {
        const auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until && !(done && done())) {
            peers.drainReplies();
            if (std::chrono::steady_clock::now() - last_ping > std::chrono::seconds(5)) {
                peers.sendPings();
                last_ping = std::chrono::steady_clock::now();
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    };
    const auto t_setup = std::chrono::steady_clock::now();
    keepAliveFor(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                     std::chrono::duration<double>(o.dmr_setup_timeout_s)),
                 [&] { return mcCalls() >= n && (!lean || sink_lean.callsWithMedia() >= n); });
    const double setup_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_setup).count();
    const std::size_t calls_at_window = mcCalls();
    const std::size_t acked_at_window = lean ? sink_lean.callsWithMedia() : 0;
    keepAliveFor(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                     std::chrono::duration<double>(o.warmup_s)),
                 {});
    const std::int64_t wb = nowNs();
    const auto dur = static_cast<std::int64_t>(o.duration_s * 1e9);
    w_end.store(wb + dur);
    w_begin.store(wb);
    WindowReadings w;
    w.begin(fwd.pid());
    keepAliveFor(std::chrono::nanoseconds(dur), {});
    w.end(fwd.pid());
    stop_at.store(nowNs());
    tx.join();
    keepAliveFor(std::chrono::milliseconds(500), {});  // drain
    const std::int64_t offset = steadyToRealtimeNs();
    const std::size_t calls = mcCalls();
    const std::uint16_t admin = readAdminPort(workdir / "admin.port");
    const std::string metrics = admin != 0 ? httpGet(admin, "/metrics") : std::string();
    fwd.stop();
    stopMc();
    // Every frame the MC side received, as (stream, digest, position, crypto, receive time).
    std::uint64_t unmatched = 0;
    std::uint64_t decrypted = 0;
    const std::deque<LeanRx> sim_rx =
        lean ? std::deque<LeanRx>()
             : simRecords(sim->records(), sim->events(), offset, unmatched, decrypted);
    const std::deque<LeanRx>& rx = lean ? sink_lean.records() : sim_rx;
    McMatch m = matchMcFrames(rx, sent, 6, 0, wb, wb + dur, [](unsigned i, const LeanRx& r) {
        return r.encrypted && r.algid == kLoadDmrAlgid && r.key_id == dmrStreamIds(i).key_id;
    });
    unmatched += m.unmatched;
    const std::uint64_t matched = m.matched;
    const std::uint64_t misplaced = m.misplaced;
    const std::uint64_t crypto_wrong = m.crypto_wrong;
    json r;
    const StepTotals t = dmrTotals(o, n, sst.voice_in_window, matched, m.lat, w, sst.send_errors,
                                   sst.max_behind_ns, fwd_rt);
    const double loss = putDmrStep(r, t, w, sst, k, "dmr-hbp-master -> engine -> mcptt-iwf1 RTP");
    r["repeater_ids"] = peers.loggedIn();
    r["login_s"] = login_s;
    r["call_setup_s"] = setup_s;
    r["mc_calls_at_window"] = calls_at_window;
    r["mc_calls_with_media_at_window"] = acked_at_window;
    r["mc_calls"] = calls;
    r["mc_sink"] = o.mc_sink;
    r["mc_records"] = rx.size() + (lean ? 0 : unmatched);
    r["mc_undecodable"] = lean ? sink_lean.undecodable() : 0;
    r["mc_decrypted"] = decrypted;
    r["unmatched"] = unmatched;
    r["misplaced"] = misplaced;
    r["duplicates"] = m.duplicates;
    r["crypto_header_wrong"] = crypto_wrong;
    r["gen_packets"] = sst.packets;
    r["hbp_pongs"] = peers.pongs();
    r["hbp_naks"] = peers.naks();
    r["iwfd_dmr_rx"] = sumMetric(metrics, "iwf_dmr_packets_total");
    r["iwfd_lmr_dropped"] = sumMetric(metrics, "iwf_lmr_dropped_total");
    r["iwfd_engine_dropped"] = sumMetric(metrics, "iwf_engine_dropped_total");
    r["engine_calls_started"] = sumMetric(metrics, "iwf_engine_calls_started_total");
    r["mc_sink_prio"] = o.rt_prio > 0 ? std::max(1, o.rt_prio - 1) : 0;
    putPass(r, o, t, loss, calls == n && crypto_wrong == 0 && misplaced == 0);
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
        writeIwfdConfig(cfg, workdir, dst_ports, o.threads);
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

void raiseFdLimit() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }
}

std::uint64_t fdLimit() {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

// The memory columns of an --idle-calls table row (putMemoryPerCall's fields).
std::string memoryColumns(const json& r) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%5lld->%-6lld %5lld->%-6lld %10.0f %10.0f",
                  static_cast<long long>(r["rss_kib_before"].get<std::int64_t>()),
                  static_cast<long long>(r["rss_kib_after"].get<std::int64_t>()),
                  static_cast<long long>(r["pss_kib_before"].get<std::int64_t>()),
                  static_cast<long long>(r["pss_kib_after"].get<std::int64_t>()),
                  r["rss_bytes_per_call"].get<double>(), r["pss_bytes_per_call"].get<double>());
    return buf;
}

void writeJson(const Options& o, const json& out) {
    if (!o.json_path.empty()) {
        std::ofstream f(o.json_path);
        f << out.dump(2) << "\n";
    }
}

// The answer of a relaying table: the largest N that passed, in the JSON and on stdout.
void putLargestN(const Options& o, json& out, unsigned best) {
    out["largest_n_p99_under_limit"] = best;
    std::printf("largest N with p99 < %.0f us, loss <= %.3f%%, load fully offered: %u\n",
                o.p99_limit_us, 100 * o.max_loss, best);
}

// A step with one retry: the SIP listen port is picked free and released just before iwfd
// binds it; another process on the machine can take it in between.
json withRetry(const std::string& label, unsigned n, const std::function<json()>& step) {
    try {
        return step();
    } catch (const std::exception& e) {
        std::cerr << "iwf_load: " << label << " N=" << n << ": " << e.what() << " (retrying)\n";
        return step();
    }
}

// The loop the iwfd-only modes share (--idle-calls, --mc, both): one step per N (with
// `check_fds`, stop before a step that needs more descriptors than allowed), a table row per
// step, the first failure ends the table, the JSON written at the end. Returns the exit code.
int runStepTable(const Options& o, json& out, const char* label, bool check_fds,
                 const std::function<json(unsigned)>& step,
                 const std::function<void(unsigned, const json&)>& row) {
    int rc = 0;
    for (unsigned n : o.steps) {
        if (check_fds && 2ull * n + 64 > fdLimit()) {
            out["stopped"] = "N=" + std::to_string(n) + " needs more descriptors than allowed";
            break;
        }
        try {
            json r = step(n);
            row(n, r);
            std::fflush(stdout);
            out["steps"].push_back(std::move(r));
        } catch (const std::exception& e) {
            std::cerr << "iwf_load: " << label << " N=" << n << ": " << e.what() << "\n";
            rc = 1;
            break;
        }
    }
    writeJson(o, out);
    return rc;
}

}  // namespace
}  // namespace iwf::bench

int main(int argc, char** argv) {
    using namespace iwf::bench;
    Options o;
    o.relay_bin = selfDir() + "/../relay/iwf_relay";
    o.iwfd_bin = selfDir() + "/../../../gateway/iwfd";
    CLI::App app{"iwf_load - data-plane load generator (encrypted P25/DMR streams at real time)"};
    app.add_option("--target", o.target, "forwarder under test: relay | iwfd")
        ->check(CLI::IsMember({"relay", "iwfd"}))
        ->capture_default_str();
    app.add_option("--relay", o.relay_bin, "path of iwf_relay")->capture_default_str();
    app.add_option("--iwfd", o.iwfd_bin, "path of iwfd")->capture_default_str();
    app.add_option("--protocol", o.protocol, "p25 | dmr | mix (half each)")
        ->check(CLI::IsMember({"p25", "dmr", "mix"}))
        ->capture_default_str();
    app.add_option("--steps", o.steps, "stream counts to try, in order")->delimiter(',');
    app.add_option("--threads", o.threads, "forwarder data-plane threads")->capture_default_str();
    app.add_option("--batch", o.batch, "relay recvmmsg/sendmmsg batch (1 = recvfrom/sendto)")
        ->capture_default_str();
    app.add_option("--duration", o.duration_s, "measured seconds per step")->capture_default_str();
    app.add_option("--warmup", o.warmup_s, "seconds before measuring")->capture_default_str();
    app.add_option("--max-total", o.max_total_s, "stop stepping after this many seconds")
        ->capture_default_str();
    app.add_option("--p99-limit-us", o.p99_limit_us, "p99 bound for the largest-N answer")
        ->capture_default_str();
    app.add_option("--max-loss", o.max_loss, "loss bound for the largest-N answer")
        ->capture_default_str();
    app.add_option("--fwd-cpus", o.fwd_cpus, "pin the forwarder (e.g. 1 or 0-1)");
    app.add_option("--gen-cpus", o.gen_cpus, "pin the generator threads (e.g. 0)");
    app.add_option("--rt-prio", o.rt_prio,
                   "SCHED_FIFO priority for generator and forwarder (0 = normal scheduling); "
                   "isolates the measurement from other load on a shared machine")
        ->check(CLI::Range(0, 99));
    app.add_flag("--mc", o.mc,
                 "target iwfd: LMR -> MC through the engine (keymap, mcptt-iwf1 link, the harness "
                 "MC system as receiver) instead of the P25 reflector path");
    app.add_flag("--idle-calls", o.idle_calls,
                 "target iwfd: measure memory per idle call (RSS/Pss before and after N calls "
                 "open and go silent) at each step N instead of relaying");
    app.add_option("--idle-frames", o.idle_frames, "frames per stream before it goes silent")
        ->capture_default_str();
    app.add_option("--dmr-peers", o.dmr_peers,
                   "DMR in the HBP-master shape: K generator sockets carry every stream (many "
                   "repeater IDs per socket, 2 streams each); --target iwfd --mc uses 1 when 0; "
                   "--target relay: 0 = one socket per stream (the older shape)")
        ->capture_default_str();
    app.add_option("--dmr-tick-us", o.dmr_tick_us,
                   "DMR HBP-master shape: generator tick (one sendmmsg per socket per tick)")
        ->capture_default_str();
    app.add_option("--dmr-setup-timeout", o.dmr_setup_timeout_s,
                   "DMR --mc: seconds to wait for one MC call per stream before measuring")
        ->capture_default_str();
    app.add_option("--mc-sink", o.mc_sink,
                   "DMR --mc: MC side = lean (tests/bench receiver, kernel timestamps) or sim "
                   "(the harness MC system simulator)")
        ->check(CLI::IsMember({"lean", "sim"}))
        ->capture_default_str();
    app.add_flag("--keep-going", o.keep_going, "run every step even after one fails");
    app.add_option("--label", o.label, "name of this run in the JSON");
    app.add_option("--json", o.json_path, "write the results as JSON here");
    CLI11_PARSE(app, argc, argv);

    if (o.target == "iwfd") {
        // What iwfd can carry here: P25 records through its p25-records links (one link per
        // talk path, reflector path, every record also reported to the engine). --threads N
        // writes `workers: N` (each link then runs one SO_REUSEPORT instance per worker).
        // DMR needs the HBP login in the generator; LMR -> MC a keymap and an MC sink.
        if (o.protocol == "dmr" && o.mc && !o.idle_calls) {
            // DMR through the dmr-hbp-master link to MC (runDmrMcStep).
        } else if (o.protocol != "p25") {
            std::cerr << "iwf_load: target iwfd: DMR only with --mc (HBP master shape); "
                         "using --protocol p25\n";
            o.protocol = "p25";
        }
        if (!fs::exists(o.iwfd_bin)) {
            std::cerr << "iwf_load: iwfd binary not found: " << o.iwfd_bin << "\n";
            return 2;
        }
    } else if (!fs::exists(o.relay_bin)) {
        std::cerr << "iwf_load: relay binary not found: " << o.relay_bin << "\n";
        return 2;
    }
    raiseFdLimit();
    ::prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    std::error_code ec;
    const fs::path workdir = fs::temp_directory_path() / ("iwf_load." + std::to_string(::getpid()));
    fs::create_directories(workdir, ec);

    json out;
    out["tool"] = "iwf_load";
    out["label"] = o.label;
    out["target"] = o.target;
    out["protocol"] = o.protocol;
    out["threads"] = o.threads;
    out["batch"] = o.batch;
    out["duration_s"] = o.duration_s;
    out["fwd_cpus"] = o.fwd_cpus;
    out["gen_cpus"] = o.gen_cpus;
    out["p99_limit_us"] = o.p99_limit_us;
    out["rt_prio"] = o.rt_prio;
    out["max_loss"] = o.max_loss;
    out["nproc"] = std::thread::hardware_concurrency();
    out["steps"] = json::array();

    if (o.mc || o.idle_calls) {
        const char* flag = o.mc && o.idle_calls ? "--mc --idle-calls"
                           : o.mc               ? "--mc"
                                                : "--idle-calls";
        if (o.target != "iwfd") {
            std::cerr << "iwf_load: " << flag << " needs --target iwfd\n";
            return 2;
        }
    }
    if (o.mc && o.idle_calls) {
        out["mode"] = "idle-calls-mc";
        std::printf("%-7s %8s %8s %12s %12s %10s %10s  %s\n", "N", "mc_calls", "engine", "rss_kib",
                    "pss_kib", "rss_B/call", "pss_B/call", "loadavg");
        const int irc = runStepTable(
            o, out, "idle mc", false,
            [&](unsigned n) {
                return withRetry("idle mc", n, [&] { return runMcStep(o, n, workdir); });
            },
            [](unsigned n, const json& r) {
                std::printf("%-7u %8zu %8.0f %s  %s\n", n, r["mc_calls"].get<std::size_t>(),
                            r["engine_calls_open"].get<double>(), memoryColumns(r).c_str(),
                            r["loadavg"].get<std::string>().c_str());
            });
        fs::remove_all(workdir, ec);
        return irc;
    }
    if (o.idle_calls) {
        out["mode"] = "idle-calls";
        std::printf("%-7s %10s %10s %12s %12s %10s %10s %8s  %s\n", "N", "rx_records", "calls",
                    "rss_kib", "pss_kib", "rss_B/call", "pss_B/call", "started", "loadavg");
        const int irc = runStepTable(
            o, out, "idle", true, [&](unsigned n) { return runIdleStep(o, n, workdir); },
            [](unsigned n, const json& r) {
                std::printf("%-7u %10.0f %10.0f %s %8.0f  %s\n", n,
                            r["iwfd_records_rx"].get<double>(),
                            r["engine_calls_open"].get<double>(), memoryColumns(r).c_str(),
                            r["engine_calls_started"].get<double>(),
                            r["loadavg"].get<std::string>().c_str());
            });
        fs::remove_all(workdir, ec);
        return irc;
    }
    const bool dmr_mc = o.mc && o.protocol == "dmr";
    const bool dmr_relay = o.target == "relay" && o.protocol == "dmr" && o.dmr_peers > 0;
    if (dmr_mc || dmr_relay) {
        out["mode"] = dmr_mc ? "dmr-lmr-to-mc" : "dmr-relay-by-dst";
        out["dmr_peers"] = std::max(1u, o.dmr_peers);
        out["dmr_tick_us"] = o.dmr_tick_us;
        std::printf("%-7s %6s %9s %9s %9s %8s %9s %9s %9s %7s %7s  %s\n", "N", "calls", "in_pps",
                    "out_pps", "loss", "p50_us", "p99_us", "p99.9_us", "us/pkt", "fwd%", "gen%",
                    "loadavg");
        const char* label = dmr_mc ? "dmr mc" : "dmr relay";
        const int drc = runStepTable(
            o, out, label, !dmr_mc,
            [&](unsigned n) {
                return withRetry(label, n, [&] {
                    return dmr_mc ? runDmrMcStep(o, n, workdir) : runDmrRelayStep(o, n, workdir);
                });
            },
            [](unsigned n, const json& r) {
                const auto& l = r["latency_us"];
                const std::string calls =
                    r.contains("mc_calls") ? std::to_string(r["mc_calls"].get<std::size_t>()) : "-";
                std::printf(
                    "%-7u %6s %9.0f %9.0f %9.5f %8.1f %9.1f %9.1f %9.2f %6.1f%% %6.1f%%  %s%s\n", n,
                    calls.c_str(), r["in_pps"].get<double>(), r["out_pps"].get<double>(),
                    r["loss"].get<double>(), l["p50"].get<double>(), l["p99"].get<double>(),
                    l["p99_9"].get<double>(), r["fwd_cpu_us_per_packet"].get<double>(),
                    100 * r["fwd_cpu_util"].get<double>(),
                    100 * r["gen_process_cpu_util"].get<double>(),
                    r["loadavg_begin"].get<std::string>().c_str(),
                    r["pass"].get<bool>() ? "" : "  (fails)");
            });
        unsigned best = 0;
        for (const auto& r : out["steps"]) {
            if (r["pass"].get<bool>()) {
                best = std::max(best, r["n"].get<unsigned>());
            }
        }
        putLargestN(o, out, best);
        writeJson(o, out);
        fs::remove_all(workdir, ec);
        return drc;
    }
    if (o.mc) {
        out["mode"] = "lmr-to-mc";
        std::printf("%-7s %6s %10s %10s %9s %8s %9s %9s %12s %7s  %s\n", "N", "calls", "in_pps",
                    "out_pps", "loss", "p50_us", "p99_us", "p99.9_us", "cpu_s/1000", "fwd%",
                    "loadavg");
        const int mrc = runStepTable(
            o, out, "mc", false,
            [&](unsigned n) {
                return withRetry("mc", n, [&] { return runMcStep(o, n, workdir); });
            },
            [](unsigned n, const json& r) {
                const auto& l = r["latency_us"];
                std::printf("%-7u %6zu %10.0f %10.0f %9.5f %8.1f %9.1f %9.1f %12.6f %6.1f%%  %s\n",
                            n, r["mc_calls"].get<std::size_t>(), r["in_pps"].get<double>(),
                            r["out_pps"].get<double>(), r["loss"].get<double>(),
                            l["p50"].get<double>(), l["p99"].get<double>(),
                            l["p99_9"].get<double>(), r["fwd_cpu_s_per_1000"].get<double>(),
                            100 * r["fwd_cpu_util"].get<double>(),
                            r["loadavg_begin"].get<std::string>().c_str());
            });
        fs::remove_all(workdir, ec);
        return mrc;
    }
    std::printf("%-7s %10s %10s %10s %8s %9s %9s %9s %12s %7s %7s  %s\n", "N", "in_pps", "out_pps",
                "loss", "p50_us", "p99_us", "p99.9_us", "max_us", "cpu_s/1000", "fwd%", "gen%",
                "loadavg");
    const auto started = std::chrono::steady_clock::now();
    unsigned best = 0;
    int rc = 0;
    for (unsigned n : o.steps) {
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (elapsed + o.duration_s + o.warmup_s > o.max_total_s) {
            out["stopped"] = "max-total time reached before N=" + std::to_string(n);
            break;
        }
        if (2ull * n + 64 > fdLimit()) {
            out["stopped"] = "N=" + std::to_string(n) + " needs more descriptors than allowed";
            break;
        }
        json r;
        bool failed = false;
        // One retry: the link ports are picked free and released just before iwfd binds them,
        // so another process on the machine can take one in between (iwfd then exits).
        for (int attempt = 0; attempt < 2; ++attempt) {
            try {
                r = runStep(o, n, workdir);
                failed = false;
                break;
            } catch (const std::exception& e) {
                std::cerr << "iwf_load: N=" << n << (attempt == 0 ? "" : " (retry)") << ": "
                          << e.what() << "\n";
                failed = true;
            }
        }
        if (failed) {
            rc = 1;
            break;
        }
        const auto& l = r["latency_us"];
        std::printf(
            "%-7u %10.0f %10.0f %10.5f %8.1f %9.1f %9.1f %9.1f %12.6f %6.1f%% %6.1f%%  %s\n", n,
            r["in_pps"].get<double>(), r["out_pps"].get<double>(), r["loss"].get<double>(),
            l["p50"].get<double>(), l["p99"].get<double>(), l["p99_9"].get<double>(),
            l["max"].get<double>(), r["fwd_cpu_s_per_1000"].get<double>(),
            100 * r["fwd_cpu_util"].get<double>(), 100 * r["gen_cpu_util"].get<double>(),
            r["loadavg_begin"].get<std::string>().c_str());
        std::fflush(stdout);
        const bool pass = r["pass"].get<bool>();
        out["steps"].push_back(std::move(r));
        if (pass) {
            best = n;
        } else if (!o.keep_going) {
            break;
        }
    }
    putLargestN(o, out, best);
    writeJson(o, out);
    fs::remove_all(workdir, ec);
    return rc;
}
