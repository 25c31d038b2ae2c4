#include "harness/runner/analog_run.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <utility>

#include "harness/report/report.hpp"
#include "harness/runner/admin_client.hpp"
#include "harness/runner/lab.hpp"
#include "harness/sim/analog_mc_client.hpp"
#include "harness/sim/analog_radio.hpp"
#include "harness/sim/analog_signal.hpp"

namespace iwf::harness {

namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

struct AnalogChannelSpec {
    std::string name;  // the link's name and its keymap system
    AnalogFlavour flavour = AnalogFlavour::Usrp;
    std::uint32_t tgid = 1;
    std::string group;
    std::string amr_rate = "12.65";
    media::AmrWbMode mode = media::AmrWbMode::R12_65;
};

struct AnalogCase {
    std::string channel;
    int loss_pct = 0;  // of the datagrams the harness sends, both legs
    std::uint32_t seed = 1;
};

struct AnalogScenario {
    bool octet_aligned = true;
    std::vector<AnalogChannelSpec> channels;
    std::vector<AnalogCase> cases;
    double level_tolerance_db = 1.0;
    double min_seg_snr_db = 3.0;
};

double analogNumber(const ConfigNode& n, std::string_view key, double dflt) {
    if (!n.has(key)) {
        return dflt;
    }
    const std::string v = n.getString(key);
    try {
        std::size_t used = 0;
        const double d = std::stod(v, &used);
        if (used == v.size()) {
            return d;
        }
    } catch (const std::exception&) {
    }
    n.fail(key, "not a number: " + v);
}

AnalogScenario parseAnalog(const ConfigNode& a) {
    a.expectKeys({"layout", "channels", "cases", "thresholds"});
    AnalogScenario s;
    s.octet_aligned = a.getEnum("layout", {"octet", "bandwidth-efficient"}, "octet") == "octet";
    static constexpr std::pair<std::string_view, media::AmrWbMode> kRates[] = {
        {"6.60", media::AmrWbMode::R6_60},   {"8.85", media::AmrWbMode::R8_85},
        {"12.65", media::AmrWbMode::R12_65}, {"14.25", media::AmrWbMode::R14_25},
        {"15.85", media::AmrWbMode::R15_85}, {"18.25", media::AmrWbMode::R18_25},
        {"19.85", media::AmrWbMode::R19_85}, {"23.05", media::AmrWbMode::R23_05},
        {"23.85", media::AmrWbMode::R23_85}};
    for (const auto& c : a.list("channels")) {
        c.expectKeys({"name", "flavour", "tgid", "group", "amr_mode"});
        AnalogChannelSpec ch;
        ch.name = c.getString("name");
        ch.flavour = *analogFlavourFromName(c.getEnum("flavour", {"usrp", "rtp"}));
        ch.tgid = static_cast<std::uint32_t>(c.getInt("tgid", 1, 65535));
        ch.group = c.getString("group");
        ch.amr_rate = c.getEnum("amr_mode", {"6.60", "8.85", "12.65", "14.25", "15.85", "18.25",
                                             "19.85", "23.05", "23.85"});
        for (const auto& [name, mode] : kRates) {
            if (name == ch.amr_rate) {
                ch.mode = mode;
            }
        }
        s.channels.push_back(ch);
    }
    if (s.channels.size() != 1) {
        // iwfd sends an MC talker's audio for any analogue group to its first analogue link
        // (the keymap has one analogue system), not to the link the call came in on: with
        // two channels the second one's far end would be measured on the first's radio.
        a.fail("channels",
               "exactly one channel per run (iwfd routes MC audio of every "
               "analogue group to its first analogue link)");
    }
    for (const auto& c : a.list("cases")) {
        c.expectKeys({"channel", "loss", "seed"});
        AnalogCase k;
        k.channel = c.getString("channel");
        if (std::none_of(s.channels.begin(), s.channels.end(),
                         [&](const AnalogChannelSpec& ch) { return ch.name == k.channel; })) {
            c.fail("channel", "no such channel: " + k.channel);
        }
        k.loss_pct = static_cast<int>(c.getInt("loss", 0, 50, 0));
        k.seed = static_cast<std::uint32_t>(c.getInt("seed", 1, 0xFFFFFFFF, 1));
        s.cases.push_back(k);
    }
    if (s.cases.size() != 1) {
        // A second transmission on the channel found the first call still held by the MC
        // client (its Floor Release did not end it): one case per run until that is found.
        a.fail("cases", "exactly one case per run");
    }
    if (auto t = a.optionalChild("thresholds")) {
        t->expectKeys({"level_db", "min_seg_snr_db"});
        s.level_tolerance_db = analogNumber(*t, "level_db", 1.0);
        s.min_seg_snr_db = analogNumber(*t, "min_seg_snr_db", 3.0);
    }
    return s;
}

std::string analogReadFile(const std::string& path) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// What the plan's steps share beside the Lab.
struct AnalogRun {
    AnalogScenario sc;
    asio::io_context io;  // the MC client's, run by the plan's thread only
    metrics::Registry reg;
    std::unique_ptr<AnalogMcClient> mc;
    std::map<std::string, std::unique_ptr<RadioPort>> radios;
    std::map<std::string, std::uint16_t> link_ports;
};

std::string analogKeymap(const Lab& lab, const AnalogRun& run) {
    std::ostringstream o;
    o << "# Generated by iwf-harness from " << lab.sc.file << "\nformat: 1\n"
      << "unknown_talker: sip:unknown-lmr-talker@iwf.example\nsystems:\n";
    // One analogue system (the keymap allows one): its groups are told apart by talkgroup,
    // which each channel's link sets on what it receives.
    o << "  - { id: harness-analog, type: analog }\nusers: []\ngroups:\n";
    for (const auto& ch : run.sc.channels) {
        o << "  - { mc_group: \"" << ch.group << "\", system: harness-analog"
          << ", tgid: " << ch.tgid << ", home: lmr, mode: clear }\n";
    }
    return o.str();
}

std::string analogIwfdConfig(const Lab& lab, const AnalogRun& run) {
    std::ostringstream o;
    o << "# Generated by iwf-harness for scenario " << lab.sc.name << "\n"
      << "instance: harness-" << lab.sc.name << "\nsip_domain: iwf.example\n"
      << "admin:\n  address: 127.0.0.1\n  port: 0\n  port_file: " << lab.dir << "/admin.port\n"
      << "log:\n  level: debug\n"
      << "keymap:\n  store: sqlite:" << lab.dir << "/keymap.db\n  poll_interval: 500ms\n"
      << "drain:\n  deadline: 2s\nlmr_links:\n";
    for (const auto& ch : run.sc.channels) {
        o << "  - name: " << ch.name
          << "\n    type: " << (ch.flavour == AnalogFlavour::Usrp ? "analog-usrp" : "analog-rtp")
          << "\n    address: 127.0.0.1\n    port: 0\n    peer_address: 127.0.0.1\n"
          << "    peer_port: " << run.radios.at(ch.name)->localPort()
          << "\n    talkgroup: " << ch.tgid << "\n    amr_mode: \"" << ch.amr_rate << "\"\n";
        if (ch.flavour == AnalogFlavour::Rtp) {
            o << "    law: pcmu\n    hang_time: 200ms\n";
        }
    }
    const std::uint16_t mc = run.mc->sipPort();
    o << "mc_links:\n  - name: harness-mc\n    type: mcptt-iwf1\n    psi: sip:iwf@iwf.example\n"
      << "    listen: [{transport: udp, address: 127.0.0.1, port: 0}]\n"
      << "    peer: {transport: udp, address: 127.0.0.1, port: " << mc << "}\n"
      << "    peers: [{name: harness-mc, address: 127.0.0.1, port: " << mc
      << ", domains: [mc.example]}]\n    server_uri: sip:mcptt-cf@mc.example\n"
      << "    media: {address: 127.0.0.1, amr_octet_align: "
      << (run.sc.octet_aligned ? "true" : "false") << "}\n";
    return o.str();
}

void analogSetup(Lab& lab, AnalogRun& run, StepLog& log) {
    if (std::error_code made; !std::filesystem::create_directories(lab.dir, made) && made) {
        log.abort = "cannot create " + lab.dir + ": " + made.message();
        return;
    }
    run.mc = std::make_unique<AnalogMcClient>(run.io, run.reg);
    if (auto st = run.mc->start(); !st.ok()) {
        log.abort = "cannot start the analogue MC client: " + st.error().toString();
        return;
    }
    for (const auto& ch : run.sc.channels) {
        run.radios[ch.name] = std::make_unique<RadioPort>();
    }
    std::error_code ec;
    { std::ofstream(lab.dir + "/keymap.yaml") << analogKeymap(lab, run); }
    std::filesystem::remove(lab.dir + "/keymap.db", ec);
    if (runToCompletion({lab.opt.iwfctl, "keymap", "--store", "sqlite:" + lab.dir + "/keymap.db",
                         "import", lab.dir + "/keymap.yaml"},
                        lab.dir + "/iwfctl.log") != 0) {
        log.abort = "iwfctl keymap import failed, see " + lab.dir + "/iwfctl.log";
        return;
    }
    log.note("MC client SIP on 127.0.0.1:" + std::to_string(run.mc->sipPort()) + ", " +
             std::to_string(run.radios.size()) + " analogue radios, keymap imported");
}

// iwfd's analogue links bind port 0: each one's port is read from its log line
// (lmr_adapters/analog usrp_link.cpp / rtp_link.cpp "link=NAME listening port=P").
void analogStartIwfd(Lab& lab, AnalogRun& run, StepLog& log) {
    std::error_code ec;
    lab.iwfd_log = lab.dir + "/iwfd.log";
    std::filesystem::remove(lab.iwfd_log, ec);
    std::filesystem::remove(lab.dir + "/admin.port", ec);
    { std::ofstream(lab.dir + "/iwfd.yaml") << analogIwfdConfig(lab, run); }
    if (!lab.iwfd.start({lab.opt.iwfd, "--config", lab.dir + "/iwfd.yaml"}, lab.iwfd_log)) {
        log.abort = "cannot start " + lab.opt.iwfd;
        return;
    }
    const bool up = waitUntil(Clock::now() + 20s, 20ms, [&] {
        std::ifstream pf(lab.dir + "/admin.port");
        int p = 0;
        if (lab.admin_port == 0 && pf >> p && p > 0) {
            lab.admin_port = static_cast<std::uint16_t>(p);
        }
        const std::string text = analogReadFile(lab.iwfd_log);
        for (const auto& ch : run.sc.channels) {
            std::smatch m;
            if (std::regex_search(text, m,
                                  std::regex("link=" + ch.name + " listening port=(\\d+)"))) {
                run.link_ports[ch.name] = static_cast<std::uint16_t>(std::stoul(m[1].str()));
            }
        }
        const auto keymap = lab.admin_port == 0 ? std::nullopt
                                                : metricTotal(adminGet(lab.admin_port, "/metrics"),
                                                              "iwf_keymap_revision");
        return !lab.iwfd.running() ||
               (lab.admin_port != 0 && run.link_ports.size() == run.sc.channels.size() &&
                keymap.value_or(0) >= 1);
    });
    if (!up || !lab.iwfd.running()) {
        log.abort =
            "iwfd did not start (admin port, every analogue link's port and the "
            "keymap within 20 s), see " +
            lab.iwfd_log;
        return;
    }
    for (const auto& [name, port] : run.link_ports) {
        log.note(name + " on port " + std::to_string(port));
    }
}

// The fixed pseudo-random loss of a case (LCG of Numerical Recipes): never the first five
// frames (the talk spurt must start) nor the last five (a gap must have a frame after it).
std::vector<bool> analogLoss(std::size_t frames, int pct, std::uint32_t seed) {
    std::vector<bool> lost(frames, false);
    std::uint32_t x = seed;
    for (std::size_t i = 5; i + 5 < frames; ++i) {
        x = x * 1664525u + 1013904223u;
        lost[i] = static_cast<int>((x >> 8) % 1000) < pct * 10;
    }
    return lost;
}

// Runs the MC client's io for the rest of one 20 ms period.
void analogPace(AnalogRun& run, Clock::time_point& next) {
    next += 20ms;
    while (Clock::now() < next) {
        run.mc->poll(std::min<std::chrono::milliseconds>(
            2ms, std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now()) + 1ms));
    }
}

