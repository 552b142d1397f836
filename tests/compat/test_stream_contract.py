"""The contract DynamoDB Streams consumers rely on (issue 13 §1), through
boto3 and the AWS CLI:

- shard ids sort lexically in creation order (the DynamoDB Streams Kinesis
  Adapter requires it), and DescribeStream pages them with Limit (1-100,
  default 100), ExclusiveStartShardId and LastEvaluatedShardId;
- a shard's StartingSequenceNumber is a position for AT_ and
  AFTER_SEQUENCE_NUMBER even while the shard is empty; sequence numbers
  outside the shard's range are refused;
- malformed stream ARNs and shard iterators are ValidationException,
  well-formed ones naming nothing ResourceNotFoundException;
- the four iterator types and NextShardIterator on open, closed and trimmed
  shards; every field of a record for every write path;
- CreateTable index projections without NonKeyAttributes;
- DeleteTable keeps the table's stream readable, DISABLED, for the
  retention period, then it is gone.
"""

import json
import os
import re
import subprocess
import tempfile
import time
import unittest

from eddy_server import (ACCESS_KEY, ACCOUNT_ID, REGION, SECRET_KEY, EddyServer, item_av,
                         item_py, wait_until)
from test_streams import (SEQUENCE, SHARD_ID, StreamTestCase, describe_stream, murmur3_32,
                          read_pages)

EVENT_ID = re.compile(r"^[0-9a-f]{32}$")
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
SERVICE_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}


def forge_iterator(arn, shard_index, position, issued_ms=None):
    """A well-formed shard iterator as the server writes them (stream_format.h),
    naming whatever stream and shard the test wants."""
    issued_ms = issued_ms if issued_ms is not None else int(time.time() * 1000)
    check = murmur3_32(f"{arn}|{shard_index}|{position}|{issued_ms}".encode())
    return f"{arn}|1|{shard_index}.{position}.{issued_ms}.{check}"


def constraint(value, path, text):
    return (f"1 validation error detected: Value '{value}' at '{path}' failed to "
            f"satisfy constraint: {text}")


def eddy_binary():
    from eddy_server import REPO_ROOT
    return os.environ.get("EDDY_BIN") or str(REPO_ROOT / "build" / "bin" / "eddy")


class ContractTestCase(StreamTestCase):
    """StreamTestCase plus the verbs of this file."""

    @classmethod
    def create_table_raw(cls, **params):
        """CreateTable with exactly these parameters; the name once ACTIVE."""
        params.setdefault("TableName", cls.unique_name())
        params.setdefault("BillingMode", "PAY_PER_REQUEST")
        cls.ddb.create_table(**params)
        cls._class_tables.append(params["TableName"])
        cls.wait_for_status(params["TableName"], "ACTIVE")
        return params["TableName"]

    def shards(self, arn, **kw):
        return self.streams.describe_stream(StreamArn=arn, **kw)["StreamDescription"]

    def kinesis_adapter_shard_ids(self, arn):
        """Every shard id, paged the way the DynamoDB Streams Kinesis Adapter
        (KinesisProxy.getShardList) pages: DescribeStream with Limit 1 and
        ExclusiveStartShardId = the last shard seen, until no
        LastEvaluatedShardId comes back."""
        ids, kw = [], {}
        for _ in range(10000):
            page = self.shards(arn, Limit=1, **kw)
            self.assertLessEqual(len(page["Shards"]), 1)
            ids.extend(s["ShardId"] for s in page["Shards"])
            if "LastEvaluatedShardId" not in page:
                return ids
            # Only when more shards follow, and it is the last one returned.
            self.assertEqual(page["LastEvaluatedShardId"], page["Shards"][-1]["ShardId"])
            kw["ExclusiveStartShardId"] = page["LastEvaluatedShardId"]
        raise AssertionError("DescribeStream paging does not end")

    def records_from(self, iterator, until_closed=False):
        pages, last = read_pages(self.streams, iterator, until_closed=until_closed)
        return [r for p in pages for r in p["Records"]], pages, last

    def one_shard_with(self, arn, count):
        """(shard, records) of the only shard holding records; it has `count`."""
        found = []
        for shard in describe_stream(self.streams, arn)["Shards"]:
            records, _, _ = self.records_from(self.iterator(arn, shard["ShardId"]))
            if records:
                found.append((shard, records))
        self.assertEqual(len(found), 1, "expected the records in one shard")
        self.assertEqual(len(found[0][1]), count)
        return found[0]


# -- shard order and DescribeStream paging ---------------------------------------------


