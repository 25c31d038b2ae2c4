// The admin API of the real iwfd (issue #18 "Read-only by default, safe when not";
// docs/operating.md "Admin API"), over plain sockets on 127.0.0.1:
//
//   - routing: unknown path 404, known path with the wrong method 405 + Allow, unknown call /
//     group / link / peer 404;
//   - no admin.token_file: every POST is 403 and logged; with one: no token or a wrong one is
//     401 with WWW-Authenticate: Bearer, the right one is carried out and audited (a log line
//     and GET /v1/audit, naming the client address and the token's name);
//   - admin.token_file is checked by --check-config (readable by others: refused);
//   - POST /v1/reload applies an edited config (revision 2) or answers 409 with the reason;
//   - POST /v1/calls/{id}/end ends an encrypted P25 radio -> MC call on both legs: the MC
//     system gets a BYE, the call leaves /v1/calls, the rest of the radio's transmission
//     reaches nobody; GET /v1/calls/{id} shows talker, E2EE state, ALGID/KID per leg first;
//   - POST /v1/links/{id}/peers/{peer}/disconnect sends the DMR repeater an HBP MSTCL and
//     forgets it: it must log in again (and can);
//   - with `workers: 2` it reaches a P25 peer wherever the kernel put it (the p25-records link
//     runs one SO_REUSEPORT instance per worker, each owning its own peers): every peer gets
//     the 0xF1 unlink and leaves /v1/links.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <optional>
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "admin_http.hpp"
#include "common/asio.hpp"
#include "common/loopback_port.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/floor_endpoint.hpp"
#include "mc_adapters/rtp/voice_endpoint.hpp"
#include "p25_test_support.hpp"
#include "sip/stack.hpp"
#include "superframe_builder.hpp"
#include "tests/integration/support/iwfd_process.hpp"
#include "tests/support/hbp_peer.hpp"
#include "tests/support/mc_fake.hpp"

