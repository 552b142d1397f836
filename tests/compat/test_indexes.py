"""Secondary indexes: CreateTable's LocalSecondaryIndexes and
GlobalSecondaryIndexes (with every validation DynamoDB applies), their
DescribeTable shape, UpdateTable's GlobalSecondaryIndexUpdates (create with
backfill, update, delete), Query and Scan with IndexName, projections, sparse
indexes, index maintenance on writes, and a property test comparing index
Queries with equivalent Scans of the table."""

import concurrent.futures
import json
import random
import time
import unittest

from botocore.exceptions import ClientError

from eddy_server import (ACCOUNT_ID, REGION, EddyTestCase, item_av, item_py,
                         wait_until)

INVALID = "One or more parameter values were invalid: "


def keys(hash_name, range_name=None):
    schema = [{"AttributeName": hash_name, "KeyType": "HASH"}]
    if range_name:
        schema.append({"AttributeName": range_name, "KeyType": "RANGE"})
    return schema


def defs(**types):
    return [{"AttributeName": n, "AttributeType": t} for n, t in types.items()]


def projection(kind="ALL", non_key=None):
    p = {"ProjectionType": kind}
    if non_key is not None:
        p["NonKeyAttributes"] = non_key
    return p


def gsi(name, hash_name, range_name=None, kind="ALL", non_key=None,
        throughput=None):
    index = {"IndexName": name, "KeySchema": keys(hash_name, range_name),
             "Projection": projection(kind, non_key)}
    if throughput:
        index["ProvisionedThroughput"] = {"ReadCapacityUnits": throughput[0],
                                          "WriteCapacityUnits": throughput[1]}
    return index


def lsi(name, hash_name, range_name, kind="ALL", non_key=None):
    return {"IndexName": name, "KeySchema": keys(hash_name, range_name),
            "Projection": projection(kind, non_key)}


def constraint(value, path, rule):
    rendered = "null" if value is None else f"'{value}'"
    return (f"1 validation error detected: Value {rendered} at '{path}' "
            f"failed to satisfy constraint: {rule}")


def canonical(item):
    """A hashable, order-independent form of an item (DynamoDB JSON)."""
    return json.dumps(item, sort_keys=True, default=str)


def wait_for_index(ddb, table, index, status="ACTIVE", timeout=300.0):
    """Polls DescribeTable until the GSI has `status` (None: is gone)."""
    def reached():
        described = ddb.describe_table(TableName=table)["Table"]
        found = [i for i in described.get("GlobalSecondaryIndexes", [])
                 if i["IndexName"] == index]
        if status is None:
            return not found
        return bool(found) and found[0]["IndexStatus"] == status
    wait_until(reached, timeout, interval=0.1,
               what=f"index {index} of {table} to be {status or 'gone'}")


class IndexTestCase(EddyTestCase):
    """Helpers shared by the index tests."""

    def describe(self, name):
        return self.ddb.describe_table(TableName=name)["Table"]

    def index(self, table, name):
        described = self.describe(table)
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            for i in described.get(kind, []):
                if i["IndexName"] == name:
                    return i
        self.fail(f"no index {name} in {described}")

    @classmethod
    def create_indexed(cls, hash_key=("p", "S"), range_key=None, local=None,
                       global_=None, extra_defs=None, billing="PAY_PER_REQUEST",
                       throughput=None, name=None):
        """Creates a table with indexes and waits until it and its GSIs are
        ACTIVE; returns its name."""
        name = name or cls.unique_name()
        types = {hash_key[0]: hash_key[1]}
        if range_key:
            types[range_key[0]] = range_key[1]
        types.update(extra_defs or {})
        params = dict(TableName=name,
                      KeySchema=keys(hash_key[0], range_key and range_key[0]),
                      AttributeDefinitions=defs(**types), BillingMode=billing)
        if throughput:
            params["ProvisionedThroughput"] = {
                "ReadCapacityUnits": throughput[0],
                "WriteCapacityUnits": throughput[1]}
        if local:
            params["LocalSecondaryIndexes"] = local
        if global_:
            params["GlobalSecondaryIndexes"] = global_
        cls.ddb.create_table(**params)
        cls._class_tables.append(name)
        cls.wait_for_status(name, "ACTIVE")
        for index in global_ or []:
            wait_for_index(cls.ddb, name, index["IndexName"], timeout=30)
        return name

    def query(self, table, condition, values, names=None, **kw):
        if names:
            kw["ExpressionAttributeNames"] = names
        return self.ddb.query(TableName=table, KeyConditionExpression=condition,
                              ExpressionAttributeValues=item_av(values), **kw)

    def query_items(self, table, condition, values, **kw):
        """Every page of a Query, as Python items."""
        items, _ = self.query_all(table, KeyConditionExpression=condition,
                                  ExpressionAttributeValues=item_av(values), **kw)
        return [item_py(i) for i in items]

    def scan_items(self, table, **kw):
        items, _ = self.scan_all(table, **kw)
        return [item_py(i) for i in items]


# -- CreateTable ---------------------------------------------------------------

