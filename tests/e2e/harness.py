"""Shared harness for the end-to-end tests: starts `rolewright serve`, builds real boto3 clients from
the credentials file it writes, signs raw requests with botocore's SigV4 signer, and stops it.

The server binary comes from ROLEWRIGHT_BIN. Each server gets a fresh data directory (unless one is
passed in) and listens on 127.0.0.1:0; the first stdout line names the address.
"""

import configparser
import datetime
import http.client
import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import boto3
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
REGION = "us-east-1"
PROFILE = "rolewright"
IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
START_TIMEOUT = 60
STOP_TIMEOUT = 20

HERE = os.path.dirname(os.path.abspath(__file__))
WORKSPACE = os.path.dirname(os.path.dirname(HERE))
CAPTURES = os.path.join(
    os.path.dirname(WORKSPACE), "shared", "reference", "aws-api", "boto3-captured-requests.jsonl"
)

# No setting of the person running the tests may leak into the clients: every client here is
# configured explicitly, and ~/.aws/config must not add a region, a profile or an endpoint.
for _name in list(os.environ):
    if _name.startswith("AWS_"):
        del os.environ[_name]
os.environ["AWS_CONFIG_FILE"] = os.path.join(tempfile.gettempdir(), "rolewright-e2e-no-aws-config")
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(
    tempfile.gettempdir(), "rolewright-e2e-no-aws-credentials"
)

NO_RETRY = Config(
    retries={"total_max_attempts": 1, "mode": "standard"},
    connect_timeout=10,
    read_timeout=60,
)


def binary():
    """The rolewright binary under test."""
    path = os.environ.get("ROLEWRIGHT_BIN")
    if not path:
        raise RuntimeError(
            "ROLEWRIGHT_BIN is not set: point it at the rolewright binary, e.g. "
            "ROLEWRIGHT_BIN=target/debug/rolewright (after `cargo build -p rolewright`)"
        )
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"ROLEWRIGHT_BIN={path} is not an executable file")
    return path


def unique(prefix):
    """A name no other test uses, valid as an IAM name."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def policy(*statements):
    """An identity policy document (a dict) with these statements."""
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **extra):
    stmt = {"Effect": "Allow", "Action": action, "Resource": resource}
    stmt.update(extra)
    return stmt


def trust(principal):
    """A trust policy letting `principal` ({"AWS": ...} or {"Service": ...}) assume the role."""
    return policy({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


# `E2E_DATABASE=postgres` runs every Server as two replicas sharing one database on a throwaway
# PostgreSQL cluster (one per run, a database per data directory), behind a proxy that sends each
# request to the replicas in turn; the tests that are about SQLite's files skip themselves.
POSTGRES = os.environ.get("E2E_DATABASE") == "postgres"
E2E_MASTER_KEY = "8f3a5c7e9b1d2f4a6c8e0b2d4f6a8c0e1f3b5d7a9c2e4f6b8d0a1c3e5f7b9d2a"
_cluster = None
_databases = {}


def skip_on_postgres(what):
    """Skips a test that is about SQLite's files when the suite runs on PostgreSQL replicas."""
    if POSTGRES:
        raise unittest.SkipTest(f"about SQLite ({what}); the suite runs on PostgreSQL replicas")


def _database_for(data_dir):
    """The PostgreSQL database of a data directory (the same on every start), made on first use."""
    global _cluster
    import atexit
    import pgcluster
    if _cluster is None:
        _cluster = pgcluster.Cluster()
        atexit.register(_cluster.cleanup)
    key = os.path.realpath(data_dir)
    if key not in _databases:
        _databases[key] = _cluster.create_database(f"e2e_{len(_databases)}")
    return _databases[key]


