#!/usr/bin/env bash
# Measures rolewright and the npm package @cloud-copilot/iam-simulate side by side, in the same
# run on the same machine, on the 359 Strict cases of ../shared/conformance, and prints both
# figures and their ratio. Usage: bench/compare.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-3}"
corpus="../shared/conformance/iam-simulate/engine"

cargo build --release --locked -q -p rolewright
(cd bench/anchors && [ -d node_modules ] || npm ci --silent --no-audit --no-fund)

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(uname -m)" >&2
ours=$(./target/release/rolewright bench --seconds "$seconds" --corpus "$corpus" --format json)
anchor=$(node bench/anchors/iam-simulate-bench.mjs "$corpus" --seconds "$seconds")
echo "rolewright: $ours"
echo "anchor:     $anchor"
python3 - "$ours" "$anchor" <<'PY'
import json, sys
ours, anchor = json.loads(sys.argv[1]), json.loads(sys.argv[2])
r, a = ours["corpus"]["decisionsPerSecond"], anchor["decisionsPerSecond"]
print(f"Strict cases: rolewright {r:,.0f}/s, {anchor['tool']} {anchor['version']} {a:,.0f}/s, ratio {r / a:,.0f}x")
d = ours["dataScientistRole"]
print(f"Data Scientist role: {d['decisionsPerSecond']:,.0f} decisions/s, parse + compile {d['parseCompileMicros']:.1f} us")
PY