class ShardOrderTest(ContractTestCase):
    """Shard ids, their order, and DescribeStream's paging over them."""

    server_args = ("--stream-shards", "6")

    def test_kinesis_adapter_paging_sees_shards_in_creation_order(self):
        """The Kinesis adapter's paging (Limit 1) returns every shard once, in
        lexical order, and lexical order is creation order: the shards of a
        stream created later sort after those of an earlier stream."""
        table = self.create_stream_table()
        first_arn = self.stream_arn(table)
        self.set_stream(table, False)
        self.set_stream(table, True, "NEW_IMAGE")
        second_arn = self.stream_arn(table)
        self.assertNotEqual(first_arn, second_arn)
        first = self.kinesis_adapter_shard_ids(first_arn)
        second = self.kinesis_adapter_shard_ids(second_arn)
        for ids in (first, second):
            self.assertEqual(len(ids), 6)
            self.assertEqual(len(set(ids)), 6)
            self.assertEqual(ids, sorted(ids), "DescribeStream is not in lexical order")
            for shard_id in ids:
                self.assertRegex(shard_id, SHARD_ID)
        # Created later, sorts later.
        self.assertLess(max(first), min(second))
        self.assertEqual(sorted(first + second), first + second)
        # The unpaged answer lists the same shards in the same order.
        self.assertEqual([s["ShardId"] for s in self.shards(second_arn)["Shards"]], second)

    def test_shards_created_together_have_distinct_ids_in_a_fixed_order(self):
        """A stream's shards, created with it, carry its creation time and
        differ in a suffix that fixes their order; the ids do not change."""
        table = self.create_stream_table()
        arn = self.stream_arn(table)
        d = self.shards(arn)
        created_ms = round(d["CreationRequestDateTime"].timestamp() * 1000)
        ids = [s["ShardId"] for s in d["Shards"]]
        self.assertEqual([i.split("-")[1] for i in ids], [f"{created_ms:020d}"] * 6)
        self.assertEqual([i.split("-")[2] for i in ids], [f"{n:08x}" for n in range(6)])
        self.assertEqual([s["ShardId"] for s in self.shards(arn)["Shards"]], ids)

    def test_limit_and_last_evaluated_shard_id(self):
        """Limit n gives n shards and LastEvaluatedShardId only when more follow."""
        arn = self.stream_arn(self.create_stream_table())
        every = [s["ShardId"] for s in self.shards(arn)["Shards"]]
        for limit in (1, 2, 4, 5):
            with self.subTest(limit=limit):
                page = self.shards(arn, Limit=limit)
                self.assertEqual([s["ShardId"] for s in page["Shards"]], every[:limit])
                self.assertEqual(page["LastEvaluatedShardId"], every[limit - 1])
        for limit in (6, 7, 100):
            with self.subTest(limit=limit):
                page = self.shards(arn, Limit=limit)
                self.assertEqual([s["ShardId"] for s in page["Shards"]], every)
                self.assertNotIn("LastEvaluatedShardId", page)
        # From the middle: the rest, without the start shard itself.
        page = self.shards(arn, ExclusiveStartShardId=every[2], Limit=2)
        self.assertEqual([s["ShardId"] for s in page["Shards"]], every[3:5])
        self.assertEqual(page["LastEvaluatedShardId"], every[4])

    def test_starting_after_the_last_shard_gives_an_empty_list(self):
        """ExclusiveStartShardId is compared lexically, as DynamoDB does: after
        the last shard (or any id sorting after every shard) the list is empty
        and has no LastEvaluatedShardId; before the first, it is complete."""
        arn = self.stream_arn(self.create_stream_table())
        every = [s["ShardId"] for s in self.shards(arn)["Shards"]]
        for start in (every[-1], "shardId-99999999999999999999-ffffffff",
                      "zzzzzzzzzzzzzzzzzzzzzzzzsfasdgagadfadfgagkjsdfsfsdjfjks"):
            with self.subTest(start=start):
                page = self.shards(arn, ExclusiveStartShardId=start)
                self.assertEqual(page["Shards"], [])
                self.assertNotIn("LastEvaluatedShardId", page)
        page = self.shards(arn, ExclusiveStartShardId="shardId-00000000000000000000-00000000")
        self.assertEqual([s["ShardId"] for s in page["Shards"]], every)

    def test_limit_out_of_range(self):
        """Limit outside 1-100 and a too short or too long ExclusiveStartShardId
        are refused with DynamoDB's constraint messages."""
        arn = self.stream_arn(self.create_stream_table())
        cases = [
            ({"Limit": 0}, constraint(0, "limit",
                                      "Member must have value greater than or equal to 1")),
            ({"Limit": -5}, constraint(-5, "limit",
                                       "Member must have value greater than or equal to 1")),
            ({"Limit": 101}, constraint(101, "limit",
                                        "Member must have value less than or equal to 100")),
            ({"ExclusiveStartShardId": "shardId-1"},
             constraint("shardId-1", "exclusiveStartShardId",
                        "Member must have length greater than or equal to 28")),
            ({"ExclusiveStartShardId": "s" * 66},
             constraint("s" * 66, "exclusiveStartShardId",
                        "Member must have length less than or equal to 65")),
        ]
        for kw, message in cases:
            with self.subTest(kw=kw):
                with self.assertValidationError(message):
                    self.shards(arn, **kw)
        with self.assertValidationError(
                "2 validation errors detected: Value '0' at 'limit' failed to satisfy "
                "constraint: Member must have value greater than or equal to 1; Value "
                "'shardId-1' at 'exclusiveStartShardId' failed to satisfy constraint: "
                "Member must have length greater than or equal to 28"):
            self.shards(arn, Limit=0, ExclusiveStartShardId="shardId-1")

    def test_shard_ids_survive_a_restart(self):
        """The ids (and so their order) are the same after a restart."""
        arn = self.stream_arn(self.create_stream_table())
        before = self.kinesis_adapter_shard_ids(arn)
        self.server.restart()
        self.assertEqual(self.kinesis_adapter_shard_ids(arn), before)


class DefaultLimitTest(ContractTestCase):
    """DescribeStream's default Limit is 100 shards."""

    server_args = ("--stream-shards", "130")

    def test_default_limit_is_100(self):
        arn = self.stream_arn(self.create_stream_table())
        first = self.shards(arn)
        self.assertEqual(len(first["Shards"]), 100)
        self.assertEqual(first["LastEvaluatedShardId"], first["Shards"][-1]["ShardId"])
        rest = self.shards(arn, ExclusiveStartShardId=first["LastEvaluatedShardId"])
        self.assertEqual(len(rest["Shards"]), 30)
        self.assertNotIn("LastEvaluatedShardId", rest)
        ids = [s["ShardId"] for s in first["Shards"] + rest["Shards"]]
        self.assertEqual(ids, sorted(set(ids)))
        self.assertEqual(self.kinesis_adapter_shard_ids(arn), ids)


