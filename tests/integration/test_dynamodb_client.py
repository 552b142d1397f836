"""The handler SDK's DynamoDB client (eddy/functions/dynamodb.h) end to
end, through tests/tools/dynamodb_call.cc: against a real Eddy without and
with --auth (signatures verified, typed errors), and through a proxy that
fails on purpose (5xx, dropped connections, throttling) to show the retries,
their limit, and the one kept-alive connection."""

import json
import os
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import (ACCESS_KEY, ALLOW_ALL, SECRET_KEY, EddyServer,  # noqa: E402
                         write_auth_file)

REPO_ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(os.environ.get("EDDY_DYNAMODB_CALL") or
              REPO_ROOT / "build" / "bin" / "eddy_dynamodb_call")
READER_KEY, READER_SECRET = "AKIDREADERCLIENTTEST", "reader-client-secret"
READER = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:DescribeTable"],
     "Resource": "*"}]}


def calls(endpoint, requests, *options):
    """Runs the driver with one client for every (op, body); returns the
    parsed answers."""
    if not DRIVER.exists():
        raise unittest.SkipTest(f"driver not built: {DRIVER}")
    stdin = "".join(json.dumps({"op": op, "body": body}) + "\n" for op, body in requests)
    done = subprocess.run([str(DRIVER), "--endpoint", endpoint, *options], input=stdin,
                          capture_output=True, text=True, timeout=120)
    if done.returncode not in (0, 2):
        raise AssertionError(f"driver exited {done.returncode}: {done.stderr}")
    return [json.loads(line) for line in done.stdout.splitlines()]


def create_table(server, name):
    server.client().create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])


def put(table, key, **extra):
    return ("PutItem", {"TableName": table, "Item": {"id": {"S": key}}, **extra})


def get(table, key):
    return ("GetItem", {"TableName": table, "Key": {"id": {"S": key}},
                        "ConsistentRead": True})


class FailingProxy:
    """A TCP proxy in front of a server that answers the next requests from
    a script ("500", "drop", "throttle") before forwarding the rest, and
    counts client connections and requests."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.script = []
        self.requests = 0
        self.connections = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                with proxy.lock:
                    proxy.connections += 1
                upstream = None
                stream = self.request.makefile("rb")
                try:
                    while True:
                        raw = read_message(stream)
                        if raw is None:
                            return
                        with proxy.lock:
                            proxy.requests += 1
                            step = proxy.script.pop(0) if proxy.script else "forward"
                        if step == "drop":
                            return
                        if step in ("500", "throttle"):
                            status, kind = ((500, "InternalServerError") if step == "500"
                                            else (400, "ThrottlingException"))
                            body = json.dumps({"__type": "com.amazonaws.dynamodb."
                                               f"v20120810#{kind}",
                                               "message": "injected"}).encode()
                            self.request.sendall(
                                f"HTTP/1.1 {status} X\r\nContent-Type: application/"
                                f"x-amz-json-1.0\r\nContent-Length: {len(body)}\r\n\r\n"
                                .encode() + body)
                            continue
                        if upstream is None:
                            upstream = socket.create_connection(
                                ("127.0.0.1", proxy.upstream_port))
                            upstream_stream = upstream.makefile("rb")
                        upstream.sendall(raw)
                        answer = read_message(upstream_stream)
                        if answer is None:
                            return
                        self.request.sendall(answer)
                finally:
                    if upstream is not None:
                        upstream.close()

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def read_message(stream):
    """One HTTP/1.1 message (head and Content-Length body) as bytes, or None
    at the end of the stream."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = stream.readline()
        if not line:
            return None
        head += line
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + stream.read(length)


class AnonymousEddyTest(unittest.TestCase):
    """Against an anonymous Eddy: any signature is accepted, answers are
    typed."""

    @classmethod
    def setUpClass(cls):
        cls.server = EddyServer(anonymous=True).start()
        cls.addClassCleanup(cls.server.stop)
        create_table(cls.server, "Orders")

    def test_writes_reads_and_typed_errors(self):
        out = calls(self.server.endpoint, [
            put("Orders", "o1"),
            get("Orders", "o1"),
            put("Orders", "o1", ConditionExpression="attribute_not_exists(id)"),
            get("Missing", "o1"),
            ("PutItem", {"TableName": "Orders"}),
        ], "--key", "anything", "--secret", "anything")
        self.assertEqual([o["ok"] for o in out], [True, True, False, False, False])
        self.assertEqual(out[1]["answer"]["Item"], {"id": {"S": "o1"}})
        self.assertEqual((out[2]["kind"], out[2]["type"], out[2]["attempts"]),
                         ("conditional_check_failed", "ConditionalCheckFailedException", 1))
        self.assertEqual((out[3]["kind"], out[3]["http_status"]), ("resource_not_found", 400))
        self.assertEqual(out[4]["kind"], "validation")


