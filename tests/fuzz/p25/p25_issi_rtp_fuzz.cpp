// Fuzz target: ISSI RTP packet decoder (RTP header, control octet, verbose/compact block
// headers, packet type, PTT control word, header word, IMBE blocks). A packet without CSRCs,
// extension or padding re-encodes bit-exact.
#include <cstdint>
#include <cstdlib>

#include "lmr_adapters/p25/issi_rtp.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    iwf::ByteView in(data, size);
    auto r = iwf::lmr::p25::decodeIssiPacket(in);
    if (!r) {
        return 0;
    }
    (void)r->payload.packetType();
    (void)r->payload.headerWord();
    if (data[0] == 0x80) {
        iwf::Bytes out;
        if (!iwf::lmr::p25::encodeIssiPacket(*r, out).ok() ||
            out != iwf::Bytes(data, data + size)) {
            std::abort();
        }
    }
    return 0;
}
