"""The employees sample end to end: its README run verbatim against a real
server, and the handler's one-line format for every event and value type."""

import sys
import unittest
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SAMPLE_DIR.parent))

from sample_harness import SampleTestCase, sample_library, text_blocks  # noqa: E402

README = SAMPLE_DIR / "README.md"

# What the README's writes must produce, exactly.
WALKTHROUGH_LINES = [
    'INSERT Employees[Department="IT", EmployeeID="E001"]: Name="John Doe", Salary=75000',
    'INSERT Employees[Department="HR", EmployeeID="E002"]: Name="Jane Smith", Salary=85000',
    'MODIFY Employees[Department="IT", EmployeeID="E001"]: Salary 75000 -> 77500',
    'REMOVE Employees[Department="HR", EmployeeID="E002"]',
]


class EmployeesSampleTest(SampleTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.library = sample_library("employees")

    def assertSameLinesInItemOrder(self, seen, expected, key_of):
        """The same lines, and each item's lines in the expected order (the
        items themselves may interleave: different shards)."""
        self.assertEqual(sorted(seen), sorted(expected))
        for key in {key_of(line) for line in expected}:
            self.assertEqual([l for l in seen if key_of(l) == key],
                             [l for l in expected if key_of(l) == key], key)

    # The acceptance: the README's commands, verbatim, give exactly the four
    # lines it shows (and the query returns John Doe).
    def test_readme_walkthrough_logs_one_line_per_change(self):
        with self.scratch("eddy-employees-") as tmp:
            out = self.run_readme(README, self.make_checkout(tmp))
        self.assertIn('"John Doe"', out)
        self.assertIn('"RecordsHandled": 4', out)
        self.assertEqual(text_blocks(README)[-1].splitlines(), WALKTHROUGH_LINES)
        seen = [line for line in self.handler_lines("employees")
                if line.startswith(("INSERT Employees[", "MODIFY Employees[",
                                    "REMOVE Employees["))]
        self.assertSameLinesInItemOrder(seen, WALKTHROUGH_LINES,
                                        key_of=lambda l: l.split("]")[0][7:])

    # The format rules the README states: keys in brackets, an INSERT's
    # attributes, a MODIFY's changes (added, removed, changed), JSON-quoted
    # strings (a newline stays escaped: one line per change), other types in
    # DynamoDB JSON, a REMOVE with its key only.
    def test_every_event_and_value_type(self):
        table = self.create_table(hash_key=("id", "S"), range_key=("n", "N"),
                                  StreamSpecification={
                                      "StreamEnabled": True,
                                      "StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.create_trigger(table, self.library)
        key = {"id": {"S": "a\"b"}, "n": {"N": "1.50"}}
        self.ddb.put_item(TableName=table, Item={
            **key, "note": {"S": "two\nlines"}, "ok": {"BOOL": True},
            "gone": {"NULL": True}, "tags": {"SS": ["x"]},
            "doc": {"M": {"k": {"L": [{"N": "1"}]}}}, "raw": {"B": b"\x00\xff"}})
        self.ddb.update_item(
            TableName=table, Key=key,
            UpdateExpression="SET ok = :f, added = :a REMOVE note, gone",
            ExpressionAttributeValues={":f": {"BOOL": False}, ":a": {"N": "7"}})
        self.ddb.delete_item(TableName=table, Key=key)
        self.wait_triggers(table)
        prefix = f'{table}[id="a\\"b", n=1.5]'
        self.assertEqual(
            [line for line in self.handler_lines("employees") if table in line], [
                f'INSERT {prefix}: doc={{"M":{{"k":{{"L":[{{"N":"1"}}]}}}}}}, '
                'gone=null, note="two\\nlines", ok=true, raw={"B":"AP8="}, '
                'tags={"SS":["x"]}',
                f'MODIFY {prefix}: gone null -> (none), note "two\\nlines" -> (none), '
                'ok true -> false, added (none) -> 7',
                f'REMOVE {prefix}',
            ])


if __name__ == "__main__":
    unittest.main()
