#include "harness/report/report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <sstream>

namespace iwf::harness {

namespace {

std::string esc(const std::string& s) {
    std::string o;
    o.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                o += "&amp;";
                break;
            case '<':
                o += "&lt;";
                break;
            case '>':
                o += "&gt;";
                break;
            case '"':
                o += "&quot;";
                break;
            default:
                o += c;
        }
    }
    return o;
}

std::string str(const nlohmann::json& j, const char* key, const std::string& dflt = "") {
    if (j.is_object() && j.contains(key) && j[key].is_string()) {
        return j[key].get<std::string>();
    }
    if (j.is_object() && j.contains(key) && !j[key].is_null()) {
        return j[key].dump();
    }
    return dflt;
}

double num(const nlohmann::json& j, const char* key, double dflt = 0) {
    if (j.is_object() && j.contains(key) && j[key].is_number()) {
        return j[key].get<double>();
    }
    return dflt;
}

std::string fmt(double v) {
    std::ostringstream o;
    o.precision(v < 10 ? 3 : 1);
    o << std::fixed << v;
    return o.str();
}

std::string histogramSvg(const std::vector<double>& us) {
    std::ostringstream o;
    const int w = 640;
    const int h = 200;
    o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h + 30
      << "' role='img' aria-label='latency histogram'>";
    if (us.empty()) {
        o << "<text x='10' y='20'>no latency samples</text></svg>";
        return o.str();
    }
    constexpr int kBins = 32;
    const double lo = *std::min_element(us.begin(), us.end());
    double hi = *std::max_element(us.begin(), us.end());
    if (hi <= lo) {
        hi = lo + 1;
    }
    std::vector<int> bins(kBins, 0);
    for (double v : us) {
        int b = static_cast<int>((v - lo) / (hi - lo) * kBins);
        bins[static_cast<std::size_t>(std::clamp(b, 0, kBins - 1))]++;
    }
    const int peak = *std::max_element(bins.begin(), bins.end());
    const double bw = static_cast<double>(w - 20) / kBins;
    for (int i = 0; i < kBins; ++i) {
        const double bh =
            peak > 0 ? static_cast<double>(bins[static_cast<std::size_t>(i)]) / peak * (h - 10) : 0;
        o << "<rect x='" << fmt(10 + i * bw) << "' y='" << fmt(h - bh) << "' width='" << fmt(bw - 1)
          << "' height='" << fmt(bh) << "' fill='#4a7'><title>" << fmt(lo + (hi - lo) * i / kBins)
          << "-" << fmt(lo + (hi - lo) * (i + 1) / kBins)
          << " us: " << bins[static_cast<std::size_t>(i)] << "</title></rect>";
    }
    o << "<text x='10' y='" << h + 20 << "' font-size='12'>" << fmt(lo) << " us</text>";
    o << "<text x='" << w - 10 << "' y='" << h + 20 << "' font-size='12' text-anchor='end'>"
      << fmt(hi) << " us</text></svg>";
    return o.str();
}

std::string timelineSvg(const nlohmann::json& calls) {
    std::ostringstream o;
    double end_ms = 1;
    for (const auto& c : calls) {
        end_ms = std::max(end_ms, num(c, "end_ms"));
        for (const auto& e : c.value("events", nlohmann::json::array())) {
            end_ms = std::max(end_ms, num(e, "t_ms"));
        }
    }
    const int w = 800;
    const int row = 28;
    const int h = static_cast<int>(calls.size()) * row + 30;
    const double sx = (w - 220) / end_ms;
    o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h
      << "' role='img' aria-label='call timeline'>";
    int y = 10;
    for (const auto& c : calls) {
        const double s = num(c, "start_ms");
        const double e = std::max(s + 1, num(c, "end_ms"));
        const bool ok = c.value("pass", false);
        o << "<text x='4' y='" << y + 14 << "' font-size='12'>"
          << esc(str(c, "who") + " " + str(c, "action")) << "</text>";
        o << "<rect x='" << fmt(210 + s * sx) << "' y='" << y << "' width='" << fmt((e - s) * sx)
          << "' height='18' fill='" << (ok ? "#8c8" : "#e88") << "'><title>"
          << esc(str(c, "outcome")) << "</title></rect>";
        for (const auto& ev : c.value("events", nlohmann::json::array())) {
            o << "<line x1='" << fmt(210 + num(ev, "t_ms") * sx) << "' x2='"
              << fmt(210 + num(ev, "t_ms") * sx) << "' y1='" << y << "' y2='" << y + 18
              << "' stroke='#333'><title>" << esc(str(ev, "what")) << " @ " << fmt(num(ev, "t_ms"))
              << " ms</title></line>";
        }
        y += row;
    }
    o << "<text x='210' y='" << h - 4 << "' font-size='11'>0 ms</text><text x='" << w - 10
      << "' y='" << h - 4 << "' font-size='11' text-anchor='end'>" << fmt(end_ms)
      << " ms</text></svg>";
    return o.str();
}

