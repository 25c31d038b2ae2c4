#include "lmr_adapters/dmr/hbp.hpp"

#include <cstring>

#include <openssl/sha.h>

namespace iwf::lmr::dmr {

namespace {

struct Prefix {
    std::string_view magic;
    HbpType type;
};
// Longer prefixes first ("RPTCL" before "RPTC").
constexpr Prefix kPrefixes[] = {
    {"RPTSBKN", HbpType::Rptsbkn}, {"RPTPING", HbpType::Rptping}, {"MSTPONG", HbpType::Mstpong},
    {"RPTACK", HbpType::Rptack},   {"MSTNAK", HbpType::Mstnak},   {"RPTCL", HbpType::Rptcl},
    {"MSTCL", HbpType::Mstcl},     {"RPTL", HbpType::Rptl},       {"RPTK", HbpType::Rptk},
    {"RPTC", HbpType::Rptc},       {"RPTO", HbpType::Rpto},       {"DMRD", HbpType::Dmrd},
    {"DMRA", HbpType::Dmra},
};

std::string_view magicOf(HbpType t) {
    for (const auto& p : kPrefixes) {
        if (p.type == t) {
            return p.magic;
        }
    }
    return "";
}

constexpr std::size_t kRptcWidths[] = {8, 9, 9, 2, 2, 8, 9, 3, 20, 19, 1, 124, 40, 40};

std::string* rptcField(RptcConfig& c, std::size_t i) {
    std::string* f[] = {&c.callsign, &c.rx_freq,   &c.tx_freq,     &c.tx_power,  &c.color_code,
                        &c.latitude, &c.longitude, &c.height,      &c.location,  &c.description,
                        &c.slots,    &c.url,       &c.software_id, &c.package_id};
    return f[i];
}
const std::string& rptcField(const RptcConfig& c, std::size_t i) {
    return *rptcField(const_cast<RptcConfig&>(c), i);
}

std::string trimRight(std::string_view s) {
    std::size_t n = s.size();
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\0')) {
        --n;
    }
    return std::string(s.substr(0, n));
}

}  // namespace

std::string_view toString(HbpType t) {
    switch (t) {
        case HbpType::Rptl:
            return "RPTL";
        case HbpType::Rptk:
            return "RPTK";
        case HbpType::Rptc:
            return "RPTC";
        case HbpType::Rpto:
            return "RPTO";
        case HbpType::Rptping:
            return "RPTPING";
        case HbpType::Rptcl:
            return "RPTCL";
        case HbpType::Rptack:
            return "RPTACK";
        case HbpType::Mstnak:
            return "MSTNAK";
        case HbpType::Mstpong:
            return "MSTPONG";
        case HbpType::Mstcl:
            return "MSTCL";
        case HbpType::Dmrd:
            return "DMRD";
        case HbpType::Dmra:
            return "DMRA";
        case HbpType::Rptsbkn:
            return "RPTSBKN";
    }
    return "?";
}

std::array<std::uint8_t, 4> idBytes(std::uint32_t id) {
    return {static_cast<std::uint8_t>(id >> 24), static_cast<std::uint8_t>(id >> 16),
            static_cast<std::uint8_t>(id >> 8), static_cast<std::uint8_t>(id)};
}

HbpMessage hbpSimple(HbpType type, std::uint32_t peer_id) {
    HbpMessage m;
    m.type = type;
    m.peer_id = peer_id;
    m.ack = idBytes(peer_id);
    return m;
}

Result<HbpMessage> decodeHbp(ByteView d) {
    const Prefix* found = nullptr;
    for (const auto& p : kPrefixes) {
        if (d.size() >= p.magic.size() &&
            std::memcmp(d.data(), p.magic.data(), p.magic.size()) == 0) {
            found = &p;
            break;
        }
    }
    if (found == nullptr) {
        return Error{"bad_magic", 0};
    }
    HbpMessage m;
    m.type = found->type;
    const std::size_t n = found->magic.size();
    const auto bad = Error{"bad_length", static_cast<std::int64_t>(d.size())};
    ByteReader r(d);
    r.skip(n);
    switch (m.type) {
        case HbpType::Rptl:
        case HbpType::Rptping:
        case HbpType::Mstpong:
        case HbpType::Mstnak:
        case HbpType::Rptcl:
        case HbpType::Mstcl:
        case HbpType::Rptsbkn:
            if (d.size() != n + 4) {
                return bad;
            }
            m.peer_id = r.u32();
            m.ack = idBytes(m.peer_id);
            break;
        case HbpType::Rptack:
            if (d.size() != n + 4) {
                return bad;
            }
            m.ack = r.array<4>();
            m.peer_id = (std::uint32_t{m.ack[0]} << 24) | (std::uint32_t{m.ack[1]} << 16) |
                        (std::uint32_t{m.ack[2]} << 8) | m.ack[3];
            break;
        case HbpType::Rptk:
            if (d.size() != n + 4 + 32) {
                return bad;
            }
            m.peer_id = r.u32();
            m.key = r.array<32>();
            break;
        case HbpType::Rptc: {
            if (d.size() != kRptcLength) {
                return bad;
            }
            m.peer_id = r.u32();
            for (std::size_t i = 0; i < std::size(kRptcWidths); ++i) {
                ByteView f = r.take(kRptcWidths[i]);
                *rptcField(m.config, i) =
                    trimRight(std::string_view(reinterpret_cast<const char*>(f.data()), f.size()));
            }
            break;
        }
        case HbpType::Rpto:
        case HbpType::Dmra: {
            if (d.size() < n + 4 || d.size() > n + 4 + 512) {
                return bad;
            }
            m.peer_id = r.u32();
            ByteView rest = r.rest();
            m.text.assign(reinterpret_cast<const char*>(rest.data()), rest.size());
            break;
        }
        case HbpType::Dmrd:
            break;
    }
    if (!r.ok()) {
        return bad;
    }
    return m;
}

Bytes encodeHbp(const HbpMessage& m) {
    Bytes out;
    ByteWriter w(out);
    w.str(magicOf(m.type));
    switch (m.type) {
        case HbpType::Rptack:
            w.bytes(m.ack);
            break;
        case HbpType::Rptk:
            w.u32(m.peer_id);
            w.bytes(m.key);
            break;
        case HbpType::Rptc:
            w.u32(m.peer_id);
            for (std::size_t i = 0; i < std::size(kRptcWidths); ++i) {
                std::string f = rptcField(m.config, i);
                f.resize(kRptcWidths[i], ' ');
                w.str(f);
            }
            break;
        case HbpType::Rpto:
        case HbpType::Dmra:
            w.u32(m.peer_id);
            w.str(m.text);
            break;
        case HbpType::Dmrd:
            break;
        default:
            w.u32(m.peer_id);
            break;
    }
    return out;
}

std::array<std::uint8_t, 32> hbpLoginKey(ByteView salt, std::string_view password) {
    Bytes buf(salt.begin(), salt.end());
    buf.insert(buf.end(), password.begin(), password.end());
    std::array<std::uint8_t, 32> out{};
    SHA256(buf.data(), buf.size(), out.data());
    return out;
}

}  // namespace iwf::lmr::dmr