class CliPagingTest(ContractTestCase):
    """The AWS CLI pages DescribeStream with --limit and
    --exclusive-start-shard-id like any client."""

    server_args = ("--stream-shards", "3")

    def aws(self, *args):
        with tempfile.TemporaryDirectory(prefix="eddy-cli-home-") as home:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                   "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                   "AWS_DEFAULT_REGION": REGION, "AWS_DEFAULT_OUTPUT": "json",
                   "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true",
                   "AWS_MAX_ATTEMPTS": "1"}
            done = subprocess.run(["aws", *args, "--endpoint-url", self.server.endpoint],
                                  env=env, capture_output=True, text=True, timeout=60)
        return done

    def test_cli_pages_shards_in_order(self):
        arn = self.stream_arn(self.create_stream_table())
        ids, extra = [], []
        for _ in range(10):
            done = self.aws("dynamodbstreams", "describe-stream", "--stream-arn", arn,
                            "--limit", "1", *extra)
            self.assertEqual(done.returncode, 0, done.stderr)
            d = json.loads(done.stdout)["StreamDescription"]
            ids.extend(s["ShardId"] for s in d["Shards"])
            if "LastEvaluatedShardId" not in d:
                break
            extra = ["--exclusive-start-shard-id", d["LastEvaluatedShardId"]]
        self.assertEqual(len(ids), 3)
        self.assertEqual(ids, sorted(ids))
        # Starting after the last shard: an empty list, no LastEvaluatedShardId.
        done = self.aws("dynamodbstreams", "describe-stream", "--stream-arn", arn,
                        "--exclusive-start-shard-id", ids[-1])
        self.assertEqual(done.returncode, 0, done.stderr)
        d = json.loads(done.stdout)["StreamDescription"]
        self.assertEqual(d["Shards"], [])
        self.assertNotIn("LastEvaluatedShardId", d)
        # A shard's StartingSequenceNumber is a position while it is empty.
        done = self.aws("dynamodbstreams", "get-shard-iterator", "--stream-arn", arn,
                        "--shard-id", ids[0], "--shard-iterator-type", "AFTER_SEQUENCE_NUMBER",
                        "--sequence-number", self.shards(arn)["Shards"][0]
                        ["SequenceNumberRange"]["StartingSequenceNumber"])
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("ShardIterator", json.loads(done.stdout))


# -- StartingSequenceNumber and the shard's range ---------------------------------------


class SequenceRangeTest(ContractTestCase):
    """AT_/AFTER_SEQUENCE_NUMBER positions and the shard's sequence range."""

    server_args = ("--stream-shards", "1")

    def test_starting_sequence_number_of_an_empty_shard(self):
        """On an empty shard, AT and AFTER its StartingSequenceNumber are valid
        and, once records arrive, read the shard from its first record."""
        table = self.create_stream_table("NEW_IMAGE")
        arn = self.stream_arn(table)
        shard = self.shards(arn)["Shards"][0]
        start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
        self.assertRegex(start, SEQUENCE)
        iterators = {}
        for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            iterator = self.iterator(arn, shard["ShardId"], kind, start)
            page = self.streams.get_records(ShardIterator=iterator)
            self.assertEqual(page["Records"], [])
            self.assertIn("NextShardIterator", page)
            iterators[kind] = (iterator, page["NextShardIterator"])
        for n in range(3):
            self.put(table, {"p": f"k{n}"})
        for kind, pair in iterators.items():
            for which, iterator in zip(("first", "next"), pair):
                with self.subTest(kind=kind, iterator=which):
                    records, _, _ = self.records_from(iterator)
                    self.assertEqual([item_py(r["dynamodb"]["Keys"])["p"] for r in records],
                                     ["k0", "k1", "k2"])
                    # Records come after the shard's start.
                    for r in records:
                        self.assertGreater(int(r["dynamodb"]["SequenceNumber"]), int(start))
        # The start never changes.
        self.assertEqual(self.shards(arn)["Shards"][0]["SequenceNumberRange"], {
            "StartingSequenceNumber": start})

    def test_sequence_numbers_outside_the_range(self):
        """A sequence number below the shard's start or beyond its newest record
        (another shard's, or a number not yet given) is a ValidationException."""
        table = self.create_stream_table("KEYS_ONLY")
        arn = self.stream_arn(table)
        self.put(table, {"p": "a"})
        self.put(table, {"p": "b"})
        shard, records = self.one_shard_with(arn, 2)
        shard_id = shard["ShardId"]
        start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
        newest = int(records[-1]["dynamodb"]["SequenceNumber"])
        for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            for sequence in (str(newest + 1), str(newest + 10**6), "9" * 40,
                             "0" * 21, str(int(start) - 1).zfill(21)):
                with self.subTest(kind=kind, sequence=sequence):
                    with self.assertValidationError(
                            f"Invalid SequenceNumber: {sequence} is not in the "
                            f"SequenceNumberRange of shard {shard_id} ({start} to "
                            f"{newest})"):
                        self.iterator(arn, shard_id, kind, sequence)
            # Both ends of the range are positions.
            self.iterator(arn, shard_id, kind, start)
            self.iterator(arn, shard_id, kind, str(newest))

    def test_malformed_sequence_numbers(self):
        """Not 21-40 digits: DynamoDB's constraint message; not decimal:
        ValidationException; a sequence number with TRIM_HORIZON or LATEST, or
        none with AT_/AFTER_SEQUENCE_NUMBER: ValidationException."""
        arn = self.stream_arn(self.create_stream_table())
        shard_id = self.shards(arn)["Shards"][0]["ShardId"]
        with self.assertValidationError(constraint(
                "123", "sequenceNumber", "Member must have length greater than or equal to 21")):
            self.iterator(arn, shard_id, "AT_SEQUENCE_NUMBER", "123")
        with self.assertValidationError(constraint(
                "1" * 41, "sequenceNumber", "Member must have length less than or equal to 40")):
            self.iterator(arn, shard_id, "AT_SEQUENCE_NUMBER", "1" * 41)
        with self.assertValidationError("Invalid SequenceNumber: 1000000000000000000x1"):
            self.iterator(arn, shard_id, "AFTER_SEQUENCE_NUMBER", "1000000000000000000x1")
        start = self.shards(arn)["Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"]
        for kind in ("TRIM_HORIZON", "LATEST"):
            with self.subTest(kind=kind):
                with self.assertValidationError(
                        "A sequence number may only be given with AT_SEQUENCE_NUMBER or "
                        f"AFTER_SEQUENCE_NUMBER, not with ShardIteratorType: {kind}"):
                    self.iterator(arn, shard_id, kind, start)
        for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            with self.subTest(kind=kind):
                with self.assertValidationError(
                        f"A sequence number is required for the given ShardIteratorType: {kind}"):
                    self.iterator(arn, shard_id, kind)


