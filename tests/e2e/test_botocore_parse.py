"""Every response parses in botocore (issue 10, item 8): each operation that the server implements
for IAM, STS, SageMaker and Service Catalog is driven once or more with valid input through boto3,
and for each answer

* botocore parses it without error and without logging a warning (the `botocore` logger is
  captured at WARNING);
* the parsed output conforms to the operation's output shape in botocore's model: no unknown
  members, every member of its shape's type (structure, list, map, string, integer, long, boolean,
  timestamp as a datetime, ...), enum values in their enum, required members present;
* the raw answer has no member the model does not know either (botocore's parsers drop unknown
  members silently, so the parsed output alone cannot show them): the JSON document's keys, or the
  XML elements under the query protocol's `<OpResponse><OpResult>` with lists as `<member>` and
  maps as `<entry><key/><value/></entry>`, and IAM policy documents percent-encoded JSON.

The operation lists below are copied from the server's files named beside them; a test reads those
files and fails, naming the operation, when one is served but missing here, and each service's test
fails naming every listed operation it did not drive.
"""

import datetime
import json
import logging
import os
import re
import shutil
import tempfile
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.session
from botocore import xform_name
from botocore.exceptions import ClientError

from harness import ACCOUNT, REGION, WORKSPACE, E2ETestCase, allow, policy, trust, unique

SERVER_SRC = os.path.join(WORKSPACE, "crates", "rolewright-server", "src")

# ---- the operations served, by the file that serves them --------------------------------------

IAM_FILE = "iam/mod.rs"  # the `match action` of `dispatch`
IAM_OPERATIONS = [
    "CreateUser", "GetUser", "ListUsers", "DeleteUser", "CreateAccessKey", "ListAccessKeys",
    "ListMFADevices", "ListVirtualMFADevices",
    "UpdateAccessKey", "DeleteAccessKey", "CreateRole", "GetRole", "ListRoles", "DeleteRole",
    "UpdateRole", "UpdateRoleDescription", "UpdateAssumeRolePolicy", "PutRolePolicy",
    "PutUserPolicy", "GetRolePolicy", "GetUserPolicy", "ListRolePolicies", "ListUserPolicies",
    "DeleteRolePolicy", "DeleteUserPolicy", "AttachRolePolicy", "AttachUserPolicy",
    "DetachRolePolicy", "DetachUserPolicy", "ListAttachedRolePolicies",
    "ListAttachedUserPolicies", "TagRole", "TagUser", "UntagRole", "UntagUser", "ListRoleTags",
    "ListUserTags", "PutRolePermissionsBoundary", "PutUserPermissionsBoundary",
    "DeleteRolePermissionsBoundary", "DeleteUserPermissionsBoundary", "CreatePolicy", "GetPolicy",
    "DeletePolicy", "ListPolicies", "CreatePolicyVersion", "GetPolicyVersion",
    "ListPolicyVersions", "DeletePolicyVersion", "SetDefaultPolicyVersion",
    "ListEntitiesForPolicy", "CreateGroup", "GetGroup", "ListGroups", "DeleteGroup",
    "AddUserToGroup", "RemoveUserFromGroup", "ListGroupsForUser", "PutGroupPolicy",
    "GetGroupPolicy", "ListGroupPolicies", "DeleteGroupPolicy", "AttachGroupPolicy",
    "DetachGroupPolicy", "ListAttachedGroupPolicies", "GetAccountSummary",
    "GetAccountAuthorizationDetails", "ListAccountAliases", "CreateAccountAlias",
    "DeleteAccountAlias", "CreateLoginProfile", "GetLoginProfile", "UpdateLoginProfile",
    "DeleteLoginProfile", "TagPolicy", "UntagPolicy", "ListPolicyTags", "GetAccessKeyLastUsed",
    "CreateInstanceProfile", "GetInstanceProfile", "ListInstanceProfiles",
    "ListInstanceProfilesForRole", "DeleteInstanceProfile", "AddRoleToInstanceProfile",
    "RemoveRoleFromInstanceProfile", "SimulatePrincipalPolicy", "SimulateCustomPolicy",
]
STS_FILE = "sts.rs"  # the `match action` of `dispatch`
STS_OPERATIONS = ["GetCallerIdentity", "AssumeRole", "GetAccessKeyInfo"]
SAGEMAKER_FILE = "sagemaker/mod.rs"  # `operations![...]`, the OPERATIONS table
SAGEMAKER_OPERATIONS = [
    "CreateDomain", "DescribeDomain", "ListDomains", "UpdateDomain", "DeleteDomain",
    "CreateUserProfile", "DescribeUserProfile", "ListUserProfiles", "UpdateUserProfile",
    "DeleteUserProfile", "CreateSpace", "DescribeSpace", "ListSpaces", "UpdateSpace",
    "DeleteSpace", "CreateApp", "DescribeApp", "ListApps", "DeleteApp",
    "CreatePresignedDomainUrl", "AddTags", "ListTags", "DeleteTags",
    "EnableSagemakerServicecatalogPortfolio", "DisableSagemakerServicecatalogPortfolio",
    "GetSagemakerServicecatalogPortfolioStatus",
]
SERVICECATALOG_FILE = "servicecatalog/mod.rs"  # `operation_table!`, the OPERATIONS table
SERVICECATALOG_OPERATIONS = [
    "CreatePortfolio", "DescribePortfolio", "UpdatePortfolio", "DeletePortfolio",
    "ListPortfolios", "AssociatePrincipalWithPortfolio", "DisassociatePrincipalFromPortfolio",
    "ListPrincipalsForPortfolio", "ListAcceptedPortfolioShares", "AcceptPortfolioShare",
    "RejectPortfolioShare", "CreateProduct", "DescribeProduct", "DescribeProductAsAdmin",
    "DescribeProductView", "SearchProducts", "SearchProductsAsAdmin", "UpdateProduct",
    "DeleteProduct", "CreateProvisioningArtifact", "DescribeProvisioningArtifact",
    "ListProvisioningArtifacts", "DeleteProvisioningArtifact", "AssociateProductWithPortfolio",
    "DisassociateProductFromPortfolio", "ListPortfoliosForProduct", "CreateConstraint",
    "DescribeConstraint", "UpdateConstraint", "DeleteConstraint", "ListConstraintsForPortfolio",
    "ListLaunchPaths", "ProvisionProduct", "DescribeRecord", "ListRecordHistory",
    "DescribeProvisionedProduct", "SearchProvisionedProducts", "ScanProvisionedProducts",
    "GetProvisionedProductOutputs", "DescribeProvisioningParameters", "UpdateProvisionedProduct",
    "TerminateProvisionedProduct",
]
CLOUDFORMATION_FILE = "cloudformation/mod.rs"  # `operation_table!`, the OPERATIONS table
CLOUDFORMATION_OPERATIONS = [
    "CreateStack", "DescribeStacks", "DescribeStackEvents", "DescribeStackResources",
    "DescribeStackResource", "ListStackResources", "ListStacks", "GetTemplate", "DeleteStack",
    "ValidateTemplate", "GetTemplateSummary", "ListExports", "UpdateStack", "CreateChangeSet",
    "DescribeChangeSet", "ExecuteChangeSet", "DeleteChangeSet", "ListChangeSets", "ListImports",
]
SERVED = {
    "iam": (IAM_FILE, IAM_OPERATIONS),
    "sts": (STS_FILE, STS_OPERATIONS),
    "sagemaker": (SAGEMAKER_FILE, SAGEMAKER_OPERATIONS),
    "servicecatalog": (SERVICECATALOG_FILE, SERVICECATALOG_OPERATIONS),
    "cloudformation": (CLOUDFORMATION_FILE, CLOUDFORMATION_OPERATIONS),
}

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Description: A Studio user profile
Parameters:
  UserName:
    Type: String
