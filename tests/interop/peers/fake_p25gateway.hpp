#pragma once
// A fake P25Gateway (g4klx/P25Clients P25Gateway), written from P25Gateway.cpp run() line by
// line for its network side, with one static talkgroup whose "reflector" is iwfd:
//
//  - at start three polls to every static TG; then a poll to each static TG (and to the
//    dynamic one while linked) every 5 s (CTimer pollTimer(1000U, 5U));
//  - from a reflector while linked (m_currentTG used and the source matches): everything but
//    0xF0 / 0xF1 goes to the MMDVMHost, with byte 1 of 0x64 rewritten to 0x00 ("LCF is for
//    TGs") and 0x65 rewritten to the current TG; the hang timer restarts;
//  - from a static TG while idle: a datagram equal to its own poll (memcmp with 0xF0 +
//    callsign padded to 10) is a poll answer and ignored; 0xF1 ignored; ANYTHING else means
//    network activity: it tells the MMDVMHost the TG (4-byte 0x65 record), links to that TG
//    ("Switched to reflector %u due to network activity"), forwards the datagram (rewritten)
//    and starts the hang timer with NetHangTime;
//  - from the MMDVMHost: 0x65 with another TG than the current one unlinks (0xF1 x3 unless
//    static) and links to the TG of the 0x65 (a static one, or one from the hosts file: none
//    here), polls x3 unless static, hang timer RFHangTime; 0x66 stores the source; while
//    linked every record goes to the reflector (same rewrites), the hang timer restarts. So
//    while idle the 0x62..0x64 before the first 0x65 go nowhere;
//  - hang timer expiry: unlink (0xF1 x3 unless static), the 4-byte "0x65 00 00 00" to the
//    MMDVMHost, idle again. The Rpt side polls the MMDVMHost every 5 s (RptNetwork.cpp).
//
// Timer periods are parameters (a test cannot wait a minute); the logic is the source's.

#include <cstdint>
#include <string>
#include <vector>

#include "common/bytes.hpp"
#include "peer_kit.hpp"

namespace iwf::test::peers {

struct P25GatewayConfig {
    std::string callsign = "G4KLX";
    std::uint32_t static_tg = 100;     // [Network] Static=
    std::uint16_t reflector_port = 0;  // the static TG's address: iwfd's p25-records port
    std::uint16_t mmdvm_port = 0;      // RptAddress/RptPort: the MMDVMHost
    std::chrono::milliseconds poll{5000};
    std::chrono::milliseconds rf_hang{120000};  // RFHangTime
    std::chrono::milliseconds net_hang{60000};  // NetHangTime
};

class FakeP25Gateway {
  public:
    explicit FakeP25Gateway(P25GatewayConfig cfg);
    void start();  // the three startup polls of each static TG
    void clock(std::int64_t ms);

    std::uint16_t localPort() const { return local_.port(); }     // MMDVMHost writes here
    std::uint16_t networkPort() const { return remote_.port(); }  // reflectors write here
    bool linked() const { return current_tg_ != 0; }
    std::size_t switchesByNetwork() const { return switches_network_; }
    std::size_t switchesByRf() const { return switches_rf_; }
    std::size_t unlinksByTimer() const { return unlinks_timer_; }
    std::size_t pollsSent() const { return polls_; }
    // What reached the MMDVMHost and the reflector.
    const std::vector<Bytes>& toMmdvm() const { return to_mmdvm_; }
    const std::vector<Bytes>& toReflector() const { return to_reflector_; }

  private:
    Bytes pollRecord() const;
    void rewrite(Bytes& b) const;
    void toLocal(const Bytes& b);
    void toRemote(const Bytes& b);

    P25GatewayConfig cfg_;
    Udp remote_;
    Udp local_;
    std::uint32_t current_tg_ = 0;
    bool current_static_ = false;
    PeerTimer hang_;
    PeerTimer poll_;
    PeerTimer rpt_poll_;
    std::size_t switches_network_ = 0;
    std::size_t switches_rf_ = 0;
    std::size_t unlinks_timer_ = 0;
    std::size_t polls_ = 0;
    std::vector<Bytes> to_mmdvm_;
    std::vector<Bytes> to_reflector_;
};

}  // namespace iwf::test::peers