// The run's plan: one row per step (the time line's scenario steps indented under it).
std::string stepsTable(const nlohmann::json& steps) {
    if (steps.empty()) {
        return {};
    }
    std::ostringstream o;
    o << "<h2>Run steps</h2>\n<table><tr><th>step</th><th>result</th><th>start-end (ms)</th>"
         "<th>notes and failures</th></tr>";
    std::function<void(const nlohmann::json&, int)> row = [&](const nlohmann::json& s, int depth) {
        const std::string result = str(s, "result");
        std::string what;
        for (const auto& n : s.value("notes", nlohmann::json::array())) {
            what += esc(n.get<std::string>()) + "<br>";
        }
        for (const auto& f : s.value("failures", nlohmann::json::array())) {
            what += "<b class='fail'>" + esc(f.get<std::string>()) + "</b><br>";
        }
        o << "<tr><td>" << std::string(static_cast<std::size_t>(depth) * 4, ' ')
          << (depth > 0 ? "&#8627; " : "") << esc(str(s, "name")) << "</td><td class='"
          << (result == "pass" ? "pass" : "fail") << "'>" << esc(result) << "</td><td>"
          << fmt(num(s, "start_ms")) << "-" << fmt(num(s, "end_ms")) << "</td><td>" << what
          << "</td></tr>";
        for (const auto& c : s.value("steps", nlohmann::json::array())) {
            row(c, depth + 1);
        }
    };
    for (const auto& s : steps) {
        row(s, 0);
    }
    o << "</table>\n";
    return o.str();
}

}  // namespace

LatencySummary summarize(std::vector<double> s) {
    LatencySummary r;
    r.count = s.size();
    if (s.empty()) {
        return r;
    }
    std::sort(s.begin(), s.end());
    auto rank = [&](double p) {
        const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(s.size())));
        return s[std::min(s.size() - 1, k == 0 ? 0 : k - 1)];
    };
    r.p50_us = rank(0.50);
    r.p99_us = rank(0.99);
    r.max_us = s.back();
    return r;
}

std::string renderHtml(const nlohmann::json& r) {
    std::ostringstream o;
    const std::string result = str(r, "result", "unknown");
    o << "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>iwf-harness: "
      << esc(str(r, "scenario")) << "</title><style>"
      << "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
      << "td,th{border:1px solid #999;padding:3px 8px;text-align:left}"
      << ".pass{color:#060}.fail{color:#a00}</style></head><body>\n";
    o << "<h1>" << esc(str(r, "scenario")) << "</h1>\n<p>" << esc(str(r, "description"))
      << "</p>\n<p>Result: <b class='" << (result == "pass" ? "pass" : "fail") << "'>"
      << esc(result) << "</b></p>\n";
    if (r.contains("failures") && !r["failures"].empty()) {
        o << "<h2>Failures</h2><ul>";
        for (const auto& f : r["failures"]) {
            o << "<li>" << esc(f.is_string() ? f.get<std::string>() : f.dump()) << "</li>";
        }
        o << "</ul>\n";
    }
    o << stepsTable(r.value("steps", nlohmann::json::array()));
    o << "<h2>Opacity</h2>\n<p>Scanner self-test: " << esc(str(r, "scanner_self_test"))
      << "; needles (canaries and keys): " << num(r, "needles") << "</p>\n";
    o << "<table><tr><th>source</th><th>bytes scanned</th><th>canary hits</th><th>key "
         "hits</th><th>found</th></tr>";
    for (const auto& s : r.value("opacity", nlohmann::json::array())) {
        std::string found;
        for (const auto& f : s.value("found", nlohmann::json::array())) {
            found += f.get<std::string>() + " ";
        }
        o << "<tr><td>" << esc(str(s, "source")) << "</td><td>" << num(s, "bytes") << "</td><td>"
          << num(s, "canary_hits") << "</td><td>" << num(s, "key_hits") << "</td><td>" << esc(found)
          << "</td></tr>";
    }
    o << "</table>\n";
    o << "<h2>Calls</h2>\n" << timelineSvg(r.value("calls", nlohmann::json::array())) << "\n";
    o << "<table><tr><th>#</th><th>who</th><th>action</th><th>expected</th><th>observed</th>"
         "<th>frames sent</th><th>receivers (ok/received/expected)</th></tr>";
    int i = 0;
    for (const auto& c : r.value("calls", nlohmann::json::array())) {
        std::string rx;
        const nlohmann::json receivers = c.value("receivers", nlohmann::json::object());
        for (const auto& [name, v] : receivers.items()) {
            rx += name + ": " + fmt(num(v, "decrypted_ok")) + "/" + fmt(num(v, "received")) + "/" +
                  fmt(num(v, "expected")) + " ";
        }
        o << "<tr><td>" << i++ << "</td><td>" << esc(str(c, "who")) << "</td><td>"
          << esc(str(c, "action")) << "</td><td>" << esc(str(c, "expected")) << "</td><td>"
          << esc(str(c, "outcome")) << "</td><td>" << num(c, "sent") << "</td><td>" << esc(rx)
          << "</td></tr>";
    }
    o << "</table>\n";
    std::vector<double> lat;
    for (const auto& v : r.value("latency_us", nlohmann::json::array())) {
        lat.push_back(v.get<double>());
    }
    const auto sum = summarize(lat);
    o << "<h2>Added latency (gateway-in to gateway-out per frame)</h2>\n<p>samples " << sum.count
      << ", p50 " << fmt(sum.p50_us) << " us, p99 " << fmt(sum.p99_us) << " us, max "
      << fmt(sum.max_us) << " us</p>\n"
      << histogramSvg(lat) << "\n</body></html>\n";
    return o.str();
}

Status renderReportDir(const std::string& dir) {
    std::ifstream in(dir + "/report.json");
    if (!in) {
        return Error{"no_report"};
    }
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) {
        return Error{"bad_json"};
    }
    std::ofstream out(dir + "/report.html");
    out << renderHtml(j);
    if (!out) {
        return Error{"write_failed"};
    }
    return Status::success();
}

}  // namespace iwf::harness
