#include "tests/bench/load/lean_mc_sink.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <optional>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/asio.hpp"
#include "common/metrics.hpp"
#include "mc_adapters/mcptt/mcptt_info.hpp"
#include "mc_adapters/mcptt/mcptt_sdp.hpp"
#include "mc_adapters/rtp/lmr_payload.hpp"
#include "mc_adapters/rtp/rtp_packet.hpp"
#include "sip/multipart.hpp"
#include "sip/sdp.hpp"
#include "sip/stack.hpp"
#include "tests/bench/load/load_book.hpp"
#include "tests/bench/load/load_net.hpp"

namespace iwf::bench {

namespace mcptt = mc::mcptt;
namespace rtp = mc::rtp;

namespace {

int openTimestamped(std::uint16_t& port) {
    const int fd = openLoopbackUdp(true, 0);
    port = fd < 0 ? 0 : localPort(fd);
    return fd;
}

// "sip:load-<i>@..." -> i
std::optional<std::uint32_t> streamOfGroup(const std::string& g) {
    const auto a = g.find("sip:load-");
    if (a == std::string::npos) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(std::strtoul(g.c_str() + a + 9, nullptr, 10));
}

}  // namespace

struct LeanMcSink::Impl {
    asio::io_context io;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    metrics::Registry metrics;
    std::unique_ptr<sip::Stack> stack;
    std::thread io_thread;
    std::vector<int> fds;  // io thread; closed after both threads stopped
    std::uint64_t next_session = 1;
};

LeanMcSink::LeanMcSink() : impl_(std::make_unique<Impl>()) {}

LeanMcSink::~LeanMcSink() {
    stop();
}

Status LeanMcSink::start() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) {
        return Error{"epoll_create", errno};
    }
    sip::StackConfig sc;
    sc.name = "lean-mc";
    sip::ListenerConfig l;
    l.protocol = sip::Protocol::Udp;
    l.address = "127.0.0.1";
    l.port = 0;
    // Thousands of INVITEs (and their retransmissions) can arrive within milliseconds: with the
    // kernel's default buffer (~208 KiB, ~90 INVITEs) this sink dropped 4,665 of them at 2,500
    // calls and 19,335 at 5,000 (docs/perf/call-setup.md). Capped by net.core.rmem_max.
    l.receive_buffer = sip::kDefaultUdpReceiveBuffer;
    sc.listeners.push_back(l);
    sc.user_agent = "iwf-load-lean-mc";
    impl_->stack = std::make_unique<sip::Stack>(impl_->io, impl_->metrics, sc);
    Impl* im = impl_.get();
    impl_->stack->onRequest(
        [this, im](sip::ServerTxId tx, const sip::Message& req, const sip::Peer&) {
            if (req.method() == "ACK") {
                return;
            }
            if (req.method() != "INVITE" || !req.toTag().empty()) {
                (void)im->stack->respond(tx, sip::makeResponse(req, 200, {}, {}));
                return;
            }
            auto xml = sip::bodyOfType(req, mcptt::kMcpttInfoContentType);
            auto sdp_text = sip::bodyOfType(req, sip::kSdpContentType);
            if (!xml || !sdp_text) {
                (void)im->stack->respond(tx, sip::makeResponse(req, 400, {}, im->stack->newTag()));
                return;
            }
            auto info = mcptt::parseMcpttInfo(*xml);
            auto sdp = sip::parseSdp(*sdp_text);
            if (!info.ok() || !sdp.ok()) {
                (void)im->stack->respond(tx, sip::makeResponse(req, 400, {}, im->stack->newTag()));
                return;
            }
            auto offer = mcptt::readMcpttSdp(*sdp);
            const std::string group =
                !info->calling_group_id.empty() ? info->calling_group_id : info->request_uri;
            const auto stream = streamOfGroup(group);
            if (!offer.ok() || !stream) {
                unknown_groups_.fetch_add(stream ? 0 : 1);
                (void)im->stack->respond(tx, sip::makeResponse(req, 488, {}, im->stack->newTag()));
                return;
            }
            mcptt::McpttMedia ours;
            ours.address = "127.0.0.1";
            ours.payload_type = 96;
            ours.floor = true;
            ours.floor_params.queueing = true;
            ours.floor_params.priority = 5;
            const int vfd = openTimestamped(ours.audio_port);
            const int ffd = openTimestamped(ours.floor_port);
            if (vfd < 0 || ffd < 0) {
                (void)im->stack->respond(tx, sip::makeResponse(req, 500, {}, im->stack->newTag()));
                return;
            }
            im->fds.push_back(vfd);
            im->fds.push_back(ffd);  // floor messages are not read (LMR-homed: iwfd arbitrates)
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = (std::uint64_t(static_cast<std::uint32_t>(vfd)) << 32) | *stream;
            ::epoll_ctl(epfd_, EPOLL_CTL_ADD, vfd, &ev);
            auto answer = mcptt::answerMedia(*offer, ours);
            if (!answer.ok()) {
                (void)im->stack->respond(tx, sip::makeResponse(req, 488, {}, im->stack->newTag()));
                return;
            }
            sip::Message ok = sip::makeResponse(req, 200, {}, im->stack->newTag());
            ok.addHeader("Contact",
                         "<" + im->stack->contactUri("mc", sip::Protocol::Udp) + ">;+g.3gpp.mcptt");
            ok.setBody(mcptt::buildMcpttSdp(*answer, im->next_session++, 1).toString(),
                       sip::kSdpContentType);
            (void)im->stack->respond(tx, std::move(ok));
            calls_.fetch_add(1);
        });
    IWF_TRY_STATUS(impl_->stack->start());
    sip_port_ = impl_->stack->port(sip::Protocol::Udp);
    impl_->work.emplace(asio::make_work_guard(impl_->io));
    impl_->io_thread = std::thread([im] { im->io.run(); });
    rx_thread_ = std::thread([this] { receiveLoop(); });
    return {};
}

