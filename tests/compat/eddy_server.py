"""Start a real Eddy server for a test, and talk to it the way users do.

EddyServer runs build/bin/eddy (or $EDDY_BIN) on 127.0.0.1 with a free
port and a temporary data directory, waits until `GET /` answers, and hands
out boto3 clients. With tls_cert/tls_key/ca_bundle it serves HTTPS and the
clients verify it against the CA. The server and the command lines the tests
run get the test identity (ACCESS_KEY) in their environment
(test_environment()), so the eddy CLI and handlers that call back sign with
it. If $EDDY_ENDPOINT is set, no process is started and the
tests run against that endpoint instead (for example `moto_server -p 5005`,
to debug the tests themselves; moto's messages are not DynamoDB's). Set
EDDY_KEEP_DATA=1 to keep each server's data directory and log.

EddyTestCase starts one server per test class and gives the tests helper
verbs (create_table, put, get, ...) so that test bodies read like a spec.
"""

import contextlib
import datetime
import decimal
import functools
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
from botocore.exceptions import ClientError

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / "build" / "bin" / "eddy"
REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
ACCESS_KEY = "AKIDEXAMPLEEDDYTEST"
SECRET_KEY = "eddy-test-secret-key"
STARTUP_TIMEOUT_S = 10.0
AUTH_MODE = os.environ.get("EDDY_TEST_AUTH") == "1"

# Every client a test starts (boto3, the AWS CLI, the eddy CLI, trigger
# workers) signs with the test identity, whatever the developer's own
# environment holds.
os.environ.update({
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_DEFAULT_REGION": REGION,
})
os.environ.pop("AWS_SESSION_TOKEN", None)
os.environ.pop("AWS_PROFILE", None)


def write_auth_file(path, identities):
    """Write an auth file (mode 0600) with [(name, key, secret, policy)]."""
    doc = {"identities": [
        {"name": name, "accessKeyId": key, "secretAccessKey": secret, "policy": policy}
        for name, key, secret, policy in identities]}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    os.chmod(path, 0o600)
    return path


# (name, key, secret) the samples' READMEs and tests sign with.
SAMPLE_IDENTITIES = [("readme", "dummy", "dummy"),
                     ("replicate", "AKIDREPLICATETEST", "replicate-test-secret")]

ALLOW_ALL = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@functools.lru_cache(maxsize=None)
def sanitized_build(binary=None):
    """True when the eddy binary under test is built with AddressSanitizer
    (scripts/test --sanitize), where a few process limits differ by design:
    ASan turns core dumps off in every process, and a worker's memory cap is
    ASan's hard_rss_limit_mb instead of RLIMIT_AS (ASan reserves terabytes
    of address space; runtime/dispatcher/worker_pool.cc)."""
    binary = binary or os.environ.get("EDDY_BIN") or str(DEFAULT_BINARY)
    linked = subprocess.run(["ldd", binary], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=30).stdout
    return "libasan" in linked


