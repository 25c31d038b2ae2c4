#include "mc_adapters/mcptt/mcptt_sdp.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/text.hpp"
#include "mc_adapters/security/key_mgmt.hpp"
#include "media/amr_payload.hpp"

namespace iwf::mc::mcptt {

std::string formatFloorFmtp(const FloorParams& p) {
    std::string out = "MCPTT ";
    std::string params;
    auto add = [&](const std::string& s) {
        if (!params.empty()) {
            params += ';';
        }
        params += s;
    };
    if (p.queueing) {
        add("mc_queueing");
    }
    if (p.priority) {
        add("mc_priority=" + std::to_string(*p.priority));
    }
    if (p.granted) {
        add("mc_granted");
    }
    if (p.implicit_request) {
        add("mc_implicit_request");
    }
    return out + params;
}

Result<FloorParams> parseFloorFmtp(std::string_view v) {
    v = text::trimChars(v, " ");
    if (v.substr(0, 5) != "MCPTT") {
        return Error{"bad_fmtp"};
    }
    v.remove_prefix(5);
    FloorParams p;
    while (!v.empty()) {
        auto semi = v.find(';');
        std::string_view item = text::trimChars(v.substr(0, semi), " ");
        v = semi == std::string_view::npos ? std::string_view() : v.substr(semi + 1);
        if (item.empty()) {
            continue;
        }
        auto eq = item.find('=');
        std::string_view name = text::trimChars(item.substr(0, eq), " ");
        if (name == "mc_queueing") {
            p.queueing = true;
        } else if (name == "mc_granted") {
            p.granted = true;
        } else if (name == "mc_implicit_request") {
            p.implicit_request = true;
        } else if (name == "mc_priority") {
            if (eq == std::string_view::npos) {
                return Error{"bad_fmtp"};
            }
            std::string_view num = text::trimChars(item.substr(eq + 1), " ");
            int n = 0;
            auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
            if (ec != std::errc() || ptr != num.data() + num.size() || n < 0 || n > 255) {
                return Error{"bad_fmtp"};
            }
            p.priority = n;
        }
        // Other parameters (mc_dual_floor, ...) are ignored.
    }
    return p;
}

sip::SessionDescription buildMcpttSdp(const McpttMedia& m, std::uint64_t session_id,
                                      std::uint64_t version) {
    sip::SessionDescription d;
    d.origin_user = "iwf";
    d.session_id = std::to_string(session_id);
    d.session_version = std::to_string(version);
    d.address_type = m.address.find(':') != std::string::npos ? "IP6" : "IP4";
    d.origin_address = m.address;
    d.session_name = "-";
    d.connection_address = m.address;
    sip::SdpMedia audio;
    audio.type = "audio";
    audio.port = m.audio_port;
    audio.proto = m.srtp ? "RTP/SAVP" : "RTP/AVP";
    audio.formats = {std::to_string(m.payload_type)};
    audio.info = "speech";
    audio.attributes = {{"rtpmap", std::to_string(m.payload_type) + " " + m.encoding + "/" +
                                       std::to_string(m.clock_rate)},
                        {"sendrecv", ""}};
    if (!m.audio_fmtp.empty()) {
        audio.attributes.insert(audio.attributes.begin() + 1,
                                {"fmtp", std::to_string(m.payload_type) + " " + m.audio_fmtp});
    }
    if (!m.key_mgmt.empty()) {
        audio.attributes.push_back({"key-mgmt", security::formatKeyMgmt(m.key_mgmt)});
    }
    d.media.push_back(std::move(audio));
    if (m.floor) {
        sip::SdpMedia fl;
        fl.type = "application";
        fl.port = m.floor_port;
        fl.proto = "udp";
        fl.formats = {"MCPTT"};
        fl.attributes = {{"fmtp", formatFloorFmtp(m.floor_params)}};
        d.media.push_back(std::move(fl));
    }
    return d;
}

Result<McpttMedia> readMcpttSdp(const sip::SessionDescription& sdp) {
    McpttMedia m;
    m.floor = false;
    const sip::SdpMedia* audio = nullptr;
    for (const auto& media : sdp.media) {
        if (media.type == "audio") {
            if (audio != nullptr) {
                return Error{"several_audio"};
            }
            audio = &media;
        } else if (media.type == "application" && !media.formats.empty() &&
                   media.formats[0] == "MCPTT" && media.port != 0) {
            m.floor = true;
            m.floor_port = media.port;
            if (auto f = media.attribute("fmtp")) {
                auto p = parseFloorFmtp(*f);
                if (!p) {
                    return p.error();
                }
                m.floor_params = *p;
            }
        }
    }
    if (audio == nullptr || audio->formats.empty()) {
        return Error{"no_audio"};
    }
    m.address = sdp.addressOf(*audio);
    m.audio_port = audio->port;
    m.srtp = audio->proto == "RTP/SAVP";
    // RFC 4567 §3.1: at media level, or at session level for every stream.
    std::vector<std::string> km = audio->attributes_named("key-mgmt");
    for (const auto& a : sdp.attributes) {
        if (a.name == "key-mgmt") {
            km.push_back(a.value);
        }
    }
    for (const auto& v : km) {
        auto msg = security::parseKeyMgmt(v);
        if (msg) {
            m.key_mgmt = std::move(*msg);
            break;
        }
        if (msg.error().reason != "key_mgmt_not_mikey") {
            return msg.error();
        }
    }
    // The first format we can name.
    int pt = 0;
    auto fmt = audio->formats[0];
    auto [ptr, ec] = std::from_chars(fmt.data(), fmt.data() + fmt.size(), pt);
    if (ec != std::errc() || pt < 0 || pt > 127) {
        return Error{"bad_payload_type"};
    }
    m.payload_type = static_cast<std::uint8_t>(pt);
    bool named = false;
    for (const auto& r : audio->attributes_named("rtpmap")) {
        auto sp = r.find(' ');
        if (sp == std::string::npos || r.substr(0, sp) != fmt) {
            continue;
        }
        std::string enc = r.substr(sp + 1);
        auto slash = enc.find('/');
        m.encoding = enc.substr(0, slash);
        m.clock_rate = 8000;
        if (slash != std::string::npos) {
            std::string rate = enc.substr(slash + 1);
            rate = rate.substr(0, rate.find('/'));
            std::uint32_t cr = 0;
            auto [p2, ec2] = std::from_chars(rate.data(), rate.data() + rate.size(), cr);
            if (ec2 == std::errc() && cr != 0) {
                m.clock_rate = cr;
            }
        }
        named = true;
    }
    for (const auto& f : audio->attributes_named("fmtp")) {
        auto sp = f.find(' ');
        if (sp != std::string::npos && f.substr(0, sp) == fmt) {
            m.audio_fmtp = f.substr(sp + 1);
        }
    }
    if (!named) {
        if (pt >= 96) {
            return Error{"no_rtpmap"};
        }
        m.encoding = pt == 0 ? "PCMU" : pt == 8 ? "PCMA" : "static-" + fmt;
    }
    return m;
}

namespace {
// `ours` answered to `offer`: the floor line only if offered and we do floor control, RTP/SAVP
// only if offered and ours, never a key-mgmt.
McpttMedia answerFloor(const McpttMedia& offer, McpttMedia a) {
    a.floor = offer.floor && a.floor;
    a.srtp = a.srtp && offer.srtp;  // RFC 3264 §6: the answer keeps the offer's transport
    a.key_mgmt.clear();
    const bool queueing = a.floor_params.queueing;
    a.floor_params = {};
    if (a.floor) {
        a.floor_params.queueing = offer.floor_params.queueing && queueing;
        a.floor_params.priority = offer.floor_params.priority;
    }
    a.accept_amr_wb = false;
    return a;
}
}  // namespace

Result<McpttMedia> answerMedia(const McpttMedia& offer, const McpttMedia& ours) {
    if (ours.accept_amr_wb && text::iequalsAscii(offer.encoding, kAmrWbEncoding) &&
        offer.clock_rate == 16000) {
        // RFC 4867 8.3.1: the answer keeps the offer's octet-align; its mode-set is the
        // offer's restricted to what we encode (none in common: we cannot answer).
        auto p = parseAmrWbFmtp(offer.audio_fmtp);
        if (!p) {
            return p.error();
        }
        const std::uint16_t modes =
            (p->mode_set == 0 ? kAmrWbModeSet : p->mode_set) & kAmrWbModeSet;
        if (modes == 0) {
            return Error{"codec_mismatch"};
        }
        McpttMedia a = answerFloor(offer, amrWbMedia(ours, {p->octet_aligned, modes}));
        a.payload_type = offer.payload_type;
        a.audio_fmtp = formatAmrWbFmtp({p->octet_aligned, modes});
        return a;
    }
    if (!text::iequalsAscii(offer.encoding, ours.encoding) || offer.clock_rate != ours.clock_rate) {
        return Error{"codec_mismatch"};
    }
    McpttMedia a = answerFloor(offer, ours);
    a.payload_type = offer.payload_type;
    return a;
}

Result<AmrWbParams> parseAmrWbFmtp(std::string_view fmtp) {
    AmrWbParams p;
    while (!fmtp.empty()) {
        const auto semi = fmtp.find(';');
        const std::string_view item = text::trimChars(fmtp.substr(0, semi), " ");
        fmtp = semi == std::string_view::npos ? std::string_view{} : fmtp.substr(semi + 1);
        const auto eq = item.find('=');
        const std::string_view key = item.substr(0, eq);
        const std::string_view val = eq == std::string_view::npos ? "" : item.substr(eq + 1);
        if (text::iequalsAscii(key, "octet-align")) {
            if (val != "0" && val != "1") {
                return Error{"bad_fmtp"};
            }
            p.octet_aligned = val == "1";
        } else if (text::iequalsAscii(key, "mode-set")) {
            auto ms = media::parseAmrModeSet(media::AmrCodec::AmrWb, val);
            if (!ms) {
                return Error{"bad_fmtp"};
            }
            p.mode_set = *ms;
        } else if ((text::iequalsAscii(key, "crc") || text::iequalsAscii(key, "robust-sorting")) &&
                   val != "0") {
            return Error{"unsupported_amr"};
        } else if (text::iequalsAscii(key, "interleaving") ||
                   (text::iequalsAscii(key, "channels") && val != "1")) {
            return Error{"unsupported_amr"};
        }
    }
    return p;
}

std::string formatAmrWbFmtp(const AmrWbParams& p) {
    std::string out = p.octet_aligned ? "octet-align=1" : "octet-align=0";
    if (p.mode_set != 0) {
        out += ";mode-set=";
        bool first = true;
        for (int m = 0; m <= 8; ++m) {
            if ((p.mode_set & (1U << m)) != 0) {
                out += (first ? "" : ",") + std::to_string(m);
                first = false;
            }
        }
    }
    return out;
}

McpttMedia amrWbMedia(McpttMedia base, const AmrWbParams& p) {
    base.encoding = std::string(kAmrWbEncoding);
    base.clock_rate = 16000;
    base.audio_fmtp = formatAmrWbFmtp(p);
    return base;
}

}  // namespace iwf::mc::mcptt
