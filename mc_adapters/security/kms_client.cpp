#include "mc_adapters/security/kms_client.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <ctime>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "mc_adapters/security/key_derivation.hpp"
#include "mc_adapters/security/kms_xml.hpp"
#include "mc_adapters/security/ossl.hpp"

namespace iwf::mc::security {
namespace {

constexpr std::string_view kInitPath = "/keymanagement/identity/v1/init";
constexpr std::string_view kKeyProvPath = "/keymanagement/identity/v1/keyprov/";
constexpr std::size_t kMaxResponse = 256 * 1024;  // a key set is a few kB

struct Url {
    std::string host;
    std::uint16_t port = 443;
    std::string base;  // path prefix, no trailing '/'
};

Result<Url> parseUrl(std::string_view u) {
    constexpr std::string_view scheme = "https://";
    if (u.substr(0, scheme.size()) != scheme) {
        return Error{"kms_bad_url"};
    }
    u.remove_prefix(scheme.size());
    Url out;
    const auto slash = u.find('/');
    std::string_view hostport = u.substr(0, slash);
    if (slash != std::string_view::npos) {
        out.base = std::string(u.substr(slash));
        while (!out.base.empty() && out.base.back() == '/') {
            out.base.pop_back();
        }
    }
    const auto colon = hostport.rfind(':');
    if (colon != std::string_view::npos && hostport.find(']') == std::string_view::npos) {
        std::string_view p = hostport.substr(colon + 1);
        unsigned v = 0;
        auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
        if (ec != std::errc() || ptr != p.data() + p.size() || v == 0 || v > 65535) {
            return Error{"kms_bad_url"};
        }
        out.port = static_cast<std::uint16_t>(v);
        hostport = hostport.substr(0, colon);
    }
    if (hostport.empty()) {
        return Error{"kms_bad_url"};
    }
    out.host = std::string(hostport);
    return out;
}

using Deadline = std::chrono::steady_clock::time_point;

int msLeft(Deadline d) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(d - std::chrono::steady_clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits until `fd` is readable / writable or the deadline passes.
bool waitFd(int fd, short events, Deadline d) {
    pollfd p{fd, events, 0};
    for (;;) {
        const int ms = msLeft(d);
        if (ms == 0) {
            return false;
        }
        const int r = ::poll(&p, 1, ms);
        if (r > 0) {
            return true;
        }
        if (r == 0 || errno != EINTR) {
            return false;
        }
    }
}

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

Result<int> connectTo(const Url& url, Deadline d, Fd& out) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(url.port);
    if (::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
        return Error{"kms_connect"};
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, &::freeaddrinfo);
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
        Fd s;
        s.fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (s.fd < 0) {
            continue;
        }
        if (::connect(s.fd, a->ai_addr, a->ai_addrlen) != 0) {
            if (errno != EINPROGRESS || !waitFd(s.fd, POLLOUT, d)) {
                continue;
            }
            int err = 0;
            socklen_t len = sizeof err;
            if (::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
                continue;
            }
        }
        out.fd = s.fd;
        s.fd = -1;
        return out.fd;
    }
    return Error{"kms_connect"};
}

struct SslCtxDel {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
struct SslDel {
    void operator()(SSL* s) const { SSL_free(s); }
};

// Runs one SSL call on the non-blocking socket until it completes or the deadline passes.
template <typename F>
Result<int> sslIo(SSL* ssl, int fd, Deadline d, F&& f) {
    for (;;) {
        const int r = f();
        if (r > 0) {
            return r;
        }
        const int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            if (!waitFd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, d)) {
                return Error{"kms_timeout"};
            }
            continue;
        }
        if (e == SSL_ERROR_ZERO_RETURN) {
            return 0;  // the peer closed the TLS session
        }
        return Error{"kms_io"};
    }
}

// HTTP/1.1 response: status 200, Content-Length (or up to the close); returns the body.
Result<std::string> readHttpBody(const std::string& raw) {
    const auto end = raw.find("\r\n\r\n");
    if (raw.compare(0, 9, "HTTP/1.1 ") != 0 && raw.compare(0, 9, "HTTP/1.0 ") != 0) {
        return Error{"kms_http_malformed"};
    }
    if (end == std::string::npos || raw.size() < 12) {
        return Error{"kms_http_malformed"};
    }
    if (raw.compare(9, 3, "200") != 0) {
        return Error{"kms_http_status", std::atoi(raw.substr(9, 3).c_str())};
    }
    std::string body = raw.substr(end + 4);
    // Content-Length, when given, must match what arrived before the close.
    std::string head = raw.substr(0, end);
    for (char& c : head) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    const auto cl = head.find("\r\ncontent-length:");
    if (cl != std::string::npos) {
        std::size_t i = cl + 17;
        while (i < head.size() && head[i] == ' ') {
            ++i;
        }
        std::size_t n = 0;
        auto [ptr, ec] = std::from_chars(head.data() + i, head.data() + head.size(), n);
        if (ec != std::errc() || n != body.size()) {
            return Error{"kms_http_malformed"};
        }
    }
    return body;
}

