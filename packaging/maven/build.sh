#!/usr/bin/env bash
# Builds the Maven artifact of the Java binding: dev.parley:parley:<VERSION> — a jar with
# the classes and the natives under /natives/<os>-<arch>/ (libparley_jni.so, libparley.so.0),
# its pom and a sources jar — then proves the jar works on its own: a program run with only
# the jar on its class path extracts the natives and calls the engine.
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
listing="$(unzip -l "$jar")"
for entry in natives/linux-x86_64/libparley_jni.so natives/linux-x86_64/libparley.so.0 dev/parley/Runtime.class; do
  grep -q " $entry\$" <<<"$listing" || { echo "packaging/maven: $entry missing from $jar" >&2; exit 1; }
done

# The jar alone, from an empty folder, with no PARLEY_* variables and no LD_LIBRARY_PATH.
check="$(mktemp -d /tmp/parley-maven-check.XXXXXX)"
trap 'rm -rf "$check"' EXIT
cat > "$check/Check.java" <<'JAVA'
public class Check {
  public static void main(String[] args) {
    try (dev.parley.Runtime runtime = dev.parley.Runtime.create("{\"log\": {\"sink\": \"none\"}}")) {
      runtime.postEvent("{\"ok\":true}");
      System.out.println("parley " + dev.parley.Parley.version() + " from the jar: "
          + runtime.pollEvent(java.time.Duration.ofSeconds(1)).payload());
    }
  }
}
JAVA
(cd "$check" && env -u PARLEY_PREFIX -u PARLEY_LIBRARY_PATH -u LD_LIBRARY_PATH java -cp "$jar" Check.java)
ls -l "$out"
