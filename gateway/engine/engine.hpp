#pragma once
// The call, floor and E2EE-policy engine (docs/architecture.md, docs/engine.md).
//
// Engine implements iwf::EventSink: links report what arrived on their side, the engine
// decides and asks the other side's link to act (Link::deliver). It owns the calls; each call
// has legs, one per (link, CallRef) it spans; refs the engine chooses have bit 63 set
// (kEngineRefBit) so they never collide with refs an adapter chose on the same link.
//
// Threading: one thread. onEvent(), timer callbacks and callsJson() must run on the same
// executor (iwfd: its io_context). Metrics are atomics and may be read from anywhere.
//
// Data plane: no exceptions, no allocation per voice frame (a leg's pending buffer is
// reserved once per transmission), nothing logged per frame above trace.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/assert.hpp"
#include "common/clock.hpp"
#include "common/events.hpp"
#include "common/fsm.hpp"
#include "common/link.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "gateway/engine/directory.hpp"
#include "gateway/engine/engine_tables.hpp"
#include "gateway/engine/latency_histogram.hpp"
#include "gateway/engine/policy.hpp"
#include "gateway/engine/refusal_log.hpp"
#include "gateway/engine/stable_list.hpp"
#include "gateway/engine/timer_service.hpp"

namespace iwf::gateway::engine {

inline constexpr CallRef kEngineRefBit = CallRef{1} << 63;

// TS 24.380 Floor Deny / Floor Revoke cause values used by the engine.
inline constexpr std::uint16_t kDenyAnotherHasPermission = 1;
inline constexpr std::uint16_t kDenyQueueFull = 7;
inline constexpr std::uint16_t kDenyOther = 255;  // policy refusals (reason phrase says why)
inline constexpr std::uint16_t kRevokeBurstTooLong = 2;
inline constexpr std::uint16_t kRevokePreempted = 4;
inline constexpr std::uint16_t kRevokeOther = 255;

struct EngineOptions {
    // Frames held per leg while its floor or policy decision is pending (about 2.5 s of P25).
    std::size_t pending_frames_max = 128;
    // Floor requests queued per call at most (beyond: Floor Deny cause 7).
    std::size_t queue_max = 8;
    // LMR has no imminent-peril call type: the LMR side of such a call gets this priority
    // (TS 23.283 10.6.3.1 leaves it to the IWF).
    CallPriority imminent_peril_on_lmr = CallPriority::Emergency;
    // iwfd `workers: N`: the shard this engine is (0 .. N-1). Shards > 0 label their gauges
    // {shard="k"} so that /metrics shows every shard (sum by kind, state for the total).
    unsigned shard = 0;
};

struct EngineDeps {
    metrics::Registry& metrics;
    const Clock& clock;
    TimerService& timers;
    const Directory& directory;
    TimerTable& timer_values;  // the engine registers its defaults; config overrides stay
};

class Engine final : public EventSink {
  public:
    explicit Engine(EngineDeps deps, EngineOptions opts = {});
    ~Engine() override;
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Links the engine may deliver to (every link whose events reach onEvent()).
    void addLink(Link& link);

    void onEvent(const LinkId& from, Event&& event) override;

    // GET /v1/calls: calls, their legs, floor and E2EE state, engine totals, latency.
    nlohmann::json callsJson() const;
    std::size_t callCount() const;
    // Calls with a transmission in progress or being set up (neither in hang time nor ended):
    // what a drain waits for. Counted without building callsJson().
    std::size_t transmittingCallCount() const;
    // POST /v1/calls/{id}/end: ends the call named `id` (callsJson "id") on every leg, each
    // link told with CallEnd{Cancelled, detail}. False if no such call is in progress.
    bool endCallById(std::string_view id, std::string_view detail);
    // Events this engine received (all kinds; one thread, read on it or after it stopped).
    std::uint64_t eventsIn() const { return events_in_; }
    const LatencyHistogram& latency() const { return latency_; }
    // GET /v1/refusals: the last refusals of this engine (on its thread, like callsJson()).
    const RefusalLog& refusalLog() const { return refusal_log_; }
    // Approximate bytes held for one call with `legs` legs and nothing pending (benchmarks).
    static std::size_t callStateBytes(std::size_t legs);

