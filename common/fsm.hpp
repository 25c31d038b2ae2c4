#pragma once
// A small table-driven state-machine helper, after Osmocom's osmo_fsm: each state lists the
// events it accepts, the states it may go to and its timer. One transition() checks the
// table, logs "fsm=… id=… old -> new (event)" and counts; anything the table does not allow
// is refused and counted, never performed.
//
//   enum class FloorState { Idle, Taken, Releasing };
//   enum class FloorEvent { Request, Release, Expire };
//   static const FsmTable<FloorState, FloorEvent> kTable{
//       "floor",
//       {{FloorState::Idle, "idle", events({FloorEvent::Request}), states({FloorState::Taken}),
//       ""},
//        {FloorState::Taken, "taken", events({FloorEvent::Release, FloorEvent::Expire}),
//         states({FloorState::Idle}), "T1"}},
//       {"request", "release", "expire"},
//       {{"T1", std::chrono::seconds(30)}}};
//   Fsm fsm(kTable, FloorState::Idle, "call-7", stats);
//   fsm.transition(FloorState::Taken, FloorEvent::Request);   // ok
//   fsm.transition(FloorState::Taken, FloorEvent::Request);   // refused: not allowed from taken

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"

namespace iwf {

using FsmMask = std::uint64_t;

template <typename E>
constexpr FsmMask fsmBit(E e) {
    return FsmMask{1} << static_cast<unsigned>(e);
}

template <typename E>
constexpr FsmMask fsmMask(std::initializer_list<E> list) {
    FsmMask m = 0;
    for (E e : list) {
        m |= fsmBit(e);
    }
    return m;
}

struct FsmTimerDefault {
    std::string name;  // named like the 3GPP/Osmocom timers ("T101", "hang")
    std::chrono::milliseconds value;
};

// Timer values: defaults from the tables, overridable from config ("timers:" section).
class TimerTable {
  public:
    void setDefault(const std::string& name, std::chrono::milliseconds v) {
        if (!defaults_.count(name)) {
            defaults_[name] = v;
        }
    }
    void override(const std::string& name, std::chrono::milliseconds v) { overrides_[name] = v; }
    bool known(const std::string& name) const { return defaults_.count(name) > 0; }
    std::chrono::milliseconds get(const std::string& name) const {
        auto o = overrides_.find(name);
        if (o != overrides_.end()) {
            return o->second;
        }
        auto d = defaults_.find(name);
        if (d == defaults_.end()) {
            throw std::out_of_range("unknown timer " + name);
        }
        return d->second;
    }
    const std::map<std::string, std::chrono::milliseconds>& defaults() const { return defaults_; }

  private:
    std::map<std::string, std::chrono::milliseconds> defaults_;
    std::map<std::string, std::chrono::milliseconds> overrides_;
};

// Counters shared by all instances of one table: transitions done, events refused (not
// accepted in the current state), transitions refused (not allowed by the table).
struct FsmStats {
    FsmStats(metrics::Registry& reg, const std::string& fsm)
        : transitions(reg.counter("iwf_fsm_transitions_total", "State transitions performed",
                                  {{"fsm", fsm}}))
        , refused_events(reg.counter("iwf_fsm_refused_events_total",
                                     "Events refused: not accepted in the current state",
                                     {{"fsm", fsm}}))
        , refused_transitions(reg.counter("iwf_fsm_refused_transitions_total",
                                          "Transitions refused: not allowed by the table",
                                          {{"fsm", fsm}})) {}
    metrics::Counter& transitions;
    metrics::Counter& refused_events;
    metrics::Counter& refused_transitions;
};

template <typename State, typename Event>
struct FsmStateDef {
    State state;
    std::string_view name;
    FsmMask in_events;       // events accepted in this state
    FsmMask out_states;      // states this one may transition to
    std::string_view timer;  // "" = no timer in this state
};

template <typename State, typename Event>
class FsmTable {
  public:
    FsmTable(std::string name, std::vector<FsmStateDef<State, Event>> states,
             std::vector<std::string_view> event_names, std::vector<FsmTimerDefault> timers = {})
        : name_(std::move(name)), event_names_(std::move(event_names)), timers_(std::move(timers)) {
        for (const auto& s : states) {
            auto idx = static_cast<std::size_t>(s.state);
            if (idx >= 64) {
                throw std::invalid_argument("fsm " + name_ + ": state index >= 64");
            }
            if (states_.size() <= idx) {
                states_.resize(idx + 1);
                present_.resize(idx + 1, false);
            }
            states_[idx] = s;
            present_[idx] = true;
        }
        for (std::size_t i = 0; i < present_.size(); ++i) {
            if (!present_[i]) {
                throw std::invalid_argument("fsm " + name_ + ": state " + std::to_string(i) +
                                            " missing from the table");
            }
            std::string_view t = states_[i].timer;
            if (!t.empty()) {
                bool found = false;
                for (const auto& d : timers_) {
                    found = found || d.name == t;
                }
                if (!found) {
                    throw std::invalid_argument("fsm " + name_ + ": state " +
                                                std::string(states_[i].name) +
                                                " names undeclared timer " + std::string(t));
                }
            }
        }
    }

