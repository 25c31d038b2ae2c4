#include "keymap/cli/keymap_commands.hpp"

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "keymap/diff.hpp"
#include "keymap/snapshot.hpp"
#include "keymap/store.hpp"
#include "keymap/validate.hpp"
#include "keymap/xml_render.hpp"
#include "keymap/yaml_import.hpp"

namespace iwf::keymap {

namespace {

using nlohmann::json;

constexpr int kOk = 0;
constexpr int kRefused = 1;
constexpr int kUsage = 2;

struct Options {
    std::string store;
    bool json = false;
    std::string actor;
    std::string file;
    std::string out;
    std::string id;
    std::uint64_t revision = 0;
    std::size_t limit = 20;
    bool with_diff = false;
    std::string note;
    std::string encoding = std::string(kDefaultVoiceEncoding);
};

// Ends the process with `rc` (iwfctl's main returns 0 once parsing succeeded; a command that
// must report 1 or 2 leaves here, after its resources were released).
[[noreturn]] void finish(int rc) {
    std::cout.flush();
    std::cerr.flush();
    std::exit(rc);
}

void done(int rc) {
    if (rc != kOk) {
        finish(rc);
    }
    std::cout.flush();
}

std::string defaultActor() {
    const char* u = std::getenv("USER");
    char host[256] = {0};
    if (::gethostname(host, sizeof(host) - 1) != 0) {
        host[0] = 0;
    }
    std::string a = (u && *u) ? u : "iwfctl";
    if (host[0] != 0) {
        a += "@";
        a += host;
    }
    return a;
}

std::string storeSpec(const Options& o) {
    if (!o.store.empty()) {
        return o.store;
    }
    const char* env = std::getenv("IWF_KEYMAP_STORE");
    if (env != nullptr && *env != 0) {
        return env;
    }
    throw CLI::ValidationError("--store",
                               "no store: give --store sqlite:PATH|postgresql://... "
                               "or set IWF_KEYMAP_STORE");
}

std::string isoTime(std::int64_t ms) {
    std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

void printJson(const json& j) {
    std::cout << j.dump(2) << "\n";
}

// Reads and checks a YAML file. Returns kOk with `out` filled, or prints and returns 1/2.
int readAndValidate(const Options& o, Keymap& out, bool run_rules = true) {
    {
        std::ifstream probe(o.file);
        if (!probe) {
            std::cerr << "iwfctl keymap: " << o.file << ": cannot read file\n";
            return kUsage;
        }
    }
    try {
        out = loadKeymapYaml(o.file);
    } catch (const ConfigError& e) {
        if (o.json) {
            printJson({{"ok", false},
                       {"findings",
                        {{{"file", e.file()},
                          {"line", e.line()},
                          {"entry", e.field()},
                          {"rule", "syntax"},
                          {"message", e.message()}}}}});
        }
        std::cerr << "iwfctl keymap: refused: " << e.what() << "\n";
        return kRefused;
    }
    if (!run_rules) {
        return kOk;
    }
    std::vector<Finding> f = validate(out);
    if (f.empty()) {
        return kOk;
    }
    if (o.json) {
        json a = json::array();
        for (const auto& x : f) {
            a.push_back({{"file", x.file},
                         {"line", x.line},
                         {"entry", x.entry},
                         {"rule", x.rule},
                         {"message", x.message}});
        }
        printJson({{"ok", false}, {"findings", a}});
    }
    for (const auto& x : f) {
        std::cerr << "iwfctl keymap: refused: " << x.toString() << "\n";
    }
    std::cerr << "iwfctl keymap: " << f.size() << " finding(s); nothing was changed\n";
    return kRefused;
}

int cmdValidate(const Options& o) {
    Keymap k;
    int rc = readAndValidate(o, k);
    if (rc != kOk) {
        return rc;
    }
    if (o.json) {
        printJson({{"ok", true},
                   {"systems", k.systems.size()},
                   {"users", k.users.size()},
                   {"groups", k.groups.size()},
                   {"adhoc_rules", k.adhoc_rules.size()}});
    } else {
        std::cout << o.file << ": valid (" << k.systems.size() << " systems, " << k.users.size()
                  << " users, " << k.groups.size() << " groups, " << k.adhoc_rules.size()
                  << " ad hoc rules)\n";
    }
    return kOk;
}

int cmdImport(const Options& o) {
    Keymap k;
    int rc = readAndValidate(o, k);
    if (rc != kOk) {
        return rc;
    }
    auto store = openStore(storeSpec(o));
    CommitResult r = store->commit(k, o.actor.empty() ? defaultActor() : o.actor, "import",
                                   o.note.empty() ? o.file : o.note);
    if (o.json) {
        printJson({{"ok", true},
                   {"created", r.created},
                   {"revision", r.revision},
                   {"summary", diffSummary(r.changes)},
                   {"changes", diffToJson(r.changes)}});
    } else if (r.created) {
        std::cout << "imported " << o.file << " as revision " << r.revision << " ("
                  << diffSummary(r.changes) << ")\n";
    } else {
        std::cout << o.file << " equals revision " << r.revision << "; nothing to import\n";
    }
    return kOk;
}

int cmdExport(const Options& o) {
    auto store = openStore(storeSpec(o));
    std::optional<Keymap> k = store->load(o.revision);
    if (!k) {
        std::cerr << "iwfctl keymap: " << store->describe() << ": no revision "
                  << (o.revision ? std::to_string(o.revision) : std::string("yet")) << "\n";
        return kUsage;
    }
    std::string text = o.json ? toJson(*k).dump(2) + "\n" : exportKeymapYaml(*k);
    if (o.out.empty()) {
        std::cout << text;
    } else {
        std::ofstream f(o.out, std::ios::binary | std::ios::trunc);
        f << text;
        if (!f) {
            std::cerr << "iwfctl keymap: " << o.out << ": cannot write\n";
            return kUsage;
        }
    }
    return kOk;
}

int cmdDiff(const Options& o) {
    Keymap k;
    int rc = readAndValidate(o, k, false);
    if (rc != kOk) {
        return rc;
    }
    auto store = openStore(storeSpec(o));
    Keymap base;
    if (auto b = store->load(o.revision)) {
        base = std::move(*b);
    } else if (o.revision != 0) {
        std::cerr << "iwfctl keymap: no revision " << o.revision << "\n";
        return kUsage;
    }
    std::vector<Change> c = diff(base, k);
    if (o.json) {
        printJson({{"summary", diffSummary(c)}, {"changes", diffToJson(c)}});
    } else {
        std::cout << renderDiff(c) << diffSummary(c) << "\n";
    }
    return kOk;
}

int cmdHistory(const Options& o) {
    auto store = openStore(storeSpec(o));
    std::vector<RevisionInfo> h;
    if (o.revision != 0) {
        if (auto r = store->revisionInfo(o.revision)) {
            h.push_back(*r);
        } else {
            std::cerr << "iwfctl keymap: no revision " << o.revision << "\n";
            return kUsage;
        }
    } else {
        h = store->history(o.limit);
    }
    if (o.json) {
        json a = json::array();
        for (const auto& r : h) {
            json j = {{"revision", r.revision}, {"time", isoTime(r.time_ms)},
                      {"time_ms", r.time_ms},   {"actor", r.actor},
                      {"action", r.action},     {"note", r.note},
                      {"summary", r.summary}};
            if (o.with_diff || o.revision != 0) {
                j["diff"] = r.diff;
            }
            a.push_back(j);
        }
        printJson({{"head", store->headRevision()}, {"revisions", a}});
        return kOk;
    }
    for (const auto& r : h) {
        std::cout << r.revision << "  " << isoTime(r.time_ms) << "  " << r.actor << "  " << r.action
                  << "  " << r.note << "  (" << r.summary << ")\n";
        if (o.with_diff || o.revision != 0) {
            std::cout << r.diff;
        }
    }
    return kOk;
}

// Loads the head as a snapshot (show/render).
std::shared_ptr<const Snapshot> headSnapshot(const Options& o) {
    auto store = openStore(storeSpec(o));
    std::uint64_t rev = o.revision ? o.revision : store->headRevision();
    std::optional<Keymap> k = store->load(rev);
    if (!k) {
        std::cerr << "iwfctl keymap: " << store->describe() << ": no revision "
                  << (rev ? std::to_string(rev) : std::string("yet")) << "\n";
        return nullptr;
    }
    return Snapshot::build(std::move(*k), rev);
}

// A group by MC group ID or by SYSTEM/TGID.
const GroupView* findGroup(const Snapshot& s, const std::string& id) {
    if (const GroupView* g = s.groupByMc(id)) {
        return g;
    }
    auto slash = id.rfind('/');
    if (slash != std::string::npos) {
        try {
            unsigned long v = std::stoul(id.substr(slash + 1), nullptr, 0);
            return s.groupInSystem(id.substr(0, slash), static_cast<std::uint32_t>(v));
        } catch (const std::exception&) {
            return nullptr;
        }
    }
    return nullptr;
}

const UserView* findUser(const Snapshot& s, const std::string& id) {
    if (const UserView* u = s.userByMcId(id)) {
        return u;
    }
    auto slash = id.rfind('/');
    if (slash != std::string::npos) {
        try {
            unsigned long v = std::stoul(id.substr(slash + 1), nullptr, 0);
            return s.userInSystem(id.substr(0, slash), static_cast<std::uint32_t>(v));
        } catch (const std::exception&) {
            return nullptr;
        }
    }
    return nullptr;
}

int cmdShow(const Options& o, bool group) {
    auto snap = headSnapshot(o);
    if (!snap) {
        return kUsage;
    }
    json j;
    if (group) {
        const GroupView* g = findGroup(*snap, o.id);
        if (g == nullptr) {
            std::cerr << "iwfctl keymap: no group " << o.id << " in revision " << snap->revision()
                      << "\n";
            return kUsage;
        }
        j = toJson(*g->group);
        j["lmr_type"] = familyName(g->family);
        j["effective_codec"] = codecName(g->codec);
    } else {
        const UserView* u = findUser(*snap, o.id);
        if (u == nullptr) {
            std::cerr << "iwfctl keymap: no user " << o.id << " in revision " << snap->revision()
                      << "\n";
            return kUsage;
        }
        j = toJson(*u->user);
        j["lmr_type"] = familyName(u->system->family);
    }
    j["revision"] = snap->revision();
    if (o.json) {
        printJson(j);
    } else {
        for (const auto& [k, v] : j.items()) {
            std::cout << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
        }
    }
    return kOk;
}

int cmdRender(const Options& o, bool group) {
    auto snap = headSnapshot(o);
    if (!snap) {
        return kUsage;
    }
    if (group) {
        const GroupView* g = findGroup(*snap, o.id);
        if (g == nullptr) {
            std::cerr << "iwfctl keymap: no group " << o.id << "\n";
            return kUsage;
        }
        GroupRenderOptions ro;
        ro.voice_encoding = o.encoding;
        std::cout << renderGroupConfig(*g, ro);
    } else {
        const UserView* u = findUser(*snap, o.id);
        if (u == nullptr) {
            std::cerr << "iwfctl keymap: no user " << o.id << "\n";
            return kUsage;
        }
        std::cout << renderUserProfile(*u);
    }
    return kOk;
}

int cmdRollback(const Options& o) {
    auto store = openStore(storeSpec(o));
    if (!store->revisionInfo(o.revision)) {
        std::cerr << "iwfctl keymap: " << store->describe() << ": no revision " << o.revision
                  << "\n";
        return kUsage;
    }
    CommitResult r = store->rollback(o.revision, o.actor.empty() ? defaultActor() : o.actor);
    if (o.json) {
        printJson({{"ok", true},
                   {"created", r.created},
                   {"revision", r.revision},
                   {"rolled_back_to", o.revision},
                   {"summary", diffSummary(r.changes)},
                   {"changes", diffToJson(r.changes)}});
    } else if (r.created) {
        std::cout << "revision " << r.revision << " = revision " << o.revision << " ("
                  << diffSummary(r.changes) << ")\n";
    } else {
        std::cout << "the head (revision " << r.revision << ") already equals revision "
                  << o.revision << "\n";
    }
    return kOk;
}

// Runs a command, turning store/other errors into exit code 2.
template <typename F>
void run(F&& f) {
    int rc = kUsage;
    try {
        rc = f();
    } catch (const CLI::Error&) {
        throw;
    } catch (const StoreError& e) {
        std::cerr << "iwfctl keymap: " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "iwfctl keymap: " << e.what() << "\n";
    }
    done(rc);
}

}  // namespace

void addKeymapCommands(CLI::App& app) {
    auto o = std::make_shared<Options>();
    CLI::App* km = app.add_subcommand(
        "keymap", "keymap: LMR E2EE parameters and identity mappings (import, history, render)");
    km->require_subcommand(1);
    km->fallthrough();
    km->add_option("--store", o->store,
                   "keymap store: sqlite:PATH or postgresql://... (default $IWF_KEYMAP_STORE)");
    km->add_flag("--json", o->json, "JSON output");
    km->add_option("--actor", o->actor, "who makes the change (default $USER@host)");

    auto* imp = km->add_subcommand("import",
                                   "validate FILE and make it the next revision "
                                   "(all or nothing)");
    imp->add_option("FILE", o->file, "keymap YAML")->required();
    imp->add_option("--note", o->note, "note for the audit record (default: the file name)");
    imp->callback([o] { run([&] { return cmdImport(*o); }); });

    auto* exp = km->add_subcommand("export", "write a revision as YAML (or JSON with --json)");
    exp->add_option("-r,--revision", o->revision, "revision (default: head)");
    exp->add_option("-o,--output", o->out, "file (default: stdout)");
    exp->callback([o] { run([&] { return cmdExport(*o); }); });

    auto* val = km->add_subcommand("validate", "check FILE without touching a store");
    val->add_option("FILE", o->file, "keymap YAML")->required();
    val->callback([o] { run([&] { return cmdValidate(*o); }); });

    auto* dif = km->add_subcommand("diff", "what importing FILE would change");
    dif->add_option("FILE", o->file, "keymap YAML")->required();
    dif->add_option("-r,--revision", o->revision, "compare with this revision (default: head)");
    dif->callback([o] { run([&] { return cmdDiff(*o); }); });

    auto* his = km->add_subcommand("history", "revisions, newest first (actor, time, change)");
    his->add_option("-n,--limit", o->limit, "how many")->capture_default_str();
    his->add_option("-r,--revision", o->revision, "one revision, with its diff");
    his->add_flag("--diff", o->with_diff, "include each revision's diff");
    his->callback([o] { run([&] { return cmdHistory(*o); }); });

    auto* show = km->add_subcommand("show", "show one group or user of the head revision");
    show->require_subcommand(1);
    auto* sg = show->add_subcommand("group", "by MC group ID or SYSTEM/TGID");
    sg->add_option("ID", o->id)->required();
    sg->callback([o] { run([&] { return cmdShow(*o, true); }); });
    auto* su = show->add_subcommand("user", "by MC ID or SYSTEM/UNIT");
    su->add_option("ID", o->id)->required();
    su->callback([o] { run([&] { return cmdShow(*o, false); }); });

    auto* rb = km->add_subcommand("rollback", "make a new revision equal to revision REV");
    rb->add_option("REV", o->revision, "revision to return to")->required();
    rb->callback([o] { run([&] { return cmdRollback(*o); }); });

    auto* ren = km->add_subcommand("render", "XML for the MC group management server / profile");
    ren->require_subcommand(1);
    auto* rg = ren->add_subcommand("group-config", "group document of GROUP (TS 24.481)");
    rg->add_option("GROUP", o->id, "MC group ID or SYSTEM/TGID")->required();
    rg->add_option("-r,--revision", o->revision, "revision (default: head)");
    rg->add_option("--encoding", o->encoding,
                   "encoding/clock rate the IWF's SDP offers (media.encoding/clock_rate of the "
                   "mcptt-iwf1 link), named in <preferred-voice-encodings>")
        ->capture_default_str();
    rg->callback([o] { run([&] { return cmdRender(*o, true); }); });
    auto* ru = ren->add_subcommand("user-profile", "user profile of USER (TS 24.484)");
    ru->add_option("USER", o->id, "MC ID or SYSTEM/UNIT")->required();
    ru->add_option("-r,--revision", o->revision, "revision (default: head)");
    ru->callback([o] { run([&] { return cmdRender(*o, false); }); });
}

}  // namespace iwf::keymap
