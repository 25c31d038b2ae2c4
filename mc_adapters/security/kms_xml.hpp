#pragma once
// KMS responses of TS 33.180 Annex D (KMS interface, namespace
// urn:3gpp:ns:mcsecKMSInterface:1.0): the KmsInit response carrying the KMS certificate
// (D.3.2: KmsUri, UserIdFormat, UserKeyPeriod, UserKeyOffset, PubEncKey = SAKKE Z,
// PubAuthKey = ECCSI KPAK) and the KmsKeyProv response carrying a user's key set for one key
// period (D.3.3: UserUri, UserID, KeyPeriodNo, UserDecryptKey = SAKKE RSK,
// UserSigningKeySSK, UserPubTokenPVT). Keys are hex octet strings.
//
// Only the plain ("TkIk" without encryption) forms are read: a key set the KMS wrapped with a
// transport key (D.3.4, KmsKeyProvTkIkType with EncryptedKey) is refused as
// "kms_encrypted_key_unsupported". kms_client.hpp fetches them over HTTPS.
//
// validateKeySet() is what a client must do before using a key set: the UserID is the F.2.1
// UID of (UserUri, KmsUri, period), the SSK validates (RFC 6507 §5.1.2) and the RSK validates
// (RFC 6508 §6.1.2) under this certificate.
//
// Errors name the element: "kms_xml_malformed", "kms_xml_not_kms_response",
// "kms_xml_missing:<Element>", "kms_xml_bad_value:<Element>" (one static string per element),
// "kms_user_id_format", "kms_uid_mismatch", "kms_ssk_invalid", "kms_rsk_invalid".

#include <string_view>

#include "common/result.hpp"
#include "mc_adapters/security/mikey_sakke.hpp"

namespace iwf::mc::security {

Result<KmsCertificate> parseKmsInitResponse(std::string_view xml);
Result<UserKeySet> parseKmsKeyProvResponse(std::string_view xml);
Status validateKeySet(const KmsCertificate& kms, const UserKeySet& keys);

}  // namespace iwf::mc::security
