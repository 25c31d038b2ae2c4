#include "mc_adapters/security/mikey_sakke.hpp"

#include <openssl/rand.h>

#include "mc_adapters/security/mikey.hpp"
#include "mc_adapters/security/ossl.hpp"
#include "mc_adapters/security/sakke.hpp"

namespace iwf::mc::security {
namespace {

using mikey::Message;

// SP payload parameter types (RFC 3830 §6.10.1 table, TS 33.180 E.2.2 additions).
constexpr std::uint8_t kSpEncAlg = 0;
constexpr std::uint8_t kSpEncKeyLen = 1;
constexpr std::uint8_t kSpAuthAlg = 2;
constexpr std::uint8_t kSpSaltLen = 4;
constexpr std::uint8_t kSpPrf = 5;
constexpr std::uint8_t kSpKdr = 6;
constexpr std::uint8_t kSpSrtpAuthTagLen = 18;
constexpr std::uint8_t kSpSrtcpAuthTagLen = 19;
constexpr std::uint8_t kSpAeadTagLen = 20;
constexpr std::uint8_t kEncAesCm = 1;
constexpr std::uint8_t kEncAesGcm = 6;
constexpr std::uint8_t kAuthRccM3 = 4;

std::uint64_t ntpSeconds(std::uint64_t ntp64) {
    return ntp64 >> 32;
}

std::string hexOf(ByteView v) {
    return toHex(v);
}

CsId csIdFor(KeyPurpose p) {
    switch (p) {
        case KeyPurpose::Gmk:
            return CsId::McpttGroup;
        case KeyPurpose::Csk:
            return CsId::CskSrtcpMcptt;
        default:
            return CsId::McpttPrivateInitiator;
    }
}

// The default SRTP profile of a key when the message has no SP payload: E.2.2 (GMK: AES-GCM
// with RCCm3, ROC in every packet), E.3.2 (PCK) and E.4.2 (CSK): AES-GCM.
void applyProfile(DistributedKey& k, const mikey::SpPayload* sp) {
    k.profile = SrtpProfile::AeadAes128Gcm;
    k.roc_in_packet = k.purpose == KeyPurpose::Gmk;
    if (sp == nullptr) {
        return;
    }
    k.roc_in_packet = false;
    for (const mikey::SpParam& p : sp->params) {
        if (p.value.size() != 1) {
            continue;
        }
        if (p.type == kSpEncAlg) {
            k.profile = p.value[0] == kEncAesCm ? SrtpProfile::AesCm128HmacSha1_80
                                                : SrtpProfile::AeadAes128Gcm;
        } else if (p.type == kSpAuthAlg) {
            k.roc_in_packet = p.value[0] == kAuthRccM3;
        }
    }
}

mikey::SpPayload defaultSp(KeyPurpose purpose) {
    mikey::SpPayload sp;
    auto add = [&sp](std::uint8_t t, std::uint8_t v) { sp.params.push_back({t, Bytes{v}}); };
    add(kSpEncAlg, kEncAesGcm);
    add(kSpEncKeyLen, 16);
    if (purpose == KeyPurpose::Gmk) {
        add(kSpAuthAlg, kAuthRccM3);
    }
    add(kSpSaltLen, 12);
    add(kSpPrf, 0);
    add(kSpKdr, 0);
    if (purpose == KeyPurpose::Gmk) {
        add(kSpSrtpAuthTagLen, 4);
        add(kSpSrtcpAuthTagLen, 0);
    }
    add(kSpAeadTagLen, 16);
    return sp;
}

std::string_view asString(ByteView v) {
    return {reinterpret_cast<const char*>(v.data()), v.size()};
}

// Steps 1-3: structure, initiator, signature.
Result<Bytes> verifyInitiator(const Message& m, ByteView raw, const KmsDirectory& kms,
                              std::string& initiator) {
    if (m.hdr.data_type != mikey::kDataTypeSakke) {
        return Error{"mikey_not_sakke"};
    }
    if (m.sign_type != mikey::kSignEccsi || m.signature.size() != kEccsiSignatureLen) {
        return Error{"mikey_not_eccsi"};
    }
    const mikey::Timestamp* t = m.timestamp();
    const mikey::IdrPayload* kmsi = m.idr(mikey::kRoleInitiatorKms);
    if (t == nullptr || t->type == mikey::kTsCounter || m.rand() == nullptr ||
        m.sakke() == nullptr || kmsi == nullptr) {
        return Error{"mikey_missing_payload"};
    }
    auto cert = kms.find(asString(kmsi->data));
    if (cert == kms.end()) {
        return Error{"mikey_unknown_kms"};
    }
    Bytes uid;
    if (const mikey::IdrPayload* i = m.idr(mikey::kRoleInitiator)) {
        initiator.assign(asString(i->data));
        uid = uidFor(initiator, cert->second, ntpSeconds(t->value));
    } else if (const mikey::IdrPayload* u = m.idr(mikey::kRoleUidInitiator)) {
        uid = u->data;
        initiator = hexOf(uid);
    } else {
        return Error{"mikey_missing_payload"};
    }
    if (!eccsiVerify(cert->second.kpak, uid, raw.first(m.signed_length), m.signature).ok()) {
        return Error{"mikey_signature_invalid"};
    }
    return uid;
}

// Step 4: addressed to us.
Status checkResponder(const Message& m, const MikeyIdentity& me) {
    const mikey::IdrPayload* kmsr = m.idr(mikey::kRoleResponderKms);
    if (kmsr == nullptr || asString(kmsr->data) != me.kms.kms_uri) {
        return Error{"mikey_not_for_us"};
    }
    const std::uint64_t t = ntpSeconds(m.timestamp()->value);
    const std::uint64_t period = keyPeriodNo(t, me.kms.user_key_period, me.kms.user_key_offset);
    if (const mikey::IdrPayload* r = m.idr(mikey::kRoleResponder)) {
        if (asString(r->data) != me.user_uri) {
            return Error{"mikey_not_for_us"};
        }
    } else if (const mikey::IdrPayload* u = m.idr(mikey::kRoleUidResponder)) {
        if (u->data != uidFor(me.user_uri, me.kms, t)) {
            return Error{"mikey_not_for_us"};
        }
    } else {
        return Error{"mikey_missing_payload"};
    }
    if (period != me.keys.key_period_no) {
        return Error{"mikey_key_period_mismatch", static_cast<std::int64_t>(period)};
    }
    return Status::success();
}

// Step 7.
Status honourParameters(DistributedKey& k, const Message& m, std::uint64_t now) {
    const mikey::GeneralExt* ext = m.ext(mikey::kExtKeyParameters);
    if (ext == nullptr) {
        return Status::success();
    }
    auto p = openKeyParameters(ext->data, k.key, k.csb_id);
    if (!p) {
        return p.error();
    }
    if (p->key_type != static_cast<std::uint8_t>(k.purpose)) {
        return Error{"mikey_key_type_mismatch", p->key_type};
    }
    if (p->revoked()) {
        return Error{"mikey_key_revoked"};
    }
    if (p->expiry_time != 0 && now >= p->expiry_time) {
        return Error{"mikey_key_expired"};
    }
    k.params = std::move(*p);
    return Status::success();
}

}  // namespace

Bytes DistributedKey::mki() const {
    Bytes out;
    ByteWriter w(out);
    w.u32(key_id);
    if (purpose == KeyPurpose::Gmk) {
        w.u32(csb_id);
    }
    return out;
}

Bytes uidFor(std::string_view uri, const KmsCertificate& kms, std::uint64_t ntp_seconds) {
    return mikeySakkeUid(uri, kms.kms_uri, kms.user_key_period, kms.user_key_offset,
                         keyPeriodNo(ntp_seconds, kms.user_key_period, kms.user_key_offset));
}

Result<DistributedKey> receiveIMessage(ByteView msg, const MikeyIdentity& me,
                                       const KmsDirectory& kms, std::uint64_t now_ntp_seconds) {
    auto m = mikey::parse(msg);
    if (!m) {
        return m.error();
    }
    DistributedKey k;
    auto initiator_uid = verifyInitiator(*m, msg, kms, k.initiator);
    if (!initiator_uid) {
        return initiator_uid.error();
    }
    IWF_TRY_STATUS(checkResponder(*m, me));
    // Step 5: the key, SAKKE-encapsulated to our UID.
    const mikey::SakkePayload* sk = m->sakke();
    if (sk->params != mikey::kSakkeParamSet1) {
        return Error{"mikey_unsupported_sakke_params", sk->params};
    }
    auto key = sakkeDecapsulate(me.kms.z, me.keys.uid, me.keys.rsk, sk->data);
    if (!key) {
        return Error{"mikey_sakke_failed"};
    }
    k.key = std::move(*key);
    // Step 6: key identifiers.
    k.csb_id = m->hdr.csb_id;
    k.purpose = purposeOf(k.csb_id);
    if (k.purpose == KeyPurpose::Gmk) {
        auto gmk_id = gmkIdFromGukId(k.key, me.user_uri, k.csb_id);
        if (!gmk_id) {
            return gmk_id.error();
        }
        k.key_id = *gmk_id;
    } else if (k.purpose == KeyPurpose::Pck || k.purpose == KeyPurpose::Csk) {
        k.key_id = k.csb_id;
    } else {
        cleanse(k.key);
        return Error{"mikey_unsupported_key_purpose", static_cast<std::int64_t>(k.purpose)};
    }
    // A GENERIC-ID map, when present, carries the MKI as SPI: it must agree.
    for (const mikey::GenericCs& cs : m->hdr.generic) {
        if (!cs.spi.empty() && cs.spi != k.mki()) {
            cleanse(k.key);
            return Error{"mikey_key_id_mismatch"};
        }
    }
    k.rand = m->rand()->rand;
    k.timestamp_ntp = m->timestamp()->value;
    applyProfile(k, m->sp());
    if (Status st = honourParameters(k, *m, now_ntp_seconds); !st.ok()) {
        cleanse(k.key);
        return st.error();
    }
    return k;
}

Result<Bytes> buildIMessage(const MikeyIdentity& from, std::string_view to_uri,
                            const KmsCertificate& to_kms, const KeyToSend& k) {
    if (k.key.size() != 16 || purposeOf(k.key_id) != k.purpose) {
        return Error{"mikey_bad_key"};
    }
    Message m;
    Bytes rand = k.rand;
    if (rand.empty()) {
        rand.resize(16);
        if (RAND_bytes(rand.data(), 16) != 1) {
            return Error{"rng_failure"};
        }
    }
    std::uint32_t csb = k.key_id;
    if (k.purpose == KeyPurpose::Gmk) {
        auto guk = gukIdFromGmkId(k.key, to_uri, k.key_id);
        if (!guk) {
            return guk.error();
        }
        csb = *guk;
    }
    m.hdr.csb_id = csb;
    if (k.include_cs_map) {
        DistributedKey shape;
        shape.purpose = k.purpose;
        shape.key_id = k.key_id;
        shape.csb_id = csb;
        mikey::GenericCs cs;
        cs.cs_id = static_cast<std::uint8_t>(csIdFor(k.purpose));
        cs.policies = {0};
        cs.spi = shape.mki();
        m.hdr.map_type = mikey::kMapGenericId;
        m.hdr.generic.push_back(std::move(cs));
    }
    const std::uint64_t t = k.timestamp_ntp >> 32;
    m.payloads.emplace_back(mikey::Timestamp{mikey::kTsNtpUtc, k.timestamp_ntp});
    m.payloads.emplace_back(mikey::RandPayload{rand});
    m.payloads.emplace_back(mikey::IdrPayload{mikey::kRoleInitiator, mikey::kIdTypeUri,
                                              Bytes(from.user_uri.begin(), from.user_uri.end())});
    m.payloads.emplace_back(mikey::IdrPayload{mikey::kRoleResponder, mikey::kIdTypeUri,
                                              Bytes(to_uri.begin(), to_uri.end())});
    m.payloads.emplace_back(
        mikey::IdrPayload{mikey::kRoleInitiatorKms, mikey::kIdTypeUri,
                          Bytes(from.kms.kms_uri.begin(), from.kms.kms_uri.end())});
    m.payloads.emplace_back(mikey::IdrPayload{mikey::kRoleResponderKms, mikey::kIdTypeUri,
                                              Bytes(to_kms.kms_uri.begin(), to_kms.kms_uri.end())});
    if (k.include_sp) {
        m.payloads.emplace_back(defaultSp(k.purpose));
    }
    auto enc = sakkeEncapsulate(to_kms.z, uidFor(to_uri, to_kms, t), k.key);
    if (!enc) {
        return enc.error();
    }
    // ID scheme 2: the MIKEY-SAKKE UID of 33.180 F.2.1 (E.3: "URI Scheme").
    m.payloads.emplace_back(mikey::SakkePayload{mikey::kSakkeParamSet1, 2, std::move(*enc)});
    if (k.params) {
        Bytes iv(16);
        if (RAND_bytes(iv.data(), 16) != 1) {
            return Error{"rng_failure"};
        }
        auto sealed = sealKeyParameters(*k.params, k.key, csb, iv);
        if (!sealed) {
            return sealed.error();
        }
        m.payloads.emplace_back(mikey::GeneralExt{mikey::kExtKeyParameters, std::move(*sealed)});
    }
    auto tbs = mikey::encodeForSigning(m, kEccsiSignatureLen);
    if (!tbs) {
        return tbs.error();
    }
    auto sig =
        eccsiSign(from.kms.kpak, uidFor(from.user_uri, from.kms, t), from.keys.signing, *tbs);
    if (!sig) {
        return sig.error();
    }
    tbs->insert(tbs->end(), sig->begin(), sig->end());
    return tbs;
}

}  // namespace iwf::mc::security
