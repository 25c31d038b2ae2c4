#include "gateway/daemon/daemon.hpp"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <future>
#include <pthread.h>
#include <set>

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/connection_gate.hpp"
#include "common/log.hpp"
#include "durable/message_store.hpp"
#include "gateway/daemon/delivery_tracker.hpp"
#include "gateway/daemon/fenced_link.hpp"

#ifndef IWF_VERSION
#define IWF_VERSION "0.0.0"
#endif

namespace iwf::gateway {

std::string versionString() {
    return IWF_VERSION;
}

Daemon::Daemon(DaemonConfig config, const LinkRegistry& link_types)
    : config_(std::move(config))
    , link_types_(link_types)
    , signals_(io_, SIGTERM, SIGINT, SIGHUP)
    , drain_deadline_(io_)
    , admin_(io_)
    , started_(std::chrono::steady_clock::now())
    , started_wall_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count())
    , reloads_ok_(metrics_.counter("iwf_config_reloads_total", "Config reloads applied"))
    , reloads_failed_(metrics_.counter("iwf_config_reload_failures_total",
                                       "Config reloads refused (the old config stays)"))
    , events_tick_(io_)
    , drain_tick_(io_)
    , redeliver_(io_) {
    metrics_.callbackGauge("iwf_build_info", "Build information", {{"version", versionString()}},
                           [] { return 1.0; });
    metrics_.callbackGauge("iwf_uptime_seconds", "Seconds since iwfd started", {}, [this] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    });
    metrics_.callbackGauge("iwf_config_revision", "Config revision in force (1 = as started)", {},
                           [this] { return static_cast<double>(config_revision_); });
    metrics_.callbackGauge("iwf_links", "Links configured", {},
                           [this] { return static_cast<double>(links_.size()); });
    // Every descriptor the hard limit allows (systemd's LimitNOFILE sets both; a shell often
    // leaves the soft limit at 1,024), before connections.max resolves against it.
    net::raiseFdLimit();
    net::ConnectionGate::process().attachMetrics(metrics_);
    applyConfig(config_);
    if (!config_.keymap.store.empty()) {
        keymap_ = std::make_unique<KeymapWatcher>(io_, metrics_, config_.keymap);
    }
}

Daemon::~Daemon() {
    if (keymap_) {
        keymap_->stop();
    }
}

std::shared_ptr<const keymap::Snapshot> Daemon::keymapSnapshot() const {
    return keymap_ ? keymap_->current() : nullptr;
}

void Daemon::onKeymapSwap(KeymapWatcher::Listener l) {
    if (keymap_) {
        keymap_->subscribe(std::move(l));
    }
}

void Daemon::applyConfig(const DaemonConfig& c) {
    log::setup(c.log);
    // Connection caps and timeouts: process-wide, applied live (a reload changes them for new
    // connections and timers).
    net::ConnectionGate::process().configure(c.connections);
    for (const auto& [name, value] : c.timers) {
        timers_.override(name, value);
    }
}

void Daemon::installRoutes() {
    installOpsRoutes();  // /v1/links, /v1/peers, /v1/refusals (ops_routes.cpp)
    // Readiness (load balancers, keepalived's track_script, the harness): 200 only when iwfd
    // can map identities and E2EE parameters, i.e. a keymap revision is loaded, and it is not
    // draining. Liveness (systemd, a supervisor that restarts a hung process): /livez answers
    // 200 as long as the control loop runs, with or without a keymap (docs/security.md
    // "Restart, reload and drain").
    admin_.route("/healthz", [this] {
        const char* kText = "text/plain; charset=utf-8";
        if (draining_) {
            return HttpResponse{503, kText, "not ready: draining\n"};
        }
        // In a cluster only the active instance is ready: keepalived's track_script moves the
        // service address to it (docs/ha.md).
        if (lease_ && lease_->role() != cluster::Role::Active) {
            return HttpResponse{503, kText,
                                std::string("not ready: ") + cluster::roleName(lease_->role()) +
                                    " (cluster " + config_.cluster.name + ")\n"};
        }
        if (!keymap_) {
            return HttpResponse{503, kText,
                                "not ready: no keymap store configured (keymap.store)\n"};
        }
        if (keymapSnapshot() == nullptr) {
            nlohmann::json st = keymap_->status();
            std::string why = st.contains("last_error") ? st["last_error"].get<std::string>()
                                                        : std::string("first load pending");
            return HttpResponse{503, kText, "not ready: no keymap revision loaded (" + why + ")\n"};
        }
        return HttpResponse{200, kText, "OK\n"};
    });
    admin_.route("/livez", [] { return HttpResponse{200, "text/plain; charset=utf-8", "OK\n"}; });
    admin_.route("/metrics", [this] {
        return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                            metrics_.renderPrometheus()};
    });
    // The engine exposes a plain view (callsJson); the daemon decides how it is served.
    admin_.route("/v1/calls", [this] {
        return HttpResponse{
            200, "application/json",
            workers_.empty() ? engine_->callsJson().dump(2) + "\n" : callsJsonAllShards()};
    });
    admin_.route("/v1/status", [this] {
        return HttpResponse{200, "application/json", statusJson()};
    });
    installConsoleRoutes();
    installActionRoutes();
}

