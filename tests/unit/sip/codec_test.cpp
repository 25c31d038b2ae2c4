#include <gtest/gtest.h>

#include "sip/message.hpp"
#include "sip/multipart.hpp"
#include "sip/sdp.hpp"

namespace iwf::sip {
namespace {

const char* kInvite =
    "INVITE sip:cf@mcptt.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport\r\n"
    "v: SIP/2.0/TCP 10.0.0.9:5060;branch=z9hG4bKother\r\n"
    "Max-Forwards: 70\r\n"
    "To: <sip:group1@mcptt.example>\r\n"
    "f: \"Alice\" <sip:alice@mcptt.example>;tag=1928301774\r\n"
    "i: a84b4c76e66710@pc33.example\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:alice@10.0.0.1:5060>\r\n"
    "P-Asserted-Identity: <sip:alice@mcptt.example>\r\n"
    "Accept-Contact: *;+g.3gpp.mcptt;require;explicit\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 5\r\n"
    "\r\n"
    "v=0\r\nEXTRA";

TEST(SipMessage, ParsesRequestAndCompactForms) {
    auto m = parseMessage(std::string_view(kInvite));
    ASSERT_TRUE(m.ok()) << m.error().toString();
    EXPECT_TRUE(m->isRequest());
    EXPECT_EQ(m->method(), "INVITE");
    EXPECT_EQ(m->requestUri(), "sip:cf@mcptt.example");
    EXPECT_EQ(m->headers("Via").size(), 2u);
    EXPECT_EQ(m->topViaBranch(), "z9hG4bK776asdhds");
    EXPECT_EQ(m->fromTag(), "1928301774");
    EXPECT_EQ(m->toTag(), "");
    EXPECT_EQ(m->callId(), "a84b4c76e66710@pc33.example");
    EXPECT_EQ(m->cseqNumber(), 314159u);
    EXPECT_EQ(m->cseqMethod(), "INVITE");
    EXPECT_EQ(m->body(), "v=0\r\n");  // bounded by Content-Length
    EXPECT_EQ(m->header("p-asserted-identity").value_or(""), "<sip:alice@mcptt.example>");
    EXPECT_EQ(m->header("Accept-Contact").value_or(""), "*;+g.3gpp.mcptt;require;explicit");
    EXPECT_FALSE(checkRequest(*m).has_value());
}

TEST(SipMessage, RoundTripIsStable) {
    auto m = parseMessage(std::string_view(kInvite));
    ASSERT_TRUE(m.ok());
    const std::string once = m->serialize();
    auto again = parseMessage(std::string_view(once));
    ASSERT_TRUE(again.ok()) << again.error().toString();
    EXPECT_EQ(again->serialize(), once);
    EXPECT_EQ(again->allHeaders(), m->allHeaders());
    EXPECT_EQ(again->body(), m->body());
}

TEST(SipMessage, ResponseRoundTripAndMakeResponse) {
    auto req = parseMessage(std::string_view(kInvite));
    ASSERT_TRUE(req.ok());
    Message r = makeResponse(*req, 180, {}, "abc");
    EXPECT_EQ(r.reason(), "Ringing");
    EXPECT_EQ(r.toTag(), "abc");
    EXPECT_EQ(r.headers("Via").size(), 2u);
    auto back = parseMessage(std::string_view(r.serialize()));
    ASSERT_TRUE(back.ok()) << back.error().toString();
    EXPECT_TRUE(back->isResponse());
    EXPECT_EQ(back->status(), 180);
    EXPECT_EQ(back->toTag(), "abc");
    EXPECT_EQ(back->cseqMethod(), "INVITE");
}

TEST(SipMessage, RefusesGarbageAndShortBody) {
    EXPECT_FALSE(parseMessage(std::string_view("hello")).ok());
    EXPECT_FALSE(parseMessage(std::string_view("")).ok());
    std::string s(kInvite);
    s.replace(s.find("Content-Length: 5"), 17, "Content-Length: 99");
    auto r = parseMessage(std::string_view(s));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "content_length_mismatch");
}

// libosip2 5.3 leaks a second Content-Type: such messages never reach it (and a comma outside
// quotes or inside them counts as a second value, since libosip2 splits the line at every comma).
TEST(SipMessage, RefusesASecondContentTypeBeforeLibosip) {
    const std::string base(kInvite);
    const auto at = base.find("Content-Type: application/sdp\r\n");
    ASSERT_NE(at, std::string::npos);
    for (const char* extra : {"c: text/plain\r\n", "content-type: application/sdp\r\n"}) {
        std::string s = base;
        s.insert(at, extra);
        auto r = parseMessage(std::string_view(s));
        ASSERT_FALSE(r.ok()) << extra;
        EXPECT_EQ(r.error().reason, "duplicate_content_type") << extra;
    }
    std::string listed = base;
    listed.replace(at, 29, "Content-Type: application/sdp, text/plain");
    auto r = parseMessage(std::string_view(listed));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "duplicate_content_type");
    std::string quoted = base;
    quoted.replace(at, 29, "Content-Type: multipart/mixed;boundary=\"a,b\"");
    auto q = parseMessage(std::string_view(quoted));
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.error().reason, "duplicate_content_type");
}

