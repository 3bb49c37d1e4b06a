"""Service Catalog over Smithy RPC v2 CBOR (issue 10, item 3): real botocore sending
`POST /service/AWS242ServiceCatalogService/operation/<Op>` with CBOR bodies, through the same
signature check, authorization and handlers as JSON 1.1; and raw signed requests for what a client
gets wrong (a body that is not CBOR, the wrong Content-Type, an unknown operation or service).

botocore 1.44 prefers JSON for Service Catalog, so the clients here load a copy of botocore's own
model whose metadata names `smithy-rpc-v2-cbor` as the only protocol. Raw bodies are decoded with
botocore's CBOR parser, so no CBOR library is needed beside botocore.
"""

import datetime
import gzip
import json
import os
import shutil
import subprocess
import tempfile
import time

import botocore
import botocore.session
from botocore.exceptions import ClientError
from botocore.parsers import RpcV2CBORParser

from harness import ACCOUNT, NO_RETRY, REGION, E2ETestCase, binary, unique

SERVICE = "AWS242ServiceCatalogService"
TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Resources:
  Topic:
    Type: AWS::SNS::Topic
"""


def cbor_data_path():
    """A botocore data directory holding Service Catalog's model with rpcv2Cbor as its only
    protocol; botocore searches it before its own data."""
    source = os.path.join(os.path.dirname(botocore.__file__), "data", "servicecatalog",
                          "2015-12-10", "service-2.json.gz")
    with open(source, "rb") as f:
        model = json.loads(gzip.decompress(f.read()))
    model["metadata"]["protocol"] = "smithy-rpc-v2-cbor"
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    root = tempfile.mkdtemp(prefix="rolewright-cbor-model-")
    target = os.path.join(root, "servicecatalog", "2015-12-10")
    os.makedirs(target)
    with open(os.path.join(target, "service-2.json"), "w", encoding="utf-8") as f:
        json.dump(model, f)
    return root


def decode(body):
    """One CBOR item, with botocore's parser (tag 1 becomes a datetime)."""
    parser = RpcV2CBORParser()
    stream = parser.get_peekable_stream_from_bytes(body)
    item = parser.parse_data_item(stream)
    if stream.read(1):
        raise AssertionError(f"bytes follow the CBOR item: {body!r}")
    return item


def text(s):
    """A short CBOR text string (under 24 bytes)."""
    data = s.encode("utf-8")
    assert len(data) < 24
    return bytes([0x60 | len(data)]) + data


