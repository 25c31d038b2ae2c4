// The "analog-rtp" link and its codec, judged independently of the code under test:
//   - the RTP packets the test sends are built byte by byte from RFC 3550 section 5.1's
//     header diagram (V=2, P, X, CC | M, PT | sequence | timestamp | SSRC), 160 bytes of
//     G.711 per packet as a RoIP gateway sends them at 20 ms (RFC 3551 4.5 and 4.5.14);
//   - G.711 in the test is CPython audioop's (g711_vectors.inc, see g711_vectors.py): the
//     test compresses by picking the code whose audioop expansion is nearest, and expands
//     what the link sends with audioop's table, never with media/g711;
//   - the AMR-WB frames are decoded / encoded with libopencore-amrwb / libvo-amrwbenc
//     directly, as usrp_link_test.cpp does;
//   - a 1 kHz tone must come out at 1 kHz (within 10 Hz) and at its level (within 1 dB).
#include "lmr_adapters/analog/rtp_link.hpp"

#include <cmath>
#include <cstring>
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

struct G711Vector {
    std::int16_t input;
    std::uint8_t ulaw;
    std::uint8_t alaw;
};

#include "tests/unit/analog/g711_vectors.inc"

using namespace std::chrono_literals;
using test::CollectingSink;
using test::IoThread;

constexpr double kRtpLinkPi = 3.14159265358979323846;

const std::int16_t* rtpLinkTable(bool ulaw) {
    return ulaw ? kUlawExpand : kAlawExpand;
}

// The G.711 code whose audioop expansion is nearest to x.
std::uint8_t rtpLinkCompress(bool ulaw, std::int16_t x) {
    const std::int16_t* t = rtpLinkTable(ulaw);
    int best = 0;
    for (int c = 1; c < 256; ++c) {
        if (std::abs(t[c] - x) < std::abs(t[best] - x)) {
            best = c;
        }
    }
    return static_cast<std::uint8_t>(best);
}

// RFC 3550 5.1: V=2 P=0 X=0 CC=0 | M PT | seq | timestamp | SSRC, then the payload.
std::vector<std::uint8_t> rtpLinkPacket(bool marker, std::uint8_t pt, std::uint16_t seq,
                                        std::uint32_t ts, std::uint32_t ssrc,
                                        const std::vector<std::uint8_t>& payload) {
    std::vector<std::uint8_t> d = {0x80,
                                   static_cast<std::uint8_t>((marker ? 0x80 : 0) | pt),
                                   static_cast<std::uint8_t>(seq >> 8),
                                   static_cast<std::uint8_t>(seq),
                                   static_cast<std::uint8_t>(ts >> 24),
                                   static_cast<std::uint8_t>(ts >> 16),
                                   static_cast<std::uint8_t>(ts >> 8),
                                   static_cast<std::uint8_t>(ts),
                                   static_cast<std::uint8_t>(ssrc >> 24),
                                   static_cast<std::uint8_t>(ssrc >> 16),
                                   static_cast<std::uint8_t>(ssrc >> 8),
                                   static_cast<std::uint8_t>(ssrc)};
    d.insert(d.end(), payload.begin(), payload.end());
    return d;
}

std::vector<std::int16_t> rtpLinkTone(double hz, double amplitude, int rate, std::size_t n) {
    std::vector<std::int16_t> s(n);
    for (std::size_t i = 0; i < n; ++i) {
        s[i] = static_cast<std::int16_t>(amplitude * std::sin(2 * kRtpLinkPi * hz * i / rate));
    }
    return s;
}

std::vector<std::uint8_t> rtpLinkG711(bool ulaw, const std::int16_t* pcm) {
    std::vector<std::uint8_t> out(160);
    for (int i = 0; i < 160; ++i) {
        out[i] = rtpLinkCompress(ulaw, pcm[i]);
    }
    return out;
}

double rtpLinkRms(const std::int16_t* s, std::size_t n) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        sum += static_cast<double>(s[i]) * s[i];
    }
    return std::sqrt(sum / static_cast<double>(n));
}

