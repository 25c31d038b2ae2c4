// TS 33.180 media protection on the IWF-1 link's calls (mcptt_link_security.cpp), judged by an
// MC peer that speaks SRTP / SRTCP through libsrtp2's own API (srtp_create, srtp_protect_mki,
// srtp_unprotect_mki, the _rtcp variants), not through our SrtpSession wrapper, with master
// keys it derives itself: RFC 3830 §4.1.3 labels written out here and hashed with OpenSSL's
// TLS1-PRF (the MIKEY PRF with HMAC-SHA-256 is TLS 1.2's P_SHA256 for one key piece, see
// key_derivation_test.cpp), as 33.180 §7.4.2 (GMK, CS-ID 4, CSB ID = GUK-ID) and the CSK
// SRTCP session (CS-ID 6) need. MKI = GMK-ID || GUK-ID (§7.4.2), CSK-ID for floor control.
#include <cstdlib>
#include <fstream>
#include <srtp2/srtp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "mc_adapters/rtp/lmr_payload.hpp"
#include "mc_adapters/rtp/udp_endpoint.hpp"
#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/key_mgmt.hpp"
#include "mc_adapters/security/mikey_sakke.hpp"
#include "mc_adapters/security/sakke.hpp"
#include "tests/unit/mc_mcptt/mcptt_link_fixture.hpp"

namespace iwf::mc::mcptt {
namespace {

using security::DistributedKey;
using security::KeyPurpose;
using test::runUntil;

Bytes hex(std::string_view s) {
    return fromHex(s).value();
}

Bytes tlsPrfSha256(ByteView secret, ByteView seed, std::size_t n) {
    EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr);
    EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET,
                                          const_cast<std::uint8_t*>(secret.data()), secret.size()),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED,
                                          const_cast<std::uint8_t*>(seed.data()), seed.size()),
        OSSL_PARAM_construct_end()};
    Bytes out(n);
    EXPECT_EQ(EVP_KDF_derive(ctx, out.data(), n, params), 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return out;
}

void be32(Bytes& b, std::uint32_t v) {
    for (int i = 3; i >= 0; --i) {
        b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
    }
}

// RFC 3830 §4.1.3 / §4.1.4: PRF(TGK, constant || CS-ID || CSB ID || RAND); key 16, salt 12.
Bytes masterKeyAndSalt(const DistributedKey& k, std::uint8_t cs_id) {
    Bytes out;
    for (std::uint32_t constant : {0x2AD01C64u, 0x39A2C14Bu}) {
        Bytes label;
        be32(label, constant);
        label.push_back(cs_id);
        be32(label, k.csb_id);
        label.insert(label.end(), k.rand.begin(), k.rand.end());
        Bytes piece = tlsPrfSha256(k.key, label, constant == 0x2AD01C64u ? 16 : 12);
        out.insert(out.end(), piece.begin(), piece.end());
    }
    return out;
}

Bytes mkiOf(const DistributedKey& k) {
    Bytes m;
    be32(m, k.key_id);
    if (k.purpose == KeyPurpose::Gmk) {
        be32(m, k.csb_id);  // 33.180 §7.4.2: GMK-ID || GUK-ID
    }
    return m;
}

DistributedKey key(KeyPurpose p, std::uint32_t id, std::uint32_t csb, std::string_view k) {
    DistributedKey d;
    d.purpose = p;
    d.key = hex(k);
    d.key_id = id;
    d.csb_id = csb;
    d.rand = hex("ca2f5d51ff0866362c1d85a56f84651e");
    d.profile = security::SrtpProfile::AeadAes128Gcm;
    return d;
}

// One libsrtp2 session of the MC peer (AEAD_AES_128_GCM, RFC 7714), with every key given and
// an MKI in every packet; sends with keys[send].
struct PeerSrtp {
    srtp_t s = nullptr;
    std::vector<Bytes> bufs;
    std::vector<Bytes> mkis;
    PeerSrtp(const std::vector<DistributedKey>& keys, std::uint8_t cs_id, bool outbound) {
        srtp_init();
        std::vector<srtp_master_key_t> mk(keys.size());
        std::vector<srtp_master_key_t*> ptrs;
        for (const auto& k : keys) {
            bufs.push_back(masterKeyAndSalt(k, cs_id));
            mkis.push_back(mkiOf(k));
        }
        for (std::size_t i = 0; i < keys.size(); ++i) {
            mk[i].key = bufs[i].data();
            mk[i].mki_id = mkis[i].data();
            mk[i].mki_size = static_cast<unsigned>(mkis[i].size());
            ptrs.push_back(&mk[i]);
        }
        srtp_policy_t pol{};
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
        pol.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
        pol.keys = ptrs.data();
        pol.num_master_keys = keys.size();
        pol.window_size = 128;
        EXPECT_EQ(srtp_create(&s, &pol), srtp_err_status_ok);
    }
    ~PeerSrtp() { srtp_dealloc(s); }
    PeerSrtp(const PeerSrtp&) = delete;
    PeerSrtp& operator=(const PeerSrtp&) = delete;
    Bytes protect(Bytes p, bool rtcp, unsigned idx = 0) {
        int n = static_cast<int>(p.size());
        p.resize(p.size() + SRTP_MAX_TRAILER_LEN + 8);
        const auto st = rtcp ? srtp_protect_rtcp_mki(s, p.data(), &n, 1, idx)
                             : srtp_protect_mki(s, p.data(), &n, 1, idx);
        EXPECT_EQ(st, srtp_err_status_ok);
        p.resize(static_cast<std::size_t>(n));
        return p;
    }
    std::optional<Bytes> unprotect(Bytes p, bool rtcp) {
        int n = static_cast<int>(p.size());
        const auto st = rtcp ? srtp_unprotect_rtcp_mki(s, p.data(), &n, 1)
                             : srtp_unprotect_mki(s, p.data(), &n, 1);
        if (st != srtp_err_status_ok) {
            return std::nullopt;
        }
        p.resize(static_cast<std::size_t>(n));
        return p;
    }
};

VoiceFrame lmrFrame(std::uint8_t index, std::uint32_t superframe = 1) {
    VoiceFrame f;
    f.codec = VoiceCodec::ImbeFullRate;
    f.pos = {superframe, index};
    f.crypto.family = LmrFamily::P25;
    f.crypto.encrypted = true;
    f.crypto.algid = 0x84;
    f.crypto.key_id = 0x0101;
    const std::uint8_t mi[9] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99};
    f.crypto.mi.assign(ByteView(mi, sizeof(mi)));
    std::uint8_t imbe[11];
    for (int k = 0; k < 11; ++k) {
        imbe[k] = static_cast<std::uint8_t>(0x5A ^ (16 * index + k + superframe));
    }
    f.payload.assign(ByteView(imbe, sizeof(imbe)));
    return f;
}

