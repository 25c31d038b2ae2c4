#pragma once
// DrainGate: the EventSink between a shard's links and its engine (or shard handoff). In
// normal operation it forwards every event unchanged, except that with a durable message
// store (common/message_store.hpp) a short data or KMM message from an LMR link is written
// there first (given a message ID if it has none; a duplicate stops here). During a drain (SIGTERM,
// common/link.hpp "Drain") it refuses calls that start now: a CallSetup is answered to the
// link that reported it with CallEnd{Refused, "draining"} and the call's later events are
// dropped at the gate; everything else (calls in progress, data) passes. Runs on its shard's
// thread; the flag is set from shard 0's thread, hence atomic.

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "common/link.hpp"
#include "common/message_store.hpp"
#include "common/metrics.hpp"
#include "gateway/cluster/fence.hpp"

namespace iwf::gateway {

class DrainGate final : public EventSink {
  public:
    DrainGate(EventSink& next, metrics::Registry& metrics);
    void addLink(Link& link);
    void setNext(EventSink& next) { next_ = &next; }
    void setStore(MessageStore* store) { store_ = store; }
    // In a cluster (docs/ha.md): every event is dropped (and counted) while `fence` does not
    // allow forwarding, before anything else looks at it.
    void setFence(const cluster::Fence* fence, metrics::Counter* dropped) {
        fence_ = fence;
        fenced_dropped_ = dropped;
    }
    void beginDrain() { draining_.store(true, std::memory_order_relaxed); }
    bool draining() const { return draining_.load(std::memory_order_relaxed); }
    void onEvent(const LinkId& from, Event&& event) override;

  private:
    EventSink* next_;
    MessageStore* store_ = nullptr;
    const cluster::Fence* fence_ = nullptr;
    metrics::Counter* fenced_dropped_ = nullptr;
    std::atomic<bool> draining_{false};
    std::map<std::string, Link*> links_;
    std::set<std::pair<std::string, CallRef>> refused_;
    metrics::Counter& refused_total_;
};

}  // namespace iwf::gateway
