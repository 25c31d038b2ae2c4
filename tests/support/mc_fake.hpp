#pragma once
// The MC system that the end-to-end tests of the real iwfd put on the far side of IWF-1, and
// the two small helpers every one of them needs. Header-only; the tests that use it link
// iwf_mc, iwf_sip and iwf_lmr.
//
// One copy for the admin, drain and failover tests and the LMR hostile suite, which used to
// carry their own McSystem, pump() and recordBytes() (tests whose MC system does more - holds
// its answers, records the offer - keep their own, built on answerMcpttInvite()).

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/bytes.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "common/voice.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "sip/stack.hpp"
#include "tests/support/io_wait.hpp"
#include "tests/support/mc_answer.hpp"

namespace iwf::test {

// Runs `io` until `done()` holds or `timeout` passes (tests/support/io_wait.hpp).
inline bool pumpIo(asio::io_context& io, const std::function<bool()>& done,
                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return runIoUntil(io, done, timeout);
}

// The wire bytes of a P25 network record, as a radio sends them.
template <typename R>
Bytes p25RecordBytes(const R& r) {
    InlineBytes<lmr::p25::kMaxRecordLen> b;
    EXPECT_TRUE(lmr::p25::encodeRecord(r, b).ok());
    return Bytes(b.view().begin(), b.view().end());
}

// The MC system: a SIP stack on 127.0.0.1 that answers the IWF's INVITE with its own RTP and
// floor ports (answerMcpttInvite; floor queueing offered when `queueing`) and every other
// request with 200 OK; it keeps the voice frames that reach it and the floor
// messages, and records the methods it received (BYE, ...).
struct CountingMcSystem {
    CountingMcSystem(asio::io_context& io, metrics::Registry& reg, bool queueing = false)
        : voice(io, reg, SteadyClock::instance(), "mc-sim",
                mc::rtp::VoiceEndpointConfig{96, 99, 7, 0})
        , floor(io, reg, "mc-sim") {
        sip::StackConfig sc;
        sc.name = "mc-sim";
        sc.listeners = {{sip::Protocol::Udp, "127.0.0.1", 0, {}}};
        stack = std::make_unique<sip::Stack>(io, reg, sc);
        const auto lo = asio::ip::make_address("127.0.0.1");
        EXPECT_TRUE(voice.open({lo, 0}).ok());
        EXPECT_TRUE(floor.open({lo, 0}).ok());
        voice.onFrame(
            [this](VoiceFrame&& f, const mc::rtp::RtpView&) { frames.push_back(std::move(f)); });
        floor.onMessage([this](const mc::floor::FloorMessage& m, const mc::rtp::Udp::endpoint&) {
            floor_msgs.push_back(m);
        });
        stack->onRequest(
            [this, queueing](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
                methods.push_back(req.method());
                if (req.method() != "INVITE") {
                    (void)stack->respond(tx, sip::makeResponse(req, 200, {}));
                    return;
                }
                if (answerMcpttInvite(*stack, tx, req, voice, floor, queueing)) {
                    invited = true;
                }
            });
        EXPECT_TRUE(stack->start().ok());
    }
    // How many requests with method `m` arrived.
    std::size_t count(const std::string& m) const {
        return static_cast<std::size_t>(std::count(methods.begin(), methods.end(), m));
    }
    // How many floor messages of type `t` arrived.
    std::size_t floorCount(mc::floor::MessageType t) const {
        return static_cast<std::size_t>(
            std::count_if(floor_msgs.begin(), floor_msgs.end(),
                          [t](const mc::floor::FloorMessage& m) { return m.type == t; }));
    }
    std::uint16_t sipPort() const { return stack->port(sip::Protocol::Udp); }
    std::unique_ptr<sip::Stack> stack;
    mc::rtp::VoiceEndpoint voice;
    mc::rtp::FloorEndpoint floor;
    std::vector<std::string> methods;
    bool invited = false;
    std::vector<VoiceFrame> frames;                   // voice frames received, in order
    std::vector<mc::floor::FloorMessage> floor_msgs;  // floor messages received, in order
};

}  // namespace iwf::test
