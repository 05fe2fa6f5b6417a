#!/usr/bin/env bash
# Builds Parley.<VERSION>.nupkg: lib/netstandard2.0/Parley.dll (+ XML docs),
# runtimes/linux-x64/native/{libparley_csharp.so (the SWIG glue), libparley.so.0 (the
# engine, under its SONAME, which the glue loads from $ORIGIN), and every library the engine
# needs beyond the base set (docs/packaging.md)}, THIRD-PARTY-NOTICES.txt and a .targets
# file for .NET Framework-style builds. Packs with `nuget pack` (Debian's nuget package); then
# proves the package works on its own: a program compiled against the unpacked package,
# with the natives from runtimes/linux-x64/native, posts and polls an event on Mono.
#   PARLEY_PREFIX=<engine install> packaging/nuget/build.sh [output dir]
# Output: build/packages/nuget/ by default.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
version="$(cat "$root/VERSION")"
out="${1:-$root/build/packages/nuget}"
binding="$root/bindings/csharp"

if ! command -v nuget >/dev/null || ! command -v mcs >/dev/null || ! command -v unzip >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nuget mono-complete unzip >/dev/null
fi
make -s -C "$binding" PARLEY_PREFIX="$PARLEY_PREFIX"

stage="$(mktemp -d /tmp/parley-nuget.XXXXXX)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/lib/netstandard2.0" "$stage/runtimes/linux-x64/native" "$stage/build" "$out"
cp "$binding/build/lib/Parley.dll" "$binding/build/lib/Parley.xml" "$stage/lib/netstandard2.0/"
cp "$binding/build/lib/libparley_csharp.so" "$binding/build/lib/libparley.so.0" "$stage/runtimes/linux-x64/native/"
# Self-contained: every library libparley needs beyond the base set goes next to it, with
# RUNPATH $ORIGIN everywhere (packaging/bundle-libs.sh, docs/packaging.md); their licences
# go in THIRD-PARTY-NOTICES.txt.
strip --strip-unneeded "$stage/runtimes/linux-x64/native/libparley.so.0"
bash "$root/packaging/bundle-libs.sh" "$stage/runtimes/linux-x64/native" --notices "$stage/THIRD-PARTY-NOTICES.txt" \
  | grep -v '^  bundled'
cp "$here/build/Parley.targets" "$stage/build/"
cp "$here/Parley.nuspec" "$stage/"
# HOME for nuget's own settings: a fresh folder, so no user config or feed is consulted.
(cd "$stage" && HOME="$stage/home" nuget pack Parley.nuspec -Version "$version" -BasePath "$stage" \
   -OutputDirectory "$out" -NoPackageAnalysis -NonInteractive -Verbosity quiet)
package="$out/Parley.$version.nupkg"
[ -f "$package" ] || { echo "packaging/nuget: nuget pack produced no $package" >&2; exit 1; }

listing="$(unzip -l "$package")"
for entry in Parley.nuspec lib/netstandard2.0/Parley.dll runtimes/linux-x64/native/libparley_csharp.so \
             runtimes/linux-x64/native/libparley.so.0 runtimes/linux-x64/native/libspdlog.so.1.10 \
             build/netstandard2.0/Parley.targets THIRD-PARTY-NOTICES.txt; do
  grep -q " $entry\$" <<<"$listing" || { echo "packaging/nuget: $entry missing from $package" >&2; exit 1; }
done

# The package alone: unpack, compile against lib/, run with runtimes/.../native next to it.
check="$stage/check"
mkdir -p "$check/pkg" "$check/app"
unzip -q "$package" -d "$check/pkg"
# The natives as the package holds them need nothing beyond the base set.
bash "$root/packaging/check-self-contained.sh" "$check/pkg/runtimes/linux-x64/native"
cp "$check/pkg/lib/netstandard2.0/Parley.dll" "$check/pkg/runtimes/linux-x64/native/"* "$check/app/"
cat > "$check/Check.cs" <<'CS'
public static class Check
{
    public static void Main()
    {
        using (var runtime = Parley.Runtime.Create("{\"log\": {\"sink\": \"none\"}}"))
        {
            runtime.PostEvent("{\"ok\":true}");
            System.Console.WriteLine("parley " + Parley.ParleyLibrary.Version + " from the package: "
                + runtime.PollEvent(System.TimeSpan.FromSeconds(1)).Payload);
        }
        foreach (var line in System.IO.File.ReadAllLines("/proc/self/maps"))
        {
            if (line.Contains("/libspdlog.so"))
            {
                System.Console.WriteLine("libspdlog from: " + line.Substring(line.IndexOf('/')));
                break;
            }
        }
    }
}
CS
mcs -nologo -out:"$check/app/Check.exe" -r:"$check/app/Parley.dll" "$check/Check.cs"
(cd "$check/app" && env -u PARLEY_PREFIX -u LD_LIBRARY_PATH mono Check.exe) | tee "$check/run.out"
# The bundled libraries are the ones loaded, from next to the glue (RUNPATH $ORIGIN).
grep -qx "libspdlog from: $check/app/libspdlog.so.1.10" "$check/run.out" || {
  echo "packaging/nuget: libspdlog was not loaded from the package's natives" >&2
  exit 1
}
ls -l "$package"
