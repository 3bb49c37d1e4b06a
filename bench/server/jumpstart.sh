#!/usr/bin/env bash
# `rolewright jumpstart enable --all-users` on a domain of USERS user profiles (1,000) whose
# execution roles are ROLES distinct roles (200), against `rolewright serve` (release build):
# the seed-000 retrofit at scale. The domain is built with boto3 first (not timed); each round
# then times the whole command, from start to its report: status of the domain, the portfolio
# switch, the two Service Catalog roles, and one AssociatePrincipalWithPortfolio per distinct role.
# A fresh data directory per round, so that every round has the same work to do.
#
# Usage: bench/server/jumpstart.sh [ROUNDS]        (default: 3)
# Environment: USERS (1000), ROLES (200), ROLEWRIGHT_BIN (a rolewright binary instead of this
# build), PYTHON (a Python with boto3; default target/ci-venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
users="${USERS:-1000}"
roles="${ROLES:-200}"
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

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  machine: $(nproc) cores, $(uname -m), load average $(cut -d" " -f1-3 /proc/loadavg)" >&2
echo "rounds: $rounds, a domain of $users user profiles with $roles distinct execution roles" >&2
times=()
for round in $(seq "$rounds"); do
  dir="$work/round-$round"
  "$rolewright" serve --data-dir "$dir" --listen 127.0.0.1:0 >"$dir.out" 2>"$dir.err" &
  pids+=($!)
  pid=$!
  for _ in $(seq 300); do
    grep -q '^listening on http://' "$dir.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "error: the server exited:" >&2; cat "$dir.err" >&2; exit 1; }
    sleep 0.1
  done
  url=$(sed -n '1s/^listening on //p' "$dir.out")
  domain=$(AWS_SHARED_CREDENTIALS_FILE="$dir/credentials" AWS_PROFILE=rolewright \
    "$python" - "$url" "$users" "$roles" <<'EOF'
import json, sys
import boto3
from botocore.config import Config
url, users, roles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
config = Config(retries={"max_attempts": 1}, max_pool_connections=4)
iam = boto3.client("iam", endpoint_url=url, region_name="us-east-1", config=config)
sm = boto3.client("sagemaker", endpoint_url=url, region_name="us-east-1", config=config)
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
         "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
arns = [iam.create_role(RoleName=f"bench-execution-{i}", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        for i in range(roles)]
domain = sm.create_domain(DomainName="bench", AuthMode="IAM", VpcId="vpc-1", SubnetIds=["subnet-1"],
                          DefaultUserSettings={"ExecutionRole": arns[0]})["DomainId"]
for i in range(users):
    sm.create_user_profile(DomainId=domain, UserProfileName=f"user-{i}",
                           UserSettings={"ExecutionRole": arns[i % roles]})
print(domain)
EOF
)
  start=$(date +%s%N)
  AWS_SHARED_CREDENTIALS_FILE="$dir/credentials" AWS_PROFILE=rolewright AWS_REGION=us-east-1 \
    "$rolewright" jumpstart enable --endpoint-url "$url" --domain "$domain" --all-users \
    --format json >"$dir.report" 2>"$dir.progress"
  end=$(date +%s%N)
  associated=$("$python" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["rolesAssociated"]))' "$dir.report")
  ms=$(( (end - start) / 1000000 ))
  echo "round $round: ${ms} ms, $associated roles associated" >&2
  [ "$associated" -ge "$roles" ] || { echo "error: expected $roles roles associated" >&2; exit 1; }
  times+=("$ms")
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "jumpstart enable --all-users, $users users, $roles roles: median ${median} ms of ${times[*]} (goal: under 5,000 ms)"
