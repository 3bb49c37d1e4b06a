"""The CloudFormation API (issue 11, item 4) for IAM stacks, with the IAM resource providers (part of
item 2), through boto3 and the AWS CLI: CreateStack of the template `rolewright role new --format
cloudformation` writes, capabilities, RoleARN (PassRole and trust), unsupported types refused
before anything is created, rollback of a failure halfway, DeleteStack (and DeletionPolicy
Retain), events and statuses as AWS writes them, outputs and exports, the template operations,
stacks kept across a restart, and Studio stacks (AWS::SageMaker::Domain, UserProfile, Space and
App, made through SageMaker's operations as the stack's principal).
"""

import json
import os
import shutil
import tempfile
import threading

from harness import (ACCOUNT, POSTGRES, REGION, E2ETestCase, Server, allow, aws_cli, command_env, policy,
                     rolewright, run_command, trust, unique)

CFN_TRUST = trust({"Service": "cloudformation.amazonaws.com"})
SAGEMAKER_TRUST = trust({"Service": "sagemaker.amazonaws.com"})


def role_template(**extra_resources):
    """A template with one named role and the resources given."""
    resources = {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": extra_resources.pop("role_name", unique("cfn-role")),
        "AssumeRolePolicyDocument": SAGEMAKER_TRUST}}}
    resources.update(extra_resources)
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources})


def statuses(events, logical_id):
    """A resource's statuses, oldest first (DescribeStackEvents answers newest first)."""
    return [e["ResourceStatus"] for e in reversed(events) if e["LogicalResourceId"] == logical_id]


