#include "gateway/ops_cli/ops_commands.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "gateway/ops_cli/admin_client.hpp"
#include "gateway/ops_cli/table.hpp"

namespace iwf::ops {

namespace {

using nlohmann::json;

// Options every live command takes.
struct Common {
    std::string admin = "http://127.0.0.1:9100";
    bool json_out = false;
    double timeout_s = 5.0;
};

struct Options {
    Common c;
    std::string id;          // call show
    bool watch = false;      // calls
    double interval_s = 2;   // calls --watch
    unsigned count = 0;      // calls --watch: refreshes, 0 = until interrupted
    std::size_t limit = 0;   // refusals: newest N, 0 = all iwfd keeps
    std::string token_file;  // reload
};

void addCommon(CLI::App* cmd, Common& c) {
    cmd->add_option("--admin", c.admin,
                    "iwfd's admin endpoint (admin.listen), also from IWF_ADMIN_URL")
        ->envname("IWF_ADMIN_URL")
        ->capture_default_str();
    cmd->add_flag("--json", c.json_out, "print iwfd's JSON answer as it is (for scripts)");
    cmd->add_option("--timeout", c.timeout_s, "seconds to wait for iwfd's answer")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->footer(
        "Exit codes: 0 ok, 1 refused by iwfd, 2 usage or local I/O error, 3 cannot reach iwfd, "
        "4 not authorized (401/403), 5 not found (404), 6 other error from iwfd.");
}

std::chrono::milliseconds timeoutOf(const Common& c) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(c.timeout_s * 1000)));
}

std::string firstLine(const std::string& s) {
    std::string l = s.substr(0, s.find('\n'));
    return l.size() > 300 ? l.substr(0, 300) + "..." : l;
}

// Turns a non-2xx answer into the exit code it means.
void checkStatus(const AdminReply& r, std::string_view what) {
    if (r.status >= 200 && r.status < 300) {
        return;
    }
    std::string msg = fmt::format("{}: iwfd answered {}", what, r.status);
    // iwfd's JSON errors say why in "error" (a refused reload: the config's file, line and
    // field); other answers are text.
    std::string detail = firstLine(r.body);
    try {
        const json j = json::parse(r.body);
        if (j.is_object() && j.contains("error") && j["error"].is_string()) {
            detail = firstLine(j["error"].get<std::string>());
        }
    } catch (const json::exception&) {
    }
    if (!detail.empty()) {
        msg += ": " + detail;
    }
    switch (r.status) {
        case 401:
            throw OpsError(kExitAuth,
                           msg + " (give the admin token: --token-file FILE or IWF_ADMIN_TOKEN)");
        case 403:
            throw OpsError(kExitAuth, msg);
        case 404:
            throw OpsError(kExitNotFound, msg);
        case 409:
            throw OpsError(kExitRefused, msg);
        default:
            throw OpsError(kExitServer, msg);
    }
}

json parseBody(const AdminReply& r, std::string_view what) {
    try {
        return json::parse(r.body);
    } catch (const json::exception& e) {
        throw OpsError(kExitServer,
                       fmt::format("{}: iwfd's answer is not JSON ({})", what, e.what()));
    }
}

AdminReply call(const Common& c, std::string_view method, const std::string& path,
                std::string_view bearer = {}) {
    const AdminUrl url = parseAdminUrl(c.admin);
    return adminRequest(url, method, path, bearer, timeoutOf(c));
}

json getJson(const Common& c, const std::string& path) {
    AdminReply r = call(c, "GET", path);
    checkStatus(r, "GET " + path);
    return parseBody(r, "GET " + path);
}

// A JSON value as a table cell: strings as they are, numbers and booleans printed, null "-".
std::string cell(const json& j) {
    if (j.is_null()) {
        return "-";
    }
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        return s.empty() ? "-" : s;
    }
    if (j.is_boolean()) {
        return j.get<bool>() ? "yes" : "no";
    }
    if (j.is_number_float()) {
        return fmt::format("{:.1f}", j.get<double>());
    }
    return j.dump();
}

std::string field(const json& j, const char* key) {
    return j.is_object() && j.contains(key) ? cell(j[key]) : "-";
}

