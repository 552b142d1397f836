"""Soak: a mixed load under SIGKILL, checked after every restart (issue 15).

    python3 tests/integration/soak.py [--minutes M | --cycles N] [--seed S]

(scripts/soak builds first and runs this; tests/integration/test_soak.py
runs a few cycles in CI.) Each cycle runs writers against a real server
for a random moment, SIGKILLs it mid-load, restarts it on the same data
directory, waits for the triggers, and checks everything that must have
survived. The load:

- table A (hash key p): PutItem (some conditional, some with a TTL
  attribute already expired or in the future, some with a GSI key g, some
  marked `fail`), UpdateItem, DeleteItem; a GSI on g; TTL on exp, swept
  every second, so the sweeper's deletes race the writers and the kills;
- table B (hash p, range s): PutItem and UpdateItem, some marked `throw`
  or `crash`;
- BatchWriteItem across both tables, and TransactWriteItems (a Put in A and
  an Update in B, sometimes a Delete in B and a ConditionCheck that fails);
- a trigger on each table running tests/handlers/soak.cc, which fails the
  marked records (a batch item failure for `fail`, an exception for
  `throw`, an abort of the worker for `crash`); A's trigger reports batch
  item failures, B's bisects; both give up after a retry or two into an
  on-failure file.

Every item write carries a unique `w`, so a stream record names the write
that made it. Each key belongs to one writer thread, which knows the order
of its own writes and how each ended: acknowledged, refused (a failed
condition or a cancelled transaction: certainly not applied), or unknown
(in flight at the kill, or an error).

After each restart:
1. acknowledged writes are present: each key holds the outcome of its last
   acknowledged write or of an unknown write after it (or is gone by TTL,
   which the stream shows);
2. one stream record per change: every acknowledged put and update has
   exactly one record, with the acknowledged image; no record names a write
   never sent, a refused one, or one that already has a record; a
   transaction's writes are all recorded or none; each record's OldImage is
   the previous record's NewImage; sequence numbers increase per shard; a
   service (TTL) REMOVE only takes an expired item;
3. the fold of the stream equals the table, and the GSI equals the items of
   A that have g;
4. after `eddy trigger wait`, every record is handled (logged by the
   handler) or dead-lettered (in the on-failure file), no marked record is
   handled, and the triggers have nothing pending.

The stream is read incrementally (from where the last check stopped);
every REVERIFY_EVERY cycles and at the end it is read again from
TRIM_HORIZON and must be the same records. At the end the server must
have swept every expired item and shut down cleanly on SIGTERM.
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eddy_server import EddyServer, item_py, test_environment, wait_until  # noqa: E402
from test_streams import describe_stream, read_shard, sequence_of  # noqa: E402
from trigger_harness import built_handler, install_library  # noqa: E402

TABLE_A = "soak_a"
TABLE_B = "soak_b"
INDEX = "by_g"
WRITERS = 4
KEYS_PER_WRITER = 40
REVERIFY_EVERY = 20
# Load runs this long (uniform, seconds) before the kill.
LOAD_SECONDS = (0.3, 2.0)
MARKERS = ("fail", "throw", "crash")
SERVICE = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}
# Definitive refusals: the write was certainly not applied.
REFUSALS = {"ConditionalCheckFailedException", "TransactionCanceledException"}


class SoakFailure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise SoakFailure(message)


# -- what the writers did ------------------------------------------------------

class Write:
    """One item write of one key: a put or update (with its unique w) or a
    delete (w None). `image`: the acknowledged item, when the answer says."""

    __slots__ = ("key", "w", "status", "image", "group")

    def __init__(self, key, w, group=None):
        self.key, self.w, self.group = key, w, group
        self.status = "unknown"
        self.image = None


class Ledger:
    """Every write of every key, in each key's order (a key has one writer)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_key = {}      # key -> [Write]
        self.by_w = {}        # w -> Write
        self.groups = []      # [[w, ...]] of each transaction
        self.removals = {}    # w of an item an acknowledged DeleteItem removed -> item
        self.counts = {}      # outcome name -> count

    def add(self, key, w=None, group=None):
        write = Write(key, w, group)
        with self.lock:
            self.by_key.setdefault(key, []).append(write)
            if w is not None:
                self.by_w[w] = write
        return write

    def count(self, what, n=1):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + n


