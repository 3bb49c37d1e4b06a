"""The seed flows end to end (issue 10, item 8), written the way a platform team automates them:
boto3 for most calls, the AWS CLI (`aws ... --endpoint-url`) for a few steps, and rolewright's own
commands where the team would run them.

* Seeds 001 and 004 (Role Manager to Studio): the compute role and a data scientist role built by
  `rolewright role new` and put into the server (the AWS CLI script for one, the JSON for the
  other), a domain whose default execution role is the compute role, a user profile with the data
  scientist's role, a presigned Studio URL opened in a cookie-keeping browser, and then the data
  scientist's own session of its role: what its activities grant succeeds, the rest is denied with
  AWS's codes and texts.
* Seed 000 use case 1 by hand, in the article's call order (portfolio switch, status poll, the
  IMPORTED share, AssociatePrincipalWithPortfolio per execution role), on a domain whose users have
  custom roles and running apps; use case 2 (a new user with a new role); each role then sees
  SageMaker's products.
* The same retrofit through `rolewright jumpstart status` and `rolewright jumpstart enable`
  (credentials from the environment, `--endpoint-url`): the dry run changes nothing, the report, a
  second run changes nothing, the status afterwards.
"""

import http.cookiejar
import json
import os
import shutil
import tempfile
import time
import urllib.parse
import urllib.request

from harness import (ACCOUNT, REGION, E2ETestCase, aws_cli, command_env, rolewright, run_command,
                     unique)

SAGEMAKER_FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
SAGEMAKER_PORTFOLIO = "Amazon SageMaker Solutions and ML Ops products"
SAGEMAKER_PROVIDER = "Amazon SageMaker"
LAUNCH_ROLE = "AmazonSageMakerServiceCatalogProductsLaunchRole"
USE_ROLE = "AmazonSageMakerServiceCatalogProductsUseRole"
# The first of SageMaker's project templates in its documentation ("Use SageMaker-Provided Project
# Templates"); the one the seed's projects variant and most walkthroughs pick.
FIRST_TEMPLATE = "MLOps template for model building, training, and deployment"
BUCKET = "ml-team-data"


def role_arn(name, path="/"):
    return f"arn:aws:iam::{ACCOUNT}:role{path}{name}"


def profile_arn(domain_id, name):
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{domain_id}/{name}"