// An RTP packet as the MC peer builds it (RFC 3550 §5.1) around the LMR payload.
Bytes rtpPacket(std::uint16_t seq, std::uint32_t ssrc, const VoiceFrame& f) {
    Bytes p = {0x80, 96, static_cast<std::uint8_t>(seq >> 8), static_cast<std::uint8_t>(seq)};
    be32(p, 160u * seq);
    be32(p, ssrc);
    EXPECT_TRUE(rtp::encodeLmrPayload(f, p).ok());
    return p;
}

Bytes toBytes(ByteView v) {
    return Bytes(v.begin(), v.end());
}

bool contains(const Bytes& hay, const Bytes& needle) {
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

struct McpttLinkSrtp : test::McpttLinkFixture {
    const DistributedKey gmk1 =
        key(KeyPurpose::Gmk, 0x0df9bc39, 0x06a12aea, "07d1a1677ac36d8e81620484689b3c2d");
    const DistributedKey gmk2 =
        key(KeyPurpose::Gmk, 0x0aa00001, 0x0bb00002, "b4c96b703acd5c1bf7d4cc45068d9965");
    const DistributedKey csk =
        key(KeyPurpose::Csk, 0x20000123, 0x20000123, "00112233445566778899aabbccddeeff");
    asio::ip::address lo = asio::ip::make_address("127.0.0.1");
    rtp::UdpEndpoint peer_voice{io};
    rtp::UdpEndpoint peer_floor{io};
    std::vector<Bytes> voice_rx;  // datagrams the MC peer received, as they came
    std::vector<Bytes> floor_rx;
    CallRef ref = 0;
    McpttMedia ans;

    void startWith(MediaProtection mode) {
        McpttLinkConfig c = linkConfig();
        c.media_protection.groups = {{"sip:secure@mc.example", mode}};
        McpttLinkFixture::startLink(c);
        ASSERT_TRUE(peer_voice
                        .open({lo, 0},
                              [this](ByteView d, const rtp::Udp::endpoint&) {
                                  voice_rx.emplace_back(d.begin(), d.end());
                              })
                        .ok());
        ASSERT_TRUE(peer_floor
                        .open({lo, 0},
                              [this](ByteView d, const rtp::Udp::endpoint&) {
                                  floor_rx.emplace_back(d.begin(), d.end());
                              })
                        .ok());
    }
    void callIn() {
        McpttMedia m;
        m.address = "127.0.0.1";
        m.audio_port = peer_voice.localEndpoint().port();
        m.floor = true;
        m.floor_port = peer_floor.localEndpoint().port();
        m.floor_params = {true, 3, false, false};
        McpttInfo info;
        info.session_type = "prearranged";
        info.calling_user_id = "sip:alice@mc.example";
        info.calling_group_id = "sip:secure@mc.example";
        sip::Message invite = groupInvite(m, info);
        std::optional<sip::Message> ok;
        mc->sendRequest(invite, linkPeer(), [&](const sip::Message& r) {
            if (r.status() == 200) {
                ok = r;
            }
        });
        ASSERT_TRUE(runUntil(io, [&] { return ok.has_value(); }));
        ASSERT_EQ(sink.all<CallSetup>().size(), 1u);
        ref = sink.all<CallSetup>()[0].call;
        auto sdp = sip::parseSdp(sip::bodyOfType(*ok, sip::kSdpContentType).value_or(""));
        ASSERT_TRUE(sdp.ok());
        ans = readMcpttSdp(*sdp).value();
        mc->sendAck(sip::Dialog::asUac(invite, *ok, linkPeer()).makeAck(1), linkPeer());
    }
    std::uint64_t rtpDropped(std::string_view reason) {
        return reg.counterValue(
            "iwf_mc_rtp_dropped_total",
            {{"link", "iwf1"}, {"peer", "mc"}, {"reason", std::string(reason)}});
    }
    void sendVoiceToLink(const Bytes& b) {
        ASSERT_TRUE(peer_voice.sendTo(b, {lo, ans.audio_port}).ok());
    }
};

TEST_F(McpttLinkSrtp, GroupCallIsSrtpBothWaysUnderTheGmkAndTheLmrPayloadIsUnchanged) {
    startWith(MediaProtection::Required);
    ASSERT_TRUE(link->setGroupKey("sip:secure@mc.example", gmk1).ok());
    callIn();
    ASSERT_TRUE(link->mediaProtected(ref));
    PeerSrtp tx({gmk1}, 4, true);
    PeerSrtp rx({gmk1}, 4, false);

    // MC -> IWF: SRTP the peer's libsrtp made; the link hands the same LMR frames up.
    std::vector<VoiceFrame> up;
    for (std::uint8_t i = 0; i < 9; ++i) {
        up.push_back(lmrFrame(i));
        sendVoiceToLink(tx.protect(rtpPacket(100 + i, 0x4d430001, up.back()), false));
    }
    ASSERT_TRUE(runUntil(io, [&] { return sink.all<Voice>().size() == 9; }));
    const auto got_voice = sink.all<Voice>();
    for (std::size_t i = 0; i < 9; ++i) {
        const VoiceFrame& got = got_voice[i].frame;
        EXPECT_EQ(got.payload, up[i].payload) << i;
        EXPECT_EQ(got.crypto, up[i].crypto) << i;
        EXPECT_EQ(got.pos, up[i].pos) << i;
    }

    // IWF -> MC: nothing of the LMR payload in the clear on the wire; MKI = GMK-ID || GUK-ID
    // last (RFC 7714 §8: the GCM tag is part of the ciphertext, the MKI follows it); libsrtp
    // decrypts it to the frame the engine gave.
    std::vector<VoiceFrame> down;
    for (std::uint8_t i = 0; i < 9; ++i) {
        down.push_back(lmrFrame(i, 2));
        Status st = link->deliver(Voice{ref, down.back()});
        ASSERT_TRUE(st.ok()) << st.error().reason << " " << st.error().detail;
    }
    ASSERT_TRUE(runUntil(io, [&] { return voice_rx.size() == 9; }));
    for (std::size_t i = 0; i < 9; ++i) {
        const Bytes& wire = voice_rx[i];
        EXPECT_FALSE(contains(wire, toBytes(down[i].payload.view())));
        ASSERT_GT(wire.size(), 12u + 8 + 16);
        EXPECT_EQ(toHex(ByteView(wire).subspan(wire.size() - 8, 8)), "0df9bc3906a12aea");
        auto clear = rx.unprotect(wire, false);
        ASSERT_TRUE(clear.has_value()) << i;
        auto f = rtp::decodeLmrPayload(ByteView(*clear).subspan(12));
        ASSERT_TRUE(f.ok());
        EXPECT_EQ(f->payload, down[i].payload) << i;
        EXPECT_EQ(f->crypto, down[i].crypto) << i;
        EXPECT_EQ(f->pos, down[i].pos) << i;
    }
}

TEST_F(McpttLinkSrtp, WrongGmkAndPlainRtpAreRefusedCountedAndNeverDelivered) {
    startWith(MediaProtection::Required);
    ASSERT_TRUE(link->setGroupKey("sip:secure@mc.example", gmk1).ok());
    callIn();
    // The same MKI under another GMK: the tag fails.
    DistributedKey forged = gmk1;
    forged.key = hex("ffeeddccbbaa99887766554433221100");
    PeerSrtp wrong({forged}, 4, true);
    sendVoiceToLink(wrong.protect(rtpPacket(7, 0x4d430002, lmrFrame(1)), false));
    ASSERT_TRUE(runUntil(io, [&] { return rtpDropped("srtp_auth_fail") == 1; }));
    // A GMK the link does not hold (unknown MKI).
    PeerSrtp other({gmk2}, 4, true);
    sendVoiceToLink(other.protect(rtpPacket(8, 0x4d430003, lmrFrame(2)), false));
    ASSERT_TRUE(runUntil(io, [&] { return rtpDropped("srtp_no_key") == 1; }));
    // Plain RTP on a protected call.
    sendVoiceToLink(rtpPacket(9, 0x4d430004, lmrFrame(3)));
    ASSERT_TRUE(runUntil(io, [&] {
        return rtpDropped("srtp_auth_fail") + rtpDropped("srtp_no_key") +
                   rtpDropped("srtp_bad_packet") ==
               3;
    }));
    // And then a good packet: only it is delivered.
    PeerSrtp tx({gmk1}, 4, true);
    sendVoiceToLink(tx.protect(rtpPacket(10, 0x4d430001, lmrFrame(4)), false));
    ASSERT_TRUE(runUntil(io, [&] { return sink.all<Voice>().size() == 1; }));
    EXPECT_EQ(sink.all<Voice>()[0].frame.payload, lmrFrame(4).payload);
}

TEST_F(McpttLinkSrtp, RequiredWithoutAKeyNeverSendsPlainRtp) {
    startWith(MediaProtection::Required);
    callIn();
    EXPECT_FALSE(link->mediaProtected(ref));
    EXPECT_FALSE(link->deliver(Voice{ref, lmrFrame(1)}).ok());
    EXPECT_EQ(reg.counterValue("iwf_mcptt_media_dropped_total",
                               {{"link", "iwf1"}, {"reason", "srtp_no_key"}}),
              1u);
    sendVoiceToLink(rtpPacket(9, 0x4d430004, lmrFrame(3)));  // plain in: refused as well
    ASSERT_TRUE(runUntil(io, [&] { return rtpDropped("srtp_no_key") == 1; }));
    // The GMK arrives during the call: from now on SRTP.
    ASSERT_TRUE(link->setGroupKey("sip:secure@mc.example", gmk1).ok());
    EXPECT_TRUE(link->mediaProtected(ref));
    ASSERT_TRUE(link->deliver(Voice{ref, lmrFrame(2)}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return voice_rx.size() == 1; }));
    PeerSrtp rx({gmk1}, 4, false);
    EXPECT_TRUE(rx.unprotect(voice_rx[0], false).has_value());
    EXPECT_TRUE(sink.all<Voice>().empty());
}

