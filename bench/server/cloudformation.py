"""Driver of bench/server/cloudformation.sh: times CreateStack of a 20-resource IAM-only
template, from the call to the stack's final status (polled with DescribeStacks), against
`rolewright serve` and moto's server in alternating rounds, checks after every round (untimed)
that each server really made every resource the template names, then times DeleteStack.

The template has 20 resources: 6 AWS::IAM::Role (inline Policies, Path, Description,
MaxSessionDuration, Tags), 4 AWS::IAM::ManagedPolicy (attached through Roles and Users, one of
them granting iam:PassRole on a role's Fn::GetAtt Arn), 4 AWS::IAM::Policy (on roles and users,
one naming an instance profile's Fn::GetAtt Arn), 3 AWS::IAM::InstanceProfile and 3
AWS::IAM::User, with Ref and Fn::GetAtt between them and names from Fn::Sub of AWS::StackName;
it uses only what moto 5.2.5's CloudFormation really does. moto skips AWS::IAM::Group (a warning,
and the stack still ends CREATE_COMPLETE without it) and ignores ManagedPolicyArns on roles and
Policies, ManagedPolicyArns and Groups on users: the "full" variant of the template, with a Group,
a user in it and ManagedPolicyArns, is therefore measured on rolewright alone, as an extra line.

Usage: cloudformation.py --rolewright URL --credentials FILE [--moto URL] [--rounds N]
       [--warmup N] [--timeout S] [--no-full] [--format table|json]
"""

