"""Validation: DynamoDB's limits, each with its error type, HTTP status 400
and message text (reference: reliability-security.md section 5.3)."""

import unittest

from eddy_server import EddyTestCase, item_av, nested_map

MAX_ITEM_BYTES = 409_600


def nested_list(depth, leaf="x"):
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


class ItemLimitTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"))
        cls.pair = cls.create_table(hash_key=("p", "S"), range_key=("c", "S"))
        cls.binary = cls.create_table(hash_key=("p", "B"), range_key=("c", "B"))

    def item_of_size(self, key, size):
        """An item {p: key, x: 'x' * n} whose DynamoDB size is exactly `size` bytes."""
        overhead = len("p") + len(key.encode()) + len("x")
        return {"p": key, "x": "x" * (size - overhead)}

    def test_item_at_400_kb_is_accepted(self):
        """An item of exactly 409,600 bytes (names + values) is stored."""
        item = self.item_of_size("at-limit", MAX_ITEM_BYTES)
        self.put(self.table, item)
        self.assertEqual(len(self.get(self.table, {"p": "at-limit"})["x"]), len(item["x"]))

    def test_item_over_400_kb_is_rejected(self):
        """One byte more than 409,600 is rejected."""
        with self.assertValidationError("Item size has exceeded the maximum allowed size"):
            self.put(self.table, self.item_of_size("over", MAX_ITEM_BYTES + 1))
        self.assertIsNone(self.get(self.table, {"p": "over"}))

    def test_attribute_names_count_toward_item_size(self):
        """Attribute names are part of the item size."""
        item = self.item_of_size("names", MAX_ITEM_BYTES - 2)
        item["yy"] = ""
        self.put(self.table, item)
        item["yyy"] = ""
        with self.assertValidationError("Item size has exceeded the maximum allowed size"):
            self.put(self.table, item)

    def test_update_growing_item_past_400_kb(self):
        """An update that would make the item too large is rejected and changes nothing."""
        self.put(self.table, {"p": "grow", "a": "a" * 300_000})
        with self.assertValidationError(
                "Item size to update has exceeded the maximum allowed size"):
            self.update(self.table, {"p": "grow"}, "SET b = :v", {":v": "b" * 200_000})
        self.assertNotIn("b", self.get(self.table, {"p": "grow"}))

    def test_hash_key_at_2048_bytes(self):
        """A 2048-byte partition key is accepted, as string and as binary."""
        self.put(self.table, {"p": "k" * 2048})
        self.assertIsNotNone(self.get(self.table, {"p": "k" * 2048}))
        self.put(self.binary, {"p": b"\xff" * 2048, "c": b"c"})

    def test_hash_key_over_2048_bytes(self):
        """A 2049-byte partition key is rejected in writes and reads."""
        message = ("One or more parameter values were invalid: Size of hashkey has exceeded "
                   "the maximum size limit of2048 bytes")
        for call in (lambda: self.put(self.table, {"p": "k" * 2049}),
                     lambda: self.get(self.table, {"p": "k" * 2049}),
                     lambda: self.put(self.binary, {"p": b"\x01" * 2049, "c": b"c"}),
                     lambda: self.put(self.table, {"p": "\u00e9" * 1025})):
            with self.subTest(), self.assertValidationError(message):
                call()

    def test_range_key_at_1024_bytes(self):
        """A 1024-byte sort key is accepted."""
        self.put(self.pair, {"p": "r", "c": "c" * 1024})
        self.assertIsNotNone(self.get(self.pair, {"p": "r", "c": "c" * 1024}))

    def test_range_key_over_1024_bytes(self):
        """A 1025-byte sort key is rejected, as string and as binary."""
        message = ("One or more parameter values were invalid: Aggregated size of all range "
                   "keys has exceeded the size limit of 1024 bytes")
        for call in (lambda: self.put(self.pair, {"p": "r", "c": "c" * 1025}),
                     lambda: self.put(self.binary, {"p": b"p", "c": b"\x00" * 1025})):
            with self.subTest(), self.assertValidationError(message):
                call()

    def test_empty_string_key(self):
        """Key attributes may not be empty strings."""
        for table, item, name in ((self.table, {"p": ""}, "p"),
                                  (self.pair, {"p": "x", "c": ""}, "c")):
            with self.subTest(key=name), self.assertValidationError(
                    "One or more parameter values are not valid. The AttributeValue for a key "
                    f"attribute cannot contain an empty string value. Key: {name}"):
                self.put(table, item)

    def test_empty_binary_key(self):
        """Key attributes may not be empty binaries."""
        with self.assertValidationError(regex=r"empty binary value. Key: p$"):
            self.put(self.binary, {"p": b"", "c": b"c"})

    def test_empty_key_in_get(self):
        """GetItem rejects an empty key value too."""
        with self.assertValidationError(regex=r"empty string value. Key: p$"):
            self.get(self.table, {"p": ""})

    def test_wrong_key_type_in_put(self):
        """PutItem with a number where the schema says S names the key and both types."""
        with self.assertValidationError(
                "One or more parameter values were invalid: Type mismatch for key p "
                "expected: S actual: N"):
            self.put(self.table, {"p": 1})

    def test_missing_key_in_put(self):
        """PutItem without the sort key names the missing key."""
        with self.assertValidationError(
                "One or more parameter values were invalid: Missing the key c in the item"):
            self.put(self.pair, {"p": "x", "v": 1})

    def test_key_not_matching_schema(self):
        """GetItem, DeleteItem and UpdateItem keys must match the schema exactly."""
        bad_keys = [{"p": "x", "c": "y", "extra": "z"},  # extra attribute
                    {"p": "x"},                          # missing sort key
                    {"p": "x", "c": 1}]                  # wrong type
        for key in bad_keys:
            for name, call in (("get", lambda: self.get(self.pair, key)),
                               ("delete", lambda: self.delete(self.pair, key)),
                               ("update", lambda: self.update(self.pair, key, "SET v = :v",
                                                              {":v": 1}))):
                with self.subTest(op=name, key=key), self.assertValidationError(
                        "The provided key element does not match the schema"):
                    call()

    def test_nesting_within_limit(self):
        """A value nested 31 maps or lists deep is stored."""
        self.put(self.table, {"p": "deep", "m": nested_map(31), "l": nested_list(31)})
        self.assertEqual(self.get(self.table, {"p": "deep"})["m"], nested_map(31))

    def test_nesting_over_limit(self):
        """Nesting beyond 32 levels is rejected."""
        for value in (nested_map(33), nested_list(33), nested_map(50)):
            with self.subTest(), self.assertValidationError(
                    regex=r"^Nesting Levels have exceeded supported limits"):
                self.put(self.table, {"p": "too-deep", "v": value})

    def test_attribute_name_at_65535_bytes(self):
        """Attribute names may be up to 65,535 bytes."""
        self.put(self.table, {"p": "long-name", "n" * 65535: 1})

    def test_attribute_name_over_65535_bytes(self):
        """A 65,536-byte attribute name is rejected."""
        with self.assertValidationError(regex=r"6553[56]"):
            self.put(self.table, {"p": "long-name", "n" * 65536: 1})

    def test_item_operation_with_invalid_table_name(self):
        """Item operations validate the table name before looking it up (as a
        constraint: DynamoDB's "TableName must be at least 3 characters" text
        belongs to the older table operations)."""
        with self.assertValidationError(
                "1 validation error detected: Value 'xy' at 'tableName' failed to satisfy "
                "constraint: Member must have length greater than or equal to 3"):
            self.ddb.get_item(TableName="xy", Key={"p": {"S": "x"}})
        with self.assertValidationError(regex=r"at 'tableName' failed to satisfy constraint: "
                                              r"Member must satisfy regular expression pattern"):
            self.ddb.put_item(TableName="bad!name", Item={"p": {"S": "x"}})


