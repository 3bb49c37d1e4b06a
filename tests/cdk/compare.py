#!/usr/bin/env python3
"""Differential test: the CDK library's role against rolewright's, decided by `rolewright simulate`.

    compare.py --cdk CDK.json --rolewright-template RW.json --account 111122223333 \
               --region us-east-1 [--partition aws] [--out DIR] [--rolewright BIN] [--verbose]

Both inputs are CloudFormation templates holding one `AWS::IAM::Role`. For each template the
role's permissions are collected: its inline `Policies`, every `AWS::IAM::Policy` and
`AWS::IAM::ManagedPolicy` whose `Roles` refers to it, and the customer managed policies of its
`ManagedPolicyArns` that are defined in the template. CDK intrinsics (`Ref` to the pseudo
parameters, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::Sub`) are resolved with the given
partition, account and region, and the documents are written to DIR/cdk-*.json and DIR/rw-*.json.

Requests: for every Allow statement of either side, every action it names (wildcards expanded with
`rolewright actions`) on every resource it names, made concrete (the ARN formats of the action's
resource types filled with sample values and kept when they match the pattern, else the `*` of the
pattern replaced by `sample`), with a context that satisfies the statement's conditions, and, when
it has conditions, once more without context. Both policy sets decide every request through one
`rolewright simulate --cases` run each (the engine case schema; the same engine as
`rolewright simulate --policy ... --action ... --resource ... --context ...`).

Each difference is classified against the documented fixes of
crates/rolewright-catalog/activities/README.md; the last line is
`N agree, N differ (documented), N differ (unexplained)`. Exit status 1 when any difference is
unexplained.
"""

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile

PSEUDO = {}


# ---------------------------------------------------------------- reading the templates


