#include "lmr_adapters/analog/link_types.hpp"

#include "lmr_adapters/analog/usrp_link.hpp"

namespace iwf::lmr::analog {

void registerAnalogLinkTypes(iwf::LinkRegistry& registry) {
    LinkType usrp;
    usrp.side = Side::Lmr;
    usrp.description =
        "analogue FM channel over USRP (AllStarLink chan_usrp, DVSwitch Analog_Bridge), "
        "transcoded to AMR-WB";
    usrp.validate = [](const ConfigNode& n) { (void)UsrpLinkConfig::fromConfig(n); };
    usrp.create = [](const ConfigNode& n, LinkContext& ctx) -> std::unique_ptr<Link> {
        return std::make_unique<UsrpLink>(UsrpLinkConfig::fromConfig(n), ctx.io, ctx.metrics,
                                          ctx.clock);
    };
    usrp.bound_port = [](const Link& l) -> std::uint16_t {
        const auto* u = dynamic_cast<const UsrpLink*>(&l);
        return u != nullptr ? u->localPort() : 0;
    };
    registry.add("analog-usrp", std::move(usrp));
}

}  // namespace iwf::lmr::analog
