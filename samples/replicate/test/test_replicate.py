"""The replicate sample end to end: two real servers, each with a trigger
running libreplicate.so that sends its local writes to the other.

- The README, run verbatim (on free ports instead of 8000 and 8001), shows
  the outputs it says it shows.
- Concurrent writers and deletes on both sides, on the same keys, leave both
  tables with exactly the same items, each the greatest (version, origin)
  written to its key (unless that write was deleted: see assertConverged).
- Replicated writes are not sent back (no ping-pong).
- A peer that is down is retried, not lost: stop B, write to A, start B on
  the same data and port, and B gets every write.
- Requests are signed with SigV4 as DynamoDB checks it (verified by a fake
  endpoint), so the handler works against AWS too.
"""

import http.server
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import unittest
import uuid
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SAMPLE_DIR.parent))

from sample_harness import LIB_DIR, sample_library, shell_blocks, text_blocks  # noqa: E402
from eddy_server import (EddyServer, free_port, item_py,  # noqa: E402
                         sigv4_problem, test_environment, wait_until)
from botocore.exceptions import ClientError  # noqa: E402

README = SAMPLE_DIR / "README.md"
TRIGGER_SUFFIX = "-libreplicate"
# The writers' last-writer-wins condition (README, rule 1).
LWW = ("attribute_not_exists(version) OR version < :v OR "
       "(version = :v AND origin < :o)")