namespace iwf::mc {
namespace {

using namespace std::chrono_literals;
using iwf::test::httpGet;
using iwf::test::httpRequest;
using iwf::test::runCommand;
using iwf::test::waitFor;

constexpr const char* kSecret = "s3cret-token-0123456789";

using iwf::test::CountingMcSystem;
using iwf::test::pumpIo;

std::string bearer(const std::string& s) {
    return "Authorization: Bearer " + s;
}

struct IwfdAdmin : ::testing::Test {
    void SetUp() override {
        store = "sqlite:" + dir.file("keymap.db");
        auto r = runCommand({IWFCTL_BIN, "keymap", "--store", store, "import",
                             std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        p25_port = pickLoopbackPort(PortProtocol::Udp);
        sip_port = pickLoopbackPort(PortProtocol::Udp);
        hbp_port = pickLoopbackPort(PortProtocol::Udp);
    }
    // The token file, mode 600 (iwfd refuses one others may read).
    std::string tokenFile(const std::string& content, mode_t mode = 0600) {
        const std::string path = dir.write("admin.token", content);
        ::chmod(path.c_str(), mode);
        return path;
    }
    std::string adminSection(const std::string& token_file) const {
        return "admin:\n  address: 127.0.0.1\n  port: 0\n  port_file: " + dir.file("admin.port") +
               "\n" + (token_file.empty() ? "" : "  token_file: " + token_file + "\n");
    }
    std::string config(std::uint16_t mc_port, const std::string& token_file,
                       const std::string& level = "debug") const {
        return "instance: admin\nlog: {level: " + level + "}\n" + adminSection(token_file) +
               "keymap:\n  store: \"" + store +
               "\"\n  poll_interval: 200ms\n"
               "lmr_links:\n"
               "  - name: p25\n    type: p25-records\n    address: 127.0.0.1\n    port: " +
               std::to_string(p25_port) +
               "\n    wacn: 0xBEE00\n    system: 0x001\n    tgid: 100\n    call_timeout: 60s\n"
               "  - name: dmr\n    type: dmr-hbp-master\n    address: 127.0.0.1\n    port: " +
               std::to_string(hbp_port) +
               "\n    password: admin-test\n    id: 310099\n"
               "mc_links:\n"
               "  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
               "    server_uri: sip:cf@mc.example\n"
               "    listen: [{transport: udp, address: 127.0.0.1, port: " +
               std::to_string(sip_port) +
               "}]\n"
               "    peer: {transport: udp, address: 127.0.0.1, port: " +
               std::to_string(mc_port) +
               "}\n"
               "    peers: [{name: mc, address: 127.0.0.1, domains: [mc.example, iwf.example]}]\n"
               "    media: {address: 127.0.0.1}\n"
               "    e2ee_groups: [sip:fire-ops@iwf.example]\n";
    }
    void start(const std::string& cfg) {
        ASSERT_TRUE(iwfd.start(dir, cfg)) << iwfd.log();
        port = iwfd.adminPort();
        ASSERT_TRUE(waitFor([&] { return httpGet(port, "/healthz").status == 200; }, 10s))
            << iwfd.log();
    }
    std::vector<Bytes> superframe(int n) {
        lmr::p25::test::SuperframeSpec s;
        s.service_options = 0x40;
        s.dst = 100;
        s.src = 1001;
        s.algid = 0x84;
        s.kid = 0x0101;
        s.imbe_seed = static_cast<std::uint8_t>(n * 5 + 1);
        return lmr::p25::test::buildSuperframe(s);
    }
    bool logHas(const std::string& s) { return iwfd.log().find(s) != std::string::npos; }

    iwf::test::TempDir dir;
    iwf::test::IwfdProcess iwfd;
    lmr::p25::test::UdpPeer radio;
    iwf::test::HbpRawPeer repeater;
    std::string store;
    std::uint16_t port = 0;
    std::uint16_t p25_port = 0;
    std::uint16_t sip_port = 0;
    std::uint16_t hbp_port = 0;
};

TEST_F(IwfdAdmin, ReadOnlyWithoutTokenStatusCodesAndAllow) {
    ASSERT_NO_FATAL_FAILURE(start(config(1, "")));
    // No token configured: every POST is refused with 403, and logged.
    for (const char* path :
         {"/v1/reload", "/v1/calls/c1/end", "/v1/links/dmr/peers/1/disconnect"}) {
        auto r = httpRequest(port, "POST", path, {bearer(kSecret)});
        EXPECT_EQ(r.status, 403) << path << " " << r.body;
    }
    EXPECT_TRUE(waitFor([&] { return logHas("admin=refused status=403"); }, 5s)) << iwfd.log();
    EXPECT_FALSE(logHas("reload=ok"));
    // Unknown path 404; known path, other method 405 with Allow.
    EXPECT_EQ(httpRequest(port, "GET", "/v1/nothing").status, 404);
    auto r = httpRequest(port, "GET", "/v1/reload");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.headers["allow"], "POST");
    r = httpRequest(port, "DELETE", "/v1/calls");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(r.headers["allow"], "GET, HEAD");
    // Unknown IDs: 404.
    EXPECT_EQ(httpRequest(port, "GET", "/v1/calls/c999").status, 404);
    EXPECT_EQ(httpRequest(port, "GET", "/v1/keymap/groups/sip%3Anope%40iwf.example").status, 404);
    // GET stays open.
    EXPECT_EQ(httpRequest(port, "GET", "/v1/calls").status, 200);
    EXPECT_EQ(nlohmann::json::parse(httpRequest(port, "GET", "/v1/audit").body)["audit"].size(),
              0u);
}

TEST_F(IwfdAdmin, BearerTokenAbsentWrongGoodAndTheAuditLine) {
    ASSERT_NO_FATAL_FAILURE(start(config(1, tokenFile(std::string("alice:") + kSecret + "\n"))));
    auto r = httpRequest(port, "POST", "/v1/reload");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.headers["www-authenticate"].rfind("Bearer", 0), 0u)
        << r.headers["www-authenticate"];
    r = httpRequest(port, "POST", "/v1/reload", {bearer("s3cret-token-0123456788")});
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.headers["www-authenticate"].find("invalid_token"), std::string::npos);
    r = httpRequest(port, "POST", "/v1/reload", {"Authorization: Basic YWxpY2U6eA=="});
    EXPECT_EQ(r.status, 401);
    EXPECT_FALSE(logHas("reload=ok"));
    EXPECT_TRUE(logHas("admin=refused status=401"));

