#pragma once
// The forwarder under test as iwf_load sets it up: iwfd's generated config and keymap, the
// relay's routes, start-up, and the ports they bound. Every port iwfd or the relay listens on
// is 0 in what iwf_load writes and is read back (iwfd's log, the relay's stdout): no port is
// picked "free" and released, so no other process can take one in between.
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "tests/bench/load/forwarder.hpp"
#include "tests/bench/load/load_common.hpp"

namespace iwf::bench {

// The head of every generated iwfd config: instance, log level (warn; info for `subsystem`
// and for sip, whose listener line names the port it bound), workers and the admin API (port
// 0; iwfd writes the port it got to workdir/admin.port).
void writeIwfdHead(std::ostream& f, const char* generated_by, const char* subsystem,
                   unsigned workers, const fs::path& workdir);
// --mc: the keymap store and the one mcptt-iwf1 link (SIP on 127.0.0.1 port 0, read back with
// readSipPort; its peer the MC side on mc_sip_port) with the group of every stream end-to-end
// encrypted.
// key_file non-empty: media_protection required for every group, keys from that file (the
// SRTP row of docs/perf.md, iwf_load --mc --mc-srtp).
void writeMcLink(std::ostream& f, const std::string& km_db, std::uint16_t mc_sip_port, unsigned n,
                 const std::string& key_file = "");
// iwfd with one p25-records link per talk path (port 0 each): the generator's sender and
// receiver of stream i both link to link i; the link relays the sender's records to the
// receiver bit-exact (the reflector path) and turns them into call events for the daemon.
void writeIwfdConfig(const fs::path& path, const fs::path& workdir, std::size_t links,
                     unsigned workers, const std::string& call_timeout = "1s");
// Reads the port of every p25-records link from iwfd's log (30 s deadline).
bool readIwfdPorts(const fs::path& log, Forwarder& fwd, std::vector<std::uint16_t>& ports,
                   std::string& why);
// Links every sender and receiver socket to its iwfd link by P25 polls (0xF0 + callsign),
// waiting for each poll answer; polls are repeated every 500 ms until a 30 s deadline.
bool linkP25Peers(const Sockets& socks, const std::vector<std::uint16_t>& ports, Forwarder& fwd,
                  std::string& why);
// Starts iwf_relay on the routes file (extra arguments after it); the port it reports, or 0
// when it reported none within 10 s (it is stopped then).
std::uint16_t startRelay(const Options& o, const fs::path& routes,
                         const std::vector<std::string>& extra, const fs::path& fwd_log,
                         Forwarder& fwd);
// Starts iwfd with cfg (its output in fwd_log), after removing the admin port file of an
// earlier step so that readAdminPort waits for this iwfd's.
void startIwfd(const Options& o, const fs::path& cfg, const fs::path& workdir,
               const fs::path& fwd_log, Forwarder& fwd);
// After startIwfd with one p25-records link per stream: reads every link's port into ports
// and links both peers of every stream. Empty when done, else why with the end of iwfd's log
// (iwfd is stopped then).
std::string linkIwfdP25(const fs::path& fwd_log, const Sockets& socks,
                        std::vector<std::uint16_t>& ports, Forwarder& fwd);
// One secure LMR-homed group per P25 stream (TGID 1000+i <-> sip:load-i@iwf.example).
std::string keymapForStreams(unsigned n);
// Writes keymap_yaml to workdir/keymap-TAG.yaml and imports it with iwfctl (next to iwfd)
// into a new SQLite store workdir/keymap-TAG.db; returns the store's path.
std::string importKeymap(const Options& o, const fs::path& workdir, const std::string& tag,
                         const std::string& keymap_yaml);
// One secure group per DMR stream (talkgroup of dmrStreamIds(i) <-> sip:load-i@iwf.example).
std::string dmrKeymapForStreams(unsigned n);
// Reads "link=NAME role=master port=P" from iwfd's log (30 s deadline); 0 on failure.
std::uint16_t readHbpMasterPort(const fs::path& log, Forwarder& fwd, const std::string& link);
// Reads the SIP listener port of the stack (link) `name` from iwfd's log ("stack=NAME
// listener=udp:127.0.0.1:P", sip/transport.cpp), 30 s deadline; 0 on failure.
std::uint16_t readSipPort(const fs::path& log, Forwarder& fwd, const std::string& name);

}  // namespace iwf::bench
