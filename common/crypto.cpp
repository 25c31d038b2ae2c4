#include "common/crypto.hpp"

#include <fmt/format.h>

namespace iwf {

CryptoWidths cryptoWidths(LmrFamily f) {
    switch (f) {
        case LmrFamily::P25:
            return {8, 16, 9};
        case LmrFamily::Dmr:
            return {3, 8, 4};
        case LmrFamily::Tetra:
            return {10, 20, 16};
        case LmrFamily::Analog:
            return {0, 0, 0};
    }
    return {0, 0, 0};
}

std::string toString(const CryptoSync& c) {
    if (!c.encrypted) {
        return fmt::format("{} clear", toString(c.family));
    }
    return fmt::format("{} algid=0x{:02x} kid=0x{:x} mi={}", toString(c.family), c.algid, c.key_id,
                       toHex(c.mi.view()));
}

}  // namespace iwf
