// iwf_load: data-plane load generator. Opens N simulated encrypted LMR streams at real time
// (P25 records at 50 records/s, DMR HBP DMRD at 16.7 bursts/s = 50 AMBE frames/s), sends them
// through a forwarder under test to N receivers on loopback, and reports per step of N:
// packets/s in and out, loss, the forwarder's CPU seconds per 1,000 packets (from
// /proc/PID/stat utime+stime), added latency p50/p99/p99.9 (send timestamp in this
// program's bookkeeping, receive timestamp from the kernel via SO_TIMESTAMPNS), and the
// largest N whose p99 stays under the limit. Output: a table on stdout, JSON with --json.
//
// Targets: "relay" (tests/bench/relay/iwf_relay, the bare baseline) and "iwfd". Through iwfd:
// P25 records through p25-records links (one link per talk path, the reflector path, or with
// --mc the engine and mcptt-iwf1 to the harness MC simulator), and with --protocol dmr --mc
// DMR through one dmr-hbp-master link (K generator sockets logged in as many repeater IDs, one
// sendmmsg per socket per tick) and the engine to MC calls (tests/bench/load/dmr_shape.hpp,
// lean_mc_sink.hpp). --target relay --protocol dmr --dmr-peers K is the relay in that shape.
//
// The program by role (load_common.hpp lists the files): this file holds the command line and
// one table per mode; the steps are in step_relay.cpp, step_mc.cpp and step_idle.cpp.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <sys/prctl.h>
#include <thread>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "tests/bench/load/load_common.hpp"
#include "tests/bench/load/load_steps.hpp"

using nlohmann::json;

namespace iwf::bench {
namespace {

// The memory columns of an --idle-calls table row (putMemoryPerCall's fields).
std::string memoryColumns(const json& r) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%5lld->%-6lld %5lld->%-6lld %10.0f %10.0f",
                  static_cast<long long>(r["rss_kib_before"].get<std::int64_t>()),
                  static_cast<long long>(r["rss_kib_after"].get<std::int64_t>()),
                  static_cast<long long>(r["pss_kib_before"].get<std::int64_t>()),
                  static_cast<long long>(r["pss_kib_after"].get<std::int64_t>()),
                  r["rss_bytes_per_call"].get<double>(), r["pss_bytes_per_call"].get<double>());
    return buf;
}

void writeJson(const Options& o, const json& out) {
    if (!o.json_path.empty()) {
        std::ofstream f(o.json_path);
        f << out.dump(2) << "\n";
    }
}

// The answer of a relaying table: the largest N that passed, in the JSON and on stdout.
void putLargestN(const Options& o, json& out, unsigned best) {
    out["largest_n_p99_under_limit"] = best;
    std::printf("largest N with p99 < %.0f us, loss <= %.3f%%, load fully offered: %u\n",
                o.p99_limit_us, 100 * o.max_loss, best);
}

// The loop the iwfd-only modes share (--idle-calls, --mc, both): one step per N (with
// `check_fds`, stop before a step that needs more descriptors than allowed), a table row per
// step, the first failure ends the table, the JSON written at the end. Returns the exit code.
int runStepTable(const Options& o, json& out, const char* label, bool check_fds,
                 const std::function<json(unsigned)>& step,
                 const std::function<void(unsigned, const json&)>& row) {
    int rc = 0;
    for (unsigned n : o.steps) {
        if (check_fds && 2ull * n + 64 > fdLimit()) {
            out["stopped"] = "N=" + std::to_string(n) + " needs more descriptors than allowed";
            break;
        }
        try {
            json r = step(n);
            row(n, r);
            std::fflush(stdout);
            out["steps"].push_back(std::move(r));
        } catch (const std::exception& e) {
            std::cerr << "iwf_load: " << label << " N=" << n << ": " << e.what() << "\n";
            rc = 1;
            break;
        }
    }
    writeJson(o, out);
    return rc;
}

