#include "gateway/config/daemon_config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include <fmt/format.h>

#include "common/fsm.hpp"
#include "gateway/engine/engine_tables.hpp"

namespace iwf::gateway {

namespace {

std::string fnv1a(const std::string& data) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : data) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return fmt::format("{:016x}", h);
}

void parseLog(const ConfigNode& n, log::Options& out) {
    n.expectKeys({"level", "file", "subsystems"});
    std::string level =
        n.getEnum("level", {"trace", "debug", "info", "warn", "error", "critical", "off"}, "info");
    log::parseLevel(level, out.level);
    out.file = n.getString("file", "");
    if (auto subs = n.optionalChild("subsystems")) {
        for (const auto& key : subs->keys()) {
            std::string v =
                subs->getEnum(key, {"trace", "debug", "info", "warn", "error", "critical", "off"});
            spdlog::level::level_enum lv{};
            log::parseLevel(v, lv);
            out.subsystem_levels[key] = lv;
        }
    }
}

void parseCluster(const ConfigNode& root, const ConfigNode& n, ClusterConfig& out) {
    n.expectKeys({"name", "store", "renew_period", "lease_expiry", "safety_margin"});
    out.enabled = true;
    if (!root.has("instance")) {
        n.fail("", "needs a top-level `instance`: each instance of a cluster names itself");
    }
    out.name = n.getString("name", out.name);
    if (out.name.empty() || out.name.size() > 64) {
        n.fail("name", "must be 1-64 characters");
    }
    out.store = n.getString("store");
    if (out.store.rfind("postgresql://", 0) != 0 && out.store.rfind("postgres://", 0) != 0) {
        n.fail("store",
               "expected \"postgresql://...\" (the lease is shared by the instances), got \"" +
                   out.store + "\"");
    }
    out.renew_period = n.getDuration("renew_period", out.renew_period);
    if (out.renew_period < std::chrono::milliseconds(10) ||
        out.renew_period > std::chrono::seconds(60)) {
        n.fail("renew_period", "must be between 10ms and 60s");
    }
    out.lease_expiry = n.getDuration("lease_expiry", out.lease_expiry);
    out.safety_margin = n.getDuration("safety_margin", out.safety_margin);
    if (out.safety_margin.count() <= 0) {
        n.fail("safety_margin", "must be longer than 0");
    }
    if (out.lease_expiry - out.safety_margin < 2 * out.renew_period) {
        n.fail("lease_expiry",
               fmt::format("must be at least safety_margin + 2 x renew_period ({}ms): an instance "
                           "must have two tries to renew before it stops forwarding",
                           (out.safety_margin + 2 * out.renew_period).count()));
    }
}

void parseKeymap(const ConfigNode& n, KeymapConfig& out) {
    n.expectKeys({"store", "poll_interval"});
    out.store = n.getString("store");
    if (out.store.rfind("sqlite:", 0) != 0 && out.store.rfind("postgresql://", 0) != 0 &&
        out.store.rfind("postgres://", 0) != 0) {
        n.fail("store",
               "expected \"sqlite:PATH\" or \"postgresql://...\", got \"" + out.store + "\"");
    }
    out.poll_interval = n.getDuration("poll_interval", out.poll_interval);
    if (out.poll_interval.count() < 10) {
        n.fail("poll_interval", "must be at least 10ms");
    }
}

void parseLinks(const ConfigNode& root, std::string_view key, Side side, const LinkRegistry& reg,
                std::vector<LinkConfig>& out, std::set<std::string>& names) {
    for (const ConfigNode& item : root.optionalList(key)) {
        if (!item.isMap()) {
            item.fail("", "expected a mapping with name and type");
        }
        LinkConfig lc{item.getString("name"), item.getString("type"), side, item};
        if (lc.name.empty()) {
            item.fail("name", "must not be empty");
        }
        if (!names.insert(lc.name).second) {
            item.fail("name", "duplicate link name \"" + lc.name + "\"");
        }
        const LinkType* t = reg.find(lc.type);
        if (t == nullptr || t->side != side) {
            std::string known;
            for (const auto& n : reg.names()) {
                const LinkType* k = reg.find(n);
                if (k->side == side) {
                    known += known.empty() ? n : ", " + n;
                }
            }
            item.fail("type", fmt::format("unknown {} link type \"{}\" (known: {})",
                                          side == Side::Lmr ? "LMR" : "MC", lc.type,
                                          known.empty() ? "none" : known));
        }
        t->validate(item);
        out.push_back(std::move(lc));
    }
}

