"""Read-modify-write on one item is serialised: concurrent ADDs, conditional
writes and list appends from many clients never lose an update."""

import sys
import threading
import unittest
from pathlib import Path

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import EddyTestCase, item_av  # noqa: E402

CLIENTS = 8


def run_concurrently(worker, count=CLIENTS):
    """Run worker(i) on `count` threads started together; re-raise the first failure."""
    start = threading.Barrier(count)
    errors = []

    def body(i):
        try:
            start.wait()
            worker(i)
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise errors[0]
    if any(t.is_alive() for t in threads):
        raise AssertionError("a worker thread did not finish")


class ConcurrencyIntegrationTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table()
        # One client per thread, as separate applications would have.
        cls.clients = [cls.server.client() for _ in range(CLIENTS)]

    def test_concurrent_add_counter_is_exact(self):
        """8 clients x 500 `ADD counter :one` end at exactly 4000."""
        key = item_av({"p": "counter"})

        def add(i):
            for _ in range(500):
                # "counter" is a DynamoDB reserved word, so it is named through #c.
                self.clients[i].update_item(TableName=self.table, Key=key,
                                            UpdateExpression="ADD #c :one",
                                            ExpressionAttributeNames={"#c": "counter"},
                                            ExpressionAttributeValues={":one": {"N": "1"}})
        run_concurrently(add)
        self.assertEqual(self.get(self.table, {"p": "counter"})["counter"], 4000)

    def test_optimistic_version_checks_never_lose_updates(self):
        """Each successful `version = :seen` conditional write bumps the version once."""
        key = {"p": "versioned"}
        self.put(self.table, {**key, "version": 0, "writers": []})
        successes = [0] * CLIENTS

        def bump(i):
            client = self.clients[i]
            for _ in range(40):
                seen = client.get_item(TableName=self.table, Key=item_av(key),
                                       ConsistentRead=True)["Item"]["version"]["N"]
                try:
                    client.update_item(
                        TableName=self.table, Key=item_av(key),
                        UpdateExpression="SET version = :next, writers = list_append(writers, :me)",
                        ConditionExpression="version = :seen",
                        ExpressionAttributeValues={":seen": {"N": seen},
                                                   ":next": {"N": str(int(seen) + 1)},
                                                   ":me": {"L": [{"N": str(i)}]}})
                    successes[i] += 1
                except ClientError as e:
                    if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise
        run_concurrently(bump)
        item = self.get(self.table, key)
        self.assertEqual(item["version"], sum(successes))
        self.assertEqual(len(item["writers"]), sum(successes))
        self.assertGreater(sum(successes), 0)

    def test_create_if_absent_has_one_winner(self):
        """Of 8 racing `attribute_not_exists(p)` PutItems on one key exactly one wins."""
        keys = [f"race-{n}" for n in range(25)]
        winners = {k: [] for k in keys}
        lock = threading.Lock()

        def race(i):
            for k in keys:
                try:
                    self.clients[i].put_item(TableName=self.table,
                                             Item=item_av({"p": k, "owner": i}),
                                             ConditionExpression="attribute_not_exists(p)")
                    with lock:
                        winners[k].append(i)
                except ClientError as e:
                    if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
                        raise
        run_concurrently(race)
        for k in keys:
            self.assertEqual(len(winners[k]), 1, f"{k}: winners {winners[k]}")
            self.assertEqual(self.get(self.table, {"p": k})["owner"], winners[k][0])

    def test_concurrent_list_appends_keep_every_element(self):
        """8 clients x 40 list_append calls leave all 320 elements in the list."""
        key = {"p": "appends"}
        self.put(self.table, {**key, "l": []})

        def append(i):
            for n in range(40):
                self.clients[i].update_item(
                    TableName=self.table, Key=item_av(key),
                    UpdateExpression="SET l = list_append(l, :v)",
                    ExpressionAttributeValues={":v": {"L": [{"S": f"{i}-{n}"}]}})
        run_concurrently(append)
        elements = self.get(self.table, key)["l"]
        self.assertEqual(len(elements), CLIENTS * 40)
        self.assertEqual(set(elements), {f"{i}-{n}" for i in range(CLIENTS) for n in range(40)})
        for i in range(CLIENTS):  # each client's own appends stay in its order
            mine = [e for e in elements if e.startswith(f"{i}-")]
            self.assertEqual(mine, [f"{i}-{n}" for n in range(40)])

    def test_concurrent_puts_to_distinct_keys_all_land(self):
        """Writes to different keys from 8 clients all succeed and are all readable."""
        def write(i):
            for n in range(50):
                self.clients[i].put_item(TableName=self.table,
                                         Item=item_av({"p": f"distinct-{i}-{n}", "v": n}))
        run_concurrently(write)
        items, _ = self.scan_all(self.table, FilterExpression="begins_with(p, :d)",
                                 ExpressionAttributeValues=item_av({":d": "distinct-"}))
        self.assertEqual(len(items), CLIENTS * 50)


if __name__ == "__main__":
    unittest.main()
