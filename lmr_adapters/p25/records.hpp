#pragma once
// The open-network P25 record set used by MMDVMHost, P25Gateway and P25Reflector: one record
// per UDP datagram, no extra header. Voice records are the Motorola V.24 DFSI set 0x62-0x73
// (one de-FEC'd IMBE codeword each, plus the LC / ES / LSD / status bytes of that frame);
// 0x80 ends a transmission, 0xF0 polls (keep-alive + link) and 0xF1 unlinks a reflector.
// Layouts: shared/research/lmr.md §1.7 (MMDVMHost P25Network.cpp, P25Clients) and
// docs/protocols/p25-network-records.md.
//
// Pure codec: no I/O, no logging, no allocation on the voice path.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::lmr::p25 {

inline constexpr std::uint8_t kTagLdu1First = 0x62;  // frame 1 of LDU1
inline constexpr std::uint8_t kTagLdu2First = 0x6B;  // frame 10 (first of LDU2)
inline constexpr std::uint8_t kTagLast = 0x73;       // frame 18
inline constexpr std::uint8_t kTagEnd = 0x80;
inline constexpr std::uint8_t kTagPoll = 0xF0;
inline constexpr std::uint8_t kTagUnlink = 0xF1;
inline constexpr std::size_t kImbeBytes = 11;
inline constexpr std::size_t kCallsignLen = 10;
inline constexpr std::size_t kEndRecordLen = 17;
inline constexpr std::size_t kPollRecordLen = 11;
inline constexpr std::size_t kMaxRecordLen = 22;
inline constexpr std::size_t kMaxSideBytes = 10;

// Where the IMBE codeword sits in a voice record and how long the record is.
struct VoiceLayout {
    std::uint8_t length;       // whole record, tag included
    std::uint8_t imbe_offset;  // first IMBE byte
};
// Layout for a voice tag 0x62..0x73; nullopt for anything else.
std::optional<VoiceLayout> voiceLayout(std::uint8_t tag);
// Frame index in the superframe (0..17) of a voice tag, and back.
inline std::uint8_t frameIndexOfTag(std::uint8_t tag) {
    return static_cast<std::uint8_t>(tag - kTagLdu1First);
}
inline std::uint8_t tagOfFrameIndex(std::uint8_t index) {
    return static_cast<std::uint8_t>(kTagLdu1First + index);
}
// Number of side bytes (record bytes other than the tag and the IMBE codeword) for a frame.
std::size_t sideBytesForIndex(std::uint8_t index);

using Imbe = std::array<std::uint8_t, kImbeBytes>;

// A voice record. `side` holds every byte of the record except the tag and the IMBE
// codeword, in record order (the bytes before the codeword, then the bytes after it), so
// encode(decode(x)) == x bit-exact.
struct VoiceRecord {
    std::uint8_t tag = kTagLdu1First;
    Imbe imbe{};
    InlineBytes<kMaxSideBytes> side;

    std::uint8_t index() const { return frameIndexOfTag(tag); }
    bool operator==(const VoiceRecord&) const = default;
};

struct EndRecord {
    InlineBytes<kEndRecordLen - 1> rest;  // the 16 bytes after the tag (zeros from MMDVM)
    bool operator==(const EndRecord&) const = default;
};

// 0xF0 poll or 0xF1 unlink: the tag plus a 10-character callsign, space padded.
struct PollRecord {
    bool unlink = false;
    std::array<char, kCallsignLen> callsign{};
    std::string_view callsignView() const;  // without trailing spaces / NULs
    bool operator==(const PollRecord&) const = default;
};
PollRecord makePoll(std::string_view callsign, bool unlink = false);

using Record = std::variant<VoiceRecord, EndRecord, PollRecord>;

// Decodes one datagram. Errors (reasons): "empty", "unknown_tag", "bad_length".
Result<Record> decodeRecord(ByteView datagram);

// Encodes into out (capacity kMaxRecordLen). Fails with "bad_side_length" when a voice
// record's side bytes do not fit its layout, "bad_tag" for a tag outside 0x62..0x73.
Status encodeRecord(const Record& record, InlineBytes<kMaxRecordLen>& out);

// Named fields carried in a voice record's side bytes (all offsets relative to side[]).
// Only meaningful for the record tag that carries them.
struct Ldu1Lc {
    std::uint8_t lcf = 0;              // 0x64 byte 1: LCF/LCO (bit 0x80 = protected LC)
    std::uint8_t mfid = 0;             // 0x64 byte 2
    std::uint8_t service_options = 0;  // 0x64 byte 3: 0x80 emergency, 0x40 encrypted, 0x07 prio
};
std::optional<Ldu1Lc> lcOf(const VoiceRecord& r);          // tag 0x64
std::optional<std::uint32_t> dstOf(const VoiceRecord& r);  // tag 0x65: 24-bit destination
std::optional<std::uint32_t> srcOf(const VoiceRecord& r);  // tag 0x66: 24-bit source
// tags 0x6D/0x6E/0x6F: MI bytes 0-2 / 3-5 / 6-8 of the NEXT superframe's MI; tag 0x70:
// ALGID and KID. Returns the 3 bytes (side[0..2]) for those tags.
std::optional<std::array<std::uint8_t, 3>> esOf(const VoiceRecord& r);
std::optional<std::array<std::uint8_t, 2>> lsdOf(const VoiceRecord& r);  // tags 0x6A/0x73

std::string_view recordName(const Record& r);

}  // namespace iwf::lmr::p25
