#include "lmr_adapters/analog/link_types.hpp"

#include "lmr_adapters/analog/rtp_link.hpp"
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
    // The channel's own talkgroup: an MC talker of that group is played on this link and on no
    // other (with two channels, the first analogue link used to get every MC talker).
    usrp.served_group = [](const ConfigNode& n) -> std::optional<Address> {
        return Address{AnalogGroup{UsrpLinkConfig::fromConfig(n).talkgroup}};
    };
    registry.add("analog-usrp", std::move(usrp));

    LinkType rtp;
    rtp.side = Side::Lmr;
    rtp.description =
        "analogue FM channel behind a Radio-over-IP gateway, RTP G.711 (PCMU/PCMA) with PTT "
        "from the marker bit or a VAD, transcoded to AMR-WB";
    rtp.validate = [](const ConfigNode& n) { (void)AnalogRtpLinkConfig::fromConfig(n); };
    rtp.create = [](const ConfigNode& n, LinkContext& ctx) -> std::unique_ptr<Link> {
        return std::make_unique<AnalogRtpLink>(AnalogRtpLinkConfig::fromConfig(n), ctx.io,
                                               ctx.metrics, ctx.clock);
    };
    rtp.bound_port = [](const Link& l) -> std::uint16_t {
        const auto* r = dynamic_cast<const AnalogRtpLink*>(&l);
        return r != nullptr ? r->localPort() : 0;
    };
    rtp.served_group = [](const ConfigNode& n) -> std::optional<Address> {
        return Address{AnalogGroup{AnalogRtpLinkConfig::fromConfig(n).talkgroup}};
    };
    registry.add("analog-rtp", std::move(rtp));
}

}  // namespace iwf::lmr::analog
