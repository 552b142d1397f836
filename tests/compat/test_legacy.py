"""The legacy (pre-expression) parameters older SDKs and mappers send:
Expected + ConditionalOperator, AttributeUpdates, AttributesToGet,
KeyConditions, QueryFilter and ScanFilter, with DynamoDB's semantics and
error messages, and the rule against mixing them with expressions."""

import unittest

from eddy_server import EddyTestCase, av, item_av

INVALID = "One or more parameter values were invalid: "


def cond(op, *values):
    """A Condition / ExpectedAttributeValue in ComparisonOperator form."""
    return {"ComparisonOperator": op, "AttributeValueList": [av(v) for v in values]}


class ExpectedTest(EddyTestCase):
    """Expected on UpdateItem, PutItem and DeleteItem."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"))

    def setUp(self):
        self.key = self.unique_name("k")
        self.put(self.table, {"p": self.key, "a": 1, "s": "hello",
                              "ns": {2, 4, 7}, "l": [2, 4, 7], "b": b"hi there",
                              "a.b": "dotted", "name": "reserved word"})

    def write(self, expected, **kw):
        """UpdateItem SET z = 1 under `expected`."""
        return self.ddb.update_item(
            TableName=self.table, Key=item_av({"p": self.key}),
            AttributeUpdates={"z": {"Value": av(1), "Action": "PUT"}},
            Expected=expected, **kw)

    def passes(self, expected, **kw):
        self.write(expected, **kw)
        self.assertEqual(self.get(self.table, {"p": self.key})["z"], 1)
        self.update(self.table, {"p": self.key}, "REMOVE z")

    def fails(self, expected, **kw):
        with self.assertConditionFailed():
            self.write(expected, **kw)
        self.assertNotIn("z", self.get(self.table, {"p": self.key}))

    def invalid(self, expected, message, **kw):
        with self.assertValidationError(message):
            self.write(expected, **kw)

    def test_value_form(self):
        """{Value: v} (Exists defaults to true) requires the attribute to equal v."""
        self.passes({"a": {"Value": av(1)}})
        self.passes({"a": {"Value": av(1), "Exists": True}})
        self.fails({"a": {"Value": av(2)}})
        self.fails({"a": {"Value": av("1")}})
        self.fails({"missing": {"Value": av(1)}})

    def test_exists_false(self):
        """{Exists: false} requires the attribute to be absent."""
        self.passes({"missing": {"Exists": False}})
        self.fails({"a": {"Exists": False}})

    def test_value_and_exists_errors(self):
        """Exists true needs a Value, Exists false refuses one."""
        self.invalid({"a": {"Exists": True}},
                     INVALID + "Value must be provided when Exists is true for Attribute: a")
        self.invalid({"a": {}},
                     INVALID + "Value must be provided when Exists is null for Attribute: a")
        self.invalid({"a": {"Exists": False, "Value": av(1)}},
                     INVALID + "Value cannot be used when Exists is false for Attribute: a")
        self.invalid({"a": {"Exists": False, "ComparisonOperator": "EQ",
                            "AttributeValueList": [av(1)]}},
                     INVALID + "Exists and ComparisonOperator cannot be used together "
                     "for Attribute: a")
        self.invalid({"a": {"Value": av(1), "ComparisonOperator": "EQ",
                            "AttributeValueList": [av(1)]}},
                     INVALID + "Value and AttributeValueList cannot be used together "
                     "for Attribute: a")
        self.invalid({"a": {"AttributeValueList": [av(1)]}},
                     INVALID + "AttributeValueList can only be used with a "
                     "ComparisonOperator for Attribute: a")
        self.invalid({"a": {"ComparisonOperator": "EQ"}},
                     INVALID + "Value or AttributeValueList must be used with "
                     "ComparisonOperator: EQ for Attribute: a")

    def test_eq_and_ne(self):
        """EQ matches equal values of the same type; NE also holds for a missing attribute."""
        self.passes({"a": cond("EQ", 1)})
        self.passes({"ns": cond("EQ", {7, 2, 4})})
        self.fails({"a": cond("EQ", 2)})
        self.fails({"a": cond("EQ", "1")})
        self.passes({"a": cond("NE", 2)})
        self.passes({"a": cond("NE", "1")})
        self.passes({"missing": cond("NE", 1)})
        self.fails({"a": cond("NE", 1)})

    def test_ordering_operators(self):
        """LE, LT, GE, GT compare numbers by value and strings bytewise; other types fail."""
        self.passes({"a": cond("LE", 1)})
        self.passes({"a": cond("LT", 2)})
        self.passes({"a": cond("GE", 1)})
        self.passes({"a": cond("GT", 0)})
        self.passes({"s": cond("LT", "world")})
        self.passes({"b": cond("GT", b"hi")})
        self.fails({"a": cond("LT", 1)})
        self.fails({"a": cond("LE", "1")})
        self.fails({"missing": cond("GE", 0)})

    def test_null_and_not_null(self):
        """NULL means the attribute is absent, NOT_NULL that it exists."""
        self.passes({"missing": cond("NULL")})
        self.passes({"a": cond("NOT_NULL")})
        self.fails({"a": cond("NULL")})
        self.fails({"missing": cond("NOT_NULL")})

    def test_contains_and_not_contains(self):
        """CONTAINS: substrings, set members, list elements. NOT_CONTAINS fails on a
        missing attribute, as in DynamoDB."""
        self.passes({"s": cond("CONTAINS", "ell")})
        self.passes({"ns": cond("CONTAINS", 4)})
        self.passes({"l": cond("CONTAINS", 4)})
        self.passes({"b": cond("CONTAINS", b"here")})
        self.fails({"s": cond("CONTAINS", "dog")})
        self.fails({"missing": cond("CONTAINS", 1)})
        self.passes({"s": cond("NOT_CONTAINS", "dog")})
        self.passes({"ns": cond("NOT_CONTAINS", 1)})
        self.fails({"ns": cond("NOT_CONTAINS", 4)})
        self.fails({"missing": cond("NOT_CONTAINS", 1)})

    def test_begins_with_in_between(self):
        """BEGINS_WITH, IN and BETWEEN (inclusive)."""
        self.passes({"s": cond("BEGINS_WITH", "hell")})
        self.fails({"s": cond("BEGINS_WITH", "dog")})
        self.fails({"a": cond("BEGINS_WITH", "1")})
        self.passes({"a": cond("IN", 3, 1, 8)})
        self.fails({"a": cond("IN", 3, 8)})
        self.fails({"ns": cond("IN", 2)})
        self.passes({"a": cond("BETWEEN", 1, 3)})
        self.passes({"a": cond("BETWEEN", 0, 1)})
        self.fails({"a": cond("BETWEEN", 2, 3)})
        self.fails({"missing": cond("BETWEEN", 0, 100)})

    def test_comparison_operator_with_value(self):
        """A ComparisonOperator may take its one operand as Value."""
        self.passes({"a": {"ComparisonOperator": "GT", "Value": av(0)}})
        self.fails({"a": {"ComparisonOperator": "GT", "Value": av(1)}})

    def test_argument_count_and_type_errors(self):
        """Each operator checks how many values it gets and of which types."""
        for op, values in (("EQ", [1, 2]), ("NE", []), ("NULL", [1]),
                           ("BETWEEN", [1]), ("IN", []), ("BEGINS_WITH", ["a", "b"])):
            self.invalid({"a": cond(op, *values)},
                         INVALID + f"Invalid number of argument(s) for the {op} "
                         "ComparisonOperator")
        self.invalid({"a": cond("LT", {1})},
                     INVALID + "ComparisonOperator LT is not valid for NS AttributeValue type")
        self.invalid({"s": cond("BEGINS_WITH", 3)},
                     INVALID + "ComparisonOperator BEGINS_WITH is not valid for N "
                     "AttributeValue type")
        self.invalid({"l": cond("CONTAINS", [1])},
                     INVALID + "ComparisonOperator CONTAINS is not valid for L "
                     "AttributeValue type")
        self.invalid({"a": cond("IN", 3, "dog")},
                     INVALID + "AttributeValues inside AttributeValueList must be of same type")
        self.invalid({"a": cond("BETWEEN", 4, 3)},
                     "The BETWEEN condition was provided a range where the lower bound "
                     "is greater than the upper bound")

    def test_unknown_comparison_operator(self):
        """An unknown ComparisonOperator is a constraint violation."""
        self.invalid({"a": {"ComparisonOperator": "EQUALS", "AttributeValueList": [av(1)]}},
                     "1 validation error detected: Value 'EQUALS' at "
                     "'expected.a.member.comparisonOperator' failed to satisfy constraint: "
                     "Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, "
                     "NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]")

    def test_conditional_operator(self):
        """Conditions are ANDed by default; ConditionalOperator OR needs just one."""
        both = {"a": {"Value": av(1)}, "s": cond("EQ", "hello"), "c": {"Exists": False}}
        one = {"a": {"Value": av(74)}, "s": cond("EQ", "nope"), "c": {"Exists": False}}
        none = {"a": {"Value": av(74)}, "s": cond("EQ", "nope"), "ns": cond("NULL")}
        self.passes(both)
        self.passes(both, ConditionalOperator="AND")
        self.fails(one)
        self.fails(one, ConditionalOperator="AND")
        self.passes(one, ConditionalOperator="OR")
        self.fails(none, ConditionalOperator="OR")

    def test_conditional_operator_errors(self):
        """ConditionalOperator needs two or more conditions and is AND or OR."""
        self.invalid({"a": {"Value": av(1)}},
                     "ConditionalOperator can only be used when Filter or Expected has "
                     "two or more elements", ConditionalOperator="OR")
        self.invalid({}, "ConditionalOperator cannot be used without Filter or Expected",
                     ConditionalOperator="AND")
        with self.assertValidationError(
                "ConditionalOperator cannot be used without Filter or Expected"):
            self.put(self.table, {"p": self.key}, ConditionalOperator="OR")
        self.invalid({"a": {"Value": av(1)}, "s": {"Value": av("hello")}},
                     "1 validation error detected: Value 'XOR' at 'conditionalOperator' "
                     "failed to satisfy constraint: Member must satisfy enum value set: "
                     "[OR, AND]", ConditionalOperator="XOR")

    def test_empty_expected(self):
        """An empty Expected is no condition at all."""
        self.passes({})

    def test_names_are_literal(self):
        """Legacy attribute names need no escaping: dots and reserved words are literal."""
        self.passes({"a.b": {"Value": av("dotted")}, "name": cond("BEGINS_WITH", "reserved")})
        self.fails({"a.b": cond("NULL")})

    def test_put_item_expected(self):
        """PutItem honours Expected (here: put only if absent)."""
        key = self.unique_name("put")
        self.put(self.table, {"p": key, "v": 1}, Expected={"p": {"Exists": False}})
        with self.assertConditionFailed():
            self.put(self.table, {"p": key, "v": 2}, Expected={"p": {"Exists": False}})
        self.put(self.table, {"p": key, "v": 3}, Expected={"v": {"Value": av(1)}})
        self.assertItem(self.table, {"p": key}, {"p": key, "v": 3})

    def test_delete_item_expected(self):
        """DeleteItem honours Expected, and ReturnValuesOnConditionCheckFailure works with it."""
        with self.assertConditionFailed() as cm:
            self.delete(self.table, {"p": self.key}, Expected={"a": {"Value": av(2)}},
                        ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertEqual(cm.exception.response["Item"]["a"], {"N": "1"})
        self.delete(self.table, {"p": self.key}, Expected={"a": {"Value": av(1)}})
        self.assertIsNone(self.get(self.table, {"p": self.key}))

    def test_mixing_with_condition_expression(self):
        """Expected and ConditionExpression cannot be used together."""
        with self.assertValidationError(
                "Can not use both expression and non-expression parameters in the same "
                "request: Non-expression parameters: {Expected} Expression parameters: "
                "{ConditionExpression}"):
            self.put(self.table, {"p": self.key}, Expected={"p": {"Exists": False}},
                     ConditionExpression="attribute_not_exists(p)")
        with self.assertValidationError(
                "Can not use both expression and non-expression parameters in the same "
                "request: Non-expression parameters: {Expected, ConditionalOperator} "
                "Expression parameters: {ConditionExpression}"):
            self.delete(self.table, {"p": self.key},
                        Expected={"a": {"Value": av(1)}, "s": {"Value": av("x")}},
                        ConditionalOperator="OR", ConditionExpression="attribute_exists(p)")

    def test_expression_maps_need_expressions(self):
        """ExpressionAttributeNames/Values are refused alongside only legacy parameters."""
        with self.assertValidationError(
                "ExpressionAttributeNames can only be specified when using expressions"):
            self.put(self.table, {"p": self.key}, Expected={"p": {"Exists": False}},
                     ExpressionAttributeNames={"#p": "p"})
        # DynamoDB names the expressions that would take the values
        # (dynalite's record: "...: ConditionExpression is null" for PutItem).
        with self.assertValidationError(
                "ExpressionAttributeValues can only be specified when using expressions: "
                "UpdateExpression and ConditionExpression are null"):
            self.write({"a": {"Value": av(1)}}, ExpressionAttributeValues={":v": av(1)})


class AttributeUpdatesTest(EddyTestCase):
    """UpdateItem's AttributeUpdates: PUT, ADD and DELETE."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"))
        cls.pair = cls.create_table(hash_key=("p", "S"), range_key=("c", "N"))

    def setUp(self):
        self.key = {"p": self.unique_name("k")}

    def updates(self, updates, key=None, table=None, **kw):
        return self.ddb.update_item(TableName=table or self.table,
                                    Key=item_av(key or self.key),
                                    AttributeUpdates=updates, **kw)

    def state(self):
        return self.get(self.table, self.key)

    def test_put_creates_and_replaces(self):
        """PUT (the default Action) sets attributes, creating the item."""
        self.updates({"a": {"Value": av(1)}, "b": {"Value": av("x"), "Action": "PUT"}})
        self.assertEqual(self.state(), {**self.key, "a": 1, "b": "x"})
        self.updates({"a": {"Value": av([1, {"m": True}])}})
        self.assertEqual(self.state(), {**self.key, "a": [1, {"m": True}], "b": "x"})

    def test_delete_whole_attribute(self):
        """DELETE without a Value removes the attribute; a missing one is fine."""
        self.updates({"a": {"Value": av(1)}, "b": {"Value": av(2)}})
        self.updates({"a": {"Action": "DELETE"}, "nothing": {"Action": "DELETE"}})
        self.assertEqual(self.state(), {**self.key, "b": 2})

    def test_delete_set_members(self):
        """DELETE with a set removes those members; an emptied set disappears."""
        self.updates({"s": {"Value": av({"a", "b", "c"})}, "n": {"Value": av({1, 2})}})
        self.updates({"s": {"Action": "DELETE", "Value": av({"a", "z"})},
                      "n": {"Action": "DELETE", "Value": av({1, 2})}})
        self.assertEqual(self.state(), {**self.key, "s": {"b", "c"}})

    def test_delete_on_missing_item_creates_nothing(self):
        """Only DELETE actions on a missing item leave no item behind."""
        self.updates({"a": {"Action": "DELETE"}, "s": {"Action": "DELETE", "Value": av({"x"})}})
        self.assertIsNone(self.state())

    def test_add_to_missing_item(self):
        """ADD on a missing item creates it, counting from 0 / the empty set / list."""
        self.updates({"n": {"Action": "ADD", "Value": av(5)},
                      "s": {"Action": "ADD", "Value": av({"x"})},
                      "l": {"Action": "ADD", "Value": av([1])}})
        self.assertEqual(self.state(), {**self.key, "n": 5, "s": {"x"}, "l": [1]})

    def test_add_to_existing_attributes(self):
        """ADD adds numbers exactly, unions sets and appends to lists."""
        self.updates({"n": {"Value": av(1)}, "s": {"Value": av({"a"})},
                      "l": {"Value": av(["x"])}})
        self.updates({"n": {"Action": "ADD", "Value": {"N": "0.25"}},
                      "s": {"Action": "ADD", "Value": av({"a", "b"})},
                      "l": {"Action": "ADD", "Value": av(["y", "x"])}})
        state = self.state()
        self.assertEqual(str(state["n"]), "1.25")
        self.assertEqual(state["s"], {"a", "b"})
        self.assertEqual(state["l"], ["x", "y", "x"])

    def test_type_mismatch(self):
        """ADD or DELETE against an attribute of another type fails and changes nothing."""
        self.updates({"s": {"Value": av({"1"})}, "n": {"Value": av(1)},
                      "ns": {"Value": av({1})}})
        before = self.state()
        for updates in ({"s": {"Action": "DELETE", "Value": av({1})}},
                        {"s": {"Action": "ADD", "Value": av({1})}},
                        {"n": {"Action": "DELETE", "Value": av({1})}},
                        {"ns": {"Action": "ADD", "Value": av(1)}},
                        {"n": {"Action": "ADD", "Value": av([1])}}):
            with self.assertValidationError("Type mismatch for attribute to update"):
                self.updates(updates)
        self.assertEqual(self.state(), before)

    def test_action_errors(self):
        """Each action accepts only some values."""
        with self.assertValidationError(
                INVALID + "Only DELETE action is allowed when no attribute value is specified"):
            self.updates({"a": {"Action": "PUT"}})
        with self.assertValidationError(
                INVALID + "Only DELETE action is allowed when no attribute value is specified"):
            self.updates({"a": {"Action": "ADD"}})
        for value, name in ((1, "N"), ("x", "S"), ([1], "L")):
            with self.assertValidationError(
                    INVALID + f"DELETE action with value is not supported for the type {name}"):
                self.updates({"a": {"Action": "DELETE", "Value": av(value)}})
        for value, name in (("x", "S"), (True, "BOOL"), ({"m": 1}, "M"), (b"x", "B")):
            with self.assertValidationError(
                    INVALID + f"ADD action is not supported for the type {name}"):
                self.updates({"a": {"Action": "ADD", "Value": av(value)}})
        with self.assertValidationError(
                "1 validation error detected: Value 'REPLACE' at "
                "'attributeUpdates.a.member.action' failed to satisfy constraint: "
                "Member must satisfy enum value set: [ADD, PUT, DELETE]"):
            self.updates({"a": {"Action": "REPLACE", "Value": av(1)}})

    def test_key_attributes_cannot_be_updated(self):
        """AttributeUpdates may not touch the key."""
        with self.assertValidationError(
                INVALID + "Cannot update attribute c. This attribute is part of the key"):
            self.updates({"d": {"Value": av(1)}, "c": {"Value": av(2)}},
                         key={"p": "x", "c": 1}, table=self.pair)

    def test_return_values(self):
        """UPDATED_OLD / UPDATED_NEW return the updated attributes."""
        self.updates({"a": {"Value": av(1)}, "b": {"Value": av(2)}})
        old = self.updates({"a": {"Value": av(10)}, "c": {"Value": av(3)}},
                           ReturnValues="UPDATED_OLD")
        self.assertEqual(old["Attributes"], item_av({"a": 1}))
        new = self.updates({"a": {"Action": "ADD", "Value": av(5)}},
                           ReturnValues="UPDATED_NEW")
        self.assertEqual(new["Attributes"], item_av({"a": 15}))
        everything = self.updates({"b": {"Action": "DELETE"}}, ReturnValues="ALL_NEW")
        self.assertEqual(everything["Attributes"], item_av({**self.key, "a": 15, "c": 3}))

    def test_with_expected(self):
        """AttributeUpdates and Expected together: an optimistic-locking version bump."""
        self.updates({"version": {"Value": av(1)}})
        self.updates({"version": {"Action": "ADD", "Value": av(1)}},
                     Expected={"version": {"Value": av(1)}})
        with self.assertConditionFailed():
            self.updates({"version": {"Action": "ADD", "Value": av(1)}},
                         Expected={"version": {"Value": av(1)}})
        self.assertEqual(self.state()["version"], 2)

    def test_mixing_with_expressions(self):
        """AttributeUpdates/Expected cannot be combined with the expressions."""
        with self.assertValidationError(
                "Can not use both expression and non-expression parameters in the same "
                "request: Non-expression parameters: {AttributeUpdates} Expression "
                "parameters: {UpdateExpression}"):
            self.updates({"a": {"Value": av(1)}}, UpdateExpression="SET b = :v",
                         ExpressionAttributeValues={":v": av(1)})
        with self.assertValidationError(
                "Can not use both expression and non-expression parameters in the same "
                "request: Non-expression parameters: {AttributeUpdates, Expected} "
                "Expression parameters: {UpdateExpression, ConditionExpression}"):
            self.updates({"a": {"Value": av(1)}}, Expected={"a": {"Exists": False}},
                         UpdateExpression="SET b = :v",
                         ConditionExpression="attribute_not_exists(a)",
                         ExpressionAttributeValues={":v": av(1)})
        # Expected with an UpdateExpression is mixing too.
        with self.assertValidationError(
                "Can not use both expression and non-expression parameters in the same "
                "request: Non-expression parameters: {Expected} Expression parameters: "
                "{UpdateExpression}"):
            self.update(self.table, self.key, "SET b = :v", {":v": 1},
                        Expected={"a": {"Exists": False}})