class CloudFormationTestCase(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cfn = cls.server.admin("cloudformation")

    def events(self, stack):
        return self.cfn.describe_stack_events(StackName=stack)["StackEvents"]

    def role_exists(self, name):
        try:
            self.iam.get_role(RoleName=name)
            return True
        except self.iam.exceptions.NoSuchEntityException:
            return False


class RoleNewTemplateTests(CloudFormationTestCase):
    """The template `rolewright role new --format cloudformation` writes, deployed with
    CreateStack and CAPABILITY_NAMED_IAM."""

    def template(self):
        out = rolewright("role", "new", "--persona", "data-scientist", "--s3-bucket", "my-bucket",
                         "--pass-role", f"arn:aws:iam::{ACCOUNT}:role/x", "--account", ACCOUNT,
                         "--region", REGION, "--format", "cloudformation")
        return out.stdout

    def test_deploys_the_role_and_its_policies(self):
        body = self.template()
        expected = json.loads(body)["Resources"]["SageMakerDataScientistRole"]["Properties"]
        name = unique("ds")
        stack_id = self.cfn.create_stack(StackName=name, TemplateBody=body,
                                         Capabilities=["CAPABILITY_NAMED_IAM"])["StackId"]
        self.assertRegex(stack_id, rf"^arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/"
                                   r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
        self.cfn.get_waiter("stack_create_complete").wait(
            StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(stack["StackId"], stack_id)
        self.assertEqual(stack["Capabilities"], ["CAPABILITY_NAMED_IAM"])
        self.assertTrue(stack["Description"].startswith("IAM role SageMaker-data-scientist"))

        role = self.iam.get_role(RoleName=expected["RoleName"])["Role"]
        self.assertEqual(role["AssumeRolePolicyDocument"], expected["AssumeRolePolicyDocument"])
        inline = self.iam.list_role_policies(RoleName=expected["RoleName"])["PolicyNames"]
        self.assertEqual(sorted(inline), sorted(p["PolicyName"] for p in expected["Policies"]))
        first = expected["Policies"][0]
        got = self.iam.get_role_policy(RoleName=expected["RoleName"],
                                       PolicyName=first["PolicyName"])["PolicyDocument"]
        self.assertEqual(got, first["PolicyDocument"])

        resource = self.cfn.describe_stack_resource(
            StackName=name, LogicalResourceId="SageMakerDataScientistRole")["StackResourceDetail"]
        self.assertEqual(resource["PhysicalResourceId"], expected["RoleName"])
        self.assertEqual(resource["ResourceType"], "AWS::IAM::Role")
        self.assertEqual(resource["ResourceStatus"], "CREATE_COMPLETE")
        got = self.cfn.get_template(StackName=name)["TemplateBody"]
        # botocore decodes a JSON TemplateBody.
        self.assertEqual(json.loads(got) if isinstance(got, str) else got, json.loads(body))

        # The role is made as the caller (no RoleARN): the audit shows the IAM calls.
        self.cfn.delete_stack(StackName=name)
        self.cfn.get_waiter("stack_delete_complete").wait(
            StackName=stack_id, WaiterConfig={"Delay": 1, "MaxAttempts": 10})
        self.assertFalse(self.role_exists(expected["RoleName"]))

    def test_without_the_capability_it_is_refused(self):
        name = unique("ds")
        self.assertError(lambda: self.cfn.create_stack(StackName=name,
                                                       TemplateBody=self.template()),
                         "InsufficientCapabilitiesException", 400,
                         message="Requires capabilities : [CAPABILITY_NAMED_IAM]")
        self.assertError(lambda: self.cfn.create_stack(StackName=name, TemplateBody=self.template(),
                                                       Capabilities=["CAPABILITY_IAM"]),
                         "InsufficientCapabilitiesException", 400,
                         message="Requires capabilities : [CAPABILITY_NAMED_IAM]")
        # An unnamed role needs CAPABILITY_IAM only.
        unnamed = json.dumps({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": SAGEMAKER_TRUST}}}})
        self.assertError(lambda: self.cfn.create_stack(StackName=name, TemplateBody=unnamed),
                         "InsufficientCapabilitiesException",
                         message="Requires capabilities : [CAPABILITY_IAM]")
        self.cfn.create_stack(StackName=name, TemplateBody=unnamed, Capabilities=["CAPABILITY_IAM"])
        physical = self.cfn.describe_stack_resources(StackName=name)["StackResources"][0][
            "PhysicalResourceId"]
        self.assertRegex(physical, rf"^{name}-R-[A-Z0-9]{{12}}$")
        self.assertTrue(self.role_exists(physical))

    def test_the_cli_creates_and_waits(self):
        name = unique("cli")
        folder = tempfile.mkdtemp(prefix="rolewright-cfn-")
        self.addCleanup(shutil.rmtree, folder, True)
        path = os.path.join(folder, "role.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(role_template())
        env = command_env(self.server)
        out = run_command([aws_cli(), "cloudformation", "create-stack", "--stack-name", name,
                           "--template-body", f"file://{path}", "--capabilities",
                           "CAPABILITY_NAMED_IAM", "--output", "json"], env)
        self.assertIn(f":stack/{name}/", json.loads(out.stdout)["StackId"])
        run_command([aws_cli(), "cloudformation", "wait", "stack-create-complete", "--stack-name",
                     name], env)
        out = run_command([aws_cli(), "cloudformation", "describe-stacks", "--stack-name", name,
                           "--output", "json"], env)
        self.assertEqual(json.loads(out.stdout)["Stacks"][0]["StackStatus"], "CREATE_COMPLETE")
        # TemplateURL as a file:// URL.
        second = unique("url")
        self.cfn.create_stack(StackName=second,
                              TemplateURL=f"file://{self._copy(path, 'role2.json')}",
                              Capabilities=["CAPABILITY_NAMED_IAM"])
        self.assertEqual(self.cfn.describe_stacks(StackName=second)["Stacks"][0]["StackStatus"],
                         "CREATE_COMPLETE")

    @staticmethod
    def _copy(path, new_name):
        target = os.path.join(os.path.dirname(path), new_name)
        with open(path, encoding="utf-8") as f:
            body = json.loads(f.read())
        body["Resources"]["Role"]["Properties"]["RoleName"] = unique("cfn-url")
        with open(target, "w", encoding="utf-8") as f:
            f.write(json.dumps(body))
        return target


class StackRoleTests(CloudFormationTestCase):
    """RoleARN: the caller needs iam:PassRole on it, and it must trust CloudFormation; the stack's
    resources are then made by the role's session, with the role's permissions only."""

    def make_role(self, trust_doc, permissions):
        name = unique("cfn-service")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_doc))
        self.iam.put_role_policy(RoleName=name, PolicyName="p",
                                 PolicyDocument=json.dumps(permissions))
        return f"arn:aws:iam::{ACCOUNT}:role/{name}"

    def test_pass_role_is_required(self):
        role = self.make_role(CFN_TRUST, policy(allow("iam:*")))
        user, kid, secret = self.server.new_user(
            policy_doc=policy(allow("cloudformation:*")))
        cfn = self.server.client("cloudformation", kid, secret)
        name = unique("pass")
        self.assertError(lambda: cfn.create_stack(StackName=name, TemplateBody=role_template(),
                                                  Capabilities=["CAPABILITY_NAMED_IAM"],
                                                  RoleARN=role),
                         "AccessDenied", 403,
                         message=self.denied_message(user["Arn"], "iam:PassRole", role))

    def test_a_role_that_does_not_trust_cloudformation_is_invalid(self):
        role = self.make_role(SAGEMAKER_TRUST, policy(allow("iam:*")))
        for arn in (role, f"arn:aws:iam::{ACCOUNT}:role/{unique('missing')}"):
            self.assertError(lambda arn=arn: self.cfn.create_stack(
                StackName=unique("trust"), TemplateBody=role_template(),
                Capabilities=["CAPABILITY_NAMED_IAM"], RoleARN=arn),
                "ValidationError", 400, message=f"Role {arn} is invalid or cannot be assumed")

    def test_resources_are_made_by_the_role_with_its_permissions(self):
        allowed = self.make_role(CFN_TRUST, policy(allow("iam:*")))
        name = unique("asrole")
        role_name = unique("made-by-role")
        self.cfn.create_stack(StackName=name, TemplateBody=role_template(role_name=role_name),
                              Capabilities=["CAPABILITY_NAMED_IAM"], RoleARN=allowed)
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(stack["RoleARN"], allowed)
        self.assertTrue(self.role_exists(role_name))

        # A role without iam:CreateRole: the stack fails with IAM's AccessDenied text and rolls back.
        weak = self.make_role(CFN_TRUST, policy(allow("iam:GetRole")))
        weak_name = weak.rsplit("/", 1)[1]
        name = unique("weak")
        blocked = unique("blocked")
        self.cfn.create_stack(StackName=name, TemplateBody=role_template(role_name=blocked),
                              Capabilities=["CAPABILITY_NAMED_IAM"], RoleARN=weak)
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "ROLLBACK_COMPLETE")
        failed = [e for e in self.events(name) if e["ResourceStatus"] == "CREATE_FAILED"]
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed[0]["LogicalResourceId"], "Role")
        self.assertIn(
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{weak_name}/AWSCloudFormation is not "
            f"authorized to perform: iam:CreateRole on resource: "
            f"arn:aws:iam::{ACCOUNT}:role/{blocked}", failed[0]["ResourceStatusReason"])
        self.assertIn("HandlerErrorCode: AccessDenied", failed[0]["ResourceStatusReason"])
        self.assertFalse(self.role_exists(blocked))


class FailureTests(CloudFormationTestCase):
    """Template errors, unsupported types and failures halfway."""

    def test_a_rollback_that_cannot_delete_ends_rollback_failed(self):
        service = unique("cfn-no-delete")
        self.iam.create_role(RoleName=service, AssumeRolePolicyDocument=json.dumps(CFN_TRUST))
        self.iam.put_role_policy(RoleName=service, PolicyName="p", PolicyDocument=json.dumps(
            policy(allow(["iam:CreateRole", "iam:GetRole", "iam:CreatePolicy"]))))
        role_name = unique("stuck")
        body = json.dumps({"Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": role_name, "AssumeRolePolicyDocument": SAGEMAKER_TRUST}},
            "Bad": {"Type": "AWS::IAM::ManagedPolicy", "DependsOn": "Role", "Properties": {
                "PolicyDocument": {"Version": "2012-10-17",
                                   "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}}}}})
        name = unique("stuck")
        self.cfn.create_stack(StackName=name, TemplateBody=body,
                              Capabilities=["CAPABILITY_NAMED_IAM"],
                              RoleARN=f"arn:aws:iam::{ACCOUNT}:role/{service}")
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual((stack["StackStatus"], stack["StackStatusReason"]),
                         ("ROLLBACK_FAILED", "The following resource(s) failed to delete: [Role]. "))
        failed = [e for e in self.events(name) if e["ResourceStatus"] == "DELETE_FAILED"]
        self.assertEqual([e["LogicalResourceId"] for e in failed], ["Role"])
        self.assertIn("iam:DeleteRole", failed[0]["ResourceStatusReason"])
        self.assertTrue(self.role_exists(role_name))

    def test_template_errors_are_validation_errors(self):
        self.assertError(lambda: self.cfn.create_stack(StackName=unique("bad"),
                                                       TemplateBody="Resources: [1, 2"),
                         "ValidationError", 400, message_startswith="Template format error")
        self.assertError(lambda: self.cfn.create_stack(StackName=unique("none")),
                         "ValidationError", 400,
                         message="Either Template URL or Template Body must be specified.")
        params = json.dumps({"Parameters": {"Env": {"Type": "String"}}, "Resources": {
            "R": {"Type": "AWS::IAM::Role", "Properties": {
                "AssumeRolePolicyDocument": SAGEMAKER_TRUST}}}})
        self.assertError(lambda: self.cfn.create_stack(StackName=unique("p"), TemplateBody=params,
                                                       Capabilities=["CAPABILITY_IAM"]),
                         "ValidationError", 400, message="Parameters: [Env] must have values")

    def test_the_servers_own_files_are_never_read_as_templates(self):
        # With replicas, each guards its own data directory and the master key they share.
        for name in ("master.key",) if POSTGRES else ("credentials", "master.key"):
            path = os.path.join(self.server.data_dir, name)
            for url, call in ((f"file://{path}", lambda url: self.cfn.create_stack(
                                  StackName=unique("own"), TemplateURL=url)),
                              (path, lambda url: self.cfn.validate_template(TemplateURL=url))):
                self.assertError(lambda: call(url), "ValidationError", 400,
                                 message=f"The template at `{url}` cannot be read: it is one of "
                                         "rolewright's own files (its data directory or master "
                                         "key), which are never read as templates")

    def test_an_unsupported_type_is_refused_before_anything_is_created(self):
        role_name = unique("never")
        body = json.dumps({"Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": role_name, "AssumeRolePolicyDocument": SAGEMAKER_TRUST}},
            "Bucket": {"Type": "AWS::S3::Bucket"}}})
        name = unique("unsupported")
        e = self.assertError(lambda: self.cfn.create_stack(StackName=name, TemplateBody=body,
                                                           Capabilities=["CAPABILITY_NAMED_IAM"]),
                             "ValidationError", 400)
        message = e.response["Error"]["Message"]
        self.assertIn("AWS::S3::Bucket", message)
        self.assertIn("Bucket", message.replace("AWS::S3::Bucket", ""))
        self.assertFalse(self.role_exists(role_name))
        self.assertError(lambda: self.cfn.describe_stacks(StackName=name), "ValidationError",
                         message=f"Stack with id {name} does not exist")

    def test_a_failure_halfway_rolls_back_in_reverse_order(self):
        role_name = unique("half")
        body = json.dumps({"Resources": {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": role_name, "AssumeRolePolicyDocument": SAGEMAKER_TRUST}},
            "Good": {"Type": "AWS::IAM::ManagedPolicy", "DependsOn": "Role", "Properties": {
                "Roles": [{"Ref": "Role"}],
                "PolicyDocument": policy(allow("s3:GetObject"))}},
            "Bad": {"Type": "AWS::IAM::ManagedPolicy", "DependsOn": "Good", "Properties": {
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject"}]}}}}})
        name = unique("rollback")
        self.cfn.create_stack(StackName=name, TemplateBody=body,
                              Capabilities=["CAPABILITY_NAMED_IAM"])
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "ROLLBACK_COMPLETE")
        self.assertEqual(stack["StackStatusReason"],
                         "The following resource(s) failed to create: [Bad]. "
                         "Rollback requested by user.")
        events = self.events(name)
        self.assertEqual(statuses(events, "Role"), ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS",
                                                    "CREATE_COMPLETE", "DELETE_IN_PROGRESS",
                                                    "DELETE_COMPLETE"])
        self.assertEqual(statuses(events, "Bad"), ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS",
                                                   "CREATE_FAILED", "DELETE_COMPLETE"])
        self.assertEqual(statuses(events, name), ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS",
                                                  "ROLLBACK_COMPLETE"])
        failed = next(e for e in events if e["ResourceStatus"] == "CREATE_FAILED")
        self.assertIn("(Service: Iam, Status Code: 400, Request ID: ", failed["ResourceStatusReason"])
        self.assertIn("HandlerErrorCode: InvalidRequest", failed["ResourceStatusReason"])
        self.assertIn("Resource handler returned message:", failed["ResourceStatusReason"])
        # Reverse order: Good is deleted before Role.
        order = [e["LogicalResourceId"] for e in reversed(events)
                 if e["ResourceStatus"] == "DELETE_COMPLETE" and e["LogicalResourceId"] != "Bad"]
        self.assertEqual(order, ["Good", "Role"])
        self.assertFalse(self.role_exists(role_name))
        names = [p["PolicyName"] for p in self.iam.list_policies(Scope="Local")["Policies"]]
        self.assertFalse([n for n in names if n.startswith(f"{name}-Good-")])
        # A rolled-back stack keeps its name until it is deleted.
        self.assertError(lambda: self.cfn.create_stack(StackName=name, TemplateBody=body,
                                                       Capabilities=["CAPABILITY_NAMED_IAM"]),
                         "AlreadyExistsException", 400, message=f"Stack [{name}] already exists")
        self.cfn.delete_stack(StackName=name)
        self.assertEqual(self.cfn.describe_stacks(StackName=stack["StackId"])["Stacks"][0]
                         ["StackStatus"], "DELETE_COMPLETE")


    def test_a_rollback_keeps_retained_resources_but_not_retain_except_on_create(self):
        kept, dropped = unique("kept"), unique("dropped")
        body = json.dumps({"Resources": {
            "Kept": {"Type": "AWS::IAM::Role", "DeletionPolicy": "Retain", "Properties": {
                "RoleName": kept, "AssumeRolePolicyDocument": SAGEMAKER_TRUST}},
            "Dropped": {"Type": "AWS::IAM::Role", "DeletionPolicy": "RetainExceptOnCreate",
                        "DependsOn": "Kept", "Properties": {
                            "RoleName": dropped, "AssumeRolePolicyDocument": SAGEMAKER_TRUST}},
            "Bad": {"Type": "AWS::IAM::ManagedPolicy", "DependsOn": "Dropped", "Properties": {
                "PolicyDocument": {"Version": "2012-10-17",
                                   "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}}}}})
        name = unique("retained")
        self.cfn.create_stack(StackName=name, TemplateBody=body,
                              Capabilities=["CAPABILITY_NAMED_IAM"])
        self.assertEqual(self.cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"],
                         "ROLLBACK_COMPLETE")
        self.assertTrue(self.role_exists(kept))
        self.assertFalse(self.role_exists(dropped))
        events = self.events(name)
        self.assertEqual(statuses(events, "Kept")[-1], "DELETE_SKIPPED")
        self.assertEqual(statuses(events, "Dropped")[-1], "DELETE_COMPLETE")


class LifecycleTests(CloudFormationTestCase):
    """Events, resources, outputs, exports, DeleteStack and DeletionPolicy Retain."""

    def test_events_resources_outputs_exports_and_delete(self):
        name = unique("life")
        role_name = unique("life-role")
        kept = unique("kept")
        export = unique("RoleArnExport")
        body = json.dumps({
            "Description": "lifecycle",
            "Parameters": {"Suffix": {"Type": "String", "Default": "x"}},
            "Resources": {
                "Role": {"Type": "AWS::IAM::Role", "Properties": {
                    "RoleName": role_name, "AssumeRolePolicyDocument": SAGEMAKER_TRUST,
                    "Tags": [{"Key": "team", "Value": "ml"}]}},
                "Inline": {"Type": "AWS::IAM::Policy", "Properties": {
                    "PolicyName": "inline", "Roles": [{"Ref": "Role"}],
                    "PolicyDocument": policy(allow("s3:ListBucket"))}},
                "Managed": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
                    "Roles": [{"Ref": "Role"}],
                    "PolicyDocument": policy(allow("s3:GetObject"))}},
                "Profile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {
                    "Roles": [{"Ref": "Role"}]}},
                "Kept": {"Type": "AWS::IAM::Role", "DeletionPolicy": "Retain", "Properties": {
                    "RoleName": kept, "AssumeRolePolicyDocument": SAGEMAKER_TRUST}},
            },
            "Outputs": {
                "RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]},
                            "Description": "the role",
                            "Export": {"Name": export}},
                "PolicyArn": {"Value": {"Ref": "Managed"}},
                "Suffix": {"Value": {"Fn::Sub": "${AWS::StackName}-${Suffix}"}},
            }})
        stack_id = self.cfn.create_stack(StackName=name, TemplateBody=body,
                                         Capabilities=["CAPABILITY_NAMED_IAM"],
                                         Tags=[{"Key": "owner", "Value": "tests"}])["StackId"]
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(stack["Parameters"], [{"ParameterKey": "Suffix", "ParameterValue": "x"}])
        self.assertEqual(stack["Tags"], [{"Key": "owner", "Value": "tests"}])
        outputs = {o["OutputKey"]: o for o in stack["Outputs"]}
        role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role_name}"
        self.assertEqual(outputs["RoleArn"]["OutputValue"], role_arn)
        self.assertEqual(outputs["RoleArn"]["ExportName"], export)
        self.assertEqual(outputs["RoleArn"]["Description"], "the role")
        self.assertEqual(outputs["Suffix"]["OutputValue"], f"{name}-x")
        policy_arn = outputs["PolicyArn"]["OutputValue"]
        self.assertRegex(policy_arn, rf"^arn:aws:iam::{ACCOUNT}:policy/{name}-Managed-[A-Z0-9]{{12}}$")

        exports = self.cfn.list_exports()["Exports"]
        self.assertIn({"ExportingStackId": stack_id, "Name": export, "Value": role_arn}, exports)

        attached = self.iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]
        self.assertEqual([a["PolicyArn"] for a in attached], [policy_arn])
        self.assertEqual(self.iam.list_role_policies(RoleName=role_name)["PolicyNames"], ["inline"])
        # The stack's tags go onto every resource that takes tags, after the resource's own.
        self.assertEqual(self.iam.list_role_tags(RoleName=role_name)["Tags"],
                         [{"Key": "team", "Value": "ml"}, {"Key": "owner", "Value": "tests"}])
        profiles = self.iam.list_instance_profiles_for_role(RoleName=role_name)["InstanceProfiles"]
        self.assertEqual(len(profiles), 1)

        summaries = self.cfn.list_stack_resources(StackName=name)["StackResourceSummaries"]
        self.assertEqual(sorted(s["LogicalResourceId"] for s in summaries),
                         ["Inline", "Kept", "Managed", "Profile", "Role"])
        self.assertTrue(all(s["ResourceStatus"] == "CREATE_COMPLETE" for s in summaries))
        by_physical = self.cfn.describe_stack_resources(PhysicalResourceId=role_name)
        self.assertEqual([r["LogicalResourceId"] for r in by_physical["StackResources"]], ["Role"])
        self.assertError(lambda: self.cfn.describe_stack_resource(StackName=name,
                                                                  LogicalResourceId="Nope"),
                         "ValidationError", message=f"Resource Nope does not exist for stack {name}")

        events = self.events(name)
        self.assertEqual(events[0]["ResourceStatus"], "CREATE_COMPLETE")
        self.assertEqual(events[0]["LogicalResourceId"], name)
        self.assertEqual(events[0]["ResourceType"], "AWS::CloudFormation::Stack")
        self.assertEqual(events[0]["PhysicalResourceId"], stack_id)
        self.assertEqual(events[-1]["ResourceStatus"], "CREATE_IN_PROGRESS")
        self.assertEqual(events[-1]["ResourceStatusReason"], "User Initiated")
        times = [e["Timestamp"] for e in events]
        self.assertEqual(times, sorted(times, reverse=True))
        self.assertEqual(statuses(events, "Role"), ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS",
                                                    "CREATE_COMPLETE"])
        initiated = [e for e in reversed(events)
                     if e["LogicalResourceId"] == "Role" and e["ResourceStatus"] ==
                     "CREATE_IN_PROGRESS"]
        self.assertEqual([e.get("ResourceStatusReason") for e in initiated],
                         [None, "Resource creation Initiated"])
        self.assertEqual(len({e["EventId"] for e in events}), len(events), "event ids are unique")

        listed = {s["StackId"]: s for s in self.cfn.list_stacks()["StackSummaries"]}
        self.assertEqual(listed[stack_id]["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(listed[stack_id]["TemplateDescription"], "lifecycle")

        # Deletion: reverse order, the retained role stays, the stack is gone by name.
        self.cfn.delete_stack(StackName=name)
        self.assertFalse(self.role_exists(role_name))
        self.assertTrue(self.role_exists(kept))
        self.assertError(lambda: self.iam.get_policy(PolicyArn=policy_arn), "NoSuchEntity")
        self.assertError(lambda: self.cfn.describe_stacks(StackName=name), "ValidationError", 400,
                         message=f"Stack with id {name} does not exist")
        gone = self.cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        self.assertEqual(gone["StackStatus"], "DELETE_COMPLETE")
        self.assertIn("DeletionTime", gone)
        events = self.events(stack_id)
        self.assertEqual(statuses(events, "Kept"), ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS",
                                                    "CREATE_COMPLETE", "DELETE_SKIPPED"])
        self.assertEqual(statuses(events, name)[-2:], ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"])
        self.assertNotIn(export, [e["Name"] for e in self.cfn.list_exports()["Exports"]])
        statuses_listed = {s["StackId"]: s["StackStatus"] for s in self.cfn.list_stacks(
            StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"]}
        self.assertEqual(statuses_listed[stack_id], "DELETE_COMPLETE")
        # Deleting again, or a stack that never was, succeeds.
        self.cfn.delete_stack(StackName=name)
        self.cfn.delete_stack(StackName=unique("never"))

    def test_an_export_name_is_unique_and_imports_resolve(self):
        export = unique("Shared")
        first = json.dumps({"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
            "AssumeRolePolicyDocument": SAGEMAKER_TRUST}}},
            "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["R", "Arn"]},
                                "Export": {"Name": export}}}})
        a = unique("exporter")
        self.cfn.create_stack(StackName=a, TemplateBody=first, Capabilities=["CAPABILITY_IAM"])
        b = unique("again")
        self.assertError(lambda: self.cfn.create_stack(StackName=b, TemplateBody=first,
                                                       Capabilities=["CAPABILITY_IAM"]),
                         "ValidationError", 400,
                         message=f"Export with name {export} is already exported by stack {a}")
        importer = json.dumps({"Resources": {"P": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
            "PolicyDocument": policy(allow("iam:PassRole", {"Fn::ImportValue": export}))}}},
            "Outputs": {"Imported": {"Value": {"Fn::ImportValue": export}}}})
        c = unique("importer")
        self.cfn.create_stack(StackName=c, TemplateBody=importer, Capabilities=["CAPABILITY_IAM"])
        stack = self.cfn.describe_stacks(StackName=c)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        self.assertRegex(stack["Outputs"][0]["OutputValue"], rf"^arn:aws:iam::{ACCOUNT}:role/{a}-R-")
        self.assertEqual(self.cfn.list_imports(ExportName=export)["Imports"], [c])
        # The exporting stack cannot go while its export is imported: it goes back to where it was.
        self.cfn.delete_stack(StackName=a)
        stack = self.cfn.describe_stacks(StackName=a)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(stack["StackStatusReason"],
                         f"Export {export} cannot be deleted as it is in use by {c}")
        self.assertEqual(statuses(self.events(a), a)[-2:], ["DELETE_IN_PROGRESS",
                                                             "CREATE_COMPLETE"])
        self.cfn.delete_stack(StackName=c)
        self.assertError(lambda: self.cfn.list_imports(ExportName=export), "ValidationError", 400,
                         message=f"Export '{export}' is not imported by any stack.")
        self.cfn.delete_stack(StackName=a)
        self.assertError(lambda: self.cfn.describe_stacks(StackName=a), "ValidationError")