std::string Daemon::statusJson() const {
    nlohmann::json j;
    j["instance"] = config_.instance;
    j["version"] = versionString();
    j["uptime_seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    j["config"] = {
        {"file", config_.file}, {"digest", config_.digest}, {"revision", config_revision_}};
    j["draining"] = draining_;
    j["ready"] = !draining_ && keymapSnapshot() != nullptr &&
                 (!lease_ || lease_->role() == cluster::Role::Active);
    j["workers"] = shardCount();
    nlohmann::json links = nlohmann::json::array();
    for (const auto& lc : config_.links) {
        links.push_back(
            {{"name", lc.name}, {"type", lc.type}, {"side", lc.side == Side::Lmr ? "lmr" : "mc"}});
    }
    j["links"] = links;
    j["keymap"] = keymap_ ? keymap_->status() : nlohmann::json(nullptr);
    j["fds"] = fdBudgetJson();
    j["cluster"] = lease_ ? lease_->statusJson() : nlohmann::json(nullptr);
    j["messages"] =
        messages_ ? nlohmann::json{{"store", messages_->describe()}} : nlohmann::json(nullptr);
    return j.dump(2) + "\n";
}

// The fd budget: what the process may open, what it has open, and the part accepted TCP/TLS
// connections may take (connections.max) - docs/security.md.
nlohmann::json Daemon::fdBudgetJson() {
    const net::FdBudget b = net::readFdBudget();
    const net::ConnectionLimits l = net::ConnectionGate::process().limits();
    return {{"limit", b.limit},
            {"hard_limit", b.hard_limit},
            {"open", b.open},
            {"connections_open", net::ConnectionGate::process().open(net::Server::Sip)},
            {"admin_connections_open", net::ConnectionGate::process().open(net::Server::Admin)},
            {"admin_connections_max", l.max_admin},
            {"connections_max", l.max_total},
            {"connections_max_per_source", l.max_per_source}};
}

void Daemon::logFdBudget() const {
    const net::FdBudget b = net::readFdBudget();
    const net::ConnectionLimits l = net::ConnectionGate::process().limits();
    auto lg = log::get("daemon");
    lg->info(
        "fd_budget limit={} hard_limit={} open={} connections_max={} admin_max={} per_source={} "
        "idle_timeout={}ms handshake_timeout={}ms",
        b.limit, b.hard_limit, b.open, l.max_total, l.max_admin, l.max_per_source,
        l.idle_timeout.count(), l.handshake_timeout.count());
    if (l.max_total + l.max_admin + b.open >= b.limit) {
        lg->warn(
            "fd_budget connections.max={} + admin.max_connections={} leave no descriptor for "
            "calls (limit {}, {} open): at the limit accepting pauses and new calls fail; raise "
            "LimitNOFILE or lower connections.max",
            l.max_total, l.max_admin, b.limit, b.open);
    }
}

