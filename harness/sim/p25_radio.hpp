#pragma once
// Simulated P25 radio on the open-network record set (records peer): builds a whole
// transmission as the datagrams MMDVMHost (through P25Gateway) sends — poll, 18 voice records
// per superframe byte for byte as P25Network.cpp writeLDU1/writeLDU2 write them (no header,
// service options byte 0: only the LDU2 ES says "encrypted"), end record — with every IMBE
// codeword AES-256-OFB encrypted per TIA-102.AAAD (harness/crypto/p25_crypto.hpp) and the
// LDU2 ES announcing the next MI.
//
// Each plaintext IMBE codeword is a unique canary: "CNY" | radio tag | superframe (4) |
// frame index | 2-byte session nonce. The radio remembers what it sent so the far end's
// decrypted output can be compared frame by frame, and exports every canary and its key for
// the opacity scan.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/voice.hpp"
#include "harness/crypto/p25_crypto.hpp"
#include "harness/opacity/scanner.hpp"
#include "lmr_adapters/p25/records.hpp"

namespace iwf::harness {

using Imbe11 = std::array<std::uint8_t, 11>;

struct P25RadioConfig {
    std::string name = "radio-1";
    std::string callsign = "HARNESS1";
    std::uint8_t tag = 1;  // distinguishes radios in canaries
    std::uint32_t unit = 1001;
    std::uint16_t tgid = 100;
    bool encrypted = true;
    Aes256Key key{};
    std::uint16_t key_id = 1;
    lmr::p25::Mi first_mi{};
    bool emergency = false;        // service options 0x80 in the 0x64 record (a DFSI peer's way)
    bool service_options = false;  // also 0x40 "encrypted" there (DFSI peer, not MMDVMHost)
    std::uint16_t nonce = 0;       // session nonce in the canaries
};

// Plaintext canary of frame (superframe, index) of radio `tag`.
Imbe11 p25Canary(std::uint8_t tag, std::uint16_t nonce, std::uint32_t superframe,
                 std::uint8_t index);

class P25Radio {
  public:
    explicit P25Radio(P25RadioConfig cfg);

    const P25RadioConfig& config() const { return cfg_; }
    Bytes poll() const;
    // The voice records of superframe `sf` (18 datagrams), encrypted when configured.
    Result<std::vector<Bytes>> superframe(std::uint32_t sf);
    Bytes end() const;

    // The CryptoSync a far end must see for superframe sf (ALGID/KID/MI bit-exact).
    CryptoSync cryptoOf(std::uint32_t sf) const;
    // What was sent: plaintext per (superframe, index).
    const std::map<std::pair<std::uint32_t, std::uint8_t>, Imbe11>& sent() const { return sent_; }
    // Adds every sent canary and the key to `set` when the radio encrypts (labels never
    // contain the secret); a clear transmission adds nothing.
    void addNeedles(NeedleSet& set) const;

  private:
    P25RadioConfig cfg_;
    P25VoiceCipher cipher_;
    std::map<std::pair<std::uint32_t, std::uint8_t>, Imbe11> sent_;
};

// The MC-client side: decrypts P25 IMBE frames it received (as VoiceFrames, e.g. out of the
// X-IWF-LMR RTP payload) with the keys of the scenario file, using only what the frame carries
// (CryptoSync MI, position). Errors: "no_mi" (late entry: the frame cannot be decrypted yet),
// "unknown_key", "not_p25", "bad_length".
class P25Decryptor {
  public:
    void addKey(std::uint16_t key_id, const Aes256Key& key) { keys_[key_id] = key; }
    Result<Imbe11> decrypt(const VoiceFrame& f);

  private:
    std::map<std::uint16_t, Aes256Key> keys_;
    std::map<std::uint16_t, P25VoiceCipher> ciphers_;
};

}  // namespace iwf::harness
