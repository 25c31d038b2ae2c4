#pragma once
// Simulated encrypted LMR streams for the load generator, built with the project's own codecs:
//   P25: the open-network record set (lmr_adapters/p25/records.hpp), one record per 20 ms
//        voice frame, 18 per superframe; LDU1 LC says "encrypted" (service options 0x40),
//        LDU2 ES carries the MI and ALGID 0x84 (AES-256) / key ID; IMBE codewords are random
//        bytes standing in for ciphertext.
//   DMR: HBP DMRD packets (lmr_adapters/dmr/dmrd.hpp), one voice burst (3 AMBE frames,
//        60 ms) per packet, bursts A..F; the burst is random bytes standing in for ciphertext.
// extractFrame() reads a datagram that came out of a forwarder that relays bytes unchanged
// (the bare relay): it returns the superframe position and a digest of the opaque bytes.
#include <cstdint>
#include <optional>

#include "common/bytes.hpp"

namespace iwf::bench {

enum class StreamKind : std::uint8_t { P25, Dmr };

// Frames per superframe and packet interval of each kind.
std::uint8_t periodOf(StreamKind k);
std::int64_t intervalNs(StreamKind k);
// Voice frames (20 ms each) carried by one packet of this kind.
unsigned voiceFramesPerPacket(StreamKind k);

struct FrameOut {
    std::uint8_t pos = 0;      // position in the superframe
    std::uint32_t digest = 0;  // fnv1a of the opaque bytes (IMBE codeword / DMR burst)
};

class StreamSource {
  public:
    StreamSource(StreamKind kind, std::uint32_t stream_index);

    StreamKind kind() const { return kind_; }
    // Encodes frame `seq` into out; returns the digest of its opaque bytes.
    std::uint32_t build(std::uint64_t seq, Bytes& out);

  private:
    StreamKind kind_;
    std::uint32_t index_;
    std::uint64_t rng_;
};

// Decodes a relayed datagram of the given kind; nullopt when it does not decode.
std::optional<FrameOut> extractFrame(StreamKind kind, ByteView datagram);

}  // namespace iwf::bench