TEST_F(McpttLinkSrtp, GmkRolloverMidCallSendsWithTheNewKeyAndStillTakesTheOld) {
    startWith(MediaProtection::Optional);
    ASSERT_TRUE(link->setGroupKey("sip:secure@mc.example", gmk1).ok());
    callIn();
    PeerSrtp rx({gmk1, gmk2}, 4, false);
    ASSERT_TRUE(link->deliver(Voice{ref, lmrFrame(1)}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return voice_rx.size() == 1; }));
    ASSERT_TRUE(link->setGroupKey("sip:secure@mc.example", gmk2).ok());
    ASSERT_TRUE(link->deliver(Voice{ref, lmrFrame(2)}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return voice_rx.size() == 2; }));
    EXPECT_EQ(toHex(ByteView(voice_rx[0]).subspan(voice_rx[0].size() - 8, 8)), "0df9bc3906a12aea");
    EXPECT_EQ(toHex(ByteView(voice_rx[1]).subspan(voice_rx[1].size() - 8, 8)), "0aa000010bb00002");
    for (const Bytes& w : voice_rx) {
        EXPECT_TRUE(rx.unprotect(w, false).has_value());
    }
    // The peer still sends under the old GMK (it has not got the new one yet), then the new.
    PeerSrtp tx({gmk1, gmk2}, 4, true);
    sendVoiceToLink(tx.protect(rtpPacket(1, 0x4d430001, lmrFrame(5)), false, 0));
    sendVoiceToLink(tx.protect(rtpPacket(2, 0x4d430001, lmrFrame(6)), false, 1));
    ASSERT_TRUE(runUntil(io, [&] { return sink.all<Voice>().size() == 2; }));
}

TEST_F(McpttLinkSrtp, FloorControlIsSrtcpUnderTheCsk) {
    startWith(MediaProtection::Required);
    ASSERT_TRUE(link->setGroupKey("sip:secure@mc.example", gmk1).ok());
    ASSERT_TRUE(link->setFloorKey(csk).ok());
    EXPECT_FALSE(link->setFloorKey(gmk1).ok());  // a GMK is no CSK
    callIn();
    floor::FloorMessage req;
    req.type = floor::MessageType::FloorRequest;
    req.ack_required = true;
    req.ssrc = 1234;
    req.add(floor::FloorPriority{3}).add(floor::UserId{"sip:alice@mc.example"});
    Bytes plain;
    ASSERT_TRUE(floor::encode(req, plain).ok());
    PeerSrtp tx({csk}, 6, true);
    PeerSrtp rx({csk}, 6, false);
    ASSERT_TRUE(peer_floor.sendTo(tx.protect(plain, true), {lo, ans.floor_port}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return !sink.all<FloorRequest>().empty(); }));
    // The link's Floor Ack comes back as SRTCP (RFC 7714 §9: ciphertext with the tag, E bit
    // and SRTCP index, then the MKI = CSK-ID).
    ASSERT_TRUE(runUntil(io, [&] { return !floor_rx.empty(); }));
    const Bytes& wire = floor_rx[0];
    EXPECT_EQ(toHex(ByteView(wire).subspan(wire.size() - 4, 4)), "20000123");
    EXPECT_EQ(wire[wire.size() - 8] & 0x80, 0x80);
    auto clear = rx.unprotect(wire, true);
    ASSERT_TRUE(clear.has_value());
    std::size_t others = 0;
    auto msgs = floor::decodeDatagram(*clear, &others);
    ASSERT_TRUE(msgs.ok());
    ASSERT_EQ(msgs->size(), 1u);
    EXPECT_EQ((*msgs)[0].type, floor::MessageType::FloorAck);
    // A plain floor message is refused.
    ASSERT_TRUE(peer_floor.sendTo(plain, {lo, ans.floor_port}).ok());
    ASSERT_TRUE(runUntil(io, [&] {
        return reg.counterValue("iwf_mc_floor_dropped_total",
                                {{"link", "iwf1"}, {"peer", "mc"}, {"reason", "srtp_auth_fail"}}) +
                   reg.counterValue("iwf_mc_floor_dropped_total",
                                    {{"link", "iwf1"}, {"peer", "mc"}, {"reason", "srtp_no_key"}}) +
                   reg.counterValue(
                       "iwf_mc_floor_dropped_total",
                       {{"link", "iwf1"}, {"peer", "mc"}, {"reason", "srtp_bad_packet"}}) ==
               1;
    }));
    EXPECT_EQ(sink.all<FloorRequest>().size(), 1u);
}

