#pragma once
// The 33-byte (264-bit) DMR burst carried in a DMRD packet, and the metadata that lives in
// it (ETSI TS 102 361-1 §9.1, §9.3, §7.1, §7.2; TS 102 361-2 §7.1.1 for the full LC):
//
//   data burst:  info[0..97] | slot type[0..9] | SYNC 48 bits | slot type[10..19] | info[98..195]
//   voice burst: voice 108 bits | SYNC 48 bits (burst A) or EMB 8 + embedded 32 + EMB 8
//                (bursts B..F) | voice 108 bits
//
// Voice bits are opaque: they are split off and put back bit-exact, never decoded.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/bytes.hpp"
#include "common/result.hpp"
#include "lmr_adapters/dmr/fec.hpp"

namespace iwf::lmr::dmr {

inline constexpr std::size_t kBurstBytes = 33;
using Burst = std::array<std::uint8_t, kBurstBytes>;

// TS 102 361-1 table 9.2 (48-bit sync patterns).
enum class SyncPattern : std::uint8_t {
    None = 0,
    BsVoice,
    BsData,
    MsVoice,
    MsData,
    MsRc,
    Ts1Voice,  // direct mode time slot 1
    Ts1Data,
    Ts2Voice,
    Ts2Data,
};
std::string_view toString(SyncPattern s);
std::uint64_t syncPatternBits(SyncPattern s);
bool isVoiceSync(SyncPattern s);
bool isDataSync(SyncPattern s);
std::uint64_t syncField(const Burst& b);  // bits 108..155
// The pattern within `max_errors` bit errors of the field (closest wins), or None.
SyncPattern identifySync(std::uint64_t field48, unsigned max_errors = 4);
void setSync(Burst& b, SyncPattern s);

// Slot type data types (TS 102 361-1 table 6.11).
enum class DataType : std::uint8_t {
    PiHeader = 0,
    VoiceLcHeader = 1,
    TerminatorWithLc = 2,
    Csbk = 3,
    MbcHeader = 4,
    MbcContinuation = 5,
    DataHeader = 6,
    Rate12Data = 7,
    Rate34Data = 8,
    Idle = 9,
    Rate1Data = 10,
    UnifiedSingleBlock = 11,
};
std::string_view toString(DataType t);
// Data types whose info field is BPTC(196,96) coded.
bool usesBptc(std::uint8_t data_type);

struct SlotType {
    std::uint8_t color_code = 0;  // 4 bits
    std::uint8_t data_type = 0;   // 4 bits
    unsigned corrected = 0;
};
Result<SlotType> decodeSlotType(const Burst& b);
void encodeSlotType(Burst& b, std::uint8_t color_code, std::uint8_t data_type);

// EMB (TS 102 361-1 §9.1.2): CC 4, PI 1, LCSS 2, QR(16,7,6) parity 9.
enum class Lcss : std::uint8_t { Single = 0, First = 1, Last = 2, Continuation = 3 };
struct Emb {
    std::uint8_t color_code = 0;
    bool pi = false;
    std::uint8_t lcss = 0;
    unsigned corrected = 0;
};
Result<Emb> decodeEmb(const Burst& b);
void encodeEmb(Burst& b, const Emb& e);
std::array<std::uint8_t, 4> embeddedFragment(const Burst& b);  // bits 116..147
void setEmbeddedFragment(Burst& b, const std::array<std::uint8_t, 4>& f);

Bits196 extractInfo(const Burst& b);
void insertInfo(Burst& b, const Bits196& bits);

// Voice burst halves: 216 vocoder bits (3 x 72-bit AMBE frames) and the 48-bit middle field.
struct VoiceParts {
    std::array<std::uint8_t, 27> ambe{};
    std::array<std::uint8_t, 6> middle{};
};
VoiceParts splitVoiceBurst(const Burst& b);
Burst joinVoiceBurst(ByteView ambe27, ByteView middle6);

// Full link control (TS 102 361-2 §7.1.1): 72 bits.
inline constexpr std::uint8_t kFlcoGroup = 0x00;       // Grp_V_Ch_Usr
inline constexpr std::uint8_t kFlcoUnitToUnit = 0x03;  // UU_V_Ch_Usr
inline constexpr std::uint8_t kSvcEmergency = 0x80;
inline constexpr std::uint8_t kSvcPrivacy = 0x40;
inline constexpr std::uint8_t kSvcBroadcast = 0x08;
inline constexpr std::uint8_t kSvcOvcm = 0x04;
inline constexpr std::uint8_t kSvcPriorityMask = 0x03;

struct FullLc {
    bool protect = false;   // PF
    std::uint8_t flco = 0;  // 6 bits
    std::uint8_t fid = 0;   // feature set ID
    std::uint8_t service_options = 0;
    std::uint32_t dst = 0;  // 24 bits: group or unit
    std::uint32_t src = 0;  // 24 bits
    bool privacy() const { return (service_options & kSvcPrivacy) != 0; }
    bool emergency() const { return (service_options & kSvcEmergency) != 0; }
    bool operator==(const FullLc&) const = default;
};
FullLc parseFullLc(ByteView lc9);
std::array<std::uint8_t, 9> serializeFullLc(const FullLc& lc);

// Privacy indicator header (data type 0): 96 bits, CRC-CCITT masked 0x6969.
struct PiHeader {
    bool group = true;                 // byte 0 bit 5
    std::uint8_t algid = 0;            // byte 0 bits 2..0
    std::uint8_t fid = 0;              // byte 1
    std::uint8_t key_id = 0;           // byte 2
    std::array<std::uint8_t, 4> iv{};  // bytes 3..6
    std::uint32_t dst = 0;             // bytes 7..9
    std::uint8_t reserved0 = 0;        // byte 0 bits 7,6,4,3 as received (copied back bit-exact)
    bool operator==(const PiHeader&) const = default;
};
PiHeader parsePiHeader(ByteView block12);
std::array<std::uint8_t, 12> buildPiHeaderBlock(const PiHeader& pi);

// A data burst decoded down to its 96 information bits (BPTC types only).
struct DataBurst {
    SlotType slot_type;
    SyncPattern sync = SyncPattern::None;
    std::array<std::uint8_t, 12> info{};
    unsigned corrected = 0;  // slot type + BPTC bit corrections
};
Result<DataBurst> decodeDataBurst(const Burst& b);

Result<PiHeader> decodePiHeader(const DataBurst& d);
// Voice LC header (RS mask 0x96) or terminator with LC (RS mask 0x99).
Result<FullLc> decodeFullLc(const DataBurst& d);

Burst buildPiHeaderBurst(const PiHeader& pi, std::uint8_t color_code, SyncPattern sync);
Burst buildFullLcBurst(const FullLc& lc, DataType type, std::uint8_t color_code, SyncPattern sync);

// Collects embedded LC fragments of bursts B..E (LCSS first, continuation, continuation,
// last) and decodes the LC when the fourth arrives.
class EmbeddedLcAssembler {
  public:
    // Returns a result when a sequence completed (LC or the error that spoiled it).
    // The LC's FLCO may be anything (voice LC 0 / 3, talker alias 4..7, GPS 8, ...): the
    // caller decides (only 0 and 3 are a voice LC).
    std::optional<Result<FullLc>> feed(const Emb& emb, const std::array<std::uint8_t, 4>& frag);
    void reset() { count_ = 0; }
    // The 9 bytes of the LC the last successful feed() returned.
    const std::array<std::uint8_t, 9>& lastLc() const { return last_lc_; }

  private:
    EmbeddedFragments frags_{};
    std::size_t count_ = 0;
    std::array<std::uint8_t, 9> last_lc_{};
};

}  // namespace iwf::lmr::dmr
