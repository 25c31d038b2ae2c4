#include <fstream>
#include <memory>

#include "mc_adapters/mcptt/mcptt_link.hpp"

namespace iwf::mc::mcptt {

namespace {

sip::Protocol protocolOf(const ConfigNode& n, std::string_view key) {
    sip::Protocol p = sip::Protocol::Udp;
    const std::string s = n.getEnum(key, {"udp", "tcp", "tls"}, "udp");
    (void)sip::parseProtocol(s, p);
    return p;
}

void checkUri(const ConfigNode& n, std::string_view key, const std::string& v) {
    if (v.rfind("sip:", 0) != 0 && v.rfind("sips:", 0) != 0 && v.rfind("tel:", 0) != 0) {
        n.fail(key, "expected a sip:, sips: or tel: URI, got \"" + v + "\"");
    }
}

constexpr std::int64_t kMaxReceiveBuffer = std::int64_t{1} << 30;  // 1 GiB

// peers (mc_adapters/peers/peer_table.hpp); the destination `peer` must be one of them, or
// its responses would be refused.
void parsePeerSection(const ConfigNode& node, McpttLinkConfig& c) {
    bool tls = c.peer.protocol == sip::Protocol::Tls;
    for (const auto& l : c.listen) {
        tls = tls || l.protocol == sip::Protocol::Tls;
    }
    c.peers = peers::parsePeers(node, tls);
    if (peers::PeerTable(c.peers).byAddress(c.peer.address) < 0) {
        node.child("peer").fail("address", "the destination " + c.peer.address.to_string() +
                                               " is none of peers[].address: its responses "
                                               "would be refused");
    }
}

void parseLimits(const ConfigNode& node, McpttLinkConfig& c) {
    auto l = node.optionalChild("limits");
    if (!l) {
        return;
    }
    l->expectKeys({"max_calls", "max_calls_per_peer", "max_setups_per_peer"});
    c.limits.max_calls = static_cast<std::size_t>(
        l->getInt("max_calls", 1, 1000000, static_cast<std::int64_t>(c.limits.max_calls)));
    c.limits.max_calls_per_peer = static_cast<std::size_t>(
        l->getInt("max_calls_per_peer", 1, 1000000, static_cast<std::int64_t>(c.limits.max_calls)));
    if (c.limits.max_calls_per_peer > c.limits.max_calls) {
        l->fail("max_calls_per_peer",
                "larger than max_calls (" + std::to_string(c.limits.max_calls) + ")");
    }
    c.limits.max_setups_per_peer = static_cast<std::size_t>(
        l->getInt("max_setups_per_peer", 1, 1000000,
                  static_cast<std::int64_t>(c.limits.max_setups_per_peer)));
}

void parseSessionTimer(const ConfigNode& node, McpttLinkConfig& c) {
    auto st = node.optionalChild("session_timer");
    if (!st) {
        return;
    }
    st->expectKeys({"enabled", "expires", "min_se"});
    auto& t = c.session_timer;
    t.enabled = st->getBool("enabled", t.enabled);
    auto secs = [&](std::string_view key, std::chrono::seconds dflt) {
        const auto ms = st->getDuration(key, dflt);
        if (ms.count() % 1000 != 0 || ms < std::chrono::seconds(1)) {
            st->fail(key,
                     "whole seconds, at least 1s (Session-Expires and Min-SE count "
                     "seconds, RFC 4028 §4, §5)");
        }
        return std::chrono::duration_cast<std::chrono::seconds>(ms);
    };
    t.min_se = secs("min_se", t.min_se);
    t.expires = secs("expires", t.expires);
    if (t.expires < t.min_se) {
        st->fail("expires", "smaller than min_se (" + std::to_string(t.min_se.count()) + "s)");
    }
}

MediaProtection protectionOf(const ConfigNode& n, std::string_view key, MediaProtection dflt) {
    const std::string v =
        n.getEnum(key, {"off", "optional", "required"}, std::string(toString(dflt)));
    return v == "required"   ? MediaProtection::Required
           : v == "optional" ? MediaProtection::Optional
                             : MediaProtection::Off;
}

// A file the daemon must be able to read (a PEM trust anchor): named in the error if not.
void checkReadable(const ConfigNode& n, std::string_view key, const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        n.fail(key, "cannot read " + path);
    }
}

// media_protection.mikey: the KMS the IWF's MIKEY-SAKKE identity comes from (33.180 Annex D,
// security/kms_client.hpp). Checked here so that --check-config names every mistake; the
// fetch itself happens when the link starts.
void parseMikey(const ConfigNode& mp, McpttLinkConfig& c) {
    auto k = mp.optionalChild("mikey");
    if (!k) {
        return;
    }
    k->expectKeys({"kms_url", "kms_uri", "user_uri", "ca_file", "token_file", "timeout", "retry",
                   "refresh_ahead"});
    auto& m = c.media_protection;
    m.kms_enabled = true;
    m.kms.url = k->getString("kms_url");
    if (m.kms.url.rfind("https://", 0) != 0 || m.kms.url.size() <= 8) {
        k->fail("kms_url", "expected https://host[:port] (33.180 Annex D: the KMS over TLS)");
    }
    // The IWF's MC service user ID on this link: its PSI unless told otherwise.
    m.kms.user_uri = k->getString("user_uri", c.psi);
    checkUri(*k, "user_uri", m.kms.user_uri);
    m.kms.kms_uri = k->getString("kms_uri", "");
    m.kms.ca_file = k->getString("ca_file");
    checkReadable(*k, "ca_file", m.kms.ca_file);
    m.token_file = k->getString("token_file", "");
    if (!m.token_file.empty()) {
        auto token = security::loadSecretFile(m.token_file);
        if (const auto* e = std::get_if<security::KeyFileError>(&token)) {
            k->fail("token_file", e->message);
        }
        m.kms.token = std::get<std::string>(std::move(token));
    }
    m.kms.timeout = k->getDuration("timeout", m.kms.timeout);
    m.kms.retry = k->getDuration("retry", m.kms.retry);
    if (m.kms.timeout < std::chrono::milliseconds(100)) {
        k->fail("timeout", "at least 100ms");
    }
    if (m.kms.retry < std::chrono::milliseconds(100)) {
        k->fail("retry", "at least 100ms");
    }
    m.kms.refresh_ahead = std::chrono::duration_cast<std::chrono::seconds>(
        k->getDuration("refresh_ahead", std::chrono::seconds(0)));
}

// media_protection (TS 33.180 SRTP / SRTCP per call, mcptt_link.hpp).
void parseMediaProtection(const ConfigNode& node, McpttLinkConfig& c) {
    auto mp = node.optionalChild("media_protection");
    if (!mp) {
        return;
    }
    mp->expectKeys({"default", "private_calls", "groups", "key_file", "replay_window", "mikey"});
    auto& m = c.media_protection;
    m.group_default = protectionOf(*mp, "default", m.group_default);
    m.private_calls = protectionOf(*mp, "private_calls", m.private_calls);
    for (const auto& g : mp->optionalList("groups")) {
        g.expectKeys({"group", "mode"});
        std::string uri = g.getString("group");
        checkUri(g, "group", uri);
        for (const auto& [seen, mode] : m.groups) {
            if (seen == uri) {
                g.fail("group", "listed twice in media_protection.groups");
            }
        }
        m.groups.emplace_back(std::move(uri), protectionOf(g, "mode", MediaProtection::Required));
    }
    m.key_file = mp->getString("key_file", "");
    if (!m.key_file.empty()) {
        auto loaded = security::loadKeyFile(m.key_file);
        if (const auto* e = std::get_if<security::KeyFileError>(&loaded)) {
            mp->fail("key_file", e->line == 0 ? e->message
                                              : m.key_file + " line " + std::to_string(e->line) +
                                                    ": " + e->message);
        }
        m.keys = std::get<security::ProvisionedKeys>(std::move(loaded));
    }
    const auto window = mp->getDuration("replay_window", std::chrono::seconds(300));
    if (window < std::chrono::seconds(1) || window > std::chrono::hours(24) ||
        window.count() % 1000 != 0) {
        mp->fail("replay_window",
                 "whole seconds from 1s to 24h (the allowed clock skew of an I_MESSAGE's "
                 "timestamp, RFC 3830 §5.4)");
    }
    m.replay.window_seconds = static_cast<std::uint64_t>(window.count() / 1000);
    parseMikey(*mp, c);
}

}  // namespace

