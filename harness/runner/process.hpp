#pragma once
// Child processes of the runner (iwfd, iwfctl, dumpcap): spawn with output to a file, wait
// with a deadline, stop with SIGTERM then SIGKILL. Only processes this object started are
// ever signalled.

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace iwf::harness {

class ChildProcess {
  public:
    ChildProcess() = default;
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    // Starts argv with stdout and stderr appended to `log_path`. False if it cannot start.
    bool start(const std::vector<std::string>& argv, const std::string& log_path);
    pid_t pid() const { return pid_; }
    bool running();
    // Exit code, or nullopt when still running at the deadline (or killed by a signal).
    std::optional<int> wait(std::chrono::milliseconds timeout);
    // SIGTERM, wait `grace`, then SIGKILL.
    void stop(std::chrono::milliseconds grace = std::chrono::seconds(3));
    // Before start(): the child runs in its own process group, so a Ctrl-C in the terminal
    // (SIGINT to the foreground group) reaches only the runner, which then stops its children
    // in order (`iwf-harness demo`); the child gets SIGTERM if the runner dies first
    // (PR_SET_PDEATHSIG), so none outlives it.
    void setOwnProcessGroup(bool on) { own_group_ = on; }

  private:
    pid_t pid_ = -1;
    bool own_group_ = false;
    std::optional<int> exit_;
};

// What runToCompletion returns when the command could not start or died of a signal, and
// when it was still running at the timeout (then killed).
inline constexpr int kRunFailed = -1;
inline constexpr int kRunTimedOut = -2;

// Runs a command to completion (output to log_path); its exit code, kRunFailed or kRunTimedOut.
int runToCompletion(const std::vector<std::string>& argv, const std::string& log_path,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60));

// A free UDP port on 127.0.0.1 (bound to port 0 then released).

}  // namespace iwf::harness
