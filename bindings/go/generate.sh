#!/usr/bin/env bash
# Regenerates internal/capi from bindings/swig/parley.i (which includes parley_go.i for Go).
#
#   bindings/go/generate.sh            write internal/capi/parley.go and parley_wrap.c
#   bindings/go/generate.sh --check    regenerate into a temporary folder and fail if the
#                                      committed files differ (test.sh runs this)
#
# The output is committed: `go get` users build with cgo and pkg-config only, no SWIG.
# Needs swig (Debian: apt-get install swig) and the Parley headers: PARLEY_PREFIX/include,
# or the repository's include/ when PARLEY_PREFIX is unset.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
swig_dir="$root/bindings/swig"
include="${PARLEY_PREFIX:-$root}/include"
[[ -f "$include/parley/parley.h" ]] || include="$root/include"

check=0
[[ "${1:-}" == "--check" ]] && check=1

out="$here/internal/capi"
if [[ $check == 1 ]]; then
  out="$(mktemp -d "${TMPDIR:-/tmp}/parley-go-gen.XXXXXX")"
  trap 'rm -rf "$out"' EXIT
fi

# Run from bindings/swig with relative names so the output does not depend on where the
# repository lives ("// source: parley.i").
(cd "$swig_dir" && swig -go -cgo -intgosize 64 -package capi -I"$include" \
  -o "$out/parley_wrap.c" -outdir "$out" parley.i)
# gofmt: SWIG's Go output is not formatted; formatted output diffs cleanly.
gofmt=$(command -v gofmt || echo /usr/local/go/bin/gofmt)
"$gofmt" -w "$out/parley.go"

if [[ $check == 1 ]]; then
  status=0
  for f in parley.go parley_wrap.c; do
    if ! diff -u "$here/internal/capi/$f" "$out/$f" >"$out/$f.diff"; then
      echo "generate.sh --check: internal/capi/$f differs from what SWIG generates now:" >&2
      head -40 "$out/$f.diff" >&2
      status=1
    fi
  done
  [[ $status == 0 ]] && echo "internal/capi is up to date with bindings/swig/parley.i"
  exit $status
fi
echo "generated $out/parley.go and $out/parley_wrap.c"