class AuthEddyTest(unittest.TestCase):
    """Against Eddy with --auth: the client's SigV4 verifies; a wrong secret
    and a policy's refusal are typed errors, never retried."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="eddy-client-auth-")
        cls.addClassCleanup(cls.tmp.cleanup)
        auth = write_auth_file(os.path.join(cls.tmp.name, "auth.json"), [
            ("tester", ACCESS_KEY, SECRET_KEY, ALLOW_ALL),
            ("reader", READER_KEY, READER_SECRET, READER)])
        cls.server = EddyServer(extra_args=["--auth", auth]).start()
        cls.addClassCleanup(cls.server.stop)
        create_table(cls.server, "Orders")

    def test_signed_with_the_credentials_chain(self):
        """No --key: the standard chain (the test identity in the
        environment) signs, and the server accepts it."""
        out = calls(self.server.endpoint, [put("Orders", "a1"), get("Orders", "a1")])
        self.assertTrue(all(o["ok"] for o in out), out)
        self.assertEqual(out[1]["answer"]["Item"]["id"], {"S": "a1"})

    def test_wrong_secret_is_an_authentication_error(self):
        out = calls(self.server.endpoint, [put("Orders", "a2")],
                    "--key", ACCESS_KEY, "--secret", "not-the-secret")
        self.assertEqual((out[0]["kind"], out[0]["type"], out[0]["attempts"]),
                         ("authentication", "InvalidSignatureException", 1))

    def test_policy_refusal_is_access_denied(self):
        out = calls(self.server.endpoint, [put("Orders", "a3"), get("Orders", "a3")],
                    "--key", READER_KEY, "--secret", READER_SECRET)
        self.assertEqual((out[0]["kind"], out[0]["type"]),
                         ("access_denied", "AccessDeniedException"))
        self.assertIn("dynamodb:PutItem", out[0]["message"])
        self.assertTrue(out[1]["ok"])

    def test_retries_through_a_failing_proxy(self):
        """A 500, a dropped connection and a throttling error in a row: the
        fourth attempt goes through (signed requests stay valid when sent
        again), and is applied once."""
        proxy = FailingProxy(self.server.port)
        self.addCleanup(proxy.close)
        proxy.script = ["500", "drop", "throttle"]
        endpoint = f"http://127.0.0.1:{proxy.port}"
        out = calls(endpoint, [put("Orders", "p1")], "--max-attempts", "4")
        self.assertTrue(out[0]["ok"], out)
        self.assertEqual(proxy.requests, 4)
        item = self.server.client().get_item(TableName="Orders", Key={"id": {"S": "p1"}},
                                             ConsistentRead=True)
        self.assertEqual(item["Item"], {"id": {"S": "p1"}})

    def test_gives_up_after_max_attempts(self):
        proxy = FailingProxy(self.server.port)
        self.addCleanup(proxy.close)
        proxy.script = ["500"] * 5
        out = calls(f"http://127.0.0.1:{proxy.port}", [put("Orders", "p2")],
                    "--max-attempts", "3")
        self.assertEqual((out[0]["kind"], out[0]["attempts"], out[0]["http_status"]),
                         ("server", 3, 500))
        self.assertEqual(proxy.requests, 3)
        item = self.server.client().get_item(TableName="Orders", Key={"id": {"S": "p2"}})
        self.assertNotIn("Item", item)

    def test_one_connection_for_many_calls(self):
        """Keep-alive: ten calls of one client, one connection."""
        proxy = FailingProxy(self.server.port)
        self.addCleanup(proxy.close)
        out = calls(f"http://127.0.0.1:{proxy.port}",
                    [put("Orders", f"k{i}") for i in range(10)])
        self.assertTrue(all(o["ok"] for o in out), out)
        self.assertEqual((proxy.requests, proxy.connections), (10, 1))


if __name__ == "__main__":
    unittest.main()
