// The admin API routes of the live console and of the state-changing requests (docs/operating.md
// "Admin API"): GET /v1/calls/{id}, /v1/keymap, /v1/keymap/groups/{id}, /v1/audit; POST
// /v1/reload, /v1/calls/{id}/end, /v1/links/{id}/peers/{peer}/disconnect. The POST routes are
// authorised and audited by AdminServer (bearer token, admin.token_file); here they do the work
// and say what they did (HttpResponse::audit).
//
// Threads: these handlers run on shard 0's io_context (the admin server's), where shard 0's
// engine and links live; another shard's engine is asked on its own thread (onEveryEngine).
#include <algorithm>
#include <chrono>
#include <future>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "common/peer_control.hpp"
#include "gateway/admin/console_assets.hpp"
#include "gateway/daemon/daemon.hpp"
#include "keymap/xml_render.hpp"

namespace iwf::gateway {

namespace {

std::string isoFromUnixMs(std::int64_t ms) {
    if (ms <= 0) {
        return {};
    }
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(t), ms % 1000);
}

nlohmann::json groupSecurity(const keymap::GroupView& g) {
    const keymap::Group& gr = *g.group;
    nlohmann::json s = {{"mode", std::string(keymap::toString(gr.mode))},
                        {"family", toString(g.family)},
                        {"system", gr.system},
                        {"tgid", gr.tgid},
                        {"home", std::string(keymap::toString(gr.home))},
                        {"e2ee", g.e2ee()},
                        {"media_protection", std::string(keymap::toString(gr.media_protection))},
                        {"floor_protection", gr.floor_protection},
                        {"members", g.members.size()}};
    // ALGID and key ID name the algorithm and the key the radios use; the key itself is never
    // in the keymap (the gateway holds no key: docs/security.md).
    if (g.crypto.encrypted) {
        s["algid"] = g.crypto.algid;
        s["kid"] = g.crypto.key_id;
    }
    return s;
}

// What one shard's instances of a link did with a disconnect request.
struct PeerDrop {
    bool known_link = false;  // the shard runs an instance of the link
    bool supported = false;   // the link has peer sessions (PeerControl)
    bool dropped = false;
};

// Call on the thread that owns `links` (shard 0's, or a worker's).
PeerDrop dropPeer(std::vector<std::unique_ptr<Link>>& links, const std::string& link,
                  const std::string& peer) {
    PeerDrop d;
    for (auto& l : links) {
        if (l->id().name != link) {
            continue;
        }
        d.known_link = true;
        if (auto* pc = dynamic_cast<PeerControl*>(l.get())) {
            d.supported = true;
            if (pc->disconnectPeer(peer).ok()) {
                d.dropped = true;
                break;
            }
        }
    }
    return d;
}

// How long a POST that needs a worker's answer waits for each worker.
constexpr auto kShardAnswerWait = std::chrono::seconds(2);

}  // namespace

template <typename T, typename Fn>
std::vector<T> Daemon::onEveryEngine(Fn fn) {
    std::vector<T> out;
    out.push_back(fn(*engine_));
    for (auto& w : workers_) {
        auto p = std::make_shared<std::promise<T>>();
        auto f = p->get_future();
        asio::post(w->io, [p, fn, wk = w.get()] { p->set_value(fn(*wk->engine)); });
        if (f.wait_for(std::chrono::seconds(1)) == std::future_status::ready) {
            out.push_back(f.get());
        }
    }
    return out;
}

void Daemon::applyAdminToken(const AdminConfig& a) {
    if (a.token_secret.empty()) {
        admin_.setToken(std::nullopt);
        log::get("admin")->info(
            "admin=read_only: no admin.token_file, every state-changing request is refused");
        return;
    }
    admin_.setToken(std::make_pair(a.token_name, a.token_secret));
    log::get("admin")->info("admin=token name={} file={}", a.token_name, a.token_file);
}

