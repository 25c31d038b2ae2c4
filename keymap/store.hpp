#pragma once
// Keymap stores: every accepted change is a new revision (actor, time, action, diff, the whole
// keymap as canonical JSON). Two back ends with the same behaviour:
//   sqlite:PATH            one file, WAL, the embedded default
//   postgresql://...       shared by several iwfd instances; a commit sends NOTIFY on channel
//                          kNotifyChannel with the new revision as payload
// Schema migrations are kept in a version table (keymap_schema). Writers are serialised (SQLite
// BEGIN IMMEDIATE; PostgreSQL LOCK TABLE ... EXCLUSIVE), so two writers at once never lose an
// update: each gets the next revision number and its diff is against the revision before it.
//
// Control plane: errors are StoreError exceptions naming the store and the operation.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "keymap/diff.hpp"
#include "keymap/model.hpp"

namespace iwf::keymap {

inline constexpr const char* kNotifyChannel = "iwf_keymap";

class StoreError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct RevisionInfo {
    std::uint64_t revision = 0;
    std::int64_t time_ms = 0;  // Unix time, milliseconds
    std::string actor;
    std::string action;   // "import", "rollback"
    std::string note;     // e.g. source file, "to revision 3"
    std::string summary;  // "2 added, 1 changed, 0 removed"
    std::string diff;     // renderDiff() of the change
};

struct CommitResult {
    bool created = false;        // false: identical to the head, no revision made
    std::uint64_t revision = 0;  // the new head
    std::vector<Change> changes;
};

class Store {
  public:
    virtual ~Store() = default;

    // "sqlite:/var/lib/iwf/keymap.db" or the PostgreSQL URL without its password.
    virtual std::string describe() const = 0;
    // 0 = no revision yet.
    virtual std::uint64_t headRevision() = 0;
    // The keymap of a revision (0 = head); nullopt if there is none.
    virtual std::optional<Keymap> load(std::uint64_t revision = 0) = 0;
    // Makes `k` the next revision (the caller validated it). Atomic and serialised with other
    // writers. No revision is made when `k` equals the head.
    virtual CommitResult commit(const Keymap& k, const std::string& actor,
                                const std::string& action, const std::string& note) = 0;
    // Newest first.
    virtual std::vector<RevisionInfo> history(std::size_t limit) = 0;
    virtual std::optional<RevisionInfo> revisionInfo(std::uint64_t revision) = 0;

    // Change notifications: true if this store can tell about new revisions (PostgreSQL
    // LISTEN/NOTIFY). waitForChange() waits at most `timeout` and returns true if a
    // notification arrived; without notifications it returns false at once.
    virtual bool supportsNotify() const { return false; }
    virtual bool waitForChange(std::chrono::milliseconds timeout) {
        (void)timeout;
        return false;
    }

    // Rollback: a new revision whose content equals revision `to`.
    CommitResult rollback(std::uint64_t to, const std::string& actor);
};

// Opens (and migrates) a store; throws StoreError. `bound` > 0 (PostgreSQL only): every
// statement of the store, its connection and each reconnection is answered within `bound` or
// abandoned (the connection closed, StoreError thrown; common/pg_deadline.hpp, docs/ha.md "A
// store that hangs"): iwfd's keymap watcher. 0: libpq's blocking calls (iwfctl).
std::unique_ptr<Store> openStore(const std::string& spec,
                                 std::chrono::milliseconds bound = std::chrono::milliseconds(0));
// The spec with any password removed (for logs and status).
std::string redactStoreSpec(const std::string& spec);

std::unique_ptr<Store> openSqliteStore(const std::string& path);
std::unique_ptr<Store> openPostgresStore(
    const std::string& conninfo, std::chrono::milliseconds bound = std::chrono::milliseconds(0));

// Current time for revision records.
std::int64_t nowUnixMs();

}  // namespace iwf::keymap
