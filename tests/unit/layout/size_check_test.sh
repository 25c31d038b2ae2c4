#!/usr/bin/env bash
# Runs scripts/check-sizes on small trees built here: one within the limits (must pass, with
# the braces of strings, comments, raw strings, initializer lists and lambdas not mistaken for
# functions), then the same tree with one violation planted at a time (must fail and name the
# planted file and line). The limits are exact: 1,000 lines a file and 150 lines a function
# pass, one more line is refused.
set -euo pipefail
root=$1
check="$root/scripts/check-sizes"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree="$work/tree"
mkdir -p "$tree/common" "$tree/harness/runner" "$tree/tests/unit"

# body N: a function body of N lines in all (the line of `{` and of `}` included), with
# braces in a string, a character, comments and a raw string that must not count.
body() {
  local n=$1 i
  echo "{"
  echo '    s = "{ } }}"; c = '"'}'"'; r = R"x(} {)x"; // }'
  echo '    /* } */ t = u8"{"; l = L'"'{'"';'
  for ((i = 0; i < n - 4; ++i)); do echo "    x += $i;"; done
  echo "}"
}

# A file full of what a brace counter gets wrong, every function within the limit.
{
  echo '#include <map>'
  echo '#define OPEN {'
  echo 'namespace iwf {'
  echo 'const char* kText = "{{{ not code {";'
  echo 'const char* kRaw = R"x({ "json": { } })x";'
  echo "const char kBrace = '{';"
  echo '// a comment with { braces'
  echo '/* and { another'
  echo '   over lines { */'
  echo 'const std::map<int, int> kTable{{1, 2}, {3, 4}};'
  echo 'const long kBig = 1'"'"'000'"'"'000;'
  echo 'struct Counter {'
  echo '    int x_{0};'
  echo '    Counter() : x_{1} {}'
  echo '    int at150() const'
  body 150
  echo '};'
  echo 'auto lambda150 = [](int x) -> int'
  body 150
  echo ';'
  echo 'int free150(int x) noexcept'
  body 150
  echo '}  // namespace iwf'
} > "$tree/common/fine.cpp"
printf '#include "common/fine.cpp"\n' > "$tree/harness/runner/small.hpp"
for ((i = 0; i < 1000; ++i)); do echo "// line $i"; done > "$tree/tests/unit/exactly_1000.cpp"

out=$("$check" --root "$tree") || { echo "FAIL: a tree within the limits was refused:"; echo "$out"; exit 1; }
echo "accepted as expected: $out"

# plant FILE LINE WHAT: FILE (made by the caller) must be refused naming FILE:LINE; removed after.
plant() {
  local file=$1 line=$2 what=$3 out
  if out=$("$check" --root "$tree"); then
    echo "FAIL: $what was accepted"; echo "$out"; exit 1
  fi
  grep -qF "$file:$line:" <<<"$out" || { echo "FAIL: no $file:$line in:"; echo "$out"; exit 1; }
  [ "$(grep -c ':[0-9]*: ' <<<"$out")" = 1 ] || { echo "FAIL: more than the planted one:"; echo "$out"; exit 1; }
  echo "refused as expected: $(grep -F "$file:$line:" <<<"$out")"
  rm "$tree/$file"
}

for ((i = 0; i < 1001; ++i)); do echo "// line $i"; done > "$tree/tests/unit/one_too_many.cpp"
plant tests/unit/one_too_many.cpp 1001 "a file of 1,001 lines"

{ echo 'namespace iwf {'; echo 'int f151(int x)'; body 151; echo '}'; } > "$tree/common/long.cpp"
plant common/long.cpp 2 "a function of 151 lines"

{ echo 'class Runner {'; echo '  public:'; echo '    void run() const'; body 151; echo '};'; } \
  > "$tree/harness/runner/member.hpp"
plant harness/runner/member.hpp 3 "a member function of 151 lines"

{ echo 'TEST(Suite, Long)'; body 151; } > "$tree/tests/unit/long_test.cpp"
plant tests/unit/long_test.cpp 1 "a test body of 151 lines"

{ echo 'Foo::Foo(int a) : a_(a), b_{a}, c_{{1, 2}}'; body 151; } > "$tree/common/ctor.cpp"
plant common/ctor.cpp 1 "a constructor of 151 lines after an initializer list with braces"

echo "layout: size check passes within the limits and refuses every planted violation"
