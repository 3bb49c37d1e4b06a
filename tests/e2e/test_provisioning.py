"""Seed 002 end to end (issue 11, item 5a), written test-first from AWS's documented behaviour: a
cloud admin who holds no SageMaker rights provisions a Studio domain and user profiles through
Service Catalog, and Service Catalog runs each product's CloudFormation template as the launch role
of the product's LAUNCH constraint.

* The platform admin sets the catalog up as the seed's launch template does: the SageMaker execution
  role, the launch role (trusting servicecatalog.amazonaws.com, with the seed launch role's
  permissions; made with the AWS CLI), a portfolio, the seed's two products (a Studio domain and a
  user profile, the templates written below as the seed's public samples write them), a LAUNCH
  constraint on each, and the cloud admin's role as the portfolio's principal.
* The cloud admin (a session of a role holding only AWSServiceCatalogEndUserFullAccess) is denied
  sagemaker:CreateDomain directly, then provisions a domain and two user profiles the way scripts
  do (ProvisionProduct with ProvisioningParameters and a ProvisionToken, DescribeRecord until
  SUCCEEDED, the outputs), and the resources exist with the tags the templates and the provisioning
  request set.
* A data scientist whose CreatePresignedDomainUrl is scoped by `sagemaker:ResourceTag/studiouserid`
  = `${aws:PrincipalTag/studiouserid}` opens their own profile and is denied the other's.
* TerminateProvisionedProduct removes the profiles and the domain; the audit log shows every
  resource call as made by the launch role's session, linked to the cloud admin's request.
* A template with a resource type rolewright does not provision ends FAILED naming the type and the
  logical id, with nothing created; a template that fails at its second resource rolls the first
  back, and the record and the stack's events name the failed resource and SageMaker's error text.

Where these tests follow AWS rather than the seed's samples, the comment beside the step says why
and where AWS's behaviour is written down.
"""

import http.cookiejar
import json
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request

from botocore.exceptions import ClientError

from harness import (ACCOUNT, REGION, E2ETestCase, allow, audit_records, aws_cli, command_env,
                     json_leaves, keys_env, poll, policy, run_command, trust, unique)

END_USER = "arn:aws:iam::aws:policy/AWSServiceCatalogEndUserFullAccess"
SAGEMAKER_FULL_ACCESS = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
# The seed's names: its templates refer to the execution role by this name.
EXECUTION_ROLE = "SageMakerExecutionRole"
LAUNCH_ROLE = "SageMakerProvisioningRole"
CLOUD_ADMIN_ROLE = "CloudAdmin"
VPC_ID = "vpc-0123456789abcdef0"
SUBNETS = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
# Service Catalog assumes a launch role with the session name `servicecatalog`: AccessDenied
# texts from launch roles read `assumed-role/<LaunchRole>/servicecatalog`
# (aws-samples/mlops-sagemaker-github-actions#4, awslabs/service-workbench-on-aws#1018,
# aws-samples/sagemaker-custom-project-templates#41).
LAUNCH_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/{LAUNCH_ROLE}/servicecatalog"
MISSING_DOMAIN = "d-000000000000"

# The seed's product_studio_domain template: VpcId and Subnets (a comma separated String, split
# with !Split), one AWS::SageMaker::Domain in IAM mode whose default execution role is the
# account's SageMakerExecutionRole. The samples declare no Outputs; these are added so that the
# record and GetProvisionedProductOutputs have something to show (GetAtt names from the
# resource's schema: DomainId, DomainArn, Url).
DOMAIN_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: A SageMaker Studio domain for the data science teams, in IAM mode
Parameters:
  VpcId:
    Type: String
    Description: The VPC that Studio uses for communication
  Subnets:
    Type: String
    Description: The subnets that Studio uses, as a comma separated list of subnet IDs
Resources:
  SageMakerDomain:
    Type: AWS::SageMaker::Domain
    Properties:
      DomainName: SageMaker-Domain
      VpcId: !Ref VpcId
      SubnetIds: !Split [",", !Ref Subnets]
      AuthMode: IAM
      DefaultUserSettings:
        ExecutionRole: !Sub "arn:aws:iam::${AWS::AccountId}:role/SageMakerExecutionRole"
Outputs:
  DomainId:
    Description: The ID of the Studio domain
    Value: !GetAtt SageMakerDomain.DomainId
  DomainArn:
    Value: !GetAtt SageMakerDomain.DomainArn
  DomainUrl:
    Value: !GetAtt SageMakerDomain.Url
"""

# The seed's product_user_profile template: DomainId and UserProfileName, one
# AWS::SageMaker::UserProfile whose execution role is built with !Join as the sample's first
# version builds it. The `studiouserid` tag is the seed's tag-scoped variant ("restrict access to
# just those user profiles that are assigned to specific users via tags"; NOTES.md §4).
PROFILE_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: A user profile in a SageMaker Studio domain
Parameters:
  DomainId:
    Type: String
    Description: The ID of the Studio domain
  UserProfileName:
    Type: String
    Description: The name of the new user profile
Resources:
  UserProfile:
    Type: AWS::SageMaker::UserProfile
    Properties:
      UserProfileName: !Ref UserProfileName
      DomainId: !Ref DomainId
      UserSettings:
        ExecutionRole: !Join ["", ["arn:aws:iam::", !Ref "AWS::AccountId", ":role/SageMakerExecutionRole"]]
      Tags:
        - Key: studiouserid
          Value: !Ref UserProfileName
Outputs:
  UserProfileArn:
    Description: The ARN of the user profile
    Value: !GetAtt UserProfile.UserProfileArn
"""

