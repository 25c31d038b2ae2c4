// TLS peer identity (sip/tls.cpp, TlsIdentity): what a verified certificate names, how a
// configured peer name is compared with it (RFC 5922 §7.1-7.2), and the handshakes that use
// it. Certificates are made by the openssl CLI at test time (a CA and leaves it signs), so the
// names in them come from outside the code under test.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/metrics.hpp"
#include "sip/stack.hpp"
#include "tests/support/io_wait.hpp"

namespace iwf::sip {
namespace {

using namespace std::chrono_literals;

// --- TlsIdentity::matches, rule by rule ---

TEST(TlsIdentityMatch, DnsNamesCompareWholeAndCaseInsensitive) {
    TlsIdentity id;
    id.dns_names = {"MC.Example"};
    id.common_name = "other.example";
    EXPECT_TRUE(id.matches("mc.example"));
    EXPECT_TRUE(id.matches("mc.example."));  // absolute form
    EXPECT_TRUE(id.matches("sip:mc.example"));
    EXPECT_TRUE(id.matches("sips:user@mc.example:5061;transport=tls"));
    EXPECT_FALSE(id.matches("x.mc.example"));
    EXPECT_FALSE(id.matches("example"));
    // The CN is ignored once the certificate names a domain in its subjectAltName (§7.1).
    EXPECT_FALSE(id.matches("other.example"));
    EXPECT_FALSE(id.matches(""));
}

TEST(TlsIdentityMatch, NoWildcards) {
    TlsIdentity id;
    id.dns_names = {"*.example"};
    EXPECT_FALSE(id.matches("mc.example"));  // RFC 5922 §7.2: no wildcard matching
    id.dns_names = {"mc.example"};
    EXPECT_FALSE(id.matches("*.example"));
}

TEST(TlsIdentityMatch, SipUriSansNameTheirDomainWithoutAUserPart) {
    TlsIdentity id;
    id.uris = {"sip:MC.example", "sip:alice@evil.example", "https://web.example/"};
    EXPECT_TRUE(id.matches("mc.example"));
    EXPECT_TRUE(id.matches("sip:mc.example"));
    // A URI with a user part is a user's identity, not a domain's (§7.1); other schemes
    // name nothing here.
    EXPECT_FALSE(id.matches("evil.example"));
    EXPECT_FALSE(id.matches("web.example"));
}

TEST(TlsIdentityMatch, CommonNameOnlyWithoutDomainSans) {
    TlsIdentity id;
    id.common_name = "mc.example";
    EXPECT_TRUE(id.matches("mc.example"));
    id.ip_addresses = {"192.0.2.20"};  // an IP SAN names no domain: the CN still counts
    EXPECT_TRUE(id.matches("mc.example"));
    id.uris = {"sip:other.example"};
    EXPECT_FALSE(id.matches("mc.example"));
}

TEST(TlsIdentityMatch, IpAddressesMatchIpSansOnly) {
    TlsIdentity id;
    id.ip_addresses = {"192.0.2.20", "2001:db8::1"};
    id.dns_names = {"192.0.2.21"};  // a dNSName that looks like an address names no address
    id.common_name = "192.0.2.22";
    EXPECT_TRUE(id.matches("192.0.2.20"));
    EXPECT_TRUE(id.matches("2001:db8:0::1"));
    EXPECT_FALSE(id.matches("192.0.2.21"));
    EXPECT_FALSE(id.matches("192.0.2.22"));
    EXPECT_FALSE(id.matches("192.0.2.2"));
}

// --- handshakes between two stacks ---

// A CA and leaves it signs, in a temp folder of this process (made once, shared by the tests).
class Pki {
  public:
    Pki() {
        dir_ =
            (std::filesystem::temp_directory_path() / ("iwf-tls-id-" + std::to_string(::getpid())))
                .string();
        std::filesystem::create_directories(dir_);
        ca_ = dir_ + "/ca.crt";
        ca_key_ = dir_ + "/ca.key";
        run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
            "-subj /CN=test-ca -keyout " +
            ca_key_ + " -out " + ca_);
    }
    ~Pki() { std::filesystem::remove_all(dir_); }
    const std::string& ca() const { return ca_; }
    struct Leaf {
        std::string cert, key;
    };
    // A leaf with subject CN `cn` and subjectAltName `san` ("" = none), signed by the CA.
    Leaf issue(const std::string& name, const std::string& cn, const std::string& san) {
        Leaf l{dir_ + "/" + name + ".crt", dir_ + "/" + name + ".key"};
        if (std::filesystem::exists(l.cert)) {
            return l;
        }
        const std::string ext = dir_ + "/" + name + ".ext";
        std::ofstream(ext) << (san.empty() ? "" : "subjectAltName=" + san + "\n");
        run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + cn +
            " -keyout " + l.key + " -out " + dir_ + "/" + name + ".csr");
        run("openssl x509 -req -in " + dir_ + "/" + name + ".csr -CA " + ca_ + " -CAkey " +
            ca_key_ + " -CAcreateserial -days 1 -extfile " + ext + " -out " + l.cert);
        return l;
    }

