#pragma once
// iwfd's configuration file (YAML). Reference: README.md "Configuration" and
// configs/iwfd.yaml. Every error names file, line and field (ConfigError).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config_node.hpp"
#include "common/connection_gate.hpp"
#include "common/link_registry.hpp"
#include "common/log.hpp"

namespace iwf::gateway {

struct AdminConfig {
    std::string address = "127.0.0.1";
    std::uint16_t port = 9100;  // 0 = pick a free port (tests); the bound port is logged
    std::string port_file;      // if set, the bound port is written there (tests, scripts)
    // The bearer token every state-changing request (POST) must present (docs/operating.md):
    // `admin.token_file` holds NAME:SECRET or SECRET (name "operator"); read at start and at
    // each reload. Empty token_file = no token: every POST is refused (403).
    std::string token_file;
    std::string token_name;
    std::string token_secret;
    // Concurrent GET /v1/events streams (each also holds a place in the connection gate).
    std::size_t max_event_streams = 8;
};

struct KeymapConfig {
    std::string store;  // "sqlite:PATH" or "postgresql://..."; empty = no keymap
    std::chrono::milliseconds poll_interval{2000};
};

// `cluster:` - high availability (docs/ha.md): instances of one cluster share a lease in
// PostgreSQL; only the holder starts its links and forwards. No section = a single instance,
// links started at once (today's behaviour).
struct ClusterConfig {
    bool enabled = false;
    std::string name = "iwf";  // the lease row's key: the instances of one cluster share it
    std::string store;         // postgresql://... (as keymap.store)
    std::chrono::milliseconds renew_period{500};
    std::chrono::milliseconds lease_expiry{2000};
    std::chrono::milliseconds safety_margin{500};
};

struct LinkConfig {
    std::string name;
    std::string type;
    Side side = Side::Lmr;
    ConfigNode node;  // the whole section, for the link type's create()
};

struct DaemonConfig {
    std::string file;
    std::string instance = "iwf";
    std::string sip_domain = "iwf.localdomain";
    AdminConfig admin;
    // `connections:` - every TCP/TLS connection iwfd accepts (SIP, admin): caps, timeouts.
    net::ConnectionLimits connections;
    log::Options log;
    KeymapConfig keymap;
    std::map<std::string, std::chrono::milliseconds> timers;
    std::vector<LinkConfig> links;
    // Data-plane worker threads (docs/engine.md "Worker threads"): 1 = everything on one
    // thread; N > 1 = N engine shards, link types that support it run one instance per worker.
    unsigned workers = 1;
    // SIGTERM: how long calls in progress may go on before the links are stopped anyway
    // (docs/security.md "Restart, reload and drain").
    std::chrono::milliseconds drain_deadline{30000};
    // Durable store of SDS and KMM messages accepted with an acknowledgement ("sqlite:PATH"
    // or "postgresql://..."); empty = none (docs/security.md "Nothing acknowledged is lost").
    std::string messages_store;
    // Tries of a stored message before it is marked failed (a sender that asked for a
    // delivery notification then gets UNDELIVERED); one try every 2 s toward LMR, so the
    // default 900 is half an hour (messages.max_attempts).
    int messages_max_attempts = 900;
    ClusterConfig cluster;
    std::string digest;  // FNV-1a of the file's bytes: tells reloads apart in /metrics
};

// Parses and validates a config file; throws ConfigError.
DaemonConfig loadDaemonConfig(const std::string& path, const LinkRegistry& links);
DaemonConfig parseDaemonConfig(const ConfigNode& root, const LinkRegistry& links);

}  // namespace iwf::gateway
