#pragma once
// The MC side of a harness run: the simulated MC system that iwfd's mcptt-iwf1 link talks to
// as its `peer` (the controlling MCPTT function for MC-homed groups, the MC system the IWF
// calls), with the scenario's MC clients behind it.
//
//  - SIP UA on sip's Stack (UDP, 127.0.0.1, port 0): answers iwfd's INVITE with an
//    SDP answer built by mc_adapters/mcptt (answerMedia / buildMcpttSdp) naming its own RTP
//    and floor ports; originates INVITEs to iwfd (a late joiner's chat INVITE, an MC client
//    that talks with no call up); BYE both ways.
//  - Per call, an rtp::VoiceEndpoint (X-IWF-LMR, docs/protocols/iwf-1-media.md) and an
//    rtp::FloorEndpoint (TS 24.380 floor messages, mapped with mc_adapters/floor/floor_events).
//  - Fan-out to the clients is the MC system's job: every frame received on a call is handed
//    to each client attached to it; each client decrypts it independently with its own keys
//    (harness/crypto: P25Decryptor / DmrDecryptor) and keeps its own records.
//  - Floor: as controlling function of MC-homed groups it grants a request when the floor is
//    idle (SDP mc_granted for an implicit request, else Floor Granted) and denies it (cause 1)
//    when an MC client holds it with equal or higher priority; it acknowledges every floor
//    message that asks for it. As a participant of IWF-homed groups its clients send Floor
//    Request / Floor Release and record Granted / Deny / Queued / Taken / Idle / Revoke.
//  - A client that talks encrypts its canaries with harness/crypto and its own CryptoSync
//    (ALGID / key ID / MI, the MI advanced by the LFSR per superframe) and sends one
//    X-IWF-LMR frame per 20 ms (P25) or 60 ms (DMR).
//
// Thread model: everything runs on the simulator's own io_context thread; the public calls are
// thread-safe (posted to that thread, results under a mutex) so the runner's step threads may
// overlap.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/asio.hpp"
#include "common/metrics.hpp"
#include "common/voice.hpp"
#include "harness/opacity/scanner.hpp"
#include "harness/scenario/scenario.hpp"
#include "mc_adapters/security/mikey_sakke.hpp"

namespace iwf::harness {

// One frame as one client saw it.
struct McRxRecord {
    std::string client;
    std::uint64_t call = 0;  // simulator call number
    VoiceFrame frame;        // as received: ciphertext and CryptoSync, bit-exact
    bool decrypted = false;
    std::string error;  // why it could not be decrypted ("no_mi", "unknown_key", ...)
    Bytes plaintext;    // what the client's decryptor produced
    std::int64_t rx_ns = 0;
};

// Something the MC side saw or did (floor messages, SIP outcomes), for the timeline.
struct McEvent {
    std::int64_t t_ns = 0;
    std::uint64_t call = 0;
    std::string who;   // client name, or "mc-system"
    std::string what;  // "invite", "floor_granted", "floor_deny", "bye", ...
    std::string detail;
};

// A short data message or key-management (interworking-data) message the MC side received
// from iwfd's mcdata-iwf2 link.
struct McDataRecord {
    bool kmm = false;
    std::string from;  // sender identity as iwfd stated it
    std::string to;    // target MCData / MCPTT ID
    Bytes payload;     // exactly the bytes of the message body's payload
    std::int64_t rx_ns = 0;
};

struct McTalkRequest {
    std::string client;
    std::string group;
    bool encrypted = true;
    const ScenarioKey* key = nullptr;  // the client's key for this transmission
    std::uint32_t superframes = 3;
    std::string priority = "normal";
    std::uint8_t tag = 0;
    std::uint16_t nonce = 0;
};

struct McTalkResult {
    std::string outcome;  // granted | denied | queued | preempted | no answer
    std::string reason;   // deny reason phrase
    std::size_t sent = 0;
    // What was sent, per (superframe, index): plaintext, and the CryptoSync of the frame.
    std::map<std::pair<std::uint32_t, std::uint8_t>, Bytes> plaintext;
    std::map<std::pair<std::uint32_t, std::uint8_t>, CryptoSync> crypto;
    std::map<std::pair<std::uint32_t, std::uint8_t>, std::int64_t> tx_ns;
    std::vector<std::string> events;
};

struct McSystemConfig {
    std::vector<ScenarioClient> clients;
    std::vector<ScenarioKey> keys;
    std::vector<ScenarioGroup> groups;
    std::set<std::string> late_clients;  // attached only once they join()
    std::string iwf_address = "127.0.0.1";
    std::uint16_t iwf_sip_port = 0;     // iwfd's mcptt-iwf1 listener (set before calls)
    std::uint16_t iwf_mcdata_port = 0;  // iwfd's mcdata-iwf2 listener (0 = none)
    std::string server_psi = "sip:mcptt-cf@mc.example";
    std::uint8_t payload_type = 96;
    // TS 33.180 media protection: the GMKs (oldest first) of the groups whose calls are SRTP,
    // as the GMS gave them to every member. A call of such a group is keyed when its media
    // opens (33.180 §7.4.2: CS-ID 4, MKI GMK-ID || GUK-ID; profile per the key) and its SDP
    // says RTP/SAVP; every client of the MC system shares the MC system's SRTP termination.
    std::map<std::string, std::vector<mc::security::DistributedKey>> gmks;
    // The CSK (33.180 §9.4.6, CS-ID 6) of floor control on protected calls: SRTCP on the
    // floor endpoint of every call keyed under a GMK. None: floor control stays plain.
    std::optional<mc::security::DistributedKey> csk;
};

class McSystem {
  public:
    explicit McSystem(McSystemConfig cfg);
    ~McSystem();
    McSystem(const McSystem&) = delete;
    McSystem& operator=(const McSystem&) = delete;

