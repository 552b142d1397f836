"""Time to Live through boto3 and the `eddy ttl sweep` command: the
UpdateTimeToLive / DescribeTimeToLive shapes and DynamoDB's error texts,
which items a sweep deletes (a Number of epoch seconds in the past, not more
than five years old) and which it keeps, the REMOVE stream records of TTL
deletions (userIdentity Service / dynamodb.amazonaws.com), the background
sweeper, and the setting surviving a restart."""

import decimal
import os
import subprocess
import time
import unittest

from eddy_server import (REPO_ROOT, EddyTestCase, item_av, item_py, test_environment,
                         wait_until)
import test_streams as streams_util

SERVICE_IDENTITY = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
FIVE_YEARS_S = 5 * 365 * 24 * 60 * 60


def eddy_binary():
    return os.environ.get("EDDY_BIN") or str(REPO_ROOT / "build" / "bin" / "eddy")


class TtlTestCase(EddyTestCase):
    """EddyTestCase plus TTL verbs and the `eddy ttl sweep` command."""

    def update_ttl(self, table, enabled, attribute="expires"):
        return self.ddb.update_time_to_live(
            TableName=table,
            TimeToLiveSpecification={"Enabled": enabled, "AttributeName": attribute})

    def describe_ttl(self, table):
        return self.ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]

    def sweep(self, *args, check=True):
        """Runs `eddy ttl sweep ARGS --endpoint-url <server>`."""
        self.server.require_process()
        done = subprocess.run(
            [eddy_binary(), "ttl", "sweep", *args, "--endpoint-url", self.server.endpoint],
            capture_output=True, text=True, timeout=120, env=test_environment())
        if check:
            self.assertEqual(done.returncode, 0, f"eddy ttl sweep failed: {done.stderr}")
        return done

    def keys(self, table):
        items, _ = self.scan_all(table, ConsistentRead=True)
        return sorted(item_py(i)["p"] for i in items)


