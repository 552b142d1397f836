"""Acknowledged means kept: data survives a clean restart, and every write
acknowledged before a SIGKILL is there after restarting on the same data."""

import signal
import sys
import threading
import time
import unittest
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import EddyServer, item_av  # noqa: E402

WRITERS = 4
LOAD_SECONDS = 1.5


class WriteLoad:
    """Writer threads that record every acknowledged write until the server dies.

    Each writer uses its own client and writes keys w<writer>-<n>; `acked`
    maps key -> value for every PutItem that returned 200.
    """

    def __init__(self, server, table, prefix):
        self.server, self.table, self.prefix = server, table, prefix
        self.acked = {}
        self.failures = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.clients = [server.client() for _ in range(WRITERS)]
        self.threads = [threading.Thread(target=self.write, args=(w,)) for w in range(WRITERS)]

    def write(self, writer):
        client, n = self.clients[writer], 0
        while not self.stop.is_set():
            key = f"{self.prefix}-w{writer}-{n}"
            value = f"value-{writer}-{n}"
            try:
                client.put_item(TableName=self.table,
                                Item={"p": {"S": key}, "v": {"S": value}, "n": {"N": str(n)}})
            except (BotoCoreError, ClientError, OSError):
                with self.lock:
                    self.failures += 1
                if self.failures > 1000:
                    return
                time.sleep(0.01)  # the server is gone; keep trying until told to stop
                continue
            with self.lock:
                self.acked[key] = value
            n += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
        return False

    def wait_for(self, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.acked)} writes acknowledged")
            time.sleep(0.01)


class DurabilityFixture:
    """A fresh server and table per test, plus the checks the tests share."""

    server_args = ()

    def setUp(self):
        self.server = EddyServer(extra_args=self.server_args)
        self.server.require_process()
        self.server.start()
        self.addCleanup(self.server.stop)
        self.ddb = self.server.client()
        self.table = "durable"
        self.ddb.create_table(TableName=self.table, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}])

    def stored(self, prefix=""):
        """Every item of the table, read with a paginated Scan: {p: v}."""
        client = self.server.client()
        found, kw = {}, {}
        while True:
            page = client.scan(TableName=self.table, ConsistentRead=True, **kw)
            for item in page["Items"]:
                if item["p"]["S"].startswith(prefix):
                    found[item["p"]["S"]] = item.get("v", {}).get("S")
            if "LastEvaluatedKey" not in page:
                return found
            kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def assertAllAcknowledgedPresent(self, acked, stored):
        missing = [k for k in acked if k not in stored]
        wrong = [k for k in acked if k in stored and stored[k] != acked[k]]
        self.assertEqual(missing, [], f"{len(missing)} of {len(acked)} acknowledged writes lost")
        self.assertEqual(wrong, [], "acknowledged writes came back with other values")

    def kill_during_load(self, prefix):
        """Write for LOAD_SECONDS, SIGKILL mid-load, restart; return acknowledged writes."""
        with WriteLoad(self.server, self.table, prefix) as load:
            load.wait_for(50)
            deadline = time.monotonic() + LOAD_SECONDS
            while time.monotonic() < deadline:
                time.sleep(0.05)
            self.server.kill9()
            acked = dict(load.acked)
        self.server.restart()
        return acked


class DurabilityIntegrationTest(DurabilityFixture, unittest.TestCase):
    def test_acknowledged_writes_survive_sigkill(self):
        """Three kill -9 cycles under write load lose no acknowledged PutItem."""
        all_acked = {}
        for cycle in range(3):
            acked = self.kill_during_load(f"c{cycle}")
            self.assertGreater(len(acked), 50)
            all_acked.update(acked)
            self.assertAllAcknowledgedPresent(all_acked, self.stored())

    def test_acknowledged_updates_survive_sigkill(self):
        """An ADD counter holds at least every acknowledged increment after kill -9."""
        client = self.server.client()
        acked = 0
        stop = threading.Event()

        def kill_soon():
            time.sleep(LOAD_SECONDS)
            self.server.kill9()
            stop.set()
        killer = threading.Thread(target=kill_soon)
        killer.start()
        while not stop.is_set():
            try:
                client.update_item(TableName=self.table, Key={"p": {"S": "count"}},
                                   UpdateExpression="ADD n :one",
                                   ExpressionAttributeValues={":one": {"N": "1"}})
                acked += 1
            except (BotoCoreError, ClientError, OSError):
                break
        killer.join()
        self.server.restart()
        item = self.server.client().get_item(TableName=self.table, Key={"p": {"S": "count"}},
                                             ConsistentRead=True)["Item"]
        # One increment may have been applied without its reply reaching us.
        self.assertIn(int(item["n"]["N"]), (acked, acked + 1))

    def test_acknowledged_deletes_survive_sigkill(self):
        """Items whose DeleteItem was acknowledged stay deleted after kill -9."""
        client = self.server.client()
        for n in range(100):
            client.put_item(TableName=self.table, Item=item_av({"p": f"d{n}", "v": "x"}))
        for n in range(0, 100, 2):
            client.delete_item(TableName=self.table, Key=item_av({"p": f"d{n}"}))
        self.server.kill9()
        self.server.restart()
        self.assertEqual(sorted(self.stored("d")),
                         sorted(f"d{n}" for n in range(1, 100, 2)))

    def test_clean_restart_keeps_items_and_tables(self):
        """After SIGTERM the server exits 0 and comes back with the same tables and items."""
        client = self.server.client()
        for n in range(200):
            client.put_item(TableName=self.table, Item=item_av({"p": f"k{n}", "v": f"v{n}"}))
        client.create_table(TableName="other", BillingMode="PROVISIONED",
                            ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
                            KeySchema=[{"AttributeName": "h", "KeyType": "HASH"},
                                       {"AttributeName": "r", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "h", "AttributeType": "N"},
                                                  {"AttributeName": "r", "AttributeType": "B"}])
        before = {t: client.describe_table(TableName=t)["Table"] for t in (self.table, "other")}

        self.assertEqual(self.server.terminate(signal.SIGTERM), 0)
        self.server.restart()

        client = self.server.client()
        self.assertEqual(self.stored("k"), {f"k{n}": f"v{n}" for n in range(200)})
        for name, old in before.items():
            new = client.describe_table(TableName=name)["Table"]
            for field in ("TableId", "TableArn", "CreationDateTime", "KeySchema",
                          "ProvisionedThroughput"):
                self.assertEqual(new[field], old[field], f"{name}.{field}")
            self.assertCountEqual(new["AttributeDefinitions"], old["AttributeDefinitions"])

    def test_deleted_table_stays_deleted_after_restart(self):
        """A table deleted before a restart does not come back."""
        client = self.server.client()
        client.put_item(TableName=self.table, Item=item_av({"p": "gone"}))
        client.delete_table(TableName=self.table)
        self.server.kill9()
        self.server.restart()
        self.assertNotIn(self.table, self.server.client().list_tables()["TableNames"])


class SyncDurabilityIntegrationTest(DurabilityFixture, unittest.TestCase):
    """The same guarantee with --sync (fsync before every acknowledgement)."""

    server_args = ("--sync",)

    def test_acknowledged_writes_survive_sigkill(self):
        """With --sync, a kill -9 under write load loses no acknowledged PutItem."""
        acked = self.kill_during_load("sync")
        self.assertGreater(len(acked), 50)
        self.assertAllAcknowledgedPresent(acked, self.stored())


if __name__ == "__main__":
    unittest.main()