class CreateTableIndexValidationTest(IndexTestCase):
    """Every CreateTable error about indexes, with DynamoDB's messages; none
    of these requests creates a table."""

    def create(self, local=None, global_=None, types=None, table_keys=("p", "s"),
               billing="PAY_PER_REQUEST", throughput=None, **extra):
        name = self.unique_name()
        params = dict(TableName=name, KeySchema=keys(*table_keys),
                      AttributeDefinitions=defs(**(types or {"p": "S", "s": "N"})),
                      BillingMode=billing, **extra)
        if throughput:
            params["ProvisionedThroughput"] = {
                "ReadCapacityUnits": throughput[0],
                "WriteCapacityUnits": throughput[1]}
        if local is not None:
            params["LocalSecondaryIndexes"] = local
        if global_ is not None:
            params["GlobalSecondaryIndexes"] = global_
        try:
            return self.ddb.create_table(**params)
        finally:
            self._class_tables.append(name)
            self._last_name = name

    def assertNotCreated(self):
        self.assertNotIn(self._last_name, self.ddb.list_tables()["TableNames"])

    def assertCreateFails(self, message=None, regex=None, **kw):
        with self.assertValidationError(message, regex):
            self.create(**kw)
        self.assertNotCreated()

    def test_index_name_length_and_characters(self):
        path = "globalSecondaryIndexes.1.member.indexName"
        types = {"p": "S", "s": "N", "g": "S"}
        self.assertCreateFails(
            constraint("ab", path, "Member must have length greater than or equal to 3"),
            types=types, global_=[gsi("ab", "g")])
        self.assertCreateFails(
            constraint("bad;name", path,
                       "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"),
            types=types, global_=[gsi("bad;name", "g")])
        long_name = "n" * 256
        self.assertCreateFails(
            constraint(long_name, path, "Member must have length less than or equal to 255"),
            types=types, global_=[gsi(long_name, "g")])
        self.assertCreateFails(
            "2 validation errors detected: "
            f"Value 'a;' at '{path}' failed to satisfy constraint: Member must have "
            "length greater than or equal to 3; "
            f"Value 'a;' at '{path}' failed to satisfy constraint: Member must satisfy "
            "regular expression pattern: [a-zA-Z0-9_.-]+",
            types=types, global_=[gsi("a;", "g")])
        self.assertCreateFails(
            constraint("x", "localSecondaryIndexes.1.member.indexName",
                       "Member must have length greater than or equal to 3"),
            types={"p": "S", "s": "N", "l": "S"}, local=[lsi("x", "p", "l")])

    def test_index_name_required(self):
        index = gsi("unused", "g")
        del index["IndexName"]
        self.assertCreateFails(
            constraint(None, "globalSecondaryIndexes.1.member.indexName",
                       "Member must not be null"),
            types={"p": "S", "s": "N", "g": "S"}, global_=[index])

    def test_duplicate_index_names(self):
        types = {"p": "S", "s": "N", "g": "S", "l": "S"}
        self.assertCreateFails(INVALID + "Duplicate index name: dup",
                               types={"p": "S", "s": "N", "g": "S"},
                               global_=[gsi("dup", "g"), gsi("dup", "g")])
        self.assertCreateFails(INVALID + "Duplicate index name: dup", types=types,
                               local=[lsi("dup", "p", "l")], global_=[gsi("dup", "g")])
        self.assertCreateFails(INVALID + "Duplicate index name: dup", types=types,
                               local=[lsi("dup", "p", "l"), lsi("dup", "p", "l")],
                               global_=[gsi("other", "g")])

    def test_index_key_must_be_defined(self):
        self.assertCreateFails(
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            "Keys: [g], AttributeDefinitions: [p, s]",
            global_=[gsi("by_g", "g")])
        self.assertCreateFails(
            INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
            "Keys: [l], AttributeDefinitions: [p, s]",
            local=[lsi("by_l", "p", "l")])

    def test_every_definition_must_be_used(self):
        self.assertCreateFails(
            regex=r"^One or more parameter values were invalid: Some AttributeDefinitions "
                  r"are not used\. AttributeDefinitions: \[[^\]]*\bx\b[^\]]*\], "
                  r"keys used: \[[^\]]*\]$",
            types={"p": "S", "s": "N", "g": "S", "x": "S"}, global_=[gsi("by_g", "g")])

    def test_lsi_needs_table_range_key(self):
        self.assertCreateFails(
            INVALID + "Table KeySchema does not have a range key, which is required when "
            "specifying a LocalSecondaryIndex",
            table_keys=("p",), types={"p": "S", "l": "S"}, local=[lsi("by_l", "p", "l")])

    def test_lsi_hash_key_must_be_the_tables(self):
        self.assertCreateFails(
            INVALID + "Index KeySchema does not have the same leading hash key as table "
            "KeySchema for index: by_l. index hash key: l, table hash key: p",
            types={"p": "S", "s": "N", "l": "S", "m": "S"}, local=[lsi("by_l", "l", "m")])

    def test_lsi_needs_a_range_key(self):
        index = {"IndexName": "by_p", "KeySchema": keys("p"), "Projection": projection()}
        self.assertCreateFails(
            INVALID + "Index KeySchema does not have a range key for index: by_p",
            local=[index])

    def test_index_key_schema_rules(self):
        types = {"p": "S", "s": "N", "g": "S", "h": "S"}
        only_g = {"p": "S", "s": "N", "g": "S"}
        bad_first = gsi("by_g", "g")
        bad_first["KeySchema"] = [{"AttributeName": "g", "KeyType": "RANGE"}]
        self.assertCreateFails(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
            types=only_g, global_=[bad_first])
        two_hashes = gsi("by_g", "g")
        two_hashes["KeySchema"] = [{"AttributeName": "g", "KeyType": "HASH"},
                                   {"AttributeName": "h", "KeyType": "HASH"}]
        self.assertCreateFails(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
            types=types, global_=[two_hashes])
        self.assertCreateFails(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
            types=only_g, global_=[gsi("by_g", "g", "g")])
        bad_type = gsi("by_g", "g")
        bad_type["KeySchema"][0]["KeyType"] = "PARTITION"
        self.assertCreateFails(
            constraint("PARTITION", "globalSecondaryIndexes.1.member.keySchema.1.member.keyType",
                       "Member must satisfy enum value set: [HASH, RANGE]"),
            types=only_g, global_=[bad_type])
        three = gsi("by_g", "g")
        three["KeySchema"] = keys("g", "h") + [{"AttributeName": "p", "KeyType": "RANGE"}]
        self.assertCreateFails(
            regex=r"^1 validation error detected: Value '.*' at "
                  r"'globalSecondaryIndexes\.1\.member\.keySchema' failed to satisfy "
                  r"constraint: Member must have length less than or equal to 2$",
            types=types, global_=[three])
        no_keys = gsi("by_g", "g")
        del no_keys["KeySchema"]
        self.assertCreateFails(
            constraint(None, "globalSecondaryIndexes.1.member.keySchema",
                       "Member must not be null"),
            types=types, global_=[no_keys])

    def test_projection_rules(self):
        types = {"p": "S", "s": "N", "g": "S"}
        path = "globalSecondaryIndexes.1.member.projection"
        missing = gsi("by_g", "g")
        del missing["Projection"]
        self.assertCreateFails(constraint(None, path, "Member must not be null"),
                               types=types, global_=[missing])
        no_type = gsi("by_g", "g")
        no_type["Projection"] = {}
        self.assertCreateFails(INVALID + "Unknown ProjectionType: null",
                               types=types, global_=[no_type])
        self.assertCreateFails(
            constraint("all", path + ".projectionType",
                       "Member must satisfy enum value set: [ALL, INCLUDE, KEYS_ONLY]"),
            types=types, global_=[gsi("by_g", "g", kind="all")])
        for kind in ("KEYS_ONLY", "ALL"):
            self.assertCreateFails(
                INVALID + f"ProjectionType is {kind}, but NonKeyAttributes is specified",
                types=types, global_=[gsi("by_g", "g", kind=kind, non_key=["a"])])
        self.assertCreateFails(
            INVALID + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
            types=types, global_=[gsi("by_g", "g", kind="INCLUDE")])
        self.assertCreateFails(
            constraint("[]", path + ".nonKeyAttributes",
                       "Member must have length greater than or equal to 1"),
            types=types, global_=[gsi("by_g", "g", kind="INCLUDE", non_key=[])])
        self.assertCreateFails(
            regex=r"^1 validation error detected: Value '.*' at "
                  r"'globalSecondaryIndexes\.1\.member\.projection\.nonKeyAttributes' "
                  r"failed to satisfy constraint: Member must have length less than or "
                  r"equal to 20$",
            types=types,
            global_=[gsi("by_g", "g", kind="INCLUDE", non_key=[f"a{i}" for i in range(21)])])
        self.assertCreateFails(
            INVALID + "Duplicate element in NonKeyAttributes: a",
            types=types, global_=[gsi("by_g", "g", kind="INCLUDE", non_key=["a", "b", "a"])])
        self.assertCreateFails(
            INVALID + "ProjectionType is INCLUDE, but NonKeyAttributes is not specified",
            types={"p": "S", "s": "N", "l": "S"},
            local=[lsi("by_l", "p", "l", kind="INCLUDE")])

    def test_at_most_100_non_key_attributes_over_all_indexes(self):
        """20 per index is allowed, but not more than 100 summed over indexes."""
        indexes = [gsi(f"gsi{i}", "g", kind="INCLUDE",
                       non_key=[f"a{i}_{j}" for j in range(20)]) for i in range(6)]
        self.assertCreateFails(regex=r"^One or more parameter values were invalid: .*"
                                     r"projected attributes",
                               types={"p": "S", "s": "N", "g": "S"}, global_=indexes)

    def test_index_count_limits(self):
        self.assertCreateFails(
            INVALID + "Number of LocalSecondaryIndexes exceeds per-table limit of 5",
            types={"p": "S", "s": "N", "l": "S"},
            local=[lsi(f"lsi{i}", "p", "l") for i in range(6)])
        self.assertCreateFails(
            INVALID + "GlobalSecondaryIndex count exceeds the per-table limit of 20",
            types={"p": "S", "s": "N", "g": "S"},
            global_=[gsi(f"gsi{i}", "g") for i in range(21)])

    def test_empty_index_lists(self):
        self.assertCreateFails(INVALID + "List of GlobalSecondaryIndexes is empty",
                               global_=[])
        self.assertCreateFails(INVALID + "List of LocalSecondaryIndexes is empty",
                               local=[])

    def test_gsi_throughput_follows_billing_mode(self):
        types = {"p": "S", "s": "N", "g": "S"}
        self.assertCreateFails(
            INVALID + "ProvisionedThroughput is not specified for index: by_g",
            types=types, billing="PROVISIONED", throughput=(1, 1),
            global_=[gsi("by_g", "g")])
        self.assertCreateFails(
            INVALID + "ProvisionedThroughput should not be specified for index: by_g when "
            "BillingMode is PAY_PER_REQUEST",
            types=types, global_=[gsi("by_g", "g", throughput=(1, 1))])
        self.assertCreateFails(
            constraint("0", "globalSecondaryIndexes.1.member.provisionedThroughput."
                            "readCapacityUnits",
                       "Member must have value greater than or equal to 1"),
            types=types, billing="PROVISIONED", throughput=(1, 1),
            global_=[gsi("by_g", "g", throughput=(0, 1))])

    def test_limits_are_inclusive(self):
        """5 LSIs, 20 GSIs, names of 3 and 255 characters are accepted."""
        types = {"p": "S", "s": "N", "g": "S", "l": "S"}
        self.create(types=types, local=[lsi(f"l.{i}", "p", "l") for i in range(5)],
                    global_=[gsi(f"g-{i}", "g") for i in range(19)] + [gsi("n" * 255, "g")])
        name = self._last_name
        self.wait_for_status(name, "ACTIVE")
        described = self.describe(name)
        self.assertEqual(len(described["LocalSecondaryIndexes"]), 5)
        self.assertEqual(len(described["GlobalSecondaryIndexes"]), 20)
        self.create(types={"p": "S", "s": "N", "g": "S"}, global_=[gsi("abc", "g")])
        self.wait_for_status(self._last_name, "ACTIVE")


