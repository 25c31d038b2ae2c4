#include "gateway/daemon/keymap_watcher.hpp"

#include <algorithm>

#include "keymap/validate.hpp"

namespace iwf::gateway {

KeymapWatcher::KeymapWatcher(asio::io_context& io, metrics::Registry& metrics, KeymapConfig config)
    : io_(io)
    , config_(std::move(config))
    , shown_store_(keymap::redactStoreSpec(config_.store))
    , loads_(metrics.counter("iwf_keymap_loads_total", "Keymap revisions loaded and swapped in"))
    , failures_(metrics.counter("iwf_keymap_load_failures_total",
                                "Keymap loads that failed (the old snapshot stays)")) {
    metrics.callbackGauge("iwf_keymap_revision", "Keymap revision in force (0 = none)", {},
                          [this] { return static_cast<double>(revision_.load()); });
    metrics.callbackGauge("iwf_keymap_users", "Users homed in the IWF in the keymap in force", {},
                          [this] {
                              auto s = current();
                              return s ? static_cast<double>(s->userCount()) : 0.0;
                          });
    metrics.callbackGauge("iwf_keymap_groups", "Interworking groups in the keymap in force", {},
                          [this] {
                              auto s = current();
                              return s ? static_cast<double>(s->groupCount()) : 0.0;
                          });
}

KeymapWatcher::~KeymapWatcher() {
    *alive_ = false;
    stop();
}

void KeymapWatcher::start() {
    checkOnce();
    thread_ = std::thread([this] { loop(); });
}

void KeymapWatcher::stop() {
    {
        std::lock_guard<std::mutex> lk(stop_mu_);
        stopping_ = true;
    }
    stop_cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

KeymapWatcher::SnapshotPtr KeymapWatcher::current() const {
    std::lock_guard<std::mutex> lk(mu_);
    return current_;
}

void KeymapWatcher::subscribe(Listener l) {
    std::lock_guard<std::mutex> lk(mu_);
    listeners_.push_back(std::move(l));
}

nlohmann::json KeymapWatcher::status() const {
    std::lock_guard<std::mutex> lk(mu_);
    nlohmann::json j = {{"store", shown_store_},
                        {"revision", revision_.load()},
                        {"poll_interval_ms", config_.poll_interval.count()},
                        {"loads", loads_.value()},
                        {"load_failures", failures_.value()}};
    j["users"] = current_ ? current_->userCount() : 0;
    j["groups"] = current_ ? current_->groupCount() : 0;
    j["loaded_at_ms"] = loaded_at_ms_;
    if (!last_error_.empty()) {
        j["last_error"] = last_error_;
    }
    return j;
}

void KeymapWatcher::failed(const std::string& why) {
    failures_.inc();
    {
        std::lock_guard<std::mutex> lk(mu_);
        last_error_ = why;
    }
    std::uint64_t suppressed = 0;
    if (warn_limit_.allow(std::chrono::steady_clock::now(), suppressed)) {
        log::get("keymap")->warn(
            "keymap=load_failed store={} reason=\"{}\" keeping_revision={} suppressed={}",
            shown_store_, why, revision_.load(), suppressed);
    }
}

bool KeymapWatcher::checkOnce() {
    try {
        if (!store_) {
            store_ = keymap::openStore(config_.store, kKeymapStatementBound);
            if (store_->supportsNotify()) {
                // LISTEN before reading the head, so no commit falls between the two.
                store_->waitForChange(std::chrono::milliseconds(0));
            }
        }
        std::uint64_t head = store_->headRevision();
        if (head == 0 || head == revision_.load()) {
            return false;
        }
        std::optional<keymap::Keymap> k = store_->load(head);
        if (!k) {
            failed("revision " + std::to_string(head) + " vanished");
            return false;
        }
        std::vector<keymap::Finding> findings = keymap::validate(*k);
        if (!findings.empty()) {
            failed("revision " + std::to_string(head) +
                   " breaks a rule: " + findings.front().toString());
            return false;
        }
        swap(keymap::Snapshot::build(std::move(*k), head));
        return true;
    } catch (const std::exception& e) {
        store_.reset();  // reopen next time (server restarted, file replaced, ...)
        failed(e.what());
        return false;
    }
}

void KeymapWatcher::swap(SnapshotPtr snap) {
    std::uint64_t old = revision_.load();
    {
        std::lock_guard<std::mutex> lk(mu_);
        current_ = snap;
        loaded_at_ms_ = keymap::nowUnixMs();
        last_error_.clear();
    }
    revision_.store(snap->revision());
    loads_.inc();
    log::get("keymap")->info("keymap=loaded store={} revision={} old={} users={} groups={}",
                             shown_store_, snap->revision(), old, snap->userCount(),
                             snap->groupCount());
    std::weak_ptr<bool> alive = alive_;
    asio::post(io_, [this, alive, snap] {
        auto a = alive.lock();
        if (!a || !*a) {
            return;
        }
        std::vector<Listener> ls;
        {
            std::lock_guard<std::mutex> lk(mu_);
            ls = listeners_;
        }
        for (const auto& l : ls) {
            l(snap);
        }
    });
}

void KeymapWatcher::loop() {
    using namespace std::chrono;
    const milliseconds poll = std::max(config_.poll_interval, milliseconds(10));
    for (;;) {
        {
            std::lock_guard<std::mutex> lk(stop_mu_);
            if (stopping_) {
                return;
            }
        }
        bool notify = false;
        try {
            notify = store_ && store_->supportsNotify();
        } catch (const std::exception&) {
            notify = false;
        }
        if (notify) {
            // LISTEN: wake on a NOTIFY; poll anyway every poll interval (missed notifications,
            // reconnects). Waits in short slices so stop() is prompt.
            auto deadline = steady_clock::now() + poll;
            while (steady_clock::now() < deadline) {
                {
                    std::lock_guard<std::mutex> lk(stop_mu_);
                    if (stopping_) {
                        return;
                    }
                }
                auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
                bool got = false;
                try {
                    got =
                        store_->waitForChange(std::clamp(left, milliseconds(1), milliseconds(200)));
                } catch (const std::exception& e) {
                    store_.reset();
                    failed(e.what());
                    break;
                }
                if (got) {
                    break;
                }
            }
        } else {
            std::unique_lock<std::mutex> lk(stop_mu_);
            if (stop_cv_.wait_for(lk, poll, [this] { return stopping_; })) {
                return;
            }
        }
        checkOnce();
    }
}

}  // namespace iwf::gateway
