"""Robustness: well over 1,000 mutated requests derived at run time from the 12 real boto3 requests in
../shared/reference/aws-api/boto3-captured-requests.jsonl (5 IAM/STS query requests, 7 JSON-protocol
SageMaker / Service Catalog requests). Most are re-signed with the administrator's real keys, so
they get past SigV4 and reach the parsers; some keep broken signatures.

Every answer must be an HTTP status below 500 with a body an AWS SDK can parse: an XML ErrorResponse
with a Code for query requests, a JSON object with __type for X-Amz-Target requests (NOTES.md §1.2,
§1.3). Requests that must be refused (broken signatures, a 2 MB body) must get a 4xx. The server must
still be alive at the end. Seed: E2E_SEED (printed).
"""

import datetime
import json
import os
import random
import select
import socket
import sys
import urllib.parse
import xml.etree.ElementTree as ET

from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import CAPTURES, E2ETestCase, FixedTimeSigV4, local, utcnow

MAX_PRINTED = 60


class Case:
    __slots__ = ("label", "method", "path", "headers", "body", "sign", "expect", "must_fail",
                 "post_sign", "service", "region", "chunked", "content_length")

    def __init__(self, label, headers, body, *, method="POST", path="/", sign=True, expect="xml",
                 must_fail=False, post_sign=None, service=None, region=None, chunked=False,
                 content_length=None):
        self.label = label
        self.method = method
        self.path = path
        self.headers = dict(headers)
        self.body = body
        self.sign = sign
        self.expect = expect
        self.must_fail = must_fail
        self.post_sign = post_sign
        self.service = service
        self.region = region
        self.chunked = chunked
        self.content_length = content_length


def load_captures():
    path = os.environ.get("ROLEWRIGHT_CAPTURES", CAPTURES)
    with open(path, encoding="utf-8") as f:
        caps = [json.loads(line) for line in f if line.strip()]
    if len(caps) != 12:
        raise AssertionError(f"{path}: expected the 12 captured boto3 requests, found {len(caps)}")
    return caps


def scope_of(authorization):
    cred = authorization.split("Credential=", 1)[1].split(",", 1)[0]
    _key, _date, region, service, _term = cred.split("/")
    return region, service


def qs_encode(pairs):
    return "&".join(f"{urllib.parse.quote(k, safe='.-_~')}={urllib.parse.quote(v, safe='-_.~')}"
                    for k, v in pairs).encode()


