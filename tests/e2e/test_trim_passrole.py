"""`rolewright role trim --apply` narrows `iam:PassRole` to the roles a role passed, seen through
boto3 against `rolewright serve`: a role R allowed to pass any role passes SageMaker execution role
A (CreateUserProfile) in its sessions; the trim, read from the server's audit log, leaves R's
PassRole statement naming A alone, so a new session of R still passes A, is refused passing B
(AccessDeniedException naming iam:PassRole), and is refused the actions R never used; `rolewright
role rollback R` gives back what the trim took, and R passes B again.

The window starts at a time given to `--since`: after the setup, whose records show that the audit
log reaches back to it (the trim refuses a window the log may not cover), and before R's calls.
"""

import datetime
import json
import time

from harness import (ACCOUNT, E2ETestCase, allow, audit_records, keys_env, policy, rolewright,
                     trust, unique)

SAGEMAKER_TRUST = trust({"Service": "sagemaker.amazonaws.com"})
WORK = "work"


def role_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def iso_ms(when):
    """`2026-12-06T22:50:01.123Z`: a UTC time to the millisecond, as `--since` reads it."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class TrimPassRoleTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sm = cls.server.admin("sagemaker")
        cls.a = unique("SageMaker-a")
        cls.b = unique("SageMaker-b")
        for name in (cls.a, cls.b):
            cls.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(SAGEMAKER_TRUST))
        cls.domain_id = cls.sm.create_domain(
            DomainName=unique("studio"), AuthMode="IAM", SubnetIds=["subnet-1"], VpcId="vpc-1",
            DefaultUserSettings={"ExecutionRole": role_arn(cls.a)})["DomainId"]
        cls.r = unique("onboarder")
        cls.iam.create_role(RoleName=cls.r, AssumeRolePolicyDocument=json.dumps(
            trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})))
        cls.work = policy(
            {"Sid": "Pass", **allow("iam:PassRole")},
            {"Sid": "Studio", **allow(["sagemaker:CreateUserProfile",
                                       "sagemaker:DescribeUserProfile",
                                       "sagemaker:DescribeDomain"])},
            {"Sid": "Read", **allow("iam:ListRoles")})
        cls.iam.put_role_policy(RoleName=cls.r, PolicyName=WORK,
                                PolicyDocument=json.dumps(cls.work))

        # The setup's records are older than the window, so the log covers its start.
        time.sleep(0.1)
        cls.since = iso_ms(datetime.datetime.now(datetime.timezone.utc))
        time.sleep(0.1)
        first = cls.session("first")
        first.create_user_profile(DomainId=cls.domain_id, UserProfileName="passes-a",
                                  UserSettings={"ExecutionRole": role_arn(cls.a)})
        first.describe_user_profile(DomainId=cls.domain_id, UserProfileName="passes-a")
        session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{cls.r}/first"
        audit_records(cls.server, "--principal", session_arn, "--action", "iam:PassRole",
                      until=lambda records: len(records) == 1)

        key_id, secret = cls.server.admin_keys()
        cls.env = keys_env(cls.server, key_id, secret)
        # The server is younger than an hour: its log cannot say what R did in the last one.
        cls.uncovered = rolewright("role", "trim", cls.r, "--since", "1h", "--apply",
                                   "--endpoint-url", cls.server.url, *cls.server.audit_args(),
                                   env=cls.env, check=False)
        cls.trim = rolewright("role", "trim", cls.r, "--since", cls.since, "--apply",
                              "--endpoint-url", cls.server.url, *cls.server.audit_args(),
                              env=cls.env)

    @classmethod
    def session(cls, name):
        """A SageMaker client of a new session of R."""
        creds = cls.sts.assume_role(RoleArn=role_arn(cls.r), RoleSessionName=name)["Credentials"]
        return cls.server.client_from_credentials("sagemaker", creds)

    @classmethod
    def iam_session(cls, name):
        creds = cls.sts.assume_role(RoleArn=role_arn(cls.r), RoleSessionName=name)["Credentials"]
        return cls.server.client_from_credentials("iam", creds)

    def work_policy(self):
        return self.iam.get_role_policy(RoleName=self.r, PolicyName=WORK)["PolicyDocument"]

    def create_profile(self, client, execution_role):
        name = unique("profile")
        client.create_user_profile(DomainId=self.domain_id, UserProfileName=name,
                                   UserSettings={"ExecutionRole": role_arn(execution_role)})
        return name

    # The tests run in the order of their names (unittest sorts them): the rollback comes last.

    def test_0_a_window_older_than_the_log_is_refused(self):
        self.assertEqual(self.uncovered.returncode, 1, self.uncovered.stderr)
        self.assertIn(f"error: not enough history to trim `{self.r}`: the window starts at ",
                      self.uncovered.stderr)
        self.assertIn("(--since 1h), but the audit log does not reach back that far",
                      self.uncovered.stderr)

    def test_1_the_trim_narrows_pass_role_to_the_role_passed(self):
        self.assertIn("trimmed", self.trim.stderr)
        statements = self.work_policy()["Statement"]
        passing = [s for s in statements if "iam:PassRole" in json.dumps(s.get("Action"))]
        self.assertEqual(len(passing), 1, statements)
        self.assertEqual(passing[0]["Action"], "iam:PassRole", statements)
        self.assertEqual(passing[0]["Resource"], role_arn(self.a), statements)
        self.assertEqual(passing[0]["Effect"], "Allow", statements)
        granted = sorted(a for s in statements for a in
                         ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
        self.assertEqual(granted, ["iam:PassRole", "sagemaker:CreateUserProfile",
                                   "sagemaker:DescribeUserProfile"], statements)

    def test_2_a_new_session_passes_a_and_is_refused_b_and_what_it_never_used(self):
        sm = self.session("after-trim")
        name = self.create_profile(sm, self.a)
        self.assertEqual(sm.describe_user_profile(DomainId=self.domain_id,
                                                  UserProfileName=name)["UserProfileName"], name)
        session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.r}/after-trim"
        self.assertError(
            lambda: self.create_profile(sm, self.b), "AccessDeniedException", 400,
            message=(f"User: {session_arn} is not authorized to perform: iam:PassRole on "
                     f"resource: {role_arn(self.b)} because no identity-based policy allows the "
                     "iam:PassRole action"))
        self.assertError(lambda: sm.describe_domain(DomainId=self.domain_id),
                         "AccessDeniedException", 400,
                         message_contains="sagemaker:DescribeDomain")
        self.assertError(lambda: self.iam_session("after-trim-iam").list_roles(),
                         "AccessDenied", 403, message_contains="iam:ListRoles")

    def test_3_rollback_gives_back_passing_b(self):
        rolewright("role", "rollback", self.r, "--endpoint-url", self.server.url, env=self.env)
        self.assertEqual(self.work_policy(), self.work)
        sm = self.session("after-rollback")
        name = self.create_profile(sm, self.b)
        self.assertEqual(sm.describe_user_profile(DomainId=self.domain_id,
                                                  UserProfileName=name)["UserProfileName"], name)
        sm.describe_domain(DomainId=self.domain_id)
