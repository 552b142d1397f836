"""The audit sample end to end: its README run verbatim, then boto3 writes
through real triggers, checked against the tables' streams, with
`eddy-audit verify` on the intact log and on tampered copies."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest
from pathlib import Path

from botocore.exceptions import ClientError

SAMPLE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SAMPLE_DIR.parent))

from sample_harness import (LIB_DIR, SampleTestCase, sample_library,  # noqa: E402
                            text_blocks)
from test_streams import read_stream  # noqa: E402  (tests/compat)

README = SAMPLE_DIR / "README.md"
GENESIS = "0" * 64


def audit_tool():
    path = Path(os.environ.get("EDDY_AUDIT_BIN") or LIB_DIR.parent / "bin" / "eddy-audit")
    if not path.exists():
        raise unittest.SkipTest(f"eddy-audit not built: {path}")
    return str(path)


def canonical_hash(line):
    """The hash rule of audit_entry.h, written independently: SHA-256 of the
    line without its "hash" member."""
    return hashlib.sha256((line[:line.rindex(',"hash":"')] + "}").encode()).hexdigest()


class AuditTestCase(SampleTestCase):
    """A server whose workers write the audit log to self.log_path."""

    @classmethod
    def setUpClass(cls):
        cls.work = cls.scratch("eddy-audit-")
        cls.log_path = Path(cls.work.name) / "audit.jsonl"
        super().setUpClass()
        cls.library = sample_library("audit")
        cls.tool = audit_tool()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.work.cleanup()

    def create_trigger(self, table, handler, *options):
        """Every trigger of these tests writes to self.log_path (its
        workers' environment)."""
        return super().create_trigger(table, handler, *options,
                                      "--env", f"EDDY_AUDIT_LOG={self.log_path}")

    def verify(self, path, *args):
        done = subprocess.run([self.tool, "verify", str(path), *args],
                              capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout + done.stderr

    def lines(self, path=None):
        return Path(path or self.log_path).read_text(encoding="utf-8").splitlines()

    def entries(self, table=None):
        out = [json.loads(line) for line in self.lines()]
        return [e for e in out if table is None or e["table"] == table]

    def assertChainIntact(self):
        """Checks the chain in Python (independently of eddy-audit) and with
        eddy-audit; returns the number of entries."""
        text = self.log_path.read_text(encoding="utf-8")
        self.assertTrue(text.endswith("\n"))
        prev = GENESIS
        lines = text.splitlines()
        for number, line in enumerate(lines, start=1):
            entry = json.loads(line)
            self.assertEqual(entry["entry"], number)
            self.assertEqual(entry["prev"], prev, f"line {number}")
            self.assertEqual(entry["hash"], canonical_hash(line), f"line {number}")
            prev = entry["hash"]
        code, out = self.verify(self.log_path)
        self.assertEqual(code, 0, out)
        self.assertIn(f": {len(lines)} entries, chain intact", out)
        self.assertIn(f"head: entry {len(lines)}, " if lines else "head: none", out)
        return len(lines)

    def assertLoggedExactlyOnce(self, table, ttl_keys=()):
        """Every record of the table's stream has exactly one entry, with its
        who/when/what, in shard order. `ttl_keys`: the keys of the items
        Time To Live deleted (their REMOVE is the service's)."""
        arn = self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        expected = {}
        for shard, records in read_stream(self.streams, arn).items():
            for record in records:
                expected[(shard, record["dynamodb"]["SequenceNumber"])] = record
        entries = self.entries(table)
        logged = [(e["shard"], e["sequenceNumber"]) for e in entries]
        self.assertEqual(len(logged), len(set(logged)), "a record was logged twice")
        self.assertEqual(set(logged), set(expected))
        for e in entries:
            record = expected[(e["shard"], e["sequenceNumber"])]["dynamodb"]
            self.assertEqual(e["eventName"],
                             expected[(e["shard"], e["sequenceNumber"])]["eventName"])
            by_ttl = e["eventName"] == "REMOVE" and e["keys"] in list(ttl_keys)
            self.assertEqual(e["who"], "dynamodb.amazonaws.com" if by_ttl else "unknown")
            self.assertEqual(e["approximateCreationDateTime"],
                             int(record["ApproximateCreationDateTime"].timestamp()))
            self.assertTrue(e["time"].startswith(
                record["ApproximateCreationDateTime"].strftime("%Y-%m-%dT%H:%M:%S")))
            self.assertEqual(e["keys"], record["Keys"])
            self.assertEqual(e.get("oldImage"), record.get("OldImage"))
            self.assertEqual(e.get("newImage"), record.get("NewImage"))
        for shard in {s for s, _ in logged}:
            numbers = [int(q) for s, q in logged if s == shard]
            self.assertEqual(numbers, sorted(numbers), f"order in {shard}")
        return entries

    def stream_table(self, name=None):
        return self.create_table(hash_key=("id", "S"), name=name, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})


class AuditReadmeTest(AuditTestCase):

    # The acceptance: the README's commands, verbatim, log six changes of two
    # tables, verify them, and show the verdicts it prints for a tampered
    # entry, a deleted entry and a cut-off end; a second trigger adds nothing.
    def test_readme_walkthrough(self):
        checkout = self.make_checkout(self.work.name, tools=[self.tool])
        out = self.run_readme(README, checkout)
        self.assertIn("OK: audit.jsonl: 6 entries, chain intact (Accounts 5, Payments 1)",
                      out)
        expected = [line for block in text_blocks(README) for line in block.splitlines()
                    if line.startswith(("BROKEN:", "exit status"))]
        self.assertEqual(len(expected), 6)
        got = [line for line in out.splitlines()
               if line.startswith(("BROKEN:", "exit status"))]
        self.assertEqual(len(got), len(expected), out)
        for want, line in zip(expected, got):
            self.assertRegex(line, "^" + re.escape(want).replace(r"\.\.\.", "[0-9a-f]{64}")
                             + "$")
        self.assertEqual(out.splitlines().count("6"), 2, "wc -l before and after")
        skipped = [re.fullmatch(r"skipped (\d+) records? already in the audit log", line)
                   for line in self.handler_lines("audit")]
        self.assertEqual(sum(int(m.group(1)) for m in skipped if m), 5)
        self.assertEqual(self.assertChainIntact(), 6)
        # Per item, in the order of the README's writes (the triggers of the
        # two tables, and the shards of one, deliver in parallel).
        changes = {}
        for e in self.entries():
            key = e["keys"].get("AccountID", e["keys"].get("PaymentID"))["S"]
            changes.setdefault(key, []).append(
                (e["eventName"], e.get("oldImage", {}).get("Balance"),
                 e.get("newImage", {}).get("Balance")))
        self.assertEqual(changes, {
            "A1": [("INSERT", None, {"N": "100"}),
                   ("MODIFY", {"N": "100"}, {"N": "70"})],
            "A2": [("INSERT", None, {"N": "20"}), ("MODIFY", {"N": "20"}, {"N": "50"}),
                   ("REMOVE", {"N": "50"}, None)],
            "P1": [("INSERT", None, None)]})


class AuditTrailTest(AuditTestCase):

    # Two tables, two triggers, concurrent writers: one chain with every
    # change exactly once, with its keys and images, checked against the
    # streams.
    def test_every_change_logged_once(self):
        tables = [self.stream_table(), self.stream_table()]
        for table in tables:
            self.create_trigger(table, self.library, "--batch-size", "7")
        for table in tables:
            # put_many spreads items over connections by "p", in order per p.
            self.put_many(table, [{"p": f"k{i % 40}", "id": f"k{i % 40}", "v": i}
                                  for i in range(120)])
            for i in range(0, 40, 3):
                self.ddb.update_item(TableName=table, Key={"id": {"S": f"k{i}"}},
                                     UpdateExpression="SET v = v + :one",
                                     ExpressionAttributeValues={":one": {"N": "1"}})
            for i in range(0, 40, 5):
                self.ddb.delete_item(TableName=table, Key={"id": {"S": f"k{i}"}})
        self.wait_triggers()
        for table in tables:
            entries = self.assertLoggedExactlyOnce(table)
            self.assertEqual(len(entries), 120 + 14 + 8)
            self.assertEqual({e["eventName"] for e in entries},
                             {"INSERT", "MODIFY", "REMOVE"})
        self.assertChainIntact()

    # At-least-once delivery: a second trigger on the same table delivers
    # every record again; the log gains nothing. New writes are then logged
    # once although both triggers deliver them.
    def test_redelivery_adds_no_entries(self):
        table = self.stream_table()
        self.create_trigger(table, self.library, "--name", f"{table}-a")
        self.put_many(table, [{"p": "x", "id": f"k{i}"} for i in range(20)])
        self.wait_triggers(table)
        before = self.lines()
        self.create_trigger(table, self.library, "--name", f"{table}-b")
        self.wait_triggers(table)
        self.assertEqual(self.lines(), before)
        self.put_many(table, [{"p": "y", "id": f"k{i}"} for i in range(20, 30)])
        self.wait_triggers(table)
        self.assertEqual(len(self.assertLoggedExactlyOnce(table)), 30)
        self.assertChainIntact()

    # kill -9 of the server (and so of its workers, possibly mid-write)
    # while records are being delivered: after the restart, every record is
    # logged exactly once and the chain is intact.
    def test_kill9_during_delivery(self):
        table = self.stream_table()
        self.create_trigger(table, self.library, "--batch-size", "3")
        self.put_many(table, [{"p": "z", "id": f"k{i}", "v": i} for i in range(300)])
        self.server.kill9()
        self.server.restart()
        self.wait_triggers(table)
        self.assertEqual(len(self.assertLoggedExactlyOnce(table)), 300)
        self.assertChainIntact()

    # Who: a delete made by Time To Live names the service (the record's
    # userIdentity); every other change is "unknown" (Eddy has no principals).
    def test_ttl_delete_names_the_service(self):
        table = self.stream_table()
        try:
            self.ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": "expires"})
        except ClientError as e:
            self.skipTest(f"no Time To Live in this build: {e}")
        self.create_trigger(table, self.library)
        self.put(table, {"id": "expired", "expires": int(time.time()) - 3600})
        self.put(table, {"id": "kept"})
        if self.eddy("ttl", "sweep", "--table", table, check=False).returncode != 0:
            self.skipTest("no `eddy ttl sweep` in this build")
        self.wait_triggers(table)
        entries = self.assertLoggedExactlyOnce(table, ttl_keys=[{"id": {"S": "expired"}}])
        # (The two items may sit in different shards: no order between them.)
        self.assertEqual(sorted((e["eventName"], e["keys"]["id"]["S"], e["who"])
                                for e in entries),
                         [("INSERT", "expired", "unknown"), ("INSERT", "kept", "unknown"),
                          ("REMOVE", "expired", "dynamodb.amazonaws.com")])
        for e in entries:
            self.assertEqual(e.get("userIdentity"), {
                "type": "Service", "principalId": "dynamodb.amazonaws.com"}
                if e["eventName"] == "REMOVE" else None)
        self.assertChainIntact()

    # eddy-audit verify names the first broken line and why: an altered
    # value, an altered entry whose hash was recomputed, a deleted entry, a
    # torn last line, and (with --anchor) entries cut off the end.
    def test_verify_names_the_first_broken_entry(self):
        table = self.stream_table()
        self.create_trigger(table, self.library)
        self.put_many(table, [{"p": "t", "id": f"k{i}", "v": 1000 + i} for i in range(6)])
        self.wait_triggers(table)
        total = self.assertChainIntact()
        lines = self.lines()
        middle = total // 2
        copy = Path(self.work.name) / "copy.jsonl"

        def check(mutated, message, *args):
            copy.write_text("".join(line + "\n" for line in mutated))
            code, out = self.verify(copy, *args)
            self.assertEqual(code, 1, out)
            self.assertEqual(out, f"BROKEN: {copy}: {message}\n")

        altered = list(lines)
        altered[middle - 1] = altered[middle - 1].replace('"id":{"S":"k', '"id":{"S":"K', 1)
        self.assertNotEqual(altered, lines)
        check(altered, f"line {middle}: entry {middle} was altered: its content "
                       "does not match its hash")

        rehashed = list(altered)
        line = rehashed[middle - 1]
        rehashed[middle - 1] = line[:-66] + canonical_hash(line) + '"}'
        check(rehashed, f"line {middle + 1}: entry {middle + 1}'s prev is not the hash "
                        f"of line {middle}: entries were reordered, or the one before "
                        "it was replaced")

        check(lines[:middle - 1] + lines[middle:],
              f"line {middle}: entry {middle + 1} follows entry {middle - 1}: "
              f"entry {middle} is missing (deleted)")
        check(lines[:middle - 1] + lines[middle + 1:],
              f"line {middle}: entry {middle + 2} follows entry {middle - 1}: "
              f"entries {middle} to {middle + 1} are missing (deleted)")
        check(lines[1:], "line 1: entry 2 does not start the chain (its prev is not "
                         "the genesis hash): entry 1 is missing")

        copy.write_text("".join(line + "\n" for line in lines)[:-10])
        code, out = self.verify(copy)
        self.assertEqual((code, out), (1, f"BROKEN: {copy}: line {total}: incomplete "
                                          "entry (no newline at the end): a write was "
                                          "cut short\n"))

        head = json.loads(lines[-1])["hash"]
        check(lines[:-2], f"no entry has the anchor hash {head}: entries were removed "
                          "from the end, or the log was rewritten", "--anchor", head)
        shutil.copy(self.log_path, copy)
        code, out = self.verify(copy, "--anchor", head)
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
