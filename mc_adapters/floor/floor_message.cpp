#include "mc_adapters/floor/floor_message.hpp"

#include <cmath>
#include <cstring>
#include <type_traits>

namespace iwf::mc::floor {

namespace {

constexpr std::size_t kAppHeaderSize = 12;  // V/P/subtype, PT, length, SSRC, name
constexpr std::uint8_t kFirstLongLengthId = 192;

std::size_t pad4(std::size_t n) {
    return (4 - (n % 4)) % 4;
}

// Each field's value is first written into a scratch buffer so the length is known.
Status encodeValue(const Field& f, Bytes& v) {
    ByteWriter w(v);
    auto putString = [&](const std::string& s, std::size_t max) -> Status {
        if (s.size() > max) {
            return Error{"value_too_long", static_cast<std::int64_t>(s.size())};
        }
        w.str(s);
        return {};
    };
    auto putLocation = [&](const LocationValue& l) -> Status {
        auto expected = locationValueLength(l.type);
        if (expected && *expected != l.value.size()) {
            return Error{"bad_location_length", static_cast<std::int64_t>(l.value.size())};
        }
        w.u8(l.type);
        w.bytes(l.value);
        return {};
    };
    return std::visit(
        [&](const auto& x) -> Status {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, FloorPriority>) {
                w.u8(x.priority);
                w.u8(0);
            } else if constexpr (std::is_same_v<T, Duration>) {
                w.u16(x.seconds);
            } else if constexpr (std::is_same_v<T, RejectCause>) {
                w.u16(x.cause);
                return putString(x.phrase, 253);
            } else if constexpr (std::is_same_v<T, QueueInfo>) {
                w.u8(x.position);
                w.u8(x.priority);
            } else if constexpr (std::is_same_v<T, GrantedPartyIdentity> ||
                                 std::is_same_v<T, UserId> || std::is_same_v<T, QueuedUserId>) {
                return putString(x.id, 255);
            } else if constexpr (std::is_same_v<T, FunctionalAlias>) {
                return putString(x.alias, 255);
            } else if constexpr (std::is_same_v<T, PermissionToRequestFloor> ||
                                 std::is_same_v<T, QueueSize> ||
                                 std::is_same_v<T, MessageSequenceNumber> ||
                                 std::is_same_v<T, Source>) {
                w.u16(x.value);
            } else if constexpr (std::is_same_v<T, TrackInfo>) {
                if (x.participant_type.size() > 255) {
                    return Error{"value_too_long",
                                 static_cast<std::int64_t>(x.participant_type.size())};
                }
                w.u8(x.queueing_capability);
                w.u8(static_cast<std::uint8_t>(x.participant_type.size()));
                w.str(x.participant_type);
                w.zeros(pad4(x.participant_type.size()));
                for (std::uint32_t r : x.floor_participant_refs) {
                    w.u32(r);
                }
            } else if constexpr (std::is_same_v<T, AckMessageType>) {
                w.u8(x.subtype);
                w.u8(0);
            } else if constexpr (std::is_same_v<T, FloorIndicator>) {
                w.u16(x.bits);
            } else if constexpr (std::is_same_v<T, Ssrc>) {
                w.u32(x.ssrc);
                w.u16(0);
            } else if constexpr (std::is_same_v<T, ListOfGrantedUsers> ||
                                 std::is_same_v<T, ListOfFunctionalAliases>) {
                const std::vector<std::string>* list;
                if constexpr (std::is_same_v<T, ListOfGrantedUsers>) {
                    list = &x.users;
                } else {
                    list = &x.aliases;
                }
                if (list->size() > 255) {
                    return Error{"too_many_entries", static_cast<std::int64_t>(list->size())};
                }
                w.u8(static_cast<std::uint8_t>(list->size()));
                for (const auto& s : *list) {
                    if (s.size() > 255) {
                        return Error{"value_too_long", static_cast<std::int64_t>(s.size())};
                    }
                    w.u8(static_cast<std::uint8_t>(s.size()));
                    w.str(s);
                }
            } else if constexpr (std::is_same_v<T, ListOfSsrcs>) {
                if (x.ssrcs.size() > 255) {
                    return Error{"too_many_entries", static_cast<std::int64_t>(x.ssrcs.size())};
                }
                w.u8(static_cast<std::uint8_t>(x.ssrcs.size()));
                w.u8(0);
                for (std::uint32_t s : x.ssrcs) {
                    w.u32(s);
                }
            } else if constexpr (std::is_same_v<T, Location>) {
                return putLocation(x.location);
            } else if constexpr (std::is_same_v<T, ListOfLocations>) {
                if (x.locations.size() > 255) {
                    return Error{"too_many_entries", static_cast<std::int64_t>(x.locations.size())};
                }
                w.u8(static_cast<std::uint8_t>(x.locations.size()));
                for (const auto& l : x.locations) {
                    IWF_TRY_STATUS(putLocation(l));
                }
            } else if constexpr (std::is_same_v<T, UnknownField>) {
                if (x.id <= static_cast<std::uint8_t>(FieldId::ListOfLocations)) {
                    return Error{"unknown_field_with_known_id", x.id};
                }
                w.bytes(x.value);
            }
            return {};
        },
        f);
}

// Reads a string of exactly n octets.
std::string readString(ByteReader& r, std::size_t n) {
    ByteView v = r.take(n);
    return std::string(v.begin(), v.end());
}

Result<LocationValue> readLocation(ByteReader& r, bool whole_rest) {
    LocationValue l;
    l.type = r.u8();
    if (!r.ok()) {
        return Error{"truncated_location"};
    }
    auto len = locationValueLength(l.type);
    if (!len) {
        if (!whole_rest) {
            // In a list an unknown type has no known length: the rest cannot be parsed.
            return Error{"unknown_location_type", l.type};
        }
        ByteView rest = r.rest();
        l.value.assign(rest.begin(), rest.end());
        r.skip(rest.size());
        return l;
    }
    ByteView v = r.take(*len);
    if (!r.ok()) {
        return Error{"truncated_location", l.type};
    }
    l.value.assign(v.begin(), v.end());
    return l;
}

Result<Field> decodeValue(std::uint8_t id, ByteView value) {
    ByteReader r(value);
    auto fixed = [&](std::size_t n) -> Status {
        if (value.size() != n) {
            return Error{"bad_field_length", id};
        }
        return {};
    };
    switch (id) {
        case static_cast<std::uint8_t>(FieldId::FloorPriority): {
            IWF_TRY_STATUS(fixed(2));
            return Field{FloorPriority{r.u8()}};
        }
        case static_cast<std::uint8_t>(FieldId::Duration):
            IWF_TRY_STATUS(fixed(2));
            return Field{Duration{r.u16()}};
        case static_cast<std::uint8_t>(FieldId::RejectCause): {
            if (value.size() < 2) {
                return Error{"bad_field_length", id};
            }
            RejectCause c;
            c.cause = r.u16();
            c.phrase = readString(r, r.remaining());
            return Field{std::move(c)};
        }
        case static_cast<std::uint8_t>(FieldId::QueueInfo): {
            IWF_TRY_STATUS(fixed(2));
            QueueInfo q;
            q.position = r.u8();
            q.priority = r.u8();
            return Field{q};
        }
        case static_cast<std::uint8_t>(FieldId::GrantedPartyIdentity):
            return Field{GrantedPartyIdentity{readString(r, value.size())}};
        case static_cast<std::uint8_t>(FieldId::PermissionToRequestFloor):
            IWF_TRY_STATUS(fixed(2));
            return Field{PermissionToRequestFloor{r.u16()}};
        case static_cast<std::uint8_t>(FieldId::UserId):
            return Field{UserId{readString(r, value.size())}};
        case static_cast<std::uint8_t>(FieldId::QueueSize):
            IWF_TRY_STATUS(fixed(2));
            return Field{QueueSize{r.u16()}};
        case static_cast<std::uint8_t>(FieldId::MessageSequenceNumber):
            IWF_TRY_STATUS(fixed(2));
            return Field{MessageSequenceNumber{r.u16()}};
        case static_cast<std::uint8_t>(FieldId::QueuedUserId):
            return Field{QueuedUserId{readString(r, value.size())}};
        case static_cast<std::uint8_t>(FieldId::Source):
            IWF_TRY_STATUS(fixed(2));
            return Field{Source{r.u16()}};
        case static_cast<std::uint8_t>(FieldId::TrackInfo): {
            TrackInfo t;
            t.queueing_capability = r.u8();
            std::uint8_t pt_len = r.u8();
            if (!r.ok()) {
                return Error{"bad_field_length", id};
            }
            t.participant_type = readString(r, pt_len);
            r.skip(pad4(pt_len));
            if (!r.ok() || r.remaining() % 4 != 0) {
                return Error{"bad_track_info", id};
            }
            while (r.remaining() > 0) {
                t.floor_participant_refs.push_back(r.u32());
            }
            return Field{std::move(t)};
        }
        case static_cast<std::uint8_t>(FieldId::MessageType):
            IWF_TRY_STATUS(fixed(2));
            return Field{AckMessageType{r.u8()}};
        case static_cast<std::uint8_t>(FieldId::FloorIndicator):
            IWF_TRY_STATUS(fixed(2));
            return Field{FloorIndicator{r.u16()}};
        case static_cast<std::uint8_t>(FieldId::Ssrc):
            IWF_TRY_STATUS(fixed(6));
            return Field{Ssrc{r.u32()}};
        case static_cast<std::uint8_t>(FieldId::ListOfGrantedUsers):
        case static_cast<std::uint8_t>(FieldId::ListOfFunctionalAliases): {
            std::uint8_t n = r.u8();
            std::vector<std::string> list;
            for (std::uint8_t i = 0; i < n && r.ok(); ++i) {
                std::uint8_t len = r.u8();
                list.push_back(readString(r, len));
            }
            if (!r.ok() || r.remaining() != 0) {
                return Error{"bad_list", id};
            }
            if (id == static_cast<std::uint8_t>(FieldId::ListOfGrantedUsers)) {
                return Field{ListOfGrantedUsers{std::move(list)}};
            }
            return Field{ListOfFunctionalAliases{std::move(list)}};
        }
        case static_cast<std::uint8_t>(FieldId::ListOfSsrcs): {
            ListOfSsrcs l;
            std::uint8_t n = r.u8();
            r.skip(1);
            if (!r.ok() || r.remaining() != static_cast<std::size_t>(n) * 4) {
                return Error{"bad_list", id};
            }
            for (std::uint8_t i = 0; i < n; ++i) {
                l.ssrcs.push_back(r.u32());
            }
            return Field{std::move(l)};
        }
        case static_cast<std::uint8_t>(FieldId::FunctionalAlias):
            return Field{FunctionalAlias{readString(r, value.size())}};
        case static_cast<std::uint8_t>(FieldId::Location): {
            auto l = readLocation(r, true);
            if (!l) {
                return l.error();
            }
            if (r.remaining() != 0) {
                return Error{"bad_location_length", id};
            }
            return Field{Location{std::move(*l)}};
        }
        case static_cast<std::uint8_t>(FieldId::ListOfLocations): {
            ListOfLocations l;
            std::uint8_t n = r.u8();
            if (!r.ok()) {
                return Error{"bad_list", id};
            }
            for (std::uint8_t i = 0; i < n; ++i) {
                auto one = readLocation(r, false);
                if (!one) {
                    return one.error();
                }
                l.locations.push_back(std::move(*one));
            }
            if (r.remaining() != 0) {
                return Error{"bad_list", id};
            }
            return Field{std::move(l)};
        }
        default: {
            UnknownField u;
            u.id = id;
            u.value.assign(value.begin(), value.end());
            return Field{std::move(u)};
        }
    }
}

}  // namespace

