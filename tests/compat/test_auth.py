"""Authentication and authorization with `eddy serve --auth FILE`.

SigV4 errors exactly as DynamoDB answers them, IAM-style policies (allow,
deny wins, wildcards, dynamodb:LeadingKeys with ${aws:username},
dynamodb:Attributes, batch and transaction requests with one forbidden
part), the admin API and /metrics as policy actions, reloading the auth
file, `eddy auth add`, bad auth files, and the loopback rule of anonymous
mode. Driven with boto3, the AWS CLI, the eddy CLI and raw signed HTTP.
"""

import datetime
import hashlib
import hmac
import http.client
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.parse

from botocore.exceptions import ClientError

from eddy_server import (ACCESS_KEY, ALLOW_ALL, REGION, SECRET_KEY, EddyServer,
                         EddyTestCase, free_port, item_av, wait_until,
                         write_auth_file)

TARGET = "DynamoDB_20120810."
ADMIN = ("admin", ACCESS_KEY, SECRET_KEY, ALLOW_ALL)
READER_KEY, READER_SECRET = "AKIDREADER000000TEST", "reader-secret"
ALICE_KEY, ALICE_SECRET = "AKIDALICE0000000TEST", "alice-secret"
BOB_KEY, BOB_SECRET = "AKIDBOB000000000TEST", "bob-secret"
PUBLIC_KEY, PUBLIC_SECRET = "AKIDPUBLIC000000TEST", "public-secret"
OPERATOR_KEY, OPERATOR_SECRET = "AKIDOPERATOR0000TEST", "operator-secret"


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **condition):
    s = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        s["Condition"] = condition["condition"]
    return s


def deny(action, resource="*"):
    return {"Effect": "Deny", "Action": action, "Resource": resource}


# Alice and Bob may touch only their own partition of Games (the
# fine-grained access control example of DynamoDB's documentation).
OWN_ROWS = policy(
    allow(["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
           "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:Scan",
           "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"],
          "arn:aws:dynamodb:*:*:table/Games",
          condition={"ForAllValues:StringEquals":
                     {"dynamodb:LeadingKeys": ["${aws:username}"]}}),
    allow("dynamodb:DescribeTable"))

READER = policy(
    allow(["dynamodb:Get*", "dynamodb:Query", "dynamodb:Describe*",
           "dynamodb:ListTables", "dynamodb:BatchGetItem",
           "dynamodb:ListStreams"]),
    deny("dynamodb:*", "arn:aws:dynamodb:*:*:table/Secrets"))

# Only the public attributes of Games, and never "everything".
PUBLIC = policy(allow(
    ["dynamodb:GetItem", "dynamodb:Query"], "arn:aws:dynamodb:*:*:table/Games",
    condition={"ForAllValues:StringEquals":
               {"dynamodb:Attributes": ["player", "game", "score"]},
               "StringEqualsIfExists": {"dynamodb:Select": "SPECIFIC_ATTRIBUTES"}}))


# May manage triggers, and read Games' stream and write Other, nothing else.
OPERATOR = policy(
    allow("eddy:*"),
    allow("dynamodb:GetRecords", "arn:aws:dynamodb:*:*:table/Games/stream/*"),
    allow("dynamodb:PutItem", "arn:aws:dynamodb:*:*:table/Other"))


