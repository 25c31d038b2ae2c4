#pragma once
// What the store back ends (sqlite_store.cpp, postgres_store.cpp) share inside a writer's
// transaction. Internal to keymap/: callers use Store.

#include "keymap/store.hpp"

namespace iwf::keymap {

// The revision `k` would make on top of the store's head (read through `store`, inside the
// caller's write transaction): the changes against the head's keymap and the new revision
// number. created == false when the store has a head and `k` equals it: nothing is to be
// written, revision is the head. The first revision of an empty store is always created.
CommitResult planCommit(Store& store, const Keymap& k);

}  // namespace iwf::keymap