class TimeToLiveApiTest(TtlTestCase):
    """The two operations' shapes and every error path."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table()

    def setUp(self):
        # Each test starts with TTL disabled on the shared table.
        if self.describe_ttl(self.table)["TimeToLiveStatus"] == "ENABLED":
            self.update_ttl(self.table, False, self.describe_ttl(self.table)["AttributeName"])

    # A fresh table reports DISABLED and no attribute.
    def test_fresh_table_is_disabled(self):
        self.assertEqual(self.describe_ttl(self.table), {"TimeToLiveStatus": "DISABLED"})

    # UpdateTimeToLive echoes the specification; Describe shows ENABLED at once.
    def test_enable_echoes_specification(self):
        response = self.update_ttl(self.table, True, "expires")
        self.assertEqual(response["TimeToLiveSpecification"],
                         {"Enabled": True, "AttributeName": "expires"})
        self.assertEqual(self.describe_ttl(self.table),
                         {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"})

    # Disabling forgets the attribute, as DynamoDB does.
    def test_disable_forgets_attribute(self):
        self.update_ttl(self.table, True, "expires")
        response = self.update_ttl(self.table, False, "expires")
        self.assertEqual(response["TimeToLiveSpecification"],
                         {"Enabled": False, "AttributeName": "expires"})
        self.assertEqual(self.describe_ttl(self.table), {"TimeToLiveStatus": "DISABLED"})

    # Changes are not idempotent: a repeat is a ValidationException.
    def test_enable_twice(self):
        self.update_ttl(self.table, True, "expires")
        with self.assertValidationError("TimeToLive is already enabled"):
            self.update_ttl(self.table, True, "expires")

    def test_disable_when_disabled(self):
        with self.assertValidationError("TimeToLive is already disabled"):
            self.update_ttl(self.table, False, "expires")

    # Another attribute while enabled names the current one (enable or disable).
    def test_enable_other_attribute(self):
        self.update_ttl(self.table, True, "expires")
        with self.assertValidationError(
                "TimeToLive is active on a different AttributeName: current AttributeName is expires"):
            self.update_ttl(self.table, True, "other")

    def test_disable_with_other_attribute(self):
        self.update_ttl(self.table, True, "expires")
        with self.assertValidationError(
                "TimeToLive is active on a different AttributeName: current AttributeName is expires"):
            self.update_ttl(self.table, False, "other")
        self.assertEqual(self.describe_ttl(self.table)["TimeToLiveStatus"], "ENABLED")

    def test_missing_table(self):
        name = self.unique_name()
        message = f"Requested resource not found: Table: {name} not found"
        with self.assertDynamoError("ResourceNotFoundException", message):
            self.update_ttl(name, True)
        with self.assertDynamoError("ResourceNotFoundException", message):
            self.ddb.describe_time_to_live(TableName=name)

    def test_missing_specification(self):
        with self.assertValidationError(
                "1 validation error detected: Value null at 'timeToLiveSpecification' "
                "failed to satisfy constraint: Member must not be null"):
            self.ddb.update_time_to_live(TableName=self.table)

    def test_empty_specification(self):
        # DynamoDB's member order (recorded against it in 2026: attributeName
        # first; see test_validation_tables.py).
        with self.assertValidationError(
                "2 validation errors detected: "
                "Value null at 'timeToLiveSpecification.attributeName' failed to "
                "satisfy constraint: Member must not be null; "
                "Value null at 'timeToLiveSpecification.enabled' failed to satisfy "
                "constraint: Member must not be null"):
            self.ddb.update_time_to_live(TableName=self.table, TimeToLiveSpecification={})

    def test_attribute_name_length(self):
        with self.assertValidationError(
                "1 validation error detected: Value '' at "
                "'timeToLiveSpecification.attributeName' failed to satisfy constraint: "
                "Member must have length greater than or equal to 1"):
            self.update_ttl(self.table, True, "")
        long_name = "a" * 256
        with self.assertValidationError(
                f"1 validation error detected: Value '{long_name}' at "
                "'timeToLiveSpecification.attributeName' failed to satisfy constraint: "
                "Member must have length less than or equal to 255"):
            self.update_ttl(self.table, True, long_name)
        self.update_ttl(self.table, True, "a" * 255)

    def test_bad_table_name(self):
        with self.assertValidationError(
                "TableName must be at least 3 characters long and at most 255 "
                "characters long"):
            self.ddb.describe_time_to_live(TableName="ab")

    def test_wrong_json_types(self):
        # DynamoDB's deserializer reads "true"/"false" (and "yes"/"no",
        # "1"/"0") as booleans, other strings are refused (dynalite's record).
        with self.assertDynamoError("SerializationException",
                                    "Unexpected token received from parser"):
            self.ddb.update_time_to_live(
                TableName=self.table,
                TimeToLiveSpecification={"Enabled": "maybe", "AttributeName": "expires"})

    # TTL may be enabled on the partition key itself (DynamoDB accepts it).
    def test_ttl_on_key_attribute(self):
        self.update_ttl(self.table, True, "p")
        self.assertEqual(self.describe_ttl(self.table)["AttributeName"], "p")


class TtlSweepTest(TtlTestCase, streams_util.StreamTestCase):
    """`eddy ttl sweep` against a server whose background sweeper is off, so
    every deletion seen here is the command's."""

    server_args = ("--ttl-interval", "0")

    # The acceptance test: past TTL removed, future kept, non-number
    # ignored, and each deletion a service REMOVE record in the stream.
    def test_sweep_deletes_expired_items_as_the_service(self):
        table = self.create_stream_table("NEW_AND_OLD_IMAGES")
        self.update_ttl(table, True, "expires")
        now = int(time.time())
        self.put(table, {"p": "past1", "expires": now - 3600})
        self.put(table, {"p": "past2", "expires": now - 1, "v": "x"})
        self.put(table, {"p": "past-fraction", "expires": decimal.Decimal(f"{now - 10}.5")})
        self.put(table, {"p": "future", "expires": now + 3600})
        self.put(table, {"p": "string", "expires": str(now - 3600)})
        self.put(table, {"p": "none"})
        self.put(table, {"p": "ancient", "expires": now - FIVE_YEARS_S - 86400})
        # A REMOVE by a user, to tell apart from the service's.
        self.put(table, {"p": "user-deleted", "expires": now + 3600})
        self.delete(table, {"p": "user-deleted"})

        done = self.sweep("--table", table)
        self.assertEqual(done.stdout.strip(), f"deleted 3 expired items from {table}")
        self.assertEqual(self.keys(table), ["ancient", "future", "none", "string"])

        records = self.all_records(self.stream_arn(table))
        removes = {item_py(r["dynamodb"]["Keys"])["p"]: r
                   for r in records if r["eventName"] == "REMOVE"}
        self.assertEqual(set(removes), {"past1", "past2", "past-fraction", "user-deleted"})
        for key in ("past1", "past2", "past-fraction"):
            self.assertEqual(removes[key]["userIdentity"], SERVICE_IDENTITY)
            self.assertNotIn("NewImage", removes[key]["dynamodb"])
        self.assertEqual(item_py(removes["past2"]["dynamodb"]["OldImage"]),
                         {"p": "past2", "expires": now - 1, "v": "x"})
        self.assertNotIn("userIdentity", removes["user-deleted"])
        for record in records:
            if record["eventName"] != "REMOVE":
                self.assertNotIn("userIdentity", record)

        # A second sweep finds nothing more to delete.
        self.assertEqual(self.sweep("--table", table).stdout.strip(),
                         f"deleted 0 expired items from {table}")

    # Without --table every table with TTL enabled is swept, and only those.
    def test_sweep_every_table(self):
        past = int(time.time()) - 60
        first, second, off = (self.create_table() for _ in range(3))
        self.update_ttl(first, True, "expires")
        self.update_ttl(second, True, "ttl")
        for table in (first, second, off):
            self.put(table, {"p": "a", "expires": past, "ttl": past})
        done = self.sweep()
        self.assertRegex(done.stdout, r"^deleted \d+ expired items from ")
        self.assertIn(first, done.stdout)
        self.assertIn(second, done.stdout)
        self.assertNotIn(off, done.stdout)
        self.assertEqual(self.keys(first), [])
        self.assertEqual(self.keys(second), [])
        self.assertEqual(self.keys(off), ["a"])

    # A range-key table: the sweep deletes by the whole primary key.
    def test_sweep_range_key_table(self):
        table = self.create_table(range_key=("s", "N"))
        self.update_ttl(table, True, "expires")
        past, future = int(time.time()) - 60, int(time.time()) + 3600
        for s in range(5):
            self.put(table, {"p": "a", "s": s, "expires": past if s % 2 else future})
        self.assertEqual(self.sweep("--table", table).stdout.strip(),
                         f"deleted 2 expired items from {table}")
        items, _ = self.scan_all(table)
        self.assertEqual(sorted(item_py(i)["s"] for i in items), [0, 2, 4])

    # Disabling TTL stops deletions: the items stay.
    def test_sweep_after_disable_keeps_items(self):
        table = self.create_table()
        self.update_ttl(table, True, "expires")
        self.put(table, {"p": "a", "expires": int(time.time()) - 60})
        self.update_ttl(table, False, "expires")
        done = self.sweep("--table", table)
        self.assertIn(f"TTL is not enabled on table {table}", done.stderr)
        self.assertEqual(done.stdout.strip(), "deleted 0 expired items")
        self.assertEqual(self.keys(table), ["a"])

    def test_sweep_missing_table(self):
        name = self.unique_name()
        done = self.sweep("--table", name, check=False)
        self.assertEqual(done.returncode, 1)
        self.assertIn("ResourceNotFoundException", done.stderr)
        self.assertIn(f"Table: {name} not found", done.stderr)

    def test_sweep_unreachable_server(self):
        self.server.require_process()
        done = subprocess.run(
            [eddy_binary(), "ttl", "sweep", "--endpoint-url", "http://127.0.0.1:1"],
            capture_output=True, text=True, timeout=60, env=test_environment())
        self.assertEqual(done.returncode, 1)
        self.assertIn("cannot reach", done.stderr)