def free_port(host="127.0.0.1"):
    """Return a TCP port that was free a moment ago (bind 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def test_environment(base=None):
    """The environment (os.environ, or `base`) with the test identity first
    in the standard AWS credentials chain: for the eddy CLI, the AWS CLI, and
    the server, whose trigger workers inherit it."""
    env = dict(os.environ if base is None else base)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        env.pop(name, None)
    env.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
               AWS_DEFAULT_REGION=REGION)
    return env


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Poll predicate() until it is truthy; return its value or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class EddyServer:
    """One Eddy process (or an external endpoint) for a test.

    Usable as a context manager. restart() keeps the data directory and the
    port, so a test can kill the server and check what survived.
    """

    def __init__(self, data_dir=None, extra_args=(), binary=None, port=None,
                 host="127.0.0.1", startup_timeout=STARTUP_TIMEOUT_S,
                 anonymous=False, tls_cert=None, tls_key=None, ca_bundle=None):
        """tls_cert/tls_key: PEM files to serve HTTPS with; ca_bundle: the
        CA the clients verify the server against."""
        self.external_endpoint = os.environ.get("EDDY_ENDPOINT")
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        self.ca_bundle = ca_bundle
        self.binary = Path(binary or os.environ.get("EDDY_BIN") or DEFAULT_BINARY)
        self.host = host
        self.port = port
        self.extra_args = list(extra_args)
        self.startup_timeout = startup_timeout
        # Anonymous even with EDDY_TEST_AUTH=1 (tests of anonymous mode).
        self.anonymous = anonymous
        self._own_tmp = None
        if data_dir is None and not self.external_endpoint:
            self._own_tmp = tempfile.mkdtemp(prefix="eddy-test-")
            data_dir = os.path.join(self._own_tmp, "data")
        self.data_dir = data_dir
        self.log_path = (os.path.join(self._own_tmp or tempfile.gettempdir(),
                                      f"eddy-{uuid.uuid4().hex[:8]}.log"))
        self.process = None
        self._log_file = None
        self._auth_file = None

    # -- lifecycle -----------------------------------------------------------

    @property
    def external(self):
        """True when the tests talk to $EDDY_ENDPOINT and own no process."""
        return bool(self.external_endpoint)

    @property
    def endpoint(self):
        if self.external:
            return self.external_endpoint.rstrip("/")
        scheme = "https" if self.tls_cert else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def command(self):
        args = [str(self.binary), "serve", "--data", str(self.data_dir),
                "--host", self.host, "--port", str(self.port), *self.extra_args]
        if self.tls_cert:
            args += ["--tls-cert", str(self.tls_cert), "--tls-key", str(self.tls_key)]
        if AUTH_MODE and not self.anonymous and "--auth" not in self.extra_args:
            args += ["--auth", self.default_auth_file()]
        return args

    def default_auth_file(self):
        """The auth file of EDDY_TEST_AUTH=1: the test identity may do all,
        and so may the credentials the samples' READMEs use verbatim."""
        if self._auth_file is None:
            directory = self._own_tmp or tempfile.mkdtemp(prefix="eddy-auth-")
            self._auth_file = write_auth_file(
                os.path.join(directory, "test-auth.json"),
                [("tester", ACCESS_KEY, SECRET_KEY, ALLOW_ALL),
                 *((name, key, secret, ALLOW_ALL)
                   for name, key, secret in SAMPLE_IDENTITIES)])
        return self._auth_file

    def start(self):
        if self.external:
            self._wait_healthy(check_process=False)
            return self
        if not self.binary.exists():
            if os.environ.get("EDDY_BIN"):
                raise RuntimeError(f"EDDY_BIN does not exist: {self.binary}")
            raise unittest.SkipTest(f"Eddy binary not built: {self.binary}")
        if self.port is None:
            self.port = free_port(self.host)
        self._log_file = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command(), stdout=self._log_file, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
            env=test_environment())
        try:
            self._wait_healthy(check_process=True)
        except BaseException:
            self._dump_log()
            self._kill_quietly()
            raise
        return self

    def _wait_healthy(self, check_process):
        deadline = time.monotonic() + self.startup_timeout
        last_error = None
        while time.monotonic() < deadline:
            if check_process and self.process.poll() is not None:
                raise RuntimeError(
                    f"eddy exited with code {self.process.returncode} during startup")
            try:
                context = None
                if self.endpoint.startswith("https://"):
                    context = ssl.create_default_context(cafile=self.ca_bundle)
                with urllib.request.urlopen(self.endpoint + "/", timeout=1,
                                            context=context) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                last_error = e
            time.sleep(0.02)
        raise RuntimeError(f"{self.endpoint} did not answer GET / within "
                           f"{self.startup_timeout}s (last error: {last_error})")

    def require_process(self):
        """Skip the calling test when there is no process to signal."""
        if self.external:
            raise unittest.SkipTest("needs a server process; EDDY_ENDPOINT is set")

    def kill9(self):
        """SIGKILL the server and reap it (no chance to flush anything)."""
        self.require_process()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        return self.process.returncode

    def terminate(self, sig=signal.SIGTERM, timeout=10.0):
        """Ask the server to shut down; return its exit code."""
        self.require_process()
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._dump_log()
            self._kill_quietly()
            raise AssertionError(f"eddy did not exit within {timeout}s of {sig!r}")

    def restart(self):
        """Start again on the same data directory and port."""
        self.require_process()
        if self.process and self.process.poll() is None:
            self.terminate()
        self._close_log()
        return self.start()

    def stop(self):
        """Shut down and remove the temporary data directory (if ours)."""
        if self.process and self.process.poll() is None:
            try:
                self.terminate()
            except AssertionError:
                pass
        self._close_log()
        if self._own_tmp:
            if os.environ.get("EDDY_KEEP_DATA"):
                print(f"kept eddy data and log in {self._own_tmp}")
            else:
                shutil.rmtree(self._own_tmp, ignore_errors=True)
            self._own_tmp = None

    def is_running(self):
        return self.external or (self.process is not None and self.process.poll() is None)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def _dump_log(self):
        print(f"---- eddy log ({self.log_path}) ----\n{self.log_text()}\n---- end of log ----")

    def _kill_quietly(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def _close_log(self):
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- clients -------------------------------------------------------------

    def client(self, service="dynamodb", max_attempts=1, access_key=ACCESS_KEY,
               secret_key=SECRET_KEY, **config):
        """A boto3 client with the test credentials and no retries by default.

        Client-side parameter validation is off so that the server's own
        validation (and its error messages) is what the tests see.
        """
        cfg = botocore.config.Config(
            region_name=REGION,
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
            parameter_validation=False,
            connect_timeout=5, read_timeout=60,
            max_pool_connections=config.pop("max_pool_connections", 10),
            **config)
        session = boto3.session.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            region_name=REGION)
        verify = self.ca_bundle if self.tls_cert else None
        return session.client(service, endpoint_url=self.endpoint, config=cfg,
                              verify=verify)

    def metrics(self):
        """GET /metrics, signed (servers with --auth require eddy:GetMetrics)."""
        request = botocore.awsrequest.AWSRequest(method="GET", url=self.endpoint + "/metrics")
        creds = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY)
        botocore.auth.SigV4Auth(creds, "dynamodb", REGION).add_auth(request)
        http_request = urllib.request.Request(self.endpoint + "/metrics",
                                              headers=dict(request.headers.items()))
        with urllib.request.urlopen(http_request, timeout=30) as r:
            return r.read().decode()

    def signed_headers(self, target, body, extra_headers=None):
        """Headers of a SigV4-signed DynamoDB JSON request (for raw HTTP tests)."""
        headers = {"Content-Type": "application/x-amz-json-1.0"}
        if target is not None:
            headers["X-Amz-Target"] = target
        headers.update(extra_headers or {})
        request = botocore.awsrequest.AWSRequest(
            method="POST", url=self.endpoint + "/", data=body, headers=headers)
        creds = botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY)
        botocore.auth.SigV4Auth(creds, "dynamodb", REGION).add_auth(request)
        return dict(request.headers.items())


