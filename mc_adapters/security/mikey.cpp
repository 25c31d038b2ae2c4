#include "mc_adapters/security/mikey.hpp"

namespace iwf::mc::security::mikey {
namespace {

constexpr std::size_t kMaxCsCount = 32;  // bounds work per message; 33.180 uses 0 or 1

Error truncated(const ByteReader& r) {
    return Error{"mikey_truncated", static_cast<std::int64_t>(r.offset())};
}

Result<CommonHeader> parseHeader(ByteReader& r, std::uint8_t& next) {
    CommonHeader h;
    h.version = r.u8();
    h.data_type = r.u8();
    next = r.u8();
    const std::uint8_t v_prf = r.u8();
    h.v_flag = (v_prf & 0x80) != 0;
    h.prf_func = v_prf & 0x7f;
    h.csb_id = r.u32();
    const std::uint8_t cs_count = r.u8();
    h.map_type = r.u8();
    if (!r.ok()) {
        return truncated(r);
    }
    if (h.version != kVersion) {
        return Error{"mikey_bad_version", h.version};
    }
    if (cs_count > kMaxCsCount) {
        return Error{"mikey_bad_map", cs_count};
    }
    switch (h.map_type) {
        case kMapSrtpId:
            for (std::size_t i = 0; i < cs_count; ++i) {
                SrtpCs cs;
                cs.policy_no = r.u8();
                cs.ssrc = r.u32();
                cs.roc = r.u32();
                h.srtp.push_back(cs);
            }
            break;
        case kMapEmpty:
            h.empty_cs_count = cs_count;
            break;
        case kMapGenericId:
            for (std::size_t i = 0; i < cs_count; ++i) {
                GenericCs cs;
                cs.cs_id = r.u8();
                cs.prot_type = r.u8();
                const std::uint8_t s_np = r.u8();
                cs.s_flag = (s_np & 0x80) != 0;
                ByteView ps = r.take(s_np & 0x7f);
                cs.policies.assign(ps.begin(), ps.end());
                ByteView sd = r.take(r.u16());
                cs.session_data.assign(sd.begin(), sd.end());
                ByteView spi = r.take(r.u8());
                cs.spi.assign(spi.begin(), spi.end());
                h.generic.push_back(std::move(cs));
            }
            break;
        default:
            return Error{"mikey_bad_map", h.map_type};
    }
    if (!r.ok()) {
        return truncated(r);
    }
    return h;
}

// Reads one payload of type `type` (its next-payload octet first).
Result<Payload> parsePayload(ByteReader& r, std::uint8_t type, std::uint8_t& next) {
    next = r.u8();
    switch (type) {
        case kTimestamp: {
            Timestamp t;
            t.type = r.u8();
            if (t.type == kTsNtpUtc || t.type == kTsNtp) {
                t.value = r.u64();
            } else if (t.type == kTsCounter) {
                t.value = r.u32();
            } else {
                return Error{"mikey_bad_timestamp", t.type};
            }
            if (!r.ok()) {
                return truncated(r);
            }
            return Payload{t};
        }
        case kRand: {
            ByteView v = r.take(r.u8());
            if (!r.ok()) {
                return truncated(r);
            }
            return Payload{RandPayload{Bytes(v.begin(), v.end())}};
        }
        case kIdr: {
            IdrPayload p;
            p.role = r.u8();
            p.id_type = r.u8();
            ByteView v = r.take(r.u16());
            if (!r.ok()) {
                return truncated(r);
            }
            p.data.assign(v.begin(), v.end());
            return Payload{std::move(p)};
        }
        case kSp: {
            SpPayload p;
            p.policy_no = r.u8();
            p.prot_type = r.u8();
            ByteReader params(r.take(r.u16()));
            if (!r.ok()) {
                return truncated(r);
            }
            while (params.remaining() > 0) {
                SpParam prm;
                prm.type = params.u8();
                ByteView v = params.take(params.u8());
                if (!params.ok()) {
                    return Error{"mikey_bad_length", static_cast<std::int64_t>(r.offset())};
                }
                prm.value.assign(v.begin(), v.end());
                p.params.push_back(std::move(prm));
            }
            return Payload{std::move(p)};
        }
        case kSakke: {
            SakkePayload p;
            p.params = r.u8();
            p.id_scheme = r.u8();
            ByteView v = r.take(r.u16());
            if (!r.ok()) {
                return truncated(r);
            }
            p.data.assign(v.begin(), v.end());
            return Payload{std::move(p)};
        }
        case kGeneralExt: {
            GeneralExt p;
            p.type = r.u8();
            ByteView v = r.take(r.u16());
            if (!r.ok()) {
                return truncated(r);
            }
            p.data.assign(v.begin(), v.end());
            return Payload{std::move(p)};
        }
        default:
            return Error{"mikey_unknown_payload", type};
    }
}

std::uint8_t typeOf(const Payload& p) {
    struct V {
        std::uint8_t operator()(const Timestamp&) const { return kTimestamp; }
        std::uint8_t operator()(const RandPayload&) const { return kRand; }
        std::uint8_t operator()(const IdrPayload&) const { return kIdr; }
        std::uint8_t operator()(const SpPayload&) const { return kSp; }
        std::uint8_t operator()(const SakkePayload&) const { return kSakke; }
        std::uint8_t operator()(const GeneralExt&) const { return kGeneralExt; }
    };
    return std::visit(V{}, p);
}

Status encodeHeader(const CommonHeader& h, std::uint8_t next, ByteWriter& w) {
    w.u8(h.version);
    w.u8(h.data_type);
    w.u8(next);
    w.u8(static_cast<std::uint8_t>((h.v_flag ? 0x80 : 0) | (h.prf_func & 0x7f)));
    w.u32(h.csb_id);
    switch (h.map_type) {
        case kMapSrtpId:
            w.u8(static_cast<std::uint8_t>(h.srtp.size()));
            w.u8(h.map_type);
            for (const SrtpCs& cs : h.srtp) {
                w.u8(cs.policy_no);
                w.u32(cs.ssrc);
                w.u32(cs.roc);
            }
            break;
        case kMapEmpty:
            w.u8(h.empty_cs_count);
            w.u8(h.map_type);
            break;
        case kMapGenericId:
            w.u8(static_cast<std::uint8_t>(h.generic.size()));
            w.u8(h.map_type);
            for (const GenericCs& cs : h.generic) {
                if (cs.policies.size() > 0x7f || cs.session_data.size() > 0xffff ||
                    cs.spi.size() > 0xff) {
                    return Error{"mikey_field_too_long"};
                }
                w.u8(cs.cs_id);
                w.u8(cs.prot_type);
                w.u8(static_cast<std::uint8_t>((cs.s_flag ? 0x80 : 0) | cs.policies.size()));
                w.bytes(cs.policies);
                w.u16(static_cast<std::uint16_t>(cs.session_data.size()));
                w.bytes(cs.session_data);
                w.u8(static_cast<std::uint8_t>(cs.spi.size()));
                w.bytes(cs.spi);
            }
            break;
        default:
            return Error{"mikey_bad_map", h.map_type};
    }
    if (h.srtp.size() > kMaxCsCount || h.generic.size() > kMaxCsCount) {
        return Error{"mikey_bad_map"};
    }
    return Status::success();
}

Status encodePayload(const Payload& p, std::uint8_t next, ByteWriter& w) {
    w.u8(next);
    if (const auto* t = std::get_if<Timestamp>(&p)) {
        w.u8(t->type);
        if (t->type == kTsCounter) {
            w.u32(static_cast<std::uint32_t>(t->value));
        } else {
            w.u64(t->value);
        }
    } else if (const auto* rp = std::get_if<RandPayload>(&p)) {
        if (rp->rand.size() > 0xff) {
            return Error{"mikey_field_too_long"};
        }
        w.u8(static_cast<std::uint8_t>(rp->rand.size()));
        w.bytes(rp->rand);
    } else if (const auto* id = std::get_if<IdrPayload>(&p)) {
        if (id->data.size() > 0xffff) {
            return Error{"mikey_field_too_long"};
        }
        w.u8(id->role);
        w.u8(id->id_type);
        w.u16(static_cast<std::uint16_t>(id->data.size()));
        w.bytes(id->data);
    } else if (const auto* sp = std::get_if<SpPayload>(&p)) {
        Bytes params;
        ByteWriter pw(params);
        for (const SpParam& prm : sp->params) {
            if (prm.value.size() > 0xff) {
                return Error{"mikey_field_too_long"};
            }
            pw.u8(prm.type);
            pw.u8(static_cast<std::uint8_t>(prm.value.size()));
            pw.bytes(prm.value);
        }
        if (params.size() > 0xffff) {
            return Error{"mikey_field_too_long"};
        }
        w.u8(sp->policy_no);
        w.u8(sp->prot_type);
        w.u16(static_cast<std::uint16_t>(params.size()));
        w.bytes(params);
    } else if (const auto* sk = std::get_if<SakkePayload>(&p)) {
        if (sk->data.size() > 0xffff) {
            return Error{"mikey_field_too_long"};
        }
        w.u8(sk->params);
        w.u8(sk->id_scheme);
        w.u16(static_cast<std::uint16_t>(sk->data.size()));
        w.bytes(sk->data);
    } else if (const auto* ex = std::get_if<GeneralExt>(&p)) {
        if (ex->data.size() > 0xffff) {
            return Error{"mikey_field_too_long"};
        }
        w.u8(ex->type);
        w.u16(static_cast<std::uint16_t>(ex->data.size()));
        w.bytes(ex->data);
    }
    return Status::success();
}

template <typename T>
const T* findPayload(const std::vector<Payload>& ps) {
    for (const Payload& p : ps) {
        if (const T* t = std::get_if<T>(&p)) {
            return t;
        }
    }
    return nullptr;
}

}  // namespace

const Timestamp* Message::timestamp() const {
    return findPayload<Timestamp>(payloads);
}
const RandPayload* Message::rand() const {
    return findPayload<RandPayload>(payloads);
}
const SakkePayload* Message::sakke() const {
    return findPayload<SakkePayload>(payloads);
}
const SpPayload* Message::sp() const {
    return findPayload<SpPayload>(payloads);
}

const IdrPayload* Message::idr(std::uint8_t role) const {
    for (const Payload& p : payloads) {
        if (const auto* id = std::get_if<IdrPayload>(&p); id != nullptr && id->role == role) {
            return id;
        }
    }
    return nullptr;
}

const GeneralExt* Message::ext(std::uint8_t type) const {
    for (const Payload& p : payloads) {
        if (const auto* e = std::get_if<GeneralExt>(&p); e != nullptr && e->type == type) {
            return e;
        }
    }
    return nullptr;
}

Result<Message> parse(ByteView in) {
    ByteReader r(in);
    Message m;
    std::uint8_t next = kLast;
    auto hdr = parseHeader(r, next);
    if (!hdr) {
        return hdr.error();
    }
    m.hdr = std::move(*hdr);
    // Every payload but SIGN carries the type of the one after it; SIGN ends the chain.
    constexpr std::size_t kMaxPayloads = 64;
    while (next != kSign) {
        if (next == kLast) {
            return Error{"mikey_no_signature", static_cast<std::int64_t>(r.offset())};
        }
        if (m.payloads.size() >= kMaxPayloads) {
            return Error{"mikey_too_many_payloads"};
        }
        std::uint8_t following = kLast;
        auto p = parsePayload(r, next, following);
        if (!p) {
            return p.error();
        }
        m.payloads.push_back(std::move(*p));
        next = following;
    }
    // SIGN (RFC 3830 §6.5): S type in the high 4 bits, length in the low 12 bits.
    const std::uint16_t type_len = r.u16();
    m.signed_length = r.offset();
    m.sign_type = static_cast<std::uint8_t>(type_len >> 12);
    ByteView sig = r.take(type_len & 0x0fff);
    if (!r.ok()) {
        return truncated(r);
    }
    m.signature.assign(sig.begin(), sig.end());
    if (r.remaining() != 0) {
        return Error{"mikey_trailing_bytes", static_cast<std::int64_t>(r.remaining())};
    }
    return m;
}

Result<Bytes> encodeForSigning(const Message& m, std::size_t signature_length) {
    if (signature_length > 0x0fff || m.sign_type > 0x0f) {
        return Error{"mikey_field_too_long"};
    }
    Bytes out;
    ByteWriter w(out);
    std::uint8_t first = m.payloads.empty() ? std::uint8_t{kSign} : typeOf(m.payloads.front());
    IWF_TRY_STATUS(encodeHeader(m.hdr, first, w));
    for (std::size_t i = 0; i < m.payloads.size(); ++i) {
        std::uint8_t next =
            i + 1 < m.payloads.size() ? typeOf(m.payloads[i + 1]) : std::uint8_t{kSign};
        IWF_TRY_STATUS(encodePayload(m.payloads[i], next, w));
    }
    w.u16(static_cast<std::uint16_t>((m.sign_type << 12) | signature_length));
    return out;
}

Result<Bytes> encode(const Message& m) {
    auto out = encodeForSigning(m, m.signature.size());
    if (!out) {
        return out.error();
    }
    out->insert(out->end(), m.signature.begin(), m.signature.end());
    return out;
}

}  // namespace iwf::mc::security::mikey
