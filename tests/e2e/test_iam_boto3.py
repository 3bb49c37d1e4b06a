"""IAM through boto3, as scripts written for real AWS use it: users and access keys, roles and their
attributes, inline and managed policies with versions, attachments, pagination, AWS's error codes and
texts, a role built by `rolewright role new`, and the policy simulator. Also the server's own
contract: bootstrap administrator, credentials file, restart, signals, --account-id.

Facts: ../shared/reference/aws-api/NOTES.md §1.2 (error codes and texts) and operations.md (shapes).
"""

import datetime
import glob
import json
import os
import signal
import stat
import subprocess

from botocore.exceptions import ClientError

from harness import (
    skip_on_postgres,
    ACCOUNT,
    E2ETestCase,
    Server,
    allow,
    binary,
    policy,
    trust,
    unique,
)

ADMIN_ARN = f"arn:aws:iam::{ACCOUNT}:user/admin"
ADMIN_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
SAGEMAKER_FULL = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
EC2_TRUST = trust({"Service": "ec2.amazonaws.com"})


def role_arn(name, path="/"):
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


class BootstrapTests(E2ETestCase):
    """What `rolewright serve` sets up on first start."""

    def test_credentials_file_is_owner_only_and_has_the_rolewright_profile(self):
        mode = stat.S_IMODE(os.stat(self.server.credentials_path).st_mode)
        self.assertEqual(mode, 0o600, f"DIR/credentials has mode {oct(mode)}")
        key_id, secret = self.server.admin_keys()
        self.assertRegex(key_id, r"^AKIA[A-Z0-9]{16}$")
        self.assertEqual(len(secret), 40, "AWS secret access keys are 40 characters")

    def test_bootstrap_admin_is_who_the_credentials_belong_to(self):
        ident = self.sts.get_caller_identity()
        self.assertEqual(ident["Account"], ACCOUNT)
        self.assertEqual(ident["Arn"], ADMIN_ARN)
        self.assertRegex(ident["UserId"], r"^AIDA[A-Z0-9]+$")

    def test_bootstrap_admin_has_administrator_access_attached(self):
        attached = self.iam.list_attached_user_policies(UserName="admin")["AttachedPolicies"]
        self.assertIn(
            {"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN_ACCESS}, attached
        )
        user = self.iam.get_user()["User"]  # no UserName: the caller
        self.assertEqual(user["UserName"], "admin")
        self.assertEqual(user["Arn"], ADMIN_ARN)

    def test_aws_managed_policies_are_fetchable(self):
        p = self.iam.get_policy(PolicyArn=ADMIN_ACCESS)["Policy"]
        self.assertEqual(p["PolicyName"], "AdministratorAccess")
        self.assertEqual(p["Arn"], ADMIN_ACCESS)
        self.assertEqual(p["Path"], "/")
        self.assertTrue(p["IsAttachable"])
        self.assertEqual(p["DefaultVersionId"], "v1")
        doc = self.iam.get_policy_version(PolicyArn=ADMIN_ACCESS, VersionId="v1")["PolicyVersion"]
        self.assertTrue(doc["IsDefaultVersion"])
        self.assertEqual(
            doc["Document"],
            {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
        )
        sm = self.iam.get_policy(PolicyArn=SAGEMAKER_FULL)["Policy"]
        self.assertEqual(sm["PolicyName"], "AmazonSageMakerFullAccess")
        smdoc = self.iam.get_policy_version(
            PolicyArn=SAGEMAKER_FULL, VersionId=sm["DefaultVersionId"]
        )["PolicyVersion"]["Document"]
        actions = []
        for st in smdoc["Statement"]:
            a = st.get("Action", [])
            actions += [a] if isinstance(a, str) else a
        self.assertIn("sagemaker:*", actions)

    def test_unknown_aws_managed_policy_is_no_such_entity(self):
        self.assertError(
            lambda: self.iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAtAll"),
            "NoSuchEntity", 404,
        )


class LifecycleTests(E2ETestCase):
    """Restart, signals and --account-id (each test runs its own extra server)."""

    def test_restart_keeps_data_and_keys(self):
        srv = Server().start()
        try:
            iam = srv.admin()
            name = unique("persist")
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                            Tags=[{"Key": "team", "Value": "ml"}])
            iam.put_role_policy(RoleName=name, PolicyName="p",
                                PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))
            user, kid, secret = srv.new_user()
            with open(srv.credentials_path, "rb") as f:
                creds_before = f.read()
            srv.stop_and_check()
            srv.start()
            with open(srv.credentials_path, "rb") as f:
                self.assertEqual(f.read(), creds_before,
                                 "a restart must not replace the bootstrap keys")
            iam = srv.admin()
            role = iam.get_role(RoleName=name)["Role"]
            self.assertEqual(role["AssumeRolePolicyDocument"], EC2_TRUST)
            self.assertEqual(role["Tags"], [{"Key": "team", "Value": "ml"}])
            self.assertEqual(
                iam.get_role_policy(RoleName=name, PolicyName="p")["PolicyDocument"],
                policy(allow("s3:GetObject")),
            )
            ident = srv.client("sts", kid, secret).get_caller_identity()
            self.assertEqual(ident["Arn"], user["Arn"])
            self.assertEqual(
                [u["UserName"] for u in iam.list_users()["Users"]].count("admin"), 1,
                "a restart must not create a second bootstrap user",
            )
            srv.stop_and_check()
        finally:
            srv.cleanup()

    def test_one_server_per_data_directory(self):
        skip_on_postgres("its lock file")
        second = subprocess.run(
            [binary(), "serve", "--data-dir", self.server.data_dir, "--listen", "127.0.0.1:0"],
            capture_output=True, text=True, timeout=30,
        )
        self.assertEqual(second.returncode, 1)
        self.assertIn("is in use by another `rolewright serve`", second.stderr)
        self.server.admin("sts").get_caller_identity()

    def test_role_last_used_survives_a_restart(self):
        srv = Server().start()
        try:
            iam = srv.admin()
            name = unique("used")
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
                trust({"AWS": ADMIN_ARN})))
            creds = srv.admin("sts").assume_role(RoleArn=role_arn(name),
                                                 RoleSessionName="restart")["Credentials"]
            srv.client_from_credentials("sts", creds).get_caller_identity()
            srv.stop_and_check()
            srv.start()
            used = srv.admin().get_role(RoleName=name)["Role"]["RoleLastUsed"]
            self.assertEqual(used["Region"], "us-east-1")
            srv.stop_and_check()
        finally:
            srv.cleanup()

    def test_sigterm_as_soon_as_it_listens_stops_it_gracefully(self):
        for _ in range(5):
            srv = Server()
            try:
                srv.start()
                srv.stop_and_check()
            finally:
                srv.cleanup()

    def test_sigint_shuts_down_gracefully(self):
        srv = Server().start()
        try:
            srv.admin("sts").get_caller_identity()
            srv.stop_and_check(sig=signal.SIGINT)
        finally:
            srv.cleanup()

    def test_account_id_option(self):
        srv = Server(account_id="210987654321").start()
        try:
            ident = srv.admin("sts").get_caller_identity()
            self.assertEqual(ident["Account"], "210987654321")
            self.assertEqual(ident["Arn"], "arn:aws:iam::210987654321:user/admin")
            r = srv.admin().create_role(RoleName="acct-role",
                                        AssumeRolePolicyDocument=json.dumps(EC2_TRUST))["Role"]
            self.assertEqual(r["Arn"], "arn:aws:iam::210987654321:role/acct-role")
            srv.stop_and_check()
        finally:
            srv.cleanup()