// Caps and timeouts of every TCP/TLS connection iwfd accepts (docs/security.md).
void parseConnections(const ConfigNode& n, net::ConnectionLimits& c) {
    n.expectKeys({"max", "max_per_source", "idle_timeout", "handshake_timeout"});
    // 0 = automatic (half of the fd limit, resolved at start).
    c.max_total = static_cast<std::size_t>(n.getInt("max", 0, 10'000'000, 0));
    c.max_per_source =
        static_cast<std::size_t>(n.getInt("max_per_source", 1, 10'000'000, c.max_per_source));
    c.idle_timeout = n.getDuration("idle_timeout", c.idle_timeout);
    c.handshake_timeout = n.getDuration("handshake_timeout", c.handshake_timeout);
    if (c.idle_timeout.count() <= 0) {
        n.fail("idle_timeout", "must be longer than 0");
    }
    if (c.handshake_timeout.count() <= 0) {
        n.fail("handshake_timeout", "must be longer than 0");
    }
}

// admin.token_file: one line, NAME:SECRET or SECRET (name "operator"). The file must be
// readable by iwfd alone (no group or other permission bits), like an ssh private key: a token
// anyone on the host can read authorises nothing. A relative path is taken from the config
// file's directory.
void loadAdminToken(const ConfigNode& admin, const std::string& config_file, AdminConfig& out) {
    std::string path = admin.getString("token_file");
    if (path.empty()) {
        admin.fail("token_file", "must name a file (leave the key out for no token)");
    }
    if (path[0] != '/' && !config_file.empty()) {
        const auto slash = config_file.rfind('/');
        if (slash != std::string::npos) {
            path = config_file.substr(0, slash + 1) + path;
        }
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        admin.fail("token_file", fmt::format("cannot read {}: {}", path, std::strerror(errno)));
    }
    if ((st.st_mode & 077) != 0) {
        admin.fail("token_file", fmt::format("{} is readable by others (mode {:o}): chmod 600 it",
                                             path, st.st_mode & 0777));
    }
    std::ifstream in(path);
    std::string line;
    if (!in || !std::getline(in, line)) {
        admin.fail("token_file", fmt::format("cannot read {} (or it is empty)", path));
    }
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.pop_back();
    }
    std::string name = "operator";
    std::string secret = line;
    if (auto colon = line.find(':'); colon != std::string::npos) {
        name = line.substr(0, colon);
        secret = line.substr(colon + 1);
    }
    if (name.empty() || name.size() > 64 ||
        !std::all_of(name.begin(), name.end(), [](unsigned char ch) {
            return std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '@';
        })) {
        admin.fail("token_file", fmt::format("{}: the name before ':' must be 1-64 characters "
                                             "of [A-Za-z0-9._@-]",
                                             path));
    }
    if (secret.size() < 16) {
        admin.fail("token_file",
                   fmt::format("{}: the secret must be at least 16 characters (it has {})", path,
                               secret.size()));
    }
    out.token_file = path;
    out.token_name = name;
    out.token_secret = secret;
}

}  // namespace

