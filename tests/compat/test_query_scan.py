"""Query and Scan: key conditions, filters, ordering, Limit, Select,
pagination, the 1 MB page limit, Count/ScannedCount and parallel Scan."""

import unittest

from eddy_server import EddyTestCase, item_av

ONE_MB = 1024 * 1024


def number_size(text):
    """DynamoDB's size of a number: ~1 byte per 2 significant digits + 1."""
    digits = text.lstrip("-").replace(".", "").strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def item_size(item):
    """DynamoDB's item size formula for items of S, N and B attributes."""
    size = 0
    for name, value in item.items():
        (kind, inner), = value.items()
        size += len(name.encode())
        if kind == "S":
            size += len(inner.encode())
        elif kind == "B":
            size += len(inner)
        elif kind == "N":
            size += number_size(inner)
        else:
            raise ValueError(kind)
    return size


def sort_keys(items, name="c"):
    return [int(i[name]["N"]) for i in items]


class QueryTest(EddyTestCase):
    """Partition 'A' holds c = 0..19 (v = c, odd = c % 2); partition 'B' holds c = 0..2."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"), range_key=("c", "N"))
        for c in range(20):
            cls.ddb.put_item(TableName=cls.table, Item=item_av(
                {"p": "A", "c": c, "v": c, "odd": c % 2, "tag": f"t{c:02d}"}))
        for c in range(3):
            cls.ddb.put_item(TableName=cls.table, Item=item_av({"p": "B", "c": c}))
        cls.strings = cls.create_table(hash_key=("p", "S"), range_key=("c", "S"))
        for c in ("apple", "apricot", "banana", "blueberry", "cherry"):
            cls.ddb.put_item(TableName=cls.strings, Item=item_av({"p": "fruit", "c": c}))

    def query(self, condition, values, **kw):
        return self.ddb.query(TableName=self.table, KeyConditionExpression=condition,
                              ExpressionAttributeValues=item_av(values), **kw)

    def test_partition_equality_returns_partition_in_order(self):
        """p = :p returns exactly that partition, ascending by sort key."""
        page = self.query("p = :p", {":p": "A"})
        self.assertEqual(sort_keys(page["Items"]), list(range(20)))
        self.assertEqual(page["Count"], 20)
        self.assertEqual(page["ScannedCount"], 20)
        self.assertNotIn("LastEvaluatedKey", page)

    def test_sort_key_operators(self):
        """=, <, <=, >, >= and BETWEEN select sort key ranges."""
        cases = [("c = :x", {":x": 7}, [7]), ("c < :x", {":x": 3}, [0, 1, 2]),
                 ("c <= :x", {":x": 2}, [0, 1, 2]), ("c > :x", {":x": 17}, [18, 19]),
                 ("c >= :x", {":x": 18}, [18, 19]),
                 ("c BETWEEN :x AND :y", {":x": 5, ":y": 8}, [5, 6, 7, 8])]
        for condition, values, expected in cases:
            with self.subTest(condition=condition):
                page = self.query(f"p = :p AND {condition}", {":p": "A", **values})
                self.assertEqual(sort_keys(page["Items"]), expected)

    def test_reversed_operand_order(self):
        """:x > c is the same condition as c < :x."""
        page = self.query(":x > c AND p = :p", {":p": "A", ":x": 2})
        self.assertEqual(sort_keys(page["Items"]), [0, 1])

    def test_begins_with_on_string_sort_key(self):
        """begins_with(c, :prefix) selects sort keys with that prefix."""
        page = self.ddb.query(TableName=self.strings,
                              KeyConditionExpression="p = :p AND begins_with(c, :pre)",
                              ExpressionAttributeValues=item_av({":p": "fruit", ":pre": "ap"}))
        self.assertEqual([i["c"]["S"] for i in page["Items"]], ["apple", "apricot"])

    def test_names_in_key_condition(self):
        """#names work in KeyConditionExpression."""
        page = self.ddb.query(TableName=self.table, KeyConditionExpression="#h = :p AND #r < :x",
                              ExpressionAttributeNames={"#h": "p", "#r": "c"},
                              ExpressionAttributeValues=item_av({":p": "A", ":x": 2}))
        self.assertEqual(sort_keys(page["Items"]), [0, 1])

    def test_scan_index_forward_false(self):
        """ScanIndexForward=false returns the partition in descending order."""
        page = self.query("p = :p", {":p": "A"}, ScanIndexForward=False)
        self.assertEqual(sort_keys(page["Items"]), list(range(19, -1, -1)))

    def test_empty_partition(self):
        """A partition without items yields Count 0 and no Items."""
        page = self.query("p = :p", {":p": "nobody"})
        self.assertEqual((page["Items"], page["Count"], page["ScannedCount"]), ([], 0, 0))

    def test_limit_stops_with_last_evaluated_key(self):
        """Limit=5 returns 5 items and a LastEvaluatedKey naming the fifth."""
        page = self.query("p = :p", {":p": "A"}, Limit=5)
        self.assertEqual(sort_keys(page["Items"]), [0, 1, 2, 3, 4])
        self.assertEqual(page["LastEvaluatedKey"], item_av({"p": "A", "c": 4}))

    def test_exclusive_start_key_resumes(self):
        """ExclusiveStartKey continues right after the given key."""
        page = self.query("p = :p", {":p": "A"}, Limit=3,
                          ExclusiveStartKey=item_av({"p": "A", "c": 9}))
        self.assertEqual(sort_keys(page["Items"]), [10, 11, 12])

    def test_exclusive_start_key_backwards(self):
        """Paging also works with ScanIndexForward=false."""
        items, pages = self.query_all(self.table, KeyConditionExpression="p = :p",
                                      ExpressionAttributeValues=item_av({":p": "A"}),
                                      ScanIndexForward=False, Limit=6)
        self.assertEqual(sort_keys(items), list(range(19, -1, -1)))
        self.assertGreaterEqual(len(pages), 4)

    def test_paging_to_completion(self):
        """Following LastEvaluatedKey with Limit=3 visits every item once, in order."""
        items, pages = self.query_all(self.table, KeyConditionExpression="p = :p",
                                      ExpressionAttributeValues=item_av({":p": "A"}), Limit=3)
        self.assertEqual(sort_keys(items), list(range(20)))
        self.assertIn(len(pages), (7, 8))
        for page in pages:
            self.assertLessEqual(page["Count"], 3)

    def test_filter_counts(self):
        """A FilterExpression reduces Count but not ScannedCount."""
        page = self.query("p = :p", {":p": "A", ":one": 1}, FilterExpression="odd = :one")
        self.assertEqual(sort_keys(page["Items"]), list(range(1, 20, 2)))
        self.assertEqual(page["Count"], 10)
        self.assertEqual(page["ScannedCount"], 20)

    def test_limit_applies_before_filter(self):
        """Limit counts items read, so a filtered page may hold fewer than Limit."""
        page = self.query("p = :p", {":p": "A", ":one": 1}, FilterExpression="odd = :one",
                          Limit=5)
        self.assertEqual(sort_keys(page["Items"]), [1, 3])
        self.assertEqual(page["ScannedCount"], 5)
        self.assertEqual(page["LastEvaluatedKey"], item_av({"p": "A", "c": 4}))

    def test_filter_on_key_attribute_rejected(self):
        """A FilterExpression may not use key attributes in a Query."""
        with self.assertValidationError(
                "Filter Expression can only contain non-primary key attributes: "
                "Primary key attribute: c"):
            self.query("p = :p", {":p": "A", ":x": 1}, FilterExpression="c > :x")

    def test_select_count(self):
        """Select=COUNT returns counts and no Items."""
        page = self.query("p = :p", {":p": "A", ":one": 1}, Select="COUNT",
                          FilterExpression="odd = :one")
        self.assertNotIn("Items", page)
        self.assertEqual((page["Count"], page["ScannedCount"]), (10, 20))

    def test_select_specific_attributes(self):
        """Select=SPECIFIC_ATTRIBUTES with ProjectionExpression returns those attributes."""
        page = self.query("p = :p AND c < :x", {":p": "A", ":x": 2},
                          Select="SPECIFIC_ATTRIBUTES", ProjectionExpression="v, tag")
        self.assertEqual(page["Items"], [item_av({"v": 0, "tag": "t00"}),
                                         item_av({"v": 1, "tag": "t01"})])

    def test_select_all_attributes(self):
        """Select=ALL_ATTRIBUTES returns whole items."""
        page = self.query("p = :p AND c = :x", {":p": "A", ":x": 3}, Select="ALL_ATTRIBUTES")
        self.assertEqual(page["Items"], [item_av({"p": "A", "c": 3, "v": 3, "odd": 1,
                                                  "tag": "t03"})])

    def test_select_all_attributes_with_projection_rejected(self):
        """ALL_ATTRIBUTES and a ProjectionExpression contradict each other."""
        with self.assertValidationError(regex=r"Cannot specify the ProjectionExpression when "
                                              r"choosing to get ALL_ATTRIBUTES"):
            self.query("p = :p", {":p": "A"}, Select="ALL_ATTRIBUTES", ProjectionExpression="v")

    def test_projection_expression(self):
        """ProjectionExpression trims returned items."""
        page = self.query("p = :p AND c = :x", {":p": "A", ":x": 5}, ProjectionExpression="tag")
        self.assertEqual(page["Items"], [item_av({"tag": "t05"})])

    def test_consistent_read(self):
        """ConsistentRead queries see acknowledged writes."""
        self.put(self.table, {"p": "C", "c": 1})
        page = self.query("p = :p", {":p": "C"}, ConsistentRead=True)
        self.assertEqual(page["Count"], 1)

    def test_missing_key_condition(self):
        """Query needs a key condition."""
        with self.assertValidationError(regex=r"KeyConditionExpression"):
            self.ddb.query(TableName=self.table)

    def test_key_condition_without_partition_key(self):
        """A key condition must pin the partition key."""
        with self.assertValidationError("Query condition missed key schema element: p"):
            self.query("c = :x", {":x": 1})

    def test_partition_key_inequality_rejected(self):
        """The partition key only supports equality."""
        with self.assertValidationError(regex=r"^Query key condition not supported"):
            self.query("p > :p", {":p": "A"})

    def test_key_condition_on_non_key_attribute(self):
        """Non-key attributes may not appear in a key condition."""
        with self.assertValidationError(regex=r"^Query condition missed key schema element|"
                                              r"^Query key condition not supported"):
            self.query("p = :p AND v = :x", {":p": "A", ":x": 1})

    def test_or_in_key_condition_rejected(self):
        """OR is not a key condition operator."""
        with self.assertValidationError(
                "Invalid operator used in KeyConditionExpression: OR"):
            self.query("p = :p OR p = :q", {":p": "A", ":q": "B"})

    def test_begins_with_on_number_sort_key_rejected(self):
        """begins_with only applies to string and binary sort keys."""
        with self.assertValidationError():
            self.query("p = :p AND begins_with(c, :x)", {":p": "A", ":x": "1"})

    def test_hash_only_table(self):
        """Query on a table without sort key returns the one matching item."""
        table = self.create_table()
        self.put(table, {"p": "x", "v": 1})
        self.put(table, {"p": "y", "v": 2})
        page = self.ddb.query(TableName=table, KeyConditionExpression="p = :p",
                              ExpressionAttributeValues=item_av({":p": "y"}))
        self.assertEqual(page["Items"], [item_av({"p": "y", "v": 2})])