def flip(data, rng, n):
    b = bytearray(data)
    for _ in range(n):
        if not b:
            break
        b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def mutations(cap, rng):
    """All the mutated requests derived from one captured request."""
    region, service = scope_of(cap["headers"]["Authorization"])
    body = cap["body"].encode("utf-8")
    target = cap["headers"].get("X-Amz-Target")
    ct = cap["headers"]["Content-Type"]
    is_json = target is not None
    fmt = "json" if is_json else "xml"
    base = {"Content-Type": ct}
    if target:
        base["X-Amz-Target"] = target
    op = target.split(".")[-1] if target else dict(urllib.parse.parse_qsl(cap["body"]))["Action"]
    tag = f"{op}"

    def case(label, headers=None, data=body, **kw):
        kw.setdefault("service", service)
        kw.setdefault("region", region)
        kw.setdefault("expect", fmt)
        return Case(f"{tag}: {label}", base if headers is None else headers, data, **kw)

    def with_headers(**changes):
        h = dict(base)
        for k, v in changes.items():
            k = k.replace("_", "-")
            if v is None:
                h.pop(k, None)
            else:
                h[k] = v
        return h

    # Truncated, duplicated, garbled, random bodies.
    for _ in range(10):
        cut = rng.randrange(0, max(1, len(body)))
        yield case(f"truncated at {cut}", data=body[:cut])
    yield case("body twice", data=body + body)
    yield case("body twice with &", data=body + b"&" + body)
    for i in range(10):
        yield case(f"garbled #{i}", data=flip(body, rng, rng.randint(1, 6)))
    for i in range(6):
        yield case(f"random bytes #{i}", data=rng.randbytes(rng.randint(1, 4096)))

    # Invalid UTF-8.
    for label, bad in [("raw ff fe", b"\xff\xfe\xfd"), ("overlong", b"\xc0\xaf"),
                       ("surrogate", b"\xed\xa0\x80"), ("truncated sequence", b"\xe2\x82"),
                       ("nul bytes", b"\x00\x00")]:
        pos = rng.randrange(0, len(body) + 1)
        yield case(f"invalid utf-8 ({label}) at {pos}", data=body[:pos] + bad + body[pos:])
    if is_json:
        yield case("invalid utf-8 inside a JSON string",
                   data=body.replace(b'"', b'"\xc3\x28', 2) if b'"' in body else b'"\xc3\x28"')
    else:
        pairs = urllib.parse.parse_qsl(cap["body"], keep_blank_values=True)
        k = pairs[-1][0]
        yield case("percent-encoded invalid utf-8 value",
                   data=body + f"&{k}=%FF%FE%ED%A0%80".encode())

    # Huge values.
    if is_json:
        obj = json.loads(cap["body"])
        for n in (70_000, 300_000):
            o = dict(obj)
            key = next(iter(o), "Pad")
            o[key] = "A" * n
            yield case(f"huge JSON string ({n})", data=json.dumps(o).encode())
        yield case("huge number 1e400", data=b'{"DomainId": 1e400}')
        yield case("5000-digit number", data=b'{"MaxResults": ' + b"9" * 5000 + b"}")
    else:
        pairs = urllib.parse.parse_qsl(cap["body"], keep_blank_values=True)
        for n in (70_000, 300_000):
            i = rng.randrange(2, len(pairs)) if len(pairs) > 2 else 0
            p = list(pairs)
            p[i] = (p[i][0], "A" * n)
            yield case(f"huge value for {p[i][0]} ({n})", data=qs_encode(p))
        yield case("huge parameter name", data=body + b"&" + b"K" * 100_000 + b"=v")
        yield case("50,000 parameters", data=body + b"".join(b"&p%d=v" % i for i in range(50_000)))

    # Content-Type.
    for label, value in [("text/plain", "text/plain"), ("application/json", "application/json"),
                         ("the other protocol's",
                          "application/x-www-form-urlencoded; charset=utf-8" if is_json
                          else "application/x-amz-json-1.1"),
                         ("application/xml", "application/xml"),
                         ("multipart", "multipart/form-data; boundary=xyz"),
                         ("garbage", "a/b;;;charset="), ("empty", ""),
                         ("latin-1 charset", "application/x-www-form-urlencoded; charset=latin-1")]:
        yield case(f"Content-Type {label}", with_headers(Content_Type=value))
    yield case("no Content-Type", with_headers(Content_Type=None))

    if is_json:
        yield case("no X-Amz-Target", with_headers(X_Amz_Target=None), expect="any")
        for t in ["SageMaker.NoSuchOperation", "NoSuchService.CreateDomain", "SageMaker.",
                  ".CreateDomain", "SageMaker", f"{target}.Extra",
                  "AWS242ServiceCatalogService.CreateDomain" if target.startswith("SageMaker")
                  else "SageMaker.ProvisionProduct",
                  "T" * 10_000]:
            yield case(f"X-Amz-Target {t[:40]!r}", with_headers(X_Amz_Target=t))
        # A non-ASCII target is not a header value an SDK sends; a server may read the request as
        # having no target and answer in either protocol.
        yield case("non-ASCII X-Amz-Target", with_headers(X_Amz_Target="SageMaker.Cr\u00e9er"),
                   expect="any")
        yield case("empty X-Amz-Target", with_headers(X_Amz_Target=""), expect="any")
        for label, data in [("form body", b"Action=ListRoles&Version=2010-05-08"),
                            ("xml body", b"<xml/>"), ("open brace", b"{"), ("array", b"[]"),
                            ("null", b"null"), ("string", b'"str"'), ("number", b"123"),
                            ("empty", b""), ("broken object", b'{"DomainName": }'),
                            ("NaN", b"NaN")]:
            yield case(f"non-JSON/unexpected JSON body ({label})", data=data)
        obj = json.loads(cap["body"])
        yield case("duplicate keys", data=b'{"A": 1, "A": 2, ' + body.lstrip(b"{"))
        yield case("duplicate real key", data=(body[:-1] + b", " + body[1:]) if obj else body)
        yield case("nested arrays 100,000 deep", data=b"[" * 100_000 + b"]" * 100_000)
        yield case("nested objects 10,000 deep", data=b'{"a":' * 10_000 + b"1" + b"}" * 10_000)
        for key in list(obj)[:3]:
            for label, v in [("list", []), ("object", {}), ("null", None), ("number", 7),
                             ("bool", True)]:
                o = dict(obj)
                o[key] = v
                yield case(f"{key} as {label}", data=json.dumps(o).encode())
        if not obj:
            for label, o in [("unknown field", {"Nope": 1}), ("field as list", {"NextToken": []})]:
                yield case(label, data=json.dumps(o).encode())
    else:
        pairs = urllib.parse.parse_qsl(cap["body"], keep_blank_values=True)
        action = [v for k, v in pairs if k == "Action"][0]
        version = [v for k, v in pairs if k == "Version"][0]
        rest = [(k, v) for k, v in pairs if k not in ("Action", "Version")]
        yield case("no Action", data=qs_encode([("Version", version)] + rest))
        yield case("empty Action", data=qs_encode([("Action", ""), ("Version", version)] + rest))
        yield case("Action with a space", data=qs_encode([("Action", "Create Role"),
                                                          ("Version", version)] + rest))
        yield case("lower-case Action", data=qs_encode([("Action", action.lower()),
                                                        ("Version", version)] + rest))
        yield case("two Actions", data=qs_encode([("Action", action), ("Action", "DeleteRole"),
                                                  ("Version", version)] + rest))
        other = "2011-06-15" if version == "2010-05-08" else "2010-05-08"
        for label, vpairs in [("no Version", []), ("empty Version", [("Version", "")]),
                              ("future Version", [("Version", "2099-01-01")]),
                              ("the other service's Version", [("Version", other)]),
                              ("two Versions", [("Version", version), ("Version", other)])]:
            yield case(label, data=qs_encode([("Action", action)] + vpairs + rest))
        yield case("every parameter twice", data=qs_encode(pairs + pairs))
        for i in range(3):
            k, _ = rng.choice(pairs)
            yield case(f"{k} repeated with another value",
                       data=qs_encode(pairs + [(k, "other-" + str(i))]))
        yield case("one parameter 500 times", data=qs_encode(pairs + [pairs[-1]] * 500))
        for label, extra in [
            ("Tags.member.99999", [("Tags.member.99999.Key", "k"), ("Tags.member.99999.Value", "v")]),
            ("Tags.member.4294967297", [("Tags.member.4294967297.Key", "k"),
                                        ("Tags.member.4294967297.Value", "v")]),
            ("Tags.member.0", [("Tags.member.0.Key", "k"), ("Tags.member.0.Value", "v")]),
            ("Tags.member.-1", [("Tags.member.-1.Key", "k")]),
            ("Tags.member.abc", [("Tags.member.abc.Key", "k")]),
            ("Tags.member.1.Key without Value", [("Tags.member.1.Key", "k")]),
            ("Tags.member.1 without fields", [("Tags.member.1", "k")]),
            ("ActionNames.member.1000000", [("ActionNames.member.1000000", "s3:GetObject")]),
            ("nested member lists", [("PolicyInputList.member.1.member.1", "x")]),
            ("member of a scalar", [("RoleName.member.1", "x")]),
            ("5,000 dots", [("a." * 5000 + "b", "x")]),
            ("empty key", [("", "x")]),
            ("key without =", []),
        ]:
            data = qs_encode(pairs + extra)
            if label == "key without =":
                data = body + b"&JustAKey&&&="
            yield case(label, data=data)
        for t in ("SageMaker.CreateDomain", "Nope.Nope"):
            yield case(f"query request with X-Amz-Target {t}", with_headers(X_Amz_Target=t),
                       expect="any")

    # Broken signatures: these must be refused.
    yield case("original capture (unknown example key, stale date)", dict(cap["headers"]),
               sign=False, must_fail=True)

    def tamper_body(h, d):
        return h, (d[:-1] + bytes([(d[-1] + 1) % 256])) if d else b"x"

    def flip_signature(h, d):
        a = h["Authorization"]
        last = a[-1]
        h["Authorization"] = a[:-1] + ("0" if last != "0" else "1")
        return h, d

    def truncate_auth(at):
        def f(h, d):
            h["Authorization"] = h["Authorization"][:at]
            return h, d
        return f

    def replace_header(name, value):
        def f(h, d):
            if value is None:
                h.pop(name, None)
            else:
                h[name] = value
            return h, d
        return f

    def scope_service(h, d):
        h["Authorization"] = h["Authorization"].replace(f"/{service}/", "/sqs/")
        return h, d

    def missing_signed_header(h, d):
        h["Authorization"] = h["Authorization"].replace("SignedHeaders=",
                                                        "SignedHeaders=a-missing-header;")
        return h, d

    def ecdsa(h, d):
        h["Authorization"] = h["Authorization"].replace("AWS4-HMAC-SHA256",
                                                        "AWS4-ECDSA-P256-SHA256")
        return h, d

    def yesterday(h, d):
        when = utcnow() - datetime.timedelta(days=1)
        h["X-Amz-Date"] = when.strftime("%Y%m%dT%H%M%SZ")
        return h, d

    broken = [("body changed after signing", tamper_body),
              ("signature flipped", flip_signature),
              ("Authorization cut at 20", truncate_auth(20)),
              ("Authorization cut at 60", truncate_auth(60)),
              ("Authorization cut before the signature", truncate_auth(-30)),
              ("ECDSA algorithm", ecdsa),
              ("Bearer token", replace_header("Authorization", "Bearer abc.def.ghi")),
              ("no X-Amz-Date", replace_header("X-Amz-Date", None)),
              ("garbage X-Amz-Date", replace_header("X-Amz-Date", "yesterday")),
              ("X-Amz-Date a day old", yesterday),
              ("scope names another service", scope_service),
              ("SignedHeaders names a missing header", missing_signed_header)]
    for label, fn in broken:
        yield case(label, post_sign=fn, must_fail=True)
    yield case("signed for sqs", service="sqs", must_fail=True, expect="any")
    yield case("unknown but well-formed key", must_fail=True, sign="unknown-key")

    # A 2 MB body must be refused with a 4xx (and an AWS error body).
    if is_json:
        o = json.loads(cap["body"])
        o["Pad"] = "A" * (2 * 1024 * 1024)
        big = json.dumps(o).encode()
    else:
        big = body + b"&PolicyDocument=" + b"A" * (2 * 1024 * 1024)
    yield case("2 MB body", data=big, must_fail=True)

    # HTTP-level oddities.
    for m in ("PUT", "DELETE", "PATCH"):
        yield case(f"method {m}", method=m)
    for p in ("/foo", "/%2e%2e/", "//", "/?Action=ListRoles"):
        yield case(f"path {p}", path=p)
    yield case("chunked body", chunked=True)
    yield case("Content-Length shorter than the body", content_length=max(0, len(body) - 5))