void addOptions(CLI::App& app, Options& o) {
    app.add_option("--target", o.target, "forwarder under test: relay | iwfd")
        ->check(CLI::IsMember({"relay", "iwfd"}))
        ->capture_default_str();
    app.add_option("--relay", o.relay_bin, "path of iwf_relay")->capture_default_str();
    app.add_option("--iwfd", o.iwfd_bin, "path of iwfd")->capture_default_str();
    app.add_option("--protocol", o.protocol, "p25 | dmr | mix (half each)")
        ->check(CLI::IsMember({"p25", "dmr", "mix"}))
        ->capture_default_str();
    app.add_option("--steps", o.steps, "stream counts to try, in order")->delimiter(',');
    app.add_option("--threads", o.threads, "forwarder data-plane threads")->capture_default_str();
    app.add_option("--batch", o.batch, "relay recvmmsg/sendmmsg batch (1 = recvfrom/sendto)")
        ->capture_default_str();
    app.add_option("--duration", o.duration_s, "measured seconds per step")->capture_default_str();
    app.add_option("--warmup", o.warmup_s, "seconds before measuring")->capture_default_str();
    app.add_option("--max-total", o.max_total_s, "stop stepping after this many seconds")
        ->capture_default_str();
    app.add_option("--p99-limit-us", o.p99_limit_us, "p99 bound for the largest-N answer")
        ->capture_default_str();
    app.add_option("--max-loss", o.max_loss, "loss bound for the largest-N answer")
        ->capture_default_str();
    app.add_option("--fwd-cpus", o.fwd_cpus, "pin the forwarder (e.g. 1 or 0-1)");
    app.add_option("--gen-cpus", o.gen_cpus, "pin the generator threads (e.g. 0)");
    app.add_option("--rt-prio", o.rt_prio,
                   "SCHED_FIFO priority for generator and forwarder (0 = normal scheduling); "
                   "isolates the measurement from other load on a shared machine")
        ->check(CLI::Range(0, 99));
    app.add_flag("--mc", o.mc,
                 "target iwfd: LMR -> MC through the engine (keymap, mcptt-iwf1 link, the harness "
                 "MC system as receiver) instead of the P25 reflector path");
    app.add_flag("--mc-srtp", o.mc_srtp,
                 "P25 --mc: media protection required on the mcptt-iwf1 link (TS 33.180 SRTP, a "
                 "GMK per group from a key_file; the MC system simulator decrypts with the same "
                 "GMKs): the SRTP cost against the same path without it");
    app.add_flag("--mc-talk", o.mc_talk,
                 "MC -> LMR, the talker on the MC side: N MC talkers (INVITE with implicit floor "
                 "request) send X-IWF-LMR RTP; --target iwfd: through the engine to P25 records "
                 "(--protocol p25, one link per talk path) or DMR HBP (--protocol dmr, one "
                 "repeater); --target relay: iwf_relay --inputs N in the same socket shape");
    app.add_flag("--idle-calls", o.idle_calls,
                 "target iwfd: measure memory per idle call (RSS/Pss before and after N calls "
                 "open and go silent) at each step N instead of relaying");
    app.add_option("--idle-frames", o.idle_frames, "frames per stream before it goes silent")
        ->capture_default_str();
    app.add_option("--dmr-peers", o.dmr_peers,
                   "DMR in the HBP-master shape: K generator sockets carry every stream (many "
                   "repeater IDs per socket, 2 streams each); --target iwfd --mc uses 1 when 0; "
                   "--target relay: 0 = one socket per stream (the older shape)")
        ->capture_default_str();
    app.add_option("--dmr-tick-us", o.dmr_tick_us,
                   "DMR HBP-master shape: generator tick (one sendmmsg per socket per tick)")
        ->capture_default_str();
    app.add_option("--dmr-setup-timeout", o.dmr_setup_timeout_s,
                   "DMR --mc: seconds to wait for one MC call per stream before measuring")
        ->capture_default_str();
    app.add_option("--mc-sink", o.mc_sink,
                   "DMR --mc: MC side = lean (tests/bench receiver, kernel timestamps) or sim "
                   "(the harness MC system simulator)")
        ->check(CLI::IsMember({"lean", "sim"}))
        ->capture_default_str();
    app.add_flag("--keep-going", o.keep_going, "run every step even after one fails");
    app.add_option("--label", o.label, "name of this run in the JSON");
    app.add_option("--json", o.json_path, "write the results as JSON here");
}

