#pragma once
// The IWF-1 link ("mcptt-iwf1"): the IWF toward the MC system as a peer MC system
// (TS 23.283 §7, TS 29.379 roles). MCPTT call control over the SIP core:
//
//  - group calls both ways: pre-arranged INVITE to/from the controlling function, chat
//    (session-type "chat" = join), broadcast indication; late join = a chat INVITE to an
//    ongoing group (the MC side decides; the IWF just joins);
//  - emergency / imminent peril: INVITE with emergency-ind / imminentperil-ind and
//    Resource-Priority; upgrade and cancel by re-INVITE (outgoing) and re-INVITE or UPDATE
//    (incoming);
//  - private calls with and without floor control, with the LMR Encryption mode/Algorithm
//    (encryption.hpp);
//  - BYE / CANCEL; affiliation on behalf of LMR users (PUBLISH, both models of 23.283
//    §10.1.2.2);
//  - media: every call owns a rtp::VoiceEndpoint (X-IWF-LMR RTP, docs/protocols/iwf-1-media.md)
//    and, with floor control, a rtp::FloorEndpoint (TS 24.380 over the m=application port),
//    bound on media.address (ephemeral ports, or the next free even/odd pair of
//    media.port_range); the SDP carries the sockets' real ports; the remote ports come from
//    the peer's SDP. They close when the call ends.
//  - events: CallSetup / CallEnd / Voice / floor events to the EventSink; deliver() takes
//    CallSetup (originate, or change priority of a call it knows), CallEnd (BYE or CANCEL),
//    Voice (RTP to the call's peer) and floor events (floor messages to the call's peer).
//    Until an outgoing call is answered (the peer's ports unknown) voice and floor events are
//    held in order (at most kMaxPendingMedia, overflow counted) and sent on the 200 OK.
//
// Config (mc_links[] entry), see docs/protocols/iwf-1.md:
//   name, type: mcptt-iwf1
//   psi: sip:iwf@iwf.example               # the IWF's PSI (P-Asserted-Identity, From)
//   listen: [{transport: udp|tcp|tls, address, port, cert, key, ca, mutual}]
//   peer: {transport, address, port}       # the MC system's SIP entry point
//   server_uri: sip:cf@mc.example          # Request-URI of calls the IWF originates
//   media: {address, port_range: {first, last}, encoding, clock_rate, payload_type,
//           floor_priority}                # port_range absent = ephemeral ports
//   e2ee_groups: [sip:g1@mc.example]       # groups whose audio is the LMR codec end to end
//   resource_priority: {emergency: mcpttp.15, imminent_peril: mcpttp.13}
//   affiliation: {model: group|per-user, groups: [...], users: [...], expires: 3600}
//   timers: {t1, t2, t4}
//   max_outstanding_invites: 64            # pacing of originated calls (0 = no limit)
//   (listen[].receive_buffer: SO_RCVBUF bytes of a UDP listener, 0 = kernel default)
//   peers: [{name, address, port, tls_name, domains, media}]   # required: who may send SIP,
//                                          # assert which identities, take which media
//                                          # (mc_adapters/peers/peer_table.hpp)
//   limits: {max_calls: 1000, max_calls_per_peer: 1000, max_setups_per_peer: 32}
//   session_timer: {enabled: true, expires: 1800s, min_se: 90s}   # RFC 4028 (session_timer.hpp)
//   media_protection: {default: off, private_calls: off,          # TS 33.180 SRTP / SRTCP
//                      groups: [{group: sip:g1@mc.example, mode: required}],
//                      key_file: /etc/iwfd/mc-keys,               # 0600; security/key_file.hpp
//                      replay_window: 300s,                       # RFC 3830 §5.4
//                      mikey: {kms_url: https://kms.example, ca_file: /etc/iwfd/kms-ca.pem,
//                              user_uri, kms_uri, token_file, timeout, retry, refresh_ahead}}
//
// Media protection (TS 33.180 §7.4, Annex K; docs/protocols/mc-security.md §12): per call
// off (plain RTP / RTCP, the default), optional (SRTP and floor SRTCP when the link holds the
// call's key, else plain) or required (SRTP with the key; without one the call's media is
// refused both ways and counted as srtp_no_key: never plain RTP). The keys reach the link
// through setGroupKey() (GMK), setPrivateCallKey() (PCK) and setFloorKey() (CSK), each already
// received and verified by security::receiveIMessage.
//
// Peers (docs/security.md "MC links"): SIP from any other source is dropped before it is
// parsed (sip::Stack::admitOnly); a call's caller identity must lie in its peer's domains
// (403); its SDP address in its peer's media realm (488); in-dialog requests and ACKs come
// from the dialog's peer (403); beyond limits a new call gets 503 (link full, or the peer's
// unacknowledged setups) or 486 (the peer's share); every refusal is counted in
// iwf_mc_peer_refused_total{link, reason}. Media sockets are opened only after these checks.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/config_node.hpp"
#include "common/link.hpp"
#include "common/link_registry.hpp"
#include "common/metrics.hpp"
#include "mc_adapters/floor/floor_events.hpp"
#include "mc_adapters/mcptt/mcptt_info.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/mcptt/session_timer.hpp"
#include "mc_adapters/peers/peer_table.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "mc_adapters/security/key_file.hpp"
#include "mc_adapters/security/kms_client.hpp"
#include "mc_adapters/security/media_keys.hpp"
#include "mc_adapters/security/mikey_replay.hpp"
#include "sip/dialog.hpp"
#include "sip/multipart.hpp"
#include "sip/stack.hpp"

