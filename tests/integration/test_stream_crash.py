"""Change capture survives kill -9 (DESIGN.md invariants 1-3 and 6).

Writers on several connections put, update (ADD) and delete items of a
bounded key set in a table with a NEW_AND_OLD_IMAGES stream; the server is
SIGKILLed mid-load and restarted on the same data directory, many times.
After each restart the whole stream, read from TRIM_HORIZON, must account
for every acknowledged write exactly once, hold nothing that was never sent,
keep sequence numbers strictly increasing per shard, and fold to the table.

Every put and update writes a unique `w`, so a record's NewImage names the
write that made it; a delete is named by the `w` of the item it removed
(ReturnValues ALL_OLD tells the writer which one that was).
"""

import os
import random
import sys
import threading
import time
import unittest
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import EddyServer, item_py  # noqa: E402
from test_streams import key_of, read_stream, sequence_of  # noqa: E402

CYCLES = 20
WRITERS = 4
KEYS = [f"k{i:03d}" for i in range(200)]
TABLE = "crash"


class Writes:
    """What the writers sent and what the server acknowledged, across cycles."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sent = set()          # every w a put or update carried
        self.acked_images = {}     # w -> the item the acknowledged write produced
        self.acked_puts = {}       # w -> the item a put replaced (None: none)
        self.acked_removals = {}   # w of a deleted item -> the item deleted
        self.unanswered = 0        # writes that failed: in flight at the kill, or refused


class Load:
    """One thread per client, writing until stopped.

    The clients outlive a cycle (making a boto3 client costs ~0.3 s): after a
    restart on the same port their connection pools simply reconnect.
    """

    def __init__(self, clients, writes, cycle, seed):
        self.clients, self.writes, self.cycle = clients, writes, cycle
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.write, args=(n, random.Random(seed + n)))
                        for n in range(WRITERS)]
        self.acked = 0

    def write(self, writer, rng):
        client, n, writes = self.clients[writer], 0, self.writes
        while not self.stop.is_set():
            key = {"p": {"S": rng.choice(KEYS)}}
            w = f"c{self.cycle}-w{writer}-{n}"
            n += 1
            op = rng.random()
            try:
                if op < 0.4:
                    item = dict(key, w={"S": w}, n={"N": str(rng.randrange(1000))})
                    with writes.lock:
                        writes.sent.add(w)
                    old = client.put_item(TableName=TABLE, Item=item,
                                          ReturnValues="ALL_OLD").get("Attributes")
                    with writes.lock:
                        writes.acked_images[w] = item_py(item)
                        writes.acked_puts[w] = item_py(old) if old else None
                elif op < 0.8:
                    with writes.lock:
                        writes.sent.add(w)
                    new = client.update_item(
                        TableName=TABLE, Key=key, UpdateExpression="SET w = :w ADD n :d",
                        ExpressionAttributeValues={":w": {"S": w},
                                                   ":d": {"N": str(rng.randrange(1, 10))}},
                        ReturnValues="ALL_NEW")["Attributes"]
                    with writes.lock:
                        writes.acked_images[w] = item_py(new)
                else:
                    old = client.delete_item(TableName=TABLE, Key=key,
                                             ReturnValues="ALL_OLD").get("Attributes")
                    if old:
                        with writes.lock:
                            writes.acked_removals[old["w"]["S"]] = item_py(old)
            except (BotoCoreError, ClientError, OSError):
                # The server is gone: this write may or may not have committed.
                with writes.lock:
                    writes.unanswered += 1
                self.stop.wait(0.05)
                continue
            with writes.lock:
                self.acked += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
        if any(t.is_alive() for t in self.threads):
            raise AssertionError("a writer thread did not stop")
        return False


class StreamCrashIntegrationTest(unittest.TestCase):
    cycles = CYCLES
    server_args = ()

    def setUp(self):
        self.server = EddyServer(extra_args=self.server_args)
        self.server.require_process()
        self.server.start()
        self.addCleanup(self.server.stop)
        self.writer_clients = [self.server.client() for _ in range(WRITERS)]
        self.client = self.server.client()
        self.streams = self.server.client("dynamodbstreams")
        self.client.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})

    def test_stream_accounts_for_every_write_across_kill9(self):
        """20 kill -9 cycles under a 4-connection put/update/delete load: every
        acknowledged write has exactly one record, no record is for a write never
        sent, sequence numbers strictly increase per shard, and folding the
        stream reproduces the table."""
        seed = int(os.environ.get("EDDY_TEST_SEED", time.time_ns() % 1_000_000))
        rng = random.Random(seed)
        writes = Writes()
        started = time.monotonic()
        for cycle in range(self.cycles):
            with Load(self.writer_clients, writes, cycle, rng.randrange(1 << 30)) as load:
                time.sleep(rng.uniform(0.2, 0.8))
                self.server.kill9()
            self.server.restart()
            try:
                self.assertGreater(load.acked, 0, "no write was acknowledged")
                self.check(writes)
            except AssertionError as e:
                raise AssertionError(f"after kill -9 number {cycle + 1} "
                                     f"(EDDY_TEST_SEED={seed}): {e}") from e
        self.after_cycles()
        print(f"\n{self.cycles} cycles, {len(writes.acked_images)} acknowledged puts/updates, "
              f"{len(writes.acked_removals)} deletes, {writes.unanswered} unanswered, "
              f"{time.monotonic() - started:.1f} s (seed {seed})", file=sys.stderr)

    def after_cycles(self):
        pass

    def check(self, writes):
        check_stream_accounts_for_writes(self, self.client, self.streams, writes)


def check_stream_accounts_for_writes(self, client, streams, writes):
    """The checks after each restart (also used by test_disk_full): `self`
    is the running TestCase."""
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    by_shard = read_stream(streams, arn)

    # (c) Per shard, sequence numbers are unique and strictly increase.
    for shard_id, records in by_shard.items():
        numbers = [sequence_of(r) for r in records]
        bad = [(a, b) for a, b in zip(numbers, numbers[1:]) if a >= b]
        self.assertEqual(bad, [], f"shard {shard_id}: sequence numbers not increasing")

    # Per item, in shard order, the records chain: each one's OldImage is
    # the previous one's NewImage; INSERT only when there was no item.
    new_by_w, removed_by_w, previous = {}, {}, {}
    for shard_id, records in by_shard.items():
        for record in records:
            key, d, event = key_of(record), record["dynamodb"], record["eventName"]
            new = item_py(d["NewImage"]) if "NewImage" in d else None
            old = item_py(d["OldImage"]) if "OldImage" in d else None
            self.assertEqual(d["Keys"], {"p": d.get("NewImage", d.get("OldImage", {}))["p"]})
            self.assertEqual(old, previous.get(key),
                             f"{event} {d['SequenceNumber']} of {key}: OldImage is not "
                             f"the item's previous NewImage")
            self.assertEqual(event, "INSERT" if old is None else
                             "REMOVE" if new is None else "MODIFY")
            if new is not None:
                new_by_w.setdefault(new["w"], []).append(record)
                previous[key] = new
            else:
                self.assertIsNotNone(old, f"{key}: a record with no image")
                removed_by_w.setdefault(old["w"], []).append(record)
                previous.pop(key, None)

    with writes.lock:
        sent = set(writes.sent)
        acked_images = dict(writes.acked_images)
        acked_puts = dict(writes.acked_puts)
        acked_removals = dict(writes.acked_removals)

    # (b) No record of a write that was never sent; none recorded twice.
    self.assertEqual(sorted(set(new_by_w) - sent), [], "records of writes never sent")
    self.assertEqual(sorted(set(removed_by_w) - sent), [], "removals of items never written")
    self.assertEqual([w for w, rs in new_by_w.items() if len(rs) > 1], [],
                     "writes with more than one record")
    self.assertEqual([w for w, rs in removed_by_w.items() if len(rs) > 1], [],
                     "items removed more than once")

    # (a) Every acknowledged write has its record, with the acknowledged images.
    missing = sorted(set(acked_images) - set(new_by_w))
    self.assertEqual(missing, [], f"{len(missing)} of {len(acked_images)} acknowledged "
                                  f"puts/updates have no record")
    for w, image in acked_images.items():
        d = new_by_w[w][0]["dynamodb"]
        self.assertEqual(item_py(d["NewImage"]), image, f"NewImage of write {w}")
        if w in acked_puts:
            old = item_py(d["OldImage"]) if "OldImage" in d else None
            self.assertEqual(old, acked_puts[w], f"OldImage of put {w}")
    missing = sorted(set(acked_removals) - set(removed_by_w))
    self.assertEqual(missing, [], f"{len(missing)} of {len(acked_removals)} acknowledged "
                                  f"deletes have no REMOVE record")
    for w, item in acked_removals.items():
        self.assertEqual(item_py(removed_by_w[w][0]["dynamodb"]["OldImage"]), item)

    # (d) Folding every shard's records reproduces the table, item for item.
    table, kw = {}, {}
    while True:
        page = client.scan(TableName=TABLE, ConsistentRead=True, **kw)
        for item in page["Items"]:
            table[item["p"]["S"]] = item_py(item)
        if "LastEvaluatedKey" not in page:
            break
        kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    folded = {item["p"]: item for item in previous.values()}
    self.assertEqual(sorted(folded), sorted(table), "folded keys differ from the table's")
    self.assertEqual(folded, table, "folded items differ from the table's")


class StreamCrashRolloverIntegrationTest(StreamCrashIntegrationTest):
    """The same with the stream rolling over every second (issue 14): kills
    land before, during and after rollovers; the closed shards, their
    children and the records of both account for every write, and reading
    parents before children folds to the table."""

    cycles = 10
    server_args = ("--stream-shard-rollover", "1s")

    def after_cycles(self):
        arn = self.client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.assertGreater(len(shards), 8, "the stream did not roll over repeatedly")


if __name__ == "__main__":
    unittest.main()
