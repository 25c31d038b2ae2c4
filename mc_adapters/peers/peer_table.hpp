#pragma once
// Who may talk to an MC link (issue #21, docs/security.md "MC links"): the peers configured
// on an mcptt-iwf1 or mcdata-iwf2 link, and the checks every SIP message, caller identity
// and media address passes against them.
//
//   peers:
//     - name: mc-core            # label in metrics and logs (a bounded set: from config)
//       address: 192.0.2.10      # source address of the peer's SIP
//       port: 0                  # source port; 0 = any (TCP/TLS clients use ephemeral ports)
//       tls_name: mc.example     # over TLS: the name the peer's certificate must carry
//       domains: [mc.example]    # hosts of the identities (caller, sender) it may assert
//       media: [192.0.2.0/28]    # where its calls' RTP/RTCP may go and come from
//                                # (default: its address only)
//
// A message is from a configured peer when its source address equals the peer's address,
// its source port equals the peer's port (if one is configured), and, when it arrived over
// TLS, the certificate the connection was verified with names the peer's tls_name (one
// call: tlsIdentityMatches()). Anything else is refused before it is parsed further.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/config_node.hpp"
#include "common/link.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "sip/transport.hpp"

namespace iwf::mc::peers {

// One address ("192.0.2.7", "2001:db8::1") or a prefix ("192.0.2.0/28", "2001:db8::/48").
struct Prefix {
    asio::ip::address address;
    unsigned length = 0;  // bits compared; 32 / 128 = the one address
    bool contains(const asio::ip::address& a) const;
    std::string toString() const;
};
// Parses a prefix; nullopt if `text` is neither an address nor address/length.
std::optional<Prefix> parsePrefix(std::string_view text);

struct PeerConfig {
    std::string name;
    asio::ip::address address;
    std::uint16_t port = 0;            // 0 = any source port
    std::string tls_name;              // empty: the peer may not use TLS
    std::vector<std::string> domains;  // lower case
    std::vector<Prefix> media;         // never empty once parsed (default: {address/32})
};

// A peer at `address` (source port `port`, 0 = any) asserting identities of `domains`, its
// media realm its own address (what a config entry with only those keys gives).
PeerConfig peerAt(std::string name, const asio::ip::address& address,
                  std::vector<std::string> domains, std::uint16_t port = 0);

// Parses the link's `peers` list (required, at least one). `tls`: whether the link speaks TLS
// at all (a listener or its destination); a tls_name needs it. `media`: whether the link
// carries media (mcptt-iwf1; mcdata-iwf2 refuses the key). Throws ConfigError naming file,
// line and field.
std::vector<PeerConfig> parsePeers(const ConfigNode& link, bool tls, bool media = true);

// The host of a sip:, sips: or tel: identity URI, lower case ("" if it has none); accepts a
// name-addr ("Alice" <sip:alice@mc.example>).
std::string identityDomain(std::string_view uri);

// Why a peer check refused something: the `reason` label of iwf_mc_peer_refused_total.
enum class Refusal : std::uint8_t {
    NotAPeer = 0,     // source address / port is no configured peer
    TlsIdentity = 1,  // over TLS: the certificate does not name the peer
    Domain = 2,       // caller / sender identity outside the peer's domains
    MediaRealm = 3,   // SDP address outside the peer's media realm
    CallCap = 4,      // the link's max_calls reached
    PeerCallCap = 5,  // the peer's share (max_calls_per_peer) reached
    SetupCap = 6,     // the peer's unacknowledged call setups (max_setups_per_peer) reached
    WrongPeer = 7,    // an in-dialog request or ACK from a peer that is not the dialog's
};
inline constexpr std::size_t kRefusalKinds = 8;
std::string_view toString(Refusal r);

// Over TLS: true when the certificate the connection from `from` was verified with
// (sip::Peer::tls) names `peer.tls_name`. The one place the TLS identity binding is decided.
// A peer with a tls_name reaches the link over TLS only with mutual TLS on the listener (or
// over a connection iwfd opened to it).
bool tlsIdentityMatches(const PeerConfig& peer, const sip::Peer& from);

class PeerTable {
  public:
    PeerTable() = default;
    explicit PeerTable(std::vector<PeerConfig> peers);

    // The configured peer `from` is, or -1: address, port (if configured) and, over TLS,
    // the certificate's name (tlsIdentityMatches). `why` (if given) says which check failed.
    int match(const sip::Peer& from, Refusal* why = nullptr) const;
    // The first peer whose address is `a` (the link's own destination), or -1.
    int byAddress(const asio::ip::address& a) const;
    const PeerConfig& at(int i) const { return peers_.at(static_cast<std::size_t>(i)); }
    std::size_t size() const { return peers_.size(); }
    bool empty() const { return peers_.empty(); }

    // Whether peer `i` may assert identity `uri` (its host is one of the peer's domains).
    bool domainAllowed(int i, std::string_view uri) const;
    // Whether peer `i`'s calls may send media to / take media from `a`.
    bool mediaAllowed(int i, const asio::ip::address& a) const;

  private:
    std::vector<PeerConfig> peers_;
};

// When each configured peer was last heard from (a SIP message it sent that passed the source
// check), for the operator's view (Link::view, GET /v1/peers). Indexed like the PeerTable;
// touched on the link's thread only.
class PeerSeen {
  public:
    explicit PeerSeen(std::size_t peers = 0) : at_(peers) {}
    void heard(int peer, Clock::TimePoint t) {
        if (peer >= 0 && static_cast<std::size_t>(peer) < at_.size()) {
            at_[static_cast<std::size_t>(peer)] = t;
        }
    }
    // One PeerView per configured peer: "seen" once it sent something, "configured" before.
    std::vector<PeerView> views(const PeerTable& table, Clock::TimePoint now) const;

  private:
    std::vector<std::optional<Clock::TimePoint>> at_;
};

// Counts refusals in iwf_mc_peer_refused_total{link, reason} (reason: toString(Refusal), a
// fixed set; the source never becomes a label) and logs each source at most once per
// interval. Sources are remembered in a bounded map: past kMaxSources distinct sources in one
// interval, the extra ones share one rate limiter.
class RefusalLog {
  public:
    static constexpr std::size_t kMaxSources = 1024;
    RefusalLog(metrics::Registry& metrics, std::string link,
               std::chrono::milliseconds interval = std::chrono::seconds(10));

    void refused(const sip::Peer& from, Refusal why, std::string_view detail);
    std::uint64_t count(Refusal why) const;

  private:
    std::string link_;
    std::chrono::milliseconds interval_;
    std::vector<metrics::Counter*> counters_;
    std::map<std::string, std::chrono::steady_clock::time_point> last_;
    std::chrono::steady_clock::time_point window_start_{};
    log::RateLimiter overflow_;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace iwf::mc::peers
