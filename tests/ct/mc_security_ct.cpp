// Secret-taint check of ECCSI signing and of SAKKE under valgrind memcheck (the "ctgrind"
// method): the secret inputs are marked undefined with VALGRIND_MAKE_MEM_UNDEFINED, so memcheck
// reports every conditional jump and every memory index that depends on them. A constant-time
// computation produces no such report; a result that is public by design (a signature, the
// outcome of a check) is declared defined again (ctDeclassify in the code, published() here).
//
// Each section counts memcheck's errors (VALGRIND_COUNT_ERRORS) and must add none. A canary
// section branches on a secret on purpose and must be flagged: it proves that valgrind runs
// and that the marking works, so a pass cannot come from a check that sees nothing.
// Exit status 0 only if every section is clean, the canary flagged, and every result right.
//
// Run as the ctest ct_mc_security (label ct) and by scripts/ct-check-mc-security, which also
// lists the flagged code locations; docs/protocols/mc-security.md §9 records the numbers.
// Inputs are the RFC 6507 / RFC 6508 Appendix A values (tests/data/mc_security).
#include <cstdio>
#include <functional>
#include <string>
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#include "common/bytes.hpp"
#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/sakke.hpp"
#include "tests/unit/mc_security/vectors.hpp"

using namespace iwf;
using namespace iwf::mc::security;

namespace ct_mc_security {

void secret(Bytes& b) {
    VALGRIND_MAKE_MEM_UNDEFINED(b.data(), b.size());
}
void published(Bytes& b) {
    VALGRIND_MAKE_MEM_DEFINED(b.data(), b.size());
}

struct Outcome {
    int dirty = 0;       // sections with secret-dependent branches or indexes
    int functional = 0;  // wrong results
};

// Runs one section; `body` returns whether its result was right. `expect_flagged`: the canary.
void section(Outcome& o, const char* name, bool expect_flagged, const std::function<bool()>& body) {
    std::fprintf(stderr, "=== ct: %s ===\n", name);
    const unsigned before = VALGRIND_COUNT_ERRORS;
    const bool right = body();
    const unsigned errors = VALGRIND_COUNT_ERRORS - before;
    std::fprintf(stderr, "=== ct: end %s ===\n", name);
    const bool pass = expect_flagged ? errors > 0 : errors == 0;
    std::printf("%-40s %5u secret-dependent branch/index report(s)%s%s\n", name, errors,
                expect_flagged ? " (canary: must be > 0)" : "", right ? "" : ", WRONG RESULT");
    o.dirty += pass ? 0 : 1;
    o.functional += right ? 0 : 1;
}

// RFC 6507 Appendix A and RFC 6508 Appendix A.
Bytes eccsi(const char* name) {
    static const mc::security::test::Vectors v("rfc6507_appendix_a.vec");
    return v[name];
}
Bytes sakke(const char* name) {
    static const mc::security::test::Vectors v("rfc6508_appendix_a.vec");
    return v[name];
}

}  // namespace ct_mc_security

int main(int argc, char** argv) {
    using namespace ct_mc_security;
    const std::string what = argc > 1 ? argv[1] : "all";
    if (!RUNNING_ON_VALGRIND) {
        std::printf("ct driver: not running under valgrind memcheck: nothing is checked\n");
        return 2;
    }
    Outcome o;
    section(o, "canary (branch on a secret octet)", true, [] {
        Bytes s(1, 0x01);
        secret(s);
        volatile int taken = 0;
        if (s[0] == 1) {
            taken = 1;
        }
        return taken == 1;
    });
    const Bytes msg = eccsi("M");
    if (what == "eccsi" || what == "all") {
        section(o, "eccsiSign (SSK secret)", false, [&] {
            EccsiSigningKey key{eccsi("SSK"), eccsi("PVT")};
            secret(key.ssk);
            auto sig = eccsiSign(eccsi("KPAK"), eccsi("ID"), key, msg);
            if (sig) {
                published(*sig);
            }
            return sig && eccsiVerify(eccsi("KPAK"), eccsi("ID"), msg, *sig).ok();
        });
    }
    if (what == "sakke" || what == "all") {
        const Bytes b = sakke("b");
        const Bytes z = sakke("Z");
        const Bytes rsk = sakke("K_bS");
        Bytes enc = sakke("R_bS");
        const Bytes h = sakke("H");
        enc.insert(enc.end(), h.begin(), h.end());
        section(o, "sakkeDecapsulate (RSK secret)", false, [&] {
            Bytes k = rsk;
            secret(k);
            auto ssv = sakkeDecapsulate(z, b, k, enc);
            if (ssv) {
                published(*ssv);
            }
            return ssv && *ssv == sakke("SSV");
        });
        section(o, "sakkeValidateRsk (RSK secret)", false, [&] {
            Bytes k = rsk;
            secret(k);
            return sakkeValidateRsk(z, b, k).ok();
        });
        section(o, "sakkeEncapsulate (SSV secret)", false, [&] {
            Bytes ssv = sakke("SSV");
            secret(ssv);
            auto out = sakkeEncapsulate(z, b, ssv);
            if (out) {
                published(*out);
            }
            return out && *out == enc;
        });
    }
    std::printf("ct driver: %d section(s) failed the check, %d functional failure(s)\n", o.dirty,
                o.functional);
    return o.dirty + o.functional == 0 ? 0 : 1;
}
