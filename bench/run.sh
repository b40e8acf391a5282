#!/usr/bin/env bash
# Runs the benchmarks, each in its own JVM with Ephemera in-process (local profile).
#   bench/run.sh                       all seven, in order
#   bench/run.sh lifecycle runners     some of them
#   BENCH_OPTS='-Dbench.scale=0.1' bench/run.sh webhook-ingest    smaller, while developing
# Knobs are system properties in BENCH_OPTS: -Dbench.<name>.<knob>=..., -Dbench.scale=...,
# and any -Dephemera.*=... setting of the application. Figures go to bench/results/<name>.md.
# Exit status: 0 when every benchmark run met its target, 1 when one missed, 2 when one could not run.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(webhook-ingest lifecycle fleet timer-herd reconciler runners chaos)
# One fixed heap for every benchmark: the fleet target is "10,000 environments in <= 2 GiB heap",
# and the same ceiling everywhere keeps the figures comparable.
HEAP=(-Xms2g -Xmx2g)

java_major() { # prints the major version of the JDK at $1, or nothing
  local rel="$1/release"
  [ -f "$rel" ] || return 0
  sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel"
}

pick_jdk() { # as .ci/run does: $JAVA_HOME if >= 21, else Temurin, else any JDK >= 21
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/javac" ] && [ "$(java_major "$JAVA_HOME")" -ge 21 ] 2>/dev/null; then
    echo "$JAVA_HOME"; return
  fi
  local d
  for d in /usr/lib/jvm/temurin-*-jdk* /usr/lib/jvm/*; do
    [ -x "$d/bin/javac" ] || continue
    local m; m=$(java_major "$d")
    if [ -n "$m" ] && [ "$m" -ge 21 ]; then echo "$d"; return; fi
  done
}

names=("$@")
[ ${#names[@]} -eq 0 ] && names=("${ALL[@]}")
for n in "${names[@]}"; do
  case " ${ALL[*]} " in *" $n "*) ;; *) echo "unknown benchmark '$n'; one of: ${ALL[*]}" >&2; exit 2;; esac
done

JAVA_HOME=$(pick_jdk)
if [ -z "$JAVA_HOME" ]; then
  echo "No JDK >= 21 found (looked at \$JAVA_HOME and /usr/lib/jvm). Install one, e.g. Temurin 21 or 25." >&2
  exit 2
fi
export JAVA_HOME
echo "Using JDK at $JAVA_HOME ($("$JAVA_HOME/bin/java" -version 2>&1 | head -1))"

# Up to test-compile only: the reactor then hands out each module's target/classes (a packaged
# worker would be the repackaged ephemera.jar, whose classes sit under BOOT-INF/), and the worker's
# target/test-classes for its test-jar (the chaos benchmark's driver lives there, beside ChaosTest).
mkdir -p bench/results
cp_file=$PWD/bench/target/classpath.txt
./mvnw -B -q -pl bench -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=runtime >/dev/null
# build-classpath runs in every module of the reactor; the last one to write is bench's.
CP="$PWD/bench/target/classes:$(cat "$cp_file")"

status=0
read -r -a opts <<< "${BENCH_OPTS:-}"
for n in "${names[@]}"; do
  echo "=== $n ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
  cmd="BENCH_OPTS='${BENCH_OPTS:-}' bench/run.sh $n"
  set +e
  "$JAVA_HOME/bin/java" "${HEAP[@]}" -XX:+UseG1GC "${opts[@]}" \
    -Dbench.results="$PWD/bench/results" -Dbench.command="$cmd" \
    -cp "$CP" io.ephemera.bench.Bench "$n"
  rc=$?
  set -e
  [ $rc -gt $status ] && status=$rc
done
exit $status
