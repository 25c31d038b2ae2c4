// The LMR side of iwf_load (lmr_sender.hpp): P25/DMR senders paced in real time, the
// receivers with kernel timestamps, and the DMR HBP-master shape's tick sender.
#include "tests/bench/load/lmr_sender.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "tests/bench/load/forwarder.hpp"
#include "tests/bench/load/load_net.hpp"

namespace iwf::bench {

void senderLoop(std::vector<Group>& groups, std::vector<StreamSource>& sources,
                std::vector<std::uint64_t>& seqs, const Sockets& socks,
                const std::vector<std::uint16_t>& dst_ports, LoadBook& book, std::int64_t t0,
                std::int64_t t_end, SenderStats& st) {
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    Bytes buf;
    buf.reserve(64);
    while (true) {
        Group* g = nullptr;
        std::int64_t due = 0;
        for (auto& cand : groups) {
            if (cand.ids.empty()) {
                continue;
            }
            const std::int64_t d = cand.due(t0);
            if (g == nullptr || d < due) {
                g = &cand;
                due = d;
            }
        }
        if (g == nullptr || due >= t_end) {
            return;
        }
        std::int64_t now = nowNs();
        if (due - now > 30'000) {
            sleepUntilNs(due);
            now = nowNs();
        }
        const std::uint32_t id = g->ids[g->cursor];
        g->advance();
        const std::uint64_t seq = seqs[id]++;
        const std::uint32_t digest = sources[id].build(seq, buf);
        const std::int64_t t = nowNs();
        if (t - due > st.max_behind_ns) {
            st.max_behind_ns = t - due;
        }
        if (t - due > 1'000'000) {
            ++st.behind_over_1ms;
        }
        book.noteSent(id, seq, t, digest);
        dst.sin_port = htons(dst_ports[id]);
        if (::sendto(socks.tx[id], buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                     sizeof dst) < 0) {
            ++st.send_errors;
        } else {
            ++st.sent;
        }
    }
}

void receiverLoop(int epfd, const std::vector<StreamKind>& kinds, const Sockets& socks,
                  LoadBook& book, const std::atomic<bool>& stop, ReceiverStats& st) {
    std::vector<epoll_event> events(512);
    std::uint8_t buf[2048];
    while (!stop.load(std::memory_order_relaxed)) {
        const int n = ::epoll_wait(epfd, events.data(), static_cast<int>(events.size()), 20);
        for (int i = 0; i < n; ++i) {
            const std::uint32_t id = events[static_cast<std::size_t>(i)].data.u32;
            while (true) {
                std::int64_t t_rx = 0;
                const ssize_t len = recvTimestamped(socks.rx[id], buf, sizeof buf, t_rx);
                if (len < 0) {
                    break;
                }
                ++st.datagrams;
                if (t_rx == 0) {
                    ++st.no_timestamp;
                    t_rx = nowNs();
                }
                const auto frame =
                    extractFrame(kinds[id], ByteView(buf, static_cast<std::size_t>(len)));
                if (!frame) {
                    ++st.undecodable;
                    continue;
                }
                book.noteReceived(id, frame->pos, t_rx, frame->digest);
            }
        }
    }
}

// Receivers of a relaying step: stream i's socket (kernel timestamps, 256 KiB buffer) in
// socks.rx[i], with `senders` a sender socket in socks.tx[i] too; returns the epoll set.
int openReceivers(Sockets& socks, unsigned n, bool senders) {
    const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
    for (unsigned i = 0; i < n; ++i) {
        if (senders) {
            socks.tx.push_back(udpSocket(false, 0));
        }
        socks.rx.push_back(udpSocket(true, 1 << 18));
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = i;
        ::epoll_ctl(epfd, EPOLL_CTL_ADD, socks.rx.back(), &ev);
    }
    return epfd;
}

// The receiver thread, on the generator's CPUs one step above the sender: on a shared CPU a
// busy FIFO sender must not starve the receiver (its socket buffers would overflow and count
// as forwarder loss).
std::thread startReceiver(const Options& o, int epfd, const std::vector<StreamKind>& kinds,
                          const Sockets& socks, LoadBook& book, const std::atomic<bool>& stop,
                          ReceiverStats& st) {
    return std::thread([&o, epfd, &kinds, &socks, &book, &stop, &st] {
        pinThisThread(parseCpuList(o.gen_cpus));
        setRealtime(o.rt_prio > 0 ? o.rt_prio + 1 : 0);
        receiverLoop(epfd, kinds, socks, book, stop, st);
    });
}

std::vector<StreamSource> p25Sources(unsigned n) {
    std::vector<StreamSource> sources;
    sources.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
        sources.emplace_back(StreamKind::P25, i);
    }
    return sources;
}

// Every stream sends records 0..frames-1 to its link at 20 ms pacing (with `drain`, the
// receivers are emptied after each round). Returns how many the kernel took.
std::uint64_t sendP25Rounds(std::vector<StreamSource>& sources, const Sockets& socks,
                            const std::vector<std::uint16_t>& ports, unsigned frames, bool drain) {
    Bytes buf;
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::uint64_t sent = 0;
    std::int64_t due = nowNs();
    for (unsigned seq = 0; seq < frames; ++seq) {
        sleepUntilNs(due);
        for (std::size_t i = 0; i < sources.size(); ++i) {
            sources[i].build(seq, buf);
            dst.sin_port = htons(ports[i]);
            if (::sendto(socks.tx[i], buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&dst),
                         sizeof dst) > 0) {
                ++sent;
            }
        }
        if (drain) {
            drainSockets(socks);
        }
        due += intervalNs(StreamKind::P25);
    }
    return sent;
}

std::vector<DmrCallSource> dmrSources(unsigned n) {
    std::vector<DmrCallSource> sources;
    sources.reserve(n);
    for (unsigned i = 0; i < n; ++i) {
        sources.emplace_back(i);
    }
    return sources;
}

std::vector<int> peerFds(const HbpPeerSockets& peers, unsigned k) {
    std::vector<int> fds;
    for (unsigned s = 0; s < k; ++s) {
        fds.push_back(peers.fd(s));
    }
    return fds;
}

}  // namespace iwf::bench