class UpdateTests(CloudFormationTestCase):
    """UpdateStack and change sets: in-place updates, replacements, removals in the cleanup, a
    failed update rolled back, and the change set lifecycle."""

    def base(self, role_name, description="first", policies=None, extra=None, document=None):
        resources = {
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": role_name, "Description": description,
                "AssumeRolePolicyDocument": SAGEMAKER_TRUST,
                "Policies": policies or []}},
            "Managed": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
                "Roles": [{"Ref": "Role"}],
                "PolicyDocument": document or policy(allow("s3:GetObject"))}},
        }
        resources.update(extra or {})
        return json.dumps({"Parameters": {"Env": {"Type": "String", "Default": "dev"}},
                           "Resources": resources,
                           "Outputs": {"Env": {"Value": {"Ref": "Env"}}}})

    def test_update_stack_in_place_adds_and_removes(self):
        role_name = unique("upd")
        name = unique("update")
        inline = {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "extra", "Roles": [{"Ref": "Role"}],
            "PolicyDocument": policy(allow("s3:ListBucket"))}}
        self.cfn.create_stack(StackName=name, Capabilities=["CAPABILITY_NAMED_IAM"],
                              TemplateBody=self.base(role_name, extra={"Extra": inline}))
        policy_arn = self.cfn.describe_stack_resource(
            StackName=name, LogicalResourceId="Managed")["StackResourceDetail"]["PhysicalResourceId"]
        self.assertEqual(self.iam.list_role_policies(RoleName=role_name)["PolicyNames"], ["extra"])
        self.assertError(lambda: self.cfn.update_stack(
            StackName=name, Capabilities=["CAPABILITY_NAMED_IAM"],
            TemplateBody=self.base(role_name, extra={"Extra": inline})),
            "ValidationError", 400, message="No updates are to be performed.")

        new_doc = policy(allow(["s3:GetObject", "s3:PutObject"]))
        updated = self.base(role_name, description="second", document=new_doc, policies=[
            {"PolicyName": "own", "PolicyDocument": policy(allow("sagemaker:ListApps"))}],
            extra={"Profile": {"Type": "AWS::IAM::InstanceProfile",
                               "Properties": {"Roles": [{"Ref": "Role"}]}}})
        self.cfn.update_stack(StackName=name, TemplateBody=updated,
                              Capabilities=["CAPABILITY_NAMED_IAM"],
                              Parameters=[{"ParameterKey": "Env", "ParameterValue": "prod"}],
                              Tags=[{"Key": "stage", "Value": "two"}])
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        self.assertEqual(stack["Tags"], [{"Key": "stage", "Value": "two"}])
        self.assertIn("LastUpdatedTime", stack)
        self.assertEqual(stack["Outputs"][0]["OutputValue"], "prod")
        role = self.iam.get_role(RoleName=role_name)["Role"]
        self.assertEqual(role["Description"], "second")
        self.assertEqual(self.iam.list_role_policies(RoleName=role_name)["PolicyNames"], ["own"])
        got = self.iam.get_policy(PolicyArn=policy_arn)["Policy"]
        self.assertEqual(got["DefaultVersionId"], "v2")
        self.assertEqual(self.iam.get_policy_version(PolicyArn=policy_arn, VersionId="v2")[
            "PolicyVersion"]["Document"], new_doc)
        self.assertEqual(len(self.iam.list_instance_profiles_for_role(RoleName=role_name)[
            "InstanceProfiles"]), 1)
        logical = sorted(r["LogicalResourceId"] for r in self.cfn.list_stack_resources(
            StackName=name)["StackResourceSummaries"])
        self.assertEqual(logical, ["Managed", "Profile", "Role"])
        events = self.events(name)
        self.assertEqual(statuses(events, name)[-3:], [
            "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"])
        self.assertEqual(statuses(events, "Extra")[-2:], ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"])
        self.assertEqual(statuses(events, "Role")[-2:], ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"])

        # UsePreviousTemplate and UsePreviousValue.
        self.assertError(lambda: self.cfn.update_stack(
            StackName=name, UsePreviousTemplate=True, Capabilities=["CAPABILITY_NAMED_IAM"],
            Parameters=[{"ParameterKey": "Env", "UsePreviousValue": True}]),
            "ValidationError", message="No updates are to be performed.")
        self.cfn.update_stack(StackName=name, UsePreviousTemplate=True,
                              Capabilities=["CAPABILITY_NAMED_IAM"],
                              Parameters=[{"ParameterKey": "Env", "ParameterValue": "test"}])
        self.assertEqual(self.cfn.describe_stacks(StackName=name)["Stacks"][0]["Outputs"][0][
            "OutputValue"], "test")
        self.assertError(lambda: self.cfn.update_stack(
            StackName=unique("nope"), UsePreviousTemplate=True), "ValidationError")

    def test_a_failed_update_rolls_back_to_the_stack_as_it_was(self):
        role_name = unique("upd-fail")
        name = unique("update-fail")
        self.cfn.create_stack(StackName=name, Capabilities=["CAPABILITY_NAMED_IAM"],
                              TemplateBody=self.base(role_name))
        bad = {"Type": "AWS::IAM::ManagedPolicy", "DependsOn": "Role", "Properties": {
            "PolicyDocument": {"Version": "2012-10-17",
                               "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}}}
        added = unique("added")
        self.cfn.update_stack(StackName=name, Capabilities=["CAPABILITY_NAMED_IAM"],
                              TemplateBody=self.base(role_name, description="changed", extra={
                                  "Added": {"Type": "AWS::IAM::Role", "Properties": {
                                      "RoleName": added,
                                      "AssumeRolePolicyDocument": SAGEMAKER_TRUST}},
                                  "Bad": dict(bad, DependsOn="Added")}))
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "UPDATE_ROLLBACK_COMPLETE")
        self.assertEqual(self.iam.get_role(RoleName=role_name)["Role"]["Description"], "first")
        self.assertFalse(self.role_exists(added))
        events = self.events(name)
        self.assertEqual(statuses(events, name)[-4:], [
            "UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS",
            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"])
        self.assertEqual(sorted(r["LogicalResourceId"] for r in self.cfn.list_stack_resources(
            StackName=name)["StackResourceSummaries"]), ["Managed", "Role"])
        # The stack can be updated again after the rollback.
        self.cfn.update_stack(StackName=name, Capabilities=["CAPABILITY_NAMED_IAM"],
                              TemplateBody=self.base(role_name, description="third"))
        self.assertEqual(self.iam.get_role(RoleName=role_name)["Role"]["Description"], "third")

    def test_concurrent_updates_of_one_stack_go_one_at_a_time(self):
        name = unique("race")
        prefix = unique("race")

        def template(description):
            return json.dumps({"Resources": {f"R{i}": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": f"{prefix}-{i}", "Description": description,
                "AssumeRolePolicyDocument": SAGEMAKER_TRUST}} for i in range(8)}})

        self.cfn.create_stack(StackName=name, TemplateBody=template("zero"),
                              Capabilities=["CAPABILITY_NAMED_IAM"])
        outcomes = {}

        def update(description):
            cfn = self.server.admin("cloudformation")
            try:
                cfn.update_stack(StackName=name, TemplateBody=template(description),
                                 Capabilities=["CAPABILITY_NAMED_IAM"])
                outcomes[description] = "ok"
            except cfn.exceptions.ClientError as e:
                outcomes[description] = e.response["Error"]["Message"]

        threads = [threading.Thread(target=update, args=(d,)) for d in ("one", "two", "three")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done = [d for d, o in outcomes.items() if o == "ok"]
        self.assertTrue(done, outcomes)
        for description, outcome in outcomes.items():
            if outcome != "ok":
                self.assertRegex(outcome, r"^Stack:arn:aws:cloudformation:\S+ is in "
                                          r"UPDATE_\w+ state and can not be updated\.$")
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE")
        # Every role has the description of one update that went ahead, the same for all.
        descriptions = {self.iam.get_role(RoleName=f"{prefix}-{i}")["Role"]["Description"]
                        for i in range(8)}
        self.assertEqual(len(descriptions), 1, descriptions)
        self.assertIn(descriptions.pop(), done)

    def test_change_sets(self):
        role_name = unique("cs")
        name = unique("changes")
        body = self.base(role_name)
        self.assertError(lambda: self.cfn.create_change_set(
            StackName=name, ChangeSetName="first", ChangeSetType="CREATE", TemplateBody=body),
            "InsufficientCapabilitiesException",
            message="Requires capabilities : [CAPABILITY_NAMED_IAM]")
        created = self.cfn.create_change_set(StackName=name, ChangeSetName="first",
                                             ChangeSetType="CREATE", TemplateBody=body,
                                             Capabilities=["CAPABILITY_NAMED_IAM"])
        self.assertRegex(created["Id"], rf"^arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/"
                                        r"first/[0-9a-f-]{36}$")
        self.assertEqual(self.cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"],
                         "REVIEW_IN_PROGRESS")
        self.assertFalse(self.role_exists(role_name))
        self.cfn.get_waiter("change_set_create_complete").wait(
            ChangeSetName="first", StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 5})
        described = self.cfn.describe_change_set(ChangeSetName=created["Id"])
        self.assertEqual((described["Status"], described["ExecutionStatus"],
                          described["StackId"]),
                         ("CREATE_COMPLETE", "AVAILABLE", created["StackId"]))
        self.assertEqual(sorted((c["ResourceChange"]["Action"],
                                 c["ResourceChange"]["LogicalResourceId"])
                                for c in described["Changes"]),
                         [("Add", "Managed"), ("Add", "Role")])
        listed = self.cfn.list_change_sets(StackName=name)["Summaries"]
        self.assertEqual([(s["ChangeSetName"], s["Status"]) for s in listed],
                         [("first", "CREATE_COMPLETE")])
        self.cfn.execute_change_set(ChangeSetName="first", StackName=name)
        self.assertEqual(self.cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"],
                         "CREATE_COMPLETE")
        self.assertTrue(self.role_exists(role_name))
        self.assertEqual(self.cfn.describe_change_set(ChangeSetName=created["Id"])[
            "ExecutionStatus"], "EXECUTE_COMPLETE")
        self.assertError(lambda: self.cfn.execute_change_set(ChangeSetName=created["Id"]),
                         "InvalidChangeSetStatus")

        # An update with nothing to change fails, with the text the CLI's deploy looks for.
        same = self.cfn.create_change_set(StackName=name, ChangeSetName="same",
                                          TemplateBody=body, Capabilities=["CAPABILITY_NAMED_IAM"])
        described = self.cfn.describe_change_set(ChangeSetName=same["Id"])
        self.assertEqual((described["Status"], described["ExecutionStatus"],
                          described["StatusReason"]),
                         ("FAILED", "UNAVAILABLE",
                          "The submitted information didn't contain changes. Submit different "
                          "information to create a change set."))
        changed = self.cfn.create_change_set(
            StackName=name, ChangeSetName="changed", Capabilities=["CAPABILITY_NAMED_IAM"],
            TemplateBody=self.base(role_name, description="second"))
        [change] = self.cfn.describe_change_set(ChangeSetName="changed",
                                                StackName=name)["Changes"]
        self.assertEqual({k: change["ResourceChange"].get(k) for k in (
            "Action", "LogicalResourceId", "PhysicalResourceId", "Replacement")},
            {"Action": "Modify", "LogicalResourceId": "Role", "PhysicalResourceId": role_name,
             "Replacement": "False"})
        self.cfn.delete_change_set(ChangeSetName="same", StackName=name)
        self.assertError(lambda: self.cfn.describe_change_set(ChangeSetName=same["Id"]),
                         "ChangeSetNotFound", 404, message=f"ChangeSet [{same['Id']}] does not exist")
        self.cfn.execute_change_set(ChangeSetName=changed["Id"])
        self.assertEqual(self.cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"],
                         "UPDATE_COMPLETE")
        self.assertEqual(self.iam.get_role(RoleName=role_name)["Role"]["Description"], "second")
        self.assertError(lambda: self.cfn.create_change_set(
            StackName=unique("absent"), ChangeSetName="u", TemplateBody=body,
            Capabilities=["CAPABILITY_NAMED_IAM"]), "ValidationError")



def studio_template(role_name, users, tags, domain_name=None):
    """An execution role, a domain whose default execution role it is, and a profile per user,
    each profile's own execution role given as `Fn::GetAtt Role.Arn`."""
    resources = {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": role_name, "AssumeRolePolicyDocument": SAGEMAKER_TRUST}},
        "Domain": {"Type": "AWS::SageMaker::Domain", "Properties": {
            "DomainName": domain_name or unique("cfn-studio"), "AuthMode": "IAM",
            "DefaultUserSettings": {"ExecutionRole": {"Fn::GetAtt": ["Role", "Arn"]}},
            "SubnetIds": ["subnet-0123456789abcdef0"], "VpcId": "vpc-0123456789abcdef0",
            "Tags": tags}},
    }
    for i, user in enumerate(users):
        resources[f"Profile{i}"] = {"Type": "AWS::SageMaker::UserProfile", "Properties": {
            "DomainId": {"Fn::GetAtt": ["Domain", "DomainId"]}, "UserProfileName": user,
            "UserSettings": {"ExecutionRole": {"Fn::GetAtt": ["Role", "Arn"]}}, "Tags": tags}}
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources,
                       "Outputs": {
                           "DomainRef": {"Value": {"Ref": "Domain"}},
                           "DomainArn": {"Value": {"Fn::GetAtt": ["Domain", "DomainArn"]}},
                           "Url": {"Value": {"Fn::GetAtt": ["Domain", "Url"]}},
                           "ProfileRef": {"Value": {"Ref": "Profile0"}},
                           "ProfileArn": {"Value": {"Fn::GetAtt": ["Profile0", "UserProfileArn"]}},
                       }})


class StudioStackTests(CloudFormationTestCase):
    """AWS::SageMaker::Domain, UserProfile, Space and App: created, read, updated and
    deleted through SageMaker's own operations as the stack's principal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sm = cls.server.admin("sagemaker")

    def make_role(self, actions):
        name = unique("cfn-studio-service")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(CFN_TRUST))
        self.iam.put_role_policy(RoleName=name, PolicyName="p",
                                 PolicyDocument=json.dumps(policy(allow(actions))))
        return name, f"arn:aws:iam::{ACCOUNT}:role/{name}"

    def outputs(self, stack):
        described = self.cfn.describe_stacks(StackName=stack)["Stacks"][0]
        return described, {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}

    def test_a_domain_and_two_profiles_are_created_updated_and_deleted(self):
        role_name = unique("studio-exec")
        users = [unique("alice"), unique("bob")]
        tags = [{"Key": "team", "Value": "ml"}, {"Key": "cost-center", "Value": "42"}]
        name = unique("studio")
        self.cfn.create_stack(StackName=name, TemplateBody=studio_template(role_name, users, tags),
                              Capabilities=["CAPABILITY_NAMED_IAM"])
        stack, out = self.outputs(name)
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE", stack.get("StackStatusReason"))
        domain_id = out["DomainRef"]
        role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role_name}"

        domain = self.sm.describe_domain(DomainId=domain_id)
        self.assertEqual(domain["DomainArn"], out["DomainArn"])
        self.assertEqual(domain["Url"], out["Url"])
        self.assertEqual(domain["DefaultUserSettings"]["ExecutionRole"], role_arn)
        self.assertEqual(self.sm.list_tags(ResourceArn=domain["DomainArn"])["Tags"], tags)
        self.assertEqual(out["ProfileRef"], f"{domain_id}|{users[0]}")
        for user in users:
            profile = self.sm.describe_user_profile(DomainId=domain_id, UserProfileName=user)
            self.assertEqual(profile["UserSettings"]["ExecutionRole"], role_arn)
            self.assertEqual(self.sm.list_tags(ResourceArn=profile["UserProfileArn"])["Tags"],
                             tags)
        self.assertEqual(out["ProfileArn"], self.sm.describe_user_profile(
            DomainId=domain_id, UserProfileName=users[0])["UserProfileArn"])
        resources = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in
                     self.cfn.describe_stack_resources(StackName=name)["StackResources"]}
        self.assertEqual(resources["Domain"], domain_id)
        self.assertEqual(resources["Profile1"], f"{domain_id}|{users[1]}")

        # Tags and UserSettings change in place: the domain and the profiles keep their ids.
        new_tags = [{"Key": "team", "Value": "research"}]
        body = json.loads(studio_template(role_name, users, new_tags, domain["DomainName"]))
        body["Resources"]["Profile1"]["Properties"]["UserSettings"]["DefaultLandingUri"] = \
            "studio::"
        self.cfn.update_stack(StackName=name, TemplateBody=json.dumps(body),
                              Capabilities=["CAPABILITY_NAMED_IAM"])
        stack, out = self.outputs(name)
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE", stack.get("StackStatusReason"))
        self.assertEqual(out["DomainRef"], domain_id)
        self.assertEqual(self.sm.list_tags(ResourceArn=domain["DomainArn"])["Tags"], new_tags)
        profile = self.sm.describe_user_profile(DomainId=domain_id, UserProfileName=users[1])
        self.assertEqual(profile["UserSettings"].get("DefaultLandingUri"), "studio::")
        self.assertEqual(self.sm.list_tags(ResourceArn=profile["UserProfileArn"])["Tags"],
                         new_tags)

        self.cfn.delete_stack(StackName=name)
        self.assertError(lambda: self.sm.describe_domain(DomainId=domain_id),
                         "ResourceNotFound", 400)
        for user in users:
            self.assertError(lambda user=user: self.sm.describe_user_profile(
                DomainId=domain_id, UserProfileName=user), "ResourceNotFound", 400)
        self.assertFalse(self.role_exists(role_name))

    def test_a_space_and_an_app_are_created_updated_and_deleted_before_their_profile(self):
        role_name = unique("studio-exec")
        user = unique("dana")
        space = unique("shared-space")
        body = json.loads(studio_template(role_name, [user], [{"Key": "team", "Value": "ml"}],
                                          unique("cfn-studio")))
        domain_id = {"Fn::GetAtt": ["Domain", "DomainId"]}
        body["Resources"]["Space"] = {"Type": "AWS::SageMaker::Space", "Properties": {
            "DomainId": domain_id, "SpaceName": space,
            "SpaceSettings": {"AppType": "JupyterLab"},
            "Tags": [{"Key": "kind", "Value": "shared"}]}}
        body["Resources"]["App"] = {"Type": "AWS::SageMaker::App", "Properties": {
            "DomainId": domain_id, "UserProfileName": user,
            "AppType": "JupyterServer", "AppName": "default"}, "DependsOn": "Profile0"}
        body["Outputs"] = {
            "SpaceRef": {"Value": {"Ref": "Space"}},
            "SpaceArn": {"Value": {"Fn::GetAtt": ["Space", "SpaceArn"]}},
            "AppRef": {"Value": {"Ref": "App"}},
            "AppArn": {"Value": {"Fn::GetAtt": ["App", "AppArn"]}},
            "DomainRef": {"Value": {"Ref": "Domain"}},
        }
        name = unique("studio-apps")
        self.cfn.create_stack(StackName=name, TemplateBody=json.dumps(body),
                              Capabilities=["CAPABILITY_NAMED_IAM"])
        stack, out = self.outputs(name)
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE", stack.get("StackStatusReason"))
        domain = out["DomainRef"]
        self.assertEqual(out["SpaceRef"], f"{domain}|{space}")
        described = self.sm.describe_space(DomainId=domain, SpaceName=space)
        self.assertEqual(described["SpaceArn"], out["SpaceArn"])
        self.assertEqual(self.sm.list_tags(ResourceArn=out["SpaceArn"])["Tags"],
                         [{"Key": "kind", "Value": "shared"}])
        self.assertEqual(out["AppRef"], f"JupyterServer|default|{domain}|{user}")
        self.assertEqual(out["AppArn"], f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:app/{domain}/"
                                        f"{user}/jupyterserver/default")
        self.sm.describe_app(DomainId=domain, UserProfileName=user, AppType="JupyterServer",
                             AppName="default")

        # SpaceSettings and SpaceDisplayName change in place.
        body["Resources"]["Space"]["Properties"]["SpaceDisplayName"] = "Shared space"
        self.cfn.update_stack(StackName=name, TemplateBody=json.dumps(body),
                              Capabilities=["CAPABILITY_NAMED_IAM"])
        stack, out = self.outputs(name)
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE", stack.get("StackStatusReason"))
        self.assertEqual(out["SpaceRef"], f"{domain}|{space}")
        self.assertEqual(self.sm.describe_space(DomainId=domain, SpaceName=space)
                         .get("SpaceDisplayName"), "Shared space")

        # The app goes first, its profile waits for it to be deleted, the domain goes last.
        self.cfn.delete_stack(StackName=name)
        stack = self.cfn.describe_stacks(StackName=stack["StackId"])["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "DELETE_COMPLETE", stack.get("StackStatusReason"))
        self.assertError(lambda: self.sm.describe_domain(DomainId=domain), "ResourceNotFound", 400)
        self.assertError(lambda: self.sm.describe_space(DomainId=domain, SpaceName=space),
                         "ResourceNotFound", 400)

    def test_a_role_without_create_user_profile_rolls_back_with_sagemakers_text(self):
        service, service_arn = self.make_role(["iam:*", "sagemaker:CreateDomain",
                                               "sagemaker:DescribeDomain",
                                               "sagemaker:DeleteDomain", "sagemaker:AddTags"])
        role_name = unique("studio-exec")
        user = unique("carol")
        name = unique("studio-weak")
        self.cfn.create_stack(
            StackName=name, Capabilities=["CAPABILITY_NAMED_IAM"], RoleARN=service_arn,
            TemplateBody=studio_template(role_name, [user], [{"Key": "team", "Value": "ml"}]))
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "ROLLBACK_COMPLETE", stack.get("StackStatusReason"))
        events = self.events(name)
        failed = [e for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
        self.assertEqual([e["LogicalResourceId"] for e in failed], ["Profile0"])
        reason = failed[0]["ResourceStatusReason"]
        self.assertIn(
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{service}/AWSCloudFormation is not "
            f"authorized to perform: sagemaker:CreateUserProfile on resource: "
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:user-profile/", reason)
        self.assertIn(f"/{user} because no identity-based policy allows the "
                      f"sagemaker:CreateUserProfile action (Service: SageMaker, Status Code: 400, "
                      f"Request ID: ", reason)
        self.assertTrue(reason.endswith("(HandlerErrorCode: AccessDenied)"), reason)
        self.assertEqual(statuses(events, "Domain"),
                         ["CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE",
                          "DELETE_IN_PROGRESS", "DELETE_COMPLETE"])
        domain_id = next(e["PhysicalResourceId"] for e in events
                         if e["LogicalResourceId"] == "Domain" and e.get("PhysicalResourceId"))
        self.assertError(lambda: self.sm.describe_domain(DomainId=domain_id),
                         "ResourceNotFound", 400)
        self.assertFalse(self.role_exists(role_name))


class TemplateOperationTests(CloudFormationTestCase):
    """ValidateTemplate and GetTemplateSummary."""

    BODY = json.dumps({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "summary",
        "Parameters": {"Env": {"Type": "String", "Default": "dev", "AllowedValues": ["dev", "prod"],
                               "Description": "where"},
                       "Secret": {"Type": "String", "NoEcho": True}},
        "Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": "named", "AssumeRolePolicyDocument": SAGEMAKER_TRUST}}}})

    def test_validate_template(self):
        out = self.cfn.validate_template(TemplateBody=self.BODY)
        self.assertEqual(out["Description"], "summary")
        self.assertEqual(out["Capabilities"], ["CAPABILITY_NAMED_IAM"])
        self.assertEqual(out["CapabilitiesReason"],
                         "The following resource(s) require capabilities: [AWS::IAM::Role]")
        params = {p["ParameterKey"]: p for p in out["Parameters"]}
        self.assertEqual(params["Env"]["DefaultValue"], "dev")
        self.assertEqual(params["Env"]["Description"], "where")
        self.assertTrue(params["Secret"]["NoEcho"])
        self.assertError(lambda: self.cfn.validate_template(TemplateBody="{"), "ValidationError",
                         400, message_startswith="Template format error")

    def test_get_template_summary(self):
        out = self.cfn.get_template_summary(TemplateBody=self.BODY)
        self.assertEqual(out["ResourceTypes"], ["AWS::IAM::Role"])
        self.assertEqual(out["Version"], "2010-09-09")
        env = next(p for p in out["Parameters"] if p["ParameterKey"] == "Env")
        self.assertEqual(env["ParameterType"], "String")
        self.assertEqual(env["ParameterConstraints"]["AllowedValues"], ["dev", "prod"])
        name = unique("summary")
        body = role_template()
        self.cfn.create_stack(StackName=name, TemplateBody=body,
                              Capabilities=["CAPABILITY_NAMED_IAM"])
        by_stack = self.cfn.get_template_summary(StackName=name)
        self.assertEqual(by_stack["ResourceTypes"], ["AWS::IAM::Role"])
        self.assertError(lambda: self.cfn.get_template_summary(StackName=unique("none")),
                         "ValidationError")


class RestartTests(E2ETestCase):
    """Stacks are durable: a restarted server describes them as they were."""

    def test_stacks_survive_a_restart(self):
        cfn = self.server.admin("cloudformation")
        name = unique("durable")
        stack_id = cfn.create_stack(StackName=name, TemplateBody=role_template(),
                                    Capabilities=["CAPABILITY_NAMED_IAM"])["StackId"]
        before = cfn.describe_stack_events(StackName=name)["StackEvents"]
        self.server.stop_and_check()
        self.server.start()
        cfn = self.server.admin("cloudformation")
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(stack["StackId"], stack_id)
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(cfn.describe_stack_events(StackName=name)["StackEvents"], before)
        cfn.delete_stack(StackName=name)
        self.assertEqual(cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"],
                         "DELETE_COMPLETE")


PRODUCT_TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  UserProfileName:
    Type: String
Resources:
  Profile:
    Type: AWS::SageMaker::UserProfile
    Properties:
      DomainId: d-000000000000
      UserProfileName: !Ref UserProfileName
"""


def catalog_template(product_file, suffix, description="Products of the data science team",
                     key_status="Active"):
    """A portfolio with a product, its launch role as a LAUNCH constraint, an end user's role as
    its principal, and a user with an access key, all made by the stack."""
    ref = lambda name: {"Ref": name}  # noqa: E731
    resources = {
        "LaunchRole": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": f"launch-{suffix}",
            "AssumeRolePolicyDocument": trust({"Service": "servicecatalog.amazonaws.com"})}},
        "EndUserRole": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": f"end-user-{suffix}",
            "AssumeRolePolicyDocument": trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})}},
        "Portfolio": {"Type": "AWS::ServiceCatalog::Portfolio", "Properties": {
            "DisplayName": f"Data science {suffix}", "ProviderName": "ML platform",
            "Description": description, "Tags": [{"Key": "team", "Value": "ml"}]}},
        "Product": {"Type": "AWS::ServiceCatalog::CloudFormationProduct", "Properties": {
            "Name": f"Studio profile {suffix}", "Owner": "ML platform",
            "ProvisioningArtifactParameters": [
                {"Name": "v1", "Info": {"LoadTemplateFromURL": f"file://{product_file}"}},
                {"Name": "v2", "Info": {"LoadTemplateFromURL": f"file://{product_file}"}}]}},
        "Association": {"Type": "AWS::ServiceCatalog::PortfolioProductAssociation",
                        "Properties": {"PortfolioId": ref("Portfolio"),
                                       "ProductId": ref("Product")}},
        "EndUsers": {"Type": "AWS::ServiceCatalog::PortfolioPrincipalAssociation",
                     "Properties": {"PortfolioId": ref("Portfolio"),
                                    "PrincipalARN": {"Fn::GetAtt": ["EndUserRole", "Arn"]},
                                    "PrincipalType": "IAM"}},
        "Launch": {"Type": "AWS::ServiceCatalog::LaunchRoleConstraint",
                   "DependsOn": "Association",
                   "Properties": {"PortfolioId": ref("Portfolio"), "ProductId": ref("Product"),
                                  "RoleArn": {"Fn::GetAtt": ["LaunchRole", "Arn"]},
                                  "Description": "Launched as the launch role"}},
        "Builder": {"Type": "AWS::IAM::User", "Properties": {"UserName": f"builder-{suffix}"}},
        "BuilderKey": {"Type": "AWS::IAM::AccessKey",
                       "Properties": {"UserName": ref("Builder"), "Status": key_status}},
    }
    outputs = {
        "PortfolioId": ref("Portfolio"),
        "PortfolioName": {"Fn::GetAtt": ["Portfolio", "PortfolioName"]},
        "ProductId": ref("Product"),
        "ArtifactIds": {"Fn::GetAtt": ["Product", "ProvisioningArtifactIds"]},
        "ArtifactNames": {"Fn::GetAtt": ["Product", "ProvisioningArtifactNames"]},
        "AssociationRef": ref("Association"),
        "ConstraintId": ref("Launch"),
        "KeyId": ref("BuilderKey"),
        "KeySecret": {"Fn::GetAtt": ["BuilderKey", "SecretAccessKey"]},
    }
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources,
                       "Outputs": {k: {"Value": v} for k, v in outputs.items()}})


