#include "gateway/engine/refusal_log.hpp"

#include <ctime>

#include <fmt/format.h>

namespace iwf::gateway::engine {

RefusalLog::RefusalLog(unsigned shard, std::size_t capacity)
    : shard_(shard), capacity_(capacity == 0 ? 1 : capacity) {
    ring_.reserve(capacity_);
}

void RefusalLog::add(RefusalRecord r) {
    r.seq = ++seq_;
    r.shard = shard_;
    if (ring_.size() < capacity_) {
        ring_.push_back(std::move(r));
        return;
    }
    ring_[next_] = std::move(r);
    next_ = (next_ + 1) % capacity_;
}

std::vector<RefusalRecord> RefusalLog::newestFirst() const {
    std::vector<RefusalRecord> out;
    out.reserve(ring_.size());
    // Oldest is ring_[next_] once the ring is full (next_ is 0 until then).
    for (std::size_t k = 0; k < ring_.size(); ++k) {
        out.push_back(ring_[(next_ + ring_.size() - 1 - k) % ring_.size()]);
    }
    return out;
}

std::string RefusalLog::isoTime(std::int64_t ms) {
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::int64_t frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        --secs;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

nlohmann::json RefusalLog::toJson(const RefusalRecord& r) {
    auto orNull = [](const std::string& s) {
        return s.empty() ? nlohmann::json() : nlohmann::json(s);
    };
    nlohmann::json j;
    j["time"] = isoTime(r.time_ms);
    j["link"] = r.link;
    j["call"] = orNull(r.call);
    j["group"] = orNull(r.group);
    j["source"] = orNull(r.source);
    j["target"] = orNull(r.target);
    j["reason"] = r.reason;
    j["cause"] = r.cause ? nlohmann::json(*r.cause) : nlohmann::json();
    j["shard"] = r.shard;
    j["seq"] = r.seq;
    return j;
}

}  // namespace iwf::gateway::engine