std::string_view toString(MessageType t) {
    switch (t) {
        case MessageType::FloorRequest:
            return "Floor Request";
        case MessageType::FloorGranted:
            return "Floor Granted";
        case MessageType::FloorTaken:
            return "Floor Taken";
        case MessageType::FloorDeny:
            return "Floor Deny";
        case MessageType::FloorRelease:
            return "Floor Release";
        case MessageType::FloorIdle:
            return "Floor Idle";
        case MessageType::FloorRevoke:
            return "Floor Revoke";
        case MessageType::FloorQueuePositionRequest:
            return "Floor Queue Position Request";
        case MessageType::FloorQueuePositionInfo:
            return "Floor Queue Position Info";
        case MessageType::FloorAck:
            return "Floor Ack";
        case MessageType::FloorReleaseMultiTalker:
            return "Floor Release Multi Talker";
    }
    return "unknown";
}

bool isKnownMessageType(std::uint8_t v) {
    return v <= 6 || v == 8 || v == 9 || v == 10 || v == 15;
}

std::string_view toString(FieldId f) {
    static constexpr std::string_view kNames[] = {
        "Floor Priority",
        "Duration",
        "Reject Cause",
        "Queue Info",
        "Granted Party's Identity",
        "Permission to Request the Floor",
        "User ID",
        "Queue Size",
        "Message Sequence Number",
        "Queued User ID",
        "Source",
        "Track Info",
        "Message Type",
        "Floor Indicator",
        "SSRC",
        "List of Granted Users",
        "List of SSRCs",
        "Functional Alias",
        "List of Functional Aliases",
        "Location",
        "List of Locations",
    };
    auto i = static_cast<std::size_t>(f);
    return i < std::size(kNames) ? kNames[i] : std::string_view("unknown");
}