TEST_F(McpttLinkSrtp, OffIsPlainRtpEvenWithAKey) {
    startWith(MediaProtection::Off);
    ASSERT_TRUE(link->setGroupKey("sip:secure@mc.example", gmk1).ok());
    callIn();
    EXPECT_FALSE(link->mediaProtected(ref));
    const VoiceFrame f = lmrFrame(1);
    ASSERT_TRUE(link->deliver(Voice{ref, f}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return voice_rx.size() == 1; }));
    EXPECT_TRUE(contains(voice_rx[0], toBytes(f.payload.view())));
}

TEST(McpttLinkSrtpConfig, MediaProtectionIsValidatedWithFileLineAndField) {
    const std::string head =
        "name: iwf1\ntype: mcptt-iwf1\npsi: sip:iwf@example\nserver_uri: sip:cf@x\n"
        "listen: [{transport: udp, port: 0}]\npeer: {address: 127.0.0.1, port: 5070}\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n";
    auto expectError = [&](const std::string& mp, const std::string& field, int line) {
        try {
            (void)parseMcpttLinkConfig(ConfigNode::loadString(head + mp, "iwfd.yaml"));
            ADD_FAILURE() << "accepted: " << mp;
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.field(), field) << e.what();
            EXPECT_EQ(e.line(), line) << e.what();
        }
    };
    expectError("media_protection: {default: always}\n", "media_protection.default", 8);
    expectError("media_protection:\n  groups:\n    - {group: g1, mode: required}\n",
                "media_protection.groups[0].group", 10);
    expectError("media_protection:\n  groups:\n    - {group: sip:g@x}\n    - {group: sip:g@x}\n",
                "media_protection.groups[1].group", 11);
    auto ok = parseMcpttLinkConfig(ConfigNode::loadString(
        head + "media_protection:\n  private_calls: optional\n  groups:\n    - {group: sip:g@x}\n",
        "x"));
    EXPECT_EQ(ok.media_protection.forGroup("sip:g@x"), MediaProtection::Required);
    EXPECT_EQ(ok.media_protection.forGroup("sip:h@x"), MediaProtection::Off);
    EXPECT_EQ(ok.media_protection.private_calls, MediaProtection::Optional);
    auto none = parseMcpttLinkConfig(ConfigNode::loadString(head, "x"));
    EXPECT_EQ(none.media_protection.group_default, MediaProtection::Off);
}

// A key file in a fresh temporary directory, with the given mode; removed with the object.
struct TempKeyFile {
    std::string dir;
    std::string path;
    TempKeyFile(const std::string& text, mode_t mode) {
        char tmpl[] = "/tmp/iwf-keyfile.XXXXXX";
        dir = ::mkdtemp(tmpl);
        path = dir + "/mc-keys";
        std::ofstream(path) << text;
        ::chmod(path.c_str(), mode);
    }
    ~TempKeyFile() {
        ::unlink(path.c_str());
        ::rmdir(dir.c_str());
    }
};

TEST_F(McpttLinkSrtp, KeyFileProvisionsTheGmkAndTheCskWhenTheLinkStarts) {
    TempKeyFile f(
        "# GMK of the secure group (33.180 default profile without RCC), CSK for floor\n"
        "gmk sip:secure@mc.example 07d1a1677ac36d8e81620484689b3c2d 0df9bc39 06a12aea "
        "ca2f5d51ff0866362c1d85a56f84651e gcm\n"
        "\n"
        "csk 00112233445566778899aabbccddeeff 20000123 ca2f5d51ff0866362c1d85a56f84651e gcm\n",
        0600);
    McpttLinkConfig c = linkConfig();
    const std::string head =
        "name: iwf1\ntype: mcptt-iwf1\npsi: sip:iwf@example\nserver_uri: sip:cf@x\n"
        "listen: [{transport: udp, port: 0}]\npeer: {address: 127.0.0.1, port: 5070}\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n";
    auto parsed = parseMcpttLinkConfig(ConfigNode::loadString(
        head + "media_protection:\n  groups: [{group: sip:secure@mc.example}]\n  key_file: " +
            f.path + "\n",
        "iwfd.yaml"));
    c.media_protection = parsed.media_protection;
    ASSERT_EQ(c.media_protection.keys.gmks.size(), 1u);
    McpttLinkFixture::startLink(c);
    ASSERT_TRUE(peer_voice
                    .open({lo, 0},
                          [this](ByteView d, const rtp::Udp::endpoint&) {
                              voice_rx.emplace_back(d.begin(), d.end());
                          })
                    .ok());
    ASSERT_TRUE(peer_floor
                    .open({lo, 0},
                          [this](ByteView d, const rtp::Udp::endpoint&) {
                              floor_rx.emplace_back(d.begin(), d.end());
                          })
                    .ok());
    callIn();
    ASSERT_TRUE(link->mediaProtected(ref));
    ASSERT_TRUE(link->deliver(Voice{ref, lmrFrame(3)}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return voice_rx.size() == 1; }));
    PeerSrtp rx({gmk1}, 4, false);
    auto clear = rx.unprotect(voice_rx[0], false);
    ASSERT_TRUE(clear.has_value());
    EXPECT_EQ(rtp::decodeLmrPayload(ByteView(*clear).subspan(12))->payload, lmrFrame(3).payload);
    ASSERT_TRUE(link->deliver(FloorIdle{ref}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return !floor_rx.empty(); }));
    PeerSrtp frx({csk}, 6, false);
    EXPECT_TRUE(frx.unprotect(floor_rx[0], true).has_value());
}

