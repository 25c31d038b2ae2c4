#pragma once
// Hands the events of a worker shard's sharded link instances to the owner shard's engine
// (iwfd `workers: N` with links that run on shard 0 only: docs/engine.md "Worker threads").
//
// A ShardHandoff is the EventSink of every sharded link instance on worker shard K (K > 0)
// when the config has links that shard K does not run (MCPTT, MCData, ISSI, HBP). The
// instance decodes, tracks crypto and relays on shard K; each event it reports (already an
// owned value: VoiceFrame holds its bytes inline, no view into a receive buffer) is moved
// into a fixed ring of preallocated slots and consumed on the owner's io_context thread,
// which reports it to the owner's engine as if the owner's own instance of that link had
// seen it. So every call of these links has one owner (shard 0) for both legs and its whole
// life, and its events keep their order (one producer thread, one ring, one consumer).
//
// Per event: no lock and no allocation (a slot is move-assigned; a Voice event is a plain
// copy). The consumer is woken by one asio::post when the ring goes from idle to busy (one
// small asio operation, from asio's per-thread cache or the heap), so under load one wake-up
// carries a batch; a busy owner never gets one post per event. A full ring drops the event and
// counts it (iwf_shard_handoff_dropped_total{link, shard, reason="queue_full"}).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/asio.hpp"
#include "common/events.hpp"
#include "common/link.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"

namespace iwf::gateway {

class ShardHandoff final : public EventSink {
  public:
    // `owner_io` runs `owner`; `shard` is the producing shard's index (labels).
    // `capacity` is rounded up to a power of two. With `local_io` (the producing shard's own
    // io_context, whose thread calls onEvent), the owner is woken once per turn of the
    // producer's loop (a flush posted to local_io after the ready handlers: every event that
    // this turn's receive batches produced) instead of at each idle -> busy transition.
    ShardHandoff(unsigned shard, asio::io_context& owner_io, EventSink& owner,
                 metrics::Registry& metrics, std::size_t capacity = 8192,
                 asio::io_context* local_io = nullptr);
    ~ShardHandoff() override;
    ShardHandoff(const ShardHandoff&) = delete;
    ShardHandoff& operator=(const ShardHandoff&) = delete;

    // Before any event: events from `local` (the instance on this shard) reach the owner as
    // coming from `owner_id` (the owner's instance of the same link). Not thread-safe.
    void addLink(const LinkId& local, const LinkId& owner_id);

    // Producer side: the shard's thread (or any single thread at a time).
    void onEvent(const LinkId& from, Event&& event) override;

    // Events handed over / dropped so far (any thread).
    std::uint64_t handedOff() const { return handed_.load(std::memory_order_relaxed); }
    std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
    std::size_t capacity() const { return slots_.size(); }

  private:
    struct Route {
        const LinkId* local = nullptr;
        const LinkId* owner = nullptr;
        metrics::Counter* events = nullptr;
        metrics::Counter* full = nullptr;
    };
    struct Slot {
        const LinkId* owner = nullptr;
        Event event;
    };
    Route* routeOf(const LinkId& from);
    void wake();
    void drain();  // owner thread

    unsigned shard_;
    asio::io_context& owner_io_;
    EventSink& owner_;
    metrics::Registry& metrics_;
    std::unordered_map<const LinkId*, Route> routes_;
    std::vector<Slot> slots_;
    std::size_t mask_ = 0;
    // head_: next slot the consumer reads; tail_: next slot the producer writes.
    alignas(64) std::atomic<std::uint64_t> head_{0};
    alignas(64) std::atomic<std::uint64_t> tail_{0};
    alignas(64) std::atomic<bool> scheduled_{false};
    asio::io_context* local_io_ = nullptr;
    bool flush_posted_ = false;  // producer thread only
    std::atomic<std::uint64_t> handed_{0};
    std::atomic<std::uint64_t> dropped_{0};
    metrics::Counter* unknown_link_ = nullptr;
    log::RateLimiter warn_limiter_;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace iwf::gateway
