#include "gateway/daemon/shard_handoff.hpp"

#include <algorithm>
#include <bit>

namespace iwf::gateway {

namespace {

constexpr std::uint64_t kDrainBatch = 1024;  // events per run before yielding to other work

}  // namespace

ShardHandoff::ShardHandoff(unsigned shard, asio::io_context& owner_io, EventSink& owner,
                           metrics::Registry& metrics, std::size_t capacity,
                           asio::io_context* local_io)
    : shard_(shard)
    , owner_io_(owner_io)
    , owner_(owner)
    , metrics_(metrics)
    , slots_(std::bit_ceil(std::max<std::size_t>(capacity, 2)))
    , mask_(slots_.size() - 1)
    , local_io_(local_io)
    , log_(log::get("daemon")) {
    unknown_link_ = &metrics_.counter(
        "iwf_shard_handoff_dropped_total",
        "Events a worker shard could not hand to the shard that owns their calls",
        {{"link", ""}, {"shard", std::to_string(shard_)}, {"reason", "unknown_link"}});
}

ShardHandoff::~ShardHandoff() = default;

void ShardHandoff::addLink(const LinkId& local, const LinkId& owner_id) {
    Route r;
    r.local = &local;
    r.owner = &owner_id;
    const metrics::Labels l{{"link", local.name}, {"shard", std::to_string(shard_)}};
    r.events = &metrics_.counter(
        "iwf_shard_handoff_events_total",
        "Events of sharded link instances handed to the shard that owns their calls", l);
    r.full = &metrics_.counter(
        "iwf_shard_handoff_dropped_total",
        "Events a worker shard could not hand to the shard that owns their calls",
        {{"link", local.name}, {"shard", std::to_string(shard_)}, {"reason", "queue_full"}});
    routes_[&local] = r;
}

ShardHandoff::Route* ShardHandoff::routeOf(const LinkId& from) {
    auto it = routes_.find(&from);
    if (it != routes_.end()) {
        return &it->second;
    }
    // Any other LinkId object naming a known link (tests report with copies).
    for (auto& [k, r] : routes_) {
        if (*r.local == from) {
            return &r;
        }
    }
    return nullptr;
}

void ShardHandoff::onEvent(const LinkId& from, Event&& event) {
    Route* r = routeOf(from);
    if (r == nullptr) {
        unknown_link_->inc();
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    const std::uint64_t t = tail_.load(std::memory_order_relaxed);
    if (t - head_.load(std::memory_order_acquire) >= slots_.size()) {
        r->full->inc();
        dropped_.fetch_add(1, std::memory_order_relaxed);
        std::uint64_t suppressed = 0;
        if (warn_limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
            log_->warn(
                "shard={} link={} handoff=dropped reason=queue_full event={} capacity={} "
                "suppressed={}",
                shard_, r->local->name, eventName(event), slots_.size(), suppressed);
        }
        return;
    }
    Slot& s = slots_[t & mask_];
    s.owner = r->owner;
    s.event = std::move(event);
    // seq_cst with drain()'s clearing of scheduled_: either the consumer that clears it sees
    // this slot, or this producer sees the flag clear and wakes it again.
    tail_.store(t + 1, std::memory_order_seq_cst);
    r->events->inc();
    handed_.fetch_add(1, std::memory_order_relaxed);
    if (local_io_ == nullptr) {
        wake();
        return;
    }
    if (!flush_posted_) {
        // Posted from the shard's own thread: a thread-private queue, no lock, no syscall;
        // runs after the handlers already ready in this turn (the other sockets' batches).
        flush_posted_ = true;
        asio::post(*local_io_, [this] {
            flush_posted_ = false;
            wake();
        });
    }
}

void ShardHandoff::wake() {
    if (!scheduled_.exchange(true, std::memory_order_seq_cst)) {
        asio::post(owner_io_, [this] { drain(); });
    }
}

void ShardHandoff::drain() {
    scheduled_.store(false, std::memory_order_seq_cst);
    std::uint64_t h = head_.load(std::memory_order_relaxed);
    const std::uint64_t end = std::min(tail_.load(std::memory_order_seq_cst), h + kDrainBatch);
    for (; h < end; ++h) {
        Slot& s = slots_[h & mask_];
        owner_.onEvent(*s.owner, std::move(s.event));
        head_.store(h + 1, std::memory_order_release);
    }
    if (tail_.load(std::memory_order_seq_cst) != h) {
        wake();  // more than one batch was waiting: the rest after the owner's other work
    }
}

}  // namespace iwf::gateway
