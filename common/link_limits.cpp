#include "common/link_limits.hpp"

#include <algorithm>

namespace iwf::net {

bool isLoopbackAddress(const std::string& address) {
    boost::system::error_code ec;
    auto a = asio::ip::make_address(address, ec);
    if (ec) {
        return false;
    }
    if (a.is_v6() && a.to_v6().is_v4_mapped()) {
        a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
    }
    return a.is_loopback();
}

AddressFilter allowListFromConfig(const ConfigNode& link, const std::string& bind_address,
                                  const std::vector<std::string>& implied, std::string_view key) {
    AddressFilter f;
    if (!link.has(key)) {
        if (isLoopbackAddress(bind_address)) {
            f.addLoopback();
            return f;
        }
        for (const auto& a : implied) {
            if (!f.add(a).ok()) {
                link.fail(key, "cannot derive an allow-list from \"" + a + "\"");
            }
        }
        if (!f.empty()) {
            return f;
        }
        link.fail(key, "required when the link listens on a non-loopback address (" + bind_address +
                           "): list the peers' source addresses or prefixes, e.g. [192.0.2.7, "
                           "10.1.0.0/16], or write [any] to accept every source on purpose "
                           "(docs/security.md \"LMR links\")");
    }
    const auto items = link.list(key);
    if (items.empty()) {
        link.fail(key, "must name at least one address or prefix ([any] accepts every source)");
    }
    for (const auto& item : items) {
        const std::string text = item.asString();
        if (Status st = f.add(text); !st) {
            item.fail(
                "",
                st.error().reason == "bad_prefix"
                    ? "bad prefix in \"" + text + "\": length out of range or host bits set"
                    : "expected an IP address, address/prefix or \"any\", got \"" + text + "\"");
        }
    }
    return f;
}

RateLimitConfig rateLimitFromConfig(const ConfigNode& link, RateLimitConfig dflt,
                                    std::string_view key) {
    auto n = link.optionalChild(key);
    if (!n) {
        return dflt;
    }
    n->expectKeys({"pps", "burst"});
    RateLimitConfig c;
    c.pps = static_cast<double>(n->getInt("pps", 0, 1'000'000));
    const auto dflt_burst = static_cast<std::int64_t>(std::max(c.pps / 2, 20.0));
    c.burst = static_cast<double>(n->getInt("burst", 1, 1'000'000, dflt_burst));
    return c;
}

int receiveBufferFromConfig(const ConfigNode& link, int dflt, std::string_view key) {
    if (!link.has(key)) {
        return dflt;
    }
    const auto v = link.getInt(key, 0, 256ll << 20);
    if (v != 0 && v < 4096) {
        link.fail(key, "expected 0 (kernel default) or at least 4096 bytes");
    }
    return static_cast<int>(v);
}

}  // namespace iwf::net
