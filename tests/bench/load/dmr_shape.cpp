#include "tests/bench/load/dmr_shape.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include "lmr_adapters/dmr/burst.hpp"
#include "lmr_adapters/dmr/hbp.hpp"
#include "tests/bench/load/load_book.hpp"
#include "tests/bench/load/load_net.hpp"

namespace iwf::bench {

namespace dmr = iwf::lmr::dmr;

namespace {

constexpr std::uint8_t kColorCode = 1;

std::uint64_t xorshift(std::uint64_t& s) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

// The 48 middle bits of voice bursts A..F as MMDVMHost forwards them (DMRSlot.cpp
// writeModem(); the same shape harness/sim/dmr_radio.cpp sends): A the BS voice sync; B..E
// EMB with PI = 1 and the four embedded fragments of the stream's voice LC (LCSS first,
// continuation, continuation, last); F EMB with PI = 1, LCSS single, null fragment.
std::array<std::array<std::uint8_t, 6>, 6> voiceMiddles(const DmrStreamIds& ids) {
    dmr::FullLc lc;
    lc.flco = dmr::kFlcoGroup;
    lc.service_options = dmr::kSvcPrivacy;
    lc.dst = ids.talkgroup;
    lc.src = ids.src;
    const dmr::EmbeddedFragments frags = dmr::encodeEmbeddedLc(dmr::serializeFullLc(lc));
    std::array<std::array<std::uint8_t, 6>, 6> out{};
    const std::array<std::uint8_t, 27> zero{};
    const std::array<std::uint8_t, 6> zmid{};
    for (std::uint8_t b = 0; b < 6; ++b) {
        dmr::Burst burst = dmr::joinVoiceBurst(ByteView(zero.data(), zero.size()),
                                               ByteView(zmid.data(), zmid.size()));
        if (b == 0) {
            dmr::setSync(burst, dmr::SyncPattern::BsVoice);
        } else {
            dmr::Emb e;
            e.color_code = kColorCode;
            e.pi = true;
            e.lcss = static_cast<std::uint8_t>(b == 1   ? dmr::Lcss::First
                                               : b == 4 ? dmr::Lcss::Last
                                               : b == 5 ? dmr::Lcss::Single
                                                        : dmr::Lcss::Continuation);
            dmr::encodeEmb(burst, e);
            if (b <= 4) {
                dmr::setEmbeddedFragment(burst, frags[b - 1]);
            }
        }
        out[b] = dmr::splitVoiceBurst(burst).middle;
    }
    return out;
}

int loopbackSocket() {
    const int fd = openLoopbackUdp(false, 4 << 20, 4 << 20);
    if (fd < 0) {
        throw std::runtime_error(std::string("loopback UDP socket: ") + std::strerror(errno));
    }
    return fd;
}

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    return a;
}

void sendBytes(int fd, std::uint16_t port, const Bytes& b) {
    const sockaddr_in a = loopback(port);
    ::sendto(fd, b.data(), b.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a);
}

}  // namespace

DmrStreamIds dmrStreamIds(std::uint32_t i) {
    DmrStreamIds d;
    d.repeater_id = 310000000 + i / 2;
    d.slot = static_cast<std::uint8_t>(1 + i % 2);
    d.src = 3100000 + i;
    d.talkgroup = 9000 + i;
    d.stream_id = 0x5000'0000u + i;
    d.key_id = static_cast<std::uint8_t>(1 + i % 255);
    d.iv = 0x1000'0000u + i * 7919u;
    return d;
}

DmrCallSource::DmrCallSource(std::uint32_t stream_index)
    : ids_(dmrStreamIds(stream_index))
    , rng_(0x9E3779B97F4A7C15ull ^ (stream_index + 1))
    , middles_(voiceMiddles(ids_)) {}