import argparse
import configparser
import json
import math
import statistics
import sys
import time
import urllib.parse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
CAPABILITIES = ["CAPABILITY_NAMED_IAM"]


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*"):
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def trust(service):
    return doc({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


def ref(name):
    return {"Ref": name}


def arn_of(name):
    return {"Fn::GetAtt": [name, "Arn"]}


def sub(suffix):
    return {"Fn::Sub": "${AWS::StackName}-" + suffix}


def role(service, policies, **extra):
    props = {"AssumeRolePolicyDocument": trust(service), "Policies": [
        {"PolicyName": name, "PolicyDocument": doc(allow(action))} for name, action in policies]}
    props.update(extra)
    return {"Type": "AWS::IAM::Role", "Properties": props}


def template(full):
    """The benchmark's template: 20 resources. `full` swaps user Carol for a group Team (with
    Bob in it) and attaches ReadLogs through the roles' ManagedPolicyArns: what moto skips."""
    r = {
        "AppRole": role("sagemaker.amazonaws.com",
                        [("app-s3", "s3:GetObject"), ("app-logs", "logs:PutLogEvents")],
                        RoleName=sub("app"), Path="/bench/", Description="benchmark app role",
                        MaxSessionDuration=7200, Tags=[{"Key": "team", "Value": "bench"}]),
        "BatchRole": role("batch.amazonaws.com", [("batch-ecr", "ecr:GetAuthorizationToken")]),
        "LambdaRole": role("lambda.amazonaws.com", [("lambda-xray", "xray:PutTraceSegments")]),
        "Ec2RoleA": role("ec2.amazonaws.com", [("ec2a-ssm", "ssm:GetParameter")], Path="/bench/"),
        "Ec2RoleB": role("ec2.amazonaws.com", [("ec2b-cw", "cloudwatch:PutMetricData")]),
        "Ec2RoleC": role("ec2.amazonaws.com", [("ec2c-sqs", "sqs:ReceiveMessage")]),
        "Alice": {"Type": "AWS::IAM::User", "Properties": {"UserName": sub("alice"), "Path": "/bench/"}},
        "Bob": {"Type": "AWS::IAM::User", "Properties": {"Path": "/bench/"}},
        "Carol": {"Type": "AWS::IAM::User", "Properties": {}},
        "PassAppRole": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "Description": "pass the app role",
            "PolicyDocument": doc(allow("iam:PassRole", arn_of("AppRole"))),
            "Roles": [ref("BatchRole")], "Users": [ref("Alice")]}},
        "ReadLogs": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "PolicyDocument": doc(allow(["logs:GetLogEvents", "logs:DescribeLogStreams"])),
            "Roles": [ref("LambdaRole"), ref("AppRole")]}},
        "S3Read": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "ManagedPolicyName": sub("s3-read"), "Path": "/bench/",
            "PolicyDocument": doc(allow(["s3:GetObject", "s3:ListBucket"])),
            "Roles": [ref("Ec2RoleA")], "Users": [ref("Bob"), ref("Carol")]}},
        "Describe": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "PolicyDocument": doc(allow(["ec2:DescribeInstances", "ec2:DescribeTags"])),
            "Roles": [ref("Ec2RoleB"), ref("Ec2RoleC")]}},
        "UserInline": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "user-inline", "PolicyDocument": doc(allow("sts:GetCallerIdentity")),
            "Users": [ref("Alice"), ref("Bob")]}},
        "RoleInline": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "role-inline", "PolicyDocument": doc(allow("kms:Decrypt")),
            "Roles": [ref("BatchRole"), ref("LambdaRole")]}},
        "AssumeApp": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "assume-app", "PolicyDocument": doc(allow("sts:AssumeRole", arn_of("AppRole"))),
            "Users": [ref("Carol")]}},
        "ProfileRead": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "profile-read",
            "PolicyDocument": doc(allow("iam:GetInstanceProfile", arn_of("ProfileA"))),
            "Roles": [ref("Ec2RoleA")]}},
        "ProfileA": {"Type": "AWS::IAM::InstanceProfile", "Properties": {
            "InstanceProfileName": sub("profile-a"), "Path": "/bench/", "Roles": [ref("Ec2RoleA")]}},
        "ProfileB": {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Roles": [ref("Ec2RoleB")]}},
        "ProfileC": {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Roles": [ref("Ec2RoleC")]}},
    }
    if full:
        del r["Carol"]
        r["Team"] = {"Type": "AWS::IAM::Group", "Properties": {
            "Path": "/bench/", "ManagedPolicyArns": [ref("S3Read")],
            "Policies": [{"PolicyName": "team-inline", "PolicyDocument": doc(allow("s3:ListAllMyBuckets"))}]}}
        r["Bob"]["Properties"]["Groups"] = [ref("Team")]
        del r["S3Read"]["Properties"]["Users"]  # Bob has it through Team (else a cycle)
        r["AssumeApp"]["Properties"] = dict(r["AssumeApp"]["Properties"], Groups=[ref("Team")])
        del r["AssumeApp"]["Properties"]["Users"]
        del r["ReadLogs"]["Properties"]["Roles"]
        for name in ("LambdaRole", "AppRole"):
            r[name]["Properties"]["ManagedPolicyArns"] = [ref("ReadLogs")]
    assert len(r) == 20, len(r)
    outputs = {
        "AppRoleArn": {"Value": arn_of("AppRole")},
        "ProfileAArn": {"Value": arn_of("ProfileA")},
        "S3ReadArn": {"Value": ref("S3Read")},
    }
    return {"AWSTemplateFormatVersion": "2010-09-09",
            "Description": "rolewright benchmark: 20 IAM resources", "Resources": r, "Outputs": outputs}


def refs(value):
    """The logical ids a list of `Ref`s names."""
    return [v["Ref"] for v in value or [] if isinstance(v, dict) and "Ref" in v]


def expected(tmpl):
    """What each holder (role, user, group) and instance profile should have after the stack:
    inline policy names, the logical ids of attached managed policies, groups, roles."""
    res = tmpl["Resources"]
    want = {}
    for lid, r in res.items():
        if r["Type"] in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            p = r["Properties"]
            want[lid] = {"inline": {x["PolicyName"] for x in p.get("Policies", [])},
                         "attached": set(refs(p.get("ManagedPolicyArns"))),
                         "groups": set(refs(p.get("Groups")))}
        elif r["Type"] == "AWS::IAM::InstanceProfile":
            want[lid] = {"roles": set(refs(r["Properties"].get("Roles")))}
    for lid, r in res.items():
        p = r["Properties"]
        for key in ("Roles", "Users", "Groups"):
            for holder in refs(p.get(key)):
                if r["Type"] == "AWS::IAM::ManagedPolicy":
                    want[holder]["attached"].add(lid)
                elif r["Type"] == "AWS::IAM::Policy":
                    want[holder]["inline"].add(p["PolicyName"])
    return want


class Failure(Exception):
    pass


class Server:
    def __init__(self, label, url, key, secret):
        self.label = label
        config = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=120)
        kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id=key,
                  aws_secret_access_key=secret, config=config)
        self.cfn = boto3.client("cloudformation", **kw)
        self.iam = boto3.client("iam", **kw)
        self.stacks = []  # (stack id, template, counted) of the stacks created, for DeleteStack

    def create(self, name, tmpl, body, timeout, counted):
        """Creates stack `name`; gives the ms to CreateStack's answer and to the final status,
        and the stack's id."""
        t0 = time.perf_counter()
        try:
            stack_id = self.cfn.create_stack(StackName=name, TemplateBody=body,
                                             Capabilities=CAPABILITIES)["StackId"]
        except ClientError as e:
            raise Failure(f"{self.label}: CreateStack {name}: {e}") from e
        t1 = time.perf_counter()
        status = self.wait(stack_id, t0, timeout)
        t2 = time.perf_counter()
        if status != "CREATE_COMPLETE":
            events = self.cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
            reasons = [f"{e['LogicalResourceId']} {e['ResourceStatus']}: {e.get('ResourceStatusReason')}"
                       for e in events if e.get("ResourceStatusReason")]
            raise Failure(f"{self.label}: stack {name} ended {status}: " + "; ".join(reasons[:5]))
        self.stacks.append((stack_id, tmpl, counted))
        return (t1 - t0) * 1000, (t2 - t0) * 1000, stack_id

    def wait(self, stack_id, t0, timeout):
        """Polls DescribeStacks until the stack's status is no longer *_IN_PROGRESS."""
        while True:
            status = self.cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
            if not status.endswith("_IN_PROGRESS"):
                return status
            if time.perf_counter() - t0 > timeout:
                raise Failure(f"{self.label}: stack {stack_id} still {status} after {timeout} s")
            time.sleep(0.002)

    def physical_ids(self, stack_id, tmpl):
        """The stack's resources by logical id, after checking that there is one per resource of
        the template, of its type, CREATE_COMPLETE."""
        summaries, token = [], None
        while True:
            kw = {"StackName": stack_id, **({"NextToken": token} if token else {})}
            page = self.cfn.list_stack_resources(**kw)
            summaries += page["StackResourceSummaries"]
            token = page.get("NextToken")
            if not token:
                break
        got = {s.get("LogicalResourceId"): s for s in summaries}
        for lid, r in tmpl["Resources"].items():
            s = got.get(lid)
            if s is None:
                raise Failure(f"{self.label}: stack resource {lid} ({r['Type']}) missing; the stack lists "
                              f"{sorted(str(k) for k in got)}")
            if s["ResourceType"] != r["Type"] or s["ResourceStatus"] != "CREATE_COMPLETE":
                raise Failure(f"{self.label}: stack resource {lid}: {s['ResourceType']} {s['ResourceStatus']}")
        if len(summaries) != len(tmpl["Resources"]):
            raise Failure(f"{self.label}: the stack lists {len(summaries)} resources, not {len(tmpl['Resources'])}")
        return {lid: s["PhysicalResourceId"] for lid, s in got.items()}

    def verify(self, stack_id, tmpl):
        """Checks through the IAM API that every resource exists with what the template gives it."""
        ids = self.physical_ids(stack_id, tmpl)
        res = tmpl["Resources"]
        arns = {lid: ids[lid] for lid, r in res.items() if r["Type"] == "AWS::IAM::ManagedPolicy"}
        for lid, arn in arns.items():
            self.iam.get_policy(PolicyArn=arn)
        for lid, want in expected(tmpl).items():
            kind, name = res[lid]["Type"].rsplit(":", 1)[1], ids[lid]
            try:
                self.check_holder(lid, kind, name, want, ids, arns)
            except ClientError as e:
                raise Failure(f"{self.label}: {kind} {lid} ({name}): {e}") from e
        outputs = {o["OutputKey"]: o["OutputValue"]
                   for o in self.cfn.describe_stacks(StackName=stack_id)["Stacks"][0].get("Outputs", [])}
        role_arn = self.iam.get_role(RoleName=ids["AppRole"])["Role"]["Arn"]
        profile_arn = self.iam.get_instance_profile(InstanceProfileName=ids["ProfileA"])["InstanceProfile"]["Arn"]
        for key, value in (("AppRoleArn", role_arn), ("ProfileAArn", profile_arn), ("S3ReadArn", arns["S3Read"])):
            if outputs.get(key) != value:
                raise Failure(f"{self.label}: output {key} is {outputs.get(key)!r}, not {value!r}")
        # The documents that name Fn::GetAtt ... Arn name the resources' real ARNs.
        policy = self.iam.get_policy(PolicyArn=arns["PassAppRole"])["Policy"]
        version = self.iam.get_policy_version(PolicyArn=arns["PassAppRole"], VersionId=policy["DefaultVersionId"])
        inline = self.iam.get_role_policy(RoleName=ids["Ec2RoleA"], PolicyName="profile-read")
        for what, document, value in (("PassAppRole", version["PolicyVersion"]["Document"], role_arn),
                                      ("profile-read", inline["PolicyDocument"], profile_arn)):
            if isinstance(document, str):
                document = json.loads(urllib.parse.unquote(document))
            if document["Statement"][0]["Resource"] != value:
                raise Failure(f"{self.label}: policy {what} names {document['Statement'][0]['Resource']!r}, "
                              f"not {value!r}")

    def check_holder(self, lid, kind, name, want, ids, arns):
        def same(what, got, wanted):
            if set(got) != set(wanted):
                raise Failure(f"{self.label}: {kind} {lid} ({name}): {what} {sorted(got)}, "
                              f"expected {sorted(wanted)}")
        iam = self.iam
        if kind == "InstanceProfile":
            profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
            roles = {r["RoleName"] for r in profile["Roles"]}
            same("roles", roles, {ids[r] for r in want["roles"]})
            return
        attached_want = {arns[m] for m in want["attached"]}
        if kind == "Role":
            iam.get_role(RoleName=name)
            same("inline policies", iam.list_role_policies(RoleName=name)["PolicyNames"], want["inline"])
            same("attached policies", [p["PolicyArn"] for p in
                 iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]], attached_want)
        elif kind == "User":
            iam.get_user(UserName=name)
            same("inline policies", iam.list_user_policies(UserName=name)["PolicyNames"], want["inline"])
            same("attached policies", [p["PolicyArn"] for p in
                 iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]], attached_want)
            same("groups", [g["GroupName"] for g in iam.list_groups_for_user(UserName=name)["Groups"]],
                 {ids[g] for g in want["groups"]})
        elif kind == "Group":
            iam.get_group(GroupName=name)
            same("inline policies", iam.list_group_policies(GroupName=name)["PolicyNames"], want["inline"])
            same("attached policies", [p["PolicyArn"] for p in
                 iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]], attached_want)

    def delete(self, stack_id, tmpl, timeout):
        """Deletes a stack; gives ms to the final status, after checking that its roles, users,
        groups, instance profiles and managed policies are gone."""
        ids = self.physical_ids(stack_id, tmpl)
        t0 = time.perf_counter()
        try:
            self.cfn.delete_stack(StackName=stack_id)
        except ClientError as e:
            raise Failure(f"{self.label}: DeleteStack: {e.response['Error'].get('Code')}: "
                          f"{e.response['Error'].get('Message')}") from e
        except Exception as e:  # moto answers some with an HTML error page botocore cannot parse
            first = str(e).splitlines()[0][:160]
            if "500 Internal Server Error" in str(e):
                first = "HTTP 500 Internal Server Error (the server's log has the traceback)"
            raise Failure(f"{self.label}: DeleteStack: {type(e).__name__}: {first}") from e
        status = self.wait(stack_id, t0, timeout)
        ms = (time.perf_counter() - t0) * 1000
        if status != "DELETE_COMPLETE":
            raise Failure(f"{self.label}: DeleteStack ended {status}")
        getters = {"AWS::IAM::Role": lambda n: self.iam.get_role(RoleName=n),
                   "AWS::IAM::User": lambda n: self.iam.get_user(UserName=n),
                   "AWS::IAM::Group": lambda n: self.iam.get_group(GroupName=n),
                   "AWS::IAM::InstanceProfile": lambda n: self.iam.get_instance_profile(InstanceProfileName=n),
                   "AWS::IAM::ManagedPolicy": lambda n: self.iam.get_policy(PolicyArn=n)}
        for lid, r in tmpl["Resources"].items():
            if r["Type"] in getters:
                try:
                    getters[r["Type"]](ids[lid])
                except ClientError as e:
                    if e.response["Error"].get("Code") == "NoSuchEntity":
                        continue
                    raise
                raise Failure(f"{self.label}: {r['Type']} {lid} ({ids[lid]}) still exists after DeleteStack")
        return ms


