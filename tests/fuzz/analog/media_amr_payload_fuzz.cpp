// Fuzz target: RFC 4867 payload decoder, both layouts and both codecs. A decoded payload
// re-encodes, and that encoding decodes to the same payload.
#include <cstdint>
#include <cstdlib>

#include "media/amr_payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iwf::media;
    if (size < 1) {
        return 0;
    }
    const AmrLayout layout{(data[0] & 1) ? AmrCodec::Amr : AmrCodec::AmrWb, (data[0] & 2) != 0};
    auto r = decodeAmrPayload(layout, iwf::ByteView(data + 1, size - 1));
    if (!r) {
        return 0;
    }
    (void)checkAmrModeSet(layout.codec, 0b101, *r);
    AmrPayloadBuffer out;
    if (!encodeAmrPayload(layout, *r, out).ok()) {
        std::abort();
    }
    auto again = decodeAmrPayload(layout, out.view());
    if (!again || !(*again == *r)) {
        std::abort();
    }
    return 0;
}
