#include "lmr_adapters/dmr/talker_alias.hpp"

#include <cstring>

namespace iwf::lmr::dmr {

namespace {

// Data bits available with blocks 0..k present (header 49, each block 56).
std::size_t bitsUpTo(std::size_t blocks) {
    return blocks == 0 ? 0 : 49 + 56 * (blocks - 1);
}

void appendUtf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x20 || cp == 0x7F || cp == '"' || cp == '\\' || cp == '<' || cp == '>' ||
        (cp >= 0x80 && cp < 0xA0) || (cp >= 0xD800 && cp <= 0xDFFF)) {
        out.push_back('?');  // control characters, quotes, lone surrogates
    } else if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Copies UTF-8 octets, replacing what is not valid UTF-8 or is a control character by '?'.
void appendUtf8Octets(std::string& out, const std::uint8_t* p, std::size_t n) {
    std::size_t i = 0;
    while (i < n) {
        const std::uint8_t b = p[i];
        std::size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : 0;
        if (len == 0 || i + len > n) {
            out.push_back('?');
            ++i;
            continue;
        }
        std::uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1Fu) : (b & 0x0Fu);
        bool ok = true;
        for (std::size_t k = 1; k < len; ++k) {
            if ((p[i + k] & 0xC0) != 0x80) {
                ok = false;
                break;
            }
            cp = (cp << 6) | (p[i + k] & 0x3Fu);
        }
        if (!ok || (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800)) {
            out.push_back('?');
            ++i;
            continue;
        }
        appendUtf8(out, cp);
        i += len;
    }
}

std::string trimmed(std::string s) {
    while (!s.empty() && s.back() == ' ') {
        s.pop_back();  // space padding is not part of the name
    }
    return s;
}

}  // namespace

std::optional<std::string> decodeTalkerAlias(const std::array<std::uint8_t, 28>& buf,
                                             std::uint8_t have_mask) {
    if ((have_mask & 0x01) == 0) {
        return std::nullopt;  // the header tells format and length
    }
    const unsigned format = (buf[0] >> 6) & 0x03;
    const std::size_t length = (buf[0] >> 1) & 0x1F;
    std::size_t need_bits = 0;
    switch (format) {
        case 0:
            need_bits = 7 * length;
            break;
        case 1:
        case 2:
            need_bits = 1 + 8 * length;  // byte aligned from header byte 3 (LC byte 3)
            break;
        default:
            need_bits = 1 + 16 * length;
            break;
    }
    // The blocks the length needs must all be present (in order: a missing middle block
    // would shift the text).
    std::size_t blocks = 1;
    while (bitsUpTo(blocks) < need_bits && blocks < 4) {
        ++blocks;
    }
    if (bitsUpTo(blocks) < need_bits) {
        return std::nullopt;  // cannot happen with a 5-bit length; kept for safety
    }
    for (std::size_t b = 0; b < blocks; ++b) {
        if ((have_mask & (1U << b)) == 0) {
            return std::nullopt;
        }
    }
    std::string out;
    if (format == 0) {
        // The data bits start at the header byte's last bit (bit 0) and run on through the
        // blocks; each character is 7 bits, MSB first.
        std::size_t bit = 7;  // bit index into buf (MSB first), past format and length
        for (std::size_t c = 0; c < length; ++c) {
            std::uint32_t ch = 0;
            for (int k = 0; k < 7; ++k, ++bit) {
                ch = (ch << 1) | ((buf[bit / 8] >> (7 - bit % 8)) & 1U);
            }
            if (ch == 0) {
                break;
            }
            appendUtf8(out, ch);
        }
    } else if (format == 1) {
        for (std::size_t c = 0; c < length; ++c) {
            if (buf[1 + c] == 0) {
                break;
            }
            appendUtf8(out, buf[1 + c]);  // ISO 8859-1 code points are the octet values
        }
    } else if (format == 2) {
        std::size_t n = 0;
        while (n < length && buf[1 + n] != 0) {
            ++n;
        }
        appendUtf8Octets(out, buf.data() + 1, n);
    } else {
        for (std::size_t c = 0; c < length; ++c) {
            const std::uint32_t cp = (std::uint32_t{buf[1 + 2 * c]} << 8) | buf[2 + 2 * c];
            if (cp == 0) {
                break;
            }
            appendUtf8(out, cp);
        }
    }
    out = trimmed(std::move(out));
    if (out.empty()) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::string> TalkerAliasAssembler::feed(std::uint8_t block, ByteView b) {
    if (block > 3 || b.size() != 7) {
        return std::nullopt;
    }
    std::uint8_t* dst = buf_.data() + 7 * block;
    if (block == 0 && (have_ & 0x01) != 0 && std::memcmp(dst, b.data(), 7) != 0) {
        // A different header: another alias (format or length changed, or a new talker).
        reset();
    }
    std::memcpy(dst, b.data(), 7);
    have_ = static_cast<std::uint8_t>(have_ | (1U << block));
    auto alias = decodeTalkerAlias(buf_, have_);
    if (!alias || alias == last_) {
        return std::nullopt;
    }
    last_ = alias;
    return alias;
}

std::optional<std::string> TalkerAliasAssembler::feedLc(ByteView lc9) {
    if (lc9.size() != 9) {
        return std::nullopt;
    }
    const std::uint8_t flco = lc9[0] & 0x3F;
    if (flco < kFlcoTalkerAliasHeader || flco > kFlcoTalkerAliasBlock3) {
        return std::nullopt;
    }
    return feed(static_cast<std::uint8_t>(flco - kFlcoTalkerAliasHeader), lc9.subspan(2, 7));
}

void TalkerAliasAssembler::reset() {
    buf_.fill(0);
    have_ = 0;
    last_.reset();
}

}  // namespace iwf::lmr::dmr
