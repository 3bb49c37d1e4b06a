#!/usr/bin/env bash
# The anchor of bench/review.sh: PMapper (PyPI `principalmapper` 1.1.5, NCC Group, AGPL-3.0; run
# as a separate tool, never imported or copied) on the same generated account, loaded into a
# `rolewright serve`, next to rolewright's who-can and access-review reading the same server.
# Prints the time of PMapper's graph creation and of one query of each kind, rolewright's times,
# and how the answers compare.
#
# PMapper 1.1.5 imports `collections.Mapping`, which Python 3.10 removed; a sitecustomize.py put
# on PYTHONPATH for PMapper's process only aliases the old names to `collections.abc`'s.
#
# Usage: bench/anchors/pmapper-review.sh   (after bench/review.sh, which writes the account)
set -euo pipefail
cd "$(dirname "$0")/../.."
target="${CARGO_TARGET_DIR:-target}"
account="$target/bench/review-account.json"
bin="$target/release/rolewright"
work="$target/bench/pmapper"
[ -f "$account" ] || cargo bench -q -p rolewright-review --bench review -- --write "$account"
cargo build --release --locked -q -p rolewright
python=target/ci-venv/bin/python
[ -x "$python" ] || python=/work/main/target/ci-venv/bin/python

rm -rf "$work" && mkdir -p "$work/shim" "$work/home"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q principalmapper==1.1.5
cat > "$work/shim/sitecustomize.py" <<'PY'
import collections, collections.abc
for _name in ("Mapping", "MutableMapping", "Sequence", "Iterable"):
    setattr(collections, _name, getattr(collections.abc, _name))
PY

"$bin" serve --data-dir "$work/data" --listen 127.0.0.1:0 --max-roles 2000 > "$work/serve.out" 2> /dev/null &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do [ -s "$work/serve.out" ] && break; sleep 0.1; done
url=$(head -1 "$work/serve.out" | sed 's/^listening on //')
export AWS_SHARED_CREDENTIALS_FILE="$work/data/credentials" AWS_PROFILE=rolewright AWS_REGION=us-east-1
export AWS_CONFIG_FILE="$work/no-config"
AWS_ENDPOINT_URL="$url" "$python" bench/anchors/load-account.py "$account"

ms() { echo $(( ($2 - $1) / 1000000 )); }
pmapper() { HOME="$work/home" PYTHONPATH="$work/shim" "$work/venv/bin/pmapper" "$@"; }
query="who can do s3:GetObject with arn:aws:s3:::team-3-data/train.csv"

t0=$(date +%s%N)
pmapper --profile rolewright graph create --localstack-endpoint "$url" --include-regions us-east-1 > "$work/graph.log" 2>&1
t1=$(date +%s%N)
pmapper --account 123456789012 query "$query" > "$work/pmapper-who.txt" 2>&1
t2=$(date +%s%N)
pmapper --account 123456789012 query "preset privesc *" > "$work/pmapper-privesc.txt" 2>&1
t3=$(date +%s%N)
echo "pmapper: graph create $(ms "$t0" "$t1") ms ($(grep -E '# of (Nodes|Edges)' "$work/graph.log" | tr -s ' ' | paste -sd ';')); who-can query $(ms "$t1" "$t2") ms; privesc query $(ms "$t2" "$t3") ms"

t0=$(date +%s%N)
AWS_ENDPOINT_URL="$url" "$bin" who-can s3:GetObject --resource arn:aws:s3:::team-3-data/train.csv --format json > "$work/rolewright-who.jsonl"
t1=$(date +%s%N)
AWS_ENDPOINT_URL="$url" "$bin" access-review --format json > "$work/rolewright-review.jsonl"
t2=$(date +%s%N)
echo "rolewright (reading the same server): who-can $(ms "$t0" "$t1") ms; access-review $(ms "$t1" "$t2") ms"

"$python" - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]
arn = lambda name: "arn:aws:iam::123456789012:" + name
ours = {json.loads(l)["principal"]: json.loads(l) for l in open(f"{work}/rolewright-who.jsonl")}
theirs = {arn(m.group(1)) for m in re.finditer(r"^(\S+) (?:IS authorized|CAN call|CAN BECOME)",
                                                open(f"{work}/pmapper-who.txt").read(), re.M)}
print(f"who-can: rolewright {len(ours)}, pmapper {len(theirs)}, both {len(theirs & set(ours))}")
for p in sorted(set(ours) - theirs):
    print("  only rolewright:", p, [s["via"] + " " + s["action"] for s in ours[p]["path"]])
for p in sorted(theirs - set(ours)):
    print("  only pmapper:", p)
review = {json.loads(l)["principal"]: json.loads(l)["finding"] for l in open(f"{work}/rolewright-review.jsonl")}
text = open(f"{work}/pmapper-privesc.txt").read()
admins = {arn(m.group(1)) for m in re.finditer(r"^(\S+) is an administrative principal", text, re.M)}
escalate = {arn(m.group(1)) for m in re.finditer(r"^(\S+) can escalate privileges", text, re.M)}
print(f"access review: rolewright {len(review)} findings, pmapper {len(admins)} administrative + {len(escalate)} can escalate")
for p in sorted(set(review) | admins | escalate):
    print(f"  {p}: rolewright {review.get(p, '-')}, pmapper "
          + ("administrative" if p in admins else "can escalate" if p in escalate else "-"))
PY
