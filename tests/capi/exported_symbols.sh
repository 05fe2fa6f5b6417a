#!/usr/bin/env bash
# Fails if libparley.so exports any symbol not named parley_*, or lacks the SONAME.
set -euo pipefail
lib=$1
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libparley.so.0" ] || { echo "SONAME is '$soname', expected libparley.so.0"; exit 1; }
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | sort -u)
count=$(printf '%s\n' "$exported" | grep -c '^parley_' || true)
stray=$(printf '%s\n' "$exported" | grep -v '^parley_' | grep -v '^$' || true)
if [ -n "$stray" ]; then
  echo "symbols exported that are not parley_*:"; echo "$stray"; exit 1
fi
[ "$count" -gt 10 ] || { echo "only $count parley_* symbols exported"; exit 1; }
echo "SONAME $soname; $count symbols exported, all parley_*"
