"""CloudFormation against rolewright (issue 11, item 5b), written test-first from AWS's documented
behaviour and the AWS CLI's own code.

* The platform team's flow: `rolewright role new --format cloudformation` deployed with
  `aws cloudformation deploy` (refused without --capabilities with AWS's
  InsufficientCapabilitiesException text, then deployed with CAPABILITY_NAMED_IAM), the role in
  IAM exactly as the template has it; one more activity deployed as a change set that shows the
  Modify of the role's policies before it is executed; `delete-stack` and the CLI's waiter, the
  role gone.
* The API with boto3: CreateStack with RoleARN (iam:PassRole checked at call time; a role that
  CloudFormation cannot assume refused), the stack's events in AWS's order and words for a create
  and for a rollback, capabilities, a resource type rolewright does not provision refused before
  anything is created, ValidateTemplate and GetTemplateSummary, exports and imports.

The CLI's waiters poll DescribeChangeSet every 5 s and DescribeStacks every 30 s after a first,
immediate look (botocore's waiter models); a server that finishes a small stack before that first
look keeps this module within its time.
"""

import json
import os
import re
import shutil
import tempfile
import time

from botocore.exceptions import ClientError

from harness import (ACCOUNT, REGION, E2ETestCase, allow, audit_records, aws_cli, command_env,
                     poll, policy, rolewright, run_command, trust, unique)

BUCKET = "ml-team-data"
CFN_TRUST = json.dumps(trust({"Service": "cloudformation.amazonaws.com"}))
EC2_TRUST = json.dumps(trust({"Service": "ec2.amazonaws.com"}))
SAGEMAKER_TRUST = trust({"Service": "sagemaker.amazonaws.com"})
# CloudFormation acts with a stack's service role in a session named AWSCloudFormation: the
# AccessDenied texts of stack resources read `assumed-role/<Role>/AWSCloudFormation`
# (aws-solutions/aws-waf-security-automations#33,
# aws-solutions-library-samples/data-lakes-on-aws#275).
CFN_SESSION = "AWSCloudFormation"


def role_arn(name):
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def role_template(resources, outputs=None, description=None):
    """A JSON template from a dict of resources (and outputs)."""
    doc = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if description:
        doc["Description"] = description
    if outputs:
        doc["Outputs"] = outputs
    return json.dumps(doc)


def a_role(name=None, **extra):
    """An AWS::IAM::Role resource trusting SageMaker (named if `name`)."""
    props = {"AssumeRolePolicyDocument": SAGEMAKER_TRUST}
    if name:
        props["RoleName"] = name
    return {"Type": "AWS::IAM::Role", "Properties": props, **extra}