Resources:
  Profile:
    Type: AWS::SageMaker::UserProfile
    Properties:
      UserProfileName: !Ref UserName
"""

# What the parse test provisions: one managed policy, named by a parameter, and its ARN.
POLICY_TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  PolicyName:
    Type: String
    Description: The policy's name
Resources:
  Policy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      ManagedPolicyName: !Ref PolicyName
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Action: s3:ListAllMyBuckets
            Resource: '*'
Outputs:
  PolicyArn:
    Description: The policy's ARN
    Value: !Ref Policy
"""


def served_in_source(file):
    """The operation names a server file serves: the `"Name" on "resource" => handler` lines of
    its `operation_table!`, from which the server builds both its table and its dispatch."""
    with open(os.path.join(SERVER_SRC, file), encoding="utf-8") as f:
        text = f.read()
    table = re.search(r"operation_table! \{(.*?)\n\}\n", text, re.S)
    return re.findall(r'^\s*"([A-Za-z]+)" on "', table.group(1) if table else "", re.M)


# ---- the shape walker -----------------------------------------------------------------------

POLICY_DOCUMENT = "policyDocumentType"
# Values AWS itself sends outside an enum of the model, which botocore accepts (it does not check
# enums on the way in): the policy simulator names policies passed in the request, as
# SimulateCustomPolicy's are, with SourcePolicyType "IAM Policy" (seen in AWS's answers that the
# AWS CLI prints; the model's PolicySourceType lists only user, group, role, aws-managed,
# user-managed, resource and none).
AWS_ENUM_EXTRAS = {("PolicySourceType", "IAM Policy")}


