"""TransactWriteItems and TransactGetItems through boto3: all-or-nothing
commits across tables, cancellation reasons in request order, idempotency
tokens, DynamoDB's validation, and one stream record per item."""

import threading
import unittest

from botocore.exceptions import ClientError

from eddy_server import EddyTestCase, item_av, item_py


def put(table, item, **kw):
    return {"Put": dict(TableName=table, Item=item_av(item), **kw)}


def update(table, key, expression, values=None, **kw):
    body = dict(TableName=table, Key=item_av(key), UpdateExpression=expression, **kw)
    if values is not None:
        body["ExpressionAttributeValues"] = item_av(values)
    return {"Update": body}


def delete(table, key, **kw):
    return {"Delete": dict(TableName=table, Key=item_av(key), **kw)}


def check(table, key, expression, values=None, **kw):
    body = dict(TableName=table, Key=item_av(key), ConditionExpression=expression, **kw)
    if values is not None:
        body["ExpressionAttributeValues"] = item_av(values)
    return {"ConditionCheck": body}


class TransactWriteItemsTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.create_table()
        cls.b = cls.create_table(range_key=("s", "N"))

    def test_all_actions_commit_across_tables(self):
        """Put, Update, Delete and ConditionCheck on two tables all apply."""
        self.put(self.a, {"p": "upd", "n": 1})
        self.put(self.a, {"p": "del"})
        self.put(self.b, {"p": "chk", "s": 1, "ok": True})
        self.ddb.transact_write_items(TransactItems=[
            put(self.b, {"p": "new", "s": 7, "v": "x"}),
            update(self.a, {"p": "upd"}, "SET n = n + :one", {":one": 1}),
            delete(self.a, {"p": "del"}),
            check(self.b, {"p": "chk", "s": 1}, "ok = :t", {":t": True}),
        ])
        self.assertEqual(self.get(self.b, {"p": "new", "s": 7}), {"p": "new", "s": 7, "v": "x"})
        self.assertEqual(self.get(self.a, {"p": "upd"}), {"p": "upd", "n": 2})
        self.assertIsNone(self.get(self.a, {"p": "del"}))
        self.assertEqual(self.get(self.b, {"p": "chk", "s": 1}), {"p": "chk", "s": 1, "ok": True})

    def test_one_failing_condition_cancels_everything(self):
        """A false condition cancels the transaction: nothing applied, reasons in order."""
        self.put(self.a, {"p": "acct", "balance": 5})
        with self.assertDynamoError("TransactionCanceledException") as cm:
            self.ddb.transact_write_items(TransactItems=[
                put(self.a, {"p": "would-be-new"}),
                update(self.a, {"p": "acct"}, "SET balance = balance - :d", {":d": 10},
                       ConditionExpression="balance >= :d",
                       ReturnValuesOnConditionCheckFailure="ALL_OLD"),
                delete(self.b, {"p": "nobody", "s": 0}),
            ])
        error = cm.exception.response
        self.assertEqual(
            error["Error"]["Message"],
            "Transaction cancelled, please refer cancellation reasons for specific "
            "reasons [None, ConditionalCheckFailed, None]")
        reasons = error["CancellationReasons"]
        self.assertEqual([r["Code"] for r in reasons], ["None", "ConditionalCheckFailed", "None"])
        self.assertEqual(reasons[1]["Message"], "The conditional request failed")
        self.assertEqual(item_py(reasons[1]["Item"]), {"p": "acct", "balance": 5})
        self.assertIsNone(self.get(self.a, {"p": "would-be-new"}))
        self.assertEqual(self.get(self.a, {"p": "acct"}), {"p": "acct", "balance": 5})

    def test_item_returned_only_with_all_old(self):
        """Without ReturnValuesOnConditionCheckFailure the reason carries no item."""
        self.put(self.a, {"p": "quiet", "v": 1})
        with self.assertDynamoError("TransactionCanceledException") as cm:
            self.ddb.transact_write_items(TransactItems=[
                check(self.a, {"p": "quiet"}, "v = :two", {":two": 2})])
        reason = cm.exception.response["CancellationReasons"][0]
        self.assertEqual(reason["Code"], "ConditionalCheckFailed")
        self.assertNotIn("Item", reason)

    def test_update_that_cannot_apply_is_a_validation_reason(self):
        """An update that fails on the current item cancels with ValidationError."""
        self.put(self.a, {"p": "typed", "s": "text"})
        with self.assertDynamoError("TransactionCanceledException") as cm:
            self.ddb.transact_write_items(TransactItems=[
                put(self.a, {"p": "untouched"}),
                update(self.a, {"p": "typed"}, "SET s = s + :one", {":one": 1}),
            ])
        reasons = cm.exception.response["CancellationReasons"]
        self.assertEqual([r["Code"] for r in reasons], ["None", "ValidationError"])
        self.assertRegex(reasons[1]["Message"], "operand")
        self.assertIsNone(self.get(self.a, {"p": "untouched"}))

    def test_two_actions_on_one_item_rejected(self):
        with self.assertValidationError(
                "Transaction request cannot include multiple operations on one item"):
            self.ddb.transact_write_items(TransactItems=[
                put(self.a, {"p": "same"}),
                check(self.a, {"p": "same"}, "attribute_not_exists(p)"),
            ])
        self.assertIsNone(self.get(self.a, {"p": "same"}))

    def test_action_must_have_exactly_one_kind(self):
        both = put(self.a, {"p": "x"})
        both.update(delete(self.a, {"p": "x"}))
        for entry in (both, {}):
            with self.assertValidationError(
                    "TransactItems can only contain one of Check, Put, Update or Delete"):
                self.ddb.transact_write_items(TransactItems=[entry])

    def test_more_than_100_actions_rejected(self):
        with self.assertValidationError(regex="less than or equal to 100"):
            self.ddb.transact_write_items(TransactItems=[
                put(self.a, {"p": f"many{i}"}) for i in range(101)])
        self.assertIsNone(self.get(self.a, {"p": "many0"}))

    def test_100_actions_accepted(self):
        self.ddb.transact_write_items(TransactItems=[
            put(self.a, {"p": f"hundred{i}"}) for i in range(100)])
        self.assertEqual(self.get(self.a, {"p": "hundred99"}), {"p": "hundred99"})

    def test_missing_required_members(self):
        with self.assertValidationError(regex=r"transactItems\.1\.member\.conditionCheck\."
                                              r"conditionExpression.*must not be null"):
            self.ddb.transact_write_items(TransactItems=[
                {"ConditionCheck": {"TableName": self.a, "Key": item_av({"p": "x"})}}])
        with self.assertValidationError(regex=r"transactItems\.2\.member\.update\."
                                              r"updateExpression.*must not be null"):
            self.ddb.transact_write_items(TransactItems=[
                put(self.a, {"p": "x"}),
                {"Update": {"TableName": self.a, "Key": item_av({"p": "x"})}}])

    def test_bad_key_and_unknown_table(self):
        with self.assertValidationError("The provided key element does not match the schema"):
            self.ddb.transact_write_items(TransactItems=[
                put(self.a, {"p": "ok"}), delete(self.a, {"q": "wrong"})])
        with self.assertDynamoError("ResourceNotFoundException"):
            self.ddb.transact_write_items(TransactItems=[
                put(self.a, {"p": "ok"}), put("no-such-table", {"p": "x"})])
        self.assertIsNone(self.get(self.a, {"p": "ok"}))

    def test_key_attribute_update_rejected(self):
        with self.assertValidationError(regex="This attribute is part of the key"):
            self.ddb.transact_write_items(TransactItems=[
                update(self.a, {"p": "k"}, "SET p = :v", {":v": "other"})])

    def test_unused_expression_value_rejected(self):
        with self.assertValidationError(regex="unused in expressions"):
            self.ddb.transact_write_items(TransactItems=[
                check(self.a, {"p": "k"}, "attribute_exists(p)", {":unused": 1})])

    def test_consumed_capacity_per_table(self):
        out = self.ddb.transact_write_items(
            TransactItems=[put(self.a, {"p": "cap1"}), put(self.b, {"p": "cap", "s": 1})],
            ReturnConsumedCapacity="TOTAL")
        by_table = {c["TableName"]: c["CapacityUnits"] for c in out["ConsumedCapacity"]}
        self.assertEqual(by_table, {self.a: 2.0, self.b: 2.0})


