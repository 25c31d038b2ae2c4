#pragma once
// A KMS of TS 33.180 Annex D for the harness and the tests: HTTPS (OpenSSL, TLS 1.2+) on a
// loopback address, serving the KmsInit response (D.3.2: the KMS certificate) on
// POST /keymanagement/identity/v1/init and a user's key set for the current key period
// (D.3.3) on POST /keymanagement/identity/v1/keyprov/<user-uri>. Keys are issued from the
// KMS's master secrets the way RFC 6507 §5.1.1 (ECCSI: KSAK) and RFC 6508 §6.1.1 (SAKKE: z)
// describe, the XML in the shape a real KMS sends (Streamwide's kms-agent test responses,
// tests/data/mc_security/kms/). setTamper() flips one octet of every SSK served, so a client's
// validation can be seen to refuse it.
//
// One connection at a time on a thread of its own (a key fetch is rare); stop() joins it.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "mc_adapters/security/mikey_sakke.hpp"

namespace iwf::harness {

struct KmsSimConfig {
    std::string kms_uri = "kms.iwf.test";
    std::string address = "127.0.0.1";
    Bytes ksak;                          // ECCSI KMS secret authentication key (32 octets)
    Bytes z;                             // SAKKE KMS master secret
    std::uint64_t key_period = 2592000;  // UserKeyPeriod, seconds
    std::uint64_t key_offset = 0;        // UserKeyOffset
    std::string cert_file;               // PEM certificate and key of the HTTPS server
    std::string key_file;
};

class KmsSimulator {
  public:
    explicit KmsSimulator(KmsSimConfig cfg);
    ~KmsSimulator();
    KmsSimulator(const KmsSimulator&) = delete;
    KmsSimulator& operator=(const KmsSimulator&) = delete;

    // Binds address:0, loads the certificate, starts serving. "kms_sim_tls", "kms_sim_bind",
    // "kms_sim_keys".
    Status start();
    void stop();
    std::uint16_t port() const { return port_; }
    std::string url() const;  // https://<address>:<port>
    const mc::security::KmsCertificate& certificate() const { return cert_; }
    void setTamper(bool on) { tamper_ = on; }
    std::uint64_t requests() const { return requests_.load(); }

  private:
    void serve();
    void handle(int fd, void* ssl_ctx);
    std::string initResponse() const;
    std::string keyProvResponse(const std::string& user_uri) const;

    KmsSimConfig cfg_;
    mc::security::KmsCertificate cert_;
    int listen_fd_ = -1;
    std::uint16_t port_ = 0;
    void* ctx_ = nullptr;  // SSL_CTX
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> tamper_{false};
    std::atomic<std::uint64_t> requests_{0};
};

// A self-signed certificate (EC P-256, SHA-256, SAN IP:<ip>, valid for a day) and its key,
// written as PEM to `cert_file` and `key_file` (the key 0600). "kms_sim_cert".
Status writeSelfSignedCert(const std::string& cert_file, const std::string& key_file,
                           const std::string& ip);

}  // namespace iwf::harness
