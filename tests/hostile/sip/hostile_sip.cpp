#include "hostile_sip.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>

#include "common/loopback_port.hpp"
#include "lmr_adapters/p25/mi_lfsr.hpp"
#include "lmr_adapters/p25/records.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "p25_test_support.hpp"
#include "sip/multipart.hpp"
#include "tests/support/mc_answer.hpp"

namespace iwf::hostile {

using iwf::test::httpGet;
using iwf::test::prometheusValue;
using iwf::test::runCommand;
using iwf::test::waitFor;

// --- PKI ---

Pki makePki(const std::string& dir) {
    Pki p;
    p.dir = dir;
    p.ca = dir + "/ca.crt";
    p.ca_key = dir + "/ca.key";
    auto r = runCommand({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
                         "/CN=hostile-test-ca", "-keyout", p.ca_key, "-out", p.ca});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return p;
}

Pki::Leaf Pki::issue(const std::string& name, const std::string& cn, const std::string& san) const {
    Leaf l{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
    const std::string csr = dir + "/" + name + ".csr";
    auto r = runCommand({"/usr/bin/openssl", "req", "-newkey", "ec", "-pkeyopt",
                         "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=" + cn, "-keyout",
                         l.key, "-out", csr});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const std::string ext = dir + "/" + name + ".ext";
    {
        FILE* f = std::fopen(ext.c_str(), "w");
        if (!san.empty()) {
            std::fprintf(f, "subjectAltName=%s\n", san.c_str());
        }
        std::fclose(f);
    }
    r = runCommand({"/usr/bin/openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                    "-CAcreateserial", "-days", "2", "-out", l.cert, "-extfile", ext});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return l;
}

// --- MC system ---

McSystem::McSystem(sip::Protocol protocol, const Pki* pki, const std::string& san) {
    io_.runSync([&] {
        voice_ = std::make_unique<mc::rtp::VoiceEndpoint>(
            io_.io, reg_, SteadyClock::instance(), "mc-sim",
            mc::rtp::VoiceEndpointConfig{96, 99, 7, 0});
        floor_ = std::make_unique<mc::rtp::FloorEndpoint>(io_.io, reg_, "mc-sim");
        sip::StackConfig sc;
        sc.name = "mc-sim";
        sip::ListenerConfig l;
        l.protocol = protocol;
        l.address = "127.0.0.1";
        if (protocol == sip::Protocol::Tls && pki != nullptr) {
            auto leaf = pki->issue("mc-system", "mc.test", san);
            l.tls.cert_file = leaf.cert;
            l.tls.key_file = leaf.key;
            l.tls.ca_file = pki->ca;
        }
        sc.listeners = {l};
        stack_ = std::make_unique<sip::Stack>(io_.io, reg_, sc);
        const auto lo = asio::ip::make_address("127.0.0.1");
        EXPECT_TRUE(voice_->open({lo, 0}).ok());
        EXPECT_TRUE(floor_->open({lo, 0}).ok());
        voice_->onFrame([this](VoiceFrame&& f, const mc::rtp::RtpView&) {
            std::lock_guard lock(mu_);
            frames_.push_back(std::move(f));
        });
        stack_->onRequest([this](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
            onRequest(tx, req);
        });
        EXPECT_TRUE(stack_->start().ok());
        port_ = stack_->port(protocol);
    });
}

McSystem::~McSystem() {
    io_.runSync([&] {
        stack_.reset();
        voice_.reset();
        floor_.reset();
    });
    io_.stop();
}

void McSystem::onRequest(sip::ServerTxId tx, const sip::Message& req) {
    if (req.method() != "INVITE") {
        (void)stack_->respond(tx, sip::makeResponse(req, 200, {}));
        return;
    }
    if (iwf::test::answerMcpttInvite(*stack_, tx, req, *voice_, *floor_)) {
        std::lock_guard lock(mu_);
        ++invites_;
    }
}

std::size_t McSystem::frameCount() const {
    std::lock_guard lock(mu_);
    return frames_.size();
}

std::vector<VoiceFrame> McSystem::frames() const {
    std::lock_guard lock(mu_);
    return frames_;
}

std::size_t McSystem::invites() const {
    std::lock_guard lock(mu_);
    return invites_;
}

// --- the legitimate call ---

namespace {
Bytes pollBytes(std::string_view cs) {
    InlineBytes<lmr::p25::kMaxRecordLen> b;
    EXPECT_TRUE(lmr::p25::encodeRecord(lmr::p25::makePoll(cs, false), b).ok());
    return Bytes(b.view().begin(), b.view().end());
}
}  // namespace

void LegitCall::start(int superframes, std::chrono::milliseconds pace) {
    auto radio = std::make_shared<lmr::p25::test::UdpPeer>();
    radio->sendTo(p25_port_, pollBytes("RADIO1"));
    ASSERT_TRUE(radio->receive(5s).has_value()) << "no poll answer from iwfd";
    std::vector<Bytes> records;
    lmr::p25::Mi mi{0x12, 0x34, 0x56, 0x78, 0x90, 0xAB, 0xCD, 0xEF, 0x00};
    for (int n = 0; n < superframes; ++n) {
        lmr::p25::test::SuperframeSpec s;
        s.service_options = 0x40;  // encrypted
        s.dst = 100;
        s.src = 1001;
        s.algid = 0x84;
        s.kid = 0x0101;
        mi = lmr::p25::nextMi(mi);
        std::copy(mi.begin(), mi.end(), s.next_mi.begin());
        s.imbe_seed = static_cast<std::uint8_t>(n * 5 + 1);
        specs_.push_back(s);
        for (auto& r : lmr::p25::test::buildSuperframe(s)) {
            records.push_back(std::move(r));
        }
    }
    Bytes end(17, 0);
    end[0] = 0x80;
    records.push_back(end);
    talker_ = std::thread([this, radio, records = std::move(records), pace] {
        for (const auto& r : records) {
            if (stop_) {
                return;
            }
            radio->sendTo(p25_port_, r);
            std::this_thread::sleep_for(pace);  // a talker's pace, not a wait for an event
        }
    });
}

void LegitCall::expectExact(std::chrono::milliseconds timeout) {
    if (talker_.joinable()) {
        talker_.join();
    }
    const std::size_t want = specs_.size() * 18;
    ASSERT_TRUE(waitFor([&] { return mc_->frameCount() >= want; }, timeout))
        << "the legitimate call got " << mc_->frameCount() << " of " << want << " frames";
    auto frames = mc_->frames();
    ASSERT_EQ(frames.size(), want);
    for (std::size_t k = 0; k < frames.size(); ++k) {
        const VoiceFrame& f = frames[k];
        const auto sf = static_cast<std::uint32_t>(k / 18);
        const auto idx = static_cast<std::uint8_t>(k % 18);
        EXPECT_EQ(f.pos.superframe, sf) << k;
        EXPECT_EQ(f.pos.index, idx) << k;
        EXPECT_TRUE(f.crypto.encrypted) << k;
        EXPECT_EQ(toHex(f.payload.view()), toHex(lmr::p25::test::imbeFor(specs_[sf], idx))) << k;
        if (sf > 0) {
            EXPECT_EQ(f.crypto.algid, 0x84) << k;
            EXPECT_EQ(f.crypto.key_id, 0x0101u) << k;
        }
    }
}

LegitCall::~LegitCall() {
    stop_ = true;
    if (talker_.joinable()) {
        talker_.join();
    }
}

// --- the fixture ---

void HostileSip::SetUp() {
    store = "sqlite:" + dir.file("keymap.db");
    auto r = runCommand({IWFCTL_BIN, "keymap", "--store", store, "import",
                         std::string(IWF_SOURCE_DIR) + "/configs/keymap.example.yaml"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    pki = makePki(dir.path());
    iwf_cert = pki.issue("iwf", "iwf.test", "DNS:iwf.test,IP:127.0.0.1");
    p25_port = pickLoopbackPort(PortProtocol::Udp);
    sip_udp_ = pickLoopbackPort(PortProtocol::Udp);
    sip_tcp_ = pickLoopbackPort(PortProtocol::Tcp);
    sip_tls_ = pickLoopbackPort(PortProtocol::Tcp);
}

void HostileSip::TearDown() {
    if (iwfd.running()) {
        iwfd.signal(SIGTERM);
        EXPECT_EQ(iwfd.waitExit(20s), std::optional<int>(0)) << iwfd.log();
    }
}

void HostileSip::start(const StartOptions& o) {
    mc = std::make_unique<McSystem>(o.peer_protocol, &pki, o.mc_san);
    call.attach(mc.get(), p25_port);
    const std::string peer = o.peer_protocol == sip::Protocol::Tcp   ? "tcp"
                             : o.peer_protocol == sip::Protocol::Tls ? "tls"
                                                                     : "udp";
    std::string cfg =
        "instance: hostile-sip\nlog: {level: info}\n"
        "keymap:\n  store: \"" +
        store +
        "\"\n  poll_interval: 200ms\n"
        "timers:\n  hang: 20s\n"
        "lmr_links:\n"
        "  - name: p25\n    type: p25-records\n    address: 127.0.0.1\n    port: " +
        std::to_string(p25_port) +
        "\n    wacn: 0xBEE00\n    system: 0x001\n    tgid: 100\n    call_timeout: 5s\n"
        "mc_links:\n"
        "  - name: mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
        "    server_uri: sip:cf@mc.example\n"
        "    listen:\n"
        "      - {transport: udp, address: 127.0.0.1, port: " +
        std::to_string(sip_udp_) +
        "}\n"
        "      - {transport: tcp, address: 127.0.0.1, port: " +
        std::to_string(sip_tcp_) +
        "}\n"
        "      - {transport: tls, address: 127.0.0.1, port: " +
        std::to_string(sip_tls_) + ", cert: " + iwf_cert.cert + ", key: " + iwf_cert.key +
        ", ca: " + pki.ca + o.tls_listener_extra +
        "}\n"
        "    peer: {transport: " +
        peer + ", address: 127.0.0.1, port: " + std::to_string(mc->sipPort()) +
        "}\n"
        "    media: {address: 127.0.0.1}\n"
        // The MC system; 127.0.0.2 a configured peer whose connections the stream tests abuse
        // (a peer's own messages reach the parser; others are dropped before it); 127.0.0.4
        // the rightful TLS client of the identity tests.
        "    peers:\n"
        "      - {name: mc, address: 127.0.0.1, domains: [mc.example, iwf.example], "
        "tls_name: mc.test}\n"
        "      - {name: probe, address: 127.0.0.2, domains: [mc.example], tls_name: probe.test}\n"
        "      - {name: rightful, address: 127.0.0.4, domains: [mc.example], tls_name: mc.test}\n"
        "    e2ee_groups: [sip:fire-ops@iwf.example]\n" +
        o.mc_link_extra + o.extra;
    if (o.admin_max_connections > 0) {
        cfg += "admin:\n  address: 127.0.0.1\n  port: 0\n  port_file: " + dir.file("admin.port") +
               "\n  max_connections: " + std::to_string(o.admin_max_connections) + "\n";
    }
    ASSERT_TRUE(iwfd.start(dir, cfg, 30s, o.binary)) << iwfd.log();
    ASSERT_TRUE(waitFor([&] { return metric("iwf_keymap_revision") == 1; }, 20s)) << iwfd.log();
}

double HostileSip::metric(const std::string& series) {
    auto m = httpGet(iwfd.adminPort(), "/metrics");
    return prometheusValue(m.body, series).value_or(-1);
}

// --- attacker sockets ---

int connectFrom(const std::string& source, std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    sockaddr_in src{};
    src.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &src.sin_addr);
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

bool sendAll(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

bool closedByServer(int fd, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            return true;
        }
    }
}

std::string readUntil(int fd, std::string_view needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string got;
    char buf[4096];
    while (got.find(needle) == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            break;
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n <= 0) {
            break;
        }
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

std::string optionsRequest(const std::string& transport, const std::string& source,
                           const std::string& tag) {
    return "OPTIONS sip:iwf@127.0.0.1 SIP/2.0\r\n"
           "Via: SIP/2.0/" +
           transport + " " + source + ":5999;branch=z9hG4bK" + tag +
           ";rport\r\n"
           "From: <sip:probe@" +
           source + ">;tag=" + tag +
           "\r\n"
           "To: <sip:iwf@127.0.0.1>\r\n"
           "Call-ID: " +
           tag + "@" + source +
           "\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Max-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n";
}

// --- TLS client ---

struct TlsClient::Impl {
    asio::io_context io;
    asio::ssl::context ctx{asio::ssl::context::tls_client};
    std::unique_ptr<asio::ssl::stream<asio::ip::tcp::socket>> stream;
};

TlsClient::TlsClient() : impl_(std::make_unique<Impl>()) {}
TlsClient::~TlsClient() = default;

bool TlsClient::connect(const std::string& source, std::uint16_t port, const std::string& ca,
                        const Pki::Leaf* cert) {
    boost::system::error_code ec;
    if (cert != nullptr) {
        impl_->ctx.use_certificate_chain_file(cert->cert, ec);
        impl_->ctx.use_private_key_file(cert->key, asio::ssl::context::pem, ec);
    }
    impl_->ctx.load_verify_file(ca, ec);
    impl_->ctx.set_verify_mode(asio::ssl::verify_peer, ec);
    impl_->stream =
        std::make_unique<asio::ssl::stream<asio::ip::tcp::socket>>(impl_->io, impl_->ctx);
    auto& sock = impl_->stream->next_layer();
    sock.open(asio::ip::tcp::v4(), ec);
    sock.bind({asio::ip::make_address(source), 0}, ec);
    sock.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    if (ec) {
        return false;
    }
    impl_->stream->handshake(asio::ssl::stream_base::client, ec);
    return !ec;
}

bool TlsClient::write(std::string_view data) {
    boost::system::error_code ec;
    asio::write(*impl_->stream, asio::buffer(data.data(), data.size()), ec);
    return !ec;
}

std::string TlsClient::readUntil(std::string_view needle, std::chrono::milliseconds timeout) {
    int fd = impl_->stream->next_layer().native_handle();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string got;
    char buf[4096];
    while (got.find(needle) == std::string::npos) {
        // SSL may hold decrypted bytes already; poll only when it has none.
        if (SSL_pending(impl_->stream->native_handle()) == 0) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) {
                break;
            }
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                continue;
            }
        }
        boost::system::error_code ec;
        std::size_t n = impl_->stream->read_some(asio::buffer(buf), ec);
        if (ec) {
            break;
        }
        got.append(buf, n);
    }
    return got;
}

bool TlsClient::closedByServer(std::chrono::milliseconds timeout) {
    int fd = impl_->stream->next_layer().native_handle();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return false;
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        boost::system::error_code ec;
        (void)impl_->stream->read_some(asio::buffer(buf), ec);
        if (ec) {
            return true;
        }
    }
}

}  // namespace iwf::hostile