namespace {

// The keys of a link section whose values differ between `a` and `b` (a key that is absent
// equals one whose value is null).
std::vector<std::string> changedKeys(const yaml::Node& a, const yaml::Node& b) {
    std::set<std::string, std::less<>> keys;
    for (const yaml::Node* n : {&a, &b}) {
        for (std::uint32_t i = 0; n->isMap() && i < n->count; ++i) {
            keys.emplace(n->keyName(i));
        }
    }
    const yaml::Node null_value;
    std::vector<std::string> out;
    for (const auto& k : keys) {
        const yaml::Node* va = a.find(k);
        const yaml::Node* vb = b.find(k);
        if (!yaml::sameValue(va != nullptr ? *va : null_value, vb != nullptr ? *vb : null_value)) {
            out.push_back(k);
        }
    }
    return out;
}

}  // namespace

// A reload applies all of the new file or none of it: what can change in a running iwfd (log,
// timers, the reloadable keys of a link: LinkType::reloadable) is applied; when anything else
// changed, the reload is refused as needing a restart and the old config stays whole in force
// (reload=refused reason="needs a restart: ..."), never "reload=ok" with a change ignored.
bool Daemon::reload() {
    auto lg = log::get("daemon");
    reload_error_.clear();
    try {
        DaemonConfig next = loadDaemonConfig(config_.file, link_types_);
        std::vector<std::string> restart;  // what changed that only a restart applies
        if (next.instance != config_.instance) {
            restart.push_back("instance");
        }
        if (next.sip_domain != config_.sip_domain) {
            restart.push_back("sip_domain");
        }
        if (next.admin.address != config_.admin.address || next.admin.port != config_.admin.port ||
            next.admin.port_file != config_.admin.port_file) {
            restart.push_back("admin");
        }
        if (next.keymap.store != config_.keymap.store ||
            next.keymap.poll_interval != config_.keymap.poll_interval) {
            restart.push_back("keymap");
        }
        if (next.workers != config_.workers) {
            restart.push_back("workers");
        }
        const ClusterConfig& oc = config_.cluster;
        const ClusterConfig& nc = next.cluster;
        if (oc.enabled != nc.enabled || oc.name != nc.name || oc.store != nc.store ||
            oc.renew_period != nc.renew_period || oc.lease_expiry != nc.lease_expiry ||
            oc.safety_margin != nc.safety_margin) {
            restart.push_back("cluster");
        }
        // Links: the same links (name, type, order); per link, only its reloadable keys.
        std::vector<std::size_t> to_reload;
        if (next.links.size() != config_.links.size()) {
            restart.push_back("links (added or removed)");
        } else {
            for (std::size_t i = 0; i < next.links.size(); ++i) {
                const LinkConfig& o = config_.links[i];
                const LinkConfig& n = next.links[i];
                if (o.name != n.name || o.type != n.type) {
                    restart.push_back("links[" + std::to_string(i) + "] (name or type)");
                    continue;
                }
                const auto keys = changedKeys(o.node.yaml(), n.node.yaml());
                if (keys.empty()) {
                    continue;
                }
                const LinkType* t = link_types_.find(n.type);
                std::vector<std::string> fixed;
                for (const auto& k : keys) {
                    if (t == nullptr || !t->reload ||
                        std::find(t->reloadable.begin(), t->reloadable.end(), k) ==
                            t->reloadable.end()) {
                        fixed.push_back(k);
                    }
                }
                if (!fixed.empty()) {
                    restart.push_back(
                        fmt::format("link {} ({}) {}", n.name, n.type, fmt::join(fixed, ",")));
                } else {
                    to_reload.push_back(i);
                }
            }
        }
        if (!restart.empty()) {
            reloads_failed_.inc();
            reload_error_ = fmt::format("needs a restart: {} changed", fmt::join(restart, "; "));
            lg->error(
                "reload=refused reason=\"{}\" (keeping revision {}; nothing of the new file was "
                "applied)",
                reload_error_, config_revision_);
            return false;
        }
        for (std::size_t i : to_reload) {
            if (Status st = reloadLink(next.links[i]); !st) {
                reloads_failed_.inc();
                reload_error_ =
                    fmt::format("link {}: {}", next.links[i].name, st.error().toString());
                lg->error("reload=refused link={} reason=\"{}\" (keeping revision {})",
                          next.links[i].name, st.error().toString(), config_revision_);
                return false;
            }
        }
        applyConfig(next);
        applyAdminToken(next.admin);
        for (auto& w : workers_) {
            asio::post(w->io, [wk = w.get(), timers = next.timers] {
                for (const auto& [name, value] : timers) {
                    wk->timers.override(name, value);
                }
            });
        }
        config_ = std::move(next);
        ++config_revision_;
        reloads_ok_.inc();
        lg->info("reload=ok file={} revision={} digest={}", config_.file, config_revision_,
                 config_.digest);
        return true;
    } catch (const ConfigError& e) {
        reloads_failed_.inc();
        reload_error_ = e.what();
        lg->error("reload=refused reason=\"{}\" (keeping revision {})", e.what(), config_revision_);
    } catch (const std::exception& e) {
        reloads_failed_.inc();
        reload_error_ = e.what();
        lg->error("reload=refused reason=\"{}\" (keeping revision {})", e.what(), config_revision_);
    }
    return false;
}

