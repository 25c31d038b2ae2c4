#include "lmr_adapters/p25/records.hpp"

#include <cstring>

namespace iwf::lmr::p25 {

std::optional<VoiceLayout> voiceLayout(std::uint8_t tag) {
    switch (tag) {
        case 0x62:
        case 0x6B:
            return VoiceLayout{22, 10};
        case 0x63:
        case 0x6C:
            return VoiceLayout{14, 1};
        case 0x6A:
        case 0x73:
            return VoiceLayout{16, 4};
        default:
            break;
    }
    if ((tag >= 0x64 && tag <= 0x69) || (tag >= 0x6D && tag <= 0x72)) {
        return VoiceLayout{17, 5};
    }
    return std::nullopt;
}

std::size_t sideBytesForIndex(std::uint8_t index) {
    auto l = voiceLayout(tagOfFrameIndex(index));
    return l ? l->length - 1 - kImbeBytes : 0;
}

std::string_view PollRecord::callsignView() const {
    std::size_t n = kCallsignLen;
    while (n > 0 && (callsign[n - 1] == ' ' || callsign[n - 1] == '\0')) {
        --n;
    }
    return {callsign.data(), n};
}

PollRecord makePoll(std::string_view callsign, bool unlink) {
    PollRecord p;
    p.unlink = unlink;
    p.callsign.fill(' ');
    std::memcpy(p.callsign.data(), callsign.data(), std::min(callsign.size(), kCallsignLen));
    return p;
}

Result<Record> decodeRecord(ByteView d) {
    if (d.empty()) {
        return Error{"empty"};
    }
    const std::uint8_t tag = d[0];
    if (auto layout = voiceLayout(tag)) {
        if (d.size() != layout->length) {
            return Error{"bad_length", static_cast<std::int64_t>(d.size())};
        }
        VoiceRecord r;
        r.tag = tag;
        std::memcpy(r.imbe.data(), d.data() + layout->imbe_offset, kImbeBytes);
        std::array<std::uint8_t, kMaxSideBytes> side{};
        std::size_t n = 0;
        for (std::size_t i = 1; i < layout->imbe_offset; ++i) {
            side[n++] = d[i];
        }
        for (std::size_t i = layout->imbe_offset + kImbeBytes; i < layout->length; ++i) {
            side[n++] = d[i];
        }
        r.side.assign(ByteView(side.data(), n));
        return Record{r};
    }
    if (tag == kTagEnd) {
        if (d.size() != kEndRecordLen) {
            return Error{"bad_length", static_cast<std::int64_t>(d.size())};
        }
        EndRecord e;
        e.rest.assign(d.subspan(1));
        return Record{e};
    }
    if (tag == kTagPoll || tag == kTagUnlink) {
        if (d.size() != kPollRecordLen) {
            return Error{"bad_length", static_cast<std::int64_t>(d.size())};
        }
        PollRecord p;
        p.unlink = tag == kTagUnlink;
        std::memcpy(p.callsign.data(), d.data() + 1, kCallsignLen);
        return Record{p};
    }
    return Error{"unknown_tag", tag};
}

Status encodeRecord(const Record& record, InlineBytes<kMaxRecordLen>& out) {
    std::array<std::uint8_t, kMaxRecordLen> buf{};
    std::size_t n = 0;
    if (const auto* v = std::get_if<VoiceRecord>(&record)) {
        auto layout = voiceLayout(v->tag);
        if (!layout) {
            return Error{"bad_tag", v->tag};
        }
        const std::size_t side_len = layout->length - 1 - kImbeBytes;
        if (v->side.size() != side_len) {
            return Error{"bad_side_length", static_cast<std::int64_t>(v->side.size())};
        }
        buf[0] = v->tag;
        const std::size_t before = layout->imbe_offset - 1;
        std::memcpy(buf.data() + 1, v->side.data(), before);
        std::memcpy(buf.data() + layout->imbe_offset, v->imbe.data(), kImbeBytes);
        std::memcpy(buf.data() + layout->imbe_offset + kImbeBytes, v->side.data() + before,
                    side_len - before);
        n = layout->length;
    } else if (const auto* e = std::get_if<EndRecord>(&record)) {
        buf[0] = kTagEnd;
        std::memcpy(buf.data() + 1, e->rest.data(), e->rest.size());
        n = kEndRecordLen;  // short rest is zero padded
    } else {
        const auto& p = std::get<PollRecord>(record);
        buf[0] = p.unlink ? kTagUnlink : kTagPoll;
        std::memcpy(buf.data() + 1, p.callsign.data(), kCallsignLen);
        n = kPollRecordLen;
    }
    out.assign(ByteView(buf.data(), n));
    return Status::success();
}

std::optional<Ldu1Lc> lcOf(const VoiceRecord& r) {
    if (r.tag != 0x64 || r.side.size() < 3) {
        return std::nullopt;
    }
    return Ldu1Lc{r.side.data()[0], r.side.data()[1], r.side.data()[2]};
}

static std::optional<std::uint32_t> u24Of(const VoiceRecord& r, std::uint8_t tag) {
    if (r.tag != tag || r.side.size() < 3) {
        return std::nullopt;
    }
    const auto* s = r.side.data();
    return (std::uint32_t{s[0]} << 16) | (std::uint32_t{s[1]} << 8) | s[2];
}

std::optional<std::uint32_t> dstOf(const VoiceRecord& r) {
    return u24Of(r, 0x65);
}
std::optional<std::uint32_t> srcOf(const VoiceRecord& r) {
    return u24Of(r, 0x66);
}

std::optional<std::array<std::uint8_t, 3>> esOf(const VoiceRecord& r) {
    if (r.tag < 0x6D || r.tag > 0x70 || r.side.size() < 3) {
        return std::nullopt;
    }
    return std::array<std::uint8_t, 3>{r.side.data()[0], r.side.data()[1], r.side.data()[2]};
}

std::optional<std::array<std::uint8_t, 2>> lsdOf(const VoiceRecord& r) {
    if ((r.tag != 0x6A && r.tag != 0x73) || r.side.size() < 2) {
        return std::nullopt;
    }
    return std::array<std::uint8_t, 2>{r.side.data()[0], r.side.data()[1]};
}

std::string_view recordName(const Record& r) {
    if (const auto* v = std::get_if<VoiceRecord>(&r)) {
        return v->index() < 9 ? "ldu1" : "ldu2";
    }
    if (std::holds_alternative<EndRecord>(r)) {
        return "end";
    }
    return std::get<PollRecord>(r).unlink ? "unlink" : "poll";
}

}  // namespace iwf::lmr::p25
