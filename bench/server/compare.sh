#!/usr/bin/env bash
# Measures `rolewright serve` beside moto's server (the anchor) in the same run on the same
# machine, with rolewright-loadgen sending SigV4-signed IAM query-protocol requests over loopback.
# Each round runs, one after the other:
#   1. get-role against rolewright (signed + authorized iam:GetRole),
#   2. get-role against moto (same concurrency),
#   3. create-role-put-policy against rolewright (durable CreateRole + PutRolePolicy pairs).
# The medians of the rounds, the p99 latencies and the ratio to moto are printed at the end.
#
# Usage: bench/server/compare.sh [ROUNDS] [SECS]        (defaults: 3 rounds of 5 s)
# Environment: CONCURRENCY (32), THREADS (loadgen threads, 1), WARMUP (s, 1),
#   ONLY=moto to measure moto alone, ONLY=rolewright to skip moto, VERBOSE=1 for each run's JSON,
#   CARGO_TARGET_DIR.
# Each run also reports the CPU used meanwhile by the server, the generator and everything else
# on the machine ("other"): a round with "other" well above 0 was disturbed by other work.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
seconds="${2:-5}"
concurrency="${CONCURRENCY:-32}"
threads="${THREADS:-1}"
warmup="${WARMUP:-1}"
only="${ONLY:-}"
target_dir="${CARGO_TARGET_DIR:-target}"

packages=(-p rolewright-loadgen)
[ "$only" = moto ] || packages+=(-p rolewright)
cargo build --release --locked -q "${packages[@]}"
[ "$only" = rolewright ] || bench/server/setup-moto.sh
loadgen="$target_dir/release/rolewright-loadgen"
rolewright="$target_dir/release/rolewright"
moto="target/moto-venv/bin/moto_server"

work="$(mktemp -d)"
pids=()
source bench/server/lib.sh
trap cleanup EXIT

wait_for_port() { # PORT PID NAME
  for _ in $(seq 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$2" 2>/dev/null || { echo "error: $3 exited during start-up" >&2; return 1; }
    sleep 0.1
  done
  echo "error: $3 did not open port $1 within 30 s" >&2
  return 1
}

# CPU seconds (user + system) used so far by PID, from /proc (USER_HZ = 100).
cpu_seconds() { awk '{ split($0, a, ") "); split(a[2], f, " "); printf "%.2f", (f[12] + f[13]) / 100 }' "/proc/$1/stat"; }

# CPU seconds used by the whole machine so far (all cores, all processes), from /proc/stat.
machine_seconds() { awk '/^cpu / { printf "%.2f", ($2 + $3 + $4 + $7 + $8) / 100 }' /proc/stat; }

# Runs the loadgen once; prints its JSON with the CPU used meanwhile, in cores, by the server
# (serverCores) and by the whole machine (machineCores). What the machine used beyond the server
# and the generator (otherCores) is other work sharing the machine: rounds with a high figure
# were disturbed.
measure() { # SERVER_PID LOADGEN_ARGS...
  local pid="$1"; shift
  local cpu0 all0 t0 out cpu1 all1 t1
  cpu0=$(cpu_seconds "$pid"); all0=$(machine_seconds); t0=$(date +%s.%N)
  out=$("$loadgen" --format json --allow-errors --concurrency "$concurrency" --threads "$threads" \
    --duration "$seconds" --warmup "$warmup" "$@")
  cpu1=$(cpu_seconds "$pid"); all1=$(machine_seconds); t1=$(date +%s.%N)
  python3 - "$out" "$cpu0" "$cpu1" "$all0" "$all1" "$t0" "$t1" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
cpu0, cpu1, all0, all1, t0, t1 = map(float, sys.argv[2:])
wall = t1 - t0
d["serverCores"] = round((cpu1 - cpu0) / wall, 3)
d["machineCores"] = round((all1 - all0) / wall, 3)
d["otherCores"] = round(max(0.0, d["machineCores"] - d["serverCores"] - (d.get("generatorCores") or 0)), 3)
print(json.dumps(d))
PY
}

# One line per run on stderr; the whole JSON goes there too when VERBOSE is set.
brief() { # LABEL JSON
  python3 - "$1" "$2" >&2 <<'PY'
import json, sys
d = json.loads(sys.argv[2])
l = d["latencyMicros"]
print(f"{sys.argv[1]} {d['operationsPerSecond']:>9,.0f}/s  p50 {l['p50'] / 1000:6.2f} ms  "
      f"p99 {l['p99'] / 1000:6.2f} ms  errors {d['errors']}  cores: server {d['serverCores']:.2f}, "
      f"loadgen {d['generatorCores'] or 0:.2f}, other {d['otherCores']:.2f}")
PY
  [ -z "${VERBOSE:-}" ] || echo "$2" >&2
}

rw_args=()
if [ "$only" != moto ]; then
  # The write workload creates a role per pair: lift the 1,000-role quota of AWS's default.
  "$rolewright" serve --data-dir "$work/rolewright" --listen 127.0.0.1:0 --max-roles 100000000 >"$work/rolewright.out" 2>"$work/rolewright.err" &
  pids+=($!); rw_pid=$!
  for _ in $(seq 300); do
    grep -q '^listening on http://' "$work/rolewright.out" 2>/dev/null && break
    kill -0 "$rw_pid" 2>/dev/null || { echo "error: rolewright serve exited:" >&2; cat "$work/rolewright.err" >&2; exit 1; }
    sleep 0.1
  done
  rw_url=$(sed -n '1s/^listening on //p' "$work/rolewright.out")
  [ -n "$rw_url" ] || { echo "error: rolewright serve printed no address" >&2; exit 1; }
  rw_args=(--url "$rw_url" --credentials "$work/rolewright/credentials" --profile rolewright)
  "$loadgen" "${rw_args[@]}" --setup --requests 1 --duration 5 --format json >/dev/null
fi

moto_args=()
if [ "$only" != rolewright ]; then
  moto_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$moto" -p "$moto_port" -H 127.0.0.1 >"$work/moto.log" 2>&1 &
  pids+=($!); moto_pid=$!
  wait_for_port "$moto_port" "$moto_pid" moto_server
  # moto accepts any keys; it routes IAM by the `iam` service in the credential scope.
  moto_args=(--url "http://127.0.0.1:$moto_port" --access-key AKIDMOTOBENCH --secret-key moto-bench-secret)
  "$loadgen" "${moto_args[@]}" --setup --requests 1 --duration 5 --format json >/dev/null
fi

moto_version=$(target/moto-venv/bin/python -c 'import moto; print(moto.__version__)' 2>/dev/null || echo '?')
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(uname -m), load average $(cut -d" " -f1-3 /proc/loadavg)  moto: $moto_version" >&2
echo "rounds: $rounds x $seconds s (+${warmup} s warm-up), concurrency $concurrency, loadgen threads $threads" >&2
results=()
for round in $(seq "$rounds"); do
  rw_read='{}'; moto_read='{}'; rw_write='{}'
  if [ "$only" != moto ]; then
    rw_read=$(measure "$rw_pid" "${rw_args[@]}" --workload get-role)
    brief "round $round: rolewright get-role              " "$rw_read"
  fi
  if [ "$only" != rolewright ]; then
    moto_read=$(measure "$moto_pid" "${moto_args[@]}" --workload get-role)
    brief "round $round: moto       get-role              " "$moto_read"
  fi
  if [ "$only" != moto ]; then
    rw_write=$(measure "$rw_pid" "${rw_args[@]}" --workload create-role-put-policy)
    brief "round $round: rolewright create-role-put-policy" "$rw_write"
  fi
  results+=("$rw_read" "$moto_read" "$rw_write")
done

python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(a) for a in sys.argv[1:]]
rounds = [runs[i:i + 3] for i in range(0, len(runs), 3)]