Status Daemon::reloadLink(const LinkConfig& lc) {
    auto lg = log::get("daemon");
    const LinkType* t = link_types_.find(lc.type);
    // Instance 0 runs here; the instances of a sharded link on the workers run on theirs.
    for (auto& l : links_) {
        if (l->id().name != lc.name) {
            continue;
        }
        std::string what;
        IWF_TRY_STATUS(t->reload(*l, lc.node, what));
        lg->info("link={} reload={}", lc.name, what);
    }
    for (auto& w : workers_) {
        for (auto& l : w->links) {
            if (l->id().name != lc.name) {
                continue;
            }
            auto p = std::make_shared<std::promise<Status>>();
            auto f = p->get_future();
            asio::post(w->io, [p, t, link = l.get(), node = lc.node] {
                std::string what;
                p->set_value(t->reload(*link, node, what));
            });
            if (f.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
                return Error{"worker_unresponsive", static_cast<std::int64_t>(w->index)};
            }
            IWF_TRY_STATUS(f.get());
        }
    }
    return Status::success();
}

void Daemon::waitSignal() {
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (ec) {
            return;
        }
        if (sig == SIGHUP) {
            log::get("daemon")->info("signal=SIGHUP action=reload file={}", config_.file);
            reload();
            waitSignal();
            return;
        }
        log::get("daemon")->info("signal={} action=drain", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        drain();
    });
}

void Daemon::drain() {
    if (draining_) {
        return;
    }
    draining_ = true;
    drain_started_ = std::chrono::steady_clock::now();
    log::get("daemon")->info("drain=begin calls={} deadline_ms={}", totalCalls(),
                             config_.drain_deadline.count());
    gate_->beginDrain();
    for (auto& l : links_) {
        l->beginDrain();
    }
    for (auto& w : workers_) {
        w->gate->beginDrain();
        asio::post(w->io, [wk = w.get()] {
            for (auto& l : wk->links) {
                l->beginDrain();
            }
        });
    }
    // A second SIGTERM/SIGINT ends the drain now; SIGHUP is ignored while draining.
    signals_.async_wait([this](const boost::system::error_code& ec, int sig) {
        if (!ec) {
            log::get("daemon")->info("signal={} action=stop", sig);
            finishDrain("second signal");
        }
    });
    drainTick();
}

// Messages accepted (here or before a restart) and not delivered yet go to the engine again
// every 2 s once a keymap is loaded: at least once; the far side's link marks them delivered
// (delivery_tracker.hpp; the MCData link on a 2xx). Toward LMR (from an MC link) every tick:
// delivery is immediate or fails (no repeater). Toward MC (from an LMR link): an earlier
// process's at once, this process's own only 32 s after their last try (a SIP MESSAGE
// transaction lasts up to 32 s, RFC 3261 timer F, and may still succeed). 900 tries (half an
// hour toward LMR), then a message is marked failed.
void Daemon::redeliverTick() {
    if (drain_finished_) {
        return;
    }
    // In a cluster only the active instance delivers (its store writes carry its epoch).
    if (keymapSnapshot() != nullptr && (!lease_ || fence_.mayForward())) {
        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        auto pending = messages_->takePending(config_.messages_max_attempts,
                                              std::max(started_wall_ms_, now_ms - 32000), now_ms);
        if (pending && !pending->empty()) {
            log::get("daemon")->info("messages=redeliver count={}", pending->size());
            metrics_
                .counter("iwf_messages_redelivered_total",
                         "Stored SDS/KMM messages handed to the engine again")
                .inc(pending->size());
            for (auto& m : *pending) {
                redeliver(std::move(m));
            }
        }
    }
    redeliver_.expires_after(std::chrono::seconds(2));
    redeliver_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            redeliverTick();
        }
    });
}