void DmrCallSource::callStart(Bytes& lc_header, Bytes& pi_header) {
    dmr::FullLc lc;
    lc.flco = dmr::kFlcoGroup;
    lc.service_options = dmr::kSvcPrivacy;
    lc.dst = ids_.talkgroup;
    lc.src = ids_.src;
    dmr::PiHeader pi;
    pi.group = true;
    pi.algid = kLoadDmrAlgid;
    pi.fid = 0x10;
    pi.key_id = ids_.key_id;
    pi.iv = dmr::idBytes(ids_.iv);
    pi.dst = ids_.talkgroup;
    dmr::DmrdPacket p;
    p.src = ids_.src;
    p.dst = ids_.talkgroup;
    p.peer_id = ids_.repeater_id;
    p.slot = ids_.slot;
    p.frame_type = dmr::FrameType::DataSync;
    p.stream_id = ids_.stream_id;
    p.seq = dmrd_seq_++;
    p.dtype_vseq = static_cast<std::uint8_t>(dmr::DataType::VoiceLcHeader);
    p.burst = dmr::buildFullLcBurst(lc, dmr::DataType::VoiceLcHeader, kColorCode,
                                    dmr::SyncPattern::BsData);
    lc_header.clear();
    dmr::encodeDmrd(p, lc_header);
    p.seq = dmrd_seq_++;
    p.dtype_vseq = static_cast<std::uint8_t>(dmr::DataType::PiHeader);
    p.burst = dmr::buildPiHeaderBurst(pi, kColorCode, dmr::SyncPattern::BsData);
    pi_header.clear();
    dmr::encodeDmrd(p, pi_header);
}

std::uint32_t DmrCallSource::voice(std::uint64_t seq, Bytes& out, std::uint32_t* burst_digest) {
    const auto b = static_cast<std::uint8_t>(seq % 6);
    std::array<std::uint8_t, 27> vocoder{};
    for (std::size_t k = 0; k < vocoder.size(); k += 8) {
        const std::uint64_t r = xorshift(rng_);
        for (std::size_t j = 0; j < 8 && k + j < vocoder.size(); ++j) {
            vocoder[k + j] = static_cast<std::uint8_t>(r >> (8 * j));
        }
    }
    const auto& mid = middles_[b];
    dmr::DmrdPacket p;
    p.seq = dmrd_seq_++;
    p.src = ids_.src;
    p.dst = ids_.talkgroup;
    p.peer_id = ids_.repeater_id;
    p.slot = ids_.slot;
    p.frame_type = b == 0 ? dmr::FrameType::VoiceSync : dmr::FrameType::Voice;
    p.dtype_vseq = b;
    p.stream_id = ids_.stream_id;
    p.burst = dmr::joinVoiceBurst(ByteView(vocoder.data(), vocoder.size()),
                                  ByteView(mid.data(), mid.size()));
    out.clear();
    dmr::encodeDmrd(p, out);
    if (burst_digest != nullptr) {
        *burst_digest = fnv1a(p.burst.data(), p.burst.size());
    }
    return fnv1a(vocoder.data(), vocoder.size());
}

// ------------------------------------------------------------------ HBP peers

HbpPeerSockets::HbpPeerSockets(unsigned k) : ids_(k) {
    for (unsigned s = 0; s < k; ++s) {
        fds_.push_back(loopbackSocket());
    }
}

HbpPeerSockets::~HbpPeerSockets() {
    for (int fd : fds_) {
        ::close(fd);
    }
}