class AttributesToGetTest(EddyTestCase):
    """AttributesToGet on GetItem, BatchGetItem, Query and Scan."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"), range_key=("c", "N"))
        for c in range(3):
            cls.ddb.put_item(TableName=cls.table, Item=item_av(
                {"p": "A", "c": c, "x": c * 10, "y": "why", "a.b": "dot",
                 "m": {"x": 1}}))

    def test_get_item(self):
        """Only the named attributes come back; names are literal; missing ones are skipped."""
        got = self.ddb.get_item(TableName=self.table, Key=item_av({"p": "A", "c": 1}),
                                AttributesToGet=["x", "a.b", "nothing"])
        self.assertEqual(got["Item"], item_av({"x": 10, "a.b": "dot"}))

    def test_get_item_errors(self):
        """Duplicates, an empty list and mixing with ProjectionExpression are refused."""
        key = item_av({"p": "A", "c": 1})
        with self.assertValidationError(INVALID + "Duplicate value in attribute name: x"):
            self.ddb.get_item(TableName=self.table, Key=key, AttributesToGet=["x", "y", "x"])
        with self.assertValidationError(
                "1 validation error detected: Value '[]' at 'attributesToGet' failed to "
                "satisfy constraint: Member must have length greater than or equal to 1"):
            self.ddb.get_item(TableName=self.table, Key=key, AttributesToGet=[])
        with self.assertValidationError(
                "Can not use both expression and non-expression parameters in the same "
                "request: Non-expression parameters: {AttributesToGet} Expression "
                "parameters: {ProjectionExpression}"):
            self.ddb.get_item(TableName=self.table, Key=key, AttributesToGet=["x"],
                              ProjectionExpression="y")

    def test_batch_get_item(self):
        """BatchGetItem takes AttributesToGet per table."""
        got = self.ddb.batch_get_item(RequestItems={self.table: {
            "Keys": [item_av({"p": "A", "c": 0}), item_av({"p": "A", "c": 2})],
            "AttributesToGet": ["c", "x"]}})
        items = sorted(got["Responses"][self.table], key=lambda i: int(i["c"]["N"]))
        self.assertEqual(items, [item_av({"c": 0, "x": 0}), item_av({"c": 2, "x": 20})])
        with self.assertValidationError(
                "Can not use both expression and non-expression parameters in the same "
                "request: Non-expression parameters: {AttributesToGet} Expression "
                "parameters: {ProjectionExpression}"):
            self.ddb.batch_get_item(RequestItems={self.table: {
                "Keys": [item_av({"p": "A", "c": 0})], "AttributesToGet": ["x"],
                "ProjectionExpression": "x"}})

    def test_query_and_scan(self):
        """Query and Scan project with AttributesToGet (Select defaults to SPECIFIC_ATTRIBUTES)."""
        page = self.ddb.query(TableName=self.table,
                              KeyConditions={"p": cond("EQ", "A")},
                              AttributesToGet=["x", "m"])
        self.assertEqual(page["Items"], [item_av({"x": c * 10, "m": {"x": 1}})
                                         for c in range(3)])
        page = self.ddb.scan(TableName=self.table, AttributesToGet=["c"],
                             Select="SPECIFIC_ATTRIBUTES")
        self.assertEqual(sorted(int(i["c"]["N"]) for i in page["Items"]), [0, 1, 2])

    def test_select_conflicts(self):
        """AttributesToGet only goes with Select SPECIFIC_ATTRIBUTES."""
        with self.assertValidationError(
                "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES"):
            self.ddb.scan(TableName=self.table, AttributesToGet=["c"], Select="ALL_ATTRIBUTES")
        with self.assertValidationError(
                "Cannot specify the AttributesToGet when choosing to get only the Count"):
            self.ddb.scan(TableName=self.table, AttributesToGet=["c"], Select="COUNT")
        with self.assertValidationError(
                "Cannot specify the ProjectionExpression when choosing to get only the Count"):
            self.ddb.scan(TableName=self.table, ProjectionExpression="c", Select="COUNT")

    def test_mixing_in_query(self):
        """AttributesToGet with the expression parameters of a Query is refused."""
        with self.assertValidationError(
                "Can not use both expression and non-expression parameters in the same "
                "request: Non-expression parameters: {AttributesToGet} Expression "
                "parameters: {KeyConditionExpression}"):
            self.ddb.query(TableName=self.table, KeyConditionExpression="p = :p",
                           ExpressionAttributeValues={":p": av("A")},
                           AttributesToGet=["x"])


class QueryLegacyTest(EddyTestCase):
    """KeyConditions and QueryFilter. Partition 'A' holds c = 0..9 (v = c % 3)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"), range_key=("c", "N"))
        for c in range(10):
            cls.ddb.put_item(TableName=cls.table,
                             Item=item_av({"p": "A", "c": c, "v": c % 3}))
        cls.ddb.put_item(TableName=cls.table, Item=item_av({"p": "B", "c": 0}))
        cls.strings = cls.create_table(hash_key=("p", "S"), range_key=("c", "S"))
        for c in ("apple", "apricot", "banana"):
            cls.ddb.put_item(TableName=cls.strings, Item=item_av({"p": "f", "c": c}))
        cls.hash_only = cls.create_table(hash_key=("p", "S"))

    def sort_keys(self, table=None, **kw):
        page = self.ddb.query(TableName=table or self.table, **kw)
        return [i["c"][list(i["c"])[0]] for i in page["Items"]], page

    def test_partition_only(self):
        """KeyConditions with just the partition key returns the partition in order."""
        keys, page = self.sort_keys(KeyConditions={"p": cond("EQ", "A")})
        self.assertEqual(keys, [str(c) for c in range(10)])
        keys, _ = self.sort_keys(KeyConditions={"p": cond("EQ", "A")}, ScanIndexForward=False)
        self.assertEqual(keys, [str(c) for c in reversed(range(10))])

    def test_sort_key_conditions(self):
        """Each indexable operator on the sort key."""
        cases = [(cond("EQ", 3), [3]), (cond("LT", 2), [0, 1]), (cond("LE", 1), [0, 1]),
                 (cond("GT", 7), [8, 9]), (cond("GE", 8), [8, 9]),
                 (cond("BETWEEN", 4, 6), [4, 5, 6])]
        for condition, expected in cases:
            keys, _ = self.sort_keys(KeyConditions={"p": cond("EQ", "A"), "c": condition})
            self.assertEqual(keys, [str(c) for c in expected], condition)
        keys, _ = self.sort_keys(table=self.strings, KeyConditions={
            "p": cond("EQ", "f"), "c": cond("BEGINS_WITH", "ap")})
        self.assertEqual(keys, ["apple", "apricot"])

    def test_key_condition_errors(self):
        """DynamoDB's errors for key conditions it cannot index."""
        def query(conditions, table=None):
            return self.ddb.query(TableName=table or self.table, KeyConditions=conditions)
        with self.assertValidationError("Query condition missed key schema element: p"):
            query({"c": cond("EQ", 1)})
        with self.assertValidationError("Query condition missed key schema element: c"):
            query({"p": cond("EQ", "A"), "v": cond("EQ", 1)})
        with self.assertValidationError("Query key condition not supported"):
            query({"p": cond("BEGINS_WITH", "A")})
        with self.assertValidationError(
                "Attempted conditional constraint is not an indexable operation"):
            query({"p": cond("EQ", "A"), "c": cond("IN", 1, 2)})
        with self.assertValidationError(
                "Attempted conditional constraint is not an indexable operation"):
            query({"p": cond("EQ", "A"), "c": cond("NOT_NULL")})
        with self.assertValidationError("Conditions can be of length 1 or 2 only"):
            query({"p": cond("EQ", "A"), "c": cond("EQ", 1), "v": cond("EQ", 1)})
        with self.assertValidationError("Query key condition not supported"):
            query({"p": cond("EQ", "A"), "c": cond("EQ", 1)}, table=self.hash_only)
        with self.assertValidationError(
                INVALID + "Condition parameter type does not match schema type"):
            query({"p": cond("EQ", "A"), "c": cond("EQ", "1")})
        with self.assertValidationError(
                INVALID + "Invalid number of argument(s) for the EQ ComparisonOperator"):
            query({"p": cond("EQ", "A", "B")})
        with self.assertValidationError(
                "1 validation error detected: Value null at "
                "'keyConditions.p.member.comparisonOperator' failed to satisfy "
                "constraint: Member must not be null"):
            query({"p": {"AttributeValueList": [av("A")]}})

    def test_query_filter(self):
        """QueryFilter filters after the key condition; Count and ScannedCount show it."""
        keys, page = self.sort_keys(KeyConditions={"p": cond("EQ", "A")},
                                    QueryFilter={"v": cond("EQ", 0)})
        self.assertEqual(keys, ["0", "3", "6", "9"])
        self.assertEqual((page["Count"], page["ScannedCount"]), (4, 10))
        keys, _ = self.sort_keys(KeyConditions={"p": cond("EQ", "A")},
                                 QueryFilter={"v": cond("EQ", 0), "missing": cond("NULL")})
        self.assertEqual(keys, ["0", "3", "6", "9"])
        keys, _ = self.sort_keys(KeyConditions={"p": cond("EQ", "A")},
                                 QueryFilter={"v": cond("EQ", 2), "missing": cond("NOT_NULL")},
                                 ConditionalOperator="OR")
        self.assertEqual(keys, ["2", "5", "8"])

    def test_query_filter_on_key_attribute(self):
        """A QueryFilter may not name a key attribute."""
        with self.assertValidationError(
                "QueryFilter can only contain non-primary key attributes: Primary key "
                "attribute: c"):
            self.ddb.query(TableName=self.table, KeyConditions={"p": cond("EQ", "A")},
                           QueryFilter={"c": cond("GT", 1)})

    def test_key_conditions_with_filter_expression(self):
        """KeyConditions may be combined with a FilterExpression (DynamoDB allows it)."""
        keys, _ = self.sort_keys(KeyConditions={"p": cond("EQ", "A")},
                                 FilterExpression="v = :v",
                                 ExpressionAttributeValues={":v": av(1)})
        self.assertEqual(keys, ["1", "4", "7"])

    def test_mixing(self):
        """KeyConditions against KeyConditionExpression, QueryFilter against FilterExpression."""
        with self.assertValidationError(
                "Can not use both expression and non-expression parameters in the same "
                "request: Non-expression parameters: {KeyConditions} Expression "
                "parameters: {KeyConditionExpression}"):
            self.ddb.query(TableName=self.table, KeyConditions={"p": cond("EQ", "A")},
                           KeyConditionExpression="p = :p",
                           ExpressionAttributeValues={":p": av("A")})
        with self.assertValidationError(
                "Can not use both expression and non-expression parameters in the same "
                "request: Non-expression parameters: {QueryFilter, ConditionalOperator} "
                "Expression parameters: {FilterExpression}"):
            self.ddb.query(TableName=self.table, KeyConditions={"p": cond("EQ", "A")},
                           QueryFilter={"v": cond("EQ", 1), "x": cond("NULL")},
                           ConditionalOperator="OR",
                           FilterExpression="v = :v", ExpressionAttributeValues={":v": av(1)})

    def test_missing_key_conditions(self):
        """A Query needs KeyConditions or a KeyConditionExpression."""
        with self.assertValidationError(
                "Either the KeyConditions or KeyConditionExpression parameter must be "
                "specified in the request."):
            self.ddb.query(TableName=self.table, QueryFilter={"v": cond("EQ", 1)})

    def test_pagination(self):
        """Legacy queries page with Limit and ExclusiveStartKey like any other."""
        items, pages = self.query_all(self.table, KeyConditions={"p": cond("EQ", "A")},
                                      QueryFilter={"v": cond("NE", 1)}, Limit=3)
        self.assertEqual([i["c"]["N"] for i in items], ["0", "2", "3", "5", "6", "8", "9"])
        self.assertGreater(len(pages), 3)


