"""ReturnItemCollectionMetrics through boto3: reported for tables with a local
secondary index (PutItem, UpdateItem, DeleteItem, BatchWriteItem,
TransactWriteItems), never for tables without one, and validated."""

import unittest

from eddy_server import EddyTestCase, item_av, item_py


class ItemCollectionMetricsTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.with_lsi = cls.unique_name()
        cls.ddb.create_table(
            TableName=cls.with_lsi, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                       {"AttributeName": "s", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                  {"AttributeName": "s", "AttributeType": "N"},
                                  {"AttributeName": "l", "AttributeType": "S"}],
            LocalSecondaryIndexes=[{
                "IndexName": "ByL",
                "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"},
                              {"AttributeName": "l", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "ALL"}}])
        cls._class_tables.append(cls.with_lsi)
        cls.wait_for_status(cls.with_lsi, "ACTIVE")
        cls.plain = cls.create_table(range_key=("s", "N"))

    def assertMetrics(self, metrics, partition):
        self.assertEqual(item_py(metrics["ItemCollectionKey"]), {"p": partition})
        self.assertEqual(metrics["SizeEstimateRangeGB"], [0.0, 1.0])

    def test_single_item_writes(self):
        out = self.put(self.with_lsi, {"p": "a", "s": 1, "l": "x"},
                       ReturnItemCollectionMetrics="SIZE")
        self.assertMetrics(out["ItemCollectionMetrics"], "a")
        out = self.update(self.with_lsi, {"p": "a", "s": 1}, "SET v = :v", {":v": 1},
                          ReturnItemCollectionMetrics="SIZE")
        self.assertMetrics(out["ItemCollectionMetrics"], "a")
        out = self.delete(self.with_lsi, {"p": "a", "s": 1},
                          ReturnItemCollectionMetrics="SIZE")
        self.assertMetrics(out["ItemCollectionMetrics"], "a")
        # Not asked for, or NONE: absent.
        out = self.put(self.with_lsi, {"p": "a", "s": 2})
        self.assertNotIn("ItemCollectionMetrics", out)
        out = self.put(self.with_lsi, {"p": "a", "s": 2}, ReturnItemCollectionMetrics="NONE")
        self.assertNotIn("ItemCollectionMetrics", out)

    def test_tables_without_lsi_report_nothing(self):
        out = self.put(self.plain, {"p": "a", "s": 1}, ReturnItemCollectionMetrics="SIZE")
        self.assertNotIn("ItemCollectionMetrics", out)

    def test_batch_and_transaction_group_by_table(self):
        out = self.ddb.batch_write_item(
            RequestItems={
                self.with_lsi: [{"PutRequest": {"Item": item_av({"p": k, "s": i})}}
                                for i, k in enumerate(["b", "b", "c"])],
                self.plain: [{"PutRequest": {"Item": item_av({"p": "b", "s": 1})}}]},
            ReturnItemCollectionMetrics="SIZE")
        metrics = out["ItemCollectionMetrics"]
        self.assertEqual(list(metrics), [self.with_lsi])
        self.assertEqual(sorted(item_py(m["ItemCollectionKey"])["p"]
                                for m in metrics[self.with_lsi]), ["b", "c"])
        out = self.ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": self.with_lsi,
                                    "Item": item_av({"p": "d", "s": 1})}}],
            ReturnItemCollectionMetrics="SIZE")
        self.assertMetrics(out["ItemCollectionMetrics"][self.with_lsi][0], "d")

    def test_invalid_value(self):
        with self.assertValidationError(regex=r"returnItemCollectionMetrics.*\[SIZE, NONE\]"):
            self.put(self.with_lsi, {"p": "a", "s": 1}, ReturnItemCollectionMetrics="ALL")


if __name__ == "__main__":
    unittest.main()
