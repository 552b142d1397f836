"""`eddy stream tail` prints a table's stream records as JSON lines, and a
short --stream-retention trims old records (TrimmedDataAccessException)."""

import json
import os
import subprocess
import sys
import time
import unittest
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import EddyServer, test_environment, wait_until  # noqa: E402


def create_streamed_table(ddb):
    name = f"tail-{uuid.uuid4().hex[:10]}"
    ddb.create_table(TableName=name,
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST",
                     StreamSpecification={"StreamEnabled": True,
                                          "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return name


class StreamTailTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = EddyServer().start()
        cls.ddb = cls.server.client("dynamodb")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def tail(self, table, *args):
        return [self.server.binary, "stream", "tail", table,
                "--endpoint", self.server.endpoint, *args]

    def test_trim_horizon_prints_existing_records_as_json_lines(self):
        """--from trim-horizon prints every record so far, one JSON object a line."""
        table = create_streamed_table(self.ddb)
        self.ddb.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"N": "1"}})
        self.ddb.put_item(TableName=table, Item={"id": {"S": "a"}, "v": {"N": "2"}})
        self.ddb.delete_item(TableName=table, Key={"id": {"S": "a"}})
        done = subprocess.run(self.tail(table, "--from", "trim-horizon", "--no-follow"),
                              capture_output=True, text=True, timeout=30,
                              env=test_environment())
        self.assertEqual(done.returncode, 0, done.stderr)
        records = [json.loads(line) for line in done.stdout.splitlines()]
        self.assertEqual([r["eventName"] for r in records], ["INSERT", "MODIFY", "REMOVE"])
        self.assertEqual(records[1]["dynamodb"]["NewImage"]["v"], {"N": "2"})

    def test_follow_prints_records_as_they_commit(self):
        """Without --no-follow the tail keeps running and shows later writes."""
        table = create_streamed_table(self.ddb)
        self.ddb.put_item(TableName=table, Item={"id": {"S": "old"}})
        proc = subprocess.Popen(self.tail(table, "--from", "latest", "-n", "2"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=test_environment())
        written = []
        try:
            # The tail reads from LATEST once it has its iterators, which this
            # test cannot observe; so keep writing fresh items until it has
            # printed two records.
            deadline = time.monotonic() + 30
            while proc.poll() is None and time.monotonic() < deadline:
                key = f"new{len(written)}"
                self.ddb.put_item(TableName=table, Item={"id": {"S": key}})
                written.append(key)
                time.sleep(0.05)
            out, err = proc.communicate(timeout=5)
        finally:
            if proc.poll() is None:
                proc.kill()
        self.assertEqual(proc.returncode, 0, err)
        keys = [json.loads(line)["dynamodb"]["Keys"]["id"]["S"] for line in out.splitlines()]
        self.assertEqual(len(keys), 2)
        # Only later writes, in the order they were made (one item each, so
        # possibly different shards: compare as a set plus membership).
        self.assertTrue(set(keys) <= set(written), keys)
        self.assertNotIn("old", keys)

    def test_table_without_stream_is_an_error(self):
        """Tailing a table without a stream fails with a clear message."""
        name = f"plain-{uuid.uuid4().hex[:10]}"
        self.ddb.create_table(TableName=name,
                              KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "id",
                                                     "AttributeType": "S"}],
                              BillingMode="PAY_PER_REQUEST")
        done = subprocess.run(self.tail(name), capture_output=True, text=True, timeout=30,
                              env=test_environment())
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("has no enabled stream", done.stderr)


class StreamTailManyShardsTest(unittest.TestCase):
    """A stream of more shards than one DescribeStream page (100): the tail
    pages through them all."""

    def test_tail_reads_every_shard(self):
        server = EddyServer(extra_args=("--stream-shards", "150")).start()
        try:
            ddb = server.client("dynamodb")
            table = create_streamed_table(ddb)
            keys = {f"k{n}" for n in range(300)}
            for key in sorted(keys):
                ddb.put_item(TableName=table, Item={"id": {"S": key}})
            done = subprocess.run(
                [server.binary, "stream", "tail", table, "--endpoint", server.endpoint,
                 "--from", "trim-horizon", "--no-follow"],
                capture_output=True, text=True, timeout=120)
            self.assertEqual(done.returncode, 0, done.stderr)
            got = [json.loads(line)["dynamodb"]["Keys"]["id"]["S"]
                   for line in done.stdout.splitlines()]
            self.assertEqual(sorted(got), sorted(keys))
        finally:
            server.stop()


class StreamRetentionTest(unittest.TestCase):
    """Records older than --stream-retention are trimmed in the background."""

    def test_trimmed_records_give_trimmed_data_access(self):
        server = EddyServer(extra_args=("--stream-retention", "1s")).start()
        try:
            ddb = server.client("dynamodb")
            streams = server.client("dynamodbstreams")
            table = create_streamed_table(ddb)
            # Segments are trimmed whole; one record per write, then wait
            # until the shard's first sequence moves past them.
            ddb.put_item(TableName=table, Item={"id": {"S": "a"}})
            arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
            shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
            iterators = [streams.get_shard_iterator(
                StreamArn=arn, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON")
                ["ShardIterator"] for s in shards]

            def trimmed():
                for it in iterators:
                    try:
                        streams.get_records(ShardIterator=it)
                    except streams.exceptions.TrimmedDataAccessException:
                        return True
                return False
            wait_until(trimmed, timeout=15, interval=0.2, what="records trimmed")
        finally:
            server.stop()


if __name__ == "__main__":
    unittest.main()
