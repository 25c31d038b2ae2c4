#include "harness/sim/analog_radio.hpp"

#include <arpa/inet.h>
#include <cstring>

namespace iwf::harness {

namespace {

constexpr std::size_t kAnalogUsrpHeader = 32;
constexpr std::size_t kAnalogSamples = 160;
constexpr std::uint32_t kAnalogRtpSsrc = 0x5EED0001;

void putBe32(Bytes& d, std::size_t at, std::uint32_t v) {
    const std::uint32_t n = htonl(v);
    std::memcpy(d.data() + at, &n, 4);
}

std::uint32_t getBe32(ByteView d, std::size_t at) {
    std::uint32_t n = 0;
    std::memcpy(&n, d.data() + at, 4);
    return ntohl(n);
}

}  // namespace

std::optional<AnalogFlavour> analogFlavourFromName(std::string_view name) {
    if (name == "usrp") {
        return AnalogFlavour::Usrp;
    }
    if (name == "rtp") {
        return AnalogFlavour::Rtp;
    }
    return std::nullopt;
}

std::uint8_t ulawEncode(std::int16_t sample) {
    constexpr int kBias = 0x84;
    constexpr int kClip = 32635;
    int s = sample;
    const int sign = s < 0 ? 0x80 : 0;
    if (s < 0) {
        s = -s;
    }
    if (s > kClip) {
        s = kClip;
    }
    s += kBias;
    int exponent = 7;
    for (int mask = 0x4000; (s & mask) == 0 && exponent > 0; mask >>= 1) {
        --exponent;
    }
    const int mantissa = (s >> (exponent + 3)) & 0x0F;
    return static_cast<std::uint8_t>(~(sign | exponent << 4 | mantissa));
}

std::int16_t ulawDecode(std::uint8_t code) {
    const int u = ~code & 0xFF;
    const int t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4);
    return static_cast<std::int16_t>((u & 0x80) != 0 ? 0x84 - t : t - 0x84);
}

Bytes analogRadioFrame(AnalogFlavour f, std::uint32_t i, const std::int16_t* pcm,
                       std::uint32_t talkgroup) {
    if (f == AnalogFlavour::Usrp) {
        Bytes d(kAnalogUsrpHeader + kAnalogSamples * 2, 0);
        std::memcpy(d.data(), "USRP", 4);
        putBe32(d, 4, i + 1);  // seq
        putBe32(d, 12, 1);     // keyup
        putBe32(d, 16, talkgroup);
        std::memcpy(d.data() + kAnalogUsrpHeader, pcm, kAnalogSamples * 2);  // host order
        return d;
    }
    Bytes d(12, 0);
    d[0] = 0x80;                                             // V 2, P 0, X 0, CC 0
    d[1] = static_cast<std::uint8_t>(i == 0 ? 0x80 : 0x00);  // M, PT 0 (PCMU)
    const auto seq = static_cast<std::uint16_t>(1000 + i);
    d[2] = static_cast<std::uint8_t>(seq >> 8);
    d[3] = static_cast<std::uint8_t>(seq);
    putBe32(d, 4, 160 * i);
    putBe32(d, 8, kAnalogRtpSsrc);
    for (std::size_t k = 0; k < kAnalogSamples; ++k) {
        d.push_back(ulawEncode(pcm[k]));
    }
    return d;
}

std::optional<Bytes> analogRadioUnkey(AnalogFlavour f, std::uint32_t frames) {
    if (f != AnalogFlavour::Usrp) {
        return std::nullopt;
    }
    Bytes d(kAnalogUsrpHeader, 0);
    std::memcpy(d.data(), "USRP", 4);
    putBe32(d, 4, frames + 1);
    return d;
}

std::optional<std::vector<std::int16_t>> analogRadioRead(AnalogFlavour f, ByteView d) {
    std::vector<std::int16_t> pcm(kAnalogSamples);
    if (f == AnalogFlavour::Usrp) {
        if (d.size() != kAnalogUsrpHeader + kAnalogSamples * 2 ||
            std::memcmp(d.data(), "USRP", 4) != 0 || getBe32(d, 12) != 1 || getBe32(d, 20) != 0) {
            return std::nullopt;  // not a keyed voice packet (type 0 = voice)
        }
        std::memcpy(pcm.data(), d.data() + kAnalogUsrpHeader, kAnalogSamples * 2);
        return pcm;
    }
    if (d.size() != 12 + kAnalogSamples || d[0] != 0x80 || (d[1] & 0x7F) != 0) {
        return std::nullopt;
    }
    for (std::size_t k = 0; k < kAnalogSamples; ++k) {
        pcm[k] = ulawDecode(d[12 + k]);
    }
    return pcm;
}

}  // namespace iwf::harness