  private:
    static void run(const std::string& cmd) {
        ASSERT_EQ(std::system((cmd + " >/dev/null 2>&1").c_str()), 0) << cmd;
    }
    std::string dir_, ca_, ca_key_;
};

Pki& sharedPki() {
    static Pki pki;
    return pki;
}

StackConfig tlsConfig(const std::string& name, const Pki::Leaf& leaf, const std::string& ca,
                      bool mutual = false, const std::string& peer_name = {}) {
    StackConfig cfg;
    cfg.name = name;
    ListenerConfig l;
    l.protocol = Protocol::Tls;
    l.tls.cert_file = leaf.cert;
    l.tls.key_file = leaf.key;
    l.tls.ca_file = ca;
    l.tls.require_client_cert = mutual;
    l.tls.peer_name = peer_name;
    cfg.listeners.push_back(l);
    cfg.timers.t1 = 20ms;
    return cfg;
}

Message options(Stack& from, const Stack& to) {
    Message m = Message::request("OPTIONS", to.contactUri("uas", Protocol::Tls));
    m.addHeader("From", "<sip:uac@test>;tag=" + from.newTag());
    m.addHeader("To", "<sip:uas@test>");
    m.addHeader("Call-ID", from.newCallId());
    m.addHeader("CSeq", "1 OPTIONS");
    return m;
}

struct Outcome {
    int status = 0;  // final status the client saw (503: the connection was refused)
    int requests = 0;
    std::shared_ptr<const TlsIdentity> client_identity;  // what the server saw
    std::uint64_t client_mismatches = 0;
    std::uint64_t server_mismatches = 0;
};

Outcome exchange(const StackConfig& server_cfg, const StackConfig& client_cfg) {
    asio::io_context io;
    metrics::Registry reg;
    Stack uas(io, reg, server_cfg);
    Stack uac(io, reg, client_cfg);
    Outcome out;
    uas.onRequest([&](ServerTxId tx, const Message& req, const Peer& from) {
        ++out.requests;
        out.client_identity = from.tls;
        (void)uas.respond(tx, makeResponse(req, 200, {}));
    });
    EXPECT_TRUE(uas.start().ok());
    EXPECT_TRUE(uac.start().ok());
    uac.sendRequest(options(uac, uas),
                    {Protocol::Tls, asio::ip::make_address("127.0.0.1"), uas.port(Protocol::Tls)},
                    [&](const Message& rsp) { out.status = rsp.status(); });
    EXPECT_TRUE(iwf::test::runIoUntil(io, [&] { return out.status >= 200; }));
    auto mismatches = [&](const std::string& stack) {
        return reg.counterValue(
            "iwf_sip_transport_errors_total",
            {{"stack", stack}, {"transport", "tls"}, {"reason", "peer_name_mismatch"}});
    };
    out.client_mismatches = mismatches(client_cfg.name);
    out.server_mismatches = mismatches(server_cfg.name);
    return out;
}

TEST(TlsHandshake, ClientRefusesAServerCertificateWithAnotherName) {
    Pki& pki = sharedPki();
    auto server = pki.issue("evil-ip", "evil.test", "DNS:evil.test,IP:127.0.0.1");
    auto client = pki.issue("iwf", "iwf.test", "DNS:iwf.test");
    auto o = exchange(tlsConfig("uas", server, pki.ca()),
                      tlsConfig("uac", client, pki.ca(), false, "mc.test"));
    EXPECT_EQ(o.status, 503);
    EXPECT_EQ(o.requests, 0);  // nothing of ours went to the impostor
    EXPECT_EQ(o.client_mismatches, 1u);
}

TEST(TlsHandshake, ClientAcceptsTheConfiguredName) {
    Pki& pki = sharedPki();
    auto server = pki.issue("mc-san-only", "whatever", "DNS:mc.test");
    auto client = pki.issue("iwf", "iwf.test", "DNS:iwf.test");
    auto o = exchange(tlsConfig("uas", server, pki.ca()),
                      tlsConfig("uac", client, pki.ca(), false, "sip:mc.test"));
    EXPECT_EQ(o.status, 200);
    EXPECT_EQ(o.client_identity, nullptr);  // no client certificate asked for
}

