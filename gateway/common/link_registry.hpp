#pragma once
// Link types by name. Each adapter family registers its link types ("p25-records",
// "p25-issi", "dmr-hbp-master", "dmr-hbp-peer", "mcptt-iwf1", ...); the daemon builds the
// links named in its config through this registry, so the gateway depends on no adapter
// internals and a config error names the link's file, line and field.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gateway/common/asio.hpp"
#include "gateway/common/clock.hpp"
#include "gateway/common/config_node.hpp"
#include "gateway/common/link.hpp"
#include "gateway/common/metrics.hpp"

namespace iwf {

struct LinkContext {
    asio::io_context& io;
    metrics::Registry& metrics;
    const Clock& clock;
};

struct LinkType {
    Side side = Side::Lmr;
    std::string description;
    // Checks the link's config section (throws ConfigError naming file/line/field).
    std::function<void(const ConfigNode&)> validate;
    // Builds the link from a section that validate() accepted.
    std::function<std::unique_ptr<Link>(const ConfigNode&, LinkContext&)> create;
};

class LinkRegistry {
  public:
    void add(const std::string& type, LinkType t) { types_[type] = std::move(t); }
    const LinkType* find(const std::string& type) const {
        auto it = types_.find(type);
        return it == types_.end() ? nullptr : &it->second;
    }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& [k, v] : types_) {
            out.push_back(k);
        }
        return out;
    }

  private:
    std::map<std::string, LinkType> types_;
};

}  // namespace iwf