# -- DescribeTable ---------------------------------------------------------------

class DescribeIndexesTest(IndexTestCase):
    """The TableDescription of tables with indexes."""

    def test_describe_shapes(self):
        name = self.unique_name()
        created = self.ddb.create_table(
            TableName=name, KeySchema=keys("p", "s"),
            AttributeDefinitions=defs(p="S", s="N", l="S", g="S", r="N"),
            BillingMode="PROVISIONED",
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 2},
            LocalSecondaryIndexes=[lsi("by_l", "p", "l", "INCLUDE", ["zz", "aa", "mm"])],
            GlobalSecondaryIndexes=[gsi("by_g", "g", "r", "KEYS_ONLY", throughput=(3, 4))])
        self._class_tables.append(name)
        table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{name}"
        response_gsi = created["TableDescription"]["GlobalSecondaryIndexes"][0]
        self.assertIn(response_gsi["IndexStatus"], ("CREATING", "ACTIVE"))
        self.wait_for_status(name, "ACTIVE")
        wait_for_index(self.ddb, name, "by_g", timeout=30)
        described = self.describe(name)
        self.assertEqual(described["LocalSecondaryIndexes"], [{
            "IndexName": "by_l",
            "KeySchema": keys("p", "l"),
            "Projection": {"ProjectionType": "INCLUDE",
                           "NonKeyAttributes": ["aa", "mm", "zz"]},
            "IndexSizeBytes": 0,
            "ItemCount": 0,
            "IndexArn": f"{table_arn}/index/by_l",
        }])
        self.assertEqual(described["GlobalSecondaryIndexes"], [{
            "IndexName": "by_g",
            "KeySchema": keys("g", "r"),
            "Projection": {"ProjectionType": "KEYS_ONLY"},
            "IndexStatus": "ACTIVE",
            "ProvisionedThroughput": {"NumberOfDecreasesToday": 0,
                                      "ReadCapacityUnits": 3, "WriteCapacityUnits": 4},
            "IndexSizeBytes": 0,
            "ItemCount": 0,
            "IndexArn": f"{table_arn}/index/by_g",
        }])
        self.assertCountEqual(described["AttributeDefinitions"],
                              defs(p="S", s="N", l="S", g="S", r="N"))

    def test_pay_per_request_gsi_reports_zero_throughput(self):
        name = self.create_indexed(range_key=("s", "N"), extra_defs={"g": "S"},
                                   global_=[gsi("by_g", "g")])
        index = self.index(name, "by_g")
        self.assertEqual(index["ProvisionedThroughput"],
                         {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0,
                          "WriteCapacityUnits": 0})
        self.assertEqual(index["IndexStatus"], "ACTIVE")
        self.assertNotIn("Backfilling", index)

    def test_item_count_and_size_follow_writes(self):
        """ItemCount counts the items that have the index's keys (sparse)."""
        name = self.create_indexed(range_key=("s", "N"), extra_defs={"g": "S", "l": "S"},
                                   global_=[gsi("by_g", "g")],
                                   local=[lsi("by_l", "p", "l", "KEYS_ONLY")])
        self.put(name, {"p": "a", "s": 1, "g": "x", "l": "m", "v": "payload"})
        self.put(name, {"p": "a", "s": 2, "g": "y"})
        self.put(name, {"p": "b", "s": 1, "l": "n"})
        self.put(name, {"p": "b", "s": 2})

        def counts():
            gi, li = self.index(name, "by_g"), self.index(name, "by_l")
            return (gi["ItemCount"], li["ItemCount"]) == (2, 2) and (gi, li)
        gi, li = wait_until(counts, 10, what="index item counts")
        self.assertGreater(gi["IndexSizeBytes"], 0)
        self.assertGreater(li["IndexSizeBytes"], 0)
        self.delete(name, {"p": "a", "s": 1})
        wait_until(lambda: self.index(name, "by_g")["ItemCount"] == 1, 10,
                   what="GSI item count after a delete")


# -- UpdateTable -------------------------------------------------------------------

