#include <algorithm>

#include "common/log.hpp"
#include "mc_adapters/mcptt/mcptt_call.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"

namespace iwf::mc::mcptt {

using namespace link_detail;

void McpttLink::dropMedia(std::string_view reason, std::uint64_t n) {
    if (n == 0) {
        return;
    }
    metrics_
        .counter("iwf_mcptt_media_dropped_total",
                 "Voice frames and floor events the IWF-1 link could not send, by reason",
                 {{"link", cfg_.name}, {"reason", std::string(reason)}})
        .inc(n);
}

Status McpttLink::openMedia(Call& call) {
    boost::system::error_code ec;
    const auto addr = asio::ip::make_address(cfg_.media.address, ec);
    if (ec) {
        return Error{"bad_media_address"};
    }
    rtp::VoiceEndpointConfig vc;
    vc.payload_type = cfg_.media.payload_type;
    vc.ssrc = static_cast<std::uint32_t>(rng_());
    vc.initial_sequence = static_cast<std::uint16_t>(rng_());
    vc.timestamp_base = static_cast<std::uint32_t>(rng_());
    call.voice = std::make_unique<rtp::VoiceEndpoint>(io_, metrics_, clock_, cfg_.name, vc);
    if (call.floor_control) {
        call.floor = std::make_unique<rtp::FloorEndpoint>(io_, metrics_, cfg_.name);
        call.floor_map.ssrc = static_cast<std::uint32_t>(rng_());
        call.floor_map.normal_priority = static_cast<std::uint8_t>(cfg_.floor_priority);
        call.floor_map.call_indicator =
            call.broadcast ? floor::indicator::kBroadcastGroupCall : floor::indicator::kNormalCall;
    }
    auto bindPair = [&](std::uint16_t audio, std::uint16_t fl) -> bool {
        if (!call.voice->open({addr, audio}).ok()) {
            return false;
        }
        if (call.floor && !call.floor->open({addr, fl}).ok()) {
            call.voice->close();
            return false;
        }
        return true;
    };
    bool bound = false;
    if (cfg_.port_range.first == 0) {
        bound = bindPair(0, 0);
    } else {
        // Audio on an even port P, floor control on P + 1 (docs/protocols/iwf-1-media.md).
        const std::uint32_t pairs = (cfg_.port_range.last - cfg_.port_range.first + 1U) / 2U;
        for (std::uint32_t i = 0; i < pairs && !bound; ++i) {
            const std::uint32_t k = (port_cursor_ + i) % pairs;
            const auto audio = static_cast<std::uint16_t>(cfg_.port_range.first + 2U * k);
            if (bindPair(audio, static_cast<std::uint16_t>(audio + 1U))) {
                bound = true;
                port_cursor_ = (k + 1U) % pairs;
            }
        }
    }
    if (!bound) {
        call.voice.reset();
        call.floor.reset();
        count("iwf_mcptt_refused_total", "no_media_port");
        return Error{"no_media_port"};
    }
    // Until the peer's SDP names its ports, only its media realm may be latched onto; drops are
    // labelled with the peer's configured name (a bounded set).
    if (call.peer >= 0) {
        const int peer = call.peer;
        auto realm = [this, peer](const asio::ip::address& a) {
            return peers_.mediaAllowed(peer, a);
        };
        call.voice->peerSocket().setPeerLabel(peers_.at(peer).name);
        call.voice->peerSocket().setLatchFilter(realm);
        if (call.floor) {
            call.floor->peerSocket().setPeerLabel(peers_.at(peer).name);
            call.floor->peerSocket().setLatchFilter(realm);
        }
    }
    const CallRef ref = call.ref;
    call.voice->onFrame([this, ref](VoiceFrame&& f, const rtp::RtpView&) {
        if (calls_.count(ref) == 0) {
            return;  // the call ended while this datagram was being handled
        }
        report(Voice{ref, std::move(f)});
    });
    if (call.floor) {
        call.floor->onMessage([this, ref](const floor::FloorMessage& m, const rtp::Udp::endpoint&) {
            onFloorMessage(ref, m);
        });
    }
    applyProtection(call);  // TS 33.180 SRTP / SRTCP (mcptt_link_security.cpp); off by default
    return {};
}

Status McpttLink::setRemoteMedia(Call& call, const McpttMedia& remote,
                                 const asio::ip::address& sig) {
    const asio::ip::address addr = mediaAddress(remote, sig);
    if (remote.audio_port == 0) {
        return Error{"no_audio_port"};
    }
    if (!peers_.mediaAllowed(call.peer, addr)) {
        // Issue #21: RTP to whatever address an SDP names made the IWF a traffic amplifier
        // (x1,310 toward a third party). Media goes only to the call's peer's media realm.
        refusals_.refused(call.dialog ? call.dialog->peer() : cfg_.peer, peers::Refusal::MediaRealm,
                          "SDP media address " + addr.to_string());
        return Error{"media_realm"};
    }
    if (call.amr) {
        // RFC 4867 8.3.1: the layout is the one both sides named (octet-align in the answer
        // equals the offer's); an answer without AMR-WB leaves nothing we could send.
        if (remote.encoding != kAmrWbEncoding || remote.clock_rate != 16000) {
            return Error{"codec_mismatch"};
        }
        auto p = parseAmrWbFmtp(remote.audio_fmtp);
        if (!p) {
            return p.error();
        }
        call.amr->octet_aligned = p->octet_aligned;
        if (call.voice) {
            call.voice->setAmrWb(p->octet_aligned);
        }
    }
    call.remote = remote;
    if (call.voice) {
        call.voice->setRemote({addr, remote.audio_port});
    }
    if (call.floor) {
        if (remote.floor && remote.floor_port != 0) {
            call.floor->setRemote({addr, remote.floor_port});
        }
    }
    call.media_ready = true;
    return {};
}

void McpttLink::flushPending(Call& call) {
    std::vector<Event> pending;
    pending.swap(call.pending);
    const CallRef ref = call.ref;
    for (const Event& e : pending) {
        auto it = calls_.find(ref);
        if (it == calls_.end()) {
            return;
        }
        if (const auto* v = std::get_if<Voice>(&e)) {
            (void)sendVoice(*it->second, v->frame);
        } else {
            (void)sendFloor(*it->second, e);
        }
    }
}

Status McpttLink::sendVoice(Call& call, const VoiceFrame& f) {
    if (!call.voice) {
        dropMedia("no_media");
        return Error{"no_media"};
    }
    if (!call.media_ready) {
        if (call.pending.size() >= kMaxPendingMedia) {
            dropMedia("pending_overflow");
            return Error{"pending_overflow"};
        }
        call.pending.emplace_back(Voice{call.ref, f});
        return {};
    }
    const bool marker = call.talk_start;
    Status st = call.voice->send(f, marker);
    if (!st) {
        dropMedia(st.error().reason);
        return st;
    }
    call.talk_start = false;
    return {};
}

Status McpttLink::sendFloor(Call& call, const Event& e) {
    if (std::holds_alternative<FloorTaken>(e) || std::holds_alternative<FloorGranted>(e) ||
        std::holds_alternative<FloorIdle>(e) || std::holds_alternative<FloorRelease>(e) ||
        std::holds_alternative<FloorRevoke>(e)) {
        call.talk_start = true;  // a new talk spurt follows
    }
    if (!call.floor) {
        dropMedia("no_floor_control");
        return Error{"no_floor_control"};
    }
    if (!call.media_ready) {
        if (call.pending.size() >= kMaxPendingMedia) {
            dropMedia("pending_overflow");
            return Error{"pending_overflow"};
        }
        call.pending.push_back(e);
        return {};
    }
    auto m = floor::toMessage(e, call.floor_map);
    if (!m) {
        dropMedia(m.error().reason);
        return m.error();
    }
    if (call.priority == CallPriority::Emergency && m->type != floor::MessageType::FloorRequest) {
        // The floor indicator of an emergency call says so in every message that carries it.
        for (auto& f : m->fields) {
            if (auto* fi = std::get_if<floor::FloorIndicator>(&f)) {
                fi->bits |= floor::indicator::kEmergencyCall;
            }
        }
    }
    Status st = call.floor->send(*m);
    if (!st) {
        dropMedia(st.error().reason);
    }
    return st;
}

void McpttLink::onFloorMessage(CallRef ref, const floor::FloorMessage& m) {
    auto it = calls_.find(ref);
    if (it == calls_.end()) {
        return;  // the call ended while this datagram was being handled
    }
    Call& call = *it->second;
    if (m.ack_required && call.floor) {
        // 24.380 §8.2.11 Floor Ack: Source (who acknowledges) + Message Type (the acknowledged
        // subtype). A message a floor control server sends is acknowledged by us as the
        // participant; a participant's message by us as the controlling function.
        const bool from_server = m.type != floor::MessageType::FloorRequest &&
                                 m.type != floor::MessageType::FloorRelease &&
                                 m.type != floor::MessageType::FloorQueuePositionRequest;
        floor::FloorMessage ack;
        ack.type = floor::MessageType::FloorAck;
        ack.ssrc = call.floor_map.ssrc;
        ack.add(floor::Source{
            static_cast<std::uint16_t>(from_server ? floor::SourceValue::FloorParticipant
                                                   : floor::SourceValue::ControllingFunction)});
        ack.add(floor::AckMessageType{m.subtype()});
        if (call.floor->send(ack).ok()) {
            count("iwf_mcptt_floor_acks_total", "sent");
        } else {
            dropMedia("ack_send_failed");
        }
    }
    if (m.type == floor::MessageType::FloorAck) {
        count("iwf_mcptt_floor_acks_total", "received");
        return;
    }
    auto ev = floor::toEvent(m, ref);
    if (!ev) {
        count("iwf_mcptt_floor_ignored_total", std::string(floor::toString(m.type)));
        return;
    }
    if (std::holds_alternative<FloorTaken>(*ev) || std::holds_alternative<FloorGranted>(*ev) ||
        std::holds_alternative<FloorIdle>(*ev)) {
        call.talk_start = true;
    }
    report(std::move(*ev));
}

McpttMedia McpttLink::ourMedia(const Call& call) const {
    McpttMedia m = cfg_.media;
    m.audio_port = call.voice ? call.voice->localEndpoint().port() : 0;
    m.floor = call.floor_control && call.floor != nullptr;
    m.floor_port = call.floor ? call.floor->localEndpoint().port() : 0;
    m.floor_params.queueing = true;
    m.floor_params.priority = cfg_.floor_priority;
    if (call.amr) {
        m = amrWbMedia(std::move(m), *call.amr);
    }
    // TS 33.180: RTP/SAVP when the call is (or must be) SRTP; our private call's PCK.
    m.srtp = call.voice && protectionOf(call) != MediaProtection::Off &&
             (call.voice->protection().keyed() || protectionOf(call) == MediaProtection::Required);
    m.key_mgmt = call.pck_message;
    return m;
}

}  // namespace iwf::mc::mcptt