# The profile product with a scratch bucket beside it: AWS::S3::Bucket is a real type that
# rolewright does not provision, so provisioning must fail before anything is created.
UNSUPPORTED_TEMPLATE = PROFILE_TEMPLATE.replace("""Outputs:""", """\
  ScratchBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${UserProfileName}-scratch"
Outputs:""")

# Two profiles, the second (created after the first) in a domain that does not exist: SageMaker
# refuses it, so CloudFormation must delete the first again.
HALFWAY_TEMPLATE = PROFILE_TEMPLATE.replace("""Outputs:""", f"""\
  SecondUserProfile:
    Type: AWS::SageMaker::UserProfile
    DependsOn: UserProfile
    Properties:
      UserProfileName: !Sub "${{UserProfileName}}-second"
      DomainId: {MISSING_DOMAIN}
Outputs:""")


def role_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def launch_role_policy():
    """The seed launch role's permissions (NOTES.md §4, `SageMakerProvisioningRole`), plus what
    the user-profile product needs: the seed puts no LAUNCH constraint on that product, and its
    launch role lacks the user-profile actions; the repository's README says the provisioning
    role creates user profiles. SageMaker checks sagemaker:AddTags when a create call carries
    tags, and launch roles without it fail (aws-solutions/research-service-workbench-on-aws#441,
    aws-samples/sagemaker-custom-project-templates#41), so it is granted too."""
    return policy(
        allow(["cloudformation:CreateStack", "cloudformation:DeleteStack",
               "cloudformation:UpdateStack"], "arn:aws:cloudformation:*:*:stack/SC-*"),
        allow(["cloudformation:DescribeStackEvents", "cloudformation:DescribeStacks",
               "cloudformation:GetTemplateSummary"]),
        allow(["sagemaker:CreateDomain", "sagemaker:DescribeDomain", "sagemaker:DeleteDomain"]),
        allow("s3:Get*", Condition={"StringEquals": {
            "s3:ExistingObjectTag/servicecatalog:provisioning": "true"}}),
        allow(["iam:Get*", "iam:List*"]),
        allow("iam:PassRole", role_arn(EXECUTION_ROLE)),
        allow("ec2:*"),
        allow(["sagemaker:CreateUserProfile", "sagemaker:DescribeUserProfile",
               "sagemaker:DeleteUserProfile"]),
        allow(["sagemaker:AddTags", "sagemaker:ListTags", "sagemaker:DeleteTags"]),
    )


def outputs_of(outputs):
    return {o["OutputKey"]: o["OutputValue"] for o in outputs}


def tags_of(tags):
    return {t["Key"]: t["Value"] for t in tags}


