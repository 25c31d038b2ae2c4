#pragma once
// Registers the analogue link types with the daemon's registry:
//   "analog-usrp"  an analogue FM channel over USRP (AllStarLink chan_usrp, DVSwitch
//                  Analog_Bridge), transcoded to AMR-WB at the link (docs/protocols/usrp.md)
//   "analog-rtp"   an analogue FM channel behind a Radio-over-IP gateway, RTP G.711, PTT from
//                  the marker bit or a VAD, transcoded likewise (docs/protocols/analog-rtp.md)

#include "common/link_registry.hpp"

namespace iwf::lmr::analog {

void registerAnalogLinkTypes(iwf::LinkRegistry& registry);

}  // namespace iwf::lmr::analog