def sigv4_problem(method, path, headers, body, secret, region=None,
                  required=("host", "x-amz-date", "x-amz-target")):
    """Checks an AWS Signature Version 4 Authorization header the way AWS
    does (docs: "Create a signed AWS API request"), for fake servers that
    record what clients send: None if it is a valid signature of the request
    with `secret` (scoped to `region` when given, with every `required`
    header signed), else what is wrong. `headers`: {lower-case name: value}."""
    auth = headers.get("authorization", "")
    algorithm, _, rest = auth.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return f"not a SigV4 Authorization header: {auth!r}"
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    _, date, scope_region, service, terminal = fields["Credential"].split("/")
    signed = fields["SignedHeaders"].split(";")
    for name in required:
        if name not in signed:
            return f"{name} is not signed: {signed}"
    if "x-amz-security-token" in headers and "x-amz-security-token" not in signed:
        return "x-amz-security-token is not signed"
    if region is not None and (scope_region, service, terminal) != (
            region, "dynamodb", "aws4_request"):
        return f"wrong scope {date}/{scope_region}/{service}/{terminal}"
    amz_date = headers["x-amz-date"]
    if not amz_date.startswith(date):
        return f"x-amz-date {amz_date} is not of {date}"
    canonical = "\n".join([
        method, path, "",
        *(f"{h}:{' '.join(headers[h].split())}" for h in signed), "",
        fields["SignedHeaders"], hashlib.sha256(body).hexdigest()])
    scope = f"{date}/{scope_region}/{service}/{terminal}"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (date, scope_region, service, terminal):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if fields["Signature"] != expected:
        return f"bad signature; canonical request was:\n{canonical}"
    return None


