#include "mc_adapters/mcptt/ims_headers.hpp"

namespace iwf::mc::ims {

std::string encodeIcsi(std::string_view icsi) {
    std::string out;
    out.reserve(icsi.size() + 8);
    for (char c : icsi) {
        if (c == ':') {
            out += "%3A";
        } else if (c == '%') {
            out += "%25";
        } else {
            out += c;
        }
    }
    return out;
}

std::string acceptContactFeature(std::string_view feature_tag) {
    return "*;" + std::string(feature_tag) + ";require;explicit";
}

std::string acceptContactIcsi(std::string_view icsi) {
    return "*;+g.3gpp.icsi-ref=\"" + encodeIcsi(icsi) + "\";require;explicit";
}

std::string contactFeatures(std::string_view feature_tag, std::string_view icsi) {
    return ";" + std::string(feature_tag) + ";+g.3gpp.icsi-ref=\"" + encodeIcsi(icsi) + "\"";
}

std::string mcpttContactFeatures() {
    return contactFeatures(kMcpttFeatureTag, kMcpttIcsi);
}

}  // namespace iwf::mc::ims
