#pragma once
// A fake ISSI serving RFSS, written from NIST's P25 ISSI conformance test tool (the RFSS
// emulator of p25-wireline, Java/JAIN-SIP, packages gov.nist.p25.issi.*; file and method
// cited at each step in fake_rfss.cpp) for its side of a group call whose home is iwfd:
//
//  - SIP (GroupCallControlManager.subscribeToGroup / createInviteForGroupCall, SipUtils):
//    INVITE sip:<radical>@p25dr;user=TIA-P25-SG with From = To = the group URI, Contact
//    <sip:<radical>@<our RFSS domain>;user=TIA-P25-SG>, a Route to the home RFSS, Priority
//    "<n>;a", Timestamp, and a multipart body (boundary "P25 ISSI body boundary") of SDP and
//    call parameters (c-resavail:0, c-groupcalltype:0, c-protected:1); the 200 OK's body read
//    as ContentList.createContentList reads it (split at the fixed boundary, whatever the
//    header says), then ACK (groupCallConfirm); BYE as GroupServing.heartbeatTimeout builds
//    it (Request-URI host rewritten to p25dr); a BYE from the home answered 200.
//  - RTP (transctlmgr.ptt: SmfTransmitter, PttSession.createPttPacket, HeartbeatTransmitter,
//    HeartbeatReceiver; p25payload.* getBytes): SSRC 2 (LinkType.GROUP_SERVING), TSN 2 (the
//    first serving TSN), PTT Request every TREQUEST (500 ms) twice, then FAIL_ON_TIMEOUT: a
//    PTT End; on a PTT Grant with one of our TSNs, PTT Progress with 3 IMBE blocks every
//    60 ms, the ISSI header word once per spurt, then PTT End. Grant/Deny with a TSN that is
//    not ours is dropped (PttSession.verifyPttPacket). Connection heartbeats every
//    THEARTBEAT; a TSN-0 Heartbeat Query answered with a Heartbeat; no TSN-0 Heartbeat from
//    the home within 4 x THEARTBEAT (then 4 x the announced interval) tears the call down with
//    a BYE (GroupServing.heartbeatTimeout).
//
// NIST's tool never encrypts (its header word and frame 15 say ALGID 0x80, MI 0): the fake
// writes ALGID/KID/MI where NIST's code puts them (ISSIHeaderWord setAlgId/setKeyId/
// setMessageIndicator, IMBEVoiceDataGenerator's frame 12-15 extras) and encrypts the IMBE
// codewords as a radio does (harness/crypto/p25_crypto.hpp), with canaries as plaintext.
// Timer periods are parameters (a test cannot wait 40 s); the logic is the source's.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "harness/crypto/p25_crypto.hpp"
#include "peer_kit.hpp"

namespace iwf::test::peers {

struct RfssConfig {
    std::uint32_t wacn = 0xBEE00;
    std::uint16_t system = 0x001;
    std::uint8_t rfss = 2;       // our RFSS ID: domain 02.<system>.<wacn>.p25dr
    std::uint8_t home_rfss = 3;  // the group's home RFSS (the Route header)
    std::uint16_t group = 100;
    std::uint32_t unit = 1001;  // the talking SU
    std::uint16_t home_sip_port = 0;
    bool protected_call = true;                // c-protected:1
    int priority = 4;                          // GroupCallSetupScenario priority: "Priority: 4;a"
    std::chrono::milliseconds t_request{500};  // TimerValues.TREQUEST
    std::chrono::milliseconds t_heartbeat{10000};  // TimerValues.THEARTBEAT
    // The voice: AES-256 (0x84) with this key ID and key, MI of superframe 0, canaries of
    // radio `tag` / session `nonce` (harness::p25Canary).
    std::uint8_t algid = 0x84;
    std::uint16_t kid = 0x0101;
    harness::Aes256Key key{};
    lmr::p25::Mi first_mi{};
    std::uint8_t tag = 5;
    std::uint16_t nonce = 1;
    std::uint32_t superframes = 4;
};

// One ISSI packet as NIST's P25Payload(byte[]) reads the parts the serving side looks at.
struct RfssRx {
    bool signal = false;
    std::uint8_t type = 0xFF;  // ISSI packet type (PacketType)
    std::uint8_t service_options = 0;
    std::uint8_t tsn = 0;
    std::uint8_t interval = 0;
    bool has_control_word = false;
    std::uint32_t ssrc = 0;
};

class FakeRfss {
  public:
    explicit FakeRfss(RfssConfig cfg);
    void subscribeToGroup();  // the INVITE
    void sendSpurt();         // PTT Request, then voice on Grant
    void sendHeartbeatQuery();
    void bye();
    void clock(std::int64_t ms);