std::optional<std::size_t> locationValueLength(std::uint8_t type) {
    switch (type) {
        case location_type::kNotProvided:
            return 0;
        case location_type::kEcgi:
            return 7;
        case location_type::kTai:
            return 5;
        case location_type::kPlmnId:
            return 3;
        case location_type::kMbmsSai:
            return 2;
        case location_type::kMbsfnAreaId:
            return 1;
        case location_type::kGeographic:
            return 6;
        default:
            return std::nullopt;
    }
}

std::uint8_t fieldId(const Field& f) {
    if (const auto* u = std::get_if<UnknownField>(&f)) {
        return u->id;
    }
    // The variant alternatives are declared in field-ID order 0..20.
    return static_cast<std::uint8_t>(f.index());
}

LocationValue geographicLocation(double latitude_deg, double longitude_deg) {
    auto code = [](double deg, double range) {
        double c = std::round(deg / range * 8388608.0);  // 2^23
        c = std::clamp(c, -8388608.0, 8388607.0);
        return static_cast<std::uint32_t>(static_cast<std::int32_t>(c)) & 0xFFFFFFu;
    };
    LocationValue l;
    l.type = location_type::kGeographic;
    Bytes& v = l.value;
    ByteWriter w(v);
    w.u24(code(latitude_deg, 90.0));
    w.u24(code(longitude_deg, 180.0));
    return l;
}

