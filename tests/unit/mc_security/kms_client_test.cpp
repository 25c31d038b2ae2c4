// The KMS client (security/kms_client.hpp) against the harness's KMS simulator over real TLS
// on 127.0.0.1 with a self-signed certificate the test generates: the IWF's identity is
// fetched (KmsInit, KmsKeyProv), validated and usable — an I_MESSAGE that a user of the same
// KMS signs and encrypts to the IWF opens with the fetched keys — refreshed at the key
// period boundary, and a tampered key set or an untrusted server is refused.
#include "mc_adapters/security/kms_client.hpp"

#include <filesystem>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "harness/sim/kms_sim.hpp"
#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/key_derivation.hpp"
#include "mc_adapters/security/sakke.hpp"

namespace iwf::mc::security {
namespace {

Bytes kmsClientHex(std::string_view s) {
    return fromHex(s).value();
}

std::uint64_t kmsClientNowNtp() {
    return static_cast<std::uint64_t>(std::time(nullptr)) + kNtpUnixOffset;
}

struct KmsClientFixture : ::testing::Test {
    std::string dir;
    harness::KmsSimConfig sim_cfg;
    std::unique_ptr<harness::KmsSimulator> sim;

    void SetUp() override {
        char tmpl[] = "/tmp/iwf-kms-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir = tmpl;
        ASSERT_TRUE(
            harness::writeSelfSignedCert(dir + "/kms.pem", dir + "/kms.key", "127.0.0.1").ok());
        struct stat st {};
        ASSERT_EQ(::stat((dir + "/kms.key").c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 077, 0u);  // the TLS key is owner-only
        sim_cfg.kms_uri = "kms.iwf.test";
        sim_cfg.ksak =
            kmsClientHex("7a1d4c9b33e8f1024c6e9d8b1a2f3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d");
        sim_cfg.z = kmsClientHex("0123456789abcdef0123456789abcdef01234567");
        sim_cfg.cert_file = dir + "/kms.pem";
        sim_cfg.key_file = dir + "/kms.key";
    }
    void TearDown() override {
        if (sim) {
            sim->stop();
        }
        std::filesystem::remove_all(dir);
    }
    void startSim() {
        sim = std::make_unique<harness::KmsSimulator>(sim_cfg);
        ASSERT_TRUE(sim->start().ok());
    }
    KmsClientConfig clientConfig() const {
        KmsClientConfig c;
        c.url = sim->url();
        c.kms_uri = sim_cfg.kms_uri;
        c.user_uri = "sip:iwf@iwf.example";
        c.ca_file = dir + "/kms.pem";
        c.timeout = std::chrono::seconds(20);
        c.retry = std::chrono::milliseconds(200);
        return c;
    }
};

TEST_F(KmsClientFixture, FetchesValidatesAndTheKeysOpenAnIMessage) {
    startSim();
    auto id = fetchKmsIdentity(clientConfig(), kmsClientNowNtp());
    ASSERT_TRUE(id) << id.error().toString();
    EXPECT_EQ(id->kms.kms_uri, "kms.iwf.test");
    EXPECT_EQ(id->kms.kpak, sim->certificate().kpak);
    EXPECT_EQ(id->keys.uid, uidFor("sip:iwf@iwf.example", id->kms, kmsClientNowNtp()));
    EXPECT_EQ(sim->requests(), 2u);
    // A user of the same KMS (issued here from the master secrets, RFC 6507 §5.1.1 / RFC 6508
    // §6.1.1) sends the IWF a PCK: the fetched RSK and certificate open it.
    MikeyIdentity alice;
    alice.user_uri = "sip:alice@mc.example";
    alice.kms = id->kms;
    alice.keys.user_uri = alice.user_uri;
    alice.keys.uid = uidFor(alice.user_uri, id->kms, kmsClientNowNtp());
    alice.keys.key_period_no = id->keys.key_period_no;
    alice.keys.rsk = sakkeIssueRsk(sim_cfg.z, alice.keys.uid).value();
    alice.keys.signing =
        eccsiIssueSigningKey(sim_cfg.ksak, alice.keys.uid, Bytes(32, 0x33)).value();
    KeyToSend k;
    k.purpose = KeyPurpose::Pck;
    k.key = kmsClientHex("b4c96b703acd5c1bf7d4cc45068d9965");
    k.key_id = 0x1234abcd;
    k.timestamp_ntp = kmsClientNowNtp() << 32;
    auto msg = buildIMessage(alice, id->user_uri, id->kms, k);
    ASSERT_TRUE(msg);
    auto got = receiveIMessage(*msg, *id, {{id->kms.kms_uri, id->kms}}, kmsClientNowNtp());
    ASSERT_TRUE(got) << got.error().toString();
    EXPECT_EQ(got->key, k.key);
}

TEST_F(KmsClientFixture, ATamperedKeySetOrAnUntrustedServerIsRefused) {
    startSim();
    sim->setTamper(true);
    auto bad = fetchKmsIdentity(clientConfig(), kmsClientNowNtp());
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().reason, "kms_ssk_invalid");
    // Another self-signed certificate as the trust anchor: the handshake fails.
    ASSERT_TRUE(
        harness::writeSelfSignedCert(dir + "/other.pem", dir + "/other.key", "127.0.0.1").ok());
    KmsClientConfig c = clientConfig();
    c.ca_file = dir + "/other.pem";
    sim->setTamper(false);
    auto untrusted = fetchKmsIdentity(c, kmsClientNowNtp());
    ASSERT_FALSE(untrusted);
    EXPECT_EQ(untrusted.error().reason, "kms_certificate");
    // The right anchor but the wrong name (the certificate names 127.0.0.1 only).
    c = clientConfig();
    c.url = "https://localhost:" + std::to_string(sim->port());
    auto wrong_name = fetchKmsIdentity(c, kmsClientNowNtp());
    ASSERT_FALSE(wrong_name);
    EXPECT_EQ(wrong_name.error().reason, "kms_certificate");
    c.url = "http://127.0.0.1:" + std::to_string(sim->port());
    EXPECT_EQ(fetchKmsIdentity(c, kmsClientNowNtp()).error().reason, "kms_bad_url");
}

TEST_F(KmsClientFixture, RefreshesAtEveryKeyPeriodAndKeepsTheLastGoodSet) {
    sim_cfg.key_period = 2;  // seconds: a new key set every 2 s
    startSim();
    std::mutex mu;
    std::vector<MikeyIdentity> got;
    KmsClient client(clientConfig(), [&](MikeyIdentity id) {
        std::lock_guard lk(mu);
        got.push_back(std::move(id));
    });
    client.start();
    auto waitFor = [&](auto pred) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (std::chrono::steady_clock::now() < deadline) {
            {
                std::lock_guard lk(mu);
                if (pred()) {
                    return true;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    };
    ASSERT_TRUE(waitFor([&] { return got.size() >= 2; }));
    {
        std::lock_guard lk(mu);
        EXPECT_GT(got[1].keys.key_period_no, got[0].keys.key_period_no);
        EXPECT_NE(got[1].keys.uid, got[0].keys.uid);  // F.2.1: the UID changes per period
        EXPECT_NE(got[1].keys.rsk, got[0].keys.rsk);
    }
    // From now on the KMS serves tampered sets: refused, retried, nothing handed over.
    sim->setTamper(true);
    std::size_t before = 0;
    {
        std::lock_guard lk(mu);
        before = got.size();
    }
    // (A fetch that straddles a period boundary is refused as kms_key_period_mismatch and
    // retried; wait for the tampered set's own refusal.)
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (client.lastError() != "kms_ssk_invalid" && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    client.stop();
    EXPECT_GE(client.refused(), 1u);
    EXPECT_EQ(client.lastError(), "kms_ssk_invalid");
    std::lock_guard lk(mu);
    EXPECT_LE(got.size(), before + 1);  // at most a fetch already under way before tampering
}

}  // namespace
}  // namespace iwf::mc::security
