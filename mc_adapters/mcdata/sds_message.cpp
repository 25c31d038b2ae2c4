#include "mc_adapters/mcdata/sds_message.hpp"

namespace iwf::mc::mcdata {

namespace {

constexpr std::uint64_t kMax40 = (1ULL << 40) - 1;

void putUuid(ByteWriter& w, const Uuid& u) {
    w.bytes(ByteView(u.data(), u.size()));
}

Status putTlvE(ByteWriter& w, std::uint8_t iei, ByteView v) {
    if (v.size() > 0xFFFF) {
        return Error{"value_too_long", static_cast<std::int64_t>(v.size())};
    }
    w.u8(iei);
    w.u16(static_cast<std::uint16_t>(v.size()));
    w.bytes(v);
    return {};
}

Status putDateTime(ByteWriter& w, std::uint64_t t) {
    if (t > kMax40) {
        return Error{"bad_date_time"};
    }
    w.u8(static_cast<std::uint8_t>(t >> 32));
    w.u32(static_cast<std::uint32_t>(t));
    return {};
}

std::uint64_t readDateTime(ByteReader& r) {
    std::uint64_t hi = r.u8();
    return hi << 32 | r.u32();
}

Uuid readUuid(ByteReader& r) {
    return r.array<16>();
}

// Reads one TLV-E value after its IEI.
std::optional<ByteView> readTlvE(ByteReader& r) {
    std::uint16_t len = r.u16();
    ByteView v = r.take(len);
    if (!r.ok()) {
        return std::nullopt;
    }
    return v;
}

// Skips an IEI this codec does not know, if its format can be told from the IEI (24.007
// 11.2.4 conventions: bit 8 set = type 1/2 single octet; 0x7X = TLV-E). Otherwise fails.
Status skipUnknown(ByteReader& r, std::uint8_t iei) {
    if ((iei & 0x80) != 0) {
        return {};
    }
    if ((iei & 0xF0) == 0x70) {
        if (!readTlvE(r)) {
            return Error{"truncated_ie", iei};
        }
        return {};
    }
    return Error{"unknown_iei", iei};
}

}  // namespace

std::string toString(const Uuid& u) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (std::size_t i = 0; i < u.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            s += '-';
        }
        s += kHex[u[i] >> 4];
        s += kHex[u[i] & 0xF];
    }
    return s;
}

std::optional<Uuid> parseUuid(std::string_view s) {
    if (s.size() != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') {
        return std::nullopt;
    }
    std::string h;
    for (char c : s) {
        if (c != '-') {
            h += c;
        }
    }
    auto b = fromHex(h);
    if (!b || b->size() != 16) {
        return std::nullopt;
    }
    Uuid u{};
    std::copy(b->begin(), b->end(), u.begin());
    return u;
}

