"""`rolewright migrate`: a single-node deployment on SQLite moved into PostgreSQL, as an operator
scaling out does it (issue 12, item 5).

- Everything made through boto3 on SQLite (roles with inline and managed policies and tags, a
  user and its access key, a group, an instance profile, a session from AssumeRole, a Studio
  domain, a Service Catalog portfolio) is served by a replica on PostgreSQL afterwards, with the
  same keys working; the audit log comes along (`rolewright audit --database-url`).
- The report: one line per kind (KIND SOURCE TARGET ok), the audit log, then a checksum line.
- Secrets are sealed under the new master key: a dump of the target shows none of them.
- Refusals, each saying why: a non-empty target (unless --force), a replica connected to the
  target, a source a server is running on, the wrong source key, swapped URLs.
"""

import json
import os
import shutil
import sys
import tempfile
import unittest

from botocore.exceptions import ClientError

import pgcluster
from harness import Server, allow, policy, rolewright, trust

REGION = "us-east-1"


def lines_of(stdout):
    """The report's kind lines as {kind: (source, target, verdict)} and its checksum line."""
    rows = [line.split() for line in stdout.strip().splitlines()]
    kinds = {r[0]: (int(r[1]), int(r[2]), r[3]) for r in rows[:-1]}
    return kinds, stdout.strip().splitlines()[-1]


class MigrateTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not pgcluster.Cluster.available():
            if os.environ.get("CI"):
                raise AssertionError("PostgreSQL is not installed; .ci/run installs it")
            print("\n*** SKIPPED test_migrate: PostgreSQL is not installed here "
                  "(apt-get install -y postgresql); migrate is NOT tested ***\n", file=sys.stderr)
            raise unittest.SkipTest("PostgreSQL is not installed")
        cls.cluster = pgcluster.Cluster()
        cls.addClassCleanup(cls.cluster.cleanup)
        cls.url = cls.cluster.create_database("moved")
        cls.dir = tempfile.mkdtemp(prefix="rolewright-e2e-migrate-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.data = os.path.join(cls.dir, "data")
        cls.key_file = os.path.join(cls.dir, "shared.key")
        with open(cls.key_file, "w") as f:
            f.write(rolewright("admin", "new-master-key").stdout)
        os.chmod(cls.key_file, 0o600)
        # The single node, on SQLite whatever E2E_DATABASE says.
        cls.single = Server(data_dir=cls.data, extra_args=["--database-url", f"sqlite:{cls.data}"])
        cls.addClassCleanup(cls.single.cleanup)
        cls.single.start()
        cls.made = cls.populate(cls.single)
        cls.single.stop_and_check()

    @classmethod
    def populate(cls, server):
        iam = server.admin("iam")
        account = server.admin("sts").get_caller_identity()["Account"]
        admin_arn = f"arn:aws:iam::{account}:user/admin"
        made = {"account": account}
        iam.create_role(RoleName="moved-role", Description="made on SQLite",
                        AssumeRolePolicyDocument=json.dumps(trust({"AWS": admin_arn})),
                        Tags=[{"Key": "team", "Value": "ml"}])
        iam.put_role_policy(RoleName="moved-role", PolicyName="reads",
                            PolicyDocument=json.dumps(policy(allow("s3:GetObject"))))
        arn = iam.create_policy(PolicyName="moved-managed", PolicyDocument=json.dumps(
            policy(allow("sagemaker:List*"))))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="moved-role", PolicyArn=arn)
        iam.create_role(RoleName="moved-exec", AssumeRolePolicyDocument=json.dumps(
            trust({"Service": "sagemaker.amazonaws.com"})))
        iam.create_group(GroupName="moved-group")
        iam.create_instance_profile(InstanceProfileName="moved-profile")
        iam.create_user(UserName="moved-user")
        iam.add_user_to_group(GroupName="moved-group", UserName="moved-user")
        key = iam.create_access_key(UserName="moved-user")["AccessKey"]
        made["user_key"] = (key["AccessKeyId"], key["SecretAccessKey"])
        made["session"] = server.admin("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/moved-role",
            RoleSessionName="before-the-move")["Credentials"]
        # A denial, for the audit log.
        try:
            server.client("iam", *made["user_key"]).list_roles()
            raise AssertionError("a user without policies listed roles")
        except ClientError as e:
            assert e.response["Error"]["Code"] == "AccessDenied", e.response
        sm = server.admin("sagemaker")
        made["domain"] = sm.create_domain(
            DomainName="moved-studio", AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": f"arn:aws:iam::{account}:role/moved-exec"},
            SubnetIds=["subnet-0123456789abcdef0"], VpcId="vpc-0123456789abcdef0")["DomainId"]
        made["portfolio"] = server.admin("servicecatalog").create_portfolio(
            DisplayName="moved-portfolio", ProviderName="ML platform")["PortfolioDetail"]["Id"]
        return made

    def migrate(self, *extra, check=True):
        return rolewright("migrate", "--from", f"sqlite:{self.data}", "--to", self.url,
                          "--master-key-file", self.key_file, *extra, check=check)

    def replica(self):
        return Server(data_dir=self.data, extra_args=["--database-url", self.url,
                                                      "--master-key-file", self.key_file])

    def test_a_the_copy_is_verified_and_a_replica_serves_it_with_the_same_keys(self):
        out = self.migrate(check=False)
        self.assertEqual(out.returncode, 0, out.stderr)
        kinds, checksum = lines_of(out.stdout)
        for kind, (source, target, verdict) in kinds.items():
            self.assertEqual((source, verdict), (target, "ok"), kind)
        self.assertEqual(kinds["role"][0], 2)
        self.assertEqual(kinds["user"][0], 2)  # admin and moved-user
        self.assertEqual(kinds["group"][0], 1)
        self.assertEqual(kinds["instance_profile"][0], 1)
        self.assertGreaterEqual(kinds["session"][0], 1)
        self.assertEqual(kinds["sagemaker_domain"][0], 1)
        self.assertEqual(kinds["servicecatalog_portfolio"][0], 1)
        self.assertGreater(kinds["audit"][0], 10)
        self.assertEqual(list(kinds)[-1], "audit")
        self.assertRegex(checksum, r"^checksum sha256:[0-9a-f]{64}  ok$")
        self.assertIn("start the replicas with --database-url", out.stderr)

        replica = self.replica()
        try:
            replica.start()
            iam = replica.admin("iam")
            role = iam.get_role(RoleName="moved-role")["Role"]
            self.assertEqual(role["Description"], "made on SQLite")
            self.assertEqual(role["Tags"], [{"Key": "team", "Value": "ml"}])
            self.assertEqual(iam.get_role_policy(RoleName="moved-role", PolicyName="reads")
                             ["PolicyDocument"]["Statement"][0]["Action"], "s3:GetObject")
            self.assertEqual([p["PolicyName"] for p in iam.list_attached_role_policies(
                RoleName="moved-role")["AttachedPolicies"]], ["moved-managed"])
            self.assertEqual([u["UserName"] for u in iam.get_group(GroupName="moved-group")
                              ["Users"]], ["moved-user"])
            # The secrets were opened and sealed again under the new key: the keys still sign.
            me = replica.client("sts", *self.made["user_key"]).get_caller_identity()
            self.assertTrue(me["Arn"].endswith(":user/moved-user"), me)
            session = replica.client_from_credentials("sts", self.made["session"])
            self.assertIn(":assumed-role/moved-role/before-the-move",
                          session.get_caller_identity()["Arn"])
            self.assertEqual(replica.admin("sagemaker").describe_domain(
                DomainId=self.made["domain"])["DomainName"], "moved-studio")
            self.assertEqual(replica.admin("servicecatalog").describe_portfolio(
                Id=self.made["portfolio"])["PortfolioDetail"]["DisplayName"], "moved-portfolio")
            iam.create_role(RoleName="after-the-move", AssumeRolePolicyDocument=json.dumps(
                trust({"Service": "ec2.amazonaws.com"})))
        finally:
            replica.stop_and_check()
        audit = rolewright("audit", "--database-url", self.url, "--format", "json",
                           "--decision", "denied").stdout
        denied = [json.loads(line) for line in audit.splitlines()]
        self.assertTrue(any(r["principal"].endswith(":user/moved-user")
                            and r["action"] == "iam:ListRoles" for r in denied), audit)
        dump = self.cluster.dump("moved")
        for secret in (self.made["user_key"][1], self.made["session"]["SecretAccessKey"],
                       self.single.admin_keys()[1]):
            self.assertNotIn(secret, dump, "a secret is readable in a dump of the target")

    def test_b_a_target_that_is_not_empty_is_refused_unless_forced(self):
        self.migrate("--force")
        again = self.migrate(check=False)
        self.assertEqual(again.returncode, 1)
        self.assertRegex(again.stderr, r"the target is not empty: it holds \d+ entities and \d+ "
                                       r"audit records .*pass --force to replace them")
        forced = self.migrate("--force", check=False)
        self.assertEqual(forced.returncode, 0, forced.stderr)
        self.assertTrue(forced.stdout.strip().endswith("ok"), forced.stdout)

    def test_c_a_replica_connected_to_the_target_is_refused(self):
        self.migrate("--force")
        replica = self.replica()
        try:
            replica.start()
            refused = self.migrate("--force", check=False)
            self.assertEqual(refused.returncode, 1)
            self.assertIn("of a running `rolewright serve` use this database; stop every "
                          "replica first", refused.stderr)
            # Nothing changed under the replica.
            replica.admin("iam").get_role(RoleName="moved-role")
        finally:
            replica.stop_and_check()

    def test_d_a_source_a_server_is_running_on_is_refused(self):
        self.single.start()
        try:
            refused = self.migrate("--force", check=False)
            self.assertEqual(refused.returncode, 1)
            self.assertIn("is in use by another `rolewright serve`", refused.stderr)
        finally:
            self.single.stop_and_check()

    def test_e_the_wrong_source_key_is_refused_saying_so(self):
        other = os.path.join(self.dir, "other.key")
        with open(other, "w") as f:
            f.write(rolewright("admin", "new-master-key").stdout)
        os.chmod(other, 0o600)
        refused = self.migrate("--force", "--from-master-key-file", other, check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn(f"the master key in {other} does not open", refused.stderr)

    def test_f_swapped_or_malformed_urls_are_refused_without_echoing_a_password(self):
        swapped = rolewright("migrate", "--from", "postgres://rw:hunter2@127.0.0.1:1/rw",
                             "--to", f"sqlite:{self.data}", "--master-key-file", self.key_file,
                             check=False)
        self.assertEqual(swapped.returncode, 3)
        self.assertIn("--from `postgres://rw:***@127.0.0.1:1/rw` is PostgreSQL", swapped.stderr)
        self.assertNotIn("hunter2", swapped.stderr)
        to_sqlite = rolewright("migrate", "--from", f"sqlite:{self.data}", "--to",
                               f"sqlite:{self.dir}", "--master-key-file", self.key_file,
                               check=False)
        self.assertEqual(to_sqlite.returncode, 3)
        self.assertIn("the target is a PostgreSQL URL", to_sqlite.stderr)
        help_text = rolewright("migrate", "--help").stdout
        self.assertIn("--force", help_text)
        self.assertIn("checksum", help_text)


if __name__ == "__main__":
    unittest.main()
