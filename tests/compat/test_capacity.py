"""Provisioned capacity, enforced on request (eddy serve --enforce-capacity).

Driven with boto3 as users test their retry logic: a PROVISIONED table at
5 RCU / 5 WCU driven at about ten times its capacity is throttled with
DynamoDB's ProvisionedThroughputExceededException, and boto3's standard
retry mode gets every request through; batches come back with their
throttled items unprocessed; transactions and PartiQL statements are
throttled as DynamoDB throttles them; GSIs have their own capacity; an
UpdateTable applies at once; on-demand tables, and every table of a server
without the flag, are never throttled.

The servers keep 1 s of unused capacity instead of DynamoDB's 300 s
(--capacity-burst-seconds 1), so that a few requests exhaust a table.
"""

import concurrent.futures
import time
import unittest

from botocore.exceptions import ClientError

from eddy_server import ACCOUNT_ID, REGION, EddyTestCase, item_av, item_py, wait_until

TABLE_MESSAGE = ("The level of configured provisioned throughput for the table was "
                 "exceeded. Consider increasing your provisioning level with the "
                 "UpdateTable API.")
INDEX_MESSAGE = ("The level of configured provisioned throughput for one or more "
                 "global secondary indexes of the table was exceeded. Consider "
                 "increasing your provisioning level for the under-provisioned global "
                 "secondary indexes with the UpdateTable API")
ENFORCED = ("--enforce-capacity", "--capacity-burst-seconds", "1")


def arn(table, index=None):
    resource = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}"
    return resource + (f"/index/{index}" if index else "")


class CapacityTestCase(EddyTestCase):
    def provisioned(self, rcu=5, wcu=5, **extra):
        return self.create_table(billing_mode="PROVISIONED", throughput=(rcu, wcu),
                                 **extra)

    def with_gsi(self, table_throughput, gsi_throughput):
        """A PROVISIONED table keyed by p with a GSI by_g on attribute g."""
        name = self.unique_name()
        self.ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": table_throughput[0],
                                   "WriteCapacityUnits": table_throughput[1]},
            GlobalSecondaryIndexes=[{
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
                "ProvisionedThroughput": {"ReadCapacityUnits": gsi_throughput[0],
                                          "WriteCapacityUnits": gsi_throughput[1]}}])
        self._class_tables.append(name)
        self.wait_for_status(name, "ACTIVE")
        return name

    def drive(self, call, n):
        """Calls call(i) n times as fast as one client goes (no retries);
        returns the errors."""
        errors = []
        for i in range(n):
            try:
                call(i)
            except ClientError as e:
                errors.append(e)
        return errors

    def exhaust_writes(self, table, kb=50):
        """One write of `kb` KB (as many WCU) leaves a table at 5 WCU
        kb - 5 units in debt, (kb - 5) / 5 seconds: writes are throttled."""
        self.put(table, {"p": "big", "blob": "x" * (kb * 1024 - 20)})
        with self.assertRaises(ClientError) as cm:
            self.put(table, {"p": "next"})
        self.assertThrottled(cm.exception)

    def assertThrottled(self, error, message=TABLE_MESSAGE, reason=None, resource=None):
        response = error.response
        self.assertEqual(response["Error"]["Code"], "ProvisionedThroughputExceededException")
        self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.assertEqual(response["Error"]["Message"], message)
        if reason is not None:
            self.assertEqual(response["ThrottlingReasons"],
                             [{"reason": reason, "resource": resource}])

    def throttled_total(self):
        """eddy_throttled_requests_total, reads and writes together."""
        total = 0
        for line in self.server.metrics().splitlines():
            if line.startswith("eddy_throttled_requests_total{"):
                total += int(line.rsplit(" ", 1)[1])
        return total


