#pragma once
// Config of what an LMR link accepts from the network (docs/security.md "LMR links"), read the
// same way by every LMR link type:
//
//   allow: [192.0.2.7, 10.1.0.0/16]   # peers' source addresses / prefixes; [any] = everyone
//   rate_limit: {pps: 200, burst: 100} # per peer (per call on ISSI RTP); pps 0 = no limit
//   receive_buffer: 4194304            # SO_RCVBUF asked for, bytes (kernel caps at rmem_max)
//
// The allow-list default: a link that listens on a loopback address accepts loopback sources
// (nothing else can reach it; every lab and test config keeps working); a link that listens
// on any other address must say whom it accepts — the config is refused, naming the field,
// until `allow` lists the peers (or says [any] on purpose). An upgrade is never silently cut
// off (iwfd refuses to start and says why) and the default is never "anyone".

#include <string>
#include <string_view>
#include <vector>

#include "common/address_filter.hpp"
#include "common/config_node.hpp"
#include "common/udp_socket.hpp"

namespace iwf::net {

// True for 127.0.0.0/8, ::1 and ::ffff:127.x.y.z.
bool isLoopbackAddress(const std::string& address);

// Reads `key` (default "allow") of a link section. Absent: loopback when `bind_address` is a
// loopback address, else `implied` (addresses the link is configured to talk to, e.g. the ISSI
// peer) when not empty, else a ConfigError naming the field. Present: every entry must parse,
// the list must not be empty.
AddressFilter allowListFromConfig(const ConfigNode& link, const std::string& bind_address,
                                  const std::vector<std::string>& implied = {},
                                  std::string_view key = "allow");

// Reads `rate_limit: {pps, burst}`; absent -> `dflt`. burst defaults to max(pps / 2, 20).
RateLimitConfig rateLimitFromConfig(const ConfigNode& link, RateLimitConfig dflt,
                                    std::string_view key = "rate_limit");

// Reads `receive_buffer` (bytes, 0 = kernel default, else 4 KiB .. 256 MiB); absent -> dflt.
int receiveBufferFromConfig(const ConfigNode& link, int dflt,
                            std::string_view key = "receive_buffer");

}  // namespace iwf::net
