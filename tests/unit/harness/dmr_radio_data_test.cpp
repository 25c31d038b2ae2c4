// The simulated DMR radio's packet data API: sendData() packets are what the gateway's DMR
// data receiver expects, and receiveData() reassembles what a gateway sends.
#include <gtest/gtest.h>

#include "harness/sim/dmr_radio.hpp"
#include "lmr_adapters/dmr/data.hpp"

namespace iwf::harness {
namespace {

using namespace lmr::dmr;

Bytes text(std::string_view s) {
    return Bytes(s.begin(), s.end());
}

TEST(DmrRadioData, RadioToRadioShortDataAndKmm) {
    DmrRadioConfig a_cfg;
    a_cfg.src = 2001;
    a_cfg.kmm_sap = 9;
    DmrRadioConfig b_cfg;
    b_cfg.src = 3002;
    b_cfg.kmm_sap = 9;
    DmrRadio a(a_cfg);
    DmrRadio b(b_cfg);
    std::vector<DmrDataReceived> got;
    b.onData([&](const DmrDataReceived& r) { got.push_back(r); });

    const Bytes sds = text("CNYD-sds: hello from 2001, 40 bytes long.");
    auto pkts = a.sendData(DmrUnit{3002}, sds);
    ASSERT_TRUE(pkts.ok());
    std::int64_t t = 0;
    for (const auto& p : *pkts) {
        auto wire = decodeDmrd(encodeDmrd(p));
        ASSERT_TRUE(wire.ok());
        EXPECT_TRUE(b.receiveData(*wire, t += 1'000'000).empty());
    }
    const Bytes kmm = fromHex("0201deadbeef00112233445566778899aabbccddeeff").value();
    auto kpkts = a.sendData(DmrGroup{91}, kmm, true);
    ASSERT_TRUE(kpkts.ok());
    EXPECT_NE(kpkts->front().stream_id, pkts->front().stream_id);
    for (const auto& p : *kpkts) {
        EXPECT_TRUE(b.receiveData(p, t += 1'000'000).empty());
    }
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].from, Address(DmrUnit{2001}));
    EXPECT_EQ(got[0].to, Address(DmrUnit{3002}));
    EXPECT_EQ(got[0].payload, sds);
    EXPECT_FALSE(got[0].kmm);
    EXPECT_EQ(got[1].to, Address(DmrGroup{91}));
    EXPECT_EQ(got[1].payload, kmm);
    EXPECT_TRUE(got[1].kmm);
}

TEST(DmrRadioData, WhatTheGatewayReceiverSeesFromTheRadio) {
    DmrRadioConfig cfg;
    cfg.src = 2001;
    cfg.slot = 2;
    cfg.kmm_sap = 12;
    DmrRadio radio(cfg);
    DataConfig gw;
    gw.kmm = KmmService{12};
    DataReceiver rx(gw);
    std::vector<Event> ev;
    std::vector<std::string_view> drops;
    auto pkts = radio.sendData(DmrUnit{16000001}, text("opaque-kmm"), true);
    ASSERT_TRUE(pkts.ok());
    for (const auto& p : *pkts) {
        EXPECT_EQ(p.slot, 2);
        rx.onPacket(p, 1, ev, drops);
    }
    EXPECT_TRUE(drops.empty());
    ASSERT_EQ(ev.size(), 1u);
    const auto* s = std::get_if<SecurityMessage>(&ev[0]);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->payload, text("opaque-kmm"));
    EXPECT_EQ(s->from, Address(DmrUnit{2001}));
}

TEST(DmrRadioData, LostPacketIsReportedNotDelivered) {
    DmrRadio a(DmrRadioConfig{});
    DmrRadio b(DmrRadioConfig{});
    int delivered = 0;
    b.onData([&](const DmrDataReceived&) { ++delivered; });
    auto pkts = a.sendData(DmrUnit{5}, Bytes(30, 0x55));
    ASSERT_TRUE(pkts.ok());
    ASSERT_EQ(pkts->size(), 4u);
    std::vector<std::string_view> drops;
    for (std::size_t i = 0; i < pkts->size(); ++i) {
        if (i == 1) {
            continue;
        }
        auto d = b.receiveData((*pkts)[i], 1);
        drops.insert(drops.end(), d.begin(), d.end());
    }
    EXPECT_EQ(delivered, 0);
    ASSERT_FALSE(drops.empty());
    EXPECT_EQ(drops[0], "missing_blocks");
    auto bad = a.sendData(DmrGroup{5}, Bytes(10), false);
    ASSERT_TRUE(bad.ok());
    auto refused = a.sendData(P25Unit{}, Bytes(10));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().reason, "unsupported_address");
}

}  // namespace
}  // namespace iwf::harness
