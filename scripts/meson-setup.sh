# shellcheck shell=bash
# Sourced by the scripts here. meson_setup DIR [meson options...]: configures DIR with
# Debian's packages only (reconfigures it if it exists). Quiet when all is well;
# shows Meson's warnings (a backend left out for a missing library, with the package
# to install) and, when it fails, its whole output: a configuration error is never
# just an exit status.
meson_setup() {
  local dir=$1 out rc=0; shift
  local reconf=()
  [ -f "$dir/build.ninja" ] && reconf=(--reconfigure)
  out=$(meson setup "${reconf[@]}" --wrap-mode=nofallback "$dir" "$@" 2>&1) || rc=$?
  if [ "$rc" != 0 ]; then
    printf '%s\n' "$out" >&2
    echo "meson setup $dir failed (exit $rc); details in $dir/meson-logs/meson-log.txt" >&2
    return "$rc"
  fi
  grep -E '(^|: )(WARNING|DEPRECATION):' <<<"$out" >&2 || true
}
