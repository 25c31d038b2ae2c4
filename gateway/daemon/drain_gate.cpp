#include "gateway/daemon/drain_gate.hpp"

#include "common/log.hpp"

namespace iwf::gateway {

namespace {

CallRef callOf(const Event& e) {
    return std::visit(
        [](const auto& v) -> CallRef {
            if constexpr (requires { v.call; }) {
                return v.call;
            } else {
                return 0;
            }
        },
        e);
}

}  // namespace

DrainGate::DrainGate(EventSink& next, metrics::Registry& metrics)
    : next_(&next)
    , refused_total_(metrics.counter("iwf_drain_calls_refused_total",
                                     "Calls refused because iwfd was draining (SIGTERM)")) {}

void DrainGate::addLink(Link& link) {
    links_[link.id().name] = &link;
}

void DrainGate::onEvent(const LinkId& from, Event&& event) {
    if (fence_ != nullptr && !fence_->mayForward()) {
        fenced_dropped_->inc();
        return;
    }
    if (store_ != nullptr && from.side == Side::Lmr &&
        (std::holds_alternative<DataMessage>(event) ||
         std::holds_alternative<SecurityMessage>(event))) {
        if (auto* d = std::get_if<DataMessage>(&event); d != nullptr && d->message_id.empty()) {
            d->message_id = newMessageId();
        }
        auto r = store_->accept(from, storedMessageId(event), event);
        if (r && *r == StoreOutcome::Duplicate) {
            return;  // the same KMM again while the first is stored: one delivery
        }
        // A store failure is logged by the store; the message still goes on (the LMR side
        // has no negative acknowledgement to give).
    }
    if (!draining()) {
        next_->onEvent(from, std::move(event));
        return;
    }
    const CallRef ref = callOf(event);
    if (const auto* setup = std::get_if<CallSetup>(&event)) {
        auto it = links_.find(from.name);
        if (it != links_.end()) {
            refused_.insert({from.name, setup->call});
            refused_total_.inc();
            log::get("daemon")->info("drain=refuse link={} call={}", from.name, setup->call);
            (void)it->second->deliver(Event{CallEnd{setup->call, EndReason::Refused, "draining"}});
            return;
        }
    }
    if (ref != 0 && refused_.count({from.name, ref}) != 0) {
        if (std::holds_alternative<CallEnd>(event)) {
            refused_.erase({from.name, ref});
        }
        return;  // a refused call's frames and signalling stop here
    }
    next_->onEvent(from, std::move(event));
}

}  // namespace iwf::gateway
