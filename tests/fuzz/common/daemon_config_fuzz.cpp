// Fuzz target: iwfd's config parser. Any input must either parse or be refused with a
// ConfigError naming a field; no other exception, no crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gateway/config/daemon_config.hpp"
#include "gateway/daemon/link_types.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const iwf::LinkRegistry kLinks = iwf::gateway::allLinkTypes();
    std::string text(reinterpret_cast<const char*>(data), size);
    try {
        iwf::ConfigNode root = iwf::ConfigNode::loadString(text, "fuzz.yaml");
        (void)iwf::gateway::parseDaemonConfig(root, kLinks);
    } catch (const iwf::ConfigError& e) {
        if (e.field().empty()) {
            __builtin_trap();  // every refusal names a field
        }
    }
    return 0;
}
