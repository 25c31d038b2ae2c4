// Fuzz target: keymap YAML import. Properties checked beyond "no crash":
//  - a file the importer accepts and validate() passes exports to YAML that imports back to
//    the same canonical keymap;
//  - the snapshot built from it finds every user and group by its MC ID.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/config_node.hpp"
#include "keymap/snapshot.hpp"
#include "keymap/validate.hpp"
#include "keymap/yaml_import.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace iwf::keymap;
    if (size > 64 * 1024) {
        return 0;
    }
    std::string text(reinterpret_cast<const char*>(data), size);
    (void)scanForKeyMaterial(text);
    Keymap k;
    try {
        k = parseKeymapYaml(text, "fuzz.yaml");
    } catch (const iwf::ConfigError&) {
        return 0;
    }
    if (!validate(k).empty()) {
        return 0;
    }
    std::string exported = exportKeymapYaml(k);
    Keymap back;
    try {
        back = parseKeymapYaml(exported, "exported.yaml");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "export does not re-import: %s\n%s\n", e.what(), exported.c_str());
        std::abort();
    }
    if (toCanonicalString(back) != toCanonicalString(k)) {
        std::fprintf(stderr, "round trip changed the keymap\n");
        std::abort();
    }
    auto snap = Snapshot::build(std::move(back), 1);
    for (const User& u : snap->keymap().users) {
        if (snap->userByMcId(u.mc_id.uri) == nullptr) {
            std::abort();
        }
    }
    for (const Group& g : snap->keymap().groups) {
        if (snap->groupByMc(g.mc_group.uri) == nullptr) {
            std::abort();
        }
    }
    return 0;
}
