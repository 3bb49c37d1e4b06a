"""Writes the test accounts of tests/review.rs (and the CLI tests), in the shape that
`aws iam get-account-authorization-details` prints. Run it after changing an account here:
python3 crates/rolewright-review/tests/accounts/generate.py"""
import json, os, urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
A = "111122223333"
def arn(kind, name): return f"arn:aws:iam::{A}:{kind}/{name}"
def doc(*stmts): return {"Version": "2012-10-17", "Statement": list(stmts)}
def allow(action, resource, sid=None, cond=None):
    s = {}
    if sid: s["Sid"] = sid
    s.update({"Effect": "Allow", "Action": action, "Resource": resource})
    if cond: s["Condition"] = cond
    return s
def deny(action, resource, sid=None, cond=None):
    s = allow(action, resource, sid, cond); s["Effect"] = "Deny"; return s
def trust_aws(p): return doc({"Effect": "Allow", "Principal": {"AWS": p}, "Action": "sts:AssumeRole"})
def trust_service(s): return doc({"Effect": "Allow", "Principal": {"Service": s}, "Action": "sts:AssumeRole"})
ROOT = f"arn:aws:iam::{A}:root"
def user(name, inline=(), groups=(), attached=(), boundary=None, tags=()):
    u = {"Path": "/", "UserName": name, "UserId": "AIDA" + name.upper().replace("-", "")[:16], "Arn": arn("user", name),
         "CreateDate": "2026-01-01T00:00:00Z",
         "UserPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
         "GroupList": list(groups),
         "AttachedManagedPolicies": [{"PolicyName": a.rsplit('/',1)[1], "PolicyArn": a} for a in attached],
         "Tags": [{"Key": k, "Value": v} for k, v in tags]}
    if boundary: u["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return u
def role(name, trust, inline=(), attached=(), boundary=None):
    r = {"Path": "/", "RoleName": name, "RoleId": "AROA" + name.upper().replace("-", "")[:16], "Arn": arn("role", name),
         "CreateDate": "2026-01-01T00:00:00Z", "AssumeRolePolicyDocument": trust, "InstanceProfileList": [],
         "RolePolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
         "AttachedManagedPolicies": [{"PolicyName": a.rsplit('/',1)[1], "PolicyArn": a} for a in attached],
         "Tags": [], "RoleLastUsed": {}}
    if boundary: r["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return r
def group(name, inline=(), attached=()):
    return {"Path": "/", "GroupName": name, "GroupId": "AGPA" + name.upper()[:16], "Arn": arn("group", name),
            "CreateDate": "2026-01-01T00:00:00Z",
            "GroupPolicyList": [{"PolicyName": n, "PolicyDocument": d} for n, d in inline],
            "AttachedManagedPolicies": [{"PolicyName": a.rsplit('/',1)[1], "PolicyArn": a} for a in attached]}
def policy(arnv, versions, default="v1"):
    return {"PolicyName": arnv.rsplit('/',1)[1], "PolicyId": "ANPA" + arnv.rsplit('/',1)[1].upper()[:16], "Arn": arnv, "Path": "/",
            "DefaultVersionId": default, "AttachmentCount": 1, "PermissionsBoundaryUsageCount": 0, "IsAttachable": True,
            "CreateDate": "2026-01-01T00:00:00Z", "UpdateDate": "2026-01-01T00:00:00Z",
            "PolicyVersionList": [{"Document": d, "VersionId": v, "IsDefaultVersion": v == default, "CreateDate": "2026-01-01T00:00:00Z"} for v, d in versions]}
def account(users=(), groups=(), roles=(), policies=()):
    return {"UserDetailList": list(users), "GroupDetailList": list(groups), "RoleDetailList": list(roles), "Policies": list(policies), "IsTruncated": False}
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
admin_policy = policy(ADMIN, [("v1", doc(allow("*", "*")))])
VAULT = "arn:aws:s3:::vault/*"
def write(name, acct):
    json.dump(acct, open(f"{HERE}/{name}.json", "w"), indent=2)
    open(f"{HERE}/{name}.json", "a").write("\n")

# 1. A chain of three assume-roles, and an explicit deny that stops one.
write("assume_chain", account(
    users=[
        user("alice", [("hop", doc(allow("sts:AssumeRole", arn("role", "hop1"), "AssumeHop1")))]),
        user("bob", [("nothing", doc(allow("s3:ListAllMyBuckets", "*")))]),
        user("denied", [("hop", doc(allow("sts:AssumeRole", "*"),
                                     deny("sts:AssumeRole", [arn("role", "hop1"), arn("role", "hop3")], "NoHops")))]),
        user("capped", [("hop", doc(allow("sts:AssumeRole", arn("role", "hop1"))))],
             boundary=f"arn:aws:iam::{A}:policy/no-assume-boundary"),
    ],
    policies=[policy(f"arn:aws:iam::{A}:policy/no-assume-boundary", [("v1", doc(allow("s3:ListAllMyBuckets", "*")))])],
    roles=[
        role("hop1", trust_aws(ROOT), [("next", doc(allow("sts:AssumeRole", arn("role", "hop2"))))]),
        role("hop2", trust_aws(arn("role", "hop1")), [("next", doc(allow("sts:AssumeRole", arn("role", "hop3"))))]),
        role("hop3", trust_aws(ROOT), [("vault", doc(allow("s3:GetObject", VAULT, "ReadVault")))]),
    ]))

# 2. Passing a role to SageMaker, with the conditions policies put on it.
SM_EXEC = arn("role", "sm-exec")
passrole = allow("iam:PassRole", SM_EXEC, "PassToSageMaker", {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}})
vpc_training = allow("sagemaker:CreateTrainingJob", f"arn:aws:sagemaker:us-east-1:{A}:training-job/*", "TrainInVpc",
                     {"ForAllValues:StringEquals": {"sagemaker:VpcSubnets": ["subnet-0a1b2c"]},
                      "Null": {"sagemaker:VpcSubnets": "false"},
                      "StringEquals": {"sagemaker:VolumeKmsKey": f"arn:aws:kms:us-east-1:{A}:key/volume-key"}})
write("pass_role", account(
    users=[
        user("ds", [("ds", doc(passrole, vpc_training))]),
        user("ds-ec2-only", [("ds", doc(allow("iam:PassRole", SM_EXEC, None, {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}), vpc_training))]),
        user("ds-mfa", [("ds", doc(passrole, allow("sagemaker:CreateProcessingJob", "*", "ProcessWithMfa",
                                                   {"Bool": {"aws:MultiFactorAuthPresent": "true"}})))]),
        user("ds-model-only", [("ds", doc(passrole, allow("sagemaker:CreateModel", "*")))]),
        user("mlops", [("deploy", doc(passrole, allow(["sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint"], "*", "Deploy")))]),
    ],
    roles=[
        role("sm-exec", trust_service("sagemaker.amazonaws.com"), [("data", doc(allow("s3:GetObject", "arn:aws:s3:::training-data/*", "ReadTrainingData")))]),
        role("ec2-exec", trust_service("ec2.amazonaws.com"), [("data", doc(allow("s3:GetObject", "arn:aws:s3:::training-data/*")))]),
    ]))

# 3. Rewriting permissions: one's own, a group's, a policy version, another role's; a boundary that stops it.
VERSIONED = f"arn:aws:iam::{A}:policy/versioner-policy"
BOUNDARY = f"arn:aws:iam::{A}:policy/put-only-boundary"
ESCAPE = f"arn:aws:iam::{A}:policy/escape-hatch-boundary"
OLD = f"arn:aws:iam::{A}:policy/rolled-back"
write("policy_edit", account(
    users=[
        user("self-editor", [("self", doc(allow("iam:PutUserPolicy", arn("user", "self-editor"), "WriteOwnPolicy")))]),
        user("group-editor", [("groups", doc(allow("iam:PutGroupPolicy", arn("group", "devs"), "WriteDevsPolicy")))], groups=["devs"]),
        user("versioner", attached=[VERSIONED]),
        user("other-editor", [("target", doc(allow(["sts:AssumeRole", "iam:PutRolePolicy"], arn("role", "target"), "EditThenAssume")))]),
        user("rollbacker", attached=[OLD]),
    ],
    groups=[group("devs", [("read", doc(allow("s3:ListAllMyBuckets", "*")))])],
    roles=[
        role("attacher", trust_aws(ROOT), [("attach", doc(allow("iam:AttachRolePolicy", arn("role", "attacher"), "AttachAdmin",
                                                                 {"ArnEquals": {"iam:PolicyARN": ADMIN}})))]),
        role("attacher-limited", trust_service("ec2.amazonaws.com"), [("attach", doc(allow("iam:AttachRolePolicy", arn("role", "attacher-limited"), None,
                                                                 {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}})))]),
        role("bounded", trust_service("ec2.amazonaws.com"), [("self", doc(allow("iam:PutRolePolicy", arn("role", "bounded"))))], boundary=BOUNDARY),
        role("bounded-escaper", trust_service("ec2.amazonaws.com"), [("self", doc(allow(["iam:PutRolePolicy", "iam:DeleteRolePermissionsBoundary"], arn("role", "bounded-escaper"), "Escape")))], boundary=ESCAPE),
        role("target", trust_aws(ROOT)),
    ],
    policies=[
        policy(VERSIONED, [("v1", doc(allow("iam:CreatePolicyVersion", VERSIONED, "NewVersion")))]),
        policy(BOUNDARY, [("v1", doc(allow("iam:PutRolePolicy", arn("role", "bounded"), "PutOnly")))]),
        policy(ESCAPE, [("v1", doc(allow(["iam:PutRolePolicy", "iam:DeleteRolePermissionsBoundary"], arn("role", "bounded-escaper"), "PutOrEscape")))]),
        policy(OLD, [("v1", doc(allow("s3:GetObject", VAULT, "OldGrant"))),
                     ("v2", doc(allow("iam:SetDefaultPolicyVersion", OLD, "RollBack")))], default="v2"),
    ]))