def key_tuple(table, item):
    """(table, p, s) of an item or a key (s None in A)."""
    s = item.get("s")
    return (table, item["p"], None if s is None else int(s))


def marker_names(expression):
    """ExpressionAttributeNames for the markers an expression names (FAIL
    and THROW are reserved words)."""
    return {f"#{m}": m for m in MARKERS if f"#{m}" in expression}


def key_av(key):
    table, p, s = key
    out = {"p": {"S": p}}
    if s is not None:
        out["s"] = {"N": str(s)}
    return out


class Writer(threading.Thread):
    """Writes its own keys until stopped or the server goes away."""

    def __init__(self, soak, index, cycle, seed):
        super().__init__(name=f"soak-writer-{index}", daemon=True)
        self.soak, self.index, self.cycle = soak, index, cycle
        self.rng = random.Random(seed)
        self.client = soak.clients[index]
        self.ledger = soak.ledger
        self.stop = threading.Event()
        self.n = 0
        self.error = None

    def next_w(self):
        self.n += 1
        return f"c{self.cycle}-w{self.index}-{self.n}"

    def key(self, table):
        p = f"w{self.index}-k{self.rng.randrange(KEYS_PER_WRITER):03d}"
        return (table, p, None) if table == TABLE_A else (table, p, self.rng.randrange(2))

    def item_a(self, key, w):
        rng = self.rng
        item = {"p": {"S": key[1]}, "w": {"S": w}, "n": {"N": str(rng.randrange(1000))}}
        if rng.random() < 0.5:
            item["g"] = {"S": f"g{rng.randrange(8)}"}
        roll = rng.random()
        if roll < 0.12:
            item["exp"] = {"N": str(int(time.time()) - 100)}   # expired: TTL takes it
        elif roll < 0.17:
            item["exp"] = {"N": str(int(time.time()) + 3600)}
        if rng.random() < 0.03:
            item["fail"] = {"BOOL": True}
        if rng.random() < 0.2:
            item["pad"] = {"S": "x" * rng.randrange(1, 2000)}
        return item

    def item_b(self, key, w):
        rng = self.rng
        item = dict(key_av(key), w={"S": w}, n={"N": str(rng.randrange(1000))})
        roll = rng.random()
        if roll < 0.03:
            item["throw"] = {"BOOL": True}
        elif roll < 0.035:
            item["crash"] = {"BOOL": True}
        return item

    def run(self):
        try:
            while not self.stop.is_set():
                try:
                    self.one_operation()
                except ClientError as e:
                    code = e.response.get("Error", {}).get("Code", "")
                    if code not in ("InternalServerError", "ThrottlingException",
                                    "ServiceUnavailable"):
                        raise
                    self.ledger.count(f"error {code}")
                except (BotoCoreError, OSError):
                    # The server is gone (the kill): this write's fate is unknown.
                    self.ledger.count("unanswered")
                    return
        except BaseException as e:  # noqa: BLE001 - reported by the cycle
            self.error = e

    # Each operation registers its writes (status unknown) before it sends
    # them, then marks them acknowledged or refused from the answer.
    def one_operation(self):
        roll = self.rng.random()
        if roll < 0.25:
            self.put(TABLE_A)
        elif roll < 0.42:
            self.update(TABLE_A)
        elif roll < 0.52:
            self.delete()
        elif roll < 0.62:
            self.put(TABLE_B)
        elif roll < 0.70:
            self.update(TABLE_B)
        elif roll < 0.85:
            self.batch()
        else:
            self.transaction()

    def put(self, table):
        key, w = self.key(table), self.next_w()
        item = self.item_a(key, w) if table == TABLE_A else self.item_b(key, w)
        kw = {}
        if self.rng.random() < 0.1:
            kw["ConditionExpression"] = "attribute_not_exists(p)"
        write = self.ledger.add(key, w)
        try:
            self.client.put_item(TableName=table, Item=item, **kw)
        except ClientError as e:
            self.refused(e, [write])
            return
        write.image, write.status = item_py(item), "acked"
        self.ledger.count("PutItem")

    def update(self, table):
        key, w = self.key(table), self.next_w()
        values = {":w": {"S": w}, ":d": {"N": str(self.rng.randrange(1, 10))}}
        if table == TABLE_A:
            roll = self.rng.random()
            if roll < 0.3:
                expression = "SET w = :w, g = :g ADD n :d REMOVE #fail"
                values[":g"] = {"S": f"g{self.rng.randrange(8)}"}
            elif roll < 0.5:
                expression = "SET w = :w ADD n :d REMOVE #fail, g"
            else:
                expression = "SET w = :w ADD n :d REMOVE #fail"
        else:
            expression = "SET w = :w ADD n :d REMOVE #throw, #crash"
        write = self.ledger.add(key, w)
        answer = self.client.update_item(
            TableName=table, Key=key_av(key), UpdateExpression=expression,
            ExpressionAttributeNames=marker_names(expression),
            ExpressionAttributeValues=values, ReturnValues="ALL_NEW")
        write.image, write.status = item_py(answer["Attributes"]), "acked"
        self.ledger.count("UpdateItem")

    def delete(self):
        key = self.key(TABLE_A)
        write = self.ledger.add(key)
        answer = self.client.delete_item(TableName=TABLE_A, Key=key_av(key),
                                         ReturnValues="ALL_OLD")
        write.status = "acked"
        if "Attributes" in answer:
            old = item_py(answer["Attributes"])
            with self.ledger.lock:
                self.ledger.removals[old["w"]] = old
        self.ledger.count("DeleteItem")

    def batch(self):
        keys, requests, writes = set(), {TABLE_A: [], TABLE_B: []}, []
        for _ in range(self.rng.randrange(2, 9)):
            table = TABLE_A if self.rng.random() < 0.5 else TABLE_B
            key = self.key(table)
            if key in keys:
                continue
            keys.add(key)
            if self.rng.random() < 0.2:
                writes.append((self.ledger.add(key), None))
                requests[table].append({"DeleteRequest": {"Key": key_av(key)}})
            else:
                w = self.next_w()
                item = self.item_a(key, w) if table == TABLE_A else self.item_b(key, w)
                writes.append((self.ledger.add(key, w), item))
                requests[table].append({"PutRequest": {"Item": item}})
        answer = self.client.batch_write_item(
            RequestItems={t: r for t, r in requests.items() if r})
        unprocessed = answer.get("UnprocessedItems") or {}
        check(not unprocessed, f"BatchWriteItem left items unprocessed: {unprocessed}")
        for write, item in writes:
            write.status = "acked"
            if item is not None:
                write.image = item_py(item)
        self.ledger.count("BatchWriteItem")

    def transaction(self):
        key_a, key_b = self.key(TABLE_A), self.key(TABLE_B)
        w_a, w_b = self.next_w(), self.next_w()
        item = self.item_a(key_a, w_a)
        items = [
            {"Put": {"TableName": TABLE_A, "Item": item}},
            {"Update": {"TableName": TABLE_B, "Key": key_av(key_b),
                        "UpdateExpression": "SET w = :w ADD n :d REMOVE #throw, #crash",
                        "ExpressionAttributeNames": {"#throw": "throw", "#crash": "crash"},
                        "ExpressionAttributeValues": {
                            ":w": {"S": w_b}, ":d": {"N": "1"}}}},
        ]
        group = [w_a, w_b]
        writes = [self.ledger.add(key_a, w_a, group), self.ledger.add(key_b, w_b, group)]
        other_b = (TABLE_B, key_b[1], 1 - key_b[2])
        if self.rng.random() < 0.3:
            items.append({"Delete": {"TableName": TABLE_B, "Key": key_av(other_b)}})
            writes.append(self.ledger.add(other_b, None, group))
        if self.rng.random() < 0.25:
            # Fails when the item is absent: the transaction is cancelled.
            check_key = self.key(TABLE_A)
            if check_key != key_a:
                items.append({"ConditionCheck": {
                    "TableName": TABLE_A, "Key": key_av(check_key),
                    "ConditionExpression": "attribute_exists(p)"}})
        with self.ledger.lock:
            self.ledger.groups.append(group)
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as e:
            self.refused(e, writes)
            return
        writes[0].image = item_py(item)
        for write in writes:
            write.status = "acked"
        self.ledger.count("TransactWriteItems")

    def refused(self, error, writes):
        code = error.response.get("Error", {}).get("Code", "")
        if code not in REFUSALS:
            raise error
        for write in writes:
            write.status = "refused"
        self.ledger.count(code)


