#include "mc_adapters/peers/peer_table.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "sip/message.hpp"

namespace iwf::mc::peers {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// A DNS name or an IP literal as it may appear as the host of a SIP URI: letters, digits,
// '-', '.', and for IPv6 literals '[', ']', ':'.
bool plausibleDomain(std::string_view d) {
    if (d.empty() || d.size() > 253) {
        return false;
    }
    return std::all_of(d.begin(), d.end(), [](unsigned char c) {
        return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '[' || c == ']' || c == ':';
    });
}

}  // namespace

bool Prefix::contains(const asio::ip::address& a) const {
    if (a.is_v4() != address.is_v4()) {
        // An IPv4-mapped IPv6 source (dual-stack socket) compares as its IPv4 address.
        if (a.is_v6() && a.to_v6().is_v4_mapped() && address.is_v4()) {
            return contains(asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()));
        }
        return false;
    }
    if (a.is_v4()) {
        const std::uint32_t mask =
            length == 0 ? 0 : ~std::uint32_t{0} << (32U - std::min(length, 32U));
        return (a.to_v4().to_uint() & mask) == (address.to_v4().to_uint() & mask);
    }
    const auto x = a.to_v6().to_bytes();
    const auto y = address.to_v6().to_bytes();
    unsigned bits = std::min(length, 128U);
    for (std::size_t i = 0; i < x.size() && bits > 0; ++i) {
        const unsigned take = std::min(bits, 8U);
        const auto mask = static_cast<std::uint8_t>(0xFFU << (8U - take));
        if ((x[i] & mask) != (y[i] & mask)) {
            return false;
        }
        bits -= take;
    }
    return true;
}

std::string Prefix::toString() const {
    const unsigned full = address.is_v4() ? 32U : 128U;
    return length == full ? address.to_string()
                          : address.to_string() + "/" + std::to_string(length);
}

std::optional<Prefix> parsePrefix(std::string_view text) {
    const auto slash = text.find('/');
    boost::system::error_code ec;
    Prefix p;
    p.address = asio::ip::make_address(std::string(text.substr(0, slash)), ec);
    if (ec) {
        return std::nullopt;
    }
    const unsigned full = p.address.is_v4() ? 32U : 128U;
    p.length = full;
    if (slash != std::string_view::npos) {
        const std::string_view len = text.substr(slash + 1);
        if (len.empty() || len.size() > 3 ||
            !std::all_of(len.begin(), len.end(),
                         [](unsigned char c) { return std::isdigit(c) != 0; })) {
            return std::nullopt;
        }
        p.length = static_cast<unsigned>(std::stoul(std::string(len)));
        if (p.length > full) {
            return std::nullopt;
        }
    }
    return p;
}

PeerConfig peerAt(std::string name, const asio::ip::address& address,
                  std::vector<std::string> domains, std::uint16_t port) {
    PeerConfig p;
    p.name = std::move(name);
    p.address = address;
    p.port = port;
    for (auto& d : domains) {
        p.domains.push_back(lower(d));
    }
    p.media.push_back(Prefix{address, address.is_v4() ? 32U : 128U});
    return p;
}

