// Shared helpers of iwf_load (load_common.hpp): clocks, sockets, scheduling, /proc readings.
#include "tests/bench/load/load_common.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>

#include "tests/bench/load/forwarder.hpp"
#include "tests/bench/load/load_net.hpp"

namespace iwf::bench {

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

std::string selfDir() {
    std::error_code ec;
    const auto p = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(".") : p.parent_path().string();
}

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
    std::error_code ec;
    m.sockets = 0;
    for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        std::error_code lec;
        if (fs::read_symlink(e.path(), lec).string().rfind("socket:", 0) == 0) {
            ++m.sockets;
        }
    }
    return m;
}

std::int64_t kernelBytesPerUdpSocket() {
    // Slab objects one idle UDP socket holds, /proc/slabinfo object sizes (root only): the
    // socket (UDP), its inode (sock_inode_cache), file (filp), dentry, and the epoll item and
    // wait-queue entry of the event loop that watches it. An idle socket queues no buffers.
    std::ifstream f("/proc/slabinfo");
    std::string line;
    std::int64_t sum = 0;
    int found = 0;
    while (std::getline(f, line)) {
        std::istringstream is(line);
        std::string name;
        long active = 0, total = 0, objsize = 0;
        if (!(is >> name >> active >> total >> objsize)) {
            continue;
        }
        if (name == "UDP" || name == "sock_inode_cache" || name == "filp" || name == "dentry" ||
            name == "eventpoll_epi" || name == "eventpoll_pwq") {
            sum += objsize;
            ++found;
        }
    }
    return found >= 4 ? sum : -1;
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

}  // namespace iwf::bench
