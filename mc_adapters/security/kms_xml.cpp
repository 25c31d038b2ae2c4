#include "mc_adapters/security/kms_xml.hpp"

#include <charconv>
#include <string>

#include <pugixml.hpp>

#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/key_derivation.hpp"
#include "mc_adapters/security/sakke.hpp"

namespace iwf::mc::security {
namespace {

constexpr std::string_view kNamespace = "urn:3gpp:ns:mcsecKMSInterface:1.0";

std::string_view localName(const char* name) {
    std::string_view n(name);
    const auto colon = n.find(':');
    return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_node child(pugi::xml_node n, std::string_view local) {
    for (pugi::xml_node c : n.children()) {
        if (c.type() == pugi::node_element && localName(c.name()) == local) {
            return c;
        }
    }
    return {};
}

std::string_view textOf(pugi::xml_node n) {
    std::string_view t = n.child_value();
    while (!t.empty() &&
           (t.front() == ' ' || t.front() == '\n' || t.front() == '\t' || t.front() == '\r')) {
        t.remove_prefix(1);
    }
    while (!t.empty() &&
           (t.back() == ' ' || t.back() == '\n' || t.back() == '\t' || t.back() == '\r')) {
        t.remove_suffix(1);
    }
    return t;
}

// An element and its two refusal reasons (static strings: Error keeps a string_view).
struct Field {
    std::string_view name;
    std::string_view missing;
    std::string_view bad;
};
#define IWF_KMS_FIELD(n)                                \
    Field {                                             \
        n, "kms_xml_missing:" n, "kms_xml_bad_value:" n \
    }
constexpr Field kKmsUri = IWF_KMS_FIELD("KmsUri");
constexpr Field kUserIdFormat = IWF_KMS_FIELD("UserIdFormat");
constexpr Field kUserKeyPeriod = IWF_KMS_FIELD("UserKeyPeriod");
constexpr Field kUserKeyOffset = IWF_KMS_FIELD("UserKeyOffset");
constexpr Field kPubEncKey = IWF_KMS_FIELD("PubEncKey");
constexpr Field kPubAuthKey = IWF_KMS_FIELD("PubAuthKey");
constexpr Field kUserUri = IWF_KMS_FIELD("UserUri");
constexpr Field kUserId = IWF_KMS_FIELD("UserID");
constexpr Field kKeyPeriodNo = IWF_KMS_FIELD("KeyPeriodNo");
constexpr Field kUserDecryptKey = IWF_KMS_FIELD("UserDecryptKey");
constexpr Field kUserSigningKeySsk = IWF_KMS_FIELD("UserSigningKeySSK");
constexpr Field kUserPubTokenPvt = IWF_KMS_FIELD("UserPubTokenPVT");
constexpr Field kKmsInit = IWF_KMS_FIELD("KmsInit");
constexpr Field kKmsKeyProv = IWF_KMS_FIELD("KmsKeyProv");
constexpr Field kKmsCertificate = IWF_KMS_FIELD("KmsCertificate");
constexpr Field kKmsKeySet = IWF_KMS_FIELD("KmsKeySet");
#undef IWF_KMS_FIELD

Result<std::string> textField(pugi::xml_node parent, const Field& f) {
    pugi::xml_node n = child(parent, f.name);
    if (!n) {
        return Error{f.missing};
    }
    std::string_view t = textOf(n);
    if (t.empty()) {
        return Error{f.bad};
    }
    return std::string(t);
}

Result<std::uint64_t> numberField(pugi::xml_node parent, const Field& f) {
    auto t = textField(parent, f);
    if (!t) {
        return t.error();
    }
    std::uint64_t v = 0;
    auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), v);
    if (ec != std::errc{} || end != t->data() + t->size()) {
        return Error{f.bad};
    }
    return v;
}

Result<Bytes> hexField(pugi::xml_node parent, const Field& f, std::size_t len) {
    auto t = textField(parent, f);
    if (!t) {
        return t.error();
    }
    auto v = fromHex(*t);
    if (!v || v->size() != len) {
        return Error{f.bad};
    }
    return std::move(*v);
}

// The KmsMessage's first element child named `message` (KmsInit / KmsKeyProv).
Result<pugi::xml_node> message(const pugi::xml_document& doc, const Field& f) {
    pugi::xml_node root = doc.document_element();
    if (!root || localName(root.name()) != "KmsResponse") {
        return Error{"kms_xml_not_kms_response"};
    }
    const char* ns = root.attribute("xmlns").value();
    if (std::string_view(ns) != kNamespace) {
        return Error{"kms_xml_not_kms_response"};
    }
    pugi::xml_node m = child(child(root, "KmsMessage"), f.name);
    if (!m) {
        return Error{f.missing};
    }
    return m;
}

}  // namespace

