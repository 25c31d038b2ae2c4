#pragma once
// DataMessage / SecurityMessage <-> JSON text, the `body` of a stored message. Addresses keep
// their type and every field, payloads and MI as hex: a message read back is equal to the one
// written (tests/unit/durable).

#include <optional>
#include <string>

#include "common/events.hpp"

namespace iwf::durable {

// "sds" or "kmm"; nullopt for an event that is not a message.
std::optional<std::string> messageKind(const Event& e);
std::string eventToJson(const Event& e);
// Throws std::runtime_error on a body it cannot read.
Event eventFromJson(const std::string& text);

}  // namespace iwf::durable
