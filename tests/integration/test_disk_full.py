"""A full disk, for real: the server's data directory on a small tmpfs.

The test mounts a 16 MB tmpfs (it runs as root, here and in CI), starts the
real server on it with a NEW_AND_OLD_IMAGES table, TTL enabled and a
trigger, runs the put/update/delete load of test_stream_crash, and fills the
rest of the file system with a ballast file. Then:
  - writes fail with InternalServerError (HTTP 500), and keep failing while
    the disk stays full; reads, DescribeTable and the stream go on;
  - the ballast is removed and, without a restart, writes succeed again
    within seconds (the store reopens LevelDB and redoes what the failed
    writes left by itself);
  - items whose TTL expired while the disk was full are deleted by the
    sweeper afterwards, each with one REMOVE record;
  - every acknowledged write is in the table and in the stream exactly
    once, the stream folds to the table, and the trigger handled every
    record — and all of it holds again after a restart.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eddy_server import EddyServer, wait_until  # noqa: E402
from test_stream_crash import (TABLE, WRITERS, Load, Writes,  # noqa: E402
                               check_stream_accounts_for_writes)
from test_streams import read_stream  # noqa: E402
from trigger_harness import built_handler, install_library  # noqa: E402

TMPFS_BYTES = 16 << 20


class DiskFullIntegrationTest(unittest.TestCase):
    def setUp(self):
        self.mount_point = tempfile.mkdtemp(prefix="eddy-disk-full-")
        self.addCleanup(os.rmdir, self.mount_point)
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs",
             self.mount_point], capture_output=True, text=True)
        if mounted.returncode != 0:
            self.fail("this test mounts a small tmpfs and needs root (as in "
                      f"CI): {mounted.stderr.strip()}")
        self.addCleanup(subprocess.run, ["umount", "-l", self.mount_point],
                        check=False)
        handler_dir = Path(tempfile.mkdtemp(prefix="eddy-handlers-"))
        handler_dir.chmod(0o755)
        self.handler = install_library(built_handler("ok"), handler_dir)
        self.server = EddyServer(
            data_dir=os.path.join(self.mount_point, "data"),
            extra_args=["--handler-dir", str(handler_dir), "--ttl-interval", "1"])
        self.server.require_process()
        self.server.start()
        self.addCleanup(self.server.stop)
        self.client = self.server.client()
        self.streams = self.server.client("dynamodbstreams")
        self.client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.client.update_time_to_live(
            TableName=TABLE, TimeToLiveSpecification={"Enabled": True,
                                                      "AttributeName": "expires"})
        self.eddy("trigger", "create", "--table", TABLE, "--handler", self.handler)

    def eddy(self, *args, timeout=300):
        command = [str(self.server.binary), *args, "--endpoint", self.server.endpoint]
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=timeout, stdin=subprocess.DEVNULL)
        self.assertEqual(result.returncode, 0,
                         f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}")
        return result

    def fill(self):
        """Writes a ballast file until the tmpfs is full; returns its path."""
        path = os.path.join(self.mount_point, "ballast")
        chunk = b"\0" * (64 << 10)
        with open(path, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(chunk)
            except OSError:
                pass
            # The last bytes, one page at a time.
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
        return path

    def handled_event_ids(self):
        """eventIDs of the records the `ok` handler logged (trigger_harness)."""
        marker = ":table/" + TABLE + "/stream/"
        ids = []
        for line in self.server.log_text().splitlines():
            if "[handler " not in line or marker not in line:
                continue
            start = line.find("] {", line.find("[handler "))
            ids.append(json.loads(line[start + 2:])["eventID"])
        return ids

    def test_writes_fail_while_the_disk_is_full_and_resume_without_restart(self):
        seed = int(os.environ.get("EDDY_TEST_SEED", time.time_ns() % 1_000_000))
        writes = Writes()
        clients = [self.server.client() for _ in range(WRITERS)]
        with Load(clients, writes, 0, seed) as load:
            wait_until(lambda: load.acked >= 300, timeout=60, what="300 writes")
            # Items that expire while the disk is full.
            expires = int(time.time()) + 2
            for i in range(5):
                w = f"ttl-{i}"
                with writes.lock:
                    writes.sent.add(w)
                self.client.put_item(TableName=TABLE, Item={
                    "p": {"S": w}, "w": {"S": w}, "expires": {"N": str(expires)}})
            unanswered = writes.unanswered
            ballast = self.fill()

            # Writes fail while the disk is full, as InternalServerError.
            wait_until(lambda: writes.unanswered >= unanswered + 40, timeout=60,
                       what="writes failing on the full disk")
            with self.assertRaises(ClientError) as failed:
                self.client.put_item(TableName=TABLE,
                                     Item={"p": {"S": "probe"}, "w": {"S": "probe"}})
            error = failed.exception.response
            self.assertEqual(error["Error"]["Code"], "InternalServerError")
            self.assertEqual(error["ResponseMetadata"]["HTTPStatusCode"], 500)
            with writes.lock:
                writes.sent.add("probe")  # Its outcome is unknown.
            # ... and keep failing: nothing is acknowledged for a while.
            acked = load.acked
            time.sleep(1.0)  # A span of time is what is being tested here.
            self.assertLessEqual(load.acked - acked, 1, "writes succeed on a full disk")
            # Reads, the table's description and the stream go on.
            self.assertEqual(self.client.describe_table(TableName=TABLE)["Table"]
                             ["TableStatus"], "ACTIVE")
            self.client.scan(TableName=TABLE, Limit=10)
            arn = self.client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
            read_stream(self.streams, arn)
            self.assertIsNone(self.server.process.poll(), "the server died")
            # The TTL items expire meanwhile; the sweeper cannot delete them.
            wait_until(lambda: time.time() > expires + 1.5, timeout=10,
                       what="the TTL items to expire")

            os.remove(ballast)
            freed = time.monotonic()
            acked = load.acked
            wait_until(lambda: load.acked >= acked + 300, timeout=60,
                       what="writes to succeed again after the space was freed")
            print(f"\nwrites resumed {time.monotonic() - freed:.2f} s after the "
                  f"space was freed; {writes.unanswered} writes failed (seed {seed})",
                  file=sys.stderr)

        # The sweeper deletes what expired while the disk was full.
        def ttl_items_gone():
            return all("Item" not in self.client.get_item(
                TableName=TABLE, Key={"p": {"S": f"ttl-{i}"}}, ConsistentRead=True)
                for i in range(5))
        wait_until(ttl_items_gone, timeout=30, what="expired items deleted")

        check_stream_accounts_for_writes(self, self.client, self.streams, writes)
        self.eddy("trigger", "wait", "--timeout", "120", timeout=150)
        stream_ids = [r["eventID"] for records in read_stream(self.streams, arn).values()
                      for r in records]
        handled = self.handled_event_ids()
        self.assertEqual(sorted(set(handled)), sorted(stream_ids),
                         "the trigger did not handle exactly the stream's records")

        self.server.restart()
        check_stream_accounts_for_writes(self, self.client, self.streams, writes)


if __name__ == "__main__":
    unittest.main()
