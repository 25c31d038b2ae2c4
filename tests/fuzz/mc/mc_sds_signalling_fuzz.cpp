// mcdata-signalling bodies: SDS SIGNALLING PAYLOAD and SDS NOTIFICATION. Property: a message
// that decodes re-encodes and decodes to the same value.
#include <cstdint>
#include <cstdlib>

#include "mc_adapters/mcdata/sds_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iwf::mc::mcdata;
    iwf::ByteView in(data, size);
    if (auto s = decodeSdsSignalling(in)) {
        iwf::Bytes out;
        if (!encode(*s, out).ok()) {
            std::abort();
        }
        auto again = decodeSdsSignalling(out);
        if (!again || !(*again == *s)) {
            std::abort();
        }
    }
    if (auto n = decodeSdsNotification(in)) {
        iwf::Bytes out;
        if (!encode(*n, out).ok()) {
            std::abort();
        }
        auto again = decodeSdsNotification(out);
        if (!again || !(*again == *n)) {
            std::abort();
        }
    }
    return 0;
}
