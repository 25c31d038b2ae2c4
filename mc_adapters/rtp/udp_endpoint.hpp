#pragma once
// One UDP socket on the Asio executor with a receive loop. The socket state is shared with
// the pending receive, so destroying the endpoint while a receive is queued is safe.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>

#include "gateway/common/asio.hpp"
#include "gateway/common/bytes.hpp"
#include "gateway/common/result.hpp"

namespace iwf::mc::rtp {

using Udp = asio::ip::udp;

class UdpEndpoint {
  public:
    // Largest datagram taken whole. X-IWF-LMR RTP packets and floor messages are far smaller;
    // a datagram larger than this reaches the handler as kMaxDatagram + 1 bytes (truncated),
    // and the handler drops it as "oversize". The buffer is per socket (a call has two), so
    // its size is per-call memory: 64 KiB here made an idle MCPTT call cost ~153 KiB.
    static constexpr std::size_t kMaxDatagram = 2048;
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
    // Sends one datagram now (UDP send is non-blocking in practice). "send_failed" on error.
    Status sendTo(ByteView data, const Udp::endpoint& to);

  private:
    struct State {
        explicit State(asio::io_context& io) : socket(io) {}
        Udp::socket socket;
        std::array<std::uint8_t, kMaxDatagram + 1> buf;  // filled by each receive
        Udp::endpoint from;
        Handler handler;
        bool open = false;
    };
    static void receive(const std::shared_ptr<State>& st);

    asio::io_context& io_;
    std::shared_ptr<State> st_;
};

}  // namespace iwf::mc::rtp
