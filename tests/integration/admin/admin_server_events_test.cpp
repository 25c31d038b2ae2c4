// AdminServer's Server-Sent Events streams against slow readers (gateway/admin/admin_server.hpp
// "enableEvents"): a client that stops reading is dropped once more than kStreamQueueMax bytes
// wait for it, never buffered without bound, while a client that reads gets every event in
// order. Real sockets on 127.0.0.1; the server runs on its own io_context thread.
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/metrics.hpp"
#include "gateway/admin/admin_server.hpp"

namespace iwf::gateway {
namespace {

using namespace std::chrono_literals;

int openStream(std::uint16_t port, int rcvbuf) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) {
        // Before connect(): the window the client advertises stays small.
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    const std::string req = "GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n";
    (void)::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    return fd;
}

struct Server {
    Server() : admin(io), work(io.get_executor()) {
        admin.enableEvents(4, metrics);
        admin.start("127.0.0.1", 0);
        thread = std::thread([this] { io.run(); });
    }
    // Runs fn on the server's thread and waits for it.
    template <typename Fn>
    auto run(Fn fn) {
        std::packaged_task<decltype(fn())()> task(fn);
        auto f = task.get_future();
        asio::post(io, [&task] { task(); });
        return f.get();
    }
    ~Server() {
        run([this] { admin.stop(); });
        work.reset();
        io.stop();
        thread.join();
    }
    double value(const std::string& series) {
        auto text = metrics.renderPrometheus();
        auto at = text.find("\n" + series + " ");
        return at == std::string::npos ? -1 : std::stod(text.substr(at + series.size() + 2));
    }
    asio::io_context io;
    metrics::Registry metrics;
    AdminServer admin;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    std::thread thread;
};

TEST(AdminEvents, SlowReaderIsDroppedFastReaderGetsEverythingInOrder) {
    Server s;
    const int slow = openStream(s.admin.port(), 4096);
    const int fast = openStream(s.admin.port(), 0);
    ASSERT_GE(slow, 0);
    ASSERT_GE(fast, 0);
    ASSERT_TRUE([&] {
        for (int i = 0; i < 500; ++i) {
            if (s.run([&] { return s.admin.eventStreams(); }) == 2) {
                return true;
            }
            std::this_thread::sleep_for(10ms);
        }
        return false;
    }());

    // The fast reader reads everything on its own thread.
    std::atomic<bool> stop{false};
    std::string fast_got;
    std::thread reader([&] {
        char buf[65536];
        while (!stop) {
            ssize_t n = ::recv(fast, buf, sizeof buf, 0);
            if (n <= 0) {
                break;
            }
            fast_got.append(buf, static_cast<std::size_t>(n));
        }
    });
    // 64 KiB events until the slow reader is dropped (the kernel buffers a few MB first):
    // 400 events = 25 MB at most.
    const std::string payload(64 * 1024 - 32, 'x');
    int sent = 0;
    for (; sent < 400; ++sent) {
        s.run([&] { s.admin.publish("tick", std::to_string(sent) + ":" + payload); });
        if (s.value("iwf_admin_event_streams_dropped_total{reason=\"queue_full\"}") == 1.0) {
            ++sent;
            break;
        }
        // Let the fast reader keep up: its queue must never reach the cap.
        std::this_thread::sleep_for(2ms);
    }
    EXPECT_EQ(s.value("iwf_admin_event_streams_dropped_total{reason=\"queue_full\"}"), 1.0);
    EXPECT_LT(sent, 400);
    EXPECT_EQ(s.run([&] { return s.admin.eventStreams(); }), 1u);

    // The slow client finds its stream closed after what was buffered.
    std::size_t slow_bytes = 0;
    {
        char buf[65536];
        for (;;) {
            ssize_t n = ::recv(slow, buf, sizeof buf, 0);
            if (n <= 0) {
                EXPECT_EQ(n, 0) << "closed, not timed out";
                break;
            }
            slow_bytes += static_cast<std::size_t>(n);
        }
    }
    EXPECT_GT(slow_bytes, 0u);
    EXPECT_LT(slow_bytes, static_cast<std::size_t>(sent) * payload.size());

    // The fast reader got every event, in order.
    const std::string last = "data: " + std::to_string(sent - 1) + ":";
    for (int i = 0; i < 3000 && fast_got.find(last) == std::string::npos; ++i) {
        std::this_thread::sleep_for(10ms);
    }
    stop = true;
    ::shutdown(fast, SHUT_RDWR);
    reader.join();
    std::size_t pos = 0;
    for (int i = 0; i < sent; ++i) {
        const auto at = fast_got.find("event: tick\ndata: " + std::to_string(i) + ":", pos);
        ASSERT_NE(at, std::string::npos) << "event " << i << " of " << sent;
        pos = at + 1;
    }
    ::close(slow);
    ::close(fast);
}

}  // namespace
}  // namespace iwf::gateway