  private:
    struct LinkEntry {
        Link* link = nullptr;
        LinkId id;
        std::optional<LmrFamily> family;
        bool carries_calls = true;  // MC links: McLink::carriesCalls() / carriesData()
        bool carries_data = true;
        bool signals_floor = true;  // LMR links: LmrLink::signalsFloor()
        metrics::Counter* floor_unsignalled = nullptr;
        metrics::Counter* frames_in = nullptr;
        metrics::Counter* frames_out = nullptr;
        metrics::Counter* lost = nullptr;
        metrics::Counter* out_of_order = nullptr;
        metrics::Counter* late_wait_frames = nullptr;
        // Counters by reason, resolved on first use: the per-frame path never looks a counter
        // up by name (a handful of reasons per link, searched linearly).
        std::vector<std::pair<std::string, metrics::Counter*>> dropped;
        std::vector<std::pair<std::string, metrics::Counter*>> refusals;
        std::vector<std::pair<std::string, metrics::Counter*>> deliver_failures;
    };
    using ReasonCounters = std::vector<std::pair<std::string, metrics::Counter*>>;

    struct Leg {
        bool alive = false;
        std::uint16_t link = 0;
        CallRef ref = 0;
        Side side = Side::Lmr;
        bool engine_ref = false;  // the engine originated this leg
        Talker party;             // who is at this leg, as its own side names them
        // Inbound stream (this leg as a talker): its two gates (engine_tables.hpp leg_floor,
        // leg_policy), changed only by setFloor() / setPolicy(). Frames flow when both are open.
        FloorGate floor = FloorGate::None;
        PolicyGate policy = PolicyGate::Unknown;
        bool policy_first = false;  // LMR transmission already on air: policy before floor
        bool flowing = false;
        CallPriority priority = CallPriority::Normal;
        bool queueable = false;
        CryptoSync crypto;  // as read from the stream
        std::string_view refuse_reason;
        metrics::Counter* refused_frames = nullptr;
        std::vector<VoiceFrame> pending;
        bool seq_init = false;
        std::uint32_t next_seq = 0;
        // Outbound (this leg as a receiver): late entry.
        bool synced = true;
        bool late = false;
        std::uint64_t wait_frames = 0;
        std::int64_t wait_start_ns = 0;
        std::uint64_t frames_in = 0;
        std::uint64_t frames_out = 0;
        std::uint64_t lost = 0;
        // Times the E2EE synchronisation of this leg's stream was established again within a
        // call: as a receiver, a late entry synced on a fresh MI; as a talker, a change of
        // ALGID / key ID / MI state mid-transmission (GET /v1/calls "mi_resyncs").
        std::uint32_t mi_resyncs = 0;
    };

    struct Call {
        std::uint64_t id = 0;
        std::string name;
        std::shared_ptr<const DirectorySnapshot> snap;
        std::optional<GroupInfo> group;
        bool private_e2ee_allowed = true;
        CallKind kind = CallKind::Group;
        CallPriority priority = CallPriority::Normal;
        bool broadcast = false;
        bool floor_control = true;
        bool local_floor = true;  // the IWF arbitrates (floor_fcs) or the MC side (floor_part)
        Fsm<CallState, CallEvent> fsm;
        Fsm<FcsState, FcsEvent> fcs;
        Fsm<PartState, PartEvent> part;
        // Two legs inline (an interworked call's LMR and MC leg), more as heap nodes. Adding a
        // leg never moves the others: a Leg& taken before addLeg() stays valid.
        StableList<Leg, 2> legs;
        int holder = -1;     // leg whose stream is forwarded (floor holder)
        int preemptor = -1;  // floor_fcs: waits in G_pending_floor_revoke
        int requester = -1;  // floor_part: the LMR leg the IWF asked the MC side for
        int lmr_out = -1;    // group call: the LMR leg the engine originated for an MC talker
        // Floor queue. A vector: an empty std::deque allocates ~576 B (idle-call memory).
        std::vector<int> queue;
        bool encrypted_marked = false;  // E2EE state of the last transmission that flowed
        bool state_known = false;
        TimerService::Id call_timer = 0;
        // The hang timer was given one more period because a transmission joined during hang
        // time and had not started when it ran out (onCallTimer); cleared when talk starts.
        bool hang_extended = false;
        TimerService::Id floor_timer = 0;
        std::int64_t started_ns = 0;
        std::uint64_t transmissions = 0;
        std::uint64_t frames = 0;

        Call(std::uint64_t id_, std::string name_, FsmStats& cs, FsmStats& fs, FsmStats& ps);

