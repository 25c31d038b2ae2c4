// The dmr-hbp-master link of the real iwfd under attack, next to a legitimate encrypted call:
// repeater 312000 (127.0.0.1) logs in and sends an AES-128 DMR voice call on TG 91 (PI header,
// voice superframes, tests/unit/lmr_dmr/superframe.hpp); iwfd carries it to the MC system,
// which must receive every voice burst, whatever the other "hosts" do meanwhile.
#include <random>

#include <gtest/gtest.h>

#include "lmr_adapters/dmr/dmrd.hpp"
#include "lmr_adapters/dmr/hbp.hpp"
#include "lmr_hostile_support.hpp"
#include "tests/unit/lmr_dmr/superframe.hpp"

namespace iwf::hostile {
namespace {

using lmr::dmr::HbpMessage;
using lmr::dmr::hbpSimple;
using lmr::dmr::HbpType;

constexpr std::uint32_t kRepeater = lmr::dmr::testdata::kPeer;  // 312000
const std::string kPassword = "s3cret-hbp";

std::optional<HbpMessage> receiveHbp(Sock& s, std::chrono::milliseconds t = 5s) {
    auto d = s.receive(t);
    if (!d) {
        return std::nullopt;
    }
    auto m = lmr::dmr::decodeHbp(*d);
    if (!m) {
        return std::nullopt;
    }
    return *m;
}

void send(Sock& s, std::uint16_t port, const HbpMessage& m) {
    s.sendTo(port, lmr::dmr::encodeHbp(m));
}

// The full login as MMDVMHost / DMRGateway do it (DMRNetwork.cpp): RPTL, salt, RPTK, RPTC.
bool login(Sock& s, std::uint16_t port, std::uint32_t id, const std::string& password) {
    send(s, port, hbpSimple(HbpType::Rptl, id));
    auto salt = receiveHbp(s);
    if (!salt || salt->type != HbpType::Rptack) {
        return false;
    }
    auto k = hbpSimple(HbpType::Rptk, id);
    k.key = lmr::dmr::hbpLoginKey(salt->ack, password);
    send(s, port, k);
    auto a1 = receiveHbp(s);
    if (!a1 || a1->type != HbpType::Rptack) {
        return false;
    }
    auto c = hbpSimple(HbpType::Rptc, id);
    c.config.callsign = "N0CALL";
    send(s, port, c);
    auto a2 = receiveHbp(s);
    return a2 && a2->type == HbpType::Rptack && a2->peer_id == id;
}

std::vector<Bytes> dmrCall(unsigned superframes) {
    std::vector<Bytes> out;
    for (const auto& p : lmr::dmr::testdata::encryptedCall(superframes)) {
        out.push_back(lmr::dmr::encodeDmrd(p));
    }
    return out;
}

constexpr unsigned kSuperframes = 4;
constexpr std::size_t kVoiceBursts = 6 * kSuperframes;  // bursts A..F of each superframe

struct HbpHostile : ::testing::Test {
    void SetUp() override { port = pickLoopbackPort(PortProtocol::Udp); }
    std::string links(const std::string& extra = "") const {
        return "  - name: dmr\n    type: dmr-hbp-master\n    address: 127.0.0.1\n    port: " +
               std::to_string(port) + "\n    password: " + kPassword +
               "\n    id: 9990\n    stream_timeout: 5s\n" + extra;
    }
    void start(const std::string& extra = "") {
        ASSERT_TRUE(iwfd.start(links(extra), mc.sipPort())) << iwfd.iwfd.log();
    }
    // The repeater's call reaches the MC system: every voice burst, none lost.
    void expectCallCarried() {
        ASSERT_TRUE(pump(io, [&] { return mc.frames.size() >= kVoiceBursts; })) << iwfd.iwfd.log();
        pump(
            io, [] { return false; }, 500ms);  // nothing more may come
        EXPECT_EQ(mc.frames.size(), kVoiceBursts) << iwfd.iwfd.log();
        for (const auto& f : mc.frames) {
            EXPECT_TRUE(f.crypto.encrypted);
        }
    }

    asio::io_context io;
    metrics::Registry reg;
    McSystem mc{io, reg};
    std::uint16_t port = 0;
    HostileIwfd iwfd;
    Sock repeater;
};

// Before: one RPTL for the logged-in repeater's ID from another address logged the real
// repeater out (219/300 frames lost). Now only a completed login (password) replaces a session.
TEST_F(HbpHostile, RptlFromAnotherAddressDoesNotDisplaceTheRepeater) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_TRUE(login(repeater, port, kRepeater, kPassword)) << iwfd.iwfd.log();
    Sock attacker("127.0.0.66");
    const auto call = dmrCall(kSuperframes);
    for (std::size_t k = 0; k < call.size(); ++k) {
        repeater.sendTo(port, call[k]);
        if (k == 6) {
            send(attacker, port, hbpSimple(HbpType::Rptl, kRepeater));
            auto salt = receiveHbp(attacker);
            ASSERT_TRUE(salt);  // a login may start...
            auto key = hbpSimple(HbpType::Rptk, kRepeater);
            key.key.fill(0x42);  // ...but without the password it ends here
            send(attacker, port, key);
            auto nak = receiveHbp(attacker);
            ASSERT_TRUE(nak);
            EXPECT_EQ(nak->type, HbpType::Mstnak);
        }
    }
    expectCallCarried();
    // The repeater is still logged in from its address: its ping is answered.
    send(repeater, port, hbpSimple(HbpType::Rptping, kRepeater));
    auto pong = receiveHbp(repeater);
    ASSERT_TRUE(pong);
    EXPECT_EQ(pong->type, HbpType::Mstpong);

