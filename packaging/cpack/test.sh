#!/usr/bin/env bash
# Proves the C/C++ packages: makes them (packaging/cpack/build.sh), checks what each holds
# and declares, then uses them as a C/C++ user would, without installing anything into
# the system: the .debs and the .tar.gz are unpacked into temp folders, the C example is
# built against each with CMake find_package(parley) and with pkg-config (shared, and
# --static against libparley.a), and answers a call from the package's own `parley loadgen`.
# Last, packaging/check-data-hints.sh on the .deb's parley CLI.
#
#   packaging/cpack/test.sh [BUILD_DIR]     (default: $PARLEY_BUILD_DIR, else build/release)
#
# Last line: "cpack packages: N passed, N failed".
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-${PARLEY_BUILD_DIR:-$root/build/release}}"
version="$(tr -d '[:space:]' < "$root/VERSION")"
example="$root/examples/c"

work="$(mktemp -d /tmp/parley-cpack-test.XXXXXX)"
agent_pid=""
cleanup() {
  if [[ -n "$agent_pid" ]]; then kill "$agent_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

passed=0
failed=0
check() {  # check NAME COMMAND...
  local name="$1"
  shift
  if "$@" >"$work/check.out" 2>&1; then
    echo "ok - $name"
    passed=$((passed + 1))
  else
    echo "not ok - $name"
    sed 's/^/    /' "$work/check.out"
    failed=$((failed + 1))
  fi
}

mapfile -t packages < <("$here/build.sh" "$build")
runtime_deb="" dev_deb="" tgz=""
for file in "${packages[@]}"; do
  case "$(basename "$file")" in
    parley_"$version"-*.deb) runtime_deb="$file" ;;
    parley-dev_"$version"-*.deb) dev_deb="$file" ;;
    parley-"$version"-linux-*.tar.gz) tgz="$file" ;;
  esac
done
for file in "$runtime_deb" "$dev_deb" "$tgz"; do
  [[ -n "$file" ]] || { echo "cpack: expected two .debs and a .tar.gz for $version, got: ${packages[*]}" >&2; exit 1; }
  echo "package: $(basename "$file") ($(du -h "$file" | cut -f1))"
done

# ---- what the .debs hold and declare -----------------------------------------------------
deb_has() {  # deb_has DEB PATH...: every PATH is in the package
  local listing path
  listing="$(dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's|^\./|/|')"
  shift
  for path in "$@"; do grep -qx "$path" <<<"$listing" || { echo "missing: $path"; return 1; }; done
}
deb_lacks() {
  local listing path
  listing="$(dpkg-deb -c "$1" | awk '{ print $6 }' | sed 's|^\./|/|')"
  shift
  for path in "$@"; do ! grep -qx "$path" <<<"$listing" || { echo "unexpected: $path"; return 1; }; done
}
field_is() { [[ "$(dpkg-deb -f "$1" "$2")" == "$3" ]] || { echo "$2: '$(dpkg-deb -f "$1" "$2")', want '$3'"; return 1; }; }
depends_on() {  # depends_on DEB PACKAGE...: Depends names each PACKAGE (any version)
  local depends package
  depends="$(dpkg-deb -f "$1" Depends)"
  echo "Depends: $depends"
  shift
  for package in "$@"; do grep -qE "(^|, )$package( |,|$)" <<<"$depends" || { echo "no $package"; return 1; }; done
}

check "parley .deb: libparley.so.0, its SONAME link and the parley CLI" \
  deb_has "$runtime_deb" "/usr/lib/libparley.so.$version" /usr/lib/libparley.so.0 /usr/bin/parley
check "parley .deb: no development files" deb_lacks "$runtime_deb" /usr/lib/libparley.so /usr/lib/libparley.a
check "parley .deb: version $version-1" field_is "$runtime_deb" Version "$version-1"
# From dpkg-shlibdeps: the runtime packages of what libparley.so.0 and the CLI link.
check "parley .deb: Depends lists the libraries libparley links (dpkg-shlibdeps)" \
  depends_on "$runtime_deb" libc6 'libstdc\+\+6' libcurl4 libssl3 'libspdlog1\.10[^,]*' libsoxr0 libsimdjson14 \
  libespeak-ng1 libpocketsphinx3 libsphinxbase3
check "parley .deb: a shlibs file, so packages linking libparley get Depends: parley" \
  bash -c "dpkg-deb -I '$runtime_deb' shlibs | grep -qx 'libparley 0 parley (>= $version-1)'"
check "parley-dev .deb: parley.h, libparley.so, libparley.a, the CMake package, parley.pc" \
  deb_has "$dev_deb" /usr/include/parley/parley.h /usr/lib/libparley.so /usr/lib/libparley.a \
  /usr/lib/cmake/parley/parleyConfig.cmake /usr/lib/cmake/parley/parleyConfigVersion.cmake \
  /usr/lib/cmake/parley/parleyTargets.cmake /usr/lib/pkgconfig/parley.pc
check "parley-dev .deb: Depends: parley (= $version-1)" field_is "$dev_deb" Depends "parley (= $version-1)"
# apt resolves both against this system's packages (simulated: nothing is installed).
check "both .debs are installable here (apt-get --simulate)" \
  apt-get install --simulate --no-install-recommends "$runtime_deb" "$dev_deb"

