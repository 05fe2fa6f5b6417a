#!/usr/bin/env bash
# Makes the C/C++ packages from a finished build with CPack (cmake/ParleyPackaging.cmake):
#   <build>/packages/parley_<VERSION>-1_<arch>.deb        libparley.so.0, the parley CLI
#   <build>/packages/parley-dev_<VERSION>-1_<arch>.deb    headers, libparley.so/.a, CMake package, parley.pc
#   <build>/packages/parley-<VERSION>-linux-<arch>.tar.gz all of it, relocatable
#
#   packaging/cpack/build.sh [BUILD_DIR]     (default: $PARLEY_BUILD_DIR, else build/release)
#
# Run it after the build: cpack installs what is built, it does not build. Prints the
# packages' paths, one per line, on stdout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-${PARLEY_BUILD_DIR:-$root/build/release}}"
build="$(cd "$build" && pwd)"
[[ -f "$build/CMakeCache.txt" ]] || { echo "packaging/cpack: $build is not a configured build dir" >&2; exit 1; }
for tool in cpack dpkg-shlibdeps dpkg-deb fakeroot; do
  command -v "$tool" >/dev/null || { echo "packaging/cpack: $tool is missing (scripts/setup installs it)" >&2; exit 1; }
done

# CPackConfig.cmake is written when the build is configured: configure again if it predates
# cmake/ParleyPackaging.cmake (or the build was configured before that file existed).
if [[ ! -f "$build/CPackConfig.cmake" || "$build/CPackConfig.cmake" -ot "$root/cmake/ParleyPackaging.cmake" ]]; then
  cmake "$build" >/dev/null
fi
for file in libparley.so.0 libparley.a src/cli/parley; do
  [[ -e "$build/$file" ]] || { echo "packaging/cpack: $build has no $file: build it first" >&2; exit 1; }
done

out="$build/packages"
mkdir -p "$out"
rm -rf "$out"/*.deb "$out"/*.tar.gz "$out/_CPack_Packages"
(cd "$build" && cpack -G "DEB;TGZ" -B "$out" >"$out/cpack.log" 2>&1) || {
  cat "$out/cpack.log" >&2
  echo "packaging/cpack: cpack failed" >&2
  exit 1
}
rm -rf "$out/_CPack_Packages"  # the staging trees: copies of everything
ls "$out"/*.deb "$out"/*.tar.gz
