// The "analog-usrp" link on real sockets (127.0.0.1), both directions, judged independently
// of the code under test:
//   - what the test sends is built byte by byte the way AllStarLink's chan_usrp builds it
//     (AllStarLink/app_rpt channels/chan_usrp.c, usrp_xwrite: memcpy "USRP", seq =
//     htonl(txseq++), keyup = htonl(1), every other header field 0 from the memset, then
//     the 320 bytes of host-order slin; usrp_indicate: the 32-byte header alone, keyup 0);
//   - what the link sends is read back with ntohl at the offsets of struct
//     _chan_usrp_bufhdr, not with lmr_adapters/analog/usrp.hpp;
//   - the AMR-WB frames the link hands the engine are decoded with libopencore-amrwb's
//     D_IF_decode directly, and the frames the test delivers are encoded with
//     libvo-amrwbenc's E_IF_encode directly (RFC 4867 5.3 storage format, what both
//     libraries read and write), not with media/speech.hpp;
//   - a 1 kHz tone must come out at 1 kHz (spectral peak within 10 Hz) and at its level
//     (RMS within 1 dB), the requirement.
#include "lmr_adapters/analog/usrp_link.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cmath>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "lmr_adapters/analog/cli/decode_usrp.hpp"

extern "C" {
#include <opencore-amrwb/dec_if.h>
#include <vo-amrwbenc/enc_if.h>
}

#include "tests/support/link_fixtures.hpp"

namespace iwf::lmr::analog {
namespace {

using namespace std::chrono_literals;
using test::CollectingSink;
using test::IoThread;

constexpr double kUsrpLinkPi = 3.14159265358979323846;

// chan_usrp.c usrp_xwrite: header fields in network order, PCM in host order.
std::vector<std::uint8_t> usrpLinkChanUsrpVoice(std::uint32_t seq, bool keyed,
                                                const std::int16_t* pcm) {
    std::vector<std::uint8_t> d(32 + (pcm != nullptr ? 320 : 0), 0);
    std::memcpy(d.data(), "USRP", 4);
    const std::uint32_t nseq = htonl(seq);
    std::memcpy(d.data() + 4, &nseq, 4);
    const std::uint32_t key = htonl(keyed ? 1 : 0);
    std::memcpy(d.data() + 12, &key, 4);
    if (pcm != nullptr) {
        std::memcpy(d.data() + 32, pcm, 320);
    }
    return d;
}

std::uint32_t usrpLinkBe32(const std::uint8_t* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return ntohl(v);
}

std::vector<std::int16_t> usrpLinkTone(double hz, double amplitude, int rate, std::size_t n) {
    std::vector<std::int16_t> s(n);
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<std::int16_t>(amplitude * std::sin(2 * kUsrpLinkPi * hz * i / rate));
    }
    return s;
}

double usrpLinkRms(const std::int16_t* s, std::size_t n) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sum += static_cast<double>(s[i]) * s[i];
    }
    return std::sqrt(sum / static_cast<double>(n));
}

// The frequency (10 Hz steps, 200..3400 Hz) of the largest DFT magnitude.
double usrpLinkPeakHz(const std::int16_t* s, std::size_t n, int rate) {
    double best = 0;
    double best_hz = 0;
    for (double f = 200; f <= 3400; f += 10) {
        double re = 0;
        double im = 0;
        for (std::size_t i = 0; i < n; ++i) {
            re += s[i] * std::cos(2 * kUsrpLinkPi * f * i / rate);
            im += s[i] * std::sin(2 * kUsrpLinkPi * f * i / rate);
        }
        if (re * re + im * im > best) {
            best = re * re + im * im;
            best_hz = f;
        }
    }
    return best_hz;
}

struct UsrpLinkRig {
    IoThread io;
    metrics::Registry metrics;
    SteadyClock clock;
    CollectingSink sink;
    asio::ip::udp::socket peer{io.io};  // plays chan_usrp
    std::unique_ptr<UsrpLink> link;