namespace iwf::mc::mcptt {

inline constexpr std::string_view kMcpttIcsi = "urn:urn-7:3gpp-service.ims.icsi.mcptt";

enum class AffiliationModel : std::uint8_t { Group = 0, PerUser = 1 };

// Media ports of the calls: first == 0 = ephemeral (the kernel picks); otherwise audio on an
// even port P of [first, last] and floor control on P + 1 (first even, last >= first + 1).
struct MediaPortRange {
    std::uint16_t first = 0;
    std::uint16_t last = 0;
};

// Voice frames and floor events held per call until the peer's media ports are known.
inline constexpr std::size_t kMaxPendingMedia = 256;

inline constexpr std::size_t kDefaultMaxOutstandingInvites = 64;

// Caps on calls (issue #21: 3,000 unacknowledged INVITEs opened 6,000 sockets). Each call holds
// two UDP sockets (audio, floor): 1,000 calls = 2,000 descriptors, within the LimitNOFILE of
// configs/iwfd.service; an operator raising max_calls raises that too.
struct McpttLimits {
    std::size_t max_calls = 1000;           // calls on the link, both directions
    std::size_t max_calls_per_peer = 1000;  // calls one peer may hold (default: max_calls)
    // INVITEs from one peer answered 200 and not yet ACKed (a peer that never ACKs holds at
    // most this many calls' sockets until Timer H ends them).
    std::size_t max_setups_per_peer = 32;
};

// TS 33.180 media protection of a call (media_protection in the config).
enum class MediaProtection : std::uint8_t { Off = 0, Optional = 1, Required = 2 };
std::string_view toString(MediaProtection m);

struct MediaProtectionConfig {
    MediaProtection group_default = MediaProtection::Off;
    MediaProtection private_calls = MediaProtection::Off;
    std::vector<std::pair<std::string, MediaProtection>> groups;  // group URI -> mode
    // key_file: keys provisioned in a 0600 file (security/key_file.hpp), read with the config;
    // installed when the link starts. Empty = none (keys come through the API only).
    std::string key_file;
    security::ProvisionedKeys keys;
    // mikey: the IWF's MIKEY-SAKKE identity from a KMS (33.180 Annex D). When set, the link
    // starts a security::KmsClient for kms.user_uri and takes each identity it fetches
    // (setMikeyIdentity); the keys live in memory only. Absent = no KMS (identity through the
    // API only, as before).
    bool kms_enabled = false;
    security::KmsClientConfig kms;  // url, kms_uri, user_uri, ca_file, token (from token_file)
    std::string token_file;
    // RFC 3830 §5.4: allowed clock skew of a received I_MESSAGE's timestamp, and how long an
    // accepted one is remembered against replay (replay_window).
    security::ReplayGuardConfig replay;
    MediaProtection forGroup(std::string_view group) const;
};

struct McpttLinkConfig {
    std::string name = "iwf1";
    std::string psi = "sip:iwf@iwf.invalid";
    std::vector<sip::ListenerConfig> listen;
    sip::Peer peer;
    std::string server_uri;
    McpttMedia media;  // address, encoding, clock_rate, payload_type (ports: per call)
    MediaPortRange port_range;
    int floor_priority = 5;
    std::vector<std::string> e2ee_groups;
    std::string rp_emergency = "mcpttp.15";
    std::string rp_imminent_peril = "mcpttp.13";
    AffiliationModel affiliation_model = AffiliationModel::Group;
    std::vector<std::string> affiliation_groups;
    std::vector<std::string> affiliation_users;  // LMR users' MCPTT IDs (per-user model)
    std::uint32_t affiliation_expires = 3600;
    sip::TimerTable timers;
    // Pacing of calls the IWF originates: at most this many initial INVITEs without a final
    // response at a time; further calls wait in order (0 = no limit). A burst of LMR call
    // starts then reaches the MC system as a bounded window, not thousands of INVITEs in one
    // millisecond (docs/perf/call-setup.md).
    std::size_t max_outstanding_invites = kDefaultMaxOutstandingInvites;
    // Who may talk to the link; empty = nobody (the config parser requires at least one).
    std::vector<peers::PeerConfig> peers;
    McpttLimits limits;
    SessionTimerConfig session_timer;
    MediaProtectionConfig media_protection;
    // Not from the config file: iwfd's send gate for the link's SIP stack (LinkContext).
    const SendGate* send_gate = nullptr;
};

McpttLinkConfig parseMcpttLinkConfig(const ConfigNode& node);  // throws ConfigError

class McpttLink final : public McLink {
  public:
    McpttLink(asio::io_context& io, metrics::Registry& metrics, McpttLinkConfig cfg,
              const Clock& clock = SteadyClock::instance());
    ~McpttLink() override;

