// Floor message encode/decode and LMR RTP payload encode/decode, ns per operation.
// Run: build/tests/bench/mc/bench_mc --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include "mc_adapters/floor/floor_message.hpp"
#include "mc_adapters/mcdata/sds_message.hpp"
#include "mc_adapters/rtp/lmr_payload.hpp"
#include "mc_adapters/rtp/rtp_packet.hpp"

namespace {

using namespace iwf;
using namespace iwf::mc;

floor::FloorMessage grantedMessage() {
    floor::FloorMessage m;
    m.type = floor::MessageType::FloorGranted;
    m.ack_required = true;
    m.ssrc = 0x11223344;
    m.add(floor::Duration{30})
        .add(floor::Ssrc{0xCAFEBABE})
        .add(floor::FloorPriority{7})
        .add(floor::UserId{"sip:lmr-p25-1001@iwf.example"})
        .add(floor::FloorIndicator{floor::indicator::kNormalCall});
    return m;
}

void BM_FloorEncodeGranted(benchmark::State& st) {
    const auto m = grantedMessage();
    Bytes out;
    out.reserve(256);
    for (auto _ : st) {
        out.clear();
        benchmark::DoNotOptimize(floor::encode(m, out));
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(BM_FloorEncodeGranted);

void BM_FloorDecodeGranted(benchmark::State& st) {
    Bytes b;
    (void)floor::encode(grantedMessage(), b);
    for (auto _ : st) {
        auto m = floor::decode(b);
        benchmark::DoNotOptimize(m);
    }
}
BENCHMARK(BM_FloorDecodeGranted);

void BM_FloorDecodeIdle(benchmark::State& st) {
    floor::FloorMessage m;
    m.type = floor::MessageType::FloorIdle;
    m.add(floor::MessageSequenceNumber{1});
    Bytes b;
    (void)floor::encode(m, b);
    for (auto _ : st) {
        auto r = floor::decodeDatagram(b);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_FloorDecodeIdle);

VoiceFrame p25Frame() {
    VoiceFrame f;
    f.crypto.family = LmrFamily::P25;
    f.crypto.encrypted = true;
    f.crypto.algid = 0x84;
    f.crypto.key_id = 0x1234;
    f.crypto.mi.assign(Bytes(9, 0x5A));
    f.payload.assign(Bytes(11, 0xA5));
    f.side.assign(Bytes(3, 0x11));
    f.pos = {100, 9};
    return f;
}

void BM_RtpPayloadEncodeP25(benchmark::State& st) {
    const VoiceFrame f = p25Frame();
    Bytes payload;
    Bytes packet;
    payload.reserve(128);
    packet.reserve(160);
    rtp::RtpHeader h;
    h.payload_type = 96;
    h.ssrc = 7;
    for (auto _ : st) {
        payload.clear();
        packet.clear();
        (void)rtp::encodeLmrPayload(f, payload);
        ++h.sequence;
        h.timestamp = rtp::rtpTimestampOffset(f);
        (void)rtp::buildRtp(h, payload, packet);
        benchmark::DoNotOptimize(packet.data());
    }
}
BENCHMARK(BM_RtpPayloadEncodeP25);

void BM_RtpPayloadDecodeP25(benchmark::State& st) {
    Bytes payload;
    (void)rtp::encodeLmrPayload(p25Frame(), payload);
    rtp::RtpHeader h;
    h.payload_type = 96;
    Bytes packet;
    (void)rtp::buildRtp(h, payload, packet);
    for (auto _ : st) {
        auto v = rtp::RtpView::parse(packet);
        auto f = rtp::decodeLmrPayload(v->payload());
        benchmark::DoNotOptimize(f);
    }
}
BENCHMARK(BM_RtpPayloadDecodeP25);

void BM_SdsSignallingDecode(benchmark::State& st) {
    mcdata::SdsSignalling s;
    s.date_time = 1'700'000'000;
    s.sender_user_id = "sip:lmr-1001@iwf.example";
    s.disposition = mcdata::DispositionRequest::Delivery;
    Bytes b;
    (void)mcdata::encode(s, b);
    for (auto _ : st) {
        auto r = mcdata::decodeSdsSignalling(b);
        benchmark::DoNotOptimize(r);
    }
}
BENCHMARK(BM_SdsSignallingDecode);

}  // namespace

BENCHMARK_MAIN();