    r = httpRequest(port, "POST", "/v1/reload", {bearer(kSecret)});
    ASSERT_EQ(r.status, 200) << r.body << iwfd.log();
    auto j = nlohmann::json::parse(r.body);
    EXPECT_EQ(j["result"], "reloaded");
    EXPECT_EQ(j["revision"], 2);
    ASSERT_TRUE(waitFor([&] { return logHas("audit client=127.0.0.1:"); }, 5s)) << iwfd.log();
    EXPECT_TRUE(logHas("who=alice request=\"POST /v1/reload\" status=200")) << iwfd.log();
    auto audit = nlohmann::json::parse(httpRequest(port, "GET", "/v1/audit").body)["audit"];
    ASSERT_EQ(audit.size(), 1u);
    EXPECT_EQ(audit[0]["who"], "alice");
    EXPECT_EQ(audit[0]["path"], "/v1/reload");
    EXPECT_EQ(audit[0]["status"], 200);
    EXPECT_EQ(audit[0]["client"].get<std::string>().rfind("127.0.0.1:", 0), 0u);
    // Refused requests did nothing and are not in the audit trail.
    EXPECT_EQ(nlohmann::json::parse(httpGet(port, "/v1/status").body)["config"]["revision"], 2);
}

TEST_F(IwfdAdmin, ReloadAppliesAnEditedFileOr409WithTheReason) {
    const std::string tf = tokenFile(kSecret);
    ASSERT_NO_FATAL_FAILURE(start(config(1, tf)));
    // A reloadable change (the log level): applied, revision 2.
    dir.write("iwfd.yaml", config(1, tf, "info"));
    auto r = httpRequest(port, "POST", "/v1/reload", {bearer(kSecret)});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(nlohmann::json::parse(r.body)["revision"], 2);
    EXPECT_TRUE(logHas("reload=ok"));
    // A change only a restart applies: 409 naming it, revision stays 2.
    dir.write("iwfd.yaml", "instance: other\n" + config(1, tf, "info").substr(16));
    r = httpRequest(port, "POST", "/v1/reload", {bearer(kSecret)});
    ASSERT_EQ(r.status, 409) << r.body;
    auto j = nlohmann::json::parse(r.body);
    EXPECT_NE(j["error"].get<std::string>().find("instance"), std::string::npos) << r.body;
    EXPECT_EQ(j["revision"], 2);
    auto audit = nlohmann::json::parse(httpRequest(port, "GET", "/v1/audit").body)["audit"];
    ASSERT_EQ(audit.size(), 2u);
    EXPECT_EQ(audit[0]["status"], 409);  // newest first
    EXPECT_EQ(audit[1]["status"], 200);
    // The operator token in SECRET-only form is named "operator".
    EXPECT_EQ(audit[0]["who"], "operator");
}

TEST_F(IwfdAdmin, CheckConfigRefusesATokenFileOthersMayRead) {
    const std::string tf = tokenFile(kSecret, 0644);
    dir.write("check.yaml", "instance: t\n" + adminSection(tf));
    auto r = runCommand({IWFD_BIN, "--check-config", "--config", dir.file("check.yaml")});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("token_file"), std::string::npos) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("chmod 600"), std::string::npos) << r.out << r.err;
    ::chmod(tf.c_str(), 0600);
    r = runCommand({IWFD_BIN, "--check-config", "--config", dir.file("check.yaml")});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    dir.write("admin.token", "short\n");
    r = runCommand({IWFD_BIN, "--check-config", "--config", dir.file("check.yaml")});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE((r.out + r.err).find("at least 16"), std::string::npos) << r.out << r.err;
}

