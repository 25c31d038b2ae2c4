// iwf_relay: a bare UDP forwarder, the baseline that iwfd's data plane is measured against.
//
// Same process model as iwfd's data plane: one worker thread per core, each worker owns one
// input socket (SO_REUSEPORT on one port, so the kernel shards flows by 4-tuple and a stream
// always lands on the same worker) and one output socket. Per datagram it does what a relay
// must do and nothing more: receive, look the source port up in a route table, send the bytes
// unchanged to the routed destination. With --batch > 1 it uses recvmmsg/sendmmsg.
//
// Routes come from a file of "src_port dst_port" lines (127.0.0.1 on both sides), written by
// iwf_load. With --route-by dmr-dst the key is the DMRD destination ID instead (bytes 8..10 of
// an HBP DMRD packet, "talkgroup dst_port" lines): many talk paths arrive on one input socket
// from a few sources, the shape of an HBP master connection, and each goes to its receiver. The
// bound input port is printed on stdout as "port=N" once every worker is ready.
//
// With --inputs N the relay has the socket shape of iwfd's MC -> LMR path instead: N input
// sockets (each its own port, like one RTP socket per MC call), split over the workers, each
// worker waiting on its sockets with epoll and reading a ready socket until it is empty (what
// iwfd's per-call sockets cost: a wake-up, the receives, one receive that finds it empty);
// --route-by input routes by input socket ("k dst_port" lines, k = 1..N) and --ports-file
// gets the N bound ports, one a line, before "port=" is printed. SIGTERM/SIGINT:
// each worker handles what is already queued on its socket (so every datagram that reached the
// relay before the signal is counted, whichever worker the kernel gave it to and whether or not
// that worker had run yet), then the counters go to stderr as one JSON line, exit 0.
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <netinet/in.h>
#include <sched.h>
#include <sstream>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>
#include <vector>

#include <CLI/CLI.hpp>

