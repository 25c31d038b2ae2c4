#pragma once
// RTP packets (RFC 3550 5.1): a zero-copy view over a received datagram and a builder.
//
//  0: V=2 | P | X | CC(4)     1: M | PT(7)     2-3: sequence number
//  4-7: timestamp             8-11: SSRC       12..: CC x CSRC (32 bits each)
//  if X: profile (16) | length in 32-bit words (16) | extension words
//  payload, then if P: padding whose last octet is the padding count.

#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::rtp {

inline constexpr std::size_t kRtpFixedHeader = 12;

class RtpView {
  public:
    // Wraps `packet` (not copied: the view is valid while the buffer is). Fails with
    // "truncated", "bad_version", "bad_csrc", "bad_extension", "bad_padding".
    static Result<RtpView> parse(ByteView packet);

    bool padding() const { return (b_[0] & 0x20) != 0; }
    bool hasExtension() const { return (b_[0] & 0x10) != 0; }
    std::uint8_t csrcCount() const { return b_[0] & 0x0F; }
    bool marker() const { return (b_[1] & 0x80) != 0; }
    std::uint8_t payloadType() const { return b_[1] & 0x7F; }
    std::uint16_t sequence() const { return static_cast<std::uint16_t>(b_[2] << 8 | b_[3]); }
    std::uint32_t timestamp() const { return be32(4); }
    std::uint32_t ssrc() const { return be32(8); }
    std::uint32_t csrc(std::size_t i) const { return be32(12 + 4 * i); }
    std::uint16_t extensionProfile() const { return ext_profile_; }
    ByteView extension() const { return extension_; }  // extension words, without its header
    ByteView payload() const { return payload_; }
    std::size_t paddingSize() const { return padding_; }
    ByteView bytes() const { return b_; }

  private:
    std::uint32_t be32(std::size_t off) const {
        return static_cast<std::uint32_t>(b_[off]) << 24 |
               static_cast<std::uint32_t>(b_[off + 1]) << 16 |
               static_cast<std::uint32_t>(b_[off + 2]) << 8 | b_[off + 3];
    }
    ByteView b_;
    ByteView extension_;
    ByteView payload_;
    std::uint16_t ext_profile_ = 0;
    std::size_t padding_ = 0;
};

struct RtpHeader {
    bool marker = false;
    std::uint8_t payload_type = 0;  // 0..127
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t ssrc = 0;
    std::vector<std::uint32_t> csrcs;  // at most 15
    struct Extension {
        std::uint16_t profile = 0;
        Bytes data;  // length must be a multiple of 4
    };
    std::optional<Extension> extension;
};

// Appends one RTP packet; `padding` (0..255) extra octets are added with the P bit set.
// Fails with "bad_payload_type", "too_many_csrcs", "bad_extension" (out unchanged).
Status buildRtp(const RtpHeader& h, ByteView payload, Bytes& out, std::uint8_t padding = 0);

// Extends 16-bit RTP sequence numbers to 64 bits across wrap-around (RFC 3550 A.1 idea:
// a jump of less than half the space counts as forward, else backward).
class SequenceExtender {
  public:
    // Returns the extended number of `seq`.
    std::uint64_t extend(std::uint16_t seq);
    bool started() const { return started_; }
    std::uint64_t highest() const { return highest_; }

  private:
    bool started_ = false;
    std::uint64_t highest_ = 0;
};

}  // namespace iwf::mc::rtp
