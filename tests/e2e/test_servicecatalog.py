"""Service Catalog through boto3 (issue 10, items 3 and 4): portfolios and their principals (IAM and
IAM_PATTERN, AWS's limit of 10 patterns), the SageMaker portfolio that the portfolio switch imports
and seed 000's retrofit of execution roles, products from template files, LAUNCH constraints,
launch paths and the end user's product search, AWS's error codes and texts, and authorization of
every call by the engine.
"""

import json
import os
import re
import shutil
import tempfile
import time

from harness import ACCOUNT, REGION, E2ETestCase, Server, allow, policy, trust, unique

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
