// The real iwfd with `workers: 2`, one p25-records link and one mcptt-iwf1 link (docs/engine.md
// "Worker threads"): the kernel hashes each radio (source port) to one of the link's two
// SO_REUSEPORT instances; shard 1 decodes its radios' records and hands their events to shard
// 0, which owns every call (both legs) and runs the MC side.
//
//  - LMR -> MC: kRadios radios, each on its own source port, each talks an encrypted stream
//    to its own group (TG 1000+i <-> sip:load-i@iwf.example). Every call reaches the harness MC
//    system; its frames arrive in order and byte-identical (IMBE codeword, superframe index,
//    ALGID / key ID); shard 1 handed events over (so some radios were on shard 1); while
//    the calls are up /v1/calls lists all of them, all on shard 0.
//  - MC -> LMR: an MC client talks in a further group (floor granted, its encrypted RTP); every
//    radio, those on shard 1 included, receives the P25 records: each decrypts (with the
//    MI the client used) to exactly the plaintext the client sent, in order.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/loopback_port.hpp"
#include "harness/crypto/p25_crypto.hpp"
#include "harness/sim/mc_system.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "tests/bench/load/stream_source.hpp"
#include "tests/integration/lmr_p25/p25_test_support.hpp"
#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::test {
namespace {

using namespace std::chrono_literals;
using lmr::p25::test::UdpPeer;
namespace h = iwf::harness;

constexpr unsigned kRadios = 16;       // hashed over 2 shards: both get radios but 2 in 2^16 runs
constexpr unsigned kTalkGroup = 16;    // the MC client's group (no radio talks in it)
constexpr std::uint64_t kFrames = 72;  // four superframes per radio

std::string groupUri(unsigned i) {
    return "sip:load-" + std::to_string(i) + "@iwf.example";
}

std::string keymapYaml(unsigned groups) {
    std::string o =
        "format: 1\nunknown_talker: sip:unknown@iwf.example\n"
        "systems:\n  - {id: p25-load, type: p25, wacn: 0xBEE00, system_id: 0x001}\ngroups:\n";
    for (unsigned i = 0; i < groups; ++i) {
        o += "  - {mc_group: \"" + groupUri(i) +
             "\", system: p25-load, tgid: " + std::to_string(1000 + i) +
             ", home: lmr, mode: secure, algid: 0x84, key_id: " + std::to_string(0x0100 + i) +
             ", codec: imbe}\n";
    }
    return o;
}

std::string iwfdConfig(const std::string& store, std::uint16_t sip_port, std::uint16_t mc_port,
                       unsigned groups) {
    std::string c =
        "instance: workers-mc\nworkers: 2\nlog: {level: info}\n"
        "keymap: {store: \"" +
        store +
        "\", poll_interval: 200ms}\n"
        "lmr_links:\n"
        "  - {name: p25, type: p25-records, address: 127.0.0.1, port: 0, wacn: 0xBEE00,"
        " system: 0x001, peer_timeout: 600s, call_timeout: 5s, reflect: false}\n"
        "mc_links:\n  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
        "    listen: [{transport: udp, address: 127.0.0.1, port: " +
        std::to_string(sip_port) +
        "}]\n"
        "    peer: {transport: udp, address: 127.0.0.1, port: " +
        std::to_string(mc_port) +
        "}\n"
        "    peers: [{name: mc-sim, address: 127.0.0.1, domains: [mc.example]}]\n"
        "    server_uri: sip:mcptt-cf@mc.example\n    media: {address: 127.0.0.1}\n"
        "    e2ee_groups:\n";
    for (unsigned i = 0; i < groups; ++i) {
        c += "      - \"" + groupUri(i) + "\"\n";
    }
    return c;
}

std::uint16_t linkPort(IwfdProcess& iwfd) {
    std::uint16_t port = 0;
    waitFor(
        [&] {
            const std::string log = iwfd.log();
            const std::string key = "link=p25 type=p25-records start=ok shards=2 port=";
            const auto a = log.find(key);
            if (a == std::string::npos) {
                return false;
            }
            port = static_cast<std::uint16_t>(std::stoi(log.substr(a + key.size())));
            return true;
        },
        10s);
    return port;
}

bool linkRadio(UdpPeer& radio, std::uint16_t port, const std::string& callsign) {
    InlineBytes<lmr::p25::kMaxRecordLen> poll;
    if (!lmr::p25::encodeRecord(lmr::p25::makePoll(callsign), poll).ok()) {
        return false;
    }
    radio.sendTo(port, poll.view());
    auto answer = radio.receive(5s);
    return answer && !answer->empty() && (*answer)[0] == 0xF0;
}

nlohmann::json callsJson(IwfdProcess& iwfd) {
    return nlohmann::json::parse(httpGet(iwfd.adminPort(), "/v1/calls").body);
}

// The set-up (keymap, MC system, iwfd with workers: 2, radios linked) and the three parts of
// the test as named steps, each asserting on its own.
class IwfdWorkersMc : public ::testing::Test {
  protected:
    static constexpr unsigned kGroups = kTalkGroup + 1;