// One stored message handed to the engine again. A short data message from an MC link
// learns what became of it (the engine fills its receipt before onEvent returns): refused for
// good (an unknown or unmapped party, not "no link now") settles it in the store, as the MC
// link does when it refuses at once; and the link that answered 202 for it is told
// (Link::storedOutcome), so that the sender gets the disposition notification it asked for.
void Daemon::redeliver(StoredMessage m) {
    auto* d = std::get_if<DataMessage>(&m.event);
    if (d == nullptr || m.from.side != Side::Mc) {
        engine_->onEvent(m.from, std::move(m.event));
        return;
    }
    auto receipt = std::make_shared<DataReceipt>();
    d->receipt = receipt;
    DataMessage copy = *d;
    engine_->onEvent(m.from, std::move(m.event));
    if (receipt->outcome == DataReceipt::Outcome::Refused && receipt->reason != "no_link") {
        (void)messages_->delivered(m.message_id);
    }
    if (copy.origin_note.empty()) {
        return;
    }
    for (auto& l : links_) {
        if (l->id() == m.from) {
            l->storedOutcome(copy, *receipt, m.attempts >= config_.messages_max_attempts);
        }
    }
}

// Calls with a transmission going on (setup or active). A call in hang time (nobody talking)
// does not hold the drain up: stop() ends it and tells its peers.
std::size_t Daemon::totalCalls() {
    // Counted by each engine on its own thread: the drain asks every 100 ms, and building the
    // calls document for it cost 65 % of iwfd's CPU while 1,000 calls drained (perf, #16).
    std::size_t n = engine_->transmittingCallCount();
    for (auto& w : workers_) {
        auto p = std::make_shared<std::promise<std::size_t>>();
        auto f = p->get_future();
        asio::post(w->io, [p, wk = w.get()] { p->set_value(wk->engine->transmittingCallCount()); });
        if (f.wait_for(std::chrono::seconds(1)) == std::future_status::ready) {
            n += f.get();
        }
    }
    return n;
}

void Daemon::drainTick() {
    if (drain_finished_) {
        return;
    }
    if (totalCalls() == 0) {
        finishDrain("calls_ended");
        return;
    }
    if (std::chrono::steady_clock::now() - drain_started_ >= config_.drain_deadline) {
        finishDrain("deadline");
        return;
    }
    drain_tick_.expires_after(std::chrono::milliseconds(100));
    drain_tick_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            drainTick();
        }
    });
}

void Daemon::finishDrain(const char* why) {
    if (drain_finished_) {
        return;
    }
    drain_finished_ = true;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - drain_started_)
                        .count();
    log::get("daemon")->info("drain=end reason={} calls_left={} after_ms={}", why, totalCalls(),
                             ms);
    drain_tick_.cancel();
    redeliver_.cancel();
    events_tick_.cancel();
    admin_.stop();
    if (keymap_) {
        keymap_->stop();
    }
    // Each link tells its peers (common/link.hpp "Drain" step 3).
    for (auto& l : links_) {
        l->stop();
    }
    for (auto& w : workers_) {
        asio::post(w->io, [wk = w.get()] {
            for (auto& l : wk->links) {
                l->stop();
            }
            wk->work.reset();
            wk->io.stop();
        });
    }
    signals_.cancel();
    // What the links queued (BYEs, unlinks) gets 1.5 s at most; then the loop is stopped.
    drain_deadline_.expires_after(std::chrono::milliseconds(1500));
    drain_deadline_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            log::get("daemon")->warn("drain=deadline action=stop");
            io_.stop();
        }
    });
    asio::post(io_, [this] {
        drain_deadline_.cancel();
        io_.stop();
    });
}

