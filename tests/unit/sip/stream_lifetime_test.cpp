// The life of a stream connection (sip/transport.cpp, Connection): a connection that fails
// while a write is in flight, with more queued behind it, must let that write finish with its
// buffer alive, report every queued message once, and leave the transport serving. Before the
// fix, fail() cleared the queue under the in-flight write and its handler popped an empty
// deque: a double free under ASan (issue #21, "remote crash").
#include <arpa/inet.h>
#include <chrono>
#include <functional>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/asio.hpp"
#include "common/metrics.hpp"
#include "sip/stack.hpp"
#include "tests/support/io_wait.hpp"

namespace iwf::sip {
namespace {

using namespace std::chrono_literals;

std::string options(int i) {
    const std::string t = std::to_string(i);
    return "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK" + t +
           "\r\nFrom: <sip:a@b>;tag=" + t + "\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: c" + t +
           "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
}

int connectTo(std::uint16_t port, int rcvbuf) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) {
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
}

double transportErrors(metrics::Registry& reg, const std::string& reason) {
    return reg
        .counter("iwf_sip_transport_errors_total", "",
                 {{"stack", "uas"}, {"transport", "tcp"}, {"reason", reason}})
        .value();
}

struct Uas {
    Uas(asio::io_context& io, metrics::Registry& reg, std::size_t body_bytes)
        : stack(io, reg, [] {
            StackConfig c;
            c.name = "uas";
            c.listeners.push_back({Protocol::Tcp, "127.0.0.1", 0, {}});
            return c;
        }()) {
        stack.onRequest([this, body_bytes](ServerTxId tx, const Message& req, const Peer&) {
            Message ok = makeResponse(req, 200, {}, stack.newTag());
            // A big body makes each response outlast the peer's receive window.
            ok.setBody(std::string(body_bytes, 'x'), "text/plain");
            (void)stack.respond(tx, ok);
            ++answered;
        });
        EXPECT_TRUE(stack.start().ok());
    }
    Stack stack;
    int answered = 0;
};

TEST(StreamLifetime, JunkAfterARequestClosesTheConnectionWhileItsAnswerIsBeingWritten) {
    asio::io_context io;
    metrics::Registry reg;
    Uas uas(io, reg, 0);
    int fd = connectTo(uas.stack.port(Protocol::Tcp), 0);
    const std::string bytes = options(1) + "JUNK\r\n\r\n";
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
    ASSERT_TRUE(iwf::test::runIoUntil(
        io, [&] { return transportErrors(reg, "missing_content_length") == 1; }));
    ::close(fd);
    // Still serving on a new connection.
    fd = connectTo(uas.stack.port(Protocol::Tcp), 0);
    const std::string again = options(2);
    ASSERT_EQ(::send(fd, again.data(), again.size(), 0), static_cast<ssize_t>(again.size()));
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return uas.answered == 2; }));
    ::close(fd);
}

// The peer does not read: answers pile up in the connection's queue (the kernel's buffers are
// full), then the junk fails the connection with a write in flight and dozens queued.
TEST(StreamLifetime, FailureWithAFullWriteQueueReleasesEveryMessageOnce) {
    asio::io_context io;
    metrics::Registry reg;
    Uas uas(io, reg, 16000);
    int fd = connectTo(uas.stack.port(Protocol::Tcp), 4096);
    std::string bytes;
    for (int i = 0; i < 200; ++i) {
        bytes += options(i);
    }
    bytes += "JUNK\r\n\r\n";
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), 0), static_cast<ssize_t>(bytes.size()));
    ASSERT_TRUE(iwf::test::runIoUntil(
        io, [&] { return transportErrors(reg, "missing_content_length") == 1; }));
    EXPECT_EQ(uas.answered, 200);
    // Let the aborted write complete and the posted error callbacks run.
    for (int i = 0; i < 20; ++i) {
        io.restart();
        io.poll();
    }
    ::close(fd);
    fd = connectTo(uas.stack.port(Protocol::Tcp), 0);
    const std::string again = options(1000);
    ASSERT_EQ(::send(fd, again.data(), again.size(), 0), static_cast<ssize_t>(again.size()));
    ASSERT_TRUE(iwf::test::runIoUntil(io, [&] { return uas.answered == 201; }));
    ::close(fd);
}

}  // namespace
}  // namespace iwf::sip