        // Leg `i` of this call. The indexes a call keeps (holder, preemptor, requester,
        // lmr_out, queue, the call-ref map) must name one of its legs: anything else would
        // read another object's memory, so it is checked always (IWF_ASSERT).
        Leg& leg(int i) {
            IWF_ASSERT(i >= 0 && static_cast<std::size_t>(i) < legs.size(),
                       "a leg index names a leg of its call");
            return legs[static_cast<std::size_t>(i)];
        }
        const Leg& leg(int i) const {
            IWF_ASSERT(i >= 0 && static_cast<std::size_t>(i) < legs.size(),
                       "a leg index names a leg of its call");
            return legs[static_cast<std::size_t>(i)];
        }
    };

    struct RefKey {
        std::uint16_t link;
        CallRef ref;
        bool operator==(const RefKey&) const = default;
    };
    struct RefKeyHash {
        std::size_t operator()(const RefKey& k) const {
            return std::hash<std::uint64_t>()(k.ref * 0x9E3779B97F4A7C15ull ^ k.link);
        }
    };
    struct LegRef {
        Call* call;
        int leg;
    };

    // Dispatch.
    void onCallSetup(std::uint16_t link, CallSetup&& s);
    void onCallEnd(std::uint16_t link, const CallEnd& e);
    void onVoice(std::uint16_t link, const Voice& v);
    void onFloorRequest(std::uint16_t link, const FloorRequest& r);
    void onFloorGranted(std::uint16_t link, const FloorGranted& g);
    void onFloorTaken(std::uint16_t link, const FloorTaken& t);
    void onFloorDeny(std::uint16_t link, const FloorDeny& d);
    void onFloorRelease(std::uint16_t link, const FloorRelease& r);
    void onFloorIdle(std::uint16_t link, const FloorIdle& i);
    void onFloorRevoke(std::uint16_t link, const FloorRevoke& r);
    void onFloorQueued(std::uint16_t link, const FloorQueued& q);
    void onData(std::uint16_t link, DataMessage&& d);
    void onSecurity(std::uint16_t link, SecurityMessage&& m);

    void lmrGroupSetup(std::uint16_t link, CallSetup&& s);
    void mcGroupSetup(std::uint16_t link, CallSetup&& s);
    void privateSetup(std::uint16_t link, CallSetup&& s);
    void modifyCall(Call& c, int leg, const CallSetup& s);

    // Calls and legs.
    Call& newCall(std::shared_ptr<const DirectorySnapshot> snap, CallKind kind);
    Call& openGroupCall(std::shared_ptr<const DirectorySnapshot> snap, GroupInfo group,
                        const CallSetup& s, std::string_view origin);
    int addLeg(Call& c, std::uint16_t link, CallRef ref, Side side, bool engine_ref);
    void killLeg(Call& c, int leg);
    std::optional<LegRef> find(std::uint16_t link, CallRef ref);
    Call* groupCall(const McGroupId& g);
    int aliveLegs(const Call& c, Side side) const;
    int firstLeg(const Call& c, Side side) const;
    void endCall(Call& c, EndReason reason, std::string_view detail);
    void reapEnded();

    // Floor and policy.
    void evaluatePolicy(Call& c, int leg, const CryptoSync& crypto);
    // The E2EE policy (policy.hpp) of the call for a stream: its group's, or the private rule.
    PolicyVerdict verdict(const Call& c, const CryptoSync& stream) const;
    void afterPolicyAllowed(Call& c, int leg);
    void requestFloor(Call& c, int leg);
    void arbitrate(Call& c, int leg);
    void grant(Call& c, int leg);
    void preempt(Call& c, int leg);
    void tryFlow(Call& c, int leg);
    void releaseFloor(Call& c, int leg, bool notify_mc);
    void afterFloorFree(Call& c);
    // Refuses the transmission of `leg`: the one place that does the bookkeeping (gate, frames
    // held counted as refused, refusal counter, floor event, notice to the leg's link, queue,
    // floor_part request, floor holder). `phrase` is what the leg's link is told (default: the
    // reason; the MC side's own phrase, even empty, when the engine relays its Deny or Revoke).
    void refuse(Call& c, int leg, std::string_view reason, std::uint16_t cause, bool revoke,
                std::optional<std::string_view> phrase = std::nullopt);
    // The only writers of a leg's gates: one table step each (FsmTable::step, counted and
    // logged). The callers' own checks make every step legal; a refused one means the engine's
    // machines disagree about a call, so it is an IWF_ASSERT.
    void setFloor(Call& c, int leg, FloorGate next, FloorGateEvent e);
    void setPolicy(Call& c, int leg, PolicyGate next, PolicyGateEvent e);
    // Back to `unknown` for the next transmission (nothing to do if it is already).
    void resetPolicy(Call& c, int leg);
    void removeFromQueue(Call& c, int leg);
    int ensureMcLeg(Call& c, int talker_leg);
    int originateLmrOut(Call& c, int mc_leg);
    void talkStarted(Call& c);
    void markCrypto(Call& c, const CryptoSync& crypto);

