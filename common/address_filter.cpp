#include "common/address_filter.hpp"

#include <algorithm>
#include <charconv>

namespace iwf::net {

namespace {

bool v6Match(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& net,
             int len) {
    int bits = len;
    for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
        const std::uint8_t mask =
            bits >= 8 ? std::uint8_t{0xFF} : static_cast<std::uint8_t>(0xFF << (8 - bits));
        if ((a[i] & mask) != (net[i] & mask)) {
            return false;
        }
    }
    return true;
}

}  // namespace

Status AddressFilter::add(std::string_view entry) {
    if (entry == "any") {
        v4_.push_back(V4{0, 0, 0});
        v6_.push_back(V6{{}, 0});
        return Status::success();
    }
    std::string_view addr_text = entry;
    int len = -1;
    if (auto slash = entry.find('/'); slash != std::string_view::npos) {
        addr_text = entry.substr(0, slash);
        const std::string_view len_text = entry.substr(slash + 1);
        const auto* end = len_text.data() + len_text.size();
        auto [p, ec] = std::from_chars(len_text.data(), end, len);
        if (ec != std::errc() || p != end || len_text.empty()) {
            return Error{"bad_prefix"};
        }
    }
    boost::system::error_code ec;
    const auto a = asio::ip::make_address(std::string(addr_text), ec);
    if (ec) {
        return Error{"bad_address"};
    }
    if (a.is_v4()) {
        if (len == -1) {
            len = 32;
        }
        if (len < 0 || len > 32) {
            return Error{"bad_prefix", len};
        }
        const std::uint32_t mask = len == 0 ? 0 : ~std::uint32_t{0} << (32 - len);
        const std::uint32_t net = a.to_v4().to_uint();
        if ((net & ~mask) != 0) {
            return Error{"bad_prefix", len};  // host bits set: probably a typo
        }
        v4_.push_back(V4{net, mask, len});
        return Status::success();
    }
    if (len == -1) {
        len = 128;
    }
    if (len < 0 || len > 128) {
        return Error{"bad_prefix", len};
    }
    const auto bytes = a.to_v6().to_bytes();
    V6 v;
    v.len = len;
    std::copy(bytes.begin(), bytes.end(), v.net.begin());
    std::array<std::uint8_t, 16> masked{};
    int bits = len;
    for (std::size_t i = 0; i < 16; ++i, bits -= 8) {
        const std::uint8_t m = bits >= 8  ? std::uint8_t{0xFF}
                               : bits > 0 ? static_cast<std::uint8_t>(0xFF << (8 - bits))
                                          : std::uint8_t{0};
        masked[i] = static_cast<std::uint8_t>(v.net[i] & m);
    }
    if (masked != v.net) {
        return Error{"bad_prefix", len};
    }
    v6_.push_back(v);
    return Status::success();
}

void AddressFilter::addLoopback() {
    (void)add("127.0.0.0/8");
    (void)add("::1");
}

bool AddressFilter::allows(const asio::ip::address& a) const {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        return allows(asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()));
    }
    if (a.is_v4()) {
        const std::uint32_t x = a.to_v4().to_uint();
        for (const auto& e : v4_) {
            if ((x & e.mask) == e.net) {
                return true;
            }
        }
        return false;
    }
    const auto bytes = a.to_v6().to_bytes();
    std::array<std::uint8_t, 16> x{};
    std::copy(bytes.begin(), bytes.end(), x.begin());
    for (const auto& e : v6_) {
        if (v6Match(x, e.net, e.len)) {
            return true;
        }
    }
    return false;
}

bool AddressFilter::isAny() const {
    for (const auto& e : v4_) {
        if (e.len == 0) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> AddressFilter::entries() const {
    std::vector<std::string> out;
    for (const auto& e : v4_) {
        out.push_back(asio::ip::address_v4(e.net).to_string() + "/" + std::to_string(e.len));
    }
    for (const auto& e : v6_) {
        asio::ip::address_v6::bytes_type b;
        std::copy(e.net.begin(), e.net.end(), b.begin());
        out.push_back(asio::ip::address_v6(b).to_string() + "/" + std::to_string(e.len));
    }
    return out;
}

}  // namespace iwf::net