TEST_F(IwfdAdmin, EndCallEndsBothLegsAndShowsTheCallFirst) {
    asio::io_context io;
    metrics::Registry reg;
    CountingMcSystem mc(io, reg);
    ASSERT_NO_FATAL_FAILURE(start(config(mc.stack->port(sip::Protocol::Udp), tokenFile(kSecret))));
    radio.sendTo(p25_port, iwf::test::p25RecordBytes(lmr::p25::makePoll("RADIO1", false)));
    ASSERT_TRUE(radio.receive(5s).has_value()) << "no poll answer\n" << iwfd.log();
    // Two superframes: the first one's LDU2 announces the MI, the call is set up to the MC side.
    for (int n = 0; n < 2; ++n) {
        for (const auto& rec : superframe(n)) {
            radio.sendTo(p25_port, rec);
        }
    }
    ASSERT_TRUE(pumpIo(io, [&] { return mc.frames.size() >= 36; })) << iwfd.log();

    auto calls = nlohmann::json::parse(httpGet(port, "/v1/calls").body)["calls"];
    ASSERT_EQ(calls.size(), 1u) << calls.dump(2);
    const std::string id = calls[0]["id"];
    auto one = httpRequest(port, "GET", "/v1/calls/" + id);
    ASSERT_EQ(one.status, 200);
    auto c = nlohmann::json::parse(one.body);
    EXPECT_EQ(c["group"], "sip:fire-ops@iwf.example");
    EXPECT_TRUE(c.contains("duration_s"));
    EXPECT_TRUE(c.contains("mi_resyncs"));
    ASSERT_EQ(c["legs"].size(), 2u) << c.dump(2);
    for (const auto& leg : c["legs"]) {
        // The talker as each side names it: unit 1001 (0x3E9) of WACN BEE00 system 001 on
        // P25, its MC ID on the MC side (configs/keymap.example.yaml).
        EXPECT_EQ(leg["talker"]["id"], leg["side"] == "lmr" ? "p25:unit:BEE00.001.0003E9"
                                                            : "mc:sip:p25-1001@iwf.example")
            << leg.dump();
        EXPECT_EQ(leg["e2ee"]["state"], "encrypted") << leg.dump();
        EXPECT_EQ(leg["e2ee"]["algid"], 0x84) << leg.dump();
        EXPECT_EQ(leg["e2ee"]["kid"], 0x0101) << leg.dump();
        EXPECT_FALSE(leg["e2ee"].contains("mi")) << "the MI is not shown";
    }

    EXPECT_EQ(httpRequest(port, "POST", "/v1/calls/c999/end", {bearer(kSecret)}).status, 404);
    auto r = httpRequest(port, "POST", "/v1/calls/" + id + "/end", {bearer(kSecret)});
    ASSERT_EQ(r.status, 200) << r.body;
    // The MC leg: a BYE. The call is gone from the view at once.
    ASSERT_TRUE(pumpIo(io, [&] { return mc.count("BYE") >= 1; })) << iwfd.log();
    EXPECT_EQ(nlohmann::json::parse(httpGet(port, "/v1/calls").body)["calls"].size(), 0u);
    EXPECT_EQ(httpRequest(port, "GET", "/v1/calls/" + id).status, 404);
    EXPECT_TRUE(logHas("call=" + id + " end reason=cancelled")) << iwfd.log();
    // The LMR leg: the rest of the radio's transmission is not carried to anyone (P25 records
    // have no message that stops a transmitting radio; the engine has forgotten its call).
    const std::size_t frames = mc.frames.size();
    for (const auto& rec : superframe(2)) {
        radio.sendTo(p25_port, rec);
    }
    pumpIo(
        io, [] { return false; }, 1s);
    EXPECT_EQ(mc.frames.size(), frames);
    EXPECT_EQ(mc.count("INVITE"), 1u);
    EXPECT_EQ(nlohmann::json::parse(httpGet(port, "/v1/calls").body)["calls"].size(), 0u);
    EXPECT_TRUE(logHas("did=\"ended call " + id)) << iwfd.log();
}

TEST_F(IwfdAdmin, DisconnectMakesTheRepeaterLogInAgain) {
    ASSERT_NO_FATAL_FAILURE(start(config(1, tokenFile(std::string("noc:") + kSecret))));
    ASSERT_TRUE(repeater.login(hbp_port, 3100001, "admin-test")) << iwfd.log();
    auto peers = [&] {
        return iwf::test::prometheusValue(httpGet(port, "/metrics").body,
                                          "iwf_dmr_peers{link=\"dmr\"}")
            .value_or(-1);
    };
    ASSERT_TRUE(waitFor([&] { return peers() == 1; }, 5s));
    EXPECT_EQ(httpRequest(port, "POST", "/v1/links/dmr/peers/3100002/disconnect", {bearer(kSecret)})
                  .status,
              404);
    EXPECT_EQ(
        httpRequest(port, "POST", "/v1/links/nope/peers/3100001/disconnect", {bearer(kSecret)})
            .status,
        404);
    EXPECT_EQ(httpRequest(port, "POST", "/v1/links/p25/peers/3100001/disconnect", {bearer(kSecret)})
                  .status,
              404);
    auto r = httpRequest(port, "POST", "/v1/links/dmr/peers/3100001/disconnect", {bearer(kSecret)});
    ASSERT_EQ(r.status, 200) << r.body;
    // MSTCL to the repeater, and iwfd has forgotten it.
    bool closed = false;
    while (auto m = repeater.receiveHbp(3s)) {
        if (m->type == lmr::dmr::HbpType::Mstcl && m->peer_id == 3100001) {
            closed = true;
            break;
        }
    }
    EXPECT_TRUE(closed) << iwfd.log();
    EXPECT_EQ(peers(), 0);
    // What MMDVMHost does on MSTCL: log in again.
    ASSERT_TRUE(repeater.login(hbp_port, 3100001, "admin-test")) << iwfd.log();
    EXPECT_TRUE(waitFor([&] { return peers() == 1; }, 5s));
    EXPECT_TRUE(
        logHas("who=noc request=\"POST /v1/links/dmr/peers/3100001/disconnect\" status=200"))
        << iwfd.log();
}

