#pragma once
// Run reports: the runner writes DIR/report.json; `iwf-harness report DIR` renders it to
// DIR/report.html (plain HTML + inline SVG, no external assets): verdict, opacity scan
// counts per source, per-call timeline and a latency histogram (gateway-in -> gateway-out
// per frame, from the harness's own send / receive timestamps).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.hpp"

namespace iwf::harness {

struct LatencySummary {
    std::size_t count = 0;
    double p50_us = 0;
    double p99_us = 0;
    double max_us = 0;
};
// Nearest-rank percentiles of the samples (microseconds).
LatencySummary summarize(std::vector<double> samples_us);

// Renders a report JSON document to a standalone HTML page.
std::string renderHtml(const nlohmann::json& report);

// Reads DIR/report.json and writes DIR/report.html. Errors: "no_report", "bad_json",
// "write_failed".
Status renderReportDir(const std::string& dir);

}  // namespace iwf::harness
