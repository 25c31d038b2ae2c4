#pragma once
// Peer allow-lists of the LMR links: a set of addresses and prefixes ("192.0.2.7",
// "10.1.0.0/16", "2001:db8::/32", "any"). A datagram or request whose source address matches
// no entry is refused before it is decoded (docs/security.md "LMR links").
//
// IPv4-mapped IPv6 sources (::ffff:a.b.c.d, what a dual-stack socket reports) match the IPv4
// entries. Matching is a scan over the entries (an allow-list names a handful of peers).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/asio.hpp"
#include "common/result.hpp"

namespace iwf::net {

class AddressFilter {
  public:
    // An empty filter matches nothing.
    AddressFilter() = default;

    // Parses one entry: an address, address/prefix-length, or "any" (0.0.0.0/0 and ::/0).
    // Error reasons: "bad_address", "bad_prefix" (length out of range or host bits set).
    Status add(std::string_view entry);
    // Adds every address of 127.0.0.0/8 and ::1.
    void addLoopback();
    // A filter of 127.0.0.0/8 and ::1.
    static AddressFilter loopback() {
        AddressFilter f;
        f.addLoopback();
        return f;
    }

    bool allows(const asio::ip::address& a) const;
    bool empty() const { return v4_.empty() && v6_.empty(); }
    // True when the filter admits every address (an "any" entry or a /0).
    bool isAny() const;
    // The entries as written back ("10.1.0.0/16", "192.0.2.7/32"), for logs and status.
    std::vector<std::string> entries() const;
    bool operator==(const AddressFilter&) const = default;

  private:
    struct V4 {
        std::uint32_t net = 0;
        std::uint32_t mask = 0;
        int len = 0;
        bool operator==(const V4&) const = default;
    };
    struct V6 {
        std::array<std::uint8_t, 16> net{};
        int len = 0;
        bool operator==(const V6&) const = default;
    };
    std::vector<V4> v4_;
    std::vector<V6> v6_;
};

}  // namespace iwf::net
