"""The AWS CLI reads a table's stream: `aws dynamodbstreams list-streams`,
`describe-stream`, `get-shard-iterator` and `get-records` against Eddy see the
records of writes made with `aws dynamodb put-item / update-item /
delete-item`, signed with the test identity."""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import unittest
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import ACCESS_KEY, SECRET_KEY, EddyServer  # noqa: E402

SHARD_ID = re.compile(r"^shardId-\d{20}-[0-9a-f]{8}$")


class StreamCliIntegrationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = EddyServer().start()
        cls.home = tempfile.TemporaryDirectory(prefix="eddy-cli-home-")
        cls.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": cls.home.name,  # no user config or credentials files
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_DEFAULT_OUTPUT": "json",
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",  # a server error must fail the test, not be retried
        }

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.home.cleanup()

    def run_aws(self, *args):
        command = ["aws", *args, "--endpoint-url", self.server.endpoint]
        return subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=60)

    def aws(self, *args):
        """Run one CLI command; return its parsed JSON output."""
        done = self.run_aws(*args)
        self.assertEqual(done.returncode, 0, f"{shlex.join(args)}\nstdout: {done.stdout}\n"
                                             f"stderr: {done.stderr}")
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def create_table(self, *extra):
        name = f"cli-{uuid.uuid4().hex[:10]}"
        created = self.aws("dynamodb", "create-table", "--table-name", name,
                           "--attribute-definitions", "AttributeName=id,AttributeType=S",
                           "--key-schema", "AttributeName=id,KeyType=HASH",
                           "--billing-mode", "PAY_PER_REQUEST", *extra)
        if created["TableDescription"]["TableStatus"] != "ACTIVE":
            self.aws("dynamodb", "wait", "table-exists", "--table-name", name)
        return name, created["TableDescription"]

    def put(self, table, item):
        self.aws("dynamodb", "put-item", "--table-name", table, "--item", json.dumps(item))

    def records_of(self, key):
        return [r for records in self.by_shard.values() for r in records
                if r["dynamodb"]["Keys"] == {"id": {"S": key}}]

    # Each CLI call starts a Python process (1-3 s here), so the walkthrough
    # runs once, in the first test that needs it, and the others reuse it.
    def need_walkthrough(self):
        cls = type(self)
        if getattr(cls, "walkthrough_failed", None):
            self.fail(f"the CLI walkthrough failed: {cls.walkthrough_failed}")
        if not hasattr(cls, "by_shard"):
            cls.walkthrough_failed = "(see the first test's failure)"
            self.walkthrough()
            cls.walkthrough_failed = None

    def walkthrough(self):
        """A table with a NEW_AND_OLD_IMAGES stream, written and read with the CLI:
        list-streams, describe-stream, and for every shard get-shard-iterator
        TRIM_HORIZON and get-records."""
        cls = type(self)
        cls.table, _ = self.create_table("--stream-specification",
                                         "StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES")
        self.put(cls.table, {"id": {"S": "a"}, "v": {"N": "1"}})
        self.put(cls.table, {"id": {"S": "b"}, "v": {"S": "other"}})
        self.put(cls.table, {"id": {"S": "a"}, "v": {"N": "2"}})
        self.aws("dynamodb", "update-item", "--table-name", cls.table,
                 "--key", '{"id":{"S":"a"}}', "--update-expression", "SET v = :v",
                 "--expression-attribute-values", '{":v":{"N":"3"}}')
        self.aws("dynamodb", "delete-item", "--table-name", cls.table,
                 "--key", '{"id":{"S":"a"}}')
        cls.listed = self.aws("dynamodbstreams", "list-streams",
                              "--table-name", cls.table)["Streams"]
        self.assertEqual(len(cls.listed), 1, cls.listed)
        cls.arn = cls.listed[0]["StreamArn"]
        cls.description = self.aws("dynamodbstreams", "describe-stream",
                                   "--stream-arn", cls.arn)["StreamDescription"]
        by_shard = {}
        for shard in cls.description["Shards"]:
            iterator = self.aws("dynamodbstreams", "get-shard-iterator", "--stream-arn", cls.arn,
                                "--shard-id", shard["ShardId"],
                                "--shard-iterator-type", "TRIM_HORIZON")["ShardIterator"]
            page = self.aws("dynamodbstreams", "get-records", "--shard-iterator", iterator,
                            "--limit", "1000")
            self.assertIn("NextShardIterator", page)
            by_shard[shard["ShardId"]] = page["Records"]
        cls.by_shard = by_shard

    def test_list_and_describe_stream(self):
        """list-streams --table-name and describe-stream show the table's stream."""
        self.need_walkthrough()
        self.assertEqual(self.listed[0]["TableName"], self.table)
        described = self.aws("dynamodb", "describe-table", "--table-name", self.table)["Table"]
        self.assertEqual(self.arn, described["LatestStreamArn"])
        self.assertEqual(self.description["StreamArn"], self.arn)
        self.assertEqual(self.description["StreamStatus"], "ENABLED")
        self.assertEqual(self.description["StreamViewType"], "NEW_AND_OLD_IMAGES")
        self.assertEqual(self.description["TableName"], self.table)
        self.assertGreaterEqual(len(self.description["Shards"]), 1)
        for shard in self.description["Shards"]:
            self.assertRegex(shard["ShardId"], SHARD_ID)

    def test_get_records_shows_cli_writes(self):
        """put-item, put-item over it, update-item and delete-item read back as
        INSERT, MODIFY, MODIFY, REMOVE with both images; the other item as INSERT."""
        self.need_walkthrough()
        a, b = self.records_of("a"), self.records_of("b")
        self.assertEqual([r["eventName"] for r in a], ["INSERT", "MODIFY", "MODIFY", "REMOVE"])
        self.assertEqual([r["eventName"] for r in b], ["INSERT"])
        self.assertEqual(b[0]["dynamodb"]["NewImage"], {"id": {"S": "b"}, "v": {"S": "other"}})
        v = [({k: i[k]["v"] for k in ("NewImage", "OldImage") if k in i})
             for i in (r["dynamodb"] for r in a)]
        self.assertEqual(v, [{"NewImage": {"N": "1"}},
                             {"NewImage": {"N": "2"}, "OldImage": {"N": "1"}},
                             {"NewImage": {"N": "3"}, "OldImage": {"N": "2"}},
                             {"OldImage": {"N": "3"}}])
        for record in a + b:
            self.assertEqual(record["eventSource"], "aws:dynamodb")
            self.assertEqual(record["eventVersion"], "1.1")
            self.assertEqual(record["awsRegion"], "us-east-1")
            self.assertEqual(record["dynamodb"]["StreamViewType"], "NEW_AND_OLD_IMAGES")
            self.assertGreater(record["dynamodb"]["SizeBytes"], 0)
        numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in a]
        self.assertEqual(numbers, sorted(set(numbers)), "sequence numbers do not increase")

    def test_sequence_number_iterators(self):
        """get-shard-iterator AT_SEQUENCE_NUMBER / AFTER_SEQUENCE_NUMBER with
        --sequence-number start at / right after that record."""
        self.need_walkthrough()
        records = self.records_of("a")
        shard_id, = [s for s, rs in self.by_shard.items() if records[0] in rs]
        middle = records[1]["dynamodb"]["SequenceNumber"]
        for kind, expected in (("AT_SEQUENCE_NUMBER", records[1:]),
                               ("AFTER_SEQUENCE_NUMBER", records[2:])):
            with self.subTest(kind=kind):
                iterator = self.aws("dynamodbstreams", "get-shard-iterator",
                                    "--stream-arn", self.arn, "--shard-id", shard_id,
                                    "--shard-iterator-type", kind,
                                    "--sequence-number", middle)["ShardIterator"]
                page = self.aws("dynamodbstreams", "get-records", "--shard-iterator", iterator,
                                "--limit", "1000")
                got = [r["dynamodb"]["SequenceNumber"] for r in page["Records"]
                       if r["dynamodb"]["Keys"] == {"id": {"S": "a"}}]
                self.assertEqual(got, [r["dynamodb"]["SequenceNumber"] for r in expected])
                self.assertEqual(page["Records"][0], expected[0])

    def test_update_table_enables_stream(self):
        """`aws dynamodb update-table --stream-specification` enables a stream that
        `aws dynamodbstreams list-streams` then lists."""
        table, _ = self.create_table()
        updated = self.aws("dynamodb", "update-table", "--table-name", table,
                           "--stream-specification",
                           "StreamEnabled=true,StreamViewType=NEW_IMAGE")["TableDescription"]
        self.assertEqual(updated["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        listed = self.aws("dynamodbstreams", "list-streams", "--table-name", table)["Streams"]
        self.assertEqual([s["StreamArn"] for s in listed], [updated["LatestStreamArn"]])

    def test_unknown_stream_fails(self):
        """describe-stream of a stream that does not exist fails with
        ResourceNotFoundException and a non-zero exit code."""
        arn = ("arn:aws:dynamodb:us-east-1:000000000000:table/no-such-table/stream/"
               "2001-01-01T00:00:00.000")
        done = self.run_aws("dynamodbstreams", "describe-stream", "--stream-arn", arn)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("ResourceNotFoundException", done.stderr)


if __name__ == "__main__":
    unittest.main()