    const LinkId& id() const override { return id_; }
    Status start(EventSink& sink) override;
    // Drain: new out-of-dialog requests get 503; dialogs in progress go on (link.hpp "Drain").
    void beginDrain() override { draining_ = true; }
    void stop() override;
    Status deliver(const Event& event) override;

    sip::Stack& stack() { return *stack_; }
    // Sends an affiliation (or de-affiliation) PUBLISH for `user` to `group`.
    void affiliate(const std::string& user, const std::string& group, bool affiliated);

    std::size_t activeCalls() const { return calls_.size(); }
    // The configured peers and when each was last heard (call on the link's thread).
    LinkView view() const override;
    // Refusals by the peer checks (tests; also iwf_mc_peer_refused_total).
    std::uint64_t refusals(peers::Refusal why) const { return refusals_.count(why); }
    // Local RTP / floor ports of a call (0 if it has none), for tests and /v1 views.
    std::uint16_t audioPort(CallRef call) const;
    std::uint16_t floorPort(CallRef call) const;

    // TS 33.180 keys the IWF holds as an MC client (issue #20), each already received and
    // verified (security::receiveIMessage; receiveGroupKey and the a=key-mgmt of a private
    // call's SDP do that here). Errors: "wrong_key_purpose", SrtpSession's.
    // A GMK for `group` (§7.4.2): the group's calls from now on, and the calls going on
    // (rollover: the new key sends, the older ones still decrypt; kMaxKeysPerCall kept).
    Status setGroupKey(const std::string& group, const security::DistributedKey& gmk);
    // The CSK with the MC server (floor control SRTCP, CS-ID 6), for calls set up from now on.
    Status setFloorKey(const security::DistributedKey& csk);
    // The PCK of a private call (§7.4.1), from its INVITE's or our own I_MESSAGE.
    Status setPrivateCallKey(CallRef call, const security::DistributedKey& pck);
    // GMK-IDs of the keys the link holds for `group`, oldest first (tests, /v1 views).
    std::vector<std::uint32_t> groupKeyIds(std::string_view group) const;
    // Whether a call's media is SRTP (tests, /v1 views).
    bool mediaProtected(CallRef call) const;
    // The IWF's MIKEY-SAKKE identity (its URI, KMS certificate, current key set) and the KMSs
    // whose users it accepts I_MESSAGEs from (security::receiveIMessage). With it, a private
    // call's PCK travels in the SDP (a=key-mgmt:mikey, RFC 4567): an incoming offer's
    // I_MESSAGE is verified (ECCSI) and decrypted (SAKKE) before the call is answered, and
    // our own private calls carry a fresh PCK to the callee (§7.2, E.3).
    void setMikeyIdentity(security::MikeyIdentity me, security::KmsDirectory kms);
    // A GMK's I_MESSAGE for `group` from the GMS (§5.7, E.2): verified and decrypted with the
    // identity above, then installed (setGroupKey), or kept until its activation time (E.6)
    // and installed then. Errors: receiveIMessage's reasons, "mikey_no_identity",
    // "mikey_not_gmk"; each refusal is counted in iwf_mcptt_media_protection_total.
    // On the wire: a MESSAGE or NOTIFY from the MC system whose body is a group document with
    // GKTPs (TS 24.481, gktp.hpp) calls this for each GKTP addressed to the IWF's identity.
    Status receiveGroupKey(const std::string& group, ByteView i_message);