std::optional<LatLong> toLatLong(const LocationValue& v) {
    if (v.type != location_type::kGeographic || v.value.size() != 6) {
        return std::nullopt;
    }
    ByteReader r(v.value);
    auto sext = [](std::uint32_t x) {
        return static_cast<std::int32_t>(x << 8) >> 8;  // sign-extend 24 bits
    };
    LatLong ll;
    ll.latitude = sext(r.u24()) * 90.0 / 8388608.0;
    ll.longitude = sext(r.u24()) * 180.0 / 8388608.0;
    return ll;
}

Status encode(const FloorMessage& m, Bytes& out) {
    const std::size_t start = out.size();
    ByteWriter w(out);
    w.u8(static_cast<std::uint8_t>(0x80 | (m.subtype() & 0x1F)));
    w.u8(kRtcpAppPt);
    w.u16(0);  // length, patched below
    w.u32(m.ssrc);
    w.str(std::string_view(kMcptName, 4));
    Bytes value;
    for (const auto& f : m.fields) {
        value.clear();
        Status s = encodeValue(f, value);
        if (!s) {
            out.resize(start);
            return s;
        }
        const std::uint8_t id = fieldId(f);
        std::size_t header = 2;
        w.u8(id);
        if (id >= kFirstLongLengthId) {
            if (value.size() > 0xFFFF) {
                out.resize(start);
                return Error{"value_too_long", static_cast<std::int64_t>(value.size())};
            }
            w.u16(static_cast<std::uint16_t>(value.size()));
            header = 3;
        } else {
            if (value.size() > 0xFF) {
                out.resize(start);
                return Error{"value_too_long", static_cast<std::int64_t>(value.size())};
            }
            w.u8(static_cast<std::uint8_t>(value.size()));
        }
        w.bytes(value);
        w.zeros(pad4(header + value.size()));
    }
    const std::size_t words = (out.size() - start) / 4 - 1;
    if (words > 0xFFFF) {
        out.resize(start);
        return Error{"message_too_long", static_cast<std::int64_t>(out.size() - start)};
    }
    out[start + 2] = static_cast<std::uint8_t>(words >> 8);
    out[start + 3] = static_cast<std::uint8_t>(words);
    return {};
}