class ProvisioningCase(E2ETestCase):
    """The platform admin's setup, shared by every flow: roles, a portfolio, the cloud admin."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sc = cls.server.admin("servicecatalog")
        cls.sm = cls.server.admin("sagemaker")
        cls.cfn = cls.server.admin("cloudformation")
        cls.tmp = tempfile.mkdtemp(prefix="rolewright-provisioning-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)

        cls.iam.create_role(RoleName=EXECUTION_ROLE, AssumeRolePolicyDocument=json.dumps(
            trust({"Service": "sagemaker.amazonaws.com"})))
        cls.iam.attach_role_policy(RoleName=EXECUTION_ROLE, PolicyArn=SAGEMAKER_FULL_ACCESS)

        # The launch role with the AWS CLI, as the admin's own scripts create it.
        trust_file = cls.write("launch-trust.json", json.dumps(
            trust({"Service": "servicecatalog.amazonaws.com"})))
        policy_file = cls.write("launch-policy.json", json.dumps(launch_role_policy()))
        cls.aws("iam", "create-role", "--role-name", LAUNCH_ROLE,
                "--assume-role-policy-document", f"file://{trust_file}")
        cls.aws("iam", "put-role-policy", "--role-name", LAUNCH_ROLE, "--policy-name",
                "ProvisioningAccess", "--policy-document", f"file://{policy_file}")

        cls.portfolio_id = cls.sc.create_portfolio(
            DisplayName="SageMaker Product Portfolio", ProviderName="AWS")["PortfolioDetail"]["Id"]

        # The cloud admin: Service Catalog's end-user policy and nothing else.
        cls.iam.create_role(RoleName=CLOUD_ADMIN_ROLE, AssumeRolePolicyDocument=json.dumps(
            trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})))
        cls.iam.attach_role_policy(RoleName=CLOUD_ADMIN_ROLE, PolicyArn=END_USER)
        cls.sc.associate_principal_with_portfolio(
            PortfolioId=cls.portfolio_id, PrincipalARN=role_arn(CLOUD_ADMIN_ROLE),
            PrincipalType="IAM")
        cls.cloud_creds = cls.sts.assume_role(RoleArn=role_arn(CLOUD_ADMIN_ROLE),
                                              RoleSessionName="cloud-admin")["Credentials"]
        cls.cloud_admin_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/{CLOUD_ADMIN_ROLE}/cloud-admin"
        cls.cloud_sc = cls.server.client_from_credentials("servicecatalog", cls.cloud_creds)
        cls.cloud_sm = cls.server.client_from_credentials("sagemaker", cls.cloud_creds)

    @classmethod
    def write(cls, name, text):
        path = os.path.join(cls.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    @classmethod
    def aws(cls, *args, env=None, check=True):
        """`aws --endpoint-url URL ARGS --output json` (the platform admin's profile unless `env`
        says otherwise); the parsed output, or the completed process when check is False."""
        out = run_command([aws_cli(), "--endpoint-url", cls.server.url, *args, "--output", "json"],
                          env or command_env(cls.server, AWS_ENDPOINT_URL=None), check=check)
        if not check:
            return out
        return json.loads(out.stdout) if out.stdout.strip() else None

    @classmethod
    def product(cls, name, template, constraint_by_cli=False):
        """A product from a template file, in the portfolio, with a LAUNCH constraint naming the
        launch role; returns its id."""
        path = cls.write(f"{unique('template')}.yaml", template)
        created = cls.sc.create_product(
            Name=name, Owner="AWS", ProductType="CLOUD_FORMATION_TEMPLATE",
            ProvisioningArtifactParameters={
                "Name": "v1", "Type": "CLOUD_FORMATION_TEMPLATE",
                "Info": {"LoadTemplateFromURL": "file://" + path}})
        # A product accepts any template it can read: AWS runs it only when provisioning.
        if created["ProductViewDetail"]["Status"] != "AVAILABLE":
            raise AssertionError(f"product {name} is not AVAILABLE: {created}")
        prod = created["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        cls.sc.associate_product_with_portfolio(ProductId=prod, PortfolioId=cls.portfolio_id)
        parameters = json.dumps({"RoleArn": role_arn(LAUNCH_ROLE)})
        if constraint_by_cli:
            cls.aws("servicecatalog", "create-constraint", "--portfolio-id", cls.portfolio_id,
                    "--product-id", prod, "--type", "LAUNCH", "--parameters", parameters,
                    "--description", "Role used for provisioning")
        else:
            cls.sc.create_constraint(PortfolioId=cls.portfolio_id, ProductId=prod, Type="LAUNCH",
                                     Parameters=parameters,
                                     Description="Role used for provisioning")
        return prod

    def launch(self, prod, name, parameters, token=None, **extra):
        """ProvisionProduct as the cloud admin, with the product's only version."""
        artifacts = self.cloud_sc.describe_product(Id=prod)["ProvisioningArtifacts"]
        self.assertEqual(len(artifacts), 1, artifacts)
        return self.cloud_sc.provision_product(
            ProductId=prod, ProvisioningArtifactId=artifacts[0]["Id"],
            ProvisionedProductName=name, ProvisionToken=token or unique("token"),
            ProvisioningParameters=[{"Key": k, "Value": v} for k, v in parameters.items()],
            **extra)

    def wait_for_record(self, record_id, client=None):
        """DescribeRecord until SUCCEEDED or FAILED, as scripts poll; checks that the states seen
        follow AWS's order (CREATED, IN_PROGRESS, then SUCCEEDED or FAILED)."""
        client = client or self.cloud_sc
        seen = []

        def describe():
            answer = client.describe_record(Id=record_id)
            status = answer["RecordDetail"]["Status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            return answer

        answer = poll(describe, lambda a: a["RecordDetail"]["Status"] in ("SUCCEEDED", "FAILED"),
                      f"record {record_id}")
        order = ["CREATED", "IN_PROGRESS", seen[-1]]
        self.assertEqual(seen, [s for s in order if s in seen],
                         f"record {record_id} went through {seen}")
        return answer

    def missing_domain_text(self, name):
        """SageMaker's own answer to CreateUserProfile of `name` in a domain that does not
        exist."""
        try:
            self.sm.create_user_profile(DomainId=MISSING_DOMAIN, UserProfileName=name)
        except ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], "ResourceNotFound")
            return e.response["Error"]["Message"]
        self.fail(f"CreateUserProfile in {MISSING_DOMAIN} succeeded")


