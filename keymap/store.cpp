#include "keymap/store.hpp"

#include <regex>

namespace iwf::keymap {

CommitResult Store::rollback(std::uint64_t to, const std::string& actor) {
    std::optional<Keymap> k = load(to);
    if (!k) {
        throw StoreError(describe() + ": rollback: no revision " + std::to_string(to));
    }
    return commit(*k, actor, "rollback", "to revision " + std::to_string(to));
}

std::string redactStoreSpec(const std::string& spec) {
    // postgresql://user:password@host/... -> postgresql://user:***@host/...
    static const std::regex kUrl(R"(^(postgres(?:ql)?://[^:/@]*):[^@]*@)");
    std::string s = std::regex_replace(spec, kUrl, "$1:***@");
    // key=value form: password=...
    static const std::regex kKv(R"(password\s*=\s*\S+)");
    return std::regex_replace(s, kKv, "password=***");
}

std::unique_ptr<Store> openStore(const std::string& spec, std::chrono::milliseconds bound) {
    if (spec.rfind("sqlite:", 0) == 0) {
        std::string path = spec.substr(7);
        if (path.empty()) {
            throw StoreError("store 'sqlite:' names no file");
        }
        return openSqliteStore(path);
    }
    if (spec.rfind("postgresql://", 0) == 0 || spec.rfind("postgres://", 0) == 0) {
        return openPostgresStore(spec, bound);
    }
    throw StoreError("store '" + redactStoreSpec(spec) +
                     "': expected sqlite:PATH or postgresql://...");
}

std::int64_t nowUnixMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace iwf::keymap
