// MIKEY messages (RFC 3830 / RFC 6043 / RFC 6509 payload chain of a MIKEY-SAKKE I_MESSAGE,
// mc_adapters/security/mikey.hpp): the parser an MC peer's bytes reach first, before any
// signature check. Property: what parses re-encodes to the same bytes, and the signed part
// ends where the signature starts. The key parameters decoder (TS 33.180 E.6) gets the same
// input: it must return an error or a value, never crash.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "mc_adapters/security/key_params.hpp"
#include "mc_adapters/security/mikey.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iwf::mc::security;
    const iwf::ByteView in(data, size);
    auto m = mikey::parse(in);
    if (m) {
        auto out = mikey::encode(*m);
        if (!out || out->size() != size || std::memcmp(out->data(), data, size) != 0 ||
            m->signed_length + m->signature.size() != size) {
            std::abort();
        }
        (void)m->timestamp();
        (void)m->rand();
        (void)m->sakke();
        (void)m->sp();
        (void)m->idr(mikey::kRoleInitiator);
        (void)m->ext(mikey::kExtKeyParameters);
    }
    auto kp = decodeKeyParameters(in);
    (void)kp;
    return 0;
}
