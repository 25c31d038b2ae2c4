// The MC links' peer table (mc_adapters/peers/peer_table.hpp): matching a source, identity
// domains, media realms, the config parser's errors, and refusal accounting with a bounded
// label set.
#include "mc_adapters/peers/peer_table.hpp"

#include <gtest/gtest.h>

#include "common/config_node.hpp"
#include "mc_adapters/mcdata/mcdata_link.hpp"
#include "mc_adapters/mcptt/mcptt_link.hpp"

namespace iwf::mc::peers {
namespace {

asio::ip::address ip(const char* s) {
    return asio::ip::make_address(s);
}

sip::Peer src(const char* a, std::uint16_t port, sip::Protocol p = sip::Protocol::Udp) {
    return sip::Peer{p, ip(a), port};
}

TEST(Prefix, ParsesAddressesAndPrefixesAndContains) {
    auto one = parsePrefix("192.0.2.7");
    ASSERT_TRUE(one);
    EXPECT_EQ(one->length, 32u);
    EXPECT_TRUE(one->contains(ip("192.0.2.7")));
    EXPECT_FALSE(one->contains(ip("192.0.2.8")));
    auto net = parsePrefix("192.0.2.0/28");
    ASSERT_TRUE(net);
    EXPECT_TRUE(net->contains(ip("192.0.2.15")));
    EXPECT_FALSE(net->contains(ip("192.0.2.16")));
    EXPECT_TRUE(net->contains(ip("::ffff:192.0.2.3")));  // v4-mapped source
    EXPECT_FALSE(net->contains(ip("2001:db8::1")));
    auto v6 = parsePrefix("2001:db8::/33");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->contains(ip("2001:db8:7fff::1")));
    EXPECT_FALSE(v6->contains(ip("2001:db8:8000::1")));
    EXPECT_EQ(net->toString(), "192.0.2.0/28");
    EXPECT_EQ(one->toString(), "192.0.2.7");
    for (const char* bad :
         {"", "mc.example", "192.0.2.0/33", "192.0.2.0/", "1.2.3.4/x", "::/129"}) {
        EXPECT_FALSE(parsePrefix(bad)) << bad;
    }
}

TEST(IdentityDomain, HostOfUriOrNameAddr) {
    EXPECT_EQ(identityDomain("sip:alice@MC.Example"), "mc.example");
    EXPECT_EQ(identityDomain("\"Alice\" <sips:alice@mc.example:5061;transport=tls>;tag=1"),
              "mc.example");
    EXPECT_EQ(identityDomain("sip:mc.example"), "mc.example");
    EXPECT_EQ(identityDomain("alice"), "");
    EXPECT_EQ(identityDomain(""), "");
}

PeerTable table() {
    PeerConfig a;
    a.name = "core";
    a.address = ip("127.0.0.1");
    a.port = 5060;
    a.domains = {"mc.example"};
    a.media = {*parsePrefix("127.0.0.0/30")};
    PeerConfig b;
    b.name = "backup";
    b.address = ip("127.0.0.2");
    b.domains = {"mc.example", "other.example"};
    b.media = {*parsePrefix("127.0.0.2")};
    return PeerTable({a, b});
}

TEST(PeerTable, MatchesAddressAndConfiguredPortOnly) {
    auto t = table();
    EXPECT_EQ(t.match(src("127.0.0.1", 5060)), 0);
    Refusal why = Refusal::Domain;
    EXPECT_EQ(t.match(src("127.0.0.1", 5061), &why), -1);  // port configured: must match
    EXPECT_EQ(why, Refusal::NotAPeer);
    EXPECT_EQ(t.match(src("127.0.0.2", 40123)), 1);  // port 0: any
    EXPECT_EQ(t.match(src("127.0.0.3", 5060)), -1);
    EXPECT_EQ(t.byAddress(ip("127.0.0.2")), 1);
    EXPECT_EQ(t.byAddress(ip("127.0.0.9")), -1);
    // TLS: a peer without tls_name may not use it (its certificate could not be bound).
    EXPECT_EQ(t.match(src("127.0.0.2", 40123, sip::Protocol::Tls), &why), -1);
    EXPECT_EQ(why, Refusal::TlsIdentity);
}

// Over TLS a peer is its address and port AND the certificate the SIP core verified for the
// connection naming its tls_name (sip::TlsIdentity::matches, RFC 5922 §7).
TEST(PeerTable, TlsBindsTheVerifiedCertificateToTheConfiguredName) {
    PeerConfig p = peerAt("core", ip("127.0.0.1"), {"mc.example"});
    p.tls_name = "mc.example";
    PeerTable t({p});
    auto over_tls = [](const char* dns) {
        sip::Peer from = src("127.0.0.1", 40000, sip::Protocol::Tls);
        if (dns != nullptr) {
            auto id = std::make_shared<sip::TlsIdentity>();
            id->dns_names = {dns};
            id->common_name = dns;
            from.tls = id;
        }
        return from;
    };
    EXPECT_EQ(t.match(over_tls("mc.example")), 0);
    EXPECT_EQ(t.match(over_tls("MC.EXAMPLE")), 0);
    Refusal why = Refusal::NotAPeer;
    EXPECT_EQ(t.match(over_tls("other.example"), &why), -1);  // same CA, another name
    EXPECT_EQ(why, Refusal::TlsIdentity);
    EXPECT_EQ(t.match(over_tls(nullptr), &why), -1);  // no client certificate
    EXPECT_EQ(why, Refusal::TlsIdentity);
    EXPECT_EQ(t.match(src("127.0.0.1", 40000, sip::Protocol::Udp)), 0);  // UDP: address only
}

TEST(PeerTable, DomainsAndMediaPerPeer) {
    auto t = table();
    EXPECT_TRUE(t.domainAllowed(0, "sip:alice@mc.example"));
    EXPECT_TRUE(t.domainAllowed(0, "<sip:alice@MC.EXAMPLE>"));
    EXPECT_FALSE(t.domainAllowed(0, "sip:alice@other.example"));
    EXPECT_TRUE(t.domainAllowed(1, "sip:alice@other.example"));
    EXPECT_FALSE(t.domainAllowed(0, "sip:alice@mc.example.evil"));
    EXPECT_FALSE(t.domainAllowed(0, "alice"));
    EXPECT_FALSE(t.domainAllowed(-1, "sip:alice@mc.example"));
    EXPECT_TRUE(t.mediaAllowed(0, ip("127.0.0.3")));
    EXPECT_FALSE(t.mediaAllowed(0, ip("127.0.0.4")));
    EXPECT_FALSE(t.mediaAllowed(1, ip("127.0.0.1")));
    EXPECT_FALSE(t.mediaAllowed(-1, ip("127.0.0.1")));
}

TEST(RefusalLog, CountsByFixedReasonsNeverBySource) {
    metrics::Registry reg;
    RefusalLog log(reg, "iwf1");
    for (int i = 0; i < 3000; ++i) {
        // 3,000 distinct sources: more than the log remembers.
        log.refused(src("127.1.0.1", static_cast<std::uint16_t>(1024 + i)), Refusal::NotAPeer, "x");
    }
    EXPECT_EQ(log.count(Refusal::NotAPeer), 3000u);
    EXPECT_EQ(
        reg.counterValue("iwf_mc_peer_refused_total", {{"link", "iwf1"}, {"reason", "not_a_peer"}}),
        3000u);
    const std::string text = reg.renderPrometheus();
    EXPECT_EQ(text.find("127.1.0.1"), std::string::npos);
}

ConfigNode load(const std::string& text) {
    return ConfigNode::loadString(text, "iwfd.yaml");
}

void expectError(const std::string& text, const std::string& field, int line,
                 const std::string& words) {
    try {
        (void)parsePeers(load(text), true);
        ADD_FAILURE() << "accepted:\n" << text;
    } catch (const ConfigError& e) {
        EXPECT_NE(e.field().find(field), std::string::npos) << e.what();
        EXPECT_EQ(e.line(), line) << e.what();
        EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
}

TEST(PeersConfig, ParsesAndRefusesWithFileLineField) {
    auto ps = parsePeers(load("peers:\n"
                              "  - {name: core, address: 192.0.2.10, port: 5060, "
                              "tls_name: mc.example, domains: [MC.example], "
                              "media: [192.0.2.0/28, 198.51.100.7]}\n"
                              "  - {address: 192.0.2.11, domains: [mc.example]}\n"),
                         true);
    ASSERT_EQ(ps.size(), 2u);
    EXPECT_EQ(ps[0].domains.at(0), "mc.example");
    EXPECT_EQ(ps[0].media.size(), 2u);
    EXPECT_EQ(ps[1].name, "peer2");
    ASSERT_EQ(ps[1].media.size(), 1u);  // default: the peer's own address
    EXPECT_EQ(ps[1].media[0].toString(), "192.0.2.11");

    expectError("name: x\n", "peers", 1, "accepts SIP only from its configured peers");
    expectError("peers: []\n", "peers", 1, "at least one");
    expectError("peers:\n  - {address: mc.example, domains: [a]}\n", "address", 2, "IP");
    expectError("peers:\n  - {address: 192.0.2.1}\n", "domains", 2, "");
    expectError("peers:\n  - {address: 192.0.2.1, domains: [\"a b\"]}\n", "domains", 2, "domain");
    expectError("peers:\n  - {address: 192.0.2.1, domains: [a], media: [0.0.0.0/0]}\n", "media", 2,
                "anywhere");
    expectError("peers:\n  - {address: 192.0.2.1, domains: [a], media: [example]}\n", "media", 2,
                "prefix");
    expectError(
        "peers:\n  - {name: a, address: 192.0.2.1, domains: [a]}\n"
        "  - {name: a, address: 192.0.2.2, domains: [a]}\n",
        "name", 3, "two peers");
    expectError("peers:\n  - {address: 192.0.2.1, domains: [a], colour: red}\n", "colour", 2, "");
    // A tls_name needs TLS on the link (a listener or the destination).
    try {
        (void)parsePeers(load("peers:\n  - {address: 192.0.2.1, tls_name: a, domains: [a]}\n"),
                         false);
        ADD_FAILURE() << "accepted tls_name on a link without TLS";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "peers[0].tls_name") << e.what();
    }
}

// What an existing config without `peers` means: refused at config check, naming the field
// and saying what to add (docs/security.md "MC links").
TEST(PeersConfig, LinksWithoutPeersAreRefusedAtConfigCheck) {
    try {
        (void)mcptt::parseMcpttLinkConfig(
            load("name: iwf1\ntype: mcptt-iwf1\npsi: sip:iwf@iwf.example\n"
                 "server_uri: sip:cf@mc.example\nlisten: [{transport: udp, port: 0}]\n"
                 "peer: {address: 127.0.0.1, port: 5070}\n"));
        ADD_FAILURE() << "mcptt-iwf1 without peers accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "peers");
        EXPECT_NE(std::string(e.what()).find("configured peers"), std::string::npos);
    }
    try {
        (void)mcdata::parseMcDataLinkConfig(
            load("name: iwf2\ntype: mcdata-iwf2\nlisten: {port: 0}\n"
                 "peer: {address: 127.0.0.1, port: 5080}\nrequest_uri: sip:m@mc.example\n"
                 "iwf_psi: sip:iwf@iwf.example\n"));
        ADD_FAILURE() << "mcdata-iwf2 without peers accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "peers");
    }
    // The destination must be a peer: its responses would be refused otherwise.
    try {
        (void)mcptt::parseMcpttLinkConfig(
            load("name: iwf1\ntype: mcptt-iwf1\npsi: sip:iwf@iwf.example\n"
                 "server_uri: sip:cf@mc.example\nlisten: [{transport: udp, port: 0}]\n"
                 "peer: {address: 127.0.0.9, port: 5070}\n"
                 "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n"));
        ADD_FAILURE() << "destination outside peers accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "peer.address");
        EXPECT_EQ(e.line(), 6);
    }
    // mcdata-iwf2 carries no media: a media realm there is a typo.
    EXPECT_THROW((void)mcdata::parseMcDataLinkConfig(
                     load("name: iwf2\ntype: mcdata-iwf2\nlisten: {port: 0}\n"
                          "peer: {address: 127.0.0.1, port: 5080}\nrequest_uri: sip:m@mc.example\n"
                          "iwf_psi: sip:iwf@iwf.example\n"
                          "peers: [{address: 127.0.0.1, domains: [a], media: [127.0.0.1]}]\n")),
                 ConfigError);
}

TEST(McpttLimitsConfig, DefaultsAndBounds) {
    const std::string head =
        "name: iwf1\ntype: mcptt-iwf1\npsi: sip:iwf@iwf.example\n"
        "server_uri: sip:cf@mc.example\nlisten: [{transport: udp, port: 0}]\n"
        "peer: {address: 127.0.0.1, port: 5070}\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n";
    auto d = mcptt::parseMcpttLinkConfig(load(head));
    EXPECT_EQ(d.limits.max_calls, 1000u);
    EXPECT_EQ(d.limits.max_calls_per_peer, 1000u);
    EXPECT_EQ(d.limits.max_setups_per_peer, 32u);
    EXPECT_TRUE(d.session_timer.enabled);
    EXPECT_EQ(d.session_timer.expires, std::chrono::seconds(1800));
    EXPECT_EQ(d.session_timer.min_se, std::chrono::seconds(90));
    auto s = mcptt::parseMcpttLinkConfig(
        load(head + "limits: {max_calls: 10}\nsession_timer: {expires: 4s, min_se: 2s}\n"));
    EXPECT_EQ(s.limits.max_calls_per_peer, 10u);  // defaults to max_calls
    EXPECT_EQ(s.session_timer.expires, std::chrono::seconds(4));
    for (const auto& [tail, field] : std::vector<std::pair<std::string, std::string>>{
             {"limits: {max_calls: 0}\n", "limits.max_calls"},
             {"limits: {max_calls: 5, max_calls_per_peer: 6}\n", "limits.max_calls_per_peer"},
             {"limits: {max_setups_per_peer: 0}\n", "limits.max_setups_per_peer"},
             {"session_timer: {expires: 1500ms}\n", "session_timer.expires"},
             {"session_timer: {expires: 60s, min_se: 90s}\n", "session_timer.expires"},
         }) {
        try {
            (void)mcptt::parseMcpttLinkConfig(load(head + tail));
            ADD_FAILURE() << "accepted " << tail;
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.field(), field) << e.what();
            EXPECT_EQ(e.line(), 8) << e.what();
        }
    }
}

}  // namespace
}  // namespace iwf::mc::peers
