#!/usr/bin/env bash
# Measures rolewright and the npm package @cloud-copilot/iam-simulate side by side, in the same
# run on the same machine, on the 359 Strict cases of ../shared/conformance. The two tools are
# run alternately ROUNDS times so that the machine's drifts hit both; the medians of the rounds
# and their ratio are printed. Usage: bench/compare.sh [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-2}"
rounds="${2:-5}"
corpus="../shared/conformance/iam-simulate/engine"

cargo build --release --locked -q -p rolewright
(cd bench/anchors && [ -d node_modules ] || npm ci --silent --no-audit --no-fund)

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(uname -m), $(node --version)" >&2
results=()
for round in $(seq "$rounds"); do
  ours=$(./target/release/rolewright bench --seconds "$seconds" --corpus "$corpus" --format json)
  anchor=$(node bench/anchors/iam-simulate-bench.mjs "$corpus" --seconds "$seconds" 2>/dev/null)
  echo "round $round: rolewright $ours" >&2
  echo "round $round: anchor     $anchor" >&2
  results+=("$ours" "$anchor")
done
python3 - "${results[@]}" <<'PY'
import json, statistics, sys
pairs = [(json.loads(a), json.loads(b)) for a, b in zip(sys.argv[1::2], sys.argv[2::2])]
ours = [p[0]["corpus"]["decisionsPerSecond"] for p in pairs]
anchor = [p[1]["decisionsPerSecond"] for p in pairs]
role = [p[0]["dataScientistRole"]["decisionsPerSecond"] for p in pairs]
compile_us = [p[0]["dataScientistRole"]["parseCompileMicros"] for p in pairs]
ratios = [o / a for o, a in zip(ours, anchor)]
tool = pairs[0][1]
print(f"Strict cases ({pairs[0][0]['corpus']['cases']}), one core, {len(pairs)} alternating rounds:")
print(f"  rolewright        median {statistics.median(ours):>12,.0f} decisions/s  (rounds: {', '.join(f'{x:,.0f}' for x in ours)})")
print(f"  {tool['tool']} {tool['version']}  median {statistics.median(anchor):>12,.0f} decisions/s  (rounds: {', '.join(f'{x:,.0f}' for x in anchor)})")
print(f"  ratio of medians  {statistics.median(ours) / statistics.median(anchor):,.0f}x  (per round: {', '.join(f'{r:,.0f}x' for r in ratios)})")
print(f"Data Scientist role: median {statistics.median(role):,.0f} decisions/s, parse + compile median {statistics.median(compile_us):.1f} us")
PY