// 3725.2 -> "1h02m05s"; 12.34 -> "12.3s".
std::string duration(double s) {
    if (s < 60) {
        return fmt::format("{:.1f}s", s);
    }
    const auto total = static_cast<std::uint64_t>(s);
    const std::uint64_t h = total / 3600;
    const std::uint64_t m = total / 60 % 60;
    const std::uint64_t sec = total % 60;
    return h > 0 ? fmt::format("{}h{:02}m{:02}s", h, m, sec) : fmt::format("{}m{:02}s", m, sec);
}

std::string ageOf(const json& c) {
    if (c.contains("duration_s") && c["duration_s"].is_number()) {
        return duration(c["duration_s"].get<double>());
    }
    if (c.contains("age_ms") && c["age_ms"].is_number()) {
        return duration(c["age_ms"].get<double>() / 1000.0);
    }
    return "-";
}

// The E2EE state of a call or leg: "encrypted" / "clear" / "unknown", with ALGID and key ID
// when iwfd gives them ({"state", "algid", "kid"} or today's plain string). Never key material:
// iwfd has none.
std::string e2eeOf(const json& j) {
    if (!j.contains("e2ee")) {
        return "-";
    }
    const json& e = j["e2ee"];
    if (e.is_string()) {
        return e.get<std::string>();
    }
    std::string s = field(e, "state");
    if (e.contains("algid") && !e["algid"].is_null()) {
        s += " algid " + cell(e["algid"]);
    }
    if (e.contains("kid") && !e["kid"].is_null()) {
        s += " kid " + cell(e["kid"]);
    }
    return s;
}

std::string talkerOf(const json& j) {
    if (!j.contains("talker") || !j["talker"].is_object()) {
        return "-";
    }
    const json& t = j["talker"];
    std::string s = field(t, "id");
    if (t.contains("side")) {
        s += " (" + cell(t["side"]) + ")";
    }
    return s;
}

void printJson(const json& j) {
    std::cout << j.dump(2) << "\n";
}

// ------------------------------------------------------------------------------------------
// Commands

int cmdStatus(const Options& o) {
    json s = getJson(o.c, "/v1/status");
    if (o.c.json_out) {
        printJson(s);
        return kExitOk;
    }
    Table t({"FIELD", "VALUE"});
    t.add({"instance", field(s, "instance")});
    t.add({"version", field(s, "version")});
    t.add({"uptime", s.contains("uptime_seconds") && s["uptime_seconds"].is_number()
                         ? duration(s["uptime_seconds"].get<double>())
                         : "-"});
    t.add({"ready", field(s, "ready")});
    t.add({"draining", field(s, "draining")});
    if (s.contains("config")) {
        t.add({"config", fmt::format("{} (revision {})", field(s["config"], "file"),
                                     field(s["config"], "revision"))});
    }
    t.add({"workers", field(s, "workers")});
    if (s.contains("keymap") && s["keymap"].is_object()) {
        const json& k = s["keymap"];
        std::string v = fmt::format("revision {}, {} groups, {} users ({})", field(k, "revision"),
                                    field(k, "groups"), field(k, "users"), field(k, "store"));
        if (k.contains("last_error")) {
            v += "; last error: " + cell(k["last_error"]);
        }
        t.add({"keymap", v});
    } else {
        t.add({"keymap", "none configured"});
    }
    if (s.contains("links") && s["links"].is_array()) {
        std::string v = std::to_string(s["links"].size());
        for (const auto& l : s["links"]) {
            v += (v.find(':') == std::string::npos ? ": " : ", ") + field(l, "name") + " (" +
                 field(l, "type") + ")";
        }
        t.add({"links", v});
    }
    t.print(std::cout);
    return kExitOk;
}

