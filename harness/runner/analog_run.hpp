#pragma once
// `iwf-harness run` for an analogue scenario (a file with an `analog:` section; issue #19):
// analogue radios (USRP and RTP flavours, harness/sim/analog_radio.hpp) on analog-usrp /
// analog-rtp links of a real iwfd, and an MC client that really decodes and encodes AMR-WB
// (harness/sim/analog_mc_client.hpp). Each case: the radio sends a known signal (a 1 kHz
// tone, then the speech-like signal of harness/sim/analog_signal.hpp), the MC client hears
// it through iwfd as AMR-WB, takes the floor and says back what it heard, and the radio
// records what arrives: analogue -> MC -> analogue, measured at the far end (delay added by
// iwfd per frame each way, level, segmental SNR after delay alignment), with the loss the
// case asks for on both legs the harness sends. Format: docs/harness.md "Analogue scenarios".
#include <ostream>
#include <string>

#include "harness/runner/runner.hpp"

namespace iwf::harness {

// Whether the scenario file is an analogue one (its root has an `analog` key).
bool isAnalogScenario(const std::string& path);
// Runs it; exit code as runScenario (0 pass, 1 fail, 2 could not run).
int runAnalogScenario(const RunOptions& opt, std::ostream& out, std::ostream& err);

}  // namespace iwf::harness
