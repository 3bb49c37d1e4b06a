"""Creates the users, groups, roles and customer managed policies of an account-details file (the
JSON of `aws iam get-account-authorization-details`) in a control plane, with boto3 and the
environment's AWS configuration (AWS_ENDPOINT_URL, AWS_PROFILE, ...). AWS managed policies are
attached, not created.

    load-account.py ACCOUNT.json
"""
import json, sys, boto3
from concurrent.futures import ThreadPoolExecutor
iam = boto3.client("iam")
d = json.load(open(sys.argv[1]))
def default_doc(p):
    return next(v["Document"] for v in p["PolicyVersionList"] if v["IsDefaultVersion"])
for p in d["Policies"]:
    if ":aws:policy/" in p["Arn"]:
        continue
    iam.create_policy(PolicyName=p["PolicyName"], PolicyDocument=json.dumps(default_doc(p)))
for g in d["GroupDetailList"]:
    iam.create_group(GroupName=g["GroupName"])
    for a in g.get("AttachedManagedPolicies", []):
        iam.attach_group_policy(GroupName=g["GroupName"], PolicyArn=a["PolicyArn"])
def role(r):
    kw = {}
    if r.get("Tags"):
        kw["Tags"] = r["Tags"]
    iam.create_role(RoleName=r["RoleName"], AssumeRolePolicyDocument=json.dumps(r["AssumeRolePolicyDocument"]), **kw)
    for p in r.get("RolePolicyList", []):
        iam.put_role_policy(RoleName=r["RoleName"], PolicyName=p["PolicyName"], PolicyDocument=json.dumps(p["PolicyDocument"]))
    for a in r.get("AttachedManagedPolicies", []):
        iam.attach_role_policy(RoleName=r["RoleName"], PolicyArn=a["PolicyArn"])
def user(u):
    iam.create_user(UserName=u["UserName"])
    for p in u.get("UserPolicyList", []):
        iam.put_user_policy(UserName=u["UserName"], PolicyName=p["PolicyName"], PolicyDocument=json.dumps(p["PolicyDocument"]))
    for g in u.get("GroupList", []):
        iam.add_user_to_group(UserName=u["UserName"], GroupName=g)
    for a in u.get("AttachedManagedPolicies", []):
        iam.attach_user_policy(UserName=u["UserName"], PolicyArn=a["PolicyArn"])
with ThreadPoolExecutor(8) as pool:
    list(pool.map(role, d["RoleDetailList"]))
    list(pool.map(user, d["UserDetailList"]))
print("loaded", len(d["RoleDetailList"]), "roles,", len(d["UserDetailList"]), "users")