def trusting(*principals):
    """A trust policy for SageMaker and, so that people can work as the role outside Studio, the
    account (whose identity policies then decide who may assume it)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": p, "Action": "sts:AssumeRole"} for p in principals]})


SAGEMAKER_AND_ACCOUNT = trusting({"Service": "sagemaker.amazonaws.com"},
                                 {"AWS": f"arn:aws:iam::{ACCOUNT}:root"})


class SeedFlowCase(E2ETestCase):
    """A server, a scratch folder, and the steps every flow takes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sm = cls.server.admin("sagemaker")
        cls.sc = cls.server.admin("servicecatalog")
        cls.tmp = tempfile.mkdtemp(prefix="rolewright-seed-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)

    @classmethod
    def aws(cls, *args, env=None):
        """`aws --endpoint-url URL ARGS --output json`, parsed (None for no output)."""
        out = run_command([aws_cli(), "--endpoint-url", cls.server.url, *args, "--output", "json"],
                          env or command_env(cls.server, AWS_ENDPOINT_URL=None))
        return json.loads(out.stdout) if out.stdout.strip() else None

    @classmethod
    def wait_for(cls, describe, want, what, timeout=15):
        deadline = time.time() + timeout
        while True:
            status = describe()["Status"]
            if status == want:
                return
            if time.time() > deadline:
                raise AssertionError(f"{what} is still {status} after {timeout} s, not {want}")
            time.sleep(0.2)

    @classmethod
    def new_domain(cls, execution_role):
        """CreateDomain as the seeds do, then DescribeDomain until InService."""
        domain_id = cls.sm.create_domain(
            DomainName=unique("studio"), AuthMode="IAM",
            DefaultUserSettings={"ExecutionRole": execution_role},
            SubnetIds=["subnet-0123456789abcdef0"], VpcId="vpc-0123456789abcdef0")["DomainId"]
        cls.wait_for(lambda: cls.sm.describe_domain(DomainId=domain_id), "InService",
                     f"domain {domain_id}")
        return domain_id

    @classmethod
    def start_app(cls, domain_id, user, app_type="JupyterServer", name="default", sm=None):
        sm = sm or cls.sm
        sm.create_app(DomainId=domain_id, UserProfileName=user, AppType=app_type, AppName=name)
        cls.wait_for(lambda: sm.describe_app(DomainId=domain_id, UserProfileName=user,
                                             AppType=app_type, AppName=name), "InService",
                     f"app {app_type}/{name} of {user}")

    @classmethod
    def custom_role(cls, prefix):
        """An execution role as seed 000 assumes them: AmazonSageMakerFullAccess attached."""
        name = unique(prefix)
        cls.iam.create_role(RoleName=name, AssumeRolePolicyDocument=SAGEMAKER_AND_ACCOUNT)
        cls.iam.attach_role_policy(RoleName=name, PolicyArn=SAGEMAKER_FULL_ACCESS)
        return role_arn(name)

    def as_role(self, arn, session_name, service):
        creds = self.sts.assume_role(RoleArn=arn, RoleSessionName=session_name)["Credentials"]
        return self.server.client_from_credentials(service, creds)

    def sagemaker_products(self, arn):
        """The SageMaker-owned products a session of the role finds with SearchProducts."""
        sc = self.as_role(arn, "search", "servicecatalog")
        found, token = [], None
        while True:
            page = sc.search_products(**({"PageToken": token} if token else {}))
            found += page["ProductViewSummaries"]
            token = page.get("NextPageToken")
            if not token:
                break
        return sorted(p["Name"] for p in found if p["Owner"] == SAGEMAKER_PROVIDER)

    def running_apps(self, domain_id):
        apps = self.sm.list_apps(DomainIdEquals=domain_id)["Apps"]
        return sorted((a["UserProfileName"], a["AppType"], a["AppName"], a["Status"])
                      for a in apps)


class RoleManagerToStudioTests(SeedFlowCase):
    """Seeds 001 and 004: personas to roles, roles to a domain and a user, the user into Studio."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.compute_name = f"SageMaker-{unique('compute')}"
        cls.compute_arn = role_arn(cls.compute_name)
        compute_flags = ["--persona", "compute", "--name-suffix", cls.compute_name[10:],
                         "--account", ACCOUNT, "--region", REGION, "--s3-bucket", BUCKET,
                         "--ecr-repo", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/ml-images"]
        # The compute role: the generated AWS CLI script, run as the platform team's pipeline runs it.
        script = os.path.join(cls.tmp, "compute-role.sh")
        rolewright("role", "new", *compute_flags, "--format", "aws-cli", "--out", script)
        run_command(["bash", script], command_env(cls.server))
        cls.compute_spec = json.loads(
            rolewright("role", "new", *compute_flags, "--format", "json").stdout)

        # The data scientist role: the JSON, put in with boto3.
        cls.ds_spec = json.loads(rolewright(
            "role", "new", "--persona", "data-scientist", "--name-suffix", unique("ds"),
            "--pass-role", cls.compute_arn, "--s3-bucket", BUCKET, "--region", REGION,
            "--format", "json").stdout)
        spec = cls.ds_spec
        cls.ds_name = spec["RoleName"]
        cls.ds_arn = role_arn(cls.ds_name)
        cls.iam.create_role(RoleName=cls.ds_name, Description=spec["Description"],
                            AssumeRolePolicyDocument=json.dumps(spec["AssumeRolePolicyDocument"]))
        for p in spec["Policies"]:
            cls.iam.put_role_policy(RoleName=cls.ds_name, PolicyName=p["PolicyName"],
                                    PolicyDocument=json.dumps(p["PolicyDocument"]))
        for p in spec["ManagedPolicies"]:
            arn = cls.iam.create_policy(PolicyName=p["PolicyName"],
                                        PolicyDocument=json.dumps(p["PolicyDocument"]))[
                "Policy"]["Arn"]
            cls.iam.attach_role_policy(RoleName=cls.ds_name, PolicyArn=arn)
        for arn in spec["ManagedPolicyArns"]:
            cls.iam.attach_role_policy(RoleName=cls.ds_name, PolicyArn=arn)
        # Studio assumes the role as sagemaker.amazonaws.com; to try the role from a terminal the
        # team also trusts the account, as AWS's docs suggest for testing execution roles.
        trust_file = os.path.join(cls.tmp, "ds-trust.json")
        with open(trust_file, "w", encoding="utf-8") as f:
            f.write(SAGEMAKER_AND_ACCOUNT)
        cls.aws("iam", "update-assume-role-policy", "--role-name", cls.ds_name,
                "--policy-document", f"file://{trust_file}")

        cls.domain_id = cls.new_domain(cls.compute_arn)
        cls.user = unique("dana")
        cls.sm.create_user_profile(DomainId=cls.domain_id, UserProfileName=cls.user,
                                   UserSettings={"ExecutionRole": cls.ds_arn})
        cls.other_user = unique("eve")
        cls.sm.create_user_profile(DomainId=cls.domain_id, UserProfileName=cls.other_user)

    def data_scientist(self, service):
        return self.as_role(self.ds_arn, self.user, service)

    @property
    def session_arn(self):
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.ds_name}/{self.user}"

    def test_both_roles_are_in_iam_as_generated(self):
        for spec in (self.compute_spec, self.ds_spec):
            name = spec["RoleName"]
            with self.subTest(role=name):
                names = self.iam.list_role_policies(RoleName=name)["PolicyNames"]
                self.assertEqual(sorted(names), sorted(p["PolicyName"] for p in spec["Policies"]))
                for p in spec["Policies"]:
                    got = self.iam.get_role_policy(RoleName=name, PolicyName=p["PolicyName"])
                    self.assertEqual(got["PolicyDocument"], p["PolicyDocument"], p["PolicyName"])
        got = self.iam.get_role(RoleName=self.compute_name)["Role"]
        self.assertEqual(got["AssumeRolePolicyDocument"],
                         self.compute_spec["AssumeRolePolicyDocument"])
        self.assertEqual(got["Description"], self.compute_spec["Description"])
        described = self.sm.describe_domain(DomainId=self.domain_id)
        self.assertEqual(described["DefaultUserSettings"]["ExecutionRole"], self.compute_arn)
        profile = self.sm.describe_user_profile(DomainId=self.domain_id, UserProfileName=self.user)
        self.assertEqual(profile["UserSettings"]["ExecutionRole"], self.ds_arn)

    def test_the_presigned_url_signs_the_browser_in_to_the_profiles_studio(self):
        url = self.aws("sagemaker", "create-presigned-domain-url", "--domain-id", self.domain_id,
                       "--user-profile-name", self.user)["AuthorizedUrl"]
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with browser.open(url, timeout=30) as page:
            self.assertEqual(page.status, 200)
            self.assertEqual(urllib.parse.urlsplit(page.url).path, "/studio/home",
                             "the link redirects to the Studio home page")
            html = page.read().decode("utf-8")
        self.assertEqual(len(jar), 1, "the redirect set one session cookie")
        cookie = next(iter(jar))
        self.assertEqual(cookie.path, "/studio/")
        self.assertTrue(cookie.has_nonstandard_attr("HttpOnly"))
        self.assertIn(f"<h1>{self.user}</h1>", html)
        self.assertIn(f"user profile <code>{self.user}</code>", html)
        self.assertIn(self.ds_arn, html, "the page shows the profile's own execution role")
        # The session stays signed in: the same browser opens the home page again.
        with browser.open(self.server.url + "/studio/home", timeout=30) as again:
            self.assertIn(self.user, again.read().decode("utf-8"))
        # The other profile gets its own page, with the domain's role.
        other = self.sm.create_presigned_domain_url(
            DomainId=self.domain_id, UserProfileName=self.other_user)["AuthorizedUrl"]
        with urllib.request.build_opener(urllib.request.HTTPCookieProcessor()).open(
                other, timeout=30) as page:
            html = page.read().decode("utf-8")
        self.assertIn(f"<h1>{self.other_user}</h1>", html)
        self.assertIn(self.compute_arn, html)

    def test_the_data_scientist_does_what_its_activities_grant(self):
        sts = self.data_scientist("sts")
        self.assertEqual(sts.get_caller_identity()["Arn"], self.session_arn)
        sm = self.data_scientist("sagemaker")
        # Run Studio Applications: the domain, its profiles and their apps.
        self.assertEqual(sm.describe_domain(DomainId=self.domain_id)["DomainId"], self.domain_id)
        self.assertIn(self.domain_id, [d["DomainId"] for d in sm.list_domains()["Domains"]])
        me = sm.describe_user_profile(DomainId=self.domain_id, UserProfileName=self.user)
        self.assertEqual(me["UserSettings"]["ExecutionRole"], self.ds_arn)
        self.assertEqual(sorted(p["UserProfileName"] for p in sm.list_user_profiles(
            DomainIdEquals=self.domain_id)["UserProfiles"]), sorted([self.user, self.other_user]))
        self.start_app(self.domain_id, self.user, "JupyterServer", "default", sm=sm)
        self.start_app(self.domain_id, self.user, "KernelGateway", "datascience", sm=sm)
        mine = sm.list_apps(DomainIdEquals=self.domain_id, UserProfileNameEquals=self.user)["Apps"]
        self.assertEqual(sorted((a["AppType"], a["AppName"], a["Status"]) for a in mine),
                         [("JupyterServer", "default", "InService"),
                          ("KernelGateway", "datascience", "InService")])
        sm.delete_app(DomainId=self.domain_id, UserProfileName=self.user,
                      AppType="KernelGateway", AppName="datascience")
        self.wait_for(lambda: sm.describe_app(DomainId=self.domain_id, UserProfileName=self.user,
                                              AppType="KernelGateway", AppName="datascience"),
                      "Deleted", "the kernel gateway")

    def test_the_data_scientist_is_denied_what_its_activities_do_not_grant(self):
        sm = self.data_scientist("sagemaker")
        me = profile_arn(self.domain_id, self.user)
        domain = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/{self.domain_id}"
        newcomer = unique("mallory")
        for name, call, action, resource in [
            ("DeleteDomain", lambda: sm.delete_domain(DomainId=self.domain_id),
             "sagemaker:DeleteDomain", domain),
            ("UpdateDomain", lambda: sm.update_domain(
                DomainId=self.domain_id,
                DefaultUserSettings={"ExecutionRole": self.compute_arn}),
             "sagemaker:UpdateDomain", domain),
            ("CreateUserProfile", lambda: sm.create_user_profile(
                DomainId=self.domain_id, UserProfileName=newcomer),
             "sagemaker:CreateUserProfile", profile_arn(self.domain_id, newcomer)),
            ("UpdateUserProfile (its own)", lambda: sm.update_user_profile(
                DomainId=self.domain_id, UserProfileName=self.user,
                UserSettings={"ExecutionRole": self.compute_arn}),
             "sagemaker:UpdateUserProfile", me),
            ("CreatePresignedDomainUrl (its own)", lambda: sm.create_presigned_domain_url(
                DomainId=self.domain_id, UserProfileName=self.user),
             "sagemaker:CreatePresignedDomainUrl", me),
            ("EnableSagemakerServicecatalogPortfolio",
             lambda: sm.enable_sagemaker_servicecatalog_portfolio(),
             "sagemaker:EnableSagemakerServicecatalogPortfolio", "*"),
        ]:
            with self.subTest(call=name):
                self.assertError(call, "AccessDeniedException", 400,
                                 message=self.denied_message(self.session_arn, action, resource))
        sc = self.data_scientist("servicecatalog")
        self.assertError(lambda: sc.search_products(), "AccessDeniedException", 400,
                         message=self.denied_message(self.session_arn,
                                                     "servicecatalog:SearchProducts",
                                                     f"arn:aws:catalog:{REGION}:{ACCOUNT}:*"))
        # IAM names an existing role `role NAME` in its denials, a role to create by its ARN.
        iam = self.data_scientist("iam")
        name = unique("escalate")
        for what, call, action, resource in [
            ("CreateRole", lambda: iam.create_role(RoleName=name,
                                                   AssumeRolePolicyDocument=SAGEMAKER_AND_ACCOUNT),
             "iam:CreateRole", role_arn(name)),
            ("AttachRolePolicy on itself", lambda: iam.attach_role_policy(
                RoleName=self.ds_name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess"),
             "iam:AttachRolePolicy", f"role {self.ds_name}"),
            ("GetRole", lambda: iam.get_role(RoleName=self.compute_name), "iam:GetRole",
             f"role {self.compute_name}"),
        ]:
            with self.subTest(call=what):
                self.assertError(call, "AccessDenied", 403,
                                 message=self.denied_message(self.session_arn, action, resource))
        # The compute role trusts only SageMaker: the data scientist cannot become it.
        sts = self.data_scientist("sts")
        self.assertError(lambda: sts.assume_role(RoleArn=self.compute_arn, RoleSessionName="become-compute"),
                         "AccessDenied", 403,
                         message_startswith=f"User: {self.session_arn} is not authorized to "
                                            f"perform: sts:AssumeRole on resource: "
                                            f"{self.compute_arn}")
        # Nothing the denied calls asked for happened.
        self.assertError(lambda: self.sm.describe_user_profile(DomainId=self.domain_id,
                                                               UserProfileName=newcomer),
                         "ResourceNotFound", 400)
        self.assertEqual(self.sm.get_sagemaker_servicecatalog_portfolio_status()["Status"],
                         "Disabled")
        self.assertEqual(self.iam.list_attached_role_policies(
            RoleName=self.ds_name)["AttachedPolicies"], [])


class JumpStartByHandTests(SeedFlowCase):
    """Seed 000, use cases 1 and 2, with the calls of the article's automation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.domain_role = cls.custom_role("SageMaker-domain")
        cls.domain_id = cls.new_domain(cls.domain_role)
        cls.users = {}
        for user in ("alice", "bob"):
            cls.users[user] = cls.custom_role(f"SageMaker-{user}")
            cls.sm.create_user_profile(DomainId=cls.domain_id, UserProfileName=user,
                                       UserSettings={"ExecutionRole": cls.users[user]})
        # A user on the domain's role, and apps running for everyone.
        cls.sm.create_user_profile(DomainId=cls.domain_id, UserProfileName="carol")
        for user in ("alice", "bob", "carol"):
            cls.start_app(cls.domain_id, user)
        cls.start_app(cls.domain_id, "alice", "KernelGateway", "datascience")

    def test_use_case_1_retrofits_existing_users_then_use_case_2_onboards_a_new_one(self):
        apps_before = self.running_apps(self.domain_id)
        self.assertEqual({a[3] for a in apps_before}, {"InService"})
        for user, arn in self.users.items():
            self.assertEqual(self.sagemaker_products(arn), [], f"{user} before the retrofit")

        # The CloudFormation stack's two roles, "if they don't already exist".
        for name in (LAUNCH_ROLE, USE_ROLE):
            try:
                self.iam.get_role(RoleName=name)
            except self.iam.exceptions.NoSuchEntityException:
                self.iam.create_role(RoleName=name, Path="/service-role/",
                                     AssumeRolePolicyDocument=trusting(
                                         {"Service": "servicecatalog.amazonaws.com"}))

        # setup_solutions_tests_portfolio: import the portfolio, associate every role.
        self.sm.enable_sagemaker_servicecatalog_portfolio()
        deadline = time.time() + 30
        while self.sm.get_sagemaker_servicecatalog_portfolio_status()["Status"] != "Enabled":
            self.assertLess(time.time(), deadline, "the portfolio switch never read Enabled")
            time.sleep(0.5)
        shares = self.sc.list_accepted_portfolio_shares(PortfolioShareType="IMPORTED")[
            "PortfolioDetails"]
        portfolio = [p for p in shares if p["DisplayName"] == SAGEMAKER_PORTFOLIO]
        self.assertEqual(len(portfolio), 1, shares)
        portfolio_id = portfolio[0]["Id"]
        self.assertEqual(portfolio[0]["ProviderName"], SAGEMAKER_PROVIDER)
        roles = [self.sm.describe_domain(DomainId=self.domain_id)["DefaultUserSettings"][
            "ExecutionRole"]]
        paginator = self.sm.get_paginator("list_user_profiles")
        for page in paginator.paginate(DomainIdEquals=self.domain_id):
            for profile in page["UserProfiles"]:
                settings = self.sm.describe_user_profile(
                    DomainId=self.domain_id, UserProfileName=profile["UserProfileName"]).get(
                    "UserSettings", {})
                role = settings.get("ExecutionRole")
                if role and role not in roles:
                    roles.append(role)
        self.assertEqual(sorted(roles), sorted([self.domain_role, *self.users.values()]))
        for role in roles:
            self.sc.associate_principal_with_portfolio(PortfolioId=portfolio_id,
                                                       PrincipalARN=role, PrincipalType="IAM")

        # The apps kept running: nothing had to be deleted to retrofit the users.
        self.assertEqual(self.running_apps(self.domain_id), apps_before)
        products = self.sc.search_products_as_admin(PortfolioId=portfolio_id)[
            "ProductViewDetails"]
        names = sorted(p["ProductViewSummary"]["Name"] for p in products)
        self.assertIn(FIRST_TEMPLATE, names, "the imported portfolio holds SageMaker's templates")
        for user, arn in [("the domain", self.domain_role), *self.users.items()]:
            self.assertEqual(self.sagemaker_products(arn), names, f"{user} after the retrofit")
        status = self.jumpstart_status()
        self.assertEqual({u["name"]: (u["jumpstart"], u["projects"]) for u in status["users"]},
                         {"alice": (True, True), "bob": (True, True), "carol": (True, True)})

        # Use case 2: a new user with a new role, enabled as part of onboarding.
        dave = self.custom_role("SageMaker-dave")
        self.assertEqual(self.sagemaker_products(dave), [])
        self.sm.create_user_profile(DomainId=self.domain_id, UserProfileName="dave",
                                    UserSettings={"ExecutionRole": dave})
        shares = self.sc.list_accepted_portfolio_shares()["PortfolioDetails"]
        portfolio_id = [p["Id"] for p in shares if p["ProviderName"] == SAGEMAKER_PROVIDER][0]
        self.sc.associate_principal_with_portfolio(PortfolioId=portfolio_id, PrincipalARN=dave,
                                                   PrincipalType="IAM")
        self.assertEqual(self.sagemaker_products(dave), names)
        principals = self.sc.list_principals_for_portfolio(PortfolioId=portfolio_id)["Principals"]
        self.assertEqual(sorted(p["PrincipalARN"] for p in principals), sorted(roles + [dave]))
        dave_status = [u for u in self.jumpstart_status()["users"] if u["name"] == "dave"][0]
        self.assertEqual((dave_status["jumpstart"], dave_status["projects"]), (True, True),
                         dave_status)

    def jumpstart_status(self):
        return json.loads(rolewright("jumpstart", "status", "--domain", self.domain_id,
                                     "--format", "json", env=command_env(self.server)).stdout)


class JumpStartCommandTests(SeedFlowCase):
    """Seed 000 through `rolewright jumpstart`, as a team's pipeline runs it: credentials from the
    environment, the endpoint by flag."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.domain_role = cls.custom_role("SageMaker-domain")
        cls.domain_id = cls.new_domain(cls.domain_role)
        cls.users = {}
        shared = cls.custom_role("SageMaker-shared")
        for user, role in (("ann", cls.custom_role("SageMaker-ann")), ("ben", shared),
                           ("cat", shared), ("dan", None)):
            cls.users[user] = role or cls.domain_role
            settings = {"ExecutionRole": role} if role else {}
            cls.sm.create_user_profile(DomainId=cls.domain_id, UserProfileName=user,
                                       UserSettings=settings)
            cls.start_app(cls.domain_id, user)
        key_id, secret = cls.server.admin_keys()
        # Only the environment's keys: no shared files, no endpoint variable.
        cls.env = command_env(cls.server, AWS_ENDPOINT_URL=None, AWS_PROFILE=None,
                              AWS_SHARED_CREDENTIALS_FILE=os.path.join(cls.tmp, "none"),
                              AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret)

    def jumpstart(self, *args):
        out = rolewright("jumpstart", *args, "--endpoint-url", self.server.url, env=self.env)
        return out

    def status(self):
        return json.loads(self.jumpstart("status", "--domain", self.domain_id,
                                         "--format", "json").stdout)

    def enable(self, *extra):
        return json.loads(self.jumpstart("enable", "--domain", self.domain_id, "--all-users",
                                         "--format", "json", *extra).stdout)

    def test_status_dry_run_enable_and_a_second_run(self):
        roles = sorted(set(self.users.values()))
        apps_before = self.running_apps(self.domain_id)

        before = self.status()
        self.assertEqual(before["domain"]["id"], self.domain_id)
        self.assertEqual(before["domain"]["executionRole"], self.domain_role)
        self.assertEqual(before["account"]["portfolioSwitch"], "Disabled")
        self.assertIsNone(before["account"]["portfolio"])
        self.assertEqual(sorted(u["name"] for u in before["users"]), sorted(self.users))
        for user in before["users"]:
            self.assertEqual(user["executionRole"], self.users[user["name"]])
            self.assertEqual(user["executionRoleFrom"], "domain" if user["name"] == "dan"
                             else "user")
            self.assertEqual((user["jumpstart"], user["projects"]), (False, False))
            self.assertEqual(
                sorted(m["code"] for m in user["missing"]),
                sorted(["portfolio-disabled", "role-not-associated", "launch-role-missing",
                        "use-role-missing"]),
                user)
        self.assertEqual(before["summary"], {"users": 4, "jumpstartEnabled": 0,
                                             "projectsEnabled": 0})

        plan = self.enable("--dry-run")
        self.assertTrue(plan["dryRun"])
        self.assertTrue(plan["switchTurnedOn"])
        self.assertEqual(sorted(plan["rolesCreated"]), [LAUNCH_ROLE, USE_ROLE])
        self.assertEqual(sorted(plan["rolesAssociated"]), roles)
        self.assertEqual(sorted(plan["usersEnabled"]), sorted(self.users))
        # ... and nothing changed.
        self.assertEqual(self.sm.get_sagemaker_servicecatalog_portfolio_status()["Status"],
                         "Disabled")
        for name in (LAUNCH_ROLE, USE_ROLE):
            self.assertError(lambda: self.iam.get_role(RoleName=name), "NoSuchEntity", 404)
        self.assertEqual(self.sc.list_accepted_portfolio_shares()["PortfolioDetails"], [])
        self.assertEqual(self.status(), before)

        report = self.enable()
        self.assertFalse(report["dryRun"])
        self.assertTrue(report["changed"])
        self.assertTrue(report["switchTurnedOn"])
        self.assertEqual(sorted(report["rolesCreated"]), [LAUNCH_ROLE, USE_ROLE])
        self.assertEqual(sorted(report["rolesAssociated"]), roles)
        self.assertEqual(sorted(report["usersEnabled"]), sorted(self.users))
        self.assertEqual(report["stillDisabled"], [])
        self.assertEqual(report["portfolio"]["name"], SAGEMAKER_PORTFOLIO)
        portfolio_id = report["portfolio"]["id"]
        # What AWS now holds, read with boto3.
        self.assertEqual(self.sm.get_sagemaker_servicecatalog_portfolio_status()["Status"],
                         "Enabled")
        principals = self.sc.list_principals_for_portfolio(PortfolioId=portfolio_id)["Principals"]
        self.assertEqual(sorted(p["PrincipalARN"] for p in principals), roles)
        self.assertEqual(self.iam.get_role(RoleName=LAUNCH_ROLE)["Role"]["Arn"],
                         role_arn(LAUNCH_ROLE, "/service-role/"))
        self.assertEqual(self.running_apps(self.domain_id), apps_before,
                         "the apps kept running")
        for role in roles:
            self.assertIn(FIRST_TEMPLATE, self.sagemaker_products(role), role)

        again = self.enable()
        self.assertFalse(again["changed"], again)
        self.assertFalse(again["switchTurnedOn"])
        self.assertEqual((again["rolesCreated"], again["policiesCreated"],
                          again["rolesAssociated"], again["usersEnabled"]), ([], [], [], []))
        self.assertEqual(len(self.sc.list_principals_for_portfolio(
            PortfolioId=portfolio_id)["Principals"]), len(roles))

        after = self.status()
        self.assertEqual(after["account"]["portfolioSwitch"], "Enabled")
        self.assertEqual(after["account"]["portfolio"], {"id": portfolio_id,
                                                         "name": SAGEMAKER_PORTFOLIO})
        self.assertEqual({u["name"]: (u["jumpstart"], u["projects"], u["missing"])
                          for u in after["users"]},
                         {name: (True, True, []) for name in self.users})
        self.assertEqual(after["summary"], {"users": 4, "jumpstartEnabled": 4,
                                            "projectsEnabled": 4})

        # Use case 2 with the command: one new user, one new role.
        eve = self.custom_role("SageMaker-eve")
        self.sm.create_user_profile(DomainId=self.domain_id, UserProfileName="eve",
                                    UserSettings={"ExecutionRole": eve})
        told = self.jumpstart("enable", "--domain", self.domain_id, "--user", "eve").stdout
        self.assertIn(eve, told, "the human report names the role it associated")
        eve_status = [u for u in self.status()["users"] if u["name"] == "eve"][0]
        self.assertEqual((eve_status["jumpstart"], eve_status["projects"]), (True, True))
        self.assertIn(FIRST_TEMPLATE, self.sagemaker_products(eve))
        again = json.loads(self.jumpstart("enable", "--domain", self.domain_id, "--user", "eve",
                                          "--format", "json").stdout)
        self.assertFalse(again["changed"], again)
