#include "sip/tls.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sip/message_text.hpp"

namespace iwf::sip {

namespace {

using detail::lower;

// A domain for comparison: lower case, one trailing dot dropped (RFC 5922 §7.2: compared
// case-insensitively, as DNS names are).
std::string normalDomain(std::string_view d) {
    if (!d.empty() && d.back() == '.') {
        d.remove_suffix(1);
    }
    return lower(d);
}

// The domain a sip:/sips: URI names (RFC 5922 §7.1): its host, when the URI has no user part.
// `allow_user`: for the name asked about, "sip:iwf@mc.example" still names mc.example.
std::optional<std::string> uriDomain(std::string_view uri, bool allow_user) {
    const std::string l = lower(uri.substr(0, std::min<std::size_t>(uri.size(), 5)));
    std::string_view rest;
    if (l.rfind("sips:", 0) == 0) {
        rest = uri.substr(5);
    } else if (l.rfind("sip:", 0) == 0) {
        rest = uri.substr(4);
    } else {
        return std::nullopt;
    }
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        if (!allow_user) {
            return std::nullopt;  // a user's identity, not a domain's
        }
        rest = rest.substr(at + 1);
    }
    if (!rest.empty() && rest.front() == '[') {
        auto close = rest.find(']');
        return close == std::string_view::npos ? std::nullopt
                                               : std::optional(lower(rest.substr(1, close - 1)));
    }
    rest = rest.substr(0, rest.find_first_of(":;?>"));
    if (rest.empty()) {
        return std::nullopt;
    }
    return normalDomain(rest);
}

std::optional<asio::ip::address> ipLiteral(std::string_view s) {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(std::string(s), ec);
    if (ec) {
        return std::nullopt;
    }
    return a;
}

std::string asn1Text(const ASN1_STRING* s) {
    if (s == nullptr) {
        return {};
    }
    const auto* d = ASN1_STRING_get0_data(s);
    const int n = ASN1_STRING_length(s);
    std::string out(reinterpret_cast<const char*>(d), static_cast<std::size_t>(std::max(n, 0)));
    // An embedded NUL is the classic name-spoofing trick ("good.example\0.evil"): such an
    // entry names nothing.
    if (out.find('\0') != std::string::npos) {
        return {};
    }
    return out;
}

}  // namespace

bool TlsIdentity::matches(std::string_view name) const {
    if (name.empty()) {
        return false;
    }
    if (auto ip = ipLiteral(name)) {
        return std::any_of(ip_addresses.begin(), ip_addresses.end(), [&](const std::string& a) {
            auto mine = ipLiteral(a);
            return mine && *mine == *ip;
        });
    }
    std::string domain;
    if (auto d = uriDomain(name, true)) {
        domain = *d;
    } else {
        domain = normalDomain(name);
    }
    if (domain.empty()) {
        return false;
    }
    // No wildcard matching at all (RFC 5922 §7.2): "*.example" is compared as the text it is,
    // and no name ever contains '*'.
    for (const auto& u : uris) {
        if (auto d = uriDomain(u, false); d && *d == domain) {
            return true;
        }
    }
    for (const auto& d : dns_names) {
        if (normalDomain(d) == domain) {
            return true;
        }
    }
    // The CN counts only when the certificate names no domain in its subjectAltName
    // (RFC 5922 §7.1).
    return uris.empty() && dns_names.empty() && !common_name.empty() &&
           normalDomain(common_name) == domain;
}

std::string TlsIdentity::display() const {
    if (!uris.empty()) {
        return uris.front();
    }
    if (!dns_names.empty()) {
        return dns_names.front();
    }
    if (!common_name.empty()) {
        return "CN=" + common_name;
    }
    return ip_addresses.empty() ? subject : ip_addresses.front();
}