class _RoundRobin:
    """An HTTP proxy on a loopback port that sends each request to the next of its backends."""

    def __init__(self, backends):
        import http.server
        self.backends = backends
        self.turn = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def forward(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy.lock:
                    host, port = proxy.backends[proxy.turn % len(proxy.backends)]
                    proxy.turn += 1
                conn = http.client.HTTPConnection(host, port, timeout=120)
                try:
                    conn.putrequest(self.command, self.path, skip_host=True,
                                    skip_accept_encoding=True)
                    for k, v in self.headers.items():
                        if k.lower() not in ("connection", "keep-alive"):
                            conn.putheader(k, v)
                    conn.endheaders(body)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError:
                    self.send_error(502)
                    return
                finally:
                    conn.close()
                self.send_response_only(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "keep-alive", "transfer-encoding",
                                         "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class Server:
    """One `rolewright serve` process (two replicas behind a proxy with E2E_DATABASE=postgres)."""

    def __init__(self, data_dir=None, account_id=None, extra_args=(), env=None):
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="rolewright-e2e-")
        self.account_id = account_id
        self.extra_args = list(extra_args)
        self.env = env
        self.proc = None
        self.url = None
        self.log_path = os.path.join(
            tempfile.gettempdir(), f"rolewright-e2e-{uuid.uuid4().hex[:8]}.log"
        )
        self._stdout_lines = []
        self._drain = None

    # ---- process ----------------------------------------------------------------------------

    def start(self):
        if POSTGRES and not any(a == "--database-url" for a in self.extra_args):
            return self._start_replicas()
        return self._start_one()

    def _start_replicas(self):
        """Two replicas on the data directory's database, behind a round-robin proxy; this object
        is the first, `self.replica` the second."""
        os.makedirs(self.data_dir, mode=0o700, exist_ok=True)
        key_file = os.path.join(self.data_dir, "master.key")
        if not os.path.exists(key_file):
            with open(key_file, "w") as f:
                f.write(E2E_MASTER_KEY + "\n")
            os.chmod(key_file, 0o600)
        shared = ["--database-url", _database_for(self.data_dir), "--master-key-file", key_file]
        plain_args = self.extra_args
        self.extra_args = plain_args + shared
        try:
            self._start_one()
        finally:
            self.extra_args = plain_args
        if getattr(self, "replica", None) is None:
            self.replica = Server(data_dir=self.data_dir + "-replica", account_id=self.account_id,
                                  extra_args=plain_args + shared, env=self.env)
        self.replica._start_one(wait_for_credentials=False)
        self.direct_url = self.url
        self.proxy = _RoundRobin([self.host_port, self.replica.host_port])
        self.url = self.proxy.url
        return self

    def audit_args(self):
        """How `rolewright audit` and `admin credentials` name this server's database."""
        if POSTGRES:
            return ["--database-url", _database_for(self.data_dir)]
        return ["--data-dir", self.data_dir]

    def _start_one(self, wait_for_credentials=True):
        self.direct_url = None
        args = [binary(), "serve", "--data-dir", self.data_dir, "--listen", "127.0.0.1:0"]
        if self.account_id:
            args += ["--account-id", self.account_id]
        args += self.extra_args
        env = dict(os.environ)
        env.setdefault("NO_COLOR", "1")
        if self.env:
            env.update(self.env)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, env=env
        )
        log.close()
        first = self._first_line()
        m = re.fullmatch(r"listening on (http://\S+)", first)
        if not m:
            self.kill()
            raise AssertionError(
                f"the first stdout line of `rolewright serve` must be `listening on http://ADDR`, "
                f"got {first!r}\n{self.log_tail()}"
            )
        self.url = m.group(1).rstrip("/")
        self._drain = threading.Thread(target=self._drain_stdout, daemon=True)
        self._drain.start()
        # The bootstrap administrator's keys are written on first start, before serving.
        deadline = time.time() + (10 if wait_for_credentials else 0)
        while not os.path.exists(self.credentials_path) and time.time() < deadline:
            time.sleep(0.05)
        return self

    def _first_line(self):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        buf = b""
        deadline = time.time() + START_TIMEOUT
        while b"\n" not in buf:
            left = deadline - time.time()
            if left <= 0:
                self.kill()
                raise AssertionError(
                    f"`rolewright serve` printed no line within {START_TIMEOUT} s\n{self.log_tail()}"
                )
            if not sel.select(timeout=left):
                continue
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                code = self.proc.wait(timeout=5)
                raise AssertionError(
                    f"`rolewright serve` exited with {code} before printing its address\n"
                    f"{self.log_tail()}"
                )
            buf += chunk
        sel.close()
        line, rest = buf.split(b"\n", 1)
        if rest:
            self._stdout_lines.append(rest.decode("utf-8", "replace"))
        return line.decode("utf-8", "replace").strip()

    def _drain_stdout(self):
        for line in self.proc.stdout:
            self._stdout_lines.append(line.decode("utf-8", "replace"))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def _stop_replica(self, sig=None):
        if getattr(self, "proxy", None) is not None:
            self.proxy.close()
            self.proxy = None
            self.url = self.direct_url
        replica = getattr(self, "replica", None)
        if replica is None:
            return 0
        if sig is None:
            replica.kill()
            return 0
        return replica.stop(sig)

    def stop(self, sig=signal.SIGTERM):
        """Stops the server with `sig` and returns its exit code (None if it had to be killed)."""
        replica_code = self._stop_replica(sig)
        code = self._stop_one(sig)
        return code if replica_code == 0 else replica_code

    def _stop_one(self, sig):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def kill(self):
        """kill -9."""
        self._stop_replica()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop_and_check(self, sig=signal.SIGTERM):
        code = self.stop(sig)
        if code != 0:
            msg = (
                f"`rolewright serve` must exit 0 after {signal.Signals(sig).name}, "
                f"got {'no exit (killed after {} s)'.format(STOP_TIMEOUT) if code is None else code}"
                f"\n{self.log_tail()}"
            )
            raise AssertionError(msg)

    def cleanup(self):
        self.kill()
        if os.environ.get("E2E_KEEP"):
            return
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            shutil.rmtree(self.data_dir + "-replica", ignore_errors=True)
        try:
            os.unlink(self.log_path)
        except OSError:
            pass

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, "rb") as f:
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return "(no server log)"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- server stderr ({self.log_path}), last {lines} lines ---\n{tail}"

    @property
    def host_port(self):
        """Where raw requests go: the server (with replicas, the first one itself, not the proxy,
        so that malformed requests reach a server as sent)."""
        parsed = urllib.parse.urlsplit(getattr(self, "direct_url", None) or self.url)
        return parsed.hostname, parsed.port

    # ---- credentials and clients ------------------------------------------------------------

    @property
    def credentials_path(self):
        return os.path.join(self.data_dir, "credentials")

    def admin_keys(self):
        """(access key id, secret) of the bootstrap administrator, read from DIR/credentials."""
        cp = configparser.ConfigParser()
        with open(self.credentials_path, encoding="utf-8") as f:
            cp.read_file(f)
        sec = cp[PROFILE]
        return sec["aws_access_key_id"].strip(), sec["aws_secret_access_key"].strip()

    def admin_session(self, region=REGION):
        """A boto3 session that reads DIR/credentials exactly as boto3 reads ~/.aws/credentials."""
        bs = botocore.session.Session()
        bs.set_config_variable("credentials_file", self.credentials_path)
        bs.set_config_variable("config_file", os.environ["AWS_CONFIG_FILE"])
        return boto3.session.Session(
            botocore_session=bs, profile_name=PROFILE, region_name=region
        )

    def admin(self, service="iam", region=REGION):
        return self.admin_session(region).client(
            service, endpoint_url=self.url, config=NO_RETRY
        )

    def client(self, service, key_id, secret, token=None, region=REGION):
        return boto3.session.Session(
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
            region_name=region,
        ).client(service, endpoint_url=self.url, config=NO_RETRY)

    def client_from_credentials(self, service, creds, region=REGION):
        """A client from the `Credentials` of an AssumeRole answer."""
        return self.client(
            service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], region
        )

    def new_user(self, name=None, policy_doc=None, tags=None, managed=()):
        """Creates a user (with an inline policy, tags, attached policies) and an access key.
        Returns (user dict, key id, secret)."""
        iam = self.admin()
        name = name or unique("user")
        kwargs = {"UserName": name}
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        user = iam.create_user(**kwargs)["User"]
        if policy_doc is not None:
            iam.put_user_policy(
                UserName=name, PolicyName="inline", PolicyDocument=json.dumps(policy_doc)
            )
        for arn in managed:
            iam.attach_user_policy(UserName=name, PolicyArn=arn)
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return user, key["AccessKeyId"], key["SecretAccessKey"]

    def user_clients(self, name=None, policy_doc=None, tags=None, managed=()):
        """(user, iam client, sts client) for a new user."""
        user, kid, secret = self.new_user(name, policy_doc, tags, managed)
        return user, self.client("iam", kid, secret), self.client("sts", kid, secret)

    # ---- raw signed requests ----------------------------------------------------------------

    def sign(self, body, key_id=None, secret=None, token=None, service="iam", region=REGION,
             method="POST", query="", headers=None, when=None, path="/"):
        """Signs one request with botocore's SigV4Auth (at time `when` if given) and returns
        (method, target, headers dict, body bytes) ready for `send`."""
        if key_id is None:
            key_id, secret = self.admin_keys()
        target = path + (("?" + query) if query else "")
        hdrs = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        if headers:
            hdrs.update(headers)
        hdrs = {k: v for k, v in hdrs.items() if v is not None}
        data = body.encode("utf-8") if isinstance(body, str) else body
        base = getattr(self, "direct_url", None) or self.url
        req = AWSRequest(method=method, url=base + target, data=data, headers=hdrs)
        FixedTimeSigV4(Credentials(key_id, secret, token), service, region, when).add_auth(req)
        return method, target, dict(req.headers.items()), data

    def raw(self, body, key_id=None, secret=None, token=None, service="iam", region=REGION,
            method="POST", query="", headers=None, when=None, path="/"):
        """Sends one signed request; returns (status, headers with lower-case names, body)."""
        m, target, hdrs, data = self.sign(body, key_id, secret, token, service, region, method,
                                          query, headers, when, path)
        return send(self.host_port, m, target, hdrs, data)

    def unsigned(self, method, target, headers, body):
        return send(self.host_port, method, target, headers, body)