// 16 P25 peers (each its own UDP source port, so the kernel spreads them over the two
// SO_REUSEPORT instances: all 16 on worker 0 has odds of 1 in 65,536) poll iwfd, then the
// operator disconnects each by callsign. Each must get 200 and the unlink. Before the route
// asked the workers, a peer on worker 1 answered 404 "no such peer".
TEST_F(IwfdAdmin, DisconnectReachesAPeerOnAnyWorker) {
    const std::string cfg = "instance: admin\nworkers: 2\nlog: {level: info}\n" +
                            adminSection(tokenFile(std::string("noc:") + kSecret)) +
                            "keymap: {store: \"" + store +
                            "\"}\n"
                            "lmr_links:\n"
                            "  - {name: p25, type: p25-records, address: 127.0.0.1, port: " +
                            std::to_string(p25_port) +
                            ", wacn: 0xBEE00, system: 0x001, tgid: 100, peer_timeout: 600s}\n";
    ASSERT_NO_FATAL_FAILURE(start(cfg));
    constexpr int kPeers = 16;
    std::vector<std::unique_ptr<lmr::p25::test::UdpPeer>> peers;
    auto callsign = [](int i) { return "HST" + std::to_string(10 + i); };
    for (int i = 0; i < kPeers; ++i) {
        peers.push_back(std::make_unique<lmr::p25::test::UdpPeer>());
        // P25Gateway's poll (g4klx/P25Clients P25Network.cpp writePoll): 0xF0, then the
        // callsign padded with spaces to 10 bytes.
        std::string c = callsign(i);
        c.resize(10, ' ');
        Bytes poll{0xF0};
        poll.insert(poll.end(), c.begin(), c.end());
        peers.back()->sendTo(p25_port, poll);
    }
    auto linked = [&] {
        auto j = nlohmann::json::parse(httpGet(port, "/v1/links").body);
        for (const auto& l : j["links"]) {
            if (l["id"] == "p25") {
                return l["peers"].size();
            }
        }
        return std::size_t{0};
    };
    ASSERT_TRUE(waitFor([&] { return linked() == kPeers; }, 10s)) << iwfd.log();
    for (int i = 0; i < kPeers; ++i) {
        auto r = httpRequest(port, "POST", "/v1/links/p25/peers/" + callsign(i) + "/disconnect",
                             {bearer(kSecret)});
        EXPECT_EQ(r.status, 200) << callsign(i) << " " << r.body;
        // The unlink iwfd sends it: 0xF1 + iwfd's callsign, 11 bytes (P25Network.cpp
        // writeUnlink); poll answers may come first.
        bool unlinked = false;
        while (auto m = peers[static_cast<std::size_t>(i)]->receive(3s)) {
            if (m->size() == 11 && (*m)[0] == 0xF1) {
                unlinked = true;
                break;
            }
        }
        EXPECT_TRUE(unlinked) << callsign(i);
    }
    EXPECT_TRUE(waitFor([&] { return linked() == 0; }, 5s)) << linked();
    EXPECT_EQ(
        httpRequest(port, "POST", "/v1/links/p25/peers/HST10/disconnect", {bearer(kSecret)}).status,
        404);
}

