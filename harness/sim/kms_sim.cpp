#include "harness/sim/kms_sim.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/key_derivation.hpp"
#include "mc_adapters/security/sakke.hpp"

namespace iwf::harness {
namespace sec = mc::security;
namespace {

constexpr std::string_view kInitPath = "/keymanagement/identity/v1/init";
constexpr std::string_view kKeyProvPath = "/keymanagement/identity/v1/keyprov/";

std::string upperHex(ByteView b) {
    static const char* d = "0123456789ABCDEF";
    std::string s;
    for (std::uint8_t c : b) {
        s += d[c >> 4];
        s += d[c & 15];
    }
    return s;
}

std::uint64_t nowNtp() {
    return static_cast<std::uint64_t>(std::time(nullptr)) + sec::kNtpUnixOffset;
}

std::string isoNow() {
    char buf[32];
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

// Reads one HTTP request (headers and a Content-Length body); returns its request line.
std::string readRequest(SSL* ssl) {
    std::string raw;
    char buf[2048];
    for (;;) {
        const int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) {
            return {};
        }
        raw.append(buf, static_cast<std::size_t>(n));
        const auto end = raw.find("\r\n\r\n");
        if (end != std::string::npos) {
            std::size_t want = 0;
            const auto cl = raw.find("Content-Length:");
            if (cl != std::string::npos && cl < end) {
                want = std::strtoul(raw.c_str() + cl + 15, nullptr, 10);
            }
            if (raw.size() >= end + 4 + want) {
                return raw.substr(0, raw.find("\r\n"));
            }
        }
        if (raw.size() > 65536) {
            return {};
        }
    }
}

}  // namespace

KmsSimulator::KmsSimulator(KmsSimConfig cfg) : cfg_(std::move(cfg)) {}

KmsSimulator::~KmsSimulator() {
    stop();
}

std::string KmsSimulator::url() const {
    return "https://" + cfg_.address + ":" + std::to_string(port_);
}

Status KmsSimulator::start() {
    cert_.kms_uri = cfg_.kms_uri;
    cert_.user_key_period = cfg_.key_period;
    cert_.user_key_offset = cfg_.key_offset;
    auto kpak = sec::eccsiKpakFromKsak(cfg_.ksak);
    auto z = sec::sakkeKmsPublicKey(cfg_.z);
    if (!kpak || !z) {
        return Error{"kms_sim_keys"};
    }
    cert_.kpak = std::move(*kpak);
    cert_.z = std::move(*z);
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == nullptr || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cfg_.cert_file.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(ctx);
        ERR_clear_error();
        return Error{"kms_sim_tls"};
    }
    ctx_ = ctx;
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    if (listen_fd_ < 0 || ::inet_pton(AF_INET, cfg_.address.c_str(), &sa.sin_addr) != 1 ||
        ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(listen_fd_, 8) != 0) {
        return Error{"kms_sim_bind"};
    }
    socklen_t len = sizeof sa;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    stop_ = false;
    thread_ = std::thread([this] { serve(); });
    return Status::success();
}

void KmsSimulator::stop() {
    stop_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        listen_fd_ = -1;
    }
    if (ctx_ != nullptr) {
        SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
        ctx_ = nullptr;
    }
}

void KmsSimulator::serve() {
    while (!stop_) {
        pollfd p{listen_fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) {
            continue;
        }
        const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) {
            continue;
        }
        timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        handle(fd, ctx_);
        ::close(fd);
    }
}

void KmsSimulator::handle(int fd, void* ctx) {
    SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx));
    if (ssl == nullptr) {
        return;
    }
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
        const std::string line = readRequest(ssl);
        ++requests_;
        std::string status = "404 Not Found";
        std::string body;
        // "POST <path> HTTP/1.1"
        const auto sp1 = line.find(' ');
        const auto sp2 = line.rfind(' ');
        const std::string method = line.substr(0, sp1);
        const std::string path =
            sp1 != std::string::npos && sp2 > sp1 ? line.substr(sp1 + 1, sp2 - sp1 - 1) : "";
        if (method == "POST" && path == kInitPath) {
            status = "200 OK";
            body = initResponse();
        } else if (method == "POST" && path.rfind(kKeyProvPath, 0) == 0 &&
                   path.size() > kKeyProvPath.size()) {
            body = keyProvResponse(path.substr(kKeyProvPath.size()));
            status = body.empty() ? "500 Internal Server Error" : "200 OK";
        }
        const std::string rsp =
            "HTTP/1.1 " + status +
            "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\nConnection: close\r\n\r\n" + body;
        (void)SSL_write(ssl, rsp.data(), static_cast<int>(rsp.size()));
        (void)SSL_shutdown(ssl);
    }
    ERR_clear_error();
    SSL_free(ssl);
}