std::string Daemon::callsJsonAllShards() {
    nlohmann::json out = engine_->callsJson();
    nlohmann::json shards = nlohmann::json::array();
    shards.push_back({{"shard", 0},
                      {"calls", out["calls"].size()},
                      {"events_in", out["events_in"]},
                      {"latency", out["latency"]}});
    for (auto& w : workers_) {
        // The worker's engine answers on its own thread; the admin thread waits (1 s at most).
        auto p = std::make_shared<std::promise<nlohmann::json>>();
        auto f = p->get_future();
        asio::post(w->io, [p, wk = w.get()] { p->set_value(wk->engine->callsJson()); });
        if (f.wait_for(std::chrono::seconds(1)) != std::future_status::ready) {
            shards.push_back({{"shard", w->index}, {"unavailable", true}});
            continue;
        }
        nlohmann::json j = f.get();
        for (auto& c : j["calls"]) {
            out["calls"].push_back(std::move(c));
        }
        nlohmann::json sj = {{"shard", w->index},
                             {"calls", j["calls"].size()},
                             {"events_in", j["events_in"]},
                             {"latency", j["latency"]}};
        if (w->handoff) {
            // Events this shard decoded and handed to shard 0 (they count in shard 0's
            // events_in, where their calls live).
            sj["handed_off"] = w->handoff->handedOff();
            sj["handoff_dropped"] = w->handoff->dropped();
        }
        shards.push_back(std::move(sj));
        out["events_in"] =
            out["events_in"].get<std::uint64_t>() + j["events_in"].get<std::uint64_t>();
    }
    out["shards"] = shards;
    return out.dump(2) + "\n";
}

int Daemon::startLinks(LinkContext& ctx) {
    auto lg = log::get("daemon");
    for (const auto& lc : config_.links) {
        const LinkType* t = link_types_.find(lc.type);
        const bool sharded = !workers_.empty() && t->create_shard && t->bound_port;
        LinkShard shard;
        shard.count = static_cast<unsigned>(shardCount());
        auto link = sharded ? t->create_shard(lc.node, ctx, shard) : t->create(lc.node, ctx);
        auto* lmr = dynamic_cast<LmrLink*>(link.get());
        if (lmr != nullptr) {  // group routing: which link an MC talker's group goes to
            directory_->addLmrLink(engine::LmrLinkRoute{
                lc.name, lmr->family(),
                t->served_group ? t->served_group(lc.node) : std::optional<Address>()});
        }
        if (messages_ && lmr != nullptr) {
            trackers_.push_back(std::make_unique<TrackedLmrLink>(*lmr, *messages_));
            engine_->addLink(engineView(*trackers_.back()));
        } else {
            engine_->addLink(engineView(*link));
        }
        gate_->addLink(*link);
        Status st = link->start(*gate_);
        if (!st.ok()) {
            lg->critical("link={} type={} start=failed reason={}", lc.name, lc.type,
                         st.error().toString());
            return 1;
        }
        if (!sharded) {
            lg->info("link={} type={} start=ok", lc.name, lc.type);
            if (!workers_.empty()) {
                lg->info(
                    "link={} type={} runs on worker 0 only: calls of sharded links are owned "
                    "by worker 0 (workers 1..{} hand their events over; docs/engine.md \"Worker "
                    "threads\")",
                    lc.name, lc.type, workers_.size());
            }
            links_.push_back(std::move(link));
            continue;
        }
        shard.port = t->bound_port(*link);
        const Link& first = *link;  // instance 0: what handed-over events are reported as
        links_.push_back(std::move(link));
        for (auto& w : workers_) {
            shard.index = w->index;
            auto wl = t->create_shard(lc.node, *w->ctx, shard);
            w->engine->addLink(engineView(*wl));
            if (w->handoff) {
                w->handoff->addLink(wl->id(), first.id());
            }
            w->gate->addLink(*wl);
            st = wl->start(*w->gate);
            if (!st.ok()) {
                lg->critical("link={} type={} shard={} start=failed reason={}", lc.name, lc.type,
                             w->index, st.error().toString());
                return 1;
            }
            w->links.push_back(std::move(wl));
        }
        lg->info("link={} type={} start=ok shards={} port={} owner={}", lc.name, lc.type,
                 shardCount(), shard.port, handoff_ ? "shard0" : "each");
    }
    return 0;
}

