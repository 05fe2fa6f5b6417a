#!/usr/bin/env bash
# Makes a folder of native libraries self-contained: copies into DIR every shared library
# that the ELF files already in DIR need, directly or through each other, except the base
# set (packaging/base-set.sh), and gives every ELF in DIR the RUNPATH $ORIGIN, so each finds
# its dependencies next to itself wherever the folder is unpacked.
#
#   packaging/bundle-libs.sh DIR [--notices FILE]
#
# --notices FILE  writes the bundled libraries' Debian package names, versions and
#                 copyright files (their licences) to FILE, for the package to carry.
# Prints one line per bundled library and a total. Needs patchelf, readelf, ldd.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=base-set.sh
source "$here/base-set.sh"

dir="" notices=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --notices) notices="$2"; shift 2 ;;
    -*) echo "usage: bundle-libs.sh DIR [--notices FILE]" >&2; exit 2 ;;
    *) dir="$1"; shift ;;
  esac
done
[[ -d "$dir" ]] || { echo "bundle-libs.sh: no folder '$dir'" >&2; exit 2; }
command -v patchelf >/dev/null || { echo "bundle-libs.sh: patchelf is missing (apt-get install patchelf)" >&2; exit 1; }
dir="$(cd "$dir" && pwd)"

# Where each needed library comes from: walk the DT_NEEDED graph from the folder's ELFs. A
# base library ends its branch (what it needs is the base set's business); anything else
# found on this machine is copied in and walked in turn.
declare -A source_of=()  # soname -> the system file it was copied from
queue=()
for file in "$dir"/*; do
  is_elf "$file" && queue+=("$file")
done
[[ ${#queue[@]} -gt 0 ]] || { echo "bundle-libs.sh: no ELF files in $dir" >&2; exit 1; }

while [[ ${#queue[@]} -gt 0 ]]; do
  elf="${queue[0]}"
  queue=("${queue[@]:1}")
  # How this machine resolves the ELF's dependencies (the original file's own RUNPATH
  # included: libpulse finds libpulsecommon in a private folder that way).
  origin="$elf"
  [[ -n "${source_of[$(basename "$elf")]:-}" ]] && origin="${source_of[$(basename "$elf")]}"
  resolved="$(LD_LIBRARY_PATH="" ldd "$origin" 2>/dev/null || true)"
  while read -r soname; do
    [[ -z "$soname" ]] && continue
    is_base "$soname" && continue
    [[ -e "$dir/$soname" ]] && continue  # shipped already (libparley.so.0) or copied
    path="$(awk -v name="$soname" '$1 == name && $2 == "=>" { print $3; exit }' <<<"$resolved")"
    if [[ -z "$path" || "$path" == "not" ]]; then
      echo "bundle-libs.sh: $(basename "$elf") needs $soname, which is not installed here" >&2
      exit 1
    fi
    cp -L "$path" "$dir/$soname"
    chmod 0644 "$dir/$soname"
    source_of[$soname]="$path"
    queue+=("$dir/$soname")
  done < <(needed_sonames "$elf")
done

# RUNPATH $ORIGIN on every ELF: on the ones just copied, and on the ones shipped in the
# folder (libparley.so.0 has none of its own).
for file in "$dir"/*; do
  is_elf "$file" || continue
  patchelf --set-rpath '$ORIGIN' "$file"
done

total=0
for soname in $(printf '%s\n' "${!source_of[@]}" | sort); do
  size=$(stat -c %s "$dir/$soname")
  total=$((total + size))
  printf '  bundled %-28s %8d KB  from %s\n' "$soname" $((size / 1024)) "${source_of[$soname]}"
done
echo "bundle-libs.sh: ${#source_of[@]} libraries bundled into $dir ($((total / 1024)) KB)"

# ---- licences ----------------------------------------------------------------------------
if [[ -n "$notices" ]]; then
  # The Debian package that ships each file, in one dpkg call: dpkg knows a file by the
  # path it installed, which with merged /usr may differ from the path the loader used.
  declare -A owner=()  # path as dpkg knows it -> package
  candidates=()
  for soname in "${!source_of[@]}"; do
    path="${source_of[$soname]}"
    candidates+=("$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}")
  done
  while IFS= read -r line; do
    owner["${line#*: }"]="$(cut -d: -f1 <<<"${line%%: *}" | cut -d, -f1)"
  done < <(dpkg -S "${candidates[@]}" 2>/dev/null || true)
  declare -A package_of=() version_of=()
  for soname in "${!source_of[@]}"; do
    path="${source_of[$soname]}"
    for candidate in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
      if [[ -n "${owner[$candidate]:-}" ]]; then package_of[$soname]="${owner[$candidate]}"; break; fi
    done
  done
  packages=()
  mapfile -t packages < <(printf '%s\n' "${package_of[@]}" | sort -u)
  while read -r package version; do
    version_of[$package]="$version"
  done < <(dpkg-query -W -f='${Package} ${Version}\n' "${packages[@]}" 2>/dev/null || true)
  {
    echo "Third-party libraries bundled with Parley's native code"
    echo "======================================================="
    echo
    echo "The shared libraries below are copies of the Debian $(. /etc/os-release && echo "$VERSION_ID") packages named,"
    echo "unmodified apart from their RUNPATH. Each keeps its own licence, quoted in full below"
    echo "from the package's copyright file. Source code: https://sources.debian.org/ or"
    echo "'apt-get source <package>=<version>'."
    echo
    for soname in $(printf '%s\n' "${!source_of[@]}" | sort); do
      package="${package_of[$soname]:-}"
      printf '  %-28s %s %s\n' "$soname" "${package:-(not from a Debian package)}" "${version_of[$package]:-}"
    done
    for package in "${packages[@]}"; do
      echo
      echo "----------------------------------------------------------------------------"
      echo "$package ${version_of[$package]:-}"
      echo "----------------------------------------------------------------------------"
      copyright="/usr/share/doc/${package}/copyright"
      if [[ -r "$copyright" ]]; then cat "$copyright"; else echo "(no copyright file installed; see the Debian package)"; fi
    done
  } >"$notices"
  echo "bundle-libs.sh: licences of ${#packages[@]} packages in $notices"
fi