class ScanTest(EddyTestCase):
    """60 items over 20 partitions: p = k00..k19, c = 0..2, n = 3 * i + c."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"), range_key=("c", "N"))
        cls.keys = set()
        for i in range(20):
            for c in range(3):
                cls.ddb.put_item(TableName=cls.table, Item=item_av(
                    {"p": f"k{i:02d}", "c": c, "n": 3 * i + c}))
                cls.keys.add((f"k{i:02d}", c))

    @staticmethod
    def keys_of(items):
        return [(i["p"]["S"], int(i["c"]["N"])) for i in items]

    def test_scan_returns_everything(self):
        """A Scan without options returns every item once."""
        items, _ = self.scan_all(self.table)
        self.assertCountEqual(self.keys_of(items), self.keys)

    def test_paging_with_limit(self):
        """Scan with Limit=7 pages through every item exactly once."""
        items, pages = self.scan_all(self.table, Limit=7)
        self.assertCountEqual(self.keys_of(items), self.keys)
        self.assertEqual(len(self.keys_of(items)), len(set(self.keys_of(items))))
        self.assertGreaterEqual(len(pages), 9)
        for page in pages[:-1]:
            self.assertEqual(page["ScannedCount"], 7)

    def test_partition_items_stay_in_sort_order(self):
        """Within a partition a Scan returns items in sort key order."""
        items, _ = self.scan_all(self.table, Limit=4)
        by_partition = {}
        for p, c in self.keys_of(items):
            by_partition.setdefault(p, []).append(c)
        for p, cs in by_partition.items():
            self.assertEqual(cs, [0, 1, 2], p)

    def test_exclusive_start_key_resumes(self):
        """ExclusiveStartKey resumes a Scan exactly where the last page stopped."""
        first = self.ddb.scan(TableName=self.table, Limit=10)
        rest, _ = self.scan_all(self.table, ExclusiveStartKey=first["LastEvaluatedKey"])
        self.assertCountEqual(self.keys_of(first["Items"]) + self.keys_of(rest), self.keys)

    def test_filter_counts(self):
        """FilterExpression keeps matching items; ScannedCount counts all read."""
        page = self.ddb.scan(TableName=self.table, FilterExpression="c = :zero",
                             ExpressionAttributeValues=item_av({":zero": 0}))
        self.assertEqual(page["Count"], 20)
        self.assertEqual(page["ScannedCount"], 60)
        self.assertGreater(page["ScannedCount"], page["Count"])

    def test_filter_may_use_keys_in_scan(self):
        """Unlike Query, a Scan filter may test key attributes."""
        page = self.ddb.scan(TableName=self.table, FilterExpression="p = :p",
                             ExpressionAttributeValues=item_av({":p": "k07"}))
        self.assertCountEqual(self.keys_of(page["Items"]), [("k07", 0), ("k07", 1), ("k07", 2)])

    def test_select_count(self):
        """Select=COUNT returns only counts."""
        page = self.ddb.scan(TableName=self.table, Select="COUNT")
        self.assertNotIn("Items", page)
        self.assertEqual((page["Count"], page["ScannedCount"]), (60, 60))

    def test_projection(self):
        """ProjectionExpression trims scanned items."""
        page = self.ddb.scan(TableName=self.table, ProjectionExpression="n",
                             FilterExpression="p = :p AND c = :c",
                             ExpressionAttributeValues=item_av({":p": "k01", ":c": 2}))
        self.assertEqual(page["Items"], [item_av({"n": 5})])

    def test_segments_partition_the_table(self):
        """The segments of a parallel Scan are disjoint and together are the full Scan."""
        for total in (1, 2, 4, 7):
            with self.subTest(total=total):
                seen = []
                for segment in range(total):
                    items, _ = self.scan_all(self.table, Segment=segment, TotalSegments=total,
                                             Limit=5)
                    seen.extend(self.keys_of(items))
                self.assertEqual(len(seen), len(set(seen)), "segments overlap")
                self.assertEqual(set(seen), self.keys)

    def test_segments_keep_partitions_whole(self):
        """All items of one partition fall into the same segment."""
        owner = {}
        for segment in range(4):
            items, _ = self.scan_all(self.table, Segment=segment, TotalSegments=4)
            for p, _c in self.keys_of(items):
                self.assertEqual(owner.setdefault(p, segment), segment, p)

    def test_segment_out_of_range(self):
        """Segment must be below TotalSegments."""
        with self.assertValidationError(regex=r"Segment"):
            self.ddb.scan(TableName=self.table, Segment=4, TotalSegments=4)

    def test_segment_without_total(self):
        """Segment and TotalSegments come together."""
        with self.assertValidationError(regex=r"TotalSegments"):
            self.ddb.scan(TableName=self.table, Segment=0)

    def test_total_segments_limit(self):
        """TotalSegments is at most 1,000,000."""
        with self.assertValidationError(regex=r"totalSegments|TotalSegments"):
            self.ddb.scan(TableName=self.table, Segment=0, TotalSegments=1000001)


class PageSizeTest(EddyTestCase):
    """A page stops once it has read 1 MB of items, then LastEvaluatedKey continues."""

    ITEMS = 30
    PAYLOAD = 100_000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.create_table(hash_key=("p", "S"), range_key=("c", "N"))
        cls.sizes = {}
        for c in range(cls.ITEMS):
            item = {"p": {"S": "big"}, "c": {"N": str(c)},
                    "payload": {"B": bytes([c]) * cls.PAYLOAD}}
            cls.ddb.put_item(TableName=cls.table, Item=item)
            cls.sizes[c] = item_size(item)

    def assertPagesNearOneMegabyte(self, pages):
        largest = max(self.sizes.values())
        for page in pages[:-1]:
            read = sum(self.sizes[int(i["c"]["N"])] for i in page["Items"])
            self.assertIn("LastEvaluatedKey", page)
            self.assertGreater(read, ONE_MB - largest, "page stopped well before 1 MB")
            self.assertLessEqual(read, ONE_MB + largest, "page went well past 1 MB")

    def test_query_pages_stop_near_one_megabyte(self):
        """A Query over 3 MB returns ~1 MB pages that together hold every item."""
        items, pages = self.query_all(self.table, KeyConditionExpression="p = :p",
                                      ExpressionAttributeValues={":p": {"S": "big"}})
        self.assertGreaterEqual(len(pages), 3)
        self.assertPagesNearOneMegabyte(pages)
        self.assertEqual(sort_keys(items), list(range(self.ITEMS)))

    def test_scan_pages_stop_near_one_megabyte(self):
        """A Scan over 3 MB returns ~1 MB pages that together hold every item."""
        items, pages = self.scan_all(self.table)
        self.assertGreaterEqual(len(pages), 3)
        self.assertPagesNearOneMegabyte(pages)
        self.assertEqual(sorted(sort_keys(items)), list(range(self.ITEMS)))

    def test_filtered_pages_still_stop_at_one_megabyte(self):
        """The 1 MB limit counts items read, even when the filter drops them all."""
        page = self.ddb.query(TableName=self.table, KeyConditionExpression="p = :p",
                              FilterExpression="attribute_not_exists(payload)",
                              ExpressionAttributeValues={":p": {"S": "big"}})
        self.assertEqual(page["Count"], 0)
        self.assertIn("LastEvaluatedKey", page)
        self.assertLess(page["ScannedCount"], self.ITEMS)

    def test_select_count_pages_too(self):
        """Select=COUNT is paged by the same 1 MB limit."""
        _, pages = self.query_all(self.table, KeyConditionExpression="p = :p", Select="COUNT",
                                  ExpressionAttributeValues={":p": {"S": "big"}})
        self.assertGreaterEqual(len(pages), 3)
        self.assertEqual(sum(p["Count"] for p in pages), self.ITEMS)


if __name__ == "__main__":
    unittest.main()