// The GET /v1/events feed (docs/operating.md "Live events"). While a stream is open, every
// 500 ms: `event: calls` with the /v1/calls JSON when the calls changed (their clocks aside) or
// 5 s have passed; `event: refusal` for each refusal /v1/refusals shows that the last poll did
// not; `event: links` with /v1/links when a link's or a peer's state changed. A new stream gets
// calls and links at once. Polling keeps the engine and the links free of any admin hook on
// their paths; 500 ms is what an operator's eye needs.
void Daemon::eventsTick() {
    if (drain_finished_) {
        return;
    }
    const std::size_t streams = admin_.eventStreams();
    const bool joined = streams > events_streams_;
    if (events_streams_ == 0) {
        events_refusals_known_ = false;  // a first stream loads /v1/refusals itself
    }
    events_streams_ = streams;
    if (streams > 0) {
        const auto now = std::chrono::steady_clock::now();
        HttpResponse calls = admin_.internalGet("/v1/calls");
        if (calls.status == 200) {
            nlohmann::json j = nlohmann::json::parse(calls.body, nullptr, false);
            if (!j.is_discarded()) {
                j.erase("latency");
                for (auto& c : j["calls"]) {
                    c.erase("age_ms");
                    c.erase("duration_s");
                }
                std::string key = j.dump();
                if (joined || key != events_calls_ ||
                    now - events_calls_at_ >= std::chrono::seconds(5)) {
                    admin_.publish("calls", calls.body);
                    events_calls_ = std::move(key);
                    events_calls_at_ = now;
                }
            }
        }
        HttpResponse links = admin_.internalGet("/v1/links");
        if (links.status == 200) {
            nlohmann::json j = nlohmann::json::parse(links.body, nullptr, false);
            if (!j.is_discarded() && j.contains("links")) {
                nlohmann::json states = nlohmann::json::array();
                for (const auto& l : j["links"]) {
                    nlohmann::json peers = nlohmann::json::array();
                    for (const auto& p : l.value("peers", nlohmann::json::array())) {
                        peers.push_back(
                            {p.value("id", nlohmann::json()), p.value("state", nlohmann::json())});
                    }
                    states.push_back({l.value("id", nlohmann::json()),
                                      l.value("state", nlohmann::json()), peers});
                }
                std::string key = states.dump();
                if (joined || key != events_links_) {
                    admin_.publish("links", links.body);
                    events_links_ = std::move(key);
                }
            }
        }
        HttpResponse refusals = admin_.internalGet("/v1/refusals");
        if (refusals.status == 200) {
            nlohmann::json j = nlohmann::json::parse(refusals.body, nullptr, false);
            if (!j.is_discarded() && j.contains("refusals")) {
                std::vector<std::string> seen;
                std::vector<const nlohmann::json*> fresh;  // newest first
                for (const auto& r : j["refusals"]) {
                    seen.push_back(r.dump());
                    if (events_refusals_known_ &&
                        std::find(events_refusals_.begin(), events_refusals_.end(), seen.back()) ==
                            events_refusals_.end()) {
                        fresh.push_back(&r);
                    }
                }
                for (auto it = fresh.rbegin(); it != fresh.rend(); ++it) {
                    admin_.publish("refusal", (*it)->dump());
                }
                events_refusals_ = std::move(seen);
                events_refusals_known_ = true;
            }
        }
    }
    events_tick_.expires_after(std::chrono::milliseconds(500));
    events_tick_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) {
            eventsTick();
        }
    });
}