std::string isoTimeNow() {
    char buf[32];
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string xmlEscape(std::string_view s) {
    std::string o;
    for (char c : s) {
        switch (c) {
            case '&':
                o += "&amp;";
                break;
            case '<':
                o += "&lt;";
                break;
            case '>':
                o += "&gt;";
                break;
            default:
                o += c;
        }
    }
    return o;
}

// D.2.2 KmsRequest (unsigned, see the header).
std::string kmsRequest(const KmsClientConfig& cfg, const Url& url, std::string_view path) {
    const std::string kms_uri = cfg.kms_uri.empty() ? url.host : cfg.kms_uri;
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<KmsRequest xmlns=\"urn:3gpp:ns:mcsecKMSInterface:1.0\" Version=\"1.0.0\">"
           "<UserUri>" +
           xmlEscape(cfg.user_uri) + "</UserUri><KmsUri>" + xmlEscape(kms_uri) + "</KmsUri><Time>" +
           isoTimeNow() + "</Time><ClientReqUrl>" + xmlEscape(cfg.url) + xmlEscape(path) +
           "</ClientReqUrl></KmsRequest>\n";
}

}  // namespace

Result<std::string> kmsPost(const KmsClientConfig& cfg, std::string_view path,
                            std::string_view body) {
    auto url = parseUrl(cfg.url);
    if (!url) {
        return url.error();
    }
    const Deadline deadline = std::chrono::steady_clock::now() + cfg.timeout;
    Fd sock;
    if (auto c = connectTo(*url, deadline, sock); !c) {
        return c.error();
    }
    std::unique_ptr<SSL_CTX, SslCtxDel> ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
        return Error{"kms_tls"};
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    if (cfg.ca_file.empty() ||
        SSL_CTX_load_verify_locations(ctx.get(), cfg.ca_file.c_str(), nullptr) != 1) {
        ERR_clear_error();
        return Error{"kms_certificate"};
    }
    std::unique_ptr<SSL, SslDel> ssl(SSL_new(ctx.get()));
    if (!ssl || SSL_set_fd(ssl.get(), sock.fd) != 1) {
        return Error{"kms_tls"};
    }
    // The certificate must name the host: an IP SAN for an address, else the DNS name (and
    // SNI).
    in6_addr a6{};
    in_addr a4{};
    const bool is_ip = ::inet_pton(AF_INET, url->host.c_str(), &a4) == 1 ||
                       ::inet_pton(AF_INET6, url->host.c_str(), &a6) == 1;
    X509_VERIFY_PARAM* vp = SSL_get0_param(ssl.get());
    if (is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(vp, url->host.c_str()) != 1) {
            return Error{"kms_tls"};
        }
    } else if (SSL_set1_host(ssl.get(), url->host.c_str()) != 1 ||
               SSL_set_tlsext_host_name(ssl.get(), url->host.c_str()) != 1) {
        return Error{"kms_tls"};
    }
    auto hs = sslIo(ssl.get(), sock.fd, deadline, [&] { return SSL_connect(ssl.get()); });
    if (!hs || *hs == 0) {
        const bool cert = SSL_get_verify_result(ssl.get()) != X509_V_OK;
        ERR_clear_error();
        if (cert) {
            return Error{"kms_certificate"};
        }
        return hs ? Error{"kms_tls"} : hs.error();
    }
    std::string req = "POST " + url->base + std::string(path) + " HTTP/1.1\r\nHost: " + url->host +
                      ":" + std::to_string(url->port) +
                      "\r\nContent-Type: application/xml\r\nAccept: application/xml\r\n";
    if (!cfg.token.empty()) {
        req += "Authorization: Bearer " + cfg.token + "\r\n";
    }
    req += "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    req += body;
    std::size_t sent = 0;
    while (sent < req.size()) {
        auto n = sslIo(ssl.get(), sock.fd, deadline, [&] {
            return SSL_write(ssl.get(), req.data() + sent, static_cast<int>(req.size() - sent));
        });
        if (!n || *n == 0) {
            ERR_clear_error();
            return n ? Error{"kms_io"} : n.error();
        }
        sent += static_cast<std::size_t>(*n);
    }
    std::string raw;
    char buf[4096];
    for (;;) {
        auto n = sslIo(ssl.get(), sock.fd, deadline,
                       [&] { return SSL_read(ssl.get(), buf, sizeof buf); });
        if (!n) {
            ERR_clear_error();
            // A peer that closes without close_notify after a complete response is common;
            // the Content-Length check below decides whether the response is whole.
            if (n.error().reason == "kms_io" && !raw.empty()) {
                break;
            }
            return n.error();
        }
        if (*n == 0) {
            break;
        }
        raw.append(buf, static_cast<std::size_t>(*n));
        if (raw.size() > kMaxResponse) {
            return Error{"kms_response_too_large"};
        }
    }
    return readHttpBody(raw);
}

