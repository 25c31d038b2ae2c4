#pragma once
// Starting, watching and stopping the forwarder under test (iwf_relay or iwfd) for iwf_load,
// and reading its CPU time and memory from /proc.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace iwf::bench {

// "0,1" or "0-1" -> CPU numbers; empty string -> empty list (no pinning).
std::vector<int> parseCpuList(const std::string& s);
// Pins the calling thread to cpus (no-op for an empty list). Returns false on failure.
bool pinThisThread(const std::vector<int>& cpus);

struct ProcCpu {
    double user_s = 0;
    double system_s = 0;
    double total() const { return user_s + system_s; }
};
// utime + stime of a process from /proc/PID/stat (pid 0 = this process).
std::optional<ProcCpu> readProcCpu(pid_t pid);
// CPU seconds between two readings; -1 when either is missing.
double cpuSeconds(const std::optional<ProcCpu>& before, const std::optional<ProcCpu>& after);
// The last line of a file that starts with '{' (a forwarder's JSON report); "" when none.
std::string lastJsonLine(const std::string& path);
// VmRSS of a process in KiB from /proc/PID/status.
std::optional<std::uint64_t> readRssKib(pid_t pid);
// The 1-minute load average from /proc/loadavg, and the whole line.
std::string readLoadavg();

class Forwarder {
  public:
    Forwarder() = default;
    ~Forwarder();
    Forwarder(const Forwarder&) = delete;
    Forwarder& operator=(const Forwarder&) = delete;

    // fork + exec argv (argv[0] is the path), pinned to cpus, stdout to a pipe, stderr to
    // stderr_path. Throws std::runtime_error when it cannot start.
    void start(const std::vector<std::string>& argv, const std::vector<int>& cpus,
               const std::string& stderr_path);
    // Reads stdout lines until one starts with `prefix`; returns the rest of that line.
    // nullopt on timeout or when the process exits first.
    std::optional<std::string> waitLine(const std::string& prefix,
                                        std::chrono::milliseconds timeout);
    // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status (-1 if killed).
    int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(3000));
    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0; }

  private:
    pid_t pid_ = -1;
    int out_fd_ = -1;
    std::string pending_;
};

}  // namespace iwf::bench