  private:
    struct Call;
    void onRequest(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from);
    void onNewInvite(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from);
    bool readInvite(sip::ServerTxId tx, const sip::Message& req, McpttInfo& info,
                    McpttMedia& offer);
    std::unique_ptr<Call> newIncomingCall(const sip::Message& req, const McpttInfo& info,
                                          const McpttMedia& offer);
    CallSetup setupOf(const Call& call, const McpttInfo& info) const;
    sip::Message answerInvite(const sip::Message& req, const std::string& tag, const Call& call,
                              const McpttMedia& answer, const sip::Peer& from,
                              const UasSessionAnswer& session);
    void onInDialog(Call& call, sip::ServerTxId tx, const sip::Message& req);
    void onTargetRefresh(Call& call, sip::ServerTxId tx, const sip::Message& req);
    CallPriority requestedPriority(const Call& call, const sip::Message& req, bool& bad_info) const;
    void onCancelled(sip::ServerTxId tx, const sip::Message& invite);
    void onAck(const sip::Message& ack, const sip::Peer& from);
    // Peer checks (mcptt_link_peers.cpp).
    bool admitSource(const sip::Peer& from);
    bool admitCall(int peer, sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from);
    bool admitMedia(int peer, const McpttMedia& remote, const asio::ip::address& sig);
    // Where the peer's media is: the SDP c= address, or `sig` if it gives none usable.
    static asio::ip::address mediaAddress(const McpttMedia& remote, const asio::ip::address& sig);
    void refuse(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from,
                peers::Refusal why, int status, std::string_view detail);
    void countSetup(Call& call, bool on);
    // Session timers (mcptt_link_session.cpp).
    void addSessionAnswer(sip::Message& ok, const UasSessionAnswer& a);
    void startSession(Call& call, std::chrono::seconds interval, bool we_refresh);
    void armSessionTimer(Call& call);
    void onSessionTimer(CallRef ref);
    void refreshSession(Call& call);
    void onRefreshAnswer(CallRef ref, const sip::Message& request, const sip::Message& rsp);
    void endDialog(CallRef ref, bool send_bye, std::string_view why);
    Status originate(const CallSetup& setup);
    void sendInvite(Call& call);
    bool retrySessionInterval(Call& c, const sip::Message& invite, const sip::Message& rsp);
    void inviteFinished();
    void pumpInvites();
    // Runs fn on a later executor turn, once however often it is asked for until then
    // (`posted` is the member flag that says it is pending); never after the link is gone.
    void postOnce(bool& posted, std::function<void()> fn);
    std::deque<CallRef>& queueFor(CallPriority p);
    bool unqueue(CallRef ref);
    void updateQueueDepth();
    Status changePriority(Call& call, CallPriority p);
    Status endCall(const CallEnd& end);
    sip::Message buildInvite(Call& call, const McpttInfo& info);
    void addServiceHeaders(sip::Message& m, CallPriority p) const;
    std::vector<sip::BodyPart> bodies(const Call& call, const McpttInfo& info) const;
    McpttMedia ourMedia(const Call& call) const;
    Status openMedia(Call& call);
    Status setRemoteMedia(Call& call, const McpttMedia& remote, const asio::ip::address& sig);
    void flushPending(Call& call);
    Status sendVoice(Call& call, const VoiceFrame& f);
    Status sendFloor(Call& call, const Event& e);
    void onFloorMessage(CallRef ref, const floor::FloorMessage& m);
    void dropMedia(std::string_view reason, std::uint64_t n = 1);
    void reject(sip::ServerTxId tx, const sip::Message& req, int status, std::string_view fault);
    void report(Event e);
    void forget(CallRef ref);
    void count(std::string_view what, std::string_view reason);
    bool isE2eeGroup(const std::string& group) const;
    // Media protection (mcptt_link_security.cpp).
    MediaProtection protectionOf(const Call& call) const;
    void installProvisionedKeys();
    void applyProtection(Call& call);
    Status keyMedia(Call& call, const security::CallKeying& media);
    Status keyFromOffer(Call& call, const McpttMedia& offer);
    Status makeOurPck(Call& call);
    std::uint64_t nowNtpSeconds() const;
    void armGroupKeyTimer();
    void onGroupKeyTransport(sip::ServerTxId tx, const sip::Message& req);
    void startKmsClient();
    void stopKmsClient();

