"""Table operations: CreateTable, DescribeTable, ListTables, DeleteTable,
UpdateTable, as boto3 sees them."""

import datetime
import unittest

from eddy_server import ACCOUNT_ID, REGION, EddyTestCase, utc_now, wait_until

UUID_RE = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def key_schema(hash_name, range_name=None):
    schema = [{"AttributeName": hash_name, "KeyType": "HASH"}]
    if range_name:
        schema.append({"AttributeName": range_name, "KeyType": "RANGE"})
    return schema


def definitions(**types):
    return [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]


class CreateDescribeTest(EddyTestCase):
    def describe(self, name):
        return self.ddb.describe_table(TableName=name)["Table"]

    def test_create_table_returns_its_description(self):
        """CreateTable answers with a TableDescription of the new table."""
        name = self.unique_name()
        got = self.ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=key_schema("p", "c"), AttributeDefinitions=definitions(p="S", c="N"))
        self._class_tables.append(name)
        desc = got["TableDescription"]
        self.assertEqual(desc["TableName"], name)
        self.assertEqual(desc["KeySchema"], key_schema("p", "c"))
        self.assertIn(desc["TableStatus"], ("CREATING", "ACTIVE"))
        self.assertEqual(desc["TableArn"], f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}")

    def test_describe_table_has_dynamodb_shape(self):
        """DescribeTable of an on-demand table carries every field DynamoDB returns."""
        before = utc_now() - datetime.timedelta(minutes=5)
        name = self.create_table(hash_key=("p", "S"), range_key=("c", "B"))
        table = self.describe(name)
        self.assertEqual(table["TableName"], name)
        self.assertEqual(table["KeySchema"], key_schema("p", "c"))
        self.assertCountEqual(table["AttributeDefinitions"], definitions(p="S", c="B"))
        self.assertEqual(table["TableStatus"], "ACTIVE")
        self.assertIsInstance(table["CreationDateTime"], datetime.datetime)
        self.assertGreater(table["CreationDateTime"], before)
        self.assertLess(table["CreationDateTime"], utc_now() + datetime.timedelta(minutes=5))
        self.assertEqual(table["ItemCount"], 0)
        self.assertEqual(table["TableSizeBytes"], 0)
        self.assertEqual(table["TableArn"], f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}")
        self.assertRegex(table["TableId"], UUID_RE)
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(table["ProvisionedThroughput"]["ReadCapacityUnits"], 0)
        self.assertEqual(table["ProvisionedThroughput"]["WriteCapacityUnits"], 0)
        self.assertEqual(table["ProvisionedThroughput"]["NumberOfDecreasesToday"], 0)

    def test_describe_provisioned_table_shows_throughput(self):
        """A PROVISIONED table reports the capacity units it was created with."""
        name = self.create_table(billing_mode="PROVISIONED", throughput=(5, 7))
        throughput = self.describe(name)["ProvisionedThroughput"]
        self.assertEqual(throughput["ReadCapacityUnits"], 5)
        self.assertEqual(throughput["WriteCapacityUnits"], 7)
        self.assertEqual(throughput["NumberOfDecreasesToday"], 0)

    def test_billing_mode_defaults_to_provisioned(self):
        """Without BillingMode a table is PROVISIONED and takes ProvisionedThroughput."""
        name = self.create_table(billing_mode=None, throughput=(3, 4))
        table = self.describe(name)
        self.assertEqual(table["ProvisionedThroughput"]["ReadCapacityUnits"], 3)
        self.assertEqual(table["ProvisionedThroughput"]["WriteCapacityUnits"], 4)
        self.assertEqual(table.get("BillingModeSummary", {"BillingMode": "PROVISIONED"})
                         ["BillingMode"], "PROVISIONED")

    def test_table_ids_are_unique(self):
        """Every table gets its own TableId."""
        first, second = self.create_table(), self.create_table()
        self.assertNotEqual(self.describe(first)["TableId"], self.describe(second)["TableId"])

    def test_describe_missing_table(self):
        """DescribeTable of an unknown table is ResourceNotFoundException naming it."""
        name = self.unique_name()
        with self.assertDynamoError("ResourceNotFoundException",
                                    f"Requested resource not found: Table: {name} not found"):
            self.ddb.describe_table(TableName=name)

    def test_create_existing_table(self):
        """Creating a table twice is ResourceInUseException."""
        name = self.create_table()
        with self.assertDynamoError("ResourceInUseException", f"Table already exists: {name}"):
            self.create_table(name=name)

    def test_item_count_and_size_follow_writes(self):
        """Eddy keeps ItemCount and TableSizeBytes current (DynamoDB may lag)."""
        name = self.create_table()
        for i in range(3):
            self.put(name, {"p": f"k{i}", "v": "x" * 100})

        def counted():
            table = self.describe(name)
            return table["ItemCount"] == 3 and table["TableSizeBytes"] >= 300
        wait_until(counted, timeout=5, what="ItemCount == 3")

    def test_names_with_dot_dash_underscore_and_255_chars(self):
        """Table names may use [a-zA-Z0-9_.-] and be up to 255 characters."""
        for name in (".a-b_c.", "A" * 255, "abc"):
            with self.subTest(name=name):
                self.create_table(name=name)
                self.assertEqual(self.describe(name)["TableName"], name)


