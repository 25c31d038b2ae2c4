#pragma once
// `iwfctl decode lmr-rtp FILE`: the RTP packets of a capture (pcap, pcapng or hex dump) that
// carry the X-IWF-LMR payload (docs/protocols/iwf-1-media.md) as JSON lines, one per packet:
// the RTP header fields and every field of the payload. Datagrams that are not RTP version 2
// with the chosen payload type are skipped (SIP, floor control, LMR links of the same capture).
// Exit 0 when every such packet decoded, 1 when some did not (their lines carry "error"),
// 2 on I/O errors.

#include <cstdint>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "common/pcap.hpp"

namespace iwf::mc::rtp {

void addDecodeCommands(CLI::App& decode);

// The same, callable from tests: writes JSON lines to `out`, returns the number of packets
// with the payload type that did not decode.
std::size_t decodeLmrRtpCapture(const pcap::Capture& cap, std::uint8_t payload_type,
                                std::ostream& out);

}  // namespace iwf::mc::rtp
