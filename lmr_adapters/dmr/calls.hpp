#pragma once
// DMR streams <-> engine events, without sockets (the links own the sockets):
//   CallDecoder: DMRD packets of one link -> CallSetup / Voice / CallEnd events. The crypto
//     of a call comes from the stream itself: the PI header (ALGID, key ID, IV) and the
//     privacy bit of the LC (header or embedded LC).
//   CallEncoder: events from the engine -> DMRD packets (voice LC header, PI header, the
//     voice bursts exactly as received, terminator with LC).

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/events.hpp"
#include "common/result.hpp"
#include "lmr_adapters/dmr/burst.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"
#include "lmr_adapters/dmr/talker_alias.hpp"

namespace iwf::lmr::dmr {

// What the decoder learned from one packet (also used by `iwfctl decode hbp`).
struct BurstInfo {
    std::optional<SlotType> slot_type;
    std::optional<Emb> emb;
    SyncPattern sync = SyncPattern::None;
    std::optional<PiHeader> pi;
    std::optional<FullLc> lc;           // header / terminator LC
    std::optional<FullLc> embedded_lc;  // completed embedded LC (decoder only)
    unsigned corrected = 0;
};
// Decodes the metadata of one burst (no stream state). Voice bursts: sync or EMB; data
// bursts: slot type, BPTC and the PI header / full LC where the data type has one.
Result<BurstInfo> inspectBurst(const DmrdPacket& p);

class CallDecoder {
  public:
    struct Stats {
        std::uint64_t lost_packets = 0;  // sequence gaps seen
        std::uint64_t lost_frames = 0;   // voice slots skipped (sequence gap or burst index jump)
        std::uint64_t duplicates = 0;    // voice packet repeated (same sequence and burst): dropped
        std::uint64_t aliases = 0;       // talker aliases decoded
    };

    // Feeds one packet received from `peer_id`; appends the events it produces. An error
    // means the packet's burst metadata could not be decoded, or "duplicate": the same voice
    // packet again, dropped (the caller counts either); voice bursts are still reported when
    // only their EMB is damaged (payload is opaque).
    Status onPacket(const DmrdPacket& p, std::int64_t now_ns, std::vector<Event>& out);
    // Ends streams silent for longer than `timeout_ns` (CallEnd Timeout).
    void expire(std::int64_t now_ns, std::int64_t timeout_ns, std::vector<Event>& out);
    // Ends every stream of `peer_id` (or all when nullopt) with `reason`.
    void endAll(std::optional<std::uint32_t> peer_id, EndReason reason, std::vector<Event>& out);
    // A talker alias block a peer sent outside the bursts (MMDVMHost's DMRA: source ID, block
    // 0..3, the 7 alias bytes). Learned like one from the embedded LC.
    void onTalkerAliasBlock(std::uint32_t src, std::uint8_t block, ByteView bytes7);
    // The talker alias learned for a radio ID (embedded LC FLCO 4..7 or DMRA), if any. A call
    // set up after it was learned carries it as CallSetup.caller.alias.
    std::optional<std::string> aliasOf(std::uint32_t src) const;
    std::size_t activeStreams() const { return streams_.size(); }
    const Stats& stats() const { return stats_; }

  private:
    struct Stream {
        CallRef ref = 0;
        std::uint32_t stream_id = 0;
        std::uint32_t src = 0;
        std::uint32_t dst = 0;
        bool unit_call = false;
        bool setup_sent = false;
        std::optional<FullLc> lc;
        std::optional<PiHeader> pi;
        bool privacy = false;
        // Voice slots counted from slot A of the stream's first superframe: burst n of
        // superframe s is slot 6s + n. A frame's position follows from the DMRD sequence
        // number and its burst index, so a gap of any length keeps later frames in place.
        std::uint64_t last_slot = 0;
        std::uint64_t first_slot = 0;
        int last_voice = -1;  // burst index of the last voice packet, -1 before one
        std::uint8_t last_voice_seq = 0;
        unsigned data_since_voice = 0;  // data bursts of the stream since the last voice
        std::uint8_t last_seq = 0;
        bool have_seq = false;
        std::int64_t last_rx_ns = 0;
        EmbeddedLcAssembler emb_lc;
        TalkerAliasAssembler alias;    // FLCO 4..7 in the embedded LC
        std::optional<Voice> pending;  // late-entry burst A held until the EMB of burst B
    };
    // Radio ID -> talker alias. Bounded: cleared when full (an attacker sending aliases for
    // many IDs costs at most kMaxAliases strings).
    static constexpr std::size_t kMaxAliases = 4096;
    void learnAlias(std::uint32_t src, std::string alias);
    using Key = std::tuple<std::uint32_t, std::uint8_t>;  // peer, slot

    CryptoSync cryptoOf(const Stream& s) const;
    // The voice slot of burst `idx` arriving with sequence number `seq`; nullopt for a
    // duplicate of the last voice packet.
    std::optional<std::uint64_t> placeVoice(const Stream& s, std::uint8_t seq,
                                            std::uint8_t idx) const;
    void emitSetup(Stream& s, std::vector<Event>& out);
    void flushPending(Stream& s, std::vector<Event>& out);

    std::map<Key, Stream> streams_;
    CallRef next_ref_ = 1;
    Stats stats_;
    std::unordered_map<std::uint32_t, std::string> aliases_;
    std::unordered_map<std::uint32_t, TalkerAliasAssembler> dmra_;  // DMRA blocks by source
};

struct EncoderConfig {
    std::uint32_t repeater_id = 0;  // DMRD bytes 11..14 of what we send
    std::uint8_t slot = 1;
    std::uint8_t color_code = 1;
    unsigned lc_headers = 3;  // voice LC header bursts sent at call start
};

class CallEncoder {
  public:
    explicit CallEncoder(EncoderConfig cfg, std::uint64_t seed = std::random_device{}());

    // CallSetup / Voice / CallEnd -> packets to send (others: "unsupported_event").
    Result<std::vector<DmrdPacket>> onEvent(const Event& e);
    std::size_t activeCalls() const { return calls_.size(); }

  private:
    struct Call {
        std::uint32_t stream_id = 0;
        std::uint8_t seq = 0;
        FullLc lc;
        bool unit_call = false;
        std::optional<CryptoSync> crypto;
        EmbeddedFragments emb{};
    };
    DmrdPacket base(Call& c, FrameType ft, std::uint8_t dv);

    EncoderConfig cfg_;
    std::mt19937 rng_;
    std::map<CallRef, Call> calls_;
};

}  // namespace iwf::lmr::dmr