class CreateTableValidationTest(EddyTestCase):
    def create(self, name=None, **params):
        params.setdefault("KeySchema", key_schema("p"))
        params.setdefault("AttributeDefinitions", definitions(p="S"))
        params.setdefault("BillingMode", "PAY_PER_REQUEST")
        return self.ddb.create_table(TableName=name or self.unique_name(), **params)

    def test_name_too_short(self):
        """Table names shorter than 3 characters are rejected."""
        with self.assertValidationError(
                "TableName must be at least 3 characters long and at most 255 characters long"):
            self.create(name="ab")

    def test_name_too_long(self):
        """Table names longer than 255 characters are rejected."""
        with self.assertValidationError(
                "TableName must be at least 3 characters long and at most 255 characters long"):
            self.create(name="n" * 256)

    def test_name_with_invalid_character(self):
        """Table names outside [a-zA-Z0-9_.-] fail the pattern constraint."""
        with self.assertValidationError(
                "1 validation error detected: Value 'abc;' at 'tableName' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"):
            self.create(name="abc;")

    def test_key_type_must_be_scalar(self):
        """Only S, N and B may be key attribute types."""
        with self.assertValidationError(regex=r"BOOL"):
            self.create(AttributeDefinitions=definitions(p="BOOL"))

    def test_two_hash_keys(self):
        """A key schema has exactly one HASH element."""
        with self.assertValidationError():
            self.create(KeySchema=[{"AttributeName": "p", "KeyType": "HASH"},
                                   {"AttributeName": "c", "KeyType": "HASH"}],
                        AttributeDefinitions=definitions(p="S", c="S"))

    def test_key_without_attribute_definition(self):
        """Every key attribute needs an AttributeDefinition."""
        with self.assertValidationError():
            self.create(KeySchema=key_schema("p"), AttributeDefinitions=definitions(q="S"))

    def test_unused_attribute_definition(self):
        """AttributeDefinitions may not define attributes no key uses."""
        with self.assertValidationError(regex=r"AttributeDefinitions"):
            self.create(AttributeDefinitions=definitions(p="S", extra="S"))

    def test_pay_per_request_with_throughput(self):
        """PAY_PER_REQUEST tables may not specify ProvisionedThroughput."""
        with self.assertValidationError(regex=r"PAY_PER_REQUEST"):
            self.create(ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})

    def test_provisioned_without_throughput(self):
        """PROVISIONED tables need ProvisionedThroughput."""
        with self.assertValidationError(regex=r"PROVISIONED|ProvisionedThroughput"):
            self.create(BillingMode="PROVISIONED")

    def test_unknown_billing_mode(self):
        """BillingMode is an enum."""
        with self.assertValidationError(regex=r"billingMode"):
            self.create(BillingMode="pay_per_request")

    def test_key_attribute_name_over_255_bytes(self):
        """Key attribute names are limited to 255 bytes."""
        long_name = "k" * 256
        with self.assertValidationError(regex=r"25[56]"):
            self.create(KeySchema=key_schema(long_name),
                        AttributeDefinitions=definitions(**{long_name: "S"}))