TEST(McpttLinkSrtpConfig, KeyFileMustBeOwnerOnlyAndWellFormed) {
    const std::string head =
        "name: iwf1\ntype: mcptt-iwf1\npsi: sip:iwf@example\nserver_uri: sip:cf@x\n"
        "listen: [{transport: udp, port: 0}]\npeer: {address: 127.0.0.1, port: 5070}\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n";
    const std::string good =
        "gmk sip:g@x 07d1a1677ac36d8e81620484689b3c2d 0df9bc39 06a12aea "
        "ca2f5d51ff0866362c1d85a56f84651e\n";
    auto message = [&](const std::string& text, mode_t mode) -> std::string {
        TempKeyFile f(text, mode);
        try {
            (void)parseMcpttLinkConfig(ConfigNode::loadString(
                head + "media_protection:\n  key_file: " + f.path + "\n", "iwfd.yaml"));
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.field(), "media_protection.key_file") << e.what();
            EXPECT_EQ(e.line(), 9) << e.what();
            return e.what();
        }
        return "accepted";
    };
    EXPECT_NE(message(good, 0644).find("chmod 600"), std::string::npos);
    EXPECT_NE(message(good, 0640).find("chmod 600"), std::string::npos);
    EXPECT_EQ(message(good, 0600), "accepted");
    EXPECT_EQ(message(good, 0400), "accepted");
    EXPECT_NE(message("# c\n" + good + "gmk sip:g@x 07d1 0df9bc39 06a12aea 00\n", 0600)
                  .find("line 3: key"),
              std::string::npos);
    // A GMK-ID without the GMK purpose tag (33.180 §5.2.2: PCK tag 1 here).
    EXPECT_NE(message("gmk sip:g@x 07d1a1677ac36d8e81620484689b3c2d 1df9bc39 06a12aea "
                      "ca2f5d51ff0866362c1d85a56f84651e\n",
                      0600)
                  .find("line 1: gmk-id"),
              std::string::npos);
    EXPECT_NE(message("pck 00\n", 0600).find("line 1: expected gmk or csk"), std::string::npos);
}

// media_protection.mikey (the KMS the link fetches its identity from) and replay_window.
TEST(McpttLinkSrtpConfig, MikeyKmsConfigIsValidatedWithFileLineAndField) {
    const std::string head =
        "name: iwf1\ntype: mcptt-iwf1\npsi: sip:iwf@example\nserver_uri: sip:cf@x\n"
        "listen: [{transport: udp, port: 0}]\npeer: {address: 127.0.0.1, port: 5070}\n"
        "peers: [{address: 127.0.0.1, domains: [mc.example]}]\n";
    TempKeyFile ca("-----BEGIN CERTIFICATE-----\n", 0644);  // read by path here, not parsed
    TempKeyFile token("tok-123\n", 0600);
    TempKeyFile open_token("tok-123\n", 0644);
    TempKeyFile two_tokens("tok-1 tok-2\n", 0600);
    auto mikey = [&](const std::string& body) {
        return head + "media_protection:\n  mikey:\n" + body;
    };
    const std::string url = "    kms_url: https://127.0.0.1:8443\n";
    const std::string ca_line = "    ca_file: " + ca.path + "\n";
    auto expectError = [&](const std::string& yaml, const std::string& field, int line,
                           const std::string& says) {
        try {
            (void)parseMcpttLinkConfig(ConfigNode::loadString(yaml, "iwfd.yaml"));
            ADD_FAILURE() << "accepted: " << yaml;
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.field(), field) << e.what();
            EXPECT_EQ(e.line(), line) << e.what();
            EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
        }
    };
    expectError(mikey("    kms_url: http://127.0.0.1:8443\n" + ca_line),
                "media_protection.mikey.kms_url", 10, "https://");
    expectError(mikey(url + "    ca_file: /nonexistent/ca.pem\n"), "media_protection.mikey.ca_file",
                11, "cannot read");
    expectError(mikey(url), "media_protection.mikey.ca_file", 10, "missing");
    expectError(mikey(url + ca_line + "    token_file: " + open_token.path + "\n"),
                "media_protection.mikey.token_file", 12, "chmod 600");
    expectError(mikey(url + ca_line + "    token_file: " + two_tokens.path + "\n"),
                "media_protection.mikey.token_file", 12, "one token");
    expectError(mikey(url + ca_line + "    user_uri: iwf@example\n"),
                "media_protection.mikey.user_uri", 12, "URI");
    expectError(mikey(url + ca_line + "    retry: 10ms\n"), "media_protection.mikey.retry", 12,
                "100ms");
    expectError(mikey(url + ca_line + "    kms: x\n"), "media_protection.mikey.kms", 12, "");
    expectError(head + "media_protection:\n  replay_window: 1500ms\n",
                "media_protection.replay_window", 9, "RFC 3830");
    auto ok = parseMcpttLinkConfig(ConfigNode::loadString(
        head + "media_protection:\n  replay_window: 60s\n  mikey:\n" + url + ca_line +
            "    token_file: " + token.path + "\n    refresh_ahead: 10m\n",
        "x"));
    EXPECT_TRUE(ok.media_protection.kms_enabled);
    EXPECT_EQ(ok.media_protection.kms.url, "https://127.0.0.1:8443");
    EXPECT_EQ(ok.media_protection.kms.user_uri, "sip:iwf@example");  // the link's psi
    EXPECT_EQ(ok.media_protection.kms.ca_file, ca.path);
    EXPECT_EQ(ok.media_protection.kms.token, "tok-123");
    EXPECT_EQ(ok.media_protection.kms.refresh_ahead, std::chrono::minutes(10));
    EXPECT_EQ(ok.media_protection.replay.window_seconds, 60u);
    // Absent: no KMS, the default window.
    auto none = parseMcpttLinkConfig(ConfigNode::loadString(head, "x"));
    EXPECT_FALSE(none.media_protection.kms_enabled);
    EXPECT_EQ(none.media_protection.replay.window_seconds, 300u);
}

// --- Keys over the wire: the PCK in a=key-mgmt (RFC 4567), a GMK's I_MESSAGE (33.180 E.2) ---

// Seconds since 1900 now: the link reads the wall clock, so the identities are issued for the
// key period that contains it.
std::uint64_t keyMgmtNowNtp() {
    return static_cast<std::uint64_t>(std::time(nullptr)) + security::kNtpUnixOffset;
}

