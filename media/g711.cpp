#include "media/g711.hpp"

#include <algorithm>

// spandsp 0.0.6's g711.h needs the SPAN_DECLARE macro (telephony.h) and top_bit()
// (bit_operations.h) declared first; <spandsp.h> would pull libtiff's headers in as well.
// clang-format off
extern "C" {
#include <spandsp/telephony.h>
#include <spandsp/bit_operations.h>
#include <spandsp/g711.h>
}
// clang-format on

namespace iwf::media {

std::uint8_t g711Compress(G711Law law, std::int16_t linear) {
    return law == G711Law::Ulaw ? linear_to_ulaw(linear) : linear_to_alaw(linear);
}

std::int16_t g711Expand(G711Law law, std::uint8_t code) {
    return law == G711Law::Ulaw ? ulaw_to_linear(code) : alaw_to_linear(code);
}

std::size_t g711Encode(G711Law law, std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
    const std::size_t n = std::min(in.size(), out.size());
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = g711Compress(law, in[i]);
    }
    return n;
}

std::size_t g711Decode(G711Law law, std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
    const std::size_t n = std::min(in.size(), out.size());
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = g711Expand(law, in[i]);
    }
    return n;
}

std::string_view g711Name(G711Law law) {
    return law == G711Law::Ulaw ? "pcmu" : "pcma";
}

}  // namespace iwf::media
