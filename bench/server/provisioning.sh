#!/usr/bin/env bash
# Service Catalog provisioning against `rolewright serve` (release build), on a fresh data
# directory and a loopback port: bench/server/provisioning.py times ProvisionProduct of seed
# 002's user-profile product, run as its LAUNCH constraint's role, from the call to SUCCEEDED as
# DescribeRecord shows it, then TerminateProvisionedProduct to SUCCEEDED, each round checking
# (untimed) that the profile was made and removed. No anchor can run beside it: moto has no
# ProvisionProduct, and LocalStack's Service Catalog is absent (see bench/server/cloudformation.sh
# for the CloudFormation anchor).
#
# Usage: bench/server/provisioning.sh [ROUNDS]        (default: 15, plus 1 warm-up round)
# Environment: WARMUP (1), TIMEOUT (s per record, 60), FORMAT=json for JSON lines,
#   ROLEWRIGHT_BIN (a rolewright binary to measure instead of this build), PYTHON (a Python with
#   boto3; default target/ci-venv/bin/python), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-15}"
python="${PYTHON:-target/ci-venv/bin/python}"
target_dir="${CARGO_TARGET_DIR:-target}"
"$python" -c 'import boto3' 2>/dev/null || {
  echo "error: $python cannot import boto3 (python3 -m venv target/ci-venv && target/ci-venv/bin/pip install boto3)" >&2
  exit 2
}
rolewright="${ROLEWRIGHT_BIN:-}"
if [ -z "$rolewright" ]; then
  cargo build --release --locked -q -p rolewright
  rolewright="$target_dir/release/rolewright"
fi

work="$(mktemp -d)"
pids=()
source bench/server/lib.sh
trap cleanup EXIT

serve_rolewright rw "$rolewright"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(uname -m), load average $(cut -d" " -f1-3 /proc/loadavg)" >&2
echo "rounds: $rounds (+${WARMUP:-1} warm-up); rolewright: $rolewright" >&2
# Bounded: each record's wait stops at TIMEOUT, and the whole run at 5 minutes.
timeout 300 "$python" bench/server/provisioning.py --url "$url_rw" \
  --credentials "$work/rw/credentials" --profile rolewright --rounds "$rounds" \
  --warmup "${WARMUP:-1}" --timeout "${TIMEOUT:-60}" --format "${FORMAT:-table}"
