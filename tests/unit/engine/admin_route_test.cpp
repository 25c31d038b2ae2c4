// GET /v1/calls over a real admin server on 127.0.0.1 (port 0).

#include <thread>

#include "gateway/engine/engine_admin.hpp"
#include "tests/unit/engine/engine_fixture.hpp"

namespace iwf::gateway::engine::test {
namespace {

using namespace std::chrono_literals;

class AdminRouteTest : public EngineTest {};

std::string httpGet(std::uint16_t port, const std::string& path) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    asio::write(s, asio::buffer(req));
    std::string out;
    boost::system::error_code ec;
    std::array<char, 4096> buf{};
    for (;;) {
        std::size_t n = s.read_some(asio::buffer(buf), ec);
        out.append(buf.data(), n);
        if (ec) {
            break;
        }
    }
    return out;
}

TEST_F(AdminRouteTest, CallsRouteServesJson) {
    fromLmr(lmrSetup(1, 1, 100, aes(0x1111)));
    VoiceFrame f = frame(0, aes(0x1111), 0, 0);
    f.rx_ns = toNs(clock.now());
    clock.advance(15us);
    fromLmr(Voice{1, f});

    asio::io_context io;
    AdminServer admin(io);
    installEngineRoutes(admin, *engine);
    admin.start("127.0.0.1", 0);
    ASSERT_NE(admin.port(), 0);
    std::thread t([&] { io.run_for(10s); });
    std::string resp = httpGet(admin.port(), "/v1/calls");
    io.stop();
    t.join();

    auto body_at = resp.find("\r\n\r\n");
    ASSERT_NE(body_at, std::string::npos) << resp;
    EXPECT_NE(resp.find("200"), std::string::npos);
    EXPECT_NE(resp.find("application/json"), std::string::npos);
    auto j = nlohmann::json::parse(resp.substr(body_at + 4));
    ASSERT_EQ(j["calls"].size(), 1u);
    EXPECT_EQ(j["calls"][0]["group"], "sip:g100@mc");
    EXPECT_EQ(j["calls"][0]["mode"], "secure");
    EXPECT_EQ(j["calls"][0]["e2ee"], "encrypted");
    EXPECT_EQ(j["calls"][0]["floor_state"], "G_floor_taken");
    EXPECT_EQ(j["calls"][0]["talker"]["id"], toString(Address{unit(1)}));
    EXPECT_EQ(j["latency"]["count"], 1u);
    EXPECT_EQ(j["latency"]["p50_le_ns"], 20000);
}

}  // namespace
}  // namespace iwf::gateway::engine::test
