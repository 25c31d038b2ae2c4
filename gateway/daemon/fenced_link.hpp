#pragma once
// What the engine sees of a link when iwfd runs in a cluster (docs/ha.md): the link itself,
// except that deliver() refuses (and counts) every event while the Fence does not allow
// forwarding, so that an instance whose lease ran out or was taken over sends nothing toward
// a peer: no frame, no floor message, no call end (a BYE or an unlink from the old owner
// would reach peers that the new owner serves). Inbound events stop at the DrainGate.
//
// The engine only calls id(), deliver() and the family/floor/data queries; start(), stop()
// and the operator's view stay with the daemon, which holds the link itself.

#include "common/link.hpp"
#include "common/metrics.hpp"
#include "gateway/cluster/fence.hpp"

namespace iwf::gateway {

template <typename Base>
class FencedLinkBase : public Base {
  public:
    FencedLinkBase(Base& inner, const cluster::Fence& fence, metrics::Counter& refused)
        : inner_(inner), fence_(fence), refused_(refused) {}
    const LinkId& id() const override { return inner_.id(); }
    Status start(EventSink& sink) override { return inner_.start(sink); }
    void beginDrain() override { inner_.beginDrain(); }
    void stop() override { inner_.stop(); }
    Status deliver(const Event& e) override {
        if (!fence_.mayForward()) {
            refused_.inc();
            return Error{"fenced"};
        }
        return inner_.deliver(e);
    }
    LinkView view() const override { return inner_.view(); }
    void storedOutcome(const DataMessage& m, const DataReceipt& r, bool last) override {
        inner_.storedOutcome(m, r, last);
    }

  protected:
    Base& inner_;

  private:
    const cluster::Fence& fence_;
    metrics::Counter& refused_;
};

class FencedLmrLink final : public FencedLinkBase<LmrLink> {
  public:
    using FencedLinkBase::FencedLinkBase;
    LmrFamily family() const override { return inner_.family(); }
    bool signalsFloor() const override { return inner_.signalsFloor(); }
};

class FencedMcLink final : public FencedLinkBase<McLink> {
  public:
    using FencedLinkBase::FencedLinkBase;
    bool carriesCalls() const override { return inner_.carriesCalls(); }
    bool carriesData() const override { return inner_.carriesData(); }
};

}  // namespace iwf::gateway