void Daemon::stopWorkers() {
    for (auto& w : workers_) {
        if (w->thread.joinable()) {
            asio::post(w->io, [wk = w.get()] {
                for (auto& l : wk->links) {
                    l->stop();
                }
                wk->work.reset();
                wk->io.stop();
            });
            w->thread.join();
        }
    }
    // Threads are gone: what is left runs here (link destructors may report a last CallEnd).
    for (auto& w : workers_) {
        w->links.clear();
    }
}

int Daemon::run() {
    auto lg = log::get("daemon");
    timer_service_ = std::make_unique<engine::AsioTimerService>(io_);
    directory_ = std::make_unique<engine::KeymapDirectory>([this] { return keymapSnapshot(); });
    engine_ = std::make_unique<engine::Engine>(engine::EngineDeps{
        metrics_, SteadyClock::instance(), *timer_service_, *directory_, timers_});
    gate_ = std::make_unique<DrainGate>(*engine_, metrics_);
    // A call must have one owner for both legs. When some configured link runs on shard 0
    // only (no create_shard: MC, ISSI, HBP), shard 0 owns every call: the other shards hand
    // the events of their sharded link instances over (ShardHandoff); the owner reaches
    // peers linked on any shard through its own instance (LinkType::create_shard contract).
    for (const auto& lc : config_.links) {
        const LinkType* t = link_types_.find(lc.type);
        handoff_ = handoff_ || t == nullptr || !t->create_shard || !t->bound_port;
    }
    handoff_ = handoff_ && config_.workers > 1;
    for (unsigned k = 1; k < config_.workers; ++k) {
        auto w = std::make_unique<Worker>();
        w->index = k;
        w->timers = timers_;
        w->timer_service = std::make_unique<engine::AsioTimerService>(w->io);
        engine::EngineOptions eo;
        eo.shard = k;
        w->engine = std::make_unique<engine::Engine>(
            engine::EngineDeps{metrics_, SteadyClock::instance(), *w->timer_service, *directory_,
                               w->timers},
            eo);
        if (handoff_) {
            w->handoff = std::make_unique<ShardHandoff>(k, io_, *engine_, metrics_, 8192, &w->io);
        }
        w->gate = std::make_unique<DrainGate>(
            w->handoff ? static_cast<EventSink&>(*w->handoff) : *w->engine, metrics_);
        w->ctx =
            std::make_unique<LinkContext>(LinkContext{w->io, metrics_, SteadyClock::instance()});
        workers_.push_back(std::move(w));
    }
    if (config_.cluster.enabled) {
        // The lease store first: it creates iwf_fence_check, which the message store uses.
        auto& dropped = metrics_.counter(
            "iwf_cluster_fenced_events_dropped_total",
            "Events from links dropped because this instance may not forward (docs/ha.md)");
        try {
            const ClusterConfig& cc = config_.cluster;
            lease_ = std::make_unique<cluster::LeaseKeeper>(
                cluster::LeaseOptions{cc.store, cc.name, config_.instance, cc.renew_period,
                                      cc.lease_expiry, cc.safety_margin},
                fence_, metrics_);
        } catch (const std::exception& e) {
            lg->critical("cluster=failed reason=\"{}\"", e.what());
            return 1;
        }
        gate_->setFence(&fence_, &dropped);
        for (auto& w : workers_) {
            w->gate->setFence(&fence_, &dropped);
            w->ctx->send_gate = &fence_;
        }
    }
    if (!config_.messages_store.empty()) {
        try {
            std::optional<durable::Fencing> fencing;
            if (lease_) {
                fencing =
                    durable::Fencing{config_.cluster.name, [this] { return lease_->epoch(); }};
            }
            messages_ = durable::openMessageStore(config_.messages_store, config_.instance,
                                                  std::move(fencing));
        } catch (const std::exception& e) {
            lg->critical("messages=failed reason=\"{}\"", e.what());
            return 1;
        }
        gate_->setStore(messages_.get());
        lg->info("messages=durable store={}", messages_->describe());
    } else {
        lg->warn(
            "messages=volatile: SDS and KMM are acknowledged without a durable store (set "
            "messages.store; docs/security.md)");
    }
    ctx_ = std::make_unique<LinkContext>(
        LinkContext{io_, metrics_, SteadyClock::instance(), messages_.get()});
    if (lease_) {
        ctx_->send_gate = &fence_;  // the links' SIP stacks are silent while not active
    }
    if (!lease_) {
        if (int rc = startDataPlane(); rc != 0) {
            return rc;
        }
    } else {
        // Standby until the lease is ours: no link started, no socket bound (docs/ha.md).
        lease_->start([this](std::int64_t epoch) {
            asio::post(io_, [this, epoch] { onLeaseAcquired(epoch); });
        });
    }
    if (keymap_) {
        keymap_->start();
    }
    installRoutes();
    applyAdminToken(config_.admin);
    try {
        admin_.start(config_.admin.address, config_.admin.port);
    } catch (const std::exception& e) {
        lg->critical("admin=failed address={} port={} reason=\"{}\"", config_.admin.address,
                     config_.admin.port, e.what());
        stopWorkers();
        return 1;
    }
    if (!config_.admin.port_file.empty()) {
        std::ofstream(config_.admin.port_file) << admin_.port() << "\n";
    }
    logFdBudget();
    waitSignal();
    eventsTick();
    if (messages_) {
        redeliverTick();
    }
    lg->info("iwfd=running version={} instance={} config={} admin_port={} workers={}",
             versionString(), config_.instance, config_.file, admin_.port(), shardCount());
    io_.run();
    stopWorkers();
    links_.clear();
    if (lease_) {
        // Links stopped: the standby may take over at its next look, not after the expiry.
        lease_->stop(/*release=*/true);
    }
    lg->info("iwfd=stopped");
    spdlog::shutdown();
    return exit_code_;
}

