#pragma once
// Simulated DMR radio (HBP / DMRD, ETSI TS 102 361): a transmission is a voice LC header
// with the privacy service option, a PI header (ALGID 5 = AES-256, key ID, 32-bit IV), voice
// superframes A..F whose 216 vocoder bits are AES-256 encrypted
// (harness/crypto/dmr_crypto.hpp), EMB PI = 1 and the embedded LC in bursts B..E, and a
// terminator with LC: the shape MMDVMHost forwards with [DMR] Protect=1 (one LC header, the
// PI header, bursts A..F, terminator; tests/unit/lmr_dmr/mmdvm_voice_golden_test.cpp).
//
// Each burst's plaintext vocoder field (27 bytes) is a unique canary: "CNYD" | radio tag |
// superframe (4) | burst index | nonce (2) | 16 pattern bytes derived from the same values.

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/voice.hpp"
#include "harness/crypto/dmr_crypto.hpp"
#include "harness/opacity/scanner.hpp"
#include "lmr_adapters/dmr/data.hpp"
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
    // Packet data (sendData / receiveData): SAP of short data and of the KMM tunnel. The KMM
    // SAP must match the gateway link's `kmm: {sap: N}`.
    std::uint8_t data_sap = lmr::dmr::kSapShortData;
    std::uint8_t kmm_sap = lmr::dmr::kSapProprietary;
};

// A packet data message the radio received (see DmrRadio::receiveData).
struct DmrDataReceived {
    Address from;      // DmrUnit
    Address to;        // DmrUnit or DmrGroup
    Bytes payload;     // exactly the user data of the PDU
    bool kmm = false;  // arrived on the KMM SAP
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

    // --- packet data (lmr_adapters/dmr/data.hpp; docs/protocols/dmr-hbp.md "Packet data") ---
    // One unconfirmed rate 1/2 PDU from this radio (cfg.src) to `to` (DmrUnit or DmrGroup):
    // a data header packet then one packet per block, on cfg.slot, with a fresh stream ID.
    // kmm = true sends on cfg.kmm_sap (the gateway reports a SecurityMessage), else on
    // cfg.data_sap (a DataMessage). `bytes` are sent exactly as given.
    // Errors: "unsupported_address", "oversize" (> 1520 bytes).
    Result<std::vector<lmr::dmr::DmrdPacket>> sendData(const Address& to, ByteView bytes,
                                                       bool kmm = false);
    // Called once per complete, CRC-valid PDU given to receiveData().
    void onData(std::function<void(const DmrDataReceived&)> cb) { on_data_ = std::move(cb); }
    // Feed every DMRD packet received from the gateway (voice packets are ignored here).
    // Returns the reasons of inputs dropped by this packet (bad CRC, missing blocks, ...).
    std::vector<std::string_view> receiveData(const lmr::dmr::DmrdPacket& p, std::int64_t now_ns);

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
    lmr::dmr::DataReceiver data_rx_;
    std::mt19937_64 data_seed_;
    std::function<void(const DmrDataReceived&)> on_data_;
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
