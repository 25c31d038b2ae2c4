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

#include <memory>
#include <string>

#include "common/message_store.hpp"

namespace iwf::durable {

// spec: "sqlite:PATH" or "postgresql://..." ("postgres://" too). owner: the instance name.
std::unique_ptr<MessageStore> openMessageStore(const std::string& spec, const std::string& owner);

}  // namespace iwf::durable
