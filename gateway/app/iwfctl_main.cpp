// iwfctl: OpenIWF configuration and operations CLI. Each area adds its subcommands from its
// own folder through one add…Commands(CLI::App&) call below; this file stays thin.
//
// Exit codes: 0 ok, 1 refused by validation (or by iwfd), 2 usage or I/O error; the live
// commands add 3 cannot reach iwfd, 4 not authorized, 5 not found, 6 other error from iwfd
// (gateway/ops_cli/admin_client.hpp, README "iwfctl exit codes").
#include <iostream>

#include <CLI/CLI.hpp>

#include "gateway/ops_cli/ops_commands.hpp"
#include "keymap/cli/keymap_commands.hpp"
#include "lmr_adapters/analog/cli/decode_usrp.hpp"
#include "lmr_adapters/dmr/cli/decode_hbp.hpp"
#include "lmr_adapters/p25/cli/decode_commands.hpp"
#include "mc_adapters/rtp/cli/decode_lmr_rtp.hpp"

int main(int argc, char** argv) {
    CLI::App app{"iwfctl - OpenIWF configuration and operations CLI"};
    bool version = false;
    app.add_flag("-V,--version", version, "print the version and exit");
    app.require_subcommand(0, 1);

    // Subcommand groups; each area adds its commands below them.
    CLI::App* decode = app.add_subcommand(
        "decode", "decode a capture (pcap or hex dump, one datagram per line) into JSON lines");
    decode->require_subcommand(1);
    // (area registrations: one line each)
    iwf::lmr::dmr::addDecodeCommands(*decode);
    iwf::lmr::analog::addDecodeCommands(*decode);
    iwf::lmr::p25::addDecodeCommands(*decode);
    iwf::mc::rtp::addDecodeCommands(*decode);
    iwf::keymap::addKeymapCommands(app);
    iwf::ops::addOpsCommands(app);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    if (version) {
        std::cout << "iwfctl " << IWF_VERSION << "\n";
        return 0;
    }
    if (app.get_subcommands().empty()) {
        std::cout << app.help();
        return 2;
    }
    return 0;
}