// A KMS as RFC 6507 §5.1.1 / RFC 6508 §6.1.1 issue keys, from fixed master secrets.
struct KeyMgmtKms {
    Bytes ksak;
    Bytes z;
    security::KmsCertificate cert;
    KeyMgmtKms(std::string uri, std::string_view ksak_hex, std::string_view z_hex)
        : ksak(hex(ksak_hex)), z(hex(z_hex)) {
        cert.kms_uri = std::move(uri);
        cert.kpak = security::eccsiKpakFromKsak(ksak).value();
        cert.z = security::sakkeKmsPublicKey(z).value();
    }
    security::MikeyIdentity identity(const std::string& user, std::uint8_t v_seed) const {
        const std::uint64_t now = keyMgmtNowNtp();
        security::MikeyIdentity id;
        id.user_uri = user;
        id.kms = cert;
        id.keys.user_uri = user;
        id.keys.key_period_no =
            security::keyPeriodNo(now, cert.user_key_period, cert.user_key_offset);
        id.keys.uid = security::uidFor(user, cert, now);
        id.keys.rsk = security::sakkeIssueRsk(z, id.keys.uid).value();
        id.keys.signing =
            security::eccsiIssueSigningKey(ksak, id.keys.uid, Bytes(32, v_seed)).value();
        return id;
    }
};

struct KeyMgmtParties {
    KeyMgmtKms kms{"kms.mc.example",
                   "7a1d4c9b33e8f1024c6e9d8b1a2f3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
                   "0123456789abcdef0123456789abcdef01234567"};
    KeyMgmtKms rogue{"kms.rogue.example",
                     "1122334455667788990011223344556677889900112233445566778899001122",
                     "00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff"};
    security::MikeyIdentity iwf = kms.identity("sip:iwf@iwf.example", 0x22);
    security::MikeyIdentity alice = kms.identity("sip:alice@mc.example", 0x33);
    security::MikeyIdentity bob = kms.identity("sip:bob@mc.example", 0x44);
    security::MikeyIdentity gms = kms.identity("sip:gms@mc.example", 0x55);
    security::MikeyIdentity mallory = rogue.identity("sip:alice@mc.example", 0x66);
};

struct McpttLinkKeyMgmt : McpttLinkSrtp {
    // The link verifies and decrypts the offer's I_MESSAGE (a 1024-bit pairing) before it
    // answers; under ASan on a loaded machine that outlasts the fixture's Timer B (64 x 20 ms),
    // so the MC side here keeps RFC 3261's T1 of 500 ms.
    void SetUp() override {
        McpttLinkSrtp::SetUp();
        mc.reset();
        sip::StackConfig sc;
        sc.name = "mc";
        sc.listeners = {{sip::Protocol::Udp, "127.0.0.1", 0, {}}};
        sc.timers.t1 = std::chrono::milliseconds(500);
        mc = std::make_unique<sip::Stack>(io, reg, sc);
        mc->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer& p) {
            mc_requests.push_back(req);
            if (mc_answer) {
                mc_answer(tx, req, p);
            } else {
                (void)mc->respond(tx, sip::makeResponse(req, 200, {}, mc->newTag()));
            }
        });
        ASSERT_TRUE(mc->start().ok());
    }
    static void SetUpTestSuite() { parties_ = new KeyMgmtParties(); }
    static void TearDownTestSuite() {
        delete parties_;
        parties_ = nullptr;
    }
    static KeyMgmtParties* parties_;
    const KeyMgmtParties& p() const { return *parties_; }
    security::KmsDirectory directory() const { return {{p().kms.cert.kms_uri, p().kms.cert}}; }

    void startPrivate(MediaProtection mode) {
        McpttLinkConfig c = linkConfig();
        c.media_protection.private_calls = mode;
        c.media_protection.groups = {{"sip:secure@mc.example", mode}};
        McpttLinkFixture::startLink(c);
        link->setMikeyIdentity(p().iwf, directory());
        ASSERT_TRUE(peer_voice
                        .open({lo, 0},
                              [this](ByteView d, const rtp::Udp::endpoint&) {
                                  voice_rx.emplace_back(d.begin(), d.end());
                              })
                        .ok());
        ASSERT_TRUE(peer_floor
                        .open({lo, 0},
                              [this](ByteView d, const rtp::Udp::endpoint&) {
                                  floor_rx.emplace_back(d.begin(), d.end());
                              })
                        .ok());
    }
    security::KeyToSend pck(std::optional<security::KeyParameters> params = std::nullopt) const {
        security::KeyToSend k;
        k.purpose = KeyPurpose::Pck;
        k.key = hex("b4c96b703acd5c1bf7d4cc45068d9965");
        k.key_id = 0x1234abcd;  // purpose tag 1 (PCK), 33.180 §5.2.2
        k.rand = hex("0f1e2d3c4b5a69788796a5b4c3d2e1f0");
        k.timestamp_ntp = keyMgmtNowNtp() << 32;
        k.params = std::move(params);
        return k;
    }
    // The private call's key as the receiver derives it (33.180 §7.4.1): TGK = PCK, CSB ID =
    // PCK-ID, RAND of the I_MESSAGE.
    DistributedKey pckKey(const security::KeyToSend& k) const {
        DistributedKey d = key(KeyPurpose::Pck, k.key_id, k.key_id, toHex(k.key));
        d.rand = k.rand;
        return d;
    }
    // A private call from alice with `i_message` in the offer's a=key-mgmt; the final status.
    int privateCallIn(const Bytes& i_message, bool savp = true) {
        McpttMedia m;
        m.address = "127.0.0.1";
        m.audio_port = peer_voice.localEndpoint().port();
        m.floor = false;
        m.srtp = savp;
        m.key_mgmt = i_message;
        McpttInfo info;
        info.session_type = "private";
        info.calling_user_id = "sip:alice@mc.example";
        info.called_party_id = "sip:p25-1001@iwf.example";
        sip::Message invite = groupInvite(m, info);
        int status = 0;
        std::optional<sip::Message> ok;
        mc->sendRequest(invite, linkPeer(), [&](const sip::Message& r) {
            if (r.status() >= 200) {
                status = r.status();
            }
            if (r.status() == 200) {
                ok = r;
            }
        });
        EXPECT_TRUE(runUntil(io, [&] { return status != 0; }));
        if (ok) {
            answer_text = std::string(sip::bodyOfType(*ok, sip::kSdpContentType).value_or(""));
            auto sdp = sip::parseSdp(answer_text);
            EXPECT_TRUE(sdp.ok());
            ans = readMcpttSdp(*sdp).value();
            ref = sink.all<CallSetup>().at(0).call;
            mc->sendAck(sip::Dialog::asUac(invite, *ok, linkPeer()).makeAck(1), linkPeer());
        }
        return status;
    }
    std::uint64_t protection(std::string_view reason) {
        return reg.counterValue("iwf_mcptt_media_protection_total",
                                {{"link", "iwf1"}, {"reason", std::string(reason)}});
    }
    std::string answer_text;
};
KeyMgmtParties* McpttLinkKeyMgmt::parties_ = nullptr;