double rtpLinkPeakHz(const std::int16_t* s, std::size_t n, int rate) {
    double best = 0;
    double best_hz = 0;
    for (double f = 200; f <= 3400; f += 10) {
        double re = 0;
        double im = 0;
        for (std::size_t i = 0; i < n; ++i) {
            re += s[i] * std::cos(2 * kRtpLinkPi * f * i / rate);
            im += s[i] * std::sin(2 * kRtpLinkPi * f * i / rate);
        }
        if (re * re + im * im > best) {
            best = re * re + im * im;
            best_hz = f;
        }
    }
    return best_hz;
}

// Decodes the link's AMR-WB frames with libopencore-amrwb: 16 kHz PCM.
std::vector<std::int16_t> rtpLinkDecodeAmr(const std::vector<Voice>& voices) {
    void* dec = D_IF_init();
    std::vector<std::int16_t> wb;
    for (const auto& v : voices) {
        std::int16_t out[320];
        D_IF_decode(dec, v.frame.payload.data(), out, 0);
        wb.insert(wb.end(), out, out + 320);
    }
    D_IF_exit(dec);
    return wb;
}

struct RtpLinkRig {
    IoThread io;
    metrics::Registry metrics;
    SteadyClock clock;
    CollectingSink sink;
    asio::ip::udp::socket peer{io.io};  // plays the RoIP gateway
    std::unique_ptr<AnalogRtpLink> link;