// Checks the combination of options; false (message on stderr) when iwf_load cannot run.
bool validate(Options& o) {
    if (o.mc_talk) {
        if (o.mc || o.idle_calls || o.protocol == "mix") {
            std::cerr << "iwf_load: --mc-talk takes --protocol p25 or dmr, without --mc or "
                         "--idle-calls\n";
            return false;
        }
        if (!fs::exists(o.target == "iwfd" ? o.iwfd_bin : o.relay_bin)) {
            std::cerr << "iwf_load: " << o.target << " binary not found\n";
            return false;
        }
        return true;
    }
    if (o.target == "iwfd") {
        // What iwfd can carry here: P25 records through its p25-records links (one link per
        // talk path, reflector path, every record also reported to the engine). --threads N
        // writes `workers: N` (each link then runs one SO_REUSEPORT instance per worker).
        // DMR needs the HBP login in the generator; LMR -> MC a keymap and an MC sink.
        const bool dmr_mc = o.protocol == "dmr" && o.mc && !o.idle_calls;  // runDmrMcStep
        if (!dmr_mc && o.protocol != "p25") {
            std::cerr << "iwf_load: target iwfd: DMR only with --mc (HBP master shape); "
                         "using --protocol p25\n";
            o.protocol = "p25";
        }
        if (!fs::exists(o.iwfd_bin)) {
            std::cerr << "iwf_load: iwfd binary not found: " << o.iwfd_bin << "\n";
            return false;
        }
    } else if (!fs::exists(o.relay_bin)) {
        std::cerr << "iwf_load: relay binary not found: " << o.relay_bin << "\n";
        return false;
    }
    if ((o.mc || o.idle_calls) && o.target != "iwfd") {
        const char* flag = o.mc && o.idle_calls ? "--mc --idle-calls"
                           : o.mc               ? "--mc"
                                                : "--idle-calls";
        std::cerr << "iwf_load: " << flag << " needs --target iwfd\n";
        return false;
    }
    return true;
}

json runHeader(const Options& o) {
    json out;
    out["tool"] = "iwf_load";
    out["label"] = o.label;
    out["target"] = o.target;
    out["protocol"] = o.protocol;
    out["threads"] = o.threads;
    out["batch"] = o.batch;
    out["duration_s"] = o.duration_s;
    out["fwd_cpus"] = o.fwd_cpus;
    out["gen_cpus"] = o.gen_cpus;
    out["p99_limit_us"] = o.p99_limit_us;
    out["rt_prio"] = o.rt_prio;
    out["max_loss"] = o.max_loss;
    out["nproc"] = std::thread::hardware_concurrency();
    out["steps"] = json::array();
    return out;
}

int idleMcTable(const Options& o, json& out, const fs::path& workdir) {
    out["mode"] = "idle-calls-mc";
    std::printf("%-7s %8s %8s %12s %12s %10s %10s  %s\n", "N", "mc_calls", "engine", "rss_kib",
                "pss_kib", "rss_B/call", "pss_B/call", "loadavg");
    return runStepTable(
        o, out, "idle mc", false, [&](unsigned n) { return runMcStep(o, n, workdir); },
        [](unsigned n, const json& r) {
            std::printf("%-7u %8zu %8.0f %s  sockets/call %.2f kernel_B/call %.0f  %s\n", n,
                        r["mc_calls"].get<std::size_t>(), r["engine_calls_open"].get<double>(),
                        memoryColumns(r).c_str(), r["sockets_per_call"].get<double>(),
                        r["kernel_bytes_per_call"].get<double>(),
                        r["loadavg"].get<std::string>().c_str());
        });
}

int idleTable(const Options& o, json& out, const fs::path& workdir) {
    out["mode"] = "idle-calls";
    std::printf("%-7s %10s %10s %12s %12s %10s %10s %8s  %s\n", "N", "rx_records", "calls",
                "rss_kib", "pss_kib", "rss_B/call", "pss_B/call", "started", "loadavg");
    return runStepTable(
        o, out, "idle", true, [&](unsigned n) { return runIdleStep(o, n, workdir); },
        [](unsigned n, const json& r) {
            std::printf("%-7u %10.0f %10.0f %s %8.0f  %s\n", n, r["iwfd_records_rx"].get<double>(),
                        r["engine_calls_open"].get<double>(), memoryColumns(r).c_str(),
                        r["engine_calls_started"].get<double>(),
                        r["loadavg"].get<std::string>().c_str());
        });
}

