#pragma once
// The interfaces the engine declares and the adapters implement (docs/architecture.md: adapters
// never include each other; the engine never includes an adapter header).

#include <string>
#include <string_view>

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

// One adapter endpoint. start() binds sockets and begins reporting to the sink; stop() closes
// them (in-progress calls end with EndReason::LinkDown); deliver() asks the link to act on its
// side (originate a call, send a frame, grant a floor, ...). deliver() never throws; it returns
// an Error whose reason names why the event could not be carried.
class Link {
  public:
    virtual ~Link() = default;
    virtual const LinkId& id() const = 0;
    virtual Status start(EventSink& sink) = 0;
    virtual void stop() = 0;
    virtual Status deliver(const Event& event) = 0;
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
