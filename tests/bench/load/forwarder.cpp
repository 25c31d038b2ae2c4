#include "tests/bench/load/forwarder.hpp"

#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace iwf::bench {

std::vector<int> parseCpuList(const std::string& s) {
    std::vector<int> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (item.empty()) {
            continue;
        }
        const auto dash = item.find('-');
        if (dash == std::string::npos) {
            out.push_back(std::stoi(item));
        } else {
            for (int c = std::stoi(item.substr(0, dash)); c <= std::stoi(item.substr(dash + 1));
                 ++c) {
                out.push_back(c);
            }
        }
    }
    return out;
}

bool pinThisThread(const std::vector<int>& cpus) {
    if (cpus.empty()) {
        return true;
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int c : cpus) {
        CPU_SET(c, &set);
    }
    return ::sched_setaffinity(0, sizeof set, &set) == 0;
}

double cpuSeconds(const std::optional<ProcCpu>& before, const std::optional<ProcCpu>& after) {
    return (before && after) ? after->total() - before->total() : -1.0;
}

std::string lastJsonLine(const std::string& path) {
    std::ifstream f(path);
    std::string line;
    std::string last;
    while (std::getline(f, line)) {
        if (!line.empty() && line[0] == '{') {
            last = line;
        }
    }
    return last;
}

std::optional<ProcCpu> readProcCpu(pid_t pid) {
    const std::string path =
        pid == 0 ? "/proc/self/stat" : "/proc/" + std::to_string(pid) + "/stat";
    std::ifstream f(path);
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const auto paren = all.rfind(')');
    if (paren == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream is(all.substr(paren + 2));
    std::vector<std::string> fields;
    std::string tok;
    while (is >> tok && fields.size() < 13) {
        fields.push_back(tok);
    }
    if (fields.size() < 13) {
        return std::nullopt;
    }
    // fields[0] is stat field 3 (state); utime and stime are fields 14 and 15.
    const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
    return ProcCpu{std::stod(fields[11]) / hz, std::stod(fields[12]) / hz};
}

std::optional<std::uint64_t> readRssKib(pid_t pid) {
    std::ifstream f(pid == 0 ? "/proc/self/status" : "/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stoull(line.substr(6));
        }
    }
    return std::nullopt;
}

std::string readLoadavg() {
    std::ifstream f("/proc/loadavg");
    std::string line;
    std::getline(f, line);
    return line;
}

Forwarder::~Forwarder() {
    if (running()) {
        stop();
    }
}

void Forwarder::start(const std::vector<std::string>& argv, const std::vector<int>& cpus,
                      const std::string& stderr_path) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    }
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        const int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (err >= 0) {
            ::dup2(err, STDERR_FILENO);
        }
        pinThisThread(cpus);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    pid_ = pid;
    out_fd_ = fds[0];
}

std::optional<std::string> Forwarder::waitLine(const std::string& prefix,
                                               std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[512];
    while (true) {
        std::size_t nl;
        while ((nl = pending_.find('\n')) != std::string::npos) {
            std::string line = pending_.substr(0, nl);
            pending_.erase(0, nl + 1);
            if (line.rfind(prefix, 0) == 0) {
                return line.substr(prefix.size());
            }
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        pollfd p{out_fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        const ssize_t n = ::read(out_fd_, buf, sizeof buf);
        if (n <= 0) {
            return std::nullopt;  // the process closed stdout (exited)
        }
        pending_.append(buf, static_cast<std::size_t>(n));
    }
}

int Forwarder::stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0) {
        return -1;
    }
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    int status = 0;
    int result = -1;
    while (true) {
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            result = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            break;
        }
        // Polling the child's exit: waitpid has no timeout; 5 ms steps bounded by `grace`.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::close(out_fd_);
    out_fd_ = -1;
    pid_ = -1;
    return result;
}

}  // namespace iwf::bench
