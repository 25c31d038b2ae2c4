#pragma once
// The TCP / TLS transport (sip/stream_transport.cpp): one acceptor per listener, connections
// kept by peer, messages framed by Content-Length. makeTransport() builds it; nothing else
// should need this header.

#include <memory>
#include <string>

#include "common/asio.hpp"
#include "common/metrics.hpp"
#include "sip/transport.hpp"

namespace iwf::sip::detail {

std::shared_ptr<Transport> makeStreamTransport(asio::io_context& io, metrics::Registry& metrics,
                                               const std::string& label, const ListenerConfig& cfg);

}  // namespace iwf::sip::detail