json delayJson(const std::vector<double>& us) {
    const LatencySummary s = summarize(us);
    return {{"frames", s.count}, {"p50_ms", s.p50_us / 1000}, {"p99_ms", s.p99_us / 1000}};
}

// One case: analogue -> MC -> analogue, measured at the far end.
void analogCase(Lab& lab, AnalogRun& run, const AnalogCase& c, StepLog& log) {
    const AnalogChannelSpec& ch =
        *std::find_if(run.sc.channels.begin(), run.sc.channels.end(),
                      [&](const AnalogChannelSpec& s) { return s.name == c.channel; });
    RadioPort& radio = *run.radios.at(ch.name);
    const std::uint16_t link = run.link_ports.at(ch.name);
    std::vector<std::int16_t> sig = analogTone(1000, 8000, 30);
    const auto speech = analogSpeechLike(70, 4000);
    sig.insert(sig.end(), speech.begin(), speech.end());
    const std::size_t frames = sig.size() / kAnalogFrameSamples;
    const std::vector<bool> lost_up = analogLoss(frames, c.loss_pct, c.seed);
    const std::vector<bool> lost_down = analogLoss(frames, c.loss_pct, c.seed * 7 + 1);

    // 1. The radio keys up and talks, one datagram per 20 ms.
    std::vector<std::int64_t> sent_at(frames, 0);
    auto next = Clock::now();
    for (std::size_t i = 0; i < frames; ++i) {
        if (!lost_up[i]) {
            sent_at[i] = steadyNs();
            radio.send(link, analogRadioFrame(ch.flavour, static_cast<std::uint32_t>(i),
                                              sig.data() + i * kAnalogFrameSamples, ch.tgid));
        }
        analogPace(run, next);
    }
    if (auto u = analogRadioUnkey(ch.flavour, static_cast<std::uint32_t>(frames))) {
        radio.send(link, *u);
    }
    if (!waitUntil(Clock::now() + 5s, 0ms, [&] {
            run.mc->poll(5ms);
            return run.mc->sawFloor(mc::floor::MessageType::FloorIdle);
        })) {
        log.fail(ch.name + ": the MC client heard no complete transmission (" +
                 std::to_string(run.mc->framesReceived()) + " frames, no Floor Idle)");
        return;
    }
    std::vector<double> up_us;
    const auto& heard_at = run.mc->heardAt();
    for (std::size_t k = 0; k < heard_at.size() && k < frames; ++k) {
        if (heard_at[k] != 0 && sent_at[k] != 0) {
            up_us.push_back(static_cast<double>(heard_at[k] - sent_at[k]) / 1000);
        }
    }

    // 2. The MC client takes the floor and says back what it heard, frame for frame.
    (void)run.mc->requestFloor();
    if (!waitUntil(Clock::now() + 3s, 0ms, [&] {
            run.mc->poll(5ms);
            return run.mc->sawFloor(mc::floor::MessageType::FloorGranted);
        })) {
        log.fail(ch.name + ": the MC client's Floor Request was not granted");
        return;
    }
    const std::vector<std::int16_t> wb = run.mc->heard();
    const std::size_t back = std::min(frames, wb.size() / media::kWbFrameSamples);
    const std::size_t m0 = radio.mark();
    std::vector<std::int64_t> said_at(back, 0);
    next = Clock::now();
    for (std::size_t i = 0; i < back; ++i) {
        said_at[i] = lost_down[i] ? 0 : steadyNs();
        if (auto st =
                run.mc->sendFrame(i, wb.data() + i * media::kWbFrameSamples, ch.mode, lost_down[i]);
            !st.ok()) {
            log.fail(ch.name + ": MC client frame " + std::to_string(i) + ": " +
                     st.error().toString());
            return;
        }
        analogPace(run, next);
    }
    (void)run.mc->releaseFloor();
    run.mc->poll(5ms);

    // 3. What the radio heard, against what it said.
    std::vector<std::int16_t> far;
    std::vector<double> down_us;
    (void)waitUntil(Clock::now() + 3s, 20ms, [&] {
        const auto rx = radio.received();
        far.clear();
        down_us.clear();
        for (std::size_t k = m0; k < rx.size(); ++k) {
            auto pcm = analogRadioRead(ch.flavour, rx[k].second);
            if (!pcm) {
                continue;
            }
            const std::size_t f = far.size() / kAnalogFrameSamples;
            if (f < back && said_at[f] != 0) {
                down_us.push_back(static_cast<double>(rx[k].first - said_at[f]) / 1000);
            }
            far.insert(far.end(), pcm->begin(), pcm->end());
        }
        return far.size() >= back * kAnalogFrameSamples;
    });
    const std::size_t far_frames = far.size() / kAnalogFrameSamples;
    far.resize(sig.size() + 480, 0);
    const SignalMeasure m = measureSignal(sig, far);
    const auto count = [](const std::vector<bool>& v) {
        return static_cast<std::size_t>(std::count(v.begin(), v.end(), true));
    };
    const bool level_ok = std::abs(m.level_db) <= run.sc.level_tolerance_db;
    const bool snr_ok = m.seg_snr >= run.sc.min_seg_snr_db;
    const bool frames_ok = far_frames >= back && back + 5 >= frames;
    json r = {
        {"channel", ch.name},
        {"flavour", ch.flavour == AnalogFlavour::Usrp ? "usrp" : "rtp"},
        {"amr_mode", ch.amr_rate},
        {"layout", run.sc.octet_aligned ? "octet-aligned" : "bandwidth-efficient"},
        {"loss_pct", c.loss_pct},
        {"frames_sent", frames},
        {"lost_radio_to_iwfd", count(lost_up)},
        {"frames_heard_by_mc", run.mc->framesReceived()},
        {"lost_mc_to_iwfd", count(std::vector<bool>(lost_down.begin(), lost_down.begin() + back))},
        {"frames_at_far_end", far_frames},
        {"delay_radio_to_mc", delayJson(up_us)},
        {"delay_mc_to_radio", delayJson(down_us)},
        {"signal_delay_ms", m.delay / 8.0},
        {"level_db", m.level_db},
        {"seg_snr_db", m.seg_snr},
        {"pass", level_ok && snr_ok && frames_ok}};
    lab.report["analog"]["cases"].push_back(r);
    for (double d : up_us) {
        lab.latency.push_back(d);
    }
    for (double d : down_us) {
        lab.latency.push_back(d);
    }
    log.note(r.dump());
    if (!frames_ok) {
        log.fail(ch.name + ": " + std::to_string(far_frames) + " of " + std::to_string(back) +
                 " frames reached the radio (" + std::to_string(frames) + " sent)");
    }
    if (!level_ok) {
        log.fail(ch.name + ": level " + std::to_string(m.level_db) + " dB, outside +-" +
                 std::to_string(run.sc.level_tolerance_db) + " dB");
    }
    if (!snr_ok) {
        log.fail(ch.name + ": segmental SNR " + std::to_string(m.seg_snr) + " dB below " +
                 std::to_string(run.sc.min_seg_snr_db) + " dB");
    }
}

}  // namespace

