"""Service Catalog through boto3 (issue 10, items 3 and 4): portfolios and their principals (IAM and
IAM_PATTERN, AWS's limit of 10 patterns), the SageMaker portfolio that the portfolio switch imports
and seed 000's retrofit of execution roles (accepting and rejecting that share), products from
template files and their versions (provisioning artifacts), LAUNCH constraints and their updates,
launch paths and the end user's product search, AWS's error codes and texts, and authorization of
every call by the engine.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import (ACCOUNT, POSTGRES, REGION, E2ETestCase, Server, allow, binary, policy,
                     trust, unique)

SAGEMAKER_TRUST = json.dumps(trust({"Service": "sagemaker.amazonaws.com"}))
CATALOG_TRUST = json.dumps(trust({"Service": "servicecatalog.amazonaws.com"}))
ACCOUNT_TRUST = json.dumps(trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
END_USER = "arn:aws:iam::aws:policy/AWSServiceCatalogEndUserFullAccess"
SAGEMAKER_PORTFOLIO = "Amazon SageMaker Solutions and ML Ops products"

YAML_TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Description: A Studio user profile
Parameters:
  UserName:
    Type: String
Resources:
  Profile:
    Type: AWS::SageMaker::UserProfile
    Properties:
      DomainId: !Ref DomainId
      UserProfileName: !Ref UserName
"""
JSON_TEMPLATE = json.dumps({
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": json.loads(SAGEMAKER_TRUST)}}},
})


def role_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def all_pages(client, operation, key, **kwargs):
    return client.get_paginator(operation).paginate(**kwargs).build_full_result()[key]


class CatalogTestCase(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sc = cls.server.admin("servicecatalog")
        cls.files = tempfile.mkdtemp(prefix="rolewright-sc-")
        cls.addClassCleanup(shutil.rmtree, cls.files, True)

    def template_file(self, text, suffix=".yaml"):
        path = os.path.join(self.files, unique("template") + suffix)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def new_portfolio(self, **extra):
        return self.sc.create_portfolio(DisplayName=unique("portfolio"), ProviderName="ML platform",
                                        **extra)["PortfolioDetail"]

    def new_product(self, text=YAML_TEMPLATE, url=None, **extra):
        url = url or "file://" + self.template_file(text)
        return self.sc.create_product(
            Name=unique("product"), Owner="ML platform", ProductType="CLOUD_FORMATION_TEMPLATE",
            ProvisioningArtifactParameters={"Name": "v1", "Info": {"LoadTemplateFromURL": url},
                                            "Type": "CLOUD_FORMATION_TEMPLATE"},
            **extra)


class PortfolioTests(CatalogTestCase):
    def test_create_describe_update_list_and_delete_a_portfolio(self):
        token = unique("token")
        created = self.sc.create_portfolio(
            DisplayName="Data science", ProviderName="ML platform", Description="for the team",
            Tags=[{"Key": "team", "Value": "ml"}], IdempotencyToken=token)
        detail = created["PortfolioDetail"]
        pid = detail["Id"]
        self.assertRegex(pid, r"^port-[a-z0-9]{13}$")
        self.assertEqual(detail["ARN"], f"arn:aws:catalog:{REGION}:{ACCOUNT}:portfolio/{pid}")
        self.assertEqual(created["Tags"], [{"Key": "team", "Value": "ml"}])
        again = self.sc.create_portfolio(DisplayName="Data science", ProviderName="ML platform",
                                         IdempotencyToken=token)
        self.assertEqual(again["PortfolioDetail"]["Id"], pid, "a repeated token answers the same")
        got = self.sc.describe_portfolio(Id=pid)
        self.assertEqual(got["PortfolioDetail"]["DisplayName"], "Data science")
        self.assertEqual(got["PortfolioDetail"]["Description"], "for the team")
        self.assertEqual(got["Tags"], [{"Key": "team", "Value": "ml"}])
        updated = self.sc.update_portfolio(Id=pid, DisplayName="Data science 2",
                                           AddTags=[{"Key": "cost", "Value": "42"}],
                                           RemoveTags=["team"])
        self.assertEqual(updated["PortfolioDetail"]["DisplayName"], "Data science 2")
        self.assertEqual(updated["Tags"], [{"Key": "cost", "Value": "42"}])
        others = [self.new_portfolio()["Id"] for _ in range(3)]
        pages = list(self.sc.get_paginator("list_portfolios").paginate(
            PaginationConfig={"PageSize": 2}))
        listed = [p["Id"] for page in pages for p in page["PortfolioDetails"]]
        self.assertGreater(len(pages), 1)
        for one in [pid] + others:
            self.assertIn(one, listed)
        self.assertEqual(len(listed), len(set(listed)))
        self.sc.delete_portfolio(Id=pid)
        self.assertError(lambda: self.sc.describe_portfolio(Id=pid), "ResourceNotFoundException",
                         400, message=f"Portfolio not found: {pid}")

    def test_principals_iam_and_iam_pattern_with_awss_limit(self):
        pid = self.new_portfolio()["Id"]
        name = unique("DataScientist")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=SAGEMAKER_TRUST)
        self.sc.associate_principal_with_portfolio(PortfolioId=pid, PrincipalARN=role_arn(name),
                                                   PrincipalType="IAM")
        self.assertError(lambda: self.sc.associate_principal_with_portfolio(
            PortfolioId=pid, PrincipalARN=role_arn("nobody-here"), PrincipalType="IAM"),
            "InvalidParametersException", 400, message_contains="no such IAM user, group or role")
        self.assertError(lambda: self.sc.associate_principal_with_portfolio(
            PortfolioId=pid, PrincipalARN="arn:aws:iam:::*/ds", PrincipalType="IAM_PATTERN"),
            "InvalidParametersException", 400)
        self.assertError(lambda: self.sc.associate_principal_with_portfolio(
            PortfolioId=pid, PrincipalARN=role_arn("ds-*"), PrincipalType="IAM_PATTERN"),
            "InvalidParametersException", 400, message_contains="no account id")
        patterns = [f"arn:aws:iam:::role/team{i}/ds-*" for i in range(10)]
        for p in patterns:
            self.sc.associate_principal_with_portfolio(PortfolioId=pid, PrincipalARN=p,
                                                       PrincipalType="IAM_PATTERN")
        self.assertError(lambda: self.sc.associate_principal_with_portfolio(
            PortfolioId=pid, PrincipalARN="arn:aws:iam:::role/eleventh?",
            PrincipalType="IAM_PATTERN"), "LimitExceededException", 400)
        principals = all_pages(self.sc, "list_principals_for_portfolio", "Principals",
                               PortfolioId=pid, PaginationConfig={"PageSize": 4})
        self.assertEqual(principals[0], {"PrincipalARN": role_arn(name), "PrincipalType": "IAM"})
        self.assertEqual([p["PrincipalARN"] for p in principals[1:]], patterns)
        self.assertError(lambda: self.sc.delete_portfolio(Id=pid), "ResourceInUseException", 400,
                         message=f"Portfolio {pid} still has associated Principals")
        self.assertError(lambda: self.sc.disassociate_principal_from_portfolio(
            PortfolioId=pid, PrincipalARN=patterns[0]), "ResourceNotFoundException", 400)
        for p in patterns:
            self.sc.disassociate_principal_from_portfolio(PortfolioId=pid, PrincipalARN=p,
                                                          PrincipalType="IAM_PATTERN")
        self.sc.disassociate_principal_from_portfolio(PortfolioId=pid, PrincipalARN=role_arn(name))
        self.assertEqual(self.sc.list_principals_for_portfolio(PortfolioId=pid)["Principals"], [])
        self.sc.delete_portfolio(Id=pid)

    def test_invalid_input_gets_awss_validation_text(self):
        self.assertError(
            lambda: self.sc.describe_portfolio(Id="bad id!"), "ValidationException", 400,
            message="1 validation error detected: Value 'bad id!' at 'id' failed to satisfy "
                    "constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-]*")
        self.assertError(
            lambda: self.sc.associate_principal_with_portfolio(
                PortfolioId="port-0000000000000", PrincipalARN=role_arn("x"),
                PrincipalType="ROLE"), "ValidationException", 400,
            message="1 validation error detected: Value 'ROLE' at 'principalType' failed to "
                    "satisfy constraint: Member must satisfy enum value set: [IAM, IAM_PATTERN]")
        self.assertError(
            lambda: self.sc.create_portfolio(DisplayName="x" * 101, ProviderName="p"),
            "ValidationException", 400,
            message=f"1 validation error detected: Value '{'x' * 101}' at 'displayName' failed "
                    "to satisfy constraint: Member must have length less than or equal to 100")
        self.assertError(lambda: self.sc.list_portfolios(PageSize=101), "ValidationException",
                         400, message_contains="Member must have value less than or equal to 100")
        self.assertError(lambda: self.sc.describe_portfolio(Id="port-0000000000000"),
                         "ResourceNotFoundException", 400,
                         message="Portfolio not found: port-0000000000000")


