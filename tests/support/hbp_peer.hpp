#pragma once
// A hand-driven HBP peer for tests of iwfd's DMR HBP master link: a plain UDP socket on
// 127.0.0.1 with receive deadlines, the full login (RPTL -> salt -> RPTK -> RPTC), and DMRD
// collection. Header-only.

#include <array>
#include <chrono>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "common/asio.hpp"
#include "common/bytes.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"
#include "lmr_adapters/dmr/hbp.hpp"

namespace iwf::test {

class HbpRawPeer {
  public:
    using udp = asio::ip::udp;
    HbpRawPeer() : sock_(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        sock_.non_blocking(true);
    }
    void send(std::uint16_t port, ByteView d) {
        sock_.send_to(asio::buffer(d.data(), d.size()),
                      udp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    }
    void send(std::uint16_t port, const lmr::dmr::HbpMessage& m) {
        send(port, lmr::dmr::encodeHbp(m));
    }
    std::optional<Bytes> receive(std::chrono::milliseconds limit = std::chrono::seconds(3)) {
        const auto end = std::chrono::steady_clock::now() + limit;
        std::array<std::uint8_t, 2048> buf{};
        while (std::chrono::steady_clock::now() < end) {
            udp::endpoint from;
            boost::system::error_code ec;
            const std::size_t n = sock_.receive_from(asio::buffer(buf), from, 0, ec);
            if (!ec) {
                return Bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        return std::nullopt;
    }
    std::uint16_t localPort() const { return sock_.local_endpoint().port(); }
    std::optional<lmr::dmr::HbpMessage> receiveHbp(
        std::chrono::milliseconds limit = std::chrono::seconds(3)) {
        auto b = receive(limit);
        if (!b) {
            return std::nullopt;
        }
        auto m = lmr::dmr::decodeHbp(*b);
        if (!m) {
            return std::nullopt;
        }
        return *m;
    }
    // Full login; true when every step was acknowledged with our peer ID.
    bool login(std::uint16_t port, std::uint32_t id, std::string_view password) {
        using lmr::dmr::HbpType;
        send(port, lmr::dmr::hbpSimple(HbpType::Rptl, id));
        auto salt = receiveHbp();
        if (!salt || salt->type != HbpType::Rptack) {
            return false;
        }
        auto k = lmr::dmr::hbpSimple(HbpType::Rptk, id);
        k.key = lmr::dmr::hbpLoginKey(salt->ack, password);
        send(port, k);
        auto a1 = receiveHbp();
        if (!a1 || a1->type != HbpType::Rptack || a1->peer_id != id) {
            return false;
        }
        auto c = lmr::dmr::hbpSimple(HbpType::Rptc, id);
        c.config.callsign = "N0CALL";
        send(port, c);
        auto a2 = receiveHbp();
        return a2 && a2->type == HbpType::Rptack && a2->peer_id == id;
    }
    // DMRD packets until `n` arrived or a receive deadline passed (other messages skipped).
    std::vector<lmr::dmr::DmrdPacket> receiveDmrd(std::size_t n) {
        std::vector<lmr::dmr::DmrdPacket> out;
        while (out.size() < n) {
            auto b = receive();
            if (!b) {
                break;
            }
            auto d = lmr::dmr::decodeDmrd(*b);
            if (d) {
                out.push_back(*d);
            }
        }
        return out;
    }

  private:
    asio::io_context io_;
    udp::socket sock_;
};

}  // namespace iwf::test
