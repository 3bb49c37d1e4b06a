#!/usr/bin/env bash
# SageMaker Studio on `rolewright serve` beside moto's server (the anchor), in the same run on the
# same machine, with rolewright-loadgen sending signed JSON 1.1 requests over loopback. rolewright
# gets a domain of USERS user profiles (1,000). Each round runs, one after the other:
#   1. DescribeUserProfile of random users (rolewright),
#   2. ListUserProfiles pages of 100, then 3. of 10, SageMaker's default page (rolewright),
#   4. DescribeDomain (rolewright) and 5. DescribeDomain (moto: the Studio call it has),
#   6. durable CreateUserProfile writes (rolewright).
# The medians of the rounds, p99 latencies and the DescribeDomain ratio are printed at the end.
#
# Usage: bench/server/studio.sh [ROUNDS] [SECS]        (defaults: 3 rounds of 5 s)
# Environment: CONCURRENCY (32), USERS (1000), ONLY=rolewright to skip moto, ROLEWRIGHT_BIN (a
# rolewright binary to measure instead of this build).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
seconds="${2:-5}"
concurrency="${CONCURRENCY:-32}"
users="${USERS:-1000}"
only="${ONLY:-}"
target_dir="${CARGO_TARGET_DIR:-target}"

rolewright="${ROLEWRIGHT_BIN:-}"
if [ -z "$rolewright" ]; then
  cargo build --release --locked -q -p rolewright -p rolewright-loadgen
  rolewright="$target_dir/release/rolewright"
else
  cargo build --release --locked -q -p rolewright-loadgen
fi
[ "$only" = rolewright ] || bench/server/setup-moto.sh
loadgen="$target_dir/release/rolewright-loadgen"

work="$(mktemp -d)"
pids=()
source bench/server/lib.sh
trap cleanup EXIT

start_rolewright rw "$rolewright" "$users"
if [ "$only" != rolewright ]; then
  start_moto moto
  run_load moto describe-domain 1 --setup --users 0 >/dev/null
fi

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(uname -m), load average $(cut -d" " -f1-3 /proc/loadavg)" >&2
echo "rounds: $rounds x $seconds s (+1 s warm-up), concurrency $concurrency, a domain of $users user profiles" >&2
results=()
for round in $(seq "$rounds"); do
  for job in "rw describe-user-profile" "rw list-user-profiles 100" "rw list-user-profiles 10" \
             "rw describe-domain" "moto describe-domain" "rw create-user-profile"; do
    set -- $job
    if [ "$1" = moto ] && [ "$only" = rolewright ]; then results+=("{}"); continue; fi
    if [ "$2" = create-user-profile ]; then
      # Its own domain (created on first use), so that the read domain keeps $users profiles.
      out=$(run_load "$1" "$2" "$concurrency" --setup --users 0)
    elif [ "$2" = list-user-profiles ]; then
      out=$(run_load "$1" "$2" "$concurrency" --users "$users" --page-size "$3")
    else
      out=$(run_load "$1" "$2" "$concurrency" --users "$users")
    fi
    python3 - "$round" "$job" "$out" >&2 <<'PY'
import json, sys
d = json.loads(sys.argv[3])
l = d["latencyMicros"]
print(f"round {sys.argv[1]}: {sys.argv[2]:<28} {d['operationsPerSecond']:>9,.0f}/s  "
      f"p50 {l['p50'] / 1000:6.2f} ms  p99 {l['p99'] / 1000:6.2f} ms  errors {d['errors']}")
PY
    results+=("$out")
  done
done

python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(a) for a in sys.argv[1:]]
names = ["rolewright DescribeUserProfile", "rolewright ListUserProfiles (100/page)",
         "rolewright ListUserProfiles (10/page, SageMaker's default)", "rolewright DescribeDomain",
         "moto DescribeDomain (anchor)", "rolewright CreateUserProfile"]
medians = {}
print(f"{len(runs) // len(names)} rounds, medians:")
for i, name in enumerate(names):
    col = [r for r in runs[i::len(names)] if r]
    if not col:
        continue
    ops = statistics.median(r["operationsPerSecond"] for r in col)
    p99 = statistics.median(r["latencyMicros"]["p99"] for r in col) / 1000
    medians[i] = ops
    each = ", ".join(format(r["operationsPerSecond"], ",.0f") for r in col)
    print(f"  {name:<58} {ops:>10,.0f}/s  p99 {p99:.2f} ms  (rounds: {each})")
if 3 in medians and 4 in medians:
    print(f"  DescribeDomain ratio rolewright/moto: {medians[3] / medians[4]:,.1f}x (goal >= 50x)")
errors = sum(r.get("errors", 0) for r in runs if r)
if errors:
    print(f"error: {errors} operations failed", file=sys.stderr)
    sys.exit(1)
PY
