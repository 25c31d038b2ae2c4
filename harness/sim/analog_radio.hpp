#pragma once
// The harness's analogue radio (issue #19): what an FM channel behind a Radio-over-IP bridge
// puts on the wire and reads from it, in two flavours:
//   usrp  AllStarLink chan_usrp / DVSwitch Analog_Bridge: a 32-byte header ("USRP", seq,
//         memory, keyup, talkgroup, type, mpxid, reserved; network order, chan_usrp.c
//         struct _chan_usrp_bufhdr) and 160 samples of 8 kHz 16-bit PCM in host order
//         (usrp_xwrite); the unkey is the header alone with keyup 0 (usrp_indicate).
//   rtp   a RoIP gateway's RTP G.711 µ-law (RFC 3550 5.1 header, PT 0, marker on the first
//         packet of a transmission, RFC 3551 4.1; 160 octets per 20 ms).
// Built here from those sources, not with lmr_adapters/analog's codecs, so a run judges
// iwfd's packets with an independent reading. µ-law per ITU-T G.711 (the segment/quantisation
// algorithm of the reference g711.c: bias 0x84, clip 32635, bits inverted).
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.hpp"

namespace iwf::harness {

enum class AnalogFlavour { Usrp, Rtp };
std::optional<AnalogFlavour> analogFlavourFromName(std::string_view name);

std::uint8_t ulawEncode(std::int16_t sample);
std::int16_t ulawDecode(std::uint8_t code);

// The datagram of frame `i` (0-based) of a transmission: 160 samples at `pcm`.
Bytes analogRadioFrame(AnalogFlavour f, std::uint32_t i, const std::int16_t* pcm,
                       std::uint32_t talkgroup);
// What ends a transmission: the USRP unkey; none for RTP (the stream stops).
std::optional<Bytes> analogRadioUnkey(AnalogFlavour f, std::uint32_t frames);
// The 160 samples of a voice datagram iwfd sent the channel; nullopt for anything else (a
// USRP unkey, a malformed packet).
std::optional<std::vector<std::int16_t>> analogRadioRead(AnalogFlavour f, ByteView d);

}  // namespace iwf::harness
