"""The query protocol and SigV4 on the wire: raw requests signed by botocore's SigV4Auth and sent
with http.client, so that each check sees exactly the bytes AWS would send and answer.

Facts: NOTES.md §1.1–1.2 (query protocol, XML shapes, percent-encoded policy documents, error codes),
§5 (SigV4: SignedHeaders authoritative, payload hash, ±15 minutes and its messages).
"""

import datetime
import hashlib
import json
import re
import urllib.parse
import uuid

from harness import (
    ACCOUNT,
    IAM_NS,
    STS_NS,
    E2ETestCase,
    find_text,
    form,
    local,
    policy,
    allow,
    trust,
    unique,
    utcnow,
    xml_error,
)
import xml.etree.ElementTree as ET

EC2_TRUST = trust({"Service": "ec2.amazonaws.com"})
LIST_ROLES = form(Action="ListRoles", Version="2010-05-08", MaxItems="1")
CALLER = form(Action="GetCallerIdentity", Version="2011-06-15")
AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")


def parse_amz(s):
    return datetime.datetime.strptime(s, "%Y%m%dT%H%M%SZ")


class ProtocolTests(E2ETestCase):
    def expect_error(self, response, status, code, message=None, message_startswith=None,
                     namespace=IAM_NS):
        got_status, headers, body = response
        try:
            got_code, got_message, request_id, ns = xml_error(body)
        except Exception as e:  # noqa: BLE001 - any parse failure is the finding
            self.fail(f"HTTP {got_status}: the body is not an XML ErrorResponse ({e}): {body[:400]!r}")
        detail = f"HTTP {got_status} {got_code}: {got_message!r}"
        self.assertEqual((got_status, got_code), (status, code), detail)
        self.assertTrue(headers.get("content-type", "").startswith("text/xml"),
                        f"Content-Type is {headers.get('content-type')!r}, AWS sends text/xml")
        self.assertTrue(request_id, "an ErrorResponse carries a RequestId")
        if namespace is not None:
            self.assertEqual(ns, namespace, "ErrorResponse namespace")
        if message is not None:
            self.assertEqual(got_message, message, detail)
        if message_startswith is not None:
            self.assertTrue((got_message or "").startswith(message_startswith), detail)
        return got_message

    def test_signed_request_succeeds_with_request_id(self):
        status, headers, body = self.server.raw(LIST_ROLES)
        self.assertEqual(status, 200, body[:400])
        root = ET.fromstring(body)
        self.assertEqual(root.tag, f"{{{IAM_NS}}}ListRolesResponse")
        self.assertEqual([local(c.tag) for c in root], ["ListRolesResult", "ResponseMetadata"])
        rid = find_text(body, "RequestId")
        self.assertTrue(rid)
        self.assertEqual(headers.get("x-amzn-requestid"), rid,
                         "the x-amzn-RequestId header repeats the body's RequestId")
        self.assertTrue(headers.get("content-type", "").startswith("text/xml"))
        _, _, body2 = self.server.raw(LIST_ROLES)
        self.assertNotEqual(find_text(body2, "RequestId"), rid, "request ids are unique")

    def test_sts_response_shape(self):
        status, _, body = self.server.raw(CALLER, service="sts")
        self.assertEqual(status, 200, body[:400])
        root = ET.fromstring(body)
        self.assertEqual(root.tag, f"{{{STS_NS}}}GetCallerIdentityResponse")
        self.assertEqual(find_text(body, "Arn"), f"arn:aws:iam::{ACCOUNT}:user/admin")
        self.assertEqual(find_text(body, "Account"), ACCOUNT)

    def test_operation_without_output_returns_only_metadata(self):
        name = unique("proto-del")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        status, _, body = self.server.raw(form(Action="DeleteRole", Version="2010-05-08",
                                               RoleName=name))
        self.assertEqual(status, 200, body[:400])
        root = ET.fromstring(body)
        self.assertEqual(root.tag, f"{{{IAM_NS}}}DeleteRoleResponse")
        self.assertEqual([local(c.tag) for c in root], ["ResponseMetadata"])

    def test_get_with_query_string(self):
        status, _, body = self.server.raw(b"", method="GET", headers={"Content-Type": None},
                                          query="Action=ListRoles&Version=2010-05-08&MaxItems=1")
        self.assertEqual(status, 200, body[:400])
        self.assertEqual(ET.fromstring(body).tag, f"{{{IAM_NS}}}ListRolesResponse")
        status, _, body = self.server.raw(b"", method="GET", headers={"Content-Type": None},
                                          service="sts",
                                          query="Action=GetCallerIdentity&Version=2011-06-15")
        self.assertEqual(status, 200, body[:400])
        self.assertEqual(find_text(body, "Arn"), f"arn:aws:iam::{ACCOUNT}:user/admin")

    def test_policy_documents_are_percent_encoded_in_xml(self):
        name = unique("proto-enc")
        trust_doc = policy({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole"})
        inline = policy(allow("s3:GetObject", "arn:aws:s3:::b/a b&c=d%e+f/caf\u00e9"))
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust_doc))
        self.iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(inline))
        arn = self.iam.create_policy(PolicyName=unique("proto-pol"),
                                     PolicyDocument=json.dumps(inline))["Policy"]["Arn"]
        checks = [
            (form(Action="GetRole", Version="2010-05-08", RoleName=name),
             "AssumeRolePolicyDocument", trust_doc),
            (form(Action="GetRolePolicy", Version="2010-05-08", RoleName=name, PolicyName="p"),
             "PolicyDocument", inline),
            (form(Action="GetPolicyVersion", Version="2010-05-08", PolicyArn=arn, VersionId="v1"),
             "Document", inline),
            (form(Action="CreateRole", Version="2010-05-08", RoleName=unique("proto-enc2"),
                  AssumeRolePolicyDocument=json.dumps(trust_doc)),
             "AssumeRolePolicyDocument", trust_doc),
        ]
        for body, element, expected in checks:
            with self.subTest(element=element, body=body[:40]):
                status, _, out = self.server.raw(body)
                self.assertEqual(status, 200, out[:400])
                text = find_text(out, element)
                self.assertIsNotNone(text, f"no <{element}> in {out[:400]!r}")
                self.assertTrue(text.startswith("%7B"),
                                f"<{element}> must hold percent-encoded JSON, got {text[:60]!r}")
                self.assertNotIn("{", text)
                self.assertNotIn('"', text)
                self.assertEqual(json.loads(urllib.parse.unquote(text)), expected)

    def test_tampered_body(self):
        m, target, headers, data = self.server.sign(LIST_ROLES)
        tampered = data.replace(b"MaxItems=1", b"MaxItems=2")
        self.expect_error(self.server.unsigned(m, target, headers, tampered), 403,
                          "SignatureDoesNotMatch",
                          message_startswith="The request signature we calculated does not match "
                                             "the signature you provided.")

    def test_tampered_signed_header(self):
        m, target, headers, data = self.server.sign(LIST_ROLES)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.expect_error(self.server.unsigned(m, target, headers, data), 403,
                          "SignatureDoesNotMatch")

    def test_wrong_secret(self):
        kid, _ = self.server.admin_keys()
        self.expect_error(self.server.raw(LIST_ROLES, kid, "x" * 40), 403, "SignatureDoesNotMatch")

    def test_unknown_access_key(self):
        self.expect_error(self.server.raw(LIST_ROLES, "AKIAZZZZZZZZZZZZZZZZ", "y" * 40), 403,
                          "InvalidClientTokenId",
                          message="The security token included in the request is invalid.")

    def test_unsigned_request(self):
        self.expect_error(
            self.server.unsigned("POST", "/", {"Content-Type":
                                               "application/x-www-form-urlencoded"},
                                 LIST_ROLES.encode()),
            403, "MissingAuthenticationToken",
            message="Request is missing Authentication Token")

    def test_malformed_authorization(self):
        kid, _ = self.server.admin_keys()
        date = utcnow().strftime("%Y%m%dT%H%M%SZ")
        bad = [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=",
            f"AWS4-HMAC-SHA256 Credential={kid}/{date[:8]}/us-east-1/iam/aws4_request",
            f"AWS4-HMAC-SHA256 Credential={kid}/{date[:8]}/us-east-1/iam/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date",
            "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + "0" * 64,
        ]
        for auth in bad:
            with self.subTest(auth=auth):
                headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                           "X-Amz-Date": date, "Authorization": auth}
                self.expect_error(self.server.unsigned("POST", "/", headers, LIST_ROLES.encode()),
                                  400, "IncompleteSignature")

    def test_signature_expired(self):
        when = utcnow() - datetime.timedelta(minutes=20)
        message = self.expect_error(self.server.raw(LIST_ROLES, when=when), 403,
                                    "SignatureDoesNotMatch")
        m = re.fullmatch(r"Signature expired: (\S+) is now earlier than (\S+) \((\S+) - 15 min\.\)",
                         message or "")
        self.assertIsNotNone(m, f"AWS's text is `Signature expired: <X-Amz-Date> is now earlier "
                                f"than <now-15min> (<now> - 15 min.)`, got {message!r}")
        self.assertEqual(m.group(1), when.strftime("%Y%m%dT%H%M%SZ"))
        self.assertEqual(parse_amz(m.group(3)) - parse_amz(m.group(2)),
                         datetime.timedelta(minutes=15))

    def test_signature_not_yet_current(self):
        when = utcnow() + datetime.timedelta(minutes=20)
        message = self.expect_error(self.server.raw(LIST_ROLES, when=when), 403,
                                    "SignatureDoesNotMatch")
        m = re.fullmatch(r"Signature not yet current: (\S+) is still later than (\S+) "
                         r"\((\S+) \+ 15 min\.\)", message or "")
        self.assertIsNotNone(m, f"unexpected text {message!r}")
        self.assertEqual(m.group(1), when.strftime("%Y%m%dT%H%M%SZ"))

    def test_clock_skew_within_15_minutes_is_accepted(self):
        for minutes in (-14, 14):
            with self.subTest(minutes=minutes):
                when = utcnow() + datetime.timedelta(minutes=minutes)
                status, _, body = self.server.raw(LIST_ROLES, when=when)
                self.assertEqual(status, 200, body[:300])

    def test_any_region_in_the_scope(self):
        for region in ("eu-west-1", "ap-northeast-3"):
            with self.subTest(region=region):
                status, _, body = self.server.raw(LIST_ROLES, region=region)
                self.assertEqual(status, 200, body[:300])
                status, _, body = self.server.raw(CALLER, region=region, service="sts")
                self.assertEqual(status, 200, body[:300])

    def test_extra_signed_headers_and_payload_hash_header(self):
        # Other SDKs sign more headers than botocore and may send x-amz-content-sha256.
        body = LIST_ROLES.encode()
        status, _, out = self.server.raw(body, headers={
            "X-Amz-User-Agent": "aws-sdk-rust/1.0",
            "X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest(),
        })
        self.assertEqual(status, 200, out[:300])

    def test_content_type_without_charset(self):
        status, _, out = self.server.raw(LIST_ROLES, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, out[:300])

    def test_unknown_action(self):
        self.expect_error(self.server.raw(form(Action="FrobnicateRoles", Version="2010-05-08")),
                          400, "InvalidAction")

    def test_validation_error_shape(self):
        msg = self.expect_error(
            self.server.raw(form(Action="GetRole", Version="2010-05-08")), 400, "ValidationError")
        self.assertIn("roleName", msg or "")

    def test_error_body_for_no_such_entity(self):
        self.expect_error(
            self.server.raw(form(Action="GetRole", Version="2010-05-08", RoleName="proto-none")),
            404, "NoSuchEntity", message="The role with name proto-none cannot be found.")
        status, _, body = self.server.raw(form(Action="GetRole", Version="2010-05-08",
                                               RoleName="proto-none"))
        root = ET.fromstring(body)
        err = root.find(f"{{{IAM_NS}}}Error")
        self.assertIsNotNone(err, body)
        self.assertEqual(err.findtext(f"{{{IAM_NS}}}Type"), "Sender")

    def test_control_characters_in_echoed_input_keep_the_xml_parseable(self):
        # XML 1.0 cannot carry U+0000-U+0008 etc., not even as &#1;: an error that echoes the
        # input must leave them out (or replace them), or botocore cannot parse the answer.
        from botocore.exceptions import ClientError
        for value in ("a\x01b", "a\x00b", "tab\there", "a\ufffeb"):
            with self.subTest(value=value):
                try:
                    self.iam.get_role(RoleName=value)
                except ClientError as e:
                    self.assertEqual(e.response["Error"]["Code"], "ValidationError")
                else:
                    self.fail("an invalid role name was accepted")

    def test_list_parameters_use_member_n(self):
        name = unique("proto-tags")
        status, _, out = self.server.raw(
            "Action=CreateRole&Version=2010-05-08&RoleName=" + name
            + "&AssumeRolePolicyDocument=" + urllib.parse.quote(json.dumps(EC2_TRUST), safe="")
            + "&Tags.member.1.Key=a&Tags.member.1.Value=1&Tags.member.2.Key=b&Tags.member.2.Value=2")
        self.assertEqual(status, 200, out[:400])
        tags = self.iam.list_role_tags(RoleName=name)["Tags"]
        self.assertEqual(sorted((t["Key"], t["Value"]) for t in tags), [("a", "1"), ("b", "2")])
        root = ET.fromstring(out)
        members = [el for el in root.iter() if local(el.tag) == "Tags"]
        self.assertEqual(len(members), 1)
        self.assertEqual([local(c.tag) for c in members[0]], ["member", "member"])

    def test_session_token_header_is_signed(self):
        name = unique("proto-sess")
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
            trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})))
        creds = self.sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}",
                                     RoleSessionName="raw")["Credentials"]
        status, _, body = self.server.raw(CALLER, creds["AccessKeyId"], creds["SecretAccessKey"],
                                          creds["SessionToken"], service="sts")
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(find_text(body, "Arn"),
                         f"arn:aws:sts::{ACCOUNT}:assumed-role/{name}/raw")
        m, target, headers, data = self.server.sign(
            CALLER, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"],
            service="sts")
        headers["X-Amz-Security-Token"] = "not-" + uuid.uuid4().hex
        status, _, body = self.server.unsigned(m, target, headers, data)
        self.assertEqual(status, 403, body[:300])
        code = xml_error(body)[0]
        self.assertIn(code, ("InvalidClientTokenId", "SignatureDoesNotMatch"), body[:300])