def column(index, *keys):
    values = []
    for r in rounds:
        v = r[index]
        for k in keys:
            v = v.get(k) if isinstance(v, dict) else None
        if v is not None:
            values.append(v)
    return values

def line(name, index, unit):
    ops = column(index, "operationsPerSecond")
    if not ops:
        return None
    p99 = column(index, "latencyMicros", "p99")
    p50 = column(index, "latencyMicros", "p50")
    cores = column(index, "serverCores")
    gen = column(index, "generatorCores")
    other = column(index, "otherCores")
    errors = sum(column(index, "errors"))
    print(f"  {name:<34} median {statistics.median(ops):>10,.0f} {unit}/s  "
          f"p50 {statistics.median(p50) / 1000:.2f} ms  p99 {statistics.median(p99) / 1000:.2f} ms  "
          f"cores: server {statistics.median(cores):.2f}, loadgen {statistics.median(gen):.2f}, other {statistics.median(other):.2f}  "
          f"errors {errors}  (rounds: {', '.join(f'{x:,.0f}' for x in ops)})")
    return statistics.median(ops), statistics.median(p99)

print(f"{len(rounds)} alternating rounds:")
read = line("rolewright get-role", 0, "req")
anchor = line("moto get-role (anchor)", 1, "req")
write = line("rolewright create-role+put-policy", 2, "pair")
if read and anchor:
    ratios = [a / b for a, b in zip(column(0, "operationsPerSecond"), column(1, "operationsPerSecond"))]
    print(f"  ratio of the medians, get-role     {read[0] / anchor[0]:,.1f}x  "
          f"(per round: {', '.join(f'{r:,.1f}x' for r in ratios)})")
if read:
    print(f"  target get-role >= 20,000 req/s with p99 < 5 ms: "
          f"{'met' if read[0] >= 20000 and read[1] < 5000 else 'MISSED'}")
if read and anchor:
    print(f"  target get-role >= 50x moto: {'met' if read[0] >= 50 * anchor[0] else 'MISSED'}")
if write:
    print(f"  target >= 1,000 durable pairs/s: {'met' if write[0] >= 1000 else 'MISSED'}")
failed = sum(r.get("errors", 0) for r in runs)
if failed:
    samples = [s for r in runs for s in r.get("errorSamples", [])][:5]
    print(f"error: {failed} operations failed; first errors:", *samples, sep="\n  ", file=sys.stderr)
    sys.exit(1)
PY
