// A free 127.0.0.1 port to hand to another process that binds it by number a moment later
// (the harness writing iwfd's config, tests starting iwfd, SIPp or socat).
//
// Binding port 0 and releasing it leaves a window in which any other process binding port 0
// can be given the same number: the kernel hands out ports from the ephemeral range
// (/proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default). These ports are taken from
// below that range instead, where no port-0 bind lands, starting at a point that differs per
// process so that parallel test processes do not probe the same numbers. The window against
// another process binding the same number explicitly remains; callers that start a daemon on
// the port still check that it bound.
#pragma once

#include <cstdint>

namespace iwf {

enum class PortProtocol { Udp, Tcp };

// The first port of [20000, 32000) that binds on 127.0.0.1 for `protocol`, or 0 if none did.
// Successive calls in one process return different ports.
std::uint16_t pickLoopbackPort(PortProtocol protocol);

}  // namespace iwf
