#pragma once
// ITU-T G.711 companding (µ-law and A-law, 8 bits per sample) for the analog-rtp link (RTP
// payload types 0 PCMU and 8 PCMA, RFC 3551 section 4.5.14), with libspandsp's
// implementation (Debian libspandsp-dev, spandsp/g711.h linear_to_ulaw, ulaw_to_linear,
// linear_to_alaw, alaw_to_linear), not a hand-written one.
//
// Linear samples are 16-bit, full scale 32768. G.711 quantises a sign-magnitude value of 14
// bits (µ-law) or 13 bits (A-law); libspandsp takes the magnitude of a negative 16-bit
// sample as -x before dropping the low bits. For µ-law that is one step away, at a decision
// value, from Sun's g711.c (CPython audioop: -(x >> 2)) for inputs between two 14-bit steps,
// and from ITU-T G.191's reference (STL g711.c ulaw_compress: ones' complement, (~x) >> 2);
// G.711 does not say how a 16-bit sample maps onto its 14-bit input. On the 14-bit values
// libspandsp and audioop agree; for A-law all three agree (tests/unit/analog/g711_vectors.py).
//
// Pure functions: no allocation, no state.

#include <cstdint>
#include <span>
#include <string_view>

namespace iwf::media {

enum class G711Law : std::uint8_t { Ulaw, Alaw };

std::uint8_t g711Compress(G711Law law, std::int16_t linear);
std::int16_t g711Expand(G711Law law, std::uint8_t code);

// n = min(in.size(), out.size()) samples; returns n.
std::size_t g711Encode(G711Law law, std::span<const std::int16_t> in, std::span<std::uint8_t> out);
std::size_t g711Decode(G711Law law, std::span<const std::uint8_t> in, std::span<std::int16_t> out);

// "pcmu" / "pcma", the RFC 3551 encoding names.
std::string_view g711Name(G711Law law);

}  // namespace iwf::media