TEST_F(McpttLinkKeyMgmt, PrivateCallPckInTheOfferKeysSrtpBothWays) {
    startPrivate(MediaProtection::Required);
    const auto k = pck();
    auto msg = security::buildIMessage(p().alice, p().iwf.user_uri, p().kms.cert, k);
    ASSERT_TRUE(msg) << msg.error().toString();
    ASSERT_EQ(privateCallIn(*msg), 200);
    // RFC 3264 §6 / RFC 3711 §12: the answer keeps RTP/SAVP; no key-mgmt in the answer.
    EXPECT_NE(answer_text.find(" RTP/SAVP "), std::string::npos) << answer_text;
    EXPECT_EQ(answer_text.find("key-mgmt"), std::string::npos) << answer_text;
    EXPECT_TRUE(link->mediaProtected(ref));
    EXPECT_EQ(protection("keyed"), 1u);
    // Alice initiated: her media is CS-ID 0, the IWF's CS-ID 1 (33.180 Table E.1.3-1).
    const DistributedKey dk = pckKey(k);
    PeerSrtp tx({dk}, 0, true);
    sendVoiceToLink(tx.protect(rtpPacket(1, 0x4d430011, lmrFrame(1)), false));
    ASSERT_TRUE(runUntil(io, [&] { return sink.all<Voice>().size() == 1; }));
    EXPECT_EQ(sink.all<Voice>()[0].frame.payload, lmrFrame(1).payload);
    PeerSrtp rx({dk}, 1, false);
    ASSERT_TRUE(link->deliver(Voice{ref, lmrFrame(2)}).ok());
    ASSERT_TRUE(runUntil(io, [&] { return voice_rx.size() == 1; }));
    EXPECT_FALSE(contains(voice_rx[0], toBytes(lmrFrame(2).payload.view())));
    EXPECT_TRUE(contains(voice_rx[0], mkiOf(dk)));
    auto plain = rx.unprotect(voice_rx[0], false);
    ASSERT_TRUE(plain);
    EXPECT_TRUE(contains(*plain, toBytes(lmrFrame(2).payload.view())));
}

TEST_F(McpttLinkKeyMgmt, ForgedUnknownOrExpiredPckIsRefusedCountedAndNoCallStarts) {
    startPrivate(MediaProtection::Optional);
    // Signed with keys that are not alice's (another KMS issued them to the same URI, and it
    // claims our KMS): the ECCSI signature fails under alice's UID.
    security::MikeyIdentity forger = p().mallory;
    forger.kms = p().kms.cert;
    auto forged = security::buildIMessage(forger, p().iwf.user_uri, p().kms.cert, pck());
    ASSERT_TRUE(forged);
    EXPECT_EQ(privateCallIn(*forged), 488);
    EXPECT_EQ(protection("mikey_signature_invalid"), 1u);
    // A flipped octet inside the signature.
    auto good = security::buildIMessage(p().alice, p().iwf.user_uri, p().kms.cert, pck());
    ASSERT_TRUE(good);
    Bytes bad = *good;
    bad[bad.size() - 70] ^= 0x01;
    EXPECT_EQ(privateCallIn(bad), 488);
    EXPECT_EQ(protection("mikey_signature_invalid"), 2u);
    // Signed under a KMS the link does not trust.
    auto rogue = security::buildIMessage(p().mallory, p().iwf.user_uri, p().kms.cert, pck());
    ASSERT_TRUE(rogue);
    EXPECT_EQ(privateCallIn(*rogue), 488);
    EXPECT_EQ(protection("mikey_unknown_kms"), 1u);
    // Expired (33.180 E.6 key parameters).
    security::KeyParameters expired;
    expired.key_type = static_cast<std::uint8_t>(KeyPurpose::Pck);
    expired.expiry_time = keyMgmtNowNtp() - 10;
    auto old = security::buildIMessage(p().alice, p().iwf.user_uri, p().kms.cert, pck(expired));
    ASSERT_TRUE(old);
    EXPECT_EQ(privateCallIn(*old), 488);
    EXPECT_EQ(protection("mikey_key_expired"), 1u);
    EXPECT_TRUE(sink.all<CallSetup>().empty());
    EXPECT_EQ(link->activeCalls(), 0u);
    EXPECT_EQ(protection("keyed"), 0u);
}

// RFC 3830 §5.4: the I_MESSAGE of an accepted offer, offered again in a new INVITE, and one
// stamped outside the clock-skew window are answered 488 and counted, before any cryptography.
TEST_F(McpttLinkKeyMgmt, AReplayedOrStalePckOfferIsRefusedAndCounted) {
    startPrivate(MediaProtection::Required);
    auto msg = security::buildIMessage(p().alice, p().iwf.user_uri, p().kms.cert, pck());
    ASSERT_TRUE(msg);
    ASSERT_EQ(privateCallIn(*msg), 200);
    EXPECT_EQ(privateCallIn(*msg), 488);
    EXPECT_EQ(protection("mikey_replay"), 1u);
    auto stale_key = pck();
    stale_key.timestamp_ntp = (keyMgmtNowNtp() - 3600) << 32;  // an hour old; window 300 s
    auto stale = security::buildIMessage(p().alice, p().iwf.user_uri, p().kms.cert, stale_key);
    ASSERT_TRUE(stale);
    EXPECT_EQ(privateCallIn(*stale), 488);
    EXPECT_EQ(protection("mikey_timestamp_outside_window"), 1u);
    EXPECT_EQ(sink.all<CallSetup>().size(), 1u);
    EXPECT_EQ(protection("keyed"), 1u);
}

TEST_F(McpttLinkKeyMgmt, OffIgnoresTheKeyMgmtAndAnswersPlainRtpAsBefore) {
    startPrivate(MediaProtection::Off);
    auto msg = security::buildIMessage(p().alice, p().iwf.user_uri, p().kms.cert, pck());
    ASSERT_TRUE(msg);
    ASSERT_EQ(privateCallIn(*msg), 200);
    EXPECT_NE(answer_text.find(" RTP/AVP "), std::string::npos) << answer_text;
    EXPECT_FALSE(link->mediaProtected(ref));
}