    void SetUp() override {
        // The keymap store, seeded with the real iwfctl.
        const std::string store = "sqlite:" + dir_.file("keymap.db");
        const std::string km = dir_.write("keymap.yaml", keymapYaml(kGroups));
        auto imp = runCommand({IWFCTL_BIN, "keymap", "--store", store, "import", km});
        ASSERT_EQ(imp.exit_code, 0) << imp.err;
        startMcSystem();
        const std::uint16_t sip_port = pickLoopbackPort(PortProtocol::Udp);
        mc_->setIwfSipPort(sip_port);
        ASSERT_TRUE(iwfd_.start(dir_, iwfdConfig(store, sip_port, mc_->sipPort(), kGroups)))
            << iwfd_.log();
        port_ = linkPort(iwfd_);
        ASSERT_NE(port_, 0) << iwfd_.log();
        ASSERT_TRUE(waitFor(
            [&] {
                auto m = httpGet(iwfd_.adminPort(), "/metrics");
                return prometheusValue(m.body, "iwf_keymap_revision").value_or(0) == 1;
            },
            10s))
            << iwfd_.log();
        for (unsigned i = 0; i < kRadios; ++i) {
            radios_.push_back(std::make_unique<UdpPeer>());
            ASSERT_TRUE(linkRadio(*radios_.back(), port_, "R" + std::to_string(i))) << iwfd_.log();
        }
    }

    // The MC system: one client attached to every group, holding every key.
    void startMcSystem() {
        h::ScenarioClient client;
        client.name = "mc-client";
        client.mc_id = "sip:mc-client@mc.example";
        for (unsigned i = 0; i < kGroups; ++i) {
            h::ScenarioKey k;
            k.name = "k" + std::to_string(i);
            k.key_id = 0x0100 + i;
            for (std::size_t b = 0; b < k.key.size(); ++b) {
                k.key[b] = static_cast<std::uint8_t>(i * 7 + b);
            }
            mcc_.keys.push_back(k);
            client.keys.push_back(k.name);
            h::ScenarioGroup g;
            g.mc_group = groupUri(i);
            g.lmr_group = 1000 + i;
            g.key = k.name;
            mcc_.groups.push_back(g);
            client.groups.push_back(g.mc_group);
        }
        mcc_.clients.push_back(client);
        mc_ = std::make_unique<h::McSystem>(mcc_);
        ASSERT_TRUE(mc_->start().ok());
    }

    // LMR -> MC: every radio talks, interleaved, paced at 10 ms per round; mid-call the calls
    // view is whole and every call is owned by shard 0.
    void radiosTalk() {
        std::vector<bench::StreamSource> sources;
        for (unsigned i = 0; i < kRadios; ++i) {
            sources.emplace_back(bench::StreamKind::P25, i);
        }
        sent_.assign(kRadios, {});
        auto due = std::chrono::steady_clock::now();
        for (std::uint64_t seq = 0; seq < kFrames; ++seq) {
            std::this_thread::sleep_until(due);  // pacing the input, not waiting for an event
            due += 10ms;
            for (unsigned i = 0; i < kRadios; ++i) {
                Bytes b;
                sources[i].build(seq, b);
                auto rec = lmr::p25::decodeRecord(b);
                ASSERT_TRUE(rec.ok());
                sent_[i].push_back(std::get<lmr::p25::VoiceRecord>(*rec));
                radios_[i]->sendTo(port_, b);
            }
            if (seq == 54) {
                ASSERT_NO_FATAL_FAILURE(checkCallsViewMidCall());
            }
        }
        InlineBytes<lmr::p25::kMaxRecordLen> end;
        ASSERT_TRUE(lmr::p25::encodeRecord(lmr::p25::EndRecord{}, end).ok());
        for (auto& r : radios_) {
            r->sendTo(port_, end.view());
        }
        ASSERT_TRUE(waitFor([&] { return mc_->callsReceived() >= kRadios; }, 10s))
            << mc_->callsReceived() << " calls\n"
            << iwfd_.log();
    }