# -- what the server shows -----------------------------------------------------

class StreamView:
    """The records of one table's stream read so far, checked as they come
    (the chain of images, one record per write), and folded."""

    def __init__(self, table):
        self.table = table
        self.records = {}       # shard id -> [record]
        self.folded = {}        # key -> item
        self.by_w = {}          # w -> record (puts and updates)
        self.removed = {}       # w -> REMOVE record (by a user)
        self.expired = {}       # w -> REMOVE record (by TTL)
        self.event_ids = {}     # eventID -> record
        self.arn = None

    def total(self):
        return sum(len(r) for r in self.records.values())

    def read_new(self, soak):
        """Reads and checks what was appended since the last call; returns
        how many records that was."""
        if self.arn is None:
            self.arn = soak.ddb.describe_table(TableName=self.table)["Table"]["LatestStreamArn"]
        shards = sorted(s["ShardId"] for s in describe_stream(soak.streams, self.arn)["Shards"])
        new = 0
        for shard in shards:
            have = self.records.setdefault(shard, [])
            if have:
                records = read_shard(soak.streams, self.arn, shard, "AFTER_SEQUENCE_NUMBER",
                                     have[-1]["dynamodb"]["SequenceNumber"])
            else:
                records = read_shard(soak.streams, self.arn, shard)
            for record in records:
                self.take(soak, shard, record)
            new += len(records)
        return new

    def take(self, soak, shard, record):
        have = self.records[shard]
        d, event = record["dynamodb"], record["eventName"]
        where = f"{self.table} {shard} {d['SequenceNumber']}"
        if have:
            check(sequence_of(record) > sequence_of(have[-1]),
                  f"{where}: sequence number not above the previous one")
        check(record["eventID"] not in self.event_ids, f"{where}: eventID repeated")
        have.append(record)
        self.event_ids[record["eventID"]] = record
        new = item_py(d["NewImage"]) if "NewImage" in d else None
        old = item_py(d["OldImage"]) if "OldImage" in d else None
        image = new if new is not None else old
        check(image is not None, f"{where}: a record without images")
        key = key_tuple(self.table, image)
        check(key_tuple(self.table, item_py(d["Keys"])) == key, f"{where}: Keys {d['Keys']}")
        check(old == self.folded.get(key),
              f"{where}: {event} of {key}: OldImage {old} is not the previous "
              f"NewImage {self.folded.get(key)}")
        check(event == ("INSERT" if old is None else "REMOVE" if new is None else "MODIFY"),
              f"{where}: {event} with OldImage {old} and NewImage {new}")
        ledger = soak.ledger
        if new is not None:
            w = new["w"]
            write = ledger.by_w.get(w)
            check(write is not None, f"{where}: record of write {w}, never sent")
            check(write.status != "refused", f"{where}: record of refused write {w}")
            check(write.key == key, f"{where}: write {w} was to {write.key}")
            check(w not in self.by_w, f"{where}: a second record of write {w}")
            self.by_w[w] = record
            self.folded[key] = new
        else:
            if record.get("userIdentity") == SERVICE:
                when = record["dynamodb"]["ApproximateCreationDateTime"].timestamp()
                check("exp" in old and int(old["exp"]) <= when + 1,
                      f"{where}: TTL removed an item that had not expired: {old}")
                self.expired[old["w"]] = record
            else:
                check("userIdentity" not in record, f"{where}: {record.get('userIdentity')}")
                check(any(x.w is None and x.status != "refused"
                          for x in ledger.by_key.get(key, [])),
                      f"{where}: REMOVE of {key}, which no delete was sent for")
                self.removed[old["w"]] = record
            self.folded.pop(key, None)


