#pragma once
// A hand-assembled encrypted DMR voice call as HBP DMRD packets (shared by the unit,
// integration and benchmark code): voice LC header x2, PI header, two voice superframes
// A..F (embedded LC in B..E, EMB PI bit set), terminator with LC.
//
// The PI header and LC bytes are written out by hand here (not produced by the encoder
// under test); the FEC layers around them come from burst.hpp, which the FEC tests check.

#include <array>
#include <cstdint>
#include <vector>

#include "lmr_adapters/dmr/burst.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"
#include "lmr_adapters/dmr/fec.hpp"

namespace iwf::lmr::dmr::testdata {

inline constexpr std::uint32_t kSrc = 3120097;  // 0x2F9BE1
inline constexpr std::uint32_t kGroup = 91;     // 0x00005B
inline constexpr std::uint32_t kPeer = 312000;
inline constexpr std::uint32_t kStream = 0xA1B2C3D4;
inline constexpr std::uint8_t kCc = 1;

// LC: PF 0, FLCO 0 (group voice), FID 0, service options 0x40 (privacy), TG 91, src 3120001.
inline constexpr std::array<std::uint8_t, 9> kLcBytes = {0x00, 0x00, 0x40, 0x00, 0x00,
                                                         0x5B, 0x2F, 0x9B, 0xE1};
// PI header: group flag + ALGID 4 (AES-128) = 0x24, FID 0x10, key ID 0x2A, IV DEADBEEF,
// destination TG 91; CRC bytes filled in with mask 0x6969.
inline std::array<std::uint8_t, 12> piBlock() {
    std::array<std::uint8_t, 12> b = {0x24, 0x10, 0x2A, 0xDE, 0xAD, 0xBE,
                                      0xEF, 0x00, 0x00, 0x5B, 0x00, 0x00};
    setCrcBlock(b, kCrcMaskPiHeader);
    return b;
}

inline Burst dataBurst(const std::array<std::uint8_t, 12>& block, DataType t) {
    Burst b{};
    insertInfo(b, bptc19696Encode(block));
    encodeSlotType(b, kCc, static_cast<std::uint8_t>(t));
    setSync(b, SyncPattern::BsData);
    return b;
}

inline std::array<std::uint8_t, 12> lcBlock(std::uint8_t mask) {
    std::array<std::uint8_t, 12> b{};
    for (std::size_t i = 0; i < 9; ++i) {
        b[i] = kLcBytes[i];
    }
    const auto p = rs129Parity(kLcBytes);
    for (std::size_t i = 0; i < 3; ++i) {
        b[9 + i] = p[i] ^ mask;
    }
    return b;
}

// Opaque "ciphertext": a deterministic pattern per burst (never decoded by anybody).
inline std::array<std::uint8_t, 27> ambe(unsigned n) {
    std::array<std::uint8_t, 27> a{};
    std::uint32_t x = 0x9E3779B9u * (n + 1);
    for (auto& v : a) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v = static_cast<std::uint8_t>(x);
    }
    return a;
}

inline DmrdPacket packet(std::uint8_t seq, FrameType ft, std::uint8_t dv, const Burst& b) {
    DmrdPacket p;
    p.seq = seq;
    p.src = kSrc;
    p.dst = kGroup;
    p.peer_id = kPeer;
    p.slot = 1;
    p.unit_call = false;
    p.frame_type = ft;
    p.dtype_vseq = dv;
    p.stream_id = kStream;
    p.burst = b;
    return p;
}

inline std::vector<DmrdPacket> encryptedCall(unsigned superframes = 2) {
    std::vector<DmrdPacket> out;
    std::uint8_t seq = 0;
    const auto hdr = dataBurst(lcBlock(0x96), DataType::VoiceLcHeader);
    out.push_back(packet(seq++, FrameType::DataSync, 1, hdr));
    out.push_back(packet(seq++, FrameType::DataSync, 1, hdr));
    out.push_back(packet(seq++, FrameType::DataSync, 0, dataBurst(piBlock(), DataType::PiHeader)));
    const EmbeddedFragments emb = encodeEmbeddedLc(kLcBytes);
    unsigned n = 0;
    for (unsigned sf = 0; sf < superframes; ++sf) {
        for (std::uint8_t i = 0; i < 6; ++i) {
            const auto a = ambe(n++);
            std::array<std::uint8_t, 6> middle{};
            Burst b = joinVoiceBurst(a, middle);
            if (i == 0) {
                setSync(b, SyncPattern::BsVoice);
                out.push_back(packet(seq++, FrameType::VoiceSync, 0, b));
                continue;
            }
            Emb e;
            e.color_code = kCc;
            e.pi = true;
            e.lcss = i == 1 ? 1 : i == 4 ? 2 : i == 5 ? 0 : 3;
            encodeEmb(b, e);
            if (i <= 4) {
                setEmbeddedFragment(b, emb[i - 1]);
            }
            out.push_back(packet(seq++, FrameType::Voice, i, b));
        }
    }
    out.push_back(packet(seq++, FrameType::DataSync, 2,
                         dataBurst(lcBlock(0x99), DataType::TerminatorWithLc)));
    return out;
}

}  // namespace iwf::lmr::dmr::testdata