Result<KmsCertificate> parseKmsInitResponse(std::string_view xml) {
    pugi::xml_document doc;
    if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8)) {
        return Error{"kms_xml_malformed"};
    }
    auto init = message(doc, kKmsInit);
    if (!init) {
        return init.error();
    }
    pugi::xml_node cert = child(*init, kKmsCertificate.name);
    if (!cert) {
        return Error{kKmsCertificate.missing};
    }
    KmsCertificate c;
    auto uri = textField(cert, kKmsUri);
    auto format = numberField(cert, kUserIdFormat);
    auto period = numberField(cert, kUserKeyPeriod);
    auto offset = numberField(cert, kUserKeyOffset);
    auto z = hexField(cert, kPubEncKey, kSakkePointLen);
    auto kpak = hexField(cert, kPubAuthKey, kEccsiPointLen);
    for (const Error* e : {uri ? nullptr : &uri.error(), format ? nullptr : &format.error(),
                           period ? nullptr : &period.error(), offset ? nullptr : &offset.error(),
                           z ? nullptr : &z.error(), kpak ? nullptr : &kpak.error()}) {
        if (e != nullptr) {
            return *e;
        }
    }
    // 33.180 D.3.2: UserIdFormat 2 is the F.2.1 hashed UID, the only one MC uses.
    if (*format != 2) {
        return Error{"kms_user_id_format", static_cast<std::int64_t>(*format)};
    }
    if (*period == 0) {
        return Error{kUserKeyPeriod.bad};
    }
    c.kms_uri = std::move(*uri);
    c.user_key_period = *period;
    c.user_key_offset = *offset;
    c.z = std::move(*z);
    c.kpak = std::move(*kpak);
    return c;
}

Result<UserKeySet> parseKmsKeyProvResponse(std::string_view xml) {
    pugi::xml_document doc;
    if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8)) {
        return Error{"kms_xml_malformed"};
    }
    auto prov = message(doc, kKmsKeyProv);
    if (!prov) {
        return prov.error();
    }
    pugi::xml_node set = child(*prov, kKmsKeySet.name);
    if (!set) {
        return Error{kKmsKeySet.missing};
    }
    if (child(set, "EncryptedKey") || child(*prov, "EncryptedKey")) {
        return Error{"kms_encrypted_key_unsupported"};
    }
    auto uri = textField(set, kUserUri);
    auto uid = hexField(set, kUserId, 32);
    auto period = numberField(set, kKeyPeriodNo);
    auto rsk = hexField(set, kUserDecryptKey, kSakkePointLen);
    auto ssk = hexField(set, kUserSigningKeySsk, kEccsiN);
    auto pvt = hexField(set, kUserPubTokenPvt, kEccsiPointLen);
    for (const Error* e : {uri ? nullptr : &uri.error(), uid ? nullptr : &uid.error(),
                           period ? nullptr : &period.error(), rsk ? nullptr : &rsk.error(),
                           ssk ? nullptr : &ssk.error(), pvt ? nullptr : &pvt.error()}) {
        if (e != nullptr) {
            return *e;
        }
    }
    UserKeySet k;
    k.user_uri = std::move(*uri);
    k.uid = std::move(*uid);
    k.key_period_no = *period;
    k.rsk = std::move(*rsk);
    k.signing = EccsiSigningKey{std::move(*ssk), std::move(*pvt)};
    return k;
}

Status validateKeySet(const KmsCertificate& kms, const UserKeySet& keys) {
    const Bytes uid = mikeySakkeUid(keys.user_uri, kms.kms_uri, kms.user_key_period,
                                    kms.user_key_offset, keys.key_period_no);
    if (uid != keys.uid) {
        return Error{"kms_uid_mismatch"};
    }
    if (!eccsiValidateSigningKey(kms.kpak, uid, keys.signing).ok()) {
        return Error{"kms_ssk_invalid"};
    }
    if (!sakkeValidateRsk(kms.z, uid, keys.rsk).ok()) {
        return Error{"kms_rsk_invalid"};
    }
    return Status::success();
}

}  // namespace iwf::mc::security