bool HbpPeerSockets::login(std::uint16_t port, const std::string& password, unsigned n,
                           const std::function<bool()>& alive, double timeout_s, std::string& why) {
    using Clock = std::chrono::steady_clock;
    master_port_ = port;
    const unsigned k = size();
    for (auto& v : ids_) {
        v.clear();
    }
    for (unsigned i = 0; i < n; i += 2) {
        ids_[socketOf(i, k)].push_back(dmrStreamIds(i).repeater_id);
    }
    struct State {
        std::size_t next = 0;  // index of the ID being logged in
        int stage = 0;         // 0 wait salt, 1 wait key ack, 2 wait config ack
        Clock::time_point sent;
        unsigned retries = 0;
    };
    std::vector<State> st(k);
    auto rptl = [&](unsigned s) {
        st[s].stage = 0;
        st[s].sent = Clock::now();
        sendBytes(fds_[s], port,
                  dmr::encodeHbp(dmr::hbpSimple(dmr::HbpType::Rptl, ids_[s][st[s].next])));
    };
    std::size_t left = 0;
    for (unsigned s = 0; s < k; ++s) {
        left += ids_[s].size();
        if (!ids_[s].empty()) {
            rptl(s);
        }
    }
    logged_in_ = 0;
    const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
    auto last_alive = Clock::now();
    std::vector<pollfd> pf(k);
    std::uint8_t buf[2048];
    while (left > 0) {
        const auto now = Clock::now();
        if (now > deadline) {
            why = std::to_string(left) + " of " + std::to_string((n + 1) / 2) +
                  " repeater IDs not logged in within " + std::to_string(timeout_s) + " s";
            return false;
        }
        if (now - last_alive > std::chrono::milliseconds(100)) {
            last_alive = now;
            if (!alive()) {
                why = "the master went away during the login";
                return false;
            }
        }
        for (unsigned s = 0; s < k; ++s) {
            if (st[s].next < ids_[s].size() && now - st[s].sent > std::chrono::seconds(1)) {
                if (++st[s].retries > 10) {
                    why = "repeater " + std::to_string(ids_[s][st[s].next]) +
                          ": no answer to its login after 10 tries";
                    return false;
                }
                rptl(s);
            }
            pf[s] = {fds_[s], POLLIN, 0};
        }
        if (::poll(pf.data(), pf.size(), 50) <= 0) {
            continue;
        }
        for (unsigned s = 0; s < k; ++s) {
            if ((pf[s].revents & POLLIN) == 0) {
                continue;
            }
            ssize_t len;
            while ((len = ::recv(fds_[s], buf, sizeof buf, MSG_DONTWAIT)) > 0) {
                if (st[s].next >= ids_[s].size()) {
                    continue;
                }
                auto m = dmr::decodeHbp(ByteView(buf, static_cast<std::size_t>(len)));
                if (!m.ok()) {
                    ++other_;
                    continue;
                }
                const std::uint32_t id = ids_[s][st[s].next];
                if (m->type == dmr::HbpType::Mstnak) {
                    why = "repeater " + std::to_string(id) + ": MSTNAK during login";
                    return false;
                }
                if (m->type != dmr::HbpType::Rptack) {
                    ++other_;
                    continue;
                }
                st[s].sent = Clock::now();
                if (st[s].stage == 0) {
                    dmr::HbpMessage key = dmr::hbpSimple(dmr::HbpType::Rptk, id);
                    key.key = dmr::hbpLoginKey(ByteView(m->ack.data(), m->ack.size()), password);
                    st[s].stage = 1;
                    sendBytes(fds_[s], port, dmr::encodeHbp(key));
                } else if (st[s].stage == 1) {
                    dmr::HbpMessage c = dmr::hbpSimple(dmr::HbpType::Rptc, id);
                    c.config.callsign = "IWFLOAD";
                    c.config.color_code = "01";
                    c.config.slots = "3";
                    c.config.software_id = "iwf_load";
                    c.config.package_id = "openiwf";
                    st[s].stage = 2;
                    sendBytes(fds_[s], port, dmr::encodeHbp(c));
                } else {
                    ++logged_in_;
                    --left;
                    st[s].retries = 0;
                    if (++st[s].next < ids_[s].size()) {
                        rptl(s);
                    }
                }
            }
        }
    }
    return true;
}

