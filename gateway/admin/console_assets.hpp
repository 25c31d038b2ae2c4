#pragma once
// The live console's static files (gateway/admin/console/), embedded in the binary at build
// time (cmake/EmbedFiles.cmake): served at / and /console/<name>, nothing read from disk or
// the network at run time.

#include <span>
#include <string_view>

namespace iwf::gateway {

struct ConsoleAsset {
    std::string_view name;  // relative to gateway/admin/console/, e.g. "console.js"
    std::string_view content_type;
    std::string_view body;
};

std::span<const ConsoleAsset> consoleAssets();

}  // namespace iwf::gateway
