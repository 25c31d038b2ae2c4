// iwf-harness: the LMR/MC interop test harness (docs/harness.md).
//   iwf-harness run SCENARIO.yaml --out DIR   drive a scenario through a real iwfd
//   iwf-harness demo [--out DIR]              iwfd with MC clients and radios talking in rounds
//   iwf-harness report DIR                    render DIR/report.json to DIR/report.html
//   iwf-harness selftest                      prove the opacity scanner finds a planted canary
#include <iostream>

#include <CLI/CLI.hpp>

#include "harness/opacity/scanner.hpp"
#include "harness/report/report.hpp"
#include "harness/runner/runner.hpp"

int main(int argc, char** argv) {
    CLI::App app{"iwf-harness - LMR/MC interop test harness for OpenIWF"};
    bool version = false;
    app.add_flag("-V,--version", version, "print the version and exit");

    iwf::harness::RunOptions run_opt;
    run_opt.iwfd = IWF_IWFD_PATH;
    run_opt.iwfctl = IWF_IWFCTL_PATH;
    auto* run = app.add_subcommand("run", "run a scenario through a real iwfd and write a report");
    run->add_option("scenario", run_opt.scenario, "scenario YAML file")->required();
    run->add_option("--out", run_opt.out_dir, "output directory (report, logs, capture)")
        ->required();
    run->add_option("--iwfd", run_opt.iwfd, "iwfd binary")->capture_default_str();
    run->add_option("--iwfctl", run_opt.iwfctl, "iwfctl binary")->capture_default_str();
    run->add_option("--dumpcap", run_opt.dumpcap, "dumpcap binary")->capture_default_str();
    run_opt.postgres_sh = IWF_POSTGRES_SH;
    run->add_option("--postgres", run_opt.postgres,
                    "a scenario with a `cluster` section: the PostgreSQL URL its iwfd instances "
                    "share (the run imports its keymap there); default: a throw-away server in a "
                    "fresh /tmp/iwf-harness-pg-* directory (its output in DIR/postgres.log)");
    run->add_option("--postgres-sh", run_opt.postgres_sh,
                    "the script that starts the throw-away server (Debian's postgresql-15)")
        ->capture_default_str();

    iwf::harness::DemoOptions demo_opt;
    demo_opt.run.scenario = IWF_DEMO_SCENARIO;
    demo_opt.run.out_dir = "var/demo";
    demo_opt.run.iwfd = IWF_IWFD_PATH;
    demo_opt.run.iwfctl = IWF_IWFCTL_PATH;
    long duration_s = 0;
    auto* demo = app.add_subcommand(
        "demo",
        "iwfd with the simulated MC system and radios: an encrypted P25 and an encrypted DMR "
        "talkgroup talk to MC clients in rounds until Ctrl-C");
    demo->add_option("--scenario", demo_opt.run.scenario, "scenario YAML file (repeated)")
        ->capture_default_str();
    demo->add_option("--out", demo_opt.run.out_dir, "output directory (config, log, report)")
        ->capture_default_str();
    demo->add_option("--admin-port", demo_opt.admin_port,
                     "iwfd's admin API port on 127.0.0.1 (0: any, see DIR/admin.port)")
        ->capture_default_str();
    demo->add_option("--duration", duration_s,
                     "stop after the round running when this many seconds have passed (0: "
                     "until Ctrl-C)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    demo->add_flag("--capture", demo_opt.capture,
                   "capture loopback UDP with dumpcap into DIR/capture.pcapng and scan it too");
    demo->add_option("--iwfd", demo_opt.run.iwfd, "iwfd binary")->capture_default_str();
    demo->add_option("--iwfctl", demo_opt.run.iwfctl, "iwfctl binary")->capture_default_str();
    demo->add_option("--dumpcap", demo_opt.run.dumpcap, "dumpcap binary")->capture_default_str();

    std::string report_dir;
    auto* rep = app.add_subcommand("report", "render DIR/report.json to DIR/report.html");
    rep->add_option("dir", report_dir, "a run's output directory")->required();

    auto* self = app.add_subcommand("selftest", "check that the opacity scanner finds a canary");

    CLI11_PARSE(app, argc, argv);
    if (version) {
        std::cout << "iwf-harness " << IWF_VERSION << "\n";
        return 0;
    }
    if (*run) {
        return iwf::harness::runScenario(run_opt, std::cout, std::cerr);
    }
    if (*demo) {
        demo_opt.duration = std::chrono::seconds(duration_s);
        return iwf::harness::runDemo(demo_opt, std::cout, std::cerr);
    }
    if (*rep) {
        const iwf::Status s = iwf::harness::renderReportDir(report_dir);
        if (!s.ok()) {
            std::cerr << "report: " << s.error().toString() << "\n";
            return 2;
        }
        std::cout << report_dir << "/report.html\n";
        return 0;
    }
    if (*self) {
        const iwf::Status s = iwf::harness::scannerSelfTest();
        std::cout << "opacity scanner self-test: " << (s.ok() ? "ok" : s.error().toString())
                  << "\n";
        return s.ok() ? 0 : 1;
    }
    std::cout << app.help();
    return 2;
}
