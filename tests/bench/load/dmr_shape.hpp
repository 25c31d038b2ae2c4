#pragma once
// DMR load in the shape of a real HBP master connection: many talk paths on few sockets.
//
//  - DmrCallSource: one encrypted DMR call per stream, built with the project's codecs
//    (lmr_adapters/dmr): call start = voice LC header (privacy service option) + PI header
//    (ALGID 5 = AES-256, the stream's key ID, a 32-bit IV), then voice bursts A..F every 60 ms
//    (3 AMBE frames each: 16.7 packets/s = 50 voice frames/s) whose 27 vocoder bytes are random
//    (stand-in ciphertext), burst A with the BS voice sync, B..F with an EMB saying PI = 1 and
//    the embedded LC in B..E: the shape MMDVMHost forwards (DMRSlot.cpp writeModem()).
//    iwfd's CallDecoder keys a call by (DMRD peer ID, slot), so two streams (TS1, TS2) share
//    one repeater ID; stream i is repeater 310000000 + i/2, slot 1 + i%2, talkgroup 9000 + i.
//  - HbpPeerSockets: K UDP sockets; each logs in the repeater IDs of its streams to an HBP
//    master (RPTL -> RPTACK salt -> RPTK SHA-256(salt || password) -> RPTACK -> RPTC -> RPTACK,
//    one login at a time per socket: the salt RPTACK does not name the ID), then keeps them
//    alive with RPTPING (MSTPONG / MSTNAK counted).
//  - DmrTickSender: every tick, the packets of all streams that are due, one sendmmsg per
//    socket (the generator must stay cheap: ~0.1 syscall per packet at 2,500 streams).
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"

namespace iwf::bench {

inline constexpr std::uint8_t kLoadDmrAlgid = 5;  // DMR AES-256 (docs/keymap.md ALGID table)
inline constexpr std::int64_t kDmrBurstNs = 60'000'000;

struct DmrStreamIds {
    std::uint32_t repeater_id = 0;
    std::uint8_t slot = 1;
    std::uint32_t src = 0;
    std::uint32_t talkgroup = 0;
    std::uint32_t stream_id = 0;
    std::uint8_t key_id = 1;
    std::uint32_t iv = 0;
};
DmrStreamIds dmrStreamIds(std::uint32_t stream_index);

class DmrCallSource {
  public:
    explicit DmrCallSource(std::uint32_t stream_index);
    const DmrStreamIds& ids() const { return ids_; }
    // Call start packets: voice LC header then PI header (DMRD, 55 bytes each).
    void callStart(Bytes& lc_header, Bytes& pi_header);
    // Voice burst `seq` (burst index seq % 6) into out (55 bytes). Returns the FNV-1a digest
    // of its 27 vocoder bytes (what the MC side receives as the frame payload); *burst_digest
    // (optional) gets the digest of the whole 33-byte burst (what a bare relay passes on).
    std::uint32_t voice(std::uint64_t seq, Bytes& out, std::uint32_t* burst_digest = nullptr);

  private:
    DmrStreamIds ids_;
    std::uint64_t rng_;
    std::array<std::array<std::uint8_t, 6>, 6> middles_;  // bursts A..F, see voiceMiddles()
    std::uint8_t dmrd_seq_ = 0;
};

class HbpPeerSockets {
  public:
    // k sockets on 127.0.0.1:0; socket s carries the streams with (i / 2) % k == s.
    explicit HbpPeerSockets(unsigned k);
    ~HbpPeerSockets();
    HbpPeerSockets(const HbpPeerSockets&) = delete;
    HbpPeerSockets& operator=(const HbpPeerSockets&) = delete;

    unsigned size() const { return static_cast<unsigned>(fds_.size()); }
    int fd(unsigned s) const { return fds_[s]; }
    static unsigned socketOf(std::uint32_t stream_index, unsigned k) {
        return (stream_index / 2) % k;
    }

    // Logs in every repeater ID of streams 0..n-1 to the master at 127.0.0.1:port. Sockets
    // log in in parallel, one ID at a time each; a step unanswered for 1 s is repeated from
    // RPTL. `alive` is asked every 100 ms (false = give up). False with `why` on failure.
    bool login(std::uint16_t port, const std::string& password, unsigned n,
               const std::function<bool()>& alive, double timeout_s, std::string& why);
    // RPTPING for every logged-in ID (sendmmsg per socket).
    void sendPings();
    // Reads whatever the master sent (non-blocking): MSTPONG / MSTNAK / other counted.
    void drainReplies();
    std::uint64_t pongs() const { return pongs_; }
    std::uint64_t naks() const { return naks_; }
    std::uint64_t other() const { return other_; }
    std::size_t loggedIn() const { return logged_in_; }

  private:
    std::vector<int> fds_;
    std::vector<std::vector<std::uint32_t>> ids_;  // repeater IDs per socket
    std::uint16_t master_port_ = 0;
    std::size_t logged_in_ = 0;
    std::uint64_t pongs_ = 0;
    std::uint64_t naks_ = 0;
    std::uint64_t other_ = 0;
};

// One packet handed to the sender: which socket, and the bytes (copied into the batch).
struct DmrOut {
    unsigned socket = 0;
    const std::uint8_t* data = nullptr;
    std::size_t size = 0;
};

// Batches packets per socket and sends them with one sendmmsg per socket.
class DmrTickSender {
  public:
    DmrTickSender(std::vector<int> fds, std::uint16_t dst_port);
    // Queues a copy of the packet; the index returned identifies it in flush()'s callback.
    std::size_t add(const DmrOut& p);
    // Sends everything queued. `t_ns` is taken just before the first sendmmsg. Returns the
    // number of packets the kernel accepted; failures are counted in errors().
    std::size_t flush(std::int64_t& t_ns);
    std::uint64_t errors() const { return errors_; }
    std::uint64_t syscalls() const { return syscalls_; }

  private:
    static constexpr std::size_t kSlot = 64;
    std::vector<int> fds_;
    std::uint16_t dst_port_;
    std::vector<std::vector<std::uint8_t>> bufs_;  // per socket: packed kSlot-byte slots
    std::vector<std::vector<std::uint16_t>> lens_;
    std::uint64_t errors_ = 0;
    std::uint64_t syscalls_ = 0;
};

}  // namespace iwf::bench
