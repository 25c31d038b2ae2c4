#pragma once
// DMR forward error correction and checks (ETSI TS 102 361-1 annex B), pure functions:
//   CRC-CCITT with the DMR masks (B.3.7, computed with libosmocore's CRC generator),
//   Golay(20,8,7) for the slot type (B.3.1), QR(16,7,6) for the EMB (B.3.2),
//   Hamming (15,11,3), (13,9,3), (16,11,4) (B.3.5), BPTC(196,96) (B.1.1),
//   Reed-Solomon (12,9) over GF(2^8) for the full LC (B.3.6), the embedded LC BPTC (B.2.1)
//   with its 5-bit checksum (B.3.11).
// Bit vectors are arrays of 0/1 bytes ("unpacked bits", libosmocore's ubit_t), MSB first.
// See docs/protocols/dmr-hbp.md for the sources of every constant.

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::lmr::dmr {

// --- bit helpers (MSB first within each byte) ---
inline bool getBit(ByteView b, std::size_t i) {
    return ((b[i >> 3] >> (7 - (i & 7))) & 1) != 0;
}
inline void setBit(MutableByteView b, std::size_t i, bool v) {
    const auto mask = static_cast<std::uint8_t>(0x80 >> (i & 7));
    if (v) {
        b[i >> 3] = static_cast<std::uint8_t>(b[i >> 3] | mask);
    } else {
        b[i >> 3] = static_cast<std::uint8_t>(b[i >> 3] & ~mask);
    }
}

// --- CRC-CCITT (x^16 + x^12 + x^5 + 1, register preset 0, result inverted) ---
// Masks XORed onto the CRC to tell block kinds apart (TS 102 361-1 table B.21).
inline constexpr std::uint16_t kCrcMaskPiHeader = 0x6969;
inline constexpr std::uint16_t kCrcMaskDataHeader = 0xCCCC;
inline constexpr std::uint16_t kCrcMaskCsbk = 0xA5A5;
inline constexpr std::uint16_t kCrcMaskMbcHeader = 0xAAAA;

// CRC of `data` (whole bytes), before any mask.
std::uint16_t crcCcitt(ByteView data);
// A 12-byte block: bytes 0..9 payload, 10..11 CRC (big-endian) XOR mask.
bool checkCrcBlock(ByteView block12, std::uint16_t mask);
void setCrcBlock(MutableByteView block12, std::uint16_t mask);

struct FecDecoded {
    std::uint32_t data = 0;
    unsigned corrected = 0;  // bit errors corrected
};

// --- Golay (20,8,7): 8 data bits, 12 parity; codeword bit 19 = data MSB ---
std::uint32_t golay2087Encode(std::uint8_t data);
// Corrects up to 3 bit errors; more -> "golay_uncorrectable".
Result<FecDecoded> golay2087Decode(std::uint32_t codeword20);

// --- QR (16,7,6): 7 data bits, 9 parity; codeword bit 15 = data MSB ---
std::uint16_t qr1676Encode(std::uint8_t data7);
// Corrects up to 2 bit errors; more -> "qr_uncorrectable".
Result<FecDecoded> qr1676Decode(std::uint16_t codeword16);

// --- Hamming codes on unpacked bits; decode returns bits corrected (0/1) or -1 ---
void hamming15113Encode(std::uint8_t* d);
int hamming15113Decode(std::uint8_t* d);
void hamming1393Encode(std::uint8_t* d);
int hamming1393Decode(std::uint8_t* d);
void hamming16114Encode(std::uint8_t* d);
int hamming16114Decode(std::uint8_t* d);

// --- BPTC (196,96) ---
using Bits196 = std::array<std::uint8_t, 196>;
// 12 bytes (96 bits) -> 196 interleaved bits as transmitted.
Bits196 bptc19696Encode(ByteView info12);
struct BptcDecoded {
    std::array<std::uint8_t, 12> info{};
    unsigned corrected = 0;
};
// Deinterleaves, corrects (iterated row/column Hamming), extracts 96 bits;
// "bptc_uncorrectable" when a row or column still fails its check.
Result<BptcDecoded> bptc19696Decode(const Bits196& interleaved);

// --- Reed-Solomon (12,9) over GF(2^8), primitive polynomial x^8+x^4+x^3+x^2+1 ---
std::array<std::uint8_t, 3> rs129Parity(ByteView data9);
// Checks and corrects one byte error in place; returns bytes corrected or "rs_uncorrectable".
Result<unsigned> rs129Correct(MutableByteView codeword12);

// --- Embedded LC (72-bit LC + 5-bit checksum in a 128-bit BPTC, 4 fragments of 32 bits) ---
using EmbeddedFragments = std::array<std::array<std::uint8_t, 4>, 4>;
std::uint8_t embeddedLcChecksum(ByteView lc9);  // sum of the 9 bytes mod 31
EmbeddedFragments encodeEmbeddedLc(ByteView lc9);
struct EmbeddedLcDecoded {
    std::array<std::uint8_t, 9> lc{};
    unsigned corrected = 0;
};
Result<EmbeddedLcDecoded> decodeEmbeddedLc(const EmbeddedFragments& fragments);

}  // namespace iwf::lmr::dmr
