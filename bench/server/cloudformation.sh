#!/usr/bin/env bash
# CloudFormation CreateStack of a 20-resource IAM-only template against `rolewright serve`
# (release build) and, as the anchor in the same run on the same machine, moto's server, each
# on a fresh data directory and a loopback port. bench/server/cloudformation.py drives both with
# boto3 in alternating rounds: each round creates a new stack on each server and times it from
# the CreateStack call to the final status seen by DescribeStacks (rolewright answers CreateStack
# once the stack is complete; both are still polled the same way), then checks, untimed, that
# every role, user, managed policy, inline policy, attachment and instance profile exists as the
# template gives it and that the stack is CREATE_COMPLETE, and fails otherwise. A third series
# times rolewright alone on the "full" variant of the template (a Group, a user in it, and
# ManagedPolicyArns: what moto's CloudFormation skips). After the rounds, every stack is deleted
# and DeleteStack is timed to DELETE_COMPLETE (moto's may fail; that is then reported, not timed).
# Prints the median, p90, min and max in ms per series and the ratio moto / rolewright.
#
# Usage: bench/server/cloudformation.sh [ROUNDS]        (default: 15, plus 1 warm-up round)
# Environment: WARMUP (rounds not counted, 1), TIMEOUT (s per stack, 60), ONLY=rolewright to
#   skip moto, FULL=0 to skip the full template, FORMAT=json for JSON lines, ROLEWRIGHT_BIN (a
#   rolewright binary to measure instead of this build), PYTHON (a Python with boto3; default
#   target/ci-venv/bin/python), CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-15}"
warmup="${WARMUP:-1}"
stack_timeout="${TIMEOUT:-60}"
only="${ONLY:-}"
format="${FORMAT:-table}"
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
[ "$only" = rolewright ] || bench/server/setup-moto.sh

work="$(mktemp -d)"
pids=()
source bench/server/lib.sh
trap cleanup EXIT

serve_rolewright rw "$rolewright"
driver=(--rolewright "$url_rw" --credentials "$work/rw/credentials" --profile rolewright
  --rounds "$rounds" --warmup "$warmup" --timeout "$stack_timeout" --format "$format")
moto_version=none
if [ "$only" != rolewright ]; then
  serve_moto moto
  driver+=(--moto "$url_moto")
  moto_version=$(target/moto-venv/bin/python -c 'import moto; print(moto.__version__)' 2>/dev/null || echo '?')
fi
[ "${FULL:-1}" != 0 ] || driver+=(--no-full)

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(uname -m), load average $(cut -d" " -f1-3 /proc/loadavg)  moto: $moto_version" >&2
echo "rounds: $rounds (+$warmup warm-up), each a new stack of 20 IAM resources per series; rolewright: $rolewright" >&2
# Bounded: each stack's wait stops at TIMEOUT, each call at botocore's timeouts (no retries),
# and the whole run at 30 s per round and series on top of 2 minutes.
status=0
timeout $((120 + (rounds + warmup) * 3 * 30)) "$python" bench/server/cloudformation.py "${driver[@]}" || status=$?
if [ "$only" != rolewright ] && grep -qE '^[A-Za-z]+(Error|Exception): ' "$work/moto.log"; then
  echo "moto's log, exceptions raised while serving (count, last line of each traceback):" >&2
  grep -E '^[A-Za-z]+(Error|Exception): ' "$work/moto.log" | sort | uniq -c >&2
fi
exit "$status"