// The cluster part of /v1/status (docs/ha.md "Observability").
int cmdClusterStatus(const Options& o) {
    json s = getJson(o.c, "/v1/status");
    const json cl = s.value("cluster", json(nullptr));
    if (o.c.json_out) {
        printJson(cl);
        return kExitOk;
    }
    if (!cl.is_object()) {
        std::cout << "not in a cluster (iwfd's config has no cluster: section)\n";
        return kExitOk;
    }
    Table t({"FIELD", "VALUE"});
    t.add({"cluster", field(cl, "name")});
    t.add({"instance", field(cl, "instance")});
    t.add({"role", field(cl, "role")});
    t.add({"epoch", field(cl, "epoch")});
    t.add({"holder", fmt::format("{} (epoch {})", field(cl, "holder"), field(cl, "holder_epoch"))});
    t.add({"lease age", cl.contains("lease_age_seconds") && cl["lease_age_seconds"].is_number()
                            ? fmt::format("{:.2f}s", cl["lease_age_seconds"].get<double>())
                            : "-"});
    t.add({"lease remaining",
           cl.contains("lease_remaining_seconds") && cl["lease_remaining_seconds"].is_number()
               ? fmt::format("{:.2f}s", cl["lease_remaining_seconds"].get<double>())
               : "-"});
    t.add({"failovers", field(cl, "takeovers")});
    t.add({"acquisitions", field(cl, "acquisitions")});
    t.add({"fenced", field(cl, "fenced")});
    t.add({"lease", fmt::format("renew {} ms, expiry {} ms, margin {} ms ({})",
                                field(cl, "renew_period_ms"), field(cl, "lease_expiry_ms"),
                                field(cl, "safety_margin_ms"), field(cl, "store"))});
    if (cl.contains("last_error")) {
        t.add({"last error", field(cl, "last_error")});
    }
    t.print(std::cout);
    return kExitOk;
}

int cmdLinks(const Options& o) {
    json j = getJson(o.c, "/v1/links");
    if (o.c.json_out) {
        printJson(j);
        return kExitOk;
    }
    Table t({"LINK", "TYPE", "SIDE", "STATE", "LOCAL", "PEERS", "FRAMES_IN", "RELAYED", "LOST",
             "REFUSED", "DROPPED"});
    for (const auto& l : j.value("links", json::array())) {
        const json c = l.value("counters", json::object());
        t.add({field(l, "id"), field(l, "type"), field(l, "side"), field(l, "state"),
               field(l, "local"), std::to_string(l.value("peers", json::array()).size()),
               field(c, "frames_in"), field(c, "frames_relayed"), field(c, "frames_lost"),
               field(c, "refusals"), field(c, "engine_dropped")});
    }
    t.print(std::cout);
    if (j.contains("shards_unavailable")) {
        std::cerr << "iwfctl: workers that did not answer in time: "
                  << j["shards_unavailable"].dump() << "\n";
    }
    return kExitOk;
}

int cmdPeers(const Options& o) {
    json j = getJson(o.c, "/v1/peers");
    if (o.c.json_out) {
        printJson(j);
        return kExitOk;
    }
    Table t({"LINK", "PEER", "ADDRESS", "STATE", "LAST_SEEN"});
    for (const auto& p : j.value("peers", json::array())) {
        std::string seen = "-";
        if (p.contains("last_seen_s") && p["last_seen_s"].is_number()) {
            seen = duration(p["last_seen_s"].get<double>()) + " ago";
        }
        t.add({field(p, "link"), field(p, "id"), field(p, "address"), field(p, "state"), seen});
    }
    t.print(std::cout);
    return kExitOk;
}

int cmdRefusals(const Options& o) {
    json j = getJson(o.c, "/v1/refusals");
    if (o.limit > 0 && j.contains("refusals") && j["refusals"].size() > o.limit) {
        json& r = j["refusals"];
        r.erase(r.begin() + static_cast<std::ptrdiff_t>(o.limit), r.end());
    }
    if (o.c.json_out) {
        printJson(j);
        return kExitOk;
    }
    Table t({"TIME", "LINK", "REASON", "CAUSE", "SOURCE", "TARGET", "GROUP", "CALL"});
    for (const auto& r : j.value("refusals", json::array())) {
        t.add({field(r, "time"), field(r, "link"), field(r, "reason"), field(r, "cause"),
               field(r, "source"), field(r, "target"), field(r, "group"), field(r, "call")});
    }
    t.print(std::cout);
    return kExitOk;
}

void printCalls(const json& j) {
    Table t({"CALL", "KIND", "STATE", "GROUP", "E2EE", "TALKER", "FLOOR", "LEGS", "AGE"});
    for (const auto& c : j.value("calls", json::array())) {
        std::string legs;
        for (const auto& l : c.value("legs", json::array())) {
            legs += (legs.empty() ? "" : ",") + field(l, "link");
        }
        t.add({field(c, "id"), field(c, "kind"), field(c, "state"),
               c.contains("group") ? field(c, "group") : field(c, "lmr_group"), e2eeOf(c),
               talkerOf(c), field(c, "floor_state"), legs.empty() ? "-" : legs, ageOf(c)});
    }
    t.print(std::cout);
    std::cout << j.value("calls", json::array()).size() << " call(s)\n";
}

