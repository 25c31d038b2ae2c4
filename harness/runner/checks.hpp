#pragma once
// Far-end checks of one transmission at one receiver (pure: no I/O, no clock), used by the
// runner and unit-tested on their own so that a wrong key, an altered byte, a changed
// CryptoSync, a duplicate or a missing frame demonstrably fails a scenario.
//
// Rules (docs/harness.md "Checks"):
//  - every frame attributed to the transmission must decrypt at the receiver to exactly the
//    plaintext the sender recorded for the frame's (superframe, index), and carry the
//    sender's CryptoSync bit-exact (ALGID, key ID, MI/IV, encrypted flag);
//  - a frame the receiver could not decrypt because it carries no MI ("no_mi": late entry
//    before the next sync point) is counted, not a failure: nothing garbled is shown (whether
//    a frame that should have been decoded was not is caught by the "missing" rule);
//  - any other undecodable or garbled frame in the transmission's window is a failure;
//  - no position twice; every sent position from the first sync superframe on (and, for a
//    late joiner, from its first frame on) that the harness did not drop must arrive.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.hpp"
#include "common/crypto.hpp"
#include "common/voice.hpp"

namespace iwf::harness {

using FrameKey = std::pair<std::uint32_t, std::uint8_t>;  // (superframe, index)

struct SentFrame {
    Bytes plaintext;
    CryptoSync crypto;
    std::int64_t tx_ns = 0;
};

struct RxFrame {
    FramePosition pos;
    CryptoSync crypto;
    bool decrypted = false;
    std::string error;  // decryptor error when !decrypted
    Bytes plaintext;
    std::int64_t rx_ns = 0;
};

struct ReceiverCheck {
    std::size_t expected = 0;
    std::size_t received = 0;      // frames attributed to the transmission
    std::size_t decrypted_ok = 0;  // plaintext and CryptoSync equal to what was sent
    std::size_t before_sync = 0;   // "no_mi" frames (late entry, nothing garbled)
    std::size_t bad = 0;           // garbled, wrong CryptoSync, unknown position, duplicate
    std::size_t missing = 0;
    std::optional<FrameKey> first_ok;  // first correctly decoded frame
    std::int64_t first_ok_rx_ns = 0;
    std::vector<double> latency_us;  // per correctly decoded frame: rx - tx
    std::vector<std::string> problems;
    bool ok() const { return bad == 0 && missing == 0 && expected > 0 && decrypted_ok > 0; }
};

struct CheckOptions {
    std::uint32_t sync_superframe = 0;  // first superframe a receiver can decrypt
    bool late_joiner = false;           // expected frames start at the first one received
    std::set<FrameKey> dropped_by_harness;
    // An LMR radio has no superframe counter on the air: its receiver numbers superframes
    // from where it started listening. Its frames are placed by the decrypted canary's
    // superframe (the frame index must still match), so content and CryptoSync are checked
    // against the right sent frame. Needs `tag` / `nonce` of the sender.
    bool relative_superframe = false;
    std::uint8_t tag = 0;
    std::uint16_t nonce = 0;
};

// `rx`: frames attributed to this transmission (their plaintext is one of its canaries, or
// they could not be decoded and arrived in its time window), in arrival order.
ReceiverCheck checkReceiver(const std::map<FrameKey, SentFrame>& sent,
                            const std::vector<RxFrame>& rx, const CheckOptions& opt);

// The (superframe, index) a harness canary names, if `plaintext` is a canary of the sender
// with this tag and nonce (P25: 11 bytes "CNY"..., DMR: 27 bytes "CNYD"...).
std::optional<FrameKey> canaryPosition(ByteView plaintext, std::uint8_t tag, std::uint16_t nonce);
// Tag and nonce of any harness canary (for attributing a frame to its transmission).
std::optional<std::pair<std::uint8_t, std::uint16_t>> canaryOwner(ByteView plaintext);

}  // namespace iwf::harness
