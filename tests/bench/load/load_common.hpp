#pragma once
// What every part of iwf_load shares (load_main.cpp and the step files): its options, the
// clock it stamps with, loopback sockets, scheduling and /proc readings.
//
// iwf_load by role:
//   load_main.cpp        command line, one table per mode, JSON output
//   step_relay.cpp       relaying steps: streams through iwf_relay or iwfd's reflector path
//   step_mc.cpp          LMR -> MC steps through iwfd's engine (MC simulator or lean sink)
//   step_mc_talk.cpp     MC -> LMR steps (--mc-talk): MC talkers through iwfd or the relay
//   step_idle.cpp        memory per idle call
//   lmr_sender.*         the LMR side: P25/DMR senders, timestamped receivers
//   forwarder_setup.*    iwfd's / the relay's config, start-up, and the ports they bound
//   load_measure.*       the measured window, totals, matching, the report fields
//   lean_mc_talker.*     the MC talkers of --mc-talk (SIP UAC, X-IWF-LMR RTP source)
//   lean_mc_sink.*, dmr_shape.*, load_book.*, stream_source.*, forwarder.*, load_net.*:
//                        the building blocks (unchanged roles)
#include <cstdint>
#include <filesystem>
#include <string>
#include <sys/types.h>
#include <unistd.h>
#include <vector>

namespace iwf::bench {

namespace fs = std::filesystem;

struct Options {
    std::string target = "relay";
    std::string relay_bin;
    std::string iwfd_bin;
    std::string protocol = "mix";  // p25 | dmr | mix
    std::vector<unsigned> steps{100, 250, 500, 1000, 2500, 5000};
    unsigned threads = 1;
    unsigned batch = 1;
    double duration_s = 5.0;
    double warmup_s = 1.0;
    double max_total_s = 300.0;
    double p99_limit_us = 1000.0;
    double max_loss = 0.001;
    std::string fwd_cpus;
    std::string gen_cpus;
    std::string json_path;
    std::string label;
    bool keep_going = false;
    int rt_prio = 0;                  // >0: SCHED_FIFO for the generator threads and the forwarder
    bool mc = false;                  // LMR -> MC through the engine (keymap, mcptt-iwf1, MC sink)
    bool mc_srtp = false;             // P25 --mc: TS 33.180 SRTP required on IWF-1 (GMK per group)
    bool mc_talk = false;             // MC -> LMR: MC talkers through iwfd / the relay
    bool idle_calls = false;          // measure iwfd's memory per idle call instead of relaying
    unsigned idle_frames = 18;        // frames each stream sends before going silent
    unsigned dmr_peers = 0;           // DMR HBP-master shape: K generator sockets (0 = off / 1)
    double dmr_tick_us = 500;         // DMR shape: the generator's send tick
    double dmr_setup_timeout_s = 60;  // DMR --mc: wait this long for every MC call
    std::string mc_sink = "lean";     // DMR --mc: lean (tests/bench) | sim (harness MC system)
};

// CLOCK_REALTIME nanoseconds: the clock of every send stamp (kernel receive timestamps use it).
std::int64_t nowNs();
void sleepUntilNs(std::int64_t t);
// A non-blocking loopback UDP socket on port 0 (load_net.hpp); throws when it cannot be opened.
int udpSocket(bool timestamps, int rcvbuf);

struct Sockets {
    std::vector<int> tx;
    std::vector<int> rx;
    ~Sockets() {
        for (int fd : tx) {
            ::close(fd);
        }
        for (int fd : rx) {
            ::close(fd);
        }
    }
};

// Streams of one kind share an interval; stream j of a group of m starts at phase j*T/m so

// SCHED_FIFO at prio for the calling thread (0 = leave the default policy).
bool setRealtime(int prio);
// The end of a log (its last 600 characters): the work directory goes when iwf_load exits.
std::string logTail(const fs::path& log);
bool processAlive(pid_t pid);
// SCHED_FIFO at prio for every thread of pid; ok becomes false when one cannot get it.
void setProcessRealtime(pid_t pid, int prio, bool& ok);
// The directory of this executable.
std::string selfDir();

// Memory of a process in KiB: VmRSS from status, Pss from smaps_rollup (-1 when unreadable).
struct MemKib {
    std::int64_t rss = -1;
    std::int64_t pss = -1;
    std::int64_t sockets = -1;  // socket descriptors the process holds
};
MemKib readMem(pid_t pid);
// Kernel slab bytes one idle UDP socket holds (UDP + sock_inode_cache + filp + dentry + epoll
// item and wait entry, object sizes from /proc/slabinfo); -1 when unreadable (not root).
std::int64_t kernelBytesPerUdpSocket();

// The port iwfd wrote to its port file (10 s deadline); 0 when none.
std::uint16_t readAdminPort(const fs::path& file);
void drainSockets(const Sockets& socks);
// Udp RcvbufErrors of /proc/net/snmp (the whole host: datagrams dropped because a socket's
// receive buffer was full); -1 when unreadable.
std::int64_t udpRcvbufErrors();
void raiseFdLimit();
std::uint64_t fdLimit();

}  // namespace iwf::bench