    const std::string& name() const { return name_; }
    const FsmStateDef<State, Event>& def(State s) const {
        return states_.at(static_cast<std::size_t>(s));
    }
    std::string_view stateName(State s) const { return def(s).name; }
    std::string_view eventName(Event e) const {
        auto i = static_cast<std::size_t>(e);
        return i < event_names_.size() ? event_names_[i] : std::string_view("?");
    }
    bool accepts(State s, Event e) const { return (def(s).in_events & fsmBit(e)) != 0; }
    bool allows(State from, State to) const { return (def(from).out_states & fsmBit(to)) != 0; }
    const std::vector<FsmTimerDefault>& timers() const { return timers_; }

    // Checks that `e` is accepted in `state`; counts and logs a refusal. `id` names the
    // instance in logs ("call-7", "call-7/leg1").
    Status accept(State state, Event e, FsmStats& stats, std::string_view id) const;
    // Moves `state` to `next` because of `e`, if `e` is accepted in `state` and `next` is
    // allowed from it: the one check, log and count of every machine built on this table
    // (Fsm below, or an object that keeps only its state, such as an engine leg's gates).
    Status step(State& state, State next, Event e, FsmStats& stats, std::string_view id) const;

    // Registers this table's timer defaults (config overrides stay).
    void registerTimers(TimerTable& t) const {
        for (const auto& d : timers_) {
            t.setDefault(d.name, d.value);
        }
    }

    // Graphviz rendering of the allowed transitions (docs).
    std::string toDot() const {
        std::string s = "digraph " + name_ + " {\n";
        for (std::size_t i = 0; i < states_.size(); ++i) {
            for (std::size_t j = 0; j < states_.size(); ++j) {
                if (states_[i].out_states & (FsmMask{1} << j)) {
                    s += "  " + std::string(states_[i].name) + " -> " +
                         std::string(states_[j].name) + ";\n";
                }
            }
        }
        return s + "}\n";
    }

  private:
    std::string name_;
    std::vector<FsmStateDef<State, Event>> states_;
    std::vector<bool> present_;
    std::vector<std::string_view> event_names_;
    std::vector<FsmTimerDefault> timers_;
};

template <typename State, typename Event>
class Fsm {
  public:
    Fsm(const FsmTable<State, Event>& table, State initial, std::string id, FsmStats& stats)
        : table_(&table), state_(initial), id_(std::move(id)), stats_(&stats) {}

    State state() const { return state_; }
    std::string_view stateName() const { return table_->stateName(state_); }
    const std::string& id() const { return id_; }
    bool accepts(Event e) const { return table_->accepts(state_, e); }

    // Checks that `e` is accepted in the current state (no state change); counts a refusal.
    Status accept(Event e) { return table_->accept(state_, e, *stats_, id_); }

    // Moves to `next` because of `e`, if the table accepts `e` here and allows `next`.
    Status transition(State next, Event e) { return table_->step(state_, next, e, *stats_, id_); }

    // The timer of the current state, if it has one: its name (value from a TimerTable).
    std::string_view timerName() const { return table_->def(state_).timer; }

  private:
    const FsmTable<State, Event>* table_;
    State state_;
    std::string id_;
    FsmStats* stats_;
};

template <typename State, typename Event>
Status FsmTable<State, Event>::accept(State state, Event e, FsmStats& stats,
                                      std::string_view id) const {
    if (!accepts(state, e)) {
        stats.refused_events.inc();
        log::get("fsm")->warn("fsm={} id={} refused=event_not_accepted state={} event={}", name_,
                              id, stateName(state), eventName(e));
        return Error{"event_not_accepted", static_cast<std::int64_t>(e)};
    }
    return {};
}

template <typename State, typename Event>
Status FsmTable<State, Event>::step(State& state, State next, Event e, FsmStats& stats,
                                    std::string_view id) const {
    IWF_TRY_STATUS(accept(state, e, stats, id));
    if (!allows(state, next)) {
        stats.refused_transitions.inc();
        log::get("fsm")->warn(
            "fsm={} id={} refused=transition_not_allowed state={} target={} "
            "event={}",
            name_, id, stateName(state), stateName(next), eventName(e));
        return Error{"transition_not_allowed", static_cast<std::int64_t>(next)};
    }
    const State old = state;
    state = next;
    stats.transitions.inc();
    log::get("fsm")->debug("fsm={} id={} {} -> {} ({})", name_, id, stateName(old), stateName(next),
                           eventName(e));
    return {};
}

}  // namespace iwf