class FixedTimeSigV4(SigV4Auth):
    """botocore's SigV4 signer, optionally at a chosen time instead of now."""

    def __init__(self, credentials, service, region, when=None):
        super().__init__(credentials, service, region)
        self._when = when

    def add_auth(self, request):
        if self._when is None:
            return super().add_auth(request)
        request.context["timestamp"] = self._when.strftime("%Y%m%dT%H%M%SZ")
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        string_to_sign = self.string_to_sign(request, canonical)
        self._inject_signature_to_request(request, self.signature(string_to_sign, request))
        return None


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def send(host_port, method, target, headers, body, timeout=60):
    host, port = host_port
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def form(**params):
    """A query-protocol body from keyword arguments (values as given, percent-encoded)."""
    return urllib.parse.urlencode(params)


def local(tag):
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def xml_error(body):
    """(Code, Message, RequestId, namespace) of an XML ErrorResponse; raises if it is not one."""
    root = ET.fromstring(body)
    if local(root.tag) != "ErrorResponse":
        raise AssertionError(f"root element is <{local(root.tag)}>, not <ErrorResponse>: {body[:300]!r}")
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    code = message = request_id = None
    for el in root.iter():
        name = local(el.tag)
        if name == "Code":
            code = el.text
        elif name == "Message":
            message = el.text
        elif name == "RequestId":
            request_id = el.text
    return code, message, request_id, ns