    explicit RtpLinkRig(const std::function<void(AnalogRtpLinkConfig&)>& tweak = {}) {
        peer.open(asio::ip::udp::v4());
        peer.bind({asio::ip::make_address("127.0.0.1"), 0});
        AnalogRtpLinkConfig cfg;
        cfg.name = "roip";
        cfg.address = "127.0.0.1";
        cfg.port = 0;
        cfg.peer_address = "127.0.0.1";
        cfg.peer_port = peer.local_endpoint().port();
        cfg.talkgroup = 4200;
        if (tweak) {
            tweak(cfg);
        }
        link = std::make_unique<AnalogRtpLink>(cfg, io.io, metrics, clock);
        Status st = Error{"not started"};
        io.runSync([&] { st = link->start(sink); });
        EXPECT_TRUE(st);
    }
    ~RtpLinkRig() {
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
    std::uint64_t dropped(std::string_view reason) {
        return metrics.counterValue(
            "iwf_lmr_dropped_total",
            {{"link", "roip"}, {"peer", "other"}, {"reason", std::string(reason)}});
    }
    std::uint64_t keyups(std::string_view cause) {
        return metrics.counterValue("iwf_analog_keyups_total",
                                    {{"link", "roip"}, {"cause", std::string(cause)}});
    }
};

// ---- codec ----

TEST(AnalogRtpCodec, DecodesRfc3550HeaderAndG711Payload) {
    const std::vector<std::uint8_t> payload(160, 0xFF);
    const auto d = rtpLinkPacket(true, 8, 0xBEEF, 0x01020304, 0xCAFEF00D, payload);
    auto p = decodeAnalogRtp(d);
    ASSERT_TRUE(p) << p.error().reason;
    EXPECT_TRUE(p->marker);
    EXPECT_EQ(p->payload_type, 8);
    EXPECT_EQ(p->sequence, 0xBEEF);
    EXPECT_EQ(p->timestamp, 0x01020304u);
    EXPECT_EQ(p->ssrc, 0xCAFEF00Du);
    EXPECT_EQ(p->payload.size(), 160u);

    // One CSRC, a one-word extension and 4 octets of padding (RFC 3550 5.1, 5.3.1).
    std::vector<std::uint8_t> x = d;
    x[0] = 0x80 | 0x20 | 0x10 | 0x01;
    const std::uint8_t extra[] = {0, 0, 0, 9, 0xBE, 0xDE, 0, 1, 1, 2, 3, 4};
    x.insert(x.begin() + 12, std::begin(extra), std::end(extra));
    x.insert(x.end(), {0, 0, 0, 4});
    auto q = decodeAnalogRtp(x);
    ASSERT_TRUE(q) << q.error().reason;
    EXPECT_EQ(q->csrc_count, 1);
    EXPECT_EQ(q->payload.size(), 160u);
    EXPECT_EQ(q->payload[0], 0xFF);

    AnalogRtpBuffer out;
    ASSERT_TRUE(encodeAnalogRtp(*p, out));
    EXPECT_EQ(std::vector<std::uint8_t>(out.data(), out.data() + out.size()), d);
}

TEST(AnalogRtpCodec, MalformedPacketsAreNamed) {
    const std::vector<std::uint8_t> payload(160, 0xD5);
    const auto good = rtpLinkPacket(false, 0, 1, 160, 7, payload);
    auto reason = [](const std::vector<std::uint8_t>& d) {
        auto p = decodeAnalogRtp(d);
        return p ? std::string("ok") : std::string(p.error().reason);
    };
    EXPECT_EQ(reason(good), "ok");
    EXPECT_EQ(reason({0x80, 0, 0}), "truncated");
    auto v1 = good;
    v1[0] = 0x40;
    EXPECT_EQ(reason(v1), "bad_version");
    auto cc = good;
    cc[0] = 0x8F;  // 15 CSRCs = 60 bytes of 160: the payload is short, not the header
    EXPECT_EQ(reason(cc), "bad_payload_length");
    auto cc_short = rtpLinkPacket(false, 0, 1, 160, 7, {});
    cc_short[0] = 0x82;
    EXPECT_EQ(reason(cc_short), "truncated");
    auto ext = good;
    ext[0] = 0x90;
    ext[14] = 0xFF;  // extension length 0xFFxx words
    EXPECT_EQ(reason(ext), "bad_extension");
    auto pad = good;
    pad[0] = 0xA0;
    pad.back() = 0;
    EXPECT_EQ(reason(pad), "bad_padding");
    auto pt = good;
    pt[1] = 18;  // G.729
    EXPECT_EQ(reason(pt), "wrong_pt");
    auto len = good;
    len.resize(12 + 80);  // 10 ms
    EXPECT_EQ(reason(len), "bad_payload_length");
}

// ---- link: LMR -> MC ----

// A RoIP gateway keys up (marker on the first packet, RFC 3551 4.1) and streams 1 s of a
// µ-law 1 kHz tone; among its packets arrive a foreign SSRC, the other law, a G.729 packet
// and malformed datagrams. The tone arrives whole and at its level, every intruder is
// counted, and the transmission ends hang_time after the stream stops.
TEST(AnalogRtpLink, MarkerKeysUpToneCrossesAndIntrudersAreCountedNotCarried) {
    RtpLinkRig rig([](AnalogRtpLinkConfig& c) { c.hang_time = 200ms; });
    constexpr int kFrames = 50;
    const auto pcm = rtpLinkTone(1000, 8000, 8000, kFrames * 160);
    const std::vector<std::uint8_t> loud(160, 0x80);  // µ-law full scale
    auto next = std::chrono::steady_clock::now();
    for (int i = 0; i < kFrames; ++i) {
        rig.send(rtpLinkPacket(i == 0, 0, static_cast<std::uint16_t>(1000 + i),
                               5000 + 160 * static_cast<std::uint32_t>(i), 0x11111111,
                               rtpLinkG711(true, pcm.data() + i * 160)));
        if (i % 10 == 5) {
            // Foreign talker (another SSRC, marked), the other law, G.729, garbage.
            rig.send(rtpLinkPacket(true, 0, 7, 7, 0x22222222, loud));
            rig.send(rtpLinkPacket(false, 8, 8, 8, 0x11111111, loud));
            rig.send(rtpLinkPacket(false, 18, 9, 9, 0x11111111, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
            rig.send({0x00, 0x01, 0x02});
        }
        next += 20ms;
        std::this_thread::sleep_until(next);
    }
    ASSERT_TRUE(
        rig.sink.waitFor([](const auto& ev) { return test::countOf<CallEnd>(ev) > 0; }, 10s));

    const auto ev = rig.sink.events();
    const auto setups = test::eventsOf<CallSetup>(ev);
    ASSERT_EQ(setups.size(), 1u);
    EXPECT_EQ(setups[0].callee, Address{AnalogGroup{4200}});
    EXPECT_EQ(setups[0].kind, CallKind::Group);
    ASSERT_TRUE(setups[0].crypto);
    EXPECT_FALSE(setups[0].crypto->encrypted);
    EXPECT_EQ(setups[0].codec, VoiceCodec::AmrWb);
    const auto ends = test::eventsOf<CallEnd>(ev);
    ASSERT_EQ(ends.size(), 1u);
    EXPECT_EQ(ends[0].reason, EndReason::Normal);
    EXPECT_EQ(ends[0].detail, "stream stopped");
    EXPECT_EQ(rig.keyups("marker"), 1u);

    const auto voices = test::eventsOf<Voice>(ev);
    for (const auto& v : voices) {
        EXPECT_EQ(v.call, setups[0].call);
        EXPECT_EQ((v.frame.payload.data()[0] >> 3) & 0x0F, 2);  // FT 2, 12.65 kbit/s
    }
    // As in usrp_link_test.cpp: play-out runs on the link's 20 ms clock; a packet that
    // misses its slot on a loaded machine is skipped (counted). Nearly all come through,
    // and no intruder added a frame.
    EXPECT_GE(voices.size(), static_cast<std::size_t>(kFrames - 3));
    EXPECT_LE(voices.size(), static_cast<std::size_t>(kFrames));
    const auto wb = rtpLinkDecodeAmr(voices);
    ASSERT_GE(wb.size(), 40u * 320);
    const std::int16_t* steady = wb.data() + 10 * 320;
    const std::size_t n = 30 * 320;
    EXPECT_NEAR(rtpLinkPeakHz(steady, n, 16000), 1000, 10);
    const double level_db = 20 * std::log10(rtpLinkRms(steady, n) / (8000 / std::sqrt(2.0)));
    EXPECT_NEAR(level_db, 0, 1.0) << "level change through the link";

    EXPECT_EQ(rig.dropped("foreign_ssrc"), 5u);
    EXPECT_EQ(rig.dropped("wrong_pt"), 10u);  // 5 A-law + 5 G.729
    EXPECT_EQ(rig.dropped("truncated"), 5u);
    EXPECT_EQ(rig.metrics.counterValue("iwf_analog_rtp_rx_total", {{"link", "roip"}}),
              static_cast<std::uint64_t>(kFrames));
}

TEST(AnalogRtpLink, UnmarkedPacketsDoNotKeyUpInMarkerMode) {
    RtpLinkRig rig;
    const std::vector<std::uint8_t> loud(160, 0x80);
    for (int i = 0; i < 5; ++i) {
        rig.send(rtpLinkPacket(false, 0, static_cast<std::uint16_t>(i),
                               160 * static_cast<std::uint32_t>(i), 0x33, loud));
    }
    EXPECT_TRUE(test::eventually([&] { return rig.dropped("no_marker") == 5; }));
    EXPECT_EQ(rig.sink.events().size(), 0u);
    EXPECT_EQ(rig.keyups("marker"), 0u);
}

// A gateway that streams all the time and never sets the marker (key_detect: vad): idle
// packets (A-law digital silence, -72 dBFS) key nothing; a tone keys up; the silence after it
// is carried for hang_time and then the transmission ends; the idle stream that follows
// keys nothing, and the next tone is a new transmission.
TEST(AnalogRtpLink, VadKeysOnVoiceAndUnkeysAfterHangTime) {
    RtpLinkRig rig([](AnalogRtpLinkConfig& c) {
        c.key_detect = KeyDetect::Vad;
        c.law = media::G711Law::Alaw;
        c.hang_time = 200ms;
    });
    const auto tone = rtpLinkTone(1000, 3000, 8000, 160 * 30);  // -23.8 dBFS
    const std::vector<std::uint8_t> idle(160, 0xD5);            // A-law +8
    std::uint16_t seq = 100;
    std::uint32_t ts = 90000;
    std::size_t voiced = 0;
    auto next = std::chrono::steady_clock::now();
    auto send = [&](const std::vector<std::uint8_t>& payload) {
        rig.send(rtpLinkPacket(false, 8, seq++, ts, 0x44444444, payload));
        ts += 160;
        next += 20ms;
        std::this_thread::sleep_until(next);
    };
    auto talk = [&] {
        for (int i = 0; i < 30; ++i) {
            send(rtpLinkG711(false, tone.data() + i * 160));
        }
    };
    for (int i = 0; i < 10; ++i) {
        send(idle);
    }
    talk();
    // Idle until the link has ended the transmission (hang_time 200 ms = 10 packets; the
    // deadline is generous), and 10 more packets after that.
    int idle_sent = 0;
    while (rig.sink.count<CallEnd>() == 0 && idle_sent < 500) {
        send(idle);
        ++idle_sent;
    }
    ASSERT_EQ(rig.sink.count<CallEnd>(), 1u);
    EXPECT_GE(idle_sent, 8);  // the pause was carried, not cut at the first idle packet
    voiced = rig.sink.count<Voice>();
    for (int i = 0; i < 10; ++i) {
        send(idle);
    }
    talk();
    ASSERT_TRUE(
        rig.sink.waitFor([](const auto& ev) { return test::countOf<CallEnd>(ev) >= 2; }, 10s));

    const auto ev = rig.sink.events();
    EXPECT_EQ(test::countOf<CallSetup>(ev), 2u);
    const auto ends = test::eventsOf<CallEnd>(ev);
    EXPECT_EQ(ends[0].reason, EndReason::Normal);
    EXPECT_EQ(ends[0].detail, "vad hang time");
    EXPECT_EQ(rig.keyups("vad"), 2u);
    EXPECT_EQ(rig.keyups("marker"), 0u);
    // The first transmission: 30 tone frames and the ~10 frames of hang time.
    EXPECT_GE(voiced, 30u + 5u);
    EXPECT_LE(voiced, 30u + 20u);
    const auto voices = test::eventsOf<Voice>(ev);
    const auto wb = rtpLinkDecodeAmr(voices);
    ASSERT_GE(wb.size(), 25u * 320);
    EXPECT_NEAR(rtpLinkPeakHz(wb.data() + 8 * 320, 15 * 320, 16000), 1000, 10);
    const double level_db =
        20 * std::log10(rtpLinkRms(wb.data() + 8 * 320, 15 * 320) / (3000 / std::sqrt(2.0)));
    EXPECT_NEAR(level_db, 0, 1.0);
}

// ---- link: MC -> LMR ----

TEST(AnalogRtpLink, McAmrWbBecomesMarkedG711RtpWithRfc3550Numbering) {
    RtpLinkRig rig;  // µ-law
    constexpr int kFrames = 40;
    constexpr int kLost = 20;
    const auto wb = rtpLinkTone(1000, 8000, 16000, kFrames * 320);
    void* enc = E_IF_init();
    std::vector<VoiceFrame> frames;
    for (int i = 0; i < kFrames; ++i) {
        std::uint8_t out[64];
        const int len = E_IF_encode(enc, 2, wb.data() + i * 320, out, 0);
        ASSERT_EQ(len, 33);
        VoiceFrame f;
        f.codec = VoiceCodec::AmrWb;
        f.crypto = CryptoSync::clear(LmrFamily::Analog);
        f.seq = static_cast<std::uint32_t>(i);
        f.payload.assign(ByteView(out, static_cast<std::size_t>(len)));
        frames.push_back(f);
    }
    E_IF_exit(enc);

    struct Rx {
        bool marker;
        std::uint8_t pt;
        std::uint16_t seq;
        std::uint32_t ts;
        std::uint32_t ssrc;
        std::vector<std::int16_t> pcm;
    };
    std::vector<Rx> got;
    rig.peer.non_blocking(true);
    auto receive = [&](std::size_t want) {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
            std::uint8_t b[512];
            asio::ip::udp::endpoint from;
            boost::system::error_code ec;
            const std::size_t n = rig.peer.receive_from(asio::buffer(b), from, 0, ec);
            if (ec == asio::error::would_block) {
                std::this_thread::sleep_for(2ms);
                continue;
            }
            ASSERT_FALSE(ec) << ec.message();
            ASSERT_EQ(n, 12u + 160u);
            ASSERT_EQ(b[0], 0x80);  // V=2, no padding, extension or CSRC
            Rx r{(b[1] & 0x80) != 0,
                 static_cast<std::uint8_t>(b[1] & 0x7F),
                 static_cast<std::uint16_t>(b[2] << 8 | b[3]),
                 static_cast<std::uint32_t>(b[4]) << 24 | static_cast<std::uint32_t>(b[5]) << 16 |
                     static_cast<std::uint32_t>(b[6]) << 8 | b[7],
                 static_cast<std::uint32_t>(b[8]) << 24 | static_cast<std::uint32_t>(b[9]) << 16 |
                     static_cast<std::uint32_t>(b[10]) << 8 | b[11],
                 {}};
            for (int i = 0; i < 160; ++i) {
                r.pcm.push_back(kUlawExpand[b[12 + i]]);
            }
            got.push_back(std::move(r));
        }
    };

    auto transmit = [&](CallRef ref, int count, int lost) {
        CallSetup s;
        s.call = ref;
        s.callee = AnalogGroup{4200};
        s.codec = VoiceCodec::AmrWb;
        Status st;
        rig.io.runSync([&] { st = rig.link->deliver(Event{s}); });
        ASSERT_TRUE(st);
        for (int i = 0; i < count; ++i) {
            if (i == lost) {
                continue;
            }
            rig.io.runSync([&] { st = rig.link->deliver(Event{Voice{ref, frames[i]}}); });
            ASSERT_TRUE(st) << st.error().reason;
        }
        rig.io.runSync([&] { st = rig.link->deliver(Event{CallEnd{ref, EndReason::Normal, ""}}); });
        ASSERT_TRUE(st);
    };
    const CallRef first = (CallRef{1} << 63) | 1;
    transmit(first, kFrames, kLost);
    receive(kFrames);  // 39 decoded + 1 concealed
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kFrames));
    std::this_thread::sleep_for(100ms);  // silence between the transmissions (not asserted on)
    const CallRef second = (CallRef{1} << 63) | 2;
    transmit(second, 5, -1);
    receive(kFrames + 5);
    ASSERT_EQ(got.size(), static_cast<std::size_t>(kFrames + 5));

    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].pt, 0);  // PCMU
        EXPECT_EQ(got[i].ssrc, got[0].ssrc);
        // RFC 3551 4.1: the marker on the first packet of each talkspurt only.
        EXPECT_EQ(got[i].marker, i == 0 || i == kFrames) << i;
        if (i > 0) {
            EXPECT_EQ(static_cast<std::uint16_t>(got[i].seq - got[i - 1].seq), 1) << i;
            if (i != kFrames) {
                EXPECT_EQ(got[i].ts - got[i - 1].ts, 160u) << i;
            }
        }
    }
    // The timestamp follows the sampling clock across the silence: at least the 100 ms slept.
    EXPECT_GE(got[kFrames].ts - got[kFrames - 1].ts, 160u + 800u);
    EXPECT_EQ(rig.metrics.counterValue("iwf_analog_concealed_frames_total", {{"link", "roip"}}),
              1u);

    std::vector<std::int16_t> pcm;
    for (int i = 5; i < 20; ++i) {
        pcm.insert(pcm.end(), got[i].pcm.begin(), got[i].pcm.end());
    }
    EXPECT_NEAR(rtpLinkPeakHz(pcm.data(), pcm.size(), 8000), 1000, 10);
    const double level_db =
        20 * std::log10(rtpLinkRms(pcm.data(), pcm.size()) / (8000 / std::sqrt(2.0)));
    EXPECT_NEAR(level_db, 0, 1.0);

    // Refused: encrypted and a digital vocoder, as on the USRP link.
    const CallRef third = (CallRef{1} << 63) | 3;
    CallSetup s;
    s.call = third;
    s.codec = VoiceCodec::AmrWb;
    Status st;
    rig.io.runSync([&] { st = rig.link->deliver(Event{s}); });
    VoiceFrame imbe = frames[0];
    imbe.codec = VoiceCodec::ImbeFullRate;
    rig.io.runSync([&] { st = rig.link->deliver(Event{Voice{third, imbe}}); });
    EXPECT_FALSE(st);
    EXPECT_EQ(rig.metrics.counterValue("iwf_analog_refused_frames_total",
                                       {{"link", "roip"}, {"reason", "no_vocoder"}}),
              1u);
}

