#pragma once
// What the P25 links that own one UDP socket share ("p25-issi" for its RTP, "p25-records"):
// the link id, the io_context / metrics / clock they run on, the socket with its batched
// receiver, a timer, the iwf_lmr_dropped_total counter, the socket's kernel statistics
// (receive buffer, kernel drops) and the "p25" logger; binding with the error logged and the
// receive buffer sized; the bound port; closing the socket side.
//
// A base class of the links (no virtual function of its own): id() and family() are the
// LmrLink overrides both links had; nothing on the per-datagram path goes through it.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/link.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/udp_socket.hpp"

namespace iwf::lmr::p25 {

class UdpLink : public LmrLink {
  public:
    const LinkId& id() const override { return id_; }
    LmrFamily family() const override { return LmrFamily::P25; }

  protected:
    // `batch` and `max_datagram`: the receiver's (net::BatchReceiver). `socket_name` and
    // `worker` label the socket's kernel statistics (net::SocketStats).
    UdpLink(const std::string& name, asio::io_context& io, metrics::Registry& metrics,
            const Clock& clock, std::size_t batch, std::size_t max_datagram,
            const std::string& socket_name, unsigned worker = 0);

    // Binds socket_ (net::bind) and asks for a receive buffer of `receive_buffer` bytes (0 =
    // kernel default; a warning names net.core.rmem_max when the kernel granted less); on
    // failure logs "link=.. bind=address:port error=.." and returns the error.
    Status bindSocket(const std::string& address, std::uint16_t port,
                      const net::BindOptions& opts = {}, int receive_buffer = 0);
    // The port socket_ is bound to (0 if none).
    std::uint16_t boundPort() const;
    // Cancels the timer, stops the receiver and closes the socket.
    void closeSocket();

    LinkId id_;
    asio::io_context& io_;
    metrics::Registry& metrics_;
    const Clock& clock_;
    asio::ip::udp::socket socket_;
    asio::steady_timer timer_;
    net::BatchReceiver receiver_;
    net::DropCounter drops_;
    net::SocketStats socket_stats_;
    std::shared_ptr<spdlog::logger> log_;
};

}  // namespace iwf::lmr::p25
