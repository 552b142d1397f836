"""DynamoDB Streams through boto3: what a table's writes (client 'dynamodb')
look like to a stream consumer (client 'dynamodbstreams') — event names,
images per view type, the record envelope, per-item order, sequence numbers,
no record for writes that change nothing, enabling and disabling streams,
ListStreams / DescribeStream, the four shard iterator types and GetRecords
paging (Limit 1000 and the 1 MB cap)."""

import datetime
import http.client
import json
import random
import re
import unittest
import urllib.parse
from eddy_server import ACCOUNT_ID, REGION, EddyTestCase, item_av, item_py, utc_now, wait_until

SHARD_ID = re.compile(r"^shardId-\d{20}-[0-9a-f]{8}$")
SEQUENCE = re.compile(r"^\d{21,40}$")
LABEL = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}"
ONE_MB = 1024 * 1024
VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")
MAX_PAGES = 100000


# -- reading streams (module-level so the integration tests can reuse them) ---

def describe_stream(streams, arn):
    """DescribeStream's StreamDescription with every shard (all pages)."""
    kw, shards = {}, []
    for _ in range(1000):
        page = streams.describe_stream(StreamArn=arn, **kw)["StreamDescription"]
        shards.extend(page["Shards"])
        if "LastEvaluatedShardId" not in page:
            page["Shards"] = shards
            return page
        kw["ExclusiveStartShardId"] = page["LastEvaluatedShardId"]
    raise AssertionError("DescribeStream pagination does not end")


def read_pages(streams, iterator, limit=None, until_closed=False):
    """Follow NextShardIterator from `iterator`; return (pages, next iterator).

    Stops at the first empty page (an open shard read to its end) or, with
    until_closed, only when NextShardIterator is gone (a closed shard
    drained). Each page is GetRecords' whole response.
    """
    pages, empty_in_a_row = [], 0
    kw = {"Limit": limit} if limit is not None else {}
    while iterator is not None:
        if len(pages) > MAX_PAGES:
            raise AssertionError("GetRecords paging does not end")
        page = streams.get_records(ShardIterator=iterator, **kw)
        pages.append(page)
        iterator = page.get("NextShardIterator")
        empty_in_a_row = 0 if page["Records"] else empty_in_a_row + 1
        if empty_in_a_row and not until_closed:
            break
        if empty_in_a_row > 5 and iterator is not None:
            raise AssertionError("a drained closed shard still gives a NextShardIterator")
    return pages, iterator


def shard_iterator(streams, arn, shard_id, kind="TRIM_HORIZON", sequence=None):
    kw = {"SequenceNumber": sequence} if sequence is not None else {}
    return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                      ShardIteratorType=kind, **kw)["ShardIterator"]


def read_shard(streams, arn, shard_id, kind="TRIM_HORIZON", sequence=None, limit=None):
    """Every record of one shard from the given position to its current end."""
    pages, _ = read_pages(streams, shard_iterator(streams, arn, shard_id, kind, sequence), limit)
    return [r for page in pages for r in page["Records"]]


def read_stream(streams, arn):
    """{shard id: [records from TRIM_HORIZON, in shard order]} for every shard."""
    return {shard["ShardId"]: read_shard(streams, arn, shard["ShardId"])
            for shard in describe_stream(streams, arn)["Shards"]}


def key_of(record):
    """A hashable identity for the item a record is about (its Keys)."""
    return tuple(sorted((name, repr(value)) for name, value in record["dynamodb"]["Keys"].items()))


def sequence_of(record):
    return int(record["dynamodb"]["SequenceNumber"])


def records_by_key(by_shard):
    """{item key: [records in shard order]}; fails if an item spans shards."""
    grouped, home = {}, {}
    for shard_id, records in by_shard.items():
        for record in records:
            key = key_of(record)
            if home.setdefault(key, shard_id) != shard_id:
                raise AssertionError(f"records of item {key} are in shards "
                                     f"{home[key]} and {shard_id}")
            grouped.setdefault(key, []).append(record)
    return grouped


def fold(by_shard):
    """Apply every record (NewImage or delete) per item in shard order: {key: item}."""
    state = {}
    for records in by_shard.values():
        for record in records:
            if record["eventName"] == "REMOVE":
                state.pop(key_of(record), None)
            else:
                state[key_of(record)] = record["dynamodb"]["NewImage"]
    return state


def endpoint_connection(endpoint):
    url = urllib.parse.urlsplit(endpoint)
    if url.scheme == "https":
        return http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=60)
    return http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)


def raw_put_items(server, table, items):
    """PutItem each raw item over one keep-alive connection (bulk loading only;
    boto3 costs ~2 ms a call, so 10,000 writes through it take too long)."""
    conn = endpoint_connection(server.endpoint)
    try:
        for item in items:
            body = json.dumps({"TableName": table, "Item": item})
            conn.request("POST", "/", body,
                         server.signed_headers("DynamoDB_20120810.PutItem", body))
            response = conn.getresponse()
            text = response.read()
            if response.status != 200:
                raise AssertionError(f"PutItem failed: {response.status} {text[:300]!r}")
    finally:
        conn.close()


# -- the fixture ---------------------------------------------------------------

