// Fuzz target: ISSI SIP bodies. The first line of the input is the Content-Type, the rest the
// body (SDP, application/x-tia-p25-issi, or multipart/mixed of both); the whole input is also
// tried as SDP, call parameters and an ISSI group URI.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "lmr_adapters/p25/issi_sip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto nl = in.find('\n');
    std::string_view ct = in.substr(0, nl);
    std::string_view body = nl == std::string_view::npos ? std::string_view{} : in.substr(nl + 1);
    using namespace iwf::lmr::p25;
    (void)parseIssiBody(ct, body);
    (void)parseIssiSdp(in);
    (void)parseIssiGroupUri(in);
    auto p = parseIssiCallParams(in);
    if (p) {
        // Serialising and parsing again gives the same parameters.
        auto again = parseIssiCallParams(buildIssiCallParams(*p));
        if (!again || !(*again == *p)) {
            std::abort();
        }
    }
    return 0;
}