# -- malformed versus unknown identifiers ------------------------------------------------


class IdentifierTest(ContractTestCase):
    """Malformed ARNs and iterators are ValidationException; well-formed ones
    that name nothing are ResourceNotFoundException, with each operation's
    wording."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_stream_table()
        cls.arn = cls.ddb.describe_table(TableName=cls.table)["Table"]["LatestStreamArn"]
        cls.shard_id = describe_stream(cls.streams, cls.arn)["Shards"][0]["ShardId"]

    MALFORMED_ARNS = (
        "sdfadfsdfnlfkajakfgjalksfgklasjklasdjfklasdfasdfgasf",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/Orders/stream/latest",
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/Orders",
        f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/Orders/2026-01-01T00:00:00.000",
    )

    def unknown_arns(self):
        label = "2001-01-01T00:00:00.000"
        return (self.arn.rsplit("/", 1)[0] + "/" + label,
                f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/no-such-table/stream/{label}",
                self.arn.replace(f":{REGION}:", ":eu-west-3:"),
                self.arn.replace(f":{ACCOUNT_ID}:", ":123456789012:"))

    def test_describe_stream(self):
        for arn in self.MALFORMED_ARNS:
            with self.subTest(arn=arn):
                with self.assertValidationError("Invalid StreamArn"):
                    self.streams.describe_stream(StreamArn=arn)
        for arn in self.unknown_arns():
            with self.subTest(arn=arn):
                with self.assertDynamoError(
                        "ResourceNotFoundException",
                        f"Requested resource not found: Stream: {arn} not found"):
                    self.streams.describe_stream(StreamArn=arn)
        with self.assertValidationError(constraint(
                "fake-stream", "streamArn", "Member must have length greater than or equal to 37")):
            self.streams.describe_stream(StreamArn="fake-stream")

    def test_get_shard_iterator(self):
        for arn in self.MALFORMED_ARNS:
            with self.subTest(arn=arn):
                with self.assertValidationError("Invalid StreamArn"):
                    self.streams.get_shard_iterator(StreamArn=arn, ShardId=self.shard_id,
                                                    ShardIteratorType="LATEST")
        for arn in self.unknown_arns():
            with self.subTest(arn=arn):
                with self.assertDynamoError(
                        "ResourceNotFoundException",
                        f"Requested resource not found: Stream: {arn} not found"):
                    self.streams.get_shard_iterator(StreamArn=arn, ShardId=self.shard_id,
                                                    ShardIteratorType="LATEST")
        for shard_id in ("shardId-00000001000000000000-0badf00d",
                         "semprinidfaasdasfsdvacsdcfsdsvsdvsdvsdvsdvsdv"):
            with self.subTest(shard_id=shard_id):
                with self.assertDynamoError(
                        "ResourceNotFoundException",
                        "Requested resource not found: Shard does not exist"):
                    self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id,
                                                    ShardIteratorType="LATEST")
        with self.assertValidationError(
                "2 validation errors detected: Value 'x' at 'shardId' failed to satisfy "
                "constraint: Member must have length greater than or equal to 28; Value "
                "'SOMETIME' at 'shardIteratorType' failed to satisfy constraint: Member must "
                "satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_SEQUENCE_NUMBER, "
                "TRIM_HORIZON]"):
            self.streams.get_shard_iterator(StreamArn=self.arn, ShardId="x",
                                            ShardIteratorType="SOMETIME")

    def test_get_records(self):
        good = self.iterator(self.arn, self.shard_id)
        arn, rest = good.rsplit("|1|", 1)
        shard_index, position, issued, _ = rest.split(".")
        malformed = ("sdfsdfsgagaddafgagasgasgasdfasdfasdfasdfasdgasdasdgasdg",
                     good[:-1] + ("1" if good[-1] != "1" else "2"),
                     good[:-3], good + ".5",
                     forge_iterator("arn:aws:dynamodb:nowhere", 0, 1))
        for iterator in malformed:
            with self.subTest(iterator=iterator):
                with self.assertValidationError("Invalid ShardIterator"):
                    self.streams.get_records(ShardIterator=iterator)
        for missing in self.unknown_arns():
            with self.subTest(arn=missing):
                with self.assertDynamoError(
                        "ResourceNotFoundException",
                        f"Requested resource not found: Stream: {missing} not found"):
                    self.streams.get_records(ShardIterator=forge_iterator(missing, 0, 1))
        with self.assertDynamoError("ResourceNotFoundException",
                                    "Invalid ShardId in ShardIterator"):
            self.streams.get_records(ShardIterator=forge_iterator(arn, 99, int(position)))
        # The genuine one still reads.
        self.assertIn("NextShardIterator", self.streams.get_records(ShardIterator=good))
        with self.assertValidationError(constraint(
                "", "shardIterator", "Member must have length greater than or equal to 1")):
            self.streams.get_records(ShardIterator="")

    def test_list_streams(self):
        for arn in self.MALFORMED_ARNS:
            with self.subTest(arn=arn):
                with self.assertValidationError("Invalid StreamArn"):
                    self.streams.list_streams(ExclusiveStartStreamArn=arn)
        with self.assertDynamoError("ResourceNotFoundException",
                                    "Requested resource not found: Table: no-such-table "
                                    "not found"):
            self.streams.list_streams(TableName="no-such-table")
        # A well-formed start that names no stream: nothing after it.
        self.assertEqual(self.streams.list_streams(
            ExclusiveStartStreamArn=self.unknown_arns()[0])["Streams"], [])


# -- iterator types and NextShardIterator on open, closed and trimmed shards -------------


class ClosedShardTest(ContractTestCase):
    """A disabled stream's shards are closed: every iterator type reads to the
    end, and the end is a response without NextShardIterator."""

    server_args = ("--stream-shards", "1")

    def test_iterator_types_on_a_closed_shard(self):
        table = self.create_stream_table("NEW_AND_OLD_IMAGES")
        arn = self.stream_arn(table)
        for n in range(3):
            self.put(table, {"p": f"k{n}"})
        open_shard = self.shards(arn)["Shards"][0]
        shard_id = open_shard["ShardId"]
        before = self.iterator(arn, shard_id, "LATEST")
        self.set_stream(table, False)
        self.put(table, {"p": "after-disable"})  # Not in the closed stream.
        d = self.shards(arn)
        self.assertEqual(d["StreamStatus"], "DISABLED")
        shard = d["Shards"][0]
        start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
        end = shard["SequenceNumberRange"]["EndingSequenceNumber"]
        self.assertEqual(start, open_shard["SequenceNumberRange"]["StartingSequenceNumber"])
        records, pages, last = self.records_from(self.iterator(arn, shard_id),
                                                 until_closed=True)
        self.assertIsNone(last)
        self.assertEqual([item_py(r["dynamodb"]["Keys"])["p"] for r in records],
                         ["k0", "k1", "k2"])
        self.assertEqual(records[-1]["dynamodb"]["SequenceNumber"], end)
        self.assertNotIn("NextShardIterator", pages[-1])
        cases = {
            ("AT_SEQUENCE_NUMBER", start): 3, ("AFTER_SEQUENCE_NUMBER", start): 3,
            ("AT_SEQUENCE_NUMBER", end): 1, ("AFTER_SEQUENCE_NUMBER", end): 0,
            ("LATEST", None): 0,
        }
        for (kind, sequence), count in cases.items():
            with self.subTest(kind=kind, sequence=sequence):
                got, pages, last = self.records_from(
                    self.iterator(arn, shard_id, kind, sequence), until_closed=True)
                self.assertEqual(len(got), count)
                self.assertIsNone(last)
        # An iterator taken while the shard was open ends too.
        page = self.streams.get_records(ShardIterator=before)
        self.assertEqual(page["Records"], [])
        self.assertNotIn("NextShardIterator", page)
        with self.assertValidationError(regex="is not in the SequenceNumberRange"):
            self.iterator(arn, shard_id, "AT_SEQUENCE_NUMBER", str(int(end) + 1))


class TrimmedShardTest(ContractTestCase):
    """Records past the retention period are trimmed: TRIM_HORIZON moves past
    them, positions in the trimmed part are TrimmedDataAccessException, and
    the shard goes on (open) with a live NextShardIterator."""

    server_args = ("--stream-shards", "1", "--stream-retention", "3s")

    TRIMMED = ("TrimmedDataAccessException",
               "The operation attempted to read past the oldest stream record in a shard.")

    def test_iterator_types_on_a_trimmed_shard(self):
        table = self.create_stream_table("KEYS_ONLY")
        arn = self.stream_arn(table)
        for n in range(3):
            self.put(table, {"p": f"old{n}"})
        shard = self.shards(arn)["Shards"][0]
        shard_id = shard["ShardId"]
        start = shard["SequenceNumberRange"]["StartingSequenceNumber"]
        old, _, _ = self.records_from(self.iterator(arn, shard_id))
        self.assertEqual(len(old), 3)
        held = self.iterator(arn, shard_id)  # Points at the first old record.

        def trimmed():
            # A TRIM_HORIZON iterator taken just before the trim points into
            # the trimmed part by the time it is read: as on DynamoDB, that
            # read is TrimmedDataAccessException; take a new one.
            try:
                records, _, _ = self.records_from(self.iterator(arn, shard_id))
            except self.streams.exceptions.TrimmedDataAccessException:
                return False
            return not records
        wait_until(trimmed, timeout=60, interval=0.2, what="the old records to be trimmed")

        for kind, sequence in (("AT_SEQUENCE_NUMBER", old[0]["dynamodb"]["SequenceNumber"]),
                               ("AFTER_SEQUENCE_NUMBER", old[0]["dynamodb"]["SequenceNumber"]),
                               ("AT_SEQUENCE_NUMBER", start),
                               ("AFTER_SEQUENCE_NUMBER", start)):
            with self.subTest(kind=kind, sequence=sequence):
                with self.assertDynamoError(*self.TRIMMED):
                    self.iterator(arn, shard_id, kind, sequence)
        with self.assertDynamoError(*self.TRIMMED):
            self.streams.get_records(ShardIterator=held)
        # The range's start stays; the shard is still open.
        self.assertEqual(self.shards(arn)["Shards"][0]["SequenceNumberRange"],
                         {"StartingSequenceNumber": start})
        horizon = self.streams.get_records(ShardIterator=self.iterator(arn, shard_id))
        latest = self.streams.get_records(ShardIterator=self.iterator(arn, shard_id, "LATEST"))
        for page in (horizon, latest):
            self.assertEqual(page["Records"], [])
            self.assertIn("NextShardIterator", page)
        self.put(table, {"p": "new"})
        for page in (horizon, latest):
            got, _, _ = self.records_from(page["NextShardIterator"])
            self.assertEqual([item_py(r["dynamodb"]["Keys"])["p"] for r in got], ["new"])
        # AFTER the newest trimmed record is where the retained ones begin.
        got, _, _ = self.records_from(self.iterator(
            arn, shard_id, "AFTER_SEQUENCE_NUMBER", old[-1]["dynamodb"]["SequenceNumber"]))
        self.assertEqual([item_py(r["dynamodb"]["Keys"])["p"] for r in got], ["new"])


# -- the fields of records, for every write path -----------------------------------------


class RecordFieldsTest(ContractTestCase):
    """Every write path gives records with every field DynamoDB sends, and
    images as each view type says; writes that change nothing give none."""

    server_args = ("--ttl-interval", "0")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # One table per view type, all with an LSI and TTL on "expires".
        cls.tables = {}
        for view in VIEW_TYPES:
            name = cls.create_table_raw(
                KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                           {"AttributeName": "c", "KeyType": "RANGE"}],
                AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                      {"AttributeName": "c", "AttributeType": "S"},
                                      {"AttributeName": "l", "AttributeType": "S"}],
                LocalSecondaryIndexes=[{
                    "IndexName": "by-l",
                    "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                                  {"AttributeName": "l", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "ALL"}}],
                StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
            cls.ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
            cls.tables[view] = name
        cls.expected = {}  # key -> [(event, old, new)] for every table alike.
        # One expiry time for every table, so their records are alike even
        # when writing them crosses a second.
        cls.past = int(time.time()) - 3600
        for name in cls.tables.values():
            cls.write_everything(name)
        cls.sweep_ttl()

    @classmethod
    def write_everything(cls, t):
        """Each write path once; cls.expected says what each item's records are."""
        ddb = cls.ddb
        exp = {}

        def key(p):
            return {"p": {"S": p}, "c": {"S": "1"}}

        def item(p, **attrs):
            return dict(key(p), **item_av(attrs))
        # PutItem creating, then replacing (also the LSI attribute).
        ddb.put_item(TableName=t, Item=item("put", l="a", v=1))
        ddb.put_item(TableName=t, Item=item("put", w="x"))
        exp["put"] = [("INSERT", None, {"p": "put", "c": "1", "l": "a", "v": 1}),
                      ("MODIFY", {"p": "put", "c": "1", "l": "a", "v": 1},
                       {"p": "put", "c": "1", "w": "x"})]
        # UpdateItem creating, then changing.
        ddb.update_item(TableName=t, Key=key("upd"), UpdateExpression="SET v = :v, l = :l",
                        ExpressionAttributeValues={":v": {"N": "1"}, ":l": {"S": "b"}})
        ddb.update_item(TableName=t, Key=key("upd"), UpdateExpression="ADD v :v REMOVE l",
                        ExpressionAttributeValues={":v": {"N": "2"}})
        exp["upd"] = [("INSERT", None, {"p": "upd", "c": "1", "v": 1, "l": "b"}),
                      ("MODIFY", {"p": "upd", "c": "1", "v": 1, "l": "b"},
                       {"p": "upd", "c": "1", "v": 3})]
        # DeleteItem of an item, and of a missing item (no record).
        ddb.put_item(TableName=t, Item=item("del", v=1))
        ddb.delete_item(TableName=t, Key=key("del"))
        ddb.delete_item(TableName=t, Key=key("missing"))
        ddb.delete_item(TableName=t, Key=key("missing-returning"), ReturnValues="ALL_OLD")
        exp["del"] = [("INSERT", None, {"p": "del", "c": "1", "v": 1}),
                      ("REMOVE", {"p": "del", "c": "1", "v": 1}, None)]
        # A write that changes nothing: no record.
        ddb.put_item(TableName=t, Item=item("del-noop", v=1))
        ddb.put_item(TableName=t, Item=item("del-noop", v=1))
        exp["del-noop"] = [("INSERT", None, {"p": "del-noop", "c": "1", "v": 1})]
        # BatchWriteItem: puts (one replacing) and a delete.
        ddb.put_item(TableName=t, Item=item("batch-over", v=1))
        ddb.batch_write_item(RequestItems={t: [
            {"PutRequest": {"Item": item("batch-new", v=2)}},
            {"PutRequest": {"Item": item("batch-over", v=3)}},
            {"DeleteRequest": {"Key": key("del-noop")}},
        ]})
        exp["batch-new"] = [("INSERT", None, {"p": "batch-new", "c": "1", "v": 2})]
        exp["batch-over"] = [("INSERT", None, {"p": "batch-over", "c": "1", "v": 1}),
                             ("MODIFY", {"p": "batch-over", "c": "1", "v": 1},
                              {"p": "batch-over", "c": "1", "v": 3})]
        exp["del-noop"].append(("REMOVE", {"p": "del-noop", "c": "1", "v": 1}, None))
        # TransactWriteItems: put, update creating, delete, condition check.
        ddb.put_item(TableName=t, Item=item("tx-del", v=1))
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": t, "Item": item("tx-put", v=1)}},
            {"Update": {"TableName": t, "Key": key("tx-upd"),
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "y"}}}},
            {"Delete": {"TableName": t, "Key": key("tx-del")}},
            {"ConditionCheck": {"TableName": t, "Key": key("put"),
                                "ConditionExpression": "attribute_exists(p)"}},
        ])
        exp["tx-put"] = [("INSERT", None, {"p": "tx-put", "c": "1", "v": 1})]
        exp["tx-upd"] = [("INSERT", None, {"p": "tx-upd", "c": "1", "v": "y"})]
        exp["tx-del"] = [("INSERT", None, {"p": "tx-del", "c": "1", "v": 1}),
                         ("REMOVE", {"p": "tx-del", "c": "1", "v": 1}, None)]
        # An item that TTL deletes (the service: userIdentity).
        past = cls.past
        ddb.put_item(TableName=t, Item=item("ttl", expires=past))
        exp["ttl"] = [("INSERT", None, {"p": "ttl", "c": "1", "expires": past}),
                      ("REMOVE", {"p": "ttl", "c": "1", "expires": past}, None)]
        cls.expected = exp

    @classmethod
    def sweep_ttl(cls):
        done = subprocess.run([eddy_binary(), "ttl", "sweep", "--endpoint-url",
                               cls.server.endpoint], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr

    def records(self, view):
        arn = self.stream_arn(self.tables[view])
        return [r for shard in describe_stream(self.streams, arn)["Shards"]
                for r in self.records_from(self.iterator(arn, shard["ShardId"]))[0]]

    def test_every_write_path_gives_its_records(self):
        """Per item, the events in order, as DynamoDB classifies them; a delete
        of a missing item and a write changing nothing give no record."""
        for view in VIEW_TYPES:
            with self.subTest(view=view):
                got = {}
                for r in self.records(view):
                    got.setdefault(item_py(r["dynamodb"]["Keys"])["p"], []).append(r)
                self.assertEqual(set(got), set(self.expected))
                for p, records in got.items():
                    self.assertEqual([r["eventName"] for r in records],
                                     [e for e, _, _ in self.expected[p]], p)

    def test_every_record_carries_every_field(self):
        """awsRegion, eventVersion, eventSource, eventID, eventName, and in
        dynamodb: ApproximateCreationDateTime, Keys, SequenceNumber, SizeBytes,
        StreamViewType, and the images the view type includes."""
        for view in VIEW_TYPES:
            records = self.records(view)
            self.assertEqual(len({r["eventID"] for r in records}), len(records))
            seen = {}
            for r in records:
                p = item_py(r["dynamodb"]["Keys"])["p"]
                index = seen.setdefault(p, 0)
                seen[p] += 1
                event, old, new = self.expected[p][index]
                with self.subTest(view=view, item=p, event=event):
                    top = {"awsRegion", "eventVersion", "eventSource", "eventID",
                           "eventName", "dynamodb"}
                    if p == "ttl" and event == "REMOVE":
                        top.add("userIdentity")
                        self.assertEqual(r["userIdentity"], SERVICE_IDENTITY)
                    self.assertEqual(set(r), top)
                    self.assertEqual(r["awsRegion"], REGION)
                    self.assertEqual(r["eventVersion"], "1.1")
                    self.assertEqual(r["eventSource"], "aws:dynamodb")
                    self.assertRegex(r["eventID"], EVENT_ID)
                    self.assertEqual(r["eventName"], event)
                    d = r["dynamodb"]
                    wanted = {"ApproximateCreationDateTime", "Keys", "SequenceNumber",
                              "SizeBytes", "StreamViewType"}
                    if new is not None and view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
                        wanted.add("NewImage")
                        self.assertEqual(item_py(d["NewImage"]), new)
                    if old is not None and view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
                        wanted.add("OldImage")
                        self.assertEqual(item_py(d["OldImage"]), old)
                    self.assertEqual(set(d), wanted)
                    self.assertEqual(d["Keys"], {"p": {"S": p}, "c": {"S": "1"}})
                    self.assertEqual(d["StreamViewType"], view)
                    self.assertRegex(d["SequenceNumber"], SEQUENCE)
                    self.assertIsInstance(d["SizeBytes"], int)
                    self.assertGreater(d["SizeBytes"], 0)
                    age = time.time() - d["ApproximateCreationDateTime"].timestamp()
                    self.assertTrue(-2 < age < 600, f"ApproximateCreationDateTime {age}s ago")

    def test_size_bytes_counts_what_the_view_type_carries(self):
        """SizeBytes grows with the images a record carries: per record, the
        images' share (over KEYS_ONLY) of NEW_AND_OLD_IMAGES is the sum of
        NEW_IMAGE's and OLD_IMAGE's."""
        sizes = {}
        for view in VIEW_TYPES:
            for r in self.records(view):
                p = item_py(r["dynamodb"]["Keys"])["p"]
                sizes.setdefault((view, p), []).append(r["dynamodb"]["SizeBytes"])
        for p in self.expected:
            keys = sizes[("KEYS_ONLY", p)]
            new = [a - k for a, k in zip(sizes[("NEW_IMAGE", p)], keys)]
            old = [a - k for a, k in zip(sizes[("OLD_IMAGE", p)], keys)]
            both = [a - k for a, k in zip(sizes[("NEW_AND_OLD_IMAGES", p)], keys)]
            with self.subTest(item=p):
                self.assertEqual(both, [n + o for n, o in zip(new, old)])
                for (event, o, n), grew_new, grew_old in zip(self.expected[p], new, old):
                    self.assertEqual(grew_new > 0, n is not None)
                    self.assertEqual(grew_old > 0, o is not None)


# -- CreateTable index projections -----------------------------------------------------


class IndexProjectionTest(ContractTestCase):
    """An LSI or GSI projecting ALL or KEYS_ONLY needs no NonKeyAttributes.
    DynamoDB accepts the member absent; an empty list breaks its constraint
    (at least 1 member), and a non-empty one is only for INCLUDE."""

    def index_table(self, lsi_projection, gsi_projection, **extra):
        name = self.unique_name("proj")
        self.ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                       {"AttributeName": "c", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"}
                                  for a in ("p", "c", "l", "g")],
            LocalSecondaryIndexes=[{
                "IndexName": "lsi", "Projection": lsi_projection,
                "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                              {"AttributeName": "l", "KeyType": "RANGE"}]}],
            GlobalSecondaryIndexes=[{
                "IndexName": "gsi", "Projection": gsi_projection,
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}],
            **extra)
        self._class_tables.append(name)
        return name

    def test_absent_non_key_attributes_are_accepted(self):
        for lsi, gsi in (("ALL", "ALL"), ("KEYS_ONLY", "KEYS_ONLY"), ("ALL", "KEYS_ONLY"),
                         ("KEYS_ONLY", "ALL")):
            with self.subTest(lsi=lsi, gsi=gsi):
                name = self.index_table({"ProjectionType": lsi}, {"ProjectionType": gsi},
                                        StreamSpecification={"StreamEnabled": True,
                                                             "StreamViewType": "NEW_IMAGE"})
                table = self.ddb.describe_table(TableName=name)["Table"]
                self.assertEqual(table["LocalSecondaryIndexes"][0]["Projection"],
                                 {"ProjectionType": lsi})
                self.assertEqual(table["GlobalSecondaryIndexes"][0]["Projection"],
                                 {"ProjectionType": gsi})
                # The index answers and the table streams.
                self.put(name, {"p": "a", "c": "1", "l": "x", "g": "y", "v": 1})
                items, _ = self.query_all(name, IndexName="lsi",
                                          KeyConditionExpression="p = :p",
                                          ExpressionAttributeValues={":p": {"S": "a"}})
                self.assertEqual(len(items), 1)
                self.assertEqual(len(self.all_records(table["LatestStreamArn"])), 1)

    def test_update_table_creates_a_gsi_without_non_key_attributes(self):
        name = self.create_table()
        self.ddb.update_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": "g-keys", "Projection": {"ProjectionType": "KEYS_ONLY"},
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}}])
        wait_until(lambda: self.ddb.describe_table(TableName=name)["Table"]
                   ["GlobalSecondaryIndexes"][0]["IndexStatus"] == "ACTIVE",
                   what="the index to be ACTIVE")

    def test_empty_or_misplaced_non_key_attributes(self):
        for which, path in (("lsi", "localSecondaryIndexes.1.member.projection"),
                            ("gsi", "globalSecondaryIndexes.1.member.projection")):
            for kind in ("ALL", "KEYS_ONLY"):
                with self.subTest(index=which, kind=kind, list="empty"):
                    empty = {"ProjectionType": kind, "NonKeyAttributes": []}
                    with self.assertValidationError(constraint(
                            "[]", path + ".nonKeyAttributes",
                            "Member must have length greater than or equal to 1")):
                        if which == "lsi":
                            self.index_table(empty, {"ProjectionType": "ALL"})
                        else:
                            self.index_table({"ProjectionType": "ALL"}, empty)
                with self.subTest(index=which, kind=kind, list="one"):
                    named = {"ProjectionType": kind, "NonKeyAttributes": ["v"]}
                    with self.assertValidationError(
                            "One or more parameter values were invalid: ProjectionType is "
                            f"{kind}, but NonKeyAttributes is specified"):
                        if which == "lsi":
                            self.index_table(named, {"ProjectionType": "ALL"})
                        else:
                            self.index_table({"ProjectionType": "ALL"}, named)