class StreamTestCase(EddyTestCase):
    """EddyTestCase plus a 'dynamodbstreams' client and stream verbs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.streams = cls.server.client("dynamodbstreams")

    @classmethod
    def create_stream_table(cls, view_type="NEW_AND_OLD_IMAGES", **kw):
        return cls.create_table(
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type}, **kw)

    def stream_arn(self, table):
        return self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]

    def set_stream(self, table, enabled, view_type=None):
        spec = {"StreamEnabled": enabled}
        if view_type:
            spec["StreamViewType"] = view_type
        return self.ddb.update_table(TableName=table, StreamSpecification=spec)

    def describe(self, arn):
        return describe_stream(self.streams, arn)

    def shard_ids(self, arn):
        return [s["ShardId"] for s in self.describe(arn)["Shards"]]

    def iterator(self, arn, shard_id, kind="TRIM_HORIZON", sequence=None):
        return shard_iterator(self.streams, arn, shard_id, kind, sequence)

    def read_shard(self, arn, shard_id, **kw):
        return read_shard(self.streams, arn, shard_id, **kw)

    def read_stream(self, arn):
        return read_stream(self.streams, arn)

    def all_records(self, arn):
        return [r for records in self.read_stream(arn).values() for r in records]

    def records_of(self, arn, key):
        """The records of one item ({name: python value}), in order."""
        wanted = tuple(sorted((k, repr(v)) for k, v in item_av(key).items()))
        return records_by_key(self.read_stream(arn)).get(wanted, [])

    def shard_holding(self, arn, count):
        """(shard id, records) of the one shard that has `count` records."""
        found = [(s, r) for s, r in self.read_stream(arn).items() if r]
        self.assertEqual(len(found), 1, "expected the records in one shard")
        self.assertEqual(len(found[0][1]), count)
        return found[0]

    def events(self, records):
        return [r["eventName"] for r in records]

    def images(self, record):
        """(NewImage, OldImage) as Python values, None where absent."""
        d = record["dynamodb"]
        return (item_py(d["NewImage"]) if "NewImage" in d else None,
                item_py(d["OldImage"]) if "OldImage" in d else None)

    def assertStrictlyIncreasing(self, records, what="sequence numbers"):
        numbers = [sequence_of(r) for r in records]
        for a, b in zip(numbers, numbers[1:]):
            self.assertLess(a, b, f"{what} not strictly increasing: {a} then {b}")


def murmur3_32(data, seed=0):
    """MurmurHash3 x86_32, as the server's KeyHash (blocks little-endian)."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed
    rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & mask
    n = len(data) // 4 * 4
    for i in range(0, n, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = rotl((k * c1) & mask, 15) * c2 & mask
        h = (rotl(h ^ k, 13) * 5 + 0xE6546B64) & mask
    k = 0
    tail = data[n:]
    for i, byte in enumerate(tail):
        k |= byte << (8 * i)
    if tail:
        h ^= rotl((k * c1) & mask, 15) * c2 & mask
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    return h ^ (h >> 16)


def reissue(iterator, issued_ms):
    """The same shard iterator as if the server had issued it at `issued_ms`."""
    arn, rest = iterator.rsplit("|1|", 1)
    shard, position, _, _ = rest.split(".")
    check = murmur3_32(f"{arn}|{shard}|{position}|{issued_ms}".encode())
    return f"{arn}|1|{shard}.{position}.{issued_ms}.{check}"


class IteratorExpiryTest(StreamTestCase):
    def test_iterators_expire_after_15_minutes(self):
        """An iterator is good for 15 minutes, then ExpiredIteratorException."""
        table = self.create_stream_table()
        self.put(table, {"p": "a"})
        arn = self.stream_arn(table)
        shard = self.shard_ids(arn)[0]
        fresh = self.iterator(arn, shard)
        issued = int(fresh.rsplit("|1|", 1)[1].split(".")[2])
        self.assertEqual(reissue(fresh, issued), fresh, "iterator format changed")
        now_ms = int(utc_now().timestamp() * 1000)
        # 14 minutes old: still readable.
        self.streams.get_records(ShardIterator=reissue(fresh, now_ms - 14 * 60 * 1000))
        with self.assertDynamoError("ExpiredIteratorException",
                                    regex="Iterators are valid for 15 minutes"):
            self.streams.get_records(ShardIterator=reissue(fresh, now_ms - 16 * 60 * 1000))
        # A forged iterator (wrong check) is not accepted at all.
        with self.assertValidationError("Invalid ShardIterator"):
            self.streams.get_records(ShardIterator=fresh[:-1] + ("1" if fresh[-1] != "1" else "2"))


# -- records --------------------------------------------------------------------

class StreamRecordTest(StreamTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_stream_table("NEW_AND_OLD_IMAGES")
        cls.arn = cls.ddb.describe_table(TableName=cls.table)["Table"]["LatestStreamArn"]

    def test_put_of_new_item_is_insert(self):
        """PutItem of a key that has no item gives INSERT with the new image only."""
        self.put(self.table, {"p": "put-new", "v": 1})
        records = self.records_of(self.arn, {"p": "put-new"})
        self.assertEqual(self.events(records), ["INSERT"])
        self.assertEqual(self.images(records[0]), ({"p": "put-new", "v": 1}, None))

    def test_update_creating_item_is_insert(self):
        """UpdateItem on a missing key creates the item, and that is an INSERT."""
        self.update(self.table, {"p": "update-new"}, "SET v = :v ADD c :one",
                    {":v": "x", ":one": 1})
        records = self.records_of(self.arn, {"p": "update-new"})
        self.assertEqual(self.events(records), ["INSERT"])
        self.assertEqual(self.images(records[0]), ({"p": "update-new", "v": "x", "c": 1}, None))

    def test_put_over_existing_item_is_modify(self):
        """PutItem replacing an item is MODIFY, with the whole old and new items."""
        self.put(self.table, {"p": "put-over", "old": 1})
        self.put(self.table, {"p": "put-over", "new": 2})
        records = self.records_of(self.arn, {"p": "put-over"})
        self.assertEqual(self.events(records), ["INSERT", "MODIFY"])
        self.assertEqual(self.images(records[1]),
                         ({"p": "put-over", "new": 2}, {"p": "put-over", "old": 1}))

    def test_update_of_existing_item_is_modify(self):
        """UpdateItem changing an item is MODIFY, with the item before and after."""
        self.put(self.table, {"p": "update-over", "v": 1, "gone": "x"})
        self.update(self.table, {"p": "update-over"}, "SET v = v + :one REMOVE gone", {":one": 1})
        records = self.records_of(self.arn, {"p": "update-over"})
        self.assertEqual(self.events(records), ["INSERT", "MODIFY"])
        self.assertEqual(self.images(records[1]),
                         ({"p": "update-over", "v": 2},
                          {"p": "update-over", "v": 1, "gone": "x"}))

    def test_delete_is_remove(self):
        """DeleteItem of an item is REMOVE, with the old image only."""
        self.put(self.table, {"p": "deleted", "v": 1})
        self.delete(self.table, {"p": "deleted"})
        records = self.records_of(self.arn, {"p": "deleted"})
        self.assertEqual(self.events(records), ["INSERT", "REMOVE"])
        self.assertEqual(self.images(records[1]), (None, {"p": "deleted", "v": 1}))

    def test_record_envelope(self):
        """Every record carries AWS's envelope: eventID (unique), eventVersion 1.1,
        eventSource, awsRegion, Keys, a recent ApproximateCreationDateTime, a
        decimal SequenceNumber, SizeBytes > 0 and the StreamViewType."""
        before = utc_now().replace(microsecond=0) - datetime.timedelta(seconds=2)
        self.put(self.table, {"p": "envelope", "v": "a"})
        self.update(self.table, {"p": "envelope"}, "SET v = :v", {":v": "b"})
        self.delete(self.table, {"p": "envelope"})
        after = utc_now() + datetime.timedelta(seconds=2)
        records = self.records_of(self.arn, {"p": "envelope"})
        self.assertEqual(self.events(records), ["INSERT", "MODIFY", "REMOVE"])
        for record in records:
            with self.subTest(event=record["eventName"]):
                self.assertEqual(record["eventVersion"], "1.1")
                self.assertEqual(record["eventSource"], "aws:dynamodb")
                self.assertEqual(record["awsRegion"], REGION)
                self.assertIsInstance(record["eventID"], str)
                self.assertTrue(record["eventID"])
                d = record["dynamodb"]
                self.assertEqual(d["Keys"], {"p": {"S": "envelope"}})
                self.assertRegex(d["SequenceNumber"], SEQUENCE)
                self.assertGreater(d["SizeBytes"], 0)
                self.assertEqual(d["StreamViewType"], "NEW_AND_OLD_IMAGES")
                created = d["ApproximateCreationDateTime"]
                self.assertIsInstance(created, datetime.datetime)
                self.assertTrue(before <= created <= after,
                                f"ApproximateCreationDateTime {created} not within "
                                f"[{before}, {after}]")
                self.assertNotIn("userIdentity", record)
        self.assertEqual(len({r["eventID"] for r in records}), 3, "eventIDs are not unique")

    def test_keys_hold_the_whole_primary_key_only(self):
        """With a sort key, Keys has both key attributes and nothing else."""
        table = self.create_stream_table("KEYS_ONLY", range_key=("c", "N"))
        self.put(table, {"p": "k", "c": 7, "other": "x"})
        self.delete(table, {"p": "k", "c": 7})
        records = self.all_records(self.stream_arn(table))
        self.assertEqual(self.events(records), ["INSERT", "REMOVE"])
        for record in records:
            self.assertEqual(record["dynamodb"]["Keys"], {"p": {"S": "k"}, "c": {"N": "7"}})

    def test_images_per_view_type(self):
        """Each view type carries exactly its images: KEYS_ONLY none, NEW_IMAGE
        the new item, OLD_IMAGE the old item, NEW_AND_OLD_IMAGES both (no
        OldImage on INSERT, no NewImage on REMOVE)."""
        v1, v2, v3 = ({"p": "img", "v": n} for n in (1, 2, 3))
        expected = {
            "KEYS_ONLY": [(None, None)] * 4,
            "NEW_IMAGE": [(v1, None), (v2, None), (v3, None), (None, None)],
            "OLD_IMAGE": [(None, None), (None, v1), (None, v2), (None, v3)],
            "NEW_AND_OLD_IMAGES": [(v1, None), (v2, v1), (v3, v2), (None, v3)],
        }
        for view_type in VIEW_TYPES:
            with self.subTest(view_type=view_type):
                table = self.create_stream_table(view_type)
                self.put(table, v1)
                self.put(table, v2)
                self.update(table, {"p": "img"}, "SET v = :v", {":v": 3})
                self.delete(table, {"p": "img"})
                records = self.all_records(self.stream_arn(table))
                self.assertEqual(self.events(records), ["INSERT", "MODIFY", "MODIFY", "REMOVE"])
                self.assertEqual([self.images(r) for r in records], expected[view_type])
                for record in records:
                    self.assertEqual(record["dynamodb"]["StreamViewType"], view_type)
                    self.assertEqual(record["dynamodb"]["Keys"], {"p": {"S": "img"}})
                    self.assertGreater(record["dynamodb"]["SizeBytes"], 0)

    def test_all_attribute_types_in_images(self):
        """Images carry every attribute type exactly as stored."""
        item = {"p": {"S": "types"}, "n": {"N": "-12.5"}, "b": {"B": b"\x00\xff"},
                "t": {"BOOL": True}, "z": {"NULL": True}, "l": {"L": [{"S": "a"}, {"N": "2"}]},
                "m": {"M": {"k": {"S": "v"}}}, "ss": {"SS": ["x", "y"]},
                "ns": {"NS": ["1", "2"]}, "bs": {"BS": [b"\x01", b"\x02"]}}
        self.ddb.put_item(TableName=self.table, Item=item)
        records = self.records_of(self.arn, {"p": "types"})
        self.assertEqual(self.events(records), ["INSERT"])
        self.assertEqual(item_py(records[0]["dynamodb"]["NewImage"]), item_py(item))


class NoOpWriteTest(StreamTestCase):
    """A write that changes nothing (by DynamoDB's equality) emits no record.

    Each case writes an item, tries the no-op, then makes a real change
    (SET marker): the item's records must be exactly INSERT, MODIFY(marker),
    which also proves the reader got past the point of the no-op.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_stream_table("NEW_AND_OLD_IMAGES")
        cls.arn = cls.ddb.describe_table(TableName=cls.table)["Table"]["LatestStreamArn"]

    def check_no_op(self, name, initial, no_op):
        key = {"p": {"S": f"noop-{name}"}}
        self.ddb.put_item(TableName=self.table, Item=dict(key, **initial))
        no_op(key)
        self.ddb.update_item(TableName=self.table, Key=key, UpdateExpression="SET marker = :m",
                             ExpressionAttributeValues={":m": {"S": "after"}})
        records = self.records_of(self.arn, {"p": f"noop-{name}"})
        self.assertEqual(self.events(records), ["INSERT", "MODIFY"],
                         f"{name}: the no-op write emitted a record")
        new, old = self.images(records[1])
        self.assertEqual(new.get("marker"), "after")
        self.assertNotIn("marker", old)

    def put_raw(self, attributes):
        return lambda key: self.ddb.put_item(TableName=self.table, Item=dict(key, **attributes))

    def test_put_of_identical_item(self):
        """PutItem of exactly the stored item."""
        item = {"s": {"S": "x"}, "n": {"N": "5"}}
        self.check_no_op("identical", item, self.put_raw(item))

    def test_put_with_attributes_in_another_order(self):
        """PutItem of the same attributes listed in another order."""
        self.check_no_op("attr-order", {"a": {"S": "1"}, "b": {"S": "2"}},
                         self.put_raw({"b": {"S": "2"}, "a": {"S": "1"}}))

    def test_put_with_equal_number_spelled_differently(self):
        """'1.0' for 1, '1E2' for 100 and '0.50' for 0.5 are the same numbers."""
        for stored, written in (("1", "1.0"), ("100", "1E2"), ("0.5", "0.50")):
            with self.subTest(stored=stored, written=written):
                self.check_no_op(f"number-{written}", {"n": {"N": stored}},
                                 self.put_raw({"n": {"N": written}}))

    def test_put_with_map_keys_in_another_order(self):
        """A map rewritten with its keys (also nested ones) in another order."""
        initial = {"m": {"M": {"a": {"N": "1"}, "b": {"M": {"c": {"S": "x"}, "d": {"S": "y"}}}}}}
        rewritten = {"m": {"M": {"b": {"M": {"d": {"S": "y"}, "c": {"S": "x"}}}, "a": {"N": "1"}}}}
        self.check_no_op("map-order", initial, self.put_raw(rewritten))

    def test_put_with_nested_number_spelled_differently(self):
        """A number inside a map and a list, spelled differently."""
        initial = {"m": {"M": {"n": {"N": "2"}}}, "l": {"L": [{"N": "3"}]}}
        rewritten = {"m": {"M": {"n": {"N": "2.00"}}}, "l": {"L": [{"N": "3.0"}]}}
        self.check_no_op("nested-number", initial, self.put_raw(rewritten))

    def test_put_with_set_members_in_another_order(self):
        """String, number and binary sets with their members in another order
        (and a number set member spelled differently)."""
        initial = {"ss": {"SS": ["a", "b", "c"]}, "ns": {"NS": ["1", "2", "3"]},
                   "bs": {"BS": [b"\x01", b"\x02"]}}
        rewritten = {"ss": {"SS": ["c", "a", "b"]}, "ns": {"NS": ["3", "1.0", "2"]},
                     "bs": {"BS": [b"\x02", b"\x01"]}}
        self.check_no_op("set-order", initial, self.put_raw(rewritten))

    def test_update_set_to_the_same_value(self):
        """UpdateItem SET of the values the item already has."""
        def no_op(key):
            self.ddb.update_item(TableName=self.table, Key=key,
                                 UpdateExpression="SET s = :s, n = :n",
                                 ExpressionAttributeValues={":s": {"S": "x"}, ":n": {"N": "1.0"}})
        self.check_no_op("update-same", {"s": {"S": "x"}, "n": {"N": "1"}}, no_op)

    def test_failed_conditions(self):
        """PutItem, UpdateItem and DeleteItem whose ConditionExpression fails."""
        condition = {"ConditionExpression": "v = :x",
                     "ExpressionAttributeValues": {":x": {"S": "not-v"}}}

        def no_op(key):
            with self.assertConditionFailed():
                self.ddb.put_item(TableName=self.table, Item=dict(key, v={"S": "other"}),
                                  **condition)
            with self.assertConditionFailed():
                self.ddb.update_item(TableName=self.table, Key=key, UpdateExpression="SET v = :x",
                                     **condition)
            with self.assertConditionFailed():
                self.ddb.delete_item(TableName=self.table, Key=key, **condition)
        self.check_no_op("condition", {"v": {"S": "v"}}, no_op)

    def test_delete_of_missing_item(self):
        """DeleteItem of a key that has no item emits nothing."""
        self.delete(self.table, {"p": "noop-missing"})
        self.put(self.table, {"p": "noop-missing", "v": 1})
        records = self.records_of(self.arn, {"p": "noop-missing"})
        self.assertEqual(self.events(records), ["INSERT"])


class OrderTest(StreamTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_stream_table("NEW_AND_OLD_IMAGES")
        cls.arn = cls.ddb.describe_table(TableName=cls.table)["Table"]["LatestStreamArn"]
        # A seeded random history of real changes over 20 items, with the
        # expected (event, new image, old image) transitions of each item.
        cls.expected = {}
        model = {}
        rng = random.Random(3)
        for i in range(400):
            key = f"item-{rng.randrange(20)}"
            old = model.get(key)
            op = rng.choice(("put", "add", "remove-tag", "delete"))
            if op == "put":
                new = {"p": key, "v": i, "tag": "t" * rng.randrange(1, 50)}
                cls.ddb.put_item(TableName=cls.table, Item=item_av(new))
            elif op == "add":
                new = dict(old or {"p": key})
                new["n"] = new.get("n", 0) + 1
                new["v"] = i
                cls.ddb.update_item(TableName=cls.table, Key=item_av({"p": key}),
                                    UpdateExpression="SET v = :v ADD n :one",
                                    ExpressionAttributeValues=item_av({":v": i, ":one": 1}))
            elif op == "remove-tag" and old is not None and "tag" in old:
                new = {k: v for k, v in old.items() if k != "tag"}
                cls.ddb.update_item(TableName=cls.table, Key=item_av({"p": key}),
                                    UpdateExpression="REMOVE tag")
            elif op == "delete" and old is not None:
                new = None
                cls.ddb.delete_item(TableName=cls.table, Key=item_av({"p": key}))
            else:
                continue  # would change nothing; the no-op tests cover that
            event = "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY")
            cls.expected.setdefault(key, []).append((event, new, old))
            if new is None:
                model.pop(key)
            else:
                model[key] = new
        cls.model = model

    def test_each_item_records_are_its_changes_in_order(self):
        """Grouped by Keys, each item's records are its modifications, in order,
        with the right event names and images."""
        grouped = records_by_key(self.read_stream(self.arn))
        self.assertEqual(len(grouped), len(self.expected))
        for key, transitions in self.expected.items():
            records = grouped[tuple(sorted((k, repr(v)) for k, v in item_av({"p": key}).items()))]
            got = [(r["eventName"],) + self.images(r) for r in records]
            self.assertEqual(got, transitions, f"records of {key}")

    def test_records_fold_to_the_table(self):
        """Applying every record in shard order reproduces a full Scan of the table."""
        folded = {k: item_py(v) for k, v in fold(self.read_stream(self.arn)).items()}
        items, _ = self.scan_all(self.table, ConsistentRead=True)
        table = {tuple(sorted((k, repr(v)) for k, v in {"p": item["p"]}.items())): item_py(item)
                 for item in items}
        self.assertEqual(folded, table)
        self.assertEqual(len(table), len(self.model))

    def test_sequence_numbers_strictly_increase_per_shard(self):
        """Within each shard, sequence numbers are decimal strings that strictly
        increase (numerically), and none precedes the shard's starting number."""
        description = self.describe(self.arn)
        by_shard = self.read_stream(self.arn)
        self.assertEqual(sum(len(r) for r in by_shard.values()),
                         sum(len(t) for t in self.expected.values()))
        for shard in description["Shards"]:
            records = by_shard[shard["ShardId"]]
            for record in records:
                self.assertRegex(record["dynamodb"]["SequenceNumber"], SEQUENCE)
            self.assertStrictlyIncreasing(records, f"shard {shard['ShardId']}")
            if records:
                start = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
                self.assertLessEqual(start, sequence_of(records[0]))
        self.assertGreater(sum(1 for r in by_shard.values() if r), 1,
                           "20 items should spread over more than one shard")

    def test_event_ids_are_unique(self):
        """No two records share an eventID."""
        records = self.all_records(self.arn)
        self.assertEqual(len({r["eventID"] for r in records}), len(records))


# -- enabling, disabling, DescribeTable ------------------------------------------

class StreamLifecycleTest(StreamTestCase):
    def assertStreamArn(self, arn, table):
        self.assertRegex(arn, rf"^arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/"
                              rf"{re.escape(table)}/stream/{LABEL}$")

    def test_create_table_with_stream(self):
        """CreateTable with a StreamSpecification returns and describes the
        stream: StreamSpecification, LatestStreamLabel, LatestStreamArn."""
        name = self.unique_name()
        created = self.ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]
        self._class_tables.append(name)
        self.wait_for_status(name, "ACTIVE")
        described = self.ddb.describe_table(TableName=name)["Table"]
        for table in (created, described):
            self.assertEqual(table["StreamSpecification"],
                             {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
            self.assertStreamArn(table["LatestStreamArn"], name)
            self.assertRegex(table["LatestStreamLabel"], rf"^{LABEL}$")
            self.assertTrue(
                table["LatestStreamArn"].endswith("/stream/" + table["LatestStreamLabel"]))
        self.assertEqual(created["LatestStreamArn"], described["LatestStreamArn"])

    def test_table_without_stream_has_no_stream_fields(self):
        """A table created without a stream shows no stream in DescribeTable."""
        table = self.ddb.describe_table(TableName=self.create_table())["Table"]
        for field in ("StreamSpecification", "LatestStreamArn", "LatestStreamLabel"):
            self.assertNotIn(field, table)

    def test_stream_enabled_false_on_create_makes_no_stream(self):
        """StreamSpecification {StreamEnabled: false} on CreateTable creates no stream."""
        name = self.create_table(StreamSpecification={"StreamEnabled": False})
        self.assertNotIn("LatestStreamArn", self.ddb.describe_table(TableName=name)["Table"])
        self.assertEqual(self.streams.list_streams(TableName=name)["Streams"], [])

    def test_enable_needs_a_view_type(self):
        """StreamEnabled true without StreamViewType is a ValidationException."""
        name = self.create_table()
        with self.assertValidationError():
            self.set_stream(name, True)

    def test_enable_on_existing_table(self):
        """UpdateTable enables a stream on an existing table; only writes made
        after that are in it."""
        name = self.create_table()
        self.put(name, {"p": "before"})
        updated = self.set_stream(name, True, "KEYS_ONLY")["TableDescription"]
        self.assertEqual(updated["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"})
        self.assertStreamArn(updated["LatestStreamArn"], name)
        self.wait_for_status(name, "ACTIVE")
        arn = self.stream_arn(name)
        self.assertEqual(arn, updated["LatestStreamArn"])
        self.put(name, {"p": "after"})
        records = self.all_records(arn)
        self.assertEqual([r["dynamodb"]["Keys"] for r in records], [{"p": {"S": "after"}}])
        self.assertEqual(self.events(records), ["INSERT"])
        self.assertEqual(self.describe(arn)["StreamStatus"], "ENABLED")

    def test_enable_twice_fails(self):
        """Enabling a stream on a table that has one is a ValidationException."""
        name = self.create_stream_table("NEW_IMAGE")
        for view_type in ("NEW_IMAGE", "KEYS_ONLY"):
            with self.subTest(view_type=view_type):
                with self.assertValidationError(
                        f"Table already has an enabled stream: TableName: {name}"):
                    self.set_stream(name, True, view_type)

    def test_disable_without_stream_fails(self):
        """Disabling the stream of a table that has none is a ValidationException."""
        name = self.create_table()
        with self.assertValidationError(f"Table has no stream to disable: TableName: {name}"):
            self.set_stream(name, False)

    def disable_and_wait(self, table, arn):
        self.set_stream(table, False)
        self.wait_for_status(table, "ACTIVE")
        wait_until(lambda: self.describe(arn)["StreamStatus"] == "DISABLED",
                   what=f"stream {arn} to be DISABLED")

    def test_disable_closes_shards_and_stays_readable(self):
        """Disabling a stream: DescribeStream says DISABLED, every shard gets an
        EndingSequenceNumber, each shard reads to its end and then has no
        NextShardIterator, and the stream is still listed; later writes are
        not in it."""
        name = self.create_stream_table("NEW_AND_OLD_IMAGES")
        arn = self.stream_arn(name)
        for n in range(12):
            self.put(name, {"p": f"k{n}", "v": n})
        before = self.read_stream(arn)
        self.disable_and_wait(name, arn)
        self.put(name, {"p": "after-disable"})
        description = self.describe(arn)
        self.assertEqual(description["StreamStatus"], "DISABLED")
        self.assertEqual(sorted(s["ShardId"] for s in description["Shards"]), sorted(before))
        total = 0
        for shard in description["Shards"]:
            with self.subTest(shard=shard["ShardId"]):
                numbers = shard["SequenceNumberRange"]
                self.assertIn("EndingSequenceNumber", numbers)
                self.assertRegex(numbers["EndingSequenceNumber"], SEQUENCE)
                self.assertGreaterEqual(int(numbers["EndingSequenceNumber"]),
                                        int(numbers["StartingSequenceNumber"]))
                iterator = self.iterator(arn, shard["ShardId"])
                pages, last = read_pages(self.streams, iterator, until_closed=True)
                self.assertIsNone(last)
                self.assertNotIn("NextShardIterator", pages[-1])
                records = [r for p in pages for r in p["Records"]]
                self.assertEqual(records, before[shard["ShardId"]])
                if records:
                    self.assertLessEqual(sequence_of(records[-1]),
                                         int(numbers["EndingSequenceNumber"]))
                total += len(records)
        self.assertEqual(total, 12)
        listed = self.streams.list_streams(TableName=name)["Streams"]
        self.assertEqual([s["StreamArn"] for s in listed], [arn])
        spec = self.ddb.describe_table(TableName=name)["Table"].get("StreamSpecification", {})
        self.assertFalse(spec.get("StreamEnabled"), f"stream still enabled: {spec}")

    def test_closed_shard_read_from_latest_ends(self):
        """A LATEST iterator on a closed shard has nothing to read and no next iterator."""
        name = self.create_stream_table("KEYS_ONLY")
        arn = self.stream_arn(name)
        self.put(name, {"p": "x"})
        self.disable_and_wait(name, arn)
        for shard_id in self.shard_ids(arn):
            pages, last = read_pages(self.streams, self.iterator(arn, shard_id, "LATEST"),
                                     until_closed=True)
            self.assertIsNone(last)
            self.assertEqual([r for p in pages for r in p["Records"]], [])

    def test_reenable_creates_a_new_stream(self):
        """Disable then enable gives a new stream ARN and label; the old stream
        stays DISABLED and readable, the new one is ENABLED and gets new writes."""
        name = self.create_stream_table("NEW_IMAGE")
        old_arn = self.stream_arn(name)
        self.put(name, {"p": "one"})
        self.disable_and_wait(name, old_arn)
        self.set_stream(name, True, "OLD_IMAGE")
        self.wait_for_status(name, "ACTIVE")
        table = self.ddb.describe_table(TableName=name)["Table"]
        new_arn = table["LatestStreamArn"]
        self.assertNotEqual(new_arn, old_arn)
        self.assertStreamArn(new_arn, name)
        self.assertEqual(table["StreamSpecification"],
                         {"StreamEnabled": True, "StreamViewType": "OLD_IMAGE"})
        self.assertNotEqual(self.describe(new_arn)["StreamLabel"],
                            self.describe(old_arn)["StreamLabel"])
        self.put(name, {"p": "one", "v": 2})
        self.assertEqual(self.describe(old_arn)["StreamStatus"], "DISABLED")
        self.assertEqual(self.describe(new_arn)["StreamStatus"], "ENABLED")
        self.assertEqual(self.describe(new_arn)["StreamViewType"], "OLD_IMAGE")
        old = self.all_records(old_arn)
        new = self.all_records(new_arn)
        self.assertEqual(self.events(old), ["INSERT"])
        self.assertEqual(self.events(new), ["MODIFY"])
        self.assertEqual(self.images(new[0]), (None, {"p": "one"}))
        listed = {s["StreamArn"] for s in self.streams.list_streams(TableName=name)["Streams"]}
        self.assertEqual(listed, {old_arn, new_arn})


# -- ListStreams (a server of its own, so the set of streams is known) ---------------

class ListStreamsTest(StreamTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tables = [cls.create_stream_table(v) for v in VIEW_TYPES]
        cls.plain = cls.create_table()
        # One table with two streams: enabled, disabled, enabled again.
        cls.twice = cls.create_stream_table("KEYS_ONLY")
        first = cls.ddb.describe_table(TableName=cls.twice)["Table"]["LatestStreamArn"]
        cls.ddb.update_table(TableName=cls.twice, StreamSpecification={"StreamEnabled": False})
        cls.wait_for_status(cls.twice, "ACTIVE")
        cls.ddb.update_table(TableName=cls.twice, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
        cls.wait_for_status(cls.twice, "ACTIVE")
        second = cls.ddb.describe_table(TableName=cls.twice)["Table"]["LatestStreamArn"]
        cls.twice_arns = {first, second}
        cls.arns = {cls.ddb.describe_table(TableName=t)["Table"]["LatestStreamArn"]
                    for t in cls.tables} | cls.twice_arns

    def list_all(self, **kw):
        """Every page of ListStreams: (streams, pages)."""
        streams, pages = [], []
        while True:
            page = self.streams.list_streams(**kw)
            pages.append(page)
            streams.extend(page["Streams"])
            if "LastEvaluatedStreamArn" not in page:
                return streams, pages
            self.assertLess(len(pages), 100, "ListStreams pagination does not end")
            kw["ExclusiveStartStreamArn"] = page["LastEvaluatedStreamArn"]

    def test_lists_every_stream(self):
        """ListStreams without a filter lists each stream once, with its table and label."""
        page = self.streams.list_streams()
        self.assertNotIn("LastEvaluatedStreamArn", page)
        streams = page["Streams"]
        self.assertEqual(sorted(s["StreamArn"] for s in streams), sorted(self.arns))
        for stream in streams:
            self.assertEqual(set(stream), {"StreamArn", "TableName", "StreamLabel"})
            self.assertTrue(stream["StreamArn"].endswith(
                f":table/{stream['TableName']}/stream/{stream['StreamLabel']}"))

    def test_pagination_with_limit(self):
        """Limit 1, 2 and 3 page through every stream exactly once; LastEvaluatedStreamArn
        is the last stream of its page."""
        for limit in (1, 2, 3):
            with self.subTest(limit=limit):
                streams, pages = self.list_all(Limit=limit)
                arns = [s["StreamArn"] for s in streams]
                self.assertEqual(len(arns), len(set(arns)), "a stream was listed twice")
                self.assertEqual(set(arns), self.arns)
                self.assertGreaterEqual(len(pages), -(-len(self.arns) // limit))
                for page in pages:
                    self.assertLessEqual(len(page["Streams"]), limit)
                    if "LastEvaluatedStreamArn" in page:
                        self.assertEqual(page["LastEvaluatedStreamArn"],
                                         page["Streams"][-1]["StreamArn"])

    def test_table_name_filter(self):
        """TableName lists only that table's streams, disabled ones included."""
        for table in self.tables:
            streams = self.streams.list_streams(TableName=table)["Streams"]
            self.assertEqual([s["TableName"] for s in streams], [table])
        streams, _ = self.list_all(TableName=self.twice, Limit=1)
        self.assertEqual({s["StreamArn"] for s in streams}, self.twice_arns)
        self.assertEqual(self.streams.list_streams(TableName=self.plain)["Streams"], [])

    def test_limit_out_of_range(self):
        """Limit must be 1..100."""
        for limit in (0, 101):
            with self.subTest(limit=limit):
                with self.assertValidationError():
                    self.streams.list_streams(Limit=limit)


# -- DescribeStream, GetShardIterator, GetRecords ------------------------------------

class StreamReadTest(StreamTestCase):
    def setUp(self):
        # A fresh stream per test; every item has partition key "one", so all
        # records are in one shard, in write order.
        self.table = self.create_stream_table("NEW_AND_OLD_IMAGES", range_key=("c", "N"))
        self.arn = self.stream_arn(self.table)

    def write(self, *sort_keys):
        for c in sort_keys:
            self.put(self.table, {"p": "one", "c": c})

    def sort_keys(self, records):
        return [int(r["dynamodb"]["Keys"]["c"]["N"]) for r in records]

    def test_describe_stream_shape(self):
        """DescribeStream: ARN, label, ENABLED, view type, table, key schema, and
        open shards with AWS-shaped ids and a StartingSequenceNumber."""
        d = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]
        self.assertEqual(d["StreamArn"], self.arn)
        self.assertRegex(d["StreamArn"], rf"^arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/"
                                         rf"{re.escape(self.table)}/stream/{LABEL}$")
        self.assertTrue(self.arn.endswith("/stream/" + d["StreamLabel"]))
        self.assertEqual(d["StreamStatus"], "ENABLED")
        self.assertEqual(d["StreamViewType"], "NEW_AND_OLD_IMAGES")
        self.assertEqual(d["TableName"], self.table)
        self.assertEqual(d["KeySchema"], [{"AttributeName": "p", "KeyType": "HASH"},
                                          {"AttributeName": "c", "KeyType": "RANGE"}])
        self.assertIsInstance(d["CreationRequestDateTime"], datetime.datetime)
        self.assertGreaterEqual(len(d["Shards"]), 1)
        ids = [s["ShardId"] for s in d["Shards"]]
        self.assertEqual(len(ids), len(set(ids)))
        for shard in d["Shards"]:
            self.assertRegex(shard["ShardId"], SHARD_ID)
            numbers = shard["SequenceNumberRange"]
            self.assertRegex(numbers["StartingSequenceNumber"], SEQUENCE)
            self.assertNotIn("EndingSequenceNumber", numbers)

    def test_describe_stream_pages_shards(self):
        """DescribeStream with Limit 1 pages through the shards; the
        ExclusiveStartShardId itself is never returned again."""
        first = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]
        everything = [s["ShardId"] for s in first["Shards"]]
        seen, kw = [], {}
        for _ in range(len(everything) + 2):
            d = self.streams.describe_stream(StreamArn=self.arn, Limit=1, **kw)["StreamDescription"]
            self.assertLessEqual(len(d["Shards"]), 1)
            seen.extend(s["ShardId"] for s in d["Shards"])
            if "LastEvaluatedShardId" not in d:
                break
            self.assertEqual(d["LastEvaluatedShardId"], d["Shards"][-1]["ShardId"])
            kw["ExclusiveStartShardId"] = d["LastEvaluatedShardId"]
        self.assertEqual(seen, everything)

    def test_trim_horizon_reads_from_the_start(self):
        """TRIM_HORIZON starts at the oldest record."""
        self.write(*range(5))
        shard_id, _ = self.shard_holding(self.arn, 5)
        self.assertEqual(self.sort_keys(self.read_shard(self.arn, shard_id)), list(range(5)))

    def test_latest_sees_only_later_writes(self):
        """LATEST starts just after the newest record: only later writes are read."""
        self.write(0, 1, 2)
        shard_id, _ = self.shard_holding(self.arn, 3)
        iterator = self.iterator(self.arn, shard_id, "LATEST")
        page = self.streams.get_records(ShardIterator=iterator)
        self.assertEqual(page["Records"], [])
        self.write(3, 4)
        records, _ = read_pages(self.streams, page["NextShardIterator"])
        self.assertEqual(self.sort_keys([r for p in records for r in p["Records"]]), [3, 4])
        # A LATEST iterator taken before the writes, read only after them.
        iterator = self.iterator(self.arn, shard_id, "LATEST")
        self.write(5)
        pages, _ = read_pages(self.streams, iterator)
        self.assertEqual(self.sort_keys([r for p in pages for r in p["Records"]]), [5])

    def test_at_sequence_number_includes_that_record(self):
        """AT_SEQUENCE_NUMBER starts at exactly the given record."""
        self.write(*range(6))
        shard_id, records = self.shard_holding(self.arn, 6)
        for i, record in enumerate(records):
            with self.subTest(at=i):
                got = self.read_shard(self.arn, shard_id, kind="AT_SEQUENCE_NUMBER",
                                      sequence=record["dynamodb"]["SequenceNumber"])
                self.assertEqual(self.sort_keys(got), list(range(i, 6)))
                self.assertEqual(got[0], record)

    def test_after_sequence_number_excludes_that_record(self):
        """AFTER_SEQUENCE_NUMBER starts right after the given record and never
        returns it, also when it is the newest record."""
        self.write(*range(6))
        shard_id, records = self.shard_holding(self.arn, 6)
        for i, record in enumerate(records):
            with self.subTest(after=i):
                sequence = record["dynamodb"]["SequenceNumber"]
                got = self.read_shard(self.arn, shard_id, kind="AFTER_SEQUENCE_NUMBER",
                                      sequence=sequence)
                self.assertEqual(self.sort_keys(got), list(range(i + 1, 6)))
                self.assertNotIn(sequence, [r["dynamodb"]["SequenceNumber"] for r in got])
        # After the newest record: empty, then exactly the next write.
        iterator = self.iterator(self.arn, shard_id, "AFTER_SEQUENCE_NUMBER",
                                 records[-1]["dynamodb"]["SequenceNumber"])
        page = self.streams.get_records(ShardIterator=iterator)
        self.assertEqual(page["Records"], [])
        self.write(6)
        pages, _ = read_pages(self.streams, page["NextShardIterator"])
        self.assertEqual(self.sort_keys([r for p in pages for r in p["Records"]]), [6])

    def test_limit_one_steps_through_records(self):
        """GetRecords Limit 1 returns one record a page, in order, each once."""
        self.write(*range(4))
        shard_id, _ = self.shard_holding(self.arn, 4)
        pages, _ = read_pages(self.streams, self.iterator(self.arn, shard_id), limit=1)
        self.assertEqual([len(p["Records"]) for p in pages], [1, 1, 1, 1, 0])
        self.assertEqual(self.sort_keys([r for p in pages for r in p["Records"]]), [0, 1, 2, 3])

    def test_empty_shard_gives_empty_page_and_live_iterator(self):
        """GetRecords on a shard with no records returns [] and a NextShardIterator
        that later returns the records written after it."""
        nexts = {}
        for shard_id in self.shard_ids(self.arn):
            page = self.streams.get_records(ShardIterator=self.iterator(self.arn, shard_id))
            self.assertEqual(page["Records"], [])
            self.assertIn("NextShardIterator", page)
            nexts[shard_id] = page["NextShardIterator"]
        self.write(42)
        found = []
        for shard_id, iterator in nexts.items():
            page = self.streams.get_records(ShardIterator=iterator)
            found.extend(page["Records"])
            self.assertIn("NextShardIterator", page)
        self.assertEqual(self.sort_keys(found), [42])

    def test_bad_shard_iterator(self):
        """A shard iterator that is not one of ours is a ValidationException."""
        self.write(0)
        shard_id, _ = self.shard_holding(self.arn, 1)
        good = self.iterator(self.arn, shard_id)
        for bad in ("not-an-iterator", good[:-3], good[:-1] + ("1" if good[-1] != "1" else "2")):
            with self.subTest(iterator=bad):
                with self.assertValidationError():
                    self.streams.get_records(ShardIterator=bad)

    def test_unknown_stream(self):
        """DescribeStream, GetShardIterator of a stream that does not exist:
        ResourceNotFoundException."""
        label = "2001-01-01T00:00:00.000"
        shard_id = self.shard_ids(self.arn)[0]
        for arn in (self.arn.rsplit("/", 1)[0] + "/" + label,
                    f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/no-such-table/stream/{label}"):
            with self.subTest(arn=arn):
                with self.assertDynamoError("ResourceNotFoundException"):
                    self.streams.describe_stream(StreamArn=arn)
                with self.assertDynamoError("ResourceNotFoundException"):
                    self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                                    ShardIteratorType="TRIM_HORIZON")

    def test_unknown_shard(self):
        """GetShardIterator for a shard the stream does not have: ResourceNotFoundException."""
        with self.assertDynamoError("ResourceNotFoundException"):
            self.streams.get_shard_iterator(StreamArn=self.arn,
                                            ShardId="shardId-00000001000000000000-0badf00d",
                                            ShardIteratorType="TRIM_HORIZON")

    def test_sequence_number_required_for_at_and_after(self):
        """AT_ and AFTER_SEQUENCE_NUMBER without a SequenceNumber: ValidationException."""
        shard_id = self.shard_ids(self.arn)[0]
        for kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            with self.subTest(kind=kind):
                with self.assertValidationError():
                    self.streams.get_shard_iterator(StreamArn=self.arn, ShardId=shard_id,
                                                    ShardIteratorType=kind)


# -- paging a big shard -----------------------------------------------------------------

class StreamPagingTest(StreamTestCase):
    RECORDS = 10000
    BIG_ITEMS = 320
    BIG_VALUE = 10 * 1024

    def big_value(self, c):
        """A ~10 KB string that differs per item."""
        return f"{c:06d}" * (self.BIG_VALUE // 6)

    def test_page_through_10000_records_with_limit_1000(self):
        """10,000 records in one shard (one partition key) come back exactly once,
        in order, in pages of at most 1000, with Limit 1000 and with no Limit."""
        table = self.create_stream_table("NEW_IMAGE", range_key=("c", "N"))
        arn = self.stream_arn(table)
        raw_put_items(self.server, table, (item_av({"p": "bulk", "c": c, "v": "x" * (c % 7)})
                                           for c in range(self.RECORDS)))
        shard_id, _ = self.shard_holding(arn, self.RECORDS)
        for limit in (1000, None):
            with self.subTest(limit=limit):
                pages, _ = read_pages(self.streams, self.iterator(arn, shard_id), limit=limit)
                sizes = [len(p["Records"]) for p in pages]
                self.assertTrue(all(s <= 1000 for s in sizes), sizes)
                self.assertGreaterEqual(len(pages), self.RECORDS // 1000)
                records = [r for p in pages for r in p["Records"]]
                self.assertEqual([int(r["dynamodb"]["Keys"]["c"]["N"]) for r in records],
                                 list(range(self.RECORDS)))
                self.assertStrictlyIncreasing(records)
        # An AT_SEQUENCE_NUMBER iterator in the middle reads the rest.
        middle = records[5000]
        rest = self.read_shard(arn, shard_id, kind="AT_SEQUENCE_NUMBER",
                               sequence=middle["dynamodb"]["SequenceNumber"], limit=1000)
        self.assertEqual(len(rest), self.RECORDS - 5000)
        self.assertEqual(rest[0]["dynamodb"]["Keys"]["c"]["N"], "5000")

    def test_pages_stop_at_one_megabyte(self):
        """Records of ~10 KB items: a page holds at most 1 MB of records (far fewer
        than Limit 1000), and paging returns every record exactly once, in order."""
        table = self.create_stream_table("NEW_IMAGE", range_key=("c", "N"))
        arn = self.stream_arn(table)
        raw_put_items(self.server, table, (item_av({"p": "big", "c": c, "v": self.big_value(c)})
                                           for c in range(self.BIG_ITEMS)))
        shard_id, _ = self.shard_holding(arn, self.BIG_ITEMS)
        pages, _ = read_pages(self.streams, self.iterator(arn, shard_id), limit=1000)
        full = [p for p in pages if p["Records"]]
        self.assertGreaterEqual(len(full), 3, "3 MB of records fit in fewer than 3 pages")
        for page in full:
            size = sum(r["dynamodb"]["SizeBytes"] for r in page["Records"])
            self.assertLessEqual(size, ONE_MB, f"a page of {len(page['Records'])} records "
                                               f"holds {size} bytes")
            self.assertLess(len(page["Records"]), 1000)
            for record in page["Records"]:
                self.assertGreater(record["dynamodb"]["SizeBytes"], self.BIG_VALUE - 100)
        records = [r for p in full for r in p["Records"]]
        self.assertEqual([int(r["dynamodb"]["Keys"]["c"]["N"]) for r in records],
                         list(range(self.BIG_ITEMS)))
        for record in records:
            c = int(record["dynamodb"]["Keys"]["c"]["N"])
            self.assertEqual(record["dynamodb"]["NewImage"]["v"]["S"], self.big_value(c))
        self.assertStrictlyIncreasing(records)


if __name__ == "__main__":
    unittest.main()
