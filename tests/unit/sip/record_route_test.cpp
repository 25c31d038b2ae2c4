// RFC 3261 §12.1.1: the UAS copies every Record-Route of a dialog-creating request into its
// 2xx (and tagged 1xx), values and order unchanged; §12.2.1.1: the UAC's route set is the
// response's Record-Route reversed. The request below is what Kamailio 5.6's stock config
// forwards after record_route() on two proxies (strings as Kamailio writes them).
#include <gtest/gtest.h>

#include "sip/dialog.hpp"
#include "sip/message.hpp"

namespace iwf::sip {
namespace {

constexpr const char* kRouteInvite =
    "INVITE sip:iwf@127.0.0.1:5060 SIP/2.0\r\n"
    "Record-Route: <sip:127.0.0.2;lr=on;ftag=a1>\r\n"
    "Record-Route: <sip:127.0.0.3;lr=on;ftag=a1>\r\n"
    "Via: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bK1\r\n"
    "Via: SIP/2.0/UDP 127.0.0.9:5070;branch=z9hG4bK0\r\n"
    "From: <sip:cf@mc.example>;tag=a1\r\n"
    "To: <sip:iwf@iwf.example>\r\n"
    "Call-ID: rr-1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:cf@127.0.0.9:5070>\r\n"
    "Max-Forwards: 68\r\n"
    "Content-Length: 0\r\n\r\n";

TEST(RecordRoute, CopiedIntoDialogCreatingResponsesInOrder) {
    auto req = parseMessage(std::string_view(kRouteInvite));
    ASSERT_TRUE(req.ok());
    for (int status : {180, 200}) {
        Message r = makeResponse(*req, status, {}, "b2");
        auto rr = r.headers("Record-Route");
        ASSERT_EQ(rr.size(), 2u) << status;
        EXPECT_EQ(rr[0], "<sip:127.0.0.2;lr=on;ftag=a1>");
        EXPECT_EQ(rr[1], "<sip:127.0.0.3;lr=on;ftag=a1>");
    }
    for (int status : {100, 486}) {
        EXPECT_FALSE(makeResponse(*req, status, {}, "b2").hasHeader("Record-Route")) << status;
    }
}

TEST(RecordRoute, BothEndsBuildTheRouteSetFromIt) {
    auto req = parseMessage(std::string_view(kRouteInvite));
    ASSERT_TRUE(req.ok());
    Peer proxy{Protocol::Udp, asio::ip::make_address("127.0.0.2"), 5060};
    // UAS: the route set is the request's Record-Route in order; its BYE routes through it.
    Dialog uas = Dialog::asUas(*req, "b2", proxy);
    Message bye = uas.makeRequest("BYE");
    auto routes = bye.headers("Route");
    ASSERT_EQ(routes.size(), 2u);
    EXPECT_EQ(routes[0], "<sip:127.0.0.2;lr=on;ftag=a1>");
    EXPECT_EQ(routes[1], "<sip:127.0.0.3;lr=on;ftag=a1>");
    EXPECT_EQ(bye.requestUri(), "sip:cf@127.0.0.9:5070");
    // UAC: the 200's Record-Route reversed.
    Message ok = makeResponse(*req, 200, {}, "b2");
    ok.addHeader("Contact", "<sip:iwf@127.0.0.1:5060>");
    Dialog uac = Dialog::asUac(*req, ok, proxy);
    Message ack = uac.makeAck(1);
    routes = ack.headers("Route");
    ASSERT_EQ(routes.size(), 2u);
    EXPECT_EQ(routes[0], "<sip:127.0.0.3;lr=on;ftag=a1>");
    EXPECT_EQ(routes[1], "<sip:127.0.0.2;lr=on;ftag=a1>");
}

}  // namespace
}  // namespace iwf::sip