def find_text(body, name):
    """Text of the first element called `name` (any namespace) in an XML body."""
    root = ET.fromstring(body)
    for el in root.iter():
        if local(el.tag) == name:
            return el.text
    return None


class E2ETestCase(unittest.TestCase):
    """Starts one server for the class and stops it (SIGTERM, exit code 0) at the end."""

    server_args = {}
    longMessage = True
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.server = Server(**cls.server_args)
        # Runs even when a subclass's setUpClass fails after this point.
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()
        cls.iam = cls.server.admin("iam")
        cls.sts = cls.server.admin("sts")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop_and_check()

    def assertError(self, call, code, status=None, message=None, message_re=None,
                    message_startswith=None, message_contains=None):
        """Runs `call()` and checks the AWS error it raises; returns the ClientError."""
        try:
            result = call()
        except ClientError as e:
            err = e.response.get("Error", {})
            got_status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            detail = f"got {err.get('Code')} (HTTP {got_status}): {err.get('Message')!r}"
            self.assertEqual(err.get("Code"), code, detail)
            if status is not None:
                self.assertEqual(got_status, status, detail)
            msg = err.get("Message") or ""
            if message is not None:
                self.assertEqual(msg, message, detail)
            if message_re is not None:
                self.assertRegex(msg, message_re, detail)
            if message_startswith is not None:
                self.assertTrue(msg.startswith(message_startswith),
                                f"message must start with {message_startswith!r}; {detail}")
            if message_contains is not None:
                self.assertIn(message_contains, msg, detail)
            return e
        self.fail(f"expected the AWS error {code}, the call succeeded: {str(result)[:300]}")

    def denied_message(self, principal_arn, action, resource, reason="no identity-based policy"):
        return (f"User: {principal_arn} is not authorized to perform: {action} on resource: "
                f"{resource} because {reason} allows the {action} action")


# ---- command-line clients: the AWS CLI and rolewright itself ----------------------------------

