#include "gateway/ops_cli/table.hpp"

#include <algorithm>

namespace iwf::ops {

void Table::print(std::ostream& out) const {
    std::vector<std::size_t> width(header_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) {
            width[i] = std::max(width[i], row[i].size());
        }
    };
    measure(header_);
    for (const auto& r : rows_) {
        measure(r);
    }
    auto line = [&](const std::vector<std::string>& row) {
        std::string s;
        for (std::size_t i = 0; i < width.size(); ++i) {
            const std::string cell = i < row.size() ? row[i] : std::string();
            s += cell;
            if (i + 1 < width.size()) {
                s.append(width[i] - cell.size() + 2, ' ');
            }
        }
        while (!s.empty() && s.back() == ' ') {
            s.pop_back();
        }
        out << s << "\n";
    };
    line(header_);
    for (const auto& r : rows_) {
        line(r);
    }
}

}  // namespace iwf::ops
