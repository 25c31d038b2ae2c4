#pragma once
// iwfd's process: one io_context, the admin endpoint, the keymap watcher, the engine and the
// configured links (every link reports to the engine; the engine delivers to links), signals.
//   SIGTERM/SIGINT: drain (stop accepting, end links) and exit 0 within 2 s.
//   SIGHUP: reload the config file; a file that fails validation is refused, the old config
//           stays in force and the reason is logged and counted.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "gateway/admin/admin_server.hpp"
#include "gateway/common/asio.hpp"
#include "gateway/common/clock.hpp"
#include "gateway/common/fsm.hpp"
#include "gateway/common/link.hpp"
#include "gateway/common/link_registry.hpp"
#include "gateway/common/metrics.hpp"
#include "gateway/config/daemon_config.hpp"
#include "gateway/daemon/keymap_watcher.hpp"
#include "gateway/engine/engine.hpp"
#include "gateway/engine/keymap_directory.hpp"
#include "gateway/engine/timer_service.hpp"

namespace iwf::gateway {

std::string versionString();

class Daemon {
  public:
    Daemon(DaemonConfig config, const LinkRegistry& link_types);
    ~Daemon();

    // Runs until SIGTERM/SIGINT; returns the process exit status.
    int run();
    // Applies a new config file now (what SIGHUP does). Returns false if it was refused.
    bool reload();

    metrics::Registry& metrics() { return metrics_; }
    asio::io_context& io() { return io_; }

    // The keymap snapshot in force (nullptr without a keymap store or before the first load).
    // A call keeps the shared_ptr it took at setup: it keeps its revision until it ends.
    std::shared_ptr<const keymap::Snapshot> keymapSnapshot() const;
    // Called on the io_context thread after each keymap swap, with the new snapshot.
    void onKeymapSwap(KeymapWatcher::Listener l);

  private:
    void applyConfig(const DaemonConfig& c);
    void installRoutes();
    void waitSignal();
    void drain();
    std::string statusJson() const;

    DaemonConfig config_;
    const LinkRegistry& link_types_;
    asio::io_context io_;
    asio::signal_set signals_;
    asio::steady_timer drain_deadline_;
    metrics::Registry metrics_;
    AdminServer admin_;
    TimerTable timers_;
    // Declaration order is destruction order reversed: links go first (they may report a
    // last CallEnd to the engine), then the engine, then what it uses.
    std::unique_ptr<engine::AsioTimerService> timer_service_;
    std::unique_ptr<engine::KeymapDirectory> directory_;
    std::unique_ptr<engine::Engine> engine_;
    std::vector<std::unique_ptr<Link>> links_;
    std::chrono::steady_clock::time_point started_;
    std::uint64_t config_revision_ = 1;
    metrics::Counter& reloads_ok_;
    metrics::Counter& reloads_failed_;
    bool draining_ = false;
    std::unique_ptr<KeymapWatcher> keymap_;  // null when the config names no keymap store
};

}  // namespace iwf::gateway
