#pragma once
// A plain text table for iwfctl's human output: a header row, columns padded to their widest
// cell, two spaces between columns, no trailing blanks (what `ip`, `ss` and kamcmd print).

#include <ostream>
#include <string>
#include <vector>

namespace iwf::ops {

class Table {
  public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    void print(std::ostream& out) const;

  private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace iwf::ops