class SageMakerPortfolioTests(CatalogTestCase):
    """Seed 000: JumpStart for custom execution roles, use case 1 (retrofit existing users)."""

    def test_the_retrofit_associates_every_execution_role_with_the_imported_portfolio(self):
        sm = self.server.admin("sagemaker")
        roles = [unique("SageMaker-domain"), unique("SageMaker-alice"), unique("SageMaker-bob")]
        for name in roles:
            self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=SAGEMAKER_TRUST)
        domain_id = sm.create_domain(
            DomainName=unique("studio"), AuthMode="IAM", SubnetIds=["subnet-1"], VpcId="vpc-1",
            DefaultUserSettings={"ExecutionRole": role_arn(roles[0])})["DomainId"]
        for user, role in (("alice", roles[1]), ("bob", roles[2])):
            sm.create_user_profile(DomainId=domain_id, UserProfileName=user,
                                   UserSettings={"ExecutionRole": role_arn(role)})
        self.assertEqual(self.sc.list_accepted_portfolio_shares(
            PortfolioShareType="IMPORTED")["PortfolioDetails"], [],
            "no SageMaker portfolio before the switch")

        sm.enable_sagemaker_servicecatalog_portfolio()
        deadline = time.time() + 10
        while sm.get_sagemaker_servicecatalog_portfolio_status()["Status"] != "Enabled":
            self.assertLess(time.time(), deadline, "the portfolio switch never became Enabled")
            time.sleep(0.2)
        shares = self.sc.list_accepted_portfolio_shares(
            PortfolioShareType="IMPORTED")["PortfolioDetails"]
        found = [p for p in shares if p["ProviderName"] == "Amazon SageMaker"]
        self.assertEqual(len(found), 1, shares)
        portfolio = found[0]
        self.assertEqual(portfolio["DisplayName"], SAGEMAKER_PORTFOLIO)
        self.assertRegex(portfolio["Id"], r"^port-[a-z0-9]{13}$")
        pid = portfolio["Id"]
        self.assertEqual([p["Id"] for p in self.sc.list_accepted_portfolio_shares()[
            "PortfolioDetails"]], [pid], "IMPORTED is the default share type")
        self.assertEqual(self.sc.list_accepted_portfolio_shares(
            PortfolioShareType="AWS_ORGANIZATIONS")["PortfolioDetails"], [])
        self.assertNotIn(pid, [p["Id"] for p in all_pages(self.sc, "list_portfolios",
                                                          "PortfolioDetails")],
                         "an imported portfolio is not one of the account's own")
        self.assertEqual(self.sc.describe_portfolio(Id=pid)["PortfolioDetail"]["DisplayName"],
                         SAGEMAKER_PORTFOLIO)

        # The retrofit: the domain's role and every user profile's role.
        execution_roles = [sm.describe_domain(DomainId=domain_id)["DefaultUserSettings"][
            "ExecutionRole"]]
        for profile in sm.list_user_profiles(DomainIdEquals=domain_id)["UserProfiles"]:
            described = sm.describe_user_profile(DomainId=domain_id,
                                                 UserProfileName=profile["UserProfileName"])
            role = described["UserSettings"]["ExecutionRole"]
            if role not in execution_roles:
                execution_roles.append(role)
        self.assertEqual(sorted(execution_roles), sorted(role_arn(r) for r in roles))
        for role in execution_roles:
            self.sc.associate_principal_with_portfolio(PortfolioId=pid, PrincipalARN=role,
                                                       PrincipalType="IAM")
        # Idempotent: running the retrofit again changes nothing.
        self.sc.associate_principal_with_portfolio(PortfolioId=pid,
                                                   PrincipalARN=execution_roles[0],
                                                   PrincipalType="IAM")
        principals = self.sc.list_principals_for_portfolio(PortfolioId=pid)["Principals"]
        self.assertEqual(sorted(p["PrincipalARN"] for p in principals), sorted(execution_roles))
        self.assertEqual({p["PrincipalType"] for p in principals}, {"IAM"})
        self.assertError(lambda: self.sc.delete_portfolio(Id=pid), "InvalidParametersException",
                         400)

        sm.disable_sagemaker_servicecatalog_portfolio()
        self.assertEqual(self.sc.list_accepted_portfolio_shares()["PortfolioDetails"], [])
        self.assertError(lambda: self.sc.describe_portfolio(Id=pid), "ResourceNotFoundException",
                         400)
        sm.enable_sagemaker_servicecatalog_portfolio()
        shares = self.sc.list_accepted_portfolio_shares()["PortfolioDetails"]
        self.assertEqual([p["Id"] for p in shares], [pid], "the portfolio keeps its id")
        self.assertEqual(len(self.sc.list_principals_for_portfolio(PortfolioId=pid)["Principals"]),
                         3)


