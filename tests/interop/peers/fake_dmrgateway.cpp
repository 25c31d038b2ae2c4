#include "fake_dmrgateway.hpp"

#include <cstring>

#include <openssl/sha.h>

namespace iwf::test::peers {

namespace {
std::string padRight(std::string s, std::size_t w) {
    s.resize(w, ' ');
    return s;
}
std::string zeroPad(std::uint32_t v, std::size_t w) {  // %0Nu: at least w digits
    std::string s = std::to_string(v);
    if (s.size() < w) {
        s.insert(0, w - s.size(), '0');
    }
    return s;
}
void put32(Bytes& b, std::uint32_t v) {
    b.push_back(static_cast<std::uint8_t>(v >> 24));
    b.push_back(static_cast<std::uint8_t>(v >> 16));
    b.push_back(static_cast<std::uint8_t>(v >> 8));
    b.push_back(static_cast<std::uint8_t>(v));
}
Bytes magic(const char* m) {
    return Bytes(m, m + std::strlen(m));
}
}  // namespace

std::string dmrGatewayConfigText(const std::string& callsign, std::uint32_t rx_hz,
                                 std::uint32_t tx_hz) {
    std::string c;
    c += padRight(callsign.substr(0, 8), 8);  // %-8.8s
    c += zeroPad(rx_hz, 9);                   // %09u
    c += zeroPad(tx_hz, 9);                   // %09u
    c += "01";                                // %02u power 1
    c += "01";                                // %02u colour code 1
    c += "0.000000";                          // %8.8s of "%08f" (0.0)
    c += "00.000000";                         // %9.9s of "%09f" (0.0)
    c += "000";                               // %03d height 0
    c += padRight("Nowhere", 20);             // %-20.20s
    c += "Multi-Mode Repeater";               // %-19.19s
    c += "3";                                 // %c duplex, slots 1 and 2
    c += padRight("www.google.co.uk", 124);   // %-124.124s
    c += padRight("20250822", 40);            // %-40.40s VERSION
    c += padRight("MMDVM", 40);               // %-40.40s
    return c;
}

Bytes dmrGatewayDmrd(std::uint8_t seq, std::uint32_t src, std::uint32_t dst, std::uint32_t id,
                     std::uint8_t byte15, std::uint32_t stream_id, ByteView burst33,
                     std::uint8_t ber, std::uint8_t rssi) {
    Bytes b = magic("DMRD");
    b.push_back(seq);
    b.push_back(static_cast<std::uint8_t>(src >> 16));
    b.push_back(static_cast<std::uint8_t>(src >> 8));
    b.push_back(static_cast<std::uint8_t>(src));
    b.push_back(static_cast<std::uint8_t>(dst >> 16));
    b.push_back(static_cast<std::uint8_t>(dst >> 8));
    b.push_back(static_cast<std::uint8_t>(dst));
    put32(b, id);
    b.push_back(byte15);
    std::uint8_t sid[4];
    std::memcpy(sid, &stream_id, 4);  // ::memcpy(buffer + 16U, &streamId, 4U)
    b.insert(b.end(), sid, sid + 4);
    b.insert(b.end(), burst33.begin(), burst33.end());
    b.push_back(ber);
    b.push_back(rssi);
    return b;
}

FakeDmrGateway::FakeDmrGateway(DmrGatewayConfig cfg)
    : cfg_(std::move(cfg)), retry_(cfg_.retry), timeout_(cfg_.timeout) {}

void FakeDmrGateway::open() {
    status_ = Status::WaitingConnect;
    timeout_.stop();
    retry_.start();
}

void FakeDmrGateway::close() {
    retry_.stop();
    timeout_.stop();
}

void FakeDmrGateway::send(const Bytes& b) {
    sent_.push_back(b);
    socket_.sendTo(cfg_.master_port, b);
}

void FakeDmrGateway::writeRaw(const Bytes& b) {
    send(b);
}

std::size_t FakeDmrGateway::sent(const std::string& m) const {
    std::size_t n = 0;
    for (const auto& b : sent_) {
        n += b.size() >= m.size() && std::memcmp(b.data(), m.data(), m.size()) == 0 ? 1 : 0;
    }
    return n;
}

void FakeDmrGateway::writeLogin() {
    Bytes b = magic("RPTL");
    put32(b, cfg_.id);
    send(b);
}

void FakeDmrGateway::writeAuthorisation() {
    Bytes in(salt_.begin(), salt_.end());
    in.insert(in.end(), cfg_.password.begin(), cfg_.password.end());
    Bytes out = magic("RPTK");
    put32(out, cfg_.id);
    std::uint8_t h[SHA256_DIGEST_LENGTH];
    SHA256(in.data(), in.size(), h);
    out.insert(out.end(), h, h + SHA256_DIGEST_LENGTH);
    send(out);
}

void FakeDmrGateway::writeConfig() {
    Bytes b = magic("RPTC");
    put32(b, cfg_.id);
    b.insert(b.end(), cfg_.config_text.begin(), cfg_.config_text.end());
    send(b);
}

void FakeDmrGateway::writeOptions() {
    Bytes b = magic("RPTO");
    put32(b, cfg_.id);
    b.insert(b.end(), cfg_.options.begin(), cfg_.options.end());
    send(b);
}

void FakeDmrGateway::writePing() {
    Bytes b = magic("RPTPING");
    put32(b, cfg_.id);
    send(b);
}

bool FakeDmrGateway::write(const Bytes& dmrd) {
    if (status_ != Status::Running) {
        return false;
    }
    send(dmrd);
    return true;
}

void FakeDmrGateway::clock(std::int64_t ms) {
    auto is = [](const Bytes& b, const char* m) {
        return b.size() >= std::strlen(m) && std::memcmp(b.data(), m, std::strlen(m)) == 0;
    };
    if (status_ == Status::WaitingConnect) {
        retry_.clock(ms);
        if (retry_.isRunning() && retry_.hasExpired()) {
            writeLogin();
            status_ = Status::WaitingLogin;
            timeout_.start();
            retry_.start();
        }
        return;
    }
    std::uint16_t from = 0;
    while (auto d = socket_.read(&from)) {
        if (from != cfg_.master_port) {
            continue;  // CUDPSocket::match(m_addr, address)
        }
        const Bytes& b = *d;
        if (is(b, "DMRD")) {
            if (b.size() == 55 || b.size() == 71) {
                rx_data_.push_back(b);
            } else {
                ++dmrd_ignored_;  // not queued, not logged
            }
        } else if (is(b, "MSTNAK")) {
            if (status_ == Status::Running) {
                failures_.push_back("session");
                status_ = Status::WaitingLogin;
                timeout_.start();
                retry_.start();
            } else {
                failures_.push_back(status_ == Status::WaitingAuthorisation ? "auth"
                                    : status_ == Status::WaitingLogin       ? "login"
                                                                            : "config");
                close();
                open();
                return;
            }
        } else if (is(b, "RPTACK")) {
            switch (status_) {
                case Status::WaitingLogin:
                    if (b.size() >= 10) {
                        std::memcpy(salt_.data(), b.data() + 6, 4);
                    }
                    writeAuthorisation();
                    status_ = Status::WaitingAuthorisation;
                    timeout_.start();
                    retry_.start();
                    break;
                case Status::WaitingAuthorisation:
                    writeConfig();
                    status_ = Status::WaitingConfig;
                    timeout_.start();
                    retry_.start();
                    break;
                case Status::WaitingConfig:
                    if (cfg_.options.empty()) {
                        status_ = Status::Running;
                        ++logged_in_;
                    } else {
                        writeOptions();
                        status_ = Status::WaitingOptions;
                    }
                    timeout_.start();
                    retry_.start();
                    break;
                case Status::WaitingOptions:
                    status_ = Status::Running;
                    ++logged_in_;
                    timeout_.start();
                    retry_.start();
                    break;
                default:
                    break;
            }
        } else if (is(b, "MSTCL")) {
            failures_.push_back("closed");
            close();
            open();
        } else if (is(b, "MSTPONG")) {
            timeout_.start();
        } else if (is(b, "RPTSBKN")) {
            beacon_ = true;
        }
        // else: "Unknown packet from the master" (dumped, nothing else)
    }
    retry_.clock(ms);
    if (retry_.isRunning() && retry_.hasExpired()) {
        switch (status_) {
            case Status::WaitingLogin:
                writeLogin();
                break;
            case Status::WaitingAuthorisation:
                writeAuthorisation();
                break;
            case Status::WaitingOptions:
                writeOptions();
                break;
            case Status::WaitingConfig:
                writeConfig();
                break;
            case Status::Running:
                writePing();
                break;
            default:
                break;
        }
        retry_.start();
    }
    timeout_.clock(ms);
    if (timeout_.isRunning() && timeout_.hasExpired()) {
        failures_.push_back("timeout");
        close();
        open();
    }
}

}  // namespace iwf::test::peers