# ---- consuming a package -------------------------------------------------------------
# consume NAME DIR PREFIX [static]: builds the C example against PREFIX with CMake and with
# pkg-config, runs it against one call from PREFIX's own CLI; with "static", also links
# libparley.a (CMake parley::parley_static, through tests/capi/consumer; and pkg-config).
consume() {
  local name="$1" out="$work/$2" prefix="$3" static="${4:-}"
  mkdir -p "$out"
  check "$name: CMake find_package(parley) builds the example (agent, agent_dlopen)" \
    cmake_build "$example" "$out/cmake" "$prefix"
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
  # shellcheck disable=SC2046  # pkg-config's flags are meant to be split
  check "$name: cc \$(pkg-config --cflags --libs parley) builds the example" \
    cc -std=c11 -Wall -Wextra -Werror -o "$out/agent-pkgconfig" "$example/agent.c" \
      $(pkg-config --cflags --libs parley) -Wl,-rpath,"$(pkg-config --variable=libdir parley)"
  check "$name: the CMake-built agent loads the package's libparley.so.0" \
    bash -c "ldd '$out/cmake/agent' | grep -q '=> $(readlink -f "$prefix")/lib/libparley.so.0 '"
  check "$name: the linked agent answers a call from the package's parley loadgen" \
    answer_call "$out/cmake/agent" "$prefix/bin/parley" "$out/agent-run.out"
  if [[ "$static" == static ]]; then
    check "$name: CMake parley::parley_static links libparley.a (tests/capi/consumer) and runs" \
      bash -c "$(declare -f cmake_build); cmake_build '$root/tests/capi/consumer' '$out/consumer' '$prefix' &&
               ! readelf -d '$out/consumer/consumer_static' | grep -q 'NEEDED.*libparley' &&
               '$out/consumer/consumer_static'"
    # -lparley would pick libparley.so: the archive is named by path (docs/packaging.md).
    check "$name: libparley.a + \$(pkg-config --static --libs parley) links the example" \
      bash -c "cc -std=c11 -Wall -Wextra -Werror -o '$out/agent-static' '$example/agent.c' \
                 \$(pkg-config --cflags parley) \$(pkg-config --variable=libdir parley)/libparley.a \
                 -Wl,--as-needed \$(pkg-config --static --libs parley) &&
               ! readelf -d '$out/agent-static' | grep -q 'NEEDED.*libparley'"
    check "$name: the static agent answers a call" \
      answer_call "$out/agent-static" "$prefix/bin/parley" "$out/static-run.out"
  fi
  unset PKG_CONFIG_PATH
}
cmake_build() {  # cmake_build SOURCE BUILD PREFIX
  local generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S "$1" -B "$2" "${generator[@]}" -DCMAKE_PREFIX_PATH="$3" -DCMAKE_C_FLAGS=-Werror >/dev/null &&
    cmake --build "$2" >/dev/null
}
answer_call() {  # answer_call AGENT CLI LOG
  local agent="$1" cli="$2" log="$3" port=""
  : >"$log"
  "$agent" --calls 1 "$example/echo-listener.json" >"$log" 2>&1 </dev/null &
  agent_pid=$!
  for _ in $(seq 100); do
    port="$(sed -n 's|^listening on ws://[^:]*:\([0-9]*\)/.*|\1|p' "$log")"
    [[ -n "$port" ]] && break
    kill -0 "$agent_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$port" ]] || { cat "$log"; return 1; }
  "$cli" loadgen --url "ws://127.0.0.1:$port/twilio" --calls 1 --duration 1 --json >"$log.loadgen" 2>&1 \
    || { cat "$log" "$log.loadgen"; return 1; }
  for _ in $(seq 100); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
  local status=0
  wait "$agent_pid" || status=$?
  agent_pid=""
  cat "$log"
  [[ "$status" == 0 ]] && grep -q '^call started: ' "$log" && grep -q '^call ended: ' "$log"
}

mkdir -p "$work/deb"
dpkg-deb -x "$runtime_deb" "$work/deb"
dpkg-deb -x "$dev_deb" "$work/deb"
consume ".deb (unpacked)" deb-use "$work/deb/usr" static

tgz_has() {
  local listing path top
  listing="$(tar -tzf "$tgz")"
  top="$(basename "$tgz" .tar.gz)"
  for path in "$@"; do grep -qx "$top/$path" <<<"$listing" || { echo "missing: $top/$path"; return 1; }; done
}
check ".tar.gz: everything under parley-$version-linux-<arch>/" \
  tgz_has bin/parley include/parley/parley.h "lib/libparley.so.$version" lib/libparley.so.0 lib/libparley.so \
  lib/libparley.a lib/cmake/parley/parleyConfig.cmake lib/pkgconfig/parley.pc
mkdir -p "$work/tgz"
tar -xzf "$tgz" -C "$work/tgz"
consume ".tar.gz (unpacked)" tgz-use "$work/tgz/$(basename "$tgz" .tar.gz)"

# ---- the local speech providers' data ----------------------------------------------------
check "local providers without their data fail with a message (naming the package: PARLEY_EXPECT_DATA_HINTS=1)" \
  "$root/packaging/check-data-hints.sh" "$work/deb/usr/bin/parley"
sed 's/^/    /' "$work/check.out"

echo "cpack packages: $passed passed, $failed failed"
[[ "$failed" == 0 ]]
