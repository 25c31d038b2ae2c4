#pragma once
// What every test's MC system does with the IWF's INVITE: read the MCPTT offer, point its own
// voice and floor endpoints at the IWF's media, and answer 200 OK with theirs (488 when the
// offer cannot be read). Header-only; the tests that use it link iwf_mc (and iwf_sip).
//
// One copy for the MC systems of the drain, MCPTT media, hostile MC, hostile LMR and hostile
// SIP tests, which differ only in what they record around it.

#include <optional>
#include <string>

#include "common/asio.hpp"
#include "common/result.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "sip/multipart.hpp"
#include "sip/sdp.hpp"
#include "sip/stack.hpp"

namespace iwf::test {

// Answers `req` (an INVITE received on `stack` as `tx`): on a readable offer, sets the remote
// of `voice` and `floor` to the IWF's media, responds 200 OK with a Contact and an SDP answer
// naming their local ports on `address` (floor queueing offered when `queueing`), and returns
// the IWF's offer; otherwise responds 488 and returns nullopt.
inline std::optional<mc::mcptt::McpttMedia> answerMcpttInvite(
    sip::Stack& stack, sip::ServerTxId tx, const sip::Message& req, mc::rtp::VoiceEndpoint& voice,
    mc::rtp::FloorEndpoint& floor, bool queueing = true, const std::string& address = "127.0.0.1") {
    auto sdp = sip::parseSdp(sip::bodyOfType(req, sip::kSdpContentType).value_or(""));
    auto offer = sdp ? mc::mcptt::readMcpttSdp(*sdp) : Result<mc::mcptt::McpttMedia>(sdp.error());
    if (!offer) {
        (void)stack.respond(tx, sip::makeResponse(req, 488, {}, stack.newTag()));
        return std::nullopt;
    }
    voice.setRemote({asio::ip::make_address(offer->address), offer->audio_port});
    floor.setRemote({asio::ip::make_address(offer->address), offer->floor_port});
    mc::mcptt::McpttMedia ours;
    ours.address = address;
    ours.audio_port = voice.localEndpoint().port();
    ours.floor = true;
    ours.floor_port = floor.localEndpoint().port();
    ours.floor_params.queueing = queueing;
    sip::Message ok = sip::makeResponse(req, 200, {}, stack.newTag());
    ok.addHeader("Contact", "<" + stack.contactUri("cf", sip::Protocol::Udp) + ">");
    ok.setBody(mc::mcptt::buildMcpttSdp(ours, 1).toString(), sip::kSdpContentType);
    (void)stack.respond(tx, std::move(ok));
    return *offer;
}

}  // namespace iwf::test
