#pragma once
// The interfaces the engine declares and the adapters implement (docs/architecture.md: adapters
// never include each other; the engine never includes an adapter header).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/events.hpp"
#include "common/result.hpp"

namespace iwf {

enum class Side : std::uint8_t { Lmr = 0, Mc = 1 };

// Identifies a link instance (one per configured peer set / endpoint).
struct LinkId {
    Side side = Side::Lmr;
    std::string name;  // from config, e.g. "p25-net", "issi-rfss2", "dmr-master", "iwf1"
    bool operator==(const LinkId&) const = default;
};

// Receives events from links. Implemented by the engine (and by tests).
class EventSink {
  public:
    virtual ~EventSink() = default;
    virtual void onEvent(const LinkId& from, Event&& event) = 0;
};

// What a link shows an operator (GET /v1/links, /v1/peers; docs/operations.md): read-only,
// built on the link's own thread by Link::view(). Strings come from the config or from what
// the link validated (addresses, callsigns, IDs), never bytes a peer sent unchecked.
struct PeerView {
    std::string id;       // as the protocol names the peer: callsign, repeater ID, config name
    std::string address;  // "ip:port"
    std::string state;    // snake_case: linked, logged_in, login, configured, unlinking, ...
    std::optional<double> last_seen_s;  // seconds since it was last heard (none: never)
};

struct LinkView {
    std::string state = "running";  // snake_case: running, logged_in, connecting, stopped
    std::string local;              // "ip:port" the link listens on ("" if none)
    std::vector<PeerView> peers;
};

// One adapter endpoint. start() binds sockets and begins reporting to the sink; stop() closes
// them (in-progress calls end with EndReason::LinkDown); deliver() asks the link to act on its
// side (originate a call, send a frame, grant a floor, ...). deliver() never throws; it returns
// an Error whose reason names why the event could not be carried.
//
// Drain (SIGTERM; docs/security.md "Restart, reload and drain"), in this order:
//   1. beginDrain(): from now on the link takes no new call or request from its peers (a SIP
//      link answers 503 Service Unavailable to new out-of-dialog requests; a link without a
//      refusal of its own lets the daemon refuse: a CallSetup reported during a drain is
//      answered with CallEnd{Refused, "draining"} through deliver()). Calls in progress go on,
//      in-dialog requests and deliver() keep working. Default: nothing to do at the link.
//   2. the daemon waits until no call has a transmission in progress (calls in hang time do
//      not count) or the drain deadline has passed;
//   3. stop(): the link tells every peer it is going (MC: BYE per call; DMR HBP: MSTCL to
//      logged-in repeaters, RPTCL to a master; P25 records: unlink) and closes its sockets.
class Link {
  public:
    virtual ~Link() = default;
    virtual const LinkId& id() const = 0;
    virtual Status start(EventSink& sink) = 0;
    virtual void beginDrain() {}
    virtual void stop() = 0;
    virtual Status deliver(const Event& event) = 0;
    // The operator's view of the link and its peers. Called on the link's thread (the daemon
    // posts to a worker's io_context for the instances it runs). Default: running, no peers.
    virtual LinkView view() const { return {}; }
    // A short data message this link put in the durable store (common/message_store.hpp) and
    // had to answer "accepted, delivery later" (the MCData link's 202) was tried again by iwfd.
    // `r` says how: Sent (handed to the far side's link), Refused (for good: the store will
    // not try it again) or NotDelivered (it will be tried again, unless `last`: that was its
    // last try and the store marks it failed). Only for messages with an origin_note. Called
    // on the link's thread. Default: nothing to tell anyone.
    virtual void storedOutcome(const DataMessage& /*m*/, const DataReceipt& /*r*/, bool /*last*/) {}
};

class LmrLink : public Link {
  public:
    virtual LmrFamily family() const = 0;
    // True if the protocol has floor signalling (P25 ISSI: PTT request/grant/deny). The MMDVM
    // P25 records and DMR HBP protocols have none: the engine does not deliver floor events to
    // such links (a refused radio is simply not forwarded).
    virtual bool signalsFloor() const { return false; }
};

class McLink : public Link {
  public:
    // What the link carries toward the MC system: MCPTT calls (CallSetup, floor, voice) and/or
    // MCData (short data, interworking security data). When the keymap names no MC link for a
    // group or user, the engine takes the first MC link that carries what it has to send.
    virtual bool carriesCalls() const { return true; }
    virtual bool carriesData() const { return false; }
};

}  // namespace iwf