class ScanLegacyTest(EddyTestCase):
    """ScanFilter and ConditionalOperator on Scan."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"))
        for i in range(6):
            item = {"p": f"k{i}", "n": i, "tags": {f"t{i % 2}"}}
            if i % 3 == 0:
                item["extra"] = "yes"
            cls.ddb.put_item(TableName=cls.table, Item=item_av(item))

    def keys(self, **kw):
        items, _ = self.scan_all(self.table, **kw)
        return sorted(i["p"]["S"] for i in items)

    def test_scan_filter(self):
        """Each condition of a ScanFilter must hold (AND by default)."""
        self.assertEqual(self.keys(ScanFilter={"n": cond("GE", 4)}), ["k4", "k5"])
        self.assertEqual(self.keys(ScanFilter={"n": cond("GE", 2),
                                               "tags": cond("CONTAINS", "t1")}),
                         ["k3", "k5"])
        self.assertEqual(self.keys(ScanFilter={"extra": cond("NOT_NULL")}), ["k0", "k3"])
        self.assertEqual(self.keys(ScanFilter={"extra": cond("NULL"), "n": cond("LT", 3)}),
                         ["k1", "k2"])

    def test_scan_filter_or(self):
        """ConditionalOperator OR: any condition suffices."""
        self.assertEqual(self.keys(ScanFilter={"n": cond("EQ", 1), "extra": cond("NOT_NULL")},
                                   ConditionalOperator="OR"),
                         ["k0", "k1", "k3"])

    def test_scan_filter_counts(self):
        """Count is after the filter, ScannedCount before it."""
        page = self.ddb.scan(TableName=self.table, ScanFilter={"n": cond("IN", 1, 2)},
                             Select="COUNT")
        self.assertEqual((page["Count"], page["ScannedCount"]), (2, 6))
        self.assertNotIn("Items", page)

    def test_scan_filter_errors(self):
        """A missing operator, a bad argument count, and ConditionalOperator misuse."""
        with self.assertValidationError(
                "1 validation error detected: Value null at "
                "'scanFilter.n.member.comparisonOperator' failed to satisfy constraint: "
                "Member must not be null"):
            self.ddb.scan(TableName=self.table, ScanFilter={"n": {"AttributeValueList": [av(1)]}})
        with self.assertValidationError(
                INVALID + "Invalid number of argument(s) for the BETWEEN ComparisonOperator"):
            self.ddb.scan(TableName=self.table, ScanFilter={"n": cond("BETWEEN", 1, 2, 3)})
        with self.assertValidationError(
                "ConditionalOperator can only be used when Filter or Expected has two or "
                "more elements"):
            self.ddb.scan(TableName=self.table, ScanFilter={"n": cond("EQ", 1)},
                          ConditionalOperator="AND")
        with self.assertValidationError(
                "ConditionalOperator cannot be used without Filter or Expected"):
            self.ddb.scan(TableName=self.table, ConditionalOperator="OR")

    def test_mixing(self):
        """ScanFilter and AttributesToGet against the expressions."""
        with self.assertValidationError(
                "Can not use both expression and non-expression parameters in the same "
                "request: Non-expression parameters: {AttributesToGet, ScanFilter} "
                "Expression parameters: {ProjectionExpression, FilterExpression}"):
            self.ddb.scan(TableName=self.table, ScanFilter={"n": cond("EQ", 1)},
                          AttributesToGet=["p"], ProjectionExpression="p",
                          FilterExpression="n = :n", ExpressionAttributeValues={":n": av(1)})


if __name__ == "__main__":
    unittest.main()
