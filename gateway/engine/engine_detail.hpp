#pragma once
// Helpers shared by the engine's source files (engine*.cpp); not part of the engine's API.

#include <array>
#include <string_view>
#include <variant>

#include "gateway/engine/engine.hpp"

namespace iwf::gateway::engine::detail {

constexpr std::size_t stateIndex(CallKind k, CallState s) {
    return static_cast<std::size_t>(k) * 4 + static_cast<std::size_t>(s);
}

template <typename T>
const T* as(const Address& a) {
    return std::get_if<T>(&a);
}

inline bool hasAddress(const Address& a) {
    return !std::holds_alternative<std::monostate>(a);
}

inline std::string_view sideName(Side s) {
    return s == Side::Lmr ? "lmr" : "mc";
}

inline std::string_view floorGateName(int g) {
    static constexpr std::array<std::string_view, 5> kNames{"none", "pending", "queued", "granted",
                                                            "refused"};
    return kNames[static_cast<std::size_t>(g)];
}

}  // namespace iwf::gateway::engine::detail

namespace iwf::gateway::engine {

// Logs through the engine's rate limiter: `fn(suppressed)` runs when a warning may be logged.
template <typename Fn>
void Engine::warn(Fn&& fn) {
    std::uint64_t suppressed = 0;
    if (warn_limiter_.allow(std::chrono::steady_clock::now(), suppressed)) {
        fn(suppressed);
    }
}

}  // namespace iwf::gateway::engine
