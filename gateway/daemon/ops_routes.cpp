// GET /v1/links, /v1/peers and /v1/refusals: what an operator asks first ("is the link to
// site 12 up, why was that call refused"), served read-only on the admin address (docs/
// operations.md has the shapes; `iwfctl links|peers|refusals` print them).
//
// Threading (docs/architecture.md "Threading"): a link and an engine are touched only on
// their shard's thread. Shard 0 is this thread (the admin endpoint runs on it); the instances
// a worker runs are asked on the worker's io_context and the admin thread waits for the
// answer, 1 s at most, as /v1/calls does. A worker that does not answer in time is shown as
// unavailable rather than holding the admin endpoint.
#include <algorithm>
#include <future>
#include <map>
#include <tuple>

#include "gateway/daemon/daemon.hpp"

namespace iwf::gateway {

namespace {

constexpr auto kShardWait = std::chrono::seconds(1);

HttpResponse jsonResponse(const nlohmann::json& j) {
    HttpResponse r;
    r.status = 200;
    r.content_type = "application/json";
    r.body = j.dump(2) + "\n";
    return r;
}

nlohmann::json peerJson(const PeerView& p) {
    nlohmann::json j = {{"id", p.id}, {"address", p.address}, {"state", p.state}};
    j["last_seen_s"] = p.last_seen_s ? nlohmann::json(*p.last_seen_s) : nlohmann::json();
    return j;
}

// Runs `fn` on the worker's thread and returns its result, or nullopt after kShardWait.
template <typename Fn>
auto onShard(asio::io_context& io, Fn fn) -> std::optional<decltype(fn())> {
    using T = decltype(fn());
    auto p = std::make_shared<std::promise<T>>();
    auto f = p->get_future();
    asio::post(io, [p, fn = std::move(fn)] { p->set_value(fn()); });
    if (f.wait_for(kShardWait) != std::future_status::ready) {
        return std::nullopt;
    }
    return f.get();
}

}  // namespace

nlohmann::json Daemon::linksJson() {
    // Views of every instance by link name: shard 0's here, the workers' on their threads.
    std::map<std::string, std::vector<LinkView>> views;
    for (const auto& l : links_) {
        views[l->id().name].push_back(l->view());
    }
    std::vector<unsigned> unavailable;
    for (auto& w : workers_) {
        auto got = onShard(w->io, [wk = w.get()] {
            std::vector<std::pair<std::string, LinkView>> out;
            for (const auto& l : wk->links) {
                out.emplace_back(l->id().name, l->view());
            }
            return out;
        });
        if (!got) {
            unavailable.push_back(w->index);
            continue;
        }
        for (auto& [name, v] : *got) {
            views[name].push_back(std::move(v));
        }
    }
    nlohmann::json links = nlohmann::json::array();
    for (const auto& lc : config_.links) {
        const std::vector<LinkView>& vs = views[lc.name];
        nlohmann::json j;
        j["id"] = lc.name;
        j["type"] = lc.type;
        j["side"] = lc.side == Side::Lmr ? "lmr" : "mc";
        // Every instance runs the same state machine on its own socket; the link is as up as
        // its instance 0 (the one every sibling's port follows).
        j["state"] = vs.empty() ? "not_started" : vs.front().state;
        j["local"] = vs.empty() ? "" : vs.front().local;
        j["instances"] = vs.size();
        std::vector<const PeerView*> sorted;
        for (const LinkView& v : vs) {
            for (const PeerView& p : v.peers) {
                sorted.push_back(&p);
            }
        }
        std::sort(sorted.begin(), sorted.end(), [](const PeerView* a, const PeerView* b) {
            return std::tie(a->id, a->address) < std::tie(b->id, b->address);
        });
        nlohmann::json peers = nlohmann::json::array();
        for (const PeerView* p : sorted) {
            peers.push_back(peerJson(*p));
        }
        j["peers"] = peers;
        const metrics::Labels by_link{{"link", lc.name}};
        j["counters"] = {
            {"frames_in", metrics_.counterValue("iwf_engine_frames_in_total", by_link)},
            {"frames_relayed", metrics_.counterValue("iwf_engine_frames_relayed_total", by_link)},
            {"frames_lost", metrics_.counterValue("iwf_engine_frames_lost_total", by_link)},
            {"refusals", metrics_.counterSum("iwf_engine_refusals_total", by_link)},
            {"engine_dropped", metrics_.counterSum("iwf_engine_dropped_total", by_link)},
            {"deliver_failures", metrics_.counterSum("iwf_engine_deliver_failures_total", by_link)},
        };
        links.push_back(std::move(j));
    }
    nlohmann::json out = {{"links", links}};
    if (!unavailable.empty()) {
        out["shards_unavailable"] = unavailable;
    }
    return out;
}

nlohmann::json Daemon::refusalsJson(std::size_t limit) {
    std::vector<engine::RefusalRecord> all = engine_->refusalLog().newestFirst();
    std::uint64_t total = engine_->refusalLog().total();
    std::vector<unsigned> unavailable;
    for (auto& w : workers_) {
        auto got = onShard(w->io, [wk = w.get()] {
            return std::make_pair(wk->engine->refusalLog().newestFirst(),
                                  wk->engine->refusalLog().total());
        });
        if (!got) {
            unavailable.push_back(w->index);
            continue;
        }
        total += got->second;
        all.insert(all.end(), std::make_move_iterator(got->first.begin()),
                   std::make_move_iterator(got->first.end()));
    }
    // Newest first across shards: by time, then by each shard's own order.
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
        if (a.time_ms != b.time_ms) {
            return a.time_ms > b.time_ms;
        }
        return a.shard == b.shard ? a.seq > b.seq : a.shard < b.shard;
    });
    if (all.size() > limit) {
        all.resize(limit);
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : all) {
        list.push_back(engine::RefusalLog::toJson(r));
    }
    nlohmann::json out = {{"refusals", list}, {"total", total}};
    if (!unavailable.empty()) {
        out["shards_unavailable"] = unavailable;
    }
    return out;
}

void Daemon::installOpsRoutes() {
    admin_.route("/v1/links", [this] { return jsonResponse(linksJson()); });
    admin_.route("/v1/peers", [this] {
        const nlohmann::json links = linksJson();  // the range below must not be a temporary's
        nlohmann::json peers = nlohmann::json::array();
        for (const auto& l : links["links"]) {
            for (auto p : l["peers"]) {
                p["link"] = l["id"];
                peers.push_back(std::move(p));
            }
        }
        return jsonResponse(nlohmann::json{{"peers", peers}});
    });
    admin_.route("/v1/refusals", [this] { return jsonResponse(refusalsJson()); });
}

}  // namespace iwf::gateway
