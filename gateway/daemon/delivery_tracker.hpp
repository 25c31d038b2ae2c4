#pragma once
// What the engine sees of a link when iwfd has a durable message store: the link itself,
// plus "delivered" in the store when the link took a short data or KMM message
// (common/message_store.hpp). A link that hears back from its peer (the MCData link: the
// MESSAGE's 2xx) marks its deliveries itself; for the others (LMR links: UDP toward radios,
// no end-to-end confirmation) deliver() succeeding is the delivery.
//
// The engine only calls id(), deliver() and the family/floor/data queries; start() and stop()
// stay with the daemon, which holds the link itself.

#include "common/link.hpp"
#include "common/message_store.hpp"

namespace iwf::gateway {

class TrackedLmrLink final : public LmrLink {
  public:
    TrackedLmrLink(LmrLink& inner, MessageStore& store) : inner_(inner), store_(store) {}
    const LinkId& id() const override { return inner_.id(); }
    Status start(EventSink& sink) override { return inner_.start(sink); }
    void beginDrain() override { inner_.beginDrain(); }
    void stop() override { inner_.stop(); }
    Status deliver(const Event& e) override {
        Status st = inner_.deliver(e);
        if (st.ok()) {
            if (std::string id = storedMessageId(e); !id.empty()) {
                (void)store_.delivered(id);
            }
        }
        return st;
    }
    LmrFamily family() const override { return inner_.family(); }
    bool signalsFloor() const override { return inner_.signalsFloor(); }

  private:
    LmrLink& inner_;
    MessageStore& store_;
};

}  // namespace iwf::gateway
