#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds and runs C consumers against the
# *installed* files only: CMake find_package (shared and static), pkg-config, and dlopen.
# usage: run_consumer.sh BUILD_DIR SOURCE_DIR C_COMPILER "EXTRA_C_FLAGS" "EXTRA_LINK_FLAGS"
set -euo pipefail
build=$1 source=$2 cc=$3 flags=${4:-} link_flags=${5:-}
work="$build/consumer-test"
rm -rf "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null

libdir="$prefix/lib"
[ -d "$prefix/lib/x86_64-linux-gnu" ] && libdir="$prefix/lib/x86_64-linux-gnu"
test -f "$prefix/include/parley/parley.h"
test -L "$libdir/libparley.so"
test -f "$libdir/libparley.so.0"
test -f "$libdir/libparley.a"
test -f "$libdir/cmake/parley/parleyConfig.cmake"
test -f "$libdir/pkgconfig/parley.pc"
test -x "$prefix/bin/parley"

echo "== find_package(parley)"
cmake -S "$source/tests/capi/consumer" -B "$work/cmake" -G Ninja -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags $link_flags" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cmake/consumer_shared"
"$work/cmake/consumer_static"

echo "== pkg-config"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# shellcheck disable=SC2046,SC2086
"$cc" $flags -std=c99 -Wall -Werror -c -o "$work/consumer_pc.o" "$source/tests/capi/consumer/consumer.c" \
  $(pkg-config --cflags parley)
"$cc" $flags $link_flags -o "$work/consumer_pc" "$work/consumer_pc.o" $(pkg-config --libs parley)
LD_LIBRARY_PATH="$libdir" "$work/consumer_pc"

echo "== dlopen"
# LeakSanitizer cannot attribute allocations made by libraries dlclose() has unloaded (the
# dependencies libparley pulls in allocate a few bytes at load time), so this one program
# runs without leak detection; every other consumer keeps it.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$work/cmake/dlopen_consumer" "$libdir/libparley.so.0"

echo "== installed parley --version"
LD_LIBRARY_PATH="$libdir" "$prefix/bin/parley" --version
