// MIKEY codec (RFC 3830 / RFC 6043 / RFC 6509 payloads): structure, round trip, and refusal of
// malformed input at every truncation point. The wire format itself is judged by tshark
// MIKEY dissector in tests/interop/mikey; here the byte layout of each payload is checked
// against strings written out from the RFC tables.
#include "mc_adapters/security/mikey.hpp"

#include <gtest/gtest.h>

#include "common/bytes.hpp"

namespace iwf::mc::security::mikey {
namespace {

Bytes hex(std::string_view s) {
    return fromHex(s).value();
}

Message sample() {
    Message m;
    m.hdr.csb_id = 0x06a12aea;
    m.hdr.map_type = kMapGenericId;
    m.hdr.generic.push_back(GenericCs{4, 0, false, {0}, {}, hex("0df9bc3906a12aea")});
    m.payloads.emplace_back(Timestamp{kTsNtpUtc, 0xec898da800000000ULL});
    m.payloads.emplace_back(RandPayload{hex("ca2f5d51ff0866362c1d85a56f84651e")});
    m.payloads.emplace_back(IdrPayload{kRoleInitiator, kIdTypeUri, Bytes{'g', 'm', 's'}});
    m.payloads.emplace_back(SpPayload{0, 0, {{0, {6}}, {1, {16}}}});
    m.payloads.emplace_back(SakkePayload{1, 2, Bytes(273, 0x5a)});
    m.payloads.emplace_back(GeneralExt{kExtKeyParameters, hex("0102")});
    m.signature = Bytes(129, 0x33);
    return m;
}

TEST(Mikey, EncodesEachPayloadAsTheRfcTablesLayThemOut) {
    auto b = encode(sample());
    ASSERT_TRUE(b);
    // HDR (RFC 3830 §6.1): version 1, data type 26, next = T (5), V=0|PRF=1, CSB ID, #CS=1,
    // map type 2, then GENERIC-ID (RFC 6043 §6.1.1): CS ID 4, prot 0, S=0|#P=1, policy 0,
    // session data length 0, SPI length 8, SPI.
    EXPECT_EQ(toHex(ByteView(*b).first(25)),
              "011a0501"
              "06a12aea"
              "0102"
              "04"
              "00"
              "01"
              "00"
              "0000"
              "08"
              "0df9bc3906a12aea");
    ByteView rest = ByteView(*b).subspan(25);
    // T (§6.6): next = RAND (11), NTP-UTC (0), 8 octets.
    EXPECT_EQ(toHex(rest.first(10)), "0b00ec898da800000000");
    rest = rest.subspan(10);
    // RAND (§6.11): next = IDR (14), length 16.
    EXPECT_EQ(toHex(rest.first(2)), "0e10");
    rest = rest.subspan(18);
    // IDR (RFC 6043 §6.6): next = SP (10), role 1, type URI (1), length 3, "gms".
    EXPECT_EQ(toHex(rest.first(8)), "0a01010003676d73");
    rest = rest.subspan(8);
    // SP (§6.10): next = SAKKE (26), policy 0, SRTP, param length 6, params type|len|value.
    EXPECT_EQ(toHex(rest.first(11)), "1a00000006000106010110");
    rest = rest.subspan(11);
    // SAKKE (RFC 6509 §4.2): next = EXT (21), params 1, ID scheme 2, length 273.
    EXPECT_EQ(toHex(rest.first(5)), "1501020111");
    rest = rest.subspan(5 + 273);
    // EXT (§6.15): next = SIGN (4), type 7, length 2; SIGN: type 2 | length 129 (0x081).
    EXPECT_EQ(toHex(rest.first(6)), "040700020102");
    EXPECT_EQ(toHex(rest.subspan(6, 2)), "2081");
    EXPECT_EQ(rest.size(), 6u + 2 + 129);
}

TEST(Mikey, ParseInvertsEncodeAndLocatesTheSignedPart) {
    const Message m = sample();
    auto b = encode(m);
    ASSERT_TRUE(b);
    auto p = parse(*b);
    ASSERT_TRUE(p) << p.error().toString();
    EXPECT_EQ(p->signed_length, b->size() - 129);
    p->signed_length = 0;
    EXPECT_EQ(*p, m);
    EXPECT_EQ(p->idr(kRoleInitiator)->data, (Bytes{'g', 'm', 's'}));
    EXPECT_EQ(p->sakke()->data.size(), 273u);
    EXPECT_EQ(p->ext(kExtKeyParameters)->data, hex("0102"));
    EXPECT_EQ(p->idr(kRoleResponder), nullptr);
}

TEST(Mikey, EveryTruncationIsAnErrorNotACrash) {
    auto b = encode(sample());
    ASSERT_TRUE(b);
    for (std::size_t n = 0; n < b->size(); ++n) {
        auto p = parse(ByteView(*b).first(n));
        EXPECT_FALSE(p) << "length " << n;
    }
}

TEST(Mikey, RefusesUnknownPayloadsTrailingBytesAndBadHeaders) {
    Bytes b = encode(sample()).value();
    Bytes trailing = b;
    trailing.push_back(0);
    EXPECT_EQ(parse(trailing).error().reason, "mikey_trailing_bytes");
    Bytes unknown = b;
    unknown[2] = 9;  // next payload after HDR = V (not handled)
    EXPECT_EQ(parse(unknown).error().reason, "mikey_unknown_payload");
    Bytes version = b;
    version[0] = 2;
    EXPECT_EQ(parse(version).error().reason, "mikey_bad_version");
    Bytes map = b;
    map[9] = 7;  // IPsec map type
    EXPECT_EQ(parse(map).error().reason, "mikey_bad_map");
    Bytes last = b;
    last[2] = 0;  // chain ends right after HDR, no SIGN
    EXPECT_EQ(parse(last).error().reason, "mikey_no_signature");
}

TEST(Mikey, EmptyAndSrtpIdMapsRoundTrip) {
    Message m = sample();
    m.hdr.map_type = kMapEmpty;
    m.hdr.generic.clear();
    auto b = encode(m);
    ASSERT_TRUE(b);
    EXPECT_EQ(toHex(ByteView(*b).subspan(8, 2)), "0001");  // #CS 0, map type 1
    EXPECT_EQ(parse(*b).value().hdr, m.hdr);
    m.hdr.map_type = kMapSrtpId;
    m.hdr.srtp.push_back(SrtpCs{0, 0xcafebabe, 7});
    auto c = encode(m);
    ASSERT_TRUE(c);
    EXPECT_EQ(toHex(ByteView(*c).subspan(8, 11)),
              "0100"
              "00"
              "cafebabe"
              "00000007");
    EXPECT_EQ(parse(*c).value().hdr, m.hdr);
}

}  // namespace
}  // namespace iwf::mc::security::mikey
