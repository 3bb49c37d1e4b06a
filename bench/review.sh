#!/usr/bin/env bash
# Measures `rolewright who-can` and `rolewright access-review` as whole processes (start, read
# the account file, compile every policy, build the graph, answer, print, exit) on the account
# that crates/rolewright-review/benches/review.rs generates from the catalog's activities:
# 1,000 SageMaker roles, 300 users, 20 groups. Each command runs RUNS times; the medians are
# printed. The goals (issue 14, item 7): who-can under 1 s, access-review under 5 s.
#
# Usage: bench/review.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
target="${CARGO_TARGET_DIR:-target}"
account="$target/bench/review-account.json"
mkdir -p "$target/bench"

# The library's own figures, and the account file.
cargo bench -q -p rolewright-review --bench review -- --write "$account"
cargo build --release --locked -q -p rolewright
bin="$target/release/rolewright"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

measure() {
  local name="$1"; shift
  local times=()
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    "$bin" "$@" --account-details "$account" --format json > /dev/null
    end=$(date +%s%N)
    times+=($(( (end - start) / 1000000 )))
  done
  local m
  m=$(printf '%s\n' "${times[@]}" | median)
  local lines
  lines=$("$bin" "$@" --account-details "$account" --format json | wc -l)
  echo "$name: median ${m} ms of $runs runs (${times[*]} ms); $lines lines"
}

measure "who-can s3:GetObject on team-3-data" who-can s3:GetObject --resource arn:aws:s3:::team-3-data/train.csv
measure "who-can sagemaker:CreateTrainingJob" who-can sagemaker:CreateTrainingJob
measure "access-review" access-review