class UserTests(E2ETestCase):
    def test_create_get_list_delete_user(self):
        name = unique("alice")
        u = self.iam.create_user(UserName=name, Path="/ml/",
                                 Tags=[{"Key": "team", "Value": "ml"}])["User"]
        self.assertEqual(u["UserName"], name)
        self.assertEqual(u["Path"], "/ml/")
        self.assertEqual(u["Arn"], f"arn:aws:iam::{ACCOUNT}:user/ml/{name}")
        self.assertRegex(u["UserId"], r"^AIDA[A-Z0-9]{17}$")
        self.assertIsInstance(u["CreateDate"], datetime.datetime)
        got = self.iam.get_user(UserName=name)["User"]
        self.assertEqual(got["Arn"], u["Arn"])
        self.assertEqual(got["UserId"], u["UserId"])
        self.assertEqual(got["Tags"], [{"Key": "team", "Value": "ml"}])
        names = [x["UserName"] for x in self.iam.list_users(PathPrefix="/ml/")["Users"]]
        self.assertIn(name, names)
        self.assertNotIn("admin", names)
        self.iam.delete_user(UserName=name)
        self.assertError(lambda: self.iam.get_user(UserName=name), "NoSuchEntity", 404,
                         message=f"The user with name {name} cannot be found.")

    def test_duplicate_user(self):
        name = unique("dup")
        self.iam.create_user(UserName=name)
        self.assertError(lambda: self.iam.create_user(UserName=name), "EntityAlreadyExists", 409,
                         message=f"User with name {name} already exists.")

    def test_access_keys_of_a_new_user_work(self):
        user, kid, secret = self.server.new_user()
        self.assertRegex(kid, r"^AKIA[A-Z0-9]{16}$")
        self.assertEqual(len(secret), 40)
        ident = self.server.client("sts", kid, secret).get_caller_identity()
        self.assertEqual(ident, {**ident, "Arn": user["Arn"], "UserId": user["UserId"],
                                 "Account": ACCOUNT})
        keys = self.iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]
        self.assertEqual([(k["AccessKeyId"], k["Status"]) for k in keys], [(kid, "Active")])
        self.assertNotIn("SecretAccessKey", keys[0], "ListAccessKeys never returns secrets")

    def test_at_most_two_access_keys(self):
        user, kid, _ = self.server.new_user()
        self.iam.create_access_key(UserName=user["UserName"])
        self.assertError(lambda: self.iam.create_access_key(UserName=user["UserName"]),
                         "LimitExceeded", 409,
                         message="Cannot exceed quota for AccessKeysPerUser: 2")

    def test_deleted_access_key_stops_working(self):
        user, kid, secret = self.server.new_user()
        sts = self.server.client("sts", kid, secret)
        sts.get_caller_identity()
        self.iam.delete_access_key(UserName=user["UserName"], AccessKeyId=kid)
        self.assertEqual(
            self.iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"], [])
        self.assertError(sts.get_caller_identity, "InvalidClientTokenId", 403,
                         message="The security token included in the request is invalid.")

    def test_access_key_for_missing_user(self):
        self.assertError(lambda: self.iam.create_access_key(UserName="ghost-user-x"),
                         "NoSuchEntity", 404,
                         message="The user with name ghost-user-x cannot be found.")

    def test_delete_user_conflicts(self):
        user, kid, _ = self.server.new_user()
        name = user["UserName"]
        self.assertError(lambda: self.iam.delete_user(UserName=name), "DeleteConflict", 409,
                         message="Cannot delete entity, must delete access keys first.")
        self.iam.delete_access_key(UserName=name, AccessKeyId=kid)
        self.iam.put_user_policy(UserName=name, PolicyName="p",
                                 PolicyDocument=json.dumps(policy(allow("s3:ListBucket"))))
        self.assertError(lambda: self.iam.delete_user(UserName=name), "DeleteConflict", 409,
                         message="Cannot delete entity, must delete policies first.")
        self.iam.delete_user_policy(UserName=name, PolicyName="p")
        self.iam.attach_user_policy(UserName=name, PolicyArn=SAGEMAKER_FULL)
        self.assertError(lambda: self.iam.delete_user(UserName=name), "DeleteConflict", 409,
                         message="Cannot delete entity, must detach all policies first.")
        self.iam.detach_user_policy(UserName=name, PolicyArn=SAGEMAKER_FULL)
        self.iam.delete_user(UserName=name)

    def test_user_inline_policies(self):
        user, _, _ = self.server.new_user()
        name = user["UserName"]
        doc = policy(allow(["iam:GetRole", "iam:ListRoles"], "*"))
        self.iam.put_user_policy(UserName=name, PolicyName="read-roles",
                                 PolicyDocument=json.dumps(doc))
        got = self.iam.get_user_policy(UserName=name, PolicyName="read-roles")
        self.assertEqual(got["PolicyDocument"], doc)
        self.assertEqual(got["UserName"], name)
        self.assertEqual(got["PolicyName"], "read-roles")
        self.assertEqual(self.iam.list_user_policies(UserName=name)["PolicyNames"], ["read-roles"])
        self.iam.delete_user_policy(UserName=name, PolicyName="read-roles")
        self.assertEqual(self.iam.list_user_policies(UserName=name)["PolicyNames"], [])
        self.assertError(lambda: self.iam.get_user_policy(UserName=name, PolicyName="read-roles"),
                         "NoSuchEntity", 404)

    def test_list_users_paginates(self):
        prefix = f"/{unique('pu')}/"
        for i in range(5):
            self.iam.create_user(UserName=unique(f"pu{i}"), Path=prefix)
        first = self.iam.list_users(PathPrefix=prefix, MaxItems=2)
        self.assertTrue(first["IsTruncated"])
        self.assertEqual(len(first["Users"]), 2)
        names = [u["UserName"] for u in first["Users"]]
        marker = first["Marker"]
        while marker:
            page = self.iam.list_users(PathPrefix=prefix, MaxItems=2, Marker=marker)
            names += [u["UserName"] for u in page["Users"]]
            marker = page.get("Marker") if page["IsTruncated"] else None
        self.assertEqual(len(names), 5)
        self.assertEqual(len(set(names)), 5)


class RoleTests(E2ETestCase):
    def test_role_with_every_attribute(self):
        boundary = self.iam.create_policy(
            PolicyName=unique("boundary"),
            PolicyDocument=json.dumps(policy(allow(["s3:*", "sagemaker:*"]))),
        )["Policy"]["Arn"]
        name = unique("full")
        r = self.iam.create_role(
            RoleName=name,
            Path="/ml/team/",
            AssumeRolePolicyDocument=json.dumps(trust({"Service": "sagemaker.amazonaws.com"})),
            Description="Data scientists' SageMaker role",
            MaxSessionDuration=7200,
            PermissionsBoundary=boundary,
            Tags=[{"Key": "team", "Value": "ml"}, {"Key": "cost-center", "Value": "42"}],
        )["Role"]
        self.assertEqual(r["RoleName"], name)
        self.assertEqual(r["Path"], "/ml/team/")
        self.assertEqual(r["Arn"], role_arn(name, "/ml/team/"))
        self.assertRegex(r["RoleId"], r"^AROA[A-Z0-9]{17}$")
        self.assertIsInstance(r["CreateDate"], datetime.datetime)
        got = self.iam.get_role(RoleName=name)["Role"]
        self.assertEqual(got["Arn"], r["Arn"])
        self.assertEqual(got["RoleId"], r["RoleId"])
        self.assertEqual(got["Path"], "/ml/team/")
        self.assertEqual(got["Description"], "Data scientists' SageMaker role")
        self.assertEqual(got["MaxSessionDuration"], 7200)
        self.assertEqual(got["AssumeRolePolicyDocument"],
                         trust({"Service": "sagemaker.amazonaws.com"}))
        self.assertEqual(got["PermissionsBoundary"], {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": boundary,
        })
        self.assertEqual(sorted(got["Tags"], key=lambda t: t["Key"]),
                         [{"Key": "cost-center", "Value": "42"}, {"Key": "team", "Value": "ml"}])

    def test_defaults(self):
        name = unique("plain")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        got = self.iam.get_role(RoleName=name)["Role"]
        self.assertEqual(got["Path"], "/")
        self.assertEqual(got["Arn"], role_arn(name))
        self.assertEqual(got["MaxSessionDuration"], 3600)
        self.assertNotIn("PermissionsBoundary", got)

    def test_duplicate_role(self):
        name = unique("dup")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        self.assertError(
            lambda: self.iam.create_role(RoleName=name,
                                         AssumeRolePolicyDocument=json.dumps(EC2_TRUST)),
            "EntityAlreadyExists", 409, message=f"Role with name {name} already exists.")

    def test_role_names_are_case_insensitive_unique(self):
        # IAM names are unique case-insensitively ("you cannot create resources named both
        # MyResource and myresource").
        name = unique("Case")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        e = self.assertError(
            lambda: self.iam.create_role(RoleName=name.lower(),
                                         AssumeRolePolicyDocument=json.dumps(EC2_TRUST)),
            "EntityAlreadyExists", 409)
        self.assertIn("already exists", e.response["Error"]["Message"])

    def test_missing_role(self):
        self.assertError(lambda: self.iam.get_role(RoleName="no-such-role-here"),
                         "NoSuchEntity", 404,
                         message="The role with name no-such-role-here cannot be found.")
        self.assertError(lambda: self.iam.delete_role(RoleName="no-such-role-here"),
                         "NoSuchEntity", 404,
                         message="The role with name no-such-role-here cannot be found.")
        self.assertError(
            lambda: self.iam.put_role_policy(
                RoleName="no-such-role-here", PolicyName="p",
                PolicyDocument=json.dumps(policy(allow("s3:GetObject")))),
            "NoSuchEntity", 404, message="The role with name no-such-role-here cannot be found.")

    def test_validation_errors(self):
        self.assertError(
            lambda: self.iam.create_role(RoleName="bad name!",
                                         AssumeRolePolicyDocument=json.dumps(EC2_TRUST)),
            "ValidationError", 400,
            message_startswith="1 validation error detected: Value 'bad name!' at 'roleName' "
                               "failed to satisfy constraint: Member must satisfy regular "
                               "expression pattern")
        long_name = "r" * 65
        self.assertError(
            lambda: self.iam.create_role(RoleName=long_name,
                                         AssumeRolePolicyDocument=json.dumps(EC2_TRUST)),
            "ValidationError", 400,
            message=f"1 validation error detected: Value '{long_name}' at 'roleName' failed to "
                    "satisfy constraint: Member must have length less than or equal to 64")
        self.assertError(
            lambda: self.iam.create_role(RoleName=unique("msd"), MaxSessionDuration=50000,
                                         AssumeRolePolicyDocument=json.dumps(EC2_TRUST)),
            "ValidationError", 400,
            message="1 validation error detected: Value '50000' at 'maxSessionDuration' failed "
                    "to satisfy constraint: Member must have value less than or equal to 43200")

    def test_malformed_policy_documents(self):
        cases = {
            "not json": "this is not json",
            "no statement": json.dumps({"Version": "2012-10-17"}),
            "no effect": json.dumps({"Version": "2012-10-17",
                                     "Statement": [{"Action": "s3:GetObject", "Resource": "*"}]}),
            "bad effect": json.dumps(policy({"Effect": "Maybe", "Action": "s3:*",
                                             "Resource": "*"})),
            "action without prefix": json.dumps(policy(allow("GetObject"))),
            "bad version": json.dumps({"Version": "2099-01-01",
                                       "Statement": [allow("s3:GetObject")]}),
        }
        name = unique("mal")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        for label, doc in cases.items():
            with self.subTest(label):
                self.assertError(
                    lambda: self.iam.put_role_policy(RoleName=name, PolicyName="p",
                                                     PolicyDocument=doc),
                    "MalformedPolicyDocument", 400)
        with self.subTest("trust policy that is not json"):
            self.assertError(
                lambda: self.iam.create_role(RoleName=unique("mal"),
                                             AssumeRolePolicyDocument="{not json"),
                "MalformedPolicyDocument", 400)
        with self.subTest("customer managed policy with a Principal"):
            self.assertError(
                lambda: self.iam.create_policy(
                    PolicyName=unique("mal"),
                    PolicyDocument=json.dumps(policy(allow("s3:*", Principal="*")))),
                "MalformedPolicyDocument", 400)
        self.assertEqual(self.iam.list_role_policies(RoleName=name)["PolicyNames"], [])

    def test_update_role(self):
        name = unique("upd")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                             Description="before")
        self.iam.update_role(RoleName=name, Description="after", MaxSessionDuration=43200)
        got = self.iam.get_role(RoleName=name)["Role"]
        self.assertEqual(got["Description"], "after")
        self.assertEqual(got["MaxSessionDuration"], 43200)

    def test_tags(self):
        name = unique("tags")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                             Tags=[{"Key": "a", "Value": "1"}])
        self.iam.tag_role(RoleName=name, Tags=[{"Key": "b", "Value": "2"},
                                               {"Key": "a", "Value": "changed"}])
        tags = self.iam.list_role_tags(RoleName=name)
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags["Tags"]),
                         [("a", "changed"), ("b", "2")])
        self.assertFalse(tags["IsTruncated"])
        self.iam.untag_role(RoleName=name, TagKeys=["a"])
        self.assertEqual(self.iam.list_role_tags(RoleName=name)["Tags"],
                         [{"Key": "b", "Value": "2"}])
        self.assertError(lambda: self.iam.tag_role(RoleName="no-such-role-t",
                                                   Tags=[{"Key": "x", "Value": "y"}]),
                         "NoSuchEntity", 404)

    def test_put_role_permissions_boundary(self):
        name = unique("pb")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        self.iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=SAGEMAKER_FULL)
        self.assertEqual(self.iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"], {
            "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
            "PermissionsBoundaryArn": SAGEMAKER_FULL,
        })
        self.assertError(
            lambda: self.iam.put_role_permissions_boundary(
                RoleName=name, PermissionsBoundary=f"arn:aws:iam::{ACCOUNT}:policy/nope-nope"),
            "NoSuchEntity", 404)

    def test_inline_role_policies_round_trip_as_dicts(self):
        name = unique("inline")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        docs = {
            "read": policy({"Sid": "Read", "Effect": "Allow",
                            "Action": ["s3:GetObject", "s3:ListBucket"],
                            "Resource": ["arn:aws:s3:::ml-data", "arn:aws:s3:::ml-data/*"]}),
            "cond": policy({"Effect": "Allow", "Action": "sagemaker:CreatePresignedDomainUrl",
                            "Resource": "*",
                            "Condition": {"StringEquals": {
                                "sagemaker:ResourceTag/owner": "${aws:username}"}}}),
            "unicode-and-percent": policy({"Sid": "Pct", "Effect": "Deny", "Action": "s3:*",
                                           "Resource": "arn:aws:s3:::b/100%/caf\u00e9 & more+x"}),
        }
        for pname, doc in docs.items():
            self.iam.put_role_policy(RoleName=name, PolicyName=pname,
                                     PolicyDocument=json.dumps(doc, indent=2))
        for pname, doc in docs.items():
            got = self.iam.get_role_policy(RoleName=name, PolicyName=pname)
            self.assertEqual(got["PolicyDocument"], doc, pname)
            self.assertEqual(got["RoleName"], name)
            self.assertEqual(got["PolicyName"], pname)
        self.assertEqual(sorted(self.iam.list_role_policies(RoleName=name)["PolicyNames"]),
                         sorted(docs))
        # Put replaces.
        self.iam.put_role_policy(RoleName=name, PolicyName="read",
                                 PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))
        self.assertEqual(
            self.iam.get_role_policy(RoleName=name, PolicyName="read")["PolicyDocument"],
            policy(allow("s3:GetObject")))
        self.iam.delete_role_policy(RoleName=name, PolicyName="read")
        self.assertError(lambda: self.iam.get_role_policy(RoleName=name, PolicyName="read"),
                         "NoSuchEntity", 404,
                         message="The role policy with name read cannot be found.")
        self.assertError(lambda: self.iam.delete_role_policy(RoleName=name, PolicyName="read"),
                         "NoSuchEntity", 404)

    def test_delete_role_conflicts(self):
        attached = unique("att")
        self.iam.create_role(RoleName=attached, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        self.iam.attach_role_policy(RoleName=attached, PolicyArn=SAGEMAKER_FULL)
        self.assertError(lambda: self.iam.delete_role(RoleName=attached), "DeleteConflict", 409,
                         message="Cannot delete entity, must detach all policies first.")
        inline = unique("inl")
        self.iam.create_role(RoleName=inline, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        self.iam.put_role_policy(RoleName=inline, PolicyName="p",
                                 PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))
        self.assertError(lambda: self.iam.delete_role(RoleName=inline), "DeleteConflict", 409,
                         message="Cannot delete entity, must delete policies first.")
        self.iam.detach_role_policy(RoleName=attached, PolicyArn=SAGEMAKER_FULL)
        self.iam.delete_role(RoleName=attached)
        self.iam.delete_role_policy(RoleName=inline, PolicyName="p")
        self.iam.delete_role(RoleName=inline)
        for name in (attached, inline):
            self.assertError(lambda: self.iam.get_role(RoleName=name), "NoSuchEntity", 404)

    def test_list_roles_paginator_over_25_roles(self):
        path = f"/{unique('pag')}/"
        created = [unique(f"pag{i:02d}") for i in range(25)]
        for name in created:
            self.iam.create_role(RoleName=name, Path=path,
                                 AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        paginator = self.iam.get_paginator("list_roles")
        # MaxItems: boto3 stops after 10 and hands back a NextToken to resume from.
        seen = []
        token = None
        rounds = 0
        while True:
            cfg = {"MaxItems": 10}
            if token:
                cfg["StartingToken"] = token
            res = paginator.paginate(PathPrefix=path, PaginationConfig=cfg).build_full_result()
            seen += [r["RoleName"] for r in res["Roles"]]
            rounds += 1
            token = res.get("NextToken")
            if not token:
                break
            self.assertEqual(len(res["Roles"]), 10)
            self.assertLess(rounds, 10, "pagination does not end")
        self.assertEqual(rounds, 3)
        self.assertEqual(sorted(seen), sorted(created))
        # PageSize: pages of 10, 10, 5 with IsTruncated/Marker on the wire.
        pages = list(paginator.paginate(PathPrefix=path, PaginationConfig={"PageSize": 10}))
        self.assertEqual([len(p["Roles"]) for p in pages], [10, 10, 5])
        self.assertEqual([p["IsTruncated"] for p in pages], [True, True, False])
        for p in pages[:2]:
            self.assertTrue(p["Marker"])
        self.assertEqual(sorted(r["RoleName"] for p in pages for r in p["Roles"]),
                         sorted(created))
        for r in pages[0]["Roles"]:
            self.assertEqual(r["Path"], path)
            self.assertIn("AssumeRolePolicyDocument", r)
            self.assertEqual(r["AssumeRolePolicyDocument"], EC2_TRUST)

    def test_list_roles_max_items_and_marker(self):
        path = f"/{unique('mk')}/"
        for i in range(3):
            self.iam.create_role(RoleName=unique(f"mk{i}"), Path=path,
                                 AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        first = self.iam.list_roles(PathPrefix=path, MaxItems=2)
        self.assertTrue(first["IsTruncated"])
        second = self.iam.list_roles(PathPrefix=path, MaxItems=2, Marker=first["Marker"])
        self.assertFalse(second["IsTruncated"])
        self.assertNotIn("Marker", second)
        self.assertEqual(len(first["Roles"]) + len(second["Roles"]), 3)


class ManagedPolicyTests(E2ETestCase):
    def doc(self, n):
        return policy({"Sid": f"V{n}", "Effect": "Allow", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::bucket-{n}/*"})

    def test_create_get_list_delete_policy(self):
        name = unique("pol")
        p = self.iam.create_policy(PolicyName=name, Path="/ml/", Description="reads bucket 1",
                                   PolicyDocument=json.dumps(self.doc(1)))["Policy"]
        self.assertEqual(p["Arn"], f"arn:aws:iam::{ACCOUNT}:policy/ml/{name}")
        self.assertEqual(p["PolicyName"], name)
        self.assertEqual(p["Path"], "/ml/")
        self.assertEqual(p["DefaultVersionId"], "v1")
        self.assertEqual(p["AttachmentCount"], 0)
        self.assertTrue(p["IsAttachable"])
        self.assertRegex(p["PolicyId"], r"^ANPA[A-Z0-9]{17}$")
        got = self.iam.get_policy(PolicyArn=p["Arn"])["Policy"]
        self.assertEqual(got["Description"], "reads bucket 1")
        v1 = self.iam.get_policy_version(PolicyArn=p["Arn"], VersionId="v1")["PolicyVersion"]
        self.assertEqual(v1["Document"], self.doc(1))
        self.assertTrue(v1["IsDefaultVersion"])
        local = [x["Arn"] for x in self.iam.get_paginator("list_policies")
                 .paginate(Scope="Local").build_full_result()["Policies"]]
        self.assertIn(p["Arn"], local)
        self.assertNotIn("arn:aws:iam::aws:policy/AdministratorAccess", local)
        aws = [x["Arn"] for x in self.iam.get_paginator("list_policies")
               .paginate(Scope="AWS").build_full_result()["Policies"]]
        self.assertIn("arn:aws:iam::aws:policy/AdministratorAccess", aws)
        self.assertNotIn(p["Arn"], aws)
        self.assertError(
            lambda: self.iam.create_policy(PolicyName=name, Path="/ml/",
                                           PolicyDocument=json.dumps(self.doc(1))),
            "EntityAlreadyExists", 409)
        self.iam.delete_policy(PolicyArn=p["Arn"])
        self.assertError(lambda: self.iam.get_policy(PolicyArn=p["Arn"]), "NoSuchEntity", 404)

    def test_versions(self):
        arn = self.iam.create_policy(PolicyName=unique("ver"),
                                     PolicyDocument=json.dumps(self.doc(1)))["Policy"]["Arn"]
        v2 = self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(self.doc(2)),
                                            SetAsDefault=True)["PolicyVersion"]
        self.assertEqual(v2["VersionId"], "v2")
        self.assertTrue(v2["IsDefaultVersion"])
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"], "v2")
        for n in (3, 4, 5):
            v = self.iam.create_policy_version(PolicyArn=arn,
                                               PolicyDocument=json.dumps(self.doc(n)))
            self.assertEqual(v["PolicyVersion"]["VersionId"], f"v{n}")
            self.assertFalse(v["PolicyVersion"]["IsDefaultVersion"])
        versions = self.iam.list_policy_versions(PolicyArn=arn)["Versions"]
        self.assertEqual(sorted(v["VersionId"] for v in versions), ["v1", "v2", "v3", "v4", "v5"])
        self.assertEqual([v["VersionId"] for v in versions if v["IsDefaultVersion"]], ["v2"])
        self.assertError(
            lambda: self.iam.create_policy_version(PolicyArn=arn,
                                                   PolicyDocument=json.dumps(self.doc(6))),
            "LimitExceeded", 409,
            message="A managed policy can have up to 5 versions. Before you create a new "
                    "version, you must delete an existing version.")
        self.assertError(lambda: self.iam.delete_policy_version(PolicyArn=arn, VersionId="v2"),
                         "DeleteConflict", 409,
                         message_startswith="Cannot delete the default version of a policy")
        self.iam.set_default_policy_version(PolicyArn=arn, VersionId="v4")
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"], "v4")
        self.assertEqual(self.iam.get_policy_version(PolicyArn=arn, VersionId="v4")
                         ["PolicyVersion"]["Document"], self.doc(4))
        self.iam.delete_policy_version(PolicyArn=arn, VersionId="v2")
        self.assertError(lambda: self.iam.get_policy_version(PolicyArn=arn, VersionId="v2"),
                         "NoSuchEntity", 404)
        # Version ids are never reused.
        v6 = self.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(self.doc(6)))
        self.assertEqual(v6["PolicyVersion"]["VersionId"], "v6")
        self.assertError(lambda: self.iam.delete_policy(PolicyArn=arn), "DeleteConflict", 409,
                         message="This policy has more than one version. Before you delete a "
                                 "policy, you must delete the policy's versions. The default "
                                 "version is deleted with the policy.")
        for v in ("v1", "v3", "v5", "v6"):
            self.iam.delete_policy_version(PolicyArn=arn, VersionId=v)
        self.iam.delete_policy(PolicyArn=arn)

    def test_set_default_to_missing_version(self):
        arn = self.iam.create_policy(PolicyName=unique("sdv"),
                                     PolicyDocument=json.dumps(self.doc(1)))["Policy"]["Arn"]
        self.assertError(lambda: self.iam.set_default_policy_version(PolicyArn=arn,
                                                                     VersionId="v9"),
                         "NoSuchEntity", 404)

    def test_attach_detach_and_attachment_count(self):
        arn = self.iam.create_policy(PolicyName=unique("att"),
                                     PolicyDocument=json.dumps(self.doc(1)))["Policy"]["Arn"]
        role = unique("att-role")
        self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        user, _, _ = self.server.new_user()
        self.iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        self.iam.attach_role_policy(RoleName=role, PolicyArn=SAGEMAKER_FULL)
        self.iam.attach_user_policy(UserName=user["UserName"], PolicyArn=arn)
        attached = self.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        self.assertEqual(sorted(a["PolicyArn"] for a in attached), sorted([arn, SAGEMAKER_FULL]))
        self.assertIn({"PolicyName": "AmazonSageMakerFullAccess", "PolicyArn": SAGEMAKER_FULL},
                      attached)
        self.assertEqual(
            [a["PolicyArn"] for a in self.iam.list_attached_user_policies(
                UserName=user["UserName"])["AttachedPolicies"]], [arn])
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"], 2)
        self.assertError(lambda: self.iam.delete_policy(PolicyArn=arn), "DeleteConflict", 409)
        self.iam.detach_role_policy(RoleName=role, PolicyArn=arn)
        self.iam.detach_user_policy(UserName=user["UserName"], PolicyArn=arn)
        self.assertEqual(self.iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"], 0)
        self.assertError(lambda: self.iam.detach_role_policy(RoleName=role, PolicyArn=arn),
                         "NoSuchEntity", 404)
        self.assertError(
            lambda: self.iam.attach_role_policy(
                RoleName=role, PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/not-there-at-all"),
            "NoSuchEntity", 404)
        self.assertError(
            lambda: self.iam.attach_role_policy(RoleName="no-such-role-a", PolicyArn=arn),
            "NoSuchEntity", 404)
        self.iam.delete_policy(PolicyArn=arn)


class GeneratedRoleTests(E2ETestCase):
    """A role written by `rolewright role new`, created through boto3, then simulated."""

    ROLE_NEW = ["role", "new", "--persona", "data-scientist", "--name-suffix", "ds",
                "--s3-bucket", "ml-data",
                "--pass-role", f"arn:aws:iam::{ACCOUNT}:role/SageMaker-compute",
                "--account", ACCOUNT, "--region", "us-east-1", "--format", "json"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        out = subprocess.run([binary()] + cls.ROLE_NEW, capture_output=True, text=True,
                             check=False, env={**os.environ, "NO_COLOR": "1"})
        if out.returncode != 0:
            raise AssertionError(f"rolewright role new failed ({out.returncode}): {out.stderr}")
        cls.spec = json.loads(out.stdout)
        iam = cls.iam
        spec = cls.spec
        kwargs = {"RoleName": spec["RoleName"],
                  "AssumeRolePolicyDocument": json.dumps(spec["AssumeRolePolicyDocument"]),
                  "Description": spec["Description"]}
        if spec.get("Tags"):
            kwargs["Tags"] = spec["Tags"]
        cls.role = iam.create_role(**kwargs)["Role"]
        for p in spec["Policies"]:
            iam.put_role_policy(RoleName=spec["RoleName"], PolicyName=p["PolicyName"],
                                PolicyDocument=json.dumps(p["PolicyDocument"]))
        cls.customer_arns = []
        for p in spec.get("ManagedPolicies", []):
            arn = iam.create_policy(PolicyName=p["PolicyName"],
                                    PolicyDocument=json.dumps(p["PolicyDocument"]))["Policy"]["Arn"]
            cls.customer_arns.append(arn)
            iam.attach_role_policy(RoleName=spec["RoleName"], PolicyArn=arn)

    def simulate(self, action, resource, context=None):
        kwargs = {"PolicySourceArn": self.role["Arn"], "ActionNames": [action],
                  "ResourceArns": [resource]}
        if context:
            kwargs["ContextEntries"] = [
                {"ContextKeyName": k, "ContextKeyValues": [v], "ContextKeyType": "string"}
                for k, v in context.items()]
        res = self.iam.simulate_principal_policy(**kwargs)["EvaluationResults"]
        self.assertEqual(len(res), 1, res)
        self.assertEqual(res[0]["EvalActionName"], action)
        self.assertEqual(res[0]["EvalResourceName"], resource)
        return res[0]

    def test_aws_managed_policies_it_names_attach(self):
        spec = self.spec
        for arn in spec.get("ManagedPolicyArns", []):
            with self.subTest(arn=arn):
                self.iam.attach_role_policy(RoleName=spec["RoleName"], PolicyArn=arn)
        attached = [a["PolicyArn"] for a in self.iam.list_attached_role_policies(
            RoleName=spec["RoleName"])["AttachedPolicies"]]
        self.assertEqual(sorted(attached),
                         sorted(spec.get("ManagedPolicyArns", []) + self.customer_arns))

    def test_role_and_policies_are_stored_as_generated(self):
        spec = self.spec
        got = self.iam.get_role(RoleName=spec["RoleName"])["Role"]
        self.assertEqual(got["AssumeRolePolicyDocument"], spec["AssumeRolePolicyDocument"])
        self.assertEqual(got["Description"], spec["Description"])
        names = self.iam.list_role_policies(RoleName=spec["RoleName"])["PolicyNames"]
        self.assertEqual(sorted(names), sorted(p["PolicyName"] for p in spec["Policies"]))
        for p in spec["Policies"]:
            self.assertEqual(
                self.iam.get_role_policy(RoleName=spec["RoleName"],
                                         PolicyName=p["PolicyName"])["PolicyDocument"],
                p["PolicyDocument"], p["PolicyName"])

    def test_s3_get_object_allowed_on_the_bucket_only(self):
        ok = self.simulate("s3:GetObject", "arn:aws:s3:::ml-data/train/part-0001.csv")
        self.assertEqual(ok["EvalDecision"], "allowed", ok)
        self.assertTrue(ok.get("MatchedStatements"), "an allowed result names its statement")
        # SourcePolicyId names the inline policy (the AWS CLI's simulate-principal-policy
        # example: "SourcePolicyId": "Grant-Access-To-CodeCommit-ListRepo").
        self.assertIn(ok["MatchedStatements"][0]["SourcePolicyId"],
                      [p["PolicyName"] for p in self.spec["Policies"]])
        self.assertEqual(ok["MatchedStatements"][0].get("SourcePolicyType"), "role")
        no = self.simulate("s3:GetObject", "arn:aws:s3:::some-other-bucket/train.csv")
        self.assertEqual(no["EvalDecision"], "implicitDeny", no)
        self.assertEqual(no.get("MatchedStatements", []), [])

    def test_pass_role_needs_sagemaker_as_the_service(self):
        target = f"arn:aws:iam::{ACCOUNT}:role/SageMaker-compute"
        ok = self.simulate("iam:PassRole", target, {"iam:PassedToService": "sagemaker.amazonaws.com"})
        self.assertEqual(ok["EvalDecision"], "allowed", ok)
        no = self.simulate("iam:PassRole", target, {"iam:PassedToService": "ec2.amazonaws.com"})
        self.assertEqual(no["EvalDecision"], "implicitDeny", no)
        other = self.simulate("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/Admin",
                              {"iam:PassedToService": "sagemaker.amazonaws.com"})
        self.assertEqual(other["EvalDecision"], "implicitDeny", other)

    def test_simulate_unknown_principal(self):
        self.assertError(
            lambda: self.iam.simulate_principal_policy(
                PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:role/not-a-role-here",
                ActionNames=["s3:GetObject"]),
            "NoSuchEntity", 404)

    def test_simulate_custom_policy(self):
        doc = policy(allow("s3:GetObject", "arn:aws:s3:::ml-data/*"),
                     {"Effect": "Deny", "Action": "s3:GetObject",
                      "Resource": "arn:aws:s3:::ml-data/secret/*"})
        res = self.iam.simulate_custom_policy(
            PolicyInputList=[json.dumps(doc)],
            ActionNames=["s3:GetObject"],
            ResourceArns=["arn:aws:s3:::ml-data/a.csv"])["EvaluationResults"]
        self.assertEqual([r["EvalDecision"] for r in res], ["allowed"])
        res = self.iam.simulate_custom_policy(
            PolicyInputList=[json.dumps(doc)],
            ActionNames=["s3:GetObject"],
            ResourceArns=["arn:aws:s3:::ml-data/secret/k"])["EvaluationResults"]
        self.assertEqual([r["EvalDecision"] for r in res], ["explicitDeny"])
        res = self.iam.simulate_custom_policy(
            PolicyInputList=[json.dumps(doc)],
            ActionNames=["s3:PutObject"],
            ResourceArns=["arn:aws:s3:::ml-data/a.csv"])["EvaluationResults"]
        self.assertEqual([r["EvalDecision"] for r in res], ["implicitDeny"])

    def test_simulate_with_a_permissions_boundary(self):
        name = unique("sim-pb")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        self.iam.put_role_policy(RoleName=name, PolicyName="s3",
                                 PolicyDocument=json.dumps(policy(allow("s3:*"))))
        bound = self.iam.create_policy(
            PolicyName=unique("sim-bound"),
            PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))["Policy"]["Arn"]
        self.iam.put_role_permissions_boundary(RoleName=name, PermissionsBoundary=bound)
        arn = self.iam.get_role(RoleName=name)["Role"]["Arn"]
        res = self.iam.simulate_principal_policy(
            PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject"],
            ResourceArns=["arn:aws:s3:::b/k"])["EvaluationResults"]
        got = {r["EvalActionName"]: r["EvalDecision"] for r in res}
        self.assertEqual(got, {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"})


class GroupTests(E2ETestCase):
    """Groups: members get the group's inline and managed policies."""

    def test_group_lifecycle_and_members(self):
        group = unique("ds-group")
        g = self.iam.create_group(GroupName=group, Path="/ml/")["Group"]
        self.assertEqual(g["Arn"], f"arn:aws:iam::{ACCOUNT}:group/ml/{group}")
        self.assertRegex(g["GroupId"], r"^AGPA[A-Z0-9]{17}$")
        self.assertError(lambda: self.iam.create_group(GroupName=group), "EntityAlreadyExists", 409,
                         message=f"Group with name {group} already exists.")
        user, _, _ = self.server.new_user()
        self.iam.add_user_to_group(GroupName=group, UserName=user["UserName"])
        got = self.iam.get_group(GroupName=group)
        self.assertEqual([u["UserName"] for u in got["Users"]], [user["UserName"]])
        groups = self.iam.list_groups_for_user(UserName=user["UserName"])["Groups"]
        self.assertEqual([x["GroupName"] for x in groups], [group])
        self.assertIn(group, [x["GroupName"] for x in self.iam.list_groups()["Groups"]])
        self.assertError(lambda: self.iam.delete_group(GroupName=group), "DeleteConflict", 409,
                         message="Cannot delete entity, must remove users from group first.")
        self.iam.remove_user_from_group(GroupName=group, UserName=user["UserName"])
        self.iam.delete_group(GroupName=group)
        self.assertError(lambda: self.iam.get_group(GroupName=group), "NoSuchEntity", 404,
                         message=f"The group with name {group} cannot be found.")

    def test_members_get_the_groups_policies(self):
        group = unique("readers")
        self.iam.create_group(GroupName=group)
        target = unique("target")
        self.iam.create_role(RoleName=target, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        user, kid, secret = self.server.new_user()
        iam_as_user = self.server.client("iam", kid, secret)
        self.assertError(lambda: iam_as_user.get_role(RoleName=target), "AccessDenied", 403)
        self.iam.put_group_policy(GroupName=group, PolicyName="read",
                                  PolicyDocument=json.dumps(policy(allow("iam:GetRole", role_arn(target)))))
        self.iam.add_user_to_group(GroupName=group, UserName=user["UserName"])
        self.assertEqual(iam_as_user.get_role(RoleName=target)["Role"]["RoleName"], target)
        self.assertEqual(self.iam.list_group_policies(GroupName=group)["PolicyNames"], ["read"])
        self.iam.attach_group_policy(GroupName=group, PolicyArn=ADMIN_ACCESS)
        attached = self.iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]
        self.assertEqual([a["PolicyArn"] for a in attached], [ADMIN_ACCESS])
        entities = self.iam.list_entities_for_policy(PolicyArn=ADMIN_ACCESS)
        self.assertIn(group, [g["GroupName"] for g in entities["PolicyGroups"]])
        self.assertError(lambda: self.iam.delete_user(UserName=user["UserName"]), "DeleteConflict", 409)
        sim = self.iam.simulate_principal_policy(PolicySourceArn=user["Arn"],
                                                 ActionNames=["iam:GetRole"],
                                                 ResourceArns=[role_arn(target)])
        matched = sim["EvaluationResults"][0]["MatchedStatements"]
        self.assertIn(("read", "group"), [(m["SourcePolicyId"], m["SourcePolicyType"]) for m in matched])


class InstanceProfileTests(E2ETestCase):
    """Instance profiles, which teardown scripts empty before deleting a role."""

    def test_role_in_a_profile_cannot_be_deleted(self):
        role = unique("ec2-role")
        profile = unique("profile")
        self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        created = self.iam.create_instance_profile(InstanceProfileName=profile)["InstanceProfile"]
        self.assertEqual(created["Arn"], f"arn:aws:iam::{ACCOUNT}:instance-profile/{profile}")
        self.assertEqual(created["Roles"], [])
        self.iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
        self.assertError(lambda: self.iam.add_role_to_instance_profile(
            InstanceProfileName=profile, RoleName=role), "LimitExceeded", 409)
        listed = self.iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]
        self.assertEqual([p["InstanceProfileName"] for p in listed], [profile])
        self.assertEqual(listed[0]["Roles"][0]["RoleName"], role)
        self.assertError(lambda: self.iam.delete_role(RoleName=role), "DeleteConflict", 409,
                         message="Cannot delete entity, must remove roles from instance profile first.")
        self.assertError(lambda: self.iam.delete_instance_profile(InstanceProfileName=profile),
                         "DeleteConflict", 409)
        self.iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
        self.iam.delete_instance_profile(InstanceProfileName=profile)
        self.iam.delete_role(RoleName=role)
        self.assertError(lambda: self.iam.get_instance_profile(InstanceProfileName=profile),
                         "NoSuchEntity", 404)


class AccountTests(E2ETestCase):
    """Calls that onboarding and audit scripts make around the main ones."""

    def test_account_summary_counts_entities(self):
        before = self.iam.get_account_summary()["SummaryMap"]
        self.iam.create_role(RoleName=unique("counted"), AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        after = self.iam.get_account_summary()["SummaryMap"]
        self.assertEqual(after["Roles"], before["Roles"] + 1)
        self.assertEqual(after["RolesQuota"], 1000)
        self.assertGreaterEqual(after["Users"], 1)

    def test_mfa_devices_are_listed_empty_as_audit_tools_read_them(self):
        user = unique("mfa")
        self.iam.create_user(UserName=user)
        self.assertEqual(self.iam.list_mfa_devices(UserName=user)["MFADevices"], [])
        self.assertEqual(self.iam.list_mfa_devices()["MFADevices"], [])
        pages = self.iam.get_paginator("list_virtual_mfa_devices").paginate(AssignmentStatus="Assigned")
        self.assertEqual([d for page in pages for d in page["VirtualMFADevices"]], [])
        self.assertError(lambda: self.iam.list_mfa_devices(UserName=unique("nobody")),
                         "NoSuchEntity", 404)
        self.assertError(lambda: self.iam.list_virtual_mfa_devices(AssignmentStatus="Some"),
                         "ValidationError", 400, message_contains=(
                             "Value 'Some' at 'assignmentStatus' failed to satisfy constraint: "
                             "Member must satisfy enum value set: [Assigned, Unassigned, Any]"))

    def test_account_alias(self):
        self.assertEqual(self.iam.list_account_aliases()["AccountAliases"], [])
        self.iam.create_account_alias(AccountAlias="ml-platform")
        self.assertEqual(self.iam.list_account_aliases()["AccountAliases"], ["ml-platform"])
        self.assertError(lambda: self.iam.create_account_alias(AccountAlias="Bad_Alias"),
                         "ValidationError", 400)
        self.iam.delete_account_alias(AccountAlias="ml-platform")
        self.assertEqual(self.iam.list_account_aliases()["AccountAliases"], [])

    def test_login_profile_lifecycle_never_keeps_the_password(self):
        srv = Server().start()
        try:
            iam = srv.admin()
            user, kid, _ = srv.new_user()
            name = user["UserName"]
            password = "Correct-Horse-" + unique("pw")
            self.assertError(lambda: iam.create_login_profile(UserName=name, Password="short"),
                             "PasswordPolicyViolation", 400)
            created = iam.create_login_profile(UserName=name, Password=password,
                                               PasswordResetRequired=True)["LoginProfile"]
            self.assertEqual((created["UserName"], created["PasswordResetRequired"]), (name, True))
            self.assertError(lambda: iam.create_login_profile(UserName=name, Password=password),
                             "EntityAlreadyExists", 409)
            iam.update_login_profile(UserName=name, PasswordResetRequired=False)
            self.assertFalse(iam.get_login_profile(UserName=name)["LoginProfile"]["PasswordResetRequired"])
            iam.delete_access_key(UserName=name, AccessKeyId=kid)
            self.assertError(lambda: iam.delete_user(UserName=name), "DeleteConflict", 409,
                             message="Cannot delete entity, must delete login profile first.")
            iam.delete_login_profile(UserName=name)
            self.assertError(lambda: iam.get_login_profile(UserName=name), "NoSuchEntity", 404)
            iam.delete_user(UserName=name)
            srv.stop_and_check()
            for path in glob.glob(os.path.join(srv.data_dir, "*")):
                with open(path, "rb") as f:
                    self.assertNotIn(password.encode(), f.read(), f"the password is in {path}")
        finally:
            srv.cleanup()

    def test_policy_tags(self):
        arn = self.iam.create_policy(PolicyName=unique("tagged"),
                                     PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))["Policy"]["Arn"]
        self.iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "team", "Value": "ml"}])
        self.assertEqual(self.iam.list_policy_tags(PolicyArn=arn)["Tags"], [{"Key": "team", "Value": "ml"}])
        self.iam.untag_policy(PolicyArn=arn, TagKeys=["team"])
        self.assertEqual(self.iam.list_policy_tags(PolicyArn=arn)["Tags"], [])
        self.assertError(lambda: self.iam.tag_policy(PolicyArn=ADMIN_ACCESS, Tags=[{"Key": "a", "Value": "b"}]),
                         "AccessDenied", 403)

    def test_access_key_info_and_last_used(self):
        user, kid, _ = self.server.new_user()
        last = self.iam.get_access_key_last_used(AccessKeyId=kid)
        self.assertEqual(last["UserName"], user["UserName"])
        self.assertEqual(self.server.admin("sts").get_access_key_info(AccessKeyId=kid)["Account"], ACCOUNT)

    def test_the_managed_policies_the_seed_flows_attach(self):
        role = unique("sc-launcher")
        self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        for name in ["AdministratorAccess", "AmazonSageMakerFullAccess",
                     "ServiceCatalogAdminFullAccess", "ServiceCatalogEndUserFullAccess",
                     "AWSServiceCatalogEndUserFullAccess", "AmazonSageMakerCanvasFullAccess"]:
            arn = f"arn:aws:iam::aws:policy/{name}"
            got = self.iam.get_policy(PolicyArn=arn)["Policy"]
            version = self.iam.get_policy_version(PolicyArn=arn, VersionId=got["DefaultVersionId"])
            self.assertIn("Statement", version["PolicyVersion"]["Document"], name)
        self.iam.attach_role_policy(RoleName=role,
                                    PolicyArn="arn:aws:iam::aws:policy/ServiceCatalogEndUserFullAccess")
        sim = self.iam.simulate_principal_policy(PolicySourceArn=role_arn(role),
                                                 ActionNames=["servicecatalog:ProvisionProduct"])
        self.assertEqual(sim["EvaluationResults"][0]["EvalDecision"], "allowed")

    def test_account_authorization_details(self):
        role = unique("detailed")
        self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        self.iam.put_role_policy(RoleName=role, PolicyName="read",
                                 PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))
        self.iam.attach_role_policy(RoleName=role, PolicyArn=SAGEMAKER_FULL)
        pages = self.iam.get_paginator("get_account_authorization_details").paginate(
            Filter=["Role", "AWSManagedPolicy"], PaginationConfig={"PageSize": 7})
        roles, policies = [], []
        for page in pages:
            roles += page["RoleDetailList"]
            policies += page["Policies"]
            self.assertEqual(page["UserDetailList"], [])
        mine = next(r for r in roles if r["RoleName"] == role)
        self.assertEqual(mine["AssumeRolePolicyDocument"], EC2_TRUST)
        self.assertEqual(mine["RolePolicyList"],
                         [{"PolicyName": "read", "PolicyDocument": policy(allow("s3:GetObject"))}])
        self.assertEqual([a["PolicyArn"] for a in mine["AttachedManagedPolicies"]], [SAGEMAKER_FULL])
        full = next(p for p in policies if p["Arn"] == SAGEMAKER_FULL)
        self.assertTrue(any(v["IsDefaultVersion"] and "Statement" in v["Document"]
                            for v in full["PolicyVersionList"]))
        everything = self.iam.get_account_authorization_details()
        self.assertIn("admin", [u["UserName"] for u in everything["UserDetailList"]])