TEST(AnalogRtpLink, ConfigErrorsNameTheField) {
    auto check = [](const std::string& yaml, const std::string& field) {
        try {
            (void)AnalogRtpLinkConfig::fromConfig(ConfigNode::loadString(yaml, "iwfd.yaml"));
            ADD_FAILURE() << "accepted: " << yaml;
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.field(), field) << e.what();
            EXPECT_EQ(e.file(), "iwfd.yaml");
            EXPECT_GT(e.line(), 0);
        }
    };
    const std::string base = "name: roip\ntype: analog-rtp\n";
    const std::string peer = "peer_address: 127.0.0.1\npeer_port: 5004\n";
    check(base + "peer_port: 5004\n", "peer_address");
    check(base + peer + "law: g729\n", "law");
    check(base + peer + "key_detect: cor\n", "key_detect");
    check(base + peer + "vad_threshold_dbfs: 3\n", "vad_threshold_dbfs");
    check(base + peer + "vad_threshold_dbfs: -120\n", "vad_threshold_dbfs");
    check(base + peer + "hang_time: 20ms\n", "hang_time");
    check(base + peer + "hang_time: 30s\n", "hang_time");
    check(base + peer + "amr_mode: 24.00\n", "amr_mode");
    EXPECT_EQ(AnalogRtpLinkConfig::fromConfig(
                  ConfigNode::loadString(base + peer + "amr_mode: \"18.25\"\n", "x"))
                  .amr_mode,
              media::AmrWbMode::R18_25);
    check(base + peer + "marker: true\n", "marker");
    const auto dflt = AnalogRtpLinkConfig::fromConfig(ConfigNode::loadString(base + peer, "x"));
    EXPECT_EQ(dflt.law, media::G711Law::Ulaw);
    EXPECT_EQ(dflt.key_detect, KeyDetect::Marker);
    EXPECT_EQ(dflt.vad_threshold_dbfs, -45);
    EXPECT_EQ(dflt.hang_time, 500ms);
    EXPECT_EQ(dflt.port, 34100);
    const auto vad = AnalogRtpLinkConfig::fromConfig(ConfigNode::loadString(
        base + peer + "law: pcma\nkey_detect: vad\nvad_threshold_dbfs: -50\nhang_time: 1s\n", "x"));
    EXPECT_EQ(vad.law, media::G711Law::Alaw);
    EXPECT_EQ(vad.key_detect, KeyDetect::Vad);
    EXPECT_EQ(vad.vad_threshold_dbfs, -50);
    EXPECT_EQ(vad.hang_time, 1000ms);
}

