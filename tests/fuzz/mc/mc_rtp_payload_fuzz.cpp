// RTP packets carrying the LMR voice payload. Properties: a payload that decodes re-encodes to
// exactly the same bytes (bit-exact), and the RTP view never reads outside the packet.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "mc_adapters/rtp/lmr_payload.hpp"
#include "mc_adapters/rtp/rtp_packet.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iwf::mc::rtp;
    iwf::ByteView in(data, size);

    auto rtp = RtpView::parse(in);
    iwf::ByteView payload = in;
    if (rtp) {
        payload = rtp->payload();
        volatile std::uint32_t sink = rtp->ssrc() ^ rtp->timestamp() ^ rtp->extensionProfile();
        for (std::size_t i = 0; i < rtp->csrcCount(); ++i) {
            sink = sink ^ rtp->csrc(i);
        }
        (void)sink;
    }
    auto f = decodeLmrPayload(payload);
    if (f) {
        iwf::Bytes out;
        if (!encodeLmrPayload(*f, out).ok() || out.size() != payload.size() ||
            std::memcmp(out.data(), payload.data(), out.size()) != 0) {
            std::abort();
        }
    }
    return 0;
}
