// Keymap benchmarks: a synthetic keymap of 100,000 users and 10,000 groups (P25 and DMR,
// 10 members per group, every group secure or mixed with its members authorised).
//   bench_keymap                              # everything but PostgreSQL
//   IWF_BENCH_PG_URL=postgresql://... bench_keymap --benchmark_filter=Postgres
#include <array>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include "keymap/snapshot.hpp"
#include "keymap/store.hpp"
#include "keymap/validate.hpp"
#include "keymap/yaml_import.hpp"

namespace {

using namespace iwf;
using namespace iwf::keymap;

constexpr int kUsers = 100'000;
constexpr int kGroups = 10'000;
constexpr int kMembers = 10;
const P25System kP25{0xBEE00, 0x001};

std::string userUri(int i) {
    return "sip:u" + std::to_string(i) + "@iwf.example";
}

const Keymap& bigKeymap() {
    static const Keymap k = [] {
        Keymap m;
        m.unknown_talker.uri = "sip:unknown@iwf.example";
        LmrSystem p;
        p.id = "p25";
        p.family = LmrFamily::P25;
        p.p25 = kP25;
        LmrSystem d;
        d.id = "dmr";
        d.family = LmrFamily::Dmr;
        d.dmr_network = 3100;
        m.systems = {p, d};
        // Group g (0..kGroups-1) has users g*10 .. g*10+9; even groups P25, odd groups DMR.
        m.users.reserve(kUsers);
        for (int i = 0; i < kUsers; ++i) {
            int g = i / kMembers;
            bool p25 = g % 2 == 0;
            User u;
            u.mc_id.uri = userUri(i);
            u.system = p25 ? "p25" : "dmr";
            u.unit = static_cast<std::uint32_t>(i + 1);
            u.display_name = "user " + std::to_string(i);
            u.kmf_uri = "sip:kmf@kmf.example";
            u.e2ee = true;
            u.authorised.push_back(
                p25 ? KeyRef{LmrFamily::P25, 0x84, static_cast<std::uint32_t>(g & 0xFFFF)}
                    : KeyRef{LmrFamily::Dmr, 5, static_cast<std::uint32_t>(g & 0xFF)});
            m.users.push_back(std::move(u));
        }
        m.groups.reserve(kGroups);
        for (int g = 0; g < kGroups; ++g) {
            bool p25 = g % 2 == 0;
            Group x;
            x.mc_group.uri = "sip:g" + std::to_string(g) + "@iwf.example";
            x.system = p25 ? "p25" : "dmr";
            x.tgid = static_cast<std::uint32_t>(g + 1);
            x.mode = g % 3 == 0 ? EncryptionMode::Mixed : EncryptionMode::Secure;
            x.algid = p25 ? 0x84 : 5;
            x.key_id =
                p25 ? static_cast<std::uint32_t>(g & 0xFFFF) : static_cast<std::uint32_t>(g & 0xFF);
            for (int j = 0; j < kMembers; ++j) {
                x.members.push_back(McId{userUri(g * kMembers + j)});
            }
            m.groups.push_back(std::move(x));
        }
        AdhocRule r;
        r.id = "patches";
        r.system = "p25";
        r.first = 60000;
        r.last = 60999;
        r.lender = m.groups[0].mc_group;
        m.adhoc_rules.push_back(r);
        m.adhoc_default = m.groups[2].mc_group;
        return m;
    }();
    return k;
}

std::shared_ptr<const Snapshot> bigSnapshot() {
    static auto s = Snapshot::build(bigKeymap(), 1);
    return s;
}

void BM_Validate(benchmark::State& state) {
    const Keymap& k = bigKeymap();
    for (auto _ : state) {
        auto f = validate(k);
        if (!f.empty()) {
            state.SkipWithError(f.front().toString().c_str());
            break;
        }
        benchmark::DoNotOptimize(f);
    }
}
BENCHMARK(BM_Validate)->Unit(benchmark::kMillisecond);

void BM_SnapshotBuild(benchmark::State& state) {
    for (auto _ : state) {
        Keymap copy = bigKeymap();
        auto s = Snapshot::build(std::move(copy), 1);
        benchmark::DoNotOptimize(s);
    }
}
BENCHMARK(BM_SnapshotBuild)->Unit(benchmark::kMillisecond);

void BM_YamlParse(benchmark::State& state) {
    std::string text = exportKeymapYaml(bigKeymap());
    state.counters["bytes"] = static_cast<double>(text.size());
    for (auto _ : state) {
        Keymap k = parseKeymapYaml(text, "big.yaml");
        benchmark::DoNotOptimize(k);
    }
}
BENCHMARK(BM_YamlParse)->Unit(benchmark::kMillisecond)->Iterations(2);

// Import = commit into an empty store (diff against nothing + write the revision), then a
// second import of a one-group change (diff against the stored head).
void importInto(benchmark::State& state, const std::function<std::unique_ptr<Store>()>& open) {
    Keymap k2 = bigKeymap();
    k2.groups[5].display_name = "changed";
    for (auto _ : state) {
        auto s = open();
        CommitResult a = s->commit(bigKeymap(), "bench", "import", "big");
        CommitResult b = s->commit(k2, "bench", "import", "change");
        if (!a.created || !b.created) {
            state.SkipWithError("commit made no revision");
        }
        state.PauseTiming();
        s.reset();
        state.ResumeTiming();
    }
}

void BM_ImportSqlite(benchmark::State& state) {
    std::string dir =
        std::filesystem::temp_directory_path() / ("iwf-keymap-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    int n = 0;
    importInto(state,
               [&] { return openStore("sqlite:" + dir + "/k" + std::to_string(n++) + ".db"); });
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ImportSqlite)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_ImportPostgres(benchmark::State& state) {
    const char* url = std::getenv("IWF_BENCH_PG_URL");
    if (url == nullptr) {
        state.SkipWithError("set IWF_BENCH_PG_URL to a scratch database");
        return;
    }
    importInto(state, [&] {
        auto s = openStore(url);
        return s;
    });
}
BENCHMARK(BM_ImportPostgres)->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_LoadHeadAndBuild(benchmark::State& state) {
    std::string path = std::filesystem::temp_directory_path() /
                       ("iwf-keymap-bench-load-" + std::to_string(::getpid()) + ".db");
    {
        auto s = openStore("sqlite:" + path);
        s->commit(bigKeymap(), "bench", "import", "big");
    }
    auto s = openStore("sqlite:" + path);
    for (auto _ : state) {
        auto k = s->load();
        auto snap = Snapshot::build(std::move(*k), 1);
        benchmark::DoNotOptimize(snap);
    }
    s.reset();
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    std::filesystem::remove(path + "-shm");
}
BENCHMARK(BM_LoadHeadAndBuild)->Unit(benchmark::kMillisecond)->Iterations(3);

// Lookups: random keys from a fixed sequence (so the hash maps are exercised, not one line).
template <typename F>
void lookupLoop(benchmark::State& state, F&& f) {
    std::mt19937 rng(42);
    std::array<int, 4096> keys{};
    for (auto& k : keys) {
        k = static_cast<int>(rng() % kUsers);
    }
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(f(keys[i++ & 4095]));
    }
}

void BM_LookupUserByP25Unit(benchmark::State& state) {
    auto s = bigSnapshot();
    lookupLoop(state, [&](int k) {
        // Users of even groups are P25; map any key to one of them.
        int g = (k / kMembers) & ~1;
        return s->user(P25Unit{kP25, static_cast<std::uint32_t>(g * kMembers + 1)});
    });
}
BENCHMARK(BM_LookupUserByP25Unit);

void BM_LookupUserByMcId(benchmark::State& state) {
    auto s = bigSnapshot();
    std::vector<std::string> uris;
    for (int i = 0; i < 4096; ++i) {
        uris.push_back(userUri((i * 7919) % kUsers));
    }
    lookupLoop(state,
               [&](int k) { return s->userByMcId(uris[static_cast<std::size_t>(k) & 4095]); });
}
BENCHMARK(BM_LookupUserByMcId);

void BM_LookupGroupByP25Group(benchmark::State& state) {
    auto s = bigSnapshot();
    lookupLoop(state, [&](int k) {
        int g = (k % kGroups) & ~1;
        return s->group(P25Group{kP25, static_cast<std::uint16_t>(g + 1)});
    });
}
BENCHMARK(BM_LookupGroupByP25Group);

void BM_LookupGroupByDmrGroup(benchmark::State& state) {
    auto s = bigSnapshot();
    lookupLoop(state, [&](int k) {
        int g = (k % kGroups) | 1;
        return s->group("dmr", DmrGroup{static_cast<std::uint32_t>(g + 1)});
    });
}
BENCHMARK(BM_LookupGroupByDmrGroup);

void BM_LookupGroupByMcGroup(benchmark::State& state) {
    auto s = bigSnapshot();
    std::vector<std::string> uris;
    for (int i = 0; i < 4096; ++i) {
        uris.push_back("sip:g" + std::to_string((i * 7919) % kGroups) + "@iwf.example");
    }
    lookupLoop(state,
               [&](int k) { return s->groupByMc(uris[static_cast<std::size_t>(k) & 4095]); });
}
BENCHMARK(BM_LookupGroupByMcGroup);

// The group lookup the engine's policy runs on (the decision itself is
// gateway/engine/policy.cpp, benchmarked with the engine): group by LMR address, then its
// security compared with a stream's.
void BM_StreamPolicy(benchmark::State& state) {
    auto s = bigSnapshot();
    CryptoSync c = CryptoSync::encryptedWith(LmrFamily::P25, 0x84, 0);
    lookupLoop(state, [&](int k) {
        int g = (k % kGroups) & ~1;
        const GroupView* v = s->group(P25Group{kP25, static_cast<std::uint16_t>(g + 1)});
        c.key_id = static_cast<std::uint32_t>(g & 0xFFFF);
        return v->crypto.sameParameters(c);
    });
}
BENCHMARK(BM_StreamPolicy);

void BM_AdhocLender(benchmark::State& state) {
    auto s = bigSnapshot();
    lookupLoop(state, [&](int k) {
        std::array<std::uint32_t, 3> tgs{60000u + static_cast<std::uint32_t>(k % 1000), 60001,
                                         60002};
        return s->adhocLender("p25", tgs, {}).ok();
    });
}
BENCHMARK(BM_AdhocLender);

}  // namespace

BENCHMARK_MAIN();
