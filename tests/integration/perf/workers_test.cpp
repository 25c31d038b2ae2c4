// iwfd with `workers: 2`: p25-records links run one SO_REUSEPORT instance per worker thread;
// the kernel hashes each peer to one of them. Every stream's sender and receiver link to the
// same iwfd link and may land on different shards: the receiver must still get every record
// the sender sent, in order, bit-exact (the shards tell each other which peers they linked).
// Both engine shards must have carried events (each shard's count is in /v1/calls "shards").
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lmr_adapters/p25/records.hpp"
#include "tests/bench/load/stream_source.hpp"
#include "tests/integration/lmr_p25/p25_test_support.hpp"
#include "tests/integration/support/iwfd_process.hpp"

namespace iwf::test {
namespace {

using namespace std::chrono_literals;
using lmr::p25::test::UdpPeer;

constexpr int kLinks = 16;             // one stream per link: 32 peers hashed over 2 shards
constexpr std::uint64_t kFrames = 54;  // three superframes

std::string config(int links) {
    std::string c = "instance: workers-test\nworkers: 2\nlog: {level: info}\nlmr_links:\n";
    for (int i = 0; i < links; ++i) {
        c += "  - {name: p25-" + std::to_string(i) +
             ", type: p25-records, address: 127.0.0.1, port: 0, tgid: " + std::to_string(100 + i) +
             ", peer_timeout: 600s, call_timeout: 5s}\n";
    }
    return c;
}

// The port each link's shards share, from iwfd's log line "link=NAME ... shards=2 port=N".
std::vector<std::uint16_t> linkPorts(IwfdProcess& iwfd, int links) {
    std::vector<std::uint16_t> ports(static_cast<std::size_t>(links), 0);
    const std::regex re(R"(link=p25-(\d+) type=p25-records start=ok shards=2 port=(\d+))");
    waitFor(
        [&] {
            const std::string log = iwfd.log();
            int found = 0;
            for (std::sregex_iterator it(log.begin(), log.end(), re), end; it != end; ++it) {
                ports[static_cast<std::size_t>(std::stoi((*it)[1]))] =
                    static_cast<std::uint16_t>(std::stoi((*it)[2]));
                ++found;
            }
            return found == links;
        },
        5s);
    return ports;
}

bool link(UdpPeer& peer, std::uint16_t port, const std::string& callsign) {
    InlineBytes<lmr::p25::kMaxRecordLen> poll;
    if (!lmr::p25::encodeRecord(lmr::p25::makePoll(callsign), poll).ok()) {
        return false;
    }
    peer.sendTo(port, poll.view());
    auto answer = peer.receive(5s);  // iwfd answers each poll
    return answer && !answer->empty() && (*answer)[0] == 0xF0;
}

TEST(IwfdWorkers, TwoShardsCarryEveryStreamExactly) {
    TempDir dir;
    IwfdProcess iwfd;
    ASSERT_TRUE(iwfd.start(dir, config(kLinks))) << iwfd.log();
    const auto ports = linkPorts(iwfd, kLinks);
    for (int i = 0; i < kLinks; ++i) {
        ASSERT_NE(ports[static_cast<std::size_t>(i)], 0) << "link p25-" << i << "\n" << iwfd.log();
    }
    auto status = nlohmann::json::parse(httpGet(iwfd.adminPort(), "/v1/status").body);
    EXPECT_EQ(status["workers"], 2);

    std::vector<std::unique_ptr<UdpPeer>> senders, receivers;
    for (int i = 0; i < kLinks; ++i) {
        senders.push_back(std::make_unique<UdpPeer>());
        receivers.push_back(std::make_unique<UdpPeer>());
        const auto port = ports[static_cast<std::size_t>(i)];
        ASSERT_TRUE(link(*receivers.back(), port, "RX" + std::to_string(i))) << iwfd.log();
        ASSERT_TRUE(link(*senders.back(), port, "TX" + std::to_string(i))) << iwfd.log();
    }
    // A sender's shard learns of a receiver linked on the other shard by a message posted
    // between the worker threads: wait until a probe stream reaches every receiver (the probe
    // is an end record, which the link reflects like voice).
    InlineBytes<lmr::p25::kMaxRecordLen> end;
    ASSERT_TRUE(lmr::p25::encodeRecord(lmr::p25::EndRecord{}, end).ok());
    for (int i = 0; i < kLinks; ++i) {
        bool reached = false;
        for (int attempt = 0; attempt < 50 && !reached; ++attempt) {
            senders[static_cast<std::size_t>(i)]->sendTo(ports[static_cast<std::size_t>(i)],
                                                         end.view());
            auto got = receivers[static_cast<std::size_t>(i)]->receive(100ms);
            reached = got && *got == Bytes(end.view().begin(), end.view().end());
        }
        ASSERT_TRUE(reached) << "link p25-" << i << ": probe never reached the receiver";
        while (receivers[static_cast<std::size_t>(i)]->receive(0ms)) {
        }
    }

    // Every sender sends kFrames encrypted voice records, interleaved across streams.
    std::vector<bench::StreamSource> sources;
    for (int i = 0; i < kLinks; ++i) {
        sources.emplace_back(bench::StreamKind::P25, static_cast<std::uint32_t>(i));
    }
    std::vector<std::vector<Bytes>> sent(static_cast<std::size_t>(kLinks));
    for (std::uint64_t seq = 0; seq < kFrames; ++seq) {
        for (int i = 0; i < kLinks; ++i) {
            Bytes b;
            sources[static_cast<std::size_t>(i)].build(seq, b);
            senders[static_cast<std::size_t>(i)]->sendTo(ports[static_cast<std::size_t>(i)], b);
            sent[static_cast<std::size_t>(i)].push_back(std::move(b));
        }
    }
    for (int i = 0; i < kLinks; ++i) {
        for (std::uint64_t seq = 0; seq < kFrames; ++seq) {
            auto got = receivers[static_cast<std::size_t>(i)]->receive(5s);
            ASSERT_TRUE(got) << "link p25-" << i << " frame " << seq << " missing";
            ASSERT_EQ(*got, sent[static_cast<std::size_t>(i)][seq])
                << "link p25-" << i << " frame " << seq << " differs or out of order";
        }
        EXPECT_FALSE(receivers[static_cast<std::size_t>(i)]->receive(0ms))
            << "link p25-" << i << ": a record arrived twice";
    }

    // Both engine shards carried events (call setups and voice from the links).
    auto calls = nlohmann::json::parse(httpGet(iwfd.adminPort(), "/v1/calls").body);
    ASSERT_EQ(calls["shards"].size(), 2u) << calls.dump();
    std::uint64_t total = 0;
    for (const auto& s : calls["shards"]) {
        EXPECT_GT(s["events_in"].get<std::uint64_t>(), 0u) << calls.dump();
        total += s["events_in"].get<std::uint64_t>();
    }
    EXPECT_EQ(calls["events_in"].get<std::uint64_t>(), total);
    EXPECT_GE(total, kLinks * kFrames);

    iwfd.signal(SIGTERM);
    EXPECT_EQ(iwfd.waitExit(5s), 0) << iwfd.log();
}

TEST(IwfdWorkers, WorkerCountIsValidated) {
    TempDir dir;
    const std::string path = dir.write("bad.yaml", "instance: x\nworkers: 0\n");
    auto r = runCommand({IWFD_BIN, "-c", path}, 10s);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("workers"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("bad.yaml"), std::string::npos) << r.err;
}

// Sharded LMR links with an MC link (which lives on worker 0 only) are accepted: worker 0
// owns every call and the other workers hand it their events (docs/engine.md "Worker
// threads"; carried end to end by tests/integration/daemon_workers).
TEST(IwfdWorkers, ShardedLmrLinksWithAnMcLinkAreAccepted) {
    TempDir dir;
    const std::string path =
        dir.write("mixed.yaml",
                  "instance: x\nworkers: 2\nlmr_links:\n"
                  "  - {name: p25a, type: p25-records, address: 127.0.0.1, port: 0, wacn: 0xBEE00, "
                  "system: 1, tgid: 100}\n"
                  "mc_links:\n"
                  "  - name: iwf1\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
                  "    listen: [{transport: udp, address: 127.0.0.1, port: 0}]\n"
                  "    peer: {transport: udp, address: 127.0.0.1, port: 5060}\n"
                  "    peers: [{address: 127.0.0.1, domains: [mc.example]}]\n"
                  "    server_uri: sip:cf@mc.example\n");
    auto r = runCommand({IWFD_BIN, "--check-config", "-c", path}, 10s);
    EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace iwf::test