class UpdateTableIndexValidationTest(IndexTestCase):
    """GlobalSecondaryIndexUpdates errors that need no existing index."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"))
        cls.provisioned = cls.create_table(hash_key=("p", "S"), billing_mode="PROVISIONED",
                                           throughput=(1, 1))

    def update(self, table=None, **kw):
        return self.ddb.update_table(TableName=table or self.table, **kw)

    def create_action(self, name="ix1", key="g", **kw):
        return {"Create": gsi(name, key, **kw)}

    def test_entry_needs_exactly_one_action(self):
        with self.assertValidationError(
                INVALID + "One of GlobalSecondaryIndexUpdate.Update, "
                "GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Delete "
                "must not be null"):
            self.update(GlobalSecondaryIndexUpdates=[{}])
        both = self.create_action()
        both["Delete"] = {"IndexName": "ix2"}
        with self.assertValidationError(
                INVALID + "Only one global secondary index action is allowed per "
                "GlobalSecondaryIndexUpdate object"):
            self.update(AttributeDefinitions=defs(g="S"), GlobalSecondaryIndexUpdates=[both])

    def test_one_online_index_operation_per_request(self):
        message = ("Subscriber limit exceeded: Only 1 online index can be created or "
                   "deleted simultaneously per table")
        for updates in ([self.create_action("ix1"), self.create_action("ix2")],
                        [self.create_action("ix1"), {"Delete": {"IndexName": "ix2"}}],
                        [{"Delete": {"IndexName": "ix1"}}, {"Delete": {"IndexName": "ix2"}}]):
            with self.subTest(updates=updates):
                with self.assertDynamoError("LimitExceededException", message):
                    self.update(AttributeDefinitions=defs(g="S"),
                                GlobalSecondaryIndexUpdates=updates)

    def test_one_update_per_index(self):
        update = {"Update": {"IndexName": "ix1", "ProvisionedThroughput": {
            "ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}
        with self.assertValidationError(
                INVALID + "Only one global secondary index update per index is allowed "
                "simultaneously. Index: ix1"):
            self.update(GlobalSecondaryIndexUpdates=[update, update])

    def test_create_needs_attribute_definitions(self):
        with self.assertValidationError(
                INVALID + "AttributeDefinitions is not specified for index: ix1"):
            self.update(GlobalSecondaryIndexUpdates=[self.create_action()])
        with self.assertValidationError(
                INVALID + "Some index key attributes are not defined in AttributeDefinitions. "
                "Keys: [g], AttributeDefinitions: [h]"):
            self.update(AttributeDefinitions=defs(h="S"),
                        GlobalSecondaryIndexUpdates=[self.create_action()])

    def test_create_is_alone_with_throughput_stream_or_protection(self):
        create = dict(AttributeDefinitions=defs(g="S"),
                      GlobalSecondaryIndexUpdates=[self.create_action(throughput=(1, 1))])
        with self.assertValidationError(
                INVALID + "You cannot create or delete index while updating table IOPS"):
            self.update(self.provisioned, ProvisionedThroughput={
                "ReadCapacityUnits": 2, "WriteCapacityUnits": 2}, **create)
        with self.assertValidationError(
                INVALID + "You cannot create or delete index while changing stream status"):
            self.update(StreamSpecification={"StreamEnabled": True,
                                             "StreamViewType": "KEYS_ONLY"}, **create)
        with self.assertValidationError(
                INVALID + "DeletionProtection modification must be the only operation in "
                "the request"):
            self.update(DeletionProtectionEnabled=True, **create)

    def test_create_throughput_follows_billing_mode(self):
        with self.assertValidationError(
                INVALID + "Neither ReadCapacityUnits nor WriteCapacityUnits can be specified "
                "for index: ix1 when BillingMode is PAY_PER_REQUEST"):
            self.update(AttributeDefinitions=defs(g="S"),
                        GlobalSecondaryIndexUpdates=[self.create_action(throughput=(1, 1))])
        with self.assertValidationError(
                INVALID + "Both ReadCapacityUnits and WriteCapacityUnits must be specified "
                "for index: ix1"):
            self.update(self.provisioned, AttributeDefinitions=defs(g="S"),
                        GlobalSecondaryIndexUpdates=[self.create_action()])

    def test_create_definition_errors(self):
        no_type = self.create_action()
        no_type["Create"]["Projection"] = {}
        with self.assertValidationError(INVALID + "Unknown ProjectionType: null"):
            self.update(AttributeDefinitions=defs(g="S"), GlobalSecondaryIndexUpdates=[no_type])
        with self.assertValidationError(constraint(
                "ab", "globalSecondaryIndexUpdates.1.member.create.indexName",
                "Member must have length greater than or equal to 3")):
            self.update(AttributeDefinitions=defs(g="S"),
                        GlobalSecondaryIndexUpdates=[self.create_action("ab")])
        with self.assertValidationError(
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"):
            bad = self.create_action()
            bad["Create"]["KeySchema"][0]["KeyType"] = "RANGE"
            self.update(AttributeDefinitions=defs(g="S"), GlobalSecondaryIndexUpdates=[bad])

    def test_update_needs_throughput(self):
        with self.assertValidationError(constraint(
                None, "globalSecondaryIndexUpdates.1.member.update.provisionedThroughput",
                "Member must not be null")):
            self.update(GlobalSecondaryIndexUpdates=[{"Update": {"IndexName": "ix1"}}])

    def test_unknown_index(self):
        throughput = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
        for action in ({"Delete": {"IndexName": "nope"}},
                       {"Update": {"IndexName": "nope", "ProvisionedThroughput": throughput}}):
            with self.subTest(action=action):
                with self.assertDynamoError(
                        "ResourceNotFoundException",
                        f"Requested resource not found: Index nope for table "
                        f"{self.provisioned}"):
                    self.update(self.provisioned, GlobalSecondaryIndexUpdates=[action])

    def test_empty_update_list(self):
        with self.assertValidationError(regex=r"^At least one of ProvisionedThroughput, "):
            self.update(GlobalSecondaryIndexUpdates=[])
        with self.assertValidationError(INVALID + "List of GlobalSecondaryIndexUpdates is empty"):
            self.update(GlobalSecondaryIndexUpdates=[], DeletionProtectionEnabled=False)


class UpdateTableIndexLifecycleTest(IndexTestCase):
    """Update, Delete and re-Create of GSIs on a table that has indexes."""

    def test_update_gsi_throughput(self):
        name = self.create_indexed(range_key=("s", "N"), extra_defs={"g": "S"},
                                   billing="PROVISIONED", throughput=(1, 1),
                                   global_=[gsi("by_g", "g", throughput=(1, 1))])
        with self.assertValidationError(regex=r"^The provisioned throughput for the index "
                                              r"by_g will not change\."):
            self.ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Update": {
                "IndexName": "by_g",
                "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}}}])
        self.ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[{"Update": {
            "IndexName": "by_g",
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 6}}}])
        wait_for_index(self.ddb, name, "by_g", timeout=30)
        throughput = self.index(name, "by_g")["ProvisionedThroughput"]
        self.assertEqual((throughput["ReadCapacityUnits"], throughput["WriteCapacityUnits"]),
                         (5, 6))

    def test_lsi_cannot_be_updated_or_deleted_and_names_stay_unique(self):
        name = self.create_indexed(range_key=("s", "N"), extra_defs={"g": "S", "l": "S"},
                                   local=[lsi("by_l", "p", "l")], global_=[gsi("by_g", "g")])
        with self.assertValidationError(
                "Cannot delete an index that is not a GlobalSecondaryIndex: by_l"):
            self.ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[
                {"Delete": {"IndexName": "by_l"}}])
        for existing in ("by_l", "by_g"):
            with self.subTest(existing=existing):
                with self.assertValidationError(
                        "Attempting to create an index which already exists"):
                    self.ddb.update_table(
                        TableName=name, AttributeDefinitions=defs(h="S"),
                        GlobalSecondaryIndexUpdates=[{"Create": gsi(existing, "h")}])

    def test_key_type_cannot_be_redefined(self):
        name = self.create_indexed(extra_defs={"x": "S"}, global_=[gsi("one", "x")])
        with self.assertValidationError(regex=r"redefined"):
            self.ddb.update_table(TableName=name, AttributeDefinitions=defs(x="N"),
                                  GlobalSecondaryIndexUpdates=[{"Create": gsi("two", "x")}])

    def test_delete_and_recreate(self):
        name = self.create_indexed(extra_defs={"g": "S"}, global_=[gsi("by_g", "g")])
        self.put(name, {"p": "a", "g": "x"})
        got = self.ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": "by_g"}}])
        indexes = got["TableDescription"].get("GlobalSecondaryIndexes", [])
        self.assertTrue(all(i["IndexStatus"] == "DELETING" for i in indexes), indexes)
        wait_for_index(self.ddb, name, "by_g", status=None, timeout=60)
        with self.assertValidationError("The table does not have the specified index: by_g"):
            self.query(name, "g = :g", {":g": "x"}, IndexName="by_g")
        # Without the index, g may hold any type.
        self.put(name, {"p": "b", "g": 7})
        self.delete(name, {"p": "b"})
        with self.assertDynamoError("ResourceNotFoundException",
                                    f"Requested resource not found: Index by_g for table {name}"):
            self.ddb.update_table(TableName=name, GlobalSecondaryIndexUpdates=[
                {"Delete": {"IndexName": "by_g"}}])
        # The same name again, now over N values.
        self.put(name, {"p": "c", "g": 3})
        self.delete(name, {"p": "a"})
        self.ddb.update_table(TableName=name, AttributeDefinitions=defs(g="N"),
                              GlobalSecondaryIndexUpdates=[{"Create": gsi("by_g", "g")}])
        wait_for_index(self.ddb, name, "by_g", timeout=60)
        self.assertEqual(self.query_items(name, "g = :g", {":g": 3}, IndexName="by_g"),
                         [{"p": "c", "g": 3}])


# -- Query and Scan ------------------------------------------------------------------

class IndexReadTest(IndexTestCase):
    """Query and Scan on GSIs and LSIs of every projection type.

    Table: p (S) / s (N). GSI keys: g (S), r (N); LSI sort key: l (S).
    Items of partition "A" s = 0..11: g = "even"/"odd" by s, r = s * 10,
    l = "l%02d" % (11 - s) (reverse order of s), a = "a<s>", b = "b<s>",
    c = s. Partition "B" s = 0..2 has a and c only (in no index but the
    table)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_indexed(
            range_key=("s", "N"), extra_defs={"g": "S", "r": "N", "l": "S"},
            global_=[gsi("g_all", "g", "r"), gsi("g_keys", "g", kind="KEYS_ONLY"),
                     gsi("g_incl", "g", "r", kind="INCLUDE", non_key=["a"])],
            local=[lsi("l_all", "p", "l"), lsi("l_keys", "p", "l", kind="KEYS_ONLY"),
                   lsi("l_incl", "p", "l", kind="INCLUDE", non_key=["b"])])
        cls.items = {}
        for s in range(12):
            cls.items[("A", s)] = {"p": "A", "s": s, "g": "even" if s % 2 == 0 else "odd",
                                   "r": s * 10, "l": "l%02d" % (11 - s),
                                   "a": f"a{s}", "b": f"b{s}", "c": s}
        for s in range(3):
            cls.items[("B", s)] = {"p": "B", "s": s, "a": f"a{s}", "c": s}
        for it in cls.items.values():
            cls.ddb.put_item(TableName=cls.table, Item=item_av(it))

    def in_index(self, predicate):
        return [it for it in self.items.values() if predicate(it)]

    @staticmethod
    def only(item, names):
        return {k: v for k, v in item.items() if k in names}

    def test_query_gsi_all_projection(self):
        got = self.query_items(self.table, "g = :g", {":g": "even"}, IndexName="g_all")
        expected = sorted(self.in_index(lambda it: it.get("g") == "even"),
                          key=lambda it: it["r"])
        self.assertEqual(got, expected)

    def test_query_gsi_sort_key_condition_and_reverse(self):
        got = self.query_items(self.table, "g = :g AND r BETWEEN :lo AND :hi",
                               {":g": "odd", ":lo": 30, ":hi": 90}, IndexName="g_all",
                               ScanIndexForward=False)
        self.assertEqual([it["s"] for it in got], [9, 7, 5, 3])

    def test_query_gsi_keys_only_projection(self):
        """KEYS_ONLY entries hold the table's keys and the index's keys."""
        got = self.query_items(self.table, "g = :g", {":g": "odd"}, IndexName="g_keys")
        expected = [self.only(it, {"p", "s", "g"})
                    for it in self.in_index(lambda it: it.get("g") == "odd")]
        self.assertCountEqual(got, expected)

    def test_query_gsi_include_projection(self):
        got = self.query_items(self.table, "g = :g", {":g": "odd"}, IndexName="g_incl")
        expected = sorted((self.only(it, {"p", "s", "g", "r", "a"})
                           for it in self.in_index(lambda it: it.get("g") == "odd")),
                          key=lambda it: it["r"])
        self.assertEqual(got, expected)

    def test_query_lsi_projections(self):
        rows = sorted(self.in_index(lambda it: it["p"] == "A" and "l" in it),
                      key=lambda it: it["l"])
        self.assertEqual(self.query_items(self.table, "p = :p", {":p": "A"},
                                          IndexName="l_all"), rows)
        self.assertEqual(self.query_items(self.table, "p = :p", {":p": "A"},
                                          IndexName="l_keys"),
                         [self.only(it, {"p", "s", "l"}) for it in rows])
        self.assertEqual(self.query_items(self.table, "p = :p", {":p": "A"},
                                          IndexName="l_incl"),
                         [self.only(it, {"p", "s", "l", "b"}) for it in rows])
        got = self.query_items(self.table, "p = :p AND l < :l", {":p": "A", ":l": "l03"},
                               IndexName="l_keys")
        self.assertEqual([it["s"] for it in got], [11, 10, 9])

    def test_lsi_fetches_unprojected_attributes(self):
        """On an LSI, Select ALL_ATTRIBUTES and projections of attributes the
        index lacks read them from the table."""
        rows = sorted(self.in_index(lambda it: it["p"] == "A"), key=lambda it: it["l"])
        self.assertEqual(self.query_items(self.table, "p = :p", {":p": "A"},
                                          IndexName="l_keys", Select="ALL_ATTRIBUTES"), rows)
        got = self.query_items(self.table, "p = :p", {":p": "A"}, IndexName="l_incl",
                               ProjectionExpression="s, c")
        self.assertEqual(got, [self.only(it, {"s", "c"}) for it in rows])

    def test_select_on_indexes(self):
        page = self.query(self.table, "g = :g", {":g": "odd"}, IndexName="g_keys",
                          Select="ALL_PROJECTED_ATTRIBUTES")
        self.assertEqual(page["Count"], 6)
        self.assertEqual(set(page["Items"][0]), {"p", "s", "g"})
        page = self.query(self.table, "g = :g", {":g": "odd"}, IndexName="g_keys",
                          Select="COUNT")
        self.assertEqual(page["Count"], 6)
        self.assertNotIn("Items", page)
        with self.assertValidationError(
                INVALID + "Select type ALL_ATTRIBUTES is not supported for global secondary "
                "index g_keys because its projection type is not ALL"):
            self.query(self.table, "g = :g", {":g": "odd"}, IndexName="g_keys",
                       Select="ALL_ATTRIBUTES")
        with self.assertValidationError(
                INVALID + "Select type ALL_ATTRIBUTES is not supported for global secondary "
                "index g_incl because its projection type is not ALL"):
            self.ddb.scan(TableName=self.table, IndexName="g_incl", Select="ALL_ATTRIBUTES")
        page = self.query(self.table, "g = :g", {":g": "odd"}, IndexName="g_all",
                          Select="ALL_ATTRIBUTES")
        self.assertEqual(page["Count"], 6)
        with self.assertValidationError(
                "Cannot specify the ProjectionExpression when choosing to get "
                "ALL_PROJECTED_ATTRIBUTES"):
            self.query(self.table, "g = :g", {":g": "odd"}, IndexName="g_all",
                       Select="ALL_PROJECTED_ATTRIBUTES", ProjectionExpression="a")

    def test_consistent_read(self):
        message = "Consistent reads are not supported on global secondary indexes"
        with self.assertValidationError(message):
            self.query(self.table, "g = :g", {":g": "odd"}, IndexName="g_all",
                       ConsistentRead=True)
        with self.assertValidationError(message):
            self.ddb.scan(TableName=self.table, IndexName="g_all", ConsistentRead=True)
        page = self.query(self.table, "p = :p", {":p": "A"}, IndexName="l_all",
                          ConsistentRead=True)
        self.assertEqual(page["Count"], 12)
        self.assertEqual(self.ddb.scan(TableName=self.table, IndexName="l_keys",
                                       ConsistentRead=True)["Count"], 12)

    def test_key_condition_is_on_the_index_keys(self):
        with self.assertValidationError("Query condition missed key schema element: g"):
            self.query(self.table, "p = :p", {":p": "A"}, IndexName="g_all")
        with self.assertValidationError("Query condition missed key schema element: p"):
            self.query(self.table, "l = :l", {":l": "l00"}, IndexName="l_all")
        with self.assertValidationError(
                INVALID + "Condition parameter type does not match schema type"):
            self.query(self.table, "g = :g", {":g": 1}, IndexName="g_all")
        with self.assertValidationError(
                INVALID + "Condition parameter type does not match schema type"):
            self.query(self.table, "g = :g AND r > :r", {":g": "odd", ":r": "x"},
                       IndexName="g_all")
        # Legacy KeyConditions name the index's keys too.
        items, _ = self.query_all(self.table, IndexName="g_all", KeyConditions={
            "g": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "odd"}]},
            "r": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "80"}]}})
        self.assertEqual([item_py(i)["s"] for i in items], [9, 11])

    def test_filter_cannot_name_index_keys(self):
        with self.assertValidationError(
                "Filter Expression can only contain non-primary key attributes: Primary key "
                "attribute: r"):
            self.query(self.table, "g = :g", {":g": "odd", ":r": 1}, IndexName="g_all",
                       FilterExpression="r > :r")
        # The table's sort key is not a key of this index.
        got = self.query_items(self.table, "g = :g", {":g": "odd", ":s": 6},
                               IndexName="g_all", FilterExpression="s > :s")
        self.assertEqual([it["s"] for it in got], [7, 9, 11])

    def test_unknown_index(self):
        with self.assertValidationError("The table does not have the specified index: nope"):
            self.query(self.table, "p = :p", {":p": "A"}, IndexName="nope")
        with self.assertValidationError("The table does not have the specified index: nope"):
            self.ddb.scan(TableName=self.table, IndexName="nope")

    def test_query_pagination_round_trips_index_keys(self):
        """LastEvaluatedKey of an index holds the table's and the index's keys,
        and ExclusiveStartKey resumes after it."""
        for index, condition, values, key_names in (
                ("g_all", "g = :g", {":g": "even"}, {"p", "s", "g", "r"}),
                ("g_keys", "g = :g", {":g": "even"}, {"p", "s", "g"}),
                ("l_keys", "p = :p", {":p": "A"}, {"p", "s", "l"})):
            with self.subTest(index=index):
                everything = self.query_items(self.table, condition, values, IndexName=index)
                items, pages = self.query_all(
                    self.table, IndexName=index, KeyConditionExpression=condition,
                    ExpressionAttributeValues=item_av(values), Limit=5)
                self.assertEqual([item_py(i) for i in items], everything)
                self.assertGreater(len(pages), 1)
                for page in pages[:-1]:
                    self.assertLessEqual(page["Count"], 5)
                    self.assertEqual(set(page["LastEvaluatedKey"]), key_names)
                    self.assertEqual(item_py(page["LastEvaluatedKey"]),
                                     self.only(item_py(page["Items"][-1]), key_names))
                for forward in (False,):
                    back, _ = self.query_all(
                        self.table, IndexName=index, KeyConditionExpression=condition,
                        ExpressionAttributeValues=item_av(values), Limit=2,
                        ScanIndexForward=forward)
                    self.assertEqual([item_py(i) for i in back], everything[::-1])

    def test_scan_indexes(self):
        """A Scan of an index returns its entries only (sparse), paginated."""
        for index, member, names in (
                ("g_all", lambda it: "g" in it and "r" in it, None),
                ("g_keys", lambda it: "g" in it, {"p", "s", "g"}),
                ("g_incl", lambda it: "g" in it and "r" in it, {"p", "s", "g", "r", "a"}),
                ("l_all", lambda it: "l" in it, None),
                ("l_keys", lambda it: "l" in it, {"p", "s", "l"})):
            with self.subTest(index=index):
                expected = [it if names is None else self.only(it, names)
                            for it in self.in_index(member)]
                items, pages = self.scan_all(self.table, IndexName=index, Limit=4)
                self.assertCountEqual([item_py(i) for i in items], expected)
                self.assertGreater(len(pages), 1)
                whole = self.scan_items(self.table, IndexName=index)
                self.assertCountEqual(whole, expected)

    def test_scan_index_with_filter_and_segments(self):
        got = self.scan_items(self.table, IndexName="g_all", FilterExpression="c >= :c",
                              ExpressionAttributeValues=item_av({":c": 8}))
        self.assertCountEqual([it["s"] for it in got], [8, 9, 10, 11])
        parts = []
        for segment in range(3):
            parts += self.scan_items(self.table, IndexName="g_keys", Segment=segment,
                                     TotalSegments=3)
        self.assertCountEqual([(it["p"], it["s"]) for it in parts],
                              [(it["p"], it["s"]) for it in self.in_index(lambda it: "g" in it)])