class ProductTests(CatalogTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.launch_role = unique("SCLaunchRole")
        cls.iam.create_role(RoleName=cls.launch_role, AssumeRolePolicyDocument=CATALOG_TRUST)

    def test_a_product_from_a_template_file_in_a_portfolio_with_a_launch_constraint(self):
        created = self.new_product(Tags=[{"Key": "stage", "Value": "dev"}],
                                   Description="Studio user", SupportEmail="ml@example.com")
        view = created["ProductViewDetail"]
        prod = view["ProductViewSummary"]["ProductId"]
        self.assertRegex(prod, r"^prod-[a-z0-9]{13}$")
        self.assertRegex(view["ProductViewSummary"]["Id"], r"^prodview-[a-z0-9]{13}$")
        self.assertEqual(view["ProductARN"], f"arn:aws:catalog:{REGION}:{ACCOUNT}:product/{prod}")
        self.assertEqual(view["Status"], "AVAILABLE")
        self.assertRegex(created["ProvisioningArtifactDetail"]["Id"], r"^pa-[a-z0-9]{13}$")
        self.assertTrue(created["ProvisioningArtifactDetail"]["Active"])
        self.assertEqual(created["Tags"], [{"Key": "stage", "Value": "dev"}])
        json_product = self.new_product(url=self.template_file(JSON_TEMPLATE, ".json"))
        self.assertEqual(json_product["ProductViewDetail"]["Status"], "AVAILABLE",
                         "a local path works as well as a file:// URL")

        admin_view = self.sc.describe_product_as_admin(Id=prod)
        self.assertEqual(admin_view["ProductViewDetail"]["ProductViewSummary"]["ShortDescription"],
                         "Studio user")
        self.assertEqual([a["Id"] for a in admin_view["ProvisioningArtifactSummaries"]],
                         [created["ProvisioningArtifactDetail"]["Id"]])
        self.sc.update_product(Id=prod, Owner="Platform team",
                               AddTags=[{"Key": "tier", "Value": "1"}])
        self.assertEqual(self.sc.describe_product_as_admin(Id=prod)["Tags"],
                         [{"Key": "stage", "Value": "dev"}, {"Key": "tier", "Value": "1"}])

        pid = self.new_portfolio()["Id"]
        self.sc.associate_product_with_portfolio(ProductId=prod, PortfolioId=pid)
        found = self.sc.search_products_as_admin(PortfolioId=pid)["ProductViewDetails"]
        self.assertEqual([d["ProductViewSummary"]["ProductId"] for d in found], [prod])
        by_text = self.sc.search_products_as_admin(Filters={"FullTextSearch": ["platform team"]})
        self.assertIn(prod, [d["ProductViewSummary"]["ProductId"]
                             for d in by_text["ProductViewDetails"]])
        self.assertEqual([p["Id"] for p in self.sc.list_portfolios_for_product(
            ProductId=prod)["PortfolioDetails"]], [pid])

        constraint = self.sc.create_constraint(
            PortfolioId=pid, ProductId=prod, Type="LAUNCH",
            Parameters=json.dumps({"RoleArn": role_arn(self.launch_role)}))
        cid = constraint["ConstraintDetail"]["ConstraintId"]
        self.assertRegex(cid, r"^cons-[a-z0-9]{13}$")
        self.assertEqual(constraint["ConstraintDetail"]["Owner"], ACCOUNT)
        self.assertIn(constraint["Status"], ("CREATING", "AVAILABLE"))
        self.assertError(lambda: self.sc.create_constraint(
            PortfolioId=pid, ProductId=prod, Type="LAUNCH",
            Parameters=json.dumps({"LocalRoleName": self.launch_role})),
            "DuplicateResourceException", 400)
        self.assertError(lambda: self.sc.create_constraint(
            PortfolioId=pid, ProductId=prod, Type="LAUNCH",
            Parameters=json.dumps({"RoleArn": role_arn(self.launch_role),
                                   "LocalRoleName": self.launch_role})),
            "InvalidParametersException", 400)
        described = self.sc.describe_constraint(Id=cid)
        self.assertEqual(json.loads(described["ConstraintParameters"]),
                         {"RoleArn": role_arn(self.launch_role)})
        self.assertEqual(described["Status"], "AVAILABLE")
        self.assertEqual([c["ConstraintId"] for c in self.sc.list_constraints_for_portfolio(
            PortfolioId=pid)["ConstraintDetails"]], [cid])

        self.assertError(lambda: self.sc.delete_product(Id=prod), "ResourceInUseException", 400)
        self.assertError(lambda: self.sc.disassociate_product_from_portfolio(
            ProductId=prod, PortfolioId=pid), "ResourceInUseException", 400)
        self.sc.delete_constraint(Id=cid)
        self.assertError(lambda: self.sc.describe_constraint(Id=cid),
                         "ResourceNotFoundException", 400)
        self.sc.disassociate_product_from_portfolio(ProductId=prod, PortfolioId=pid)
        self.sc.delete_product(Id=prod)
        self.assertError(lambda: self.sc.describe_product_as_admin(Id=prod),
                         "ResourceNotFoundException", 400, message=f"Product not found: {prod}")

    def test_a_launch_role_that_does_not_exist_is_refused(self):
        prod = self.new_product()["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        pid = self.new_portfolio()["Id"]
        self.sc.associate_product_with_portfolio(ProductId=prod, PortfolioId=pid)
        self.assertError(lambda: self.sc.create_constraint(
            PortfolioId=pid, ProductId=prod, Type="LAUNCH",
            Parameters=json.dumps({"RoleArn": role_arn("no-such-launch-role")})),
            "InvalidParametersException", 400)

    def test_templates_that_are_not_cloudformation_are_refused(self):
        self.assertError(lambda: self.new_product(text="just some words\n"),
                         "InvalidParametersException", 400, message_contains="Invalid template")
        self.assertError(lambda: self.new_product(text='{"Parameters": {}}'),
                         "InvalidParametersException", 400,
                         message_contains="no Resources with at least one resource")
        self.assertError(lambda: self.new_product(url="https://s3.amazonaws.com/b/t.yaml"),
                         "InvalidParametersException", 400,
                         message_contains="file:// URLs and local paths only")
        self.assertError(lambda: self.new_product(url="file:///nonexistent/t.yaml"),
                         "InvalidParametersException", 400, message_contains="cannot be read")
        # The server's own files are never read, whoever asks: its credentials, its key.
        # With replicas, each guards its own data directory and the master key they share.
        for name in ("master.key",) if POSTGRES else ("credentials", "master.key"):
            path = os.path.join(self.server.data_dir, name)
            self.assertError(lambda path=path: self.new_product(url=f"file://{path}"),
                             "InvalidParametersException", 400,
                             message=f"The template `file://{path}` cannot be read: it is one of "
                                     "rolewright's own files (its data directory or master key), "
                                     "which are never read as templates")


class EndUserTests(CatalogTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user, cls.kid, cls.secret = cls.server.new_user(managed=[END_USER])
        cls.usc = cls.server.client("servicecatalog", cls.kid, cls.secret)

    def product_in_portfolio(self):
        prod = self.new_product()["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        pid = self.new_portfolio()["Id"]
        self.sc.associate_product_with_portfolio(ProductId=prod, PortfolioId=pid)
        return prod, pid

    def visible_products(self, client):
        return [s["ProductId"] for s in client.search_products()["ProductViewSummaries"]]

    def test_an_end_user_sees_a_product_only_once_associated_with_its_portfolio(self):
        prod, pid = self.product_in_portfolio()
        self.assertNotIn(prod, self.visible_products(self.usc))
        self.assertError(lambda: self.usc.list_launch_paths(ProductId=prod),
                         "ResourceNotFoundException", 400,
                         message=f"No launch paths found for resource: {prod}")
        self.assertError(lambda: self.sc.list_launch_paths(ProductId=prod),
                         "ResourceNotFoundException", 400,
                         message=f"No launch paths found for resource: {prod}")
        self.assertError(lambda: self.usc.describe_product(Id=prod), "ResourceNotFoundException",
                         400)
        self.sc.create_constraint(PortfolioId=pid, ProductId=prod, Type="LAUNCH",
                                  Parameters=json.dumps({"LocalRoleName": self.launch_role()}))
        self.sc.associate_principal_with_portfolio(PortfolioId=pid, PrincipalARN=self.user["Arn"],
                                                   PrincipalType="IAM")
        self.assertIn(prod, self.visible_products(self.usc))
        paths = self.usc.list_launch_paths(ProductId=prod)["LaunchPathSummaries"]
        self.assertEqual(len(paths), 1)
        self.assertRegex(paths[0]["Id"], r"^lpv3-[a-z0-9]{13}$")
        self.assertEqual(paths[0]["ConstraintSummaries"], [{"Type": "LAUNCH"}])
        described = self.usc.describe_product(Id=prod)
        self.assertEqual(described["ProductViewSummary"]["ProductId"], prod)
        self.assertEqual([p["Id"] for p in described["LaunchPaths"]], [paths[0]["Id"]])
        self.sc.disassociate_principal_from_portfolio(PortfolioId=pid,
                                                      PrincipalARN=self.user["Arn"])
        self.assertNotIn(prod, self.visible_products(self.usc))

    def launch_role(self):
        name = unique("SCLaunch")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=CATALOG_TRUST)
        return name

    def test_role_sessions_match_iam_patterns_and_users_their_groups(self):
        prod, pid = self.product_in_portfolio()
        prefix = unique("ds")
        role = f"{prefix}-scientist"
        self.iam.create_role(RoleName=role, Path="/team/", AssumeRolePolicyDocument=ACCOUNT_TRUST)
        self.iam.attach_role_policy(RoleName=role, PolicyArn=END_USER)
        creds = self.sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/team/{role}",
                                     RoleSessionName="scientist")["Credentials"]
        session = self.server.client_from_credentials("servicecatalog", creds)
        self.assertNotIn(prod, self.visible_products(session))
        self.sc.associate_principal_with_portfolio(
            PortfolioId=pid, PrincipalARN=f"arn:aws:iam:::role/*/{prefix}-*",
            PrincipalType="IAM_PATTERN")
        self.assertIn(prod, self.visible_products(session))

        group = unique("scientists")
        self.iam.create_group(GroupName=group)
        member, kid, secret = self.server.new_user(managed=[END_USER])
        self.iam.add_user_to_group(GroupName=group, UserName=member["UserName"])
        client = self.server.client("servicecatalog", kid, secret)
        self.assertNotIn(prod, self.visible_products(client))
        self.sc.associate_principal_with_portfolio(
            PortfolioId=pid, PrincipalARN=f"arn:aws:iam::{ACCOUNT}:group/{group}",
            PrincipalType="IAM")
        self.assertIn(prod, self.visible_products(client))

    def test_the_end_user_policy_grants_no_administration(self):
        self.assertError(lambda: self.usc.list_portfolios(), "AccessDeniedException", 400,
                         message=self.denied_message(self.user["Arn"],
                                                     "servicecatalog:ListPortfolios",
                                                     f"arn:aws:catalog:{REGION}:{ACCOUNT}:*"))


class AuthorizationTests(CatalogTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bare, kid, secret = cls.server.new_user()
        cls.bare_sc = cls.server.client("servicecatalog", kid, secret)
        cls.tagged, kid, secret = cls.server.new_user(policy_doc=policy(
            allow(["servicecatalog:CreatePortfolio", "servicecatalog:DescribePortfolio"],
                  Condition={"StringEquals": {"aws:ResourceTag/team": "ml"}}),
            allow("servicecatalog:CreatePortfolio",
                  Condition={"StringEquals": {"aws:RequestTag/team": "ml"}})))
        cls.tagged_sc = cls.server.client("servicecatalog", kid, secret)

    def test_a_user_without_permissions_is_denied_with_awss_text(self):
        self.assertError(
            lambda: self.bare_sc.create_portfolio(DisplayName="p", ProviderName="p"),
            "AccessDeniedException", 400,
            message=self.denied_message(self.bare["Arn"], "servicecatalog:CreatePortfolio",
                                        f"arn:aws:catalog:{REGION}:{ACCOUNT}:*"))
        pid = self.new_portfolio()["Id"]
        self.assertError(
            lambda: self.bare_sc.describe_portfolio(Id=pid), "AccessDeniedException", 400,
            message=self.denied_message(self.bare["Arn"], "servicecatalog:DescribePortfolio",
                                        f"arn:aws:catalog:{REGION}:{ACCOUNT}:portfolio/{pid}"))
        self.assertError(lambda: self.bare_sc.search_products(), "AccessDeniedException", 400)
        self.assertError(lambda: self.bare_sc.list_accepted_portfolio_shares(),
                         "AccessDeniedException", 400)

    def test_request_and_resource_tags_are_condition_keys(self):
        self.assertError(lambda: self.tagged_sc.create_portfolio(
            DisplayName="p", ProviderName="p", Tags=[{"Key": "team", "Value": "bio"}]),
            "AccessDeniedException", 400)
        pid = self.tagged_sc.create_portfolio(
            DisplayName="p", ProviderName="p",
            Tags=[{"Key": "team", "Value": "ml"}])["PortfolioDetail"]["Id"]
        self.assertEqual(self.tagged_sc.describe_portfolio(Id=pid)["PortfolioDetail"]["Id"], pid)
        other = self.new_portfolio(Tags=[{"Key": "team", "Value": "bio"}])["Id"]
        self.assertError(lambda: self.tagged_sc.describe_portfolio(Id=other),
                         "AccessDeniedException", 400)


class DurabilityTests(CatalogTestCase):
    def test_the_catalog_survives_a_restart(self):
        sm = self.server.admin("sagemaker")
        sm.enable_sagemaker_servicecatalog_portfolio()
        imported = self.sc.list_accepted_portfolio_shares()["PortfolioDetails"][0]["Id"]
        role = unique("SCLaunch")
        self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=CATALOG_TRUST)
        self.sc.associate_principal_with_portfolio(PortfolioId=imported,
                                                   PrincipalARN=role_arn(role),
                                                   PrincipalType="IAM")
        token = unique("token")
        pid = self.new_portfolio(IdempotencyToken=token)["Id"]
        prod = self.new_product()["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        self.sc.associate_product_with_portfolio(ProductId=prod, PortfolioId=pid)
        cid = self.sc.create_constraint(PortfolioId=pid, ProductId=prod, Type="LAUNCH",
                                        Parameters=json.dumps({"RoleArn": role_arn(role)}))[
            "ConstraintDetail"]["ConstraintId"]
        self.server.stop_and_check()

        again = Server(data_dir=self.server.data_dir).start()
        self.addCleanup(again.cleanup)
        sc = again.admin("servicecatalog")
        self.assertEqual([p["Id"] for p in sc.list_accepted_portfolio_shares()[
            "PortfolioDetails"]], [imported])
        self.assertEqual([p["PrincipalARN"] for p in sc.list_principals_for_portfolio(
            PortfolioId=imported)["Principals"]], [role_arn(role)])
        self.assertEqual(sc.describe_constraint(Id=cid)["ConstraintDetail"]["ProductId"], prod)
        self.assertEqual([d["ProductViewSummary"]["ProductId"] for d in sc.search_products_as_admin(
            PortfolioId=pid)["ProductViewDetails"]], [prod])
        repeated = sc.create_portfolio(DisplayName="other", ProviderName="p",
                                       IdempotencyToken=token)
        self.assertEqual(repeated["PortfolioDetail"]["Id"], pid,
                         "idempotency tokens are kept across restarts")
        again.stop_and_check()


def audit_entry(server, request_id):
    """The audit record of one request, once the log has it (it trails by a few ms)."""
    deadline = time.time() + 10
    while True:
        out = subprocess.run([binary(), "audit", *server.audit_args(), "--format",
                              "json"], capture_output=True, text=True, check=True, timeout=60,
                             env={**os.environ, "NO_COLOR": "1"})
        text = out.stdout.strip()
        items = []
        if text:
            try:
                doc = json.loads(text)
                items = doc if isinstance(doc, list) else [doc]
            except ValueError:
                items = [json.loads(line) for line in text.splitlines() if line.strip()]
        found = [e for e in items if e.get("request_id") == request_id]
        if found or time.time() > deadline:
            return found[0] if found else None
        time.sleep(0.05)


class ProvisioningArtifactTests(CatalogTestCase):
    """Versions of a product: CreateProvisioningArtifact, DescribeProvisioningArtifact,
    ListProvisioningArtifacts and DeleteProvisioningArtifact."""

    def new_artifact(self, prod, name="v2", text=JSON_TEMPLATE, suffix=".json", **extra):
        url = "file://" + self.template_file(text, suffix)
        params = {"Name": name, "Description": f"version {name}", "Info": {
            "LoadTemplateFromURL": url}, "Type": "CLOUD_FORMATION_TEMPLATE"}
        return self.sc.create_provisioning_artifact(ProductId=prod, Parameters=params,
                                                    **extra), url

    def product_id(self, created):
        return created["ProductViewDetail"]["ProductViewSummary"]["ProductId"]

    def test_a_new_version_answers_its_detail_info_and_status(self):
        created = self.new_product()
        prod = self.product_id(created)
        first = created["ProvisioningArtifactDetail"]["Id"]
        answer, url = self.new_artifact(prod)
        detail = answer["ProvisioningArtifactDetail"]
        self.assertRegex(detail["Id"], r"^pa-[a-z0-9]{13}$")
        self.assertEqual((detail["Name"], detail["Description"], detail["Type"]),
                         ("v2", "version v2", "CLOUD_FORMATION_TEMPLATE"))
        self.assertIs(detail["Active"], True)
        self.assertEqual(detail["Guidance"], "DEFAULT")
        self.assertIn("CreatedTime", detail)
        self.assertEqual(answer["Info"], {"TemplateUrl": url})
        self.assertEqual(answer["Status"], "CREATING")

        listed = self.sc.list_provisioning_artifacts(ProductId=prod)["ProvisioningArtifactDetails"]
        self.assertEqual([a["Id"] for a in listed], [first, detail["Id"]], "oldest first")
        self.assertEqual(listed[1]["Name"], "v2")
        self.assertNotIn("NextPageToken", self.sc.list_provisioning_artifacts(ProductId=prod))
        summaries = self.sc.describe_product_as_admin(Id=prod)["ProvisioningArtifactSummaries"]
        self.assertEqual([s["Id"] for s in summaries], [first, detail["Id"]])

    def test_a_version_is_described_by_id_or_by_names(self):
        created = self.new_product()
        prod = self.product_id(created)
        name = created["ProductViewDetail"]["ProductViewSummary"]["Name"]
        answer, url = self.new_artifact(prod, name="v2")
        pa = answer["ProvisioningArtifactDetail"]["Id"]
        by_id = self.sc.describe_provisioning_artifact(ProductId=prod, ProvisioningArtifactId=pa)
        self.assertEqual(by_id["ProvisioningArtifactDetail"]["Id"], pa)
        self.assertEqual(by_id["ProvisioningArtifactDetail"]["Name"], "v2")
        self.assertEqual(by_id["Status"], "AVAILABLE")
        self.assertEqual(by_id["Info"], {"TemplateUrl": url})
        self.assertNotIn("ProvisioningArtifactParameters", by_id)
        by_names = self.sc.describe_provisioning_artifact(ProductName=name,
                                                          ProvisioningArtifactName="v2")
        self.assertEqual(by_names["ProvisioningArtifactDetail"]["Id"], pa)
        first = self.sc.describe_provisioning_artifact(ProductId=prod,
                                                       ProvisioningArtifactName="v1")
        self.assertEqual(first["ProvisioningArtifactDetail"]["Id"],
                         created["ProvisioningArtifactDetail"]["Id"])
        self.assertTrue(first["Info"]["TemplateUrl"].startswith("file://"),
                        "CreateProduct's first version keeps its template URL too")

    def test_verbose_and_the_template_parameters(self):
        prod = self.product_id(self.new_product())
        answer, url = self.new_artifact(prod, text=YAML_TEMPLATE, suffix=".yaml")
        pa = answer["ProvisioningArtifactDetail"]["Id"]
        verbose = self.sc.describe_provisioning_artifact(ProductId=prod, ProvisioningArtifactId=pa,
                                                         Verbose=True)
        self.assertEqual(verbose["Info"], {"TemplateUrl": url})
        with_parameters = self.sc.describe_provisioning_artifact(
            ProductId=prod, ProvisioningArtifactId=pa, IncludeProvisioningArtifactParameters=True)
        self.assertEqual(with_parameters["ProvisioningArtifactParameters"], [{
            "ParameterKey": "UserName", "ParameterType": "String", "IsNoEcho": False,
            "ParameterConstraints": {"AllowedValues": []}}])

    def test_a_repeated_idempotency_token_answers_the_first_version(self):
        prod = self.product_id(self.new_product())
        token = unique("token")
        first, _ = self.new_artifact(prod, IdempotencyToken=token)
        again, _ = self.new_artifact(prod, name="v3", IdempotencyToken=token)
        self.assertEqual(again, {k: v for k, v in first.items() if k != "ResponseMetadata"} | {
            "ResponseMetadata": again["ResponseMetadata"]})
        names = [a["Name"] for a in self.sc.list_provisioning_artifacts(
            ProductId=prod)["ProvisioningArtifactDetails"]]
        self.assertEqual(names, ["v1", "v2"])

    def test_templates_that_are_not_cloudformation_are_refused(self):
        prod = self.product_id(self.new_product())
        self.assertError(lambda: self.new_artifact(prod, text="just some words\n", suffix=".yaml"),
                         "InvalidParametersException", 400, message_contains="Invalid template")
        self.assertError(lambda: self.sc.create_provisioning_artifact(
            ProductId=prod, Parameters={"Name": "v2", "Info": {
                "LoadTemplateFromURL": "https://s3.amazonaws.com/b/t.yaml"}}),
            "InvalidParametersException", 400, message_contains="file:// URLs and local paths only")
        self.assertError(lambda: self.sc.create_provisioning_artifact(
            ProductId=prod, Parameters={"Name": "v2", "Info": {
                "ImportFromPhysicalId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/s/1"}}),
            "InvalidParametersException", 400,
            message="ImportFromPhysicalId is not supported by rolewright: give LoadTemplateFromURL")
        self.assertError(lambda: self.sc.create_provisioning_artifact(
            ProductId=prod, Parameters={"Name": "v2"}), "InvalidParametersException", 400,
            message="Parameters.Info is required: give LoadTemplateFromURL")
        self.assertError(lambda: self.sc.create_provisioning_artifact(
            ProductId=prod, Parameters={"Name": "v2", "Type": "MARKETPLACE_AMI", "Info": {
                "LoadTemplateFromURL": "file:///x"}}),
            "InvalidParametersException", 400, message_contains="MARKETPLACE_AMI")
        self.assertEqual(len(self.sc.list_provisioning_artifacts(
            ProductId=prod)["ProvisioningArtifactDetails"]), 1)

    def test_unknown_products_and_versions_are_not_found(self):
        missing = "prod-0000000000000"
        self.assertError(lambda: self.new_artifact(missing), "ResourceNotFoundException", 400,
                         message=f"Product not found: {missing}")
        self.assertError(lambda: self.sc.list_provisioning_artifacts(ProductId=missing),
                         "ResourceNotFoundException", 400, message=f"Product not found: {missing}")
        self.assertError(lambda: self.sc.describe_provisioning_artifact(
            ProductName="no such product", ProvisioningArtifactName="v1"),
            "ResourceNotFoundException", 400,
            message="Product with name no such product does not exist or access was denied.")
        prod = self.product_id(self.new_product())
        self.assertError(lambda: self.sc.describe_provisioning_artifact(
            ProductId=prod, ProvisioningArtifactId="pa-0000000000000"),
            "ResourceNotFoundException", 400,
            message="Provisioning artifact pa-0000000000000 does not exist or access was denied.")
        self.assertError(lambda: self.sc.describe_provisioning_artifact(
            ProductId=prod, ProvisioningArtifactName="v9"), "ResourceNotFoundException", 400,
            message="Provisioning artifact with name v9 does not exist or access was denied.")
        self.assertError(lambda: self.sc.delete_provisioning_artifact(
            ProductId=prod, ProvisioningArtifactId="pa-0000000000000"),
            "ResourceNotFoundException", 400,
            message="Provisioning artifact pa-0000000000000 does not exist or access was denied.")

    def test_names_must_single_out_a_version_and_a_product_must_be_named(self):
        prod = self.product_id(self.new_product())
        self.new_artifact(prod, name="v2")
        self.new_artifact(prod, name="v2")
        self.assertError(lambda: self.sc.describe_provisioning_artifact(
            ProductId=prod, ProvisioningArtifactName="v2"), "InvalidParametersException", 400,
            message="Multiple Provisioning Artifact with name v2 found.")
        self.assertError(lambda: self.sc.describe_provisioning_artifact(
            ProvisioningArtifactId="pa-0000000000000"), "InvalidParametersException", 400,
            message="Either ProductId or ProductName must be specified")
        self.assertError(lambda: self.sc.describe_provisioning_artifact(ProductId=prod),
                         "InvalidParametersException", 400,
                         message="Either ProvisioningArtifactId or ProvisioningArtifactName must "
                                 "be specified")

    def test_a_products_last_version_cannot_be_deleted(self):
        created = self.new_product()
        prod = self.product_id(created)
        first = created["ProvisioningArtifactDetail"]["Id"]
        second = self.new_artifact(prod)[0]["ProvisioningArtifactDetail"]["Id"]
        self.assertEqual(self.sc.delete_provisioning_artifact(
            ProductId=prod, ProvisioningArtifactId=first)["ResponseMetadata"]["HTTPStatusCode"],
            200)
        self.assertEqual([a["Id"] for a in self.sc.list_provisioning_artifacts(
            ProductId=prod)["ProvisioningArtifactDetails"]], [second])
        self.assertError(lambda: self.sc.describe_provisioning_artifact(
            ProductId=prod, ProvisioningArtifactId=first), "ResourceNotFoundException", 400)
        self.assertError(lambda: self.sc.delete_provisioning_artifact(
            ProductId=prod, ProvisioningArtifactId=second), "InvalidParametersException", 400,
            message="You cannot delete the last provisioning artifact for a product, because a "
                    "product must have at least one provisioning artifact.")
        self.assertEqual(len(self.sc.list_provisioning_artifacts(
            ProductId=prod)["ProvisioningArtifactDetails"]), 1)

    def test_version_calls_are_authorized_on_the_product_and_audited(self):
        prod = self.product_id(self.new_product())
        other = self.product_id(self.new_product())
        arn = f"arn:aws:catalog:{REGION}:{ACCOUNT}:product/{prod}"
        user, kid, secret = self.server.new_user(policy_doc=policy(allow(
            ["servicecatalog:ListProvisioningArtifacts",
             "servicecatalog:DescribeProvisioningArtifact"], arn)))
        client = self.server.client("servicecatalog", kid, secret)
        self.assertEqual(len(client.list_provisioning_artifacts(
            ProductId=prod)["ProvisioningArtifactDetails"]), 1)
        other_arn = f"arn:aws:catalog:{REGION}:{ACCOUNT}:product/{other}"
        self.assertError(lambda: client.list_provisioning_artifacts(ProductId=other),
                         "AccessDeniedException", 400,
                         message=self.denied_message(
                             user["Arn"], "servicecatalog:ListProvisioningArtifacts", other_arn))
        url = "file://" + self.template_file(JSON_TEMPLATE, ".json")
        error = self.assertError(lambda: client.create_provisioning_artifact(
            ProductId=prod, Parameters={"Name": "v2", "Info": {"LoadTemplateFromURL": url}}),
            "AccessDeniedException", 400, message=self.denied_message(
                user["Arn"], "servicecatalog:CreateProvisioningArtifact", arn))
        pa = self.sc.list_provisioning_artifacts(ProductId=prod)[
            "ProvisioningArtifactDetails"][0]["Id"]
        self.assertError(lambda: client.delete_provisioning_artifact(
            ProductId=prod, ProvisioningArtifactId=pa), "AccessDeniedException", 400,
            message=self.denied_message(user["Arn"], "servicecatalog:DeleteProvisioningArtifact",
                                        arn))
        self.assertEqual(client.describe_provisioning_artifact(
            ProductId=prod, ProvisioningArtifactId=pa)["ProvisioningArtifactDetail"]["Id"], pa)

        denied = audit_entry(self.server, error.response["ResponseMetadata"]["RequestId"])
        self.assertIsNotNone(denied, "the denied call is in the audit log")
        self.assertEqual((denied["action"], denied["resource"], denied["decision"]),
                         ("servicecatalog:CreateProvisioningArtifact", arn, "denied"))
        created = self.sc.create_provisioning_artifact(
            ProductId=prod, Parameters={"Name": "v2", "Info": {"LoadTemplateFromURL": url}})
        allowed = audit_entry(self.server, created["ResponseMetadata"]["RequestId"])
        self.assertIsNotNone(allowed, "the creation is in the audit log")
        self.assertEqual((allowed["action"], allowed["resource"], allowed["decision"]),
                         ("servicecatalog:CreateProvisioningArtifact", arn, "allowed"))


class UpdateConstraintTests(CatalogTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.roles = [unique("SCLaunchA"), unique("SCLaunchB")]
        for name in cls.roles:
            cls.iam.create_role(RoleName=name, AssumeRolePolicyDocument=CATALOG_TRUST)

    def launch_constraint(self):
        prod = self.new_product()["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        pid = self.new_portfolio()["Id"]
        self.sc.associate_product_with_portfolio(ProductId=prod, PortfolioId=pid)
        return self.sc.create_constraint(
            PortfolioId=pid, ProductId=prod, Type="LAUNCH", Description="first role",
            Parameters=json.dumps({"RoleArn": role_arn(self.roles[0])}))["ConstraintDetail"]

    def test_the_description_and_the_launch_role_of_a_launch_constraint_change(self):
        created = self.launch_constraint()
        cid = created["ConstraintId"]
        described = self.sc.update_constraint(Id=cid, Description="still the first role")
        self.assertEqual(described["ConstraintDetail"], {**created,
                                                          "Description": "still the first role"})
        self.assertEqual(json.loads(described["ConstraintParameters"]),
                         {"RoleArn": role_arn(self.roles[0])})
        self.assertEqual(described["Status"], "CREATING")
        local = json.dumps({"LocalRoleName": self.roles[1]})
        updated = self.sc.update_constraint(Id=cid, Parameters=local)
        self.assertEqual(updated["ConstraintParameters"], local)
        self.assertEqual(updated["ConstraintDetail"]["Description"], "still the first role")
        got = self.sc.describe_constraint(Id=cid)
        self.assertEqual(got["ConstraintParameters"], local)
        self.assertEqual(got["ConstraintDetail"]["Type"], "LAUNCH")

    def test_launch_parameters_are_checked_as_creation_checks_them(self):
        cid = self.launch_constraint()["ConstraintId"]
        self.assertError(lambda: self.sc.update_constraint(Id=cid, Parameters=json.dumps(
            {"RoleArn": role_arn(self.roles[0]), "LocalRoleName": self.roles[1]})),
            "InvalidParametersException", 400,
            message="Parameters of a LAUNCH constraint may have RoleArn or LocalRoleName, not both")
        self.assertError(lambda: self.sc.update_constraint(Id=cid, Parameters=json.dumps(
            {"RoleArn": role_arn("no-such-launch-role")})), "InvalidParametersException", 400,
            message=f"The launch role {role_arn('no-such-launch-role')} does not exist")
        self.assertError(lambda: self.sc.update_constraint(Id=cid, Parameters="not json"),
                         "InvalidParametersException", 400,
                         message="Parameters `not json` must be a JSON object")
        self.assertEqual(json.loads(self.sc.describe_constraint(Id=cid)["ConstraintParameters"]),
                         {"RoleArn": role_arn(self.roles[0])}, "a refused update changes nothing")
        self.assertError(lambda: self.sc.update_constraint(Id="cons-0000000000000",
                                                           Description="x"),
                         "ResourceNotFoundException", 400,
                         message="Constraint not found: cons-0000000000000")

    def test_update_constraint_is_authorized_on_the_catalog(self):
        cid = self.launch_constraint()["ConstraintId"]
        user, kid, secret = self.server.new_user()
        client = self.server.client("servicecatalog", kid, secret)
        self.assertError(lambda: client.update_constraint(Id=cid, Description="x"),
                         "AccessDeniedException", 400, message=self.denied_message(
                             user["Arn"], "servicecatalog:UpdateConstraint",
                             f"arn:aws:catalog:{REGION}:{ACCOUNT}:*"))
        self.assertEqual(self.sc.describe_constraint(Id=cid)["ConstraintDetail"]["Description"],
                         "first role")


class PortfolioShareTests(CatalogTestCase):
    """AcceptPortfolioShare and RejectPortfolioShare: the only share an account of rolewright
    holds is the SageMaker portfolio, imported and accepted by the portfolio switch."""

    def sagemaker_portfolio(self):
        self.server.admin("sagemaker").enable_sagemaker_servicecatalog_portfolio()
        shares = self.sc.list_accepted_portfolio_shares()["PortfolioDetails"]
        self.assertEqual(len(shares), 1, shares)
        return shares[0]["Id"]

    def test_accepting_the_sagemaker_share_again_changes_nothing(self):
        pid = self.sagemaker_portfolio()
        self.assertEqual(self.sc.accept_portfolio_share(PortfolioId=pid)["ResponseMetadata"][
            "HTTPStatusCode"], 200)
        self.sc.accept_portfolio_share(PortfolioId=pid, PortfolioShareType="IMPORTED")
        self.assertEqual([p["Id"] for p in self.sc.list_accepted_portfolio_shares()[
            "PortfolioDetails"]], [pid])

    def test_rejecting_the_sagemaker_share_takes_it_out_until_the_switch_is_on_again(self):
        sm = self.server.admin("sagemaker")
        pid = self.sagemaker_portfolio()
        role = unique("SageMaker-exec")
        self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=SAGEMAKER_TRUST)
        self.sc.associate_principal_with_portfolio(PortfolioId=pid, PrincipalARN=role_arn(role),
                                                   PrincipalType="IAM")
        self.sc.reject_portfolio_share(PortfolioId=pid)
        self.assertEqual(self.sc.list_accepted_portfolio_shares()["PortfolioDetails"], [])
        self.assertEqual(sm.get_sagemaker_servicecatalog_portfolio_status()["Status"], "Disabled")
        self.assertError(lambda: self.sc.describe_portfolio(Id=pid), "ResourceNotFoundException",
                         400, message=f"Portfolio not found: {pid}")
        self.assertError(lambda: self.sc.reject_portfolio_share(PortfolioId=pid),
                         "ResourceNotFoundException", 400, message=f"Portfolio not found: {pid}")
        self.assertError(lambda: self.sc.accept_portfolio_share(PortfolioId=pid),
                         "ResourceNotFoundException", 400, message=f"Portfolio not found: {pid}")
        self.assertEqual(self.sagemaker_portfolio(), pid, "the portfolio keeps its id")
        self.assertEqual([p["PrincipalARN"] for p in self.sc.list_principals_for_portfolio(
            PortfolioId=pid)["Principals"]], [role_arn(role)])

    def test_shares_that_do_not_exist_are_not_found(self):
        pid = self.sagemaker_portfolio()
        local = self.new_portfolio()["Id"]
        for call in (self.sc.accept_portfolio_share, self.sc.reject_portfolio_share):
            self.assertError(lambda: call(PortfolioId="port-0000000000000"),
                             "ResourceNotFoundException", 400,
                             message="Portfolio not found: port-0000000000000")
            self.assertError(lambda: call(PortfolioId=local), "ResourceNotFoundException", 400,
                             message=f"Portfolio not found: {local}")
            for share_type in ("AWS_ORGANIZATIONS", "AWS_SERVICECATALOG"):
                self.assertError(lambda: call(PortfolioId=pid, PortfolioShareType=share_type),
                                 "ResourceNotFoundException", 400,
                                 message=f"Portfolio not found: {pid}")
        self.assertEqual([p["Id"] for p in self.sc.list_accepted_portfolio_shares()[
            "PortfolioDetails"]], [pid], "a refused rejection leaves the share")
        self.assertError(lambda: self.sc.accept_portfolio_share(PortfolioId=pid,
                                                                PortfolioShareType="SHARED"),
                         "ValidationException", 400,
                         message="1 validation error detected: Value 'SHARED' at "
                                 "'portfolioShareType' failed to satisfy constraint: Member must "
                                 "satisfy enum value set: [IMPORTED, AWS_SERVICECATALOG, "
                                 "AWS_ORGANIZATIONS]")

    def test_share_calls_are_authorized_on_the_portfolio_and_audited(self):
        pid = self.sagemaker_portfolio()
        arn = f"arn:aws:catalog:{REGION}:{ACCOUNT}:portfolio/{pid}"
        user, kid, secret = self.server.new_user(policy_doc=policy(
            allow("servicecatalog:AcceptPortfolioShare", arn)))
        client = self.server.client("servicecatalog", kid, secret)
        client.accept_portfolio_share(PortfolioId=pid)
        error = self.assertError(lambda: client.reject_portfolio_share(PortfolioId=pid),
                                 "AccessDeniedException", 400, message=self.denied_message(
                                     user["Arn"], "servicecatalog:RejectPortfolioShare", arn))
        other = f"arn:aws:catalog:{REGION}:{ACCOUNT}:portfolio/port-0000000000000"
        self.assertError(lambda: client.accept_portfolio_share(PortfolioId="port-0000000000000"),
                         "AccessDeniedException", 400, message=self.denied_message(
                             user["Arn"], "servicecatalog:AcceptPortfolioShare", other))
        self.assertEqual([p["Id"] for p in self.sc.list_accepted_portfolio_shares()[
            "PortfolioDetails"]], [pid])
        denied = audit_entry(self.server, error.response["ResponseMetadata"]["RequestId"])
        self.assertIsNotNone(denied, "the denied call is in the audit log")
        self.assertEqual((denied["action"], denied["resource"], denied["decision"]),
                         ("servicecatalog:RejectPortfolioShare", arn, "denied"))
        rejected = self.sc.reject_portfolio_share(PortfolioId=pid)
        allowed = audit_entry(self.server, rejected["ResponseMetadata"]["RequestId"])
        self.assertIsNotNone(allowed, "the rejection is in the audit log")
        self.assertEqual((allowed["action"], allowed["decision"]),
                         ("servicecatalog:RejectPortfolioShare", "allowed"))


class VersionDurabilityTests(CatalogTestCase):
    def test_versions_constraint_updates_and_a_rejected_share_survive_a_restart(self):
        created = self.new_product()
        prod = created["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        first = created["ProvisioningArtifactDetail"]["Id"]
        url = "file://" + self.template_file(JSON_TEMPLATE, ".json")
        token = unique("token")
        second = self.sc.create_provisioning_artifact(
            ProductId=prod, IdempotencyToken=token,
            Parameters={"Name": "v2", "Info": {"LoadTemplateFromURL": url}})[
            "ProvisioningArtifactDetail"]
        third = self.sc.create_provisioning_artifact(
            ProductId=prod, Parameters={"Name": "v3", "Info": {"LoadTemplateFromURL": url}})[
            "ProvisioningArtifactDetail"]["Id"]
        self.sc.delete_provisioning_artifact(ProductId=prod, ProvisioningArtifactId=first)
        role = unique("SCLaunch")
        self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=CATALOG_TRUST)
        pid = self.new_portfolio()["Id"]
        self.sc.associate_product_with_portfolio(ProductId=prod, PortfolioId=pid)
        cid = self.sc.create_constraint(PortfolioId=pid, ProductId=prod, Type="LAUNCH",
                                        Parameters=json.dumps({"RoleArn": role_arn(role)}))[
            "ConstraintDetail"]["ConstraintId"]
        self.sc.update_constraint(Id=cid, Description="updated",
                                  Parameters=json.dumps({"LocalRoleName": role}))
        self.server.admin("sagemaker").enable_sagemaker_servicecatalog_portfolio()
        imported = self.sc.list_accepted_portfolio_shares()["PortfolioDetails"][0]["Id"]
        self.sc.reject_portfolio_share(PortfolioId=imported)
        self.server.stop_and_check()

        again = Server(data_dir=self.server.data_dir).start()
        self.addCleanup(again.cleanup)
        sc = again.admin("servicecatalog")
        listed = sc.list_provisioning_artifacts(ProductId=prod)["ProvisioningArtifactDetails"]
        self.assertEqual([a["Id"] for a in listed], [second["Id"], third])
        described = sc.describe_provisioning_artifact(ProductId=prod,
                                                      ProvisioningArtifactId=second["Id"])
        self.assertEqual(described["Info"], {"TemplateUrl": url})
        self.assertEqual(described["ProvisioningArtifactDetail"]["Name"], "v2")
        repeated = sc.create_provisioning_artifact(
            ProductId=prod, IdempotencyToken=token,
            Parameters={"Name": "v4", "Info": {"LoadTemplateFromURL": url}})
        self.assertEqual(repeated["ProvisioningArtifactDetail"]["Id"], second["Id"],
                         "idempotency tokens are kept across restarts")
        constraint = sc.describe_constraint(Id=cid)
        self.assertEqual(constraint["ConstraintDetail"]["Description"], "updated")
        self.assertEqual(json.loads(constraint["ConstraintParameters"]), {"LocalRoleName": role})
        self.assertEqual(sc.list_accepted_portfolio_shares()["PortfolioDetails"], [])
        again.stop_and_check()
