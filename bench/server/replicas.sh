#!/usr/bin/env bash
# Replicas on PostgreSQL beside SQLite in one run (issue 12, item 7): signed GetRole reads and
# durable CreateRole+PutRolePolicy writes against one server on SQLite, one replica on
# PostgreSQL, and two replicas sharing one PostgreSQL database (load spread over both), then the
# replication delay between the two replicas. See bench/server/replicas.py.
#
# Usage: bench/server/replicas.sh [ROUNDS] [SECS]        (defaults: 3 rounds of 5 s)
# Environment: CONCURRENCY (32), FSYNC (on; off for a cluster that does not flush), JIT (the
#   cluster's jit setting, on; rolewright turns it off for its own sessions), SAMPLES
#   (replication-delay samples, 200), FORMAT=json, ROLEWRIGHT_BIN (a rolewright binary to
#   measure instead of this build), PYTHON (a Python with boto3; target/ci-venv/bin/python),
#   CARGO_TARGET_DIR. Needs Debian's postgresql package (run as root, it uses `runuser -u
#   postgres`).
set -euo pipefail
cd "$(dirname "$0")/../.."
python="${PYTHON:-target/ci-venv/bin/python}"
target_dir="${CARGO_TARGET_DIR:-target}"
"$python" -c 'import boto3' 2>/dev/null || {
  echo "error: $python cannot import boto3 (python3 -m venv target/ci-venv && target/ci-venv/bin/pip install boto3)" >&2
  exit 2
}
rolewright="${ROLEWRIGHT_BIN:-}"
if [ -z "$rolewright" ]; then
  cargo build --release --locked -q -p rolewright -p rolewright-loadgen
  rolewright="$target_dir/release/rolewright"
else
  cargo build --release --locked -q -p rolewright-loadgen
fi
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(uname -m), load average $(cut -d" " -f1-3 /proc/loadavg)" >&2
# Bounded: every load run stops at its duration, the whole benchmark at 20 minutes.
timeout 1200 "$python" bench/server/replicas.py --binary "$rolewright" \
  --loadgen "$target_dir/release/rolewright-loadgen" --rounds "${1:-3}" --seconds "${2:-5}" \
  --concurrency "${CONCURRENCY:-32}" --fsync "${FSYNC:-on}" --cluster-jit "${JIT:-on}" \
  --delay-samples "${SAMPLES:-200}" --format "${FORMAT:-table}"