    void checkCallsViewMidCall() {
        ASSERT_TRUE(waitFor([&] { return callsJson(iwfd_)["calls"].size() >= kRadios; }, 5s))
            << callsJson(iwfd_).dump(1) << iwfd_.log();
        const auto j = callsJson(iwfd_);
        ASSERT_EQ(j["shards"].size(), 2u) << j.dump(1);
        EXPECT_EQ(j["shards"][0]["calls"].get<std::size_t>(), j["calls"].size()) << j.dump(1);
        EXPECT_EQ(j["shards"][1]["calls"].get<std::size_t>(), 0u) << j.dump(1);
        EXPECT_GT(j["shards"][1]["handed_off"].get<std::uint64_t>(), 0u)
            << "no radio hashed to shard 1\n"
            << j.dump(1);
        EXPECT_EQ(j["shards"][1]["handoff_dropped"].get<std::uint64_t>(), 0u) << j.dump(1);
    }

    // Every radio's frames at the MC side, per radio (by the group of the call's INVITE), once
    // each has at least `min_frames` and its last frame is the last sent.
    bool mcSideHasEveryStream(std::vector<std::vector<VoiceFrame>>& got, std::size_t min_frames) {
        std::map<std::uint64_t, unsigned> stream_of;
        for (const auto& e : mc_->events()) {
            const auto a = e.detail.find("sip:load-");
            if (e.what == "invite_from_iwfd" && a != std::string::npos) {
                stream_of[e.call] = static_cast<unsigned>(std::stoul(e.detail.substr(a + 9)));
            }
        }
        got.assign(kRadios, {});
        for (const auto& r : mc_->records()) {
            auto it = stream_of.find(r.call);
            if (it != stream_of.end() && it->second < kRadios) {
                got[it->second].push_back(r.frame);
            }
        }
        for (unsigned i = 0; i < kRadios; ++i) {
            const auto& last = sent_[i].back().imbe;
            if (got[i].size() < min_frames ||
                !std::equal(last.begin(), last.end(), got[i].back().payload.data())) {
                return false;
            }
        }
        return true;
    }

    // One call per group, frames in order, bit-exact, with the stream's crypto header.
    void checkMcSide() {
        std::vector<std::vector<VoiceFrame>> got;
        const std::size_t min_frames = kFrames - 18;  // the MC call is set up once the MI is known
        ASSERT_TRUE(waitFor([&] { return mcSideHasEveryStream(got, min_frames); }, 10s))
            << iwfd_.log();
        for (unsigned i = 0; i < kRadios; ++i) {
            const auto& g = got[i];
            // The last frame received is the last sent; walking back, each frame is the one
            // sent just before it: no gap, no reordering, no duplicate.
            ASSERT_GE(g.size(), min_frames) << "radio " << i;
            ASSERT_LE(g.size(), kFrames) << "radio " << i;
            const std::size_t first = kFrames - g.size();
            for (std::size_t k = 0; k < g.size(); ++k) {
                const auto& rec = sent_[i][first + k];
                const VoiceFrame& f = g[k];
                ASSERT_EQ(f.pos.index, rec.index()) << "radio " << i << " frame " << first + k;
                ASSERT_EQ(f.payload.view().size(), rec.imbe.size());
                ASSERT_TRUE(std::equal(rec.imbe.begin(), rec.imbe.end(), f.payload.data()))
                    << "radio " << i << " frame " << first + k << " differs";
                if (first + k >= 18) {
                    // From the second superframe on (the first ES, record 17, names the key):
                    // the stream's crypto header, as sent.
                    EXPECT_TRUE(f.crypto.encrypted) << "radio " << i << " frame " << first + k;
                    EXPECT_EQ(f.crypto.algid, 0x84) << "radio " << i << " frame " << first + k;
                    EXPECT_EQ(f.crypto.key_id, 0x0100 + i)
                        << "radio " << i << " frame " << first + k;
                }
            }
        }
    }

