#include "common/assert.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "common/log.hpp"

namespace iwf::detail {

void assertFailed(const char* condition, const char* what, const char* file, int line) noexcept {
    // stderr first: it needs no allocation and works even if the logger is what broke.
    std::fprintf(stderr, "IWF_ASSERT failed: %s (%s) at %s:%d\n", condition, what, file, line);
    std::fflush(stderr);
    try {
        auto l = log::get("assert");
        l->critical("assert=failed condition=\"{}\" what=\"{}\" at={}:{}", condition, what, file,
                    line);
        l->flush();
    } catch (...) {  // NOLINT(bugprone-empty-catch): aborting anyway
    }
    std::abort();
}

}  // namespace iwf::detail