    Status start();  // SIP on 127.0.0.1:0 and the io thread
    void stop();     // BYE nothing; closes sockets, joins the thread
    std::uint16_t sipPort() const { return sip_port_; }
    void setIwfSipPort(std::uint16_t port);

    // A late client joins the group's call: chat INVITE to iwfd with its own RTP/floor ports.
    // Returns "joined" or the failure.
    std::string join(const std::string& client, const std::string& group,
                     std::chrono::milliseconds timeout);
    // An MC client talks in `group` (blocking: floor request, frames paced in real time,
    // release). Frames are also fanned out to the other attached clients of the MC system.
    McTalkResult talk(const McTalkRequest& req);

    // An MC client sends an SDS (MESSAGE with mcdata-signalling + mcdata-payload, one binary
    // payload) to `target` (an MC ID) through iwfd's mcdata-iwf2 link. Returns "ok" or why not.
    std::string sendSds(const std::string& client, const std::string& target, const Bytes& data,
                        std::chrono::milliseconds timeout);
    std::vector<McDataRecord> dataRecords() const;
    // The GMS sends iwfd's mcptt-iwf1 link a group document (24.481, with GKTPs: TS 33.180
    // §5.7) in an out-of-dialog MESSAGE from `from` to `to`. Returns "ok" or the refusal.
    std::string sendGroupDocument(const std::string& from, const std::string& to,
                                  const std::string& document, std::chrono::milliseconds timeout);
    void setIwfMcdataPort(std::uint16_t port);

    // The GMKs of `group` from now on (a GMK rollover: the last one sends, the older ones
    // still decrypt); calls of the group that are up are rekeyed. Empty: no protection for
    // calls set up from now on.
    Status setGroupKeys(const std::string& group, std::vector<mc::security::DistributedKey> gmks);
    // The CSK for the floor control of calls keyed from now on (McSystemConfig::csk).
    Status setFloorKey(mc::security::DistributedKey csk);
    // SRTP packets the MC side refused (authentication, unknown MKI, replay), all calls.
    std::uint64_t srtpRefused() const;

    std::vector<McRxRecord> records() const;
    std::vector<McEvent> events() const;
    // Calls iwfd set up toward the MC system so far (INVITEs received) and ended (BYE).
    std::size_t callsReceived() const;
    // What an MC system of another vendor would refuse in the requests iwfd sent so far
    // (harness/conformance/mc_conformance.hpp): schema-invalid bodies, service headers that
    // differ from the specifications' strings. Empty when everything conforms.
    std::vector<std::string> conformanceViolations() const;
    // Encrypted content this side sent: the opacity scan looks for it in iwfd.
    void addNeedles(NeedleSet& set) const;
    // Forgets the frames and events received and the needles so far (`iwf-harness demo`
    // between rounds, once they are checked and scanned for: memory stays bounded).
    void forget();
    // The UDP ports this simulator uses (SIP, RTP, floor), for the capture filter.
    std::vector<std::uint16_t> ports() const;

    struct Impl;

  private:
    std::unique_ptr<Impl> impl_;
    std::uint16_t sip_port_ = 0;
};

}  // namespace iwf::harness