class BackgroundSweeperTest(TtlTestCase):
    """The server deletes expired items by itself every --ttl-interval."""

    server_args = ("--ttl-interval", "100ms")

    def test_expired_items_disappear(self):
        table = self.create_table()
        now = int(time.time())
        self.update_ttl(table, True, "expires")
        self.put(table, {"p": "past", "expires": now - 60})
        self.put(table, {"p": "future", "expires": now + 3600})
        wait_until(lambda: self.keys(table) == ["future"], timeout=20,
                   what="the background sweeper to delete the expired item")


class TtlRestartTest(TtlTestCase):
    """The TTL setting is in the catalog: it survives a restart (clean or
    kill -9), and sweeps after it still delete."""

    server_args = ("--ttl-interval", "0")

    def test_ttl_survives_restart(self):
        self.server.require_process()
        enabled, disabled = self.create_table(), self.create_table()
        self.update_ttl(enabled, True, "expires")
        self.update_ttl(disabled, True, "expires")
        self.update_ttl(disabled, False, "expires")
        self.put(enabled, {"p": "past", "expires": int(time.time()) - 60})

        self.server.restart()
        self.assertEqual(self.describe_ttl(enabled),
                         {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"})
        self.assertEqual(self.describe_ttl(disabled), {"TimeToLiveStatus": "DISABLED"})

        self.server.kill9()
        self.server.restart()
        self.assertEqual(self.describe_ttl(enabled)["TimeToLiveStatus"], "ENABLED")
        self.assertEqual(self.sweep("--table", enabled).stdout.strip(),
                         f"deleted 1 expired item from {enabled}")


if __name__ == "__main__":
    unittest.main()
