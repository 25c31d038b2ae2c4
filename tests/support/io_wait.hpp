#pragma once
// Waiting on an io_context in a test: run its handlers one at a time until a condition holds,
// with a deadline (tests wait on conditions, never on fixed sleeps).

#include <chrono>
#include <functional>

#include "common/asio.hpp"

namespace iwf::test {

// Runs `io` one handler at a time (at most 10 ms per turn) until `done()` holds (true) or
// `limit` passes (false).
inline bool runIoUntil(asio::io_context& io, const std::function<bool()>& done,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        io.restart();
        io.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
}

}  // namespace iwf::test
