// CPU time of the MIKEY-SAKKE public-key operations (issue #20): SAKKE decapsulation (what
// the IWF does for every PCK offer and GMK it receives), RSK validation, encapsulation (our
// private calls) and ECCSI signing, on the RFC 6507 / RFC 6508 Appendix A values.
// docs/protocols/mc-security.md §9 "Cost".
// Run: build/hr/tests/bench/mc_security/bench_mc_security --benchmark_repetitions=3
#include <benchmark/benchmark.h>

#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/sakke.hpp"
#include "tests/unit/mc_security/vectors.hpp"

namespace {

using namespace iwf;
using namespace iwf::mc::security;

Bytes eccsiVec(const char* name) {
    static const test::Vectors v("rfc6507_appendix_a.vec");
    return v[name];
}
Bytes sakkeVec(const char* name) {
    static const test::Vectors v("rfc6508_appendix_a.vec");
    return v[name];
}

Bytes encapsulated() {
    Bytes enc = sakkeVec("R_bS");
    const Bytes h = sakkeVec("H");
    enc.insert(enc.end(), h.begin(), h.end());
    return enc;
}

void BM_SakkeDecapsulate(benchmark::State& state) {
    const Bytes z = sakkeVec("Z"), b = sakkeVec("b"), rsk = sakkeVec("K_bS");
    const Bytes enc = encapsulated();
    for (auto _ : state) {
        auto ssv = sakkeDecapsulate(z, b, rsk, enc);
        if (!ssv) {
            state.SkipWithError("decapsulation failed");
            break;
        }
        benchmark::DoNotOptimize(ssv->data());
    }
}
BENCHMARK(BM_SakkeDecapsulate)->Unit(benchmark::kMillisecond);

void BM_SakkeValidateRsk(benchmark::State& state) {
    const Bytes z = sakkeVec("Z"), b = sakkeVec("b"), rsk = sakkeVec("K_bS");
    for (auto _ : state) {
        if (!sakkeValidateRsk(z, b, rsk)) {
            state.SkipWithError("RSK refused");
            break;
        }
    }
}
BENCHMARK(BM_SakkeValidateRsk)->Unit(benchmark::kMillisecond);

void BM_SakkeEncapsulate(benchmark::State& state) {
    const Bytes z = sakkeVec("Z"), b = sakkeVec("b"), ssv = sakkeVec("SSV");
    for (auto _ : state) {
        auto enc = sakkeEncapsulate(z, b, ssv);
        if (!enc) {
            state.SkipWithError("encapsulation failed");
            break;
        }
        benchmark::DoNotOptimize(enc->data());
    }
}
BENCHMARK(BM_SakkeEncapsulate)->Unit(benchmark::kMillisecond);

void BM_EccsiSign(benchmark::State& state) {
    const EccsiSigningKey key{eccsiVec("SSK"), eccsiVec("PVT")};
    const Bytes kpak = eccsiVec("KPAK"), id = eccsiVec("ID"), msg = eccsiVec("M");
    for (auto _ : state) {
        auto sig = eccsiSign(kpak, id, key, msg);
        if (!sig) {
            state.SkipWithError("signing failed");
            break;
        }
        benchmark::DoNotOptimize(sig->data());
    }
}
BENCHMARK(BM_EccsiSign)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