def exchange(host, port, case, headers, body, timeout=20):
    """Sends one request over a fresh socket and reads one response. Returns (status, headers,
    body) or raises OSError/ValueError with what went wrong."""
    lines = [f"{case.method} {case.path} HTTP/1.1".encode()]
    for k, v in headers.items():
        lines.append(k.encode("latin-1", "replace") + b": " +
                     (v if isinstance(v, bytes) else v.encode("utf-8")))
    if case.chunked:
        lines.append(b"Transfer-Encoding: chunked")
        half = len(body) // 2
        payload = b""
        for part in (body[:half], body[half:]):
            if part:
                payload += b"%x\r\n" % len(part) + part + b"\r\n"
        payload += b"0\r\n\r\n"
    else:
        n = len(body) if case.content_length is None else case.content_length
        lines.append(b"Content-Length: " + str(n).encode())
        payload = body
    lines.append(b"Connection: close")
    raw = b"\r\n".join(lines) + b"\r\n\r\n" + payload
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sent = 0
        # Stop sending as soon as the server answers (it may refuse a large body early).
        while sent < len(raw):
            try:
                sent += sock.send(raw[sent:sent + 65536])
            except (BrokenPipeError, ConnectionResetError):
                break
            r, _, _ = select.select([sock], [], [], 0)
            if r:
                break
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                if chunks:
                    break
                raise
            if not chunk:
                break
            chunks.append(chunk)
            if response_complete(b"".join(chunks)):
                break
    finally:
        sock.close()
    return parse_response(b"".join(chunks))


