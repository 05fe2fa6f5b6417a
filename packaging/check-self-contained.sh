#!/usr/bin/env bash
# Proves that a folder of packaged native libraries (npm prebuilds/linux-x64, the jar's
# natives/linux-x86_64, the nupkg's runtimes/linux-x64/native) needs nothing from the
# machine beyond the base set (packaging/base-set.sh, docs/packaging.md):
#
#  1. ldd, with LD_LIBRARY_PATH empty, on every ELF file in the folder: each library must
#     resolve inside the folder, or be in the base set or what the base set itself loads.
#     "not found" fails too. Files resolving outside through a missing RUNPATH are named.
#  2. unless --no-probe: a probe program loads DIR/libparley.so.0 with RTLD_NOW and runs a
#     runtime, chrooted into a root file system holding only the base set's libraries and
#     the folder: what a base machine would have. Needs root (or unprivileged user
#     namespaces); skipped with a warning when neither is available.
#
#   packaging/check-self-contained.sh DIR [--no-probe]
#
# Last line: "self-contained: N passed, N failed". Exit status 0 only if all passed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=base-set.sh
source "$here/base-set.sh"

dir="" probe=1
for arg in "$@"; do
  case "$arg" in
    --no-probe) probe=0 ;;
    -*) echo "usage: check-self-contained.sh DIR [--no-probe]" >&2; exit 2 ;;
    *) dir="$arg" ;;
  esac
done
[[ -d "$dir" ]] || { echo "check-self-contained.sh: no folder '$dir'" >&2; exit 2; }
dir="$(cd "$dir" && pwd -P)"

passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

mapfile -t allowed < <(base_closure)
is_allowed() {
  local soname
  for soname in "${allowed[@]}"; do [[ "$1" == "$soname" ]] && return 0; done
  return 1
}

# ---- 1. ldd on every ELF ---------------------------------------------------------------
elves=()
for file in "$dir"/*; do
  is_elf "$file" && elves+=("$file")
done
[[ ${#elves[@]} -gt 0 ]] || { echo "check-self-contained.sh: no ELF files in $dir" >&2; exit 1; }
declare -A outside=()  # base-set sonames that resolved outside the folder -> path
for elf in "${elves[@]}"; do
  name="$(basename "$elf")"
  problems=()
  while read -r soname arrow path _; do
    [[ -z "$soname" ]] && continue
    if [[ "$arrow" != "=>" ]]; then  # the loader itself, linux-vdso
      soname="$(basename "$soname")"
      is_allowed "$soname" || problems+=("$soname (no path)")
      continue
    fi
    if [[ "$path" == "not" ]]; then
      problems+=("$soname: not found")
      continue
    fi
    real="$(readlink -f "$path")"
    if [[ "$real" == "$dir/"* ]]; then continue; fi
    if is_allowed "$soname"; then
      outside[$soname]="$path"
      continue
    fi
    hint=""
    [[ -e "$dir/$soname" ]] && hint=" (it is in the folder: a RUNPATH \$ORIGIN is missing)"
    problems+=("$soname => $path$hint")
  done < <(LD_LIBRARY_PATH="" ldd "$elf" 2>&1 | sed 's/^[[:space:]]*//')
  if [[ ${#problems[@]} -gt 0 ]]; then
    not_ok "$name needs libraries from outside the package and the base set:"
    printf '    %s\n' "${problems[@]}"
  fi
done
[[ "$failed" == 0 ]] && ok "all ${#elves[@]} ELF files resolve every library inside the package or the base set (ldd)"

# ---- what the folder holds, and what it asks of the machine -------------------------------
size_kb=$(du -sk "$dir" | cut -f1)
echo "  $dir: ${#elves[@]} ELF files, $((size_kb / 1024)) MB"
echo "  from the machine: $(printf '%s\n' "${!outside[@]}" | sort | tr '\n' ' ')"
max_version() {  # max_version PREFIX: the newest PREFIX_x.y symbol version any ELF needs
  local prefix="$1"
  for elf in "${elves[@]}"; do objdump -T "$elf" 2>/dev/null; done |
    grep -oE "\(${prefix}_[0-9.]+\)" | tr -d '()' | sort -uV | tail -n 1
}
echo "  newest symbol versions needed: $(max_version GLIBC) $(max_version GLIBCXX) $(max_version CXXABI)"

# ---- 2. the probe, in a root that has only the base set -------------------------------------
run_probe() {
  local root
  root="$(mktemp -d /tmp/parley-base-root.XXXXXX)"
  # shellcheck disable=SC2064
  trap "rm -rf '$root'" RETURN
  "${CC:-cc}" -O1 -o "$root/probe" "$here/self-contained-probe.c" -ldl
  # The base set's libraries and what they load, at the paths the loader uses here (its
  # default search path finds them with no ld.so.cache in the new root).
  local files=() soname path
  for soname in "${PARLEY_BASE_SONAMES[@]}"; do
    path="$(system_library_path "$soname")" || continue
    files+=("$path")
    while read -r path; do files+=("$path"); done < <(LD_LIBRARY_PATH="" ldd "$path" 2>/dev/null |
      awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
  done
  while read -r path; do files+=("$path"); done < <(ldd "$root/probe" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
  for path in $(printf '%s\n' "${files[@]}" | sort -u); do
    mkdir -p "$root$(dirname "$path")"
    cp -L "$path" "$root$path"
  done
  mkdir -p "$root/package" "$root/tmp"
  cp -a "$dir/." "$root/package/"
  local runner=()
  local chroot
  chroot="$(PATH="$PATH:/usr/sbin:/sbin" command -v chroot)"
  if [[ "$(id -u)" == 0 ]]; then
    runner=("$chroot" "$root")
  elif unshare -r true 2>/dev/null; then
    runner=("$(command -v unshare)" -r "$chroot" "$root")
  else
    echo "  (skipped the base-root probe: needs root or unprivileged user namespaces)"
    return 0
  fi
  local libraries
  libraries="$(find "$root" -name '*.so*' -not -path "$root/package/*" | wc -l)"
  echo "  base root: $libraries libraries, $(( $(du -sk "$root" | cut -f1) / 1024 )) MB"
  if env -i PATH=/ "${runner[@]}" /probe /package/libparley.so.0; then
    ok "libparley.so.0 loads and runs in a root with only the base set"
  else
    not_ok "libparley.so.0 does not load in a root with only the base set"
  fi
}
if [[ "$probe" == 1 ]]; then
  if [[ -e "$dir/libparley.so.0" ]]; then run_probe; else not_ok "no libparley.so.0 in $dir to probe"; fi
fi

echo "self-contained: $passed passed, $failed failed"
[[ "$failed" == 0 ]]
