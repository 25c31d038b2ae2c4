// `iwf-harness run`: the plan of a run, composed from the scenario (docs/harness.md "How a
// run is composed"). Each entry is a named step (lab.hpp); the steps are in
// setup_steps.cpp, timeline_steps.cpp, data_step.cpp, check_steps.cpp and finish_steps.cpp.
#include "harness/runner/runner.hpp"

#include <filesystem>

#include "harness/runner/analog_run.hpp"
#include "harness/runner/cluster.hpp"
#include "harness/runner/lab.hpp"

namespace iwf::harness {

namespace {

std::vector<PlanStep> planOf(const Scenario& sc) {
    std::vector<PlanStep> plan{
        {"setup: scanner self-test", stepScannerSelfTest},
        {"setup: MC system", stepStartMcSystem},
        {"setup: keymap", stepImportKeymap},
        {"setup: capture", stepStartCapture},
        {"setup: iwfd", stepStartIwfd},
        {"setup: memory scanner", stepStartMemoryScanner},
    };
    if (sc.media_protection) {
        // before the keymap and iwfd: iwfd's config names the KMS (srtp_steps.cpp)
        plan.insert(plan.begin() + 2, {"setup: KMS", stepStartKms});
    }
    if (!sc.radios.empty()) {
        plan.push_back({"setup: link radios", stepLinkRadios});
    }
    plan.push_back({"timeline", stepTimeline});
    plan.push_back({"wait-for: delivery", stepWaitForDelivery});
    plan.push_back({"collect: iwfd metrics", stepCollectMetrics});
    plan.push_back({"check: MC conformance", stepMcConformance});
    for (std::size_t i = 0; i < sc.steps.size(); ++i) {
        plan.push_back({"check " + scenarioStepName(sc, i),
                        [i](Lab& lab, StepLog& log) { checkScenarioStep(lab, i, log); }});
    }
    plan.push_back({"stop: iwfd", stepStopIwfd});
    plan.push_back({"wait-for: capture", stepStopCapture});
    plan.push_back({"opacity", stepOpacity});
    if (sc.cluster) {
        adaptPlanForCluster(plan);  // two iwfd instances and their PostgreSQL (cluster.hpp)
    }
    return plan;
}

}  // namespace

int runScenario(const RunOptions& opt, std::ostream& out, std::ostream& err) {
    if (isAnalogScenario(opt.scenario)) {
        return runAnalogScenario(opt, out, err);  // issue #19: its own plan (analog_run.hpp)
    }
    Scenario sc;
    try {
        sc = loadScenario(opt.scenario);
    } catch (const ConfigError& e) {
        err << e.what() << "\n";
        return 2;
    }
    std::error_code ec;
    std::filesystem::create_directories(opt.out_dir, ec);
    if (ec) {
        err << "cannot create " << opt.out_dir << ": " << ec.message() << "\n";
        return 2;
    }
    const std::vector<PlanStep> plan = planOf(sc);
    Lab lab(opt, out, std::move(sc), std::filesystem::absolute(opt.out_dir).string());
    if (const std::string abort = runPlan(lab, plan); !abort.empty()) {
        err << abort << "\n";
        return 2;
    }
    return writeReport(lab);
}

}  // namespace iwf::harness