void HbpPeerSockets::sendPings() {
    const sockaddr_in to = loopback(master_port_);
    std::vector<Bytes> msgs;
    std::vector<mmsghdr> hdr;
    std::vector<iovec> iov;
    for (unsigned s = 0; s < size(); ++s) {
        msgs.clear();
        for (std::uint32_t id : ids_[s]) {
            msgs.push_back(dmr::encodeHbp(dmr::hbpSimple(dmr::HbpType::Rptping, id)));
        }
        hdr.assign(msgs.size(), mmsghdr{});
        iov.resize(msgs.size());
        for (std::size_t j = 0; j < msgs.size(); ++j) {
            iov[j] = {msgs[j].data(), msgs[j].size()};
            hdr[j].msg_hdr.msg_iov = &iov[j];
            hdr[j].msg_hdr.msg_iovlen = 1;
            hdr[j].msg_hdr.msg_name = const_cast<sockaddr_in*>(&to);
            hdr[j].msg_hdr.msg_namelen = sizeof to;
        }
        std::size_t done = 0;
        while (done < hdr.size()) {
            const int r = ::sendmmsg(
                fds_[s], hdr.data() + done,
                static_cast<unsigned>(std::min<std::size_t>(hdr.size() - done, 1024)), 0);
            if (r <= 0) {
                break;
            }
            done += static_cast<std::size_t>(r);
        }
    }
}

void HbpPeerSockets::drainReplies() {
    std::uint8_t buf[2048];
    for (int fd : fds_) {
        ssize_t len;
        while ((len = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
            auto m = dmr::decodeHbp(ByteView(buf, static_cast<std::size_t>(len)));
            if (m.ok() && m->type == dmr::HbpType::Mstpong) {
                ++pongs_;
            } else if (m.ok() && m->type == dmr::HbpType::Mstnak) {
                ++naks_;
            } else {
                ++other_;
            }
        }
    }
}

// ------------------------------------------------------------------ tick sender

DmrTickSender::DmrTickSender(std::vector<int> fds, std::uint16_t dst_port)
    : fds_(std::move(fds)), dst_port_(dst_port), bufs_(fds_.size()), lens_(fds_.size()) {}

std::size_t DmrTickSender::add(const DmrOut& p) {
    auto& b = bufs_[p.socket];
    auto& l = lens_[p.socket];
    const std::size_t at = l.size();
    b.resize((at + 1) * kSlot);
    const std::size_t n = std::min(p.size, kSlot);
    std::memcpy(b.data() + at * kSlot, p.data, n);
    l.push_back(static_cast<std::uint16_t>(n));
    return at;
}

std::size_t DmrTickSender::flush(std::int64_t& t_ns) {
    static thread_local std::vector<mmsghdr> hdr;
    static thread_local std::vector<iovec> iov;
    const sockaddr_in to = loopback(dst_port_);
    std::size_t accepted = 0;
    bool stamped = false;
    for (std::size_t s = 0; s < fds_.size(); ++s) {
        const std::size_t m = lens_[s].size();
        if (m == 0) {
            continue;
        }
        hdr.assign(m, mmsghdr{});
        iov.resize(m);
        for (std::size_t j = 0; j < m; ++j) {
            iov[j] = {bufs_[s].data() + j * kSlot, lens_[s][j]};
            hdr[j].msg_hdr.msg_iov = &iov[j];
            hdr[j].msg_hdr.msg_iovlen = 1;
            hdr[j].msg_hdr.msg_name = const_cast<sockaddr_in*>(&to);
            hdr[j].msg_hdr.msg_namelen = sizeof to;
        }
        if (!stamped) {
            timespec ts{};
            ::clock_gettime(CLOCK_REALTIME, &ts);
            t_ns = std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
            stamped = true;
        }
        std::size_t done = 0;
        while (done < m) {
            ++syscalls_;
            const int r =
                ::sendmmsg(fds_[s], hdr.data() + done,
                           static_cast<unsigned>(std::min<std::size_t>(m - done, 1024)), 0);
            if (r <= 0) {
                errors_ += m - done;  // EAGAIN (send buffer full) or an error: not sent
                break;
            }
            done += static_cast<std::size_t>(r);
        }
        accepted += done;
        lens_[s].clear();
        bufs_[s].clear();
    }
    return accepted;
}

}  // namespace iwf::bench