Bytes encode(const FloorMessage& m, Status* status) {
    Bytes out;
    Status s = encode(m, out);
    if (status != nullptr) {
        *status = s;
    }
    return out;
}

Result<std::vector<Field>> decodeFields(ByteView app_data) {
    std::vector<Field> fields;
    ByteReader r(app_data);
    while (r.remaining() > 0) {
        const std::size_t field_start = r.offset();
        std::uint8_t id = r.u8();
        std::size_t len = 0;
        std::size_t header = 2;
        if (id >= kFirstLongLengthId) {
            len = r.u16();
            header = 3;
        } else {
            len = r.u8();
        }
        if (!r.ok()) {
            return Error{"truncated_field_header", static_cast<std::int64_t>(field_start)};
        }
        ByteView value = r.take(len);
        if (!r.ok()) {
            return Error{"truncated_field", static_cast<std::int64_t>(field_start)};
        }
        // Padding to the 32-bit boundary; the last field of a packet must have it too.
        r.skip(pad4(header + len));
        if (!r.ok()) {
            return Error{"missing_padding", static_cast<std::int64_t>(field_start)};
        }
        auto f = decodeValue(id, value);
        if (!f) {
            return f.error();
        }
        fields.push_back(std::move(*f));
    }
    return fields;
}

Result<FloorMessage> decode(ByteView packet) {
    if (packet.size() < kAppHeaderSize) {
        return Error{"truncated", static_cast<std::int64_t>(packet.size())};
    }
    if ((packet[0] >> 6) != 2) {
        return Error{"bad_version", packet[0] >> 6};
    }
    if (packet[1] != kRtcpAppPt) {
        return Error{"not_app", packet[1]};
    }
    const std::size_t len = (static_cast<std::size_t>(packet[2]) << 8 | packet[3]) * 4 + 4;
    if (len != packet.size()) {
        return Error{"bad_length", static_cast<std::int64_t>(len)};
    }
    std::size_t end = packet.size();
    if ((packet[0] & 0x20) != 0) {
        const std::uint8_t pad = packet[end - 1];
        if (pad == 0 || pad > end - kAppHeaderSize) {
            return Error{"bad_padding", pad};
        }
        end -= pad;
    }
    if (std::memcmp(packet.data() + 8, kMcptName, 4) != 0) {
        return Error{"not_mcpt"};
    }
    const std::uint8_t subtype = packet[0] & 0x1F;
    const std::uint8_t type = subtype & 0x0F;
    if (!isKnownMessageType(type)) {
        return Error{"unknown_message_type", type};
    }
    FloorMessage m;
    m.type = static_cast<MessageType>(type);
    m.ack_required = (subtype & kAckBit) != 0;
    m.ssrc = static_cast<std::uint32_t>(packet[4]) << 24 |
             static_cast<std::uint32_t>(packet[5]) << 16 |
             static_cast<std::uint32_t>(packet[6]) << 8 | packet[7];
    auto fields = decodeFields(packet.subspan(kAppHeaderSize, end - kAppHeaderSize));
    if (!fields) {
        return fields.error();
    }
    m.fields = std::move(*fields);
    return m;
}

