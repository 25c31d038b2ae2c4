#include "harness/runner/process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace iwf::harness {

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && !exit_) {
        stop(std::chrono::milliseconds(500));
    }
}

bool ChildProcess::start(const std::vector<std::string>& argv, const std::string& log_path) {
    if (argv.empty()) {
        return false;
    }
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        return false;
    }
    // The argument vector is built before the fork: the runner has threads (the MC
    // simulator's, the capture's), and a child that allocates may deadlock on an allocator
    // lock another thread held at the fork (GCC 12's ASan installs no fork handler). Seen in
    // CI as `iwfctl keymap import` never starting, 60 s, in 09_floor_contention. Between
    // fork and exec the child calls only async-signal-safe functions.
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fd);
        return false;
    }
    if (pid == 0) {
        if (own_group_) {
            ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        }
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(fd);
    pid_ = pid;
    exit_.reset();
    return true;
}

bool ChildProcess::running() {
    if (pid_ <= 0 || exit_) {
        return false;
    }
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
        exit_ = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        return false;
    }
    return true;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (running()) {
        if (std::chrono::steady_clock::now() >= end) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return exit_;
}

void ChildProcess::stop(std::chrono::milliseconds grace) {
    if (!running()) {
        return;
    }
    ::kill(pid_, SIGTERM);
    if (!wait(grace)) {
        ::kill(pid_, SIGKILL);
        (void)wait(std::chrono::seconds(5));
    }
}

int runToCompletion(const std::vector<std::string>& argv, const std::string& log_path,
                    std::chrono::milliseconds timeout) {
    ChildProcess p;
    if (!p.start(argv, log_path)) {
        return kRunFailed;
    }
    auto r = p.wait(timeout);
    if (!r) {
        p.stop(std::chrono::milliseconds(200));
        return kRunTimedOut;
    }
    return *r;
}

}  // namespace iwf::harness
