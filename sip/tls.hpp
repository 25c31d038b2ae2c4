#pragma once
// TLS pieces of the stream transport (sip/tls.cpp): OpenSSL contexts built from a TlsConfig,
// and the identity a verified peer certificate carries (TlsIdentity, transport.hpp).

#include <memory>
#include <string>

#include <boost/asio/ssl.hpp>

#include "common/asio.hpp"
#include "common/result.hpp"
#include "sip/transport.hpp"

namespace iwf::sip::detail {

// The server context (accepted connections) and the client context (connections iwfd opens)
// of one TLS listener: TLS >= 1.2, this side's certificate and key, the CA (file or the system
// store). Servers ask for a client certificate only with require_client_cert; clients always
// verify the server's chain. Errors: tls_cert_missing, tls_ca_missing, tls_cert_unreadable,
// tls_key_unreadable, tls_ca_unreadable.
Status setupTlsContexts(const TlsConfig& cfg, asio::ssl::context& server,
                        asio::ssl::context& client);

// The verified peer certificate of a finished handshake; null when the peer presented none
// or its chain did not verify.
std::shared_ptr<const TlsIdentity> peerIdentity(SSL* ssl);

// The name a server iwfd connects to must carry: TlsConfig::peer_name, else the address.
std::string expectedServerName(const TlsConfig& cfg, const asio::ip::address& connected_to);

// The host to send as SNI (RFC 6066 §3: a DNS host name, never an IP literal); empty = none.
std::string sniHostName(std::string_view expected_name);

}  // namespace iwf::sip::detail