class PeerServer(EddyServer):
    """An Eddy whose replicate triggers send to `peer_port` as origin
    `origin`: the settings are the triggers' environment (--env)."""

    def __init__(self, origin, port, peer_port):
        super().__init__(port=port, extra_args=("--handler-dir", str(LIB_DIR)))
        self.origin = origin
        self.settings = {
            "REPLICATE_TARGET": f"http://127.0.0.1:{peer_port}",
            "REPLICATE_ORIGIN": origin,
            # Signed requests (Eddy accepts any credentials).
            "AWS_ACCESS_KEY_ID": "AKIDREPLICATETEST",
            "AWS_SECRET_ACCESS_KEY": "replicate-test-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def trigger_env(self):
        """The --env options of this side's replicate triggers."""
        return [arg for k, v in self.settings.items() for arg in ("--env", f"{k}={v}")]


def two_free_ports():
    while True:
        a, b = free_port(), free_port()
        if a != b:
            return a, b


class FakeDynamoDb(http.server.ThreadingHTTPServer):
    """An endpoint that checks each request's signature, records it, and
    answers {} (a successful PutItem)."""

    def __init__(self, secret):
        self.secret = secret
        self.requests = []
        super().__init__(("127.0.0.1", 0), self.Handler)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = {"target": headers.get("x-amz-target"),
                       "token": headers.get("x-amz-security-token")}
            try:
                request["body"] = json.loads(body)
                request["problem"] = sigv4_problem(
                    "POST", self.path, headers, body, self.server.secret,
                    region="eu-west-1",
                    required=("host", "x-amz-date", "x-amz-target", "content-type"))
            except Exception:  # noqa: BLE001 - the test reports it
                request["problem"] = traceback.format_exc()
            self.server.requests.append(request)
            reply = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass


class ReplicateSampleTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.library = sample_library("replicate")
        port_a, port_b = two_free_ports()
        cls.a = PeerServer("a", port_a, port_b)
        cls.b = PeerServer("b", port_b, port_a)
        cls.addClassCleanup(cls.a.stop)
        cls.addClassCleanup(cls.b.stop)
        cls.a.require_process()
        cls.a.start()
        cls.b.start()

    # -- verbs -----------------------------------------------------------------

    def eddy(self, server, *args, timeout=300):
        command = [str(server.binary), *args, "--endpoint", server.endpoint]
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL,
                              env=test_environment())
        if done.returncode != 0:
            self.fail(f"{' '.join(command)} exited {done.returncode}:\n"
                      f"{done.stdout}\n{done.stderr}\n"
                      f"--- log of {server.origin} ---\n{server.log_text()[-6000:]}")
        return done.stdout

    def replicated_table(self):
        """A new table on both servers, with a replicate trigger on each."""
        table = f"r-{uuid.uuid4().hex[:10]}"
        for server in (self.a, self.b):
            server.client().create_table(
                TableName=table,
                KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True,
                                     "StreamViewType": "NEW_AND_OLD_IMAGES"})
        for server in (self.a, self.b):
            self.eddy(server, "trigger", "create", "--table", table,
                      "--handler", self.library, *server.trigger_env())
        return table

    def status(self, server, table):
        return json.loads(self.eddy(server, "trigger", "status",
                                    table + TRIGGER_SUFFIX))

    def handled(self, table):
        return tuple(self.status(s, table)["Metrics"]["RecordsHandled"]
                     for s in (self.a, self.b))

    def settle(self, table):
        """Waits for both triggers until a round hands nothing new: what B
        applies makes records on A (skipped or, for a delete, sent back),
        and the other way round. Returns RecordsHandled of (A, B)."""
        before = None
        for _ in range(10):
            for server in (self.a, self.b):
                self.eddy(server, "trigger", "wait", "--table", table,
                          "--timeout", "120", timeout=150)
            now = self.handled(table)
            if now == before:
                return now
            before = now
        self.fail(f"replication of {table} did not settle: {before}")

    @staticmethod
    def items(server, table):
        client = server.client()
        out = {}
        for page in client.get_paginator("scan").paginate(
                TableName=table, ConsistentRead=True):
            for item in page["Items"]:
                out[item["p"]["S"]] = item_py(item)
        return out

    @staticmethod
    def put(client, table, key, version, origin):
        """A writer's PutItem under rule 1. True if it was applied."""
        try:
            client.put_item(
                TableName=table,
                Item={"p": {"S": key}, "version": {"N": str(version)},
                      "origin": {"S": origin},
                      "data": {"S": f"{origin}{version}"}},
                ConditionExpression=LWW,
                ExpressionAttributeValues={":v": {"N": str(version)},
                                           ":o": {"S": origin}})
            return True
        except ClientError as e:
            if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def assertConverged(self, table, puts, deletes, keys):
        """Both sides hold the same items, and for each key: the greatest
        (version, origin) written, W, unless W itself was deleted. Then the
        key is gone, or holds a write made after that delete with a lower
        version (README, rule 1: a re-created item should get a higher
        version; these writers do not know the deleted one). Returns how
        many keys ended each way."""
        on_a, on_b = self.items(self.a, table), self.items(self.b, table)
        self.assertEqual(on_a, on_b)
        outcomes = {"greatest": 0, "deleted": 0, "re-created": 0}
        for key in keys:
            written = [(v, o) for k, v, o in puts if k == key]
            item = on_a.get(key)
            if not written:
                self.assertIsNone(item, key)
                continue
            version, origin = max(written)
            if (key, version, origin) not in deletes:
                self.assertEqual(item, {"p": key, "version": version,
                                        "origin": origin,
                                        "data": f"{origin}{version}"}, key)
                outcomes["greatest"] += 1
            elif item is None:
                outcomes["deleted"] += 1
            else:
                pair = (int(item["version"]), item["origin"])
                self.assertIn(pair, written, key)
                self.assertNotIn((key, *pair), deletes, key)
                self.assertLess(pair, (version, origin), key)
                self.assertEqual(item["data"], f"{pair[1]}{pair[0]}", key)
                outcomes["re-created"] += 1
        return outcomes

    # -- tests -----------------------------------------------------------------

    # The acceptance: two sides written concurrently, on overlapping keys,
    # each side's versions increasing (from one counter per side, so equal
    # versions from both sides happen and origin breaks the tie), with
    # deletes mixed in; then both tables are the same, and each key holds
    # the greatest write (unless that write was deleted: assertConverged).
    def test_concurrent_writes_on_both_sides_converge(self):
        table = self.replicated_table()
        keys = [f"k{i:02d}" for i in range(12)]
        deadline = time.monotonic() + 3.0
        lock = threading.Lock()
        puts, deletes, errors = [], set(), []
        counts = {"rejected": 0}

        def writer(server, counter, seed):
            rng = random.Random(seed)
            client = server.client()
            mine_puts, mine_deletes, rejected = [], [], 0
            try:
                while time.monotonic() < deadline:
                    key = rng.choice(keys)
                    if rng.random() < 0.1:
                        old = client.delete_item(
                            TableName=table, Key={"p": {"S": key}},
                            ReturnValues="ALL_OLD").get("Attributes")
                        if old:
                            mine_deletes.append((key, int(old["version"]["N"]),
                                                 old["origin"]["S"]))
                        continue
                    version = next(counter)
                    if self.put(client, table, key, version, server.origin):
                        mine_puts.append((key, version, server.origin))
                    else:
                        rejected += 1
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            with lock:
                puts.extend(mine_puts)
                deletes.update(mine_deletes)
                counts["rejected"] += rejected

        threads = []
        for server in (self.a, self.b):
            counter = itertools.count(1)  # shared by the side's writers
            for n in range(2):
                threads.append(threading.Thread(
                    target=writer, args=(server, counter, f"{server.origin}{n}")))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.settle(table)
        outcomes = self.assertConverged(table, puts, deletes, keys)

        by_key_version = {}
        for key, version, origin in puts:
            by_key_version.setdefault((key, version), set()).add(origin)
        ties = sum(len(origins) > 1 for origins in by_key_version.values())
        print(f"\n{len(puts)} writes ({ties} on one key with one version from "
              f"both sides), {len(deletes)} deletes, "
              f"{counts['rejected']} writes lost to a newer one; keys: {outcomes}",
              file=sys.stderr)
        self.assertGreater(len(puts), 100)
        self.assertGreater(len(deletes), 0)
        for server in (self.a, self.b):
            self.assertEqual(
                self.status(server, table)["Metrics"]["DeadLettered"], 0)

    # Rule 3: a write that came from the peer is not sent back. One write on
    # A is one record on each side, and nothing more; a delete is one record
    # on each side too (B's echo finds nothing left on A, which makes no
    # record).
    def test_replicated_changes_are_not_sent_back(self):
        table = self.replicated_table()
        client_a, client_b = self.a.client(), self.b.client()
        self.assertTrue(self.put(client_a, table, "x", 1, "a"))
        self.assertEqual(self.settle(table), (1, 1))
        self.assertTrue(self.put(client_b, table, "x", 2, "b"))
        self.assertEqual(self.settle(table), (2, 2))
        client_a.delete_item(TableName=table, Key={"p": {"S": "x"}})
        self.assertEqual(self.settle(table), (3, 3))
        self.assertEqual(self.items(self.a, table), {})
        self.assertEqual(self.items(self.b, table), {})

    # A target that is down is retried, not lost: with B stopped, A's
    # trigger fails and retries (its Errors count grows); B started again on
    # the same data and port gets every write, and nothing is given up.
    def test_peer_down_is_retried_not_lost(self):
        table = self.replicated_table()
        client_a = self.a.client()
        self.assertTrue(self.put(client_a, table, "before", 1, "a"))
        self.settle(table)

        self.b.terminate()
        written = [(f"k{i:02d}", i + 1) for i in range(40)]
        for key, version in written:
            self.assertTrue(self.put(client_a, table, key, version, "a"))
        wait_until(lambda: self.status(self.a, table)["Metrics"]["Retries"] >= 3,
                   timeout=30, interval=0.2, what="A's trigger to retry")
        self.assertEqual(self.status(self.a, table)["Metrics"]["DeadLettered"], 0)
        self.assertIn("not replicated", self.a.log_text())

        self.b.restart()
        self.eddy(self.a, "trigger", "wait", "--table", table, "--timeout", "120",
                  timeout=150)
        on_b = self.items(self.b, table)
        self.assertEqual(sorted(on_b), sorted(["before"] + [k for k, _ in written]))
        for key, version in written:
            self.assertEqual(on_b[key]["version"], version)
            self.assertEqual(on_b[key]["origin"], "a")
        self.settle(table)
        self.assertEqual(self.items(self.a, table), on_b)
        self.assertEqual(self.status(self.a, table)["Metrics"]["DeadLettered"], 0)

    # The same handler works against DynamoDB: its requests carry a valid
    # SigV4 signature for the region and the credentials of the trigger's
    # environment (the session token too, signed), as AWS checks them.
    def test_requests_are_signed_for_dynamodb(self):
        fake = FakeDynamoDb(secret="fake-secret")
        threading.Thread(target=fake.serve_forever, daemon=True).start()
        self.addCleanup(fake.server_close)
        self.addCleanup(fake.shutdown)
        server = PeerServer("c", free_port(), fake.server_address[1])
        server.settings.update({"AWS_ACCESS_KEY_ID": "AKIDFAKE",
                                "AWS_SECRET_ACCESS_KEY": "fake-secret",
                                "AWS_SESSION_TOKEN": "fake-session-token",
                                "AWS_REGION": "eu-west-1"})
        self.addCleanup(server.stop)
        server.start()
        table = f"r-{uuid.uuid4().hex[:10]}"
        client = server.client()
        client.create_table(
            TableName=table, KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.eddy(server, "trigger", "create", "--table", table,
                  "--handler", self.library, *server.trigger_env())
        self.assertTrue(self.put(client, table, "x", 7, "c"))
        client.delete_item(TableName=table, Key={"p": {"S": "x"}})
        self.eddy(server, "trigger", "wait", "--table", table, "--timeout", "60",
                  timeout=90)

        self.assertEqual([r["problem"] for r in fake.requests], [None, None])
        self.assertEqual([r["target"] for r in fake.requests],
                         ["DynamoDB_20120810.PutItem", "DynamoDB_20120810.DeleteItem"])
        self.assertEqual({r["token"] for r in fake.requests}, {"fake-session-token"})
        put, delete = (r["body"] for r in fake.requests)
        self.assertEqual(put["TableName"], table)
        self.assertEqual(put["Item"], {"p": {"S": "x"}, "version": {"N": "7"},
                                       "origin": {"S": "c"}, "data": {"S": "c7"}})
        self.assertEqual(put["ConditionExpression"],
                         "attribute_not_exists(#v) OR #v < :v OR (#v = :v AND #o < :o)")
        self.assertEqual(delete["Key"], {"p": {"S": "x"}})
        self.assertEqual(delete["ConditionExpression"],
                         "attribute_not_exists(#v) OR #v < :v OR (#v = :v AND #o <= :o)")
        for body in (put, delete):
            self.assertEqual(body["ExpressionAttributeNames"],
                             {"#v": "version", "#o": "origin"})
            self.assertEqual(body["ExpressionAttributeValues"],
                             {":v": {"N": "7"}, ":o": {"S": "c"}})

    # The README's commands work verbatim and print what it says they print.
    # It starts its own two servers; here they listen on free ports instead
    # of 8000 and 8001, in a scratch directory laid out like the repository
    # (build/bin/eddy and build/lib of this build; scripts/build a no-op).
    def test_readme_walkthrough(self):
        port_a, port_b = two_free_ports()
        script = "\n".join(shell_blocks(README))
        for old, new in (("127.0.0.1:8000", f"127.0.0.1:{port_a}"),
                         ("127.0.0.1:8001", f"127.0.0.1:{port_b}"),
                         ("--port 8000", f"--port {port_a}"),
                         ("--port 8001", f"--port {port_b}")):
            self.assertIn(old, script)
            script = script.replace(old, new)
        with tempfile.TemporaryDirectory(prefix="eddy-replicate-") as tmp:
            root = Path(tmp)
            (root / "scripts").mkdir()
            (root / "scripts" / "build").write_text(
                "#!/bin/sh\necho 'scripts/build: using the build of the test'\n")
            (root / "scripts" / "build").chmod(0o755)
            (root / "build" / "bin").mkdir(parents=True)
            (root / "build" / "bin" / "eddy").symlink_to(self.a.binary)
            (root / "build" / "lib").symlink_to(LIB_DIR)
            (root / ".home").mkdir()
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "HOME": str(root / ".home"), "AWS_PAGER": "",
                   "AWS_EC2_METADATA_DISABLED": "true", "PS4": "+ "}
            process = subprocess.Popen(
                ["bash", "-x", "-e", "-o", "pipefail", "-c", script], cwd=root,
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL, text=True, start_new_session=True)
            try:
                out, trace = process.communicate(timeout=240)
            finally:
                # The servers the script started, if it stopped half-way.
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()
            if process.returncode != 0:
                logs = "".join(
                    f"--- {name} ---\n{(root / name).read_text()[-4000:]}\n"
                    for name in ("eddy-a.log", "eddy-b.log")
                    if (root / name).exists())
                self.fail(f"README exited {process.returncode}\n--- stdout ---\n"
                          f"{out}\n--- stderr (trace) ---\n{trace}\n{logs}")
        # Every ```text block, in order, is in the output.
        at = 0
        for block in text_blocks(README):
            found = out.find(block, at)
            self.assertNotEqual(found, -1, f"not in the output after "
                                f"position {at}:\n{block}\n--- output ---\n{out}")
            at = found + len(block)


if __name__ == "__main__":
    unittest.main()
