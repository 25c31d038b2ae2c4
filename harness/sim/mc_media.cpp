// The simulated MC system's media: per call an X-IWF-LMR voice endpoint and a TS 24.380 floor
// endpoint on 127.0.0.1 port 0, and the fan-out of every frame to the clients, each of which
// decrypts it with its own keys (mc_system_impl.hpp).
#include "common/clock.hpp"
#include "harness/sim/mc_system_impl.hpp"
#include "mc_adapters/security/media_keys.hpp"

namespace iwf::harness {

namespace rtp = mc::rtp;
namespace mcptt = mc::mcptt;
namespace mcfloor = mc::floor;
using mcsim::nowNs;

Status McSystem::Impl::openMedia(Call& c) {
    rtp::VoiceEndpointConfig vc;
    vc.payload_type = cfg.payload_type;
    vc.ssrc = rng();
    vc.initial_sequence = static_cast<std::uint16_t>(rng());
    vc.timestamp_base = rng();
    c.voice =
        std::make_unique<rtp::VoiceEndpoint>(io, metrics, SteadyClock::instance(), "mc-sim", vc);
    const auto local = rtp::Udp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
    IWF_TRY_STATUS(c.voice->open(local));
    c.floor = std::make_unique<rtp::FloorEndpoint>(io, metrics, "mc-sim");
    IWF_TRY_STATUS(c.floor->open(local));
    c.floor_ssrc = rng();
    const std::uint64_t id = c.id;
    IWF_TRY_STATUS(protect(c));
    c.voice->onFrame([this, id](VoiceFrame&& f, const rtp::RtpView&) { onFrame(id, f); });
    c.floor->onMessage(
        [this, id](const mcfloor::FloorMessage& m, const rtp::Udp::endpoint&) { onFloor(id, m); });
    std::lock_guard lock(mu);
    ports.insert(c.voice->localEndpoint().port());
    ports.insert(c.floor->localEndpoint().port());
    return {};
}

// Keys the call's voice endpoint with its group's GMKs (or rekeys it: a rollover).
Status McSystem::Impl::protect(Call& c) {
    auto it = cfg.gmks.find(c.group);
    if (it == cfg.gmks.end() || it->second.empty()) {
        return {};
    }
    const auto keying = mc::security::groupMediaKeying(it->second);
    if (c.voice->protection().keyed()) {
        return c.voice->protection().rekey(keying);
    }
    auto pair = mc::security::makeSrtpPair(keying);
    if (!pair) {
        return pair.error();
    }
    c.voice->protection().set(std::move(*pair));
    if (cfg.csk && !c.floor->protection().keyed()) {
        auto floor = mc::security::makeSrtpPair(mc::security::floorKeying(*cfg.csk));
        if (!floor) {
            return floor.error();
        }
        c.floor->protection().set(std::move(*floor));
    }
    return {};
}

void McSystem::Impl::setRemotes(Call& c, const mcptt::McpttMedia& remote) {
    const auto addr =
        asio::ip::make_address(remote.address.empty() ? cfg.iwf_address : remote.address);
    c.voice->setRemote(rtp::Udp::endpoint(addr, remote.audio_port));
    if (remote.floor && remote.floor_port != 0) {
        c.floor->setRemote(rtp::Udp::endpoint(addr, remote.floor_port));
    }
}

mcptt::McpttMedia McSystem::Impl::ourMedia(const Call& c) const {
    mcptt::McpttMedia m;
    m.address = "127.0.0.1";
    m.audio_port = c.voice->localEndpoint().port();
    m.payload_type = cfg.payload_type;
    m.srtp = c.voice->protection().keyed();  // RTP/SAVP (RFC 3711 §12)
    m.floor = true;
    m.floor_port = c.floor->localEndpoint().port();
    m.floor_params.queueing = true;
    m.floor_params.priority = 5;
    return m;
}

void McSystem::Impl::deliverToClients(std::uint64_t call_id, const std::set<std::string>& to,
                                      const VoiceFrame& f, std::int64_t rx) {
    for (const auto& name : to) {
        auto it = clients.find(name);
        if (it == clients.end()) {
            continue;
        }
        McRxRecord r;
        r.client = name;
        r.call = call_id;
        r.frame = f;
        r.rx_ns = rx;
        auto take = [&r](const auto& p) {
            if (p.ok()) {
                r.decrypted = true;
                r.plaintext.assign(p->begin(), p->end());
            } else {
                r.error = std::string(p.error().reason);
            }
        };
        if (f.crypto.family == LmrFamily::P25) {
            take(it->second.p25.decrypt(f));
        } else if (f.crypto.family == LmrFamily::Dmr) {
            take(it->second.dmr.decrypt(f));
        } else {
            r.error = "family_not_supported";
        }
        std::lock_guard lock(mu);
        records.push_back(std::move(r));
    }
}

void McSystem::Impl::onFrame(std::uint64_t id, const VoiceFrame& f) {
    const std::int64_t rx = nowNs();
    auto it = calls.find(id);
    if (it == calls.end()) {
        return;
    }
    deliverToClients(id, it->second->clients, f, rx);
}

void McSystem::Impl::sendTalkFrame(std::uint64_t cid, const VoiceFrame& f, bool marker,
                                   const std::string& talker, const std::string& grp) {
    auto it = calls.find(cid);
    if (it == calls.end() || it->second->ended) {
        return;
    }
    (void)it->second->voice->send(f, marker);
    std::set<std::string> others;
    for (const auto& [id, c] : calls) {
        if (c->ended || c->group != grp) {
            continue;
        }
        for (const auto& n : c->clients) {
            if (n != talker) {
                others.insert(n);
            }
        }
    }
    deliverToClients(cid, others, f, nowNs());
}

}  // namespace iwf::harness