    // MC -> LMR: the MC client talks in a group no radio uses; shard 0's instance of the link
    // sends the records to every radio, those linked on shard 1 too, and each decrypts (with
    // the MI the client used) to exactly the plaintext the client sent, in order.
    void mcClientTalksToEveryRadio() {
        for (auto& r : radios_) {
            while (r->receive(0ms)) {
            }
        }
        h::McTalkRequest talk;
        talk.client = "mc-client";
        talk.group = groupUri(kTalkGroup);
        talk.key = &mcc_.keys[kTalkGroup];
        talk.superframes = 2;
        const h::McTalkResult res = mc_->talk(talk);
        ASSERT_EQ(res.outcome, "granted") << res.reason << "\n" << iwfd_.log();
        ASSERT_EQ(res.plaintext.size(), res.sent);
        ASSERT_GE(res.sent, 36u);
        for (unsigned i = 0; i < kRadios; ++i) {
            ASSERT_NO_FATAL_FAILURE(radioDecryptsTalk(i, res));
        }
    }

    void radioDecryptsTalk(unsigned i, const h::McTalkResult& res) {
        auto expect = res.plaintext.begin();
        std::size_t voice = 0;
        while (voice < res.sent) {
            auto d = radios_[i]->receive(5s);
            ASSERT_TRUE(d) << "radio " << i << ": " << voice << " of " << res.sent
                           << " MC frames arrived";
            auto rec = lmr::p25::decodeRecord(*d);
            ASSERT_TRUE(rec.ok());
            const auto* v = std::get_if<lmr::p25::VoiceRecord>(&*rec);
            if (v == nullptr) {
                continue;  // end record or poll answer
            }
            const auto [sf, idx] = expect->first;
            ASSERT_EQ(v->index(), idx) << "radio " << i << " frame " << voice;
            const CryptoSync& cs = res.crypto.at({sf, idx});
            lmr::p25::Mi mi{};
            ASSERT_GE(cs.mi.size(), mi.size());
            std::copy(cs.mi.data(), cs.mi.data() + mi.size(), mi.begin());
            h::P25VoiceCipher cipher(mcc_.keys[kTalkGroup].key, mi);
            Bytes imbe(v->imbe.begin(), v->imbe.end());
            ASSERT_TRUE(
                cipher.applyImbeWithMi(mi, idx, MutableByteView(imbe.data(), imbe.size())).ok());
            ASSERT_EQ(imbe, expect->second) << "radio " << i << " frame " << voice;
            ++expect;
            ++voice;
        }
    }

    TempDir dir_;
    h::McSystemConfig mcc_;
    std::unique_ptr<h::McSystem> mc_;
    IwfdProcess iwfd_;
    std::uint16_t port_ = 0;
    std::vector<std::unique_ptr<UdpPeer>> radios_;
    std::vector<std::vector<lmr::p25::VoiceRecord>> sent_;
};

TEST_F(IwfdWorkersMc, CallsOfRadiosOnBothShardsReachTheMcSideAndBack) {
    ASSERT_NO_FATAL_FAILURE(radiosTalk());
    ASSERT_NO_FATAL_FAILURE(checkMcSide());
    ASSERT_NO_FATAL_FAILURE(mcClientTalksToEveryRadio());
    auto j = callsJson(iwfd_);
    EXPECT_EQ(j["shards"][1]["handoff_dropped"].get<std::uint64_t>(), 0u) << j.dump(1);
    iwfd_.signal(SIGTERM);
    EXPECT_EQ(iwfd_.waitExit(5s), 0) << iwfd_.log();
    mc_->stop();
}

}  // namespace
}  // namespace iwf::test
