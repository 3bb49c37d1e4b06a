"""The AWS CLI against `rolewright serve`, configured only by AWS_SHARED_CREDENTIALS_FILE pointing at
the server's credentials file and AWS_PROFILE=rolewright, as the issue describes.

Exit codes (docs.aws.amazon.com/cli/latest/userguide/cli-usage-returncodes.html): a service error is
254 in AWS CLI v2; AWS CLI v1 (the `awscli` package on PyPI) documents and returns 255 for it.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from harness import ACCOUNT, E2ETestCase, policy, allow, trust, unique

EC2_TRUST = trust({"Service": "ec2.amazonaws.com"})


def aws_cli():
    """The `aws` next to the running Python (the venv), else the one on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "aws")
    if os.access(here, os.X_OK):
        return here
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, "aws")
        if os.access(p, os.X_OK):
            return p
    raise RuntimeError("the AWS CLI (`aws`) is not installed: "
                       "python3 -m venv target/ci-venv && target/ci-venv/bin/pip install boto3 awscli")


def cli_major_version():
    out = subprocess.run([aws_cli(), "--version"], capture_output=True, text=True, check=False)
    m = re.search(r"aws-cli/(\d+)\.", out.stdout + out.stderr)
    return int(m.group(1)) if m else 1


class CliTests(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service_error_exit = 254 if cli_major_version() >= 2 else 255
        cls.tmp = tempfile.mkdtemp(prefix="rolewright-e2e-cli-")
        cls.trust_file = os.path.join(cls.tmp, "trust.json")
        with open(cls.trust_file, "w") as f:
            json.dump(EC2_TRUST, f)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def aws(self, *args, credentials_file=None, profile="rolewright", region="us-east-1",
            check=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_SHARED_CREDENTIALS_FILE": credentials_file or self.server.credentials_path,
            "AWS_PROFILE": profile,
            "AWS_CONFIG_FILE": os.path.join(self.tmp, "no-config"),
            "AWS_PAGER": "",
        })
        cmd = [aws_cli(), "--endpoint-url", self.server.url]
        if region:
            cmd += ["--region", region]
        cmd += list(args)
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False,
                             timeout=120)
        if check and out.returncode != 0:
            self.fail(f"`aws {' '.join(args)}` exited {out.returncode}: {out.stderr.strip()}")
        return out

    def test_sts_get_caller_identity(self):
        out = self.aws("sts", "get-caller-identity", "--output", "json")
        ident = json.loads(out.stdout)
        self.assertEqual(ident["Arn"], f"arn:aws:iam::{ACCOUNT}:user/admin")
        self.assertEqual(ident["Account"], ACCOUNT)

    def test_create_get_list_role(self):
        name = unique("cli")
        out = self.aws("iam", "create-role", "--role-name", name, "--path", "/cli/",
                       "--assume-role-policy-document", f"file://{self.trust_file}",
                       "--description", "made by the aws cli",
                       "--tags", "Key=team,Value=ml", "--output", "json")
        created = json.loads(out.stdout)["Role"]
        self.assertEqual(created["Arn"], f"arn:aws:iam::{ACCOUNT}:role/cli/{name}")
        got = json.loads(self.aws("iam", "get-role", "--role-name", name,
                                  "--output", "json").stdout)["Role"]
        self.assertEqual(got["AssumeRolePolicyDocument"], EC2_TRUST)
        self.assertEqual(got["Description"], "made by the aws cli")
        self.assertEqual(got["Tags"], [{"Key": "team", "Value": "ml"}])
        listed = json.loads(self.aws("iam", "list-roles", "--output", "json").stdout)["Roles"]
        self.assertIn(name, [r["RoleName"] for r in listed])
        text = self.aws("iam", "list-roles", "--path-prefix", "/cli/", "--query",
                        "Roles[].RoleName", "--output", "text").stdout.split()
        self.assertIn(name, text)

    def test_list_roles_follows_markers(self):
        path = f"/{unique('clipag')}/"
        names = [unique(f"cp{i}") for i in range(12)]
        for n in names:
            self.iam.create_role(RoleName=n, Path=path,
                                 AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        out = self.aws("iam", "list-roles", "--path-prefix", path, "--page-size", "5",
                       "--output", "json")
        self.assertEqual(sorted(r["RoleName"] for r in json.loads(out.stdout)["Roles"]),
                         sorted(names))

    def test_inline_policy_round_trip(self):
        name = unique("clipol")
        self.aws("iam", "create-role", "--role-name", name,
                 "--assume-role-policy-document", f"file://{self.trust_file}")
        doc = policy(allow("s3:GetObject", "arn:aws:s3:::ml-data/*"))
        path = os.path.join(self.tmp, f"{name}.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        self.aws("iam", "put-role-policy", "--role-name", name, "--policy-name", "read",
                 "--policy-document", f"file://{path}")
        got = json.loads(self.aws("iam", "get-role-policy", "--role-name", name,
                                  "--policy-name", "read", "--output", "json").stdout)
        self.assertEqual(got["PolicyDocument"], doc)

    def test_other_regions_work(self):
        for region in ("eu-west-1", "ap-southeast-2"):
            with self.subTest(region):
                ident = json.loads(self.aws("sts", "get-caller-identity", "--output", "json",
                                            region=region).stdout)
                self.assertEqual(ident["Account"], ACCOUNT)
                self.aws("iam", "list-roles", "--max-items", "1", region=region)

    def test_no_such_entity(self):
        out = self.aws("iam", "get-role", "--role-name", "cli-missing-role", check=False)
        self.assertEqual(out.returncode, self.service_error_exit, out.stderr)
        self.assertIn("An error occurred (NoSuchEntity) when calling the GetRole operation: "
                      "The role with name cli-missing-role cannot be found.", out.stderr)

    def test_access_denied_exit_code_and_message(self):
        user, kid, secret = self.server.new_user()
        creds = os.path.join(self.tmp, "limited-credentials")
        with open(creds, "w") as f:
            f.write(f"[limited]\naws_access_key_id = {kid}\naws_secret_access_key = {secret}\n")
        name = unique("cli-denied")
        out = self.aws("iam", "create-role", "--role-name", name,
                       "--assume-role-policy-document", f"file://{self.trust_file}",
                       credentials_file=creds, profile="limited", check=False)
        self.assertEqual(out.returncode, self.service_error_exit, out.stderr)
        self.assertIn(
            "An error occurred (AccessDenied) when calling the CreateRole operation: "
            f"User: {user['Arn']} is not authorized to perform: iam:CreateRole on resource: "
            f"arn:aws:iam::{ACCOUNT}:role/{name} because no identity-based policy allows the "
            "iam:CreateRole action", out.stderr)
        ident = json.loads(self.aws("sts", "get-caller-identity", "--output", "json",
                                    credentials_file=creds, profile="limited").stdout)
        self.assertEqual(ident["Arn"], user["Arn"])

    def test_assume_role(self):
        name = unique("cli-assume")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
            trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})))
        out = json.loads(self.aws("sts", "assume-role", "--role-arn",
                                  f"arn:aws:iam::{ACCOUNT}:role/{name}",
                                  "--role-session-name", "cli", "--output", "json").stdout)
        self.assertEqual(out["AssumedRoleUser"]["Arn"],
                         f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/cli")
        creds = os.path.join(self.tmp, "session-credentials")
        c = out["Credentials"]
        with open(creds, "w") as f:
            f.write(f"[s]\naws_access_key_id = {c['AccessKeyId']}\n"
                    f"aws_secret_access_key = {c['SecretAccessKey']}\n"
                    f"aws_session_token = {c['SessionToken']}\n")
        ident = json.loads(self.aws("sts", "get-caller-identity", "--output", "json",
                                    credentials_file=creds, profile="s").stdout)
        self.assertEqual(ident["Arn"], f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/cli")
