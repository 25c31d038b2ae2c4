#pragma once
// KeymapWatcher: iwfd's view of the keymap store. Loads the head revision as an immutable
// keymap::Snapshot and swaps it atomically when a new revision appears:
//   sqlite:PATH       polls the head revision every keymap.poll_interval
//   postgresql://...  LISTEN iwf_keymap (NOTIFY from each commit), polling as the fallback
// A load that fails (store unreachable, document unreadable, rules broken) keeps the old
// snapshot; it is logged (rate-limited) and counted (iwf_keymap_load_failures_total). A
// PostgreSQL store that hangs instead of refusing (docs/ha.md "A store that hangs") is given up
// after kKeymapStatementBound per statement or connection attempt: a failure like any other,
// and the next poll connects again.
//
// Readers take current() (a shared_ptr copy) and keep it for as long as they need one
// revision: a call in progress keeps the snapshot it started with. Listeners registered with
// subscribe() are called on the io_context thread after each swap.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/asio.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "gateway/config/daemon_config.hpp"
#include "keymap/snapshot.hpp"
#include "keymap/store.hpp"

namespace iwf::gateway {

// The bound on each PostgreSQL statement and connection attempt of the watcher (the message
// queue's bound: a keymap revision is one row read by its primary key).
inline constexpr std::chrono::milliseconds kKeymapStatementBound{2000};

class KeymapWatcher {
  public:
    using SnapshotPtr = std::shared_ptr<const keymap::Snapshot>;
    using Listener = std::function<void(const SnapshotPtr&)>;

    KeymapWatcher(asio::io_context& io, metrics::Registry& metrics, KeymapConfig config);
    ~KeymapWatcher();
    KeymapWatcher(const KeymapWatcher&) = delete;
    KeymapWatcher& operator=(const KeymapWatcher&) = delete;

    // Loads the head once (synchronously; a failure is counted and polling goes on), then
    // watches in a background thread.
    void start();
    void stop();

    // The snapshot in force (nullptr until a revision was loaded).
    SnapshotPtr current() const;
    std::uint64_t revision() const { return revision_.load(); }
    // Called on the io_context thread after each swap, with the new snapshot.
    void subscribe(Listener l);
    // For /v1/status.
    nlohmann::json status() const;

  private:
    void loop();
    // One check: opens the store if needed, loads a newer head. Returns true if it swapped.
    bool checkOnce();
    void swap(SnapshotPtr snap);
    void failed(const std::string& why);

    asio::io_context& io_;
    KeymapConfig config_;
    std::string shown_store_;
    std::unique_ptr<keymap::Store> store_;  // used only by the watcher thread (and start())

    mutable std::mutex mu_;
    SnapshotPtr current_;
    std::vector<Listener> listeners_;
    std::string last_error_;
    std::int64_t loaded_at_ms_ = 0;

    std::atomic<std::uint64_t> revision_{0};
    std::mutex stop_mu_;
    std::condition_variable stop_cv_;
    bool stopping_ = false;
    std::thread thread_;

    metrics::Counter& loads_;
    metrics::Counter& failures_;
    log::RateLimiter warn_limit_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace iwf::gateway