TEST_F(McpttLinkKeyMgmt, OurPrivateCallCarriesAFreshPckTheCalleeCanOpen) {
    startPrivate(MediaProtection::Required);
    std::optional<sip::Message> invite;
    mc_answer = [&](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
        if (req.method() != "INVITE") {
            (void)mc->respond(tx, sip::makeResponse(req, 200, {}, mc->newTag()));
            return;
        }
        invite = req;
        McpttMedia m;
        m.address = "127.0.0.1";
        m.audio_port = peer_voice.localEndpoint().port();
        m.floor = false;
        m.srtp = true;
        sip::Message ok = sip::makeResponse(req, 200, {}, mc->newTag());
        ok.addHeader("Contact", "<" + mc->contactUri("bob", sip::Protocol::Udp) + ">");
        ok.setBody(buildMcpttSdp(m, 7).toString(), sip::kSdpContentType);
        (void)mc->respond(tx, std::move(ok));
    };
    CallSetup s;
    s.call = 77;
    s.kind = CallKind::Private;
    s.caller = Talker{McId{"sip:p25-1001@iwf.example"}, {}, {}};
    s.callee = Address{McId{"sip:bob@mc.example"}};
    ASSERT_TRUE(link->deliver(s).ok());
    ASSERT_TRUE(runUntil(io, [&] { return invite.has_value(); }));
    const std::string offer_text =
        std::string(sip::bodyOfType(*invite, sip::kSdpContentType).value_or(""));
    EXPECT_NE(offer_text.find(" RTP/SAVP "), std::string::npos) << offer_text;
    EXPECT_NE(offer_text.find("a=key-mgmt:mikey "), std::string::npos) << offer_text;
    auto offer = readMcpttSdp(sip::parseSdp(offer_text).value()).value();
    // Bob opens it with his own keys: signed by the IWF, addressed to him, a PCK.
    auto got = security::receiveIMessage(offer.key_mgmt, p().bob, directory(), keyMgmtNowNtp());
    ASSERT_TRUE(got) << got.error().toString();
    EXPECT_EQ(got->purpose, KeyPurpose::Pck);
    EXPECT_EQ(got->key_id >> 28, 1u);
    EXPECT_EQ(got->initiator, "sip:iwf@iwf.example");
    // The IWF initiated: its media is CS-ID 0 under that PCK.
    ASSERT_TRUE(runUntil(io, [&] { return link->mediaProtected(77); }));
    ASSERT_TRUE(runUntil(io, [&] {
        (void)link->deliver(Voice{77, lmrFrame(3)});
        return !voice_rx.empty();
    }));
    PeerSrtp rx({*got}, 0, false);
    auto plain = rx.unprotect(voice_rx[0], false);
    ASSERT_TRUE(plain);
    EXPECT_TRUE(contains(*plain, toBytes(lmrFrame(3).payload.view())));
    // A second call gets another PCK (fresh key and ID per call).
    std::optional<sip::Message> first = invite;
    invite.reset();
    s.call = 78;
    ASSERT_TRUE(link->deliver(s).ok());
    ASSERT_TRUE(runUntil(io, [&] { return invite.has_value(); }));
    auto second = readMcpttSdp(
        sip::parseSdp(std::string(sip::bodyOfType(*invite, sip::kSdpContentType).value_or("")))
            .value());
    ASSERT_TRUE(second);
    auto got2 = security::receiveIMessage(second->key_mgmt, p().bob, directory(), keyMgmtNowNtp());
    ASSERT_TRUE(got2);
    EXPECT_NE(got2->key, got->key);
    EXPECT_NE(got2->key_id, got->key_id);
}

TEST_F(McpttLinkKeyMgmt, GroupKeyMessageIsVerifiedAndHonoursActivationAndExpiry) {
    startPrivate(MediaProtection::Required);
    auto gmkMsg = [&](const security::MikeyIdentity& from, std::uint32_t id,
                      std::optional<security::KeyParameters> params) {
        security::KeyToSend k;
        k.purpose = KeyPurpose::Gmk;
        k.key = hex("07d1a1677ac36d8e81620484689b3c2d");
        k.key_id = id;
        k.rand = hex("ca2f5d51ff0866362c1d85a56f84651e");
        k.timestamp_ntp = keyMgmtNowNtp() << 32;
        k.params = std::move(params);
        return security::buildIMessage(from, p().iwf.user_uri, p().kms.cert, k).value();
    };
    const std::string g = "sip:secure@mc.example";
    // Wrong signer, then an expired GMK: refused, counted, nothing installed.
    security::MikeyIdentity forger = p().mallory;
    forger.kms = p().kms.cert;
    forger.user_uri = p().gms.user_uri;
    EXPECT_EQ(link->receiveGroupKey(g, gmkMsg(forger, 0x0df9bc39, std::nullopt)).error().reason,
              "mikey_signature_invalid");
    security::KeyParameters expired;
    expired.expiry_time = keyMgmtNowNtp() - 1;
    EXPECT_EQ(link->receiveGroupKey(g, gmkMsg(p().gms, 0x0df9bc39, expired)).error().reason,
              "mikey_key_expired");
    EXPECT_EQ(protection("mikey_signature_invalid"), 1u);
    EXPECT_EQ(protection("mikey_key_expired"), 1u);
    // A PCK where a GMK belongs.
    auto pckMsg = security::buildIMessage(p().alice, p().iwf.user_uri, p().kms.cert, pck());
    EXPECT_EQ(link->receiveGroupKey(g, *pckMsg).error().reason, "mikey_not_gmk");
    callIn();
    EXPECT_FALSE(link->mediaProtected(ref));
    // Valid but active two seconds from now: kept, installed when the time comes.
    security::KeyParameters later;
    later.activation_time = keyMgmtNowNtp() + 2;
    ASSERT_TRUE(link->receiveGroupKey(g, gmkMsg(p().gms, 0x0df9bc39, later)).ok());
    EXPECT_EQ(protection("gmk_pending"), 1u);
    EXPECT_FALSE(link->mediaProtected(ref));
    ASSERT_TRUE(runUntil(io, [&] { return link->mediaProtected(ref); }));
    EXPECT_GE(keyMgmtNowNtp(), later.activation_time);
    // The installed GMK is the one the I_MESSAGE carried: the peer's SRTP under it passes.
    auto gk = security::receiveIMessage(gmkMsg(p().gms, 0x0df9bc39, std::nullopt), p().iwf,
                                        directory(), keyMgmtNowNtp());
    ASSERT_TRUE(gk);
    // Its SP payload asks for the default group profile with RCCm3 (33.180 E.2): the sender
    // appends its 4-octet ROC (RFC 4771 §3.3) after what libsrtp wrote.
    EXPECT_TRUE(gk->roc_in_packet);
    PeerSrtp tx({*gk}, 4, true);
    Bytes pkt = tx.protect(rtpPacket(5, 0x4d430021, lmrFrame(5)), false);
    be32(pkt, 0);  // ROC 0
    sendVoiceToLink(pkt);
    ASSERT_TRUE(runUntil(io, [&] { return sink.all<Voice>().size() == 1; }));
    EXPECT_EQ(sink.all<Voice>()[0].frame.payload, lmrFrame(5).payload);
}

}  // namespace
}  // namespace iwf::mc::mcptt