namespace {

constexpr std::size_t kMaxDatagram = 2048;
constexpr std::size_t kMaxBatch = 64;
// Upper bound on what a worker handles after the stop signal: what a full input socket can
// hold, so a sender that keeps going cannot hold the relay open.
constexpr std::size_t kMaxDrain = 1u << 16;

std::atomic<bool> g_stop{false};

void onSignal(int) {
    g_stop.store(true, std::memory_order_relaxed);
}

struct WorkerStats {
    std::atomic<std::uint64_t> relayed{0};
    std::atomic<std::uint64_t> no_route{0};
    std::atomic<std::uint64_t> send_errors{0};
    std::atomic<std::uint64_t> wakeups{0};
};

// `reuse`: SO_REUSEPORT (the shared port of the workers). Never for the --inputs sockets: on
// port 0 with SO_REUSEPORT the kernel may hand out a port another such socket already holds.
int openInput(std::uint16_t port, int rcvbuf, bool reuse = true) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    if (reuse) {
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    // Wake up now and then so a worker notices the stop flag without a signal per thread.
    timeval tv{0, 200000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::uint16_t boundPort(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

// Route table: destination port per source port (0 = no route), or per DMRD destination ID
// (--route-by dmr-dst). Read-only once workers run.
struct RouteTable {
    bool by_dmr_dst = false;
    bool by_input = false;  // key = input socket number (1..N), --inputs
    std::vector<std::uint16_t> by_port = std::vector<std::uint16_t>(65536, 0);
    std::unordered_map<std::uint32_t, std::uint16_t> by_dst;

    std::uint16_t route(const sockaddr_in& from, const std::uint8_t* d, std::size_t n) const {
        if (!by_dmr_dst) {
            return by_port[ntohs(from.sin_port)];
        }
        if (n < 11 || std::memcmp(d, "DMRD", 4) != 0) {
            return 0;
        }
        const std::uint32_t dst = (std::uint32_t{d[8]} << 16) | (std::uint32_t{d[9]} << 8) | d[10];
        const auto it = by_dst.find(dst);
        return it == by_dst.end() ? 0 : it->second;
    }
};

void workerSingle(int in_fd, int out_fd, const RouteTable& routes, WorkerStats& st) {
    std::uint8_t buf[kMaxDatagram];
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::size_t drained = 0;
    for (;;) {
        // After the stop signal: non-blocking, until the socket is empty.
        const bool stopping = g_stop.load(std::memory_order_relaxed);
        if (stopping && ++drained > kMaxDrain) {
            break;
        }
        sockaddr_in from{};
        socklen_t flen = sizeof from;
        const ssize_t n = ::recvfrom(in_fd, buf, sizeof buf, stopping ? MSG_DONTWAIT : 0,
                                     reinterpret_cast<sockaddr*>(&from), &flen);
        if (n < 0) {
            if (stopping && errno != EINTR) {
                break;  // queue empty
            }
            continue;  // EAGAIN (timeout) or EINTR: check the stop flag
        }
        st.wakeups.fetch_add(1, std::memory_order_relaxed);
        const std::uint16_t to = routes.route(from, buf, static_cast<std::size_t>(n));
        if (to == 0) {
            st.no_route.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        dst.sin_port = htons(to);
        if (::sendto(out_fd, buf, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&dst),
                     sizeof dst) < 0) {
            st.send_errors.fetch_add(1, std::memory_order_relaxed);
        } else {
            st.relayed.fetch_add(1, std::memory_order_relaxed);
        }
    }
}

void workerBatch(int in_fd, int out_fd, const RouteTable& routes, std::size_t batch,
                 WorkerStats& st) {
    std::vector<std::uint8_t> bufs(kMaxBatch * kMaxDatagram);
    mmsghdr in[kMaxBatch]{};
    mmsghdr out[kMaxBatch]{};
    iovec in_iov[kMaxBatch]{};
    iovec out_iov[kMaxBatch]{};
    sockaddr_in from[kMaxBatch]{};
    sockaddr_in to[kMaxBatch]{};
    for (std::size_t i = 0; i < kMaxBatch; ++i) {
        in_iov[i] = {bufs.data() + i * kMaxDatagram, kMaxDatagram};
        in[i].msg_hdr.msg_iov = &in_iov[i];
        in[i].msg_hdr.msg_iovlen = 1;
        in[i].msg_hdr.msg_name = &from[i];
        to[i].sin_family = AF_INET;
        to[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        out[i].msg_hdr.msg_iov = &out_iov[i];
        out[i].msg_hdr.msg_iovlen = 1;
        out[i].msg_hdr.msg_name = &to[i];
        out[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
    }
    std::size_t drained = 0;
    for (;;) {
        // After the stop signal: non-blocking, until the socket is empty.
        const bool stopping = g_stop.load(std::memory_order_relaxed);
        if (stopping && drained > kMaxDrain) {
            break;
        }
        for (std::size_t i = 0; i < batch; ++i) {
            in[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        }
        const int n = ::recvmmsg(in_fd, in, static_cast<unsigned>(batch),
                                 stopping ? MSG_DONTWAIT : MSG_WAITFORONE, nullptr);
        if (n <= 0) {
            if (stopping && errno != EINTR) {
                break;  // queue empty
            }
            continue;
        }
        if (stopping) {
            drained += static_cast<std::size_t>(n);
        }
        st.wakeups.fetch_add(1, std::memory_order_relaxed);
        unsigned m = 0;
        for (int i = 0; i < n; ++i) {
            const std::uint16_t port = routes.route(
                from[i], static_cast<const std::uint8_t*>(in_iov[i].iov_base), in[i].msg_len);
            if (port == 0) {
                st.no_route.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            to[m].sin_port = htons(port);
            out_iov[m] = {in_iov[i].iov_base, in[i].msg_len};
            ++m;
        }
        unsigned sent = 0;
        while (sent < m) {
            const int k = ::sendmmsg(out_fd, out + sent, m - sent, 0);
            if (k <= 0) {
                st.send_errors.fetch_add(m - sent, std::memory_order_relaxed);
                break;
            }
            sent += static_cast<unsigned>(k);
        }
        st.relayed.fetch_add(sent, std::memory_order_relaxed);
    }
}

// --inputs: this worker's input sockets (input number k = index + 1 in `numbers`) in one
// epoll set; a ready socket is read until it is empty (recvfrom, or recvmmsg with batch > 1)
// and every datagram goes to the destination of its input's route.
void workerInputs(const std::vector<int>& fds, const std::vector<std::uint32_t>& numbers,
                  int out_fd, const RouteTable& routes, std::size_t batch, WorkerStats& st) {
    const int ep = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<std::uint16_t> dst_of(fds.size(), 0);
    for (std::size_t i = 0; i < fds.size(); ++i) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
        const auto it = routes.by_dst.find(numbers[i]);
        dst_of[i] = it == routes.by_dst.end() ? 0 : it->second;
    }
    std::vector<std::uint8_t> bufs(kMaxBatch * kMaxDatagram);
    mmsghdr in[kMaxBatch]{};
    mmsghdr out[kMaxBatch]{};
    iovec in_iov[kMaxBatch]{};
    iovec out_iov[kMaxBatch]{};
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    for (std::size_t i = 0; i < kMaxBatch; ++i) {
        in_iov[i] = {bufs.data() + i * kMaxDatagram, kMaxDatagram};
        in[i].msg_hdr.msg_iov = &in_iov[i];
        in[i].msg_hdr.msg_iovlen = 1;
        out[i].msg_hdr.msg_iov = &out_iov[i];
        out[i].msg_hdr.msg_iovlen = 1;
        out[i].msg_hdr.msg_name = &to;
        out[i].msg_hdr.msg_namelen = sizeof to;
    }
    std::vector<epoll_event> events(256);
    // Reads socket i until it is empty; returns false when nothing was there.
    auto drain = [&](std::size_t i) {
        const std::uint16_t port = dst_of[i];
        to.sin_port = htons(port);
        bool any = false;
        for (;;) {
            if (batch == 1) {
                const ssize_t n = ::recv(fds[i], bufs.data(), kMaxDatagram, MSG_DONTWAIT);
                if (n < 0) {
                    return any;
                }
                any = true;
                if (port == 0) {
                    st.no_route.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                if (::sendto(out_fd, bufs.data(), static_cast<std::size_t>(n), 0,
                             reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
                    st.send_errors.fetch_add(1, std::memory_order_relaxed);
                } else {
                    st.relayed.fetch_add(1, std::memory_order_relaxed);
                }
                continue;
            }
            const int n =
                ::recvmmsg(fds[i], in, static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
            if (n <= 0) {
                return any;
            }
            any = true;
            if (port == 0) {
                st.no_route.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed);
                continue;
            }
            for (int k = 0; k < n; ++k) {
                out_iov[k] = {in_iov[k].iov_base, in[k].msg_len};
            }
            unsigned sent = 0;
            while (sent < static_cast<unsigned>(n)) {
                const int k = ::sendmmsg(out_fd, out + sent, static_cast<unsigned>(n) - sent, 0);
                if (k <= 0) {
                    st.send_errors.fetch_add(static_cast<unsigned>(n) - sent,
                                             std::memory_order_relaxed);
                    break;
                }
                sent += static_cast<unsigned>(k);
            }
            st.relayed.fetch_add(sent, std::memory_order_relaxed);
        }
    };
    while (!g_stop.load(std::memory_order_relaxed)) {
        const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 200);
        if (n <= 0) {
            continue;
        }
        st.wakeups.fetch_add(1, std::memory_order_relaxed);
        for (int k = 0; k < n; ++k) {
            drain(static_cast<std::size_t>(events[static_cast<std::size_t>(k)].data.u64));
        }
    }
    // After the stop signal: what is already queued on every socket.
    for (std::size_t i = 0; i < fds.size(); ++i) {
        drain(i);
    }
    ::close(ep);
}

bool loadRoutes(const std::string& path, RouteTable& routes, std::string& err) {
    std::ifstream f(path);
    if (!f) {
        err = path + ": cannot open";
        return false;
    }
    std::string line;
    int lineno = 0;
    while (std::getline(f, line)) {
        ++lineno;
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::istringstream is(line);
        const unsigned long max_key = routes.by_dmr_dst || routes.by_input ? 0xFFFFFFul : 65535ul;
        unsigned long src = 0;
        unsigned dst = 0;
        if (!(is >> src >> dst) || src == 0 || src > max_key || dst == 0 || dst > 65535) {
            err = path + ":" + std::to_string(lineno) +
                  (routes.by_dmr_dst ? ": expected 'talkgroup dst_port'"
                   : routes.by_input ? ": expected 'input_number dst_port'"
                                     : ": expected 'src_port dst_port'");
            return false;
        }
        if (routes.by_dmr_dst || routes.by_input) {
            routes.by_dst[static_cast<std::uint32_t>(src)] = static_cast<std::uint16_t>(dst);
        } else {
            routes.by_port[src] = static_cast<std::uint16_t>(dst);
        }
    }
    return true;
}

// --inputs: N input sockets over the workers (socket k to worker k % threads).
int runInputs(unsigned inputs, unsigned threads, std::size_t batch, int rcvbuf,
              const std::string& ports_file, const RouteTable& routes) {
    std::vector<std::vector<int>> fds(threads);
    std::vector<std::vector<std::uint32_t>> numbers(threads);
    std::vector<int> out_fds;
    std::ofstream pf;
    if (!ports_file.empty()) {
        pf.open(ports_file);
    }
    for (unsigned k = 0; k < inputs; ++k) {
        const int in = openInput(0, rcvbuf, false);
        if (in < 0) {
            std::cerr << "iwf_relay: input socket " << k + 1 << ": " << std::strerror(errno)
                      << "\n";
            return 2;
        }
        fds[k % threads].push_back(in);
        numbers[k % threads].push_back(k + 1);
        if (pf) {
            pf << boundPort(in) << "\n";
        }
    }
    pf.close();
    for (unsigned i = 0; i < threads; ++i) {
        out_fds.push_back(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    }
    std::vector<WorkerStats> stats(threads);
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < threads; ++i) {
        workers.emplace_back(
            [&, i] { workerInputs(fds[i], numbers[i], out_fds[i], routes, batch, stats[i]); });
    }
    std::cout << "port=" << boundPort(fds[0][0]) << std::endl;
    for (auto& w : workers) {
        w.join();
    }
    std::uint64_t relayed = 0, no_route = 0, send_errors = 0, wakeups = 0;
    for (unsigned i = 0; i < threads; ++i) {
        relayed += stats[i].relayed.load();
        no_route += stats[i].no_route.load();
        send_errors += stats[i].send_errors.load();
        wakeups += stats[i].wakeups.load();
        for (int fd : fds[i]) {
            ::close(fd);
        }
        ::close(out_fds[i]);
    }
    std::cerr << "{\"relayed\":" << relayed << ",\"no_route\":" << no_route
              << ",\"send_errors\":" << send_errors << ",\"wakeups\":" << wakeups << "}"
              << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"iwf_relay - bare UDP relay baseline (recvfrom/sendto or recvmmsg/sendmmsg)"};
    unsigned port = 0;
    unsigned threads = 1;
    std::size_t batch = 1;
    int rcvbuf = 4 << 20;
    std::string routes_path;
    app.add_option("--port", port, "input port on 127.0.0.1 (0 = any)")->capture_default_str();
    app.add_option("--threads", threads, "worker threads (one per core)")
        ->check(CLI::Range(1, 64))
        ->capture_default_str();
    app.add_option("--batch", batch, "datagrams per recvmmsg/sendmmsg (1 = recvfrom/sendto)")
        ->check(CLI::Range(1, static_cast<int>(kMaxBatch)))
        ->capture_default_str();
    app.add_option("--rcvbuf", rcvbuf, "SO_RCVBUF of each input socket")->capture_default_str();
    std::string route_by = "src-port";
    app.add_option("--routes", routes_path,
                   "file of 'src_port dst_port' (or 'talkgroup dst_port') lines")
        ->required();
    app.add_option("--route-by", route_by,
                   "route key: src-port, dmr-dst (DMRD destination ID, bytes 8..10) or input "
                   "(input socket number, with --inputs)")
        ->check(CLI::IsMember({"src-port", "dmr-dst", "input"}))
        ->capture_default_str();
    unsigned inputs = 0;
    std::string ports_file;
    app.add_option("--inputs", inputs,
                   "N input sockets, one port each, epoll per worker (0 = one shared port)")
        ->check(CLI::Range(0, 60000))
        ->capture_default_str();
    app.add_option("--ports-file", ports_file, "--inputs: write the N bound ports here");
    CLI11_PARSE(app, argc, argv);
    if ((inputs > 0) != (route_by == "input")) {
        std::cerr << "iwf_relay: --inputs and --route-by input go together\n";
        return 2;
    }

    RouteTable routes;
    routes.by_dmr_dst = route_by == "dmr-dst";
    routes.by_input = route_by == "input";
    routes.by_dst.reserve(1 << 14);
    std::string err;
    if (!loadRoutes(routes_path, routes, err)) {
        std::cerr << "iwf_relay: " << err << "\n";
        return 2;
    }
    std::signal(SIGTERM, onSignal);
    std::signal(SIGINT, onSignal);

    std::vector<int> in_fds;
    std::vector<int> out_fds;
    if (inputs > 0) {
        return runInputs(inputs, threads, batch, rcvbuf, ports_file, routes);
    }
    for (unsigned i = 0; i < threads; ++i) {
        const int in = openInput(
            i == 0 ? static_cast<std::uint16_t>(port) : boundPort(in_fds.front()), rcvbuf);
        const int out = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (in < 0 || out < 0) {
            std::cerr << "iwf_relay: socket: " << std::strerror(errno) << "\n";
            return 2;
        }
        in_fds.push_back(in);
        out_fds.push_back(out);
    }
    std::vector<WorkerStats> stats(threads);
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < threads; ++i) {
        workers.emplace_back([&, i] {
            if (batch == 1) {
                workerSingle(in_fds[i], out_fds[i], routes, stats[i]);
            } else {
                workerBatch(in_fds[i], out_fds[i], routes, batch, stats[i]);
            }
        });
    }
    std::cout << "port=" << boundPort(in_fds.front()) << std::endl;

    for (auto& w : workers) {
        w.join();
    }
    std::uint64_t relayed = 0, no_route = 0, send_errors = 0, wakeups = 0;
    std::string per_thread;
    for (unsigned i = 0; i < threads; ++i) {
        relayed += stats[i].relayed.load();
        no_route += stats[i].no_route.load();
        send_errors += stats[i].send_errors.load();
        wakeups += stats[i].wakeups.load();
        per_thread += (i ? "," : "") + std::to_string(stats[i].relayed.load());
        ::close(in_fds[i]);
        ::close(out_fds[i]);
    }
    std::cerr << "{\"relayed\":" << relayed << ",\"no_route\":" << no_route
              << ",\"send_errors\":" << send_errors << ",\"wakeups\":" << wakeups
              << ",\"relayed_per_thread\":[" << per_thread << "]}" << std::endl;
    return 0;
}
