#pragma once
// MessageStore: the durable store of short data (SDS) and key-management (KMM) messages that
// iwfd acknowledges (docs/security.md "Nothing acknowledged is lost or falsely confirmed").
//
// A message is written here *before* it is acknowledged (SIP 2xx, delivery report) and marked
// delivered once the far side's link took it; what is pending at start is delivered again
// (at least once). (link, message ID) is unique: a retransmission is recognised and answered
// without a second delivery.
//
// The interface is in common/ (the ground) and the implementation in durable/ (SQLite or
// PostgreSQL) for the same reason as metrics::Registry: adapters (the MCData link persists an
// SDS before its 200 OK) must use it, adapters may only include common/, and the choice of back
// end is the daemon's. The daemon makes one store and hands it to links in LinkContext.
//
// Every row carries the writing instance (`owner`) and a fencing `epoch` (0 without a cluster):
// the HA work (issue #17) shares one PostgreSQL queue between two instances and refuses writes
// that carry an older epoch than the lease (docs/security.md, the schema in durable/).
//
// Calls block until the write is durable (SQLite: WAL, synchronous=FULL; PostgreSQL: COMMIT).
// Short data is rare next to voice; the cost is measured in docs/security.md.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/events.hpp"
#include "common/link.hpp"
#include "common/result.hpp"

namespace iwf {

struct StoredMessage {
    std::int64_t seq = 0;
    LinkId from;             // the link that accepted it
    std::string message_id;  // the sender's ID, or one iwfd gave it
    Event event;             // DataMessage or SecurityMessage
    int attempts = 0;        // deliveries tried after a restart
};

enum class StoreOutcome : std::uint8_t {
    Stored,     // new: acknowledge, then deliver
    Duplicate,  // (link, message ID) seen before: acknowledge again, deliver nothing
};

class MessageStore {
  public:
    virtual ~MessageStore() = default;
    // Durable before it returns. An error means: do not acknowledge (answer 500/503).
    virtual Result<StoreOutcome> accept(const LinkId& from, std::string_view message_id,
                                        const Event& message) = 0;
    // The far side's link took the message (deliver() succeeded): not delivered again.
    virtual Status delivered(std::string_view message_id) = 0;
    // Accepted by this instance, not delivered, and not tried since a moment (wall clock, ms
    // since the epoch) that depends on where the message came from: `lmr_retry_before_ms` for
    // messages from LMR links (delivered to the MC side, confirmed later by a 2xx),
    // `mc_retry_before_ms` for messages from MC links (delivered to LMR at once). Oldest first.
    // Each call counts an attempt and stamps it; a message tried `max_attempts` times is
    // marked failed instead.
    virtual Result<std::vector<StoredMessage>> takePending(int max_attempts,
                                                           std::int64_t lmr_retry_before_ms,
                                                           std::int64_t mc_retry_before_ms) = 0;
    // "sqlite:/var/lib/iwfd/messages.db", "postgresql://iwf@db/iwf" (password redacted).
    virtual std::string describe() const = 0;
};

// A message ID for short data whose sender gives none (LMR SDS): 128 random bits as 32 hex
// digits. The engine copies DataMessage::message_id to the message it delivers.
std::string newMessageId();
// The ID of a KMM (SecurityMessage has no ID field): "kmm-" + FNV-1a 64 of the opaque payload,
// which the engine copies unchanged to the far side. The same KMM sent twice is one message.
std::string kmmMessageId(const SecurityMessage& m);
// The ID under which `e` (DataMessage or SecurityMessage) is stored; empty for other events.
std::string storedMessageId(const Event& e);

}  // namespace iwf