    // NAT rebinding: the same repeater from a new address logs in completely and moves; its
    // old address is no longer served.
    Sock moved("127.0.0.2");
    ASSERT_TRUE(login(moved, port, kRepeater, kPassword)) << iwfd.iwfd.log();
    send(repeater, port, hbpSimple(HbpType::Rptping, kRepeater));
    auto nak = receiveHbp(repeater);
    ASSERT_TRUE(nak);
    EXPECT_EQ(nak->type, HbpType::Mstnak);
    EXPECT_EQ(iwfd.metric(R"(iwf_dmr_peers{link="dmr"})"), 1);
    iwfd.stop();
}

// Before: 32 RPTL/s with random IDs filled the peer table (19 of 21 legitimate logins
// refused). Now half-open logins do not count toward max_peers and expire quickly.
TEST_F(HbpHostile, RptlFloodWithRandomIdsDoesNotFillThePeerTable) {
    ASSERT_NO_FATAL_FAILURE(start("    max_peers: 4\n    login_timeout: 2s\n"));
    Sock flooder("127.0.0.70");
    std::mt19937 rng(7);
    for (int i = 0; i < 300; ++i) {
        send(flooder, port, hbpSimple(HbpType::Rptl, 1000000 + rng() % 1000000));
    }
    ASSERT_TRUE(login(repeater, port, kRepeater, kPassword)) << iwfd.iwfd.log();
    const auto call = dmrCall(kSuperframes);
    for (std::size_t k = 0; k < call.size(); ++k) {
        repeater.sendTo(port, call[k]);
    }
    int ok = 0;
    for (int i = 0; i < 3; ++i) {
        Sock other("127.0.0." + std::to_string(20 + i));
        ok += login(other, port, 400000 + i, kPassword) ? 1 : 0;
    }
    EXPECT_EQ(ok, 3) << iwfd.iwfd.log();
    expectCallCarried();
    EXPECT_EQ(iwfd.metric(R"(iwf_dmr_peers{link="dmr"})"), 4);
    EXPECT_LE(iwfd.metric(R"(iwf_dmr_pending_logins{link="dmr"})"), 8)
        << "half-open logins per source address are capped";
    iwfd.stop();
}

// Before: 5,814 password guesses/s, no delay, no lockout. Now the source address is ignored
// after 3 wrong keys, for a backoff that doubles, and every refusal is counted.
TEST_F(HbpHostile, PasswordGuessesAreSlowedAndCounted) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_TRUE(login(repeater, port, kRepeater, kPassword)) << iwfd.iwfd.log();
    Sock guesser("127.0.0.80");
    int salts = 0;
    const auto call = dmrCall(kSuperframes);
    for (int attempt = 0; attempt < 20; ++attempt) {
        repeater.sendTo(port, call[static_cast<std::size_t>(attempt)]);
        send(guesser, port, hbpSimple(HbpType::Rptl, 500000));
        auto salt = receiveHbp(guesser, 150ms);
        if (!salt || salt->type != HbpType::Rptack) {
            continue;
        }
        ++salts;
        auto key = hbpSimple(HbpType::Rptk, 500000);
        key.key = lmr::dmr::hbpLoginKey(salt->ack, "guess-" + std::to_string(attempt));
        send(guesser, port, key);
        auto nak = receiveHbp(guesser);
        ASSERT_TRUE(nak);
        EXPECT_EQ(nak->type, HbpType::Mstnak);
    }
    for (std::size_t k = 20; k < call.size(); ++k) {
        repeater.sendTo(port, call[k]);
    }
    expectCallCarried();
    // Three guesses, then the address waits 1 s, 2 s, 4 s, ... (20 attempts take ~3 s here:
    // one or two more guesses fit, never more).
    EXPECT_GE(salts, 3);
    EXPECT_LE(salts, 5);
    EXPECT_EQ(iwfd.metric(R"(iwf_dmr_logins_total{link="dmr",result="bad_password"})"), salts);
    EXPECT_EQ(iwfd.metric(R"(iwf_dmr_logins_total{link="dmr",result="backoff"})"), 20 - salts);
    // Another address (the real repeaters) is not held up by it.
    Sock other("127.0.0.81");
    EXPECT_TRUE(login(other, port, 400100, kPassword));
    iwfd.stop();
}

}  // namespace
}  // namespace iwf::hostile
