#!/usr/bin/env bash
# no_vtables.sh ERRORS_HPP BINARY...
# Dispatch in appinfra is static: no appinfra type may have a vtable in a built
# binary. The one exception is the error hierarchy of db/errors.hpp, which derives
# from std::runtime_error so that `catch (const std::exception&)` works; its names
# are read from that header, so a new polymorphic type anywhere else fails here.
set -euo pipefail
errors_hpp=$1; shift
allowed=$(sed -nE 's/^class ([A-Za-z]+) : public .*/\1/p' "$errors_hpp" | paste -sd'|')
[ -n "$allowed" ] || { echo "FAIL: no error classes read from $errors_hpp"; exit 1; }
bad=0; seen=0
for bin in "$@"; do
  syms=$(nm -C "$bin" | sed -nE 's/^[0-9a-f]* [A-Za-z] vtable for (.*)$/\1/p' | grep -E '^(appinfra::|std::_Nested_exception<appinfra::)' || true)
  seen=$((seen + $(nm -C "$bin" | grep -c 'appinfra::' || true)))
  while IFS= read -r s; do
    [ -z "$s" ] && continue
    if grep -qxE "appinfra::db::($allowed)|std::_Nested_exception<appinfra::db::($allowed)>" <<<"$s"; then continue; fi
    echo "FAIL: $(basename "$bin") has a vtable for $s"; bad=1
  done <<<"$syms"
done
# The check must have looked at binaries that really contain appinfra code.
[ "$seen" -gt 0 ] || { echo "FAIL: no appinfra symbol found in $*"; exit 1; }
[ $bad = 0 ] && echo "no vtable of an appinfra type but the exceptions ($allowed) in $# binaries"
exit $bad