# -- DynamoDB JSON <-> Python values -----------------------------------------

def av(value):
    """Python value -> DynamoDB AttributeValue (str S, int/Decimal N, ...)."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, decimal.Decimal)):
        return {"N": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, (list, tuple)):
        return {"L": [av(v) for v in value]}
    if isinstance(value, dict):
        return {"M": {k: av(v) for k, v in value.items()}}
    if isinstance(value, (set, frozenset)):
        members = list(value)
        if all(isinstance(m, str) for m in members):
            return {"SS": sorted(members)}
        if all(isinstance(m, (bytes, bytearray)) for m in members):
            return {"BS": sorted(bytes(m) for m in members)}
        return {"NS": [str(m) for m in members]}
    raise TypeError(f"no DynamoDB type for {value!r}")


def item_av(item):
    """{name: python value} -> {name: AttributeValue}."""
    return {k: av(v) for k, v in item.items()}


def py(value):
    """DynamoDB AttributeValue -> Python value (N -> Decimal, sets -> set)."""
    (kind, inner), = value.items()
    if kind == "S":
        return inner
    if kind == "N":
        return decimal.Decimal(inner)
    if kind == "B":
        return bytes(inner)
    if kind == "BOOL":
        return inner
    if kind == "NULL":
        return None
    if kind == "L":
        return [py(v) for v in inner]
    if kind == "M":
        return {k: py(v) for k, v in inner.items()}
    if kind == "SS":
        return set(inner)
    if kind == "NS":
        return {decimal.Decimal(n) for n in inner}
    if kind == "BS":
        return {bytes(b) for b in inner}
    raise TypeError(f"unknown AttributeValue {value!r}")


def item_py(item):
    return {k: py(v) for k, v in item.items()}


def nested_map(depth, leaf="x"):
    """A Python value made of `depth` maps nested inside each other."""
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


# -- the base class ------------------------------------------------------------

class EddyTestCase(unittest.TestCase):
    """One server per test class, plus the verbs the tests are written in."""

    server_args = ()
    anonymous = False  # True: no --auth even with EDDY_TEST_AUTH=1.

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = EddyServer(extra_args=cls.server_args, anonymous=cls.anonymous)
        # Stopped even when a subclass's setUpClass fails after this (then
        # tearDownClass does not run); stop() is idempotent.
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.ddb = cls.server.client()
        cls._class_tables = []

    @classmethod
    def tearDownClass(cls):
        try:
            if cls.server.external:
                for name in cls._class_tables:
                    with contextlib.suppress(ClientError):
                        cls.ddb.delete_table(TableName=name)
        finally:
            cls.server.stop()
            super().tearDownClass()

    # -- names and tables ----------------------------------------------------

    @staticmethod
    def unique_name(prefix="t"):
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    @classmethod
    def create_table(cls, hash_key=("p", "S"), range_key=None, name=None,
                     billing_mode="PAY_PER_REQUEST", throughput=None, **extra):
        """Create a table and return its name once DescribeTable says ACTIVE."""
        name = name or cls.unique_name()
        keys = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
        defs = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
        if range_key:
            keys.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
            defs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
        params = dict(TableName=name, KeySchema=keys, AttributeDefinitions=defs, **extra)
        if billing_mode:
            params["BillingMode"] = billing_mode
        if throughput:
            params["ProvisionedThroughput"] = {
                "ReadCapacityUnits": throughput[0], "WriteCapacityUnits": throughput[1]}
        cls.ddb.create_table(**params)
        cls._class_tables.append(name)
        cls.wait_for_status(name, "ACTIVE")
        return name

    @classmethod
    def wait_for_status(cls, name, status, timeout=10.0):
        def status_reached():
            return cls.ddb.describe_table(TableName=name)["Table"]["TableStatus"] == status
        wait_until(status_reached, timeout, what=f"table {name} to be {status}")

    @classmethod
    def wait_for_table_gone(cls, name, timeout=10.0):
        def gone():
            try:
                cls.ddb.describe_table(TableName=name)
            except ClientError as e:
                return e.response["Error"]["Code"] == "ResourceNotFoundException"
            return False
        wait_until(gone, timeout, what=f"table {name} to be deleted")

    # -- item verbs (Python values in, Python values out) --------------------

    def put(self, table, item, **kw):
        return self.ddb.put_item(TableName=table, Item=item_av(item), **kw)

    def get(self, table, key, **kw):
        """The item as Python values, or None when there is no item."""
        kw.setdefault("ConsistentRead", True)
        response = self.ddb.get_item(TableName=table, Key=item_av(key), **kw)
        return item_py(response["Item"]) if "Item" in response else None

    def get_raw(self, table, key, **kw):
        kw.setdefault("ConsistentRead", True)
        return self.ddb.get_item(TableName=table, Key=item_av(key), **kw).get("Item")

    def update(self, table, key, expression=None, values=None, names=None, **kw):
        if expression is not None:
            kw["UpdateExpression"] = expression
        if values is not None:
            kw["ExpressionAttributeValues"] = item_av(values)
        if names is not None:
            kw["ExpressionAttributeNames"] = names
        return self.ddb.update_item(TableName=table, Key=item_av(key), **kw)

    def delete(self, table, key, **kw):
        return self.ddb.delete_item(TableName=table, Key=item_av(key), **kw)

    def query_all(self, table, **kw):
        """Every page of a Query; returns (items, pages)."""
        return self._paginate(self.ddb.query, table, kw)

    def scan_all(self, table, **kw):
        """Every page of a Scan; returns (items, pages)."""
        return self._paginate(self.ddb.scan, table, kw)

    def _paginate(self, operation, table, kw):
        items, pages = [], []
        while True:
            page = operation(TableName=table, **kw)
            pages.append(page)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items, pages
            self.assertLess(len(pages), 10000, "pagination does not end")
            kw = dict(kw, ExclusiveStartKey=page["LastEvaluatedKey"])

    # -- assertions -----------------------------------------------------------

    def active_and_never_partial(self, table, key):
        """True once `table` is ACTIVE. Until then a read of `key` must be
        ResourceNotFoundException: no one sees a table being filled (a
        restore, an import) with part of its items. A read that is served
        means the table became ACTIVE between the two requests, which a
        second DescribeTable must show. For wait_until."""
        if self.ddb.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE":
            return True
        try:
            self.ddb.get_item(TableName=table, Key=item_av(key))
        except ClientError as e:
            self.assertEqual(e.response["Error"]["Code"], "ResourceNotFoundException")
            return False
        self.assertEqual(
            self.ddb.describe_table(TableName=table)["Table"]["TableStatus"], "ACTIVE")
        return True

    @contextlib.contextmanager
    def assertDynamoError(self, code, message=None, regex=None, status=400):
        """Expect a ClientError with this error code, HTTP status and message.

        `message` must match exactly; `regex` is searched in the message.
        """
        with self.assertRaises(ClientError) as cm:
            yield cm
        response = cm.exception.response
        error = response.get("Error", {})
        self.assertEqual(error.get("Code"), code, f"wrong error type: {response}")
        self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], status,
                         f"wrong HTTP status: {response}")
        if message is not None:
            self.assertEqual(error.get("Message"), message)
        if regex is not None:
            self.assertRegex(error.get("Message", ""), regex)

    def assertValidationError(self, message=None, regex=None):
        return self.assertDynamoError("ValidationException", message, regex)

    def assertConditionFailed(self):
        return self.assertDynamoError("ConditionalCheckFailedException",
                                      "The conditional request failed")

    def assertItem(self, table, key, expected):
        self.assertEqual(self.get(table, key), expected)


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)
