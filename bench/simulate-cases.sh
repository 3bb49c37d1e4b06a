#!/usr/bin/env bash
# Measures `rolewright simulate --cases` as a whole process (start, read, parse, compile, decide,
# print, exit) against the npm package @cloud-copilot/iam-simulate deciding the same cases warm
# and in-process, in the same run on the same machine. The input is the 359 Strict cases of
# ../shared/conformance repeated 50 times as one JSON Lines file (17,950 cases), written under
# target/bench/ by `rolewright bench --write-cases`. The two tools run alternately ROUNDS times
# so that the machine's drifts hit both; the medians of the rounds and their ratio are printed.
#
# Usage: bench/simulate-cases.sh [SECONDS] [ROUNDS] [REPEAT]
#
# In each round rolewright runs back to back for SECONDS (whole runs, output to /dev/null) and
# its rate is decisions of all runs / their time; the anchor decides the same file round-robin
# in three timed repetitions of SECONDS after a warm-up, and its median repetition is taken.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-3}"
rounds="${2:-5}"
repeat="${3:-50}"
corpus="../shared/conformance/iam-simulate/engine"
cases="target/bench/strict-x${repeat}.jsonl"

cargo build --release --locked -q -p rolewright
(cd bench/anchors && [ -d node_modules ] || npm ci --silent --no-audit --no-fund)
./target/release/rolewright bench --corpus "$corpus" --write-cases "$cases" --repeat "$repeat" >&2

# The output is checked once, untimed: every case must pass.
summary=$(./target/release/rolewright simulate --cases "$cases" --format json 2>&1 >/dev/null | tail -1)
echo "check: $summary" >&2
case "$summary" in
  *" passed, 0 failed, 0 skipped") ;;
  *) echo "error: rolewright does not pass every case of $cases" >&2; exit 1 ;;
esac

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(uname -m), $(node --version)" >&2
results=()
for round in $(seq "$rounds"); do
  ours=$(python3 - "$cases" "$seconds" <<'PY'
import json, subprocess, sys, time
cases, seconds = sys.argv[1], float(sys.argv[2])
command = ["./target/release/rolewright", "simulate", "--cases", cases, "--format", "json"]
decisions = sum(1 for line in open(cases) if line.strip())
runs, start = 0, time.perf_counter()
while True:
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    runs += 1
    elapsed = time.perf_counter() - start
    if elapsed >= seconds:
        break
print(json.dumps({"runs": runs, "seconds": round(elapsed, 6), "msPerRun": round(elapsed / runs * 1000, 3),
                  "decisionsPerSecond": round(runs * decisions / elapsed, 1)}))
PY
)
  anchor=$(node bench/anchors/iam-simulate-bench.mjs "$cases" --seconds "$seconds" --warmup "$((seconds * 2))" 2>/dev/null)
  echo "round $round: rolewright $ours" >&2
  echo "round $round: anchor     $anchor" >&2
  results+=("$ours" "$anchor")
done
python3 - "${results[@]}" <<'PY'
import json, statistics, sys
pairs = [(json.loads(a), json.loads(b)) for a, b in zip(sys.argv[1::2], sys.argv[2::2])]
ours = [p[0]["decisionsPerSecond"] for p in pairs]
per_run = [p[0]["msPerRun"] for p in pairs]
anchor = [p[1]["decisionsPerSecond"] for p in pairs]
ratios = [o / a for o, a in zip(ours, anchor)]
tool = pairs[0][1]
print(f"{tool['cases']:,} cases (the Strict cases repeated), {len(pairs)} alternating rounds:")
print(f"  rolewright simulate --cases (whole process)  median {statistics.median(ours):>10,.0f} decisions/s  "
      f"({statistics.median(per_run):.1f} ms per run; rounds: {', '.join(f'{x:,.0f}' for x in ours)})")
print(f"  {tool['tool']} {tool['version']} (warm, in-process)  median {statistics.median(anchor):>10,.0f} decisions/s  "
      f"(rounds: {', '.join(f'{x:,.0f}' for x in anchor)})")
print(f"  ratio of medians  {statistics.median(ours) / statistics.median(anchor):,.1f}x  "
      f"(per round: {', '.join(f'{r:,.1f}x' for r in ratios)})")
PY