# -- DeleteTable and the stream's retention ----------------------------------------------


class DeletedTableStreamTest(ContractTestCase):
    """After DeleteTable the table's stream stays readable (24 hours by
    default) and DISABLED; re-creating the table makes a new stream."""

    server_args = ("--stream-shards", "2")

    def test_stream_of_a_deleted_table_stays_readable(self):
        table = self.create_stream_table("NEW_AND_OLD_IMAGES", range_key=("c", "N"))
        arn = self.stream_arn(table)
        self.put(table, {"p": "a", "c": 1, "v": "x"})
        self.put(table, {"p": "a", "c": 1, "v": "y"})
        self.delete(table, {"p": "a", "c": 1})
        shard_ids = [s["ShardId"] for s in self.shards(arn)["Shards"]]
        held = {s: self.iterator(arn, s) for s in shard_ids}
        self.ddb.delete_table(TableName=table)
        self.wait_for_table_gone(table)

        def check(when):
            with self.subTest(when=when):
                listed = self.streams.list_streams()["Streams"]
                self.assertIn({"StreamArn": arn, "TableName": table,
                               "StreamLabel": arn.rsplit("/", 1)[1]}, listed)
                self.assertIn(arn, [s["StreamArn"] for s in
                                    self.streams.list_streams(TableName=table)["Streams"]])
                d = self.shards(arn)
                self.assertEqual(d["StreamStatus"], "DISABLED")
                self.assertEqual(d["TableName"], table)
                self.assertEqual(d["KeySchema"], [{"AttributeName": "p", "KeyType": "HASH"},
                                                  {"AttributeName": "c", "KeyType": "RANGE"}])
                self.assertEqual([s["ShardId"] for s in d["Shards"]], shard_ids)
                events = []
                for shard in d["Shards"]:
                    self.assertIn("EndingSequenceNumber", shard["SequenceNumberRange"])
                    records, pages, last = self.records_from(
                        self.iterator(arn, shard["ShardId"]), until_closed=True)
                    self.assertIsNone(last)
                    events.extend(r["eventName"] for r in records)
                self.assertEqual(events, ["INSERT", "MODIFY", "REMOVE"])
        check("after DeleteTable")
        # Iterators taken before the deletion still read, to the shard's end.
        got = []
        for iterator in held.values():
            records, _, last = self.records_from(iterator, until_closed=True)
            self.assertIsNone(last)
            got.extend(records)
        self.assertEqual(len(got), 3)
        self.server.restart()
        check("after a restart")

        # A table of the same name gets a new stream; the old one stays.
        self.create_stream_table("KEYS_ONLY", name=table)
        new_arn = self.stream_arn(table)
        self.assertNotEqual(new_arn, arn)
        self.put(table, {"p": "b"})
        listed = [s["StreamArn"] for s in self.streams.list_streams(TableName=table)["Streams"]]
        self.assertEqual(listed, [new_arn, arn])
        check("beside the new table's stream")
        self.assertEqual(self.shards(new_arn)["StreamStatus"], "ENABLED")
        self.assertEqual(self.shards(new_arn)["KeySchema"],
                         [{"AttributeName": "p", "KeyType": "HASH"}])
        self.assertEqual([r["eventName"] for r in self.all_records(new_arn)], ["INSERT"])