class DeleteTableTest(EddyTestCase):
    def test_delete_returns_deleting_description(self):
        """DeleteTable answers with the table's description in DELETING state."""
        name = self.create_table()
        desc = self.ddb.delete_table(TableName=name)["TableDescription"]
        self.assertEqual(desc["TableName"], name)
        self.assertEqual(desc["TableStatus"], "DELETING")
        self.assertRegex(desc["TableId"], UUID_RE)

    def test_deleted_table_is_gone(self):
        """After DeleteTable the table is not described and not listed."""
        name = self.create_table()
        self.ddb.delete_table(TableName=name)
        self.wait_for_table_gone(name)
        self.assertNotIn(name, self.ddb.list_tables(Limit=100)["TableNames"])

    def test_delete_missing_table(self):
        """DeleteTable of an unknown table is ResourceNotFoundException naming it."""
        name = self.unique_name()
        with self.assertDynamoError("ResourceNotFoundException",
                                    f"Requested resource not found: Table: {name} not found"):
            self.ddb.delete_table(TableName=name)

    def test_recreated_table_is_empty(self):
        """A table re-created under a deleted table's name has none of its items."""
        name = self.create_table()
        self.put(name, {"p": "old"})
        self.ddb.delete_table(TableName=name)
        self.wait_for_table_gone(name)
        self.create_table(name=name)
        self.assertEqual(self.ddb.scan(TableName=name)["Items"], [])

    def test_item_operations_on_missing_table(self):
        """Item operations on an unknown table are ResourceNotFoundException."""
        name = self.unique_name()
        key = {"p": {"S": "x"}}
        operations = {
            "PutItem": lambda: self.ddb.put_item(TableName=name, Item=key),
            "GetItem": lambda: self.ddb.get_item(TableName=name, Key=key),
            "DeleteItem": lambda: self.ddb.delete_item(TableName=name, Key=key),
            "UpdateItem": lambda: self.ddb.update_item(TableName=name, Key=key),
            "Query": lambda: self.ddb.query(
                TableName=name, KeyConditionExpression="p = :p",
                ExpressionAttributeValues={":p": {"S": "x"}}),
            "Scan": lambda: self.ddb.scan(TableName=name),
        }
        for op, call in operations.items():
            with self.subTest(op=op), self.assertDynamoError(
                    "ResourceNotFoundException", "Requested resource not found"):
                call()


class ListTablesTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.prefix = cls.unique_name("list")
        cls.names = sorted(cls.create_table(name=f"{cls.prefix}-{i}") for i in range(5))

    def list_all(self, **kw):
        names, pages = [], 0
        while True:
            page = self.ddb.list_tables(**kw)
            pages += 1
            names.extend(page["TableNames"])
            if "LastEvaluatedTableName" not in page:
                return names, pages
            kw["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]

    def test_lists_created_tables_in_order(self):
        """ListTables returns every table, sorted by name."""
        names, _ = self.list_all()
        self.assertEqual(names, sorted(names))
        for name in self.names:
            self.assertIn(name, names)

    def test_limit_pages_without_gaps_or_repeats(self):
        """With Limit=2 pages hold at most 2 names and together list everything once."""
        everything, _ = self.list_all()
        paged, pages = [], 0
        kw = {"Limit": 2}
        while True:
            page = self.ddb.list_tables(**kw)
            pages += 1
            self.assertLessEqual(len(page["TableNames"]), 2)
            paged.extend(page["TableNames"])
            if "LastEvaluatedTableName" not in page:
                break
            self.assertEqual(page["LastEvaluatedTableName"], page["TableNames"][-1])
            kw["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
        self.assertEqual(paged, everything)
        self.assertGreaterEqual(pages, 3)

    def test_exclusive_start_table_name(self):
        """ExclusiveStartTableName lists only the names after it."""
        names, _ = self.list_all(ExclusiveStartTableName=self.names[1])
        self.assertNotIn(self.names[0], names)
        self.assertNotIn(self.names[1], names)
        self.assertEqual([n for n in names if n.startswith(self.prefix)], self.names[2:])

    def test_limit_over_100(self):
        """Limit may not exceed 100."""
        with self.assertValidationError(
                "1 validation error detected: Value '101' at 'limit' failed to satisfy "
                "constraint: Member must have value less than or equal to 100"):
            self.ddb.list_tables(Limit=101)

    def test_limit_zero(self):
        """Limit must be at least 1."""
        with self.assertValidationError(
                "1 validation error detected: Value '0' at 'limit' failed to satisfy "
                "constraint: Member must have value greater than or equal to 1"):
            self.ddb.list_tables(Limit=0)


class UpdateTableTest(EddyTestCase):
    def describe(self, name):
        return self.ddb.describe_table(TableName=name)["Table"]

    def test_switch_to_provisioned(self):
        """UpdateTable moves an on-demand table to PROVISIONED with the given capacity."""
        name = self.create_table()
        got = self.ddb.update_table(
            TableName=name, BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 3, "WriteCapacityUnits": 4})
        self.assertEqual(got["TableDescription"]["TableName"], name)
        self.wait_for_status(name, "ACTIVE")
        table = self.describe(name)
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PROVISIONED")
        self.assertEqual(table["ProvisionedThroughput"]["ReadCapacityUnits"], 3)
        self.assertEqual(table["ProvisionedThroughput"]["WriteCapacityUnits"], 4)

    def test_change_throughput(self):
        """UpdateTable changes a provisioned table's capacity units."""
        name = self.create_table(billing_mode="PROVISIONED", throughput=(5, 5))
        self.ddb.update_table(
            TableName=name,
            ProvisionedThroughput={"ReadCapacityUnits": 10, "WriteCapacityUnits": 20})
        self.wait_for_status(name, "ACTIVE")
        throughput = self.describe(name)["ProvisionedThroughput"]
        self.assertEqual((throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]),
                         (10, 20))

    def test_switch_to_pay_per_request(self):
        """UpdateTable moves a provisioned table to on-demand."""
        name = self.create_table(billing_mode="PROVISIONED", throughput=(5, 5))
        self.ddb.update_table(TableName=name, BillingMode="PAY_PER_REQUEST")
        self.wait_for_status(name, "ACTIVE")
        table = self.describe(name)
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(table["ProvisionedThroughput"]["ReadCapacityUnits"], 0)

    def test_update_keeps_items(self):
        """Changing billing mode does not touch the data."""
        name = self.create_table()
        self.put(name, {"p": "kept", "v": 1})
        self.ddb.update_table(
            TableName=name, BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1})
        self.wait_for_status(name, "ACTIVE")
        self.assertItem(name, {"p": "kept"}, {"p": "kept", "v": 1})

    def test_update_missing_table(self):
        """UpdateTable of an unknown table is ResourceNotFoundException."""
        with self.assertDynamoError("ResourceNotFoundException",
                                    regex=r"^Requested resource not found"):
            self.ddb.update_table(TableName=self.unique_name(), BillingMode="PAY_PER_REQUEST")

    def test_to_provisioned_without_throughput(self):
        """Switching to PROVISIONED requires ProvisionedThroughput."""
        name = self.create_table()
        with self.assertValidationError():
            self.ddb.update_table(TableName=name, BillingMode="PROVISIONED")


if __name__ == "__main__":
    unittest.main()
