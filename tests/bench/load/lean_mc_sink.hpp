#pragma once
// A lean MC-side receiver for iwf_load's DMR --mc steps, in place of the harness MC system
// simulator when thousands of calls run (the simulator keeps every frame as a full McRxRecord
// in one growing vector and stamps frames when its io thread gets to them; at 2,500 DMR
// calls its pauses, not iwfd, set the p99: docs/perf.md). This sink does the minimum an MC
// system must do for iwfd's mcptt-iwf1 link and nothing else:
//  - SIP UAS on sip's Stack (UDP 127.0.0.1:0): answers each INVITE with 200 OK and an
//    SDP answer built by mc_adapters/mcptt (answerMedia / buildMcpttSdp) naming a voice and a
//    floor port of its own; BYE and other in-dialog requests get 200.
//  - Per call, one plain UDP voice socket with SO_TIMESTAMPNS in one epoll set, read by one
//    thread (recvmsg until empty per ready socket); each X-IWF-LMR RTP packet is decoded with
//    mc_adapters/rtp (RtpView, decodeLmrPayload) and kept as a small POD (stream, digest of
//    the opaque payload, superframe index, ALGID / key ID, kernel receive time) in a deque.
//    It decrypts nothing and never answers floor messages (LMR-homed groups: iwfd arbitrates).
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.hpp"

namespace iwf::bench {

struct LeanRx {
    std::uint32_t stream = 0;
    std::uint32_t digest = 0;  // FNV-1a of the frame payload (the opaque vocoder bytes)
    std::uint8_t index = 0;    // position in the superframe
    bool encrypted = false;
    std::uint16_t algid = 0;
    std::uint32_t key_id = 0;
    std::int64_t t_rx_ns = 0;  // kernel receive time, CLOCK_REALTIME
};

class LeanMcSink {
  public:
    LeanMcSink();
    ~LeanMcSink();
    LeanMcSink(const LeanMcSink&) = delete;
    LeanMcSink& operator=(const LeanMcSink&) = delete;

    Status start();  // SIP listener + io thread + receive thread
    void stop();     // joins both threads, closes sockets
    std::uint16_t sipPort() const { return sip_port_; }
    std::size_t callsReceived() const { return calls_.load(); }
    // Calls whose voice has started to arrive. A 200 OK can be lost in a full socket buffer
    // when thousands of calls start at once; the SIP stack retransmits it, and until iwfd has
    // it, iwfd holds the call's frames. Measuring starts once every call has media.
    std::size_t callsWithMedia() const { return with_media_.load(); }
    // Frames that did not decode (not RTP / not X-IWF-LMR) and calls whose group was not
    // "sip:load-<i>@...".
    std::uint64_t undecodable() const { return undecodable_.load(); }
    std::uint64_t unknownGroups() const { return unknown_groups_.load(); }
    // After stop(): every frame received.
    const std::deque<LeanRx>& records() const { return records_; }
    // Threads of this sink (to set their scheduling).
    std::vector<std::thread::native_handle_type> threads();

    struct Impl;

  private:
    void receiveLoop();

    std::unique_ptr<Impl> impl_;
    std::uint16_t sip_port_ = 0;
    std::atomic<std::size_t> calls_{0};
    std::atomic<std::size_t> with_media_{0};
    std::vector<std::uint8_t> seen_;  // receive thread: stream has had a frame
    std::atomic<std::uint64_t> undecodable_{0};
    std::atomic<std::uint64_t> unknown_groups_{0};
    std::atomic<bool> stop_{false};
    int epfd_ = -1;
    std::thread rx_thread_;
    std::deque<LeanRx> records_;  // receive thread only until stop()
};

}  // namespace iwf::bench