    asio::io_context& io_;
    metrics::Registry& metrics_;
    McpttLinkConfig cfg_;
    const Clock& clock_;
    LinkId id_;
    std::unique_ptr<sip::Stack> stack_;
    EventSink* sink_ = nullptr;
    std::uint32_t port_cursor_ = 0;  // next pair of port_range to try
    std::mt19937_64 rng_{std::random_device{}()};
    // Endpoints of ended calls, destroyed on the next executor turn (a call may end from
    // inside one of its own endpoint's receive handlers).
    std::vector<std::unique_ptr<rtp::VoiceEndpoint>> retired_voice_;
    std::vector<std::unique_ptr<rtp::FloorEndpoint>> retired_floor_;
    bool reap_posted_ = false;
    // Hashed: deliver() looks a call up for every voice frame (a tree walk was ~2 % of iwfd's
    // CPU on the LMR -> MC path at 500 calls). Calls are held by pointer, so a rehash moves
    // no Call; code that reports an event re-finds its iterator afterwards.
    std::unordered_map<CallRef, std::unique_ptr<Call>> calls_;
    std::map<sip::DialogId, CallRef> by_dialog_;
    std::map<sip::ServerTxId, CallRef> by_server_tx_;
    bool draining_ = false;
    CallRef next_ref_ = CallRef{1} << 62;  // refs this link creates (engine refs stay below)
    // Pacing of outgoing calls (max_outstanding_invites): initial INVITEs sent and not finally
    // answered, and the calls waiting for a slot, oldest first.
    std::size_t outstanding_invites_ = 0;
    std::deque<CallRef> invite_queue_;
    std::deque<CallRef> urgent_queue_;  // emergency / imminent peril: sent first
    bool pump_posted_ = false;
    metrics::Counter* invites_queued_ = nullptr;
    metrics::Gauge* queue_depth_ = nullptr;
    metrics::Gauge* outstanding_gauge_ = nullptr;
    // Peers: who may talk to the link, the refusals, calls and unacknowledged setups per peer.
    peers::PeerTable peers_;
    peers::RefusalLog refusals_;
    peers::PeerSeen seen_;
    int dest_peer_ = -1;  // the peer cfg_.peer is (outgoing calls, affiliation)
    std::vector<std::size_t> calls_per_peer_;
    std::vector<std::size_t> setups_per_peer_;
    // TS 33.180 keys (mcptt_link_security.cpp): the GMKs per group (oldest first), the CSK.
    std::map<std::string, std::vector<security::DistributedKey>, std::less<>> group_keys_;
    std::optional<security::DistributedKey> floor_key_;
    // The IWF's MIKEY-SAKKE identity (setMikeyIdentity) and GMKs waiting for their activation.
    std::optional<security::MikeyIdentity> mikey_me_;
    security::KmsDirectory kms_dir_;
    std::multimap<std::uint64_t, std::pair<std::string, security::DistributedKey>> pending_gmks_;
    // media_protection.mikey: fetches the identity above (its own thread; posts to io_).
    std::unique_ptr<security::KmsClient> kms_client_;
    // RFC 3830 §5.4: I_MESSAGEs of private calls' offers accepted within the window.
    security::MikeyReplayGuard replay_;
    std::unique_ptr<asio::steady_timer> gmk_timer_;
    metrics::Counter* session_refreshes_ = nullptr;
    metrics::Counter* session_expired_ = nullptr;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

void registerMcpttLinkTypes(LinkRegistry& registry);

}  // namespace iwf::mc::mcptt