std::vector<PeerConfig> parsePeers(const ConfigNode& link, bool tls, bool media) {
    if (!link.has("peers")) {
        link.fail("peers",
                  "missing: an MC link accepts SIP only from its configured peers; list the MC "
                  "system's SIP servers, e.g. peers: [{name: mc-core, address: 192.0.2.10, "
                  "domains: [mc.example]}] (docs/security.md \"MC links\")");
    }
    const auto items = link.list("peers");
    if (items.empty()) {
        link.fail("peers", "at least one peer is needed (nobody could reach this link)");
    }
    std::vector<PeerConfig> out;
    std::set<std::string> names;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const ConfigNode& n = items[i];
        if (media) {
            n.expectKeys({"name", "address", "port", "tls_name", "domains", "media"});
        } else {
            n.expectKeys({"name", "address", "port", "tls_name", "domains"});
        }
        PeerConfig p;
        p.name = n.getString("name", "peer" + std::to_string(i + 1));
        if (!names.insert(p.name).second) {
            n.fail("name", "two peers named \"" + p.name + "\"");
        }
        p.address = asio::ip::make_address(n.getIpAddress("address"));
        p.port = static_cast<std::uint16_t>(n.getInt("port", 0, 65535, 0));
        p.tls_name = n.getString("tls_name", "");
        if (!p.tls_name.empty() && !tls) {
            n.fail("tls_name", "the link speaks no TLS (no TLS listener, no TLS destination)");
        }
        for (const auto& d : n.list("domains")) {
            std::string dom = lower(d.asString());
            if (!plausibleDomain(dom)) {
                d.fail("", "expected a domain such as mc.example, got \"" + d.asString() + "\"");
            }
            p.domains.push_back(std::move(dom));
        }
        if (p.domains.empty()) {
            n.fail("domains", "at least one domain the peer's identities belong to is needed");
        }
        for (const auto& m : n.optionalList("media")) {
            auto pre = parsePrefix(m.asString());
            if (!pre) {
                m.fail("", "expected an IP address or prefix (192.0.2.0/28), got \"" +
                               m.asString() + "\"");
            }
            if (pre->length == 0) {
                m.fail("", "a /0 prefix would let media go anywhere: name the peer's media hosts");
            }
            p.media.push_back(*pre);
        }
        if (p.media.empty()) {
            p.media.push_back(Prefix{p.address, p.address.is_v4() ? 32U : 128U});
        }
        out.push_back(std::move(p));
    }
    return out;
}

std::string identityDomain(std::string_view uri) {
    std::string_view v = uri;
    if (v.find('<') != std::string_view::npos) {
        auto na = sip::parseNameAddr(v);
        if (!na) {
            return {};
        }
        auto parts = sip::parseUri(na->uri);
        return parts ? lower(parts->host) : std::string();
    }
    auto parts = sip::parseUri(v);
    return parts ? lower(parts->host) : std::string();
}

std::string_view toString(Refusal r) {
    switch (r) {
        case Refusal::NotAPeer:
            return "not_a_peer";
        case Refusal::TlsIdentity:
            return "tls_identity";
        case Refusal::Domain:
            return "identity_domain";
        case Refusal::MediaRealm:
            return "media_realm";
        case Refusal::CallCap:
            return "call_cap";
        case Refusal::PeerCallCap:
            return "peer_call_cap";
        case Refusal::SetupCap:
            return "setup_cap";
        case Refusal::WrongPeer:
            return "wrong_peer";
    }
    return "unknown";
}

bool tlsIdentityMatches(const PeerConfig& peer, const sip::Peer& from) {
    if (from.protocol != sip::Protocol::Tls) {
        return true;
    }
    // A peer without a tls_name may not use TLS: its certificate could not be bound to it.
    // Without a verified certificate (a TLS client on a listener without mutual: true) there
    // is no name to bind either. Otherwise the certificate the SIP core verified for this
    // connection (the client's on a connection iwfd accepted, the server's on one it opened)
    // must name the peer (RFC 5922 §7.1-7.2 matching, sip::TlsIdentity::matches).
    return !peer.tls_name.empty() && from.tls != nullptr && from.tls->matches(peer.tls_name);
}

PeerTable::PeerTable(std::vector<PeerConfig> peers) : peers_(std::move(peers)) {}

int PeerTable::match(const sip::Peer& from, Refusal* why) const {
    Refusal r = Refusal::NotAPeer;
    for (std::size_t i = 0; i < peers_.size(); ++i) {
        const PeerConfig& p = peers_[i];
        if (!Prefix{p.address, p.address.is_v4() ? 32U : 128U}.contains(from.address)) {
            continue;
        }
        if (p.port != 0 && p.port != from.port) {
            continue;
        }
        if (!tlsIdentityMatches(p, from)) {
            r = Refusal::TlsIdentity;
            continue;
        }
        return static_cast<int>(i);
    }
    if (why != nullptr) {
        *why = r;
    }
    return -1;
}