class EnforcedCapacityTest(CapacityTestCase):
    server_args = ENFORCED

    def test_ten_times_the_capacity_is_throttled_with_dynamodbs_message(self):
        """50 writes and 50 strongly consistent reads in well under a second,
        on a table at 5 WCU / 5 RCU: most are refused, as DynamoDB refuses
        them (HTTP 400, its message, ThrottlingReasons)."""
        table = self.provisioned(5, 5)
        errors = self.drive(lambda i: self.put(table, {"p": f"k{i}"}), 50)
        self.assertGreater(len(errors), 25)
        for e in errors:
            self.assertThrottled(e, reason="TableWriteProvisionedThroughputExceeded",
                                 resource=arn(table))
        errors = self.drive(lambda i: self.get(table, {"p": f"k{i}"}), 50)
        self.assertGreater(len(errors), 25)
        for e in errors:
            self.assertThrottled(e, reason="TableReadProvisionedThroughputExceeded",
                                 resource=arn(table))

    def test_standard_retry_mode_gets_every_request_through(self):
        """Four clients with boto3's standard retry mode (10 retries) drive
        twice as many writes and reads as the table serves in a second, as
        fast as they can: every request succeeds in the end, after
        throttles."""
        table = self.provisioned(5, 5)
        throttled_before = self.throttled_total()

        def worker(w):
            ddb = self.server.client(max_attempts=11)
            for i in range(6):
                key = item_av({"p": f"w{w}-{i}"})
                ddb.put_item(TableName=table, Item={**key, "v": {"N": str(i)}})
                got = ddb.get_item(TableName=table, Key=key, ConsistentRead=True)
                self.assertEqual(got["Item"]["v"], {"N": str(i)})

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for future in [pool.submit(worker, w) for w in range(4)]:
                future.result()
        out = self.server.client(max_attempts=11).scan(TableName=table, Select="COUNT")
        self.assertEqual(out["Count"], 24)
        self.assertGreater(self.throttled_total(), throttled_before)

    def test_batch_write_returns_unprocessed_items(self):
        """A BatchWriteItem on a table with capacity for a few of its items
        writes those and returns the rest in UnprocessedItems, as they were
        requested; retrying them as boto3's batch writers do writes all. On a
        table with nothing left, the whole call is throttled."""
        table = self.provisioned(5, 5)
        self.exhaust_writes(table, kb=10)
        requests = [{"PutRequest": {"Item": item_av({"p": f"b{i}", "v": i})}}
                    for i in range(10)]
        with self.assertRaises(ClientError) as cm:
            self.ddb.batch_write_item(RequestItems={table: requests})
        self.assertThrottled(cm.exception)

        def first_batch():
            try:
                return self.ddb.batch_write_item(RequestItems={table: requests})
            except ClientError as e:
                self.assertThrottled(e)
                return None
        out = wait_until(first_batch, timeout=10, what="capacity for one item")
        unprocessed = out["UnprocessedItems"].get(table, [])
        self.assertGreater(len(unprocessed), 0)
        self.assertLess(len(unprocessed), len(requests))
        # The unprocessed ones are the last of the request, unchanged.
        self.assertEqual(unprocessed, requests[len(requests) - len(unprocessed):])

        def written_all():
            nonlocal unprocessed
            try:
                out = self.ddb.batch_write_item(RequestItems={table: unprocessed})
                unprocessed = out["UnprocessedItems"].get(table, [])
            except ClientError as e:
                self.assertThrottled(e)
            return not unprocessed
        wait_until(written_all, timeout=20, what="every item written")
        items, _ = self.scan_all(table, ConsistentRead=True)
        self.assertEqual(sorted(item_py(i)["v"] for i in items if "v" in i),
                         list(range(10)))

    def test_batch_get_returns_unprocessed_keys(self):
        """A BatchGetItem on a table with read capacity for one item reads it
        and returns the other keys in UnprocessedKeys, with the table's other
        parameters, while another table's keys are all served. On a table
        with nothing left, the whole call is throttled."""
        table = self.provisioned(1, 100)
        other = self.provisioned(100, 100)
        for i in range(5):  # 8 KB: 2 RCU a strongly consistent read.
            self.put(table, {"p": f"g{i}", "blob": "x" * 8000})
            self.put(other, {"p": f"g{i}"})
        keys = [item_av({"p": f"g{i}"}) for i in range(5)]
        out = self.ddb.batch_get_item(RequestItems={
            table: {"Keys": keys, "ConsistentRead": True},
            other: {"Keys": keys, "ConsistentRead": True}},
            ReturnConsumedCapacity="TOTAL")
        self.assertEqual([item_py(i)["p"] for i in out["Responses"][table]], ["g0"])
        self.assertEqual(len(out["Responses"][other]), 5)
        self.assertEqual(out["UnprocessedKeys"],
                         {table: {"Keys": keys[1:], "ConsistentRead": True}})
        self.assertEqual(sorted((c["TableName"], c["CapacityUnits"])
                                for c in out["ConsumedCapacity"]),
                         sorted([(table, 2.0), (other, 5.0)]))
        with self.assertRaises(ClientError) as cm:
            self.ddb.batch_get_item(RequestItems={table: {"Keys": keys}})
        self.assertThrottled(cm.exception)

    def test_a_gsi_throttles_writes_and_its_reads_with_the_index_message(self):
        """A table with room to spare whose GSI is at 1 WCU / 1 RCU: writes
        are held back by the GSI (DynamoDB's GSI back pressure) and queries
        of the GSI by its read capacity, with the index's message."""
        table = self.with_gsi((100, 100), (1, 1))
        errors = self.drive(lambda i: self.put(table, {"p": f"k{i}", "g": "x"}), 10)
        self.assertTrue(errors)
        for e in errors:
            self.assertThrottled(e, INDEX_MESSAGE, "IndexWriteProvisionedThroughputExceeded",
                                 arn(table, "by_g"))
        query = {"TableName": table, "IndexName": "by_g",
                 "KeyConditionExpression": "g = :g",
                 "ExpressionAttributeValues": {":g": {"S": "x"}}}
        errors = self.drive(lambda i: self.ddb.query(**query), 10)
        self.assertTrue(errors)
        for e in errors:
            self.assertThrottled(e, INDEX_MESSAGE, "IndexReadProvisionedThroughputExceeded",
                                 arn(table, "by_g"))
        # The table's own reads have their own capacity.
        self.assertEqual(self.get(table, {"p": "k0"}), {"p": "k0", "g": "x"})

    def test_reads_are_charged_what_consumed_capacity_reports(self):
        """After a Scan reporting 5 RCU, one reporting 10 RCU on a table at
        10 RCU leaves it 5 in debt: the next read is throttled."""
        table = self.provisioned(10, 100)
        for i in range(10):
            self.put(table, {"p": f"big{i}", "blob": "x" * 4000})
        out = self.ddb.scan(TableName=table, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["Count"], 10)
        self.assertEqual(out["ConsumedCapacity"]["CapacityUnits"], 5.0)
        out = self.ddb.scan(TableName=table, ConsistentRead=True,
                            ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["ConsumedCapacity"]["CapacityUnits"], 10.0)
        with self.assertRaises(ClientError) as cm:
            self.get(table, {"p": "big0"})
        self.assertThrottled(cm.exception)

    def test_update_table_resizes_the_buckets_at_once(self):
        """A 100 KB write leaves a 5 WCU table 20 s in debt; raising it to
        10000 WCU lets writes through again within a moment."""
        table = self.provisioned(5, 5)
        out = self.put(table, {"p": "big", "blob": "x" * 100_000},
                       ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["ConsumedCapacity"]["CapacityUnits"], 98.0)
        with self.assertRaises(ClientError) as cm:
            self.put(table, {"p": "next"})
        self.assertThrottled(cm.exception)
        started = time.monotonic()
        self.ddb.update_table(TableName=table, ProvisionedThroughput={
            "ReadCapacityUnits": 5, "WriteCapacityUnits": 10000})

        def written():
            try:
                self.put(table, {"p": "next"})
                return True
            except ClientError as e:
                self.assertThrottled(e)
                return False
        wait_until(written, timeout=5, what="a write after UpdateTable")
        self.assertLess(time.monotonic() - started, 5)

    def test_a_throttled_transaction_is_cancelled(self):
        """TransactWriteItems and TransactGetItems on a table out of capacity
        are cancelled, the throttled item's reason ProvisionedThroughputExceeded
        and the others' None."""
        table = self.provisioned(1, 5)
        other = self.provisioned(100, 100)
        self.exhaust_writes(table)
        with self.assertRaises(ClientError) as cm:
            self.ddb.transact_write_items(TransactItems=[
                {"Put": {"TableName": other, "Item": item_av({"p": "t1"})}},
                {"Put": {"TableName": table, "Item": item_av({"p": "t2"})}}])
        response = cm.exception.response
        self.assertEqual(response["Error"]["Code"], "TransactionCanceledException")
        self.assertEqual(response["Error"]["Message"],
                         "Transaction cancelled, please refer cancellation reasons for "
                         "specific reasons [None, ProvisionedThroughputExceeded]")
        self.assertEqual(response["CancellationReasons"], [
            {"Code": "None"},
            {"Code": "ProvisionedThroughputExceeded", "Message": TABLE_MESSAGE}])
        self.assertIsNone(self.get(other, {"p": "t1"}))
        # Transactional reads cost twice (26 RCU for 50 KB): a table at 1 RCU
        # serves one, then owes 25 s.
        get = {"Get": {"TableName": table, "Key": item_av({"p": "big"})}}
        self.ddb.transact_get_items(TransactItems=[get])
        with self.assertRaises(ClientError) as cm:
            self.ddb.transact_get_items(TransactItems=[get])
        self.assertEqual(cm.exception.response["CancellationReasons"], [
            {"Code": "ProvisionedThroughputExceeded", "Message": TABLE_MESSAGE}])

    def test_partiql_statements_are_throttled(self):
        """ExecuteStatement on a table out of capacity is throttled; in a
        BatchExecuteStatement only that table's statements fail, with the
        ProvisionedThroughputExceeded code."""
        table = self.provisioned(5, 5)
        other = self.provisioned(100, 100)
        self.exhaust_writes(table)
        with self.assertRaises(ClientError) as cm:
            self.ddb.execute_statement(Statement=f"INSERT INTO \"{table}\" VALUE {{'p': 'q'}}")
        self.assertThrottled(cm.exception)
        out = self.ddb.batch_execute_statement(Statements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'p': 'q1'}}"},
            {"Statement": f"INSERT INTO \"{other}\" VALUE {{'p': 'q2'}}"}])
        self.assertEqual(out["Responses"][0]["Error"],
                         {"Code": "ProvisionedThroughputExceeded", "Message": TABLE_MESSAGE})
        self.assertNotIn("Error", out["Responses"][1])
        self.assertEqual(self.get(other, {"p": "q2"}), {"p": "q2"})
        # Reads have capacity left.
        out = self.ddb.execute_statement(
            Statement=f"SELECT * FROM \"{table}\" WHERE p = 'big'")
        self.assertEqual(len(out["Items"]), 1)

    def test_an_on_demand_table_is_never_throttled(self):
        """Next to a PROVISIONED table out of capacity, a PAY_PER_REQUEST
        table takes 100 writes of 10 KB and 100 reads without a throttle."""
        provisioned = self.provisioned(5, 5)
        self.exhaust_writes(provisioned)
        table = self.create_table(billing_mode="PAY_PER_REQUEST")
        self.assertEqual(self.drive(
            lambda i: self.put(table, {"p": f"k{i}", "blob": "x" * 10_000}), 100), [])
        self.assertEqual(self.drive(lambda i: self.get(table, {"p": f"k{i}"}), 100), [])
        self.ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": item_av({"p": f"b{i}"})}} for i in range(25)]})


class CapacityNotEnforcedTest(CapacityTestCase):
    """Without --enforce-capacity (the default, as DynamoDB Local), nothing
    is throttled whatever the provisioned throughput."""

    def test_provisioned_tables_are_not_throttled_without_the_flag(self):
        table = self.with_gsi((1, 1), (1, 1))
        self.assertEqual(self.drive(
            lambda i: self.put(table, {"p": f"k{i}", "g": "x", "blob": "x" * 10_000}),
            100), [])
        self.assertEqual(self.drive(lambda i: self.get(table, {"p": f"k{i}"}), 100), [])
        out = self.ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": item_av({"p": f"b{i}", "g": "y"})}} for i in range(25)]})
        self.assertEqual(out["UnprocessedItems"], {})
        self.assertEqual(self.drive(lambda i: self.ddb.query(
            TableName=table, IndexName="by_g", KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": "x"}}), 20), [])
        self.assertNotIn("eddy_throttled_requests_total", self.server.metrics())


if __name__ == "__main__":
    unittest.main()