// libosip2 never parses the MIME parts (it leaks when a part repeats Content-Type): the body
// comes through byte for byte, and the Content-Type header is still checked and normalised.
TEST(SipMessage, MultipartBodyIsOursNotLibosips) {
    const std::string body =
        "--b1\r\nContent-Type: application/sdp\r\nContent-Type: text/plain\r\n\r\nv=0\r\n"
        "--b1--\r\n";
    std::string s(kInvite);
    s.replace(s.find("Content-Type: application/sdp"), 29,
              "Content-Type: multipart/mixed;boundary=b1");
    s.replace(s.find("Content-Length: 5"), 17, "Content-Length: " + std::to_string(body.size()));
    s.resize(s.find("\r\n\r\n") + 4);
    s += body;
    auto m = parseMessage(std::string_view(s));
    ASSERT_TRUE(m.ok()) << m.error().toString();
    EXPECT_EQ(m->body(), body);
    EXPECT_EQ(m->header("Content-Type").value_or(""), "multipart/mixed; boundary=b1");
    std::string bad(kInvite);
    bad.replace(bad.find("Content-Type: application/sdp"), 29, "Content-Type: /");
    auto r = parseMessage(std::string_view(bad));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().reason, "bad_content_type");
}

TEST(SipMessage, CheckRequestNamesTheFault) {
    auto m = parseMessage(std::string_view(kInvite));
    ASSERT_TRUE(m.ok());
    Message a = *m;
    a.setHeader("CSeq", "314159 BYE");
    EXPECT_EQ(checkRequest(a).value_or(""), "CSeq method mismatch");
    Message b = *m;
    b.removeHeader("Call-ID");
    EXPECT_EQ(checkRequest(b).value_or(""), "missing Call-ID");
    Message c = *m;
    c.setHeader("Max-Forwards", "abc");
    EXPECT_EQ(checkRequest(c).value_or(""), "bad Max-Forwards");
}

TEST(SipMessage, ClassifyFaultFindsTheBadHeader) {
    std::string s(kInvite);
    s.replace(s.find("CSeq: 314159 INVITE"), 19, "CSeq: banana");
    ASSERT_FALSE(parseMessage(std::string_view(s)).ok());
    Fault f = classifyFault(s);
    EXPECT_TRUE(f.answerable);
    EXPECT_EQ(f.reason, "bad_header");
    EXPECT_EQ(f.detail, "CSeq");
    EXPECT_EQ(f.skeleton.callId(), "a84b4c76e66710@pc33.example");
    Fault g = classifyFault("GARBAGE\r\n\r\n");
    EXPECT_FALSE(g.answerable);
}

