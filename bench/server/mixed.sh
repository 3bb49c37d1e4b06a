#!/usr/bin/env bash
# GetRole throughput under a mixed load: signed GetRole requests at full speed while a stream of
# sts:AssumeRole calls (each a durable session write) runs beside them, against this build of
# `rolewright serve` and, in the same run, against a build of an earlier commit (the anchor for
# "before"). Each round measures, for each server in turn:
#   1. get-role alone,
#   2. get-role with the assume-role stream at the same time (both generators run together).
# The medians of the rounds and the ratio mixed/alone are printed at the end.
#
# Usage: bench/server/mixed.sh [ROUNDS] [SECS]        (defaults: 5 rounds of 5 s)
# Environment:
#   BEFORE_REV   a commit to build and measure beside this build (e.g. 94aaf96), or
#   BEFORE_BIN   a rolewright binary to measure as "before" (skips building BEFORE_REV);
#   neither: this build alone. AFTER_BIN: a rolewright binary to measure instead of this build.
#   CONCURRENCY  GetRole connections (32); WRITERS  AssumeRole connections (2);
#   CALLER       who sends GetRole: data-scientist-session (default; a session of a role with the
#                six inline policies of the engine's Data Scientist fixture, the caller whose
#                compiled policies cost the most to rebuild) or given (the administrator).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-5}"
seconds="${2:-5}"
concurrency="${CONCURRENCY:-32}"
writers="${WRITERS:-2}"
caller="${CALLER:-data-scientist-session}"
target_dir="${CARGO_TARGET_DIR:-target}"

after="${AFTER_BIN:-}"
if [ -z "$after" ]; then
  cargo build --release --locked -q -p rolewright -p rolewright-loadgen
  after="$target_dir/release/rolewright"
else
  cargo build --release --locked -q -p rolewright-loadgen
fi
loadgen="$target_dir/release/rolewright-loadgen"
before="${BEFORE_BIN:-}"
if [ -z "$before" ] && [ -n "${BEFORE_REV:-}" ]; then
  tree="$target_dir/bench-before-src"
  rm -rf "$tree"
  git worktree add -f --detach "$tree" "$BEFORE_REV" >/dev/null 2>&1
  CARGO_TARGET_DIR="$target_dir/bench-before" cargo build --release -q --manifest-path "$tree/Cargo.toml" -p rolewright
  git worktree remove --force "$tree"
  before="$target_dir/bench-before/release/rolewright"
fi

work="$(mktemp -d)"
pids=()
source bench/server/lib.sh
trap cleanup EXIT

run() { # NAME WORKLOAD CONCURRENCY CALLER
  run_load "$1" "$2" "$3" --caller "$4"
}

servers=(after)
start_rolewright after "$after"
if [ -n "$before" ]; then
  servers=(before after)
  start_rolewright before "$before"
fi

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(uname -m), load average $(cut -d" " -f1-3 /proc/loadavg)" >&2
echo "rounds: $rounds x $seconds s (+1 s warm-up); get-role by $caller, concurrency $concurrency; assume-role concurrency $writers" >&2
[ -z "$before" ] || echo "before: $before  after: $after" >&2
results=()
for round in $(seq "$rounds"); do
  for name in "${servers[@]}"; do
    alone=$(run "$name" get-role "$concurrency" "$caller")
    run "$name" assume-role "$writers" given >"$work/writes.json" &
    writer=$!
    mixed=$(run "$name" get-role "$concurrency" "$caller")
    wait "$writer"
    writes=$(cat "$work/writes.json")
    python3 - "$round" "$name" "$alone" "$mixed" "$writes" >&2 <<'PY'
import json, sys
r, name, alone, mixed, writes = sys.argv[1], sys.argv[2], *map(json.loads, sys.argv[3:])
print(f"round {r}: {name:<6} get-role alone {alone['operationsPerSecond']:>9,.0f}/s  "
      f"with assume-role {mixed['operationsPerSecond']:>9,.0f}/s "
      f"(p99 {mixed['latencyMicros']['p99'] / 1000:.2f} ms) beside "
      f"{writes['operationsPerSecond']:,.0f} AssumeRole/s  errors {alone['errors'] + mixed['errors'] + writes['errors']}")
PY
    results+=("$name" "$alone" "$mixed" "$writes")
  done
done

python3 - "${results[@]}" <<'PY'
import json, statistics, sys
args = sys.argv[1:]
runs = {}
for i in range(0, len(args), 4):
    runs.setdefault(args[i], []).append([json.loads(a) for a in args[i + 1:i + 4]])
print(f"{len(next(iter(runs.values())))} alternating rounds, medians:")
medians = {}
for name, rounds in runs.items():
    alone = statistics.median(r[0]["operationsPerSecond"] for r in rounds)
    mixed = statistics.median(r[1]["operationsPerSecond"] for r in rounds)
    p99 = statistics.median(r[1]["latencyMicros"]["p99"] for r in rounds) / 1000
    writes = statistics.median(r[2]["operationsPerSecond"] for r in rounds)
    medians[name] = (alone, mixed, writes)
    print(f"  {name:<6} get-role alone {alone:>9,.0f}/s  with the assume-role stream {mixed:>9,.0f}/s "
          f"(p99 {p99:.2f} ms, {mixed / alone:.0%} of alone) beside {writes:,.0f} AssumeRole/s")
if "before" in medians:
    b, a = medians["before"], medians["after"]
    print(f"  after/before, get-role with the assume-role stream: {a[1] / b[1]:.2f}x; "
          f"AssumeRole/s: {a[2] / b[2]:.2f}x")
errors = sum(r[k]["errors"] for rounds in runs.values() for r in rounds for k in range(3))
if errors:
    print(f"error: {errors} operations failed", file=sys.stderr)
    sys.exit(1)
PY
