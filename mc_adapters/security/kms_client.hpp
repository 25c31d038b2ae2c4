#pragma once
// KMS client of TS 33.180 Annex D: the IWF's identity keys (ECCSI signing key, SAKKE RSK) for
// its MC identity, fetched over HTTPS from the KMS and refreshed once per key period.
//
//   POST https://<kms>/keymanagement/identity/v1/init              -> KmsInit (certificate)
//   POST https://<kms>/keymanagement/identity/v1/keyprov/<user-uri> -> KmsKeyProv (key set)
//
// (D.2.2 / D.2.4; the paths as Streamwide's kms-agent KMClient.cc requests them; Accept and
// Content-Type application/xml; an access token as "Authorization: Bearer" when configured.)
// The body of each request is a KmsRequest (D.2.2: UserUri, KmsUri, Time, ClientReqUrl); the
// XML signature of D.2.2's SignedKmsRequest is not written (Streamwide's client leaves it
// out too).
//
// Transport: OpenSSL TLS (1.2 or later) over a blocking socket with a connect / read / write
// deadline; the KMS's certificate must chain to `ca_file` and name the host (a DNS name or,
// for an address, an IP SAN). Nothing is cached on disk: the key set lives in memory only, in
// the MikeyIdentity handed to the caller (never in the keymap store).
//
// A key set is used only after validateKeySet (kms_xml.hpp: UID, SSK and RSK checks against
// the certificate); a tampered or mismatched set is refused with its reason and the previous
// identity stays in use.
//
// Errors (fixed strings, counter labels): "kms_bad_url", "kms_connect", "kms_tls",
// "kms_certificate", "kms_io", "kms_timeout", "kms_http_malformed", "kms_http_status",
// "kms_response_too_large", and the parse / validation reasons of kms_xml.hpp.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.hpp"
#include "mc_adapters/security/mikey_sakke.hpp"

namespace iwf::mc::security {

struct KmsClientConfig {
    std::string url;       // https://host[:port] (the KMS's base URL; default port 443)
    std::string kms_uri;   // the KMS's identity (KmsUri in the request); defaults to the host
    std::string user_uri;  // the identity the keys are for (the IWF's MC service user ID)
    std::string ca_file;   // PEM file of the CA (or the KMS's own certificate) to trust
    std::string token;     // access token (Authorization: Bearer), empty = none
    std::chrono::milliseconds timeout{10000};  // per request: connect, handshake, I/O
    std::chrono::milliseconds retry{30000};    // after a failed fetch
    std::chrono::seconds refresh_ahead{0};     // fetch this long before the period ends
};

// One HTTPS POST of `body` to `path`; the response body on HTTP 200.
Result<std::string> kmsPost(const KmsClientConfig& cfg, std::string_view path,
                            std::string_view body);

// KmsInit + KmsKeyProv + validateKeySet: our identity for the key period of `now_ntp`
// (seconds since 1900). "kms_key_period_mismatch" if the KMS serves another period.
Result<MikeyIdentity> fetchKmsIdentity(const KmsClientConfig& cfg, std::uint64_t now_ntp);

// Seconds since 1900 at which the key period after the one containing `now_ntp` starts.
std::uint64_t nextKeyPeriodStart(const KmsCertificate& kms, std::uint64_t now_ntp);

// Fetches at start and then at every key period boundary (retrying after cfg.retry on
// failure) on a thread of its own; hands each validated identity to `on_identity` and the
// reason of each refused fetch (a fixed string) to `on_error` (both called on that thread:
// post to the owner's executor).
class KmsClient {
  public:
    using OnIdentity = std::function<void(MikeyIdentity)>;
    using OnError = std::function<void(std::string_view reason)>;
    KmsClient(KmsClientConfig cfg, OnIdentity on_identity, OnError on_error = {});
    ~KmsClient();
    KmsClient(const KmsClient&) = delete;
    KmsClient& operator=(const KmsClient&) = delete;

    void start();
    void stop();
    std::uint64_t fetched() const { return fetched_.load(); }
    std::uint64_t refused() const { return refused_.load(); }
    // The reason of the last refused fetch (a static string), empty if none.
    std::string_view lastError() const;

  private:
    void run();
    KmsClientConfig cfg_;
    OnIdentity on_identity_;
    OnError on_error_;
    std::thread thread_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::string_view last_error_;
    std::atomic<std::uint64_t> fetched_{0};
    std::atomic<std::uint64_t> refused_{0};
};

}  // namespace iwf::mc::security
