#pragma once
// iwfd's process: one io_context, the admin endpoint, the keymap watcher, the engine and the
// configured links (every link reports to the engine; the engine delivers to links), signals.
// With `workers: N` (N > 1) there are N data-plane shards (docs/engine.md "Worker threads"):
// shard 0 is the io_context above (control plane too); shards 1..N-1 each own an io_context,
// a thread, an engine and one instance of every link type that supports sharding
// (LinkType::create_shard: SO_REUSEPORT sockets, the kernel keeps a peer on one shard). A call
// has one owner shard: the shard whose link instance saw it when every configured link runs
// on every shard; shard 0 when some link runs on shard 0 only (MC, ISSI, HBP), in which case
// shards 1..N-1 decode and hand their events to shard 0's engine through a lock-free ring
// (ShardHandoff). Nothing else on the per-frame path is shared between shards but metrics
// counters (relaxed atomics).
//   SIGTERM/SIGINT: drain (common/link.hpp "Drain"): /healthz turns 503, links refuse new
//           calls and requests (SIP 503), calls in progress go on until they end or
//           drain.deadline passes, then every link is stopped (it tells its peers) and iwfd
//           exits 0. A second SIGTERM/SIGINT ends the drain at once.
//   SIGHUP: reload the config file, all or nothing: a file that fails validation, or that
//           changes something only a restart applies (anything but log, timers and the
//           reloadable keys of a link, LinkType::reloadable), is refused, the old config stays
//           in force and the reason is logged and counted.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/asio.hpp"
#include "common/clock.hpp"
#include "common/fsm.hpp"
#include "common/link.hpp"
#include "common/link_registry.hpp"
#include "common/metrics.hpp"
#include "gateway/admin/admin_server.hpp"
#include "gateway/cluster/fence.hpp"
#include "gateway/cluster/lease_keeper.hpp"
#include "gateway/config/daemon_config.hpp"
#include "gateway/daemon/drain_gate.hpp"
#include "gateway/daemon/keymap_watcher.hpp"
#include "gateway/daemon/shard_handoff.hpp"
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

    // Data-plane shards running (1 + worker threads).
    std::size_t shardCount() const { return 1 + workers_.size(); }

  private:
    struct Worker {
        unsigned index = 0;
        asio::io_context io;
        std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
        TimerTable timers;  // a copy: reloads post their overrides to the worker
        std::unique_ptr<engine::AsioTimerService> timer_service;
        std::unique_ptr<engine::Engine> engine;
        // Set when the config has links this shard does not run: the sink of this shard's
        // sharded link instances, handing their events to shard 0's engine (shard_handoff.hpp).
        std::unique_ptr<ShardHandoff> handoff;
        std::unique_ptr<DrainGate> gate;  // between this shard's links and engine/handoff
        std::unique_ptr<LinkContext> ctx;
        std::vector<std::unique_ptr<Link>> links;  // destroyed before the engine
        std::thread thread;
    };
    int startLinks(LinkContext& ctx);
    // Starts the links and the worker threads: at once without a cluster, when the lease is
    // acquired with one (docs/ha.md). Returns the exit status (0: running).
    int startDataPlane();
    // The lease keeper acquired epoch `epoch` (posted to the io_context).
    void onLeaseAcquired(std::int64_t epoch);
    // What the engine is given for `l`: `l` itself, or a FencedLink around it in a cluster.
    Link& engineView(Link& l);
    std::string callsJsonAllShards();
    // GET /v1/links, /v1/peers, /v1/refusals (ops_routes.cpp; docs/operations.md).
    void installOpsRoutes();
    nlohmann::json linksJson();
    nlohmann::json refusalsJson(std::size_t limit = engine::RefusalLog::kCapacity);
    void stopWorkers();
    void applyConfig(const DaemonConfig& c);
    // Applies the reloadable keys of `lc` to every instance of the running link.
    Status reloadLink(const LinkConfig& lc);
    void installRoutes();
    // admin_routes.cpp: the routes of the console and of the state-changing API (calls/{id},
    // keymap, audit, reload, end a call, disconnect a peer, events, the console's files).
    void installConsoleRoutes();  // the console's files and read-only views (admin_routes.cpp)
    void installActionRoutes();   // POST routes (token, audit) and /v1/audit (admin_routes.cpp)
    void applyAdminToken(const AdminConfig& a);
    // Runs fn(engine) on every shard's thread (shard 0 here, the others by posting and
    // waiting 1 s at most each) and collects what it returns.
    template <typename T, typename Fn>
    std::vector<T> onEveryEngine(Fn fn);
    void waitSignal();
    void drain();
    void drainTick();
    void finishDrain(const char* why);
    std::size_t totalCalls();  // calls with a transmission in progress, every shard
    std::string statusJson() const;
    static nlohmann::json fdBudgetJson();
    void logFdBudget() const;

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
    std::unique_ptr<DrainGate> gate_;         // shard 0's links report through it to engine_
    std::unique_ptr<MessageStore> messages_;  // null without messages.store
    // HA (docs/ha.md): null without a `cluster:` section. The Fence is read by the data plane
    // (DrainGate, FencedLink); the keeper moves it. Declared before the links: they outlive
    // them (a link destroyed last may report a CallEnd that the engine delivers through them).
    cluster::Fence fence_;
    std::unique_ptr<cluster::LeaseKeeper> lease_;
    std::unique_ptr<LinkContext> ctx_;
    std::vector<std::unique_ptr<Link>> fenced_views_;  // what the engine holds in a cluster
    bool links_started_ = false;
    int exit_code_ = 0;
    // What the engine holds of shard 0's LMR links with a message store (delivery_tracker.hpp).
    std::vector<std::unique_ptr<Link>> trackers_;
    std::vector<std::unique_ptr<Link>> links_;
    std::chrono::steady_clock::time_point started_;
    std::int64_t started_wall_ms_ = 0;  // messages accepted before this are an earlier process's
    std::uint64_t config_revision_ = 1;
    std::string reload_error_;  // why the last reload() was refused
    metrics::Counter& reloads_ok_;
    metrics::Counter& reloads_failed_;
    bool draining_ = false;
    bool drain_finished_ = false;
    std::chrono::steady_clock::time_point drain_started_;
    // GET /v1/events feed (admin_routes.cpp): polled every 500 ms while a stream is open.
    void eventsTick();
    asio::steady_timer events_tick_;
    std::size_t events_streams_ = 0;
    std::string events_calls_;                  // the last calls view sent, without its clocks
    std::string events_links_;                  // the last links view sent: link and peer states
    std::vector<std::string> events_refusals_;  // the refusals seen at the last poll
    bool events_refusals_known_ = false;
    std::chrono::steady_clock::time_point events_calls_at_{};
    asio::steady_timer drain_tick_;
    asio::steady_timer redeliver_;
    void redeliverTick();
    void redeliver(StoredMessage m);
    bool handoff_ = false;                   // workers > 1 and some link runs on shard 0 only
    std::unique_ptr<KeymapWatcher> keymap_;  // null when the config names no keymap store
    // Shards 1..N-1 (empty with workers: 1). Declared last: destroyed first, after their
    // threads were joined in run().
    std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace iwf::gateway
