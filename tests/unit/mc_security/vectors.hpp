#pragma once
// Loads a known-answer vector file of tests/data/mc_security ("name = hex", '#' comments).
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#include "common/bytes.hpp"

namespace iwf::mc::security::test {

class Vectors {
  public:
    explicit Vectors(const std::string& file) {
        std::ifstream in(std::string(IWF_SECURITY_DATA) + "/" + file);
        if (!in) {
            throw std::runtime_error("cannot open vector file " + file);
        }
        std::string line;
        while (std::getline(in, line)) {
            const auto eq = line.find('=');
            if (line.empty() || line[0] == '#' || eq == std::string::npos) {
                continue;
            }
            std::string name = line.substr(0, eq);
            name.erase(name.find_last_not_of(' ') + 1);
            auto value = fromHex(line.substr(eq + 1));
            if (!value) {
                throw std::runtime_error("bad hex for " + name + " in " + file);
            }
            values_[name] = std::move(*value);
        }
    }
    const Bytes& operator[](const std::string& name) const {
        auto it = values_.find(name);
        if (it == values_.end()) {
            throw std::runtime_error("no vector " + name);
        }
        return it->second;
    }

  private:
    std::map<std::string, Bytes> values_;
};

}  // namespace iwf::mc::security::test
