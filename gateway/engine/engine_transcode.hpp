#pragma once
// Which talkers may be bridged into a group when one side is an analogue channel (issue #19).
// The gateway transcodes only analogue audio (the analogue link turns its PCM into AMR-WB,
// the MCPTT codec, and back); it has no IMBE / AMBE / ACELP vocoder and never decrypts. So:
//   - an analogue talker joins only an analogue group, and only a `clear` one: the engine
//     never bridges it into an encrypted call ("analog_into_encrypted"), whatever the keymap
//     says (keymap validation refuses such a group too: analog_not_clear);
//   - an MC talker in an analogue group must send AMR-WB (the only codec the analogue link
//     can turn into PCM): anything else is refused "no_vocoder";
//   - an MC talker that sends AMR-WB into a digital (P25 / DMR / TETRA) group is refused
//     "no_vocoder" as well: a digital radio cannot play AMR-WB and the gateway cannot
//     transcode it into the radio's vocoder.
// A digital LMR talker never reaches an analogue group: LMR groups are looked up by their
// family's address (AnalogGroup for analogue), one LMR system per interworking group. Every
// other combination (digital families among themselves) is untouched: nullopt.
// docs/engine.md "Analogue groups".

#include <optional>
#include <string_view>

#include "common/ids.hpp"
#include "common/voice.hpp"
#include "gateway/engine/directory.hpp"

namespace iwf::gateway::engine {

// `lmr_family`: the talker's LMR link family, nullopt for an MC talker; `codec`: what the
// talker's setup says it sends. The refusal reason, or nullopt.
std::optional<std::string_view> analogueRefusal(const GroupInfo& group,
                                                std::optional<LmrFamily> lmr_family,
                                                VoiceCodec codec);

}  // namespace iwf::gateway::engine
