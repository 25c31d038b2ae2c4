#pragma once
// Test helper: hand-assembles a P25 voice superframe in the open-network record format
// (layouts from shared/research/lmr.md §1.7), independently of the codec under test.

#include <array>
#include <cstdint>
#include <vector>

#include "common/bytes.hpp"

namespace iwf::lmr::p25::test {

struct SuperframeSpec {
    std::uint8_t lcf = 0x00;
    std::uint8_t mfid = 0x00;
    std::uint8_t service_options = 0x00;
    std::uint32_t dst = 0;
    std::uint32_t src = 0;
    std::array<std::uint8_t, 9> next_mi{};
    std::uint8_t algid = 0x80;
    std::uint16_t kid = 0;
    std::uint8_t imbe_seed = 0;  // IMBE byte k of frame i = seed + 16*i + k
};

inline Bytes imbeFor(const SuperframeSpec& s, int frame) {
    Bytes b(11);
    for (int k = 0; k < 11; ++k) {
        b[k] = static_cast<std::uint8_t>(s.imbe_seed + 16 * frame + k);
    }
    return b;
}

// 18 records, frames 0..17 (tags 0x62..0x73).
inline std::vector<Bytes> buildSuperframe(const SuperframeSpec& s) {
    std::vector<Bytes> out;
    for (int i = 0; i < 18; ++i) {
        const std::uint8_t tag = static_cast<std::uint8_t>(0x62 + i);
        Bytes r{tag};
        Bytes imbe = imbeFor(s, i);
        auto u24 = [&](std::uint32_t v) {
            r.push_back(static_cast<std::uint8_t>(v >> 16));
            r.push_back(static_cast<std::uint8_t>(v >> 8));
            r.push_back(static_cast<std::uint8_t>(v));
        };
        if (tag == 0x62 || tag == 0x6B) {
            Bytes hdr{0x02, 0x02, 0x0C, 0x0B, 0x12, 0x64, 0x00, 0x00, 0x80};
            r.insert(r.end(), hdr.begin(), hdr.end());
            r.insert(r.end(), imbe.begin(), imbe.end());
            r.push_back(0x02);
        } else if (tag == 0x63 || tag == 0x6C) {
            r.insert(r.end(), imbe.begin(), imbe.end());
            r.push_back(0x00);
            r.push_back(0x02);
        } else if (tag == 0x6A || tag == 0x73) {
            r.push_back(0xA1);  // LSD pair
            r.push_back(0xB2);
            r.push_back(0x00);
            r.insert(r.end(), imbe.begin(), imbe.end());
            r.push_back(0x02);
        } else {
            if (tag == 0x64) {
                r.push_back(s.lcf);
                r.push_back(s.mfid);
                r.push_back(s.service_options);
            } else if (tag == 0x65) {
                u24(s.dst);
            } else if (tag == 0x66) {
                u24(s.src);
            } else if (tag >= 0x6D && tag <= 0x6F) {
                const int off = (tag - 0x6D) * 3;
                r.push_back(s.next_mi[off]);
                r.push_back(s.next_mi[off + 1]);
                r.push_back(s.next_mi[off + 2]);
            } else if (tag == 0x70) {
                r.push_back(s.algid);
                r.push_back(static_cast<std::uint8_t>(s.kid >> 8));
                r.push_back(static_cast<std::uint8_t>(s.kid));
            } else {
                // RS parity bytes (opaque to us): a recognisable pattern
                r.push_back(static_cast<std::uint8_t>(0xE0 + i));
                r.push_back(static_cast<std::uint8_t>(0xE1 + i));
                r.push_back(static_cast<std::uint8_t>(0xE2 + i));
            }
            r.push_back(0x00);
            r.insert(r.end(), imbe.begin(), imbe.end());
            r.push_back(0x02);
        }
        out.push_back(r);
    }
    return out;
}

}  // namespace iwf::lmr::p25::test
