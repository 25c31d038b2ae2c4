#pragma once
// The MCData IWF-2 link ("mcdata-iwf2"): SDS and Interworking Security Data messages over SIP
// MESSAGE between the IWF and the MC system, on the iwf_sip stack.
//
//  MC -> IWF: only from the configured peers (sip::Stack::admitOnly drops anything else
//             unparsed), and only for senders in the peer's domains (403 otherwise);
//             MESSAGE with mcdata-signalling + mcdata-payload -> DataMessage event, answered
//             by what the engine did with it (DataReceipt, filled before onEvent returns):
//             handed to an LMR link -> 200 OK; unmapped sender or policy -> 403; unknown
//             recipient -> 404; no LMR link could carry it (no radio / repeater logged in,
//             a link without short data) -> 480. A DELIVERY disposition request gets an SDS
//             NOTIFICATION "UNDELIVERED" after a refusal, and "DISPOSITION PREVENTED BY SYSTEM"
//             after a 200: the LMR bearers the IWF speaks never confirm delivery, so the IWF
//             never says "DELIVERED" (issue #21: it used to, for messages nobody received);
//             MESSAGE with interworking-data -> SecurityMessage event (200 OK);
//             SDS NOTIFICATION -> counted (no event type carries dispositions yet);
//             anything else -> 4xx with a Warning naming the fault, counted by reason.
//  IWF -> MC: deliver(DataMessage) -> MESSAGE built with the 29.582 6.2.2.1 rules (fresh
//             Message ID, stored Conversation ID per sender/recipient pair);
//             deliver(SecurityMessage) -> MESSAGE per 29.379 14.1.1.
//
// Config (under mc_links:):
//   - name: iwf2
//     type: mcdata-iwf2
//     listen: {protocol: udp, address: 127.0.0.1, port: 5070}
//     peer: {protocol: udp, address: 127.0.0.1, port: 5080}   # the MCData server
//     request_uri: sip:mcdata@mc.example      # Request-URI of IWF-originated MESSAGEs
//     iwf_psi: sip:iwf@iwf.example            # P-Asserted-Identity
//     disposition: none                       # none | delivery | read | delivery-and-read
//     peers: [{name, address, port, tls_name, domains}]   # required (peers/peer_table.hpp)

#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/link.hpp"
#include "common/link_registry.hpp"
#include "mc_adapters/mcdata/sds_message.hpp"
#include "mc_adapters/mcdata/sds_sip.hpp"
#include "mc_adapters/peers/peer_table.hpp"
#include "sip/stack.hpp"

namespace iwf::mc::mcdata {

struct McDataLinkConfig {
    std::string name = "iwf2";
    sip::ListenerConfig listen;
    sip::Peer peer;
    std::string request_uri;
    std::string iwf_psi;
    DispositionRequest disposition = DispositionRequest::None;
    // Who may send to the link; empty = nobody (the config parser requires at least one).
    std::vector<peers::PeerConfig> peers;
};

class McDataLink final : public McLink {
  public:
    bool carriesCalls() const override { return false; }
    bool carriesData() const override { return true; }
    McDataLink(McDataLinkConfig cfg, LinkContext& ctx);
    ~McDataLink() override;

    const LinkId& id() const override { return id_; }
    Status start(EventSink& sink) override;
    // Drain: new MESSAGEs get 503 (link.hpp "Drain"); messages toward the MC side still go.
    void beginDrain() override { draining_ = true; }
    void stop() override;
    Status deliver(const Event& event) override;
    // A message answered 202 (stored, no LMR link could take it then) was tried again: the
    // disposition notification its sender asked for goes now (DISPOSITION PREVENTED BY SYSTEM
    // once an LMR link took it, UNDELIVERED when refused for good or after the last try).
    void storedOutcome(const DataMessage& m, const DataReceipt& r, bool last) override;

    // The port the SIP listener is bound to (tests bind port 0).
    std::uint16_t sipPort() const;
    // The configured peers and when each was last heard (call on the link's thread).
    LinkView view() const override;
    // Refusals by the peer checks (tests; also iwf_mc_peer_refused_total).
    std::uint64_t refusals(peers::Refusal why) const { return refusals_.count(why); }

  private:
    enum class Persisted : std::uint8_t { NoStore, Stored, Answered };
    // Writes an accepted message to the durable store before it is acknowledged. Answered:
    // the request was already answered (store failure: 500; a retransmission of a stored
    // message: 200 again, no second delivery).
    Persisted persist(sip::ServerTxId tx, const sip::Message& req, int peer,
                      const std::string& message_id, const Event& e);
    // A stored message that got a final refusal is settled: not delivered again.
    void settle(const std::string& message_id);
    void onRequest(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from);
    void reject(sip::ServerTxId tx, const sip::Message& req, int peer, int status,
                std::string_view reason);
    void onSecurityRequest(sip::ServerTxId tx, const sip::Message& req, int peer,
                           const sip::Peer& from);
    void onSdsRequest(sip::ServerTxId tx, const sip::Message& req, int peer, const sip::Peer& from);
    void count(std::string_view kind);
    void sendNotification(const SdsSipMessage& in, DispositionNotification what);
    void sendNotification(const std::string& to, const std::string& about, const Uuid& conversation,
                          const Uuid& message, std::optional<std::uint8_t> application,
                          DispositionNotification what);
    // stored_id: the durable store's ID of the message carried (marked delivered on a 2xx).
    void sendMessage(sip::Message m, std::string_view kind, std::string stored_id = {});
    Status deliverData(const DataMessage& d);
    Status deliverSecurity(const SecurityMessage& s);
    void rememberConversation(std::pair<std::string, std::string> key, const Uuid& id);

    McDataLinkConfig cfg_;
    LinkContext& ctx_;
    LinkId id_;
    std::unique_ptr<sip::Stack> stack_;
    EventSink* sink_ = nullptr;
    std::mt19937_64 rng_;
    std::map<std::pair<std::string, std::string>, Uuid> conversations_;
    std::uint32_t cseq_ = 1;
    bool draining_ = false;
    peers::PeerTable peers_;
    peers::RefusalLog refusals_;
    peers::PeerSeen seen_;
};

McDataLinkConfig parseMcDataLinkConfig(const ConfigNode& node);  // throws ConfigError

}  // namespace iwf::mc::mcdata

namespace iwf::mc {
// Registers "mcdata-iwf2".
void registerMcDataLinkTypes(LinkRegistry& reg);
}  // namespace iwf::mc
