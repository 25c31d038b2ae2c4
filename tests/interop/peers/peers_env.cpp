#include "peers_env.hpp"

#include <fstream>
#include <thread>

#include "peer_kit.hpp"

namespace iwf::test::peers {

using namespace std::chrono_literals;

bool PeersEnv::start(const harness::Scenario& sc,
                     const std::function<std::string(std::string)>& edit) {
    harness::McSystemConfig mcc;
    mcc.clients = sc.clients;
    mcc.keys = sc.keys;
    mcc.groups = sc.groups;
    mc_ = std::make_unique<harness::McSystem>(mcc);
    if (auto st = mc_->start(); !st.ok()) {
        error_ = "MC system: " + st.error().toString();
        return false;
    }
    dir_.write("keymap.yaml", harness::keymapYaml(sc));
    auto imp = runCommand({IWFCTL_BIN, "keymap", "--store", "sqlite:" + dir_.file("keymap.db"),
                           "import", dir_.file("keymap.yaml")});
    if (imp.exit_code != 0) {
        error_ = "iwfctl keymap import: " + imp.err;
        return false;
    }
    // Every port iwfd binds is 0: they are read back from its log (harness/runner
    // iwfdPortsFromLog), as the interop harness does.
    const harness::IwfdLinks links{true, false, mc_->sipPort()};
    std::string config = harness::iwfdConfigYaml(sc, links, dir_.path());
    if (edit) {
        config = edit(std::move(config));
    }
    if (!iwfd_.start(dir_, config)) {
        error_ = "iwfd did not start:\n" + iwfd_.log();
        return false;
    }
    if (!waitFor(
            [&] {
                ports_ = harness::iwfdPortsFromLog(iwfd_.log());
                return harness::complete(ports_, links);
            },
            20s)) {
        error_ = "iwfd's ports not in its log:\n" + iwfd_.log();
        return false;
    }
    mc_->setIwfSipPort(ports_.mc_sip);
    // The keymap is loaded when its revision shows.
    if (!waitFor([&] { return metric("iwf_keymap_revision") >= 1; }, 20s)) {
        error_ = "keymap not loaded:\n" + iwfd_.log();
        return false;
    }
    return true;
}

PeersEnv::~PeersEnv() {
    if (iwfd_.running()) {
        iwfd_.signal(SIGTERM);
        (void)iwfd_.waitExit(10s);
    }
    if (mc_) {
        mc_->stop();
    }
}

double PeersEnv::metric(const std::string& name, const std::vector<std::string>& needles) {
    const auto r = httpGet(iwfd_.adminPort(), "/metrics");
    double sum = 0;
    std::size_t pos = 0;
    const std::string& body = r.body;
    while (pos < body.size()) {
        const std::size_t eol = std::min(body.find('\n', pos), body.size());
        const std::string line = body.substr(pos, eol - pos);
        pos = eol + 1;
        if (line.empty() || line[0] == '#' || line.compare(0, name.size(), name) != 0) {
            continue;
        }
        const char after = line.size() > name.size() ? line[name.size()] : ' ';
        if (after != '{' && after != ' ') {
            continue;
        }
        bool all = true;
        for (const auto& n : needles) {
            all = all && line.find(n) != std::string::npos;
        }
        if (all) {
            sum += std::stod(line.substr(line.rfind(' ') + 1));
        }
    }
    return sum;
}

bool runUntil(const std::function<void(std::int64_t)>& step, const std::function<bool()>& done,
              std::chrono::milliseconds timeout) {
    StopWatch sw;
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) {
            return false;
        }
        step(sw.lap());
        std::this_thread::sleep_for(5ms);  // the peers' main loops: CThread::sleep(5U)
    }
    return true;
}

harness::Scenario peersScenario() {
    harness::Scenario sc;
    sc.name = "peers";
    sc.file = "tests/interop/peers";
    harness::ScenarioKey k;
    k.name = "fire-k1";
    k.family = LmrFamily::P25;
    k.algid = 0x84;
    k.key_id = 0x0101;
    for (std::size_t i = 0; i < k.key.size(); ++i) {
        k.key[i] = static_cast<std::uint8_t>(0x5A ^ (i * 37));  // test key, this file only
    }
    sc.keys.push_back(k);
    sc.groups.push_back(
        {"sip:fire-ops@iwf.example", LmrFamily::P25, 100, "lmr", "secure", "fire-k1"});
    sc.groups.push_back({"sip:city-ops@iwf.example", LmrFamily::Dmr, 91, "lmr", "clear", ""});
    sc.radios.push_back({"p25-1", LmrFamily::P25, 1001, "sip:p25-1001@iwf.example"});
    sc.radios.push_back({"dmr-1", LmrFamily::Dmr, 3120097, "sip:dmr-3120097@iwf.example"});
    // alice's first group is P25 (her LMR identity is a P25 unit), bob's is DMR.
    sc.clients.push_back({"alice",
                          "sip:alice@mc.example",
                          {"sip:fire-ops@iwf.example", "sip:city-ops@iwf.example"},
                          {"fire-k1"}});
    sc.clients.push_back({"bob",
                          "sip:bob@mc.example",
                          {"sip:city-ops@iwf.example", "sip:fire-ops@iwf.example"},
                          {"fire-k1"}});
    return sc;
}

}  // namespace iwf::test::peers
