#pragma once
// One UDP socket on the Asio executor with a receive loop. The socket state is shared with
// the pending wait, so destroying the endpoint while a wait is queued is safe.
//
// Receive buffer: one per thread, shared by every endpoint that thread serves, not one per
// socket (a call has two sockets, and an idle call should cost little memory). The loop waits
// for readability (async_wait, which holds no buffer while pending: an async_receive_from can
// complete speculatively and fill its buffer before its handler runs, so it could not share
// one), then reads with non-blocking receive_from into the thread's buffer and hands each
// datagram to the handler before the next read; the handler must not keep the view.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/asio.hpp"
#include "common/bytes.hpp"
#include "common/result.hpp"

namespace iwf::mc::rtp {

using Udp = asio::ip::udp;

class UdpEndpoint {
  public:
    // Largest datagram taken whole. X-IWF-LMR RTP packets and floor messages are far smaller;
    // a datagram larger than this reaches the handler as kMaxDatagram + 1 bytes (truncated),
    // and the handler drops it as "oversize". (When the buffer was per socket, 64 KiB here
    // made an idle MCPTT call cost ~153 KiB; it is per thread now.)
    static constexpr std::size_t kMaxDatagram = 2048;
    // Datagrams read per wake-up before the loop yields to other handlers.
    static constexpr int kMaxReadsPerWake = 16;
    using Handler = std::function<void(ByteView data, const Udp::endpoint& from)>;

    explicit UdpEndpoint(asio::io_context& io);
    ~UdpEndpoint();
    UdpEndpoint(const UdpEndpoint&) = delete;
    UdpEndpoint& operator=(const UdpEndpoint&) = delete;

    // Binds `local` (port 0 = any) and starts receiving. Fails with "bind_failed".
    Status open(const Udp::endpoint& local, Handler handler);
    void close();
    bool isOpen() const;
    Udp::endpoint localEndpoint() const;
    // Sends one datagram now (sendto on the non-blocking socket). "send_failed" on error,
    // including a full socket send buffer (EAGAIN): the caller counts it as a drop.
    Status sendTo(ByteView data, const Udp::endpoint& to);

  private:
    struct State {
        explicit State(asio::io_context& io) : socket(io) {}
        Udp::socket socket;
        Handler handler;
        bool open = false;
    };
    static void receive(const std::shared_ptr<State>& st);
    static void drain(const std::shared_ptr<State>& st);

    asio::io_context& io_;
    std::shared_ptr<State> st_;
};

}  // namespace iwf::mc::rtp
