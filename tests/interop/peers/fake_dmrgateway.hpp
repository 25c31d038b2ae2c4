#pragma once
// A fake DMRGateway HBP client ([DMR Network N] of g4klx/DMRGateway), written from its
// DMRNetwork.cpp line by line for what goes on the wire: the login (writeLogin RPTL,
// writeAuthorisation RPTK = SHA-256(salt || password), writeConfig RPTC = "RPTC" + ID + the
// getConfig() text, writeOptions RPTO when Options= is set), the state machine of clock()
// (WAITING_CONNECT -> WAITING_LOGIN -> WAITING_AUTHORISATION -> WAITING_CONFIG
// [-> WAITING_OPTIONS] -> RUNNING on each RPTACK; MSTNAK while running -> WAITING_LOGIN, during
// login -> close/open; MSTCL -> close/open; MSTPONG restarts the timeout; RPTSBKN sets the
// beacon flag), the retry timer (10 s: re-sends the current step, RPTPING while running) and
// the timeout timer (60 s: close/open), and what it accepts: a DMRD only when its length is
// 55 or 71 (anything else dropped without a log line).
//
// The timers are parameters so that a test does not wait a minute; everything else is the
// source's. The MMDVMHost behind it is the test's code: write() is what DMRGateway forwards.

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "peer_kit.hpp"

namespace iwf::test::peers {

struct DmrGatewayConfig {
    std::uint32_t id = 12345;
    std::string password = "PASSWORD";
    std::string config_text;  // getConfig(): see dmrGatewayConfigText()
    std::string options;      // Options= (empty: no RPTO)
    std::uint16_t master_port = 62031;
    std::chrono::milliseconds retry{10000};    // m_retryTimer(1000U, 10U)
    std::chrono::milliseconds timeout{60000};  // m_timeoutTimer(1000U, 60U)
};

// DMRGateway.cpp getConfig(): sprintf("%-8.8s%09u%09u%02u%02u%8.8s%9.9s%03d%-20.20s%-19.19s%c"
// "%-124.124s%-40.40s%-40.40s", ...) with latitude "%08f" and longitude "%09f", assembled
// here field by field.
std::string dmrGatewayConfigText(const std::string& callsign, std::uint32_t rx_hz,
                                 std::uint32_t tx_hz);

class FakeDmrGateway {
  public:
    enum class Status {
        WaitingConnect,
        WaitingLogin,
        WaitingAuthorisation,
        WaitingConfig,
        WaitingOptions,
        Running
    };
    explicit FakeDmrGateway(DmrGatewayConfig cfg);

    void open();                  // CDMRNetwork::open(): WAITING_CONNECT, retry timer started
    void clock(std::int64_t ms);  // CDMRNetwork::clock()
    // CDMRNetwork::write(): only while RUNNING. `dmrd55` is the 55-byte DMRD it builds.
    bool write(const Bytes& dmrd55);
    // Sends any datagram (a test of what iwfd does with a peer's other messages).
    void writeRaw(const Bytes& b);

    Status status() const { return status_; }
    std::uint16_t port() const { return socket_.port(); }
    // DMRD packets DMRGateway queued for its MMDVMHost (55 or 71 bytes, while enabled).
    const std::vector<Bytes>& queued() const { return rx_data_; }
    std::size_t dmrdIgnored() const { return dmrd_ignored_; }  // other lengths: dropped
    // writeJSONLinkFailed reasons in order ("login", "auth", "config", "session", "closed",
    // "timeout").
    const std::vector<std::string>& linkFailures() const { return failures_; }
    std::size_t loggedIn() const { return logged_in_; }
    bool beacon() const { return beacon_; }
    std::size_t sent(const std::string& magic) const;  // datagrams sent starting with magic

  private:
    void close();
    void writeLogin();
    void writeAuthorisation();
    void writeConfig();
    void writeOptions();
    void writePing();
    void send(const Bytes& b);

    DmrGatewayConfig cfg_;
    Udp socket_;
    Status status_ = Status::WaitingConnect;
    PeerTimer retry_;
    PeerTimer timeout_;
    std::array<std::uint8_t, 4> salt_{};
    std::vector<Bytes> rx_data_;
    std::size_t dmrd_ignored_ = 0;
    std::vector<std::string> failures_;
    std::size_t logged_in_ = 0;
    bool beacon_ = false;
    std::vector<Bytes> sent_;
};

// A DMRD as DMRGateway's write() builds it: "DMRD", seq, src (3), dst (3), its ID (4), byte
// 15 (slot 0x80, unit call 0x40, voice sync 0x10 / data sync 0x20 | data type / voice burst
// n), the stream ID memcpy'd in host byte order, the 33-byte burst, BER, RSSI: 55 bytes.
Bytes dmrGatewayDmrd(std::uint8_t seq, std::uint32_t src, std::uint32_t dst, std::uint32_t id,
                     std::uint8_t byte15, std::uint32_t stream_id, ByteView burst33,
                     std::uint8_t ber = 0, std::uint8_t rssi = 0);

}  // namespace iwf::test::peers