Result<std::vector<RtcpPacketRef>> splitRtcp(ByteView datagram) {
    std::vector<RtcpPacketRef> out;
    ByteReader r(datagram);
    if (datagram.empty()) {
        return Error{"empty"};
    }
    while (r.remaining() > 0) {
        const std::size_t start = r.offset();
        std::uint8_t b0 = r.u8();
        std::uint8_t pt = r.u8();
        std::uint16_t words = r.u16();
        if (!r.ok()) {
            return Error{"truncated", static_cast<std::int64_t>(start)};
        }
        if ((b0 >> 6) != 2) {
            return Error{"bad_version", b0 >> 6};
        }
        const std::size_t len = static_cast<std::size_t>(words) * 4 + 4;
        r.skip(len - 4);
        if (!r.ok()) {
            return Error{"bad_length", static_cast<std::int64_t>(start)};
        }
        if ((b0 & 0x20) != 0 && r.remaining() != 0) {
            return Error{"padding_not_last", static_cast<std::int64_t>(start)};
        }
        out.push_back(RtcpPacketRef{b0, pt, datagram.subspan(start, len)});
    }
    return out;
}

Result<std::vector<FloorMessage>> decodeDatagram(ByteView datagram, std::size_t* others) {
    auto packets = splitRtcp(datagram);
    if (!packets) {
        return packets.error();
    }
    std::vector<FloorMessage> out;
    std::size_t other = 0;
    for (const auto& p : *packets) {
        if (p.packet_type != kRtcpAppPt || p.bytes.size() < kAppHeaderSize ||
            std::memcmp(p.bytes.data() + 8, kMcptName, 4) != 0) {
            ++other;
            continue;
        }
        auto m = decode(p.bytes);
        if (!m) {
            return m.error();
        }
        out.push_back(std::move(*m));
    }
    if (others != nullptr) {
        *others = other;
    }
    return out;
}

std::string describe(const FloorMessage& m) {
    std::string s(toString(m.type));
    if (m.ack_required) {
        s += "(A)";
    }
    s += " ssrc=" + std::to_string(m.ssrc);
    for (const auto& f : m.fields) {
        s += ' ';
        std::visit(
            [&](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, FloorPriority>) {
                    s += "priority=" + std::to_string(x.priority);
                } else if constexpr (std::is_same_v<T, Duration>) {
                    s += "duration=" + std::to_string(x.seconds);
                } else if constexpr (std::is_same_v<T, RejectCause>) {
                    s += "cause=" + std::to_string(x.cause) + " phrase=\"" + x.phrase + "\"";
                } else if constexpr (std::is_same_v<T, QueueInfo>) {
                    s += "queue=" + std::to_string(x.position) + "/" + std::to_string(x.priority);
                } else if constexpr (std::is_same_v<T, GrantedPartyIdentity>) {
                    s += "granted=" + x.id;
                } else if constexpr (std::is_same_v<T, UserId>) {
                    s += "user=" + x.id;
                } else if constexpr (std::is_same_v<T, QueuedUserId>) {
                    s += "queued_user=" + x.id;
                } else if constexpr (std::is_same_v<T, FunctionalAlias>) {
                    s += "alias=" + x.alias;
                } else if constexpr (std::is_same_v<T, FloorIndicator>) {
                    s += "indicator=" + std::to_string(x.bits);
                } else if constexpr (std::is_same_v<T, Ssrc>) {
                    s += "granted_ssrc=" + std::to_string(x.ssrc);
                } else if constexpr (std::is_same_v<T, UnknownField>) {
                    s += "field" + std::to_string(x.id) + "=" + toHex(x.value);
                } else {
                    s += std::string(toString(static_cast<FieldId>(fieldId(Field{x}))));
                }
            },
            f);
    }
    return s;
}

}  // namespace iwf::mc::floor