std::string nowText() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

int cmdCalls(const Options& o) {
    if (!o.watch) {
        json j = getJson(o.c, "/v1/calls");
        if (o.c.json_out) {
            printJson(j);
        } else {
            printCalls(j);
        }
        return kExitOk;
    }
    // --watch: a fresh view every interval. On a terminal the screen is redrawn; into a pipe
    // each view follows the last under a time stamp (--json: one JSON document per line). A
    // daemon that goes away (a restart) is reported and asked again at the next interval.
    const bool tty = isatty(STDOUT_FILENO) != 0;
    int rc = kExitOk;
    for (unsigned n = 0; o.count == 0 || n < o.count; ++n) {
        if (n > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(
                static_cast<std::int64_t>(std::llround(o.interval_s * 1000))));
        }
        std::optional<json> j;
        std::string error;
        try {
            j = getJson(o.c, "/v1/calls");
            rc = kExitOk;
        } catch (const OpsError& e) {
            error = e.what();
            rc = e.code();
        }
        if (o.c.json_out) {
            if (j) {
                std::cout << j->dump() << "\n";
            } else {
                std::cerr << "iwfctl: " << error << "\n";
            }
        } else {
            if (tty) {
                std::cout << "\033[H\033[2J";
            } else if (n > 0) {
                std::cout << "\n";
            }
            std::cout << "--- " << nowText() << "  " << o.c.admin << "  (every " << o.interval_s
                      << " s)\n";
            if (j) {
                printCalls(*j);
            } else {
                std::cout << "iwfctl: " << error << "\n";
            }
        }
        std::cout.flush();
    }
    return rc;
}

int cmdCallShow(const Options& o) {
    // The ID goes in the path: percent-encode what is not an unreserved character (RFC 3986
    // 2.3), so that an ID can never add a path segment or a query.
    std::string enc;
    for (unsigned char ch : o.id) {
        if (std::isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            enc += static_cast<char>(ch);
        } else {
            enc += fmt::format("%{:02X}", ch);
        }
    }
    json c = getJson(o.c, "/v1/calls/" + enc);
    if (c.contains("call") && c["call"].is_object()) {
        c = c["call"];
    }
    if (o.c.json_out) {
        printJson(c);
        return kExitOk;
    }
    Table t({"FIELD", "VALUE"});
    for (const char* k : {"id", "kind", "state", "priority", "group", "lmr_group", "mode",
                          "revision", "floor_arbiter", "floor_state", "transmissions", "frames"}) {
        if (c.contains(k)) {
            t.add({k, cell(c[k])});
        }
    }
    t.add({"e2ee", e2eeOf(c)});
    t.add({"talker", talkerOf(c)});
    t.add({"age", ageOf(c)});
    t.print(std::cout);
    std::cout << "\n";
    Table legs({"LINK", "SIDE", "REF", "FLOOR", "TALKER", "E2EE", "MI_RESYNCS", "FRAMES_IN",
                "FRAMES_OUT", "LOST"});
    for (const auto& l : c.value("legs", json::array())) {
        legs.add({field(l, "link"), field(l, "side"), field(l, "ref"), field(l, "floor"),
                  talkerOf(l), e2eeOf(l), field(l, "mi_resyncs"), field(l, "frames_in"),
                  field(l, "frames_out"), field(l, "frames_lost")});
    }
    legs.print(std::cout);
    return kExitOk;
}

std::string readToken(const Options& o) {
    if (!o.token_file.empty()) {
        std::ifstream in(o.token_file);
        std::stringstream ss;
        if (!in || !(ss << in.rdbuf())) {
            throw OpsError(kExitUsage, "--token-file " + o.token_file + ": cannot read it");
        }
        std::string s = bearerSecret(ss.str());
        if (s.empty()) {
            throw OpsError(kExitUsage, "--token-file " + o.token_file + ": no token in it");
        }
        return s;
    }
    if (const char* env = std::getenv("IWF_ADMIN_TOKEN"); env != nullptr) {
        return bearerSecret(env);
    }
    return {};
}

