"""`rolewright audit`: the log of requests, filtered by decision, principal, action and time, with
principal, action, resource and error code for each denied call, and never a secret in it.

Field names of the JSON output are not prescribed here: an entry matches when its values (at any
depth) include the expected principal ARN, action, resource ARN and error code.
"""

import json
import os
import subprocess
import time

from harness import ACCOUNT, E2ETestCase, allow, binary, policy, trust, unique

EC2_TRUST = json.dumps(trust({"Service": "ec2.amazonaws.com"}))


def leaves(value):
    """Every scalar inside a JSON value, as strings."""
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    elif value is not None:
        yield str(value)


def entries(text):
    """The entries of `--format json` output: a JSON array, an object holding one, or JSON Lines."""
    text = text.strip()
    if not text:
        return []
    try:
        doc = json.loads(text)
    except ValueError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        lists = [v for v in doc.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0]
        return [doc]
    raise AssertionError(f"unexpected JSON: {text[:200]}")


class AuditTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        iam = cls.iam
        cls.readable = unique("aud-readable")
        cls.hidden = unique("aud-hidden")
        for name in (cls.readable, cls.hidden):
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=EC2_TRUST)
        cls.user, cls.kid, cls.secret = cls.server.new_user(
            name=unique("auditee"),
            policy_doc=policy(allow("iam:GetRole", f"arn:aws:iam::{ACCOUNT}:role/{cls.readable}"),
                              allow("sts:AssumeRole")))
        uiam = cls.server.client("iam", cls.kid, cls.secret)
        usts = cls.server.client("sts", cls.kid, cls.secret)
        uiam.get_role(RoleName=cls.readable)                       # allowed
        usts.get_caller_identity()                                 # allowed
        cls.denied_create = unique("aud-denied")
        for call in (lambda: uiam.create_role(RoleName=cls.denied_create,
                                              AssumeRolePolicyDocument=EC2_TRUST),
                     lambda: uiam.get_role(RoleName=cls.hidden)):
            try:
                call()
            except Exception:  # noqa: BLE001 - the denial is the point
                pass
            else:
                raise AssertionError("the setup expected an AccessDenied")
        cls.allowed_role = unique("aud-allowed")
        iam.create_role(RoleName=cls.allowed_role, AssumeRolePolicyDocument=EC2_TRUST)
        # A session, so that its secret and token are in the server's hands too.
        cls.session_role = unique("aud-session")
        iam.create_role(RoleName=cls.session_role, AssumeRolePolicyDocument=json.dumps(
            trust({"AWS": cls.user["Arn"]})))
        cls.creds = usts.assume_role(
            RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{cls.session_role}",
            RoleSessionName="audited")["Credentials"]
        siam = cls.server.client_from_credentials("iam", cls.creds)
        cls.session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{cls.session_role}/audited"
        try:
            siam.list_roles()
        except Exception:  # noqa: BLE001
            pass
        else:
            raise AssertionError("the session has no policy; ListRoles must be denied")
        cls.admin_kid, cls.admin_secret = cls.server.admin_keys()
        # The log may trail the answers a little (CloudTrail trails by minutes); wait until the
        # last call above is in it, at most 10 s.
        deadline = time.time() + 10
        while True:
            out = cls.run_audit("--action", "iam:ListRoles", "--format", "json")
            if out.returncode == 0 and any(cls.session_arn in set(leaves(e))
                                           for e in entries(out.stdout)):
                break
            if time.time() > deadline:
                break
            time.sleep(0.1)

    @classmethod
    def run_audit(cls, *args):
        return subprocess.run([binary(), "audit", *cls.server.audit_args(), *args],
                              capture_output=True, text=True, check=False, timeout=60,
                              env={**os.environ, "NO_COLOR": "1"})

    def audit(self, *args):
        out = self.run_audit(*args)
        self.assertEqual(out.returncode, 0, f"rolewright audit {' '.join(args)}: {out.stderr}")
        return out

    def has_entry(self, items, *values):
        want = set(values)
        for e in items:
            if want <= set(leaves(e)):
                return True
        return False

    def test_denied_calls_are_listed_with_principal_action_resource_and_code(self):
        items = entries(self.audit("--decision", "denied", "--format", "json").stdout)
        self.assertTrue(self.has_entry(
            items, self.user["Arn"], "iam:CreateRole",
            f"arn:aws:iam::{ACCOUNT}:role/{self.denied_create}", "AccessDenied"),
            f"no entry for the denied CreateRole in {json.dumps(items)[:1500]}")
        self.assertTrue(self.has_entry(
            items, self.user["Arn"], "iam:GetRole",
            f"arn:aws:iam::{ACCOUNT}:role/{self.hidden}", "AccessDenied"),
            f"no entry for the denied GetRole in {json.dumps(items)[:1500]}")
        self.assertTrue(self.has_entry(items, self.session_arn, "iam:ListRoles", "AccessDenied"),
                        f"no entry for the session's denied ListRoles in {json.dumps(items)[:1500]}")

    def test_decision_filter_leaves_out_allowed_calls(self):
        items = entries(self.audit("--decision", "denied", "--format", "json").stdout)
        self.assertFalse(self.has_entry(
            items, f"arn:aws:iam::{ACCOUNT}:role/{self.readable}", "iam:GetRole"),
            "an allowed GetRole is listed under --decision denied")
        self.assertFalse(self.has_entry(
            items, f"arn:aws:iam::{ACCOUNT}:role/{self.allowed_role}"),
            "the administrator's allowed CreateRole is listed under --decision denied")
        everything = entries(self.audit("--format", "json").stdout)
        self.assertTrue(self.has_entry(everything, self.user["Arn"], "iam:GetRole",
                                       f"arn:aws:iam::{ACCOUNT}:role/{self.readable}"),
                        "the allowed GetRole is missing from the full log")
        self.assertGreater(len(everything), len(items))

    def test_principal_and_action_filters(self):
        mine = entries(self.audit("--principal", self.user["Arn"], "--format", "json").stdout)
        self.assertTrue(mine)
        for e in mine:
            self.assertIn(self.user["Arn"], set(leaves(e)), e)
        creates = entries(self.audit("--action", "iam:CreateRole", "--format", "json").stdout)
        self.assertTrue(self.has_entry(creates, f"arn:aws:iam::{ACCOUNT}:role/{self.allowed_role}"))
        for e in creates:
            self.assertIn("iam:CreateRole", set(leaves(e)), e)

    def test_since_filter(self):
        old = entries(self.audit("--since", "2000-01-01T00:00:00Z", "--format", "json").stdout)
        self.assertTrue(old)
        future = entries(self.audit("--since", "2999-01-01T00:00:00Z", "--format", "json").stdout)
        self.assertEqual(future, [])

    def test_no_secret_in_any_output(self):
        secrets = {"auditee secret": self.secret, "admin secret": self.admin_secret,
                   "session secret": self.creds["SecretAccessKey"],
                   "session token": self.creds["SessionToken"]}
        outputs = {
            "json": self.audit("--format", "json").stdout,
            "human": self.audit().stdout,
            "denied json": self.audit("--decision", "denied", "--format", "json").stdout,
        }
        for label, text in outputs.items():
            for what, secret in secrets.items():
                self.assertNotIn(secret, text, f"the {what} appears in `rolewright audit` ({label})")
            self.assertNotIn("Signature=", text, f"a request signature appears ({label})")