def aws_cli():
    """The `aws` next to the running Python (the venv), else the one on PATH."""
    here = os.path.join(os.path.dirname(os.path.abspath(sys.executable)), "aws")
    if os.access(here, os.X_OK):
        return here
    found = shutil.which("aws")
    if found:
        return found
    raise RuntimeError("the AWS CLI (`aws`) is not installed: "
                       "python3 -m venv target/ci-venv && target/ci-venv/bin/pip install boto3 awscli")


def command_env(server, **variables):
    """The environment a team's automation runs the AWS CLI or `rolewright` in: none of the tester's
    AWS_* settings, `aws` on PATH, the server's endpoint and region, the bootstrap administrator's
    profile from DIR/credentials, and then `variables` (a value of None removes the variable)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "PATH": os.path.dirname(aws_cli()) + os.pathsep + env.get("PATH", ""),
        "AWS_ENDPOINT_URL": server.url,
        "AWS_REGION": REGION,
        "AWS_SHARED_CREDENTIALS_FILE": server.credentials_path,
        "AWS_PROFILE": PROFILE,
        "AWS_CONFIG_FILE": os.environ["AWS_CONFIG_FILE"],
        "AWS_PAGER": "",
        "NO_COLOR": "1",
    })
    for name, value in variables.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_command(args, env, timeout=120, check=True, input_text=None):
    """Runs a command; with `check`, raises with its output unless it exits 0."""
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout,
                         check=False, input=input_text)
    if check and out.returncode != 0:
        raise AssertionError(f"`{' '.join(args)}` exited {out.returncode}\n--- stderr ---\n"
                             f"{out.stderr}\n--- stdout ---\n{out.stdout}")
    return out


def rolewright(*args, env=None, check=True, timeout=120):
    """Runs the rolewright binary under test."""
    return run_command([binary(), *args], env or {**os.environ, "NO_COLOR": "1"},
                       timeout=timeout, check=check)


# ---- helpers for the provisioning and CloudFormation flows (issue 11) -------------------------

def poll(call, done, what, timeout=30, interval=0.1):
    """Calls `call()` until `done(result)` holds, as scripts poll AWS; returns the last result.
    Fails with the last result after `timeout` seconds."""
    deadline = time.time() + timeout
    while True:
        result = call()
        if done(result):
            return result
        if time.time() > deadline:
            raise AssertionError(f"{what}: still not done after {timeout} s; last answer: "
                                 f"{str(result)[:500]}")
        time.sleep(interval)


def json_leaves(value):
    """Every scalar inside a JSON value, as strings (to find a value whatever its field name)."""
    if isinstance(value, dict):
        for v in value.values():
            yield from json_leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from json_leaves(v)
    elif value is not None:
        yield str(value)


def audit_records(server, *args, until=None, timeout=10):
    """The records of `rolewright audit --data-dir DIR --format json ARGS` (a JSON array or JSON
    Lines), read again until `until(records)` holds or `timeout` seconds pass: the log may trail
    the answers a little."""
    deadline = time.time() + timeout
    while True:
        out = subprocess.run([binary(), "audit", *server.audit_args(), "--format", "json",
                              *args], capture_output=True, text=True, check=False, timeout=60,
                             env={**os.environ, "NO_COLOR": "1"})
        if out.returncode != 0:
            raise AssertionError(f"`rolewright audit {' '.join(args)}` exited {out.returncode}: "
                                 f"{out.stderr}")
        text = out.stdout.strip()
        records = []
        if text:
            try:
                doc = json.loads(text)
                records = doc if isinstance(doc, list) else [doc]
            except ValueError:
                records = [json.loads(line) for line in text.splitlines() if line.strip()]
        if until is None or until(records) or time.time() > deadline:
            return records
        time.sleep(0.1)


def keys_env(server, key_id, secret, token=None):
    """The environment of a command run with these keys only (an IAM user's, or a role session's
    with its token): no profile, no shared files, no endpoint variable (pass --endpoint-url). The
    region is in AWS_DEFAULT_REGION too, the only region variable AWS CLI v1 reads."""
    return command_env(server, AWS_ENDPOINT_URL=None, AWS_PROFILE=None, AWS_DEFAULT_REGION=REGION,
                       AWS_SHARED_CREDENTIALS_FILE=os.path.join(tempfile.gettempdir(),
                                                                "rolewright-e2e-no-credentials"),
                       AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret,
                       AWS_SESSION_TOKEN=token)
