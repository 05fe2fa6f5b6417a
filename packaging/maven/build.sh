#!/usr/bin/env bash
# Builds the Maven artifact of the Java binding: dev.parley:parley:<VERSION> — a jar with
# the classes and the natives under /natives/<os>-<arch>/ (libparley_jni.so, libparley.so.0
# and every library it needs beyond the base set, listed in libraries.txt; see
# docs/packaging.md), its pom and a sources jar — then proves the jar works on its own: its
# natives pass packaging/check-self-contained.sh, and a program run with only the jar on
# its class path extracts the natives and calls the engine.
#   PARLEY_PREFIX=<engine install> packaging/maven/build.sh [output dir]
# Output: build/packages/maven/ by default. To install into ~/.m2:
#   mvn install:install-file -Dfile=parley-X.jar -DpomFile=parley-X.pom -Dsources=parley-X-sources.jar
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))"
export PARLEY_PREFIX="${PARLEY_PREFIX:-$root/build/release/install}"
version="$(cat "$root/VERSION")"
out="${1:-$root/build/packages/maven}"
binding="$root/bindings/java"

(cd "$binding" && mvn -B -q -DskipTests -Drevision="$version" package source:jar-no-fork 2>&1 \
  | sed 's/\x1b\[[0-9;]*m//g')
mkdir -p "$out"
cp "$binding/target/parley-$version.jar" "$binding/target/parley-$version-sources.jar" "$out/"
sed "s|\${revision}|$version|; /<revision>/d" "$binding/pom.xml" > "$out/parley-$version.pom"

jar="$out/parley-$version.jar"
check="$(mktemp -d /tmp/parley-maven-check.XXXXXX)"
trap 'rm -rf "$check"' EXIT

# Self-contained natives: every library libparley needs beyond the base set goes next to it
# (packaging/bundle-libs.sh, RUNPATH $ORIGIN everywhere), natives/<platform>/libraries.txt
# lists the folder's files for the loader to extract, and the licences go in META-INF.
platform="$(unzip -Z1 "$jar" 'natives/*/libparley_jni.so' | cut -d/ -f2)"
stage="$check/stage"
mkdir -p "$stage/META-INF"
unzip -q "$jar" "natives/$platform/*" -d "$stage"
strip --strip-unneeded "$stage/natives/$platform/libparley.so.0"
bash "$root/packaging/bundle-libs.sh" "$stage/natives/$platform" --notices "$stage/META-INF/THIRD-PARTY-NOTICES.txt" \
  | grep -v '^  bundled'
natives=("$stage/natives/$platform"/*)
printf '%s\n' "${natives[@]##*/}" > "$stage/natives/$platform/libraries.txt"
(cd "$stage" && jar uf "$jar" "natives/$platform" META-INF/THIRD-PARTY-NOTICES.txt)

listing="$(unzip -l "$jar")"
for entry in natives/linux-x86_64/libparley_jni.so natives/linux-x86_64/libparley.so.0 dev/parley/Runtime.class \
             natives/linux-x86_64/libraries.txt natives/linux-x86_64/libspdlog.so.1.10 META-INF/THIRD-PARTY-NOTICES.txt; do
  grep -q " $entry\$" <<<"$listing" || { echo "packaging/maven: $entry missing from $jar" >&2; exit 1; }
done

# The natives as the jar holds them need nothing beyond the base set.
mkdir -p "$check/unpacked"
unzip -q "$jar" "natives/$platform/*" -d "$check/unpacked"
bash "$root/packaging/check-self-contained.sh" "$check/unpacked/natives/$platform"

# The jar alone, from an empty folder, with no PARLEY_* variables and no LD_LIBRARY_PATH.
cat > "$check/Check.java" <<'JAVA'
public class Check {
  public static void main(String[] args) {
    try (dev.parley.Runtime runtime = dev.parley.Runtime.create("{\"log\": {\"sink\": \"none\"}}")) {
      runtime.postEvent("{\"ok\":true}");
      System.out.println("parley " + dev.parley.Parley.version() + " from the jar: "
          + runtime.pollEvent(java.time.Duration.ofSeconds(1)).payload());
    }
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Paths.get("/proc/self/maps"))) {
        if (line.contains("/libspdlog.so")) {
          System.out.println("libspdlog from: " + line.substring(line.indexOf('/')));
          break;
        }
      }
    } catch (java.io.IOException e) {
      throw new RuntimeException(e);
    }
  }
}
JAVA
(cd "$check" && env -u PARLEY_PREFIX -u PARLEY_LIBRARY_PATH -u LD_LIBRARY_PATH java -cp "$jar" Check.java) | tee "$check/run.out"
# Where the JVM loaded the bundled libraries from: the loader's extraction folder once
# NativeLoader extracts everything natives/<platform>/libraries.txt lists; until then it
# extracts libparley.so.0 and libparley_jni.so only, and the rest comes from the system.
spdlog="$(sed -n 's/^libspdlog from: //p' "$check/run.out")"
if [[ "$spdlog" == */parley-natives-*/libspdlog.so.1.10 ]]; then
  echo "packaging/maven: the bundled libraries are loaded from the jar's natives"
elif unzip -p "$jar" dev/parley/NativeLoader.class | grep -q 'libraries.txt'; then
  echo "packaging/maven: NativeLoader reads libraries.txt but libspdlog came from $spdlog" >&2
  exit 1
else
  echo "packaging/maven: NOTE: NativeLoader does not read natives/$platform/libraries.txt yet, so the" \
       "bundled libraries are not extracted (libspdlog came from $spdlog); see docs/packaging.md"
fi
ls -l "$out"
