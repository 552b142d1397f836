"""PartiQL through boto3 and the AWS CLI: ExecuteStatement (SELECT as a
Query or a Scan, projections, every WHERE operator, indexes, Limit and
NextToken, ConsistentRead, capacity; INSERT, UPDATE and DELETE with
RETURNING and conditions), BatchExecuteStatement, ExecuteTransaction
(all-or-nothing, EXISTS, idempotency), the stream records PartiQL writes
produce, DynamoDB's errors with their messages, and IAM's PartiQL actions.
"""

import json
import os
import subprocess
import tempfile
import unittest

from botocore.exceptions import ClientError

from eddy_server import (ACCESS_KEY, ALLOW_ALL, REGION, SECRET_KEY, EddyServer,
                         EddyTestCase, av, item_av, item_py, py, write_auth_file)
from test_streams import StreamTestCase

NOT_WELL_FORMED = "Statement wasn't well formed, can't be processed: "


def rows(response):
    """The Items of a response as Python values."""
    return [item_py(i) for i in response["Items"]]


class PartiqlTestCase(EddyTestCase):
    """EddyTestCase plus PartiQL verbs."""

    def run_sql(self, statement, *parameters, **kw):
        if parameters:
            kw["Parameters"] = [av(p) for p in parameters]
        return self.ddb.execute_statement(Statement=statement, **kw)

    def select(self, statement, *parameters, **kw):
        """Every page of a SELECT, as Python values."""
        items, token = [], None
        for _ in range(1000):
            if token:
                kw["NextToken"] = token
            page = self.run_sql(statement, *parameters, **kw)
            items.extend(rows(page))
            token = page.get("NextToken")
            if not token:
                return items
        self.fail("NextToken paging does not end")

    def keys(self, items, *names):
        return [tuple(i[n] for n in names) for i in items]


