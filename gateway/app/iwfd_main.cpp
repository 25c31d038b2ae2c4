// iwfd: the OpenIWF gateway daemon.
#include <iostream>

#include <CLI/CLI.hpp>

#include "common/log.hpp"
#include "gateway/daemon/daemon.hpp"
#include "gateway/daemon/link_types.hpp"

int main(int argc, char** argv) {
    CLI::App app{"iwfd - OpenIWF interworking function between LMR (P25, DMR) and 3GPP MC systems"};
    std::string config = "/etc/openiwf/iwfd.yaml";
    bool check = false;
    bool version = false;
    app.add_option("-c,--config", config, "configuration file (YAML)")->capture_default_str();
    app.add_flag("--check-config", check, "validate the configuration and exit (0 ok, 2 invalid)");
    app.add_flag("-V,--version", version, "print the version and exit");
    CLI11_PARSE(app, argc, argv);

    if (version) {
        std::cout << "iwfd " << iwf::gateway::versionString() << "\n";
        return 0;
    }
    const iwf::LinkRegistry link_types = iwf::gateway::allLinkTypes();
    iwf::gateway::DaemonConfig cfg;
    try {
        cfg = iwf::gateway::loadDaemonConfig(config, link_types);
    } catch (const iwf::ConfigError& e) {
        std::cerr << "iwfd: invalid configuration: " << e.what() << "\n";
        return 2;
    }
    if (check) {
        std::cout << "iwfd: configuration OK: " << config << " (" << cfg.links.size()
                  << " links)\n";
        return 0;
    }
    try {
        iwf::gateway::Daemon daemon(std::move(cfg), link_types);
        return daemon.run();
    } catch (const std::exception& e) {
        std::cerr << "iwfd: fatal: " << e.what() << "\n";
        return 1;
    }
}