    // SIP
    int inviteStatus() const { return invite_status_; }
    const std::string& answer() const { return answer_; }  // the 200 OK as received
    // Why the 200 OK's body could not be read the way ContentList reads it ("" = read).
    const std::string& answerError() const { return answer_error_; }
    bool acked() const { return acked_; }
    int byeStatus() const { return bye_status_; }
    bool byeFromHome() const { return bye_from_home_; }
    // RTP
    std::uint16_t rtpPort() const { return rtp_.port(); }
    bool granted() const { return granted_; }
    bool requestTimedOut() const { return request_timed_out_; }
    bool spurtDone() const { return spurt_done_; }
    std::size_t progressSent() const { return progress_sent_; }
    std::size_t blocksSent() const { return blocks_sent_; }
    std::size_t heartbeatsFromHome() const { return heartbeats_rx_; }
    std::size_t heartbeatQueriesAnswered() const { return queries_answered_; }
    std::size_t heartbeatTimeouts() const { return heartbeat_timeouts_; }
    std::size_t droppedForTsn() const { return dropped_tsn_; }
    const std::vector<RfssRx>& received() const { return rx_; }
    const std::vector<Bytes>& sent() const { return rtp_sent_; }

  private:
    std::string domain(std::uint8_t rfss) const;
    std::string radical() const;
    std::string groupUri() const;
    void sendSip(const std::string& msg);
    void onSip(const std::string& msg);
    void onInviteResponse(const std::string& msg, int status);
    void onRtp(ByteView data);
    void sendRtp(const Bytes& payload);
    Bytes packetType(std::uint8_t type, std::uint8_t tsn, bool signal, bool control_word) const;
    void sendRequest();
    void sendProgress();
    void sendEnd();
    void sendHeartbeat();

    RfssConfig cfg_;
    Udp sip_;
    Udp rtp_;
    harness::P25VoiceCipher cipher_;
    // SIP state
    std::string call_id_;
    std::string from_tag_;
    std::string to_tag_;
    std::string remote_target_;
    std::string invite_;
    PeerTimer invite_retx_{std::chrono::milliseconds(500)};  // JAIN-SIP Timer A (T1)
    int invite_status_ = 0;
    std::string answer_;
    std::string answer_error_;
    bool acked_ = false;
    std::string bye_;
    PeerTimer bye_retx_{std::chrono::milliseconds(500)};
    int bye_status_ = 0;
    bool bye_from_home_ = false;
    int branch_ = 0;
    // RTP state
    std::uint16_t home_rtp_port_ = 0;
    std::uint16_t rtp_seq_ = 0;
    std::uint32_t rtp_ts_ = 0;
    std::uint8_t tsn_ = 2;  // PttManager.generateTsn(lastGroupServingTSN = 0)
    int request_tries_ = 0;
    PeerTimer request_{std::chrono::milliseconds(500)};
    bool granted_ = false;
    bool request_timed_out_ = false;
    bool header_word_sent_ = false;
    std::uint32_t next_block_ = 0;  // 0 .. 18 * superframes
    PeerTimer audio_{std::chrono::milliseconds(60)};
    bool spurt_done_ = false;
    std::size_t progress_sent_ = 0;
    std::size_t blocks_sent_ = 0;
    PeerTimer heartbeat_tx_;
    PeerTimer heartbeat_rx_;
    std::size_t heartbeats_rx_ = 0;
    std::size_t queries_answered_ = 0;
    std::size_t heartbeat_timeouts_ = 0;
    std::size_t dropped_tsn_ = 0;
    std::vector<RfssRx> rx_;
    std::vector<Bytes> rtp_sent_;
};

}  // namespace iwf::test::peers