class SelectTest(PartiqlTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.music = cls._create_music()
        cls.orders = cls.create_table(("OrderID", "N"))
        for item in [
            {"Artist": "Acme", "SongTitle": "Alpha", "Year": 2001, "Genre": "rock",
             "Plays": 10, "Tags": ["a", "b"], "Info": {"Label": "X", "Chart": [3, 1]},
             "Members": {"ann", "bob"}, "Nothing": None, "Live": True},
            {"Artist": "Acme", "SongTitle": "Beta", "Year": 2005, "Genre": "pop",
             "Plays": 25, "Tags": ["c"]},
            {"Artist": "Acme", "SongTitle": "Gamma", "Year": 1999, "Genre": "rock",
             "Plays": 5},
            {"Artist": "Bolt", "SongTitle": "Delta", "Year": 2010, "Genre": "jazz",
             "Plays": 40},
            {"Artist": "Bolt", "SongTitle": "Epsilon", "Year": 2011, "Genre": "rock"},
            {"Artist": "Cyan", "SongTitle": "Zeta", "Year": 2020, "Genre": "pop",
             "Plays": 1},
        ]:
            cls.ddb.put_item(TableName=cls.music, Item=item_av(item))
        for n in range(1, 8):
            cls.ddb.put_item(TableName=cls.orders,
                             Item=item_av({"OrderID": n, "Total": n * 100}))

    @classmethod
    def _create_music(cls):
        name = cls.unique_name("music")
        cls.ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"},
                       {"AttributeName": "SongTitle", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in
                                  [("Artist", "S"), ("SongTitle", "S"), ("Year", "N"),
                                   ("Genre", "S")]],
            LocalSecondaryIndexes=[{
                "IndexName": "by_year",
                "KeySchema": [{"AttributeName": "Artist", "KeyType": "HASH"},
                              {"AttributeName": "Year", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"}}],
            GlobalSecondaryIndexes=[{
                "IndexName": "by_genre",
                "KeySchema": [{"AttributeName": "Genre", "KeyType": "HASH"},
                              {"AttributeName": "Year", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "INCLUDE",
                               "NonKeyAttributes": ["Plays"]}}])
        cls._class_tables.append(name)
        cls.wait_for_status(name, "ACTIVE")
        return name

    def titles(self, where, *parameters, **kw):
        items = self.select(f'SELECT SongTitle FROM "{self.music}" WHERE {where}',
                            *parameters, **kw)
        return sorted(i["SongTitle"] for i in items)

    def test_select_star_by_partition_key_is_a_query(self):
        """The partition's items in sort key order; Limit 1 reads its first."""
        items = self.select(f'SELECT * FROM "{self.music}" WHERE Artist = \'Acme\'')
        self.assertEqual([i["SongTitle"] for i in items], ["Alpha", "Beta", "Gamma"])
        self.assertEqual(items[0]["Info"], {"Label": "X", "Chart": [3, 1]})
        self.assertEqual(items[0]["Members"], {"ann", "bob"})
        # A Query reads only the partition: Limit 1 stops at its first item.
        page = self.run_sql(f'SELECT * FROM "{self.music}" WHERE Artist = ?', "Bolt",
                            Limit=1)
        self.assertEqual(self.keys(rows(page), "SongTitle"), [("Delta",)])
        self.assertIn("NextToken", page)

    def test_select_without_a_partition_key_scans(self):
        """A full table scan is allowed, as in DynamoDB."""
        self.assertEqual(len(self.select(f'SELECT * FROM "{self.music}"')), 6)
        self.assertEqual(self.titles("Plays > 20"), ["Beta", "Delta"])
        totals = self.select(f'SELECT Total FROM "{self.orders}" WHERE Total BETWEEN 200 AND 400')
        self.assertEqual(sorted(i["Total"] for i in totals), [200, 300, 400])

    def test_projections_and_nested_paths(self):
        items = self.select(
            f'SELECT SongTitle, Info.Label, Info.Chart[1], Tags[0], "Year", Absent '
            f'FROM "{self.music}" WHERE Artist = \'Acme\' AND SongTitle = \'Alpha\'')
        self.assertEqual(items, [{"SongTitle": "Alpha", "Label": "X", "Chart[1]": 1,
                                  "Tags[0]": "a", "Year": 2001}])
        # An item without the projected attributes is an empty row.
        items = self.select(f'SELECT Absent FROM "{self.music}" WHERE Artist = \'Cyan\'')
        self.assertEqual(items, [{}])

    def test_comparison_operators(self):
        self.assertEqual(self.titles("Artist = 'Acme' AND Plays = 25"), ["Beta"])
        self.assertEqual(self.titles("Artist = 'Acme' AND Plays <> 25"), ["Alpha", "Gamma"])
        self.assertEqual(self.titles("Artist = 'Acme' AND Plays < 10"), ["Gamma"])
        self.assertEqual(self.titles("Artist = 'Acme' AND Plays <= 10"), ["Alpha", "Gamma"])
        self.assertEqual(self.titles("Artist = 'Acme' AND Plays > 10"), ["Beta"])
        self.assertEqual(self.titles("Artist = 'Acme' AND Plays >= 10"), ["Alpha", "Beta"])
        self.assertEqual(self.titles("Year BETWEEN 2005 AND 2011"),
                         ["Beta", "Delta", "Epsilon"])
        self.assertEqual(self.titles("Genre IN ['jazz', 'pop']"), ["Beta", "Delta", "Zeta"])
        self.assertEqual(self.titles("Artist = 'Acme' AND SongTitle > 'Alpha'"),
                         ["Beta", "Gamma"])
        # Different types never compare equal.
        self.assertEqual(self.titles("Plays = '25'"), [])

    def test_missing_null_and_types(self):
        self.assertEqual(self.titles("Plays IS MISSING"), ["Epsilon"])
        self.assertEqual(self.titles("Artist = 'Bolt' AND Plays IS NOT MISSING"), ["Delta"])
        self.assertEqual(self.titles("Nothing IS NULL"), ["Alpha"])
        self.assertEqual(self.titles("Live IS BOOLEAN AND Info IS TUPLE AND Tags IS LIST"),
                         ["Alpha"])
        self.assertEqual(self.titles("attribute_type(Members, 'SS')"), ["Alpha"])

    def test_functions(self):
        self.assertEqual(self.titles("begins_with(SongTitle, 'E')"), ["Epsilon"])
        self.assertEqual(self.titles("contains(Tags, 'c')"), ["Beta"])
        self.assertEqual(self.titles("contains(SongTitle, 'ta')"), ["Beta", "Delta", "Zeta"])
        self.assertEqual(self.titles("size(Tags) = 2"), ["Alpha"])
        self.assertEqual(self.titles("size(SongTitle) > 5"), ["Epsilon"])
        self.assertEqual(self.titles("Artist = 'Acme' AND begins_with(SongTitle, 'B')"),
                         ["Beta"])

    def test_logical_operators(self):
        self.assertEqual(self.titles("Genre = 'rock' AND NOT Artist = 'Acme'"), ["Epsilon"])
        self.assertEqual(self.titles("(Genre = 'jazz' OR Plays < 6) AND Year > 2000"),
                         ["Delta", "Zeta"])
        self.assertEqual(self.titles("NOT (Genre = 'rock' OR Genre = 'pop')"), ["Delta"])
        self.assertEqual(self.titles("Genre NOT IN ['rock', 'pop']"), ["Delta"])
        self.assertEqual(self.titles("Year NOT BETWEEN 2000 AND 2015"), ["Gamma", "Zeta"])

    def test_partition_key_in_and_or_query_each_partition(self):
        items = self.select(f'SELECT * FROM "{self.music}" WHERE Artist IN [\'Cyan\', \'Bolt\']')
        self.assertEqual(self.keys(items, "Artist", "SongTitle"),
                         [("Cyan", "Zeta"), ("Bolt", "Delta"), ("Bolt", "Epsilon")])
        items = self.select(f'SELECT Artist FROM "{self.music}" '
                            f"WHERE Artist = 'Cyan' OR Artist = 'Acme' AND Plays > 20")
        self.assertEqual(sorted(self.keys(items, "Artist")), [("Acme",), ("Cyan",)])

    def test_order_by(self):
        items = self.select(f'SELECT SongTitle FROM "{self.music}" '
                            f"WHERE Artist = 'Acme' ORDER BY SongTitle DESC")
        self.assertEqual([i["SongTitle"] for i in items], ["Gamma", "Beta", "Alpha"])
        items = self.select(f'SELECT Artist, SongTitle FROM "{self.music}" '
                            f"WHERE Artist IN ['Acme', 'Cyan', 'Bolt'] ORDER BY Artist DESC")
        self.assertEqual([i["Artist"] for i in items],
                         ["Cyan", "Bolt", "Bolt", "Acme", "Acme", "Acme"])
        with self.assertValidationError("Variable reference Plays in ORDER BY clause "
                                        "must be part of the primary key"):
            self.run_sql(f'SELECT * FROM "{self.music}" WHERE Artist = \'Acme\' ORDER BY Plays')
        with self.assertValidationError(
                "Must have at least one non-optional hash key condition in WHERE clause "
                "when using ORDER BY clause."):
            self.run_sql(f'SELECT * FROM "{self.music}" WHERE Plays > 1 ORDER BY SongTitle')

    def test_limit_and_next_token_page_through_everything(self):
        for statement in [f'SELECT * FROM "{self.orders}"',
                          f'SELECT * FROM "{self.music}" WHERE Artist IN [\'Acme\', \'Bolt\']']:
            everything = self.select(statement)
            paged, token, pages = [], None, 0
            while True:
                kw = {"Limit": 2}
                if token:
                    kw["NextToken"] = token
                page = self.run_sql(statement, **kw)
                self.assertLessEqual(len(page["Items"]), 2)
                paged.extend(rows(page))
                pages += 1
                token = page.get("NextToken")
                if not token:
                    break
                self.assertIn("LastEvaluatedKey", page)
            self.assertEqual(paged, everything)
            self.assertGreater(pages, 2)

    def test_next_token_belongs_to_its_statement(self):
        token = self.run_sql(f'SELECT * FROM "{self.orders}"', Limit=1)["NextToken"]
        with self.assertValidationError("NextToken does not match request"):
            self.run_sql(f'SELECT * FROM "{self.orders}" WHERE Total > 0', NextToken=token)
        with self.assertValidationError("Invalid NextToken"):
            self.run_sql(f'SELECT * FROM "{self.orders}"', NextToken="bm90IGEgdG9rZW4=")

    def test_consistent_read_and_consumed_capacity(self):
        statement = f'SELECT * FROM "{self.orders}" WHERE OrderID = 3'
        eventual = self.run_sql(statement, ReturnConsumedCapacity="TOTAL")
        consistent = self.run_sql(statement, ReturnConsumedCapacity="TOTAL",
                                  ConsistentRead=True)
        self.assertEqual(eventual["ConsumedCapacity"],
                         {"TableName": self.orders, "CapacityUnits": 0.5,
                          "ReadCapacityUnits": 0.5})
        self.assertEqual(consistent["ConsumedCapacity"]["CapacityUnits"], 1.0)
        self.assertNotIn("ConsumedCapacity", self.run_sql(statement))

    def test_global_secondary_index(self):
        items = self.select(f'SELECT * FROM "{self.music}"."by_genre" WHERE Genre = \'rock\'')
        # The index's order (Year) and its projection (keys and Plays).
        self.assertEqual([(i["SongTitle"], i["Year"]) for i in items],
                         [("Gamma", 1999), ("Alpha", 2001), ("Epsilon", 2011)])
        self.assertEqual(set(items[0]), {"Artist", "SongTitle", "Genre", "Year", "Plays"})
        page = self.run_sql(f'SELECT Plays FROM "{self.music}"."by_genre" '
                            f"WHERE Genre = 'pop' AND Year > 2010",
                            ReturnConsumedCapacity="INDEXES")
        self.assertEqual(rows(page), [{"Plays": 1}])
        self.assertIn("by_genre", page["ConsumedCapacity"]["GlobalSecondaryIndexes"])
        with self.assertValidationError(
                "Strongly consistent read is not supported on Global Secondary Indexes"):
            self.run_sql(f'SELECT * FROM "{self.music}"."by_genre" WHERE Genre = \'pop\'',
                         ConsistentRead=True)
        with self.assertValidationError(
                "One or more parameter values were invalid: Secondary index by_genre does "
                "not project one or more filter attributes: [Tags]"):
            self.run_sql(f'SELECT Artist FROM "{self.music}"."by_genre" '
                         f"WHERE Genre = 'pop' AND size(Tags) > 0")
        with self.assertValidationError(
                "One or more parameter values were invalid: Global secondary index "
                "by_genre does not project [Info]"):
            self.run_sql(f'SELECT Info FROM "{self.music}"."by_genre" WHERE Genre = \'pop\'')

    def test_local_secondary_index(self):
        items = self.select(f'SELECT * FROM "{self.music}"."by_year" '
                            f"WHERE Artist = 'Acme' AND Year >= 2001")
        self.assertEqual(items, [{"Artist": "Acme", "SongTitle": "Alpha", "Year": 2001},
                                 {"Artist": "Acme", "SongTitle": "Beta", "Year": 2005}])
        with self.assertValidationError("The table does not have the specified index"):
            self.run_sql(f'SELECT * FROM "{self.music}"."nope" WHERE Artist = \'Acme\'')

    def test_parameters(self):
        items = self.select(f'SELECT SongTitle FROM "{self.music}" '
                            f"WHERE Artist = ? AND Plays BETWEEN ? AND ? AND Genre IN [?, 'x']",
                            "Acme", 5, 10, "rock")
        self.assertEqual(sorted(i["SongTitle"] for i in items), ["Alpha", "Gamma"])
        with self.assertValidationError(
                "Number of parameters in request and statement don't match."):
            self.run_sql(f'SELECT * FROM "{self.music}" WHERE Artist = ?', "a", "b")

    def test_read_errors(self):
        with self.assertDynamoError("ResourceNotFoundException",
                                    "Requested resource not found"):
            self.run_sql("SELECT * FROM \"no-such-table\" WHERE pk = 'x'")
        with self.assertValidationError(
                "Key attribute's data type should match its data type in table's "
                "schema: Key Artist"):
            self.run_sql(f'SELECT * FROM "{self.music}" WHERE Artist = 1 OR Artist = \'x\'')
        with self.assertValidationError(
                "Overlapping conditions with range keys are not supported in where clause"):
            self.run_sql(f'SELECT * FROM "{self.music}" WHERE Artist IN [\'a\', \'a\']')
        with self.assertValidationError(
                "Incorrect operand type for operator or function; operator or function: <, "
                "operand type: BOOL"):
            self.run_sql(f'SELECT * FROM "{self.music}" WHERE Plays < ?', True)


class WriteTest(PartiqlTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(("pk", "S"), ("sk", "N"))

    def test_insert_all_literal_types(self):
        self.run_sql(
            f"INSERT INTO \"{self.table}\" VALUE {{'pk': 'lit', 'sk': 1, 's': 'it''s', "
            f"'n': -1.50e1, 'b': true, 'z': null, 'l': [1, 'a', [false]], "
            f"'m': {{'k': {{'deep': 2}}}}, 'ss': <<'x', 'y'>>, 'ns': <<1, 2.5>>}}")
        self.assertItem(self.table, {"pk": "lit", "sk": 1}, {
            "pk": "lit", "sk": 1, "s": "it's", "n": -15, "b": True, "z": None,
            "l": [1, "a", [False]], "m": {"k": {"deep": 2}}, "ss": {"x", "y"},
            "ns": {1, py({"N": "2.5"})}})

    def test_insert_with_parameters_and_duplicate(self):
        statement = f'INSERT INTO "{self.table}" VALUE {{\'pk\': ?, \'sk\': ?, \'v\': ?}}'
        response = self.run_sql(statement, "dup", 1, {"a": [1]})
        self.assertEqual(response["Items"], [])
        self.assertItem(self.table, {"pk": "dup", "sk": 1},
                        {"pk": "dup", "sk": 1, "v": {"a": [1]}})
        with self.assertDynamoError("DuplicateItemException",
                                    "Duplicate primary key exists in table"):
            self.run_sql(statement, "dup", 1, "other")
        self.assertEqual(self.get(self.table, {"pk": "dup", "sk": 1})["v"], {"a": [1]})

    def test_insert_errors(self):
        with self.assertValidationError(
                "One or more parameter values were invalid: Missing the key sk in the item"):
            self.run_sql(f"INSERT INTO \"{self.table}\" VALUE {{'pk': 'x'}}")
        with self.assertValidationError("RETURNING is not supported in INSERT"):
            self.run_sql(f"INSERT INTO \"{self.table}\" VALUE {{'pk': 'x', 'sk': 1}} "
                         f"RETURNING ALL OLD *")

    def test_update_set_remove_and_functions(self):
        self.put(self.table, {"pk": "u", "sk": 1, "n": 5, "l": [1], "ss": {"a", "b"},
                              "gone": "x", "m": {}})
        self.run_sql(
            f'UPDATE "{self.table}" SET n = n + 10 SET l = list_append(l, [2, 3]), '
            f"ss = set_add(ss, <<'c'>>) SET m.k = 'v' REMOVE gone "
            f"WHERE pk = 'u' AND sk = 1")
        self.assertItem(self.table, {"pk": "u", "sk": 1},
                        {"pk": "u", "sk": 1, "n": 15, "l": [1, 2, 3],
                         "ss": {"a", "b", "c"}, "m": {"k": "v"}})
        self.run_sql(f"UPDATE \"{self.table}\" SET ss = set_delete(ss, <<'a'>>), n = n - 1 "
                     f"WHERE pk = 'u' AND sk = 1")
        item = self.get(self.table, {"pk": "u", "sk": 1})
        self.assertEqual((item["ss"], item["n"]), ({"b", "c"}, 14))

    def test_update_returning(self):
        self.put(self.table, {"pk": "r", "sk": 1, "a": "old", "keep": 1,
                              "tags": ["x", "y", "z"]})
        where = "WHERE pk = 'r' AND sk = 1"
        response = self.run_sql(f"UPDATE \"{self.table}\" SET a = 'new' {where} "
                                f"RETURNING ALL OLD *")
        self.assertEqual(rows(response), [{"pk": "r", "sk": 1, "a": "old", "keep": 1,
                                           "tags": ["x", "y", "z"]}])
        response = self.run_sql(f"UPDATE \"{self.table}\" SET a = 'newer' {where} "
                                f"RETURNING MODIFIED OLD *")
        self.assertEqual(rows(response), [{"a": "new"}])
        response = self.run_sql(f"UPDATE \"{self.table}\" SET tags[2] = 'w', tags[0] = 'v' "
                                f"{where} RETURNING MODIFIED NEW *")
        self.assertEqual(rows(response), [{"tags": ["v", "w"]}])
        response = self.run_sql(f"UPDATE \"{self.table}\" SET b = 1 {where} "
                                f"RETURNING ALL NEW *")
        self.assertEqual(rows(response)[0]["b"], 1)
        # An empty MODIFIED projection is no row at all.
        response = self.run_sql(f"UPDATE \"{self.table}\" REMOVE b {where} "
                                f"RETURNING MODIFIED NEW *")
        self.assertEqual(response["Items"], [])

    def test_update_needs_the_item_and_its_condition(self):
        self.put(self.table, {"pk": "c", "sk": 1, "v": 1})
        with self.assertConditionFailed():
            self.run_sql(f"UPDATE \"{self.table}\" SET v = 2 WHERE pk = 'absent' AND sk = 1")
        self.assertIsNone(self.get(self.table, {"pk": "absent", "sk": 1}))
        with self.assertConditionFailed() as cm:
            self.run_sql(f"UPDATE \"{self.table}\" SET v = 2 WHERE pk = 'c' AND sk = 1 AND v = 9",
                         ReturnValuesOnConditionCheckFailure="ALL_OLD")
        self.assertEqual(item_py(cm.exception.response["Item"]), {"pk": "c", "sk": 1, "v": 1})
        self.run_sql(f"UPDATE \"{self.table}\" SET v = 2 WHERE (pk = 'c' AND sk = 1) AND v = 1")
        self.assertEqual(self.get(self.table, {"pk": "c", "sk": 1})["v"], 2)

    def test_delete(self):
        self.put(self.table, {"pk": "d", "sk": 1, "v": "x"})
        with self.assertConditionFailed():
            self.run_sql(f"DELETE FROM \"{self.table}\" WHERE pk = 'd' AND sk = 1 AND v = 'y'")
        response = self.run_sql(f"DELETE FROM \"{self.table}\" WHERE pk = 'd' AND sk = 1 "
                                f"AND v = 'x' RETURNING ALL OLD *")
        self.assertEqual(rows(response), [{"pk": "d", "sk": 1, "v": "x"}])
        self.assertIsNone(self.get(self.table, {"pk": "d", "sk": 1}))
        # Deleting a missing item succeeds, with or without a condition.
        for extra in ["", " AND v = 'x'"]:
            response = self.run_sql(f"DELETE FROM \"{self.table}\" WHERE pk = 'd' AND sk = 1"
                                    f"{extra} RETURNING ALL OLD *")
            self.assertEqual(response["Items"], [])

    def test_write_errors(self):
        t = f'"{self.table}"'
        cases = [
            (f"UPDATE {t} SET v = 1 WHERE pk = 'a'",
             "Where clause does not contain a mandatory equality on all key attributes"),
            (f"DELETE FROM {t} WHERE v = 1",
             "Where clause does not contain a mandatory equality on all key attributes"),
            (f"UPDATE {t} SET v = 1",
             "Where clause does not contain a mandatory equality on all key attributes"),
            (f"UPDATE {t} SET v = 1 WHERE pk = 'a' AND sk = 1 AND pk = 'b'",
             "Multiple conditions on same key pk. Only single item Update/Insert/Delete "
             "are supported"),
            (f"DELETE FROM {t} WHERE pk = 'a' AND sk = '1'",
             "Key attribute's data type should match its data type in table's schema: "
             "Key sk"),
            (f"DELETE FROM {t} WHERE pk = 'a' AND sk = 1 RETURNING ALL NEW *",
             "Invalid returning clause: RETURNING ALL NEW *. Only RETURNING ALL OLD * is "
             "allowed in DELETE statements."),
            (f"UPDATE {t} SET sk = 2 WHERE pk = 'a' AND sk = 1",
             "One or more parameter values were invalid: Cannot update attribute sk. This "
             "attribute is part of the key"),
            (f"UPDATE {t} SET v = set_add(v, 'x') WHERE pk = 'a' AND sk = 1",
             "The second argument to SET_ADD must be a value with type SET at 1:"
             f"{len('UPDATE ' + t + ' SET v = set_add(') + 1}:1"),
        ]
        for statement, message in cases:
            with self.subTest(statement=statement):
                with self.assertValidationError(message):
                    self.run_sql(statement)

    def test_write_capacity(self):
        response = self.run_sql(f"INSERT INTO \"{self.table}\" VALUE {{'pk': 'cap', 'sk': 1}}",
                                ReturnConsumedCapacity="TOTAL")
        self.assertEqual(response["ConsumedCapacity"],
                         {"TableName": self.table, "CapacityUnits": 1.0,
                          "WriteCapacityUnits": 1.0})


class ErrorTest(PartiqlTestCase):
    """Statements DynamoDB refuses, with its messages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(("pk", "S"))

    def test_syntax_errors(self):
        t = f'"{self.table}"'
        cases = [
            (f"SLECT * FROM {t}", "Expected data manipulation"),
            (f"SELECT * FROM {t} WHERE", "Unexpected term"),
            (f"SELECT * FROM {t} WHERE NOT", "Unexpected term"),
            ("SELECT * FROM", "Unexpected term"),
            (f"SELECT * FROM {t} WHERE ORDER BY pk", "Unexpected keyword"),
            (f"SELECT * FROM {t} WHERE IS NULL", "Unexpected operator"),
            (f"SELECT * FROM {t} WHERE pk = 'a' AND",
             "Missing right-hand side expression of infix operator"),
            (f"SELECT * FROM {t} WHERE pk = 'a' foo", "Unexpected token after expression"),
            (f"DELETE FROM {t} WHERE pk = 'a' ORDER BY pk", "Unexpected token after expression"),
            ("DELETE FROM WHERE pk = 'a'", "Expected identifier for simple path"),
            (f"SELECT * FROM {t} WHERE pk = 'a' AND x IS FOO", "Expected type name"),
            (f"SELECT * FROM {t} WHERE pk = 'a' # comment", ""),
            (f"SELECT * FROM {t} WHERE pk = 'a", ""),
        ]
        for statement, detail in cases:
            with self.subTest(statement=statement):
                with self.assertValidationError(NOT_WELL_FORMED + detail):
                    self.run_sql(statement)

    def test_refused_statements(self):
        t = f'"{self.table}"'
        cases = [
            (f"SELECT * FROM {t} x WHERE pk = 'a'", "Aliasing is not supported"),
            (f"SELECT * FROM {t}.\"a\".\"b\"",
             "A path may contain at most 2 components in the FROM clause"),
            (f"SELECT * FROM {t}.\"\"", "Path component cannot be an empty string"),
            (f"SELECT *, pk FROM {t}",
             "Other attributes should not be present in the projection when '*' is used."),
            (f"INSERT INTO {t} VALUES ({{'pk': 'a'}})",
             "Unsupported operation: Inserting multiple items in a single statement is not "
             "supported, use \"INSERT INTO tableName VALUE item\" instead"),
            (f"INSERT INTO {t} VALUE {{'pk': 'a', 'pk': 'b'}}",
             "Duplicate keys in tuple. Key: pk under root"),
            (f"EXISTS(SELECT * FROM {t} WHERE pk = 'a' AND v = 1)",
             "EXISTS can only be used in ExecuteTransaction write requests."),
            (f"SELECT * FROM {t} WHERE v = MISSING", "MISSING must be compared using IS operator"),
            (f"UPDATE {t} SET v = 1e126 WHERE pk = 'a'",
             "Number overflow. Attempting to store a number with magnitude larger than "
             "supported range under root"),
            (f"UPDATE {t} SET v = <<'a', 'a'>> WHERE pk = 'a'",
             "One or more parameter values were invalid: Input collection [a, a] contains "
             "duplicates."),
        ]
        for statement, message in cases:
            with self.subTest(statement=statement):
                with self.assertValidationError(message):
                    self.run_sql(statement)

    def test_request_constraints(self):
        with self.assertValidationError(
                "1 validation error detected: Value '' at 'statement' failed to satisfy "
                "constraint: Member must have length greater than or equal to 1"):
            self.ddb.execute_statement(Statement="")
        with self.assertValidationError(
                "2 validation errors detected: Value '0' at 'limit' failed to satisfy "
                "constraint: Member must have value greater than or equal to 1; Value 'BAD' "
                "at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: "
                "Member must satisfy enum value set: [ALL_OLD, NONE]"):
            self.ddb.execute_statement(Statement=f"SELECT * FROM \"{self.table}\"", Limit=0,
                                       ReturnValuesOnConditionCheckFailure="BAD")
        with self.assertValidationError(regex="Member must have length less than or equal "
                                              "to 8192"):
            self.ddb.execute_statement(Statement="SELECT * FROM t WHERE a = '" + "x" * 8200 + "'")
        # A malformed parameter is refused before the statement is read.
        with self.assertValidationError(
                "One or more parameter values were invalid: An string set  may not be empty"):
            self.ddb.execute_statement(Statement="SELECT WHERE", Parameters=[{"SS": []}])


class StreamRecordTest(StreamTestCase):
    """PartiQL writes go through the same write path: same stream records."""

    def test_statement_writes_produce_records(self):
        table = self.create_stream_table()
        arn = self.stream_arn(table)
        sql = self.ddb.execute_statement
        sql(Statement=f"INSERT INTO \"{table}\" VALUE {{'p': 'k', 'v': 1}}")
        sql(Statement=f"UPDATE \"{table}\" SET v = v + 1 WHERE p = 'k'")
        sql(Statement=f"UPDATE \"{table}\" SET v = 2 WHERE p = 'k'")  # No change: no record.
        with self.assertRaises(ClientError):  # A refused write: no record.
            sql(Statement=f"INSERT INTO \"{table}\" VALUE {{'p': 'k'}}")
        sql(Statement=f"DELETE FROM \"{table}\" WHERE p = 'k'")
        sql(Statement=f"DELETE FROM \"{table}\" WHERE p = 'k'")  # Nothing to delete.
        records = self.records_of(arn, {"p": "k"})
        self.assertEqual(self.events(records), ["INSERT", "MODIFY", "REMOVE"])
        self.assertEqual(self.images(records[0]), ({"p": "k", "v": 1}, None))
        self.assertEqual(self.images(records[1]), ({"p": "k", "v": 2}, {"p": "k", "v": 1}))
        self.assertEqual(self.images(records[2]), (None, {"p": "k", "v": 2}))

    def test_batch_and_transaction_writes_produce_records(self):
        table = self.create_stream_table()
        arn = self.stream_arn(table)
        self.ddb.batch_execute_statement(Statements=[
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'p': 'b1'}}"},
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'p': 'b2'}}"}])
        self.ddb.execute_transaction(TransactStatements=[
            {"Statement": f"UPDATE \"{table}\" SET t = 1 WHERE p = 'b1'"},
            {"Statement": f"DELETE FROM \"{table}\" WHERE p = 'b2'"}])
        self.assertEqual(self.events(self.records_of(arn, {"p": "b1"})), ["INSERT", "MODIFY"])
        self.assertEqual(self.events(self.records_of(arn, {"p": "b2"})), ["INSERT", "REMOVE"])


class BatchTest(PartiqlTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(("pk", "S"), ("sk", "N"))

    def batch(self, *statements, **kw):
        members = []
        for s in statements:
            if isinstance(s, str):
                members.append({"Statement": s})
            else:
                statement, *parameters = s
                members.append({"Statement": statement,
                                "Parameters": [av(p) for p in parameters]})
        return self.ddb.batch_execute_statement(Statements=members, **kw)

    def test_reads(self):
        self.put(self.table, {"pk": "r", "sk": 1, "v": "one"})
        self.put(self.table, {"pk": "r", "sk": 2, "v": "two"})
        t = f'"{self.table}"'
        response = self.batch(
            (f"SELECT v FROM {t} WHERE pk = ? AND sk = ?", "r", 2),
            f"SELECT * FROM {t} WHERE pk = 'r' AND sk = 1",
            f"SELECT * FROM {t} WHERE pk = 'r' AND sk = 9",
            ReturnConsumedCapacity="TOTAL")
        r = response["Responses"]
        self.assertEqual(item_py(r[0]["Item"]), {"v": "two"})
        self.assertEqual(item_py(r[1]["Item"]), {"pk": "r", "sk": 1, "v": "one"})
        self.assertEqual(r[2], {"TableName": self.table})
        self.assertEqual(r[0]["TableName"], self.table)
        self.assertEqual(response["ConsumedCapacity"],
                         [{"TableName": self.table, "CapacityUnits": 1.5,
                           "ReadCapacityUnits": 1.5}])

    def test_writes_run_one_by_one(self):
        self.put(self.table, {"pk": "w", "sk": 1, "n": 1})
        self.put(self.table, {"pk": "w", "sk": 3})
        t = f'"{self.table}"'
        response = self.batch(
            f"INSERT INTO {t} VALUE {{'pk': 'w', 'sk': 2}}",
            f"UPDATE {t} SET n = n + 1 WHERE pk = 'w' AND sk = 1 RETURNING ALL NEW *",
            f"DELETE FROM {t} WHERE pk = 'w' AND sk = 3",
            f"INSERT INTO {t} VALUE {{'pk': 'w', 'sk': 1}}",
            f"UPDATE {t} SET n = 5 WHERE pk = 'w' AND sk = 1 AND n = 0",
            ReturnConsumedCapacity="TOTAL")
        r = response["Responses"]
        self.assertEqual(r[0], {"TableName": self.table})
        self.assertEqual(item_py(r[1]["Item"]), {"pk": "w", "sk": 1, "n": 2})
        self.assertEqual(r[2], {"TableName": self.table})
        self.assertEqual(r[3], {"TableName": self.table, "Error": {
            "Code": "DuplicateItem", "Message": "Duplicate primary key exists in table"}})
        self.assertEqual(r[4], {"TableName": self.table, "Error": {
            "Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}})
        self.assertIsNotNone(self.get(self.table, {"pk": "w", "sk": 2}))
        self.assertIsNone(self.get(self.table, {"pk": "w", "sk": 3}))
        self.assertEqual(self.get(self.table, {"pk": "w", "sk": 1})["n"], 2)
        self.assertEqual(response["ConsumedCapacity"][0]["WriteCapacityUnits"], 3.0)

    def test_each_statement_fails_on_its_own(self):
        self.put(self.table, {"pk": "e", "sk": 1})
        t = f'"{self.table}"'
        r = self.batch(
            f"SLECT * FROM {t}",
            f"SELECT * FROM {t} WHERE pk = 'e'",
            "SELECT * FROM \"no-such-table\" WHERE pk = 'e' AND sk = 1",
            f"SELECT * FROM {t} WHERE pk = 'e' AND sk = 1",
            f"EXISTS(SELECT * FROM {t} WHERE pk = 'e' AND sk = 1 AND x = 1)",
        )["Responses"]
        self.assertEqual(r[0], {"Error": {"Code": "ValidationError", "Message":
                                          NOT_WELL_FORMED + "Expected data manipulation"}})
        self.assertEqual(r[1], {"Error": {
            "Code": "ValidationError",
            "Message": "Select statements within BatchExecuteStatement must specify the "
                       "primary key in the where clause."}})
        self.assertEqual(r[2], {"Error": {"Code": "ResourceNotFound",
                                          "Message": "Requested resource not found"}})
        self.assertEqual(item_py(r[3]["Item"]), {"pk": "e", "sk": 1})
        self.assertEqual(r[4]["Error"]["Message"],
                         "EXISTS can only be used in ExecuteTransaction write requests.")

    def test_request_errors(self):
        t = f'"{self.table}"'
        with self.assertValidationError(
                "The entire batch must consist of either read statements or write "
                "statements, you cannot mix both in one batch."):
            self.batch(f"SELECT * FROM {t} WHERE pk = 'a' AND sk = 1",
                       f"DELETE FROM {t} WHERE pk = 'a' AND sk = 1")
        with self.assertValidationError(
                "1 validation error detected: Value '[]' at 'statements' failed to satisfy "
                "constraint: Member must have length greater than or equal to 1"):
            self.batch()
        with self.assertValidationError(regex="at 'statements' failed to satisfy constraint: "
                                              "Member must have length less than or equal to 25"):
            self.batch(*[f"SELECT * FROM {t} WHERE pk = 'a' AND sk = {i}" for i in range(26)])
        with self.assertValidationError(
                "1 validation error detected: Value null at 'statements.2.member.statement' "
                "failed to satisfy constraint: Member must not be null"):
            self.ddb.batch_execute_statement(Statements=[{"Statement": "x"}, {}])


class TransactionTest(PartiqlTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(("pk", "S"), ("sk", "N"))
        cls.gsi_table = cls.unique_name("gsi")
        cls.ddb.create_table(
            TableName=cls.gsi_table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{"IndexName": "by_g",
                                     "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                     "Projection": {"ProjectionType": "ALL"}}])
        cls._class_tables.append(cls.gsi_table)
        cls.wait_for_status(cls.gsi_table, "ACTIVE")

    def transact(self, *statements, **kw):
        members = []
        for s in statements:
            if isinstance(s, dict):
                members.append(s)
            else:
                members.append({"Statement": s})
        return self.ddb.execute_transaction(TransactStatements=members, **kw)

    def cancelled(self, codes):
        message = ("Transaction cancelled, please refer cancellation reasons for specific "
                   f"reasons [{', '.join(codes)}]")
        return self.assertDynamoError("TransactionCanceledException", message)

    def test_writes_commit_together(self):
        self.put(self.table, {"pk": "t", "sk": 1, "n": 1, "flag": "on"})
        self.put(self.table, {"pk": "t", "sk": 2})
        t = f'"{self.table}"'
        response = self.transact(
            f"EXISTS(SELECT * FROM {t} WHERE pk = 't' AND sk = 1 AND flag = 'on')",
            f"INSERT INTO {t} VALUE {{'pk': 't', 'sk': 3}}",
            f"DELETE FROM {t} WHERE pk = 't' AND sk = 2",
            ReturnConsumedCapacity="TOTAL")
        self.assertNotIn("Responses", response)
        self.assertEqual(response["ConsumedCapacity"][0]["TableName"], self.table)
        self.assertIsNotNone(self.get(self.table, {"pk": "t", "sk": 3}))
        self.assertIsNone(self.get(self.table, {"pk": "t", "sk": 2}))

    def test_one_failure_cancels_everything(self):
        self.put(self.table, {"pk": "c", "sk": 1, "n": 1})
        self.put(self.table, {"pk": "c", "sk": 2})
        t = f'"{self.table}"'
        with self.cancelled(["None", "ConditionalCheckFailed", "ValidationError",
                             "ConditionalCheckFailed"]) as cm:
            self.transact(
                f"INSERT INTO {t} VALUE {{'pk': 'c', 'sk': 9}}",
                {"Statement": f"UPDATE {t} SET n = 2 WHERE pk = 'c' AND sk = 1 AND n = 5",
                 "ReturnValuesOnConditionCheckFailure": "ALL_OLD"},
                f"INSERT INTO {t} VALUE {{'pk': 'c', 'sk': 2}}",
                f"EXISTS(SELECT * FROM {t} WHERE pk = 'c' AND sk = 3 AND n = 1)")
        reasons = cm.exception.response["CancellationReasons"]
        self.assertEqual(item_py(reasons[1]["Item"]), {"pk": "c", "sk": 1, "n": 1})
        self.assertEqual(reasons[2]["Message"], "Duplicate primary key exists in table")
        self.assertIsNone(self.get(self.table, {"pk": "c", "sk": 9}))
        self.assertEqual(self.get(self.table, {"pk": "c", "sk": 1})["n"], 1)

    def test_reads(self):
        self.put(self.table, {"pk": "r", "sk": 1, "v": "a"})
        t = f'"{self.table}"'
        response = self.transact(
            f"SELECT v FROM {t} WHERE pk = 'r' AND sk = 1",
            {"Statement": f"SELECT * FROM {t} WHERE pk = ? AND sk = ?",
             "Parameters": [{"S": "r"}, {"N": "2"}]},
            ReturnConsumedCapacity="TOTAL")
        self.assertEqual(response["Responses"], [{"Item": {"v": {"S": "a"}}}, {}])
        self.assertEqual(response["ConsumedCapacity"],
                         [{"TableName": self.table, "CapacityUnits": 4.0,
                           "ReadCapacityUnits": 4.0}])

    def test_validation_errors_name_the_statement(self):
        t = f'"{self.table}"'
        ok = f"SELECT * FROM {t} WHERE pk = 'a' AND sk = 1"
        cases = [
            ([ok, f"SELEC * FROM {t}"], 1, NOT_WELL_FORMED + "Expected data manipulation"),
            ([f"UPDATE {t} SET v = 1 WHERE pk = 'a' AND sk = 1 RETURNING ALL NEW *"], 0,
             "RETURNING clause is not supported in ExecuteTransaction."),
            ([f'SELECT * FROM "{self.gsi_table}"."by_g" WHERE g = \'x\''], 0,
             "Reads on indices are not supported within transactions."),
            ([f"SELECT * FROM {t} WHERE pk = 'a' AND sk = 1 AND v = 1"], 0,
             "Select statements within ExecuteTransaction must specify the primary key in "
             "the where clause."),
            ([f"EXISTS(SELECT * FROM {t} WHERE pk = 'a' AND sk = 1)",
              f"DELETE FROM {t} WHERE pk = 'b' AND sk = 1"], 0,
             "EXISTS() must contain a single item read with additional condition"),
        ]
        for statements, index, message in cases:
            with self.subTest(statements=statements):
                with self.assertValidationError(
                        f"Validation failed in TransactStatements[{index}]: {message}"):
                    self.transact(*statements)

    def test_statements_that_name_no_item_cancel(self):
        t = f'"{self.table}"'
        with self.cancelled(["ResourceNotFound", "ValidationError", "ValidationError",
                             "None"]) as cm:
            self.transact(
                "DELETE FROM \"no-such-table\" WHERE pk = 'a'",
                f"UPDATE {t} SET v = 1 WHERE pk = 'a'",
                f"INSERT INTO {t} VALUE {{'pk': 'a'}}",
                f"DELETE FROM {t} WHERE pk = 'a' AND sk = 1")
        reasons = cm.exception.response["CancellationReasons"]
        self.assertEqual(reasons[0]["Message"], "Requested resource not found")
        self.assertEqual(reasons[1]["Message"],
                         "The provided key element does not match the schema")
        self.assertEqual(reasons[2]["Message"],
                         "One or more parameter values were invalid: Missing the key sk in "
                         "the item")
        self.assertNotIn("Message", reasons[3])

    def test_one_item_once(self):
        t = f'"{self.table}"'
        read = f"SELECT * FROM {t} WHERE pk = 'o' AND sk = 1"
        write = f"UPDATE {t} SET v = 1 WHERE pk = 'o' AND sk = 1"
        for statements in [(read, read), (write, write)]:
            with self.subTest(statements=statements):
                with self.assertValidationError(
                        "Transaction request cannot include multiple operations on one item"):
                    self.transact(*statements)
        with self.assertValidationError(
                "The entire transaction must consist of either read statements or write "
                "statements, you cannot mix both in one transaction."):
            self.transact(read, write)

    def test_client_request_token_is_idempotent(self):
        self.put(self.table, {"pk": "idem", "sk": 1, "n": 0})
        statement = f"UPDATE \"{self.table}\" SET n = n + 1 WHERE pk = 'idem' AND sk = 1"
        self.transact(statement, ClientRequestToken="token-1")
        self.transact(statement, ClientRequestToken="token-1")
        self.assertEqual(self.get(self.table, {"pk": "idem", "sk": 1})["n"], 1)
        with self.assertDynamoError("IdempotentParameterMismatchException"):
            self.transact(statement.replace("n + 1", "n + 2"), ClientRequestToken="token-1")
        self.transact(statement, ClientRequestToken="token-2")
        self.assertEqual(self.get(self.table, {"pk": "idem", "sk": 1})["n"], 2)


class CliTest(PartiqlTestCase):
    """`aws dynamodb execute-statement`, `batch-execute-statement` and
    `execute-transaction`."""

    def aws(self, *args):
        with tempfile.TemporaryDirectory(prefix="eddy-cli-home-") as home:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                   "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                   "AWS_DEFAULT_REGION": REGION, "AWS_DEFAULT_OUTPUT": "json",
                   "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true",
                   "AWS_MAX_ATTEMPTS": "1"}
            done = subprocess.run(["aws", "dynamodb", *args, "--endpoint-url",
                                   self.server.endpoint],
                                  env=env, capture_output=True, text=True, timeout=60)
        return done

    def test_cli_statements(self):
        table = self.create_table(("Artist", "S"), ("SongTitle", "S"))
        done = self.aws("execute-statement", "--statement",
                        f"INSERT INTO \"{table}\" VALUE {{'Artist': ?, 'SongTitle': ?}}",
                        "--parameters", '[{"S": "Acme"}, {"S": "Song"}]')
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout), {"Items": []})

        statements = json.dumps([
            {"Statement": f"UPDATE \"{table}\" SET Plays = 1 "
                          f"WHERE Artist = 'Acme' AND SongTitle = 'Song'"},
            {"Statement": f"INSERT INTO \"{table}\" VALUE {{'Artist': 'Bolt', 'SongTitle': 'X'}}"},
        ])
        done = self.aws("batch-execute-statement", "--statements", statements)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout)["Responses"],
                         [{"TableName": table}, {"TableName": table}])

        transaction = json.dumps([
            {"Statement": f"EXISTS(SELECT * FROM \"{table}\" WHERE Artist = 'Acme' "
                          f"AND SongTitle = 'Song' AND Plays = 1)"},
            {"Statement": f"DELETE FROM \"{table}\" WHERE Artist = 'Bolt' AND SongTitle = 'X'"},
        ])
        done = self.aws("execute-transaction", "--transact-statements", transaction)
        self.assertEqual(done.returncode, 0, done.stderr)

        done = self.aws("execute-statement", "--statement", f"SELECT * FROM \"{table}\"")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(json.loads(done.stdout)["Items"], [
            {"Artist": {"S": "Acme"}, "SongTitle": {"S": "Song"}, "Plays": {"N": "1"}}])

        done = self.aws("execute-statement", "--statement", f"SELECT * FROM \"{table}\" WHERE")
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("ValidationException", done.stderr)
        self.assertIn(NOT_WELL_FORMED + "Unexpected term", done.stderr)


# -- authorization ---------------------------------------------------------------

SELECT_KEY, SELECT_SECRET = "AKIDPQLSELECT000TEST", "select-secret"
OWNER_KEY, OWNER_SECRET = "AKIDPQLOWNER0000TEST", "owner-secret"
TX_KEY, TX_SECRET = "AKIDPQLTXONLY000TEST", "tx-secret"
INDEX_KEY, INDEX_SECRET = "AKIDPQLINDEX0000TEST", "index-secret"
NOSCAN_KEY, NOSCAN_SECRET = "AKIDPQLNOSCAN000TEST", "noscan-secret"


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


TABLE_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/"
ALL_PARTIQL = ["dynamodb:PartiQLSelect", "dynamodb:PartiQLInsert",
               "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"]


class PartiqlAuthTest(unittest.TestCase):
    """IAM's PartiQL actions, checked per statement before anything runs."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="eddy-partiql-auth-")
        identities = [
            ("admin", ACCESS_KEY, SECRET_KEY, ALLOW_ALL),
            ("selector", SELECT_KEY, SELECT_SECRET, policy(
                {"Effect": "Allow", "Action": "dynamodb:PartiQLSelect",
                 "Resource": TABLE_ARN + "Music"})),
            ("owner", OWNER_KEY, OWNER_SECRET, policy(
                {"Effect": "Allow", "Action": ALL_PARTIQL, "Resource": TABLE_ARN + "Games",
                 "Condition": {"ForAllValues:StringEquals":
                               {"dynamodb:LeadingKeys": ["${aws:username}"]}}})),
            ("txonly", TX_KEY, TX_SECRET, policy(
                {"Effect": "Allow", "Action": ALL_PARTIQL, "Resource": TABLE_ARN + "Music",
                 "Condition": {"StringEquals":
                               {"dynamodb:EnclosingOperation": "ExecuteTransaction"}}})),
            ("indexer", INDEX_KEY, INDEX_SECRET, policy(
                {"Effect": "Allow", "Action": "dynamodb:PartiQLSelect",
                 "Resource": TABLE_ARN + "Music/index/*"})),
            # DynamoDB's example: SELECTs allowed, full table scans denied.
            ("noscan", NOSCAN_KEY, NOSCAN_SECRET, policy(
                {"Effect": "Deny", "Action": "dynamodb:PartiQLSelect",
                 "Resource": TABLE_ARN + "Music",
                 "Condition": {"Bool": {"dynamodb:FullTableScan": ["true"]}}},
                {"Effect": "Allow", "Action": "dynamodb:PartiQLSelect",
                 "Resource": TABLE_ARN + "Music"})),
        ]
        path = write_auth_file(os.path.join(cls.dir.name, "auth.json"), identities)
        cls.server = EddyServer(extra_args=("--auth", path))
        cls.server.start()
        admin = cls.server.client()
        admin.create_table(
            TableName="Music", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "Artist", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "Artist", "AttributeType": "S"},
                                  {"AttributeName": "Genre", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "by_genre",
                "KeySchema": [{"AttributeName": "Genre", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}])
        admin.create_table(
            TableName="Games", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "player", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "player", "AttributeType": "S"}])
        admin.put_item(TableName="Music", Item=item_av({"Artist": "Acme", "Genre": "rock"}))
        admin.put_item(TableName="Games", Item=item_av({"player": "owner", "score": 1}))
        admin.put_item(TableName="Games", Item=item_av({"player": "other", "score": 2}))
        cls.admin = admin

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.dir.cleanup()

    def as_(self, key, secret):
        return self.server.client(access_key=key, secret_key=secret)

    def assertDenied(self, identity, action, resource, explicit=False):
        test = self
        why = (" with an explicit deny in an identity-based policy" if explicit else
               f" because no identity-based policy allows the {action} action")

        class Denied:
            def __enter__(self):
                return self

            def __exit__(self, kind, error, tb):
                test.assertIsInstance(error, ClientError)
                e = error.response["Error"]
                test.assertEqual(e["Code"], "AccessDeniedException")
                test.assertEqual(
                    e["Message"],
                    f"User: arn:aws:iam::000000000000:user/{identity} is not authorized to "
                    f"perform: {action} on resource: {resource}{why}")
                return True
        return Denied()

    def test_each_statement_needs_its_action(self):
        selector = self.as_(SELECT_KEY, SELECT_SECRET)
        got = selector.execute_statement(Statement="SELECT * FROM Music WHERE Artist = 'Acme'")
        self.assertEqual(len(got["Items"]), 1)
        with self.assertDenied("selector", "dynamodb:PartiQLInsert", TABLE_ARN + "Music"):
            selector.execute_statement(Statement="INSERT INTO Music VALUE {'Artist': 'x'}")
        with self.assertDenied("selector", "dynamodb:PartiQLUpdate", TABLE_ARN + "Music"):
            selector.execute_statement(Statement="UPDATE Music SET a = 1 WHERE Artist = 'Acme'")
        with self.assertDenied("selector", "dynamodb:PartiQLDelete", TABLE_ARN + "Music"):
            selector.execute_statement(Statement="DELETE FROM Music WHERE Artist = 'Acme'")
        with self.assertDenied("selector", "dynamodb:PartiQLSelect", TABLE_ARN + "Games"):
            selector.execute_statement(Statement="SELECT * FROM Games")
        # An index is its own resource.
        with self.assertDenied("selector", "dynamodb:PartiQLSelect",
                               TABLE_ARN + "Music/index/by_genre"):
            selector.execute_statement(
                Statement="SELECT * FROM \"Music\".\"by_genre\" WHERE Genre = 'rock'")
        indexer = self.as_(INDEX_KEY, INDEX_SECRET)
        got = indexer.execute_statement(
            Statement="SELECT * FROM \"Music\".\"by_genre\" WHERE Genre = 'rock'")
        self.assertEqual(len(got["Items"]), 1)

    def test_one_forbidden_statement_denies_the_whole_request(self):
        selector = self.as_(SELECT_KEY, SELECT_SECRET)
        with self.assertDenied("selector", "dynamodb:PartiQLInsert", TABLE_ARN + "Music"):
            selector.batch_execute_statement(Statements=[
                {"Statement": "SELECT * FROM Music WHERE Artist = 'Acme'"},
                {"Statement": "INSERT INTO Music VALUE {'Artist': 'batch'}"}])
        with self.assertDenied("selector", "dynamodb:PartiQLDelete", TABLE_ARN + "Music"):
            selector.execute_transaction(TransactStatements=[
                {"Statement": "DELETE FROM Music WHERE Artist = 'Acme'"}])
        self.assertIn("Item", self.admin.get_item(TableName="Music",
                                                  Key=item_av({"Artist": "Acme"})))

    def test_leading_keys(self):
        owner = self.as_(OWNER_KEY, OWNER_SECRET)
        got = owner.execute_statement(Statement="SELECT * FROM Games WHERE player = ?",
                                      Parameters=[{"S": "owner"}])
        self.assertEqual(len(got["Items"]), 1)
        owner.execute_statement(Statement="UPDATE Games SET score = 5 WHERE player = 'owner'")
        with self.assertDenied("owner", "dynamodb:PartiQLSelect", TABLE_ARN + "Games"):
            owner.execute_statement(Statement="SELECT * FROM Games WHERE player = 'other'")
        with self.assertDenied("owner", "dynamodb:PartiQLSelect", TABLE_ARN + "Games"):
            owner.execute_statement(Statement="SELECT * FROM Games")  # A scan: every key.
        with self.assertDenied("owner", "dynamodb:PartiQLUpdate", TABLE_ARN + "Games"):
            owner.execute_statement(Statement="UPDATE Games SET score = 0 WHERE player = ?",
                                    Parameters=[{"S": "other"}])
        with self.assertDenied("owner", "dynamodb:PartiQLInsert", TABLE_ARN + "Games"):
            owner.batch_execute_statement(Statements=[
                {"Statement": "INSERT INTO Games VALUE {'player': 'intruder'}"}])
        other = self.admin.get_item(TableName="Games", Key=item_av({"player": "other"}))
        self.assertEqual(item_py(other["Item"])["score"], 2)

    def test_full_table_scan_condition(self):
        noscan = self.as_(NOSCAN_KEY, NOSCAN_SECRET)
        got = noscan.execute_statement(
            Statement="SELECT * FROM Music WHERE Artist = 'Acme' OR Artist = 'x'")
        self.assertEqual(len(got["Items"]), 1)
        with self.assertDenied("noscan", "dynamodb:PartiQLSelect", TABLE_ARN + "Music",
                               explicit=True):
            noscan.execute_statement(Statement="SELECT * FROM Music WHERE Genre = 'rock'")

    def test_enclosing_operation(self):
        tx = self.as_(TX_KEY, TX_SECRET)
        with self.assertDenied("txonly", "dynamodb:PartiQLInsert", TABLE_ARN + "Music"):
            tx.execute_statement(Statement="INSERT INTO Music VALUE {'Artist': 'tx'}")
        tx.execute_transaction(TransactStatements=[
            {"Statement": "INSERT INTO Music VALUE {'Artist': 'tx'}"}])
        self.assertIn("Item", self.admin.get_item(TableName="Music",
                                                  Key=item_av({"Artist": "tx"})))


if __name__ == "__main__":
    unittest.main()
