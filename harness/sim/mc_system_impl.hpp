#pragma once
// The inside of the simulated MC system (mc_system.hpp), split by role:
//   mc_system.cpp  the public calls (start, stop, join, sendSds, records)
//   mc_sip.cpp     SIP: iwfd's INVITE / BYE / MESSAGE, INVITEs the simulator originates
//   mc_floor.cpp   floor control: TS 24.380 messages, the controlling function's arbitration
//   mc_media.cpp   per-call RTP and floor endpoints, fan-out to the clients and decryption
//   mc_talk.cpp    an MC client talking (McSystem::talk): floor, encrypted frames, release
//
// Everything here runs on the simulator's io thread, except what is under `mu` (records,
// events, data, talk decisions), which the runner's threads read.

#include <future>
#include <random>

#include "harness/crypto/dmr_crypto.hpp"
#include "harness/crypto/p25_crypto.hpp"
#include "harness/sim/dmr_radio.hpp"
#include "harness/sim/mc_system.hpp"
#include "harness/sim/p25_radio.hpp"
#include "mc_adapters/floor/floor_message.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "sip/dialog.hpp"
#include "sip/stack.hpp"

namespace iwf::harness {

namespace mcsim {

std::int64_t nowNs();
std::string angle(const std::string& uri);
// 2 emergency, 1 imminent peril, 0 normal.
int priorityRank(const std::string& p);
int priorityRank(CallPriority p);
const char* floorName(mc::floor::MessageType t);

}  // namespace mcsim

struct McSystem::Impl {
    // What iwfd sent, kept for the conformance check at the end of the run (checking here
    // would spawn xmllint on the io thread and disturb the scenario's timing). Bounded.
    static constexpr std::size_t kMaxKeptRequests = 256;
    std::vector<std::string> kept_requests;  // under mu
    void keepForConformance(const sip::Message& req);

    struct ClientState {
        const ScenarioClient* cfg = nullptr;
        P25Decryptor p25;
        DmrDecryptor dmr;
        bool joined = true;
    };

    // A talk in progress (the runner's thread waits on it).
    struct Talk {
        std::string client;
        std::string mc_id;
        int priority = 0;
        std::string outcome;  // set once decided
        std::string reason;
        bool revoked = false;
        bool granted = false;
        bool was_queued = false;  // the first decision was Floor Queue Position Info
        std::int64_t queued_ns = 0;
    };

    struct Call {
        std::uint64_t id = 0;
        std::string group;
        bool home_mc = false;
        bool outgoing = false;  // we sent the INVITE
        bool established = false;
        bool ended = false;
        std::optional<sip::Dialog> dialog;
        sip::Message invite;
        std::unique_ptr<mc::rtp::VoiceEndpoint> voice;
        std::unique_ptr<mc::rtp::FloorEndpoint> floor;
        std::set<std::string> clients;  // attached clients
        std::string only_client;        // a late joiner's own call
        // Floor as the controlling function (MC-homed groups).
        std::string holder;  // "" idle, "iwf", or a client name
        int holder_priority = 0;
        std::shared_ptr<Talk> talk;  // a client of this call talking / asking
        // A floor decision that arrived before the talk was attached (e.g. Floor Granted
        // racing the 200 OK of the INVITE that carried the implicit request).
        std::string early_outcome;
        std::string early_reason;
        std::uint32_t floor_ssrc = 0;
    };

    explicit Impl(McSystemConfig c) : cfg(std::move(c)) {}

    McSystemConfig cfg;
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;
    metrics::Registry metrics;
    std::unique_ptr<sip::Stack> stack;
    std::map<std::uint64_t, std::unique_ptr<Call>> calls;
    std::map<sip::DialogId, std::uint64_t> by_dialog;
    std::map<std::string, ClientState> clients;
    std::uint64_t next_call = 1;
    std::mt19937 rng{std::random_device{}()};

    mutable std::mutex mu;  // records, events, talk state
    std::condition_variable cv;
    std::vector<McRxRecord> records;
    std::vector<McDataRecord> data;
    std::vector<McEvent> events;
    std::size_t calls_received = 0;
    std::set<std::uint16_t> ports;
    std::vector<std::pair<std::string, Bytes>> needles;