// `iwfctl decode analog-rtp`: a packet built per RFC 3550 decodes to its header and the
// level of its payload (a tone of amplitude 8000 is 20 log10(8000 / sqrt(2) / 32768) =
// -15.25 dBFS; G.711 quantisation moves it by well under 0.2 dB); a broken one is an error.
TEST(AnalogRtpDecodeCli, PacketsDecodeToJsonLines) {
    const auto pcm = rtpLinkTone(1000, 8000, 8000, 160);
    pcap::Capture cap;
    for (const auto& d :
         {rtpLinkPacket(true, 0, 42, 160, 0xABCDEF01, rtpLinkG711(true, pcm.data())),
          rtpLinkPacket(false, 8, 43, 320, 0xABCDEF01, rtpLinkG711(false, pcm.data())),
          rtpLinkPacket(false, 18, 44, 480, 1, {1, 2})}) {
        cap.udp.push_back({});
        cap.udp.back().payload.assign(d.begin(), d.end());
    }
    std::vector<std::string> lines;
    EXPECT_EQ(decodeAnalogRtpCapture(cap, std::nullopt, lines), 1u);
    ASSERT_EQ(lines.size(), 3u);
    const auto a = nlohmann::json::parse(lines[0]);
    EXPECT_EQ(a["marker"], true);
    EXPECT_EQ(a["pt"], 0);
    EXPECT_EQ(a["law"], "pcmu");
    EXPECT_EQ(a["seq"], 42);
    EXPECT_EQ(a["timestamp"], 160);
    EXPECT_EQ(a["ssrc"], "abcdef01");
    EXPECT_NEAR(a["rms_dbfs"].get<double>(), -15.25, 0.2);
    const auto b = nlohmann::json::parse(lines[1]);
    EXPECT_EQ(b["law"], "pcma");
    EXPECT_EQ(b["marker"], false);
    EXPECT_NEAR(b["rms_dbfs"].get<double>(), -15.25, 0.2);
    EXPECT_EQ(nlohmann::json::parse(lines[2])["error"], "wrong_pt");
}

}  // namespace
}  // namespace iwf::lmr::analog