std::vector<std::thread::native_handle_type> LeanMcSink::threads() {
    std::vector<std::thread::native_handle_type> t;
    if (impl_->io_thread.joinable()) {
        t.push_back(impl_->io_thread.native_handle());
    }
    if (rx_thread_.joinable()) {
        t.push_back(rx_thread_.native_handle());
    }
    return t;
}

void LeanMcSink::stop() {
    stop_.store(true);
    if (rx_thread_.joinable()) {
        rx_thread_.join();
    }
    if (impl_->io_thread.joinable()) {
        impl_->work.reset();
        asio::post(impl_->io, [im = impl_.get()] {
            im->stack->stop();
            im->io.stop();
        });
        impl_->io_thread.join();
    }
    for (int fd : impl_->fds) {
        ::close(fd);
    }
    impl_->fds.clear();
    if (epfd_ >= 0) {
        ::close(epfd_);
        epfd_ = -1;
    }
}

void LeanMcSink::receiveLoop() {
    std::vector<epoll_event> events(1024);
    std::uint8_t buf[2048];
    while (!stop_.load(std::memory_order_relaxed)) {
        const int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), 20);
        for (int i = 0; i < n; ++i) {
            const std::uint64_t key = events[static_cast<std::size_t>(i)].data.u64;
            const auto stream = static_cast<std::uint32_t>(key & 0xFFFFFFFFu);
            const int fd = static_cast<int>(key >> 32);
            while (true) {
                std::int64_t t_rx = 0;
                const ssize_t len = recvTimestamped(fd, buf, sizeof buf, t_rx);
                if (len < 0) {
                    break;
                }
                auto pkt = rtp::RtpView::parse(ByteView(buf, static_cast<std::size_t>(len)));
                if (!pkt.ok()) {
                    undecodable_.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                auto f = rtp::decodeLmrPayload(pkt->payload());
                if (!f.ok()) {
                    undecodable_.fetch_add(1, std::memory_order_relaxed);
                    continue;
                }
                LeanRx r;
                r.stream = stream;
                r.digest = fnv1a(f->payload.data(), f->payload.size());
                r.index = f->pos.index;
                r.encrypted = f->crypto.encrypted;
                r.algid = f->crypto.algid;
                r.key_id = f->crypto.key_id;
                r.t_rx_ns = t_rx;
                records_.push_back(r);
                if (stream >= seen_.size()) {
                    seen_.resize(stream + 1, 0);
                }
                if (seen_[stream] == 0) {
                    seen_[stream] = 1;
                    with_media_.fetch_add(1, std::memory_order_relaxed);
                }
            }
        }
    }
}

}  // namespace iwf::bench
