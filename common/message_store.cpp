#include "common/message_store.hpp"

#include <random>

#include <fmt/format.h>

namespace iwf {

std::string newMessageId() {
    // std::random_device reads the kernel's getrandom() on Linux/glibc.
    static thread_local std::random_device rd;
    std::string s;
    for (int i = 0; i < 4; ++i) {
        s += fmt::format("{:08x}", static_cast<std::uint32_t>(rd()));
    }
    return s;
}

std::string kmmMessageId(const SecurityMessage& m) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (auto b : m.payload) {
        h = (h ^ b) * 0x100000001b3ULL;
    }
    return fmt::format("kmm-{:016x}", h);
}

std::string storedMessageId(const Event& e) {
    if (const auto* d = std::get_if<DataMessage>(&e)) {
        return d->message_id;
    }
    if (const auto* s = std::get_if<SecurityMessage>(&e)) {
        return kmmMessageId(*s);
    }
    return {};
}

}  // namespace iwf
