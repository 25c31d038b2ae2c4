// Packet data through the HBP master link over real UDP on 127.0.0.1 (ports bound to 0): an
// HBP peer sends short data / a KMM on the configured SAP and the link's EventSink gets the
// DataMessage / SecurityMessage with the exact bytes; deliver() of each sends DMRD packets
// that parse back to the same bytes; lost blocks and reassembly timeouts are counted by peer;
// the data / kmm config is validated with file:line:field errors.
#include <condition_variable>
#include <functional>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "lmr_adapters/dmr/data.hpp"
#include "lmr_adapters/dmr/hbp_link.hpp"
#include "lmr_adapters/dmr/link_types.hpp"
#include "tests/support/hbp_peer.hpp"
#include "tests/support/link_fixtures.hpp"

namespace iwf::lmr::dmr {
namespace {

using namespace std::chrono_literals;
using udp = asio::ip::udp;

using test::CollectingSink;
using test::eventually;
using test::IoThread;
using RawPeer = test::HbpRawPeer;

constexpr std::uint32_t kPeerId = 312100;

Bytes linkPattern(std::size_t n, std::uint8_t seed) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) {
        b[i] = static_cast<std::uint8_t>(i * 13 + seed);
    }
    return b;
}

struct DmrHbpData : ::testing::Test {
    void SetUp() override {
        HbpMasterConfig c;
        c.address = "127.0.0.1";
        c.port = 0;
        c.id = 9990;
        c.password = "passw0rd";
        c.slot = 2;
        c.color_code = 3;
        c.stream_timeout = 1s;
        c.data.kmm = KmmService{9};
        c.data.timeout = 200ms;
        master = std::make_unique<HbpMasterLink>(LinkId{Side::Lmr, "dmr-master"}, c, io.io, metrics,
                                                 SteadyClock::instance());
        io.runSync([&] { ASSERT_TRUE(master->start(sink).ok()); });
        port = master->localPort();
        ASSERT_TRUE(peer.login(port, kPeerId, "passw0rd"));
    }
    void TearDown() override {
        io.runSync([&] { master->stop(); });
        io.stop();
    }
    // What a radio behind the peer sends (its own stream ID, our peer ID in bytes 11..14).
    std::vector<DmrdPacket> radioPackets(const Event& e) {
        DataConfig d;
        d.kmm = KmmService{9};
        DataSender tx(DataSenderConfig{kPeerId, 1, 1}, d, ++seed);
        auto p = tx.onEvent(e);
        EXPECT_TRUE(p.ok());
        return p.ok() ? *p : std::vector<DmrdPacket>{};
    }
    std::uint64_t dropped(const std::string& reason) {
        return metrics.counterValue(
            "iwf_lmr_dropped_total",
            {{"link", "dmr-master"}, {"peer", std::to_string(kPeerId)}, {"reason", reason}});
    }

    IoThread io;
    metrics::Registry metrics;
    CollectingSink sink;
    std::unique_ptr<HbpMasterLink> master;
    std::uint16_t port = 0;
    RawPeer peer;
    std::uint64_t seed = 100;
};

TEST_F(DmrHbpData, ShortDataAndKmmFromThePeerReachTheSinkUnchanged) {
    DataMessage sds;
    sds.from = DmrUnit{2001};
    sds.to = DmrUnit{3002};
    sds.payload = linkPattern(61, 1);
    SecurityMessage kmm;
    kmm.from = DmrUnit{16000001};
    kmm.to = DmrUnit{2001};
    kmm.payload = linkPattern(130, 2);
    for (const auto& p : radioPackets(sds)) {
        peer.send(port, encodeDmrd(p));
    }
    for (const auto& p : radioPackets(kmm)) {
        peer.send(port, encodeDmrd(p));
    }
    ASSERT_TRUE(sink.waitForCount(2));
    const auto ev = sink.events();
    ASSERT_EQ(ev.size(), 2u);
    const auto& d = std::get<DataMessage>(ev[0]);
    EXPECT_EQ(d.from, sds.from);
    EXPECT_EQ(d.to, sds.to);
    EXPECT_EQ(d.payload, sds.payload);
    const auto& s = std::get<SecurityMessage>(ev[1]);
    EXPECT_EQ(s.from, kmm.from);
    EXPECT_EQ(s.to, kmm.to);
    EXPECT_EQ(s.payload, kmm.payload);
}

