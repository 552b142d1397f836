"""ConditionExpression and UpdateExpression: every operator and function,
document paths, and ExpressionAttributeNames/Values rules."""

import re
import unittest
from decimal import Decimal

from botocore.exceptions import ClientError

from eddy_server import EddyTestCase, item_av

# The item every condition is evaluated against.
SUBJECT = {
    "p": "subject",
    "n": 5,
    "s": "hello",
    "b": b"\x01\x02\x03",
    "t": True,
    "z": None,
    "l": ["a", 2, ["x", "y"]],
    "m": {"a": {"b": [0, 1, {"c": "deep"}]}, "k": 3},
    "ss": {"x", "y"},
    "ns": {1, 2, 3},
    "bs": {b"a", b"b"},
    "e": "",
    "dotted.name": "literal",
    "status": "reserved",
}


class ConditionExpressionTest(EddyTestCase):
    """Each condition is checked with a PutItem that rewrites SUBJECT unchanged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table()
        cls.ddb.put_item(TableName=cls.table, Item=item_av(SUBJECT))

    def holds(self, condition, values=None, names=None):
        """True when `condition` holds for SUBJECT, False when it fails."""
        kw = {"ConditionExpression": condition}
        if values:
            kw["ExpressionAttributeValues"] = item_av(values)
        if names:
            kw["ExpressionAttributeNames"] = names
        try:
            self.ddb.put_item(TableName=self.table, Item=item_av(SUBJECT), **kw)
            return True
        except ClientError as e:
            if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
                self.assertEqual(e.response["Error"]["Message"], "The conditional request failed")
                return False
            raise

    def check(self, cases):
        """cases: [(condition, values, expected)].

        Values the condition does not name are dropped (unused ones are an
        error), so cases may share one values dict.
        """
        for condition, values, expected in cases:
            if values:
                named = set(re.findall(r":\w+", condition))
                values = {k: v for k, v in values.items() if k in named}
            with self.subTest(condition=condition, values=values):
                self.assertEqual(self.holds(condition, values), expected)

    def test_number_comparators(self):
        """=, <>, <, <=, >, >= compare numbers numerically."""
        self.check([
            ("n = :v", {":v": 5}, True), ("n = :v", {":v": Decimal("5.0")}, True),
            ("n = :v", {":v": 6}, False), ("n <> :v", {":v": 6}, True),
            ("n <> :v", {":v": 5}, False), ("n < :v", {":v": 6}, True),
            ("n < :v", {":v": 5}, False), ("n <= :v", {":v": 5}, True),
            ("n <= :v", {":v": 4}, False), ("n > :v", {":v": Decimal("4.99")}, True),
            ("n > :v", {":v": 5}, False), ("n >= :v", {":v": 5}, True),
            ("n >= :v", {":v": 10}, False), ("n > :v", {":v": -100}, True),
        ])

    def test_string_and_binary_comparators(self):
        """Strings compare by UTF-8 bytes and binaries by unsigned bytes."""
        self.check([
            ("s = :v", {":v": "hello"}, True), ("s < :v", {":v": "help"}, True),
            ("s > :v", {":v": "Hello"}, True), ("s < :v", {":v": "hell"}, False),
            ("b < :v", {":v": b"\x01\x02\x04"}, True), ("b > :v", {":v": b"\x01\x02"}, True),
            ("b < :v", {":v": b"\x80"}, True), ("b = :v", {":v": b"\x01\x02\x03"}, True),
        ])

    def test_attribute_to_attribute_comparison(self):
        """Both operands may be document paths."""
        self.check([("n > m.k", None, True), ("n = m.k", None, False),
                    ("m.k = m.a.b[1]", None, False), ("l[1] < n", None, True)])

    def test_comparison_across_types_is_false(self):
        """Comparing different types is never equal and never ordered."""
        self.check([("n = :v", {":v": "5"}, False), ("n <> :v", {":v": "5"}, True),
                    ("n < :v", {":v": "6"}, False), ("s > :v", {":v": 1}, False)])

    def test_comparison_with_missing_attribute(self):
        """A missing attribute equals nothing and is unequal to everything."""
        self.check([("absent = :v", {":v": 1}, False), ("absent <> :v", {":v": 1}, True),
                    ("absent < :v", {":v": 1}, False)])

    def test_set_and_document_equality(self):
        """Sets compare unordered; lists and maps compare deeply."""
        self.check([
            ("ss = :v", {":v": {"y", "x"}}, True), ("ns = :v", {":v": {3, 2, 1}}, True),
            ("ns = :v", {":v": {1, 2}}, False),
            ("l = :v", {":v": ["a", 2, ["x", "y"]]}, True),
            ("l = :v", {":v": ["a", 2, ["y", "x"]]}, False),
            ("m.a = :v", {":v": {"b": [0, 1, {"c": "deep"}]}}, True),
        ])

    def test_between(self):
        """BETWEEN is inclusive at both ends."""
        self.check([
            ("n BETWEEN :lo AND :hi", {":lo": 5, ":hi": 9}, True),
            ("n BETWEEN :lo AND :hi", {":lo": 1, ":hi": 5}, True),
            ("n BETWEEN :lo AND :hi", {":lo": 6, ":hi": 9}, False),
            ("s BETWEEN :lo AND :hi", {":lo": "a", ":hi": "i"}, True),
            ("n BETWEEN :lo AND :hi", {":lo": "a", ":hi": "z"}, False),
        ])

    def test_between_with_reversed_bounds(self):
        """BETWEEN with a lower bound above the upper bound is a validation error."""
        with self.assertValidationError(regex=r"^Invalid ConditionExpression: The BETWEEN "
                                              r"operator requires upper bound to be greater "
                                              r"than or equal to lower bound"):
            self.holds("n BETWEEN :hi AND :lo", {":lo": 1, ":hi": 9})

    def test_in(self):
        """IN is true when the value equals any listed operand."""
        self.check([
            ("n IN (:a, :b, :c)", {":a": 1, ":b": 5, ":c": "x"}, True),
            ("n IN (:a)", {":a": 5}, True),
            ("n IN (:a, :b)", {":a": 1, ":b": 2}, False),
            ("s IN (:a, :b)", {":a": "hello", ":b": "bye"}, True),
        ])

    def test_in_operand_limit(self):
        """IN accepts 99 listed values and rejects 101 (DynamoDB's limit is 100 operands)."""
        def listed(count):
            return {f":v{i}": i for i in range(count)}
        ninety_nine = listed(99)
        self.assertTrue(self.holds(f"n IN ({', '.join(ninety_nine)})", ninety_nine))
        too_many = listed(101)
        with self.assertValidationError(regex=r"^Invalid ConditionExpression"):
            self.holds(f"n IN ({', '.join(too_many)})", too_many)

    def test_and_or_not(self):
        """AND, OR and NOT follow boolean logic."""
        t, f = "n = :five", "n = :six"
        v = {":five": 5, ":six": 6}
        self.check([
            (f"{t} AND {t}", v, True), (f"{t} AND {f}", v, False),
            (f"{f} OR {t}", v, True), (f"{f} OR {f}", v, False),
            (f"NOT {f}", v, True), (f"NOT {t}", v, False),
            (f"NOT NOT {t}", v, True),
        ])

    def test_keywords_are_case_insensitive(self):
        """AND, OR, NOT, BETWEEN and IN may be written in any case."""
        v = {":five": 5, ":six": 6}
        self.check([("n = :five and not n = :six", v, True),
                    ("n between :five And :six", v, True),
                    ("n in (:five)", {":five": 5}, True)])

    def test_precedence(self):
        """NOT binds tighter than AND, which binds tighter than OR."""
        v = {":five": 5, ":six": 6, ":nope": "nope"}
        self.check([
            ("n = :five OR n = :six AND s = :nope", v, True),
            ("(n = :five OR n = :six) AND s = :nope", v, False),
            ("NOT n = :six AND s = :nope", v, False),
            ("NOT (n = :six AND s = :nope)", v, True),
        ])

    def test_attribute_exists_and_not_exists(self):
        """attribute_exists/attribute_not_exists test top-level and nested paths."""
        self.check([
            ("attribute_exists(n)", None, True), ("attribute_exists(absent)", None, False),
            ("attribute_not_exists(absent)", None, True),
            ("attribute_not_exists(n)", None, False),
            ("attribute_exists(m.a.b[2].c)", None, True),
            ("attribute_exists(m.a.b[3])", None, False),
            ("attribute_exists(z)", None, True), ("attribute_exists(e)", None, True),
        ])

    def test_attribute_not_exists_guards_creation(self):
        """attribute_not_exists(p) lets the first PutItem of a key in and keeps later ones out."""
        key = {"p": self.unique_name()}
        self.put(self.table, {**key, "v": 1}, ConditionExpression="attribute_not_exists(p)")
        with self.assertConditionFailed():
            self.put(self.table, {**key, "v": 2}, ConditionExpression="attribute_not_exists(p)")
        self.assertEqual(self.get(self.table, key)["v"], 1)

    def test_condition_on_missing_item_sees_no_attributes(self):
        """Against a missing item, attribute_exists is false and attribute_not_exists true."""
        with self.assertConditionFailed():
            self.update(self.table, {"p": self.unique_name()}, "SET v = :v", {":v": 1},
                        ConditionExpression="attribute_exists(p)")
        key = {"p": self.unique_name()}
        self.update(self.table, key, "SET v = :v", {":v": 1},
                    ConditionExpression="attribute_not_exists(v)")
        self.assertEqual(self.get(self.table, key), {**key, "v": 1})

    def test_attribute_type(self):
        """attribute_type matches each of the ten type names."""
        for path, kind in (("s", "S"), ("n", "N"), ("b", "B"), ("t", "BOOL"), ("z", "NULL"),
                           ("m", "M"), ("l", "L"), ("ss", "SS"), ("ns", "NS"), ("bs", "BS")):
            with self.subTest(path=path):
                self.assertTrue(self.holds(f"attribute_type({path}, :t)", {":t": kind}))
                other = "S" if kind != "S" else "N"
                self.assertFalse(self.holds(f"attribute_type({path}, :t)", {":t": other}))
        self.assertFalse(self.holds("attribute_type(absent, :t)", {":t": "S"}))

    def test_attribute_type_with_unknown_type(self):
        """attribute_type with a name that is not a type is a validation error."""
        with self.assertValidationError(regex=r"^Invalid ConditionExpression: Invalid attribute "
                                              r"type name found; type: STRING"):
            self.holds("attribute_type(s, :t)", {":t": "STRING"})

    def test_begins_with(self):
        """begins_with tests string and binary prefixes."""
        self.check([
            ("begins_with(s, :v)", {":v": "he"}, True),
            ("begins_with(s, :v)", {":v": "hello"}, True),
            ("begins_with(s, :v)", {":v": "lo"}, False),
            ("begins_with(b, :v)", {":v": b"\x01\x02"}, True),
            ("begins_with(b, :v)", {":v": b"\x02"}, False),
            ("begins_with(n, :v)", {":v": "5"}, False),
            ("begins_with(absent, :v)", {":v": "x"}, False),
        ])

    def test_contains(self):
        """contains finds substrings, set members and list elements."""
        self.check([
            ("contains(s, :v)", {":v": "ell"}, True), ("contains(s, :v)", {":v": "xyz"}, False),
            ("contains(ss, :v)", {":v": "x"}, True), ("contains(ss, :v)", {":v": "q"}, False),
            ("contains(ns, :v)", {":v": 2}, True), ("contains(ns, :v)", {":v": 9}, False),
            ("contains(bs, :v)", {":v": b"a"}, True),
            ("contains(l, :v)", {":v": "a"}, True), ("contains(l, :v)", {":v": 2}, True),
            ("contains(l, :v)", {":v": ["x", "y"]}, True),
            ("contains(l, :v)", {":v": "x"}, False),
            ("contains(b, :v)", {":v": b"\x02\x03"}, True),
            ("contains(absent, :v)", {":v": "x"}, False),
        ])

    def test_size(self):
        """size() is string/binary length, element count of lists, maps and sets."""
        self.check([
            ("size(s) = :v", {":v": 5}, True), ("size(b) = :v", {":v": 3}, True),
            ("size(l) = :v", {":v": 3}, True), ("size(m) = :v", {":v": 2}, True),
            ("size(ss) = :v", {":v": 2}, True), ("size(ns) > :v", {":v": 2}, True),
            ("size(e) = :v", {":v": 0}, True), ("size(m.a.b) < :v", {":v": 3}, False),
            ("size(absent) = :v", {":v": 0}, False),
        ])

    def test_nested_paths(self):
        """Conditions reach into maps and lists with a.b[2].c paths."""
        self.check([
            ("m.a.b[2].c = :v", {":v": "deep"}, True), ("m.a.b[0] = :v", {":v": 0}, True),
            ("l[2][1] = :v", {":v": "y"}, True), ("m.a.b[5] = :v", {":v": 0}, False),
            ("m.nope.c = :v", {":v": 0}, False), ("s.x = :v", {":v": 0}, False),
        ])

    def test_attribute_names_substitute_reserved_words_and_dots(self):
        """#names stand for reserved words and for names containing dots."""
        self.assertTrue(self.holds("#st = :v", {":v": "reserved"}, {"#st": "status"}))
        self.assertTrue(self.holds("#d = :v", {":v": "literal"}, {"#d": "dotted.name"}))
        self.assertTrue(self.holds("#m.#a.b[2].c = :v", {":v": "deep"}, {"#m": "m", "#a": "a"}))

    def test_reserved_word_used_directly(self):
        """A reserved word used as a name is rejected."""
        with self.assertValidationError(
                "Invalid ConditionExpression: Attribute name is a reserved keyword; "
                "reserved keyword: status"):
            self.holds("status = :v", {":v": "reserved"})

    def test_failed_condition_changes_nothing(self):
        """When the condition fails the write is not applied."""
        key = {"p": self.unique_name()}
        self.put(self.table, {**key, "v": 1})
        with self.assertConditionFailed():
            self.update(self.table, key, "SET v = :two", {":two": 2, ":zero": 0},
                        ConditionExpression="v = :zero")
        with self.assertConditionFailed():
            self.delete(self.table, key, ConditionExpression="v = :zero",
                        ExpressionAttributeValues=item_av({":zero": 0}))
        self.assertEqual(self.get(self.table, key)["v"], 1)

    def test_conditional_delete_applies_when_true(self):
        """DeleteItem deletes when its condition holds."""
        key = {"p": self.unique_name()}
        self.put(self.table, {**key, "v": 1})
        self.delete(self.table, key, ConditionExpression="v = :one",
                    ExpressionAttributeValues=item_av({":one": 1}))
        self.assertIsNone(self.get(self.table, key))

    def test_syntax_error(self):
        """A malformed condition is a syntax error."""
        with self.assertValidationError(regex=r"^Invalid ConditionExpression: Syntax error;"):
            self.holds("n = = :v", {":v": 1})

    def test_unknown_function(self):
        """Calling a function that does not exist is rejected by name."""
        with self.assertValidationError(
                "Invalid ConditionExpression: Invalid function name; function: frob"):
            self.holds("frob(n)")

    def test_function_names_are_case_sensitive(self):
        """attribute_exists must be written in lower case."""
        with self.assertValidationError(regex=r"^Invalid ConditionExpression: Invalid function "
                                              r"name; function: ATTRIBUTE_EXISTS"):
            self.holds("ATTRIBUTE_EXISTS(n)")

    def test_bare_value_is_not_a_condition(self):
        """A condition must evaluate to a boolean, not to a value."""
        with self.assertValidationError(regex=r"^Invalid ConditionExpression"):
            self.holds("n")

    def test_empty_condition(self):
        """An empty ConditionExpression is rejected."""
        with self.assertValidationError(
                "Invalid ConditionExpression: The expression can not be empty;"):
            self.holds("")


class AttributeSubstitutionTest(EddyTestCase):
    """ExpressionAttributeNames/Values: every one must be used and defined."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table()

    def update_with(self, expression, values=None, names=None, **kw):
        return self.update(self.table, {"p": "subst"}, expression, values, names, **kw)

    def test_unused_attribute_value(self):
        """A value nobody refers to is an error."""
        with self.assertValidationError(
                "Value provided in ExpressionAttributeValues unused in expressions: "
                "keys: {:unused}"):
            self.update_with("SET a = :v", {":v": 1, ":unused": 2})

    def test_unused_attribute_name(self):
        """A name nobody refers to is an error."""
        with self.assertValidationError(
                "Value provided in ExpressionAttributeNames unused in expressions: "
                "keys: {#unused}"):
            self.update_with("SET #a = :v", {":v": 1}, {"#a": "a", "#unused": "b"})

    def test_undefined_attribute_value(self):
        """Referring to a value that is not defined is an error."""
        with self.assertValidationError(
                "Invalid UpdateExpression: An expression attribute value used in expression "
                "is not defined; attribute value: :absent"):
            self.update_with("SET a = :absent", {":v": 1}, ConditionExpression="a <> :v")

    def test_undefined_attribute_name(self):
        """Referring to a name that is not defined is an error."""
        with self.assertValidationError(
                "Invalid UpdateExpression: An expression attribute name used in the document "
                "path is not defined; attribute name: #absent"):
            self.update_with("SET #absent = :v", {":v": 1})

    def test_undefined_value_in_condition(self):
        """The same rule applies to ConditionExpression."""
        with self.assertValidationError(
                "Invalid ConditionExpression: An expression attribute value used in expression "
                "is not defined; attribute value: :nope"):
            self.put(self.table, {"p": "subst"}, ConditionExpression="a = :nope")

    def test_values_used_only_in_condition_count_as_used(self):
        """A value used by the condition but not the update is used."""
        self.update_with("SET a = :v", {":v": 1, ":c": 0},
                         ConditionExpression="attribute_not_exists(a) OR a <> :c")

    def test_empty_attribute_values_map(self):
        """ExpressionAttributeValues may not be an empty map."""
        with self.assertValidationError("ExpressionAttributeValues must not be empty"):
            self.ddb.update_item(TableName=self.table, Key=item_av({"p": "subst"}),
                                 UpdateExpression="REMOVE a", ExpressionAttributeValues={})

    def test_empty_attribute_names_map(self):
        """ExpressionAttributeNames may not be an empty map."""
        with self.assertValidationError("ExpressionAttributeNames must not be empty"):
            self.ddb.update_item(TableName=self.table, Key=item_av({"p": "subst"}),
                                 UpdateExpression="REMOVE a", ExpressionAttributeNames={})

    def test_values_without_expression(self):
        """ExpressionAttributeValues without any expression is an error."""
        with self.assertValidationError(regex=r"^ExpressionAttributeValues can only be specified "
                                              r"when using expressions"):
            self.put(self.table, {"p": "subst"},
                     ExpressionAttributeValues=item_av({":v": 1}))

    def test_names_without_expression(self):
        """ExpressionAttributeNames without any expression is an error."""
        with self.assertValidationError(
                "ExpressionAttributeNames can only be specified when using expressions"):
            self.put(self.table, {"p": "subst"}, ExpressionAttributeNames={"#a": "a"})

    def test_invalid_value_in_substitution(self):
        """A bad AttributeValue in ExpressionAttributeValues names its key."""
        with self.assertValidationError(regex=r"^ExpressionAttributeValues contains invalid "
                                              r"value: .*numeric.* for key :v$"):
            self.ddb.update_item(TableName=self.table, Key=item_av({"p": "subst"}),
                                 UpdateExpression="SET a = :v",
                                 ExpressionAttributeValues={":v": {"N": "dog"}})


class UpdateExpressionTest(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table()
        cls.pair = cls.create_table(range_key=("c", "N"))

    def fresh(self, **attrs):
        key = {"p": self.unique_name("u")}
        self.put(self.table, {**key, **attrs})
        return key

    def after(self, key, expression, values=None, names=None):
        """Apply the update and return the item afterwards (without its key)."""
        self.update(self.table, key, expression, values, names)
        item = self.get(self.table, key)
        item.pop("p")
        return item

    # SET

    def test_set_several_attributes(self):
        """SET assigns several attributes at once."""
        key = self.fresh(a=1)
        self.assertEqual(self.after(key, "SET a = :x, b = :y", {":x": 2, ":y": "two"}),
                         {"a": 2, "b": "two"})

    def test_set_copies_another_attribute(self):
        """SET can copy one attribute into another."""
        key = self.fresh(a={"deep": [1]})
        self.assertEqual(self.after(key, "SET b = a"), {"a": {"deep": [1]}, "b": {"deep": [1]}})

    def test_set_from_missing_attribute_fails(self):
        """Copying an attribute that is not there is a validation error."""
        key = self.fresh()
        with self.assertValidationError(
                "The provided expression refers to an attribute that does not exist in the item"):
            self.update(self.table, key, "SET b = nothing")

    def test_plus_and_minus(self):
        """SET supports + and - on numbers from values and attributes."""
        key = self.fresh(n=10)
        self.assertEqual(self.after(key, "SET a = n + :v, b = n - :v, c = :v - n", {":v": 3}),
                         {"n": 10, "a": 13, "b": 7, "c": -7})

    def test_counter_increment(self):
        """SET n = n + :one increments in place."""
        key = self.fresh(n=41)
        self.assertEqual(self.after(key, "SET n = n + :one", {":one": 1}), {"n": 42})

    def test_plus_on_non_number(self):
        """Adding a string is rejected."""
        key = self.fresh(s="text")
        with self.assertValidationError(
                "An operand in the update expression has an incorrect data type"):
            self.update(self.table, key, "SET s = s + :one", {":one": 1})

    def test_if_not_exists(self):
        """if_not_exists keeps an existing value and falls back when missing."""
        key = self.fresh(a=1)
        self.assertEqual(self.after(key, "SET a = if_not_exists(a, :d), b = if_not_exists(b, :d)",
                                    {":d": 0}), {"a": 1, "b": 0})

    def test_if_not_exists_plus(self):
        """if_not_exists(n, :zero) + :one counts from zero."""
        key = self.fresh()
        for _ in range(3):
            self.update(self.table, key, "SET n = if_not_exists(n, :zero) + :one",
                        {":zero": 0, ":one": 1})
        self.assertEqual(self.get(self.table, key)["n"], 3)

    def test_list_append(self):
        """list_append concatenates lists in the given order."""
        key = self.fresh(l=[1, 2])
        self.assertEqual(self.after(key, "SET l = list_append(l, :tail)", {":tail": [3]}),
                         {"l": [1, 2, 3]})
        self.assertEqual(self.after(key, "SET l = list_append(:head, l)", {":head": ["h"]}),
                         {"l": ["h", 1, 2, 3]})

    def test_list_append_to_missing_list_with_if_not_exists(self):
        """list_append(if_not_exists(l, :empty), :v) starts a new list."""
        key = self.fresh()
        self.assertEqual(
            self.after(key, "SET l = list_append(if_not_exists(l, :empty), :v)",
                       {":empty": [], ":v": ["first"]}),
            {"l": ["first"]})

    def test_list_append_of_non_list_value(self):
        """list_append of a value that is not a list is rejected before reading the item."""
        key = self.fresh(l=[1])
        with self.assertValidationError(regex=r"^Invalid UpdateExpression: Incorrect operand "
                                              r"type for operator or function; operator or "
                                              r"function: list_append, operand type: S"):
            self.update(self.table, key, "SET l = list_append(l, :v)", {":v": "text"})

    def test_list_append_of_non_list_attribute(self):
        """list_append of an attribute that is not a list is rejected."""
        key = self.fresh(s="text")
        with self.assertValidationError(
                "An operand in the update expression has an incorrect data type"):
            self.update(self.table, key, "SET s = list_append(s, :v)", {":v": [1]})

    def test_set_nested_map_path(self):
        """SET a.b.c writes inside nested maps and keeps siblings."""
        key = self.fresh(a={"b": {"c": 1, "d": 2}, "e": 3})
        self.assertEqual(self.after(key, "SET a.b.c = :v, a.b.added = :v", {":v": 9}),
                         {"a": {"b": {"c": 9, "d": 2, "added": 9}, "e": 3}})

    def test_set_list_index(self):
        """SET l[1] replaces that element."""
        key = self.fresh(l=["a", "b", "c"])
        self.assertEqual(self.after(key, "SET l[1] = :v", {":v": "B"}), {"l": ["a", "B", "c"]})

    def test_set_mixed_path(self):
        """SET m.l[2].c reaches through maps and lists."""
        key = self.fresh(m={"l": [0, 1, {"c": "old", "d": 4}]})
        self.assertEqual(self.after(key, "SET m.l[2].c = :v", {":v": "new"}),
                         {"m": {"l": [0, 1, {"c": "new", "d": 4}]}})

    def test_set_index_past_end_appends(self):
        """SET l[10] on a 3-element list appends at the end."""
        key = self.fresh(l=["a", "b", "c"])
        self.assertEqual(self.after(key, "SET l[10] = :v", {":v": "d"}),
                         {"l": ["a", "b", "c", "d"]})

    def test_set_path_through_missing_map(self):
        """SET a.b when a does not exist is an invalid document path."""
        key = self.fresh()
        with self.assertValidationError(
                "The document path provided in the update expression is invalid for update"):
            self.update(self.table, key, "SET a.b = :v", {":v": 1})

    def test_set_index_into_non_list(self):
        """SET s[0] on a string is an invalid document path."""
        key = self.fresh(s="text")
        with self.assertValidationError(
                "The document path provided in the update expression is invalid for update"):
            self.update(self.table, key, "SET s[0] = :v", {":v": 1})

    def test_dot_inside_substituted_name_is_literal(self):
        """#n standing for "a.b" names a top-level attribute with a dot."""
        key = self.fresh()
        self.assertEqual(self.after(key, "SET #n = :v", {":v": 1}, {"#n": "a.b"}), {"a.b": 1})

    # REMOVE

    def test_remove_attributes(self):
        """REMOVE drops top-level attributes."""
        key = self.fresh(a=1, b=2, c=3)
        self.assertEqual(self.after(key, "REMOVE a, c"), {"b": 2})

    def test_remove_nested_and_list_elements(self):
        """REMOVE deletes map members and list elements, shifting the list."""
        key = self.fresh(m={"x": 1, "y": 2}, l=[0, 1, 2, 3])
        self.assertEqual(self.after(key, "REMOVE m.x, l[1], l[2]"),
                         {"m": {"y": 2}, "l": [0, 3]})

    def test_remove_missing_attribute_is_noop(self):
        """REMOVE of an attribute that is not there changes nothing."""
        key = self.fresh(a=1, l=[0])
        self.assertEqual(self.after(key, "REMOVE nothing, l[5]"), {"a": 1, "l": [0]})

    # ADD and DELETE

    def test_add_to_number(self):
        """ADD adds to an existing number."""
        key = self.fresh(n=5)
        self.assertEqual(self.after(key, "ADD n :v", {":v": -7}), {"n": -2})

    def test_add_to_missing_number_starts_at_zero(self):
        """ADD to a missing attribute behaves as if it were 0."""
        key = self.fresh()
        self.assertEqual(self.after(key, "ADD n :v", {":v": 3}), {"n": 3})

    def test_add_creates_missing_item(self):
        """ADD on a missing item creates it."""
        key = {"p": self.unique_name()}
        self.update(self.table, key, "ADD n :v", {":v": 1})
        self.assertEqual(self.get(self.table, key), {**key, "n": 1})

    def test_add_to_sets(self):
        """ADD unions string, number and binary sets."""
        key = self.fresh(ss={"a"}, ns={1}, bs={b"\x00"})
        self.assertEqual(
            self.after(key, "ADD ss :s, ns :n, bs :b, fresh :s",
                       {":s": {"a", "b"}, ":n": {2, 3}, ":b": {b"\xff"}}),
            {"ss": {"a", "b"}, "ns": {1, 2, 3}, "bs": {b"\x00", b"\xff"}, "fresh": {"a", "b"}})

    def test_add_wrong_operand_type(self):
        """ADD takes only numbers and sets."""
        key = self.fresh(s="x")
        with self.assertValidationError(regex=r"^Invalid UpdateExpression: Incorrect operand type "
                                              r"for operator or function; operator: ADD, "
                                              r"operand type: STRING"):
            self.update(self.table, key, "ADD s :v", {":v": "y"})

    def test_add_set_to_number(self):
        """ADD of a set to a number is a type mismatch."""
        key = self.fresh(n=1)
        with self.assertValidationError(
                "An operand in the update expression has an incorrect data type"):
            self.update(self.table, key, "ADD n :v", {":v": {"x"}})

    def test_delete_from_set(self):
        """DELETE removes members; absent members are ignored."""
        key = self.fresh(ss={"a", "b", "c"}, ns={1, 2})
        self.assertEqual(self.after(key, "DELETE ss :s, ns :n", {":s": {"a", "zz"}, ":n": {2}}),
                         {"ss": {"b", "c"}, "ns": {1}})

    def test_delete_last_members_removes_attribute(self):
        """Deleting every member removes the attribute (sets are never empty)."""
        key = self.fresh(ss={"a", "b"}, keep=1)
        self.assertEqual(self.after(key, "DELETE ss :s", {":s": {"a", "b"}}), {"keep": 1})

    def test_delete_wrong_operand_type(self):
        """DELETE takes only a set."""
        key = self.fresh(ss={"a"})
        with self.assertValidationError(regex=r"^Invalid UpdateExpression: Incorrect operand type "
                                              r"for operator or function; operator: DELETE, "
                                              r"operand type: STRING"):
            self.update(self.table, key, "DELETE ss :v", {":v": "a"})

    # Clauses, keys and overlaps

    def test_all_four_clauses_together(self):
        """SET, REMOVE, ADD and DELETE combine in one expression, in any order."""
        key = self.fresh(a=1, b=2, n=1, ss={"x", "y"})
        self.assertEqual(
            self.after(key, "REMOVE b ADD n :one DELETE ss :x SET a = :ten",
                       {":one": 1, ":x": {"x"}, ":ten": 10}),
            {"a": 10, "n": 2, "ss": {"y"}})

    def test_clause_keywords_are_case_insensitive(self):
        """set/remove/add/delete may be written in lower case."""
        key = self.fresh(a=1)
        self.assertEqual(self.after(key, "set b = :v remove a", {":v": 2}), {"b": 2})

    def test_clause_twice(self):
        """Each clause may appear only once."""
        key = self.fresh()
        with self.assertValidationError(regex=r"^Invalid UpdateExpression: The \"SET\" section "
                                              r"can only be used once in an update expression;"):
            self.update(self.table, key, "SET a = :v SET b = :v", {":v": 1})

    def test_overlapping_paths(self):
        """Two actions on the same or nested paths are rejected."""
        key = self.fresh(a={"b": 1})
        for expression in ("SET a = :v REMOVE a", "SET a = :v, a.b = :v", "SET a.b = :v, a = :v"):
            with self.subTest(expression=expression), self.assertValidationError(
                    regex=r"^Invalid UpdateExpression: Two document paths overlap with each "
                          r"other; must remove or rewrite one of these paths"):
                self.update(self.table, key, expression, {":v": 1})

    def test_key_attribute_cannot_be_updated(self):
        """SET, REMOVE and ADD on a key attribute are rejected."""
        key = {"p": "k", "c": 1}
        for expression, values in (("SET p = :v", {":v": "x"}), ("SET c = :v", {":v": 2}),
                                   ("REMOVE c", None), ("ADD c :v", {":v": 1})):
            attribute = expression.split()[1]
            with self.subTest(expression=expression), self.assertValidationError(
                    f"One or more parameter values were invalid: Cannot update attribute "
                    f"{attribute}. This attribute is part of the key"):
                self.update(self.pair, key, expression, values)

    def test_syntax_error(self):
        """An unparseable update is a syntax error."""
        key = self.fresh()
        with self.assertValidationError(regex=r"^Invalid UpdateExpression: Syntax error;"):
            self.update(self.table, key, "SET a = ", {":v": 1})

    def test_unknown_clause(self):
        """Only SET, REMOVE, ADD and DELETE start a clause."""
        key = self.fresh()
        with self.assertValidationError(regex=r"^Invalid UpdateExpression: Syntax error;"):
            self.update(self.table, key, "PUT a = :v", {":v": 1})

    def test_empty_update_expression(self):
        """An empty UpdateExpression is rejected."""
        key = self.fresh()
        with self.assertValidationError(
                "Invalid UpdateExpression: The expression can not be empty;"):
            self.update(self.table, key, "")

    def test_empty_set_value(self):
        """SET of an empty set is rejected (sets are never empty)."""
        key = self.fresh()
        with self.assertValidationError(regex=r"empty"):
            self.ddb.update_item(TableName=self.table, Key=item_av(key),
                                 UpdateExpression="SET s = :v",
                                 ExpressionAttributeValues={":v": {"SS": []}})


if __name__ == "__main__":
    unittest.main()
