// Fuzz target: the analog-rtp decoder. A decoded packet re-encodes (V=2, no CSRC, extension
// or padding) to bytes that decode to the same header fields and payload; the payload's
// G.711 expansion and level run on whatever decoded.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "lmr_adapters/analog/analog_rtp.hpp"
#include "lmr_adapters/analog/rtp_link.hpp"
#include "media/g711.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iwf::lmr::analog;
    auto r = decodeAnalogRtp(iwf::ByteView(data, size));
    if (!r) {
        return 0;
    }
    iwf::media::NbFrame pcm;
    iwf::media::g711Decode(
        r->payload_type == kPtPcmu ? iwf::media::G711Law::Ulaw : iwf::media::G711Law::Alaw,
        r->payload, pcm);
    (void)levelDbfs(pcm);
    AnalogRtpBuffer out;
    if (!encodeAnalogRtp(*r, out).ok()) {
        std::abort();
    }
    auto again = decodeAnalogRtp(out.view());
    if (!again || again->marker != r->marker || again->payload_type != r->payload_type ||
        again->sequence != r->sequence || again->timestamp != r->timestamp ||
        again->ssrc != r->ssrc || again->payload.size() != r->payload.size() ||
        std::memcmp(again->payload.data(), r->payload.data(), r->payload.size()) != 0) {
        std::abort();
    }
    return 0;
}