class AttributeValueTest(EddyTestCase):
    """Malformed AttributeValues in items."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table()

    def put_raw(self, value):
        return self.ddb.put_item(TableName=self.table, Item={"p": {"S": "v"}, "a": value})

    def test_empty_string_set(self):
        """String sets may not be empty."""
        with self.assertValidationError(
                "One or more parameter values were invalid: An string set  may not be empty"):
            self.put_raw({"SS": []})

    def test_empty_number_set(self):
        """Number sets may not be empty."""
        with self.assertValidationError(
                "One or more parameter values were invalid: An number set  may not be empty"):
            self.put_raw({"NS": []})

    def test_empty_binary_set(self):
        """Binary sets may not be empty."""
        with self.assertValidationError(
                "One or more parameter values were invalid: Binary sets should not be empty"):
            self.put_raw({"BS": []})

    def test_duplicate_string_set_members(self):
        """String sets may not repeat a member."""
        with self.assertValidationError(
                "One or more parameter values were invalid: Input collection [a, a] "
                "contains duplicates."):
            self.put_raw({"SS": ["a", "a"]})

    def test_duplicate_number_and_binary_set_members(self):
        """Number and binary sets may not repeat a member (1 and 1.0 are the same)."""
        for value in ({"NS": ["1", "1"]}, {"NS": ["1", "1.0"]}, {"BS": [b"x", b"x"]}):
            with self.subTest(value=value), self.assertValidationError(
                    regex=r"contains duplicates"):
                self.put_raw(value)

    def test_number_with_39_significant_digits(self):
        """Numbers carry at most 38 significant digits."""
        with self.assertValidationError(
                "Attempting to store more than 38 significant digits in a Number"):
            self.put_raw({"N": "123456789012345678901234567890123456789"})

    def test_trailing_zeros_are_not_significant(self):
        """1 followed by 40 zeros has one significant digit and is accepted."""
        self.put_raw({"N": "1" + "0" * 40})
        self.put_raw({"N": "0.00000000000000000000000000000000000000001"})

    def test_number_overflow(self):
        """Magnitudes of 1E126 and above overflow."""
        for text in ("1E126", "-1E126", "1" + "0" * 126):
            with self.subTest(text=text), self.assertValidationError(
                    "Number overflow. Attempting to store a number with magnitude larger than "
                    "supported range"):
                self.put_raw({"N": text})

    def test_number_underflow(self):
        """Magnitudes below 1E-130 underflow."""
        for text in ("1E-131", "-1E-131", "0.9E-130"):
            with self.subTest(text=text), self.assertValidationError(
                    "Number underflow. Attempting to store a number with magnitude smaller "
                    "than supported range"):
                self.put_raw({"N": text})

    def test_not_a_number(self):
        """'dog' is not a number."""
        with self.assertValidationError(
                "The parameter cannot be converted to a numeric value: dog"):
            self.put_raw({"N": "dog"})

    def test_other_non_numbers(self):
        """NaN, Infinity, spaces and empty strings are not numbers."""
        for text in ("NaN", "Infinity", "-Infinity", " 1", "1 ", "1e", "--1", ""):
            with self.subTest(text=text), self.assertValidationError(regex=r"numeric value"):
                self.put_raw({"N": text})

    def test_unusual_but_valid_numbers(self):
        """Leading +, leading dot, exponents and leading zeros are numbers."""
        for text in ("+3", ".5", "-17e5", "1E+5", "0001.23", "0e1000", "-0"):
            with self.subTest(text=text):
                self.put_raw({"N": text})

    def test_value_with_two_types(self):
        """An AttributeValue holds exactly one type."""
        with self.assertValidationError(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly "
                "one of the supported datatypes"):
            self.put_raw({"S": "a", "N": "1"})

    def test_value_with_no_type(self):
        """An empty AttributeValue is rejected."""
        with self.assertValidationError(
                "Supplied AttributeValue is empty, must contain exactly one of the supported "
                "datatypes"):
            self.put_raw({})

    def test_invalid_value_nested_in_map(self):
        """Validation reaches values nested inside maps and lists."""
        with self.assertValidationError(
                "The parameter cannot be converted to a numeric value: dog"):
            self.put_raw({"M": {"l": {"L": [{"N": "dog"}]}}})

    def test_arithmetic_overflow(self):
        """SET with + that leaves the number range is rejected."""
        self.put(self.table, {"p": "big", "n": 0})
        with self.assertValidationError(regex=r"^Number overflow"):
            self.ddb.update_item(TableName=self.table, Key={"p": {"S": "big"}},
                                 UpdateExpression="SET n = :a + :b",
                                 ExpressionAttributeValues={":a": {"N": "9E125"},
                                                            ":b": {"N": "9E125"}})


class ExpressionLimitTest(EddyTestCase):
    """Expressions are limited to 4096 bytes, checked before parsing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"), range_key=("c", "N"))
        cls.ddb.put_item(TableName=cls.table, Item=item_av({"p": "e", "c": 1, "a": 1}))

    def padded(self, head, tail, total):
        """head + spaces + tail, exactly `total` bytes long."""
        return head + " " * (total - len(head) - len(tail)) + tail

    def test_condition_at_4096_bytes(self):
        """A 4096-byte ConditionExpression is accepted."""
        self.update(self.table, {"p": "e", "c": 1}, "SET b = :v", {":v": 1},
                    ConditionExpression=self.padded("a", "= :v", 4096))

    def test_condition_over_4096_bytes(self):
        """A 4097-byte ConditionExpression is rejected, naming its size."""
        with self.assertValidationError(
                "Invalid ConditionExpression: Expression size has exceeded the maximum allowed "
                "size; expression size: 4097"):
            self.update(self.table, {"p": "e", "c": 1}, "SET b = :v", {":v": 1},
                        ConditionExpression=self.padded("a", "= :v", 4097))

    def test_update_expression_over_4096_bytes(self):
        """A 4097-byte UpdateExpression is rejected; 4096 is fine."""
        self.update(self.table, {"p": "e", "c": 1}, self.padded("SET", "b = :v", 4096), {":v": 1})
        with self.assertValidationError(
                "Invalid UpdateExpression: Expression size has exceeded the maximum allowed "
                "size; expression size: 4097"):
            self.update(self.table, {"p": "e", "c": 1}, self.padded("SET", "b = :v", 4097),
                        {":v": 1})

    def test_projection_expression_over_4096_bytes(self):
        """A 4097-byte ProjectionExpression is rejected."""
        with self.assertValidationError(
                "Invalid ProjectionExpression: Expression size has exceeded the maximum allowed "
                "size; expression size: 4097"):
            self.get(self.table, {"p": "e", "c": 1}, ProjectionExpression="x" * 4097)

    def test_filter_and_key_condition_over_4096_bytes(self):
        """Query's FilterExpression and KeyConditionExpression obey the same limit."""
        values = item_av({":p": "e", ":v": 1})
        with self.assertValidationError(regex=r"^Invalid FilterExpression: Expression size has "
                                              r"exceeded the maximum allowed size"):
            self.ddb.query(TableName=self.table, KeyConditionExpression="p = :p",
                           FilterExpression=self.padded("a", "= :v", 4097),
                           ExpressionAttributeValues=values)
        with self.assertValidationError(regex=r"^Invalid KeyConditionExpression: Expression size "
                                              r"has exceeded the maximum allowed size"):
            self.ddb.query(TableName=self.table,
                           KeyConditionExpression=self.padded("p", "= :p", 4097),
                           ExpressionAttributeValues=item_av({":p": "e"}))

    def test_deeply_nested_long_expression_is_rejected_not_crashing(self):
        """20,000 nested parentheses are rejected by size, without recursion blowing up."""
        condition = "(" * 20000 + "a = :v" + ")" * 20000
        with self.assertValidationError(regex=r"^Invalid ConditionExpression: Expression size "
                                              r"has exceeded the maximum allowed size"):
            self.update(self.table, {"p": "e", "c": 1}, "SET b = :v", {":v": 1},
                        ConditionExpression=condition)

    def test_deeply_nested_short_expression_is_rejected(self):
        """2000 nested parentheses fit in 4096 bytes but are still rejected cleanly."""
        condition = "(" * 2000 + "a = :v" + ")" * 2000
        with self.assertValidationError(regex=r"^Invalid ConditionExpression"):
            self.update(self.table, {"p": "e", "c": 1}, "SET b = :v", {":v": 1},
                        ConditionExpression=condition)

    def test_too_many_operators(self):
        """More than 300 operators are rejected even under 4096 bytes."""
        condition = "a = :v" + " OR a = :v" * 301
        self.assertLess(len(condition), 4096)
        with self.assertValidationError(regex=r"^Invalid ConditionExpression: The expression "
                                              r"contains too many operators; operator count: "):
            self.update(self.table, {"p": "e", "c": 1}, "SET b = :v", {":v": 1},
                        ConditionExpression=condition)

    def test_redundant_parentheses(self):
        """((a = :v)) has redundant parentheses."""
        with self.assertValidationError(regex=r"^Invalid ConditionExpression: The expression has "
                                              r"redundant parentheses"):
            self.update(self.table, {"p": "e", "c": 1}, "SET b = :v", {":v": 1},
                        ConditionExpression="((a = :v))")


if __name__ == "__main__":
    unittest.main()
