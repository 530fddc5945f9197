#!/usr/bin/env bash
# consume.sh SOURCE_ROOT: builds a consumer of appinfra the two ways users do.
# 1. As a Meson subproject (meson.override_dependency('appinfra', ...)).
# 2. Installed, through its pkg-config file.
set -euo pipefail
src=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp -r "$src/tests/consumer/project" "$work/sub"
mkdir -p "$work/sub/subprojects"
ln -s "$src" "$work/sub/subprojects/appinfra"
meson setup --wrap-mode=nofallback "$work/sub/build" "$work/sub" -Dappinfra:tests=false >/dev/null
ninja -C "$work/sub/build" >/dev/null
"$work/sub/build/consumer"
echo "subproject consumer: ok"

meson setup --wrap-mode=nofallback "$work/inst-build" "$src" -Dtests=false -Dexamples=false -Dbenchmarks=false \
  --prefix=/usr/local >/dev/null
DESTDIR="$work/stage" meson install -C "$work/inst-build" >/dev/null
pc=$(find "$work/stage" -name appinfra.pc | head -1)
[ -n "$pc" ] || { echo "FAIL: no appinfra.pc installed"; exit 1; }
test -f "$work/stage/usr/local/include/appinfra/db.hpp" || { echo "FAIL: headers not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR="$work/stage"
flags=$(pkg-config --cflags --libs appinfra)
g++ -std=c++20 "$src/tests/consumer/project/main.cpp" -o "$work/pc-consumer" $flags
"$work/pc-consumer"
echo "pkg-config consumer: ok ($flags)"
