"""Overload: requests beyond what an event loop takes on at once
(--max-inflight) and connections beyond --max-connections get HTTP 503 with
a DynamoDB ThrottlingException at once, instead of waiting behind the
others; the AWS SDKs retry that, so clients still succeed, only later."""

import json
import os
import socket
import sys
import threading
import time
import unittest
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import EddyServer, wait_until  # noqa: E402

TABLE = "Overload"


def read_response(sock, buffer):
    """Reads one HTTP response from `sock` (bytes left over stay in
    `buffer`, a bytearray); returns (status, headers, body) or None at EOF."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    del buffer[:len(head) + 4]
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(buffer) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    body = bytes(buffer[:length])
    del buffer[:length]
    return status, headers, body


@unittest.skipIf(os.environ.get("EDDY_ENDPOINT"), "needs its own server process")
class OverloadIntegrationTest(unittest.TestCase):
    def start_server(self, *args):
        server = EddyServer(extra_args=["--threads", "1", *args])
        server.start()
        self.addCleanup(server.stop)
        client = server.client()
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST")
        client.close()  # Its pooled connection would count against the cap.
        return server

    def raw_request(self, server, target, payload):
        body = json.dumps(payload).encode()
        headers = server.signed_headers(f"DynamoDB_20120810.{target}", body)
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return (f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n{head}"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    def connect(self, server):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        self.addCleanup(sock.close)
        return sock

    def throttled(self, server):
        for line in server.metrics().splitlines():
            if line.startswith("eddy_requests_throttled_total "):
                return int(line.split()[1])
        self.fail("no eddy_requests_throttled_total in /metrics")

    def test_burst_beyond_inflight_limit_is_throttled_at_once(self):
        """Requests arriving together beyond --max-inflight are answered 503
        ThrottlingException (DynamoDB's JSON error, with its CRC) without being
        run, and the connection stays open for the retry."""
        server = self.start_server("--max-inflight", "2")
        sock = self.connect(server)
        burst = b"".join(
            self.raw_request(server, "PutItem",
                             {"TableName": TABLE, "Item": {"pk": {"S": f"k{i}"}}})
            for i in range(6))
        sock.sendall(burst)  # One write: one read, one turn of the loop.
        buffer = bytearray()
        answers = [read_response(sock, buffer) for _ in range(6)]
        self.assertNotIn(None, answers)
        self.assertEqual([status for status, _, _ in answers],
                         [200, 200, 503, 503, 503, 503])
        for status, headers, body in answers[2:]:
            error = json.loads(body)
            self.assertEqual(error["__type"],
                             "com.amazon.coral.availability#ThrottlingException")
            self.assertIn("retry", error["message"])
            self.assertEqual(headers["content-type"], "application/x-amz-json-1.0")
            self.assertEqual(int(headers["x-amz-crc32"]), zlib.crc32(body))
            self.assertEqual(headers["connection"], "keep-alive")
        # Only the two admitted puts ran.
        client = server.client()
        self.assertEqual(client.scan(TableName=TABLE, Select="COUNT")["Count"], 2)
        self.assertEqual(self.throttled(server), 4)
        # The connection takes the retry.
        sock.sendall(self.raw_request(
            server, "PutItem", {"TableName": TABLE, "Item": {"pk": {"S": "k2"}}}))
        self.assertEqual(read_response(sock, buffer)[0], 200)
        # The first shed request is logged at once (later ones every 10 s).
        wait_until(lambda: "overloaded: 1 request(s) answered 503" in server.log_text(),
                   timeout=10, what="the overload warning in the log")

    def test_boto3_standard_retry_mode_retries_to_success(self):
        """Under a flood that keeps a one-request-at-once server overloaded,
        boto3's standard retry mode retries the ThrottlingExceptions and every
        put succeeds."""
        server = self.start_server("--max-inflight", "1")
        stop = threading.Event()

        def flood():
            # Bursts of pipelined reads keep every turn of the loop full.
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            burst = b"".join(
                self.raw_request(server, "GetItem",
                                 {"TableName": TABLE, "Key": {"pk": {"S": "x"}}})
                for _ in range(4))
            buffer = bytearray()
            with sock:
                while not stop.is_set():
                    sock.sendall(burst)
                    for _ in range(4):
                        if read_response(sock, buffer) is None:
                            return

        flooder = threading.Thread(target=flood, daemon=True)
        flooder.start()
        self.addCleanup(flooder.join, 30)
        self.addCleanup(stop.set)

        retries = []
        failures = []
        done = threading.Event()
        deadline = time.monotonic() + 90

        def writer(n):
            # Puts until at least 40 succeeded and one of them was throttled
            # and retried: whether a given put meets the flood is chance, so
            # the test writes until it has seen it (or the deadline fails it).
            client = server.client(max_attempts=10)
            i = 0
            while not done.is_set() and time.monotonic() < deadline:
                try:
                    response = client.put_item(
                        TableName=TABLE, Item={"pk": {"S": f"w{n}-{i}"}})
                    retries.append(response["ResponseMetadata"]["RetryAttempts"])
                except Exception as e:  # noqa: BLE001 - reported below
                    failures.append(repr(e))
                    return
                i += 1
                if len(retries) >= 40 and sum(retries) > 0:
                    done.set()

        writers = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in writers:
            t.start()
        for t in writers:
            t.join(timeout=120)
        stop.set()
        self.assertEqual(failures, [])
        self.assertGreaterEqual(len(retries), 40)
        self.assertGreater(sum(retries), 0, "no put was throttled and retried")
        self.assertGreater(self.throttled(server), 0)
        client = server.client()
        self.assertEqual(client.scan(TableName=TABLE, Select="COUNT")["Count"],
                         len(retries))

    def test_connections_beyond_the_cap_get_throttling_exception(self):
        """A connection beyond --max-connections is answered 503
        ThrottlingException with `Connection: close` and closed; the open ones
        keep working."""
        server = self.start_server("--max-connections", "2")
        get = self.raw_request(server, "GetItem",
                               {"TableName": TABLE, "Key": {"pk": {"S": "a"}}})

        def served_connection():
            # The set-up's connections may still be closing on the server's
            # side (they count until it sees their EOF): poll for a fresh one.
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.sendall(get)
            response = read_response(sock, bytearray())
            if response is not None and response[0] == 200:
                self.addCleanup(sock.close)
                return sock
            sock.close()
            return None

        first = wait_until(served_connection, timeout=10, what="a first connection")
        second = wait_until(served_connection, timeout=10, what="a second connection")
        third = self.connect(server)
        third.sendall(get)
        status, headers, body = read_response(third, bytearray())
        self.assertEqual(status, 503)
        self.assertEqual(headers["connection"], "close")
        self.assertTrue(json.loads(body)["__type"].endswith("#ThrottlingException"))
        self.assertEqual(third.recv(1), b"")  # Closed.
        for sock in (first, second):
            sock.sendall(get)
            self.assertEqual(read_response(sock, bytearray())[0], 200)
        wait_until(lambda: "connection limit (2) reached" in server.log_text(),
                   timeout=10, what="the connection-limit warning in the log")

    def test_open_file_limit_is_shared_between_tables_and_connections(self):
        """Under `ulimit -n 1024` (soft and hard) LevelDB keeps at most 796
        table files open and the server takes at most 64 connections: with
        the 100 descriptors for the rest, the limit, which LevelDB's own 1000
        and the connections could otherwise exhaust between them. Both are
        said at start-up, and the server serves."""

        class LimitedServer(EddyServer):
            def command(self):
                return ["prlimit", "--nofile=1024:1024", "--",
                        *super().command()]

        server = LimitedServer(extra_args=["--threads", "1"])
        server.start()
        self.addCleanup(server.stop)
        with open(f"/proc/{server.process.pid}/limits") as f:
            self.assertRegex(f.read(), r"Max open files\s+1024\s+1024")
        log = server.log_text()
        self.assertIn("the open-file limit (1024) leaves room for 796 table "
                      "files open at once, not 1000", log)
        self.assertIn("--max-connections 10000 is more than the open-file "
                      "limit (1024) leaves room for; using 64", log)
        client = server.client()
        self.addCleanup(client.close)
        client.create_table(
            TableName=TABLE,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST")
        client.put_item(TableName=TABLE, Item={"pk": {"S": "a"}})
        self.assertEqual(
            client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}})["Item"],
            {"pk": {"S": "a"}})

    def test_idle_connections_are_closed(self):
        """A connection that sends nothing for --idle-timeout is closed by the
        server (it holds a descriptor and memory), and the server goes on
        serving new ones."""
        server = self.start_server("--idle-timeout", "300ms")
        idle = self.connect(server)
        self.assertEqual(idle.recv(1), b"")  # Blocks until the server closes it.
        fresh = self.connect(server)
        fresh.sendall(self.raw_request(
            server, "GetItem", {"TableName": TABLE, "Key": {"pk": {"S": "a"}}}))
        self.assertEqual(read_response(fresh, bytearray())[0], 200)

if __name__ == "__main__":
    unittest.main()