def split_head(data):
    if b"\r\n\r\n" not in data:
        return None, None
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    return (status, headers), rest


def response_complete(data):
    head, rest = split_head(data)
    if head is None:
        return False
    status, headers = head
    if status == 100:
        return False
    if "content-length" in headers:
        return len(rest) >= int(headers["content-length"])
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return rest.endswith(b"0\r\n\r\n")
    return False


def dechunk(data):
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return out


def parse_response(data):
    if not data:
        raise ValueError("no response (connection closed without a status line)")
    head, rest = split_head(data)
    if head is None:
        raise ValueError(f"incomplete response head: {data[:200]!r}")
    status, headers = head
    while status == 100:
        head, rest = split_head(rest)
        status, headers = head
    if headers.get("transfer-encoding", "").lower() == "chunked":
        rest = dechunk(rest)
    elif "content-length" in headers:
        rest = rest[:int(headers["content-length"])]
    return status, headers, rest


def body_problem(expect, status, body):
    """None when the body is what an AWS SDK can parse, else what is wrong with it."""
    xml_problem = json_problem = None
    try:
        root = ET.fromstring(body)
        if status >= 400:
            if local(root.tag) != "ErrorResponse":
                raise ValueError(f"root is <{local(root.tag)}>, not <ErrorResponse>")
            codes = [el.text for el in root.iter() if local(el.tag) == "Code"]
            if not codes or not codes[0]:
                raise ValueError("ErrorResponse without a Code")
    except (ET.ParseError, ValueError) as e:
        xml_problem = f"not an XML ErrorResponse ({e})"
    try:
        obj = json.loads(body)
        if status >= 400 and not (isinstance(obj, dict) and isinstance(obj.get("__type"), str)
                                  and obj["__type"]):
            raise ValueError("no __type")
    except ValueError as e:
        json_problem = f"not a JSON error with __type ({e})"
    if expect == "xml":
        return xml_problem
    if expect == "json":
        return json_problem
    return None if (xml_problem is None or json_problem is None) else \
        f"{xml_problem}; {json_problem}"