# 4. Rewriting a trust policy; an explicit deny that stops it.
write("trust_edit", account(
    users=[
        user("trust-editor", [("trust", doc(allow("iam:UpdateAssumeRolePolicy", arn("role", "locked"), "RewriteTrust"),
                                            allow("sts:AssumeRole", "*")))]),
        user("trust-editor-denied", [("trust", doc(allow("iam:UpdateAssumeRolePolicy", arn("role", "locked")),
                                                   allow("sts:AssumeRole", "*"), deny("sts:AssumeRole", "*", "NeverAssume")))]),
    ],
    roles=[role("locked", trust_service("ec2.amazonaws.com"), [("vault", doc(allow("s3:GetObject", VAULT, "ReadVault")))])]))

# 5. Joining a group; documents URL-encoded as the query protocol sends them.
enc = lambda d: urllib.parse.quote(json.dumps(d, separators=(",", ":")), safe="")
gm = account(
    users=[
        user("joiner", [("join", enc(doc(allow("iam:AddUserToGroup", arn("group", "admins"), "JoinAdmins"))))]),
        user("member", groups=["admins"]),
        user("reader", [("read", enc(doc(allow("s3:GetObject", VAULT))))]),
    ],
    groups=[group("admins", attached=[ADMIN])],
    policies=[policy(ADMIN, [("v1", enc(doc(allow("*", "*"))))])])
write("group_membership", gm)

# 6. New credentials for another user.
write("credentials", account(
    users=[
        user("helpdesk", [("keys", doc(allow("iam:CreateAccessKey", arn("user", "*"), "AnyKeys")))]),
        user("password-reset", [("reset", doc(allow("iam:UpdateLoginProfile", arn("user", "dba"), "ResetDba")))]),
        user("dba", [("vault", doc(allow("s3:GetObject", VAULT, "ReadVault")))]),
    ]))
json.dump(doc({"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "Resource": VAULT},
              {"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetObject", "Resource": VAULT},
              {"Sid": "Bob", "Effect": "Allow", "Principal": {"AWS": arn("user", "bob")}, "Action": "s3:GetObject", "Resource": VAULT}),
          open(HERE + "/vault_bucket_policy.json", "w"), indent=2)