class SeedFlowTests(ProvisioningCase):
    """The cloud admin provisions Studio; the data scientist opens it; the cloud admin tears it
    down."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.domain_product = cls.product("SageMaker Studio Domain", DOMAIN_TEMPLATE)
        cls.profile_product = cls.product("SageMaker Studio User Profile", PROFILE_TEMPLATE,
                                          constraint_by_cli=True)

    def test_the_cloud_admin_provisions_studio_and_the_data_scientist_opens_it(self):
        # The cloud admin has no SageMaker rights of its own.
        self.assertError(
            lambda: self.cloud_sm.create_domain(
                DomainName="by-hand", AuthMode="IAM", VpcId=VPC_ID, SubnetIds=SUBNETS,
                DefaultUserSettings={"ExecutionRole": role_arn(EXECUTION_ROLE)}),
            "AccessDeniedException", 400,
            message_re=(rf"^User: {re.escape(self.cloud_admin_arn)} is not authorized to perform: "
                        rf"sagemaker:CreateDomain on resource: arn:aws:sagemaker:{REGION}:"
                        rf"{ACCOUNT}:domain/\S+ because no identity-based policy allows the "
                        rf"sagemaker:CreateDomain action$"))

        # What the end-user console shows: both products, their launch path and parameters.
        found = {p["Name"]: p["ProductId"]
                 for p in self.cloud_sc.search_products()["ProductViewSummaries"]}
        self.assertEqual(found, {"SageMaker Studio Domain": self.domain_product,
                                 "SageMaker Studio User Profile": self.profile_product})
        paths = self.cloud_sc.list_launch_paths(ProductId=self.domain_product)[
            "LaunchPathSummaries"]
        self.assertEqual(len(paths), 1, paths)
        self.assertEqual([c["Type"] for c in paths[0]["ConstraintSummaries"]], ["LAUNCH"])
        artifact = self.cloud_sc.describe_product(Id=self.domain_product)[
            "ProvisioningArtifacts"][0]["Id"]
        described = self.cloud_sc.describe_provisioning_parameters(
            ProductId=self.domain_product, ProvisioningArtifactId=artifact, PathId=paths[0]["Id"])
        self.assertEqual(
            {p["ParameterKey"]: (p["ParameterType"], p["IsNoEcho"])
             for p in described["ProvisioningArtifactParameters"]},
            {"VpcId": ("String", False), "Subnets": ("String", False)})

        # The domain. ProvisionProduct answers at once with a CREATED record (the AWS CLI
        # reference's provision-product example); the stack runs behind it.
        token = unique("domain")
        started = self.cloud_sc.provision_product(
            ProductId=self.domain_product, ProvisioningArtifactId=artifact, PathId=paths[0]["Id"],
            ProvisionedProductName="studio-domain", ProvisionToken=token,
            ProvisioningParameters=[{"Key": "VpcId", "Value": VPC_ID},
                                    {"Key": "Subnets", "Value": ",".join(SUBNETS)}],
            # Tags of the request go on the stack, and CloudFormation puts stack tags on every
            # resource that takes tags (the Domain schema: taggable, tagOnCreate).
            Tags=[{"Key": "cost-center", "Value": "ml-platform"}])
        record = started["RecordDetail"]
        self.assertEqual(record["Status"], "CREATED")
        self.assertRegex(record["RecordId"], r"^rec-[a-z0-9]{13}$")
        self.assertRegex(record["ProvisionedProductId"], r"^pp-[a-z0-9]{13}$")
        self.assertEqual((record["RecordType"], record["ProvisionedProductType"],
                          record["ProvisionedProductName"], record["ProductId"],
                          record["ProvisioningArtifactId"], record["PathId"]),
                         ("PROVISION_PRODUCT", "CFN_STACK", "studio-domain", self.domain_product,
                          artifact, paths[0]["Id"]))
        domain_pp = record["ProvisionedProductId"]
        domain_request = started["ResponseMetadata"]["RequestId"]
        done = self.wait_for_record(record["RecordId"])
        detail = done["RecordDetail"]
        self.assertEqual(detail["Status"], "SUCCEEDED", detail.get("RecordErrors"))
        self.assertEqual(detail["RecordErrors"], [])
        self.assertEqual(detail["LaunchRoleArn"], role_arn(LAUNCH_ROLE))
        outputs = outputs_of(done["RecordOutputs"])
        domain_id = outputs["DomainId"]
        self.assertRegex(domain_id, r"^d-[a-z0-9]{12}$")
        domain_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/{domain_id}"
        self.assertEqual(outputs["DomainArn"], domain_arn)
        # Service Catalog adds the stack's ARN to a CloudFormation product's outputs
        # (awslabs/service-workbench-on-aws reads `CloudformationStackARN` from them); the stack
        # is named SC-<account>-<provisioned product id> (the stack names in the launch-role
        # errors cited above).
        stack_arn = outputs["CloudformationStackARN"]
        self.assertRegex(stack_arn, rf"^arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/"
                                    rf"SC-{ACCOUNT}-{domain_pp}/[0-9a-f-]{{36}}$")
        again = self.cloud_sc.provision_product(
            ProductId=self.domain_product, ProvisioningArtifactId=artifact, PathId=paths[0]["Id"],
            ProvisionedProductName="studio-domain", ProvisionToken=token,
            ProvisioningParameters=[{"Key": "VpcId", "Value": VPC_ID},
                                    {"Key": "Subnets", "Value": ",".join(SUBNETS)}],
            Tags=[{"Key": "cost-center", "Value": "ml-platform"}])
        self.assertEqual(again["RecordDetail"]["RecordId"], record["RecordId"],
                         "the same ProvisionToken answers the same record")

        domain = poll(lambda: self.sm.describe_domain(DomainId=domain_id),
                      lambda d: d["Status"] == "InService", f"domain {domain_id}")
        self.assertEqual((domain["DomainName"], domain["AuthMode"], domain["VpcId"],
                          domain["SubnetIds"], domain["DefaultUserSettings"]["ExecutionRole"]),
                         ("SageMaker-Domain", "IAM", VPC_ID, SUBNETS, role_arn(EXECUTION_ROLE)))
        self.assertEqual(tags_of(self.sm.list_tags(ResourceArn=domain_arn)["Tags"]).get(
            "cost-center"), "ml-platform")
        pp = self.cloud_sc.describe_provisioned_product(Id=domain_pp)["ProvisionedProductDetail"]
        self.assertEqual((pp["Status"], pp["Type"], pp["Name"], pp["LastRecordId"],
                          pp["ProductId"], pp["LaunchRoleArn"]),
                         ("AVAILABLE", "CFN_STACK", "studio-domain", record["RecordId"],
                          self.domain_product, role_arn(LAUNCH_ROLE)))
        # The stack is CloudFormation's too.
        stack = self.cfn.describe_stacks(StackName=stack_arn)["Stacks"][0]
        self.assertEqual((stack["StackName"], stack["StackStatus"]),
                         (f"SC-{ACCOUNT}-{domain_pp}", "CREATE_COMPLETE"))
        self.assertEqual(outputs_of(stack["Outputs"])["DomainId"], domain_id)
        resources = self.cfn.list_stack_resources(StackName=stack_arn)["StackResourceSummaries"]
        self.assertEqual([(r["LogicalResourceId"], r["ResourceType"], r["ResourceStatus"])
                          for r in resources],
                         [("SageMakerDomain", "AWS::SageMaker::Domain", "CREATE_COMPLETE")])

        # Two user profiles.
        users = [unique("alice"), unique("bob")]
        alice, bob = users
        profile_pps, profile_requests = {}, {}
        for user in users:
            token = unique("profile")
            started = self.launch(self.profile_product, f"profile-{user}",
                                  {"DomainId": domain_id, "UserProfileName": user}, token=token)
            self.assertEqual(started["RecordDetail"]["Status"], "CREATED")
            repeated = self.launch(self.profile_product, f"profile-{user}",
                                   {"DomainId": domain_id, "UserProfileName": user}, token=token)
            self.assertEqual(repeated["RecordDetail"]["RecordId"],
                             started["RecordDetail"]["RecordId"])
            profile_pps[user] = started["RecordDetail"]["ProvisionedProductId"]
            profile_requests[user] = started["ResponseMetadata"]["RequestId"]
        for user in users:
            pp = self.cloud_sc.describe_provisioned_product(Id=profile_pps[user])[
                "ProvisionedProductDetail"]
            done = self.wait_for_record(pp["LastRecordId"])
            self.assertEqual(done["RecordDetail"]["Status"], "SUCCEEDED",
                             done["RecordDetail"].get("RecordErrors"))
            profile_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{domain_id}/{user}"
            self.assertEqual(outputs_of(done["RecordOutputs"])["UserProfileArn"], profile_arn)
            profile = poll(lambda: self.sm.describe_user_profile(DomainId=domain_id,
                                                                 UserProfileName=user),
                           lambda p: p["Status"] == "InService", f"user profile {user}")
            self.assertEqual(profile["UserSettings"]["ExecutionRole"], role_arn(EXECUTION_ROLE))
            self.assertEqual(tags_of(self.sm.list_tags(ResourceArn=profile_arn)["Tags"]).get(
                "studiouserid"), user)

        # GetProvisionedProductOutputs, by name and by id. It is not among the actions of
        # AWSServiceCatalogEndUserFullAccess, so the platform admin reads them here; the cloud
        # admin reads them from DescribeRecord above, as the end-user console does.
        by_name = self.sc.get_provisioned_product_outputs(ProvisionedProductName="studio-domain")
        self.assertEqual(outputs_of(by_name["Outputs"])["DomainId"], domain_id)
        by_id = self.sc.get_provisioned_product_outputs(ProvisionedProductId=domain_pp,
                                                        OutputKeys=["DomainUrl"])
        self.assertEqual([o["OutputKey"] for o in by_id["Outputs"]], ["DomainUrl"])
        self.assertEqual(by_id["Outputs"][0]["OutputValue"], domain["Url"])
        mine = {p["Name"]: p for p in self.cloud_sc.search_provisioned_products()[
            "ProvisionedProducts"]}
        self.assertEqual(sorted(mine), sorted(["studio-domain"] + [f"profile-{u}" for u in users]))
        self.assertEqual((mine["studio-domain"]["Type"], mine["studio-domain"]["PhysicalId"]),
                         ("CFN_STACK", stack_arn), "a CFN_STACK's physical id is its stack")

        self.data_scientist_opens_only_their_own_profile(domain_id, *users)

        # Teardown by the cloud admin: the profiles (one with the AWS CLI), then the domain.
        cloud_env = keys_env(self.server, self.cloud_creds["AccessKeyId"],
                             self.cloud_creds["SecretAccessKey"], self.cloud_creds["SessionToken"])
        terminations = [
            self.cloud_sc.terminate_provisioned_product(ProvisionedProductId=profile_pps[alice]),
            self.aws("servicecatalog", "terminate-provisioned-product",
                     "--provisioned-product-id", profile_pps[bob], env=cloud_env),
        ]
        for answer in terminations:
            self.assertEqual(answer["RecordDetail"]["RecordType"], "TERMINATE_PROVISIONED_PRODUCT")
            done = self.wait_for_record(answer["RecordDetail"]["RecordId"])
            self.assertEqual(done["RecordDetail"]["Status"], "SUCCEEDED",
                             done["RecordDetail"].get("RecordErrors"))
        for user in users:
            self.assertError(lambda: self.sm.describe_user_profile(DomainId=domain_id,
                                                                   UserProfileName=user),
                             "ResourceNotFound", 400)
        ended = self.cloud_sc.terminate_provisioned_product(ProvisionedProductName="studio-domain")
        done = self.wait_for_record(ended["RecordDetail"]["RecordId"])
        self.assertEqual(done["RecordDetail"]["Status"], "SUCCEEDED",
                         done["RecordDetail"].get("RecordErrors"))
        self.assertError(lambda: self.sm.describe_domain(DomainId=domain_id), "ResourceNotFound",
                         400)
        for pp_id in [domain_pp, *profile_pps.values()]:
            self.assertError(lambda: self.cloud_sc.describe_provisioned_product(Id=pp_id),
                             "ResourceNotFoundException", 400)
        self.assertEqual(self.cfn.describe_stacks(StackName=stack_arn)["Stacks"][0][
            "StackStatus"], "DELETE_COMPLETE", "a deleted stack stays readable by its id")

        # The audit log: every resource call by the launch role's session, none by the cloud
        # admin (but the creation it was denied), each linked to the cloud admin's request that
        # caused it.
        resource_actions = ("sagemaker:CreateDomain", "sagemaker:DeleteDomain",
                            "sagemaker:CreateUserProfile", "sagemaker:DeleteUserProfile")
        calls = [r for r in audit_records(self.server, until=lambda rs: any(
            r.get("action") == "sagemaker:DeleteDomain" and r.get("principal") == LAUNCH_SESSION
            for r in rs)) if r.get("action") in resource_actions]
        profile_arns = [f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{domain_id}/{u}"
                        for u in users]
        self.assertEqual(
            sorted((r["action"], r["resource"], r["decision"]) for r in calls
                   if r["principal"] == LAUNCH_SESSION),
            sorted([("sagemaker:CreateDomain", domain_arn, "allowed"),
                    ("sagemaker:DeleteDomain", domain_arn, "allowed")]
                   + [("sagemaker:CreateUserProfile", arn, "allowed") for arn in profile_arns]
                   + [("sagemaker:DeleteUserProfile", arn, "allowed") for arn in profile_arns]))
        self.assertEqual([(r["principal"], r["action"], r["decision"]) for r in calls
                          if r["principal"] != LAUNCH_SESSION],
                         [(self.cloud_admin_arn, "sagemaker:CreateDomain", "denied")],
                         "the cloud admin's only SageMaker call of these is the one it was denied")
        creations = {r["resource"]: r for r in calls if r["principal"] == LAUNCH_SESSION
                     and r["action"].split(":")[1].startswith("Create")}
        for resource, request in [(domain_arn, domain_request),
                                  *zip(profile_arns, [profile_requests[u] for u in users])]:
            self.assertIn(request, set(json_leaves(creations[resource])),
                          f"the audit record of the creation of {resource} names the "
                          f"ProvisionProduct request {request}")

    def data_scientist_opens_only_their_own_profile(self, domain_id, alice, bob):
        """The data scientist, tagged with their Studio user id, gets a presigned URL for their
        own profile (with the AWS CLI) and opens it; the other profile's is denied."""
        scientist, kid, secret = self.server.new_user(
            tags={"studiouserid": alice}, policy_doc=policy(allow(
                "sagemaker:CreatePresignedDomainUrl", Condition={"StringEquals": {
                    "sagemaker:ResourceTag/studiouserid": "${aws:PrincipalTag/studiouserid}"}})))
        url = self.aws("sagemaker", "create-presigned-domain-url", "--domain-id", domain_id,
                       "--user-profile-name", alice,
                       env=keys_env(self.server, kid, secret))["AuthorizedUrl"]
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with browser.open(url, timeout=30) as page:
            self.assertEqual(urllib.parse.urlsplit(page.url).path, "/studio/home")
            self.assertIn(alice, page.read().decode("utf-8"))
        ds_sm = self.server.client("sagemaker", kid, secret)
        self.assertError(
            lambda: ds_sm.create_presigned_domain_url(DomainId=domain_id, UserProfileName=bob),
            "AccessDeniedException", 400, message=self.denied_message(
                scientist["Arn"], "sagemaker:CreatePresignedDomainUrl",
                f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{domain_id}/{bob}"))


class FailedProvisioningTests(ProvisioningCase):
    """Templates that cannot be provisioned leave nothing behind."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.domain_id = cls.sm.create_domain(
            DomainName=unique("studio"), AuthMode="IAM", VpcId=VPC_ID, SubnetIds=SUBNETS,
            DefaultUserSettings={"ExecutionRole": role_arn(EXECUTION_ROLE)})["DomainId"]
        poll(lambda: cls.sm.describe_domain(DomainId=cls.domain_id),
             lambda d: d["Status"] == "InService", f"domain {cls.domain_id}")

    def profiles(self):
        return sorted(p["UserProfileName"] for p in self.sm.list_user_profiles(
            DomainIdEquals=self.domain_id)["UserProfiles"])

    def terminate(self, pp_id):
        """Terminating a failed provisioned product succeeds and forgets it."""
        ended = self.cloud_sc.terminate_provisioned_product(ProvisionedProductId=pp_id)
        done = self.wait_for_record(ended["RecordDetail"]["RecordId"])
        self.assertEqual(done["RecordDetail"]["Status"], "SUCCEEDED",
                         done["RecordDetail"].get("RecordErrors"))
        self.assertError(lambda: self.cloud_sc.describe_provisioned_product(Id=pp_id),
                         "ResourceNotFoundException", 400)

    def test_an_unsupported_resource_type_fails_the_record_and_creates_nothing(self):
        prod = self.product("Profile with a scratch bucket", UNSUPPORTED_TEMPLATE)
        user = unique("carol")
        before = self.profiles()
        started = self.launch(prod, f"profile-{user}",
                              {"DomainId": self.domain_id, "UserProfileName": user})
        pp_id = started["RecordDetail"]["ProvisionedProductId"]
        done = self.wait_for_record(started["RecordDetail"]["RecordId"])
        detail = done["RecordDetail"]
        self.assertEqual(detail["Status"], "FAILED")
        self.assertTrue(detail["RecordErrors"], detail)
        text = " ".join(e["Description"] for e in detail["RecordErrors"])
        self.assertIn("AWS::S3::Bucket", text, "the error names the type")
        self.assertIn("ScratchBucket", text, "the error names the logical id")
        self.assertEqual(self.cloud_sc.describe_provisioned_product(Id=pp_id)[
            "ProvisionedProductDetail"]["Status"], "ERROR")
        # Refused before anything was created: the profile was never asked for.
        self.assertEqual(self.profiles(), before)
        self.assertError(lambda: self.sm.describe_user_profile(DomainId=self.domain_id,
                                                               UserProfileName=user),
                         "ResourceNotFound", 400)
        calls = audit_records(self.server, "--action", "sagemaker:CreateUserProfile")
        self.assertEqual([r for r in calls if user in set(json_leaves(r))], [],
                         "no CreateUserProfile call for the refused template")
        self.terminate(pp_id)

    def test_a_template_failing_at_its_second_resource_rolls_the_first_back(self):
        prod = self.product("Two profiles, one in a missing domain", HALFWAY_TEMPLATE)
        user = unique("dave")
        refused = self.missing_domain_text(f"{user}-second")
        before = self.profiles()
        started = self.launch(prod, f"profiles-{user}",
                              {"DomainId": self.domain_id, "UserProfileName": user})
        pp_id = started["RecordDetail"]["ProvisionedProductId"]
        done = self.wait_for_record(started["RecordDetail"]["RecordId"])
        detail = done["RecordDetail"]
        self.assertEqual(detail["Status"], "FAILED")
        text = " ".join(e["Description"] for e in detail["RecordErrors"])
        # Service Catalog passes CloudFormation's reasons on: the stack's ("The following
        # resource(s) failed to create: [X]. Rollback requested by user.") and the resource's,
        # which carries the service's error text (the records quoted in
        # awslabs/service-workbench-on-aws#1018 and
        # aws-samples/amazon-sagemaker-studio-secure-data-science-workshop#10).
        self.assertIn("The following resource(s) failed to create: [SecondUserProfile]", text)
        self.assertIn(refused, text, "the record carries SageMaker's error text")
        self.assertEqual(self.cloud_sc.describe_provisioned_product(Id=pp_id)[
            "ProvisionedProductDetail"]["Status"], "ERROR")
        # The first profile was created, then deleted again by the rollback.
        self.assertEqual(self.profiles(), before)
        profile_arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{self.domain_id}/{user}"
        calls = audit_records(self.server, "--principal", LAUNCH_SESSION, until=lambda rs: any(
            r.get("action") == "sagemaker:DeleteUserProfile" for r in rs))
        self.assertEqual([(r["action"], r["decision"]) for r in calls
                          if r.get("resource") == profile_arn
                          and r["action"] in ("sagemaker:CreateUserProfile",
                                              "sagemaker:DeleteUserProfile")],
                         [("sagemaker:CreateUserProfile", "allowed"),
                          ("sagemaker:DeleteUserProfile", "allowed")])

        # The stack, as CloudFormation shows it: rolled back, the failure in its events.
        stack_name = f"SC-{ACCOUNT}-{pp_id}"
        stack = self.cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "ROLLBACK_COMPLETE")
        events = self.cfn.describe_stack_events(StackName=stack_name)["StackEvents"][::-1]
        failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
        self.assertEqual([e["LogicalResourceId"] for e in failed], ["SecondUserProfile"])
        self.assertIn(refused, failed[0]["ResourceStatusReason"])
        rollback = [e for e in events if e["LogicalResourceId"] == stack_name
                    and e["ResourceStatus"] == "ROLLBACK_IN_PROGRESS"]
        self.assertEqual(len(rollback), 1)
        self.assertEqual(rollback[0]["ResourceStatusReason"],
                         "The following resource(s) failed to create: [SecondUserProfile]. "
                         "Rollback requested by user.")
        first = [e["ResourceStatus"] for e in events if e["LogicalResourceId"] == "UserProfile"]
        self.assertEqual(first[-2:], ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"], first)
        self.assertIn("CREATE_COMPLETE", first)
        self.terminate(pp_id)


class ProvisionedProductLifecycleTests(ProvisioningCase):
    """What scripts do after the first provisioning: an update that replaces a resource, the
    record history, the access levels that keep end users to what they provisioned, and the
    errors ProvisionProduct answers at once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.domain_id = cls.sm.create_domain(
            DomainName=unique("studio"), AuthMode="IAM", VpcId=VPC_ID, SubnetIds=SUBNETS,
            DefaultUserSettings={"ExecutionRole": role_arn(EXECUTION_ROLE)})["DomainId"]
        cls.profile_product = cls.product("Profile", PROFILE_TEMPLATE)

    def profile_exists(self, name):
        try:
            self.sm.describe_user_profile(DomainId=self.domain_id, UserProfileName=name)
            return True
        except ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], "ResourceNotFound")
            return False

    def other_end_user(self):
        """Another end user of the portfolio, with the same end-user policy."""
        name = unique("OtherAdmin")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
            trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})))
        self.iam.attach_role_policy(RoleName=name, PolicyArn=END_USER)
        self.sc.associate_principal_with_portfolio(
            PortfolioId=self.portfolio_id, PrincipalARN=role_arn(name), PrincipalType="IAM")
        creds = self.sts.assume_role(RoleArn=role_arn(name),
                                     RoleSessionName="other")["Credentials"]
        return self.server.client_from_credentials("servicecatalog", creds)

    def test_an_update_replaces_the_profile_and_the_history_lists_both_records(self):
        first, second = unique("erin"), unique("erin")
        started = self.launch(self.profile_product, f"profile-{first}",
                              {"DomainId": self.domain_id, "UserProfileName": first})
        pp_id = started["RecordDetail"]["ProvisionedProductId"]
        done = self.wait_for_record(started["RecordDetail"]["RecordId"])
        self.assertEqual(done["RecordDetail"]["Status"], "SUCCEEDED",
                         done["RecordDetail"]["RecordErrors"])
        self.assertTrue(self.profile_exists(first))

        # A new name for the profile: UserProfileName is create-only, so CloudFormation makes
        # the new profile and deletes the old one. DomainId keeps its value.
        updated = self.cloud_sc.update_provisioned_product(
            ProvisionedProductId=pp_id, UpdateToken=unique("update"), ProvisioningParameters=[
                {"Key": "DomainId", "UsePreviousValue": True},
                {"Key": "UserProfileName", "Value": second}])
        record = updated["RecordDetail"]
        self.assertEqual((record["Status"], record["RecordType"]),
                         ("CREATED", "UPDATE_PROVISIONED_PRODUCT"))
        done = self.wait_for_record(record["RecordId"])
        self.assertEqual(done["RecordDetail"]["Status"], "SUCCEEDED",
                         done["RecordDetail"]["RecordErrors"])
        self.assertEqual(outputs_of(done["RecordOutputs"])["UserProfileArn"],
                         f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/{self.domain_id}/"
                         f"{second}")
        self.assertTrue(self.profile_exists(second))
        self.assertFalse(self.profile_exists(first))
        pp = self.cloud_sc.describe_provisioned_product(Id=pp_id)["ProvisionedProductDetail"]
        self.assertEqual((pp["Status"], pp["LastRecordId"], pp["LastProvisioningRecordId"],
                          pp["LastSuccessfulProvisioningRecordId"]),
                         ("AVAILABLE", record["RecordId"], record["RecordId"],
                          record["RecordId"]))

        history = self.cloud_sc.list_record_history(SearchFilter={
            "Key": "provisionedproduct", "Value": pp_id})["RecordDetails"]
        self.assertEqual([(r["RecordId"], r["RecordType"], r["Status"]) for r in history],
                         [(record["RecordId"], "UPDATE_PROVISIONED_PRODUCT", "SUCCEEDED"),
                          (started["RecordDetail"]["RecordId"], "PROVISION_PRODUCT",
                           "SUCCEEDED")], "newest first")
        scanned = self.cloud_sc.scan_provisioned_products()["ProvisionedProducts"]
        self.assertIn(pp_id, [p["Id"] for p in scanned])

        # Another end user of the same portfolio sees none of it and cannot touch it: the
        # end-user policy grants servicecatalog:userLevel only.
        other = self.other_end_user()
        self.assertEqual(other.search_provisioned_products()["ProvisionedProducts"], [])
        self.assertEqual(other.scan_provisioned_products()["ProvisionedProducts"], [])
        for call in (lambda: other.search_provisioned_products(
                         AccessLevelFilter={"Key": "Account", "Value": "self"}),
                     lambda: other.describe_record(Id=record["RecordId"]),
                     lambda: other.terminate_provisioned_product(
                         ProvisionedProductId=pp_id, TerminateToken=unique("t"))):
            self.assertError(call, "AccessDeniedException", 400)
        # The administrator sees every one of the account's.
        every = self.sc.search_provisioned_products(
            AccessLevelFilter={"Key": "Account", "Value": "self"})["ProvisionedProducts"]
        self.assertIn(pp_id, [p["Id"] for p in every])

        ended = self.cloud_sc.terminate_provisioned_product(ProvisionedProductId=pp_id,
                                                            TerminateToken=unique("t"))
        done = self.wait_for_record(ended["RecordDetail"]["RecordId"])
        self.assertEqual(done["RecordDetail"]["Status"], "SUCCEEDED")
        self.assertFalse(self.profile_exists(second))

    def test_what_provision_product_refuses_at_call_time(self):
        # A product in no portfolio of the caller.
        path = self.write(f"{unique('template')}.yaml", PROFILE_TEMPLATE)
        lone = self.sc.create_product(
            Name=unique("Lone"), Owner="AWS", ProductType="CLOUD_FORMATION_TEMPLATE",
            ProvisioningArtifactParameters={"Name": "v1", "Type": "CLOUD_FORMATION_TEMPLATE",
                                            "Info": {"LoadTemplateFromURL": "file://" + path}})
        lone_id = lone["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        self.assertError(lambda: self.cloud_sc.provision_product(
            ProductId=lone_id, ProvisioningArtifactId=lone["ProvisioningArtifactDetail"]["Id"],
            ProvisionedProductName=unique("p"), ProvisionToken=unique("t")),
            "ResourceNotFoundException", 400,
            message=f"No launch paths found for resource: {lone_id}")

        # A name already taken.
        user = unique("fay")
        name = f"profile-{user}"
        started = self.launch(self.profile_product, name,
                              {"DomainId": self.domain_id, "UserProfileName": user})
        self.wait_for_record(started["RecordDetail"]["RecordId"])
        self.assertError(lambda: self.launch(self.profile_product, name,
                                             {"DomainId": self.domain_id,
                                              "UserProfileName": unique("fay")}),
                         "InvalidParametersException", 400,
                         message=f"A stack named {name} already exists.")

        # Two launch paths and no PathId.
        second = self.sc.create_portfolio(DisplayName=unique("Second"),
                                          ProviderName="AWS")["PortfolioDetail"]["Id"]
        self.sc.associate_product_with_portfolio(ProductId=self.profile_product,
                                                 PortfolioId=second)
        self.sc.associate_principal_with_portfolio(
            PortfolioId=second, PrincipalARN=role_arn(CLOUD_ADMIN_ROLE), PrincipalType="IAM")
        self.assertError(lambda: self.launch(self.profile_product, unique("p"),
                                             {"DomainId": self.domain_id,
                                              "UserProfileName": unique("gus")}),
                         "InvalidParametersException", 400,
                         message="More than one launch path ids exist. Please specify the launch "
                                 "path id")
        self.sc.disassociate_principal_from_portfolio(
            PortfolioId=second, PrincipalARN=role_arn(CLOUD_ADMIN_ROLE))
        self.sc.disassociate_product_from_portfolio(ProductId=self.profile_product,
                                                    PortfolioId=second)
