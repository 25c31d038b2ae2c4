// TS 33.180 SRTP on the IWF-1 send path (issue #20), CPU ns per frame: the link's per-frame
// send (RTP header + X-IWF-LMR payload + sendto on a real 127.0.0.1 socket, as
// rtp::VoiceEndpoint::send does for every frame of the P25 -> MC path) plain and with SRTP,
// and SrtpSession::protect alone for the two profiles. docs/perf.md "SRTP on IWF-1".
// Run: build/tests/bench/mc/bench_mc --benchmark_filter=Srtp --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "mc_adapters/security/media_keys.hpp"

namespace {

using namespace iwf;
using namespace iwf::mc;

// An encrypted P25 IMBE frame as the engine hands it to the link (ALGID, key ID, 9-octet MI).
VoiceFrame p25Frame(std::uint8_t index) {
    VoiceFrame f;
    f.codec = VoiceCodec::ImbeFullRate;
    f.pos = {1, index};
    f.crypto.family = LmrFamily::P25;
    f.crypto.encrypted = true;
    f.crypto.algid = 0x84;
    f.crypto.key_id = 0x0101;
    const std::uint8_t mi[9] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99};
    f.crypto.mi.assign(ByteView(mi, sizeof(mi)));
    std::uint8_t imbe[11] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    f.payload.assign(ByteView(imbe, sizeof(imbe)));
    return f;
}

// A GMK as MIKEY-SAKKE delivers it, with the 33.180 default group profile (AEAD_AES_128_GCM,
// RCCm3) or AES_CM_128_HMAC_SHA1_80.
security::DistributedKey gmk(security::SrtpProfile p, bool rcc) {
    security::DistributedKey k;
    k.purpose = security::KeyPurpose::Gmk;
    k.key = Bytes(16, 0x42);
    k.key_id = 0x0df9bc39;
    k.csb_id = 0x06a12aea;
    k.rand = Bytes(16, 0x17);
    k.profile = p;
    k.roc_in_packet = rcc;
    return k;
}

// arg 0: plain RTP; 1: SRTP AEAD-GCM + RCCm3 (33.180 default); 2: SRTP AES-CM-HMAC-SHA1-80.
void BM_SrtpVoiceSendP25(benchmark::State& st) {
    asio::io_context io;
    metrics::Registry reg;
    rtp::VoiceEndpoint ep(io, reg, SteadyClock::instance(), "bench", {96, 7, 0, 0});
    const auto lo = asio::ip::make_address("127.0.0.1");
    if (!ep.open({lo, 0}).ok()) {
        st.SkipWithError("bind");
        return;
    }
    // The receiver is a bound socket nobody reads: the kernel drops what overflows its buffer
    // after sendto returned, so every iteration does the full send.
    rtp::UdpEndpoint sink(io);
    (void)sink.open({lo, 0}, [](ByteView, const rtp::Udp::endpoint&) {});
    ep.setRemote(sink.localEndpoint());
    if (st.range(0) != 0) {
        auto k = st.range(0) == 1 ? gmk(security::SrtpProfile::AeadAes128Gcm, true)
                                  : gmk(security::SrtpProfile::AesCm128HmacSha1_80, false);
        auto pair = security::makeSrtpPair(security::groupMediaKeying({k}));
        if (!pair) {
            st.SkipWithError("srtp");
            return;
        }
        ep.protection().set(std::move(*pair));
    }
    std::uint8_t i = 0;
    for (auto _ : st) {
        auto s = ep.send(p25Frame(i));
        benchmark::DoNotOptimize(s);
        i = static_cast<std::uint8_t>((i + 1) % 18);
    }
}
BENCHMARK(BM_SrtpVoiceSendP25)->Arg(0)->Arg(1)->Arg(2);

// SrtpSession::protect of one P25 RTP packet (12 + 34 octets), no socket.
void BM_SrtpProtectP25Packet(benchmark::State& st) {
    auto k = st.range(0) == 1 ? gmk(security::SrtpProfile::AeadAes128Gcm, true)
                              : gmk(security::SrtpProfile::AesCm128HmacSha1_80, false);
    auto pair = security::makeSrtpPair(security::groupMediaKeying({k}));
    if (!pair) {
        st.SkipWithError("srtp");
        return;
    }
    Bytes pkt(46 + security::kSrtpMaxOverhead, 0x5a);
    pkt[0] = 0x80;
    pkt[1] = 96;
    std::uint16_t seq = 0;
    for (auto _ : st) {
        pkt[2] = static_cast<std::uint8_t>(seq >> 8);
        pkt[3] = static_cast<std::uint8_t>(seq);
        ++seq;
        auto n = pair->tx->protect(pkt, 46);
        benchmark::DoNotOptimize(n);
    }
}
BENCHMARK(BM_SrtpProtectP25Packet)->Arg(1)->Arg(2);

}  // namespace