    const ScenarioGroup* group(const std::string& g) const;
    const ScenarioClient* client(const std::string& name) const;
    sip::Peer iwfPeer() const;
    void event(std::uint64_t call, std::string who, std::string what, std::string detail = {});

    // mc_media.cpp
    Status openMedia(Call& c);
    Status protect(Call& c);
    void setRemotes(Call& c, const mc::mcptt::McpttMedia& remote);
    mc::mcptt::McpttMedia ourMedia(const Call& c) const;
    // Each attached client decrypts the frame with its own keys.
    void deliverToClients(std::uint64_t call_id, const std::set<std::string>& to,
                          const VoiceFrame& f, std::int64_t rx);
    void onFrame(std::uint64_t id, const VoiceFrame& f);
    // An MC talker's frame: to iwfd on the call, and to the other clients of the group (the
    // MC system's own fan-out, which never crosses iwfd).
    void sendTalkFrame(std::uint64_t cid, const VoiceFrame& f, bool marker,
                       const std::string& talker, const std::string& grp);

    // mc_floor.cpp
    void sendFloor(Call& c, mc::floor::FloorMessage m);
    void sendFloorEvent(Call& c, const Event& e);
    // Records the floor decision for the call's talk (or keeps it until a talk is attached).
    void decide(Call& c, const std::string& outcome, const std::string& reason);
    void onFloor(std::uint64_t id, const mc::floor::FloorMessage& m);
    // Controlling function of an MC-homed group: the IWF (an LMR talker) asks for the floor.
    void arbitrateIwfRequest(Call& c, int prio, const Talker& who);
    // A client of call `c` asks for the floor (decided here for an MC-homed group, a Floor
    // Request to the IWF otherwise).
    void clientRequestsFloor(Call& c, const std::shared_ptr<Talk>& talk, bool home_mc);
    // The talk is over: Floor Idle (MC-homed, we held it for the client) or Floor Release.
    void clientReleasesFloor(std::uint64_t cid, const std::shared_ptr<Talk>& talk, bool home_mc);

    // mc_sip.cpp
    void onMessage(sip::ServerTxId tx, const sip::Message& req);
    void onRequest(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from);
    void endCall(Call& c, const std::string& why);
    void reject(sip::ServerTxId tx, const sip::Message& req, int status, const std::string& why);
    void onInvite(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from);
    // Originates an INVITE to iwfd for `group` on behalf of `client`: a late join (chat) or
    // a talk with no call up (prearranged + implicit floor request). Runs on the io thread;
    // `done` is called with the call id (0 on failure) and a reason.
    void originate(const std::string& client, const std::string& grp, bool chat,
                   bool implicit_request, int prio,
                   std::function<void(std::uint64_t, std::string)> done);
    void bye(Call& c);
    // A call of `group` we can use for `client` (not a late joiner's private leg of another).
    Call* callFor(const std::string& grp, const std::string& client);
    // Every joined client that is a member of `grp`.
    void attachMembers(Call& c, const std::string& grp);

    // mc_talk.cpp (McSystem::talk, in steps)
    // Floor request on a call that is up, or a new INVITE: the call id, 0 when refused,
    // nullopt when iwfd did not answer within 5 s.
    std::optional<std::uint64_t> askForFloor(const McTalkRequest& req,
                                             const std::shared_ptr<Talk>& talk,
                                             const ScenarioGroup& g);
    // Waits (3 s) for granted / denied / queued-then-decided and fills res.outcome / reason.
    void awaitDecision(const std::shared_ptr<Talk>& talk, std::uint64_t cid, McTalkResult& res);
    // Encrypted frames paced in real time until done or revoked (then outcome "preempted").
    void sendFrames(const McTalkRequest& req, const std::shared_ptr<Talk>& talk,
                    const ScenarioGroup& g, std::uint64_t cid, McTalkResult& res);

    template <typename F>
    auto onIo(F&& f) -> decltype(f()) {
        std::packaged_task<decltype(f())()> task(std::forward<F>(f));
        auto fut = task.get_future();
        asio::post(io, [&task] { task(); });
        return fut.get();
    }
};

}  // namespace iwf::harness
