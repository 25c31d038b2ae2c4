#pragma once
// SendGate: whether this process may send anything to a peer right now. iwfd in a cluster
// (docs/ha.md "Never two owners") hands its lease's Fence to the links as their gate: while it
// is closed (standby, fenced, or past the local deadline after a freeze) a link's protocol
// stack sends nothing at all - no request, no retransmission, no response - so that the
// peers of the new owner never hear the old one. open() is asked before each message leaves;
// it must be cheap and callable on any thread. No gate (a null pointer) means always open.

namespace iwf {

class SendGate {
  public:
    virtual ~SendGate() = default;
    virtual bool open() const = 0;
};

}  // namespace iwf
