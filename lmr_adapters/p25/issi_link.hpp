#pragma once
// "p25-issi": iwfd as a peer RFSS on the ISSI (TIA-102.BACA-B, IWF role of BACA-B-3 Annex J),
// group call home role, SIP over UDP through sip (iwf_sip) and ISSI RTP
// (issi_rtp.hpp) on one UDP port.
//
// Inbound (a serving RFSS joins a group we are home for):
//   INVITE sip:<wacn><sys><tgid>@p25dr;user=TIA-P25-SG  -> 200 OK with our SDP (PT 100) and,
//   when the offer had them, the call parameters (multipart/mixed) -> CallSetup (group).
//   RTP PTT Request/Start (with PTT control word)  -> FloorRequest (talker from the word).
//   The engine answers with deliver(FloorGranted / FloorDeny) -> PTT Grant / PTT Deny
//   (auto_grant: true grants at once). PTT Progress IMBE blocks -> Voice with superframe
//   position and CryptoSync (ISSI header word first, then LDU2 ES; LFSR for a lost LDU2;
//   late entry never invents an MI). PTT End -> FloorRelease. Heartbeat Query -> Heartbeat.
//   BYE -> CallEnd(Normal); RTP silence beyond rtp_timeout -> CallEnd(Timeout).
//   OPTIONS -> 200 OK naming the methods and bodies we accept.
// Outbound (the engine originates toward the ISSI peer configured as `peer`):
//   CallSetup -> INVITE (multipart SDP + call params, c-protected from the crypto);
//   FloorRequest -> PTT Request; Voice -> PTT Progress with one IMBE block (header word on
//   the first frame of a transmission; FT, status and extra bytes as received when the
//   frame came from ISSI, otherwise built from the CryptoSync); FloorRelease -> PTT End;
//   CallEnd -> BYE.
//
// deliver() posts the work to the link's io_context and returns at once; failures found
// there are counted in iwf_lmr_deliver_errors_total{link, reason}.
//
// Who is heard (docs/security.md "LMR links"): SIP and RTP only from the configured RFSSs
// (`allow`; by default the `peer` address, or loopback for a loopback link): anything else is
// dropped before it is parsed (sip::Stack::admitOnly for SIP), unanswered and counted. In-dialog
// requests (BYE, re-INVITE) are matched by the whole dialog — Call-ID, both tags and the source
// address of the dialog's peer (RFC 3261 §12.2.2); a BYE that does not match gets 481 and ends
// nothing, a re-INVITE from another address gets 403 and changes no media address. Each call's RTP
// has a packet-rate budget (rate_limit).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/address_filter.hpp"
#include "common/config_node.hpp"
#include "lmr_adapters/p25/crypto_tracker.hpp"
#include "lmr_adapters/p25/issi_rtp.hpp"
#include "lmr_adapters/p25/issi_sip.hpp"
#include "lmr_adapters/p25/udp_link.hpp"
#include "sip/dialog.hpp"
#include "sip/stack.hpp"

namespace iwf::lmr::p25 {

struct IssiLinkConfig {
    std::string name = "issi";
    std::string address = "127.0.0.1";  // SIP and RTP bind address
    std::uint16_t sip_port = 5060;      // 0 = any (tests)
    std::uint16_t rtp_port = 25000;     // 0 = any (tests)
    P25System system;
    std::uint8_t rfss = 1;                 // our RFSS ID
    std::vector<std::uint16_t> groups;     // groups we are home for (empty = any)
    std::optional<std::string> peer_host;  // where originated calls go
    std::uint16_t peer_port = 5060;
    bool auto_grant = false;
    std::chrono::milliseconds rtp_timeout{4000};  // NIST RTP inactivity timeout
    std::uint8_t heartbeat_s = 30;
    // RFSSs heard at all (SIP and RTP sources). YAML default: the `peer` address, or loopback
    // for a link bound to loopback (link_limits.hpp).
    net::AddressFilter allow = net::AddressFilter::loopback();
    // Per call: one IMBE block per 20 ms (or bundles of up to 3) and heartbeats.
    net::RateLimitConfig rate{200, 100};
    int receive_buffer = 4 << 20;  // SO_RCVBUF of the RTP socket (bytes)
    // Not from the config file: iwfd's send gate for the link's SIP stack (LinkContext).
    const SendGate* send_gate = nullptr;

