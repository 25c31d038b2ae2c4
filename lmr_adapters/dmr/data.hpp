#pragma once
// DMR packet data over HBP DMRD (ETSI TS 102 361-1 §9.2.6 / §9.3, TS 102 361-3), without
// sockets (the links own the sockets):
//   - the unconfirmed data header (U_HEAD, data type 6): BPTC(196,96), CRC-CCITT masked 0xCCCC;
//   - rate 1/2 unconfirmed data blocks (data type 7): BPTC(196,96), 12 octets of user data each;
//     the last block ends with the 32-bit message CRC over all user data and pad octets;
//   - DataReceiver: reassembles header + blocks per (peer, slot, stream ID) and reports a
//     DataMessage, or a SecurityMessage when the SAP is the link's configured KMM service;
//   - DataSender: DataMessage / SecurityMessage -> DMRD packets (header + blocks).
// Payload bytes are opaque: never interpreted, copied exactly. Layout and sources:
// docs/protocols/dmr-hbp.md, "Packet data".
//
// Not supported (refused and counted, see the protocol note): confirmed data ("unsupported_
// confirmed"), rate 3/4 and rate 1 blocks ("unsupported_rate"), short data / UDT / response /
// proprietary headers ("unsupported_format").

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/bytes.hpp"
#include "common/events.hpp"
#include "common/result.hpp"
#include "lmr_adapters/dmr/dmrd.hpp"

namespace iwf::lmr::dmr {

// Data packet format (DPF), TS 102 361-1 table 9.30 (header byte 0 bits 3..0).
inline constexpr std::uint8_t kDpfUdt = 0x0;
inline constexpr std::uint8_t kDpfResponse = 0x1;
inline constexpr std::uint8_t kDpfUnconfirmed = 0x2;
inline constexpr std::uint8_t kDpfConfirmed = 0x3;
inline constexpr std::uint8_t kDpfDefinedShort = 0xD;
inline constexpr std::uint8_t kDpfRawShort = 0xE;
inline constexpr std::uint8_t kDpfProprietary = 0xF;

// Service access points (header byte 1 bits 7..4).
inline constexpr std::uint8_t kSapUdt = 0;
inline constexpr std::uint8_t kSapTcpIpHc = 2;
inline constexpr std::uint8_t kSapUdpIpHc = 3;
inline constexpr std::uint8_t kSapIp = 4;
inline constexpr std::uint8_t kSapArp = 5;
inline constexpr std::uint8_t kSapProprietary = 9;
inline constexpr std::uint8_t kSapShortData = 10;

inline constexpr std::size_t kDataBlockBytes = 12;  // rate 1/2 unconfirmed block
inline constexpr std::size_t kMaxDataBlocks = 127;  // blocks to follow: 7 bits
// Largest payload one PDU carries: 127 blocks x 12 octets - 4 CRC octets.
inline constexpr std::size_t kMaxDataPayload = kMaxDataBlocks * kDataBlockBytes - 4;

using Block12 = std::array<std::uint8_t, kDataBlockBytes>;

// Unconfirmed data header (U_HEAD). Fields the gateway does not interpret are kept so a
// parsed header re-encodes bit-exact.
struct DataHeader {
    bool group = false;               // byte 0 bit 7: destination is a group
    bool response_requested = false;  // byte 0 bit 6
    std::uint8_t reserved0 = 0;       // byte 0 bit 5
    std::uint8_t dpf = kDpfUnconfirmed;
    std::uint8_t sap = kSapShortData;
    std::uint8_t pad_octets = 0;        // 5 bits: byte 0 bit 4 (MSB) + byte 1 bits 3..0
    std::uint32_t dst = 0;              // bytes 2..4 (LLID)
    std::uint32_t src = 0;              // bytes 5..7 (LLID)
    bool full_message = true;           // byte 8 bit 7
    std::uint8_t blocks_to_follow = 0;  // byte 8 bits 6..0
    std::uint8_t reserved9 = 0;         // byte 9 bits 7..4
    std::uint8_t fsn = 0;               // byte 9 bits 3..0: fragment sequence number
    bool operator==(const DataHeader&) const = default;
};

// The 12-octet header block: CRC checked ("bad_header_crc"). Any DPF is returned; callers
// decide what they support.
Result<DataHeader> parseDataHeader(ByteView block12);
Block12 buildDataHeaderBlock(const DataHeader& h);

// 32-bit message CRC (TS 102 361-1 B.3.9): polynomial 0x04C11DB7, register preset 0, no final
// inversion, the octets fed in pairs with the odd octet first (1, 0, 3, 2, ...); `octets` must
// have an even length. Stored in the last four octets least significant octet first.
std::uint32_t dataCrc32(ByteView octets);

// Blocks needed for `payload_len` octets (+ pad + CRC), and the pad count.
std::size_t dataBlocksFor(std::size_t payload_len);

struct DataPdu {
    DataHeader header;
    std::vector<Block12> blocks;
};
// Header + rate 1/2 blocks for `payload` ("oversize" above kMaxDataPayload). Header fields
// other than group/sap/src/dst are set here (DPF unconfirmed, pad, F = 1, blocks to follow).
Result<DataPdu> buildDataPdu(bool group, std::uint8_t sap, std::uint32_t src, std::uint32_t dst,
                             ByteView payload);
// Checks the message CRC and strips pad + CRC. Errors: "missing_blocks" (count differs from
// blocks to follow), "bad_pad" (pad count larger than the data), "bad_crc".
Result<Bytes> extractDataPayload(const DataHeader& h, const std::vector<Block12>& blocks);

// DMRD burst <-> 12 info octets for data types 6 and 7.
Burst buildDataBurst(const Block12& block, std::uint8_t data_type, std::uint8_t color_code);

struct KmmService {
    std::uint8_t sap = kSapProprietary;
};

struct DataConfig {
    std::uint8_t out_sap = kSapShortData;  // SAP of DataMessages we send
    std::optional<KmmService> kmm;         // SAP that carries the KMM tunnel, if any
    std::chrono::milliseconds timeout{3000};
    std::size_t max_bytes = kMaxDataPayload;
    std::size_t max_pending = 256;  // PDUs being reassembled at once
};

// True for DMRD packets that belong to the data path (data sync, data types 6, 7, 8, 10).
bool isDataPacket(const DmrdPacket& p);

class DataReceiver {
  public:
    explicit DataReceiver(DataConfig cfg) : cfg_(cfg) {}