std::uint64_t nextKeyPeriodStart(const KmsCertificate& kms, std::uint64_t now_ntp) {
    const std::uint64_t no = keyPeriodNo(now_ntp, kms.user_key_period, kms.user_key_offset);
    return kms.user_key_offset + (no + 1) * kms.user_key_period;
}

Result<MikeyIdentity> fetchKmsIdentity(const KmsClientConfig& cfg, std::uint64_t now_ntp) {
    auto url = parseUrl(cfg.url);
    if (!url) {
        return url.error();
    }
    auto init = kmsPost(cfg, kInitPath, kmsRequest(cfg, *url, kInitPath));
    if (!init) {
        return init.error();
    }
    auto cert = parseKmsInitResponse(*init);
    if (!cert) {
        return cert.error();
    }
    const std::string prov_path = std::string(kKeyProvPath) + cfg.user_uri;
    auto prov = kmsPost(cfg, prov_path, kmsRequest(cfg, *url, prov_path));
    if (!prov) {
        return prov.error();
    }
    auto keys = parseKmsKeyProvResponse(*prov);
    cleanse(MutableByteView(reinterpret_cast<std::uint8_t*>(prov->data()), prov->size()));
    if (!keys) {
        return keys.error();
    }
    if (keys->user_uri != cfg.user_uri) {
        return Error{"kms_user_mismatch"};
    }
    if (keys->key_period_no != keyPeriodNo(now_ntp, cert->user_key_period, cert->user_key_offset)) {
        return Error{"kms_key_period_mismatch"};
    }
    IWF_TRY_STATUS(validateKeySet(*cert, *keys));
    MikeyIdentity id;
    id.user_uri = cfg.user_uri;
    id.kms = std::move(*cert);
    id.keys = std::move(*keys);
    return id;
}

KmsClient::KmsClient(KmsClientConfig cfg, OnIdentity on_identity, OnError on_error)
    : cfg_(std::move(cfg)), on_identity_(std::move(on_identity)), on_error_(std::move(on_error)) {}

KmsClient::~KmsClient() {
    stop();
}

void KmsClient::start() {
    std::lock_guard lk(mu_);
    if (thread_.joinable()) {
        return;
    }
    stop_ = false;
    thread_ = std::thread([this] { run(); });
}

void KmsClient::stop() {
    {
        std::lock_guard lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

std::string_view KmsClient::lastError() const {
    std::lock_guard lk(mu_);
    return last_error_;
}

void KmsClient::run() {
    using Sys = std::chrono::system_clock;
    for (;;) {
        const auto now_ntp = [] {
            return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                                  Sys::now().time_since_epoch())
                                                  .count()) +
                   kNtpUnixOffset;
        };
        const std::uint64_t t = now_ntp();
        auto id = fetchKmsIdentity(cfg_, t);
        Sys::time_point next;
        if (id) {
            const std::uint64_t boundary = nextKeyPeriodStart(id->kms, t);
            const auto ahead = static_cast<std::uint64_t>(cfg_.refresh_ahead.count());
            const std::uint64_t at = boundary > t + ahead ? boundary - ahead : t;
            next = Sys::time_point(std::chrono::seconds(at - kNtpUnixOffset));
            fetched_.fetch_add(1);
            on_identity_(std::move(*id));
        } else {
            {
                std::lock_guard lk(mu_);
                last_error_ = id.error().reason;
            }
            refused_.fetch_add(1);
            if (on_error_) {
                on_error_(id.error().reason);
            }
            next = Sys::now() + cfg_.retry;
        }
        std::unique_lock lk(mu_);
        if (cv_.wait_until(lk, next, [this] { return stop_; })) {
            return;
        }
    }
}

}  // namespace iwf::mc::security