std::string KmsSimulator::initResponse() const {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\" "
           "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" Id=\"xmldoc\">\n"
           "  <KmsUri>" +
           cfg_.kms_uri + "</KmsUri>\n  <Time>" + isoNow() +
           "</Time>\n  <KmsMessage>\n"
           "    <KmsInit Version=\"1.0.0\" xsi:type=\"KmsInitTkIkType\">\n"
           "      <KmsCertificate Version=\"1.1.0\" Role=\"Root\">\n"
           "        <KmsUri>" +
           cfg_.kms_uri + "</KmsUri>\n        <UserIdFormat>2</UserIdFormat>\n" +
           "        <UserKeyPeriod>" + std::to_string(cfg_.key_period) +
           "</UserKeyPeriod>\n        <UserKeyOffset>" + std::to_string(cfg_.key_offset) +
           "</UserKeyOffset>\n        <PubEncKey>" + upperHex(cert_.z) +
           "</PubEncKey>\n        <PubAuthKey>" + upperHex(cert_.kpak) +
           "</PubAuthKey>\n      </KmsCertificate>\n    </KmsInit>\n  </KmsMessage>\n"
           "</KmsResponse>\n";
}

std::string KmsSimulator::keyProvResponse(const std::string& user_uri) const {
    const std::uint64_t now = nowNtp();
    const std::uint64_t period = sec::keyPeriodNo(now, cfg_.key_period, cfg_.key_offset);
    const Bytes uid = sec::uidFor(user_uri, cert_, now);
    Bytes v(32);
    if (RAND_bytes(v.data(), 32) != 1) {
        return {};
    }
    auto signing = sec::eccsiIssueSigningKey(cfg_.ksak, uid, v);
    auto rsk = sec::sakkeIssueRsk(cfg_.z, uid);
    if (!signing || !rsk) {
        return {};
    }
    Bytes ssk = signing->ssk;
    if (tamper_) {
        ssk[7] ^= 0x01;
    }
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<KmsResponse xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\" "
           "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" Id=\"xmldoc\">\n"
           "  <UserUri>" +
           user_uri + "</UserUri>\n  <KmsUri>" + cfg_.kms_uri + "</KmsUri>\n  <Time>" + isoNow() +
           "</Time>\n  <KmsMessage>\n"
           "    <KmsKeyProv Version=\"1.0.0\" xsi:type=\"KmsKeyProvTkIkType\">\n"
           "      <KmsKeySet Version=\"1.1.0\">\n        <KmsUri>" +
           cfg_.kms_uri + "</KmsUri>\n        <UserUri>" + user_uri +
           "</UserUri>\n        <UserID>" + upperHex(uid) + "</UserID>\n        <KeyPeriodNo>" +
           std::to_string(period) + "</KeyPeriodNo>\n        <UserDecryptKey>" + upperHex(*rsk) +
           "</UserDecryptKey>\n        <UserSigningKeySSK>" + upperHex(ssk) +
           "</UserSigningKeySSK>\n        <UserPubTokenPVT>" + upperHex(signing->pvt) +
           "</UserPubTokenPVT>\n      </KmsKeySet>\n    </KmsKeyProv>\n  </KmsMessage>\n"
           "</KmsResponse>\n";
}

Status writeSelfSignedCert(const std::string& cert_file, const std::string& key_file,
                           const std::string& ip) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* x = X509_new();
    bool ok = key != nullptr && x != nullptr;
    if (ok) {
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 86400);
        X509_set_pubkey(x, key);
        X509_NAME* name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("iwf-test-kms"), -1, -1,
                                   0);
        X509_set_issuer_name(x, name);
        X509V3_CTX v3;
        X509V3_set_ctx_nodb(&v3);
        X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
        const std::string san = "IP:" + ip;
        X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, san.c_str());
        ok = ext != nullptr && X509_add_ext(x, ext, -1) == 1 && X509_sign(x, key, EVP_sha256()) > 0;
        X509_EXTENSION_free(ext);
    }
    if (ok) {
        FILE* c = std::fopen(cert_file.c_str(), "w");
        ok = c != nullptr && PEM_write_X509(c, x) == 1;
        if (c != nullptr) {
            std::fclose(c);
        }
    }
    if (ok) {
        const mode_t old = ::umask(077);
        FILE* k = std::fopen(key_file.c_str(), "w");
        ::umask(old);
        ok = k != nullptr &&
             PEM_write_PrivateKey(k, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
        if (k != nullptr) {
            std::fclose(k);
        }
    }
    X509_free(x);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return ok ? Status::success() : Status(Error{"kms_sim_cert"});
}

}  // namespace iwf::harness