    // Feeds one data packet; completed messages are appended to `out`, every input dropped
    // appends its reason to `drops` (the caller counts them by peer).
    void onPacket(const DmrdPacket& p, std::int64_t now_ns, std::vector<Event>& out,
                  std::vector<std::string_view>& drops);
    // Drops PDUs older than the reassembly timeout ("timeout"); `peers`, when given, gets the
    // peer ID of each one (same order as `drops`).
    void expire(std::int64_t now_ns, std::vector<std::string_view>& drops,
                std::vector<std::uint32_t>* peers = nullptr);
    // Forgets the PDUs of `peer_id` (or all) without counting (link down).
    void clear(std::optional<std::uint32_t> peer_id);
    std::size_t pending() const { return pending_.size(); }
    const DataConfig& config() const { return cfg_; }

  private:
    struct Pending {
        DataHeader header;
        std::vector<Block12> blocks;
        std::int64_t started_ns = 0;
        std::uint8_t last_seq = 0;
    };
    using Key = std::tuple<std::uint32_t, std::uint8_t, std::uint32_t>;  // peer, slot, stream

    void complete(Pending& pd, std::vector<Event>& out, std::vector<std::string_view>& drops);

    DataConfig cfg_;
    std::map<Key, Pending> pending_;
};

struct DataSenderConfig {
    std::uint32_t repeater_id = 0;
    std::uint8_t slot = 1;
    std::uint8_t color_code = 1;
};

class DataSender {
  public:
    DataSender(DataSenderConfig link, DataConfig data, std::uint64_t seed = std::random_device{}());
    // DataMessage / SecurityMessage -> DMRD packets (fresh stream ID). Errors:
    // "unsupported_address" (from/to not DMR), "oversize", "no_kmm_service" (a
    // SecurityMessage on a link without `kmm`), "unsupported_event".
    Result<std::vector<DmrdPacket>> onEvent(const Event& e);

  private:
    Result<std::vector<DmrdPacket>> send(const Address& from, const Address& to, std::uint8_t sap,
                                         ByteView payload);
    DataSenderConfig link_;
    DataConfig data_;
    std::mt19937 rng_;
};

}  // namespace iwf::lmr::dmr