    explicit UsrpLinkRig(const std::function<void(UsrpLinkConfig&)>& tweak = {}) {
        peer.open(asio::ip::udp::v4());
        peer.bind({asio::ip::make_address("127.0.0.1"), 0});
        UsrpLinkConfig cfg;
        cfg.name = "fm";
        cfg.address = "127.0.0.1";
        cfg.port = 0;
        cfg.peer_address = "127.0.0.1";
        cfg.peer_port = peer.local_endpoint().port();
        cfg.talkgroup = 4100;
        if (tweak) {
            tweak(cfg);
        }
        link = std::make_unique<UsrpLink>(cfg, io.io, metrics, clock);
        Status st = Error{"not started"};
        io.runSync([&] { st = link->start(sink); });
        EXPECT_TRUE(st);
    }
    ~UsrpLinkRig() {
        io.runSync([&] {
            link->stop();
            boost::system::error_code ec;
            peer.close(ec);
        });
    }
    asio::ip::udp::endpoint linkEp() const {
        return {asio::ip::make_address("127.0.0.1"), link->localPort()};
    }
    void send(const std::vector<std::uint8_t>& d) { peer.send_to(asio::buffer(d), linkEp()); }
};

TEST(UsrpLink, ChannelKeyupBecomesAnAmrWbCallAtTheToneFrequencyAndLevel) {
    UsrpLinkRig rig;
    constexpr int kFrames = 50;
    const auto pcm = usrpLinkTone(1000, 8000, 8000, kFrames * 160);
    // Paced as chan_usrp sends: one packet per 20 ms (the link's jitter buffer plays out
    // on its own 20 ms clock).
    auto next = std::chrono::steady_clock::now();
    for (int i = 0; i < kFrames; ++i) {
        rig.send(usrpLinkChanUsrpVoice(100 + i, true, pcm.data() + i * 160));
        next += 20ms;
        std::this_thread::sleep_until(next);
    }
    rig.send(usrpLinkChanUsrpVoice(100 + kFrames, false, nullptr));  // usrp_indicate unkey
    ASSERT_TRUE(
        rig.sink.waitFor([](const auto& ev) { return test::countOf<CallEnd>(ev) > 0; }, 10s));

    const auto ev = rig.sink.events();
    const auto setups = test::eventsOf<CallSetup>(ev);
    ASSERT_EQ(setups.size(), 1u);
    const CallSetup& s = setups[0];
    EXPECT_EQ(s.kind, CallKind::Group);
    EXPECT_EQ(s.callee, Address{AnalogGroup{4100}});  // talkgroup 0 on the wire: configured
    ASSERT_TRUE(s.crypto);
    EXPECT_FALSE(s.crypto->encrypted);
    EXPECT_EQ(s.crypto->family, LmrFamily::Analog);
    EXPECT_EQ(s.codec, VoiceCodec::AmrWb);
    const auto ends = test::eventsOf<CallEnd>(ev);
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_EQ(ends[0].reason, EndReason::Normal);
    EXPECT_EQ(ends[0].call, s.call);

    void* dec = D_IF_init();
    std::vector<std::int16_t> wb;
    std::size_t frames = 0;
    for (const auto& v : test::eventsOf<Voice>(ev)) {
        EXPECT_EQ(v.call, s.call);
        EXPECT_EQ(v.frame.codec, VoiceCodec::AmrWb);
        EXPECT_FALSE(v.frame.crypto.encrypted);
        ASSERT_GE(v.frame.payload.size(), 1u);
        // Storage header octet: FT in bits 6..3 (RFC 4867 5.3); 12.65 kbit/s = FT 2, 253
        // bits = 32 bytes after the header.
        EXPECT_EQ((v.frame.payload.data()[0] >> 3) & 0x0F, 2);
        EXPECT_EQ(v.frame.payload.size(), 33u);
        std::int16_t out[320];
        D_IF_decode(dec, v.frame.payload.data(), out, 0);
        wb.insert(wb.end(), out, out + 320);
        ++frames;
    }
    D_IF_exit(dec);
    // Every packet arrived (loopback), but the jitter buffer plays out on the link's own
    // 20 ms clock: on a loaded machine a packet can miss its slot and be skipped as late
    // (counted; the MC receiver conceals it). Nearly all must come through.
    EXPECT_GE(frames, static_cast<std::size_t>(kFrames - 3));
    EXPECT_LE(frames, static_cast<std::size_t>(kFrames));
    ASSERT_GE(wb.size(), 40u * 320);
    // Steady state: skip the first 10 frames (resampler and codec start-up).
    const std::int16_t* steady = wb.data() + 10 * 320;
    const std::size_t n = 30 * 320;
    EXPECT_NEAR(usrpLinkPeakHz(steady, n, 16000), 1000, 10);
    const double level_db = 20 * std::log10(usrpLinkRms(steady, n) / (8000 / std::sqrt(2.0)));
    EXPECT_NEAR(level_db, 0, 1.0) << "level change through the link";
}

