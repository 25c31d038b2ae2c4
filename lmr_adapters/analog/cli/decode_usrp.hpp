#pragma once
// `iwfctl decode usrp FILE`: USRP datagrams of a capture (pcap or hex dump) as JSON lines
// (docs/protocols/usrp.md); `iwfctl decode analog-rtp FILE`: the RTP G.711 datagrams of an
// analog-rtp link likewise (docs/protocols/analog-rtp.md).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/pcap.hpp"

namespace iwf::lmr::analog {

void addDecodeCommands(CLI::App& decode);

// One JSON object per datagram (also used by tests). `port` filters on either UDP port.
// Returns the number of datagrams that did not decode.
std::size_t decodeUsrpCapture(const pcap::Capture& cap, std::optional<std::uint16_t> port,
                              std::vector<std::string>& lines);
std::size_t decodeAnalogRtpCapture(const pcap::Capture& cap, std::optional<std::uint16_t> port,
                                   std::vector<std::string>& lines);

}  // namespace iwf::lmr::analog