int dmrTable(const Options& o, json& out, const fs::path& workdir, bool dmr_mc) {
    out["mode"] = dmr_mc ? "dmr-lmr-to-mc" : "dmr-relay-by-dst";
    out["dmr_peers"] = std::max(1u, o.dmr_peers);
    out["dmr_tick_us"] = o.dmr_tick_us;
    std::printf("%-7s %6s %9s %9s %9s %8s %9s %9s %9s %7s %7s  %s\n", "N", "calls", "in_pps",
                "out_pps", "loss", "p50_us", "p99_us", "p99.9_us", "us/pkt", "fwd%", "gen%",
                "loadavg");
    const int drc = runStepTable(
        o, out, dmr_mc ? "dmr mc" : "dmr relay", !dmr_mc,
        [&](unsigned n) {
            return dmr_mc ? runDmrMcStep(o, n, workdir) : runDmrRelayStep(o, n, workdir);
        },
        [](unsigned n, const json& r) {
            const auto& l = r["latency_us"];
            const std::string calls =
                r.contains("mc_calls") ? std::to_string(r["mc_calls"].get<std::size_t>()) : "-";
            std::printf(
                "%-7u %6s %9.0f %9.0f %9.5f %8.1f %9.1f %9.1f %9.2f %6.1f%% %6.1f%%  %s%s\n", n,
                calls.c_str(), r["in_pps"].get<double>(), r["out_pps"].get<double>(),
                r["loss"].get<double>(), l["p50"].get<double>(), l["p99"].get<double>(),
                l["p99_9"].get<double>(), r["fwd_cpu_us_per_packet"].get<double>(),
                100 * r["fwd_cpu_util"].get<double>(),
                100 * r["gen_process_cpu_util"].get<double>(),
                r["loadavg_begin"].get<std::string>().c_str(),
                r["pass"].get<bool>() ? "" : "  (fails)");
        });
    unsigned best = 0;
    for (const auto& r : out["steps"]) {
        if (r["pass"].get<bool>()) {
            best = std::max(best, r["n"].get<unsigned>());
        }
    }
    putLargestN(o, out, best);
    writeJson(o, out);
    return drc;
}

int mcTable(const Options& o, json& out, const fs::path& workdir) {
    out["mode"] = "lmr-to-mc";
    std::printf("%-7s %6s %10s %10s %9s %8s %9s %9s %12s %7s  %s\n", "N", "calls", "in_pps",
                "out_pps", "loss", "p50_us", "p99_us", "p99.9_us", "cpu_s/1000", "fwd%", "loadavg");
    return runStepTable(
        o, out, "mc", false, [&](unsigned n) { return runMcStep(o, n, workdir); },
        [](unsigned n, const json& r) {
            const auto& l = r["latency_us"];
            std::printf("%-7u %6zu %10.0f %10.0f %9.5f %8.1f %9.1f %9.1f %12.6f %6.1f%%  %s\n", n,
                        r["mc_calls"].get<std::size_t>(), r["in_pps"].get<double>(),
                        r["out_pps"].get<double>(), r["loss"].get<double>(), l["p50"].get<double>(),
                        l["p99"].get<double>(), l["p99_9"].get<double>(),
                        r["fwd_cpu_s_per_1000"].get<double>(),
                        100 * r["fwd_cpu_util"].get<double>(),
                        r["loadavg_begin"].get<std::string>().c_str());
        });
}

int mcTalkTable(const Options& o, json& out, const fs::path& workdir) {
    out["mode"] = "mc-to-lmr";
    std::printf("%-7s %6s %10s %10s %9s %8s %9s %9s %12s %7s  %s\n", "N", "calls", "in_pps",
                "out_pps", "loss", "p50_us", "p99_us", "p99.9_us", "cpu_s/1000", "fwd%", "loadavg");
    const int rc = runStepTable(
        o, out, "mc-talk", true, [&](unsigned n) { return runMcTalkStep(o, n, workdir); },
        [](unsigned n, const json& r) {
            const auto& l = r["latency_us"];
            const std::string calls =
                r.contains("mc_calls") ? std::to_string(r["mc_calls"].get<std::size_t>()) : "-";
            std::printf("%-7u %6s %10.0f %10.0f %9.5f %8.1f %9.1f %9.1f %12.6f %6.1f%%  %s%s\n", n,
                        calls.c_str(), r["in_pps"].get<double>(), r["out_pps"].get<double>(),
                        r["loss"].get<double>(), l["p50"].get<double>(), l["p99"].get<double>(),
                        l["p99_9"].get<double>(), r["fwd_cpu_s_per_1000"].get<double>(),
                        100 * r["fwd_cpu_util"].get<double>(),
                        r["loadavg_begin"].get<std::string>().c_str(),
                        r["pass"].get<bool>() ? "" : "  (fails)");
        });
    unsigned best = 0;
    for (const auto& r : out["steps"]) {
        if (r["pass"].get<bool>()) {
            best = std::max(best, r["n"].get<unsigned>());
        }
    }
    putLargestN(o, out, best);
    writeJson(o, out);
    return rc;
}

