// Loopback UDP helpers shared by iwf_load's generator, its receivers (load_main.cpp), the DMR
// HBP peer sockets (dmr_shape.cpp) and the lean MC sink (lean_mc_sink.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/types.h>

namespace iwf::bench {

// A non-blocking UDP socket bound to 127.0.0.1 port 0, with SO_TIMESTAMPNS when `timestamps`
// and SO_RCVBUF / SO_SNDBUF when > 0. -1 on failure (errno tells why).
int openLoopbackUdp(bool timestamps, int rcvbuf, int sndbuf = 0);

// The local port of a bound socket (0 when unknown).
std::uint16_t localPort(int fd);

// One recvmsg(MSG_DONTWAIT) into buf: the datagram's length (< 0 when none is waiting) and, in
// t_rx_ns, its kernel receive timestamp (SCM_TIMESTAMPNS, CLOCK_REALTIME ns; 0 when absent).
ssize_t recvTimestamped(int fd, std::uint8_t* buf, std::size_t cap, std::int64_t& t_rx_ns);

}  // namespace iwf::bench