int PeerTable::byAddress(const asio::ip::address& a) const {
    for (std::size_t i = 0; i < peers_.size(); ++i) {
        if (peers_[i].address == a) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

bool PeerTable::domainAllowed(int i, std::string_view uri) const {
    if (i < 0 || static_cast<std::size_t>(i) >= peers_.size()) {
        return false;
    }
    const std::string host = identityDomain(uri);
    if (host.empty()) {
        return false;
    }
    const auto& d = peers_[static_cast<std::size_t>(i)].domains;
    return std::find(d.begin(), d.end(), host) != d.end();
}

bool PeerTable::mediaAllowed(int i, const asio::ip::address& a) const {
    if (i < 0 || static_cast<std::size_t>(i) >= peers_.size()) {
        return false;
    }
    const auto& m = peers_[static_cast<std::size_t>(i)].media;
    return std::any_of(m.begin(), m.end(), [&](const Prefix& p) { return p.contains(a); });
}

RefusalLog::RefusalLog(metrics::Registry& metrics, std::string link,
                       std::chrono::milliseconds interval)
    : link_(std::move(link)), interval_(interval), overflow_(interval, 1), log_(log::get("mc")) {
    for (std::size_t i = 0; i < kRefusalKinds; ++i) {
        counters_.push_back(&metrics.counter(
            "iwf_mc_peer_refused_total",
            "SIP messages, calls and media an MC link refused by its peer checks, by reason",
            {{"link", link_}, {"reason", std::string(toString(static_cast<Refusal>(i)))}}));
    }
}

std::uint64_t RefusalLog::count(Refusal why) const {
    return counters_[static_cast<std::size_t>(why)]->value();
}

void RefusalLog::refused(const sip::Peer& from, Refusal why, std::string_view detail) {
    counters_[static_cast<std::size_t>(why)]->inc();
    const auto now = std::chrono::steady_clock::now();
    if (now - window_start_ >= interval_) {
        // A new interval: every source may be logged once again.
        last_.clear();
        window_start_ = now;
    }
    const std::string src = from.toString();
    bool log_it = false;
    std::uint64_t suppressed = 0;
    if (auto it = last_.find(src); it != last_.end()) {
        log_it = false;
    } else if (last_.size() < kMaxSources) {
        last_.emplace(src, now);
        log_it = true;
    } else {
        log_it = overflow_.allow(now, suppressed);
    }
    if (log_it) {
        // The detail may quote the request (a caller URI): printable, bounded, one line.
        std::string d(detail.substr(0, 160));
        for (char& c : d) {
            const auto u = static_cast<unsigned char>(c);
            c = (u < 0x20 || u == 0x7F || c == '"') ? '?' : c;
        }
        log_->warn("link={} source={} refused={} detail=\"{}\" suppressed={}", link_, src,
                   toString(why), d, suppressed);
    }
}

std::vector<PeerView> PeerSeen::views(const PeerTable& table, Clock::TimePoint now) const {
    std::vector<PeerView> out;
    for (std::size_t i = 0; i < table.size(); ++i) {
        const PeerConfig& p = table.at(static_cast<int>(i));
        PeerView v;
        v.id = p.name;
        v.address = p.address.is_v6() ? "[" + p.address.to_string() + "]" : p.address.to_string();
        v.address += ":" + (p.port != 0 ? std::to_string(p.port) : std::string("*"));
        if (i < at_.size() && at_[i]) {
            v.state = "seen";
            v.last_seen_s = std::chrono::duration<double>(now - *at_[i]).count();
        } else {
            v.state = "configured";
        }
        out.push_back(std::move(v));
    }
    return out;
}

}  // namespace iwf::mc::peers