class CborTestCase(E2ETestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data_path = cbor_data_path()
        cls.addClassCleanup(shutil.rmtree, cls.data_path, True)
        cls.files = tempfile.mkdtemp(prefix="rolewright-sc-cbor-")
        cls.addClassCleanup(shutil.rmtree, cls.files, True)
        cls.sc = cls.cbor_client(*cls.server.admin_keys())

    @classmethod
    def cbor_client(cls, key_id, secret):
        session = botocore.session.Session()
        session.set_config_variable("data_path", cls.data_path)
        session.set_config_variable("config_file", os.environ["AWS_CONFIG_FILE"])
        client = session.create_client(
            "servicecatalog", region_name=REGION, endpoint_url=cls.server.url,
            aws_access_key_id=key_id, aws_secret_access_key=secret, config=NO_RETRY)
        assert client.meta.service_model.resolved_protocol == "smithy-rpc-v2-cbor"
        return client

    def template_file(self):
        path = os.path.join(self.files, unique("template") + ".yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(TEMPLATE)
        return path

    def assertRecent(self, when):
        self.assertIsInstance(when, datetime.datetime)
        age = datetime.datetime.now(datetime.timezone.utc) - when
        self.assertLess(abs(age.total_seconds()), 120, f"{when} is not about now")

    def raw(self, op, body=b"", service=SERVICE, headers=None, scope="servicecatalog"):
        """A signed request to the rpcv2Cbor path; returns (status, headers, body)."""
        hdrs = {"Content-Type": "application/cbor" if body else None,
                "smithy-protocol": "rpc-v2-cbor", "Accept": "application/cbor"}
        hdrs.update(headers or {})
        return self.server.raw(body, service=scope, path=f"/service/{service}/operation/{op}",
                               headers=hdrs)

    def assertCborError(self, response, status, shape_id, message=None):
        got_status, headers, body = response
        detail = f"HTTP {got_status} {headers.get('content-type')}: {body[:300]!r}"
        self.assertEqual(got_status, status, detail)
        self.assertEqual(headers.get("smithy-protocol"), "rpc-v2-cbor", detail)
        self.assertEqual(headers.get("content-type"), "application/cbor", detail)
        self.assertNotIn("x-amzn-errortype", headers, "the type travels in the body only")
        error = decode(body)
        self.assertEqual(error["__type"], shape_id, detail)
        if message is not None:
            self.assertEqual(error["message"], message, detail)
        return error


class CborClientTests(CborTestCase):
    def test_requests_and_replies_are_cbor(self):
        sent = []
        self.sc.meta.events.register("before-send.servicecatalog",
                                     lambda request, **_: sent.append(request))
        reply = self.sc.list_portfolios()
        request = sent[-1]
        self.assertTrue(request.url.endswith(f"/service/{SERVICE}/operation/ListPortfolios"),
                        request.url)
        self.assertEqual(request.headers["smithy-protocol"], b"rpc-v2-cbor")
        self.assertEqual(request.headers["Content-Type"], b"application/cbor")
        self.assertNotIn("X-Amz-Target", request.headers)
        headers = reply["ResponseMetadata"]["HTTPHeaders"]
        self.assertEqual(headers["smithy-protocol"], "rpc-v2-cbor")
        self.assertEqual(headers["content-type"], "application/cbor")
        self.assertEqual(reply["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertIsInstance(reply["PortfolioDetails"], list)

    def test_create_describe_update_list_and_delete_a_portfolio(self):
        created = self.sc.create_portfolio(
            DisplayName="Data science", ProviderName="ML platform", Description="for the team",
            Tags=[{"Key": "team", "Value": "ml"}], IdempotencyToken=unique("token"))
        detail = created["PortfolioDetail"]
        pid = detail["Id"]
        self.assertRegex(pid, r"^port-[a-z0-9]{13}$")
        self.assertEqual(detail["ARN"], f"arn:aws:catalog:{REGION}:{ACCOUNT}:portfolio/{pid}")
        self.assertRecent(detail["CreatedTime"])
        self.assertEqual(created["Tags"], [{"Key": "team", "Value": "ml"}])

        got = self.sc.describe_portfolio(Id=pid)
        self.assertEqual(got["PortfolioDetail"]["DisplayName"], "Data science")
        self.assertEqual(got["PortfolioDetail"]["CreatedTime"], detail["CreatedTime"])
        self.assertEqual(got["Tags"], [{"Key": "team", "Value": "ml"}])

        updated = self.sc.update_portfolio(Id=pid, DisplayName="Data science 2",
                                           AddTags=[{"Key": "cost", "Value": "42"}],
                                           RemoveTags=["team"])
        self.assertEqual(updated["PortfolioDetail"]["DisplayName"], "Data science 2")
        self.assertEqual(updated["Tags"], [{"Key": "cost", "Value": "42"}])

        others = [self.sc.create_portfolio(DisplayName=unique("p"), ProviderName="ML platform")
                  ["PortfolioDetail"]["Id"] for _ in range(2)]
        pages = list(self.sc.get_paginator("list_portfolios").paginate(
            PaginationConfig={"PageSize": 2}))
        self.assertGreater(len(pages), 1, "PageToken travels in CBOR both ways")
        listed = {p["Id"]: p for page in pages for p in page["PortfolioDetails"]}
        for one in [pid] + others:
            self.assertIn(one, listed)
            self.assertIsInstance(listed[one]["CreatedTime"], datetime.datetime)

        deleted = self.sc.delete_portfolio(Id=pid)
        self.assertEqual(deleted["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertError(lambda: self.sc.describe_portfolio(Id=pid), "ResourceNotFoundException",
                         400, message=f"Portfolio not found: {pid}")

    def test_create_describe_update_search_and_delete_a_product(self):
        created = self.sc.create_product(
            Name=unique("product"), Owner="ML platform", ProductType="CLOUD_FORMATION_TEMPLATE",
            Tags=[{"Key": "stage", "Value": "dev"}],
            ProvisioningArtifactParameters={
                "Name": "v1", "Type": "CLOUD_FORMATION_TEMPLATE",
                "Info": {"LoadTemplateFromURL": "file://" + self.template_file()}})
        view = created["ProductViewDetail"]
        prod = view["ProductViewSummary"]["ProductId"]
        self.assertRegex(prod, r"^prod-[a-z0-9]{13}$")
        self.assertEqual(view["Status"], "AVAILABLE")
        self.assertRecent(view["CreatedTime"])
        self.assertRecent(created["ProvisioningArtifactDetail"]["CreatedTime"])
        self.assertTrue(created["ProvisioningArtifactDetail"]["Active"])
        self.assertEqual(created["Tags"], [{"Key": "stage", "Value": "dev"}])

        self.sc.update_product(Id=prod, Owner="Platform team",
                               AddTags=[{"Key": "tier", "Value": "1"}], RemoveTags=["stage"])
        admin_view = self.sc.describe_product_as_admin(Id=prod)
        self.assertEqual(admin_view["ProductViewDetail"]["ProductViewSummary"]["Owner"],
                         "Platform team")
        self.assertEqual(admin_view["Tags"], [{"Key": "tier", "Value": "1"}])
        self.assertEqual(admin_view["ProductViewDetail"]["CreatedTime"], view["CreatedTime"])
        self.assertEqual([a["Id"] for a in admin_view["ProvisioningArtifactSummaries"]],
                         [created["ProvisioningArtifactDetail"]["Id"]])

        pid = self.sc.create_portfolio(DisplayName=unique("p"),
                                       ProviderName="ML platform")["PortfolioDetail"]["Id"]
        self.sc.associate_product_with_portfolio(ProductId=prod, PortfolioId=pid)
        found = self.sc.search_products_as_admin(PortfolioId=pid)["ProductViewDetails"]
        self.assertEqual([d["ProductViewSummary"]["ProductId"] for d in found], [prod])
        self.assertEqual([p["Id"] for p in self.sc.list_portfolios_for_product(
            ProductId=prod)["PortfolioDetails"]], [pid])
        self.sc.disassociate_product_from_portfolio(ProductId=prod, PortfolioId=pid)
        self.sc.delete_product(Id=prod)
        self.assertError(lambda: self.sc.describe_product_as_admin(Id=prod),
                         "ResourceNotFoundException", 400, message=f"Product not found: {prod}")

    def test_a_caller_without_permissions_is_denied_with_awss_text(self):
        user, kid, secret = self.server.new_user()
        client = self.cbor_client(kid, secret)
        self.assertError(
            lambda: client.create_portfolio(DisplayName="p", ProviderName="p"),
            "AccessDeniedException", 400,
            message=self.denied_message(user["Arn"], "servicecatalog:CreatePortfolio",
                                        f"arn:aws:catalog:{REGION}:{ACCOUNT}:*"))

    def test_cbor_requests_are_audited_as_json_ones_are(self):
        user, kid, secret = self.server.new_user()
        client = self.cbor_client(kid, secret)
        with self.assertRaises(ClientError):
            client.list_portfolios()
        self.sc.list_portfolios()
        wanted = {(user["Arn"], "denied"), (self.server_admin_arn(), "allowed")}
        deadline = time.time() + 10
        while True:
            out = subprocess.run(
                [binary(), "audit", *self.server.audit_args(),
                 "--action", "servicecatalog:ListPortfolios", "--format", "json"],
                capture_output=True, text=True, check=False, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
            found = {(e.get("principal"), e.get("decision")) for e in lines} & wanted
            if found == wanted or time.time() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(found, wanted, out.stdout[-2000:])

    def server_admin_arn(self):
        return self.iam.get_user()["User"]["Arn"]

    def test_an_error_names_its_absolute_shape_id(self):
        response = self.raw("DescribePortfolio", b"\xa1" + text("Id") + text("port-nothing00"))
        self.assertCborError(response, 400, "com.amazonaws.servicecatalog#ResourceNotFoundException",
                             "Portfolio not found: port-nothing00")

    def test_model_validation_answers_as_over_json(self):
        # The input is checked against the model by the same code as JSON 1.1's.
        body = b"\xa2" + text("DisplayName") + text("") + text("ProviderName") + text("p")
        error = self.assertCborError(self.raw("CreatePortfolio", body), 400,
                                     "com.amazon.coral.validate#ValidationException")
        self.assertIn("at 'displayName' failed to satisfy constraint", error["message"])


class CborRawRequestTests(CborTestCase):
    def test_an_empty_body_and_an_indefinite_length_map_are_empty_input(self):
        for body in (b"", b"\xbf\xff", b"\xa0"):
            status, headers, data = self.raw("ListPortfolios", body)
            self.assertEqual(status, 200, data[:300])
            self.assertEqual(headers.get("smithy-protocol"), "rpc-v2-cbor")
            self.assertIsInstance(decode(data)["PortfolioDetails"], list)

    def test_a_body_that_is_not_cbor_is_a_serialization_exception(self):
        cases = [
            (b"\xa1\x62Id", "the request body is not valid CBOR: "
                            "the body ends at byte 4, inside a data item"),
            (b"\xa0\x00", "the request body is not valid CBOR: "
                          "unexpected 1 byte after the top-level item (from byte 1)"),
            (b"\xa1\x01\x02", "the request body is not valid CBOR: "
                              "the map key at byte 1 is an integer, not a text string"),
            (b"\xa1\x1f\x00", "the request body is not valid CBOR: "
                          "an indefinite length is not allowed for major type 0 (byte 1)"),
            (b"\xa1" + text("Id") + b"\x7a\xff\xff\xff\xff",
             "the request body is not valid CBOR: "
             "the item at byte 4 declares 4294967295 bytes but the body has only 0 bytes left"),
            (b"\x81" * 100, "the request body is not valid CBOR: "
                            "items nest deeper than 64 levels (byte 64)"),
            # JSON's `{` is a text string with an eight-byte length.
            (b'{"Id": "port-1"}', "the request body is not valid CBOR: the item at byte 0 "
                                  "declares 2470615968756277872 bytes but the body has only "
                                  "7 bytes left"),
            (b"\x80", "the request body must be a CBOR map (the operation's input structure), "
                      "not an array"),
        ]
        for body, message in cases:
            with self.subTest(body=body):
                self.assertCborError(self.raw("DescribePortfolio", body), 400,
                                     "com.amazon.coral.service#SerializationException", message)

    def test_a_body_without_the_cbor_content_type_is_refused(self):
        cases = [
            ({"Content-Type": "application/json"}, "`application/json`"),
            ({"Content-Type": "application/x-amz-json-1.1"}, "`application/x-amz-json-1.1`"),
            ({"Content-Type": None}, "without a Content-Type"),
        ]
        for headers, shown in cases:
            with self.subTest(headers=headers):
                self.assertCborError(
                    self.raw("ListPortfolios", b"\xa0", headers=headers), 415,
                    "com.amazon.coral.service#UnsupportedMediaTypeException",
                    "an rpcv2Cbor request body must be sent with "
                    f"`Content-Type: application/cbor`, not {shown}")

    def test_an_unknown_operation_or_service(self):
        self.assertCborError(
            self.raw("FlyToTheMoon", b"\xa0"), 400,
            "com.amazon.coral.service#UnknownOperationException",
            f"The operation {SERVICE}.FlyToTheMoon is not served by rolewright")
        self.assertCborError(
            self.raw("ListDomains", b"\xa0", service="SageMaker", scope="sagemaker"), 400,
            "com.amazon.coral.service#UnknownOperationException",
            "the service `SageMaker` is not served over rpcv2Cbor: only Service Catalog "
            "(/service/AWS242ServiceCatalogService/operation/<Operation>) is")

    def test_the_protocol_headers_are_required(self):
        self.assertCborError(
            self.raw("ListPortfolios", b"\xa0", headers={"smithy-protocol": None}), 400,
            "com.amazon.coral.service#UnknownOperationException",
            "a request to /service/…/operation/… must carry the header "
            "`smithy-protocol: rpc-v2-cbor`")
        self.assertCborError(
            self.raw("ListPortfolios", b"\xa0",
                     headers={"X-Amz-Target": f"{SERVICE}.ListPortfolios"}), 400,
            "com.amazon.coral.service#SerializationException",
            "an rpcv2Cbor request must not carry an X-Amz-Target header: "
            "send the operation in the path only")

    def test_the_namespaced_service_name_routes_the_same(self):
        status, _, data = self.raw("ListPortfolios", b"\xa0",
                                   service=f"com.amazonaws.servicecatalog.{SERVICE}")
        self.assertEqual(status, 200, data[:300])
        self.assertIn("PortfolioDetails", decode(data))

    def test_authentication_failures_answer_in_cbor(self):
        self.assertCborError(
            self.raw("ListPortfolios", b"\xa0", scope="sagemaker"), 400,
            "com.amazon.coral.service#InvalidSignatureException",
            "Credential should be scoped to correct service: 'servicecatalog'. ")
        status, headers, body = self.server.unsigned(
            "POST", f"/service/{SERVICE}/operation/ListPortfolios",
            {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}, b"\xa0")
        self.assertCborError((status, headers, body), 403,
                             "com.amazon.coral.service#MissingAuthenticationTokenException")


if __name__ == "__main__":
    import unittest

    unittest.main()