def scan(client, table, index=None):
    items, kw = {}, {"IndexName": index} if index else {"ConsistentRead": True}
    while True:
        page = client.scan(TableName=table, **kw)
        for item in page["Items"]:
            item = item_py(item)
            items[key_tuple(table, item)] = item
        if "LastEvaluatedKey" not in page:
            return items
        kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# -- the soak ------------------------------------------------------------------

class Soak:
    def __init__(self, cycles=None, minutes=None, seed=None, log=print):
        self.cycles, self.minutes = cycles, minutes
        self.seed = seed if seed is not None else time.time_ns() % 1_000_000
        self.rng = random.Random(self.seed)
        self.log = log
        self.ledger = Ledger()
        self.views = {TABLE_A: StreamView(TABLE_A), TABLE_B: StreamView(TABLE_B)}
        self.handled = {TABLE_A: {}, TABLE_B: {}}   # eventID -> times handled
        self.dead = {TABLE_A: {}, TABLE_B: {}}      # eventID -> times dead-lettered
        self.log_offset = 0
        self.torn_lines = 0
        self.restart_seconds = []
        self.cycle = 0
        self.server = None
        self.handler_dir = None

    # -- setup ---------------------------------------------------------------

    def start(self):
        handler_dir = Path(tempfile.mkdtemp(prefix="eddy-soak-handlers-"))
        handler_dir.chmod(0o755)
        self.handler_dir = handler_dir
        handler = install_library(built_handler("soak"), handler_dir)
        self.server = EddyServer(extra_args=("--ttl-interval", "1s",
                                             "--handler-dir", str(handler_dir)))
        self.server.require_process()
        self.server.start()
        self.ddb = self.server.client(max_attempts=3)
        self.streams = self.server.client("dynamodbstreams", max_attempts=3)
        self.clients = [self.server.client() for _ in range(WRITERS)]
        stream = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        self.ddb.create_table(
            TableName=TABLE_A, BillingMode="PAY_PER_REQUEST", StreamSpecification=stream,
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{
                "IndexName": INDEX, "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"},
                              {"AttributeName": "p", "KeyType": "RANGE"}]}])
        self.ddb.create_table(
            TableName=TABLE_B, BillingMode="PAY_PER_REQUEST", StreamSpecification=stream,
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                       {"AttributeName": "s", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                  {"AttributeName": "s", "AttributeType": "N"}])
        for table in (TABLE_A, TABLE_B):
            wait_until(lambda t=table: self.ddb.describe_table(TableName=t)["Table"][
                "TableStatus"] == "ACTIVE", timeout=30, what=f"{table} ACTIVE")
        self.ddb.update_time_to_live(TableName=TABLE_A, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": "exp"})
        # On-failure files: names in the server's failure directory
        # (<data>/failures), the only place it writes them.
        failures = Path(self.server.data_dir).resolve() / "failures"
        self.dlq = {TABLE_A: failures / "dlq-a.jsonl", TABLE_B: failures / "dlq-b.jsonl"}
        self.eddy("trigger", "create", "--table", TABLE_A, "--handler", handler,
                  "--name", "soak-a", "--batch-size", "10", "--max-retries", "2",
                  "--report-batch-item-failures", "--on-failure", "file:dlq-a.jsonl")
        self.eddy("trigger", "create", "--table", TABLE_B, "--handler", handler,
                  "--name", "soak-b", "--batch-size", "10", "--max-retries", "1",
                  "--bisect-on-error", "--parallelization", "2",
                  "--on-failure", "file:dlq-b.jsonl")

    def stop(self):
        try:
            if self.server is not None:
                self.server.stop()
        finally:
            if self.handler_dir is not None:
                shutil.rmtree(self.handler_dir, ignore_errors=True)

    def eddy(self, *args, timeout=300):
        command = [str(self.server.binary), *args, "--endpoint", self.server.endpoint]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL, env=test_environment())
        check(result.returncode == 0, f"{' '.join(command)} exited {result.returncode}:\n"
                                      f"{result.stdout}\n{result.stderr}")
        return result.stdout

    # -- the cycles ----------------------------------------------------------

    def run(self):
        self.log(f"soak: seed {self.seed}, "
                 + (f"{self.cycles} cycles" if self.cycles else f"{self.minutes} minutes"))
        started = time.monotonic()
        try:
            self.start()
            while True:
                elapsed = time.monotonic() - started
                if self.cycles is not None and self.cycle >= self.cycles:
                    break
                if self.minutes is not None and elapsed >= self.minutes * 60:
                    break
                self.cycle += 1
                try:
                    self.one_cycle()
                except SoakFailure as e:
                    raise SoakFailure(f"cycle {self.cycle} (seed {self.seed}): {e}") from e
            self.finish()
        except BaseException:
            if self.server is None:
                raise
            tail = [line[:300] for line in self.server.log_text().splitlines()[-40:]]
            self.log(f"--- server log tail ({self.server.log_path}) ---\n"
                     + "\n".join(tail))
            raise
        finally:
            self.stop()
        return self.summary(time.monotonic() - started)

    def one_cycle(self):
        writers = [Writer(self, i, self.cycle, self.rng.randrange(1 << 30))
                   for i in range(WRITERS)]
        for writer in writers:
            writer.start()
        time.sleep(self.rng.uniform(*LOAD_SECONDS))
        code = self.server.kill9()
        check(code == -signal.SIGKILL, f"the server had exited by itself (code {code})")
        for writer in writers:
            writer.stop.set()
        for writer in writers:
            writer.join(timeout=120)
            check(not writer.is_alive(), f"{writer.name} did not stop")
            if writer.error is not None:
                raise SoakFailure(f"{writer.name}: {writer.error!r}") from writer.error
        began = time.monotonic()
        self.server.restart()
        self.restart_seconds.append(time.monotonic() - began)
        self.check_all(full=self.cycle % REVERIFY_EVERY == 0)
        self.log(f"cycle {self.cycle}: {self.progress()}")

    def check_all(self, full=False):
        new = self.read_until_stable()
        self.check_acknowledged()
        self.check_triggers()
        if full:
            self.reverify()
        return new

    def read_until_stable(self):
        """Reads the streams and the tables until no record arrives in
        between (the TTL sweeper may delete meanwhile), then checks the
        fold and the index against the tables."""
        for _ in range(50):
            new = sum(view.read_new(self) for view in self.views.values())
            tables = {t: scan(self.ddb, t) for t in self.views}
            index = scan(self.ddb, TABLE_A, INDEX)
            if sum(view.read_new(self) for view in self.views.values()) == 0:
                break
        else:
            raise SoakFailure("the streams kept growing with the load stopped")
        self.tables = tables
        for table, view in self.views.items():
            missing = sorted(set(view.folded) - set(tables[table]))[:5]
            extra = sorted(set(tables[table]) - set(view.folded))[:5]
            check(not missing and not extra,
                  f"{table}: fold of the stream != table: only in the fold {missing}, "
                  f"only in the table {extra}")
            for key, item in tables[table].items():
                check(view.folded[key] == item,
                      f"{table}: {key} is {item} but its stream folds to {view.folded[key]}")
        expected = {k: v for k, v in tables[TABLE_A].items() if "g" in v}
        check(index == expected,
              f"GSI {INDEX} != items with g: only in the index "
              f"{sorted(set(index) - set(expected))[:5]}, missing "
              f"{sorted(set(expected) - set(index))[:5]}, differing "
              f"{[k for k in index if k in expected and index[k] != expected[k]][:5]}")
        return new

    def check_acknowledged(self):
        ledger = self.ledger
        view_of = self.views
        for w, write in ledger.by_w.items():
            if write.status != "acked":
                continue
            view = view_of[write.key[0]]
            check(w in view.by_w, f"acknowledged write {w} to {write.key} has no record")
            if write.image is not None:
                new = item_py(view.by_w[w]["dynamodb"]["NewImage"])
                check(new == write.image,
                      f"write {w}: record's NewImage {new} != acknowledged {write.image}")
        for w, old in ledger.removals.items():
            view = view_of[key_tuple(TABLE_A, old)[0]]
            check(w in view.removed, f"acknowledged delete of {old} has no REMOVE record")
            check(item_py(view.removed[w]["dynamodb"]["OldImage"]) == old,
                  f"REMOVE of {w}: OldImage differs from what DeleteItem returned")
        for group in ledger.groups:
            recorded = [w in view_of[ledger.by_w[w].key[0]].by_w for w in group]
            check(all(recorded) or not any(recorded),
                  f"transaction {group}: only some writes have records ({recorded})")
        # Each key holds its last acknowledged write's outcome, or that of
        # an unknown write after it; an expired item may be gone by TTL.
        for key, writes in ledger.by_key.items():
            last = max((i for i, x in enumerate(writes) if x.status == "acked"), default=-1)
            candidates = ([writes[last]] if last >= 0 else []) + [
                x for x in writes[last + 1:] if x.status == "unknown"]
            allowed = {x.w for x in candidates}
            if last < 0:
                allowed.add(None)
            actual = self.tables[key[0]].get(key)
            view = view_of[key[0]]
            if actual is None:
                check(None in allowed or any(w in view.expired for w in allowed),
                      f"{key} is missing; it should be one of writes {sorted(allowed, key=str)}"
                      f" (history {[(x.w, x.status) for x in writes[-5:]]})")
            else:
                check(actual["w"] in allowed,
                      f"{key} holds write {actual['w']}; it should be one of "
                      f"{sorted(allowed, key=str)} (history "
                      f"{[(x.w, x.status) for x in writes[-5:]]})")
                if last >= 0 and actual["w"] == writes[last].w and writes[last].image:
                    check(actual == writes[last].image,
                          f"{key}: {actual} != acknowledged {writes[last].image}")

    def read_handler_log(self):
        """New lines the soak handler logged: {table: {eventID: count}}."""
        with open(self.server.log_path, "rb") as f:
            f.seek(self.log_offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.log_offset += end
        for line in data[:end].decode("utf-8", "replace").splitlines():
            at = line.find("[handler ")
            if at < 0:
                continue
            start = line.find("] {", at)
            if start < 0:
                continue
            try:
                record = json.loads(line[start + 2:])
            except ValueError:
                # A line cut by a kill, glued to the next start's first line;
                # its batch was not checkpointed, so it is delivered again.
                self.torn_lines += 1
                continue
            table = record["eventSourceARN"].split(":table/")[1].split("/")[0]
            counts = self.handled[table]
            counts[record["eventID"]] = counts.get(record["eventID"], 0) + 1

    def read_dead_letters(self):
        for table, path in self.dlq.items():
            counts = {}
            if path.exists():
                for line in path.read_text().splitlines():
                    if not line.strip():
                        continue
                    document = json.loads(line)
                    check(document["requestContext"]["condition"] in (
                        "RetryAttemptsExhausted", "RecordAgeExceeded"), f"{document}")
                    for record in document["records"]:
                        counts[record["eventID"]] = counts.get(record["eventID"], 0) + 1
            self.dead[table] = counts

    def check_triggers(self):
        self.eddy("trigger", "wait", "--timeout", "240", timeout=300)
        self.read_handler_log()
        self.read_dead_letters()
        for table, view in self.views.items():
            handled, dead = set(self.handled[table]), set(self.dead[table])
            ids = set(view.event_ids)
            # Records written after read_until_stable (TTL) may be handled too.
            self.views[table].read_new(self)
            ids_now = set(view.event_ids)
            check(handled <= ids_now, f"{table}: handled records not in the stream: "
                                      f"{sorted(handled - ids_now)[:5]}")
            check(dead <= ids_now, f"{table}: dead-lettered records not in the stream: "
                                   f"{sorted(dead - ids_now)[:5]}")
            lost = sorted(ids - handled - dead)
            check(not lost, f"{table}: {len(lost)} records neither handled nor dead-lettered, "
                            f"e.g. {lost[:5]}")
            for event_id in handled:
                record = view.event_ids[event_id]
                image = record["dynamodb"].get("NewImage", {})
                marked = [m for m in MARKERS if m in image]
                check(not marked, f"{table}: record {event_id} marked {marked} was handled")
        for name in ("soak-a", "soak-b"):
            status = json.loads(self.eddy("trigger", "status", name))
            check(status["State"] == "Enabled", f"trigger {name}: {status}")

    def reverify(self):
        """The stream from TRIM_HORIZON is exactly the records read so far."""
        for table, view in self.views.items():
            fresh = StreamView(table)
            fresh.arn = view.arn
            # A fresh view with the same ledger re-runs every check.
            view.read_new(self)
            fresh.read_new(self)
            for shard, records in view.records.items():
                again = fresh.records.get(shard, [])
                check(len(again) >= len(records),
                      f"{table} {shard}: {len(records)} records were read, now "
                      f"{len(again)} from TRIM_HORIZON")
                check(again[:len(records)] == records,
                      f"{table} {shard}: records changed since they were read")

    def finish(self):
        """Every expired item is swept; the server stops cleanly."""
        now = int(time.time())

        def swept():
            items = scan(self.ddb, TABLE_A)
            return not [k for k, v in items.items() if "exp" in v and int(v["exp"]) < now - 1]
        wait_until(swept, timeout=60, interval=0.5, what="TTL to sweep every expired item")
        self.check_all(full=True)
        code = self.server.terminate()
        check(code == 0, f"eddy exited {code} on SIGTERM")

    # -- reporting -----------------------------------------------------------

    def progress(self):
        counts = self.ledger.counts
        acked = sum(counts.get(k, 0) for k in (
            "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"))
        records = sum(v.total() for v in self.views.values())
        handled = sum(len(h) for h in self.handled.values())
        dead = sum(len(d) for d in self.dead.values())
        expired = len(self.views[TABLE_A].expired)
        return (f"{acked} operations acknowledged, {counts.get('unanswered', 0)} cut by a "
                f"kill, {records} stream records ({expired} by TTL), {handled} handled, "
                f"{dead} dead-lettered"
                + (f", restart {self.restart_seconds[-1]:.2f} s" if self.restart_seconds else ""))

    def summary(self, seconds):
        restarts = sorted(self.restart_seconds)
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.ledger.counts.items()))
        p50 = restarts[len(restarts) // 2] if restarts else 0
        return (f"soak passed: {self.cycle} cycles in {seconds:.0f} s (seed {self.seed}); "
                f"{self.progress()}; restart p50 {p50:.2f} s, max "
                f"{restarts[-1] if restarts else 0:.2f} s; torn log lines "
                f"{self.torn_lines}; {counts}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--minutes", type=float, help="run this long (default 10)")
    group.add_argument("--cycles", type=int, help="run this many kill cycles")
    parser.add_argument("--seed", type=int, help="replay a run's random choices")
    args = parser.parse_args()
    if args.cycles is None and args.minutes is None:
        args.minutes = 10
    soak = Soak(cycles=args.cycles, minutes=args.minutes, seed=args.seed,
                log=lambda text: print(text, flush=True))
    try:
        print(soak.run(), flush=True)
    except SoakFailure as e:
        print(f"soak FAILED: {e}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
