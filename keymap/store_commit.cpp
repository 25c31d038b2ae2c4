#include "keymap/store_commit.hpp"

namespace iwf::keymap {

CommitResult planCommit(Store& store, const Keymap& k) {
    CommitResult r;
    std::uint64_t head = store.headRevision();
    Keymap old;
    if (head != 0) {
        old = *store.load(head);
    }
    r.changes = diff(old, k);
    r.revision = head;
    if (head != 0 && r.changes.empty()) {
        return r;
    }
    r.revision = head + 1;
    r.created = true;
    return r;
}

}  // namespace iwf::keymap
