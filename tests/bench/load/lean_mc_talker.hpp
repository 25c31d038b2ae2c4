#pragma once
// The MC side of iwf_load's MC -> LMR steps (--mc-talk): N MC talkers, one per stream, each in
// its own group call, talking to LMR through iwfd (or through the bare relay in the same socket
// shape, for the baseline).
//
//  - LeanMcTalker: a SIP UAC on sip's Stack (UDP 127.0.0.1:0, iwfd's mcptt-iwf1 peer). Per
//    stream i it opens a voice and a floor socket and INVITEs iwfd to sip:load-i@iwf.example
//    with an implicit floor request (mcptt-info + SDP offer built by mc_adapters/mcptt, as the
//    harness MC system does in harness/sim/mc_sip.cpp originate()). The 200 OK's SDP answer
//    names iwfd's voice and floor ports (and mc_granted when the implicit request was granted
//    at once); Floor Granted messages arriving later on the floor socket are counted.
//  - McTalkSource: stream i's X-IWF-LMR RTP packets (mc_adapters/rtp: buildRtp +
//    encodeLmrPayload), one per 20 ms P25 IMBE frame (18 per superframe, ALGID 0x84, the
//    stream's key ID, an MI advanced by the P25 LFSR per superframe) or per 60 ms DMR burst
//    (6 per superframe, ALGID 5, the stream's key ID and IV). The vocoder bytes are random
//    (stand-in ciphertext); build() returns their FNV-1a digest, which the LMR-side receiver
//    compares with what came out (bit-exact check).
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::bench {

struct TalkerCall {
    int voice_fd = -1;  // our RTP socket (the SDP offer's audio port)
    int floor_fd = -1;  // our floor socket
    std::uint16_t iwf_voice_port = 0;
    std::uint16_t iwf_floor_port = 0;
    bool answered = false;
    bool granted_in_answer = false;  // mc_granted in the SDP answer
    int status = 0;                  // final SIP status (0 = none yet)
};

class LeanMcTalker {
  public:
    LeanMcTalker();
    ~LeanMcTalker();
    LeanMcTalker(const LeanMcTalker&) = delete;
    LeanMcTalker& operator=(const LeanMcTalker&) = delete;

    Status start();  // SIP listener + io thread
    void stop();     // joins the io thread, closes every socket
    std::uint16_t sipPort() const { return sip_port_; }
    // INVITEs for streams 0..n-1 to iwfd's SIP port, at most `window` without a final answer
    // (iwfd's mcptt-iwf1 link refuses more than max_setups_per_peer, default 32, at once).
    void originate(unsigned n, std::uint16_t iwf_sip_port, unsigned window = 16);
    // Calls with a 2xx so far (thread-safe).
    std::size_t answered() const;
    std::size_t refused() const;
    // After every call was answered: the calls (index = stream).
    std::vector<TalkerCall> calls() const;
    // Reads the floor sockets (non-blocking) and counts Floor Granted messages (TS 24.380
    // 8.2.2.2 "Floor Granted"; subtype 1) per call; returns the calls granted so far, either by
    // mc_granted in the SDP answer or by a Floor Granted message.
    std::size_t drainFloorGrants();
    std::vector<std::thread::native_handle_type> threads();

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
    std::uint16_t sip_port_ = 0;
};

enum class TalkFamily : std::uint8_t { P25, Dmr };

class McTalkSource {
  public:
    McTalkSource(TalkFamily f, std::uint32_t stream_index);
    // RTP packet of frame `seq` into out; returns the digest of its vocoder bytes.
    std::uint32_t build(std::uint64_t seq, Bytes& out);
    static std::int64_t intervalNs(TalkFamily f) {
        return f == TalkFamily::P25 ? 20'000'000 : 60'000'000;
    }
    static unsigned period(TalkFamily f) { return f == TalkFamily::P25 ? 18 : 6; }

  private:
    TalkFamily f_;
    std::uint32_t i_;
    std::uint64_t rng_;
    std::uint64_t mi64_ = 0;  // P25: MI of superframe `mi_sf_`
    std::uint64_t mi_sf_ = 0;
    std::uint64_t mi0_ = 0;
};

}  // namespace iwf::bench
