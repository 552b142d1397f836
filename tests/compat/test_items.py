"""Item operations: PutItem, GetItem, DeleteItem, UpdateItem basics, the ten
attribute types, exact numbers, key ordering, and every ReturnValues mode."""

import unittest
from decimal import Decimal

from eddy_server import EddyTestCase, item_av

ALL_TYPES_ITEM = {
    "p": {"S": "all-types"},
    "s": {"S": "héllo wörld ✓"},
    "n": {"N": "-12.5"},
    "b": {"B": bytes(range(256))},
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "z": {"NULL": True},
    "m": {"M": {"k": {"S": "v"}, "inner": {"M": {"n": {"N": "1"}}}}},
    "l": {"L": [{"S": "a"}, {"N": "2"}, {"L": []}, {"M": {}}]},
    "ss": {"SS": ["x", "y", "z"]},
    "ns": {"NS": ["1", "2.5", "-3"]},
    "bs": {"BS": [b"\x00", b"\xff", b"ab"]},
}


def canonical(value):
    """An AttributeValue with set members sorted, so sets compare unordered."""
    (kind, inner), = value.items()
    if kind in ("SS", "NS", "BS"):
        key = (lambda n: Decimal(n)) if kind == "NS" else None
        return {kind: sorted(inner, key=key)}
    if kind == "M":
        return {"M": {k: canonical(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [canonical(v) for v in inner]}
    return value


def canonical_item(item):
    return {k: canonical(v) for k, v in item.items()}


class ItemTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"))
        cls.pair = cls.create_table(hash_key=("p", "S"), range_key=("c", "S"))
        cls.binary_hash = cls.create_table(hash_key=("p", "B"))

    def test_put_then_get(self):
        """GetItem returns what PutItem stored."""
        self.put(self.table, {"p": "a", "x": "hello", "y": 7})
        self.assertItem(self.table, {"p": "a"}, {"p": "a", "x": "hello", "y": 7})

    def test_get_missing_item_has_no_item(self):
        """GetItem of a missing key answers without an Item member."""
        response = self.ddb.get_item(TableName=self.table, Key={"p": {"S": "nobody"}})
        self.assertNotIn("Item", response)

    def test_put_replaces_whole_item(self):
        """PutItem over an existing item drops attributes it does not repeat."""
        self.put(self.table, {"p": "replace", "old": 1})
        self.put(self.table, {"p": "replace", "new": 2})
        self.assertItem(self.table, {"p": "replace"}, {"p": "replace", "new": 2})

    def test_all_ten_types_round_trip(self):
        """S, N, B, BOOL, NULL, M, L, SS, NS, BS come back as they were stored."""
        self.ddb.put_item(TableName=self.table, Item=ALL_TYPES_ITEM)
        got = self.get_raw(self.table, {"p": "all-types"})
        self.assertEqual(canonical_item(got), canonical_item(ALL_TYPES_ITEM))

    def test_binary_attribute_bytes_exact(self):
        """Every byte value survives in a binary attribute."""
        payload = bytes(range(256)) * 4
        self.put(self.table, {"p": "bytes", "b": payload})
        self.assertEqual(self.get(self.table, {"p": "bytes"})["b"], payload)

    def test_binary_key_bytes_exact(self):
        """Binary partition keys, including NUL and 0xFF bytes, address items exactly."""
        for key in (b"\x00", b"\x00\x00", b"\xff\x00\x01", bytes(range(256))):
            with self.subTest(key=key[:8]):
                self.put(self.binary_hash, {"p": key, "v": len(key)})
                self.assertItem(self.binary_hash, {"p": key}, {"p": key, "v": len(key)})

    def test_nul_character_in_strings(self):
        """Strings may contain NUL, in keys and in values."""
        key, value = "a\x00b", "x\x00y"
        self.put(self.table, {"p": key, "v": value})
        self.assertItem(self.table, {"p": key}, {"p": key, "v": value})
        self.assertIsNone(self.get(self.table, {"p": "a"}))

    def test_empty_string_and_binary_allowed_outside_keys(self):
        """Non-key attributes may be empty strings or empty binaries."""
        self.put(self.table, {"p": "empties", "s": "", "b": b""})
        self.assertItem(self.table, {"p": "empties"}, {"p": "empties", "s": "", "b": b""})

    def test_empty_list_and_map_allowed(self):
        """Empty lists and maps are values like any other."""
        self.put(self.table, {"p": "containers", "l": [], "m": {}})
        self.assertItem(self.table, {"p": "containers"}, {"p": "containers", "l": [], "m": {}})

    def test_range_key_distinguishes_items(self):
        """Items with the same partition key and different sort keys are distinct."""
        self.put(self.pair, {"p": "h", "c": "1", "v": "one"})
        self.put(self.pair, {"p": "h", "c": "2", "v": "two"})
        self.assertEqual(self.get(self.pair, {"p": "h", "c": "1"})["v"], "one")
        self.assertEqual(self.get(self.pair, {"p": "h", "c": "2"})["v"], "two")

    def test_consistent_read_sees_latest_write(self):
        """A ConsistentRead GetItem sees the write acknowledged just before it."""
        for i in range(20):
            self.put(self.table, {"p": "latest", "v": i})
            self.assertEqual(self.get(self.table, {"p": "latest"}, ConsistentRead=True)["v"], i)

    def test_eventually_consistent_read_is_allowed(self):
        """GetItem with ConsistentRead=false is accepted and finds the item."""
        self.put(self.table, {"p": "eventual", "v": 1})
        self.assertEqual(self.get(self.table, {"p": "eventual"}, ConsistentRead=False)["v"], 1)

    def test_delete_item(self):
        """DeleteItem removes the item and answers with an empty response."""
        self.put(self.table, {"p": "doomed", "v": 1})
        response = self.delete(self.table, {"p": "doomed"})
        self.assertNotIn("Attributes", response)
        self.assertIsNone(self.get(self.table, {"p": "doomed"}))

    def test_delete_missing_item_succeeds(self):
        """Deleting an item that is not there is not an error."""
        self.delete(self.table, {"p": "never-existed"})
        self.assertIsNone(self.get(self.table, {"p": "never-existed"}))

    def test_update_creates_missing_item(self):
        """UpdateItem with SET on a missing key creates the item."""
        self.update(self.table, {"p": "born"}, "SET v = :v", {":v": 1})
        self.assertItem(self.table, {"p": "born"}, {"p": "born", "v": 1})

    def test_update_without_expression_creates_key_only_item(self):
        """UpdateItem with no update creates an item holding just its key."""
        self.update(self.table, {"p": "bare"})
        self.assertItem(self.table, {"p": "bare"}, {"p": "bare"})

    def test_update_remove_on_missing_item_creates_nothing(self):
        """An update that only removes attributes does not create an item."""
        self.update(self.table, {"p": "ghost"}, "REMOVE v")
        self.assertIsNone(self.get(self.table, {"p": "ghost"}))

    def test_update_merges_with_existing_item(self):
        """UpdateItem changes only the attributes it names."""
        self.put(self.table, {"p": "merge", "a": 1, "b": 2})
        self.update(self.table, {"p": "merge"}, "SET b = :b, c = :c", {":b": 20, ":c": 30})
        self.assertItem(self.table, {"p": "merge"}, {"p": "merge", "a": 1, "b": 20, "c": 30})


class WriteCapacityTest(EddyTestCase):
    """A write consumes 1 unit per KB of the larger of the item before and
    after it (DynamoDB's write capacity rules), whatever ReturnValues asks."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"))

    def units(self, response):
        return response["ConsumedCapacity"]["CapacityUnits"]

    def big(self, key, kb):
        # "p" + key + "v" + the value: just under `kb` KB.
        return {"p": key, "v": "x" * (kb * 1024 - 2 - len(key))}

    def test_put_charges_the_larger_of_old_and_new(self):
        total = {"ReturnConsumedCapacity": "TOTAL"}
        self.assertEqual(self.units(self.put(self.table, self.big("put", 3), **total)), 3.0)
        # Overwriting a 3 KB item with a small one still costs 3 units,
        # with or without ReturnValues; then small over small costs 1.
        out = self.put(self.table, {"p": "put"}, **total)
        self.assertEqual(self.units(out), 3.0)
        self.assertNotIn("Attributes", out)
        self.assertEqual(self.units(self.put(self.table, {"p": "put"}, **total)), 1.0)
        self.put(self.table, self.big("put", 3))
        out = self.put(self.table, {"p": "put"}, ReturnValues="ALL_OLD", **total)
        self.assertEqual(self.units(out), 3.0)
        self.assertEqual(len(out["Attributes"]["v"]["S"]), 3 * 1024 - 5)

    def test_update_and_delete_charge_the_larger_item(self):
        total = {"ReturnConsumedCapacity": "TOTAL"}
        self.put(self.table, {"p": "upd"})
        out = self.update(self.table, {"p": "upd"}, "SET v = :v",
                          {":v": "x" * 2040}, **total)  # 2045 bytes.
        self.assertEqual(self.units(out), 2.0)
        self.assertNotIn("Attributes", out)
        out = self.update(self.table, {"p": "upd"}, "REMOVE v", **total)
        self.assertEqual(self.units(out), 2.0)
        out = self.update(self.table, {"p": "upd"}, "SET w = :w", {":w": 1},
                          ReturnValues="UPDATED_NEW", **total)
        self.assertEqual((self.units(out), out["Attributes"]), (1.0, {"w": {"N": "1"}}))
        self.put(self.table, self.big("del", 4))
        self.assertEqual(self.units(self.delete(self.table, {"p": "del"}, **total)), 4.0)
        self.assertEqual(self.units(self.delete(self.table, {"p": "del"}, **total)), 1.0)

    def test_batch_and_transaction_charge_the_larger_item(self):
        self.put(self.table, self.big("b1", 2))
        out = self.ddb.batch_write_item(RequestItems={self.table: [
            {"PutRequest": {"Item": item_av({"p": "b1"})}},
            {"DeleteRequest": {"Key": item_av({"p": "b1-missing"})}}]},
            ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["ConsumedCapacity"][0]["CapacityUnits"], 3.0)
        # Transactions cost twice; a ConditionCheck of a 3 KB item, 3 KB.
        self.put(self.table, self.big("t1", 3))
        out = self.ddb.transact_write_items(TransactItems=[
            {"ConditionCheck": {"TableName": self.table, "Key": item_av({"p": "t1"}),
                                "ConditionExpression": "attribute_exists(p)"}}],
            ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["ConsumedCapacity"][0]["CapacityUnits"], 6.0)


class ProjectionTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table()
        cls.ddb.put_item(TableName=cls.table, Item=item_av({
            "p": "proj", "a": 1, "b": "two", "name": "reserved",
            "m": {"x": {"y": [10, 20, 30]}, "z": 5}, "l": ["l0", {"k": "l1"}, "l2"]}))

    def project(self, expression, names=None):
        kw = {"ProjectionExpression": expression}
        if names:
            kw["ExpressionAttributeNames"] = names
        return self.get(self.table, {"p": "proj"}, **kw)

    def test_top_level_attributes(self):
        """ProjectionExpression returns only the listed attributes."""
        self.assertEqual(self.project("a, b"), {"a": 1, "b": "two"})

    def test_key_is_not_added(self):
        """The key is returned only when projected."""
        self.assertNotIn("p", self.project("a"))
        self.assertEqual(self.project("p, a"), {"p": "proj", "a": 1})

    def test_nested_map_path(self):
        """A nested path returns the value wrapped in its enclosing maps."""
        self.assertEqual(self.project("m.x.y"), {"m": {"x": {"y": [10, 20, 30]}}})

    def test_list_index(self):
        """A list index returns a one-element list."""
        self.assertEqual(self.project("m.x.y[1]"), {"m": {"x": {"y": [20]}}})
        self.assertEqual(self.project("l[1].k"), {"l": [{"k": "l1"}]})

    def test_several_paths_into_one_map(self):
        """Paths into the same map are merged in the result."""
        self.assertEqual(self.project("m.z, m.x.y[0]"), {"m": {"z": 5, "x": {"y": [10]}}})

    def test_attribute_names_substitution(self):
        """#name stands for an attribute name, e.g. a reserved word."""
        self.assertEqual(self.project("#n, a", {"#n": "name"}), {"name": "reserved", "a": 1})

    def test_missing_attributes_yield_empty_item(self):
        """Projecting attributes the item lacks returns an empty Item, not no Item."""
        self.assertEqual(self.project("nope, m.nope, l[9]"), {})

    def test_reserved_word_needs_substitution(self):
        """Reserved words cannot appear as names in a ProjectionExpression."""
        with self.assertValidationError(regex=r"^Invalid ProjectionExpression: Attribute name "
                                              r"is a reserved keyword; reserved keyword: name"):
            self.project("name")


class NumberTest(EddyTestCase):
    """Numbers are exact decimals with 38 significant digits, stored normalised."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table()
        cls.num_range = cls.create_table(hash_key=("p", "S"), range_key=("c", "N"))
        cls.num_hash = cls.create_table(hash_key=("p", "N"))

    def stored_number(self, text):
        key = self.unique_name("n")
        self.ddb.put_item(TableName=self.table, Item={"p": {"S": key}, "n": {"N": text}})
        return self.get_raw(self.table, {"p": key})["n"]["N"]

    def test_38_digit_integer_round_trips(self):
        """A 38-digit integer comes back digit for digit."""
        digits = "12345678901234567890123456789012345678"
        self.assertEqual(self.stored_number(digits), digits)
        self.assertEqual(self.stored_number("-" + digits), "-" + digits)

    def test_38_digit_fraction_round_trips(self):
        """A 38-significant-digit fraction comes back digit for digit."""
        for text in ("0.12345678901234567890123456789012345678",
                     "3.1415926535897932384626433832795028841",
                     "314159265358979323846.26433832795028841"):
            with self.subTest(text=text):
                self.assertEqual(self.stored_number(text), text)

    def test_trailing_and_leading_zeros_are_normalised(self):
        """1.0 is stored as 1, 1.50 as 1.5, 007 as 7 (DynamoDB returns normalised numbers)."""
        for text, expected in (("1.0", "1"), ("1.50", "1.5"), ("007", "7"),
                               ("-0.50", "-0.5"), ("100", "100"), ("0.0", "0")):
            with self.subTest(text=text):
                self.assertEqual(self.stored_number(text), expected)

    def test_number_set_members_normalised(self):
        """Number set members are normalised like single numbers."""
        self.ddb.put_item(TableName=self.table,
                          Item={"p": {"S": "ns"}, "ns": {"NS": ["1.0", "2.50"]}})
        self.assertCountEqual(self.get_raw(self.table, {"p": "ns"})["ns"]["NS"], ["1", "2.5"])

    def test_equal_numbers_are_the_same_key(self):
        """1.0 and 1 address the same item, as sort key and as partition key."""
        self.ddb.put_item(TableName=self.num_range,
                          Item={"p": {"S": "k"}, "c": {"N": "1.0"}, "v": {"S": "one"}})
        self.assertEqual(self.get(self.num_range, {"p": "k", "c": 1})["v"], "one")
        self.ddb.put_item(TableName=self.num_hash, Item={"p": {"N": "2.500"}, "v": {"S": "x"}})
        self.assertEqual(self.get(self.num_hash, {"p": Decimal("2.5")})["v"], "x")

    def test_add_is_exact(self):
        """ADD 0.1 then 0.2 gives exactly 0.3."""
        self.update(self.table, {"p": "sum"}, "ADD n :a", {":a": Decimal("0.1")})
        self.update(self.table, {"p": "sum"}, "ADD n :a", {":a": Decimal("0.2")})
        self.assertEqual(self.get_raw(self.table, {"p": "sum"})["n"], {"N": "0.3"})

    def test_plus_and_minus_are_exact_at_large_magnitude(self):
        """SET with + and - keeps every digit of 10^22 + 1."""
        big = Decimal("10000000000000000000000")
        self.update(self.table, {"p": "plus"}, "SET a = :x + :y, b = :x - :y",
                    {":x": big, ":y": 1})
        got = self.get_raw(self.table, {"p": "plus"})
        self.assertEqual(got["a"], {"N": "10000000000000000000001"})
        self.assertEqual(got["b"], {"N": "9999999999999999999999"})

    def test_subtraction_to_zero_is_zero(self):
        """0.3 - 0.1 - 0.2 is exactly 0."""
        self.update(self.table, {"p": "zero"}, "SET n = :a - :b", {":a": Decimal("0.3"),
                                                                   ":b": Decimal("0.1")})
        self.update(self.table, {"p": "zero"}, "SET n = n - :c", {":c": Decimal("0.2")})
        self.assertEqual(self.get_raw(self.table, {"p": "zero"})["n"], {"N": "0"})

    def test_extreme_magnitudes_round_trip(self):
        """The largest and smallest magnitudes DynamoDB allows are stored."""
        for text in ("9.9999999999999999999999999999999999999E+125", "1E-130",
                     "-9.9999999999999999999999999999999999999E+125", "-1E-130"):
            with self.subTest(text=text):
                self.assertEqual(Decimal(self.stored_number(text)), Decimal(text))

    def test_numeric_sort_key_order(self):
        """Number sort keys sort numerically, negatives and fractions included."""
        values = ["-1000", "-10.5", "-10", "-1", "-0.001", "0", "0.001", "1", "2", "10",
                  "10.5", "100", "1E+20"]
        for v in reversed(values):
            self.ddb.put_item(TableName=self.num_range,
                              Item={"p": {"S": "order"}, "c": {"N": v}})
        items, _ = self.query_all(self.num_range, KeyConditionExpression="p = :p",
                                  ExpressionAttributeValues={":p": {"S": "order"}})
        self.assertEqual([Decimal(i["c"]["N"]) for i in items], [Decimal(v) for v in values])


class KeyOrderTest(EddyTestCase):
    """Sort keys order items: strings by UTF-8 bytes, binaries by unsigned bytes."""

    def query_sort_keys(self, table, partition):
        items, _ = self.query_all(table, KeyConditionExpression="p = :p",
                                  ExpressionAttributeValues={":p": {"S": partition}})
        return items

    def test_binary_sort_keys_order_bytewise(self):
        """Binary sort keys compare as unsigned bytes."""
        table = self.create_table(range_key=("c", "B"))
        keys = [b"\x00", b"\x00\x00", b"\x01", b"\x7f", b"\x80", b"\xfe", b"\xff", b"\xff\x00"]
        for k in reversed(keys):
            self.put(table, {"p": "b", "c": k})
        got = [bytes(i["c"]["B"]) for i in self.query_sort_keys(table, "b")]
        self.assertEqual(got, keys)

    def test_string_sort_keys_order_by_utf8_bytes(self):
        """String sort keys compare by their UTF-8 bytes."""
        table = self.create_table(range_key=("c", "S"))
        keys = ["A", "Z", "a", "ab", "b", "z", "\u00e9", "\u4e2d", "\U0001f600"]
        self.assertEqual(keys, sorted(keys, key=lambda s: s.encode()))
        for k in reversed(keys):
            self.put(table, {"p": "s", "c": k})
        self.assertEqual([i["c"]["S"] for i in self.query_sort_keys(table, "s")], keys)


class ReturnValuesTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table()

    def fresh(self, **attrs):
        key = self.unique_name("rv")
        self.put(self.table, {"p": key, **attrs})
        return key

    def returned(self, response):
        return {k: v for k, v in response.get("Attributes", {}).items()}

    def update_rv(self, key, mode, expression, values=None):
        return self.update(self.table, {"p": key}, expression, values, ReturnValues=mode)

    # PutItem

    def test_put_none_returns_nothing(self):
        """PutItem with ReturnValues NONE answers without Attributes."""
        key = self.fresh(a="old")
        response = self.put(self.table, {"p": key, "a": "new"}, ReturnValues="NONE")
        self.assertNotIn("Attributes", response)

    def test_put_all_old_returns_replaced_item(self):
        """PutItem with ALL_OLD returns the item it replaced."""
        key = self.fresh(a="old")
        response = self.put(self.table, {"p": key, "a": "new"}, ReturnValues="ALL_OLD")
        self.assertEqual(response["Attributes"], item_av({"p": key, "a": "old"}))

    def test_put_all_old_of_new_item_returns_nothing(self):
        """PutItem with ALL_OLD on a new key answers without Attributes."""
        response = self.put(self.table, {"p": self.unique_name(), "a": 1}, ReturnValues="ALL_OLD")
        self.assertNotIn("Attributes", response)

    def test_put_rejects_update_modes(self):
        """PutItem allows only NONE and ALL_OLD."""
        for mode in ("ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"):
            with self.subTest(mode=mode), self.assertValidationError(
                    "ReturnValues can only be ALL_OLD or NONE"):
                self.put(self.table, {"p": "x"}, ReturnValues=mode)

    # DeleteItem

    def test_delete_all_old_returns_deleted_item(self):
        """DeleteItem with ALL_OLD returns the item it deleted."""
        key = self.fresh(a="gone")
        response = self.delete(self.table, {"p": key}, ReturnValues="ALL_OLD")
        self.assertEqual(response["Attributes"], item_av({"p": key, "a": "gone"}))

    def test_delete_none_returns_nothing(self):
        """DeleteItem with NONE answers without Attributes."""
        key = self.fresh(a="gone")
        self.assertNotIn("Attributes", self.delete(self.table, {"p": key}, ReturnValues="NONE"))

    def test_delete_all_old_of_missing_item_returns_nothing(self):
        """DeleteItem with ALL_OLD on a missing key answers without Attributes."""
        response = self.delete(self.table, {"p": self.unique_name()}, ReturnValues="ALL_OLD")
        self.assertNotIn("Attributes", response)

    def test_delete_rejects_update_modes(self):
        """DeleteItem allows only NONE and ALL_OLD."""
        for mode in ("ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"):
            with self.subTest(mode=mode), self.assertValidationError(
                    "ReturnValues can only be ALL_OLD or NONE"):
                self.delete(self.table, {"p": "x"}, ReturnValues=mode)

    def test_unknown_mode_rejected(self):
        """ReturnValues is a case-sensitive enum."""
        for op in (lambda: self.put(self.table, {"p": "x"}, ReturnValues="all_old"),
                   lambda: self.delete(self.table, {"p": "x"}, ReturnValues="DOG"),
                   lambda: self.update(self.table, {"p": "x"}, "SET a = :v", {":v": 1},
                                       ReturnValues="none")):
            with self.subTest(), self.assertValidationError(
                    regex=r"at 'returnValues' failed to satisfy constraint: "
                          r"Member must satisfy enum value set"):
                op()

    # UpdateItem

    def test_update_none_returns_nothing(self):
        """UpdateItem with NONE answers without Attributes."""
        key = self.fresh(a=1)
        self.assertNotIn("Attributes", self.update_rv(key, "NONE", "SET a = :v", {":v": 2}))

    def test_update_all_old_returns_whole_old_item(self):
        """UpdateItem with ALL_OLD returns every attribute of the item before the update."""
        key = self.fresh(a=1, b="keep")
        response = self.update_rv(key, "ALL_OLD", "SET a = :v", {":v": 2})
        self.assertEqual(response["Attributes"], item_av({"p": key, "a": 1, "b": "keep"}))

    def test_update_all_old_of_new_item_returns_nothing(self):
        """UpdateItem with ALL_OLD that creates the item answers without Attributes."""
        response = self.update_rv(self.unique_name(), "ALL_OLD", "SET a = :v", {":v": 2})
        self.assertNotIn("Attributes", response)

    def test_update_updated_old_returns_only_changed_old_values(self):
        """UPDATED_OLD returns the old values of the attributes the update changed."""
        key = self.fresh(a=1, b="keep", gone="x")
        response = self.update_rv(key, "UPDATED_OLD", "SET a = :v, fresh = :v REMOVE gone",
                                  {":v": 2})
        self.assertEqual(response["Attributes"], item_av({"a": 1, "gone": "x"}))

    def test_update_all_new_returns_whole_new_item(self):
        """ALL_NEW returns every attribute of the item after the update."""
        key = self.fresh(a=1, b="keep", gone="x")
        response = self.update_rv(key, "ALL_NEW", "SET a = :v REMOVE gone", {":v": 2})
        self.assertEqual(response["Attributes"], item_av({"p": key, "a": 2, "b": "keep"}))

    def test_update_updated_new_returns_only_changed_new_values(self):
        """UPDATED_NEW returns the new values of the changed attributes, not removed ones."""
        key = self.fresh(a=1, b="keep", gone="x")
        response = self.update_rv(key, "UPDATED_NEW", "SET a = :v, fresh = :v REMOVE gone",
                                  {":v": 2})
        self.assertEqual(response["Attributes"], item_av({"a": 2, "fresh": 2}))

    def test_update_updated_new_of_computed_value(self):
        """UPDATED_NEW reports the computed result of a read-modify-write."""
        key = self.fresh(n=41)
        response = self.update_rv(key, "UPDATED_NEW", "SET n = n + :one", {":one": 1})
        self.assertEqual(response["Attributes"], {"n": {"N": "42"}})

    def test_update_updated_modes_on_nested_path(self):
        """UPDATED_OLD/NEW return just the nested value, inside its enclosing map."""
        key = self.fresh(m={"x": "old", "y": "keep"})
        old = self.update_rv(key, "UPDATED_OLD", "SET m.x = :v", {":v": "mid"})
        self.assertEqual(old["Attributes"], item_av({"m": {"x": "old"}}))
        new = self.update_rv(key, "UPDATED_NEW", "SET m.x = :v", {":v": "new"})
        self.assertEqual(new["Attributes"], item_av({"m": {"x": "new"}}))

    # ReturnValuesOnConditionCheckFailure

    def test_condition_failure_returns_old_item_on_put(self):
        """With ReturnValuesOnConditionCheckFailure ALL_OLD a failed PutItem carries the item."""
        key = self.fresh(s="dog")
        with self.assertConditionFailed() as cm:
            self.put(self.table, {"p": key, "s": "cat"}, ConditionExpression="s = :v",
                     ExpressionAttributeValues={":v": {"S": "cow"}},
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertEqual(cm.exception.response["Item"], item_av({"p": key, "s": "dog"}))

    def test_condition_failure_returns_old_item_on_update(self):
        """A failed conditional UpdateItem carries the unchanged item."""
        key = self.fresh(s="dog")
        with self.assertConditionFailed() as cm:
            self.update(self.table, {"p": key}, "SET s = :new", {":new": "cat", ":v": "cow"},
                        ConditionExpression="s = :v",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertEqual(cm.exception.response["Item"], item_av({"p": key, "s": "dog"}))

    def test_condition_failure_returns_old_item_on_delete(self):
        """A failed conditional DeleteItem carries the item it kept."""
        key = self.fresh(s="dog")
        with self.assertConditionFailed() as cm:
            self.delete(self.table, {"p": key}, ConditionExpression="s = :v",
                        ExpressionAttributeValues={":v": {"S": "cow"}},
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertEqual(cm.exception.response["Item"], item_av({"p": key, "s": "dog"}))

    def test_condition_failure_without_item_returns_no_item(self):
        """When no item exists, a failed condition carries no Item."""
        with self.assertConditionFailed() as cm:
            self.put(self.table, {"p": self.unique_name()},
                     ConditionExpression="attribute_exists(p)",
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertNotIn("Item", cm.exception.response)

    def test_condition_failure_none_returns_no_item(self):
        """With ReturnValuesOnConditionCheckFailure NONE the failure carries no Item."""
        key = self.fresh(s="dog")
        with self.assertConditionFailed() as cm:
            self.delete(self.table, {"p": key}, ConditionExpression="s = :v",
                        ExpressionAttributeValues={":v": {"S": "cow"}},
                        ReturnValuesOnConditionCheckFailure="NONE")
        self.assertNotIn("Item", cm.exception.response)

    def test_condition_success_returns_no_item(self):
        """A condition that holds returns neither Item nor Attributes."""
        key = self.fresh(s="dog")
        response = self.put(self.table, {"p": key, "s": "cat"}, ConditionExpression="s = :v",
                            ExpressionAttributeValues={":v": {"S": "dog"}},
                            ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertNotIn("Item", response)
        self.assertNotIn("Attributes", response)

    def test_condition_failure_mode_is_enum(self):
        """ReturnValuesOnConditionCheckFailure allows only ALL_OLD and NONE."""
        with self.assertValidationError():
            self.put(self.table, {"p": "x"}, ConditionExpression="attribute_exists(p)",
                     ReturnValuesOnConditionCheckFailure="ALL_NEW")


if __name__ == "__main__":
    unittest.main()