DaemonConfig parseDaemonConfig(const ConfigNode& root, const LinkRegistry& links) {
    DaemonConfig c;
    c.file = root.file();
    root.expectKeys({"instance", "sip_domain", "admin", "connections", "log", "keymap", "timers",
                     "lmr_links", "mc_links", "workers", "drain", "messages", "cluster"});
    c.instance = root.getString("instance", c.instance);
    c.workers = static_cast<unsigned>(root.getInt("workers", 1, 64, 1));
    c.sip_domain = root.getString("sip_domain", c.sip_domain);
    if (auto admin = root.optionalChild("admin")) {
        admin->expectKeys(
            {"address", "port", "port_file", "max_connections", "token_file", "max_event_streams"});
        c.connections.max_admin = static_cast<std::size_t>(
            admin->getInt("max_connections", 1, 100'000, c.connections.max_admin));
        c.admin.address = admin->getIpAddress("address", c.admin.address);
        c.admin.port = static_cast<std::uint16_t>(admin->getInt("port", 0, 65535, c.admin.port));
        c.admin.port_file = admin->getString("port_file", "");
        c.admin.max_event_streams = static_cast<std::size_t>(admin->getInt(
            "max_event_streams", 1, 1000, static_cast<int>(c.admin.max_event_streams)));
        if (admin->has("token_file")) {
            loadAdminToken(*admin, c.file, c.admin);
        }
    }
    if (auto n = root.optionalChild("connections")) {
        parseConnections(*n, c.connections);
    }
    if (auto l = root.optionalChild("log")) {
        parseLog(*l, c.log);
    }
    if (auto d = root.optionalChild("drain")) {
        d->expectKeys({"deadline"});
        c.drain_deadline = d->getDuration("deadline", c.drain_deadline);
        if (c.drain_deadline.count() < 0 || c.drain_deadline > std::chrono::hours(1)) {
            d->fail("deadline", "must be between 0s and 1h");
        }
    }
    if (auto m = root.optionalChild("messages")) {
        m->expectKeys({"store", "max_attempts"});
        c.messages_store = m->getString("store");
        c.messages_max_attempts =
            static_cast<int>(m->getInt("max_attempts", 1, 1'000'000, c.messages_max_attempts));
        if (c.messages_store.rfind("sqlite:", 0) != 0 &&
            c.messages_store.rfind("postgresql://", 0) != 0 &&
            c.messages_store.rfind("postgres://", 0) != 0) {
            m->fail("store", "expected \"sqlite:PATH\" or \"postgresql://...\", got \"" +
                                 c.messages_store + "\"");
        }
    }
    if (auto k = root.optionalChild("keymap")) {
        parseKeymap(*k, c.keymap);
    }
    if (auto cl = root.optionalChild("cluster")) {
        parseCluster(root, *cl, c.cluster);
        if (c.messages_store.rfind("sqlite:", 0) == 0) {
            root.optionalChild("messages")
                ->fail("store",
                       "a cluster needs a message store its instances share: "
                       "\"postgresql://...\" (docs/ha.md)");
        }
    }
    if (auto t = root.optionalChild("timers")) {
        TimerTable known;
        engine::registerEngineTimers(known);
        for (const auto& key : t->keys()) {
            if (!known.known(key)) {
                std::string names;
                for (const auto& [name, value] : known.defaults()) {
                    names += names.empty() ? name : ", " + name;
                }
                t->fail(key, fmt::format("unknown timer (known: {})", names));
            }
            c.timers[key] = t->getDuration(key);
            if (c.timers[key].count() <= 0) {
                t->fail(key, "must be longer than 0");
            }
        }
    }
    std::set<std::string> names;
    parseLinks(root, "lmr_links", Side::Lmr, links, c.links, names);
    parseLinks(root, "mc_links", Side::Mc, links, c.links, names);
    // workers > 1 with links that run on worker 0 only (MC, ISSI, HBP) next to sharded LMR
    // links is accepted: worker 0 then owns every call and the other workers hand it the
    // events of their sharded link instances (gateway/daemon/shard_handoff.hpp, docs/engine.md
    // "Worker threads"), so no combination of link types strands a call.
    return c;
}

DaemonConfig loadDaemonConfig(const std::string& path, const LinkRegistry& links) {
    ConfigNode root = ConfigNode::loadFile(path);
    DaemonConfig c = parseDaemonConfig(root, links);
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    c.digest = fnv1a(ss.str());
    return c;
}

}  // namespace iwf::gateway