    static IssiLinkConfig fromConfig(const ConfigNode& node);
};

// socket_ (UdpLink) is the ISSI RTP socket: one for every peer RFSS stream.
class IssiLink final : public UdpLink {
  public:
    IssiLink(IssiLinkConfig cfg, asio::io_context& io, metrics::Registry& metrics,
             const Clock& clock);
    ~IssiLink() override;

    bool signalsFloor() const override { return true; }
    Status start(EventSink& sink) override;
    void stop() override;
    Status deliver(const Event& event) override;
    // Drain (common/link.hpp "Drain"): an INVITE that would start a call gets 503 with
    // Retry-After; re-INVITEs, BYEs and the RTP of calls in progress go on.
    void beginDrain() override { draining_ = true; }

    std::uint16_t sipPort() const;
    std::uint16_t rtpPort() const;
    // The peer RFSS configured as `peer` and the RTP sources of the calls in progress (call on
    // the link's thread).
    LinkView view() const override;
    // A config reload (call on the link's thread): `allow` and `rate` apply at once; calls
    // whose RFSS is no longer allowed end. `what` says what was done.
    Status reconfigure(const IssiLinkConfig& next, std::string& what);

  private:
    using Endpoint = asio::ip::udp::endpoint;
    struct GroupCall {
        GroupCall() {}  // NOLINT: user-provided (clang, see records_link.hpp)
        CallRef ref = 0;
        P25Group group;
        bool inbound = true;
        std::optional<sip::Dialog> dialog;
        std::uint32_t invite_cseq = 0;
        Endpoint rtp_peer;
        bool rtp_peer_known = false;
        net::RateGate gate;
        // receive side
        CryptoTracker tracker;
        std::optional<PttControlWord> talker;
        bool transmitting = false;
        std::uint32_t rx_seq = 0;
        Clock::TimePoint last_rx{};
        // send side
        std::uint16_t tx_seq = 0;
        std::uint32_t tx_ts = 0;
        std::uint8_t tsn = 0;     // our transmissions: odd (home side, NIST PttManager)
        std::uint8_t rx_tsn = 0;  // the talker's PTT Request/Start: echoed in Grant/Deny
        Clock::TimePoint next_heartbeat{};
        bool tx_header_sent = false;
        bool protected_call = false;
        PttControlWord tx_word;
    };

    void onSipRequest(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from);
    void onInvite(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from);
    void onBye(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from);
    // True if `req` from `from` belongs to the dialog of `c` (Call-ID, tags, source address).
    static bool inDialog(const GroupCall& c, const sip::Message& req, const sip::Peer& from);
    static std::string addressLabel(const asio::ip::address& a) { return a.to_string(); }
    void onRtp(const Endpoint& from, ByteView data);
    void onIssiPacket(GroupCall& c, const IssiPacket& p);
    void endCall(CallRef ref, EndReason reason, std::string detail);
    GroupCall* findByRef(CallRef ref);
    GroupCall* findByRtp(const Endpoint& from);
    void sendIssi(GroupCall& c, IssiPayload payload);
    void sendPacketType(GroupCall& c, IssiPacketKind kind, const PttControlWord* word,
                        std::uint8_t tsn);
    void sendHeartbeats(Clock::TimePoint now);
    void doDeliver(const Event& e);
    void originate(const CallSetup& s);
    void sendVoice(GroupCall& c, const VoiceFrame& f);
    void drop(const std::string& peer, std::string_view reason, std::int64_t detail = 0);
    void deliverError(std::string_view reason);
    void armTimer();
    void emit(Event&& e);
    std::string localSdp() const;

    IssiLinkConfig cfg_;
    EventSink* sink_ = nullptr;
    std::unique_ptr<sip::Stack> sip_;
    std::map<CallRef, GroupCall> calls_;
    std::map<std::string, CallRef> by_call_id_;
    CallRef next_ref_ = 1;
    bool running_ = false;
    bool draining_ = false;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace iwf::lmr::p25
