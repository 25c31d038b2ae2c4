#include "sip/sdp.hpp"

#include <charconv>
#include <mutex>

#include <osipparser2/osip_parser.h>
#include <osipparser2/sdp_message.h>

#include "sip/message.hpp"

namespace iwf::sip {

namespace {

std::string str(const char* s) {
    return s == nullptr ? std::string() : std::string(s);
}

struct OsipSdp {
    sdp_message_t* s = nullptr;
    OsipSdp() { sdp_message_init(&s); }
    ~OsipSdp() {
        if (s != nullptr) {
            sdp_message_free(s);
        }
    }
    OsipSdp(const OsipSdp&) = delete;
    OsipSdp& operator=(const OsipSdp&) = delete;
};

std::vector<SdpAttribute> attributesAt(sdp_message_t* s, int pos_media) {
    std::vector<SdpAttribute> out;
    for (int i = 0;; ++i) {
        char* field = sdp_message_a_att_field_get(s, pos_media, i);
        if (field == nullptr) {
            break;
        }
        out.push_back({field, str(sdp_message_a_att_value_get(s, pos_media, i))});
    }
    return out;
}

bool printable(std::string_view s) {
    for (char c : s) {
        if (c == '\r' || c == '\n' || c == '\0') {
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<std::string> SdpMedia::attribute(std::string_view name) const {
    for (const auto& a : attributes) {
        if (a.name == name) {
            return a.value;
        }
    }
    return std::nullopt;
}

std::vector<std::string> SdpMedia::attributes_named(std::string_view name) const {
    std::vector<std::string> out;
    for (const auto& a : attributes) {
        if (a.name == name) {
            out.push_back(a.value);
        }
    }
    return out;
}

std::string SessionDescription::addressOf(const SdpMedia& m) const {
    return m.connection_address.empty() ? connection_address : m.connection_address;
}

const SdpMedia* SessionDescription::find(std::string_view type) const {
    for (const auto& m : media) {
        if (m.type == type) {
            return &m;
        }
    }
    return nullptr;
}

std::string SessionDescription::toString() const {
    std::string o;
    o += "v=0\r\n";
    o += "o=" + origin_user + " " + session_id + " " + session_version + " IN " + address_type +
         " " + origin_address + "\r\n";
    o += "s=" + (session_name.empty() ? std::string("-") : session_name) + "\r\n";
    if (!connection_address.empty()) {
        o += "c=IN " + address_type + " " + connection_address + "\r\n";
    }
    o += "t=0 0\r\n";
    for (const auto& a : attributes) {
        o += "a=" + a.name + (a.value.empty() ? "" : ":" + a.value) + "\r\n";
    }
    for (const auto& m : media) {
        o += "m=" + m.type + " " + std::to_string(m.port) + " " + m.proto;
        for (const auto& f : m.formats) {
            o += " " + f;
        }
        o += "\r\n";
        if (!m.info.empty()) {
            o += "i=" + m.info + "\r\n";
        }
        if (!m.connection_address.empty()) {
            o += "c=IN " + address_type + " " + m.connection_address + "\r\n";
        }
        for (const auto& a : m.attributes) {
            o += "a=" + a.name + (a.value.empty() ? "" : ":" + a.value) + "\r\n";
        }
    }
    return o;
}

Result<SessionDescription> parseSdp(std::string_view text) {
    if (text.empty()) {
        return Error{"empty"};
    }
    if (text.size() > 16384) {
        return Error{"too_large", static_cast<std::int64_t>(text.size())};
    }
    if (text.find('\0') != std::string_view::npos) {
        return Error{"nul"};
    }
    detail::ensureOsipParser();
    OsipSdp sdp;
    if (sdp.s == nullptr) {
        return Error{"alloc"};
    }
    // libosip2 5.3's sdp_message_parse reads past the end of a buffer whose last line ends
    // in a bare LF (heap-buffer-overflow found by fuzzing, input in the sip_sdp corpus): it
    // always gets a trailing CRLF, which it parses as an empty line.
    std::string copy(text);
    copy += "\r\n";
    if (sdp_message_parse(sdp.s, copy.c_str()) != 0) {
        return Error{"unparseable"};
    }
    sdp_message_t* s = sdp.s;
    SessionDescription d;
    if (sdp_message_o_username_get(s) == nullptr) {
        return Error{"missing_origin"};
    }
    d.origin_user = str(sdp_message_o_username_get(s));
    d.session_id = str(sdp_message_o_sess_id_get(s));
    d.session_version = str(sdp_message_o_sess_version_get(s));
    d.address_type = str(sdp_message_o_addrtype_get(s));
    d.origin_address = str(sdp_message_o_addr_get(s));
    d.session_name = str(sdp_message_s_name_get(s));
    d.connection_address = str(sdp_message_c_addr_get(s, -1, 0));
    d.attributes = attributesAt(s, -1);
    for (int m = 0; !sdp_message_endof_media(s, m); ++m) {
        SdpMedia media;
        media.type = str(sdp_message_m_media_get(s, m));
        const std::string port = str(sdp_message_m_port_get(s, m));
        unsigned p = 0;
        auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
        if (ec != std::errc() || ptr != port.data() + port.size() || p > 65535) {
            return Error{"bad_port", m};
        }
        media.port = static_cast<std::uint16_t>(p);
        media.proto = str(sdp_message_m_proto_get(s, m));
        for (int f = 0;; ++f) {
            char* fmt = sdp_message_m_payload_get(s, m, f);
            if (fmt == nullptr) {
                break;
            }
            media.formats.emplace_back(fmt);
        }
        media.info = str(sdp_message_i_info_get(s, m));
        media.connection_address = str(sdp_message_c_addr_get(s, m, 0));
        media.attributes = attributesAt(s, m);
        if (media.type.empty() || media.proto.empty()) {
            return Error{"bad_media", m};
        }
        d.media.push_back(std::move(media));
    }
    // Everything must be writable back without injecting lines.
    for (const auto* v : {&d.origin_user, &d.session_id, &d.session_version, &d.address_type,
                          &d.origin_address, &d.session_name, &d.connection_address}) {
        if (!printable(*v)) {
            return Error{"bad_field"};
        }
    }
    return d;
}

}  // namespace iwf::sip