class MalformedRequestTests(E2ETestCase):
    def test_mutated_requests(self):
        seed = int(os.environ.get("E2E_SEED", "20261123"))
        rng = random.Random(seed)
        caps = load_captures()
        kid, secret = self.server.admin_keys()
        host, port = self.server.host_port
        host_header = f"{host}:{port}"
        cases = [c for cap in caps for c in mutations(cap, rng)]
        passed, failures = 0, []
        for i, case in enumerate(cases):
            headers = dict(case.headers)
            if case.sign:
                for k in ("Host", "Authorization", "X-Amz-Date", "Content-Length"):
                    headers.pop(k, None)
                if case.sign == "unknown-key":
                    creds = Credentials("AKIAZZZZZZZZZZZZZZZZ", "z" * 40)
                else:
                    creds = Credentials(kid, secret)
                req = AWSRequest(method=case.method, url=f"{self.server.url}{case.path}",
                                 data=case.body, headers=headers)
                FixedTimeSigV4(creds, case.service, case.region).add_auth(req)
                headers = dict(req.headers.items())
            headers.pop("Content-Length", None)
            headers["Host"] = host_header
            body = case.body
            if case.post_sign:
                headers, body = case.post_sign(dict(headers), body)
            try:
                status, rheaders, rbody = exchange(host, port, case, headers, body)
            except (OSError, ValueError) as e:
                failures.append(f"{case.label}: {type(e).__name__}: {e}")
                if not self.server.alive():
                    failures.append(f"the server died after case {i}: {case.label}")
                    break
                continue
            problem = None
            if status >= 500:
                problem = f"HTTP {status}"
            elif case.must_fail and status < 400:
                problem = f"HTTP {status}: accepted, must be refused with a 4xx"
            else:
                what = body_problem(case.expect, status, rbody)
                if what:
                    problem = f"HTTP {status}: {what}"
            if problem:
                failures.append(f"{case.label}: {problem}; body {rbody[:160]!r}")
            else:
                passed += 1
            if i % 100 == 0 and not self.server.alive():
                failures.append(f"the server died (found after case {i}: {case.label})")
                break
        alive = self.server.alive()
        if alive:
            try:
                self.sts.get_caller_identity()
            except Exception as e:  # noqa: BLE001
                alive = False
                failures.append(f"the server no longer answers GetCallerIdentity: {e}")
        else:
            failures.append("the server is not running at the end\n" + self.server.log_tail())
        for line in failures[:MAX_PRINTED]:
            print(f"  malformed: {line}", file=sys.stderr)
        if len(failures) > MAX_PRINTED:
            print(f"  malformed: ... and {len(failures) - MAX_PRINTED} more", file=sys.stderr)
        summary = f"{passed} passed, {len(failures)} failed"
        print(f"malformed requests (seed {seed}, {len(cases)} cases): {summary}", file=sys.stderr)
        self.assertGreaterEqual(len(cases), 1000, "the corpus must hold at least 1,000 requests")
        self.assertTrue(alive, "the server must survive every malformed request")
        if failures:
            self.fail(f"{summary}; first: " + " | ".join(f[:200] for f in failures[:5]))