class IndexNameValidationTest(IndexTestCase):
    """Read errors that need no index at all."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"), range_key=("s", "N"))

    def test_index_name_constraints(self):
        with self.assertValidationError(constraint(
                "ab", "indexName", "Member must have length greater than or equal to 3")):
            self.query(self.table, "p = :p", {":p": "x"}, IndexName="ab")
        with self.assertValidationError(constraint(
                "a;bc", "indexName",
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")):
            self.ddb.scan(TableName=self.table, IndexName="a;bc")

    def test_all_projected_attributes_needs_an_index(self):
        message = "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
        with self.assertValidationError(message):
            self.query(self.table, "p = :p", {":p": "x"}, Select="ALL_PROJECTED_ATTRIBUTES")
        with self.assertValidationError(message):
            self.ddb.scan(TableName=self.table, Select="ALL_PROJECTED_ATTRIBUTES")

    def test_table_without_indexes(self):
        with self.assertValidationError("The table does not have the specified index: abc"):
            self.query(self.table, "p = :p", {":p": "x"}, IndexName="abc")
        with self.assertValidationError("The table does not have the specified index: abc"):
            self.ddb.scan(TableName=self.table, IndexName="abc")


# -- Writes --------------------------------------------------------------------------

class IndexMaintenanceTest(IndexTestCase):
    """Every write keeps the indexes in step with the table."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_indexed(
            range_key=("s", "N"), extra_defs={"g": "S", "l": "N"},
            global_=[gsi("by_g", "g")], local=[lsi("by_l", "p", "l", "KEYS_ONLY")])

    def in_gsi(self, g):
        return [(it["p"], it["s"]) for it in
                self.query_items(self.table, "g = :g", {":g": g}, IndexName="by_g")]

    def test_consumed_capacity_counts_index_writes(self):
        """INDEXES breaks capacity down: one write to add an entry, two when
        the index key changes, none for an index the item is not in."""
        key = {"p": "cap", "s": 1}

        def capacity(response):
            c = response["ConsumedCapacity"]
            return (c["CapacityUnits"], c["Table"]["CapacityUnits"],
                    {n: v["CapacityUnits"]
                     for n, v in c.get("GlobalSecondaryIndexes", {}).items()},
                    {n: v["CapacityUnits"]
                     for n, v in c.get("LocalSecondaryIndexes", {}).items()})

        out = self.put(self.table, {**key, "g": "a", "l": 1},
                       ReturnConsumedCapacity="INDEXES")
        self.assertEqual(capacity(out), (3.0, 1.0, {"by_g": 1.0}, {"by_l": 1.0}))
        out = self.update(self.table, key, "SET g = :g", {":g": "b"},
                          ReturnConsumedCapacity="INDEXES")
        self.assertEqual(capacity(out), (3.0, 1.0, {"by_g": 2.0}, {}))
        out = self.update(self.table, key, "REMOVE g, l", ReturnConsumedCapacity="INDEXES")
        self.assertEqual(capacity(out), (3.0, 1.0, {"by_g": 1.0}, {"by_l": 1.0}))
        out = self.update(self.table, key, "SET v = :v", {":v": 1},
                          ReturnConsumedCapacity="INDEXES")
        self.assertEqual(capacity(out), (1.0, 1.0, {}, {}))
        # TOTAL reports the sum only.
        out = self.put(self.table, {**key, "g": "c"}, ReturnConsumedCapacity="TOTAL")
        self.assertEqual(out["ConsumedCapacity"]["CapacityUnits"], 2.0)
        self.assertNotIn("Table", out["ConsumedCapacity"])
        # Transactional writes cost twice, indexes included.
        out = self.ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": self.table,
                                    "Item": item_av({**key, "g": "d"})}}],
            ReturnConsumedCapacity="INDEXES")
        c = out["ConsumedCapacity"][0]
        self.assertEqual((c["CapacityUnits"], c["Table"]["CapacityUnits"],
                          c["GlobalSecondaryIndexes"]["by_g"]["CapacityUnits"]),
                         (6.0, 2.0, 4.0))
        # A read of an index is charged to the index.
        out = self.ddb.query(TableName=self.table, IndexName="by_g",
                             KeyConditionExpression="g = :g",
                             ExpressionAttributeValues=item_av({":g": "d"}),
                             ReturnConsumedCapacity="INDEXES")
        self.assertEqual(capacity(out), (0.5, 0.0, {"by_g": 0.5}, {}))

    def test_update_moves_item_between_index_partitions(self):
        key = {"p": "move", "s": 1}
        self.put(self.table, {**key, "g": "first", "v": 1})
        self.assertEqual(self.in_gsi("first"), [("move", 1)])
        self.update(self.table, key, "SET g = :g", {":g": "second"})
        self.assertEqual(self.in_gsi("first"), [])
        self.assertEqual(self.in_gsi("second"), [("move", 1)])
        self.put(self.table, {**key, "g": "third"})
        self.assertEqual(self.in_gsi("second"), [])
        self.assertEqual(self.query_items(self.table, "g = :g", {":g": "third"},
                                          IndexName="by_g"), [{**key, "g": "third"}])
        # Removing the index key takes the item out of the (sparse) index.
        self.update(self.table, key, "REMOVE g")
        self.assertEqual(self.in_gsi("third"), [])
        self.assertEqual(self.get(self.table, key), key)

    def test_update_of_other_attributes_updates_the_entry(self):
        key = {"p": "attr", "s": 1}
        self.put(self.table, {**key, "g": "attr", "v": 1})
        self.update(self.table, key, "SET v = v + :one", {":one": 1})
        self.assertEqual(self.query_items(self.table, "g = :g", {":g": "attr"},
                                          IndexName="by_g"), [{**key, "g": "attr", "v": 2}])

    def test_delete_removes_entries(self):
        key = {"p": "gone", "s": 1}
        self.put(self.table, {**key, "g": "gone", "l": 5})
        self.assertEqual(self.in_gsi("gone"), [("gone", 1)])
        self.assertEqual(self.query_items(self.table, "p = :p", {":p": "gone"},
                                          IndexName="by_l"), [{**key, "l": 5}])
        self.delete(self.table, key)
        self.assertEqual(self.in_gsi("gone"), [])
        self.assertEqual(self.query_items(self.table, "p = :p", {":p": "gone"},
                                          IndexName="by_l"), [])

    def test_batch_and_transaction_writes_are_indexed(self):
        self.ddb.batch_write_item(RequestItems={self.table: [
            {"PutRequest": {"Item": item_av({"p": "batch", "s": i, "g": "batch"})}}
            for i in range(3)]})
        self.assertEqual(sorted(self.in_gsi("batch")), [("batch", i) for i in range(3)])
        self.ddb.batch_write_item(RequestItems={self.table: [
            {"DeleteRequest": {"Key": item_av({"p": "batch", "s": 1})}}]})
        self.assertEqual(sorted(self.in_gsi("batch")), [("batch", 0), ("batch", 2)])
        self.ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": self.table,
                     "Item": item_av({"p": "tx", "s": 1, "g": "tx"})}},
            {"Update": {"TableName": self.table, "Key": item_av({"p": "batch", "s": 0}),
                        "UpdateExpression": "SET g = :g",
                        "ExpressionAttributeValues": item_av({":g": "tx"})}}])
        self.assertEqual(sorted(self.in_gsi("tx")), [("batch", 0), ("tx", 1)])

    def test_wrong_index_key_type_is_rejected_and_nothing_written(self):
        key = {"p": "typed", "s": 1}
        self.put(self.table, {**key, "g": "ok", "v": 1})
        gsi_message = (INVALID + "Type mismatch for Index Key g Expected: S Actual: N "
                       "IndexName: by_g")
        with self.assertValidationError(gsi_message):
            self.put(self.table, {**key, "g": 5})
        with self.assertValidationError(gsi_message):
            self.put(self.table, {"p": "typed", "s": 2, "g": 5})
        with self.assertValidationError(gsi_message):
            self.update(self.table, key, "SET g = :g, v = :v", {":g": 5, ":v": 2})
        with self.assertValidationError(
                INVALID + "Type mismatch for Index Key l Expected: N Actual: S IndexName: by_l"):
            self.update(self.table, key, "SET l = :l", {":l": "five"})
        with self.assertValidationError(gsi_message):
            self.ddb.batch_write_item(RequestItems={self.table: [
                {"PutRequest": {"Item": item_av({"p": "typed", "s": 3, "g": "fine"})}},
                {"PutRequest": {"Item": item_av({"p": "typed", "s": 4, "g": 4})}}]})
        self.assertEqual(self.get(self.table, key), {**key, "g": "ok", "v": 1})
        for s in (2, 3, 4):
            self.assertIsNone(self.get(self.table, {"p": "typed", "s": s}))
        self.assertEqual(self.in_gsi("ok"), [("typed", 1)])
        # A value of another type for a non-key attribute is fine.
        self.put(self.table, {"p": "typed", "s": 5, "v": "text"})


