// Secret-taint check of ECCSI signing and SAKKE decapsulation under valgrind memcheck (the
// "ctgrind" method): the secret inputs are marked undefined with VALGRIND_MAKE_MEM_UNDEFINED,
// so memcheck reports every conditional jump and every memory index that depends on them.
// A constant-time computation produces no such report until its public result is declared
// defined again. Run by scripts/ct-check-mc-security (not a ctest: valgrind takes minutes);
// docs/protocols/mc-security.md §9 records what it found.
//
// Inputs are the RFC 6507 / RFC 6508 Appendix A values (tests/data/mc_security).
#include <cstdio>
#include <string>
#include <valgrind/memcheck.h>

#include "common/bytes.hpp"
#include "mc_adapters/security/eccsi.hpp"
#include "mc_adapters/security/sakke.hpp"

using namespace iwf;
using namespace iwf::mc::security;

namespace {

Bytes hex(const char* s) {
    return fromHex(s).value();
}

void secret(Bytes& b) {
    VALGRIND_MAKE_MEM_UNDEFINED(b.data(), b.size());
}
void published(Bytes& b) {
    VALGRIND_MAKE_MEM_DEFINED(b.data(), b.size());
}

}  // namespace

int main(int argc, char** argv) {
    const std::string what = argc > 1 ? argv[1] : "all";
    int failures = 0;
    if (what == "eccsi" || what == "all") {
        const Bytes kpak =
            hex("0450D4670BDE75244F28D2838A0D25558A7A72686D4522D4C8273FB6442AEBFA93DBDD37551AFD263B"
                "5DFD617F3960C65A8C298850FF99F20366DCE7D4367217F4");
        const Bytes id = hex("323031312D30320074656C3A2B34343737303039303031323300");
        EccsiSigningKey key{
            hex("23F374AE1F4033F3E9DBDDAAEF20F4CF0B86BBD5A138A5AE9E7E006B34489A0D"),
            hex("04758A142779BE89E829E71984CB40EF758CC4AD775FC5B9A3E1C8ED52F6FA36D9A79D247692F4"
                "EDA3A6BDAB77D6AA6474A464AE4934663C5265BA7018BA091F79")};
        const Bytes msg = hex("6D65737361676500");
        std::fprintf(stderr, "=== ct: eccsiSign (SSK secret, j from RAND_priv_bytes) ===\n");
        secret(key.ssk);
        auto sig = eccsiSign(kpak, id, key, msg);
        if (!sig) {
            ++failures;
        } else {
            published(*sig);
            failures += eccsiVerify(kpak, id, msg, *sig).ok() ? 0 : 1;
        }
        std::fprintf(stderr, "=== ct: end eccsiSign ===\n");
    }
    if (what == "sakke" || what == "all") {
        const Bytes z =
            hex("045958EF1B1679BF099B3A030DF255AA6A23C1D8F143D4D23F753E69BD27A832F38CB4AD53DDEF4260"
                "B0FE8BB45C4C1FF510EFFE300367A37B61F701D914AEF09724825FA0707D61A6DFF4FBD7273566CDDE"
                "352A0B04B7C16A78309BE640697DE747613A5FC195E8B9F328852A579DB8F99B1D0034479EA9C5595F"
                "47C4B2F54FF21508D37514DCF7A8E143A6058C09A6BF2C9858CA37C258065AE6BF7532BC8B5B633838"
                "66E0753C5AC0E72709F8445F2E6178E065857E0EDA10F68206B63505ED87E534FB2831FF957FB7DC61"
                "9DAE61301EEACC2FDA3680EA4999258A833CEA8FC67C6D19487FB449059F26CC8AAB655AB58B7CC796"
                "E24E9A394095754F5F8BAE");
        const Bytes b = hex("323031312D30320074656C3A2B34343737303039303031323300");
        Bytes rsk = sakkeIssueRsk(hex("AFF429D35F84B110D094803B3595A6E2998BC99F"), b).value();
        const Bytes enc = sakkeEncapsulate(z, b, hex("123456789ABCDEF0123456789ABCDEF0")).value();
        std::fprintf(stderr, "=== ct: sakkeDecapsulate (RSK secret) ===\n");
        secret(rsk);
        auto ssv = sakkeDecapsulate(z, b, rsk, enc);
        if (!ssv) {
            ++failures;
        } else {
            published(*ssv);
            failures += toHex(*ssv) == "123456789abcdef0123456789abcdef0" ? 0 : 1;
        }
        std::fprintf(stderr, "=== ct: end sakkeDecapsulate ===\n");
    }
    std::printf("ct driver: %d functional failure(s)\n", failures);
    return failures;
}