class IdempotencyTest(EddyTestCase):
    def setUp(self):
        self.table = self.create_table()

    def test_retry_with_same_token_applies_once(self):
        """The same request with the same token within 10 minutes applies once."""
        self.put(self.table, {"p": "counter", "n": 0})
        request = dict(ClientRequestToken="token-1", TransactItems=[
            update(self.table, {"p": "counter"}, "ADD n :one", {":one": 1})])
        self.ddb.transact_write_items(**request)
        self.ddb.transact_write_items(**request)
        self.assertEqual(self.get(self.table, {"p": "counter"}), {"p": "counter", "n": 1})

    def test_same_token_other_request_is_mismatch(self):
        self.ddb.transact_write_items(ClientRequestToken="token-2", TransactItems=[
            put(self.table, {"p": "a"})])
        with self.assertDynamoError("IdempotentParameterMismatchException"):
            self.ddb.transact_write_items(ClientRequestToken="token-2", TransactItems=[
                put(self.table, {"p": "b"})])
        self.assertIsNone(self.get(self.table, {"p": "b"}))

    def test_cancelled_request_does_not_keep_its_token(self):
        """A cancelled transaction may be retried with its token and then applies."""
        request = dict(ClientRequestToken="token-3", TransactItems=[
            check(self.table, {"p": "gate"}, "attribute_exists(p)")])
        with self.assertDynamoError("TransactionCanceledException"):
            self.ddb.transact_write_items(**request)
        self.put(self.table, {"p": "gate"})
        self.ddb.transact_write_items(**request)

    def test_token_longer_than_36_rejected(self):
        with self.assertValidationError(regex="less than or equal to 36"):
            self.ddb.transact_write_items(ClientRequestToken="x" * 37, TransactItems=[
                put(self.table, {"p": "a"})])


class TransactGetItemsTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.create_table()
        cls.b = cls.create_table(range_key=("s", "N"))

    def test_reads_in_request_order_with_missing_items(self):
        self.put(self.a, {"p": "one", "v": 1, "extra": "e"})
        self.put(self.b, {"p": "two", "s": 2, "v": 2})
        out = self.ddb.transact_get_items(TransactItems=[
            {"Get": {"TableName": self.b, "Key": item_av({"p": "two", "s": 2})}},
            {"Get": {"TableName": self.a, "Key": item_av({"p": "missing"})}},
            {"Get": {"TableName": self.a, "Key": item_av({"p": "one"}),
                     "ProjectionExpression": "#v", "ExpressionAttributeNames": {"#v": "v"}}},
        ])
        responses = out["Responses"]
        self.assertEqual(item_py(responses[0]["Item"]), {"p": "two", "s": 2, "v": 2})
        self.assertNotIn("Item", responses[1])
        self.assertEqual(item_py(responses[2]["Item"]), {"v": 1})

    def test_errors(self):
        with self.assertValidationError(
                "Transaction request cannot include multiple operations on one item"):
            self.ddb.transact_get_items(TransactItems=[
                {"Get": {"TableName": self.a, "Key": item_av({"p": "x"})}},
                {"Get": {"TableName": self.a, "Key": item_av({"p": "x"})}}])
        with self.assertDynamoError("ResourceNotFoundException"):
            self.ddb.transact_get_items(TransactItems=[
                {"Get": {"TableName": "no-such-table", "Key": item_av({"p": "x"})}}])
        with self.assertValidationError(regex="less than or equal to 100"):
            self.ddb.transact_get_items(TransactItems=[
                {"Get": {"TableName": self.a, "Key": item_av({"p": f"k{i}"})}}
                for i in range(101)])

    def test_never_sees_half_a_transaction(self):
        """Readers racing transfers always see the total conserved."""
        self.put(self.a, {"p": "left", "n": 100})
        self.put(self.a, {"p": "right", "n": 0})
        stop = threading.Event()
        errors = []

        def transfer():
            client = self.server.client()
            while not stop.is_set():
                client.transact_write_items(TransactItems=[
                    update(self.a, {"p": "left"}, "ADD n :d", {":d": -1}),
                    update(self.a, {"p": "right"}, "ADD n :d", {":d": 1})])

        writer = threading.Thread(target=transfer)
        writer.start()
        try:
            for _ in range(200):
                out = self.ddb.transact_get_items(TransactItems=[
                    {"Get": {"TableName": self.a, "Key": item_av({"p": "left"})}},
                    {"Get": {"TableName": self.a, "Key": item_av({"p": "right"})}}])
                values = [int(r["Item"]["n"]["N"]) for r in out["Responses"]]
                if sum(values) != 100:
                    errors.append(values)
        finally:
            stop.set()
            writer.join()
        self.assertEqual(errors, [])


