#include "gateway/cluster/fence.hpp"

#include <ctime>

namespace iwf::gateway::cluster {

std::int64_t boottimeNs() {
    timespec ts{};
    ::clock_gettime(CLOCK_BOOTTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace iwf::gateway::cluster