bool isAnalogScenario(const std::string& path) {
    try {
        return ConfigNode::loadFile(path).has("analog");
    } catch (const ConfigError&) {
        return false;  // the ordinary parser reports it
    }
}

int runAnalogScenario(const RunOptions& opt, std::ostream& out, std::ostream& err) {
    auto run = std::make_shared<AnalogRun>();
    Scenario sc;
    try {
        const ConfigNode root = ConfigNode::loadFile(opt.scenario);
        root.expectKeys({"scenario", "description", "analog"});
        sc.name = root.getString("scenario");
        sc.description = root.getString("description", "");
        sc.file = opt.scenario;
        run->sc = parseAnalog(root.child("analog"));
    } catch (const ConfigError& e) {
        err << e.what() << "\n";
        return 2;
    }
    std::vector<PlanStep> plan{
        {"setup: analogue MC client, radios, keymap",
         [run](Lab& lab, StepLog& log) { analogSetup(lab, *run, log); }},
        {"setup: iwfd", [run](Lab& lab, StepLog& log) { analogStartIwfd(lab, *run, log); }},
    };
    for (const auto& c : run->sc.cases) {
        plan.push_back({"quality " + c.channel + " loss " + std::to_string(c.loss_pct) + "%",
                        [run, c](Lab& lab, StepLog& log) { analogCase(lab, *run, c, log); }});
    }
    plan.push_back({"stop: iwfd", [](Lab& lab, StepLog& log) {
                        if (!lab.iwfd.running()) {
                            log.fail("iwfd exited during the scenario");
                        }
                        lab.iwfd.stop();
                    }});
    Lab lab(opt, out, std::move(sc), std::filesystem::absolute(opt.out_dir).string());
    lab.report["analog"]["quality_score"] =
        "segmental SNR after delay alignment (harness/sim/analog_signal.hpp)";
    if (const std::string abort = runPlan(lab, plan); !abort.empty()) {
        err << abort << "\n";
        return 2;
    }
    return writeReport(lab);
}

}  // namespace iwf::harness