int cmdReload(const Options& o) {
    const std::string token = readToken(o);
    AdminReply r = call(o.c, "POST", "/v1/reload", token);
    checkStatus(r, "POST /v1/reload");
    json j = parseBody(r, "POST /v1/reload");
    if (o.c.json_out) {
        printJson(j);
    } else {
        std::cout << field(j, "result") << ": config revision " << field(j, "revision") << "\n";
    }
    return kExitOk;
}

// Runs a command; an OpsError (or any other) ends iwfctl with its exit code and one line on
// stderr.
template <typename F>
void run(F&& f) {
    int rc = kExitServer;
    try {
        rc = f();
    } catch (const OpsError& e) {
        std::cerr << "iwfctl: " << e.what() << "\n";
        rc = e.code();
    } catch (const std::exception& e) {
        std::cerr << "iwfctl: " << e.what() << "\n";
    }
    std::cout.flush();
    std::cerr.flush();
    std::exit(rc);
}

}  // namespace

void addOpsCommands(CLI::App& app) {
    auto o = std::make_shared<Options>();
    const std::string grp = "Live operations (iwfd's admin API)";

    CLI::App* status = app.add_subcommand("status",
                                          "iwfd's state: version, uptime, readiness, "
                                          "config and keymap revision, links");
    status->group(grp);
    addCommon(status, o->c);
    status->callback([o] { run([&] { return cmdStatus(*o); }); });

    CLI::App* links = app.add_subcommand(
        "links", "every configured link: state, local address, peers, frame and refusal counters");
    links->group(grp);
    addCommon(links, o->c);
    links->callback([o] { run([&] { return cmdLinks(*o); }); });

    CLI::App* peers = app.add_subcommand(
        "peers", "the peers of every link: repeaters, P25 peers, RFSSs, MC systems, last heard");
    peers->group(grp);
    addCommon(peers, o->c);
    peers->callback([o] { run([&] { return cmdPeers(*o); }); });

    CLI::App* calls = app.add_subcommand(
        "calls", "calls in progress: group, E2EE state, talker, floor, legs, age");
    calls->group(grp);
    addCommon(calls, o->c);
    calls->add_flag("-w,--watch", o->watch, "refresh until interrupted (Ctrl-C)");
    calls->add_option("--interval", o->interval_s, "seconds between refreshes (--watch)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    calls->add_option("--count", o->count, "stop after this many refreshes (--watch; 0 = never)")
        ->capture_default_str();
    calls->callback([o] { run([&] { return cmdCalls(*o); }); });

    CLI::App* callc = app.add_subcommand("call", "one call");
    callc->group(grp);
    callc->require_subcommand(1);
    CLI::App* show = callc->add_subcommand(
        "show", "one call in detail: both legs, talker on each side, E2EE state, MI resyncs");
    addCommon(show, o->c);
    show->add_option("ID", o->id, "the call's ID as `iwfctl calls` shows it")->required();
    show->callback([o] { run([&] { return cmdCallShow(*o); }); });

    CLI::App* refusals = app.add_subcommand(
        "refusals", "the last refusals, newest first: time, link, reason, cause, who, group, call");
    refusals->group(grp);
    addCommon(refusals, o->c);
    refusals->add_option("-n,--limit", o->limit, "show the newest N only (0 = all iwfd keeps)")
        ->capture_default_str();
    refusals->callback([o] { run([&] { return cmdRefusals(*o); }); });

    CLI::App* clusterc = app.add_subcommand("cluster", "high availability (docs/ha.md)");
    clusterc->group(grp);
    clusterc->require_subcommand(1);
    CLI::App* cstatus = clusterc->add_subcommand(
        "status", "role, lease holder, epoch, lease age, failovers of this instance's cluster");
    addCommon(cstatus, o->c);
    cstatus->callback([o] { run([&] { return cmdClusterStatus(*o); }); });

    CLI::App* reload = app.add_subcommand(
        "reload", "re-read iwfd's config file now, as SIGHUP does (needs the admin token)");
    reload->group(grp);
    addCommon(reload, o->c);
    reload
        ->add_option("--token-file", o->token_file,
                     "file holding the admin token (NAME:SECRET or SECRET, as admin.token_file); "
                     "default: the IWF_ADMIN_TOKEN environment variable")
        ->check(CLI::ExistingFile);
    reload->callback([o] { run([&] { return cmdReload(*o); }); });
}

}  // namespace iwf::ops