McpttLinkConfig parseMcpttLinkConfig(const ConfigNode& node) {
    node.expectKeys({"name", "type", "psi", "listen", "peer", "peers", "server_uri", "media",
                     "e2ee_groups", "resource_priority", "affiliation", "timers",
                     "max_outstanding_invites", "limits", "session_timer", "media_protection"});
    McpttLinkConfig c;
    c.name = node.getString("name");
    c.psi = node.getString("psi");
    checkUri(node, "psi", c.psi);
    c.server_uri = node.getString("server_uri");
    checkUri(node, "server_uri", c.server_uri);
    for (const auto& l : node.list("listen")) {
        l.expectKeys({"transport", "address", "port", "cert", "key", "ca", "mutual", "peer_name",
                      "receive_buffer"});
        sip::ListenerConfig lc;
        lc.protocol = protocolOf(l, "transport");
        lc.address = l.getIpAddress("address", "127.0.0.1");
        lc.port = static_cast<std::uint16_t>(l.getInt("port", 0, 65535, 5060));
        if (l.has("receive_buffer")) {
            if (lc.protocol != sip::Protocol::Udp) {
                l.fail("receive_buffer", "only for transport udp (streams have TCP windows)");
            }
            // Bytes; 0 = the kernel default. The kernel caps it at net.core.rmem_max.
            lc.receive_buffer = static_cast<int>(l.getInt("receive_buffer", 0, kMaxReceiveBuffer));
        }
        if (lc.protocol == sip::Protocol::Tls) {
            lc.tls.cert_file = l.getString("cert");
            lc.tls.key_file = l.getString("key");
            lc.tls.ca_file = l.getString("ca", "");
            lc.tls.require_client_cert = l.getBool("mutual", false);
            lc.tls.peer_name = l.getString("peer_name", "");
            // A TLS client that verifies nothing authenticates nobody (docs/security.md).
            if (lc.tls.ca_file.empty()) {
                l.fail("ca",
                       "a TLS listener needs the CA that verifies its peers: a PEM file, or "
                       "\"system\" for the system trust store (every public CA; not advised)");
            }
        }
        c.listen.push_back(lc);
    }
    if (c.listen.empty()) {
        node.fail("listen", "at least one listener is needed");
    }
    auto peer = node.child("peer");
    peer.expectKeys({"transport", "address", "port"});
    c.peer.protocol = protocolOf(peer, "transport");
    c.peer.address = asio::ip::make_address(peer.getIpAddress("address", "127.0.0.1"));
    c.peer.port = static_cast<std::uint16_t>(peer.getInt("port", 1, 65535, 5060));
    bool has_listener = false;
    for (const auto& l : c.listen) {
        has_listener = has_listener || l.protocol == c.peer.protocol;
    }
    if (!has_listener) {
        peer.fail("transport", "no listener with this transport to reach the peer from");
    }
    parsePeerSection(node, c);
    if (auto m = node.optionalChild("media")) {
        // Per-call media ports come from the sockets (docs/protocols/iwf-1-media.md): the
        // operator may only narrow them to a range.
        m->expectKeys({"address", "port_range", "encoding", "clock_rate", "payload_type",
                       "floor_priority", "amr_wb", "amr_octet_align"});
        c.media.address = m->getIpAddress("address", c.listen[0].address);
        if (auto r = m->optionalChild("port_range")) {
            r->expectKeys({"first", "last"});
            c.port_range.first = static_cast<std::uint16_t>(r->getInt("first", 1024, 65534));
            c.port_range.last = static_cast<std::uint16_t>(r->getInt("last", 1025, 65535));
            if (c.port_range.first % 2 != 0) {
                r->fail("first", "must be even (audio on an even port P, floor control on P+1)");
            }
            if (c.port_range.last < c.port_range.first + 1) {
                r->fail("last", "must be at least first + 1 (one audio/floor pair)");
            }
        }
        c.media.encoding = m->getString("encoding", "X-IWF-LMR");
        c.media.clock_rate = static_cast<std::uint32_t>(m->getInt("clock_rate", 1, 192000, 8000));
        c.media.payload_type = static_cast<std::uint8_t>(m->getInt("payload_type", 96, 127, 96));
        c.floor_priority = static_cast<int>(m->getInt("floor_priority", 0, 255, 5));
        // Issue #19: answer AMR-WB offers (MC talkers into analogue groups). Off by default:
        // such an offer is then refused codec_mismatch (488) as before.
        c.media.accept_amr_wb = m->getBool("amr_wb", false);
        c.media.amr_octet_align = m->getBool("amr_octet_align", true);
    } else {
        c.media.address = c.listen[0].address;
    }
    for (const auto& g : node.optionalList("e2ee_groups")) {
        c.e2ee_groups.push_back(g.asString());
    }
    if (auto rp = node.optionalChild("resource_priority")) {
        rp->expectKeys({"emergency", "imminent_peril"});
        c.rp_emergency = rp->getString("emergency", c.rp_emergency);
        c.rp_imminent_peril = rp->getString("imminent_peril", c.rp_imminent_peril);
    }
    if (auto a = node.optionalChild("affiliation")) {
        a->expectKeys({"model", "groups", "users", "expires"});
        c.affiliation_model = a->getEnum("model", {"group", "per-user"}, "group") == "group"
                                  ? AffiliationModel::Group
                                  : AffiliationModel::PerUser;
        for (const auto& g : a->optionalList("groups")) {
            c.affiliation_groups.push_back(g.asString());
        }
        for (const auto& u : a->optionalList("users")) {
            c.affiliation_users.push_back(u.asString());
        }
        if (c.affiliation_model == AffiliationModel::PerUser && c.affiliation_users.empty() &&
            !c.affiliation_groups.empty()) {
            a->fail("users", "the per-user model needs the LMR users' MCPTT IDs");
        }
        c.affiliation_expires =
            static_cast<std::uint32_t>(a->getInt("expires", 0, 86400 * 7, 3600));
    }
    c.max_outstanding_invites = static_cast<std::size_t>(
        node.getInt("max_outstanding_invites", 0, 100000,
                    static_cast<std::int64_t>(kDefaultMaxOutstandingInvites)));
    parseLimits(node, c);
    parseSessionTimer(node, c);
    parseMediaProtection(node, c);
    if (auto t = node.optionalChild("timers")) {
        t->expectKeys({"t1", "t2", "t4"});
        c.timers.t1 = t->getDuration("t1", c.timers.t1);
        c.timers.t2 = t->getDuration("t2", c.timers.t2);
        c.timers.t4 = t->getDuration("t4", c.timers.t4);
    }
    return c;
}

void registerMcpttLinkTypes(LinkRegistry& registry) {
    LinkType t;
    t.side = Side::Mc;
    t.description = "IWF-1 toward the MC system: MCPTT call control over SIP (TS 29.379)";
    t.validate = [](const ConfigNode& n) { (void)parseMcpttLinkConfig(n); };
    t.create = [](const ConfigNode& n, LinkContext& ctx) -> std::unique_ptr<Link> {
        McpttLinkConfig c = parseMcpttLinkConfig(n);
        c.send_gate = ctx.send_gate;
        return std::make_unique<McpttLink>(ctx.io, ctx.metrics, std::move(c), ctx.clock);
    };
    registry.add("mcptt-iwf1", std::move(t));
}

}  // namespace iwf::mc::mcptt
