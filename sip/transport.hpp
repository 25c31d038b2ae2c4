#pragma once
// SIP transports on Boost.Asio (RFC 3261 §18): UDP, TCP and TLS (OpenSSL via asio::ssl).
//
// A transport is one listening socket. Received messages (one datagram, or one message cut out
// of a stream by its Content-Length) go to the receiver callback with the peer they came from;
// send() queues bytes to a peer (over a stream, reusing the connection the peer opened or
// opening one). All callbacks run on the io_context that owns the transport.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"

namespace iwf::sip {

enum class Protocol : std::uint8_t { Udp = 0, Tcp = 1, Tls = 2 };
std::string_view toString(Protocol p);  // "UDP", "TCP", "TLS" (Via transport tokens)
bool parseProtocol(std::string_view s, Protocol& out);  // case-insensitive
inline bool reliable(Protocol p) {
    return p != Protocol::Udp;
}

// What a TLS peer proved in its handshake: a certificate whose chain verified against the
// listener's CA (TlsConfig::ca_file), and the identities that certificate carries. Comparison
// follows RFC 5922 §7.1-7.2 (SIP domain certificates): subjectAltName URI (sip:/sips: without
// a user part) and dNSName entries name the peer; the subject CN counts only when the
// certificate carries neither; matching is case-insensitive and exact - no wildcards ("*."
// matches nothing, §7.2). An IP address literal is compared with the iPAddress entries
// (RFC 5280 §4.2.1.6).
struct TlsIdentity {
    std::vector<std::string> dns_names;     // subjectAltName dNSName, as written
    std::vector<std::string> uris;          // subjectAltName uniformResourceIdentifier
    std::vector<std::string> ip_addresses;  // subjectAltName iPAddress, text form
    std::string common_name;                // subject CN (the last, most specific, one)
    std::string subject;                    // the subject, RFC 2253 one-line form (for logs)
    std::string sha256;                     // SHA-256 of the DER certificate, lower-case hex

    // True when the certificate names `name`: a domain ("mc.example"), a SIP URI
    // ("sip:mc.example"; its host is compared) or an IP address ("192.0.2.20").
    bool matches(std::string_view name) const;
    // The first identity to name in a log: a URI or DNS SAN, else the CN.
    std::string display() const;
};

// A transport address of a peer, and - over TLS - what its certificate proved.
struct Peer {
    Protocol protocol = Protocol::Udp;
    asio::ip::address address;
    std::uint16_t port = 0;
    // TLS only: the identity verified in the handshake of the connection a message arrived on.
    // On a connection iwfd accepted it is the client certificate, present only with
    // require_client_cert (mutual TLS); on a connection iwfd opened it is the server
    // certificate, already checked against TlsConfig::peer_name. Null for UDP and TCP, and
    // for TLS clients that presented no certificate. The identity belongs to the connection,
    // not to the address: it takes no part in ==, and send() ignores it.
    std::shared_ptr<const TlsIdentity> tls = nullptr;

    bool operator==(const Peer& o) const {
        return protocol == o.protocol && address == o.address && port == o.port;
    }
    std::string toString() const;  // "udp:127.0.0.1:5060"
};

// `ca_file` value that means "the system trust store" (OpenSSL's default verify paths, on
// Debian /etc/ssl/certs from the ca-certificates package) instead of a PEM file.
inline constexpr std::string_view kSystemTrustStore = "system";

struct TlsConfig {
    std::string cert_file;  // PEM certificate chain of this side
    std::string key_file;   // PEM private key
    // PEM CA bundle that verifies the other side, or kSystemTrustStore. Required: start()
    // refuses a TLS listener without one (error tls_ca_missing), because a TLS client that
    // verifies nothing authenticates nobody.
    std::string ca_file;
    bool require_client_cert = false;  // server side: mutual TLS
    // The name the other side's certificate must carry (TlsIdentity::matches): a domain, a
    // sip:/sips: URI or an IP address.
    //  - Connections iwfd opens: the server certificate must match it (it is also sent as SNI
    //    when it is a domain); empty = the IP address connected to, which the certificate
    //    must then carry as an iPAddress subjectAltName.
    //  - Connections iwfd accepts with require_client_cert: a client certificate that does
    //    not match is refused after the handshake; empty = any certificate the CA verifies
    //    (Peer::tls tells the application which one).
    std::string peer_name;
};

// SO_RCVBUF asked for on a UDP listener unless configured (bytes). The kernel default
// (net.core.rmem_default, ~208 KiB) holds ~50-90 SIP messages with SDP + XML bodies: a burst of
// call starts (a 200 OK per call, their retransmissions) overflows it, and every lost message
// costs a T1 retransmission (docs/perf/call-setup.md). The kernel caps the value at
// net.core.rmem_max; the transport logs the size it got and exports it.
inline constexpr int kDefaultUdpReceiveBuffer = 4 << 20;

struct ListenerConfig {
    Protocol protocol = Protocol::Udp;
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;  // 0 = ephemeral (tests)
    TlsConfig tls;           // Protocol::Tls only
    // UDP only: SO_RCVBUF to ask for (bytes); 0 = leave the kernel default.
    int receive_buffer = kDefaultUdpReceiveBuffer;
};

class Transport {
  public:
    using Receiver = std::function<void(std::string_view message, const Peer& from)>;
    using SendError = std::function<void(const Error&)>;

    virtual ~Transport() = default;
    virtual Protocol protocol() const = 0;
    virtual Status start(Receiver receiver) = 0;
    virtual void stop() = 0;
    // Queues `data` to `to`; on failure (no route, connect/handshake refused, write error) calls
    // on_error (if given) on the io_context.
    virtual void send(const Peer& to, std::string data, SendError on_error = {}) = 0;
    virtual std::uint16_t localPort() const = 0;
    virtual asio::ip::address localAddress() const = 0;
    // Streams: called when a connection to/from `peer` closed or failed (the stack fails the
    // transactions still waiting on it).
    void onClosed(std::function<void(const Peer&)> h) { on_closed_ = std::move(h); }

  protected:
    std::function<void(const Peer&)> on_closed_;
};

// Builds a transport for a listener; `label` names it in metrics
// (iwf_sip_transport_errors_total{stack=label,transport,reason}).
std::shared_ptr<Transport> makeTransport(asio::io_context& io, metrics::Registry& metrics,
                                         const std::string& label, const ListenerConfig& cfg);

// Splits SIP messages out of a byte stream (RFC 3261 §18.3: Content-Length frames the body).
class StreamFramer {
  public:
    enum class Next : std::uint8_t { None, Message, Broken };
    void append(std::string_view bytes) { buf_.append(bytes); }
    // Cuts the next complete message into `out` (Message), says None when more bytes are
    // needed, Broken when the stream cannot be framed (error() names why; close it).
    Next next(std::string& out);
    std::string_view error() const { return error_; }
    std::size_t buffered() const { return buf_.size(); }

  private:
    std::string buf_;
    std::string_view error_;
};

}  // namespace iwf::sip
