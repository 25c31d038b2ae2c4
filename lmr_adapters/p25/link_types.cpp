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
    registry.add("p25-records", std::move(records));

    LinkType issi;
    issi.side = Side::Lmr;
    issi.description = "P25 ISSI peer RFSS (group call home role), SIP/UDP + ISSI RTP";
    issi.validate = [](const ConfigNode& n) { (void)IssiLinkConfig::fromConfig(n); };
    issi.create = [](const ConfigNode& n, LinkContext& ctx) -> std::unique_ptr<Link> {
        return std::make_unique<IssiLink>(IssiLinkConfig::fromConfig(n), ctx.io, ctx.metrics,
                                          ctx.clock);
    };
    registry.add("p25-issi", std::move(issi));
}

}  // namespace iwf::lmr::p25