class DeletedTableStreamRetentionTest(ContractTestCase):
    """With --stream-retention 4s, a deleted table's stream is gone 4 seconds
    after the deletion: not listed, and every operation naming it is
    ResourceNotFoundException."""

    server_args = ("--stream-shards", "1", "--stream-retention", "4s")

    def test_stream_is_gone_after_the_retention(self):
        table = self.create_stream_table("KEYS_ONLY")
        arn = self.stream_arn(table)
        self.put(table, {"p": "a"})
        shard_id = self.shards(arn)["Shards"][0]["ShardId"]
        self.ddb.delete_table(TableName=table)
        held = self.iterator(arn, shard_id)
        self.assertEqual(self.shards(arn)["StreamStatus"], "DISABLED")

        def gone():
            return arn not in [s["StreamArn"] for s in self.streams.list_streams()["Streams"]]
        wait_until(gone, timeout=60, interval=0.2, what="the stream to be removed")
        not_found = f"Requested resource not found: Stream: {arn} not found"
        with self.assertDynamoError("ResourceNotFoundException", not_found):
            self.shards(arn)
        with self.assertDynamoError("ResourceNotFoundException", not_found):
            self.iterator(arn, shard_id)
        with self.assertDynamoError("ResourceNotFoundException", not_found):
            self.streams.get_records(ShardIterator=held)
        with self.assertDynamoError("ResourceNotFoundException",
                                    f"Requested resource not found: Table: {table} not found"):
            self.streams.list_streams(TableName=table)
        # Nothing of it is left on disk either.
        self.server.restart()
        self.assertTrue(gone())


if __name__ == "__main__":
    unittest.main()
