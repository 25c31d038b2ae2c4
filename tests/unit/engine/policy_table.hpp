#pragma once
// The E2EE policy's decision table, once: docs/engine.md "E2EE policy" has exactly these rows
// (tests/unit/engine/docs_test.cpp renders them and compares both ways), and
// tests/unit/engine/policy_test.cpp runs each of them against checkGroupPolicy /
// checkPrivatePolicy and through the engine. Words in the columns are a small vocabulary
// (streamOf() below); a word it does not know fails the test that uses it.
// tests/unit/keymap/policy_test.cpp runs the same rows on the groups and users of the example
// keymap (configs/keymap.example.yaml), through the keymap's snapshot and the engine's view of
// it, so the keymap's statement of a group and the engine's decision are tested as one.

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "common/crypto.hpp"
#include "gateway/engine/directory.hpp"

namespace iwf::gateway::engine::test {

struct PolicyRow {
    std::string_view call;     // "clear group", "secure group", "mixed group", "private call, ..."
    std::string_view stream;   // what the stream's CryptoSync says, relative to the group's
    std::string_view outcome;  // "accept", "refuse", "wait"
    std::string_view reason;   // refusal reason ("" unless refused)
};

inline constexpr std::string_view kEncGroups = "encrypted, the group's family, ALGID and key ID";
inline constexpr std::string_view kEncAny = "encrypted, any ALGID and key ID";
inline constexpr std::string_view kEncFamily = "encrypted, another family";
inline constexpr std::string_view kEncAlgid = "encrypted, another ALGID";
inline constexpr std::string_view kEncKey = "encrypted, another key ID";
inline constexpr std::string_view kEncUnknown = "encrypted, ALGID, key ID and MI not known yet";
inline constexpr std::string_view kClear = "clear";
inline constexpr std::string_view kClearFamily = "clear, another family";

inline constexpr PolicyRow kPolicyRows[] = {
    {"clear group", kClear, "accept", ""},
    {"clear group", kClearFamily, "accept", ""},
    {"clear group", kEncAny, "refuse", "encrypted_in_clear_group"},
    {"clear group", kEncUnknown, "refuse", "encrypted_in_clear_group"},
    {"secure group", kClear, "refuse", "clear_in_secure_group"},
    {"secure group", kClearFamily, "refuse", "clear_in_secure_group"},
    {"secure group", kEncGroups, "accept", ""},
    {"secure group", kEncFamily, "refuse", "family_mismatch"},
    {"secure group", kEncAlgid, "refuse", "algid_mismatch"},
    {"secure group", kEncKey, "refuse", "key_id_mismatch"},
    {"secure group", kEncUnknown, "wait", ""},
    {"mixed group", kClear, "accept", ""},
    {"mixed group", kClearFamily, "accept", ""},
    {"mixed group", kEncGroups, "accept", ""},
    {"mixed group", kEncFamily, "refuse", "family_mismatch"},
    {"mixed group", kEncAlgid, "refuse", "algid_mismatch"},
    {"mixed group", kEncKey, "refuse", "key_id_mismatch"},
    {"mixed group", kEncUnknown, "wait", ""},
    {"private call, E2EE allowed", kClear, "accept", ""},
    {"private call, E2EE allowed", kEncAny, "accept", ""},
    {"private call, E2EE allowed", kEncUnknown, "wait", ""},
    {"private call, E2EE not allowed", kClear, "accept", ""},
    {"private call, E2EE not allowed", kEncAny, "refuse", "e2ee_not_authorised"},
    {"private call, E2EE not allowed", kEncUnknown, "refuse", "e2ee_not_authorised"},
};

// The row as docs/engine.md writes it.
inline std::string markdownRow(const PolicyRow& r) {
    std::string reason = r.reason.empty() ? "" : "`" + std::string(r.reason) + "`";
    return "| " + std::string(r.call) + " | " + std::string(r.stream) + " | " +
           std::string(r.outcome) + " | " + reason + " |";
}

// gtest names a failing row by its markdown line, not its bytes.
inline void PrintTo(const PolicyRow& r, std::ostream* os) {
    *os << markdownRow(r);
}

// The group the engine fixture configures for the row's call (engine_fixture.hpp: TG 300
// clear, 100 secure, 400 mixed; secure and mixed with P25 ALGID 0x84, key ID 0x1111); nullopt
// for a private call.
inline std::optional<std::uint16_t> fixtureGroup(std::string_view call) {
    if (call == "clear group") {
        return 300;
    }
    if (call == "secure group") {
        return 100;
    }
    if (call == "mixed group") {
        return 400;
    }
    return std::nullopt;
}

// The security the engine fixture gives its secure and mixed groups (engine_fixture.hpp).
inline CryptoSync fixtureSecurity() {
    return CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0x1111);
}

// The stream's CryptoSync for a row, relative to the security `group` states (a secure or
// mixed group's family, ALGID and key ID; a clear group's family; for a private call any
// encrypted CryptoSync): "another ALGID" is the group's plus one, and so on. nullopt for a
// word outside the vocabulary.
inline std::optional<CryptoSync> streamOf(std::string_view stream,
                                          const CryptoSync& group = fixtureSecurity()) {
    const LmrFamily f = group.family;
    const LmrFamily other_f = f == LmrFamily::P25 ? LmrFamily::Dmr : LmrFamily::P25;
    // A clear group names no ALGID or key: take one of the family's (P25 AES-256, DMR ARC4).
    const std::uint16_t algid = group.encrypted ? group.algid : (f == LmrFamily::P25 ? 0x84 : 5);
    const std::uint32_t kid = group.encrypted ? group.key_id : 0x11;
    const std::uint8_t mi[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    auto enc = [&](LmrFamily fam, std::uint16_t a, std::uint32_t k) {
        return CryptoSync::encryptedWith(fam, a, k, ByteView(mi, cryptoWidths(fam).mi_bytes));
    };
    if (stream == kClear) {
        return CryptoSync::clear(f);
    }
    if (stream == kClearFamily) {
        return CryptoSync::clear(other_f);
    }
    if (stream == kEncGroups) {
        return enc(f, algid, kid);
    }
    if (stream == kEncAny) {
        return enc(f, static_cast<std::uint16_t>(algid + 1), kid + 0x66);
    }
    if (stream == kEncFamily) {
        return enc(other_f, algid, kid);
    }
    if (stream == kEncAlgid) {
        return enc(f, static_cast<std::uint16_t>(algid + 1), kid);
    }
    if (stream == kEncKey) {
        return enc(f, algid, kid + 1);
    }
    if (stream == kEncUnknown) {
        return CryptoSync::lateEntry(f);
    }
    return std::nullopt;
}

}  // namespace iwf::gateway::engine::test