def sigv4(method, path, headers, body, key, secret, amz_date, region=REGION,
          service="dynamodb", signed=None):
    """An independent SigV4 signer (hashlib/hmac) for requests botocore
    would not make: skewed dates, unsigned host, other scopes."""
    names = sorted(signed or [h.lower() for h in headers])
    lower = {k.lower(): v for k, v in headers.items()}
    canonical = "\n".join([
        method, path, "",
        "".join(f"{n}:{' '.join(str(lower[n]).split())}\n" for n in names),
        ";".join(names), hashlib.sha256(body).hexdigest()])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (amz_date[:8], region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return (f"AWS4-HMAC-SHA256 Credential={key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}")


def amz_date(offset_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.strftime("%Y%m%dT%H%M%SZ")


class AuthServerTestCase(EddyTestCase):
    """A server with admin (everything), a reader, alice/bob (own rows) and
    a public-attributes identity."""

    identities = [
        ADMIN,
        ("reader", READER_KEY, READER_SECRET, READER),
        ("alice", ALICE_KEY, ALICE_SECRET, OWN_ROWS),
        ("bob", BOB_KEY, BOB_SECRET, OWN_ROWS),
        ("public", PUBLIC_KEY, PUBLIC_SECRET, PUBLIC),
        ("operator", OPERATOR_KEY, OPERATOR_SECRET, OPERATOR),
    ]

    @classmethod
    def setUpClass(cls):
        cls.auth_dir = tempfile.mkdtemp(prefix="eddy-auth-test-")
        cls.auth_path = write_auth_file(os.path.join(cls.auth_dir, "auth.json"),
                                        cls.identities)
        cls.server_args = ("--auth", cls.auth_path)
        super().setUpClass()

    def as_(self, key, secret, service="dynamodb"):
        return self.server.client(service, access_key=key, secret_key=secret)

    def raw(self, headers, body=b"{}", path="/", method="POST"):
        url = urllib.parse.urlsplit(self.server.endpoint)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            text = response.read()
            return response.status, text, dict(response.getheaders())
        finally:
            conn.close()

    def assertRawError(self, result, error_type, message=None, prefix=None):
        status, text, headers = result
        self.assertEqual(status, 400, text)
        doc = json.loads(text)
        self.assertEqual(doc["__type"], "com.amazon.coral.service#" + error_type, doc)
        if message is not None:
            self.assertEqual(doc["message"], message)
        if prefix is not None:
            self.assertTrue(doc["message"].startswith(prefix), doc["message"])
        self.assertIn("Date", headers)  # SDKs correct clock skew from it.


class SignatureErrorsTest(AuthServerTestCase):
    """Every SigV4 failure, with DynamoDB's error type and message."""

    def headers(self, body, date=None, key=ACCESS_KEY, secret=SECRET_KEY,
                signed=None, **scope):
        h = {"Host": f"{self.server.host}:{self.server.port}",
             "Content-Type": "application/x-amz-json-1.0",
             "X-Amz-Target": TARGET + "ListTables",
             "X-Amz-Date": date or amz_date()}
        h["Authorization"] = sigv4("POST", "/", h, body, key, secret, h["X-Amz-Date"],
                                   signed=signed, **scope)
        return h

    def test_correctly_signed_raw_request_succeeds(self):
        status, text, _ = self.raw(self.headers(b"{}"))
        self.assertEqual(status, 200, text)

    def test_missing_authorization(self):
        h = self.headers(b"{}")
        del h["Authorization"]
        self.assertRawError(self.raw(h), "MissingAuthenticationTokenException",
                            "Request is missing Authentication Token")

    def test_missing_signature_member(self):
        h = self.headers(b"{}")
        h["Authorization"] = h["Authorization"].split(", Signature=")[0]
        self.assertRawError(
            self.raw(h), "IncompleteSignatureException",
            "Authorization header requires 'Signature' parameter. Authorization="
            + h["Authorization"])

    def test_missing_signed_headers_member(self):
        h = self.headers(b"{}")
        auth = h["Authorization"]
        h["Authorization"] = auth[:auth.index(", SignedHeaders=")] + \
            auth[auth.index(", Signature="):]
        self.assertRawError(self.raw(h), "IncompleteSignatureException",
                            prefix="Authorization header requires 'SignedHeaders' parameter.")

    def test_bad_date_format(self):
        h = self.headers(b"{}")
        h["X-Amz-Date"] = "201"
        self.assertRawError(
            self.raw(h), "IncompleteSignatureException",
            "Date must be in ISO-8601 'basic format'. Got '201'. "
            "See http://en.wikipedia.org/wiki/ISO_8601")

    def test_clock_skew_window(self):
        for ok in (-14 * 60, 14 * 60):
            status, text, _ = self.raw(self.headers(b"{}", date=amz_date(ok)))
            self.assertEqual(status, 200, text)
        self.assertRawError(self.raw(self.headers(b"{}", date=amz_date(-16 * 60))),
                            "InvalidSignatureException", prefix="Signature expired: ")
        self.assertRawError(self.raw(self.headers(b"{}", date=amz_date(16 * 60))),
                            "InvalidSignatureException",
                            prefix="Signature not yet current: ")

    def test_host_must_be_signed(self):
        h = self.headers(b"{}", signed=["content-type", "x-amz-date", "x-amz-target"])
        self.assertRawError(self.raw(h), "InvalidSignatureException",
                            "'Host' must be a 'SignedHeader' in the AWS Authorization.")

    def test_wrong_algorithm(self):
        h = self.headers(b"{}")
        h["Authorization"] = h["Authorization"].replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1")
        self.assertRawError(self.raw(h), "IncompleteSignatureException",
                            "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1' "
                            "(only AWS4-HMAC-SHA256 for now). ")

    def test_credential_of_four_parts(self):
        h = self.headers(b"{}")
        h["Authorization"] = h["Authorization"].replace("/aws4_request", "")
        self.assertRawError(self.raw(h), "IncompleteSignatureException",
                            prefix="Credential must have exactly 5 slash-delimited elements")

    def test_wrong_service_in_scope(self):
        h = self.headers(b"{}", service="s3")
        self.assertRawError(self.raw(h), "InvalidSignatureException",
                            "Credential should be scoped to correct service: 'dynamodb'.")

    def test_unknown_key(self):
        with self.assertDynamoError("UnrecognizedClientException",
                                    "The security token included in the request is invalid."):
            self.as_("AKIDNOBODY0000000000", "x").list_tables()

    def test_wrong_secret(self):
        with self.assertDynamoError("InvalidSignatureException",
                                    regex="^The request signature we calculated does not "
                                          "match the signature you provided"):
            self.as_(ACCESS_KEY, "not-the-secret").list_tables()

    def test_tampered_body_is_rejected_and_writes_nothing(self):
        table = self.create_table()
        body = json.dumps({"TableName": table, "Item": item_av({"p": "a"})}).encode()
        h = self.headers(body)
        h["X-Amz-Target"] = TARGET + "PutItem"
        h["Authorization"] = sigv4("POST", "/", h, body, ACCESS_KEY, SECRET_KEY,
                                   h["X-Amz-Date"])
        tampered = body.replace(b'"a"', b'"b"')
        self.assertRawError(self.raw(h, tampered), "InvalidSignatureException",
                            prefix="The request signature we calculated")
        self.assertIsNone(self.get(table, {"p": "b"}))

    def test_aws_cli_with_wrong_secret_fails(self):
        env = dict(os.environ, AWS_SECRET_ACCESS_KEY="wrong", AWS_PAGER="",
                   AWS_MAX_ATTEMPTS="1")
        done = subprocess.run(["aws", "dynamodb", "list-tables", "--endpoint-url",
                               self.server.endpoint], env=env, capture_output=True,
                              text=True, timeout=60)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("InvalidSignatureException", done.stderr)
        ok = subprocess.run(["aws", "dynamodb", "list-tables", "--endpoint-url",
                             self.server.endpoint], env=dict(os.environ, AWS_PAGER=""),
                            capture_output=True, text=True, timeout=60)
        self.assertEqual(ok.returncode, 0, ok.stderr)

    def test_garbage_headers_keep_the_server_serving(self):
        for garbage in ("AWS4-" + "=,/ ;" * 2000, "AWS4-HMAC-SHA256 " + "x" * 10000,
                        "AWS4-HMAC-SHA256 Credential=" + "/" * 5000):
            h = self.headers(b"{}")
            h["Authorization"] = garbage
            status, _, _ = self.raw(h)
            self.assertEqual(status, 400)
        self.assertIn("TableNames", self.ddb.list_tables())

    def test_failures_are_logged_and_counted_without_secrets(self):
        with self.assertRaises(ClientError):
            self.as_(ACCESS_KEY, "not-the-secret").list_tables()
        log = self.server.log_text()
        self.assertIn("auth failure: InvalidSignatureException key=" + ACCESS_KEY, log)
        self.assertNotIn(SECRET_KEY, log)
        self.assertNotIn("Signature=", log)
        metrics = self.metrics(ACCESS_KEY, SECRET_KEY)
        self.assertRegex(metrics, r'eddy_auth_failures_total\{type="InvalidSignatureException"\} [1-9]')

    def metrics(self, key, secret):
        h = {"Host": f"{self.server.host}:{self.server.port}", "X-Amz-Date": amz_date()}
        h["Authorization"] = sigv4("GET", "/metrics", h, b"", key, secret, h["X-Amz-Date"])
        status, text, _ = self.raw(h, b"", path="/metrics", method="GET")
        self.assertEqual(status, 200, text)
        return text.decode()

    def test_metrics_need_get_metrics(self):
        self.assertIn("eddy_requests_total", self.metrics(ACCESS_KEY, SECRET_KEY))
        self.assertRawError(self.raw({}, b"", path="/metrics", method="GET"),
                            "MissingAuthenticationTokenException")
        h = {"Host": f"{self.server.host}:{self.server.port}", "X-Amz-Date": amz_date()}
        h["Authorization"] = sigv4("GET", "/metrics", h, b"", READER_KEY, READER_SECRET,
                                   h["X-Amz-Date"])
        self.assertRawError(self.raw(h, b"", path="/metrics", method="GET"),
                            "AccessDeniedException",
                            "User: arn:aws:iam::000000000000:user/reader is not authorized "
                            "to perform: eddy:GetMetrics on resource: * because no "
                            "identity-based policy allows the eddy:GetMetrics action")
        # Health checks stay open.
        for path in ("/", "/healthz"):
            status, _, _ = self.raw({}, b"", path=path, method="GET")
            self.assertEqual(status, 200)


class PolicyTest(AuthServerTestCase):
    """Policies evaluated as IAM does, per action and resource."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.games = cls.create_table(("player", "S"), ("game", "S"), name="Games",
                                     StreamSpecification={"StreamEnabled": True,
                                                          "StreamViewType": "NEW_IMAGE"})
        cls.secrets = cls.create_table(name="Secrets")
        cls.other = cls.create_table(name="Other")
        for player in ("alice", "bob"):
            cls.ddb.put_item(TableName="Games", Item=item_av(
                {"player": player, "game": "chess", "score": 10, "email": player + "@x"}))

    def denied(self, identity, action, resource, explicit=False):
        why = (" with an explicit deny in an identity-based policy" if explicit else
               f" because no identity-based policy allows the {action} action")
        return self.assertDynamoError(
            "AccessDeniedException",
            f"User: arn:aws:iam::000000000000:user/{identity} is not authorized to "
            f"perform: {action} on resource: {resource}{why}")

    @staticmethod
    def arn(table):
        return f"arn:aws:dynamodb:us-east-1:000000000000:table/{table}"

    def test_allow_and_default_deny(self):
        reader = self.as_(READER_KEY, READER_SECRET)
        key = item_av({"player": "alice", "game": "chess"})
        self.assertEqual(reader.get_item(TableName="Games", Key=key)["Item"]["score"],
                         {"N": "10"})
        self.assertIn("Games", reader.list_tables()["TableNames"])
        with self.denied("reader", "dynamodb:PutItem", self.arn("Games")):
            reader.put_item(TableName="Games", Item=key)
        with self.denied("reader", "dynamodb:DeleteTable", self.arn("Other")):
            reader.delete_table(TableName="Other")

    def test_explicit_deny_wins(self):
        reader = self.as_(READER_KEY, READER_SECRET)
        with self.denied("reader", "dynamodb:GetItem", self.arn("Secrets"), explicit=True):
            reader.get_item(TableName="Secrets", Key=item_av({"p": "x"}))

    def test_wildcard_actions_cover_streams(self):
        reader = self.as_(READER_KEY, READER_SECRET, "dynamodbstreams")
        arn = self.ddb.describe_table(TableName="Games")["Table"]["LatestStreamArn"]
        shard = reader.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
        it = reader.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                       ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        self.assertIn("Records", reader.get_records(ShardIterator=it))

    def test_leading_keys_own_partition_only(self):
        alice = self.as_(ALICE_KEY, ALICE_SECRET)
        alice.put_item(TableName="Games", Item=item_av(
            {"player": "alice", "game": "go", "score": 3}))
        got = alice.get_item(TableName="Games",
                             Key=item_av({"player": "alice", "game": "go"}))
        self.assertEqual(got["Item"]["score"], {"N": "3"})
        with self.denied("alice", "dynamodb:GetItem", self.arn("Games")):
            alice.get_item(TableName="Games", Key=item_av({"player": "bob", "game": "chess"}))
        with self.denied("alice", "dynamodb:PutItem", self.arn("Games")):
            alice.put_item(TableName="Games", Item=item_av({"player": "bob", "game": "x"}))
        own = alice.query(TableName="Games", KeyConditionExpression="player = :p",
                          ExpressionAttributeValues={":p": {"S": "alice"}})
        self.assertGreaterEqual(own["Count"], 1)
        with self.denied("alice", "dynamodb:Query", self.arn("Games")):
            alice.query(TableName="Games", KeyConditionExpression="player = :p",
                        ExpressionAttributeValues={":p": {"S": "bob"}})
        # A Scan reads every partition: never within a LeadingKeys grant.
        with self.denied("alice", "dynamodb:Scan", self.arn("Games")):
            alice.scan(TableName="Games")
        self.assertIsNone(self.get("Games", {"player": "bob", "game": "x"}))

    def test_batch_with_one_foreign_key_is_denied_whole(self):
        alice = self.as_(ALICE_KEY, ALICE_SECRET)
        with self.denied("alice", "dynamodb:BatchWriteItem", self.arn("Games")):
            alice.batch_write_item(RequestItems={"Games": [
                {"PutRequest": {"Item": item_av({"player": "alice", "game": "b1"})}},
                {"PutRequest": {"Item": item_av({"player": "bob", "game": "b1"})}}]})
        self.assertIsNone(self.get("Games", {"player": "alice", "game": "b1"}))
        self.assertIsNone(self.get("Games", {"player": "bob", "game": "b1"}))
        alice.batch_write_item(RequestItems={"Games": [
            {"PutRequest": {"Item": item_av({"player": "alice", "game": "b2"})}}]})
        self.assertIsNotNone(self.get("Games", {"player": "alice", "game": "b2"}))

    def test_batch_get_with_one_forbidden_table(self):
        reader = self.as_(READER_KEY, READER_SECRET)
        with self.denied("reader", "dynamodb:BatchGetItem", self.arn("Secrets"),
                         explicit=True):
            reader.batch_get_item(RequestItems={
                "Games": {"Keys": [item_av({"player": "alice", "game": "chess"})]},
                "Secrets": {"Keys": [item_av({"p": "x"})]}})

    def test_transaction_with_one_forbidden_table_writes_nothing(self):
        alice = self.as_(ALICE_KEY, ALICE_SECRET)
        with self.denied("alice", "dynamodb:PutItem", self.arn("Other")):
            alice.transact_write_items(TransactItems=[
                {"Put": {"TableName": "Games",
                         "Item": item_av({"player": "alice", "game": "t1"})}},
                {"Put": {"TableName": "Other", "Item": item_av({"p": "t1"})}}])
        self.assertIsNone(self.get("Games", {"player": "alice", "game": "t1"}))
        self.assertIsNone(self.get("Other", {"p": "t1"}))

    def test_attributes_condition(self):
        public = self.as_(PUBLIC_KEY, PUBLIC_SECRET)
        key = item_av({"player": "alice", "game": "chess"})
        got = public.get_item(TableName="Games", Key=key,
                              ProjectionExpression="player, game, score")
        self.assertEqual(set(got["Item"]), {"player", "game", "score"})
        with self.denied("public", "dynamodb:GetItem", self.arn("Games")):
            public.get_item(TableName="Games", Key=key, ProjectionExpression="email")
        # Without a projection a read asks for every attribute.
        with self.denied("public", "dynamodb:GetItem", self.arn("Games")):
            public.get_item(TableName="Games", Key=key)
        with self.denied("public", "dynamodb:Query", self.arn("Games")):
            public.query(TableName="Games", KeyConditionExpression="player = :p",
                         ExpressionAttributeValues={":p": {"S": "alice"}})
        done = public.query(TableName="Games", KeyConditionExpression="player = :p",
                            ExpressionAttributeValues={":p": {"S": "alice"}},
                            ProjectionExpression="score")
        self.assertTrue(all(set(i) == {"score"} for i in done["Items"]))

    def test_admin_api_is_policy_actions(self):
        eddy = str(self.server.binary)
        env = dict(os.environ, AWS_ACCESS_KEY_ID=READER_KEY,
                   AWS_SECRET_ACCESS_KEY=READER_SECRET)
        done = subprocess.run([eddy, "trigger", "create", "--table", "Games",
                               "--handler", "libanything.so", "--endpoint",
                               self.server.endpoint], env=env, capture_output=True,
                              text=True, timeout=60)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("AccessDeniedException", done.stdout + done.stderr)
        self.assertIn("eddy:CreateTrigger on resource: "
                      "arn:eddy:us-east-1:000000000000:trigger/Games-libanything",
                      done.stdout + done.stderr)
        done = subprocess.run([eddy, "trigger", "list", "--endpoint",
                               self.server.endpoint], env=env, capture_output=True,
                              text=True, timeout=60)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("eddy:ListTriggers", done.stdout + done.stderr)
        admin = subprocess.run([eddy, "trigger", "list", "--endpoint",
                                self.server.endpoint], capture_output=True, text=True,
                               timeout=60)
        self.assertEqual(admin.returncode, 0, admin.stdout + admin.stderr)

    def test_creating_a_trigger_needs_the_rights_it_would_use(self):
        # A trigger reads its table's stream and may write failed batches to
        # a table: eddy:CreateTrigger alone must not lend the server's rights.
        eddy = str(self.server.binary)
        env = dict(os.environ, AWS_ACCESS_KEY_ID=OPERATOR_KEY,
                   AWS_SECRET_ACCESS_KEY=OPERATOR_SECRET)

        def create(*args):
            done = subprocess.run([eddy, "trigger", "create", "--handler",
                                   "libanything.so", *args, "--endpoint",
                                   self.server.endpoint], env=env,
                                  capture_output=True, text=True, timeout=60)
            self.assertNotEqual(done.returncode, 0)
            return done.stdout + done.stderr
        out = create("--table", "Games", "--on-failure", "table:Secrets")
        self.assertIn("AccessDeniedException", out)
        self.assertIn("dynamodb:PutItem on resource: " + self.arn("Secrets"), out)
        out = create("--table", "Secrets")
        self.assertIn("dynamodb:GetRecords on resource: " + self.arn("Secrets") +
                      "/stream/*", out)
        # With both rights the request reaches the trigger checks themselves
        # (here: the library is not in the handler directory).
        out = create("--table", "Games", "--on-failure", "table:Other")
        self.assertNotIn("AccessDeniedException", out)
        self.assertIn("libanything.so", out)


    def test_replaying_a_trigger_is_its_own_action(self):
        # ReplayTrigger re-delivers history the trigger's handler was given
        # already: eddy:ReplayTrigger on the trigger decides, like
        # UpdateTrigger.
        eddy = str(self.server.binary)

        def replay(key, secret):
            env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)
            done = subprocess.run([eddy, "trigger", "replay", "Games-audit", "--from",
                                   "trim-horizon", "--endpoint", self.server.endpoint],
                                  env=env, capture_output=True, text=True, timeout=60)
            self.assertNotEqual(done.returncode, 0)
            return done.stdout + done.stderr
        out = replay(READER_KEY, READER_SECRET)
        self.assertIn("AccessDeniedException", out)
        self.assertIn("eddy:ReplayTrigger on resource: "
                      "arn:eddy:us-east-1:000000000000:trigger/Games-audit", out)
        # Allowed, the request reaches the dispatcher: there is no such
        # trigger.
        out = replay(OPERATOR_KEY, OPERATOR_SECRET)
        self.assertNotIn("AccessDeniedException", out)
        self.assertIn("Trigger not found: Games-audit", out)


class AuthFileTest(unittest.TestCase):
    """The auth file: reloads, `eddy auth add`, and refusals at start."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="eddy-authfile-test-")
        self.path = os.path.join(self.dir, "auth.json")

    def start(self, *extra):
        server = EddyServer(extra_args=("--auth", self.path, *extra))
        server.start()
        self.addCleanup(server.stop)
        return server

    def failed_start(self, *args):
        """Run `eddy serve` expecting it to refuse; return its output."""
        server = EddyServer(extra_args=args)
        server.port = free_port()
        done = subprocess.run(server.command(), capture_output=True, text=True,
                              timeout=30)
        server.stop()
        self.assertNotEqual(done.returncode, 0)
        return done.stdout + done.stderr

    def test_reload_on_change_and_bad_file_keeps_old(self):
        write_auth_file(self.path, [ADMIN])
        server = self.start()
        newcomer = server.client(access_key=READER_KEY, secret_key=READER_SECRET)
        with self.assertRaises(ClientError):
            newcomer.list_tables()
        write_auth_file(self.path, [ADMIN, ("reader", READER_KEY, READER_SECRET, READER)])

        def works():
            try:
                return "TableNames" in newcomer.list_tables()
            except ClientError:
                return False
        wait_until(works, timeout=5, what="the reloaded identity to work")
        # A broken file is refused; the identities in force stay.
        with open(self.path, "w") as f:
            f.write("{not json")
        wait_until(lambda: "not reloaded" in server.log_text(), timeout=5,
                   what="the bad file to be refused")
        self.assertIn("TableNames", newcomer.list_tables())

    def test_sighup_reloads(self):
        # The new file has the same size and modification time as the old
        # one, so the watcher cannot see the change: only SIGHUP can.
        write_auth_file(self.path, [ADMIN, ("reader", READER_KEY, READER_SECRET, READER)])
        server = self.start()
        stamp = os.stat(self.path).st_mtime_ns
        replaced_key = READER_KEY.replace("0", "1")
        write_auth_file(self.path, [ADMIN, ("reader", replaced_key, READER_SECRET, READER)])
        os.utime(self.path, ns=(stamp, stamp))
        old = server.client(access_key=READER_KEY, secret_key=READER_SECRET)
        new = server.client(access_key=replaced_key, secret_key=READER_SECRET)
        time.sleep(0.5)  # Several watcher rounds: they must not reload.
        self.assertIn("TableNames", old.list_tables())
        server.process.send_signal(signal.SIGHUP)

        def reloaded():
            try:
                return "TableNames" in new.list_tables()
            except ClientError:
                return False
        wait_until(reloaded, timeout=5, what="SIGHUP to reload the auth file")
        with self.assertRaises(ClientError):
            old.list_tables()

    def test_auth_add_creates_a_working_identity(self):
        write_auth_file(self.path, [ADMIN])
        server = self.start()
        policy_path = os.path.join(self.dir, "policy.json")
        with open(policy_path, "w") as f:
            json.dump(policy(allow("dynamodb:ListTables")), f)
        done = subprocess.run([str(server.binary), "auth", "add", "carol", "--policy",
                               policy_path, "--auth", self.path],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stderr)
        fields = dict(line.strip().split(" = ") for line in done.stdout.splitlines()
                      if " = " in line)
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)
        carol = server.client(access_key=fields["aws_access_key_id"],
                              secret_key=fields["aws_secret_access_key"])

        def works():
            try:
                return "TableNames" in carol.list_tables()
            except ClientError:
                return False
        wait_until(works, timeout=5, what="carol's keys to work")
        with self.assertRaises(ClientError) as cm:
            carol.create_table(TableName="nope", KeySchema=[
                {"AttributeName": "p", "KeyType": "HASH"}], AttributeDefinitions=[
                {"AttributeName": "p", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        again = subprocess.run([str(server.binary), "auth", "add", "carol", "--auth",
                                self.path], capture_output=True, text=True, timeout=30)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("already has an identity named carol", again.stderr)

    def test_refuses_a_readable_file(self):
        write_auth_file(self.path, [ADMIN])
        os.chmod(self.path, 0o644)
        out = self.failed_start("--auth", self.path)
        self.assertIn("chmod 600 " + self.path, out)

    def test_refuses_bad_json_and_unknown_members(self):
        for text, expected in [
                ("{oops", "not valid JSON"),
                (json.dumps({"identities": [], "extra": 1}), 'unknown member "extra"'),
                (json.dumps({"identities": [{"name": "x", "accessKeyId": ACCESS_KEY,
                                             "secretAccessKey": "s", "policy": {
                                                 "Statement": [{"Effect": "Allow",
                                                                "Action": "*",
                                                                "Resource": "*",
                                                                "Principal": "*"}]}}]}),
                 'unknown member "Principal"'),
                (json.dumps({"identities": [{"name": "x", "accessKeyId": ACCESS_KEY,
                                             "secretAccessKey": "s"}]}),
                 "policy is required")]:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)
            self.assertIn(expected, self.failed_start("--auth", self.path))


class AnonymousModeTest(EddyTestCase):
    """Without --auth: any signature (as DynamoDB Local), but well-formed,
    and only on loopback."""

    anonymous = True

    def raw(self, headers):
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=30)
        try:
            conn.request("POST", "/", b"{}", headers)
            r = conn.getresponse()
            return r.status, json.loads(r.read() or b"null")
        finally:
            conn.close()

    def test_any_credentials_are_accepted(self):
        other = self.server.client(access_key="AKIDANYTHING", secret_key="whatever")
        self.assertIn("TableNames", other.list_tables())

    def test_authorization_must_still_be_present_and_well_formed(self):
        base = {"Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": TARGET + "ListTables"}
        status, body = self.raw(base)
        self.assertEqual((status, body["__type"]), (400,
                         "com.amazon.coral.service#MissingAuthenticationTokenException"))
        status, body = self.raw(dict(base, Authorization="AWS4-HMAC-SHA256 Credential=a",
                                     **{"X-Amz-Date": amz_date()}))
        self.assertEqual((status, body["__type"]), (400,
                         "com.amazon.coral.service#IncompleteSignatureException"))

    def test_non_loopback_needs_auth_or_allow_anonymous(self):
        server = EddyServer(host="127.0.0.1", anonymous=True)
        server.port = free_port()
        command = server.command()
        command[command.index("--host") + 1] = "0.0.0.0"
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 2)
        self.assertIn("refusing to listen on 0.0.0.0 without authentication",
                      done.stdout + done.stderr)
        self.assertIn("--allow-anonymous", done.stdout + done.stderr)
        # With --allow-anonymous the check passes: on a documentation address
        # (192.0.2.1, never ours) it goes on to fail binding, touching nothing.
        command[command.index("--host") + 1] = "192.0.2.1"
        done = subprocess.run(command + ["--allow-anonymous"], capture_output=True,
                              text=True, timeout=30)
        server.stop()
        self.assertNotIn("refusing", done.stdout + done.stderr)
        self.assertIn("cannot listen on 192.0.2.1", done.stdout + done.stderr)


if __name__ == "__main__":
    unittest.main()