Uuid randomUuid(std::mt19937_64& rng) {
    Uuid u{};
    for (std::size_t i = 0; i < 16; i += 8) {
        std::uint64_t v = rng();
        for (std::size_t k = 0; k < 8; ++k) {
            u[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
        }
    }
    u[6] = static_cast<std::uint8_t>((u[6] & 0x0F) | 0x40);  // version 4
    u[8] = static_cast<std::uint8_t>((u[8] & 0x3F) | 0x80);  // RFC 4122 variant
    if (u == kUnknownConversation || u == kLmrMessageId) {   // cannot happen with v4 bits
        u[15] ^= 1;
    }
    return u;
}

Status encode(const SdsSignalling& m, Bytes& out) {
    const std::size_t start = out.size();
    ByteWriter w(out);
    auto fail = [&](Error e) -> Status {
        out.resize(start);
        return e;
    };
    w.u8(message_type::kSdsSignallingPayload);
    if (Status s = putDateTime(w, m.date_time); !s) {
        return fail(s.error());
    }
    putUuid(w, m.conversation_id);
    putUuid(w, m.message_id);
    if (m.in_reply_to) {
        w.u8(iei::kInReplyTo);
        putUuid(w, *m.in_reply_to);
    }
    if (m.application_id) {
        w.u8(iei::kApplicationId);
        w.u8(*m.application_id);
    }
    if (m.disposition) {
        w.u8(static_cast<std::uint8_t>(iei::kDispositionRequest << 4 |
                                       (static_cast<std::uint8_t>(*m.disposition) & 0x0F)));
    }
    struct Opt {
        std::uint8_t iei;
        const std::optional<Bytes>* v;
    };
    for (const Opt& o : {Opt{iei::kExtendedApplicationId, &m.extended_application_id},
                         Opt{iei::kUserLocation, &m.user_location}}) {
        if (*o.v) {
            if (Status s = putTlvE(w, o.iei, **o.v); !s) {
                return fail(s.error());
            }
        }
    }
    if (m.sender_user_id) {
        if (Status s = putTlvE(w, iei::kSenderUserId, asBytes(*m.sender_user_id)); !s) {
            return fail(s.error());
        }
    }
    if (m.application_metadata) {
        if (Status s = putTlvE(w, iei::kApplicationMetadata, *m.application_metadata); !s) {
            return fail(s.error());
        }
    }
    return {};
}

Result<SdsSignalling> decodeSdsSignalling(ByteView in) {
    ByteReader r(in);
    const std::uint8_t type = r.u8();
    if (!r.ok()) {
        return Error{"truncated", 0};
    }
    if (type != message_type::kSdsSignallingPayload) {
        return Error{"wrong_message_type", type};
    }
    SdsSignalling m;
    m.date_time = readDateTime(r);
    m.conversation_id = readUuid(r);
    m.message_id = readUuid(r);
    if (!r.ok()) {
        return Error{"truncated", static_cast<std::int64_t>(in.size())};
    }
    while (r.remaining() > 0) {
        const std::uint8_t b = r.u8();
        if ((b >> 4) == iei::kDispositionRequest) {
            const std::uint8_t v = b & 0x0F;
            if (v > 3) {
                return Error{"bad_disposition_request", v};
            }
            m.disposition = static_cast<DispositionRequest>(v);
            continue;
        }
        switch (b) {
            case iei::kInReplyTo:
                m.in_reply_to = readUuid(r);
                break;
            case iei::kApplicationId:
                m.application_id = r.u8();
                break;
            case iei::kExtendedApplicationId:
            case iei::kUserLocation:
            case iei::kSenderUserId:
            case iei::kApplicationMetadata: {
                auto v = readTlvE(r);
                if (!v) {
                    return Error{"truncated_ie", b};
                }
                if (b == iei::kSenderUserId) {
                    m.sender_user_id = std::string(v->begin(), v->end());
                } else {
                    Bytes bytes(v->begin(), v->end());
                    if (b == iei::kExtendedApplicationId) {
                        m.extended_application_id = std::move(bytes);
                    } else if (b == iei::kUserLocation) {
                        m.user_location = std::move(bytes);
                    } else {
                        m.application_metadata = std::move(bytes);
                    }
                }
                break;
            }
            default:
                IWF_TRY_STATUS(skipUnknown(r, b));
                break;
        }
        if (!r.ok()) {
            return Error{"truncated_ie", b};
        }
    }
    return m;
}

Status encode(const SdsNotification& m, Bytes& out) {
    const std::size_t start = out.size();
    ByteWriter w(out);
    w.u8(message_type::kSdsNotification);
    w.u8(static_cast<std::uint8_t>(m.disposition));
    if (Status s = putDateTime(w, m.date_time); !s) {
        out.resize(start);
        return s;
    }
    putUuid(w, m.conversation_id);
    putUuid(w, m.message_id);
    if (m.application_id) {
        w.u8(iei::kApplicationId);
        w.u8(*m.application_id);
    }
    if (m.sender_user_id) {
        if (Status s = putTlvE(w, iei::kSenderUserId, asBytes(*m.sender_user_id)); !s) {
            out.resize(start);
            return s;
        }
    }
    return {};
}

Result<SdsNotification> decodeSdsNotification(ByteView in) {
    ByteReader r(in);
    const std::uint8_t type = r.u8();
    if (!r.ok()) {
        return Error{"truncated", 0};
    }
    if (type != message_type::kSdsNotification) {
        return Error{"wrong_message_type", type};
    }
    SdsNotification m;
    const std::uint8_t d = r.u8();
    m.date_time = readDateTime(r);
    m.conversation_id = readUuid(r);
    m.message_id = readUuid(r);
    if (!r.ok()) {
        return Error{"truncated", static_cast<std::int64_t>(in.size())};
    }
    if (d < 1 || d > 5) {
        return Error{"bad_disposition_notification", d};
    }
    m.disposition = static_cast<DispositionNotification>(d);
    while (r.remaining() > 0) {
        const std::uint8_t b = r.u8();
        if (b == iei::kApplicationId) {
            m.application_id = r.u8();
        } else if (b == iei::kSenderUserId) {
            auto v = readTlvE(r);
            if (!v) {
                return Error{"truncated_ie", b};
            }
            m.sender_user_id = std::string(v->begin(), v->end());
        } else {
            IWF_TRY_STATUS(skipUnknown(r, b));
        }
        if (!r.ok()) {
            return Error{"truncated_ie", b};
        }
    }
    return m;
}

Status encode(const DataPayload& m, Bytes& out) {
    if (m.payloads.empty() || m.payloads.size() > 255) {
        return Error{"bad_payload_count", static_cast<std::int64_t>(m.payloads.size())};
    }
    const std::size_t start = out.size();
    ByteWriter w(out);
    w.u8(message_type::kDataPayload);
    w.u8(static_cast<std::uint8_t>(m.payloads.size()));
    for (const auto& p : m.payloads) {
        if (p.data.size() + 1 > 0xFFFF) {
            out.resize(start);
            return Error{"value_too_long", static_cast<std::int64_t>(p.data.size())};
        }
        w.u8(iei::kPayload);
        w.u16(static_cast<std::uint16_t>(p.data.size() + 1));
        w.u8(p.content_type);
        w.bytes(p.data);
    }
    return {};
}

Result<DataPayload> decodeDataPayload(ByteView in) {
    ByteReader r(in);
    const std::uint8_t type = r.u8();
    const std::uint8_t n = r.u8();
    if (!r.ok()) {
        return Error{"truncated", static_cast<std::int64_t>(in.size())};
    }
    if (type != message_type::kDataPayload) {
        return Error{"wrong_message_type", type};
    }
    if (n == 0) {
        return Error{"bad_payload_count", 0};
    }
    DataPayload m;
    for (std::uint8_t i = 0; i < n; ++i) {
        const std::uint8_t b = r.u8();
        if (!r.ok()) {
            return Error{"truncated", static_cast<std::int64_t>(in.size())};
        }
        if (b != iei::kPayload) {
            return Error{"unexpected_iei", b};
        }
        auto v = readTlvE(r);
        if (!v || v->empty()) {
            return Error{"truncated_ie", b};
        }
        Payload p;
        p.content_type = (*v)[0];
        p.data.assign(v->begin() + 1, v->end());
        m.payloads.push_back(std::move(p));
    }
    if (r.remaining() != 0) {
        return Error{"trailing_bytes", static_cast<std::int64_t>(r.remaining())};
    }
    return m;
}

std::uint8_t peekMessageType(ByteView in) {
    return in.empty() ? 0 : in[0];
}

SdsSignalling makeIwfSignalling(const IwfSdsContext& ctx, std::mt19937_64& rng) {
    SdsSignalling m;
    m.date_time = ctx.now_seconds & kMax40;
    if (ctx.stored_conversation) {
        m.conversation_id = *ctx.stored_conversation;
    } else if (ctx.continuing_conversation) {
        m.conversation_id = kUnknownConversation;
    } else {
        m.conversation_id = randomUuid(rng);
    }
    m.message_id = randomUuid(rng);
    if (ctx.original_message) {
        m.in_reply_to = *ctx.original_message;
    } else if (ctx.is_reply) {
        m.in_reply_to = kLmrMessageId;
    }
    return m;
}

}  // namespace iwf::mc::mcdata