class StackCase(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cfn = cls.server.admin("cloudformation")
        cls.tmp = tempfile.mkdtemp(prefix="rolewright-cfn-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)

    def cli(self, *args, check=True):
        """`aws --endpoint-url URL ARGS` as the platform admin; the completed process."""
        return run_command([aws_cli(), "--endpoint-url", self.server.url, *args],
                           command_env(self.server, AWS_ENDPOINT_URL=None), check=check)

    def cli_json(self, *args):
        out = self.cli(*args, "--output", "json")
        return json.loads(out.stdout) if out.stdout.strip() else None

    def wait_stack(self, name, cfn=None):
        """DescribeStacks until the stack is no longer *_IN_PROGRESS; the stack."""
        cfn = cfn or self.cfn
        return poll(lambda: cfn.describe_stacks(StackName=name)["Stacks"][0],
                    lambda s: not s["StackStatus"].endswith("_IN_PROGRESS"), f"stack {name}")

    def status_or_gone(self, name):
        """A stack's status by name, or None once DescribeStacks no longer knows the name."""
        try:
            return self.cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        except ClientError as e:
            if e.response["Error"]["Code"] == "ValidationError":
                return None
            raise

    def events(self, name):
        """Every event of a stack, oldest first (DescribeStackEvents answers newest first)."""
        pages = self.cfn.get_paginator("describe_stack_events").paginate(StackName=name)
        newest_first = [e for page in pages for e in page["StackEvents"]]
        times = [e["Timestamp"] for e in newest_first]
        self.assertEqual(times, sorted(times, reverse=True),
                         "DescribeStackEvents lists events in reverse chronological order")
        return newest_first[::-1]

    def assert_gone(self, name):
        """DescribeStacks by name on a stack that does not exist (or no longer does): the text the
        AWS CLI's deploy command itself tests for."""
        self.assertError(lambda: self.cfn.describe_stacks(StackName=name), "ValidationError", 400,
                         message=f"Stack with id {name} does not exist")

    def assert_role_as_in(self, properties):
        """The role in IAM is the template's AWS::IAM::Role: trust, description, inline and
        managed policies, tags."""
        name = properties["RoleName"]
        role = self.iam.get_role(RoleName=name)["Role"]
        self.assertEqual(role["AssumeRolePolicyDocument"], properties["AssumeRolePolicyDocument"])
        self.assertEqual(role.get("Description"), properties.get("Description"))
        inline = {p["PolicyName"]: p["PolicyDocument"] for p in properties.get("Policies", [])}
        self.assertEqual(sorted(self.iam.list_role_policies(RoleName=name)["PolicyNames"]),
                         sorted(inline))
        for policy_name, document in inline.items():
            got = self.iam.get_role_policy(RoleName=name, PolicyName=policy_name)
            self.assertEqual(got["PolicyDocument"], document, policy_name)
        attached = self.iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
        self.assertEqual(sorted(p["PolicyArn"] for p in attached),
                         sorted(properties.get("ManagedPolicyArns", [])))
        if "Tags" in properties:
            self.assertEqual(self.iam.list_role_tags(RoleName=name)["Tags"], properties["Tags"])


class DeployGeneratedRoleTests(StackCase):
    """Flow (b): a generated role through `aws cloudformation deploy`, a change set, and
    delete-stack."""

    def generate(self, path, *extra):
        rolewright("role", "new", "--persona", "data-scientist", "--name-suffix", self.suffix,
                   "--pass-role", role_arn("SageMaker-compute"), "--s3-bucket", BUCKET,
                   "--account", ACCOUNT, "--region", REGION, *extra,
                   "--format", "cloudformation", "--out", path)
        with open(path, encoding="utf-8") as f:
            template = json.load(f)
        roles = [(k, v) for k, v in template["Resources"].items() if v["Type"] == "AWS::IAM::Role"]
        self.assertEqual(len(roles), 1, template["Resources"])
        return template, roles[0][0], roles[0][1]["Properties"]

    def test_a_generated_role_is_deployed_changed_through_a_change_set_and_deleted(self):
        self.suffix = unique("ds")
        first = os.path.join(self.tmp, "role.json")
        template, logical, properties = self.generate(first)
        name = properties["RoleName"]
        stack = unique("ds-role")

        # A named role needs CAPABILITY_NAMED_IAM; the CLI's CreateChangeSet is refused.
        out = self.cli("cloudformation", "deploy", "--template-file", first, "--stack-name", stack,
                       check=False)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        self.assertIn("An error occurred (InsufficientCapabilitiesException) when calling the "
                      "CreateChangeSet operation: Requires capabilities : [CAPABILITY_NAMED_IAM]",
                      out.stderr)
        self.assertError(lambda: self.iam.get_role(RoleName=name), "NoSuchEntity", 404)

        out = self.cli("cloudformation", "deploy", "--template-file", first, "--stack-name", stack,
                       "--capabilities", "CAPABILITY_NAMED_IAM")
        self.assertIn(f"Successfully created/updated stack - {stack}", out.stdout)
        self.assert_role_as_in(properties)
        described = self.cfn.describe_stacks(StackName=stack)["Stacks"][0]
        stack_id = described["StackId"]
        self.assertRegex(stack_id, rf"^arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack}/"
                                   r"[0-9a-f-]{36}$")
        self.assertEqual((described["StackStatus"], described["Capabilities"]),
                         ("CREATE_COMPLETE", ["CAPABILITY_NAMED_IAM"]))
        self.assertEqual({o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]},
                         {"RoleArn": role_arn(name)})
        resources = self.cfn.list_stack_resources(StackName=stack)["StackResourceSummaries"]
        # Ref of an AWS::IAM::Role is its name, which is also its physical id.
        self.assertEqual([(r["LogicalResourceId"], r["PhysicalResourceId"], r["ResourceType"],
                           r["ResourceStatus"]) for r in resources],
                         [(logical, name, "AWS::IAM::Role", "CREATE_COMPLETE")])
        # botocore decodes a JSON TemplateBody; the stack keeps the template it was given.
        self.assertEqual(self.cfn.get_template(StackName=stack)["TemplateBody"], template)

        # One more activity: a change set, reviewed before it is executed.
        second = os.path.join(self.tmp, "role-v2.json")
        _, logical2, updated = self.generate(second, "--activity", "visualize-experiments")
        self.assertEqual(logical2, logical)
        added = ({p["PolicyName"] for p in updated["Policies"]}
                 - {p["PolicyName"] for p in properties["Policies"]})
        self.assertEqual(added, {f"{name}-visualize-experiments"})
        # `deploy` names its change set `awscli-cloudformation-package-deploy-<unix second>`, and a
        # stack's change set names are unique (the executed one stays, EXECUTE_COMPLETE): a
        # second deploy within the same second is refused, on AWS as here.
        started = int(time.time())
        while int(time.time()) == started:
            time.sleep(0.05)
        out = self.cli("cloudformation", "deploy", "--template-file", second, "--stack-name", stack,
                       "--capabilities", "CAPABILITY_NAMED_IAM", "--no-execute-changeset")
        found = re.search(r"aws cloudformation describe-change-set --change-set-name (\S+)",
                          out.stdout)
        self.assertIsNotNone(found, out.stdout)
        change_set = found.group(1)
        self.assertRegex(change_set, rf"^arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/"
                                     r"awscli-cloudformation-package-deploy-\d+/[0-9a-f-]{36}$")
        described = self.cli_json("cloudformation", "describe-change-set", "--change-set-name",
                                  change_set)
        self.assertEqual((described["StackName"], described["StackId"], described["Status"],
                          described["ExecutionStatus"], described["Capabilities"]),
                         (stack, stack_id, "CREATE_COMPLETE", "AVAILABLE",
                          ["CAPABILITY_NAMED_IAM"]))
        self.assertEqual(len(described["Changes"]), 1, described["Changes"])
        change = described["Changes"][0]
        self.assertEqual(change["Type"], "Resource")
        resource = change["ResourceChange"]
        # The policies are inline on the role, so the role is the resource that changes; a
        # Policies change updates it in place (the resource schema does not make Policies a
        # create-only property), as AWS's change set examples show for such properties.
        self.assertEqual({k: resource.get(k) for k in ("Action", "LogicalResourceId",
                                                       "PhysicalResourceId", "ResourceType",
                                                       "Replacement")},
                         {"Action": "Modify", "LogicalResourceId": logical,
                          "PhysicalResourceId": name, "ResourceType": "AWS::IAM::Role",
                          "Replacement": "False"})
        self.assertIn("Properties", resource["Scope"])
        details = {d["Target"]["Name"]: d for d in resource["Details"]
                   if d["Target"]["Attribute"] == "Properties"}
        self.assertIn("Policies", details, resource["Details"])
        self.assertEqual((details["Policies"]["Target"]["RequiresRecreation"],
                          details["Policies"]["Evaluation"], details["Policies"]["ChangeSource"]),
                         ("Never", "Static", "DirectModification"))
        # Nothing changes until the change set is executed.
        self.assertEqual(sorted(self.iam.list_role_policies(RoleName=name)["PolicyNames"]),
                         sorted(p["PolicyName"] for p in properties["Policies"]))
        self.assertEqual(self.cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"],
                         "CREATE_COMPLETE")

        self.cli("cloudformation", "execute-change-set", "--change-set-name", change_set)
        self.cli("cloudformation", "wait", "stack-update-complete", "--stack-name", stack)
        self.assert_role_as_in(updated)
        self.assertEqual(self.cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"],
                         "UPDATE_COMPLETE")
        self.assertEqual(self.cli_json("cloudformation", "describe-change-set",
                                       "--change-set-name", change_set)["ExecutionStatus"],
                         "EXECUTE_COMPLETE")

        self.cli("cloudformation", "delete-stack", "--stack-name", stack)
        self.cli("cloudformation", "wait", "stack-delete-complete", "--stack-name", stack)
        self.assertError(lambda: self.iam.get_role(RoleName=name), "NoSuchEntity", 404)
        self.assert_gone(stack)
        # A deleted stack stays readable by its id.
        self.assertEqual(self.cfn.describe_stacks(StackName=stack_id)["Stacks"][0][
            "StackStatus"], "DELETE_COMPLETE")


class StackApiTests(StackCase):
    def test_role_arn_needs_pass_role_and_a_role_cloudformation_can_assume(self):
        service = unique("cfn-service")
        self.iam.create_role(RoleName=service, AssumeRolePolicyDocument=CFN_TRUST)
        self.iam.put_role_policy(RoleName=service, PolicyName="iam",
                                 PolicyDocument=json.dumps(policy(allow("iam:*"))))
        template = role_template({"NotebookRole": a_role()})
        user, kid, secret = self.server.new_user(policy_doc=policy(allow("cloudformation:*")))
        user_cfn = self.server.client("cloudformation", kid, secret)
        stack = unique("with-role")
        self.assertError(
            lambda: user_cfn.create_stack(StackName=stack, TemplateBody=template,
                                          RoleARN=role_arn(service),
                                          Capabilities=["CAPABILITY_IAM"]),
            "AccessDenied", 403,
            message_startswith=f"User: {user['Arn']} is not authorized to perform: iam:PassRole "
                               f"on resource: {role_arn(service)}")
        self.assert_gone(stack)

        # Source: AWS Knowledge Center, "How do I resolve the 'Role [role_arn] is invalid or
        # cannot be assumed' error"; terraform-provider-aws retries CreateStack on this
        # ValidationError text.
        ec2_only = unique("ec2-only")
        self.iam.create_role(RoleName=ec2_only, AssumeRolePolicyDocument=EC2_TRUST)
        for arn in (role_arn(ec2_only), role_arn(unique("no-such-role"))):
            with self.subTest(role=arn):
                self.assertError(
                    lambda: self.cfn.create_stack(StackName=stack, TemplateBody=template,
                                                  RoleARN=arn, Capabilities=["CAPABILITY_IAM"]),
                    "ValidationError", 400, message=f"Role {arn} is invalid or cannot be assumed")
        self.assert_gone(stack)

        created = self.cfn.create_stack(StackName=stack, TemplateBody=template,
                                        RoleARN=role_arn(service), Capabilities=["CAPABILITY_IAM"])
        described = self.wait_stack(stack)
        self.assertEqual((described["StackStatus"], described["RoleARN"], described["StackId"]),
                         ("CREATE_COMPLETE", role_arn(service), created["StackId"]))
        [resource] = self.cfn.describe_stack_resources(StackName=stack)["StackResources"]
        # An unnamed resource gets <stack>-<logical id>-<random suffix>.
        physical = resource["PhysicalResourceId"]
        self.assertRegex(physical, rf"^{re.escape(stack)}-NotebookRole-[A-Za-z0-9]+$")
        self.assertLessEqual(len(physical), 64)
        session = f"arn:aws:sts::{ACCOUNT}:assumed-role/{service}/{CFN_SESSION}"
        made = audit_records(self.server, "--principal", session, "--action", "iam:CreateRole",
                             until=bool)
        self.assertEqual([(r["action"], r["resource"], r["decision"]) for r in made
                          if r["action"] == "iam:CreateRole"],
                         [("iam:CreateRole", role_arn(physical), "allowed")],
                         "the resource was created by the service role's session")
        self.cfn.delete_stack(StackName=stack)
        self.assertEqual(self.wait_stack(created["StackId"])["StackStatus"], "DELETE_COMPLETE")
        self.assertError(lambda: self.iam.get_role(RoleName=physical), "NoSuchEntity", 404)

    def test_events_of_a_create_and_of_a_rollback_are_written_as_aws_writes_them(self):
        prefix = unique("ev")
        first, second = f"{prefix}-first", f"{prefix}-second"
        template = role_template({"FirstRole": a_role(first),
                                  "SecondRole": a_role(second, DependsOn="FirstRole")})
        stack = unique("events")
        stack_id = self.cfn.create_stack(StackName=stack, TemplateBody=template,
                                         Capabilities=["CAPABILITY_NAMED_IAM"])["StackId"]
        self.assertEqual(self.wait_stack(stack)["StackStatus"], "CREATE_COMPLETE")
        events = self.events(stack)
        for e in events:
            self.assertEqual((e["StackId"], e["StackName"]), (stack_id, stack))
        self.assertEqual((events[0]["LogicalResourceId"], events[0]["PhysicalResourceId"],
                          events[0]["ResourceType"], events[0]["ResourceStatus"],
                          events[0]["ResourceStatusReason"]),
                         (stack, stack_id, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS",
                          "User Initiated"))
        self.assertEqual((events[-1]["LogicalResourceId"], events[-1]["ResourceType"],
                          events[-1]["ResourceStatus"]),
                         (stack, "AWS::CloudFormation::Stack", "CREATE_COMPLETE"))
        initiated = {}
        for logical, name in (("FirstRole", first), ("SecondRole", second)):
            mine = [(i, e) for i, e in enumerate(events) if e["LogicalResourceId"] == logical]
            self.assertTrue(mine, f"no event of {logical}")
            statuses = [e["ResourceStatus"] for _, e in mine]
            self.assertEqual((statuses[0], statuses[-1]), ("CREATE_IN_PROGRESS", "CREATE_COMPLETE"),
                             statuses)
            self.assertEqual(set(statuses), {"CREATE_IN_PROGRESS", "CREATE_COMPLETE"}, statuses)
            starts = [i for i, e in mine if e.get("ResourceStatusReason") ==
                      "Resource creation Initiated"]
            self.assertEqual(len(starts), 1, [e for _, e in mine])
            initiated[logical] = starts[0]
            self.assertEqual((mine[-1][1]["PhysicalResourceId"], mine[-1][1]["ResourceType"]),
                             (name, "AWS::IAM::Role"))
        second_first_event = next(i for i, e in enumerate(events)
                                  if e["LogicalResourceId"] == "SecondRole")
        self.assertGreater(second_first_event, initiated["FirstRole"],
                           "SecondRole depends on FirstRole")

        # A rollback: the service role may create only the first role.
        service = unique("cfn-limited")
        self.iam.create_role(RoleName=service, AssumeRolePolicyDocument=CFN_TRUST)
        prefix = unique("rb")
        allowed, denied = f"{prefix}-allowed", f"{prefix}-denied"
        self.iam.put_role_policy(RoleName=service, PolicyName="first-only",
                                 PolicyDocument=json.dumps(policy(allow("iam:*", role_arn(allowed)))))
        template = role_template({"FirstRole": a_role(allowed),
                                  "SecondRole": a_role(denied, DependsOn="FirstRole")})
        stack = unique("rollback")
        self.cfn.create_stack(StackName=stack, TemplateBody=template, RoleARN=role_arn(service),
                              Capabilities=["CAPABILITY_NAMED_IAM"])
        self.assertEqual(self.wait_stack(stack)["StackStatus"], "ROLLBACK_COMPLETE")
        events = self.events(stack)
        failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
        self.assertEqual([e["LogicalResourceId"] for e in failed], ["SecondRole"])
        session = f"arn:aws:sts::{ACCOUNT}:assumed-role/{service}/{CFN_SESSION}"
        self.assertIn(f"User: {session} is not authorized to perform: iam:CreateRole on resource: "
                      f"{role_arn(denied)}", failed[0]["ResourceStatusReason"],
                      "the event carries IAM's AccessDenied text")
        of_stack = [e for e in events if e["LogicalResourceId"] == stack]
        self.assertEqual([e["ResourceStatus"] for e in of_stack],
                         ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"])
        self.assertEqual([e.get("ResourceStatusReason") for e in of_stack[:2]], [
            "User Initiated",
            "The following resource(s) failed to create: [SecondRole]. Rollback requested by user."])
        first_statuses = [e["ResourceStatus"] for e in events
                          if e["LogicalResourceId"] == "FirstRole"]
        self.assertIn("CREATE_COMPLETE", first_statuses)
        self.assertEqual(first_statuses[-2:], ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"])
        self.assertLess(next(i for i, e in enumerate(events) if e["ResourceStatus"] ==
                             "CREATE_FAILED"),
                        next(i for i, e in enumerate(events) if e["LogicalResourceId"] ==
                             "FirstRole" and e["ResourceStatus"] == "DELETE_IN_PROGRESS"))
        for name in (allowed, denied):
            self.assertError(lambda: self.iam.get_role(RoleName=name), "NoSuchEntity", 404)

    def test_iam_resources_need_the_capabilities_aws_requires(self):
        # Texts: the InsufficientCapabilitiesException every CloudFormation client reports,
        # e.g. envato/stack_master#138, aws/serverless-application-model#51.
        named = role_template({"NotebookRole": a_role(unique("named"))})
        unnamed = role_template({"NotebookRole": a_role()})
        stack = unique("caps")
        for template, capabilities, needed in [
            (named, [], "CAPABILITY_NAMED_IAM"),
            (named, ["CAPABILITY_IAM"], "CAPABILITY_NAMED_IAM"),
            (unnamed, [], "CAPABILITY_IAM"),
        ]:
            with self.subTest(needed=needed, given=capabilities):
                self.assertError(lambda: self.cfn.create_stack(
                    StackName=stack, TemplateBody=template, Capabilities=capabilities),
                    "InsufficientCapabilitiesException", 400,
                    message=f"Requires capabilities : [{needed}]")
        self.assert_gone(stack)
        self.cfn.create_stack(StackName=stack, TemplateBody=unnamed,
                              Capabilities=["CAPABILITY_NAMED_IAM"])
        self.assertEqual(self.wait_stack(stack)["StackStatus"], "CREATE_COMPLETE",
                         "CAPABILITY_NAMED_IAM covers unnamed IAM resources too")

    def test_a_resource_type_rolewright_does_not_provision_is_refused_at_call_time(self):
        name = unique("with-bucket")
        template = role_template({
            "NotebookRole": a_role(name),
            "DataBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": name}},
        })
        stack = unique("unsupported")
        for call in (
            lambda: self.cfn.create_stack(StackName=stack, TemplateBody=template,
                                          Capabilities=["CAPABILITY_NAMED_IAM"]),
            lambda: self.cfn.create_change_set(StackName=stack, ChangeSetName="first",
                                               ChangeSetType="CREATE", TemplateBody=template,
                                               Capabilities=["CAPABILITY_NAMED_IAM"]),
        ):
            error = self.assertError(call, "ValidationError", 400,
                                     message_contains="AWS::S3::Bucket")
            self.assertIn("DataBucket", error.response["Error"]["Message"],
                          "the message names the logical id")
        self.assert_gone(stack)
        self.assertError(lambda: self.iam.get_role(RoleName=name), "NoSuchEntity", 404)

    def test_validate_template_and_get_template_summary(self):
        template = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: A role for the team's notebooks
Parameters:
  Team:
    Type: String
    Default: ml
    AllowedValues: [ml, data]
    Description: The team that owns the role
  Ticket:
    Type: String
    NoEcho: true
    Description: The change ticket, not shown back
Resources:
  NotebookRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: sagemaker.amazonaws.com}
            Action: sts:AssumeRole
      Tags:
        - Key: team
          Value: !Ref Team
        - Key: ticket
          Value: !Ref Ticket
