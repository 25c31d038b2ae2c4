#pragma once
// Simulated DMR radio (HBP / DMRD, ETSI TS 102 361): a transmission is a voice LC header
// with the privacy service option, a PI header (ALGID 5 = AES-256, key ID, 32-bit IV), voice
// superframes A..F whose 216 vocoder bits are AES-256 encrypted
// (harness/crypto/dmr_crypto.hpp) and EMB PI = 1, and a terminator with LC.
//
// Each burst's plaintext vocoder field (27 bytes) is a unique canary: "CNYD" | radio tag |
// superframe (4) | burst index | nonce (2) | 16 pattern bytes derived from the same values.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "gateway/common/bytes.hpp"
#include "gateway/common/crypto.hpp"
#include "gateway/common/voice.hpp"
#include "harness/crypto/dmr_crypto.hpp"
#include "harness/opacity/scanner.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"

namespace iwf::harness {

using Ambe27 = std::array<std::uint8_t, kDmrVoiceBytes>;

struct DmrRadioConfig {
    std::string name = "dmr-radio-1";
    std::uint8_t tag = 1;
    std::uint32_t src = 2001;
    std::uint32_t dst = 91;  // talkgroup
    std::uint32_t repeater_id = 310001;
    std::uint8_t slot = 1;
    std::uint8_t color_code = 1;
    bool encrypted = true;
    Aes256Key key{};
    std::uint8_t key_id = 1;
    std::uint32_t first_iv = 0x12345678;
    bool emergency = false;
    std::uint16_t nonce = 0;
    std::uint32_t stream_id = 0xCAFE0001;
};

Ambe27 dmrCanary(std::uint8_t tag, std::uint16_t nonce, std::uint32_t superframe,
                 std::uint8_t burst);

class DmrRadio {
  public:
    explicit DmrRadio(DmrRadioConfig cfg);
    const DmrRadioConfig& config() const { return cfg_; }

    // Voice LC header + PI header (when encrypted).
    std::vector<lmr::dmr::DmrdPacket> start();
    // Bursts A..F of superframe sf.
    Result<std::vector<lmr::dmr::DmrdPacket>> superframe(std::uint32_t sf);
    lmr::dmr::DmrdPacket terminator();

    CryptoSync cryptoSync() const;  // what the far end must see (PI header fields)
    const std::map<std::pair<std::uint32_t, std::uint8_t>, Ambe27>& sent() const { return sent_; }
    void addNeedles(NeedleSet& set) const;

  private:
    lmr::dmr::DmrdPacket packet(lmr::dmr::FrameType ft, std::uint8_t dtype_vseq,
                                const lmr::dmr::Burst& b);
    lmr::dmr::FullLc lc() const;
    static std::array<std::uint8_t, 4> idBytesOf(std::uint32_t v);

    DmrRadioConfig cfg_;
    DmrVoiceCipher cipher_;
    std::uint8_t seq_ = 0;
    std::map<std::pair<std::uint32_t, std::uint8_t>, Ambe27> sent_;
};

// MC-client side: decrypts a DMR voice frame (payload = 27 vocoder bytes, side = the 6 middle
// bytes) with the IV of the PI header it carries and its superframe position.
// Errors: "no_mi", "unknown_key", "not_dmr", "bad_length".
class DmrDecryptor {
  public:
    void addKey(std::uint8_t key_id, const Aes256Key& key) { keys_[key_id] = key; }
    Result<Ambe27> decrypt(const VoiceFrame& f);

  private:
    std::map<std::uint8_t, Aes256Key> keys_;
};

}  // namespace iwf::harness