    // Media.
    void forward(Call& c, int src, const VoiceFrame& frame);
    void deliverFrame(Call& c, int src, int dst, const VoiceFrame& frame);
    void trackSeq(Leg& leg, LinkEntry& le, const VoiceFrame& f);

    // Timers.
    void armCallTimer(Call& c);
    void armFloorTimer(Call& c, std::string_view name);
    void onCallTimer(std::uint64_t id);
    // A live leg whose transmission is still being decided (floor pending or queued).
    bool waitingToTalk(const Call& c) const;
    void onFloorTimer(std::uint64_t id);

    // Identities.
    Talker toMc(const Call& c, const Talker& lmr) const;
    Talker toLmr(const Call& c, const Talker& mc) const;
    CallPriority lmrPriority(CallPriority p) const;
    enum class Carries : std::uint8_t { Calls, Data };
    // The link called `name` on `side`; if `name` is empty (or that link does not carry `what`),
    // the first link of the side (LMR: of `family`) that carries `what`. -1 if none.
    int linkByName(const std::string& name, Side side, std::optional<LmrFamily> family,
                   Carries what = Carries::Calls) const;

    // Output.
    void send(std::uint16_t link, const Event& e);
    Status sendStatus(std::uint16_t link, const Event& e);  // send(), saying what happened
    // Counts a refusal (iwf_engine_refusals_total{link, reason}) and keeps it in the refusal
    // log with what `who` says of it (call, group, source, target, cause; time, link and
    // reason are filled here).
    void countRefusal(std::uint16_t link, std::string_view reason, RefusalRecord who);
    void dropEvent(std::uint16_t link, std::string_view reason);
    void floorEvent(std::string_view what);
    metrics::Counter& reasonCounter(ReasonCounters& cache, std::string_view name,
                                    std::string_view help, const std::string& link,
                                    std::string_view reason, std::string_view key = "reason");
    std::optional<std::uint16_t> linkIndex(const LinkId& from) const;
    void callStateChanged(const Call& c, CallState from, CallState to);
    template <typename Fn>
    void warn(Fn&& fn);

    EngineDeps deps_;
    EngineOptions opts_;
    FsmStats call_stats_;
    FsmStats fcs_stats_;
    FsmStats part_stats_;
    FsmStats floor_gate_stats_;
    FsmStats policy_gate_stats_;
    std::vector<LinkEntry> links_;
    struct NameHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>()(s);
        }
    };
    std::unordered_map<std::string, std::uint16_t, NameHash, std::equal_to<>> link_index_;
    // Links report with their own id() object: its address finds the link without hashing
    // the name (the name map is the fallback for any other LinkId).
    std::unordered_map<const LinkId*, std::uint16_t> link_by_id_;
    ReasonCounters floor_events_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Call>> calls_;
    std::unordered_map<RefKey, LegRef, RefKeyHash> refs_;
    // MC group URI -> call id. The key views the call's own c.group->mc_group.uri (no copy):
    // the entry is erased in endCall(), before the call (and the string) is freed.
    std::map<std::string_view, std::uint64_t, std::less<>> group_calls_;
    RefusalLog refusal_log_;
    std::vector<std::uint64_t> reap_;  // ended calls to erase
    std::uint64_t next_call_ = 1;
    std::uint64_t events_in_ = 0;
    bool delivering_ = false;  // inside a Link::deliver() call (send())
    CallRef next_ref_ = 1;
    LatencyHistogram latency_;
    // iwf_engine_frame_latency_seconds{path}: the same added latency as a Prometheus histogram
    // per path, indexed by latencyPath(source side, destination side).
    std::array<metrics::Histogram*, 4> path_latency_{};
    log::RateLimiter warn_limiter_;
    std::shared_ptr<spdlog::logger> log_;
    // calls by kind and state (gauges)
    std::array<std::atomic<std::int64_t>, 8> call_states_{};
    metrics::Counter& late_entries_;
    metrics::Counter& late_synced_;
    metrics::Counter& crypto_changes_;
};

}  // namespace iwf::gateway::engine
