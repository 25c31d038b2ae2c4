#pragma once
// SIP dialogs (RFC 3261 §12): the state two user agents share after an INVITE (or another
// dialog-creating request) succeeded, and how to build requests inside it.

#include <cstdint>
#include <string>
#include <vector>

#include "sip/message.hpp"
#include "sip/transport.hpp"

namespace iwf::sip {

struct DialogId {
    std::string call_id;
    std::string local_tag;
    std::string remote_tag;
    auto operator<=>(const DialogId&) const = default;
};

class Dialog {
  public:
    // UAC side: from the request we sent and a 2xx (or 1xx with To tag) we got.
    static Dialog asUac(const Message& request, const Message& response, const Peer& peer);
    // UAS side: from the request we received; `local_tag` goes into our responses' To.
    static Dialog asUas(const Message& request, std::string local_tag, const Peer& peer);

    DialogId id() const { return {call_id_, local_tag_, remote_tag_}; }
    const std::string& callId() const { return call_id_; }
    const std::string& localTag() const { return local_tag_; }
    const std::string& remoteTag() const { return remote_tag_; }
    const std::string& localUri() const { return local_uri_; }
    const std::string& remoteUri() const { return remote_uri_; }
    const std::string& remoteTarget() const { return remote_target_; }
    const std::vector<std::string>& routeSet() const { return route_set_; }
    const Peer& peer() const { return peer_; }
    std::uint32_t localCseq() const { return local_cseq_; }
    std::uint32_t remoteCseq() const { return remote_cseq_; }

    // A request inside the dialog (§12.2.1.1): new CSeq, From/To with tags, Request-URI =
    // remote target, Route = route set. ACK takes `cseq` (the INVITE's number) instead.
    Message makeRequest(std::string_view method);
    Message makeAck(std::uint32_t invite_cseq) const;

    // Checks and records the CSeq of a request the remote sent in this dialog (§12.2.2):
    // false if it is lower than or equal to the last one (out of order / retransmission).
    bool acceptRemoteCseq(const Message& request);
    // A target refresh (re-INVITE, UPDATE) may change the remote target.
    void refreshTarget(const Message& m);

    // The dialog a message belongs to, seen from this side.
    static DialogId idOfIncoming(const Message& m);  // request from the remote / response to us

  private:
    std::string call_id_;
    std::string local_tag_;
    std::string remote_tag_;
    std::string local_uri_;   // our From (as a name-addr, without tag)
    std::string remote_uri_;  // their To (as a name-addr, without tag)
    std::string remote_target_;
    std::vector<std::string> route_set_;
    std::uint32_t local_cseq_ = 0;
    std::uint32_t remote_cseq_ = 0;
    Peer peer_;
};

}  // namespace iwf::sip
