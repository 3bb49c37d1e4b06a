#!/usr/bin/env bash
# Differential test of the three personas, with and without VPC/KMS, against the CDK library.
#   CDK_PYTHON=/tmp/cdkvenv/bin/python ROLEWRIGHT=target/debug/rolewright tests/cdk/run_all.sh [OUTDIR]
# Synthesizes in parallel (each synthesis starts a Node process through jsii, ~20 s of CPU).
# SKIP_SYNTH=1 reuses the CDK templates already in OUTDIR; VARIANTS="base kms" narrows the run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
py=${CDK_PYTHON:-/tmp/cdkvenv/bin/python}
rw=$(realpath "${ROLEWRIGHT:-$here/../../target/debug/rolewright}")
out=${1:-$(mktemp -d /tmp/rolewright-cdk-run.XXXX)}
mkdir -p "$out"
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1

acct=111122223333; region=us-east-1
bucket=ml-data
passrole=arn:aws:iam::$acct:role/SageMaker-exec
repo=arn:aws:ecr:$region:$acct:repository/ml
subnet=subnet-0abc1234; sg=sg-0abc1234
dkey=arn:aws:kms:$region:$acct:key/1111aaaa-11aa-11aa-11aa-111111111111
vkey=arn:aws:kms:$region:$acct:key/2222bbbb-22bb-22bb-22bb-222222222222

# The seeds' personas, rolewright's defaults (synth_personas.py builds the same on the CDK side);
# the rolewright side uses `--persona P` itself, after checking that it still preselects these.
declare -A acts=(
  [data-scientist]="run-studio-apps manage-experiments manage-jobs manage-models manage-pipelines s3-bucket-access"
  [mlops]="run-studio-apps manage-models manage-endpoints manage-pipelines visualize-experiments"
  [compute]="access-aws-services"
)

spec() { # persona variant
  local vpc='' kms=''
  [[ $2 == *vpc* ]] && vpc="\"subnets\": [\"$subnet\"], \"securityGroups\": [\"$sg\"],"
  [[ $2 == *kms* ]] && kms="\"dataKeys\": [\"$dkey\"], \"volumeKeys\": [\"$vkey\"],"
  echo "{\"persona\": \"$1\", \"suffix\": \"diff\", $vpc $kms \"account\": \"$acct\", \"region\": \"$region\",
    \"s3Buckets\": [\"$bucket\"], \"passRoles\": [\"$passrole\"], \"ecrRepos\": [\"$repo\"]}"
}

rwflags() { # persona variant
  local f=(--persona "$1" --name-suffix diff --account "$acct" --region "$region" --format cloudformation)
  case $1 in
    data-scientist) f+=(--s3-bucket "$bucket" --pass-role "$passrole");;
    mlops) f+=(--pass-role "$passrole");;
    compute) f+=(--s3-bucket "$bucket" --ecr-repo "$repo");;
  esac
  [[ $2 == *vpc* ]] && f+=(--subnet "$subnet" --security-group "$sg")
  [[ $2 == *kms* ]] && f+=(--data-key "$dkey" --volume-key "$vkey")
  echo "${f[@]}"
}

variants=${VARIANTS:-"base vpc kms vpc-kms"}
pids=()
for p in data-scientist mlops compute; do
  for v in $variants; do
    if [[ -n ${SKIP_SYNTH:-} && -s $out/cdk-$p-$v.json ]]; then continue; fi
    ( s=$(date +%s.%N)
      spec "$p" "$v" | "$py" "$here/synth_personas.py" > "$out/cdk-$p-$v.json" 2> "$out/cdk-$p-$v.err"
      echo "$? $(python3 -c "print(round($(date +%s.%N) - $s, 1))")" > "$out/cdk-$p-$v.time" ) &
    pids+=($!)
  done
done
[[ ${#pids[@]} -gt 0 ]] && wait "${pids[@]}"

status=0
for p in data-scientist mlops compute; do
  for v in $variants; do
    echo "=== $p $v (synthesis: rc/seconds $(cat "$out/cdk-$p-$v.time"))"
    preselected=$("$rw" activities --persona "$p" --format json \
      | python3 -c 'import json, sys; print(" ".join(a["id"] for a in json.load(sys.stdin)))')
    if [[ $preselected != "${acts[$p]}" ]]; then
      echo "rolewright's persona $p preselects \"$preselected\"; this test builds \"${acts[$p]}\" with the CDK"
      status=1; continue
    fi
    if ! "$rw" role new $(rwflags "$p" "$v") > "$out/rw-$p-$v.json" 2> "$out/rw-$p-$v.err"; then
      echo "rolewright role new failed:"; cat "$out/rw-$p-$v.err"; status=1; continue
    fi
    python3 "$here/compare.py" --cdk "$out/cdk-$p-$v.json" --rolewright-template "$out/rw-$p-$v.json" \
      --account "$acct" --region "$region" --rolewright "$rw" --out "$out/docs-$p-$v" ${COMPARE_FLAGS:-} || status=1
  done
done
exit $status