int Daemon::startDataPlane() {
    if (int rc = startLinks(*ctx_); rc != 0) {
        return rc;
    }
    for (auto& w : workers_) {
        w->work.emplace(w->io.get_executor());
        w->thread = std::thread([wk = w.get()] {
            const std::string name = "iwfd-w" + std::to_string(wk->index);
            pthread_setname_np(pthread_self(), name.c_str());
            wk->io.run();
        });
    }
    links_started_ = true;
    return 0;
}

void Daemon::onLeaseAcquired(std::int64_t epoch) {
    auto lg = log::get("daemon");
    if (drain_finished_ || draining_) {
        return;
    }
    if (links_started_) {
        // A fenced instance that acquired a new epoch: its links are running, the Fence lets
        // them forward again.
        lg->warn("cluster={} role=active epoch={} links=resumed", config_.cluster.name, epoch);
        return;
    }
    // Stored messages accepted before now (by this instance or the one it replaces) are
    // retried at once, not 32 s after their last try.
    started_wall_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    if (int rc = startDataPlane(); rc != 0) {
        lg->critical("cluster={} role=active epoch={} links=failed: stopping", config_.cluster.name,
                     epoch);
        exit_code_ = rc;
        finishDrain("link_start_failed");
        return;
    }
    lg->warn("cluster={} role=active epoch={} links=started", config_.cluster.name, epoch);
}

Link& Daemon::engineView(Link& l) {
    if (!lease_) {
        return l;
    }
    auto& refused = metrics_.counter(
        "iwf_cluster_fenced_deliveries_refused_total",
        "Deliveries to links refused because this instance may not forward (docs/ha.md)");
    if (auto* lmr = dynamic_cast<LmrLink*>(&l)) {
        fenced_views_.push_back(std::make_unique<FencedLmrLink>(*lmr, fence_, refused));
    } else if (auto* mc = dynamic_cast<McLink*>(&l)) {
        fenced_views_.push_back(std::make_unique<FencedMcLink>(*mc, fence_, refused));
    } else {
        return l;
    }
    return *fenced_views_.back();
}

}  // namespace iwf::gateway