void Daemon::installConsoleRoutes() {
    admin_.enableEvents(config_.admin.max_event_streams, metrics_);

    // The live console: its embedded files. The page loads nothing but from this origin (the
    // Content-Security-Policy says so to the browser too), may not be framed, and its types
    // are not to be sniffed.
    auto asset = [](std::string_view name) {
        for (const ConsoleAsset& a : consoleAssets()) {
            if (a.name == name) {
                HttpResponse r(200, std::string(a.content_type), std::string(a.body));
                r.headers.emplace_back(
                    "Content-Security-Policy",
                    "default-src 'self'; img-src 'self' data:; "
                    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
                r.headers.emplace_back("X-Content-Type-Options", "nosniff");
                r.headers.emplace_back("Cache-Control", "no-cache");
                return r;
            }
        }
        return HttpResponse::text(404, "not found\n");
    };
    admin_.route("GET", "/", [asset](const HttpRequest&) { return asset("index.html"); });
    admin_.route("GET", "/console/*", [asset](const HttpRequest& req) {
        const std::string name = req.param("*");
        return asset(name.empty() ? std::string_view("index.html") : std::string_view(name));
    });
    // One call, the fields of /v1/calls.
    admin_.route("GET", "/v1/calls/{id}", [this](const HttpRequest& req) {
        const std::string id = req.param("id");
        for (const auto& view :
             onEveryEngine<nlohmann::json>([](engine::Engine& e) { return e.callsJson(); })) {
            for (const auto& c : view["calls"]) {
                if (c.value("id", "") == id) {
                    return HttpResponse::json(200, c);
                }
            }
        }
        return HttpResponse::json(404, {{"error", "no such call"}, {"call", id}});
    });

    admin_.route("GET", "/v1/keymap", [this](const HttpRequest&) {
        if (!keymap_) {
            return HttpResponse::json(404,
                                      {{"error", "no keymap store configured (keymap.store)"}});
        }
        const nlohmann::json st = keymap_->status();
        auto snap = keymapSnapshot();
        nlohmann::json j = {{"revision", snap ? nlohmann::json(snap->revision()) : nullptr},
                            {"store", st.value("store", "")},
                            {"loaded_at", isoFromUnixMs(st.value("loaded_at_ms", 0LL))},
                            {"groups", snap ? snap->groupCount() : 0},
                            {"users", snap ? snap->userCount() : 0},
                            {"loads", st.value("loads", 0)},
                            {"load_failures", st.value("load_failures", 0)}};
        if (st.contains("last_error")) {
            j["last_error"] = st["last_error"];
        }
        nlohmann::json groups = nlohmann::json::array();
        if (snap) {
            for (const auto& g : snap->keymap().groups) {
                groups.push_back({{"group", g.mc_group.uri},
                                  {"display_name", g.display_name},
                                  {"system", g.system},
                                  {"tgid", g.tgid},
                                  {"mode", std::string(keymap::toString(g.mode))}});
            }
        }
        j["group_list"] = groups;
        return HttpResponse::json(200, j);
    });

    // A group by its MC group URI (percent-encoded in the path), or by a talkgroup number
    // that exactly one group of the keymap has.
    admin_.route("GET", "/v1/keymap/groups/{id}", [this](const HttpRequest& req) {
        const std::string id = req.param("id");
        auto snap = keymapSnapshot();
        if (!snap) {
            return HttpResponse::json(404, {{"error", "no keymap revision loaded"}});
        }
        const keymap::GroupView* gv = snap->groupByMc(id);
        if (gv == nullptr && !id.empty() &&
            id.find_first_not_of("0123456789") == std::string::npos && id.size() < 10) {
            const auto tg = static_cast<std::uint32_t>(std::stoul(id));
            const keymap::Group* only = nullptr;
            int n = 0;
            for (const auto& g : snap->keymap().groups) {
                if (g.tgid == tg) {
                    only = &g;
                    ++n;
                }
            }
            if (n == 1) {
                gv = snap->groupByMc(only->mc_group.uri);
            }
        }
        if (gv == nullptr) {
            return HttpResponse::json(404, {{"error", "no such group"}, {"group", id}});
        }
        return HttpResponse::json(200, {{"group", gv->mcGroup().uri},
                                        {"display_name", gv->group->display_name},
                                        {"revision", snap->revision()},
                                        {"security", groupSecurity(*gv)},
                                        {"xml", keymap::renderGroupConfig(*gv)}});
    });
}

// What an operator with the token may do (POST, audited), and the audit list itself.
void Daemon::installActionRoutes() {
    admin_.route("GET", "/v1/audit",
                 [this](const HttpRequest&) { return HttpResponse::json(200, admin_.audit()); });

    // What SIGHUP does: all of the config file or none of it.
    admin_.route("POST", "/v1/reload", [this](const HttpRequest&) {
        log::get("daemon")->info("admin=reload file={}", config_.file);
        if (draining_) {
            return HttpResponse::json(409, {{"result", "refused"}, {"error", "draining"}});
        }
        HttpResponse r;
        if (reload()) {
            r = HttpResponse::json(200, {{"result", "reloaded"}, {"revision", config_revision_}});
            r.audit = fmt::format("reloaded {}: revision {}", config_.file, config_revision_);
        } else {
            r = HttpResponse::json(
                409,
                {{"result", "refused"}, {"error", reload_error_}, {"revision", config_revision_}});
            r.audit = fmt::format("reload refused: {}", reload_error_);
        }
        return r;
    });

    admin_.route("POST", "/v1/calls/{id}/end", [this](const HttpRequest& req) {
        const std::string id = req.param("id");
        const std::string detail = "ended by operator " + req.principal;
        bool ended = false;
        for (bool b : onEveryEngine<bool>(
                 [id, detail](engine::Engine& e) { return e.endCallById(id, detail); })) {
            ended = ended || b;
        }
        if (!ended) {
            return HttpResponse::json(404, {{"error", "no such call"}, {"call", id}});
        }
        HttpResponse r = HttpResponse::json(200, {{"result", "ended"}, {"call", id}});
        r.audit = fmt::format("ended call {} on every leg", id);
        return r;
    });

    // The link may run on several shards (a sharded type: one instance per worker, each owning
    // the peers the kernel hashed to it): shard 0's instance is asked here, then each worker's
    // on its own thread (the link's thread, as PeerControl requires), until one has the peer.
    admin_.route("POST", "/v1/links/{id}/peers/{peer}/disconnect", [this](const HttpRequest& req) {
        const std::string link = req.param("id");
        const std::string peer = req.param("peer");
        PeerDrop d = dropPeer(links_, link, peer);
        std::vector<unsigned> silent;  // workers that did not answer in time
        for (auto& w : workers_) {
            if (d.dropped) {
                break;
            }
            auto p = std::make_shared<std::promise<PeerDrop>>();
            auto f = p->get_future();
            asio::post(w->io, [p, wk = w.get(), link, peer] {
                p->set_value(dropPeer(wk->links, link, peer));
            });
            if (f.wait_for(kShardAnswerWait) != std::future_status::ready) {
                silent.push_back(w->index);
                continue;
            }
            const PeerDrop wd = f.get();
            d.known_link = d.known_link || wd.known_link;
            d.supported = d.supported || wd.supported;
            d.dropped = wd.dropped;
        }
        if (!d.dropped && !silent.empty()) {
            // The peer may be on a shard that did not answer: not a 404 (it may exist).
            return HttpResponse::json(503, {{"error", "a worker did not answer in time"},
                                            {"link", link},
                                            {"peer", peer},
                                            {"workers", silent}});
        }
        if (!d.known_link) {
            return HttpResponse::json(404, {{"error", "no such link"}, {"link", link}});
        }
        if (!d.dropped) {
            return HttpResponse::json(
                404,
                {{"error", d.supported ? "no such peer" : "this link has no peer sessions to drop"},
                 {"link", link},
                 {"peer", peer}});
        }
        HttpResponse r =
            HttpResponse::json(200, {{"result", "disconnected"}, {"link", link}, {"peer", peer}});
        r.audit = fmt::format("disconnected peer {} of link {}", peer, link);
        return r;
    });
}

}  // namespace iwf::gateway
