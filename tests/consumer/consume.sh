#!/usr/bin/env bash
# consume.sh SOURCE_ROOT: builds a consumer of appinfra the two ways users do, under
# each of its four header-only names (appinfra, appinfra-core, appinfra-pg,
# appinfra-sqlite) and in compiled mode (appinfra-compiled, with both backends).
# 1. As a Meson subproject through the wrap file the README shows
#    (tests/consumer/appinfra.wrap, with its [provide] section): with
#    --wrap-mode=nofallback the consumer calls subproject('appinfra') first
#    (tests/consumer/project); in Meson's default wrap mode dependency() alone finds
#    it (tests/consumer/provide). Each builds and runs, and installing the consumer
#    installs nothing of appinfra's (no headers, no .pc, no CMake package).
# 2. Installed (meson install into a prefix of its own): the headers and the five
#    .pc files are there, and a program compiled with `pkg-config --cflags --libs
#    NAME` builds and runs for each name, and so do the README's plain g++ lines
#    (header-only, and compiled mode against the installed libappinfra).
# The builds of appinfra itself are unoptimized (buildtype plain): what is checked
# is that they build, install and link, and the compiled mode's library is three
# translation units.
# 3. Installed, through CMake: a CMake project (tests/consumer/cmake) finds the same
#    copy with find_package(appinfra CONFIG REQUIRED) and builds and runs a program
#    per imported target (appinfra::appinfra, ::core, ::sqlite, ::pg).
# appinfra-pg is checked when libpqxx and libpq are on the machine (then its .pc
# and its CMake target must be installed); nothing connects to a server.
# Output of meson and ninja is shown only when they fail.
set -euo pipefail
src=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
quiet() {  # quiet CMD...: runs CMD; prints its output only if it fails
  local out
  out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; fail "$*"; }
}
have_pg=false
pkg-config --exists libpqxx libpq && have_pg=true
have_compiled=false
$have_pg && pkg-config --exists sqlite3 && have_compiled=true

# 1. Subproject.
cp -r "$src/tests/consumer/project" "$work/sub"
mkdir -p "$work/sub/subprojects"
ln -s "$src" "$work/sub/subprojects/appinfra"
cp "$src/tests/consumer/appinfra.wrap" "$work/sub/subprojects/"
quiet meson setup --wrap-mode=nofallback --buildtype=plain "$work/sub/build" "$work/sub" -Dappinfra:tests=false
quiet ninja -C "$work/sub/build"
programs=(consumer consumer_core consumer_sqlite)
$have_pg && programs+=(consumer_pg)
sub_programs=("${programs[@]}")
$have_compiled && sub_programs+=(consumer_compiled)
for p in "${sub_programs[@]}"; do
  [ -x "$work/sub/build/$p" ] || fail "subproject consumer $p was not built"
  "$work/sub/build/$p" || fail "subproject consumer $p exited with $?"
done
quiet meson install -C "$work/sub/build" --destdir "$work/sub-stage"
installed=$(find "$work/sub-stage" -type f -o -type l 2>/dev/null || true)
[ -z "$installed" ] || fail "installing a consumer installed appinfra's files: ${installed//$work\/sub-stage/}"
echo "subproject consumer: ok (${sub_programs[*]}; installs nothing)"
mkdir -p "$work/provide/subprojects"
cp "$src/tests/consumer/provide/meson.build" "$src/tests/consumer/project/core.cpp" "$work/provide/"
ln -s "$src" "$work/provide/subprojects/appinfra"
cp "$src/tests/consumer/appinfra.wrap" "$work/provide/subprojects/"
quiet meson setup --wrap-mode=default "$work/provide/build" "$work/provide" -Dappinfra:tests=false
quiet ninja -C "$work/provide/build"
"$work/provide/build/consumer_provide" || fail "consumer through [provide] exited with $?"
echo "subproject consumer through the wrap's [provide], no subproject() call: ok"

# 2. Installed, through pkg-config. Without the command-line tool (-Dcli): its
# compile would double this build's time, and consumers need only the library's files.
prefix=$work/prefix
quiet meson setup --wrap-mode=nofallback --buildtype=plain "$work/inst-build" "$src" -Dtests=false -Dexamples=false \
  -Dbenchmarks=false -Dcli=disabled --prefix="$prefix" --libdir=lib
