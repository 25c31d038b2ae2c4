#include "gateway/cluster/lease_keeper.hpp"

#include "common/log.hpp"

namespace iwf::gateway::cluster {

namespace {

std::int64_t ns(std::chrono::milliseconds d) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
}

}  // namespace

const char* roleName(Role r) {
    switch (r) {
        case Role::Standby:
            return "standby";
        case Role::Active:
            return "active";
        case Role::Fenced:
            return "fenced";
    }
    return "standby";
}

LeaseKeeper::LeaseKeeper(LeaseOptions options, Fence& fence, metrics::Registry& metrics)
    : options_(std::move(options))
    , fence_(fence)
    // A statement that takes longer than the lease's local validity is abandoned (a store
    // that hangs, docs/ha.md): by then this instance has stopped forwarding anyway, and the
    // keeper must be free to report it and to reconnect.
    , store_(std::make_unique<LeaseStore>(options_.store, options_.name, options_.instance,
                                          options_.lease_expiry - options_.safety_margin))
    , acquisitions_(metrics.counter("iwf_cluster_acquisitions_total",
                                    "Cluster lease acquisitions by this instance (new epochs)"))
    , fenced_(metrics.counter("iwf_cluster_fenced_total",
                              "Times this instance stopped forwarding: a newer epoch was seen "
                              "or its lease ran out locally"))
    , renew_failures_(metrics.counter("iwf_cluster_renew_failures_total",
                                      "Lease renewals that got no answer from the database"))
    , statements_(metrics.counter("iwf_cluster_lease_statements_total",
                                  "SQL statements sent to the lease store")) {
    for (Role r : {Role::Standby, Role::Active, Role::Fenced}) {
        metrics.callbackGauge("iwf_cluster_role", "1 for this instance's cluster role",
                              {{"role", roleName(r)}},
                              [this, r] { return role() == r ? 1.0 : 0.0; });
    }
    metrics.callbackGauge("iwf_cluster_epoch", "The fencing epoch this instance holds (0: none)",
                          {}, [this] { return static_cast<double>(epoch()); });
    metrics.callbackGauge(
        "iwf_cluster_lease_age_seconds",
        "Seconds since the lease holder's last renewal (database clock, as last seen)", {}, [this] {
            std::lock_guard<std::mutex> lk(seen_mu_);
            return seen_.known
                       ? seen_.age_seconds + static_cast<double>(boottimeNs() - seen_.at_ns) / 1e9
                       : 0.0;
        });
    metrics.callbackGauge("iwf_cluster_takeovers",
                          "Times the cluster's lease passed to another instance (failovers)", {},
                          [this] {
                              std::lock_guard<std::mutex> lk(seen_mu_);
                              return static_cast<double>(seen_.takeovers);
                          });
}

LeaseKeeper::~LeaseKeeper() {
    stop(false);
}

void LeaseKeeper::start(std::function<void(std::int64_t)> on_acquired) {
    on_acquired_ = std::move(on_acquired);
    thread_ = std::thread([this] { run(); });
}

void LeaseKeeper::stop(bool release) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    if (release && epoch() != 0) {
        fence_.revoke();
        statements_.inc();
        if (store_->release(epoch()).ok()) {
            log::get("cluster")->info("lease=released cluster={} epoch={}", options_.name, epoch());
        }
        epoch_.store(0, std::memory_order_release);
    }
}

Role LeaseKeeper::role() const {
    if (fence_.mayForward()) {
        return Role::Active;
    }
    return ever_active_.load(std::memory_order_acquire) ? Role::Fenced : Role::Standby;
}

nlohmann::json LeaseKeeper::statusJson() const {
    nlohmann::json j;
    j["name"] = options_.name;
    j["instance"] = options_.instance;
    j["store"] = store_->describe();
    j["role"] = roleName(role());
    j["epoch"] = epoch();
    j["renew_period_ms"] = options_.renew_period.count();
    j["lease_expiry_ms"] = options_.lease_expiry.count();
    j["safety_margin_ms"] = options_.safety_margin.count();
    j["acquisitions"] = acquisitions_.value();
    j["fenced"] = fenced_.value();
    std::lock_guard<std::mutex> lk(seen_mu_);
    if (seen_.known) {
        const double since = static_cast<double>(boottimeNs() - seen_.at_ns) / 1e9;
        j["holder"] = seen_.holder;
        j["holder_epoch"] = seen_.epoch;
        j["lease_age_seconds"] = seen_.age_seconds + since;
        j["lease_remaining_seconds"] = seen_.remaining_seconds - since;
        j["takeovers"] = seen_.takeovers;
    } else {
        j["holder"] = nullptr;
        j["takeovers"] = 0;
    }
    if (!seen_.last_error.empty()) {
        j["last_error"] = seen_.last_error;
    }
    return j;
}

