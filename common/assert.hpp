#pragma once
// Assertions, after Envoy's written policy (docs/architecture.md "Assert policy"):
//
//   assert(cond)            <cassert>, debug builds only. Cheap self-checks of a function's own
//                           arithmetic; nothing whose failure would harm a call in production.
//   IWF_ASSERT(cond, what)  ALWAYS on, release builds included. An invariant of the data plane
//                           whose failure means a call is already corrupt and continuing would
//                           carry it further: a leg index outside its call, a call-ref map entry
//                           that points at another leg, a state-machine step that the code's
//                           own checks proved legal being refused (two machines disagree), an
//                           index that views freed memory. On failure: one line naming the
//                           condition, `what`, file and line on stderr and in the log, then
//                           abort() (a core dump; systemd restarts iwfd). Never for input
//                           validation: what a peer sends is counted and dropped (Result<T>).
//   "bug"                   a condition the code does not expect but can contain without harm
//                           to other state: counted and logged, never fatal. The state
//                           machines do this for every event their table does not accept
//                           (iwf_fsm_refused_events_total / _transitions_total{fsm}).
//
// The condition is evaluated exactly once; keep it free of side effects all the same.
// IWF_ASSERT_OK(expr, what) is the one exception: `expr` is a step that must succeed (a
// Status or Result, e.g. a state-machine transition the caller proved legal); it runs once and
// its failure is fatal like IWF_ASSERT's.

namespace iwf::detail {

[[noreturn]] void assertFailed(const char* condition, const char* what, const char* file,
                               int line) noexcept;

}  // namespace iwf::detail

#define IWF_ASSERT(cond, what)                                              \
    do {                                                                    \
        if (!static_cast<bool>(cond)) [[unlikely]] {                        \
            ::iwf::detail::assertFailed(#cond, (what), __FILE__, __LINE__); \
        }                                                                   \
    } while (false)

#define IWF_ASSERT_OK(expr, what)                                           \
    do {                                                                    \
        if (!(expr).ok()) [[unlikely]] {                                    \
            ::iwf::detail::assertFailed(#expr, (what), __FILE__, __LINE__); \
        }                                                                   \
    } while (false)
