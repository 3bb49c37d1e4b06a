"""Authorization as AWS does it, seen through boto3: identity policies, AccessDenied texts, AssumeRole
against trust policy and the caller's permissions, session credentials limited to the role, session
policies, permissions boundaries, the iam:PermissionsBoundary condition, tag conditions
(aws:PrincipalTag, aws:RequestTag, aws:TagKeys, aws:ResourceTag, session tags), and expiry.

AccessDenied texts (NOTES.md §1.2 and real AWS answers): IAM names a role it reads as
`role NAME` (GetRole) and one it creates by its ARN (CreateRole); STS names the role ARN.
"""

import datetime
import glob
import json
import os
import time
import unittest

from harness import (
    ACCOUNT,
    poll,
    POSTGRES,
    E2ETestCase,
    Server,
    allow,
    form,
    policy,
    trust,
    unique,
    utcnow,
    xml_error,
)

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
EC2_TRUST = trust({"Service": "ec2.amazonaws.com"})


def role_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


class IdentityPolicyTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.readable = unique("readable")
        cls.other = unique("other")
        for name in (cls.readable, cls.other):
            cls.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        cls.user, cls.uiam, cls.usts = cls.server.user_clients(
            policy_doc=policy(allow("iam:GetRole", role_arn(cls.readable))))

    def test_allowed_get_role(self):
        r = self.uiam.get_role(RoleName=self.readable)["Role"]
        self.assertEqual(r["Arn"], role_arn(self.readable))

    def test_get_role_on_another_role_is_denied_with_awss_text(self):
        self.assertError(
            lambda: self.uiam.get_role(RoleName=self.other), "AccessDenied", 403,
            message=self.denied_message(self.user["Arn"], "iam:GetRole", f"role {self.other}"))

    def test_create_role_is_denied_naming_the_role_arn(self):
        name = unique("nope")
        self.assertError(
            lambda: self.uiam.create_role(RoleName=name,
                                          AssumeRolePolicyDocument=json.dumps(EC2_TRUST)),
            "AccessDenied", 403,
            message=self.denied_message(self.user["Arn"], "iam:CreateRole", role_arn(name)))
        self.assertError(lambda: self.iam.get_role(RoleName=name), "NoSuchEntity", 404)

    def test_user_without_policies_is_denied_everything_but_get_caller_identity(self):
        user, uiam, usts = self.server.user_clients()
        # "No permissions are required to perform this operation." (GetCallerIdentity docs)
        self.assertEqual(usts.get_caller_identity()["Arn"], user["Arn"])
        self.assertError(uiam.list_roles, "AccessDenied", 403,
                         message=self.denied_message(user["Arn"], "iam:ListRoles",
                                                     f"arn:aws:iam::{ACCOUNT}:role/"))
        self.assertError(lambda: uiam.get_user(UserName="admin"), "AccessDenied", 403,
                         message_startswith=f"User: {user['Arn']} is not authorized to perform: "
                                            "iam:GetUser on resource: ")

    def test_explicit_deny_wins(self):
        user, uiam, _ = self.server.user_clients(policy_doc=policy(
            allow("iam:GetRole"),
            {"Effect": "Deny", "Action": "iam:GetRole", "Resource": role_arn(self.other)}))
        uiam.get_role(RoleName=self.readable)
        self.assertError(
            lambda: uiam.get_role(RoleName=self.other), "AccessDenied", 403,
            message=f"User: {user['Arn']} is not authorized to perform: iam:GetRole on "
                    f"resource: role {self.other} with an explicit deny in an identity-based policy")

    def test_managed_policy_grants(self):
        arn = self.iam.create_policy(
            PolicyName=unique("lister"),
            PolicyDocument=json.dumps(policy(allow("iam:ListRoles"))))["Policy"]["Arn"]
        _, uiam, _ = self.server.user_clients(managed=[arn])
        names = [r["RoleName"] for r in uiam.get_paginator("list_roles").paginate()
                 .build_full_result()["Roles"]]
        self.assertIn(self.readable, names)

    def test_action_names_are_case_insensitive(self):
        _, uiam, _ = self.server.user_clients(
            policy_doc=policy(allow("IAM:getrole", role_arn(self.readable))))
        uiam.get_role(RoleName=self.readable)

    def test_policy_variable_aws_username(self):
        user, uiam, _ = self.server.user_clients(
            policy_doc=policy(allow("iam:GetUser", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")))
        self.assertEqual(uiam.get_user(UserName=user["UserName"])["User"]["Arn"], user["Arn"])
        self.assertError(lambda: uiam.get_user(UserName="admin"), "AccessDenied", 403)

    def test_permissions_boundary_condition_on_create_role(self):
        # AWS's delegation pattern: CreateRole only with a given boundary (iam:PermissionsBoundary).
        bound = self.iam.create_policy(
            PolicyName=unique("dev-boundary"),
            PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))["Policy"]["Arn"]
        other = self.iam.create_policy(
            PolicyName=unique("other-boundary"),
            PolicyDocument=json.dumps(policy(allow("*"))))["Policy"]["Arn"]
        user, uiam, _ = self.server.user_clients(policy_doc=policy(
            allow(["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
                  f"arn:aws:iam::{ACCOUNT}:role/*",
                  Condition={"StringEquals": {"iam:PermissionsBoundary": bound}})))
        plain = unique("pb-none")
        self.assertError(
            lambda: uiam.create_role(RoleName=plain,
                                     AssumeRolePolicyDocument=json.dumps(EC2_TRUST)),
            "AccessDenied", 403,
            message=self.denied_message(user["Arn"], "iam:CreateRole", role_arn(plain)))
        self.assertError(
            lambda: uiam.create_role(RoleName=unique("pb-other"), PermissionsBoundary=other,
                                     AssumeRolePolicyDocument=json.dumps(EC2_TRUST)),
            "AccessDenied", 403)
        name = unique("pb-ok")
        r = uiam.create_role(RoleName=name, PermissionsBoundary=bound,
                             AssumeRolePolicyDocument=json.dumps(EC2_TRUST))["Role"]
        self.assertEqual(r["PermissionsBoundary"]["PermissionsBoundaryArn"], bound)


class AssumeRoleTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        iam = cls.iam
        # alice may assume `reader`; the trust policy names her. bob has sts:AssumeRole on
        # everything but is not trusted. carol is in the account that `open` trusts, but has no
        # sts:AssumeRole permission.
        cls.alice, cls.alice_iam, cls.alice_sts = cls.server.user_clients(
            name=unique("alice"), policy_doc=policy(allow("sts:AssumeRole")))
        cls.bob, _, cls.bob_sts = cls.server.user_clients(
            name=unique("bob"), policy_doc=policy(allow("sts:AssumeRole")))
        cls.carol, _, cls.carol_sts = cls.server.user_clients(
            name=unique("carol"), policy_doc=policy(allow("iam:ListRoles")))
        cls.reader = unique("reader")
        cls.reader_role = iam.create_role(
            RoleName=cls.reader, MaxSessionDuration=7200,
            AssumeRolePolicyDocument=json.dumps(trust({"AWS": cls.alice["Arn"]})))["Role"]
        iam.put_role_policy(RoleName=cls.reader, PolicyName="read",
                            PolicyDocument=json.dumps(policy(
                                allow(["iam:GetRole", "iam:ListRoles", "iam:ListRoleTags"]))))
        cls.open = unique("open")
        iam.create_role(RoleName=cls.open,
                        AssumeRolePolicyDocument=json.dumps(trust({"AWS": ROOT})))
        iam.put_role_policy(RoleName=cls.open, PolicyName="read",
                            PolicyDocument=json.dumps(policy(allow("iam:GetRole"))))

    def assume(self, sts=None, role=None, session="s1", **kw):
        sts = sts or self.alice_sts
        return sts.assume_role(RoleArn=role_arn(role or self.reader), RoleSessionName=session,
                               **kw)

    def test_assume_role_answer(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        res = self.assume(session="sess-1")
        creds = res["Credentials"]
        self.assertRegex(creds["AccessKeyId"], r"^ASIA[A-Z0-9]{16}$")
        self.assertEqual(len(creds["SecretAccessKey"]), 40)
        self.assertTrue(creds["SessionToken"])
        lifetime = (creds["Expiration"] - before).total_seconds()
        self.assertTrue(3600 - 60 <= lifetime <= 3600 + 60,
                        f"default DurationSeconds is 3600; Expiration is {lifetime:.0f} s away")
        user = res["AssumedRoleUser"]
        self.assertEqual(user["Arn"],
                         f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.reader}/sess-1")
        self.assertEqual(user["AssumedRoleId"], f"{self.reader_role['RoleId']}:sess-1")

    def test_session_credentials_identify_the_assumed_role(self):
        creds = self.assume(session="who")["Credentials"]
        ident = self.server.client_from_credentials("sts", creds).get_caller_identity()
        self.assertEqual(ident["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.reader}/who")
        self.assertEqual(ident["UserId"], f"{self.reader_role['RoleId']}:who")
        self.assertEqual(ident["Account"], ACCOUNT)

    def test_session_has_the_roles_permissions_not_the_users(self):
        creds = self.assume(session="perm")["Credentials"]
        siam = self.server.client_from_credentials("iam", creds)
        self.assertEqual(siam.get_role(RoleName=self.open)["Role"]["RoleName"], self.open)
        session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.reader}/perm"
        name = unique("by-session")
        self.assertError(
            lambda: siam.create_role(RoleName=name,
                                     AssumeRolePolicyDocument=json.dumps(EC2_TRUST)),
            "AccessDenied", 403,
            message=self.denied_message(session_arn, "iam:CreateRole", role_arn(name)))
        # The session cannot do what alice can (sts:AssumeRole) unless the role allows it.
        ssts = self.server.client_from_credentials("sts", creds)
        self.assertError(lambda: ssts.assume_role(RoleArn=role_arn(self.open),
                                                  RoleSessionName="chain"),
                         "AccessDenied", 403)

    def test_role_chaining(self):
        # A session of `hop` may assume `target`, whose trust policy names the role `hop`.
        iam = self.server.admin()
        hop, target = unique("hop"), unique("target")
        iam.create_role(RoleName=hop, MaxSessionDuration=7200,
                        AssumeRolePolicyDocument=json.dumps(trust({"AWS": self.alice["Arn"]})))
        iam.put_role_policy(RoleName=hop, PolicyName="chain",
                            PolicyDocument=json.dumps(policy(allow("sts:AssumeRole", role_arn(target)))))
        iam.create_role(RoleName=target, MaxSessionDuration=7200,
                        AssumeRolePolicyDocument=json.dumps(trust({"AWS": role_arn(hop)})))
        first = self.assume(role=hop, session="first")["Credentials"]
        hop_sts = self.server.client_from_credentials("sts", first)
        second = hop_sts.assume_role(RoleArn=role_arn(target), RoleSessionName="second")
        self.assertEqual(second["AssumedRoleUser"]["Arn"],
                         f"arn:aws:sts::{ACCOUNT}:assumed-role/{target}/second")
        ident = self.server.client_from_credentials(
            "sts", second["Credentials"]).get_caller_identity()
        self.assertEqual(ident["Arn"], second["AssumedRoleUser"]["Arn"])
        # A chained session lasts at most one hour, whatever the role allows.
        self.assertError(lambda: hop_sts.assume_role(RoleArn=role_arn(target),
                                                     RoleSessionName="long", DurationSeconds=7200),
                         "ValidationError", 400)

    def test_role_last_used(self):
        iam = self.server.admin()
        name = unique("used")
        iam.create_role(RoleName=name,
                        AssumeRolePolicyDocument=json.dumps(trust({"AWS": self.alice["Arn"]})))
        self.assertEqual(iam.get_role(RoleName=name)["Role"]["RoleLastUsed"], {},
                         "a role never used has an empty RoleLastUsed")
        creds = self.assume(role=name, session="use")["Credentials"]
        before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
        self.server.client_from_credentials("sts", creds, region="eu-west-1").get_caller_identity()
        if POSTGRES:
            # Another replica answers GetRole from the stored role, written every second (AWS
            # documents RoleLastUsed as eventually consistent).
            poll(lambda: [iam.get_role(RoleName=name)["Role"]["RoleLastUsed"] for _ in "ab"],
                 lambda used: all("Region" in u for u in used), "RoleLastUsed on both replicas",
                 timeout=5)
        used = iam.get_role(RoleName=name)["Role"]["RoleLastUsed"]
        self.assertEqual(used["Region"], "eu-west-1")
        self.assertGreaterEqual(used["LastUsedDate"], before)

    def test_trust_policy_must_name_the_caller(self):
        self.assertError(
            lambda: self.assume(sts=self.bob_sts), "AccessDenied", 403,
            message_startswith=f"User: {self.bob['Arn']} is not authorized to perform: "
                               f"sts:AssumeRole on resource: {role_arn(self.reader)}")

    def test_account_trust_needs_the_callers_permission(self):
        # Trust in the account root delegates to the account's identity policies.
        res = self.assume(sts=self.bob_sts, role=self.open, session="bob")
        self.assertEqual(res["AssumedRoleUser"]["Arn"],
                         f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.open}/bob")
        self.assertError(
            lambda: self.assume(sts=self.carol_sts, role=self.open), "AccessDenied", 403,
            message_startswith=f"User: {self.carol['Arn']} is not authorized to perform: "
                               f"sts:AssumeRole on resource: {role_arn(self.open)}")

    def test_missing_role_is_access_denied(self):
        # AWS does not reveal whether a role exists to someone who may not assume it.
        self.assertError(
            lambda: self.assume(role="no-such-role-zz"), "AccessDenied", 403,
            message_startswith=f"User: {self.alice['Arn']} is not authorized to perform: "
                               f"sts:AssumeRole on resource: {role_arn('no-such-role-zz')}")

    def test_session_policy_narrows_the_session(self):
        creds = self.assume(session="narrow",
                            Policy=json.dumps(policy(allow("iam:ListRoles"))))["Credentials"]
        siam = self.server.client_from_credentials("iam", creds)
        siam.list_roles(MaxItems=1)
        session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.reader}/narrow"
        self.assertError(
            lambda: siam.get_role(RoleName=self.open), "AccessDenied", 403,
            message=self.denied_message(session_arn, "iam:GetRole", f"role {self.open}",
                                        reason="no session policy"))

    def test_session_policy_cannot_widen(self):
        creds = self.assume(session="widen", Policy=json.dumps(policy(allow("*"))))["Credentials"]
        siam = self.server.client_from_credentials("iam", creds)
        self.assertError(lambda: siam.create_role(RoleName=unique("w"),
                                                  AssumeRolePolicyDocument=json.dumps(EC2_TRUST)),
                         "AccessDenied", 403)

    def test_malformed_session_policy(self):
        self.assertError(lambda: self.assume(session="bad", Policy="{not json"),
                         "MalformedPolicyDocument", 400)

    def test_role_permissions_boundary_limits_the_session(self):
        name = unique("bounded")
        bound = self.iam.create_policy(
            PolicyName=unique("list-only"),
            PolicyDocument=json.dumps(policy(allow("iam:ListRoles"))))["Policy"]["Arn"]
        self.iam.create_role(RoleName=name, PermissionsBoundary=bound,
                             AssumeRolePolicyDocument=json.dumps(trust({"AWS": ROOT})))
        self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
            policy(allow(["iam:GetRole", "iam:ListRoles"]))))
        creds = self.assume(sts=self.bob_sts, role=name, session="bs")["Credentials"]
        siam = self.server.client_from_credentials("iam", creds)
        siam.list_roles(MaxItems=1)
        self.assertError(
            lambda: siam.get_role(RoleName=name), "AccessDenied", 403,
            message=self.denied_message(f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/bs",
                                        "iam:GetRole", f"role {name}",
                                        reason="no permissions boundary"))

    def test_duration_seconds(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        creds = self.assume(session="short", DurationSeconds=900)["Credentials"]
        lifetime = (creds["Expiration"] - before).total_seconds()
        self.assertTrue(840 <= lifetime <= 960, f"Expiration is {lifetime:.0f} s away, not 900")
        long = self.assume(session="long", DurationSeconds=7200)["Credentials"]
        lifetime = (long["Expiration"] - before).total_seconds()
        self.assertTrue(7140 <= lifetime <= 7260, f"Expiration is {lifetime:.0f} s away, not 7200")
        self.assertError(lambda: self.assume(session="toolong", DurationSeconds=7201),
                         "ValidationError", 400,
                         message="The requested DurationSeconds exceeds the MaxSessionDuration "
                                 "set for this role.")

    def test_duration_below_900_is_a_validation_error(self):
        # botocore checks the model's minimum client-side, so send it raw.
        kid, secret = self.server.admin_keys()
        status, _, body = self.server.raw(
            form(Action="AssumeRole", Version="2011-06-15", RoleArn=role_arn(self.open),
                 RoleSessionName="tiny", DurationSeconds="899"),
            kid, secret, service="sts")
        code, message, _, _ = xml_error(body)
        self.assertEqual((status, code), (400, "ValidationError"), message)
        self.assertEqual(message, "1 validation error detected: Value '899' at 'durationSeconds' "
                                  "failed to satisfy constraint: Member must have value greater "
                                  "than or equal to 900")

    def test_session_token_is_required_and_checked(self):
        creds = self.assume(session="tok")["Credentials"]
        no_token = self.server.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"])
        self.assertError(no_token.get_caller_identity, "InvalidClientTokenId", 403,
                         message="The security token included in the request is invalid.")
        wrong = self.server.client("sts", creds["AccessKeyId"], creds["SecretAccessKey"],
                                   creds["SessionToken"][:-4] + "AAAA")
        self.assertError(wrong.get_caller_identity, "InvalidClientTokenId", 403)


class TagConditionTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        iam = cls.iam
        cls.ml_role = unique("ml-owned")
        cls.web_role = unique("web-owned")
        iam.create_role(RoleName=cls.ml_role, AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                        Tags=[{"Key": "team", "Value": "ml"}])
        iam.create_role(RoleName=cls.web_role, AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                        Tags=[{"Key": "team", "Value": "web"}])

    def test_principal_tag(self):
        doc = policy(allow("iam:GetRole", Condition={"StringEquals": {"aws:PrincipalTag/team": "ml"}}))
        _, ml_iam, _ = self.server.user_clients(policy_doc=doc, tags={"team": "ml"})
        web, web_iam, _ = self.server.user_clients(policy_doc=doc, tags={"team": "web"})
        untagged, un_iam, _ = self.server.user_clients(policy_doc=doc)
        ml_iam.get_role(RoleName=self.web_role)
        self.assertError(lambda: web_iam.get_role(RoleName=self.web_role), "AccessDenied", 403,
                         message=self.denied_message(web["Arn"], "iam:GetRole",
                                                     f"role {self.web_role}"))
        self.assertError(lambda: un_iam.get_role(RoleName=self.web_role), "AccessDenied", 403)

    def test_resource_tag_matches_principal_tag(self):
        doc = policy(allow("iam:GetRole", Condition={
            "StringEquals": {"aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}))
        user, uiam, _ = self.server.user_clients(policy_doc=doc, tags={"team": "ml"})
        uiam.get_role(RoleName=self.ml_role)
        self.assertError(lambda: uiam.get_role(RoleName=self.web_role), "AccessDenied", 403,
                         message=self.denied_message(user["Arn"], "iam:GetRole",
                                                     f"role {self.web_role}"))

    def test_request_tag_and_tag_keys(self):
        cond = {"StringEquals": {"aws:RequestTag/team": "ml"},
                "ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}
        user, uiam, _ = self.server.user_clients(policy_doc=policy(
            allow(["iam:CreateRole", "iam:TagRole"], f"arn:aws:iam::{ACCOUNT}:role/*",
                  Condition=cond)))
        ok = unique("rt-ok")
        uiam.create_role(RoleName=ok, AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                         Tags=[{"Key": "team", "Value": "ml"}])
        self.assertEqual(self.iam.list_role_tags(RoleName=ok)["Tags"],
                         [{"Key": "team", "Value": "ml"}])
        wrong_value = unique("rt-web")
        self.assertError(
            lambda: uiam.create_role(RoleName=wrong_value,
                                     AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                                     Tags=[{"Key": "team", "Value": "web"}]),
            "AccessDenied", 403,
            message=self.denied_message(user["Arn"], "iam:CreateRole", role_arn(wrong_value)))
        self.assertError(
            lambda: uiam.create_role(RoleName=unique("rt-extra"),
                                     AssumeRolePolicyDocument=json.dumps(EC2_TRUST),
                                     Tags=[{"Key": "team", "Value": "ml"},
                                           {"Key": "owner", "Value": "me"}]),
            "AccessDenied", 403)
        self.assertError(
            lambda: uiam.create_role(RoleName=unique("rt-none"),
                                     AssumeRolePolicyDocument=json.dumps(EC2_TRUST)),
            "AccessDenied", 403)
        self.assertError(
            lambda: uiam.tag_role(RoleName=ok, Tags=[{"Key": "team", "Value": "web"}]),
            "AccessDenied", 403)
        uiam.tag_role(RoleName=ok, Tags=[{"Key": "team", "Value": "ml"}])

    def test_session_tags_become_principal_tags(self):
        name = unique("tagged-session")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(policy(
            {"Effect": "Allow", "Principal": {"AWS": ROOT},
             "Action": ["sts:AssumeRole", "sts:TagSession"]})))
        self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(policy(
            allow("iam:GetRole", Condition={"StringEquals": {
                "aws:ResourceTag/team": "${aws:PrincipalTag/team}"}}))))
        _, _, usts = self.server.user_clients(
            policy_doc=policy(allow(["sts:AssumeRole", "sts:TagSession"])))
        creds = usts.assume_role(RoleArn=role_arn(name), RoleSessionName="ts",
                                 Tags=[{"Key": "team", "Value": "ml"}])["Credentials"]
        siam = self.server.client_from_credentials("iam", creds)
        siam.get_role(RoleName=self.ml_role)
        self.assertError(lambda: siam.get_role(RoleName=self.web_role), "AccessDenied", 403)

    def test_session_tags_need_sts_tag_session_in_the_trust_policy(self):
        name = unique("no-tag-session")
        self.iam.create_role(RoleName=name,
                             AssumeRolePolicyDocument=json.dumps(trust({"AWS": ROOT})))
        user, _, usts = self.server.user_clients(
            policy_doc=policy(allow(["sts:AssumeRole", "sts:TagSession"])))
        usts.assume_role(RoleArn=role_arn(name), RoleSessionName="plain")
        self.assertError(
            lambda: usts.assume_role(RoleArn=role_arn(name), RoleSessionName="ts",
                                     Tags=[{"Key": "team", "Value": "ml"}]),
            "AccessDenied", 403,
            message_startswith=f"User: {user['Arn']} is not authorized to perform: "
                               f"sts:TagSession on resource: {role_arn(name)}")


def find_libfaketime():
    explicit = os.environ.get("ROLEWRIGHT_LIBFAKETIME")
    if explicit:
        return explicit
    for pattern in ("/usr/lib/*/faketime/libfaketime.so.1", "/usr/lib/faketime/libfaketime.so.1",
                    "/usr/local/lib/faketime/libfaketime.so.1", "/usr/lib64/faketime/libfaketime.so.1"):
        hits = glob.glob(pattern)
        if hits:
            return hits[0]
    return None


class ExpiryTests(unittest.TestCase):
    """Temporary credentials stop working at their Expiration. The server's clock is moved forward
    with libfaketime (LD_PRELOAD), which needs no hook in the server."""

    def test_expired_session_credentials_are_refused(self):
        lib = find_libfaketime()
        if not lib:
            self.skipTest("libfaketime is not installed (apt-get install faketime, or set "
                          "ROLEWRIGHT_LIBFAKETIME); expiry of session credentials is untested")
        offset_file = os.path.join(os.environ.get("TMPDIR", "/tmp"), unique("faketime"))
        with open(offset_file, "w") as f:
            f.write("+0\n")
        srv = Server(env={"LD_PRELOAD": lib, "FAKETIME_TIMESTAMP_FILE": offset_file,
                          "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"})
        srv.start()
        try:
            iam = srv.admin()
            name = unique("expiring")
            iam.create_role(RoleName=name,
                            AssumeRolePolicyDocument=json.dumps(trust({"AWS": ROOT})))
            creds = srv.admin("sts").assume_role(RoleArn=role_arn(name), RoleSessionName="exp",
                                                 DurationSeconds=900)["Credentials"]
            body = form(Action="GetCallerIdentity", Version="2011-06-15")
            status, _, out = srv.raw(body, creds["AccessKeyId"], creds["SecretAccessKey"],
                                     creds["SessionToken"], service="sts")
            self.assertEqual(status, 200, out)
            with open(offset_file, "w") as f:
                f.write("+16m\n")
            later = utcnow() + datetime.timedelta(minutes=16)
            time.sleep(0.2)
            # The server's clock really moved: long-term keys signed 16 minutes ahead still work.
            kid, secret = srv.admin_keys()
            status, _, out = srv.raw(body, kid, secret, service="sts", when=later)
            self.assertEqual(status, 200, f"the faked clock did not reach the server: {out[:300]}")
            status, _, out = srv.raw(body, creds["AccessKeyId"], creds["SecretAccessKey"],
                                     creds["SessionToken"], service="sts", when=later)
            code, message, _, _ = xml_error(out)
            self.assertEqual((status, code), (403, "ExpiredToken"), message)
            self.assertEqual(message, "The security token included in the request is expired")
            srv.stop_and_check()
        finally:
            srv.cleanup()
            os.unlink(offset_file)
