#pragma once
// Test support: run the real OpenIWF binaries as child processes on loopback.
//
//   TempDir dir;
//   IwfdProcess iwfd;
//   ASSERT_TRUE(iwfd.start(dir, "instance: t\nlog: {level: debug}\n"));  // admin on port 0
//   auto r = httpGet(iwfd.adminPort(), "/livez");                     // {200, "OK\n"}
//   iwfd.signal(SIGTERM);
//   auto status = iwfd.waitExit(std::chrono::seconds(2));             // exit code or nullopt
//
// The config text given to start() gets an `admin:` section appended (127.0.0.1, port 0,
// port_file in the temp dir) unless it has one; the port is read back from the file.

#include <chrono>
#include <csignal>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace iwf::test {

class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    std::string write(const std::string& name, const std::string& content) const;

  private:
    std::string path_;
};

struct CommandResult {
    int exit_code = -1;  // -1: killed by a signal or timed out
    std::string out;
    std::string err;
};

// Runs argv[0] with arguments, waits at most `timeout`, captures stdout and stderr.
CommandResult runCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(60),
                         const std::string& stdin_text = "");

struct HttpResult {
    int status = 0;  // 0: no answer
    std::string body;
};
HttpResult httpGet(std::uint16_t port, const std::string& path,
                   const std::string& host = "127.0.0.1");

// Polls `cond` until it is true or the deadline passes.
bool waitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
             std::chrono::milliseconds step = std::chrono::milliseconds(20));

class IwfdProcess {
  public:
    IwfdProcess() = default;
    ~IwfdProcess();  // SIGKILLs a still-running child
    IwfdProcess(const IwfdProcess&) = delete;
    IwfdProcess& operator=(const IwfdProcess&) = delete;

    // Writes `config_yaml` to dir/iwfd.yaml and starts iwfd on it; true once the admin port
    // answers /livez (alive; /healthz is readiness and needs a keymap). `binary` defaults to the
    // built iwfd.
    bool start(const TempDir& dir, const std::string& config_yaml,
               std::chrono::milliseconds timeout = std::chrono::seconds(20),
               const std::string& binary = IWFD_BIN);
    pid_t pid() const { return pid_; }
    std::uint16_t adminPort() const { return port_; }
    const std::string& configPath() const { return config_path_; }
    const std::string& logPath() const { return log_path_; }
    std::string log() const;  // what iwfd wrote to stderr so far
    bool running();
    void signal(int sig);
    std::optional<int> waitExit(std::chrono::milliseconds timeout);

  private:
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
    std::string config_path_;
    std::string log_path_;
    std::optional<int> exit_;
};

// Value of an unlabelled (or exactly-labelled, e.g. `name{a="b"}`) sample in Prometheus text.
std::optional<double> prometheusValue(const std::string& text, const std::string& series);

}  // namespace iwf::test