TEST(UsrpLink, McAmrWbBecomesChannelPcmWithConcealmentAndUnkey) {
    UsrpLinkRig rig;
    constexpr int kFrames = 50;
    constexpr int kLost = 25;  // this frame never arrives: the link conceals it
    const auto wb = usrpLinkTone(1000, 8000, 16000, kFrames * 320);
    void* enc = E_IF_init();
    std::vector<VoiceFrame> frames;
    for (int i = 0; i < kFrames; ++i) {
        std::uint8_t out[64];
        const int len = E_IF_encode(enc, 2, wb.data() + i * 320, out, 0);  // 12.65, no DTX
        ASSERT_EQ(len, 33);
        VoiceFrame f;
        f.codec = VoiceCodec::AmrWb;
        f.crypto = CryptoSync::clear(LmrFamily::Analog);
        f.seq = static_cast<std::uint32_t>(i);
        f.payload.assign(ByteView(out, static_cast<std::size_t>(len)));
        frames.push_back(f);
    }
    E_IF_exit(enc);

    const CallRef ref = (CallRef{1} << 63) | 7;
    CallSetup s;
    s.call = ref;
    s.callee = AnalogGroup{77};
    s.codec = VoiceCodec::AmrWb;
    Status st;
    rig.io.runSync([&] { st = rig.link->deliver(Event{s}); });
    ASSERT_TRUE(st);
    for (int i = 0; i < kFrames; ++i) {
        if (i == kLost) {
            continue;
        }
        rig.io.runSync([&] { st = rig.link->deliver(Event{Voice{ref, frames[i]}}); });
        ASSERT_TRUE(st) << st.error().reason;
    }
    // Refused: an encrypted frame, and a digital vocoder frame (no IMBE decoder here).
    VoiceFrame enc_frame = frames[0];
    enc_frame.crypto = CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 1);
    enc_frame.seq = kFrames;
    rig.io.runSync([&] { st = rig.link->deliver(Event{Voice{ref, enc_frame}}); });
    EXPECT_FALSE(st);
    VoiceFrame imbe = frames[0];
    imbe.codec = VoiceCodec::ImbeFullRate;
    imbe.seq = kFrames;
    rig.io.runSync([&] { st = rig.link->deliver(Event{Voice{ref, imbe}}); });
    EXPECT_FALSE(st);
    rig.io.runSync([&] { st = rig.link->deliver(Event{CallEnd{ref, EndReason::Normal, ""}}); });
    ASSERT_TRUE(st);

    // Read what chan_usrp would read (its usrp_xread), off the io thread.
    std::vector<std::int16_t> pcm;
    bool unkeyed = false;
    std::uint32_t last_seq = 0;
    rig.peer.non_blocking(true);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!unkeyed && std::chrono::steady_clock::now() < deadline) {
        std::uint8_t buf[512];
        asio::ip::udp::endpoint from;
        boost::system::error_code ec;
        const std::size_t n = rig.peer.receive_from(asio::buffer(buf), from, 0, ec);
        if (ec == asio::error::would_block) {
            std::this_thread::sleep_for(2ms);
            continue;
        }
        ASSERT_FALSE(ec) << ec.message();
        ASSERT_GE(n, 32u);
        ASSERT_EQ(std::memcmp(buf, "USRP", 4), 0);
        const std::uint32_t seq = usrpLinkBe32(buf + 4);
        if (last_seq != 0) {
            EXPECT_EQ(seq, last_seq + 1);
        }
        last_seq = seq;
        EXPECT_EQ(usrpLinkBe32(buf + 8), 0u);  // memory
        std::uint32_t type_host;               // host order, as chan_usrp compares it
        std::memcpy(&type_host, buf + 20, 4);
        EXPECT_EQ(type_host, 0u);  // USRP_TYPE_VOICE
        if (n == 32) {
            EXPECT_EQ(usrpLinkBe32(buf + 12), 0u);  // keyup 0: the unkey
            unkeyed = true;
            break;
        }
        ASSERT_EQ(n, 32u + 320u);
        EXPECT_EQ(usrpLinkBe32(buf + 12), 1u);   // keyup
        EXPECT_EQ(usrpLinkBe32(buf + 16), 77u);  // the call's talkgroup
        std::int16_t s16[160];
        std::memcpy(s16, buf + 32, 320);
        pcm.insert(pcm.end(), s16, s16 + 160);
    }
    ASSERT_TRUE(unkeyed);
    // Every 20 ms slot is on the channel: 49 decoded + 1 concealed.
    EXPECT_EQ(pcm.size(), static_cast<std::size_t>(kFrames) * 160);
    EXPECT_EQ(rig.metrics.counterValue("iwf_analog_concealed_frames_total", {{"link", "fm"}}), 1u);
    EXPECT_EQ(rig.metrics.counterValue("iwf_analog_refused_frames_total",
                                       {{"link", "fm"}, {"reason", "encrypted"}}),
              1u);
    EXPECT_EQ(rig.metrics.counterValue("iwf_analog_refused_frames_total",
                                       {{"link", "fm"}, {"reason", "no_vocoder"}}),
              1u);
    const std::int16_t* steady = pcm.data() + 5 * 160;
    const std::size_t n = 15 * 160;  // frames 5..19, before the lost one
    EXPECT_NEAR(usrpLinkPeakHz(steady, n, 8000), 1000, 10);
    const double level_db = 20 * std::log10(usrpLinkRms(steady, n) / (8000 / std::sqrt(2.0)));
    EXPECT_NEAR(level_db, 0, 1.0) << "level change through the link";
}

