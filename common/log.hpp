#pragma once
// Logging: one spdlog logger per subsystem ("p25", "dmr", "sip", "floor", "engine", "keymap",
// "admin", "daemon", ...), messages written as key=value fields:
//   IWF_LOG(log::get("engine"), info, "call={} group={} old={} new={}", ...)
// Nothing per packet above trace. Malformed input is counted, and warned about through a
// RateLimiter so a flood cannot fill the disk.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace iwf::log {

struct Options {
    spdlog::level::level_enum level = spdlog::level::info;
    std::map<std::string, spdlog::level::level_enum> subsystem_levels;
    std::string file;  // empty = stderr
};

// Configure sinks and levels for all current and future loggers. May be called again (reload).
void setup(const Options& opts);

// The logger of a subsystem, created on first use with the configured sinks and level.
std::shared_ptr<spdlog::logger> get(std::string_view subsystem);

// Parses "trace|debug|info|warn|error|critical|off".
bool parseLevel(std::string_view s, spdlog::level::level_enum& out);

// Allows at most `burst` events per `interval`; counts what it suppressed so the next allowed
// message can say how many were dropped. Thread-safe.
class RateLimiter {
  public:
    explicit RateLimiter(std::chrono::milliseconds interval = std::chrono::seconds(10),
                         std::uint32_t burst = 5)
        : interval_(interval), burst_(burst) {}

    // Returns true if the caller may log now; `suppressed` receives the number of events
    // suppressed since the last allowed one.
    bool allow(std::chrono::steady_clock::time_point now, std::uint64_t& suppressed);

  private:
    std::mutex mu_;
    std::chrono::milliseconds interval_;
    std::uint32_t burst_;
    std::chrono::steady_clock::time_point window_start_{};
    std::uint32_t in_window_ = 0;
    std::uint64_t suppressed_ = 0;
};

}  // namespace iwf::log
