#pragma once
// The one way into Boost.Asio. Boost 1.74's awaitable.hpp uses std::exchange without
// including <utility>; under GCC 12 in C++20 mode that fails unless <utility> comes first.
#include <utility>

#include <boost/asio.hpp>

namespace iwf {
namespace asio = boost::asio;
}