class CatalogStackTests(CloudFormationTestCase):
    """The Service Catalog types and AWS::IAM::AccessKey: created, updated in place and deleted
    through Service Catalog's and IAM's own operations as the stack's principal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sc = cls.server.admin("servicecatalog")
        cls.tmp = tempfile.mkdtemp(prefix="rolewright-cfn-catalog-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.product_file = os.path.join(cls.tmp, "profile.yaml")
        with open(cls.product_file, "w", encoding="utf-8") as f:
            f.write(PRODUCT_TEMPLATE)

    def outputs(self, stack):
        described = self.cfn.describe_stacks(StackName=stack)["Stacks"][0]
        return described, {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}

    def test_a_portfolio_with_a_product_its_launch_role_and_principal_and_an_access_key(self):
        suffix = unique("cat")
        name = unique("catalog")
        self.cfn.create_stack(StackName=name, Capabilities=["CAPABILITY_NAMED_IAM"],
                              TemplateBody=catalog_template(self.product_file, suffix))
        stack, out = self.outputs(name)
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE", stack.get("StackStatusReason"))
        portfolio_id, product_id = out["PortfolioId"], out["ProductId"]
        self.assertRegex(portfolio_id, r"^port-[a-z0-9]{13}$")
        self.assertRegex(product_id, r"^prod-[a-z0-9]{13}$")

        portfolio = self.sc.describe_portfolio(Id=portfolio_id)
        self.assertEqual((portfolio["PortfolioDetail"]["DisplayName"],
                          portfolio["PortfolioDetail"]["Description"]),
                         (f"Data science {suffix}", "Products of the data science team"))
        self.assertEqual(out["PortfolioName"], f"Data science {suffix}")
        self.assertEqual(portfolio["Tags"], [{"Key": "team", "Value": "ml"}])
        admin = self.sc.describe_product_as_admin(Id=product_id)
        artifacts = admin["ProvisioningArtifactSummaries"]
        self.assertEqual(out["ArtifactIds"], ",".join(a["Id"] for a in artifacts))
        self.assertEqual(out["ArtifactNames"], "v1,v2")
        self.assertEqual(out["AssociationRef"], f"{portfolio_id}|{product_id}")
        in_portfolio = self.sc.search_products_as_admin(PortfolioId=portfolio_id)
        self.assertEqual([p["ProductViewSummary"]["ProductId"]
                          for p in in_portfolio["ProductViewDetails"]], [product_id])
        self.assertEqual([p["PrincipalARN"] for p in self.sc.list_principals_for_portfolio(
            PortfolioId=portfolio_id)["Principals"]],
            [f"arn:aws:iam::{ACCOUNT}:role/end-user-{suffix}"])
        constraints = self.sc.list_constraints_for_portfolio(
            PortfolioId=portfolio_id)["ConstraintDetails"]
        self.assertEqual([(c["ConstraintId"], c["Type"]) for c in constraints],
                         [(out["ConstraintId"], "LAUNCH")])
        described = self.sc.describe_constraint(Id=out["ConstraintId"])
        self.assertEqual(json.loads(described["ConstraintParameters"]),
                         {"RoleArn": f"arn:aws:iam::{ACCOUNT}:role/launch-{suffix}"})
        # The key is a working key of the stack's user.
        builder = self.server.client("sts", out["KeyId"], out["KeySecret"])
        self.assertEqual(builder.get_caller_identity()["Arn"],
                         f"arn:aws:iam::{ACCOUNT}:user/builder-{suffix}")

        # In place: the portfolio's description, the key's status; the secret stays readable.
        self.cfn.update_stack(StackName=name, Capabilities=["CAPABILITY_NAMED_IAM"],
                              TemplateBody=catalog_template(self.product_file, suffix,
                                                            "Now with Studio",
                                                            key_status="Inactive"))
        stack, after = self.outputs(name)
        self.assertEqual(stack["StackStatus"], "UPDATE_COMPLETE", stack.get("StackStatusReason"))
        self.assertEqual((after["PortfolioId"], after["KeyId"], after["KeySecret"]),
                         (portfolio_id, out["KeyId"], out["KeySecret"]))
        self.assertEqual(self.sc.describe_portfolio(Id=portfolio_id)["PortfolioDetail"][
            "Description"], "Now with Studio")
        keys = self.iam.list_access_keys(UserName=f"builder-{suffix}")["AccessKeyMetadata"]
        self.assertEqual([(k["AccessKeyId"], k["Status"]) for k in keys],
                         [(out["KeyId"], "Inactive")])

        self.cfn.delete_stack(StackName=name)
        stack = self.cfn.describe_stacks(StackName=stack["StackId"])["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "DELETE_COMPLETE", stack.get("StackStatusReason"))
        self.assertError(lambda: self.sc.describe_portfolio(Id=portfolio_id),
                         "ResourceNotFoundException", 400)
        self.assertError(lambda: self.sc.describe_product_as_admin(Id=product_id),
                         "ResourceNotFoundException", 400)
        self.assertError(lambda: self.iam.get_user(UserName=f"builder-{suffix}"),
                         "NoSuchEntity", 404)
        self.assertFalse(self.role_exists(f"launch-{suffix}"))

    def test_an_accepted_portfolio_share_is_rejected_with_its_stack(self):
        sm = self.server.admin("sagemaker")
        sm.enable_sagemaker_servicecatalog_portfolio()
        shared = self.sc.list_accepted_portfolio_shares()["PortfolioDetails"]
        imported = [p["Id"] for p in shared if p["DisplayName"] ==
                    "Amazon SageMaker Solutions and ML Ops products"]
        self.assertEqual(len(imported), 1, shared)
        accepted = lambda: [p["Id"] for p in  # noqa: E731
                            self.sc.list_accepted_portfolio_shares()["PortfolioDetails"]]
        # The switch's share is accepted as it is made: accepting it again changes nothing,
        # and deleting the stack rejects it, which turns the switch off.
        name = unique("share")
        self.cfn.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": {"Share": {
            "Type": "AWS::ServiceCatalog::AcceptedPortfolioShare",
            "Properties": {"PortfolioId": imported[0]}}}}))
        stack = self.cfn.describe_stacks(StackName=name)["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE", stack.get("StackStatusReason"))
        self.assertIn(imported[0], accepted())
        self.cfn.delete_stack(StackName=name)
        self.assertNotIn(imported[0], accepted())
        self.assertEqual(sm.get_sagemaker_servicecatalog_portfolio_status()["Status"], "Disabled")
