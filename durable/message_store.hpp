#pragma once
// The MessageStore back ends (common/message_store.hpp): SQLite (the default: one file) and
// PostgreSQL (shared by several instances; the HA work of issue #17 builds on it). One table:
//
//   iwf_messages(seq PK, owner, epoch, link, side, message_id, kind, body, state, attempts,
//                accepted_at_ms, delivered_at_ms, UNIQUE(link, message_id))
//
// state: pending -> delivered | failed. body: the event as JSON (event_json.hpp). `owner` is the
// accepting instance; takePending() returns only its own rows. `epoch` is 0 until a cluster
// lease gives one (#17): every write then carries it and the store refuses an older one.
// Control plane: openMessageStore() throws std::runtime_error naming the store.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/message_store.hpp"

namespace iwf::durable {

// HA (docs/ha.md "Fencing writes"): the cluster this instance belongs to and the fencing epoch
// it holds now (0: none). With it (PostgreSQL only), every write carries the epoch and calls
// iwf_fence_check(cluster, epoch) in the same statement, so the database refuses it (Error
// "fenced") when a newer epoch exists; rows carry the cluster, and takePending() takes the
// pending rows of the whole cluster (the new active instance delivers what the old one
// accepted). The function and the lease table are created by gateway/cluster (LeaseStore),
// which the daemon opens first.
struct Fencing {
    std::string cluster;
    std::function<std::int64_t()> epoch;
};

// spec: "sqlite:PATH" or "postgresql://..." ("postgres://" too). owner: the instance name.
// `fencing` with a SQLite spec throws (a SQLite file cannot be shared by a cluster).
std::unique_ptr<MessageStore> openMessageStore(const std::string& spec, const std::string& owner,
                                               std::optional<Fencing> fencing = std::nullopt);

}  // namespace iwf::durable
