"""BatchWriteItem and BatchGetItem through boto3: writes and reads across
tables, DynamoDB's limits and validation, and one stream record per item."""

import unittest

from eddy_server import EddyTestCase, item_av, item_py


def put_request(item):
    return {"PutRequest": {"Item": item_av(item)}}


def delete_request(key):
    return {"DeleteRequest": {"Key": item_av(key)}}


class BatchWriteItemTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.create_table()
        cls.b = cls.create_table(range_key=("s", "N"))

    def test_puts_and_deletes_across_tables(self):
        """Puts and deletes of several tables apply, UnprocessedItems is empty."""
        self.put(self.a, {"p": "gone", "v": 1})
        out = self.ddb.batch_write_item(RequestItems={
            self.a: [put_request({"p": "x1", "v": 1}), delete_request({"p": "gone"})],
            self.b: [put_request({"p": "y", "s": 1}), put_request({"p": "y", "s": 2})],
        })
        self.assertEqual(out["UnprocessedItems"], {})
        self.assertEqual(self.get(self.a, {"p": "x1"}), {"p": "x1", "v": 1})
        self.assertIsNone(self.get(self.a, {"p": "gone"}))
        self.assertEqual(self.get(self.b, {"p": "y", "s": 2}), {"p": "y", "s": 2})

    def test_more_than_25_requests_rejected(self):
        """26 write requests in one call are a ValidationException."""
        with self.assertValidationError(regex=r"less than or equal to 25"):
            self.ddb.batch_write_item(RequestItems={
                self.a: [put_request({"p": f"k{i}"}) for i in range(26)]})
        self.assertIsNone(self.get(self.a, {"p": "k0"}))

    def test_duplicate_keys_rejected(self):
        """Two requests on one item are rejected and nothing is written."""
        with self.assertValidationError("Provided list of item keys contains duplicates"):
            self.ddb.batch_write_item(RequestItems={self.a: [
                put_request({"p": "dup", "v": 1}), delete_request({"p": "dup"})]})
        self.assertIsNone(self.get(self.a, {"p": "dup"}))

    def test_invalid_item_rejects_whole_batch(self):
        """One bad item fails the call before any item is written."""
        with self.assertValidationError(regex=r"Missing the key p"):
            self.ddb.batch_write_item(RequestItems={self.a: [
                put_request({"p": "fine"}), put_request({"q": "no key"})]})
        self.assertIsNone(self.get(self.a, {"p": "fine"}))

    def test_unknown_table(self):
        """A table that does not exist is ResourceNotFoundException."""
        with self.assertDynamoError("ResourceNotFoundException"):
            self.ddb.batch_write_item(RequestItems={"no-such-table": [
                put_request({"p": "x"})]})

    def test_request_with_both_put_and_delete_rejected(self):
        """A WriteRequest must hold exactly one of PutRequest / DeleteRequest."""
        with self.assertValidationError(regex=r"exactly one"):
            self.ddb.batch_write_item(RequestItems={self.a: [{
                "PutRequest": {"Item": item_av({"p": "x"})},
                "DeleteRequest": {"Key": item_av({"p": "x"})}}]})


class BatchGetItemTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.a = cls.create_table()
        cls.b = cls.create_table()
        for i in range(5):
            cls.ddb.put_item(TableName=cls.a, Item=item_av({"p": f"k{i}", "v": i, "w": "x"}))
        cls.ddb.put_item(TableName=cls.b, Item=item_av({"p": "only", "v": 9}))

    def test_reads_across_tables_and_skips_missing(self):
        """Existing items come back per table; missing keys are simply absent."""
        out = self.ddb.batch_get_item(RequestItems={
            self.a: {"Keys": [item_av({"p": "k1"}), item_av({"p": "k3"}),
                              item_av({"p": "missing"})]},
            self.b: {"Keys": [item_av({"p": "only"})]},
        })
        got_a = sorted((item_py(i) for i in out["Responses"][self.a]), key=lambda i: i["p"])
        self.assertEqual(got_a, [{"p": "k1", "v": 1, "w": "x"}, {"p": "k3", "v": 3, "w": "x"}])
        self.assertEqual([item_py(i) for i in out["Responses"][self.b]], [{"p": "only", "v": 9}])
        self.assertEqual(out["UnprocessedKeys"], {})

    def test_projection_expression(self):
        """ProjectionExpression with a name substitution applies per table."""
        out = self.ddb.batch_get_item(RequestItems={self.a: {
            "Keys": [item_av({"p": "k2"})], "ProjectionExpression": "#v",
            "ExpressionAttributeNames": {"#v": "v"}}})
        self.assertEqual([item_py(i) for i in out["Responses"][self.a]], [{"v": 2}])

    def test_more_than_100_keys_rejected(self):
        """More than 100 keys over all tables is DynamoDB's error."""
        with self.assertValidationError("Too many items requested for the BatchGetItem call"):
            self.ddb.batch_get_item(RequestItems={
                self.a: {"Keys": [item_av({"p": f"a{i}"}) for i in range(60)]},
                self.b: {"Keys": [item_av({"p": f"b{i}"}) for i in range(41)]}})

    def test_duplicate_keys_rejected(self):
        """The same key twice is rejected."""
        with self.assertValidationError("Provided list of item keys contains duplicates"):
            self.ddb.batch_get_item(RequestItems={self.a: {
                "Keys": [item_av({"p": "k1"}), item_av({"p": "k1"})]}})


class BatchStreamRecordsTest(EddyTestCase):
    def test_batch_write_gives_one_record_per_item(self):
        """Each item of a BatchWriteItem produces exactly one stream record."""
        table = self.create_table(StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.put(table, {"p": "d"})
        self.ddb.batch_write_item(RequestItems={table: [
            put_request({"p": f"n{i}"}) for i in range(10)] + [delete_request({"p": "d"})]})
        streams = self.server.client("dynamodbstreams")
        arn = self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        events = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            for r in streams.get_records(ShardIterator=it)["Records"]:
                events.append((r["eventName"], r["dynamodb"]["Keys"]["p"]["S"]))
        self.assertEqual(sorted(events), sorted(
            [("INSERT", "d"), ("REMOVE", "d")] + [("INSERT", f"n{i}") for i in range(10)]))


if __name__ == "__main__":
    unittest.main()
