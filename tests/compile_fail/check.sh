#!/usr/bin/env bash
# check.sh EXPECT SOURCE COMPILER [FLAGS...]
# EXPECT "ok": SOURCE must compile. Otherwise SOURCE must fail to compile and the
# compiler's output must contain EXPECT (the message a user would read).
set -u
expect=$1; src=$2; shift 2
out=$("$@" -fsyntax-only "$src" 2>&1); rc=$?
if [ "$expect" = ok ]; then
  [ $rc = 0 ] && { echo "compiles, as it must: $src"; exit 0; }
  echo "FAIL: $src must compile:"; echo "$out" | head -40; exit 1
fi
if [ $rc = 0 ]; then echo "FAIL: $src compiled, but must not"; exit 1; fi
if grep -qF -- "$expect" <<<"$out"; then echo "fails to compile with: $expect"; exit 0; fi
echo "FAIL: $src failed to compile, but without the message: $expect"; echo "$out" | head -40; exit 1
