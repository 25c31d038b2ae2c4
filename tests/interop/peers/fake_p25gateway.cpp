#include "fake_p25gateway.hpp"

#include <cstring>

namespace iwf::test::peers {

FakeP25Gateway::FakeP25Gateway(P25GatewayConfig cfg)
    : cfg_(std::move(cfg)), hang_(cfg_.rf_hang), poll_(cfg_.poll), rpt_poll_(cfg_.poll) {}

Bytes FakeP25Gateway::pollRecord() const {
    // P25Network.cpp poll(): 0xF0 + m_callsign (resize(10U, ' ')), 11 bytes.
    std::string cs = cfg_.callsign;
    cs.resize(10, ' ');
    Bytes b = {0xF0};
    b.insert(b.end(), cs.begin(), cs.end());
    return b;
}

void FakeP25Gateway::rewrite(Bytes& b) const {
    if (b.empty()) {
        return;
    }
    if (b[0] == 0x64 && b.size() > 1) {
        b[1] = 0x00;  // "LCF is for TGs"
    } else if (b[0] == 0x65 && b.size() > 3) {
        b[1] = static_cast<std::uint8_t>(current_tg_ >> 16);
        b[2] = static_cast<std::uint8_t>(current_tg_ >> 8);
        b[3] = static_cast<std::uint8_t>(current_tg_);
    }
}

void FakeP25Gateway::toLocal(const Bytes& b) {
    to_mmdvm_.push_back(b);
    local_.sendTo(cfg_.mmdvm_port, b);
}

void FakeP25Gateway::toRemote(const Bytes& b) {
    to_reflector_.push_back(b);
    remote_.sendTo(cfg_.reflector_port, b);
}

void FakeP25Gateway::start() {
    for (int i = 0; i < 3; ++i) {
        toRemote(pollRecord());
        ++polls_;
    }
    poll_.start();
    rpt_poll_.start();
}

void FakeP25Gateway::clock(std::int64_t ms) {
    // From the reflector to the MMDVM.
    std::uint16_t from = 0;
    while (auto d = remote_.read(&from)) {
        Bytes buffer = *d;
        const bool from_static = from == cfg_.reflector_port;  // CP25Network::match(addr, it)
        if (current_tg_ != 0 && from_static) {
            if (buffer[0] != 0xF0 && buffer[0] != 0xF1) {
                rewrite(buffer);
                toLocal(buffer);  // !isVoiceBusy(): no voice prompt playing here
                hang_.start();
            }
        } else if (current_tg_ == 0) {
            const Bytes reply = pollRecord();
            const std::size_t n = std::min(reply.size(), buffer.size());
            const bool poll = std::memcmp(buffer.data(), reply.data(), n) == 0;
            if (buffer[0] == 0xF0 && poll) {
                // "Poll response message"
            } else if (buffer[0] == 0xF1) {
                // "Server talkgroup disconnect"
            } else if (from_static) {
                const std::uint32_t tg = cfg_.static_tg;
                toLocal(Bytes{0x65, static_cast<std::uint8_t>(tg >> 16),
                              static_cast<std::uint8_t>(tg >> 8), static_cast<std::uint8_t>(tg)});
                current_tg_ = tg;
                current_static_ = true;
                rewrite(buffer);
                if (!poll) {
                    toLocal(buffer);
                }
                ++switches_network_;  // "Switched to reflector %u due to network activity"
                hang_.setTimeout(cfg_.net_hang);
                hang_.start();
            }
        }
    }
    // From the MMDVM to the reflector.
    while (auto d = local_.read(&from)) {
        Bytes buffer = *d;
        if (from != cfg_.mmdvm_port) {
            continue;  // CRptNetwork::read: CUDPSocket::match(addr, m_rptAddr)
        }
        if (buffer[0] == 0x65 && buffer.size() >= 4) {
            const std::uint32_t dst =
                (std::uint32_t{buffer[1]} << 16) | (std::uint32_t{buffer[2]} << 8) | buffer[3];
            if (dst != current_tg_) {
                if (current_tg_ != 0 && !current_static_) {
                    // unlink x3 (dynamic TGs only); none here: the one TG is static
                }
                if (dst == cfg_.static_tg) {
                    current_tg_ = dst;
                    current_static_ = true;
                    ++switches_rf_;  // "Switched to reflector %u due to RF activity"
                    hang_.setTimeout(cfg_.rf_hang);
                    hang_.start();
                } else {
                    current_tg_ = 0;  // not in the hosts file: m_currentTG.reset()
                    current_static_ = false;
                    hang_.stop();
                }
            }
        }
        if (current_tg_ != 0) {
            rewrite(buffer);
            toRemote(buffer);
            hang_.start();
        }
    }
    hang_.clock(ms);
    if (hang_.isRunning() && hang_.hasExpired()) {
        if (current_tg_ != 0) {
            ++unlinks_timer_;  // "Unlinking from reflector %u due to inactivity"
        }
        current_tg_ = 0;
        current_static_ = false;
        toLocal(Bytes{0x65, 0x00, 0x00, 0x00});
        hang_.stop();
    }
    rpt_poll_.clock(ms);
    if (rpt_poll_.isRunning() && rpt_poll_.hasExpired()) {
        toLocal(pollRecord());  // CRptNetwork::writePoll()
        rpt_poll_.start();
    }
    poll_.clock(ms);
    if (poll_.isRunning() && poll_.hasExpired()) {
        toRemote(pollRecord());  // the static TG
        ++polls_;
        poll_.start();
    }
}

}  // namespace iwf::test::peers
