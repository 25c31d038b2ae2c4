#include "common/log.hpp"

#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace iwf::log {

namespace {
struct State {
    std::mutex mu;
    Options opts;
    std::vector<spdlog::sink_ptr> sinks;
    std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
};

State& state() {
    static State s;
    return s;
}

constexpr const char* kPattern = "%Y-%m-%dT%H:%M:%S.%e%z %L %n: %v";

std::vector<spdlog::sink_ptr> makeSinks(const Options& opts) {
    std::vector<spdlog::sink_ptr> sinks;
    if (opts.file.empty()) {
        sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
    } else {
        sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(opts.file));
    }
    for (auto& s : sinks) {
        s->set_pattern(kPattern);
    }
    return sinks;
}

spdlog::level::level_enum levelFor(const Options& opts, std::string_view name) {
    auto it = opts.subsystem_levels.find(std::string(name));
    return it == opts.subsystem_levels.end() ? opts.level : it->second;
}
}  // namespace

void setup(const Options& opts) {
    State& s = state();
    std::lock_guard lock(s.mu);
    s.opts = opts;
    s.sinks = makeSinks(opts);
    for (auto& [name, logger] : s.loggers) {
        logger->sinks() = s.sinks;
        logger->set_level(levelFor(opts, name));
    }
}

std::shared_ptr<spdlog::logger> get(std::string_view subsystem) {
    State& s = state();
    std::lock_guard lock(s.mu);
    auto it = s.loggers.find(subsystem);
    if (it != s.loggers.end()) {
        return it->second;
    }
    if (s.sinks.empty()) {
        s.sinks = makeSinks(s.opts);
    }
    auto logger =
        std::make_shared<spdlog::logger>(std::string(subsystem), s.sinks.begin(), s.sinks.end());
    logger->set_level(levelFor(s.opts, subsystem));
    logger->flush_on(spdlog::level::warn);
    s.loggers.emplace(std::string(subsystem), logger);
    return logger;
}

bool parseLevel(std::string_view s, spdlog::level::level_enum& out) {
    static const std::map<std::string_view, spdlog::level::level_enum> kLevels = {
        {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
        {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
        {"error", spdlog::level::err},   {"critical", spdlog::level::critical},
        {"off", spdlog::level::off},
    };
    auto it = kLevels.find(s);
    if (it == kLevels.end()) {
        return false;
    }
    out = it->second;
    return true;
}

bool RateLimiter::allow(std::chrono::steady_clock::time_point now, std::uint64_t& suppressed) {
    std::lock_guard lock(mu_);
    if (now - window_start_ >= interval_) {
        window_start_ = now;
        in_window_ = 0;
    }
    if (in_window_ < burst_) {
        ++in_window_;
        suppressed = suppressed_;
        suppressed_ = 0;
        return true;
    }
    ++suppressed_;
    suppressed = 0;
    return false;
}

}  // namespace iwf::log
