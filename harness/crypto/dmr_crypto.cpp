#include "harness/crypto/dmr_crypto.hpp"

namespace iwf::harness {

std::uint32_t dmrLfsrStep(std::uint32_t s) {
    const std::uint32_t fb = ((s >> 31) ^ (s >> 21) ^ (s >> 1) ^ s) & 1U;
    return (s << 1) | fb;
}

std::array<std::uint8_t, 16> dmrAesIv(std::uint32_t iv32) {
    std::array<std::uint8_t, 16> iv{};
    std::uint32_t s = iv32;
    for (std::size_t bit = 0; bit < 128; ++bit) {
        const std::uint8_t out = static_cast<std::uint8_t>((s >> 31) & 1U);
        iv[bit / 8] = static_cast<std::uint8_t>(iv[bit / 8] | (out << (7 - bit % 8)));
        s = dmrLfsrStep(s);
    }
    return iv;
}

std::uint32_t dmrNextIv(std::uint32_t iv32) {
    std::uint32_t s = iv32;
    for (int i = 0; i < 32; ++i) {
        s = dmrLfsrStep(s);
    }
    return s;
}

void DmrKeystream::applyVoice(std::uint8_t burst_index, MutableByteView ambe27) const {
    if (burst_index > 5 || ambe27.size() < kDmrVoiceBytes) {
        return;
    }
    const std::size_t off = std::size_t{burst_index} * kDmrVoiceBytes;
    for (std::size_t i = 0; i < kDmrVoiceBytes; ++i) {
        ambe27[i] ^= bytes[off + i];
    }
}

Result<DmrKeystream> dmrKeystream(const Aes256Key& key, std::uint32_t iv32) {
    auto raw = aes256OfbKeystream(key, dmrAesIv(iv32), 16 + kDmrSuperframeKeystream);
    if (!raw.ok()) {
        return raw.error();
    }
    DmrKeystream ks;
    std::copy_n(raw->begin() + 16, kDmrSuperframeKeystream, ks.bytes.begin());
    return ks;
}

std::uint32_t DmrVoiceCipher::ivOf(std::uint32_t superframe) const {
    std::uint32_t iv = first_iv_;
    for (std::uint32_t i = 0; i < superframe; ++i) {
        iv = dmrNextIv(iv);
    }
    return iv;
}

Status DmrVoiceCipher::applyBurst(std::uint32_t superframe, std::uint8_t burst_index,
                                  lmr::dmr::Burst& b) {
    return applyBurstWithIv(ivOf(superframe), burst_index, b);
}

Status DmrVoiceCipher::applyBurstWithIv(std::uint32_t iv32, std::uint8_t burst_index,
                                        lmr::dmr::Burst& b) {
    if (burst_index > 5) {
        return Error{"bad_index", burst_index};
    }
    if (!cached_ || cached_iv_ != iv32) {
        auto ks = dmrKeystream(key_, iv32);
        if (!ks.ok()) {
            return ks.error();
        }
        ks_ = *ks;
        cached_iv_ = iv32;
        cached_ = true;
    }
    lmr::dmr::VoiceParts parts = lmr::dmr::splitVoiceBurst(b);
    ks_.applyVoice(burst_index, parts.ambe);
    b = lmr::dmr::joinVoiceBurst(parts.ambe, parts.middle);
    return Status::success();
}

}  // namespace iwf::harness