TEST(UsrpLink, MalformedAndForeignDatagramsAreCountedAndDropped) {
    UsrpLinkRig rig;
    auto bad_eye = usrpLinkChanUsrpVoice(1, true, nullptr);
    bad_eye[0] = 'X';
    rig.send(bad_eye);
    rig.send({'U', 'S', 'R'});  // shorter than a header
    auto odd = usrpLinkChanUsrpVoice(2, true, nullptr);
    odd.resize(32 + 100);  // neither 0 nor 320 bytes of voice
    rig.send(odd);
    rig.send(usrpLinkChanUsrpVoice(3, false, nullptr));  // an unkey with no call open
    auto dropped = [&](std::string_view reason) {
        return rig.metrics.counterValue(
            "iwf_lmr_dropped_total",
            {{"link", "fm"}, {"peer", "other"}, {"reason", std::string(reason)}});
    };
    EXPECT_TRUE(test::eventually([&] {
        return dropped("bad_eye") == 1 && dropped("truncated") == 1 &&
               dropped("bad_voice_length") == 1 && dropped("unkey_without_call") == 1;
    }));
    EXPECT_EQ(rig.sink.events().size(), 0u);
}

// A flood next to a legitimate transmission: while the channel sends one second of a tone,
// another port of the peer's own address sends keyed voice (full-scale square wave, its own
// seq), a host outside `allow` sends voice, and the peer's address sends garbage (random
// bytes, short datagrams, wrong eye, odd voice lengths). The talker's call is the only call,
// its tone arrives at its frequency and level, and every intruding datagram is counted.
TEST(UsrpLink, FloodOfForeignAndGarbageDatagramsDoesNotDisturbTheTalker) {
    UsrpLinkRig rig([](UsrpLinkConfig& c) {
        net::AddressFilter only_peer;
        ASSERT_TRUE(only_peer.add("127.0.0.1"));
        c.allow = only_peer;
    });
    asio::ip::udp::socket same_host(rig.io.io);
    same_host.open(asio::ip::udp::v4());
    same_host.bind({asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::udp::socket outsider(rig.io.io);
    outsider.open(asio::ip::udp::v4());
    outsider.bind({asio::ip::make_address("127.0.0.66"), 0});
    std::int16_t square[160];
    for (int i = 0; i < 160; ++i) {
        square[i] = (i / 4) % 2 == 0 ? 32000 : -32000;  // 1 kHz square wave, full scale
    }
    std::mt19937 rng(19);
    constexpr int kFrames = 50;
    constexpr int kPerFrame = 10;  // intruding datagrams per legitimate packet
    const auto pcm = usrpLinkTone(1000, 8000, 8000, kFrames * 160);
    std::size_t foreign = 0;
    std::size_t outside = 0;
    std::size_t garbage = 0;
    auto next = std::chrono::steady_clock::now();
    for (int i = 0; i < kFrames; ++i) {
        rig.send(usrpLinkChanUsrpVoice(100 + i, true, pcm.data() + i * 160));
        if (i == 0) {
            // The talker's key-up is in first (one thread, datagrams in arrival order).
            ASSERT_TRUE(rig.sink.waitFor(
                [](const auto& ev) { return test::countOf<CallSetup>(ev) == 1; }, 10s));
        }
        for (int k = 0; k < kPerFrame; ++k) {
            switch (k % 5) {
                case 0:
                    same_host.send_to(asio::buffer(usrpLinkChanUsrpVoice(
                                          static_cast<std::uint32_t>(5000 + i), true, square)),
                                      rig.linkEp());
                    ++foreign;
                    break;
                case 1:
                    outsider.send_to(asio::buffer(usrpLinkChanUsrpVoice(
                                         static_cast<std::uint32_t>(100 + i), true, square)),
                                     rig.linkEp());
                    ++outside;
                    break;
                default: {
                    std::vector<std::uint8_t> junk(1 + rng() % 400);
                    for (auto& b : junk) {
                        b = static_cast<std::uint8_t>(rng());
                    }
                    if (k % 5 == 3 && junk.size() >= 4) {
                        std::memcpy(junk.data(), "USRP", 4);  // right eye, rubbish after it
                        junk.resize(std::max<std::size_t>(junk.size(), 33));
                        std::memset(junk.data() + 20, 0, 4);  // type voice: odd length
                        if (junk.size() == 32 + 320) {
                            junk.push_back(0);
                        }
                    }
                    rig.send(junk);
                    ++garbage;
                }
            }
        }
        next += 20ms;
        std::this_thread::sleep_until(next);
    }
    rig.send(usrpLinkChanUsrpVoice(100 + kFrames, false, nullptr));
    ASSERT_TRUE(
        rig.sink.waitFor([](const auto& ev) { return test::countOf<CallEnd>(ev) > 0; }, 10s));

    const auto ev = rig.sink.events();
    ASSERT_EQ(test::countOf<CallSetup>(ev), 1u);
    const auto ends = test::eventsOf<CallEnd>(ev);
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_EQ(ends[0].reason, EndReason::Normal);
    void* dec = D_IF_init();
    std::vector<std::int16_t> wb;
    for (const auto& v : test::eventsOf<Voice>(ev)) {
        std::int16_t out[320];
        D_IF_decode(dec, v.frame.payload.data(), out, 0);
        wb.insert(wb.end(), out, out + 320);
    }
    D_IF_exit(dec);
    // As in ChannelKeyupBecomesAnAmrWbCallAtTheToneFrequencyAndLevel: nearly all frames
    // (a packet that misses its play-out slot on a loaded machine is skipped, counted).
    EXPECT_GE(wb.size(), static_cast<std::size_t>(kFrames - 3) * 320);
    EXPECT_LE(wb.size(), static_cast<std::size_t>(kFrames) * 320);
    ASSERT_GE(wb.size(), 40u * 320);
    const std::int16_t* steady = wb.data() + 10 * 320;
    const std::size_t n = 30 * 320;
    EXPECT_NEAR(usrpLinkPeakHz(steady, n, 16000), 1000, 10);
    EXPECT_NEAR(20 * std::log10(usrpLinkRms(steady, n) / (8000 / std::sqrt(2.0))), 0, 1.0)
        << "the intruders' full-scale square wave got into the talker's audio";

    std::uint64_t counted_garbage = 0;
    for (const char* r :
         {"truncated", "bad_eye", "bad_voice_length", "bad_dtmf", "too_long", "tlv_unsupported",
          "adpcm_unsupported", "ulaw_unsupported", "unknown_type"}) {
        counted_garbage += rig.metrics.counterValue(
            "iwf_lmr_dropped_total", {{"link", "fm"}, {"peer", "other"}, {"reason", r}});
    }
    // Every garbage datagram is dropped with a codec reason (random bytes never start with
    // the eye "USRP"; the ones given the eye have an odd voice length).
    EXPECT_EQ(counted_garbage, garbage);
    EXPECT_EQ(
        rig.metrics.counterValue("iwf_lmr_dropped_total",
                                 {{"link", "fm"}, {"peer", "other"}, {"reason", "foreign_source"}}),
        foreign);
    EXPECT_EQ(
        rig.metrics.counterValue("iwf_lmr_dropped_total",
                                 {{"link", "fm"}, {"peer", "other"}, {"reason", "not_allowed"}}),
        outside);
    EXPECT_EQ(
        rig.metrics.counterValue("iwf_analog_usrp_rx_total", {{"link", "fm"}, {"type", "voice"}}),
        static_cast<std::uint64_t>(kFrames + 1) + foreign)
        << "rx_total counts every decoded voice packet; the foreign ones are also drops";
    boost::system::error_code ec;
    rig.io.runSync([&] {
        same_host.close(ec);
        outsider.close(ec);
    });
}

TEST(UsrpLink, ConfigErrorsNameTheField) {
    auto check = [](const std::string& yaml, const std::string& field) {
        try {
            (void)UsrpLinkConfig::fromConfig(ConfigNode::loadString(yaml, "iwfd.yaml"));
            ADD_FAILURE() << "accepted: " << yaml;
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.field(), field) << e.what();
            EXPECT_EQ(e.file(), "iwfd.yaml");
            EXPECT_GT(e.line(), 0);
        }
    };
    const std::string base = "name: fm\ntype: analog-usrp\n";
    check(base + "peer_port: 32001\n", "peer_address");
    check(base + "peer_address: 127.0.0.1\n", "peer_port");
    check(base + "peer_address: 127.0.0.1\npeer_port: 32001\namr_mode: 24.00\n", "amr_mode");
    check(base + "peer_address: 127.0.0.1\npeer_port: 32001\ncall_timeout: 20ms\n", "call_timeout");
    check(base + "peer_address: 127.0.0.1\npeer_port: 32001\ntalkgroup: 0\n", "talkgroup");
    check(base + "peer_address: 127.0.0.1\npeer_port: 32001\nvolume: 3\n", "volume");
    const auto ok = UsrpLinkConfig::fromConfig(ConfigNode::loadString(
        base + "peer_address: 127.0.0.1\npeer_port: 32001\namr_mode: \"8.85\"\n", "iwfd.yaml"));
    EXPECT_EQ(ok.amr_mode, media::AmrWbMode::R8_85);
    EXPECT_EQ(ok.port, 34001);
    // Every AMR-WB mode, up to 23.85 kbit/s (its 61-byte storage frame fits a VoiceFrame).
    const auto fast = UsrpLinkConfig::fromConfig(ConfigNode::loadString(
        base + "peer_address: 127.0.0.1\npeer_port: 32001\namr_mode: \"23.85\"\n", "iwfd.yaml"));
    EXPECT_EQ(fast.amr_mode, media::AmrWbMode::R23_85);
}

// `iwfctl decode usrp`: packets built as chan_usrp builds them decode to their header
// fields and the PCM's level (a full-scale-relative RMS this test computes: a sine of
// amplitude 8000 is 20 log10(8000 / sqrt(2) / 32768) = -15.25 dBFS); a broken one is an error
// line and is counted.
TEST(UsrpDecodeCli, ChanUsrpPacketsDecodeToJsonLines) {
    const auto pcm = usrpLinkTone(1000, 8000, 8000, 160);
    pcap::Capture cap;
    for (const auto& d :
         {usrpLinkChanUsrpVoice(7, true, pcm.data()), usrpLinkChanUsrpVoice(8, false, nullptr),
          std::vector<std::uint8_t>{'U', 'S', 'R', 'Q'}}) {
        cap.udp.push_back({});
        cap.udp.back().payload.assign(d.begin(), d.end());
    }
    std::vector<std::string> lines;
    EXPECT_EQ(decodeUsrpCapture(cap, std::nullopt, lines), 1u);
    ASSERT_EQ(lines.size(), 3u);
    const auto v = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(v["type"], "voice");
    EXPECT_EQ(v["seq"], 7);
    EXPECT_EQ(v["keyup"], 1);
    EXPECT_EQ(v["audio"], true);
    EXPECT_NEAR(v["rms_dbfs"].get<double>(), -15.25, 0.15);
    const auto unkey = nlohmann::json::parse(lines[1]);
    EXPECT_EQ(unkey["keyup"], 0);
    EXPECT_EQ(unkey["audio"], false);
    EXPECT_EQ(nlohmann::json::parse(lines[2])["error"], "truncated");
}

}  // namespace
}  // namespace iwf::lmr::analog
