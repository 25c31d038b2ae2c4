// iwf-harness: the LMR/MC interop test harness (docs/harness.md).
//   iwf-harness run SCENARIO.yaml --out DIR   drive a scenario through a real iwfd
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