TEST(TlsHandshake, WithoutAPeerNameTheServerMustCarryTheAddressConnectedTo) {
    Pki& pki = sharedPki();
    auto named = pki.issue("mc-named", "mc.test", "DNS:mc.test");
    auto addressed = pki.issue("mc-ip", "mc.test", "DNS:mc.test,IP:127.0.0.1");
    auto client = pki.issue("iwf", "iwf.test", "DNS:iwf.test");
    auto o = exchange(tlsConfig("uas", named, pki.ca()), tlsConfig("uac", client, pki.ca()));
    EXPECT_EQ(o.status, 503);
    EXPECT_EQ(o.client_mismatches, 1u);
    o = exchange(tlsConfig("uas", addressed, pki.ca()), tlsConfig("uac", client, pki.ca()));
    EXPECT_EQ(o.status, 200);
}

TEST(TlsHandshake, ServerRefusesAClientCertificateFromTheCaWithAnotherName) {
    Pki& pki = sharedPki();
    auto server = pki.issue("iwf-ip", "iwf.test", "DNS:iwf.test,IP:127.0.0.1");
    auto wrong = pki.issue("wrong", "evil.test", "DNS:evil.test");
    auto right = pki.issue("right", "x", "DNS:mc.test");
    auto o = exchange(tlsConfig("uas", server, pki.ca(), true, "mc.test"),
                      tlsConfig("uac", wrong, pki.ca()));
    EXPECT_NE(o.status, 200);
    EXPECT_EQ(o.requests, 0);
    EXPECT_EQ(o.server_mismatches, 1u);
    o = exchange(tlsConfig("uas", server, pki.ca(), true, "mc.test"),
                 tlsConfig("uac", right, pki.ca()));
    EXPECT_EQ(o.status, 200);
    ASSERT_NE(o.client_identity, nullptr);
    EXPECT_TRUE(o.client_identity->matches("mc.test"));
    EXPECT_EQ(o.client_identity->sha256.size(), 64u);
}

// Without a peer_name, mutual TLS accepts any certificate the CA signed and tells the
// application which one it was (Peer::tls), so the link can bind it to its configured peer.
TEST(TlsHandshake, MutualTlsExposesTheVerifiedClientIdentity) {
    Pki& pki = sharedPki();
    auto server = pki.issue("iwf-ip", "iwf.test", "DNS:iwf.test,IP:127.0.0.1");
    auto client = pki.issue("mc-full", "mc-cn", "DNS:mc.test,URI:sip:mc.test,IP:192.0.2.20");
    auto o = exchange(tlsConfig("uas", server, pki.ca(), true), tlsConfig("uac", client, pki.ca()));
    EXPECT_EQ(o.status, 200);
    ASSERT_NE(o.client_identity, nullptr);
    EXPECT_EQ(o.client_identity->dns_names, std::vector<std::string>{"mc.test"});
    EXPECT_EQ(o.client_identity->uris, std::vector<std::string>{"sip:mc.test"});
    EXPECT_EQ(o.client_identity->ip_addresses, std::vector<std::string>{"192.0.2.20"});
    EXPECT_EQ(o.client_identity->common_name, "mc-cn");
    EXPECT_EQ(o.client_identity->subject, "CN=mc-cn");
    EXPECT_FALSE(o.client_identity->matches("evil.test"));
}

TEST(TlsHandshake, AListenerWithoutACaIsRefused) {
    Pki& pki = sharedPki();
    auto leaf = pki.issue("iwf", "iwf.test", "DNS:iwf.test");
    asio::io_context io;
    metrics::Registry reg;
    Stack s(io, reg, tlsConfig("s", leaf, ""));
    auto st = s.start();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().reason, "tls_ca_missing");
}

// ca: system trusts the system store (Debian's ca-certificates), which does not hold this
// test's private CA: the server is refused, where "no CA" used to verify nothing.
TEST(TlsHandshake, TheSystemStoreDoesNotTrustAPrivateCa) {
    Pki& pki = sharedPki();
    auto server = pki.issue("mc-ip", "mc.test", "DNS:mc.test,IP:127.0.0.1");
    auto client = pki.issue("iwf", "iwf.test", "DNS:iwf.test");
    auto o = exchange(tlsConfig("uas", server, pki.ca()),
                      tlsConfig("uac", client, std::string(kSystemTrustStore)));
    EXPECT_EQ(o.status, 503);
    EXPECT_EQ(o.requests, 0);
}

}  // namespace
}  // namespace iwf::sip