// Relaying through the relay or iwfd's reflector path, N by N while steps pass (all of them
// with --keep-going), within --max-total seconds; the largest passing N is the answer.
int relayTable(const Options& o, json& out, const fs::path& workdir) {
    std::printf("%-7s %10s %10s %10s %8s %9s %9s %9s %12s %7s %7s  %s\n", "N", "in_pps", "out_pps",
                "loss", "p50_us", "p99_us", "p99.9_us", "max_us", "cpu_s/1000", "fwd%", "gen%",
                "loadavg");
    const auto started = std::chrono::steady_clock::now();
    unsigned best = 0;
    int rc = 0;
    for (unsigned n : o.steps) {
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        if (elapsed + o.duration_s + o.warmup_s > o.max_total_s) {
            out["stopped"] = "max-total time reached before N=" + std::to_string(n);
            break;
        }
        if (2ull * n + 64 > fdLimit()) {
            out["stopped"] = "N=" + std::to_string(n) + " needs more descriptors than allowed";
            break;
        }
        json r;
        try {
            r = runStep(o, n, workdir);
        } catch (const std::exception& e) {
            std::cerr << "iwf_load: N=" << n << ": " << e.what() << "\n";
            rc = 1;
            break;
        }
        const auto& l = r["latency_us"];
        std::printf(
            "%-7u %10.0f %10.0f %10.5f %8.1f %9.1f %9.1f %9.1f %12.6f %6.1f%% %6.1f%%  %s\n", n,
            r["in_pps"].get<double>(), r["out_pps"].get<double>(), r["loss"].get<double>(),
            l["p50"].get<double>(), l["p99"].get<double>(), l["p99_9"].get<double>(),
            l["max"].get<double>(), r["fwd_cpu_s_per_1000"].get<double>(),
            100 * r["fwd_cpu_util"].get<double>(), 100 * r["gen_cpu_util"].get<double>(),
            r["loadavg_begin"].get<std::string>().c_str());
        std::fflush(stdout);
        const bool pass = r["pass"].get<bool>();
        out["steps"].push_back(std::move(r));
        if (pass) {
            best = n;
        } else if (!o.keep_going) {
            break;
        }
    }
    putLargestN(o, out, best);
    writeJson(o, out);
    return rc;
}

}  // namespace
}  // namespace iwf::bench

int main(int argc, char** argv) {
    using namespace iwf::bench;
    Options o;
    o.relay_bin = selfDir() + "/../relay/iwf_relay";
    o.iwfd_bin = selfDir() + "/../../../gateway/iwfd";
    CLI::App app{"iwf_load - data-plane load generator (encrypted P25/DMR streams at real time)"};
    addOptions(app, o);
    CLI11_PARSE(app, argc, argv);
    if (!validate(o)) {
        return 2;
    }
    raiseFdLimit();
    ::prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    std::error_code ec;
    const fs::path workdir = fs::temp_directory_path() / ("iwf_load." + std::to_string(::getpid()));
    fs::create_directories(workdir, ec);
    json out = runHeader(o);
    const bool dmr_mc = o.mc && o.protocol == "dmr";
    const bool dmr_relay = o.target == "relay" && o.protocol == "dmr" && o.dmr_peers > 0;
    int rc = 0;
    if (o.mc_talk) {
        rc = mcTalkTable(o, out, workdir);
    } else if (o.mc && o.idle_calls) {
        rc = idleMcTable(o, out, workdir);
    } else if (o.idle_calls) {
        rc = idleTable(o, out, workdir);
    } else if (dmr_mc || dmr_relay) {
        rc = dmrTable(o, out, workdir, dmr_mc);
    } else if (o.mc) {
        rc = mcTable(o, out, workdir);
    } else {
        rc = relayTable(o, out, workdir);
    }
    fs::remove_all(workdir, ec);
    return rc;
}