Outputs:
  RoleArn:
    Value: !GetAtt NotebookRole.Arn
"""
        # CapabilitiesReason as AWS words it (aws/aws-sdk-go-v2 integration tests and the
        # console's acknowledgement box).
        reason = "The following resource(s) require capabilities: [AWS::IAM::Role]"
        validated = self.cfn.validate_template(TemplateBody=template)
        self.assertEqual({p["ParameterKey"]: p for p in validated["Parameters"]}, {
            "Team": {"ParameterKey": "Team", "DefaultValue": "ml", "NoEcho": False,
                     "Description": "The team that owns the role"},
            "Ticket": {"ParameterKey": "Ticket", "NoEcho": True,
                       "Description": "The change ticket, not shown back"},
        })
        self.assertEqual((validated["Description"], validated["Capabilities"],
                          validated["CapabilitiesReason"]),
                         ("A role for the team's notebooks", ["CAPABILITY_IAM"], reason))

        summary = self.cfn.get_template_summary(TemplateBody=template)
        parameters = {p["ParameterKey"]: p for p in summary["Parameters"]}
        self.assertEqual(parameters["Team"], {
            "ParameterKey": "Team", "DefaultValue": "ml", "ParameterType": "String",
            "NoEcho": False, "Description": "The team that owns the role",
            "ParameterConstraints": {"AllowedValues": ["ml", "data"]}})
        self.assertEqual((parameters["Ticket"]["ParameterType"], parameters["Ticket"]["NoEcho"]),
                         ("String", True))
        self.assertNotIn("DefaultValue", parameters["Ticket"])
        self.assertEqual((summary["ResourceTypes"], summary["Version"], summary["Description"],
                          summary["Capabilities"], summary["CapabilitiesReason"]),
                         (["AWS::IAM::Role"], "2010-09-09", "A role for the team's notebooks",
                          ["CAPABILITY_IAM"], reason))

        # The ValidationError every template tool has met (hits across many clients' tests).
        self.assertError(lambda: self.cfn.validate_template(
            TemplateBody='{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}'),
            "ValidationError", 400,
            message="Template format error: At least one Resources member must be defined.")

    def test_exports_are_listed_and_imported(self):
        exporter = unique("exporter")
        template = role_template({"SharedRole": a_role()}, outputs={
            "RoleArn": {"Value": {"Fn::GetAtt": ["SharedRole", "Arn"]},
                        "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-RoleArn"}}},
            "RoleName": {"Value": {"Ref": "SharedRole"},
                         "Export": {"Name": {"Fn::Sub": "${AWS::StackName}-RoleName"}}},
        })
        stack_id = self.cfn.create_stack(StackName=exporter, TemplateBody=template,
                                         Capabilities=["CAPABILITY_IAM"])["StackId"]
        described = self.wait_stack(exporter)
        self.assertEqual(described["StackStatus"], "CREATE_COMPLETE")
        outputs = {o["OutputKey"]: o for o in described["Outputs"]}
        role_name = outputs["RoleName"]["OutputValue"]
        self.assertEqual(outputs["RoleArn"]["OutputValue"], role_arn(role_name))
        self.assertEqual(outputs["RoleArn"]["ExportName"], f"{exporter}-RoleArn")

        def exports():
            pages = self.cfn.get_paginator("list_exports").paginate()
            return {e["Name"]: e for page in pages for e in page["Exports"]}

        listed = exports()
        self.assertEqual(listed[f"{exporter}-RoleArn"],
                         {"ExportingStackId": stack_id, "Name": f"{exporter}-RoleArn",
                          "Value": role_arn(role_name)})
        self.assertEqual(listed[f"{exporter}-RoleName"]["Value"], role_name)

        importer = unique("importer")
        self.cfn.create_stack(StackName=importer, TemplateBody=json.dumps({"Resources": {
            "ReadBucket": {"Type": "AWS::IAM::Policy", "Properties": {
                "PolicyName": "read-bucket",
                "PolicyDocument": policy(allow("s3:GetObject", f"arn:aws:s3:::{BUCKET}/*")),
                "Roles": [{"Fn::ImportValue": f"{exporter}-RoleName"}]}}}}),
            Capabilities=["CAPABILITY_IAM"])
        self.assertEqual(self.wait_stack(importer)["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(self.iam.get_role_policy(RoleName=role_name, PolicyName="read-bucket")[
            "PolicyDocument"], policy(allow("s3:GetObject", f"arn:aws:s3:::{BUCKET}/*")))
        self.assertEqual(self.cfn.list_imports(ExportName=f"{exporter}-RoleName")["Imports"],
                         [importer])

        self.cfn.delete_stack(StackName=importer)
        poll(lambda: self.status_or_gone(importer), lambda s: s is None, f"deletion of {importer}")
        self.cfn.delete_stack(StackName=exporter)
        self.assertEqual(self.wait_stack(stack_id)["StackStatus"], "DELETE_COMPLETE")
        listed = exports()
        self.assertNotIn(f"{exporter}-RoleArn", listed)
        self.assertNotIn(f"{exporter}-RoleName", listed)
        self.assertError(lambda: self.iam.get_role(RoleName=role_name), "NoSuchEntity", 404)
