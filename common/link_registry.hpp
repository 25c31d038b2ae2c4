#pragma once
// Link types by name. Each adapter family registers its link types ("p25-records",
// "p25-issi", "dmr-hbp-master", "dmr-hbp-peer", "mcptt-iwf1", ...); the daemon builds the
// links named in its config through this registry, so the gateway depends on no adapter
// internals and a config error names the link's file, line and field.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/config_node.hpp"
#include "common/ids.hpp"
#include "common/link.hpp"
#include "common/message_store.hpp"
#include "common/metrics.hpp"
#include "common/send_gate.hpp"

namespace iwf {

struct LinkContext {
    asio::io_context& io;
    metrics::Registry& metrics;
    const Clock& clock;
    // The durable store of acknowledged messages (common/message_store.hpp); nullptr when
    // iwfd runs without one (messages.store unset). A link that acknowledges SDS or KMM writes
    // the message here first.
    MessageStore* messages = nullptr;
    // iwfd in a cluster: the lease's Fence (docs/ha.md "Never two owners"). A link's SIP stack
    // sends nothing while it is closed (sip::StackConfig::send_gate). Null: always open.
    const SendGate* send_gate = nullptr;
};

// One instance of a link among the instances iwfd runs, one per data-plane worker thread
// (`workers: N`, docs/engine.md "Worker threads").
struct LinkShard {
    unsigned index = 0;  // 0 .. count-1; instance 0 runs on the control-plane thread
    unsigned count = 1;
    // Instances > 0: the UDP port instance 0 bound (its config may say 0 = any).
    std::uint16_t port = 0;
    // Shared by the instances of one link (the link type decides what it holds; null for
    // instance 0, which creates it).
    std::shared_ptr<void> group;
};

struct LinkType {
    Side side = Side::Lmr;
    std::string description;
    // Checks the link's config section (throws ConfigError naming file/line/field).
    std::function<void(const ConfigNode&)> validate;
    // Builds the link from a section that validate() accepted.
    std::function<std::unique_ptr<Link>(const ConfigNode&, LinkContext&)> create;
    // Optional: the link type can run one instance per worker thread, all bound to the same
    // UDP address with SO_REUSEPORT so that the kernel keeps each flow (a peer) on one
    // instance. create_shard builds instance `shard.index` and sets shard.group (instance 0)
    // for the others; bound_port reads the UDP port a started instance bound. Link types
    // without it run once, on worker 0.
    std::function<std::unique_ptr<Link>(const ConfigNode&, LinkContext&, LinkShard&)> create_shard;
    std::function<std::uint16_t(const Link&)> bound_port;
    // Optional: what a config reload (SIGHUP) may change in a running link. `reloadable` names
    // the keys of the link's section that reload() applies; when any other key of the section
    // changed, the link needs a restart and the daemon refuses the whole reload (the old
    // config stays in force, nothing is half-applied). reload() gets the new section (already
    // validated) and is called on the thread of each instance of the link; it returns an
    // Error when it cannot apply it and says in `what` what it did (for the log).
    std::vector<std::string> reloadable;
    std::function<Status(Link&, const ConfigNode&, std::string& what)> reload;
    // Optional (LMR links): the one group the link serves, read from its section (a
    // p25-records link with `tgid` is one reflector talkgroup). The daemon routes an MC talker
    // of that group to this link; a link without it (or whose section names no group) serves
    // any group of its family (engine::KeymapDirectory::addLmrLink).
    std::function<std::optional<Address>(const ConfigNode&)> served_group;
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
