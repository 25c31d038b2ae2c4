#pragma once
// A minimal client of iwfd's admin API for the harness runner and the load generator: one GET
// on 127.0.0.1 and the Prometheus text it returns, summed over label sets.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace iwf::harness {

// GET http://127.0.0.1:port/path: the response body; empty on any failure. `timeout` bounds
// each send / receive (not the whole exchange).
std::string adminGet(std::uint16_t port, const std::string& path,
                     std::chrono::seconds timeout = std::chrono::seconds(2));

// Sum of the samples of metric family `name` (every label set) whose line contains every
// `needle`; nullopt when no such sample exists.
std::optional<double> metricTotal(const std::string& text, const std::string& name,
                                  const std::vector<std::string>& needles = {});

}  // namespace iwf::harness
