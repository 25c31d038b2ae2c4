#include "lmr_adapters/dmr/hbp.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

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
    {"DMRA", HbpType::Dmra},       {"DMRG", HbpType::Dmrg},       {"RPTG", HbpType::Rptg},
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
// Fields 3..13 (power .. package ID): fixed widths, 268 characters at the end of the config.
constexpr std::size_t kRptcTail = 268;

bool allDigits(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    for (char ch : s) {
        if (ch < '0' || ch > '9') {
            return false;
        }
    }
    return true;
}

// How many characters of `mid` (the two frequencies written with %09u, 18 or more digits) are
// the RX frequency: both parts digits, a part longer than 9 without a leading zero (%09u pads
// only up to 9), and of the splits that remain the one with the closer frequencies (a
// repeater's RX and TX are in one band). 9 when nothing fits.
std::size_t rxFrequencyWidth(std::string_view mid) {
    std::size_t best = 9;
    std::uint64_t best_diff = std::numeric_limits<std::uint64_t>::max();
    for (std::size_t a = 9; a + 9 <= mid.size(); ++a) {
        const std::string_view rx = mid.substr(0, a);
        const std::string_view tx = mid.substr(a);
        if (!allDigits(rx) || !allDigits(tx) || tx.size() > 19 || rx.size() > 19 ||
            (rx.size() > 9 && rx[0] == '0') || (tx.size() > 9 && tx[0] == '0')) {
            continue;
        }
        const std::uint64_t r = std::stoull(std::string(rx));
        const std::uint64_t t = std::stoull(std::string(tx));
        const std::uint64_t diff = r > t ? r - t : t - r;
        if (diff < best_diff) {
            best_diff = diff;
            best = a;
        }
    }
    return best;
}

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
        case HbpType::Dmrg:
            return "DMRG";
        case HbpType::Rptg:
            return "RPTG";
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
            if (d.size() < kRptcLength || d.size() > kRptcMaxLength) {
                return bad;
            }
            m.peer_id = r.u32();
            ByteView rest = r.rest();
            const std::string_view cfg(reinterpret_cast<const char*>(rest.data()), rest.size());
            m.config.callsign = trimRight(cfg.substr(0, 8));
            const std::string_view mid = cfg.substr(8, cfg.size() - 8 - kRptcTail);
            const std::size_t rx = rxFrequencyWidth(mid);
            m.config.rx_freq = trimRight(mid.substr(0, rx));
            m.config.tx_freq = trimRight(mid.substr(rx));
            std::size_t off = cfg.size() - kRptcTail;
            for (std::size_t i = 3; i < std::size(kRptcWidths); ++i) {
                *rptcField(m.config, i) = trimRight(cfg.substr(off, kRptcWidths[i]));
                off += kRptcWidths[i];
            }
            break;
        }
        case HbpType::Rpto:
        case HbpType::Dmra:
        case HbpType::Dmrg:
        case HbpType::Rptg: {
            // DMRA / DMRG / RPTG: at most 50 bytes (DMRGateway MMDVMNetwork.cpp clock() keeps
            // "length <= 50"; RPTG is 25 bytes).
            const std::size_t max = m.type == HbpType::Rpto ? n + 4 + 512 : 50;
            if (d.size() < n + 4 || d.size() > max) {
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
                if ((i == 1 || i == 2) && allDigits(f)) {
                    // %09u: zero padded to 9, never cut (10 digits from 1 GHz up).
                    f.insert(0, f.size() < 9 ? 9 - f.size() : 0, '0');
                } else {
                    f.resize(kRptcWidths[i], ' ');
                }
                w.str(f);
            }
            break;
        case HbpType::Rpto:
        case HbpType::Dmra:
        case HbpType::Dmrg:
        case HbpType::Rptg:
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

bool RptoOptions::allows(std::uint8_t slot, std::uint32_t tg) const {
    const auto& list = slot == 2 ? ts2 : ts1;
    if (!list) {
        return true;
    }
    return std::find(list->begin(), list->end(), tg) != list->end();
}

namespace {
std::string_view trimSpaces(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\0' ||
                          s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

std::optional<std::uint32_t> talkgroupOf(std::string_view v) {
    if (!allDigits(v) || v.size() > 8) {  // 24-bit IDs: at most 8 decimal digits
        return std::nullopt;
    }
    const unsigned long x = std::stoul(std::string(v));
    if (x > 0xFFFFFF) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(x);
}
}  // namespace

RptoOptions parseRptoOptions(std::string_view text, std::size_t* bad_items) {
    RptoOptions o;
    std::size_t bad = 0;
    while (!text.empty()) {
        const std::size_t semi = text.find(';');
        std::string_view item = trimSpaces(text.substr(0, semi));
        text = semi == std::string_view::npos ? std::string_view{} : text.substr(semi + 1);
        if (item.empty()) {
            continue;
        }
        const std::size_t eq = item.find('=');
        if (eq == std::string_view::npos) {
            ++bad;
            continue;
        }
        const std::string_view key = trimSpaces(item.substr(0, eq));
        const std::string_view value = trimSpaces(item.substr(eq + 1));
        // TS1 / TS2: a comma list (HBlink4); TS1_n / TS2_n: one talkgroup each (DMR+).
        const bool list_key = key == "TS1" || key == "TS2";
        const bool one_key = key.size() > 4 &&
                             (key.substr(0, 4) == "TS1_" || key.substr(0, 4) == "TS2_") &&
                             allDigits(key.substr(4));
        if (!list_key && !one_key) {
            o.other.emplace_back(std::string(key), std::string(value));
            continue;
        }
        auto& slot = key[2] == '1' ? o.ts1 : o.ts2;
        if (value == "*") {
            continue;  // every talkgroup: not restricted
        }
        if (!slot) {
            slot.emplace();
        }
        std::string_view rest = value;
        while (!rest.empty()) {
            const std::size_t comma = rest.find(',');
            const std::string_view v = trimSpaces(rest.substr(0, comma));
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
            if (v.empty()) {
                continue;
            }
            if (auto tg = talkgroupOf(v)) {
                slot->push_back(*tg);
            } else {
                ++bad;
            }
        }
    }
    if (bad_items != nullptr) {
        *bad_items = bad;
    }
    return o;
}

std::optional<DmraFragment> parseDmra(ByteView d, std::uint32_t peer_id) {
    if (d.size() < 12 || d.size() > 50 || std::memcmp(d.data(), "DMRA", 4) != 0) {
        return std::nullopt;
    }
    DmraFragment f;
    const std::uint32_t id = (std::uint32_t{d[4]} << 24) | (std::uint32_t{d[5]} << 16) |
                             (std::uint32_t{d[6]} << 8) | d[7];
    std::size_t off = 4;
    if (id == peer_id && d.size() >= 13) {
        f.from_gateway = true;
        off = 8;
    }
    f.src = (std::uint32_t{d[off]} << 16) | (std::uint32_t{d[off + 1]} << 8) | d[off + 2];
    f.block = d[off + 3];
    if (f.block > 3) {
        return std::nullopt;
    }
    f.data.assign(d.begin() + static_cast<std::ptrdiff_t>(off + 4), d.end());
    return f;
}

std::array<std::uint8_t, 32> hbpLoginKey(ByteView salt, std::string_view password) {
    Bytes buf(salt.begin(), salt.end());
    buf.insert(buf.end(), password.begin(), password.end());
    std::array<std::uint8_t, 32> out{};
    SHA256(buf.data(), buf.size(), out.data());
    return out;
}

}  // namespace iwf::lmr::dmr