void LeaseKeeper::run() {
    auto lg = log::get("cluster");
    lg->info(
        "cluster={} instance={} store={} role=standby renew_period={}ms expiry={}ms margin={}ms",
        options_.name, options_.instance, store_->describe(), options_.renew_period.count(),
        options_.lease_expiry.count(), options_.safety_margin.count());
    for (;;) {
        {
            std::lock_guard<std::mutex> lk(mu_);
            if (stop_) {
                return;
            }
        }
        const std::int64_t t0 = boottimeNs();
        tick();
        sleepUntil(t0 + ns(options_.renew_period));
    }
}

void LeaseKeeper::sleepUntil(std::int64_t deadline_ns) {
    std::unique_lock<std::mutex> lk(mu_);
    const std::int64_t left = deadline_ns - boottimeNs();
    if (left > 0) {
        cv_.wait_for(lk, std::chrono::nanoseconds(left), [this] { return stop_; });
    }
}

void LeaseKeeper::tick() {
    auto lg = log::get("cluster");
    const std::int64_t validity = ns(options_.lease_expiry - options_.safety_margin);
    auto setError = [this](std::string e) {
        std::lock_guard<std::mutex> lk(seen_mu_);
        seen_.last_error = std::move(e);
    };
    if (std::int64_t e = epoch(); e != 0) {
        const std::int64_t sent = boottimeNs();
        statements_.inc();
        auto r = store_->renew(e, options_.lease_expiry);
        if (r && r->has_value()) {
            fence_.allowUntil(sent + validity);
            std::lock_guard<std::mutex> lk(seen_mu_);
            seen_ = Seen{
                true, options_.instance, e, 0, options_.lease_expiry.count() / 1000.0, **r, sent,
                {}};
        } else if (r) {
            // A newer epoch exists: another instance took over. Stop forwarding now.
            fence_.revoke();
            epoch_.store(0, std::memory_order_release);
            lg->warn("lease=lost cluster={} epoch={} reason=newer_epoch role=fenced", options_.name,
                     e);
            setError("lease taken over (newer epoch)");
        } else {
            renew_failures_.inc();
            setError("renewal failed: lease store unreachable");
            lg->warn("lease=renew_failed cluster={} epoch={} forwarding_until_local_deadline",
                     options_.name, e);
        }
    }
    if (epoch() == 0) {
        statements_.inc();
        auto row = store_->read();
        if (!row) {
            setError("lease store unreachable");
        } else {
            const bool free = !row->has_value() || (*row)->remaining_seconds < 0;
            if (row->has_value()) {
                std::lock_guard<std::mutex> lk(seen_mu_);
                const LeaseRow& lr = **row;
                seen_ = Seen{true,
                             lr.holder,
                             lr.epoch,
                             lr.age_seconds,
                             lr.remaining_seconds,
                             lr.takeovers,
                             boottimeNs(),
                             seen_.last_error};
            }
            if (free) {
                const std::int64_t sent = boottimeNs();
                statements_.inc();
                auto got = store_->acquire(options_.lease_expiry);
                if (got && *got > 0) {
                    fence_.allowUntil(sent + validity);
                    epoch_.store(*got, std::memory_order_release);
                    ever_active_.store(true, std::memory_order_release);
                    acquisitions_.inc();
                    {
                        std::lock_guard<std::mutex> lk(seen_mu_);
                        const std::int64_t takeovers =
                            seen_.known && seen_.holder != options_.instance ? seen_.takeovers + 1
                                                                             : seen_.takeovers;
                        seen_ = Seen{true,
                                     options_.instance,
                                     *got,
                                     0,
                                     options_.lease_expiry.count() / 1000.0,
                                     takeovers,
                                     sent,
                                     {}};
                    }
                    lg->warn("lease=acquired cluster={} instance={} epoch={} role=active",
                             options_.name, options_.instance, *got);
                    if (on_acquired_) {
                        on_acquired_(*got);
                    }
                } else if (!got) {
                    setError("acquire failed: lease store unreachable");
                }
            }
        }
    }
    const bool now_forwarding = fence_.mayForward();
    if (forwarding_ && !now_forwarding) {
        fenced_.inc();
        lg->warn("lease=fenced cluster={} instance={} role=fenced (forwarding stopped)",
                 options_.name, options_.instance);
    }
    forwarding_ = now_forwarding;
}

}  // namespace iwf::gateway::cluster
