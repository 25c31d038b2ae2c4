#pragma once
// The last refusals of one engine (shard), for an operator: GET /v1/refusals and the live
// console show why a call, a transmission or a message was refused, which the counters
// (iwf_engine_refusals_total{link, reason}) cannot say (who, which call, which group, when).
//
// A bounded ring: the newest kCapacity records stay, the oldest give way; nothing grows with
// the refusal rate (a peer that makes the engine refuse a thousand setups a second rewrites the
// same slots). Written where the engine counts a refusal (Engine::countRefusal), on the
// engine's thread only; read on the same thread (the daemon posts to each shard and merges,
// like /v1/calls). Not on the per-frame path: one record per refused setup, transmission or
// message.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace iwf::gateway::engine {

struct RefusalRecord {
    std::int64_t time_ms = 0;  // wall clock, ms since 1970 UTC (Clock::wallNow)
    std::uint64_t seq = 0;     // 1, 2, ... per engine: a reader asks for what is newer
    unsigned shard = 0;
    std::string link;    // the link whose request was refused (config name)
    std::string call;    // the call's name ("" for a refused setup or message: no call yet)
    std::string group;   // the group concerned ("" for private calls and unit messages)
    std::string source;  // who asked: the talker / caller / sender as its side names it
    std::string target;  // whom it was for: the callee or destination as the request named it
    std::string reason;  // snake_case, the reason label of iwf_engine_refusals_total
    // The TS 24.380 Floor Deny / Floor Revoke cause the refused side was told (8.2.6.2
    // Reject Cause); none for a refused short data or key-management message.
    std::optional<std::uint16_t> cause;
};

// What the engine knows of a refusal where it refuses (countRefusal fills time, link, reason).
inline RefusalRecord refusalOf(std::string call, std::string group, std::string source,
                               std::string target, std::optional<std::uint16_t> cause) {
    RefusalRecord r;
    r.call = std::move(call);
    r.group = std::move(group);
    r.source = std::move(source);
    r.target = std::move(target);
    r.cause = cause;
    return r;
}

class RefusalLog {
  public:
    static constexpr std::size_t kCapacity = 100;

    explicit RefusalLog(unsigned shard = 0, std::size_t capacity = kCapacity);

    // Stores `r` (its seq and shard are set here), dropping the oldest record when full.
    void add(RefusalRecord r);
    // The records kept, newest first.
    std::vector<RefusalRecord> newestFirst() const;
    // Refusals ever added (also the seq of the newest).
    std::uint64_t total() const { return seq_; }
    std::size_t capacity() const { return capacity_; }

    // One record as GET /v1/refusals shows it (docs/operations.md).
    static nlohmann::json toJson(const RefusalRecord& r);
    // "2026-12-07T13:04:05.123Z" (ISO 8601, UTC, milliseconds).
    static std::string isoTime(std::int64_t ms);

  private:
    unsigned shard_;
    std::size_t capacity_;
    std::vector<RefusalRecord> ring_;  // reserved once; slot `next_` is the oldest when full
    std::size_t next_ = 0;
    std::uint64_t seq_ = 0;
};

}  // namespace iwf::gateway::engine