quiet meson install -C "$work/inst-build"
test -f "$prefix/include/appinfra/db.hpp" || fail "headers not installed"
names=(appinfra appinfra-core appinfra-sqlite)
$have_pg && names+=(appinfra-pg)
$have_compiled && names+=(appinfra-compiled)
pcdir=
for n in "${names[@]}"; do
  pc=$(find "$prefix" -name "$n.pc" | head -1)
  [ -n "$pc" ] || fail "no $n.pc installed"
  pcdir=$(dirname "$pc")
done
export PKG_CONFIG_PATH=$pcdir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
p=$src/tests/consumer/project
check() {  # check NAME SOURCE...: compiles each SOURCE with NAME's flags and runs it
  local name=$1 flags; shift
  flags=$(pkg-config --cflags --libs "$name") || fail "pkg-config $name"
  for s in "$@"; do
    # $flags unquoted on purpose: pkg-config's output is a word list.
    # shellcheck disable=SC2086
    g++ -std=c++20 "$s" -o "$work/pc-consumer" $flags || fail "$(basename "$s") with pkg-config $name: $flags"
    "$work/pc-consumer" || fail "$(basename "$s") built with pkg-config $name exited with $?"
  done
  echo "pkg-config consumer $name: ok ($flags)"
}
# libappinfra is installed in this prefix only: the loader is told where.
export LD_LIBRARY_PATH=$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
check appinfra-core "$p/core.cpp"
$have_compiled && check appinfra-compiled "$p/compiled.cpp"
check appinfra-sqlite "$p/main.cpp"
if $have_pg; then
  check appinfra-pg "$p/pg.cpp"
  check appinfra "$p/main.cpp" "$p/pg.cpp"
else
  check appinfra "$p/main.cpp"
fi

# The README's plain compiler line: no pkg-config, the libraries named by hand
# (-I for this prefix only; /usr/local/include is searched by default).
plain() {  # plain SOURCE FLAGS...
  local s=$1; shift
  g++ -std=c++20 -I"$prefix/include" "$s" -o "$work/plain-consumer" "$@" || fail "plain g++ $(basename "$s") $*"
  "$work/plain-consumer" || fail "$(basename "$s") built by plain g++ exited with $?"
  echo "plain g++ consumer: ok ($(basename "$s") $*)"
}
plain "$p/main.cpp" -lsqlite3 -lfmt -pthread
$have_pg && plain "$p/pg.cpp" -I/usr/include/postgresql -lpqxx -lpq -lfmt -pthread
$have_compiled && plain "$p/compiled.cpp" -DAPPINFRA_SEPARATE_COMPILATION -L"$prefix/lib" -lappinfra -lfmt -pthread
# The library built by hand (README): one file that includes appinfra/src.hpp.
if $have_compiled; then
  printf '#include <appinfra/src.hpp>\n' > "$work/appinfra_src.cpp"
  plain "$p/compiled.cpp" "$work/appinfra_src.cpp" -DAPPINFRA_SEPARATE_COMPILATION -I/usr/include/postgresql \
    -lpqxx -lpq -lsqlite3 -lfmt -pthread
fi

# 3. Installed, through CMake. Timed: the issue caps what the CMake test adds to CI.
started=$SECONDS
cmake_dir=$(find "$prefix" -name appinfraConfig.cmake -printf '%h\n' | head -1)
[ -n "$cmake_dir" ] || fail "no appinfraConfig.cmake installed"
[ -f "$cmake_dir/appinfraConfigVersion.cmake" ] || fail "no appinfraConfigVersion.cmake installed"
quiet cmake -S "$src/tests/consumer/cmake" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix"
quiet cmake --build "$work/cmake-build"
for prog in "${programs[@]}"; do
  [ -x "$work/cmake-build/$prog" ] || fail "CMake consumer $prog was not built"
  "$work/cmake-build/$prog" || fail "CMake consumer $prog exited with $?"
done
echo "CMake consumer: ok (${programs[*]}; $((SECONDS - started)) s)"
