#pragma once
// The MCData IWF-2 link ("mcdata-iwf2"): SDS and Interworking Security Data messages over SIP
// MESSAGE between the IWF and the MC system, on the iwf_sip stack.
//
//  MC -> IWF: MESSAGE with mcdata-signalling + mcdata-payload -> DataMessage event (200 OK;
//             a DELIVERY disposition request is answered with an SDS NOTIFICATION
//             "DELIVERED" once the message was handed to the engine);
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

#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "common/link.hpp"
#include "common/link_registry.hpp"
#include "mc_adapters/mcdata/sds_message.hpp"
#include "mc_adapters/mcdata/sds_sip.hpp"
#include "sip/stack.hpp"

namespace iwf::mc::mcdata {

struct McDataLinkConfig {
    std::string name = "iwf2";
    sip::ListenerConfig listen;
    sip::Peer peer;
    std::string request_uri;
    std::string iwf_psi;
    DispositionRequest disposition = DispositionRequest::None;
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

    // The port the SIP listener is bound to (tests bind port 0).
    std::uint16_t sipPort() const;

  private:
    // Writes an accepted message to the durable store before it is acknowledged; false when
    // the request was already answered (store failure: 500; duplicate: 200, no delivery).
    bool persist(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from,
                 const std::string& message_id, const Event& e);
    void onRequest(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from);
    void reject(sip::ServerTxId tx, const sip::Message& req, const sip::Peer& from, int status,
                std::string_view reason);
    // stored_id: the durable store's ID of the message carried (marked delivered on a 2xx).
    void sendMessage(sip::Message m, std::string_view kind, std::string stored_id = {});
    Status deliverData(const DataMessage& d);
    Status deliverSecurity(const SecurityMessage& s);
    void sendDelivered(const SdsSipMessage& in);
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
};

McDataLinkConfig parseMcDataLinkConfig(const ConfigNode& node);  // throws ConfigError

}  // namespace iwf::mc::mcdata

namespace iwf::mc {
// Registers "mcdata-iwf2".
void registerMcDataLinkTypes(LinkRegistry& reg);
}  // namespace iwf::mc