# -- Backfill ------------------------------------------------------------------------

class BackfillTest(IndexTestCase):
    """UpdateTable creates a GSI over 10,000 existing items."""

    ITEMS = 10_000

    @staticmethod
    def make_item(i):
        it = {"p": f"u{i:05d}", "rank": i, "pad": "x" * 20}
        if i % 5 != 0:  # Every fifth item has no "cat": not in the index.
            it["cat"] = f"c{i % 40}"
        return it

    def load(self, table):
        items = [self.make_item(i) for i in range(self.ITEMS)]
        chunks = [items[i:i + 25] for i in range(0, len(items), 25)]

        def write(chunk_list):
            client = self.server.client()
            for chunk in chunk_list:
                request = {table: [{"PutRequest": {"Item": item_av(it)}} for it in chunk]}
                while request:
                    got = client.batch_write_item(RequestItems=request)
                    request = got.get("UnprocessedItems") or None
        workers = 8
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            list(pool.map(write, [chunks[w::workers] for w in range(workers)]))
        return items

    def test_backfill_of_10000_items(self):
        table = self.create_table(hash_key=("p", "S"))
        items = self.load(table)
        self.assertEqual(self.ddb.scan(TableName=table, Select="COUNT")["Count"], self.ITEMS)
        got = self.ddb.update_table(
            TableName=table, AttributeDefinitions=defs(cat="S", rank="N"),
            GlobalSecondaryIndexUpdates=[{"Create": gsi("by_cat", "cat", "rank")}])
        created = [i for i in got["TableDescription"]["GlobalSecondaryIndexes"]
                   if i["IndexName"] == "by_cat"]
        self.assertEqual(len(created), 1)
        self.assertEqual(created[0]["IndexStatus"], "CREATING")
        self.assertEqual(created[0]["KeySchema"], keys("cat", "rank"))
        self.assertEqual(created[0]["IndexArn"],
                         f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{table}/index/by_cat")
        self.assertCountEqual(
            self.describe(table)["AttributeDefinitions"], defs(p="S", cat="S", rank="N"))
        # While it builds: CREATING, Backfilling, not readable; then ACTIVE.
        start = time.monotonic()
        while True:
            index = self.index(table, "by_cat")
            if index["IndexStatus"] == "ACTIVE":
                self.assertNotIn("Backfilling", index)
                break
            self.assertEqual(index["IndexStatus"], "CREATING")
            self.assertIs(index.get("Backfilling"), True)
            try:
                self.query(table, "cat = :c", {":c": "c7"}, IndexName="by_cat")
            except ClientError as e:
                self.assertEqual(e.response["Error"]["Message"],
                                 "Cannot read from backfilling global secondary index: "
                                 "by_cat")
            else:  # The backfill finished in between.
                self.assertEqual(self.index(table, "by_cat")["IndexStatus"], "ACTIVE")
            self.assertLess(time.monotonic() - start, 300, "backfill did not finish")
            time.sleep(0.2)
        with_cat = [it for it in items if "cat" in it]
        for cat in ("c7", "c1", "c39"):
            with self.subTest(cat=cat):
                got = self.query_items(table, "cat = :c", {":c": cat}, IndexName="by_cat")
                expected = sorted((it for it in with_cat if it["cat"] == cat),
                                  key=lambda it: it["rank"])
                self.assertEqual(got, expected)
        got = self.query_items(table, "cat = :c AND #r BETWEEN :lo AND :hi",
                               {":c": "c3", ":lo": 1000, ":hi": 2000}, IndexName="by_cat",
                               ExpressionAttributeNames={"#r": "rank"})
        self.assertEqual([it["rank"] for it in got],
                         [it["rank"] for it in with_cat
                          if it["cat"] == "c3" and 1000 <= it["rank"] <= 2000])
        self.assertEqual(self.ddb.scan(TableName=table, IndexName="by_cat",
                                       Select="COUNT")["Count"], len(with_cat))
        wait_until(lambda: self.index(table, "by_cat")["ItemCount"] == len(with_cat), 30,
                   what="index ItemCount")
        # New writes are indexed, and type-checked, from now on.
        self.put(table, {"p": "new", "cat": "c7", "rank": -1})
        self.assertEqual(self.query_items(table, "cat = :c", {":c": "c7"},
                                          IndexName="by_cat", Limit=1)[0]["p"], "new")
        with self.assertValidationError(
                INVALID + "Type mismatch for Index Key cat Expected: S Actual: N "
                "IndexName: by_cat"):
            self.put(table, {"p": "bad", "cat": 7})
        # A second create while this one exists is refused.
        with self.assertValidationError("Attempting to create an index which already exists"):
            self.ddb.update_table(
                TableName=table, AttributeDefinitions=defs(cat="S"),
                GlobalSecondaryIndexUpdates=[{"Create": gsi("by_cat", "cat")}])
        # Deleting it.
        got = self.ddb.update_table(TableName=table, GlobalSecondaryIndexUpdates=[
            {"Delete": {"IndexName": "by_cat"}}])
        wait_for_index(self.ddb, table, "by_cat", status=None, timeout=120)
        with self.assertValidationError("The table does not have the specified index: by_cat"):
            self.query(table, "cat = :c", {":c": "c7"}, IndexName="by_cat")
        self.put(table, {"p": "bad", "cat": 7})

    def test_gsi_on_items_with_wrong_typed_attribute(self):
        """Existing items whose attribute has another type are left out of the
        new index (they cannot be rejected any more)."""
        table = self.create_table(hash_key=("p", "S"))
        self.put(table, {"p": "s", "x": "text"})
        self.put(table, {"p": "n", "x": 5})
        self.put(table, {"p": "none"})
        self.ddb.update_table(TableName=table, AttributeDefinitions=defs(x="S"),
                              GlobalSecondaryIndexUpdates=[{"Create": gsi("by_x", "x")}])
        wait_for_index(self.ddb, table, "by_x", timeout=120)
        self.assertEqual(self.scan_items(table, IndexName="by_x"), [{"p": "s", "x": "text"}])


# -- Property test ----------------------------------------------------------------------

class IndexPropertyTest(IndexTestCase):
    """For random data and random key conditions, Query on a GSI and on an
    LSI returns the same items as a Scan of the table with the equivalent
    FilterExpression (both indexes project ALL)."""

    SEED = 20260517
    ITEMS = 400
    CASES = 120

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rng = random.Random(cls.SEED)
        cls.table = cls.create_indexed(
            range_key=("s", "N"), extra_defs={"g": "S", "n": "N", "l": "S"},
            global_=[gsi("gsi", "g", "n")], local=[lsi("lsi", "p", "l")])
        rng = cls.rng
        requests = []
        for i in range(cls.ITEMS):
            it = {"p": f"p{rng.randrange(4)}", "s": i}
            if rng.random() < 0.75:
                it["g"] = rng.choice(["red", "green", "blue", "gray"])
            if rng.random() < 0.75:
                it["n"] = rng.randrange(25)
            if rng.random() < 0.75:
                it["l"] = "".join(rng.choice("abc") for _ in range(rng.randint(1, 3)))
            if rng.random() < 0.8:
                it["x"] = rng.randrange(100)
            if rng.random() < 0.3:
                it["note"] = rng.choice(["alpha", "beta", "gamma"])
            requests.append({"PutRequest": {"Item": item_av(it)}})
        for k in range(0, len(requests), 25):
            cls.ddb.batch_write_item(RequestItems={cls.table: requests[k:k + 25]})

    def random_range(self, name, kind):
        """A random sort key condition on #<name>: (expression, values)."""
        rng = self.rng
        pick = (lambda: rng.randrange(-2, 27)) if kind == "N" else (
            lambda: "".join(rng.choice("abcd") for _ in range(rng.randint(1, 2))))
        op = rng.choice(["none", "=", "<", "<=", ">", ">=", "between"] +
                        (["begins_with"] if kind == "S" else []))
        ref = f"#{name}"
        if op == "none":
            return None, {}
        if op == "between":
            lo, hi = sorted([pick(), pick()])
            return f"{ref} BETWEEN :lo AND :hi", {":lo": lo, ":hi": hi}
        if op == "begins_with":
            return f"begins_with({ref}, :v)", {":v": pick()}
        return f"{ref} {op} :v", {":v": pick()}

    def check_case(self, index, hash_name, hash_value, range_name, range_kind):
        rng = self.rng
        # The Scan names the sort key in every case, the Query only with a
        # sort key condition (unused names are an error).
        names = {f"#{hash_name}": hash_name, f"#{range_name}": range_name}
        query_names = {f"#{hash_name}": hash_name}
        values = {":h": hash_value}
        key_condition = f"#{hash_name} = :h"
        # Entries exist only for items that have the index's sort key.
        scan_filter = f"#{hash_name} = :h AND attribute_exists(#{range_name})"
        range_condition, range_values = self.random_range(range_name, range_kind)
        if range_condition:
            key_condition += " AND " + range_condition
            scan_filter += " AND " + range_condition
            values.update(range_values)
            query_names[f"#{range_name}"] = range_name
        query_kw = {}
        if rng.random() < 0.4:
            query_kw["FilterExpression"] = "#x > :x"
            names["#x"] = query_names["#x"] = "x"
            values[":x"] = rng.randrange(100)
            scan_filter += " AND #x > :x"
        if rng.random() < 0.5:
            query_kw["Limit"] = rng.randint(1, 7)
        forward = rng.random() < 0.7
        got = self.query_items(self.table, key_condition, values, IndexName=index,
                               ExpressionAttributeNames=query_names,
                               ScanIndexForward=forward,
                               **query_kw)
        expected = self.scan_items(self.table, FilterExpression=scan_filter,
                                   ExpressionAttributeNames=names,
                                   ExpressionAttributeValues=item_av(values))
        context = f"{index}: {key_condition} / {scan_filter} {values} {query_kw}"
        self.assertCountEqual([canonical(i) for i in got], [canonical(i) for i in expected],
                              context)
        order = [it[range_name] for it in got]
        self.assertEqual(order, sorted(order, reverse=not forward), context)
        return len(expected)

    def test_gsi_query_equals_filtered_scan(self):
        found = 0
        for _ in range(self.CASES):
            found += self.check_case("gsi", "g", self.rng.choice(["red", "green", "blue",
                                                                 "gray", "pink"]), "n", "N")
        self.assertGreater(found, self.CASES)  # The cases are not all empty.

    def test_lsi_query_equals_filtered_scan(self):
        found = 0
        for _ in range(self.CASES):
            found += self.check_case("lsi", "p", f"p{self.rng.randrange(5)}", "l", "S")
        self.assertGreater(found, self.CASES)


if __name__ == "__main__":
    unittest.main()