namespace detail {

Status setupTlsContexts(const TlsConfig& cfg, asio::ssl::context& server,
                        asio::ssl::context& client) {
    if (cfg.cert_file.empty()) {
        return Error{"tls_cert_missing"};
    }
    if (cfg.ca_file.empty()) {
        return Error{"tls_ca_missing"};
    }
    boost::system::error_code ec;
    for (auto* ctx : {&server, &client}) {
        ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                             asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                             asio::ssl::context::no_tlsv1_1,
                         ec);
        ctx->use_certificate_chain_file(cfg.cert_file, ec);
        if (ec) {
            return Error{"tls_cert_unreadable", ec.value()};
        }
        ctx->use_private_key_file(cfg.key_file, asio::ssl::context::pem, ec);
        if (ec) {
            return Error{"tls_key_unreadable", ec.value()};
        }
        if (cfg.ca_file == kSystemTrustStore) {
            ctx->set_default_verify_paths(ec);
        } else {
            ctx->load_verify_file(cfg.ca_file, ec);
        }
        if (ec) {
            return Error{"tls_ca_unreadable", ec.value()};
        }
    }
    server.set_verify_mode(cfg.require_client_cert
                               ? asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert
                               : asio::ssl::verify_none,
                           ec);
    client.set_verify_mode(asio::ssl::verify_peer, ec);
    return {};
}

std::shared_ptr<const TlsIdentity> peerIdentity(SSL* ssl) {
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (cert == nullptr) {
        return nullptr;
    }
    if (SSL_get_verify_result(ssl) != X509_V_OK) {
        X509_free(cert);
        return nullptr;
    }
    auto id = std::make_shared<TlsIdentity>();
    auto* names =
        static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
        const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type == GEN_DNS) {
            if (auto t = asn1Text(gn->d.dNSName); !t.empty()) {
                id->dns_names.push_back(std::move(t));
            }
        } else if (gn->type == GEN_URI) {
            if (auto t = asn1Text(gn->d.uniformResourceIdentifier); !t.empty()) {
                id->uris.push_back(std::move(t));
            }
        } else if (gn->type == GEN_IPADD) {
            const auto* d = ASN1_STRING_get0_data(gn->d.iPAddress);
            const int n = ASN1_STRING_length(gn->d.iPAddress);
            if (n == 4) {
                asio::ip::address_v4::bytes_type b;
                std::copy(d, d + 4, b.begin());
                id->ip_addresses.push_back(asio::ip::address_v4(b).to_string());
            } else if (n == 16) {
                asio::ip::address_v6::bytes_type b;
                std::copy(d, d + 16, b.begin());
                id->ip_addresses.push_back(asio::ip::address_v6(b).to_string());
            }
        }
    }
    GENERAL_NAMES_free(names);
    X509_NAME* subject = X509_get_subject_name(cert);
    int last = -1;
    for (int i = -1; (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
        last = i;
    }
    if (last >= 0) {
        id->common_name = asn1Text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, last)));
    }
    if (BIO* bio = BIO_new(BIO_s_mem())) {
        X509_NAME_print_ex(bio, subject, 0, XN_FLAG_RFC2253);
        char* data = nullptr;
        const long n = BIO_get_mem_data(bio, &data);
        id->subject.assign(data, static_cast<std::size_t>(std::max(n, 0L)));
        BIO_free(bio);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (X509_digest(cert, EVP_sha256(), md, &md_len) == 1) {
        static constexpr char kHex[] = "0123456789abcdef";
        for (unsigned int i = 0; i < md_len; ++i) {
            id->sha256 += kHex[md[i] >> 4];
            id->sha256 += kHex[md[i] & 0x0F];
        }
    }
    X509_free(cert);
    return id;
}

std::string expectedServerName(const TlsConfig& cfg, const asio::ip::address& connected_to) {
    return cfg.peer_name.empty() ? connected_to.to_string() : cfg.peer_name;
}

std::string sniHostName(std::string_view expected_name) {
    if (ipLiteral(expected_name)) {
        return {};
    }
    if (auto d = uriDomain(expected_name, true)) {
        return ipLiteral(*d) ? std::string() : *d;
    }
    return normalDomain(expected_name);
}

}  // namespace detail

}  // namespace iwf::sip
