// Fuzz target: P25 open-network record decoder; a decoded record re-encodes bit-exact.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "lmr_adapters/p25/records.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    iwf::ByteView in(data, size);
    auto r = iwf::lmr::p25::decodeRecord(in);
    if (!r) {
        return 0;
    }
    iwf::InlineBytes<iwf::lmr::p25::kMaxRecordLen> out;
    if (!iwf::lmr::p25::encodeRecord(*r, out).ok() || out.size() != size ||
        std::memcmp(out.data(), data, size) != 0) {
        std::abort();
    }
    return 0;
}