def p90(values):
    """The nearest-rank 90th percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def summary(values):
    return {"median_ms": round(statistics.median(values), 2), "p90_ms": round(p90(values), 2),
            "min_ms": round(min(values), 2), "max_ms": round(max(values), 2), "n": len(values)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rolewright", required=True, help="rolewright serve's URL")
    ap.add_argument("--credentials", required=True, help="its credentials file")
    ap.add_argument("--profile", default="rolewright")
    ap.add_argument("--moto", help="moto_server's URL (the anchor)")
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per stack")
    ap.add_argument("--no-full", action="store_true", help="skip the rolewright-only full template")
    ap.add_argument("--format", choices=["table", "json"], default="table")
    args = ap.parse_args()
    if not 1 <= args.rounds <= 1000 or not 0 <= args.warmup <= 10:
        sys.exit("error: rounds must be 1 to 1000 and warmup 0 to 10")

    creds = configparser.ConfigParser()
    creds.read(args.credentials)
    section = creds[args.profile]
    common, full = template(False), template(True)
    series = [("rolewright", Server("rolewright", args.rolewright, section["aws_access_key_id"],
                                    section["aws_secret_access_key"]), common)]
    if args.moto:
        series.append(("moto", Server("moto", args.moto, "AKIDMOTOBENCH", "moto-bench-secret"), common))
    if not args.no_full:
        series.append(("rolewright-full", series[0][1], full))
    bodies = {id(common): json.dumps(common), id(full): json.dumps(full)}

    times = {label: [] for label, _, _ in series}
    answers = {label: [] for label, _, _ in series}
    try:
        for round_no in range(-args.warmup + 1, args.rounds + 1):
            line = []
            for label, server, tmpl in series:
                prefix = "full" if tmpl is full else "cfn"
                name = f"{prefix}-{'w' if round_no <= 0 else 'r'}{abs(round_no):03d}"
                answer_ms, final_ms, stack_id = server.create(name, tmpl, bodies[id(tmpl)], args.timeout,
                                                              round_no > 0)
                server.verify(stack_id, tmpl)  # untimed: every resource, as the template gives it
                if round_no > 0:
                    times[label].append(final_ms)
                    answers[label].append(answer_ms)
                line.append(f"{label} {final_ms:8.2f} ms (answer {answer_ms:.2f})")
            tag = f"warm-up {round_no + args.warmup}" if round_no <= 0 else f"round {round_no}"
            print(f"{tag:>10}: " + "  ".join(line), file=sys.stderr)

        deletes = {}
        notes = []
        for label, server, tmpl in series:
            if label == "rolewright-full":
                continue  # the same server as "rolewright": its stacks are deleted with them
            ms = []
            for stack_id, stack_tmpl, counted in server.stacks:
                try:
                    took = server.delete(stack_id, stack_tmpl, args.timeout)
                    if counted:
                        ms.append((stack_tmpl is full, took))
                except Failure as e:
                    if label == "moto":
                        notes.append(f"DeleteStack not timed on moto, whose first one failed: {e}")
                        break
                    raise
            for variant, lab in ((False, label), (True, label + "-full")):
                col = [m for v, m in ms if v == variant]
                if col:
                    deletes[lab] = col
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)

    results = {label: {"create": summary(times[label]), "answer": summary(answers[label]),
                       "rounds_ms": [round(t, 2) for t in times[label]]} for label in times}
    for lab, col in deletes.items():
        results.setdefault(lab, {})["delete"] = summary(col)
    ratio = None
    if "moto" in times:
        ratio = statistics.median(times["moto"]) / statistics.median(times["rolewright"])
    if args.format == "json":
        for label, r in results.items():
            print(json.dumps({"series": label, **r}))
        if ratio is not None:
            print(json.dumps({"ratio_moto_over_rolewright_median": round(ratio, 2)}))
        for n in notes:
            print(json.dumps({"note": n}))
        return
    names = {"rolewright": "rolewright, template", "moto": "moto (anchor), template",
             "rolewright-full": "rolewright, full template"}
    print(f"{args.rounds} alternating rounds (+{args.warmup} warm-up), CreateStack of 20 IAM resources to CREATE_COMPLETE:")
    print(f"  {'':<28} {'median':>9} {'p90':>9} {'min':>9} {'max':>9}   CreateStack answered (median)")
    for label, r in results.items():
        if "create" in r:
            c = r["create"]
            print(f"  {names[label]:<28} {c['median_ms']:>6.2f} ms {c['p90_ms']:>6.2f} ms "
                  f"{c['min_ms']:>6.2f} ms {c['max_ms']:>6.2f} ms   {r['answer']['median_ms']:.2f} ms")
    if ratio is not None:
        print(f"  ratio of the medians, moto / rolewright: {ratio:.1f}x")
    print(f"  goal rolewright under 100 ms: {'met' if results['rolewright']['create']['median_ms'] < 100 else 'MISSED'}")
    for lab, col in deletes.items():
        d = summary(col)
        print(f"  DeleteStack {lab:<22} median {d['median_ms']:.2f} ms, p90 {d['p90_ms']:.2f} ms ({d['n']} stacks)")
    for n in notes:
        print(f"  {n}")


if __name__ == "__main__":
    main()