def resolve(value, resources):
    """Resolves the intrinsic functions CDK writes in policy documents; unknown refs stay marked."""
    if isinstance(value, list):
        return [resolve(v, resources) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            if arg in PSEUDO:
                return PSEUDO[arg]
            return f"UNRESOLVED-Ref-{arg}"
        if key == "Fn::Join":
            sep, parts = arg
            parts = resolve(parts, resources)
            return sep.join(str(p) for p in parts)
        if key == "Fn::Select":
            index, items = arg
            return resolve(items, resources)[int(resolve(index, resources))]
        if key == "Fn::Split":
            sep, text = arg
            return str(resolve(text, resources)).split(sep)
        if key == "Fn::Sub":
            text, names = (arg, {}) if isinstance(arg, str) else (arg[0], resolve(arg[1], resources))
            return re.sub(
                r"\$\{([^}]+)\}",
                lambda m: str(names.get(m.group(1), PSEUDO.get(m.group(1), m.group(0)))),
                text,
            )
        if key == "Fn::GetAtt":
            return "UNRESOLVED-GetAtt-" + ".".join(arg if isinstance(arg, list) else [arg])
    return {k: resolve(v, resources) for k, v in value.items()}


def refers_to(roles, logical_id, role_name):
    for r in roles or []:
        if r == {"Ref": logical_id} or r == role_name:
            return True
    return False


def role_documents(template):
    """(role logical id, trust document, [(name, permissions document)], [unresolved managed ARNs])."""
    resources = template.get("Resources", {})
    roles = [k for k, v in resources.items() if v.get("Type") == "AWS::IAM::Role"]
    if len(roles) != 1:
        raise SystemExit(f"compare: expected one AWS::IAM::Role, found {roles}")
    rid = roles[0]
    props = resources[rid].get("Properties", {})
    role_name = props.get("RoleName")
    docs = []
    for p in props.get("Policies", []):
        docs.append((p.get("PolicyName", "inline"), p["PolicyDocument"]))
    for lid, res in resources.items():
        t = res.get("Type")
        if t in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            rp = res.get("Properties", {})
            if refers_to(rp.get("Roles"), rid, role_name):
                docs.append((rp.get("PolicyName") or rp.get("ManagedPolicyName") or lid, rp["PolicyDocument"]))
    external = []
    for arn in props.get("ManagedPolicyArns", []):
        if isinstance(arn, dict) and "Ref" in arn and arn["Ref"] in resources:
            rp = resources[arn["Ref"]].get("Properties", {})
            if not refers_to(rp.get("Roles"), rid, role_name):
                docs.append((arn["Ref"], rp["PolicyDocument"]))
        else:
            external.append(resolve(arn, resources))
    trust = resolve(props.get("AssumeRolePolicyDocument"), resources)
    docs = [(n, resolve(d, resources)) for n, d in docs]
    return rid, trust, docs, external


# ---------------------------------------------------------------- building requests


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


ACTION_CACHE = {}
PATTERN_CACHE = {}


def run_json(args):
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode not in (0,):
        return None
    return json.loads(out.stdout)


def expand_action(bin_, pattern):
    """The concrete actions an action pattern names (itself when it has no wildcard)."""
    if "*" not in pattern and "?" not in pattern:
        return [pattern]
    if pattern not in PATTERN_CACHE:
        got = run_json([bin_, "actions", pattern, "--format", "json"]) or []
        PATTERN_CACHE[pattern] = [a["action"] for a in got]
    return PATTERN_CACHE[pattern]


def action_info(bin_, action):
    if action not in ACTION_CACHE:
        ACTION_CACHE[action] = run_json([bin_, "actions", action, "--format", "json"])
    return ACTION_CACHE[action]


def fill_format(fmt, partition, account, region):
    def sub(m):
        name = m.group(1)
        return {"Partition": partition, "Account": account, "Region": region}.get(
            name, "sample-" + name.lower()
        )

    return re.sub(r"\$\{([^}]+)\}", sub, fmt)


def concretize(pattern):
    """A concrete string matching an IAM pattern: `*` → `sample`, `?` → `x`."""
    return pattern.replace("*", "sample").replace("?", "x")


def resources_for(bin_, action, pattern, partition, account, region):
    info = action_info(bin_, action)
    if info and info.get("wildcardOnly"):
        return ["*"]
    if "*" not in pattern and "?" not in pattern:
        return [pattern]
    out = []
    for rt in (info or {}).get("resourceTypes", []):
        for fmt in rt.get("arnPatterns", []):
            arn = fill_format(fmt, partition, account, region)
            if fnmatch.fnmatchcase(arn, pattern) and arn not in out:
                out.append(arn)
    if not out:
        out.append(concretize(pattern) if pattern != "*" else "*")
    return out


def context_for(condition):
    """A context that satisfies a statement's condition block (first value of each key)."""
    ctx = {}
    for op, block in (condition or {}).items():
        base = op.split(":")[-1].replace("IfExists", "")
        multi = op.startswith("ForAllValues") or op.startswith("ForAnyValue")
        for key, vals in block.items():
            vals = as_list(vals)
            if base == "Null":
                continue
            if base.startswith("Not") or not vals:
                continue
            if base == "Bool":
                ctx[key] = str(vals[0]).lower()
            elif multi:
                ctx[key] = [concretize(str(v)) for v in vals]
            else:
                ctx[key] = concretize(str(vals[0]))
    return ctx


def mismatch(ctx):
    """The same keys with values no statement names."""
    return {
        k: (["mismatch-" + str(x) for x in v] if isinstance(v, list) else
            ("false" if v == "true" else "true" if v == "false" else "mismatch-" + str(v)))
        for k, v in ctx.items()
    }


def other(res):
    """Another resource of the same type and account."""
    head, sep, last = res.rpartition("/")
    if sep:
        return head + "/other-" + last
    head, sep, last = res.rpartition(":")
    return head + sep + "other-" + last


def requests_from(bin_, docs, side, partition, account, region):
    reqs = []
    for _, doc in docs:
        for st in as_list(doc.get("Statement")):
            if st.get("Effect") != "Allow" or "Action" not in st:
                continue
            for ap in as_list(st["Action"]):
                for action in expand_action(bin_, ap):
                    for rp in as_list(st.get("Resource", "*")):
                        for res in resources_for(bin_, action, rp, partition, account, region):
                            ctx = context_for(st.get("Condition"))
                            reqs.append((action, res, ctx, side, st.get("Condition")))
                            if st.get("Condition"):
                                reqs.append((action, res, {}, side, st.get("Condition")))
                                if ctx:
                                    reqs.append((action, res, mismatch(ctx), side, st.get("Condition")))
                            if res != "*" and "*" not in rp:
                                # A resource the statement does not name (another bucket,
                                # role, repository or key of the same account).
                                reqs.append((action, other(res), ctx, side, st.get("Condition")))
    return reqs


# ---------------------------------------------------------------- deciding


def default_key_policy(key_arn, account):
    partition = key_arn.split(":")[1]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def decide(bin_, docs, reqs, account, principal, workdir, tag):
    path = os.path.join(workdir, f"cases-{tag}.jsonl")
    with open(path, "w") as f:
        for i, (action, res, ctx, _, _) in enumerate(reqs):
            m = re.match(r"arn:[^:]*:[^:]*:[^:]*:(\d{12}):", res)
            case = {
                "name": f"{tag}-{i}",
                "request": {
                    "principal": principal,
                    "action": action,
                    "resource": {"resource": res, "accountId": m.group(1) if m else account},
                    "context": ctx,
                },
                "identityPolicies": [d for _, d in docs],
                "simulation": {"mode": "Strict"},
            }
            if re.match(r"arn:[^:]+:kms:", res):
                # KMS honours identity policies only when the key policy delegates to the
                # account: give every key the default key policy, as a new key has.
                case["resourcePolicy"] = default_key_policy(res, account)
            f.write(json.dumps(case) + "\n")
    out = subprocess.run(
        [bin_, "simulate", "--cases", path, "--format", "json", "--infer-wildcard-only"],
        capture_output=True,
        text=True,
    )
    decisions = {}
    for line in out.stdout.splitlines():
        line = line.strip()
        if not line:
            continue
        obj = json.loads(line)
        decisions[obj.get("name")] = obj
    if len(decisions) != len(reqs):
        sys.stderr.write(out.stderr[-2000:])
        raise SystemExit(f"compare: {tag}: {len(decisions)} decisions for {len(reqs)} requests")
    return [decisions[f"{tag}-{i}"] for i in range(len(reqs))]


def verdict(obj):
    for k in ("decision", "response", "result"):
        if k in obj:
            v = obj[k]
            return v if isinstance(v, str) else json.dumps(v)
    return json.dumps(obj)


# ---------------------------------------------------------------- classifying


MONITORING_VPC = {
    "sagemaker:describemonitoringschedule",
    "sagemaker:deletemonitoringschedule",
    "sagemaker:startmonitoringschedule",
    "sagemaker:stopmonitoringschedule",
    "sagemaker:describeprocessingjob",
    "sagemaker:stopprocessingjob",
}


def classify(action, res, ctx, cdk_allows, rw_allows, cdk_has_kms, partition, cond=None):
    """The documented fix that explains a difference, or None."""
    a = action.lower()
    if partition != "aws" and ":aws:" in res:
        return "partition placeholder"
    if a.startswith("kms:"):
        return "KMS ARNs (key ids in the CDK)"
    if a.startswith("sagemaker:create") and "kmskey" in json.dumps(cond or {}).lower():
        return "KMS condition keys (sagemaker:*KmsKeyArn, ArnEquals)"
    if a == "sagemaker:stoptransformjob" and rw_allows:
        return "StopTransformJob in manage-jobs base"
    if a in MONITORING_VPC and rw_allows:
        return "Model Monitoring VPC actions"
    if a == "iam:passrole" and rw_allows and cdk_has_kms:
        return "Run Studio KMS PassRole"
    if a in ("s3:getbucketacl", "s3:putbucketacl", "s3:putobjectacl"):
        return "Glue ACL"
    if a == "sagemaker:describelineagegroup" and rw_allows:
        return "DescribeLineageGroup"
    return None


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cdk", required=True)
    ap.add_argument("--rolewright-template", required=True)
    ap.add_argument("--account", required=True)
    ap.add_argument("--region", required=True)
    ap.add_argument("--partition", default="aws")
    ap.add_argument("--out", help="folder for the extracted documents (default: a temp folder)")
    ap.add_argument("--rolewright", default=os.environ.get("ROLEWRIGHT", "rolewright"))
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    PSEUDO.update(
        {
            "AWS::Partition": args.partition,
            "AWS::AccountId": args.account,
            "AWS::Region": args.region,
            "AWS::URLSuffix": "amazonaws.com.cn" if args.partition == "aws-cn" else "amazonaws.com",
        }
    )
    out = args.out or tempfile.mkdtemp(prefix="rolewright-cdk-diff-")
    os.makedirs(out, exist_ok=True)

    sides = {}
    for tag, path in (("cdk", args.cdk), ("rw", args.rolewright_template)):
        with open(path) as f:
            rid, trust, docs, external = role_documents(json.load(f))
        for i, (name, doc) in enumerate(docs):
            with open(os.path.join(out, f"{tag}-{i:02d}.json"), "w") as f:
                json.dump(doc, f, indent=2)
        with open(os.path.join(out, f"{tag}-trust.json"), "w") as f:
            json.dump(trust, f, indent=2)
        unresolved = [n for n, d in docs if "UNRESOLVED-" in json.dumps(d)]
        if unresolved:
            print(f"warning: {tag}: unresolved intrinsics in {unresolved}", file=sys.stderr)
        if external:
            print(f"note: {tag}: managed policies not simulated: {external}", file=sys.stderr)
        sides[tag] = (rid, trust, docs)

    principal = f"arn:{args.partition}:iam::{args.account}:role/SageMaker-diff"
    reqs = []
    for tag in ("cdk", "rw"):
        reqs += requests_from(args.rolewright, sides[tag][2], tag, args.partition, args.account, args.region)
    # Deduplicate on (action, resource, context).
    seen, uniq = set(), []
    for r in reqs:
        key = (r[0].lower(), r[1], json.dumps(r[2], sort_keys=True))
        if key not in seen:
            seen.add(key)
            uniq.append(r)
    reqs = uniq

    cdk_dec = decide(args.rolewright, sides["cdk"][2], reqs, args.account, principal, out, "cdk")
    rw_dec = decide(args.rolewright, sides["rw"][2], reqs, args.account, principal, out, "rw")
    cdk_has_kms = "kms:" in json.dumps([d for _, d in sides["cdk"][2]])

    agree, documented, unexplained = 0, [], []
    for (action, res, ctx, side, cond), c, r in zip(reqs, cdk_dec, rw_dec):
        cv, rv = verdict(c), verdict(r)
        if cv == rv:
            agree += 1
            continue
        ca, ra = cv.lower().startswith("allow"), rv.lower().startswith("allow")
        why = classify(action, res, ctx, ca, ra, cdk_has_kms, args.partition, cond)
        row = (action, res, ctx, side, cv, rv, why)
        (documented if why else unexplained).append(row)

    trust_same = sides["cdk"][1] == sides["rw"][1]
    cdk_trust = json.dumps(sides["cdk"][1])
    # Documented: the CDK's runStudioAppsKms.json alone adds an aws:SourceArn condition.
    trust_documented = (not trust_same) and "aws:SourceArn" in cdk_trust and cdk_has_kms
    print(f"documents written to {out}")
    print("trust policies " + ("equal" if trust_same else
          "differ (documented: Run Studio KMS trust has aws:SourceArn in the CDK)" if trust_documented
          else "DIFFER (unexplained)"))
    if not trust_same and (args.verbose or not trust_documented):
        print("  cdk:", json.dumps(sides["cdk"][1]))
        print("  rw: ", json.dumps(sides["rw"][1]))
    if documented:
        by = {}
        for row in documented:
            by.setdefault(row[6], []).append(row)
        print("documented differences:")
        for why, rows in by.items():
            print(f"  {why}: {len(rows)}")
            if args.verbose:
                for a, res, ctx, side, cv, rv, _ in rows:
                    print(f"    {a} {res} ctx={json.dumps(ctx)} cdk={cv} rw={rv} (from {side})")
    if unexplained:
        print("UNEXPLAINED differences:")
        for a, res, ctx, side, cv, rv, _ in unexplained:
            print(f"  {a} {res} ctx={json.dumps(ctx)} cdk={cv} rw={rv} (request from {side})")
    print(f"{agree} agree, {len(documented)} differ (documented), {len(unexplained)} differ (unexplained)")
    return 1 if unexplained or (not trust_same and not trust_documented) else 0


if __name__ == "__main__":
    sys.exit(main())
