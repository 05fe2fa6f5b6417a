#!/usr/bin/env bash
# Builds the npm package of the Node binding: a .tgz with the prebuilt addon, libparley.so.0
# and the libraries it needs beyond the base set (packaging/bundle-libs.sh) in
# prebuilds/<platform>-<arch>/, all with RUNPATH $ORIGIN, and no install script, so
# `npm install` needs no compiler and the package needs no -dev or library packages.
#
#   PARLEY_PREFIX  an installed Parley (default: <repo>/build/release/install)
#   OUT_DIR        where the .tgz goes (default: packaging/npm/dist)
#
# Prints the path of the .tgz on its last line. The version is the repository's VERSION file.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
binding="$repo/bindings/node"
if [[ -z "${PARLEY_PREFIX:-}" ]]; then
  PARLEY_PREFIX="$(git -C "$repo" rev-parse --show-toplevel)/build/release/install"
fi
export PARLEY_PREFIX
out="${OUT_DIR:-$here/dist}"
version="$(tr -d '[:space:]' < "$repo/VERSION")"
platform="$(node -p 'process.platform + "-" + process.arch')"

# The addon, built against PARLEY_PREFIX (npm deps of the build from the npm registry).
if ! (cd "$binding" && node -e 'require.resolve("node-addon-api"); require.resolve("node-api-headers")' 2>/dev/null); then
  (cd "$binding" && npm ci --no-audit --no-fund --loglevel=error)
fi
bash "$binding/build.sh" >&2
if [[ "$(readelf -d "$binding/build/Release/parley.node" | grep -E 'RUNPATH|RPATH')" != *'[$ORIGIN]'* ]]; then
  echo "build-package.sh: the addon's rpath is not \$ORIGIN" >&2
  exit 1
fi

stage="$(mktemp -d /tmp/parley-npm-stage.XXXXXX)"
trap 'rm -rf "$stage"' EXIT
pkg="$stage/package"
mkdir -p "$pkg/prebuilds/$platform"
cp -R "$binding/index.js" "$binding/index.d.ts" "$binding/lib" "$binding/README.md" "$pkg/"
cp "$binding/build/Release/parley.node" "$pkg/prebuilds/$platform/parley.node"
cp -L "$PARLEY_PREFIX/lib/libparley.so.0" "$pkg/prebuilds/$platform/libparley.so.0"
# Symbol tables are not needed at run time (the exported symbols stay); they are half the size.
strip --strip-unneeded "$pkg/prebuilds/$platform/parley.node" "$pkg/prebuilds/$platform/libparley.so.0"
# Self-contained: every library libparley needs beyond the base set goes next to it, with
# RUNPATH $ORIGIN everywhere (docs/packaging.md), and their licences in the package.
bash "$repo/packaging/bundle-libs.sh" "$pkg/prebuilds/$platform" --notices "$pkg/THIRD-PARTY-NOTICES.txt" >&2

# package.json: the binding's, with the repository's version and nothing for building.
VERSION="$version" PLATFORM="$platform" node -e '
  const fs = require("fs");
  const pkg = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  pkg.version = process.env.VERSION;
  delete pkg.devDependencies;
  delete pkg.scripts;
  const [os, cpu] = process.env.PLATFORM.split("-");
  pkg.os = [os];
  pkg.cpu = [cpu];
  pkg.files = ["index.js", "index.d.ts", "lib/", "prebuilds/", "README.md", "THIRD-PARTY-NOTICES.txt"];
  fs.writeFileSync(process.argv[2], JSON.stringify(pkg, null, 2) + "\n");
' "$binding/package.json" "$pkg/package.json"

mkdir -p "$out"
tgz="$(cd "$pkg" && npm pack --silent --pack-destination "$out" 2>/dev/null | tail -n 1)"
echo "built $out/$tgz (version $version, $platform)" >&2
echo "$out/$tgz"