class TransferConcurrencyTest(EddyTestCase):
    """Many clients transfer between accounts; balances never go negative and
    the total is conserved (serialisable transactions)."""

    ACCOUNTS = 8
    START = 100

    def test_concurrent_transfers_conserve_the_total(self):
        table = self.create_table()
        for i in range(self.ACCOUNTS):
            self.put(table, {"p": f"acct{i}", "balance": self.START})
        committed = [0]
        cancelled = [0]
        lock = threading.Lock()

        def worker(seed):
            import random
            rng = random.Random(seed)
            client = self.server.client()
            for _ in range(150):
                src, dst = rng.sample(range(self.ACCOUNTS), 2)
                amount = rng.randint(1, 60)
                try:
                    client.transact_write_items(TransactItems=[
                        update(table, {"p": f"acct{src}"}, "SET balance = balance - :a",
                               {":a": amount}, ConditionExpression="balance >= :a"),
                        update(table, {"p": f"acct{dst}"}, "SET balance = balance + :a",
                               {":a": amount}),
                    ])
                    outcome = committed
                except ClientError as e:
                    self.assertEqual(e.response["Error"]["Code"], "TransactionCanceledException")
                    outcome = cancelled
                with lock:
                    outcome[0] += 1

        threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        items, _ = self.scan_all(table, ConsistentRead=True)
        balances = [int(item["balance"]["N"]) for item in items]
        self.assertEqual(len(balances), self.ACCOUNTS)
        self.assertEqual(sum(balances), self.ACCOUNTS * self.START)
        self.assertTrue(all(b >= 0 for b in balances), balances)
        self.assertEqual(committed[0] + cancelled[0], 8 * 150)
        self.assertGreater(committed[0], 0)
        self.assertGreater(cancelled[0], 0)


class TransactionStreamRecordsTest(EddyTestCase):
    def test_one_record_per_item_across_shards_and_tables(self):
        """A transaction writing many items emits exactly one record per changed item."""
        spec = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        a = self.create_table(StreamSpecification=spec)
        b = self.create_table(StreamSpecification=spec)
        self.put(a, {"p": "gone"})
        self.put(a, {"p": "same", "v": 1})
        self.ddb.transact_write_items(TransactItems=[
            put(a, {"p": f"n{i}"}) for i in range(10)] + [
            delete(a, {"p": "gone"}),
            put(a, {"p": "same", "v": 1}),  # No change: no record.
            put(b, {"p": "other"}),
        ])
        self.assertEqual(sorted(self.events(a)), sorted(
            [("INSERT", "gone"), ("INSERT", "same"), ("REMOVE", "gone")] +
            [("INSERT", f"n{i}") for i in range(10)]))
        self.assertEqual(self.events(b), [("INSERT", "other")])

    def events(self, table):
        streams = self.server.client("dynamodbstreams")
        arn = self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        events = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            for r in streams.get_records(ShardIterator=it)["Records"]:
                events.append((r["eventName"], r["dynamodb"]["Keys"]["p"]["S"]))
        return events


if __name__ == "__main__":
    unittest.main()
