#include "lmr_adapters/p25/link_types.hpp"

#include "lmr_adapters/p25/issi_link.hpp"
#include "lmr_adapters/p25/records_link.hpp"

namespace iwf::lmr::p25 {

void registerP25LinkTypes(iwf::LinkRegistry& registry) {
    LinkType records;
    records.side = Side::Lmr;
    records.description =
        "P25 open-network records (MMDVM/P25Gateway/P25Reflector peers poll and link)";
    records.validate = [](const ConfigNode& n) { (void)RecordsLinkConfig::fromConfig(n); };
    records.create = [](const ConfigNode& n, LinkContext& ctx) -> std::unique_ptr<Link> {
        return std::make_unique<RecordsLink>(RecordsLinkConfig::fromConfig(n), ctx.io, ctx.metrics,
                                             ctx.clock);
    };
    records.create_shard = [](const ConfigNode& n, LinkContext& ctx,
                              LinkShard& shard) -> std::unique_ptr<Link> {
        RecordsLinkConfig cfg = RecordsLinkConfig::fromConfig(n);
        cfg.reuse_port = shard.count > 1;
        cfg.worker = shard.index;
        if (shard.index > 0) {
            cfg.port = shard.port;
            cfg.join_port = true;
        }
        auto link = std::make_unique<RecordsLink>(std::move(cfg), ctx.io, ctx.metrics, ctx.clock);
        if (shard.count > 1) {
            if (!shard.group) {
                shard.group = std::make_shared<RecordsShardGroup>();
            }
            link->joinShardGroup(std::static_pointer_cast<RecordsShardGroup>(shard.group));
        }
        return link;
    };
    records.bound_port = [](const Link& l) -> std::uint16_t {
        const auto* r = dynamic_cast<const RecordsLink*>(&l);
        return r != nullptr ? r->localPort() : 0;
    };
    // SIGHUP: the allow-list and the per-peer rate limit apply at once.
    records.reloadable = {"allow", "rate_limit"};
    records.reload = [](Link& l, const ConfigNode& n, std::string& what) -> Status {
        auto* r = dynamic_cast<RecordsLink*>(&l);
        if (r == nullptr) {
            return Error{"not_a_p25_records_link"};
        }
        return r->reconfigure(RecordsLinkConfig::fromConfig(n), what);
    };
    // A reflector serves one talkgroup (P25Gateway links to one reflector per talkgroup and
    // rewrites the talkgroup of what it forwards to its own: docs/protocols/peers.md G3), so an
    // MC talker of the group `tgid` names goes to this link and to no other.
    records.served_group = [](const ConfigNode& n) -> std::optional<Address> {
        RecordsLinkConfig cfg = RecordsLinkConfig::fromConfig(n);
        if (!cfg.tgid) {
            return std::nullopt;
        }
        return Address{P25Group{cfg.system, *cfg.tgid}};
    };
    registry.add("p25-records", std::move(records));

    LinkType issi;
    issi.side = Side::Lmr;
    issi.description = "P25 ISSI peer RFSS (group call home role), SIP/UDP + ISSI RTP";
    issi.validate = [](const ConfigNode& n) { (void)IssiLinkConfig::fromConfig(n); };
    issi.create = [](const ConfigNode& n, LinkContext& ctx) -> std::unique_ptr<Link> {
        IssiLinkConfig c = IssiLinkConfig::fromConfig(n);
        c.send_gate = ctx.send_gate;
        return std::make_unique<IssiLink>(std::move(c), ctx.io, ctx.metrics, ctx.clock);
    };
    // SIGHUP: the RFSS allow-list and the RTP rate limit apply at once.
    issi.reloadable = {"allow", "rate_limit"};
    issi.reload = [](Link& l, const ConfigNode& n, std::string& what) -> Status {
        auto* r = dynamic_cast<IssiLink*>(&l);
        if (r == nullptr) {
            return Error{"not_a_p25_issi_link"};
        }
        return r->reconfigure(IssiLinkConfig::fromConfig(n), what);
    };
    registry.add("p25-issi", std::move(issi));
}

}  // namespace iwf::lmr::p25