TEST(SipMessage, HeaderPieces) {
    auto na = parseNameAddr("\"Bob\" <sip:bob@x.example;transport=tcp>;tag=77");
    ASSERT_TRUE(na.ok());
    EXPECT_EQ(na->display, "Bob");
    EXPECT_EQ(na->uri, "sip:bob@x.example;transport=tcp");
    EXPECT_EQ(na->tag, "77");
    auto via = parseVia("SIP/2.0/tls [::1]:5061;branch=z9hG4bKx;received=1.2.3.4;rport=999");
    ASSERT_TRUE(via.ok());
    EXPECT_EQ(via->transport, "TLS");
    EXPECT_EQ(via->host, "::1");
    EXPECT_EQ(via->port, 5061);
    EXPECT_EQ(via->branch, "z9hG4bKx");
    EXPECT_EQ(via->received.value_or(""), "1.2.3.4");
    EXPECT_EQ(via->rport.value_or(0), 999);
    auto u = parseUri("sip:alice@10.1.2.3:5070;transport=TCP");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->user, "alice");
    EXPECT_EQ(u->host, "10.1.2.3");
    EXPECT_EQ(u->port, 5070);
    EXPECT_EQ(u->transport, "tcp");
    EXPECT_FALSE(parseVia("SIP/2.0/UDP").ok());
    EXPECT_FALSE(parseUri("nocolon").ok());
}

TEST(Sdp, RoundTripMcpttOffer) {
    SessionDescription d;
    d.origin_address = "192.0.2.1";
    d.session_id = "42";
    d.connection_address = "192.0.2.1";
    SdpMedia audio{"audio", 30000, "RTP/AVP", {"96"}, "speech", "", {}};
    audio.attributes = {{"rtpmap", "96 IMBE/8000"}, {"sendrecv", ""}};
    SdpMedia floor{"application", 30002, "udp", {"MCPTT"}, "", "", {}};
    floor.attributes = {{"fmtp", "MCPTT mc_queueing;mc_priority=5"}};
    d.media = {audio, floor};
    const std::string text = d.toString();
    auto p = parseSdp(text);
    ASSERT_TRUE(p.ok()) << p.error().toString();
    EXPECT_EQ(*p, d);
    EXPECT_EQ(p->toString(), text);
    ASSERT_NE(p->find("application"), nullptr);
    EXPECT_EQ(p->find("application")->attribute("fmtp").value_or(""),
              "MCPTT mc_queueing;mc_priority=5");
    EXPECT_EQ(p->addressOf(p->media[0]), "192.0.2.1");
}

TEST(Sdp, RefusesBrokenInput) {
    EXPECT_FALSE(parseSdp("").ok());
    EXPECT_FALSE(parseSdp("v=0\r\nm=audio notaport RTP/AVP 0\r\n").ok());
}

TEST(Multipart, RoundTripThreeParts) {
    Multipart mp;
    mp.boundary = "boundary1";
    mp.parts = {{"application/sdp", {}, "v=0\r\n"},
                {"application/vnd.3gpp.mcptt-info+xml", {}, "<mcpttinfo/>"},
                {"application/resource-lists+xml",
                 {{"Content-Disposition", "recipient-list"}},
                 "<resource-lists/>"}};
    const std::string body = mp.toString();
    auto p = parseMultipart(body, mp.contentType());
    ASSERT_TRUE(p.ok()) << p.error().toString();
    EXPECT_EQ(p->parts, mp.parts);
    EXPECT_EQ(p->toString(), body);
    ASSERT_NE(p->find("APPLICATION/VND.3GPP.MCPTT-INFO+XML"), nullptr);

    Message m = Message::request("INVITE", "sip:x@y");
    setBodies(m, mp.parts);
    EXPECT_EQ(mediaType(m.header("Content-Type").value_or("")), "multipart/mixed");
    EXPECT_EQ(bodyOfType(m, "application/sdp").value_or("none"), "v=0\r\n");
    EXPECT_FALSE(bodyOfType(m, "text/plain").has_value());
}

TEST(Multipart, QuotedBoundaryAndPreamble) {
    const std::string body =
        "preamble\r\n--b\"x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\"x--\r\n";
    EXPECT_FALSE(parseMultipart(body, "multipart/mixed;boundary=\"b\"x\"").ok());
    const std::string ok = "preamble\r\n--bx\r\nContent-Type: text/plain\r\n\r\nhi\r\n--bx--\r\n";
    auto p = parseMultipart(ok, "multipart/mixed; boundary=\"bx\"");
    ASSERT_TRUE(p.ok()) << p.error().toString();
    ASSERT_EQ(p->parts.size(), 1u);
    EXPECT_EQ(p->parts[0].body, "hi");
    EXPECT_FALSE(
        parseMultipart("--bx\r\nContent-Type: a/b\r\n\r\nno end", "multipart/mixed;boundary=bx")
            .ok());
}

}  // namespace
}  // namespace iwf::sip