TEST_F(IwfdAdmin, KeymapAndAGroupsRenderedSecurity) {
    ASSERT_NO_FATAL_FAILURE(start(config(1, "")));
    auto k = nlohmann::json::parse(httpGet(port, "/v1/keymap").body);
    EXPECT_EQ(k["revision"], 1) << k.dump(2);
    EXPECT_GT(k["groups"].get<int>(), 0);
    EXPECT_GT(k["users"].get<int>(), 0);
    EXPECT_EQ(k["loaded_at"].get<std::string>().size(), 24u) << k["loaded_at"];  // ISO 8601 UTC
    auto r = httpRequest(port, "GET", "/v1/keymap/groups/sip%3Afire-ops%40iwf.example");
    ASSERT_EQ(r.status, 200) << r.body;
    auto g = nlohmann::json::parse(r.body);
    EXPECT_EQ(g["group"], "sip:fire-ops@iwf.example");
    EXPECT_EQ(g["security"]["mode"], "secure");
    EXPECT_EQ(g["security"]["algid"], 0x84);
    EXPECT_EQ(g["security"]["kid"], 0x0101);
    EXPECT_NE(g["xml"].get<std::string>().find("<list-service uri=\"sip:fire-ops@iwf.example\""),
              std::string::npos)
        << g["xml"];
    // The same group by its talkgroup number (one group of the example keymap has TG 100).
    EXPECT_EQ(nlohmann::json::parse(httpGet(port, "/v1/keymap/groups/100").body)["group"],
              "sip:fire-ops@iwf.example");
}

// GET /v1/events with a real client: the stream's head, `event: calls` with the /v1/calls
// JSON at once and again within 5 s; admin.max_event_streams caps the streams (503 +
// Retry-After beyond), each held in the admin connection gate; a closed stream frees its place.
TEST_F(IwfdAdmin, EventsStreamCallsAndTheStreamCap) {
    std::string cfg = config(1, "");
    cfg.replace(cfg.find("  port: 0\n"), 10, "  port: 0\n  max_event_streams: 1\n");
    ASSERT_NO_FATAL_FAILURE(start(cfg));
    int fd = iwf::test::connectLoopback(port, 10);
    ASSERT_GE(fd, 0);
    const std::string req = "GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ASSERT_EQ(::send(fd, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
    std::string got;
    auto readUntil = [&](const std::string& what, std::size_t from) {
        char buf[4096];
        const auto end = std::chrono::steady_clock::now() + 15s;
        while (got.find(what, from) == std::string::npos &&
               std::chrono::steady_clock::now() < end) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                break;
            }
            got.append(buf, static_cast<std::size_t>(n));
        }
        return got.find(what, from);
    };
    auto first = readUntil("event: calls\ndata: {", 0);
    ASSERT_NE(first, std::string::npos) << got;
    EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
    EXPECT_NE(got.find("Content-Type: text/event-stream\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("data:   \"calls\": []"), std::string::npos) << got;
    // At least every 5 s, even with nothing changing.
    EXPECT_NE(readUntil("event: calls\n", first + 1), std::string::npos) << got;

    auto second = httpRequest(port, "GET", "/v1/events");
    EXPECT_EQ(second.status, 503);
    EXPECT_EQ(second.headers["retry-after"], "5");
    auto metrics = httpGet(port, "/metrics").body;
    EXPECT_EQ(iwf::test::prometheusValue(metrics, "iwf_admin_event_streams"), 1.0);
    EXPECT_EQ(iwf::test::prometheusValue(metrics, "iwf_admin_event_streams_refused_total"), 1.0);
    auto status = nlohmann::json::parse(httpGet(port, "/v1/status").body);
    EXPECT_GE(status["fds"]["admin_connections_open"].get<int>(), 2);  // the stream and this

    ::close(fd);
    // iwfd notices at once (its read on the stream completes) and the place is free again.
    EXPECT_TRUE(waitFor(
        [&] {
            return iwf::test::prometheusValue(httpGet(port, "/metrics").body,
                                              "iwf_admin_event_streams") == 0.0;
        },
        20s, 200ms))
        << iwfd.log();
    int fd2 = iwf::test::connectLoopback(port, 10);
    ASSERT_GE(fd2, 0);
    ASSERT_EQ(::send(fd2, req.data(), req.size(), MSG_NOSIGNAL), static_cast<ssize_t>(req.size()));
    char buf[256];
    ssize_t n = ::recv(fd2, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, static_cast<std::size_t>(n)).rfind("HTTP/1.1 200 OK", 0), 0u);
    ::close(fd2);
}

}  // namespace
}  // namespace iwf::mc