class DecisionTrailTests(E2ETestCase):
    """Every authorization decision of a request is in the log, linked to it (issue 9, item 5)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.boundary = cls.iam.create_policy(
            PolicyName=unique("trail-boundary"),
            PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))["Policy"]["Arn"]
        cls.both_user, cls.both, _ = cls.server.user_clients(policy_doc=policy(
            allow(["iam:CreateRole", "iam:PutRolePermissionsBoundary"])))
        cls.create_only_user, cls.create_only, _ = cls.server.user_clients(
            policy_doc=policy(allow("iam:CreateRole")))

    def run_audit(self, *args):
        out = subprocess.run([binary(), "audit", *self.server.audit_args(), *args],
                             capture_output=True, text=True, check=False, timeout=60,
                             env={**os.environ, "NO_COLOR": "1"})
        self.assertEqual(out.returncode, 0, out.stderr)
        return out

    def record_of(self, request_id):
        """The audit entry of one request, once the log has it (it trails by at most 25 ms)."""
        deadline = time.time() + 10
        while True:
            found = [e for e in entries(self.run_audit("--format", "json").stdout)
                     if e.get("request_id") == request_id]
            if found or time.time() > deadline:
                self.assertEqual(len(found), 1, f"one entry for request {request_id}")
                return found[0]
            time.sleep(0.05)

    def test_create_role_with_a_boundary_records_both_decisions(self):
        name = unique("trail-ok")
        answer = self.both.create_role(RoleName=name, PermissionsBoundary=self.boundary,
                                       AssumeRolePolicyDocument=EC2_TRUST)
        record = self.record_of(answer["ResponseMetadata"]["RequestId"])
        arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        self.assertEqual(record["action"], "iam:CreateRole")
        self.assertEqual(record["decision"], "allowed")
        self.assertEqual(
            [(d["action"], d["resource"], d["decision"]) for d in record["decisions"]],
            [("iam:CreateRole", arn, "allowed"),
             ("iam:PutRolePermissionsBoundary", arn, "allowed")])
        for d in record["decisions"]:
            self.assertRegex(d["reason"], r"^allowed by user/.+/inline statement 0$")
        by_action = entries(self.run_audit("--action", "iam:PutRolePermissionsBoundary",
                                           "--format", "json").stdout)
        self.assertIn(answer["ResponseMetadata"]["RequestId"],
                      [e["request_id"] for e in by_action],
                      "--action finds a request by any action it authorized")

    def test_a_denied_second_decision_is_recorded_after_the_allowed_first(self):
        name = unique("trail-denied")
        arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        message = (f"User: {self.create_only_user['Arn']} is not authorized to perform: "
                   f"iam:PutRolePermissionsBoundary on resource: {arn} because no "
                   "identity-based policy allows the iam:PutRolePermissionsBoundary action")
        error = self.assertError(
            lambda: self.create_only.create_role(RoleName=name, PermissionsBoundary=self.boundary,
                                                 AssumeRolePolicyDocument=EC2_TRUST),
            "AccessDenied", 403, message=message)
        self.assertError(lambda: self.iam.get_role(RoleName=name), "NoSuchEntity", 404)
        record = self.record_of(error.response["ResponseMetadata"]["RequestId"])
        self.assertEqual(record["decision"], "denied")
        self.assertEqual(record["error_code"], "AccessDenied")
        self.assertEqual(record["action"], "iam:PutRolePermissionsBoundary")
        self.assertEqual(
            [(d["action"], d["decision"]) for d in record["decisions"]],
            [("iam:CreateRole", "allowed"), ("iam:PutRolePermissionsBoundary", "denied")])
        self.assertEqual(record["decisions"][1]["reason"], message)
        human = self.run_audit("--principal", self.create_only_user["Arn"]).stdout
        self.assertIn(f"    denied  iam:PutRolePermissionsBoundary {arn} {message}", human)
