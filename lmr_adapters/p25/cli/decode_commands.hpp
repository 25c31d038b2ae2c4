#pragma once
// `iwfctl decode p25-records FILE` and `iwfctl decode issi FILE`: decode a capture (pcap or
// hex dump, one datagram per line) into JSON lines, one per datagram. Exit 0 when every
// datagram decoded, 1 when some did not (their lines carry "error"), 2 on I/O errors.

#include <CLI/CLI.hpp>

namespace iwf::lmr::p25 {

void addDecodeCommands(CLI::App& decode);

// The same, callable from tests: writes JSON lines to `out`, returns the exit code.
int decodeRecordsFile(const std::string& path, std::ostream& out);
int decodeIssiFile(const std::string& path, std::ostream& out, unsigned payload_type = 100);

}  // namespace iwf::lmr::p25
