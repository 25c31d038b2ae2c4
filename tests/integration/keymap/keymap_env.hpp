#pragma once
// Test environment for the keymap integration suite: a throw-away PostgreSQL server (started
// on first use by tests/support/postgres.sh, stopped when the test program ends), a fresh
// database per test, and the example keymap.
#include <string>

namespace iwf::keymap::test {

// URL of a new, empty database on the suite's PostgreSQL server (starts it if needed).
std::string freshPostgresDatabase();
// The committed example keymap file and its text.
std::string examplePath();
std::string exampleText();
// Replaces the first occurrence of `from` (which must exist) with `to`.
std::string edit(std::string text, const std::string& from, const std::string& to);

}  // namespace iwf::keymap::test