class ShapeWalker:
    """Checks a value against a botocore shape and collects what does not conform, each with the
    path of the member (`Role.Tags[0].Key`)."""

    def __init__(self, decoded_policies):
        # botocore's IAM handler (json_decode_policies) turns percent-encoded policy documents into
        # dicts after parsing; a document it could not decode stays a string, which is a problem.
        self.decoded_policies = decoded_policies
        self.problems = []

    def fail(self, path, text):
        self.problems.append(f"{path or '(output)'}: {text}")

    def parsed(self, shape, value, path=""):
        """The parsed output (what boto3 returns) against the shape."""
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, dict):
                return self.fail(path, f"a structure {shape.name} expected, got {type(value).__name__}")
            for name in value:
                if name not in shape.members:
                    self.fail(path, f"unknown member {name!r} of {shape.name}")
            for name in shape.required_members:
                if name not in value:
                    self.fail(path, f"required member {name!r} of {shape.name} is missing")
            for name, member in value.items():
                if name in shape.members:
                    self.parsed(shape.members[name], member, f"{path}.{name}" if path else name)
        elif kind == "list":
            if not isinstance(value, list):
                return self.fail(path, f"a list {shape.name} expected, got {type(value).__name__}")
            for i, item in enumerate(value):
                self.parsed(shape.member, item, f"{path}[{i}]")
        elif kind == "map":
            if not isinstance(value, dict):
                return self.fail(path, f"a map {shape.name} expected, got {type(value).__name__}")
            for key, item in value.items():
                self.parsed(shape.key, key, f"{path}.<key {key!r}>")
                self.parsed(shape.value, item, f"{path}[{key!r}]")
        elif kind == "string":
            if self.decoded_policies and shape.name == POLICY_DOCUMENT:
                if not isinstance(value, dict):
                    self.fail(path, f"a policy document botocore could not decode: {value!r:.80}")
                return None
            if not isinstance(value, str):
                return self.fail(path, f"a string expected, got {type(value).__name__}")
            if shape.enum and value not in shape.enum and (shape.name,
                                                           value) not in AWS_ENUM_EXTRAS:
                self.fail(path, f"{value!r} is not in the enum {shape.name} {shape.enum}")
        elif kind in ("integer", "long"):
            if not isinstance(value, int) or isinstance(value, bool):
                self.fail(path, f"an {kind} expected, got {value!r}")
        elif kind == "boolean":
            if not isinstance(value, bool):
                self.fail(path, f"a boolean expected, got {value!r}")
        elif kind in ("double", "float"):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                self.fail(path, f"a {kind} expected, got {value!r}")
        elif kind == "timestamp":
            if not isinstance(value, datetime.datetime):
                self.fail(path, f"a timestamp (datetime) expected, got {value!r}")
        elif kind == "blob":
            if not isinstance(value, (bytes, bytearray)):
                self.fail(path, f"a blob expected, got {type(value).__name__}")
        else:
            self.fail(path, f"shape type {kind} is not known to this walker")
        return None

    def raw_json(self, shape, value, path=""):
        """A JSON-protocol document against the shape: members by their serialized names."""
        kind = shape.type_name
        if kind == "structure":
            if not isinstance(value, dict):
                return self.fail(path, f"a JSON object expected, got {value!r:.60}")
            names = {m.serialization.get("name", n): m for n, m in shape.members.items()}
            for key, item in value.items():
                where = f"{path}.{key}" if path else key
                if key not in names:
                    self.fail(where, f"unknown member {key!r} of {shape.name} in the JSON")
                elif item is not None:
                    self.raw_json(names[key], item, where)
        elif kind == "list":
            if not isinstance(value, list):
                return self.fail(path, f"a JSON array expected, got {value!r:.60}")
            for i, item in enumerate(value):
                self.raw_json(shape.member, item, f"{path}[{i}]")
        elif kind == "map":
            if not isinstance(value, dict):
                return self.fail(path, f"a JSON object (map) expected, got {value!r:.60}")
            for key, item in value.items():
                self.raw_json(shape.value, item, f"{path}[{key!r}]")
        elif kind == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                self.fail(path, f"a timestamp (epoch seconds) expected, got {value!r}")
            elif isinstance(value, str):
                self.fail(path, f"a timestamp as text {value!r}: the JSON protocols send epoch "
                                "seconds")
        elif kind in ("integer", "long") and (isinstance(value, bool) or
                                              not isinstance(value, int)):
            self.fail(path, f"a JSON integer expected, got {value!r}")
        elif kind == "boolean" and not isinstance(value, bool):
            self.fail(path, f"a JSON boolean expected, got {value!r}")
        elif kind == "string" and not isinstance(value, str):
            self.fail(path, f"a JSON string expected, got {value!r}")
        return None

    def raw_xml(self, shape, element, path=""):
        """A query-protocol XML element against the shape."""
        kind = shape.type_name
        if kind == "structure":
            names = {m.serialization.get("name", n): m for n, m in shape.members.items()}
            seen = {}
            for child in element:
                tag = local(child.tag)
                where = f"{path}.{tag}" if path else tag
                member = names.get(tag)
                if member is None:
                    self.fail(where, f"unknown element <{tag}> in {shape.name}")
                    continue
                flattened = member.type_name == "list" and member.serialization.get("flattened")
                if seen.get(tag) and not flattened:
                    self.fail(where, f"<{tag}> appears more than once")
                seen[tag] = True
                self.raw_xml(member, child, where)
        elif kind == "list":
            item_name = shape.member.serialization.get("name", "member")
            for i, child in enumerate(element):
                if local(child.tag) != item_name:
                    self.fail(f"{path}[{i}]", f"<{local(child.tag)}> in a list, not <{item_name}>")
                    continue
                self.raw_xml(shape.member, child, f"{path}[{i}]")
        elif kind == "map":
            key_name = shape.key.serialization.get("name", "key")
            value_name = shape.value.serialization.get("name", "value")
            for i, entry in enumerate(element):
                if local(entry.tag) != "entry":
                    self.fail(f"{path}[{i}]", f"<{local(entry.tag)}> in a map, not <entry>")
                    continue
                tags = sorted(local(c.tag) for c in entry)
                if tags != sorted([key_name, value_name]):
                    self.fail(f"{path}[{i}]", f"an <entry> of {tags}, not <{key_name}> and "
                                              f"<{value_name}>")
                    continue
                key = entry.find(f"{{*}}{key_name}")
                if key is None:
                    key = entry.find(key_name)
                value = [c for c in entry if local(c.tag) == value_name][0]
                self.raw_xml(shape.key, key, f"{path}.<key>")
                self.raw_xml(shape.value, value, f"{path}[{key.text!r}]")
        else:
            if len(element):
                return self.fail(path, f"a {kind} with child elements")
            text = element.text or ""
            if kind in ("integer", "long") and not re.fullmatch(r"-?\d+", text):
                self.fail(path, f"{text!r} is not an {kind}")
            elif kind == "boolean" and text not in ("true", "false"):
                self.fail(path, f"{text!r} is not a boolean")
            elif kind == "timestamp" and not re.fullmatch(
                    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", text):
                self.fail(path, f"{text!r} is not an ISO 8601 timestamp")
            elif kind == "string" and shape.name == POLICY_DOCUMENT and self.decoded_policies:
                if "{" in text or "\"" in text:
                    self.fail(path, f"a policy document that is not percent-encoded: {text:.60}")
                else:
                    try:
                        json.loads(urllib.parse.unquote(text))
                    except ValueError:
                        self.fail(path, f"a policy document that is not JSON once decoded: "
                                        f"{text:.60}")
        return None


def local(tag):
    return tag.rsplit("}", 1)[-1]


class WarningTrap(logging.Handler):
    """Keeps every record of WARNING or above that botocore logs."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record)


class Recorder:
    """Calls operations through boto3 clients, keeps the raw answer botocore parsed (from its
    `before-parse` event), and checks both against the model."""

    def __init__(self):
        self.driven = {}  # service -> set of operations driven
        self.problems = []  # "service:Operation: problem"
        self.trap = WarningTrap()
        logger = logging.getLogger("botocore")
        self.saved_level = logger.level
        logger.setLevel(logging.WARNING)
        logger.addHandler(self.trap)
        self._raw = None

    def close(self):
        logger = logging.getLogger("botocore")
        logger.removeHandler(self.trap)
        logger.setLevel(self.saved_level)

    def watch(self, client):
        client.meta.events.register("before-parse", self._keep_raw)
        return client

    def _keep_raw(self, response_dict=None, **_):
        self._raw = response_dict

    def call(self, client, operation, **kwargs):
        """Runs `operation` (its model name) with `kwargs`; returns the parsed output, or None when
        the call failed (recorded as a problem)."""
        service = client.meta.service_model.service_name
        name = f"{service}:{operation}"
        self.driven.setdefault(service, set()).add(operation)
        self.trap.records.clear()
        self._raw = None
        try:
            result = getattr(client, xform_name(operation))(**kwargs)
        except ClientError as e:
            err = e.response.get("Error", {})
            self.problems.append(f"{name}: the call failed with {err.get('Code')}: "
                                 f"{err.get('Message')}")
            return None
        except Exception as e:  # botocore could not parse the answer, or the like
            self.problems.append(f"{name}: {type(e).__name__}: {e}")
            return None
        for record in self.trap.records:
            self.problems.append(f"{name}: botocore logged {record.levelname}: "
                                 f"{record.getMessage()}")
        model = client.meta.service_model.operation_model(operation)
        self.check(name, model, client.meta.service_model, result)
        return result

    def check(self, name, model, service_model, result):
        output = {k: v for k, v in result.items() if k != "ResponseMetadata"}
        shape = model.output_shape
        protocol = service_model.protocol
        walker = ShapeWalker(decoded_policies=service_model.service_name == "iam")
        if shape is None:
            if output:
                walker.fail("", f"the model has no output, got members {sorted(output)}")
        else:
            walker.parsed(shape, output)
        raw = self._raw
        if raw is None:
            walker.fail("", "no raw answer was seen")
        elif protocol == "query":
            self.check_query_body(walker, model, service_model, raw["body"])
        elif protocol == "json":
            body = raw["body"].strip()
            document = json.loads(body) if body else {}
            if shape is None:
                if document:
                    walker.fail("", f"the model has no output, the JSON has {sorted(document)}")
            else:
                walker.raw_json(shape, document)
            content_type = raw["headers"].get("content-type", "")
            if content_type != "application/x-amz-json-1.1":
                walker.fail("", f"Content-Type {content_type!r}, not application/x-amz-json-1.1")
        for problem in walker.problems:
            self.problems.append(f"{name}: {problem}")

    @staticmethod
    def check_query_body(walker, model, service_model, body):
        root = ET.fromstring(body)
        namespace = service_model.metadata.get("xmlNamespace")
        if root.tag != f"{{{namespace}}}{model.name}Response":
            walker.fail("", f"root element {root.tag}, not {{{namespace}}}{model.name}Response")
        shape = model.output_shape
        wrapper = shape.serialization.get("resultWrapper") if shape is not None else None
        allowed = {"ResponseMetadata"} | ({wrapper} if wrapper else set())
        children = [local(c.tag) for c in root]
        for tag in children:
            if tag not in allowed:
                walker.fail("", f"unknown element <{tag}> in <{model.name}Response>")
        if children.count("ResponseMetadata") != 1:
            walker.fail("", "one <ResponseMetadata> expected")
        if wrapper:
            results = [c for c in root if local(c.tag) == wrapper]
            if len(results) != 1:
                walker.fail("", f"one <{wrapper}> expected, got {len(results)}")
            else:
                walker.raw_xml(shape, results[0])


class ParseTestCase(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rec = Recorder()
        cls.addClassCleanup(cls.rec.close)
        cls.tmp = tempfile.mkdtemp(prefix="rolewright-parse-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)

    def client(self, service):
        return self.rec.watch(self.server.admin(service))

    def call(self, client, operation, **kwargs):
        return self.rec.call(client, operation, **kwargs) or {}

    def assert_all_driven_and_parsed(self, service):
        _, operations = SERVED[service]
        driven = self.rec.driven.get(service, set())
        missing = [op for op in operations if op not in driven]
        problems = [p for p in self.rec.problems if p.startswith(f"{service}:")]
        report = []
        if missing:
            report.append(f"{len(missing)} {service} operation(s) not driven: "
                          f"{', '.join(missing)}")
        report += problems
        if report:
            self.fail("\n".join(report))

    def wait_for_record(self, sc, record_id, timeout=15):
        """DescribeRecord (not recorded as driven) until the record ends; it must succeed."""
        deadline = time.time() + timeout
        while True:
            detail = sc.describe_record(Id=record_id)["RecordDetail"]
            if detail["Status"] in ("SUCCEEDED", "FAILED"):
                self.assertEqual(detail["Status"], "SUCCEEDED", detail.get("RecordErrors"))
                return
            if time.time() > deadline:
                self.fail(f"record {record_id} still {detail['Status']} after {timeout} s")
            time.sleep(0.1)

    def wait_for(self, describe, want, timeout=15):
        deadline = time.time() + timeout
        while describe().get("Status") != want:
            if time.time() > deadline:
                self.fail(f"still not {want} after {timeout} s")
            time.sleep(0.2)


class ShapeWalkerTests(unittest.TestCase):
    """The walker itself, on outputs made up to break each rule (no server)."""

    def problems(self, service, operation, output, raw=None):
        model = botocore.session.get_session().get_service_model(service)
        walker = ShapeWalker(decoded_policies=service == "iam")
        walker.parsed(model.operation_model(operation).output_shape, output)
        if raw is not None:
            walker.raw_json(model.operation_model(operation).output_shape, raw)
        return walker.problems

    def test_a_conforming_output_has_no_problem(self):
        when = datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc)
        role = {"Path": "/", "RoleName": "r", "RoleId": "AROAEXAMPLE", "CreateDate": when,
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/r", "MaxSessionDuration": 3600,
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                "Tags": [{"Key": "k", "Value": "v"}]}
        self.assertEqual(self.problems("iam", "GetRole", {"Role": role}), [])

    def test_each_rule_is_enforced(self):
        role = {"Path": "/", "RoleName": "r", "RoleId": "AROAEXAMPLE", "Arn": "arn",
                "CreateDate": "2024-01-02T00:00:00Z", "MaxSessionDuration": "3600",
                "AssumeRolePolicyDocument": "%7B", "Colour": "blue",
                "Tags": [{"Key": "k"}]}
        self.assertEqual(sorted(self.problems("iam", "GetRole", {"Role": role})), sorted([
            "Role: unknown member 'Colour' of Role",
            "Role.AssumeRolePolicyDocument: a policy document botocore could not decode: '%7B'",
            "Role.CreateDate: a timestamp (datetime) expected, got '2024-01-02T00:00:00Z'",
            "Role.MaxSessionDuration: an integer expected, got '3600'",
            "Role.Tags[0]: required member 'Value' of Tag is missing",
        ]))
        self.assertEqual(self.problems("sagemaker", "GetSagemakerServicecatalogPortfolioStatus",
                                       {"Status": "On"}, raw={"Status": "On", "Extra": 1}), [
            "Status: 'On' is not in the enum SagemakerServicecatalogStatus ['Enabled', "
            "'Disabled']",
            "Extra: unknown member 'Extra' of GetSagemakerServicecatalogPortfolioStatusOutput "
            "in the JSON",
        ])
        self.assertEqual(self.problems("sagemaker", "ListDomains", {"Domains": {}}),
                         ["Domains: a list DomainList expected, got dict"])


class OperationListTests(ParseTestCase):

    def test_the_lists_here_are_the_servers(self):
        for service, (file, listed) in SERVED.items():
            with self.subTest(service=service):
                served = served_in_source(file)
                self.assertTrue(served, f"no operations found in {file}")
                unlisted = [op for op in served if op not in listed]
                gone = [op for op in listed if op not in served]
                self.assertEqual(unlisted, [], f"served by {file} but not driven by this test")
                self.assertEqual(gone, [], f"listed here but no longer served by {file}")


class IamAndStsParseTests(ParseTestCase):
    def test_every_iam_operation(self):
        iam = self.client("iam")
        c = lambda op, **kw: self.call(iam, op, **kw)  # noqa: E731
        user, role, group, name = unique("u"), unique("r"), unique("g"), unique("p")
        profile = unique("ip")
        doc = json.dumps(policy(allow("s3:GetObject", "arn:aws:s3:::bucket/*")))
        trust_doc = json.dumps(trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))

        c("CreateUser", UserName=user, Path="/team/", Tags=[{"Key": "team", "Value": "ml"}])
        c("GetUser", UserName=user)
        c("GetUser")
        c("ListUsers", PathPrefix="/")
        key = c("CreateAccessKey", UserName=user).get("AccessKey", {}).get("AccessKeyId")
        c("ListAccessKeys", UserName=user)
        c("ListMFADevices", UserName=user)
        c("ListVirtualMFADevices", AssignmentStatus="Assigned")
        c("GetAccessKeyLastUsed", AccessKeyId=key)
        c("UpdateAccessKey", UserName=user, AccessKeyId=key, Status="Inactive")
        c("CreateRole", RoleName=role, AssumeRolePolicyDocument=trust_doc, Description="d",
          MaxSessionDuration=3600, Tags=[{"Key": "team", "Value": "ml"}])
        c("GetRole", RoleName=role)
        c("ListRoles", MaxItems=5)
        c("UpdateRole", RoleName=role, Description="d2", MaxSessionDuration=7200)
        c("UpdateRoleDescription", RoleName=role, Description="d3")
        c("UpdateAssumeRolePolicy", RoleName=role, PolicyDocument=trust_doc)
        c("PutRolePolicy", RoleName=role, PolicyName="inline", PolicyDocument=doc)
        c("GetRolePolicy", RoleName=role, PolicyName="inline")
        c("ListRolePolicies", RoleName=role)
        c("PutUserPolicy", UserName=user, PolicyName="inline", PolicyDocument=doc)
        c("GetUserPolicy", UserName=user, PolicyName="inline")
        c("ListUserPolicies", UserName=user)

        arn = c("CreatePolicy", PolicyName=name, PolicyDocument=doc, Description="p",
                Tags=[{"Key": "a", "Value": "1"}]).get("Policy", {}).get("Arn")
        c("GetPolicy", PolicyArn=arn)
        c("GetPolicy", PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
        c("ListPolicies", Scope="Local")
        c("ListPolicies", Scope="AWS", MaxItems=3)
        c("CreatePolicyVersion", PolicyArn=arn, PolicyDocument=doc, SetAsDefault=False)
        c("GetPolicyVersion", PolicyArn=arn, VersionId="v1")
        c("ListPolicyVersions", PolicyArn=arn)
        c("SetDefaultPolicyVersion", PolicyArn=arn, VersionId="v2")
        c("DeletePolicyVersion", PolicyArn=arn, VersionId="v1")
        c("TagPolicy", PolicyArn=arn, Tags=[{"Key": "b", "Value": "2"}])
        c("ListPolicyTags", PolicyArn=arn)
        c("UntagPolicy", PolicyArn=arn, TagKeys=["b"])

        c("AttachRolePolicy", RoleName=role, PolicyArn=arn)
        c("AttachUserPolicy", UserName=user, PolicyArn=arn)
        c("ListAttachedRolePolicies", RoleName=role)
        c("ListAttachedUserPolicies", UserName=user)
        c("ListEntitiesForPolicy", PolicyArn=arn)
        c("TagRole", RoleName=role, Tags=[{"Key": "k", "Value": "v"}])
        c("TagUser", UserName=user, Tags=[{"Key": "k", "Value": "v"}])
        c("ListRoleTags", RoleName=role)
        c("ListUserTags", UserName=user)
        c("UntagRole", RoleName=role, TagKeys=["k"])
        c("UntagUser", UserName=user, TagKeys=["k"])
        c("PutRolePermissionsBoundary", RoleName=role, PermissionsBoundary=arn)
        c("PutUserPermissionsBoundary", UserName=user, PermissionsBoundary=arn)
        c("GetRole", RoleName=role)
        c("GetUser", UserName=user)
        c("DeleteRolePermissionsBoundary", RoleName=role)
        c("DeleteUserPermissionsBoundary", UserName=user)

        c("CreateGroup", GroupName=group)
        c("AddUserToGroup", GroupName=group, UserName=user)
        c("GetGroup", GroupName=group)
        c("ListGroups")
        c("ListGroupsForUser", UserName=user)
        c("PutGroupPolicy", GroupName=group, PolicyName="inline", PolicyDocument=doc)
        c("GetGroupPolicy", GroupName=group, PolicyName="inline")
        c("ListGroupPolicies", GroupName=group)
        c("AttachGroupPolicy", GroupName=group, PolicyArn=arn)
        c("ListAttachedGroupPolicies", GroupName=group)
        c("GetAccountAuthorizationDetails")
        c("GetAccountAuthorizationDetails", Filter=["Role", "LocalManagedPolicy"], MaxItems=10)
        c("DetachGroupPolicy", GroupName=group, PolicyArn=arn)
        c("DeleteGroupPolicy", GroupName=group, PolicyName="inline")
        c("RemoveUserFromGroup", GroupName=group, UserName=user)
        c("DeleteGroup", GroupName=group)

        c("GetAccountSummary")
        c("CreateAccountAlias", AccountAlias=unique("team"))
        c("ListAccountAliases")
        alias = (self.iam.list_account_aliases()["AccountAliases"] or [None])[0]
        c("DeleteAccountAlias", AccountAlias=alias)
        c("CreateLoginProfile", UserName=user, Password="A-long-passw0rd!",
          PasswordResetRequired=True)
        c("GetLoginProfile", UserName=user)
        c("UpdateLoginProfile", UserName=user, Password="An0ther-long-passw0rd!",
          PasswordResetRequired=False)
        c("DeleteLoginProfile", UserName=user)

        c("CreateInstanceProfile", InstanceProfileName=profile, Path="/ml/",
          Tags=[{"Key": "k", "Value": "v"}])
        c("AddRoleToInstanceProfile", InstanceProfileName=profile, RoleName=role)
        c("GetInstanceProfile", InstanceProfileName=profile)
        details = c("GetAccountAuthorizationDetails", Filter=["Role"]).get("RoleDetailList", [])
        mine = [d for d in details if d["RoleName"] == role]
        self.assertEqual([[r["RoleName"] for r in p["Roles"]] for p in
                          (mine[0]["InstanceProfileList"] if mine else [])], [[role]],
                         "an instance profile in a RoleDetail lists its role")
        c("ListInstanceProfiles")
        c("ListInstanceProfilesForRole", RoleName=role)
        c("RemoveRoleFromInstanceProfile", InstanceProfileName=profile, RoleName=role)
        c("DeleteInstanceProfile", InstanceProfileName=profile)

        role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
        c("SimulatePrincipalPolicy", PolicySourceArn=role_arn,
          ActionNames=["s3:GetObject", "s3:PutObject"], ResourceArns=["arn:aws:s3:::bucket/a"])
        c("SimulatePrincipalPolicy", PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/{user}",
          ActionNames=["s3:GetObject"],
          ContextEntries=[{"ContextKeyName": "aws:username", "ContextKeyValues": [user],
                           "ContextKeyType": "string"}])
        c("SimulateCustomPolicy", PolicyInputList=[doc], ActionNames=["s3:GetObject"],
          ResourceArns=["arn:aws:s3:::bucket/a", "arn:aws:s3:::other/a"])

        c("DetachRolePolicy", RoleName=role, PolicyArn=arn)
        c("DetachUserPolicy", UserName=user, PolicyArn=arn)
        c("DeleteRolePolicy", RoleName=role, PolicyName="inline")
        c("DeleteUserPolicy", UserName=user, PolicyName="inline")
        c("DeletePolicy", PolicyArn=arn)
        c("DeleteAccessKey", UserName=user, AccessKeyId=key)
        c("DeleteRole", RoleName=role)
        c("DeleteUser", UserName=user)
        self.assert_all_driven_and_parsed("iam")

    def test_every_sts_operation(self):
        sts = self.client("sts")
        role = unique("assumable")
        # Session tags need sts:TagSession in the trust policy too.
        self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(policy({
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["sts:AssumeRole", "sts:TagSession"]})))
        self.iam.put_role_policy(RoleName=role, PolicyName="keys", PolicyDocument=json.dumps(
            policy(allow("sts:GetAccessKeyInfo"))))
        identity = self.call(sts, "GetCallerIdentity")
        answer = self.call(sts, "AssumeRole", RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}",
                           RoleSessionName="parse", DurationSeconds=900,
                           Tags=[{"Key": "team", "Value": "ml"}],
                           Policy=json.dumps(policy(allow(["s3:*", "sts:GetAccessKeyInfo"]))))
        self.call(sts, "GetAccessKeyInfo", AccessKeyId=self.server.admin_keys()[0])
        if "Credentials" in answer:
            creds = answer["Credentials"]
            session = self.rec.watch(self.server.client_from_credentials("sts", creds))
            self.call(session, "GetCallerIdentity")
            self.call(session, "GetAccessKeyInfo", AccessKeyId=creds["AccessKeyId"])
        self.assert_all_driven_and_parsed("sts")
        self.assertEqual(identity.get("Account"), ACCOUNT)
        self.assertIn("PackedPolicySize", answer, "a session policy is reported by its size")


class SageMakerParseTests(ParseTestCase):
    def test_every_sagemaker_operation(self):
        sm = self.client("sagemaker")
        c = lambda op, **kw: self.call(sm, op, **kw)  # noqa: E731
        role = unique("SageMaker-exec")
        self.iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(
            trust({"Service": "sagemaker.amazonaws.com"})))
        role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role}"
        created = c("CreateDomain", DomainName=unique("studio"), AuthMode="IAM",
                    DefaultUserSettings={
                        "ExecutionRole": role_arn,
                        "StudioWebPortalSettings": {"HiddenMlTools": ["Projects"]}},
                    DomainSettings={"ExecutionRoleIdentityConfig": "USER_PROFILE_NAME"},
                    SubnetIds=["subnet-0123456789abcdef0"], VpcId="vpc-0123456789abcdef0",
                    AppNetworkAccessType="PublicInternetOnly",
                    Tags=[{"Key": "team", "Value": "ml"}])
        domain_id = created.get("DomainId")
        c("DescribeDomain", DomainId=domain_id)
        self.wait_for(lambda: sm.describe_domain(DomainId=domain_id), "InService")
        c("DescribeDomain", DomainId=domain_id)
        c("ListDomains", MaxResults=10)
        c("UpdateDomain", DomainId=domain_id,
          DefaultUserSettings={"StudioWebPortalSettings": {"HiddenMlTools": []}})
        c("CreateUserProfile", DomainId=domain_id, UserProfileName="alice",
          UserSettings={"ExecutionRole": role_arn}, Tags=[{"Key": "who", "Value": "alice"}])
        c("CreateUserProfile", DomainId=domain_id, UserProfileName="bob")
        c("DescribeUserProfile", DomainId=domain_id, UserProfileName="alice")
        c("DescribeUserProfile", DomainId=domain_id, UserProfileName="bob")
        c("ListUserProfiles", DomainIdEquals=domain_id, SortBy="CreationTime",
          SortOrder="Descending", MaxResults=1)
        c("ListUserProfiles")
        c("UpdateUserProfile", DomainId=domain_id, UserProfileName="bob",
          UserSettings={"StudioWebPortalSettings": {"HiddenMlTools": ["JumpStart"]}})
        c("CreateSpace", DomainId=domain_id, SpaceName="team", SpaceDisplayName="Team",
          Tags=[{"Key": "k", "Value": "v"}])
        c("DescribeSpace", DomainId=domain_id, SpaceName="team")
        c("ListSpaces", DomainIdEquals=domain_id)
        c("UpdateSpace", DomainId=domain_id, SpaceName="team", SpaceDisplayName="Team 2")
        c("CreateApp", DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer",
          AppName="default", Tags=[{"Key": "k", "Value": "v"}])
        c("DescribeApp", DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer",
          AppName="default")
        describe_app = lambda: sm.describe_app(  # noqa: E731
            DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer",
            AppName="default")
        self.wait_for(describe_app, "InService")
        c("DescribeApp", DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer",
          AppName="default")
        c("ListApps", DomainIdEquals=domain_id)
        c("ListApps", DomainIdEquals=domain_id, UserProfileNameEquals="alice", SortBy="CreationTime",
          SortOrder="Ascending", MaxResults=5)
        c("CreatePresignedDomainUrl", DomainId=domain_id, UserProfileName="alice",
          ExpiresInSeconds=60, SessionExpirationDurationInSeconds=1800)
        domain_arn = created.get("DomainArn")
        c("AddTags", ResourceArn=domain_arn, Tags=[{"Key": "stage", "Value": "dev"}])
        c("ListTags", ResourceArn=domain_arn)
        c("DeleteTags", ResourceArn=domain_arn, TagKeys=["stage"])
        c("GetSagemakerServicecatalogPortfolioStatus")
        c("EnableSagemakerServicecatalogPortfolio")
        c("GetSagemakerServicecatalogPortfolioStatus")
        c("DisableSagemakerServicecatalogPortfolio")
        c("DeleteApp", DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer",
          AppName="default")
        c("DescribeApp", DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer",
          AppName="default")
        self.wait_for(describe_app, "Deleted")
        c("DescribeApp", DomainId=domain_id, UserProfileName="alice", AppType="JupyterServer",
          AppName="default")
        c("ListApps", DomainIdEquals=domain_id)
        c("DeleteSpace", DomainId=domain_id, SpaceName="team")
        c("DeleteUserProfile", DomainId=domain_id, UserProfileName="alice")
        c("DeleteUserProfile", DomainId=domain_id, UserProfileName="bob")
        c("DeleteDomain", DomainId=domain_id, RetentionPolicy={"HomeEfsFileSystem": "Delete"})
        c("ListDomains")
        self.assert_all_driven_and_parsed("sagemaker")


class ServiceCatalogParseTests(ParseTestCase):
    def test_every_service_catalog_operation(self):
        sc = self.client("servicecatalog")
        c = lambda op, **kw: self.call(sc, op, **kw)  # noqa: E731
        template = os.path.join(self.tmp, "profile.yaml")
        with open(template, "w", encoding="utf-8") as f:
            f.write(TEMPLATE)
        launch = unique("SCLaunch")
        self.iam.create_role(RoleName=launch, AssumeRolePolicyDocument=json.dumps(
            trust({"Service": "servicecatalog.amazonaws.com"})))
        launch_arn = f"arn:aws:iam::{ACCOUNT}:role/{launch}"
        admin_arn = self.sts.get_caller_identity()["Arn"]

        portfolio = c("CreatePortfolio", DisplayName="Data science", ProviderName="ML platform",
                      Description="for the team", Tags=[{"Key": "team", "Value": "ml"}]).get(
            "PortfolioDetail", {}).get("Id")
        c("DescribePortfolio", Id=portfolio)
        c("UpdatePortfolio", Id=portfolio, DisplayName="Data science 2",
          AddTags=[{"Key": "cost", "Value": "42"}], RemoveTags=["team"])
        c("ListPortfolios", PageSize=10)
        c("AssociatePrincipalWithPortfolio", PortfolioId=portfolio, PrincipalARN=admin_arn,
          PrincipalType="IAM")
        c("AssociatePrincipalWithPortfolio", PortfolioId=portfolio,
          PrincipalARN="arn:aws:iam:::role/team/*", PrincipalType="IAM_PATTERN")
        c("ListPrincipalsForPortfolio", PortfolioId=portfolio)

        created = c("CreateProduct", Name=unique("product"), Owner="ML platform",
                    Description="Studio user", Distributor="Platform team",
                    SupportEmail="ml@example.com", SupportUrl="https://example.com/help",
                    SupportDescription="ask us", ProductType="CLOUD_FORMATION_TEMPLATE",
                    Tags=[{"Key": "stage", "Value": "dev"}],
                    ProvisioningArtifactParameters={
                        "Name": "v1", "Description": "first",
                        "Info": {"LoadTemplateFromURL": f"file://{template}"},
                        "Type": "CLOUD_FORMATION_TEMPLATE"})
        view = created.get("ProductViewDetail", {}).get("ProductViewSummary", {})
        product, view_id = view.get("ProductId"), view.get("Id")
        first_artifact = created.get("ProvisioningArtifactDetail", {}).get("Id")
        c("DescribeProductAsAdmin", Id=product)
        c("UpdateProduct", Id=product, Owner="Platform team", AddTags=[{"Key": "t", "Value": "1"}])
        second = c("CreateProvisioningArtifact", ProductId=product, Parameters={
            "Name": "v2", "Description": "second",
            "Info": {"LoadTemplateFromURL": f"file://{template}"},
            "Type": "CLOUD_FORMATION_TEMPLATE"}).get("ProvisioningArtifactDetail", {}).get("Id")
        c("DescribeProvisioningArtifact", ProductId=product, ProvisioningArtifactId=second,
          Verbose=True)
        c("ListProvisioningArtifacts", ProductId=product)
        c("AssociateProductWithPortfolio", ProductId=product, PortfolioId=portfolio)
        c("ListPortfoliosForProduct", ProductId=product)
        c("SearchProductsAsAdmin", PortfolioId=portfolio)
        c("SearchProductsAsAdmin", Filters={"FullTextSearch": ["platform"]}, SortBy="Title",
          SortOrder="DESCENDING", ProductSource="ACCOUNT")
        constraint = c("CreateConstraint", PortfolioId=portfolio, ProductId=product, Type="LAUNCH",
                       Parameters=json.dumps({"RoleArn": launch_arn}),
                       Description="launch as the launch role").get(
            "ConstraintDetail", {}).get("ConstraintId")
        c("DescribeConstraint", Id=constraint)
        c("UpdateConstraint", Id=constraint, Description="still the launch role")
        c("ListConstraintsForPortfolio", PortfolioId=portfolio)
        c("ListConstraintsForPortfolio", PortfolioId=portfolio, ProductId=product)

        # The end user's view: the administrator is a principal of the portfolio.
        c("SearchProducts")
        c("SearchProducts", Filters={"FullTextSearch": ["studio"]}, SortBy="CreationDate")
        c("DescribeProduct", Id=product)
        c("DescribeProductView", Id=view_id)
        paths = c("ListLaunchPaths", ProductId=product).get("LaunchPathSummaries", [{}])

        # Provisioning, as the launch role (allowed what the IAM template needs).
        self.iam.put_role_policy(RoleName=launch, PolicyName="provision", PolicyDocument=json.dumps(
            policy(allow(["cloudformation:*", "iam:*"]))))
        iam_template = os.path.join(self.tmp, "policy.yaml")
        with open(iam_template, "w", encoding="utf-8") as f:
            f.write(POLICY_TEMPLATE)
        third = c("CreateProvisioningArtifact", ProductId=product, Parameters={
            "Name": "v3", "Info": {"LoadTemplateFromURL": f"file://{iam_template}"},
            "Type": "CLOUD_FORMATION_TEMPLATE"}).get("ProvisioningArtifactDetail", {}).get("Id")
        c("DescribeProvisioningParameters", ProductId=product, ProvisioningArtifactId=third,
          PathId=paths[0].get("Id"))
        started = c("ProvisionProduct", ProductId=product, ProvisioningArtifactId=third,
                    PathId=paths[0].get("Id"), ProvisionedProductName=unique("pp"),
                    ProvisionToken=unique("token"), Tags=[{"Key": "team", "Value": "ml"}],
                    ProvisioningParameters=[{"Key": "PolicyName", "Value": unique("policy")}])
        record = started.get("RecordDetail", {}).get("RecordId", "rec-none")
        pp = started.get("RecordDetail", {}).get("ProvisionedProductId", "pp-none")
        self.wait_for_record(sc, record)
        c("DescribeRecord", Id=record)
        c("DescribeProvisionedProduct", Id=pp)
        c("SearchProvisionedProducts", Filters={"SearchQuery": ["name:pp"]}, SortBy="name")
        c("ScanProvisionedProducts", AccessLevelFilter={"Key": "Account", "Value": "self"})
        c("GetProvisionedProductOutputs", ProvisionedProductId=pp, OutputKeys=["PolicyArn"])
        updated = c("UpdateProvisionedProduct", ProvisionedProductId=pp,
                    UpdateToken=unique("token"), ProvisioningParameters=[
                        {"Key": "PolicyName", "Value": unique("policy")}])
        self.wait_for_record(sc, updated.get("RecordDetail", {}).get("RecordId", "rec-none"))
        c("ListRecordHistory", SearchFilter={"Key": "provisionedproduct", "Value": pp})
        ended = c("TerminateProvisionedProduct", ProvisionedProductId=pp,
                  TerminateToken=unique("token"))
        self.wait_for_record(sc, ended.get("RecordDetail", {}).get("RecordId", "rec-none"))

        # The SageMaker portfolio the switch imports.
        sm = self.server.admin("sagemaker")
        sm.enable_sagemaker_servicecatalog_portfolio()
        shares = c("ListAcceptedPortfolioShares", PortfolioShareType="IMPORTED")
        imported = [p["Id"] for p in shares.get("PortfolioDetails", [])]
        c("ListAcceptedPortfolioShares")
        c("AcceptPortfolioShare", PortfolioId=imported[0] if imported else "port-none")
        c("DescribePortfolio", Id=imported[0] if imported else "port-none")
        c("RejectPortfolioShare", PortfolioId=imported[0] if imported else "port-none")
        c("ListAcceptedPortfolioShares")

        c("DeleteConstraint", Id=constraint)
        c("DisassociateProductFromPortfolio", ProductId=product, PortfolioId=portfolio)
        c("DeleteProvisioningArtifact", ProductId=product, ProvisioningArtifactId=first_artifact)
        c("DeleteProduct", Id=product)
        c("DisassociatePrincipalFromPortfolio", PortfolioId=portfolio, PrincipalARN=admin_arn)
        c("DisassociatePrincipalFromPortfolio", PortfolioId=portfolio,
          PrincipalARN="arn:aws:iam:::role/team/*", PrincipalType="IAM_PATTERN")
        c("DeletePortfolio", Id=portfolio)
        self.assert_all_driven_and_parsed("servicecatalog")


class CloudFormationParseTests(ParseTestCase):
    def test_every_cloudformation_operation(self):
        cfn = self.client("cloudformation")
        c = lambda op, **kw: self.call(cfn, op, **kw)  # noqa: E731
        role = unique("cfn-parse")
        body = json.dumps({
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": "parse",
            "Parameters": {"Env": {"Type": "String", "Default": "dev",
                                   "AllowedValues": ["dev", "prod"]}},
            "Resources": {
                "Role": {"Type": "AWS::IAM::Role", "Properties": {
                    "RoleName": role,
                    "AssumeRolePolicyDocument": trust({"Service": "sagemaker.amazonaws.com"})}},
                "Policy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {
                    "Roles": [{"Ref": "Role"}], "PolicyDocument": policy(allow("s3:GetObject"))}},
                "Bad": {"Type": "AWS::IAM::ManagedPolicy", "DependsOn": "Policy", "Properties": {
                    "PolicyDocument": {"Version": "2012-10-17",
                                       "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}}},
            },
            "Outputs": {"Arn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}, "Description": "role",
                                "Export": {"Name": unique("ParseExport")}}}})
        good = json.loads(body)
        del good["Resources"]["Bad"]
        # A YAML comment first: botocore decodes a JSON TemplateBody of GetTemplate into a dict.
        good = "# parse\n" + json.dumps(good)
        failing = json.loads(body.replace(role, unique("cfn-parse")))
        del failing["Outputs"]
        failing = json.dumps(failing)
        c("ValidateTemplate", TemplateBody=body)
        c("GetTemplateSummary", TemplateBody=body)
        name = unique("parse")
        stack_id = c("CreateStack", StackName=name, TemplateBody=good,
                     Capabilities=["CAPABILITY_NAMED_IAM"], Parameters=[
                         {"ParameterKey": "Env", "ParameterValue": "prod"}],
                     Tags=[{"Key": "team", "Value": "ml"}]).get("StackId")
        c("DescribeStacks", StackName=name)
        c("DescribeStacks")
        c("DescribeStackEvents", StackName=name)
        c("DescribeStackResources", StackName=name)
        c("DescribeStackResource", StackName=name, LogicalResourceId="Role")
        c("ListStackResources", StackName=name)
        c("GetTemplate", StackName=name)
        c("GetTemplateSummary", StackName=name)
        c("ListExports")
        exported = json.loads(good.split("\n", 1)[1])["Outputs"]["Arn"]["Export"]["Name"]
        importer = unique("parse-importer")
        c("CreateStack", StackName=importer, Capabilities=["CAPABILITY_IAM"],
          TemplateBody=json.dumps({"Resources": {"P": {
              "Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": policy(
                  allow("iam:PassRole", {"Fn::ImportValue": exported}))}}}}))
        c("ListImports", ExportName=exported)
        c("DeleteStack", StackName=importer)
        changed = good.replace('"Action": "s3:GetObject"', '"Action": "s3:ListBucket"')
        c("UpdateStack", StackName=name, TemplateBody=changed,
          Capabilities=["CAPABILITY_NAMED_IAM"])
        change_set = c("CreateChangeSet", StackName=name, ChangeSetName="parse",
                       TemplateBody=good.replace(
                           '"Action": "s3:GetObject"', '"Action": "s3:PutObject"'),
                       Capabilities=["CAPABILITY_NAMED_IAM"], Description="parse",
                       Tags=[{"Key": "team", "Value": "ml"}]).get("Id")
        c("DescribeChangeSet", ChangeSetName=change_set)
        c("ListChangeSets", StackName=name)
        c("ExecuteChangeSet", ChangeSetName=change_set)
        other = c("CreateChangeSet", StackName=name, ChangeSetName="unchanged",
                  UsePreviousTemplate=True, Capabilities=["CAPABILITY_NAMED_IAM"],
                  Parameters=[{"ParameterKey": "Env", "UsePreviousValue": True}]).get("Id")
        c("DescribeChangeSet", ChangeSetName=other)
        c("DeleteChangeSet", ChangeSetName=other)
        failed = unique("parse-failed")
        c("CreateStack", StackName=failed, TemplateBody=failing,
          Capabilities=["CAPABILITY_NAMED_IAM"])
        c("DescribeStacks", StackName=failed)
        c("DescribeStackEvents", StackName=failed)
        c("DeleteStack", StackName=name)
        c("DeleteStack", StackName=failed)
        c("DescribeStacks", StackName=stack_id)
        c("ListStacks")
        c("ListStacks", StackStatusFilter=["DELETE_COMPLETE"])
        self.assert_all_driven_and_parsed("cloudformation")