TEST_F(DmrHbpData, DeliveredDataAndKmmReachThePeerAsDmrdThatParsesBack) {
    DataMessage sds;
    sds.from = DmrUnit{2001};
    sds.to = DmrGroup{91};
    sds.payload = linkPattern(20, 3);  // exactly two blocks, no pad
    ASSERT_TRUE(master->deliver(sds).ok());
    auto got = peer.receiveDmrd(1 + 2);
    ASSERT_EQ(got.size(), 3u);
    DataReceiver rx(DataConfig{std::uint8_t{kSapShortData}, KmmService{9}});
    std::vector<Event> ev;
    std::vector<std::string_view> drops;
    for (const auto& p : got) {
        EXPECT_EQ(p.slot, 2);
        EXPECT_EQ(p.peer_id, 9990u);
        EXPECT_FALSE(p.unit_call);
        EXPECT_EQ(p.stream_id, got[0].stream_id);
        auto b = decodeDataBurst(p.burst);
        ASSERT_TRUE(b.ok());
        EXPECT_EQ(b->slot_type.color_code, 3);
        rx.onPacket(p, 1, ev, drops);
    }
    EXPECT_TRUE(drops.empty());
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(std::get<DataMessage>(ev[0]).payload, sds.payload);
    EXPECT_EQ(std::get<DataMessage>(ev[0]).to, sds.to);

    SecurityMessage kmm;
    kmm.from = DmrUnit{16000001};
    kmm.to = DmrUnit{2001};
    kmm.payload = fromHex("a0b1c2d3e4f5").value();
    ASSERT_TRUE(master->deliver(kmm).ok());
    auto kgot = peer.receiveDmrd(1 + 1);
    ASSERT_EQ(kgot.size(), 2u);
    EXPECT_NE(kgot[0].stream_id, got[0].stream_id);
    ev.clear();
    for (const auto& p : kgot) {
        EXPECT_TRUE(p.unit_call);
        rx.onPacket(p, 2, ev, drops);
    }
    EXPECT_TRUE(drops.empty());
    ASSERT_EQ(ev.size(), 1u);
    const auto& s = std::get<SecurityMessage>(ev[0]);
    EXPECT_EQ(s.payload, kmm.payload);
    EXPECT_EQ(s.from, kmm.from);
    EXPECT_EQ(s.to, kmm.to);

    // Refusals come back from deliver(), nothing is sent.
    DataMessage bad = sds;
    bad.payload = Bytes(kMaxDataPayload + 1, 0);
    auto st = master->deliver(bad);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().reason, "oversize");
}

TEST_F(DmrHbpData, LostBlockAndTimeoutAreCountedByPeerAndNothingIsReported) {
    DataMessage sds;
    sds.from = DmrUnit{2001};
    sds.to = DmrUnit{3002};
    sds.payload = linkPattern(40, 4);
    auto pkts = radioPackets(sds);
    ASSERT_EQ(pkts.size(), 5u);
    for (std::size_t i = 0; i < pkts.size(); ++i) {
        if (i != 2) {
            peer.send(port, encodeDmrd(pkts[i]));
        }
    }
    ASSERT_TRUE(eventually([&] { return dropped("missing_blocks") == 1; }));
    // The block that showed the gap ends the PDU; the one after it has no PDU any more.
    ASSERT_TRUE(eventually([&] { return dropped("unexpected_block") == 1; }));

    auto second = radioPackets(sds);
    second.pop_back();  // last block never comes
    for (const auto& p : second) {
        peer.send(port, encodeDmrd(p));
    }
    ASSERT_TRUE(eventually([&] { return dropped("timeout") == 1; }));
    // A complete one still passes afterwards.
    for (const auto& p : radioPackets(sds)) {
        peer.send(port, encodeDmrd(p));
    }
    ASSERT_TRUE(sink.waitForCount(1));
    const auto ev = sink.events();
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(std::get<DataMessage>(ev[0]).payload, sds.payload);
}

TEST(DmrHbpDataConfig, DataAndKmmSectionsAreValidated) {
    auto parse = [](const std::string& yaml) {
        return parseMasterConfig(ConfigNode::loadString(yaml, "links.yaml"));
    };
    auto c = parse(
        "name: m\ntype: dmr-hbp-master\npassword: x\n"
        "data: {sap: 4, timeout: 2s, max_bytes: 200}\nkmm: {sap: 9}\n");
    EXPECT_EQ(c.data.out_sap, 4);
    EXPECT_EQ(c.data.timeout, 2s);
    EXPECT_EQ(c.data.max_bytes, 200u);
    ASSERT_TRUE(c.data.kmm);
    EXPECT_EQ(c.data.kmm->sap, 9);
    auto d = parse("name: m\ntype: dmr-hbp-master\npassword: x\n");
    EXPECT_FALSE(d.data.kmm);
    EXPECT_EQ(d.data.out_sap, kSapShortData);

    struct Bad {
        std::string yaml;
        std::string field;
        int line;
    };
    for (const Bad& b : {
             Bad{"kmm: {sap: 10}\n", "kmm.sap", 4},
             Bad{"kmm: {sap: 5}\n", "kmm.sap", 4},
             Bad{"kmm: {sap: 16}\n", "kmm.sap", 4},
             Bad{"kmm: {mfid: 16}\n", "kmm.mfid", 4},
             Bad{"data: {max_bytes: 1521}\n", "data.max_bytes", 4},
             Bad{"data: {sap: 0}\n", "data.sap", 4},
             Bad{"data: {timeout: 0}\n", "data.timeout", 4},
         }) {
        try {
            (void)parse("name: m\ntype: dmr-hbp-master\npassword: x\n" + b.yaml);
            ADD_FAILURE() << b.yaml << " accepted";
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.file(), "links.yaml") << b.yaml;
            EXPECT_EQ(e.line(), b.line) << b.yaml;
            EXPECT_NE(e.field().find(b.field), std::string::npos) << e.what();
        }
    }
}

}  // namespace
}  // namespace iwf::lmr::dmr
