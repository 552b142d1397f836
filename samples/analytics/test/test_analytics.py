"""The analytics sample end to end: its README run verbatim (tables, trigger,
generated orders), the aggregates checked against a recomputation from the
raw orders, the live page loaded in headless Chromium, and the aggregates
kept exact when records are delivered again (a second trigger reading the
stream from the start, a kill -9 of the server during delivery)."""

import decimal
import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(SAMPLE_DIR.parent))

from sample_harness import (SampleTestCase, sample_library, shell_blocks,  # noqa: E402
                            text_blocks)
from eddy_server import (ACCESS_KEY, SECRET_KEY, free_port,  # noqa: E402  (tests/compat)
                         wait_until)

README = SAMPLE_DIR / "README.md"
D = decimal.Decimal
OUTPUT_DIR = Path(os.environ.get("EDDY_ANALYTICS_OUTPUT_DIR")
                  or Path(tempfile.gettempdir()) / "eddy-analytics-test-output")

# The README's two tables, for the classes that do not run it.
ORDERS_TABLE = dict(
    TableName="Orders",
    AttributeDefinitions=[{"AttributeName": "OrderId", "AttributeType": "S"}],
    KeySchema=[{"AttributeName": "OrderId", "KeyType": "HASH"}],
    BillingMode="PAY_PER_REQUEST",
    StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
AGGREGATES_TABLE = dict(
    TableName="Aggregates",
    AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t in
                          [("pk", "S"), ("sk", "S"), ("board", "S"), ("revenue", "N")]],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
               {"AttributeName": "sk", "KeyType": "RANGE"}],
    GlobalSecondaryIndexes=[{
        "IndexName": "Leaderboard",
        "KeySchema": [{"AttributeName": "board", "KeyType": "HASH"},
                      {"AttributeName": "revenue", "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": "ALL"}}],
    BillingMode="PAY_PER_REQUEST")


def recompute(orders):
    """What the aggregates must be, from the orders themselves (an
    independent reading of the rules in window_state.h)."""
    minutes, products = {}, {}
    for item in orders:
        try:
            minute = item["OrderedAt"]["S"][:16]
            category = item["Category"]["S"]
            product = item["ProductId"]["S"]
            amount = D(item["Amount"]["N"])
        except KeyError:
            continue
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d", minute) or not (
                category and product):
            continue
        quantity = int(item["Quantity"]["N"]) if "Quantity" in item else 1
        m = minutes.setdefault((minute, category), [D(0), 0])
        m[0] += amount
        m[1] += 1
        p = products.setdefault(product, [D(0), 0, 0])
        p[0] += amount
        p[1] += 1
        p[2] += quantity
    return ({k: (v[0], v[1]) for k, v in minutes.items()},
            {k: tuple(v) for k, v in products.items()})


def png_size(path):
    """(width, height) from a PNG's IHDR chunk."""
    data = Path(path).read_bytes()[:24]
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise AssertionError(f"{path} is not a PNG")
    return struct.unpack(">II", data[16:24])


class AnalyticsTestCase(SampleTestCase):
    """A server whose workers write the aggregates back to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.library = sample_library("analytics")

    def create_trigger(self, table, handler, *options):
        """The handler finds the server, and the credentials to sign with,
        in its workers' environment (the trigger's --env)."""
        return super().create_trigger(
            table, handler, *options,
            "--env", f"EDDY_ANALYTICS_ENDPOINT={self.server.endpoint}",
            "--env", f"AWS_ACCESS_KEY_ID={ACCESS_KEY}",
            "--env", f"AWS_SECRET_ACCESS_KEY={SECRET_KEY}")

    @classmethod
    def create_tables(cls):
        for spec in (ORDERS_TABLE, AGGREGATES_TABLE):
            cls.ddb.create_table(**spec)
            cls.wait_for_status(spec["TableName"], "ACTIVE")

    def generate(self, *args):
        """Runs generate.py against the server; returns what it printed."""
        done = subprocess.run(
            [sys.executable, str(SAMPLE_DIR / "generate.py"),
             "--endpoint-url", self.server.endpoint, *args],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def scan(self, table):
        items, kwargs = [], {"TableName": table, "ConsistentRead": True}
        while True:
            page = self.ddb.scan(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def query(self, **kwargs):
        items = []
        while True:
            page = self.ddb.query(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page or "Limit" in kwargs:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def leaderboard(self, limit=10):
        return self.ddb.query(
            TableName="Aggregates", IndexName="Leaderboard",
            KeyConditionExpression="board = :b",
            ExpressionAttributeValues={":b": {"S": "top-products"}},
            ScanIndexForward=False, Limit=limit)["Items"]

    def assertAggregatesMatchOrders(self):
        """The acceptance: every total in Aggregates equals the recomputation
        from a scan of Orders, and the Leaderboard index gives the top ten
        by revenue, highest first. Returns the recomputed products."""
        want_minutes, want_products = recompute(self.scan("Orders"))
        self.assertTrue(want_minutes and want_products)
        got_minutes = {}
        for item in self.query(TableName="Aggregates", KeyConditionExpression="pk = :p",
                               ExpressionAttributeValues={":p": {"S": "minute-totals"}},
                               ConsistentRead=True):
            key = (item["minute"]["S"], item["category"]["S"])
            self.assertEqual(item["sk"]["S"], f"{key[0]}#{key[1]}")
            value = (D(item["revenue"]["N"]), int(item["orders"]["N"]))
            if value != (0, 0):  # Every order of that minute was cancelled.
                got_minutes[key] = value
        self.assertEqual(got_minutes, want_minutes)

        got_products = {}
        for item in self.query(TableName="Aggregates", KeyConditionExpression="pk = :p",
                               ExpressionAttributeValues={":p": {"S": "product-totals"}},
                               ConsistentRead=True):
            self.assertEqual(item["board"]["S"], "top-products")
            value = (D(item["revenue"]["N"]), int(item["orders"]["N"]),
                     int(item["units"]["N"]))
            if value != (0, 0, 0):
                got_products[item["productId"]["S"]] = value
        self.assertEqual(got_products, want_products)

        board = self.leaderboard()
        self.assertEqual(len(board), min(10, len(want_products)))
        revenues = [D(item["revenue"]["N"]) for item in board]
        self.assertEqual(revenues, sorted(revenues, reverse=True))
        ranked = sorted(want_products.items(), key=lambda kv: -kv[1][0])
        self.assertEqual(revenues, [v[0] for _, v in ranked[:len(board)]])
        for item in board:  # Ties may come in either order, but no other.
            self.assertEqual(want_products[item["productId"]["S"]][0],
                             D(item["revenue"]["N"]))
        return want_products


class AnalyticsReadmeTest(AnalyticsTestCase):
    """The README, verbatim, once for the class; then what it built."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = cls.scratch("eddy-analytics-")
        try:
            cls.checkout = cls.make_checkout(cls.work.name)
            (cls.checkout / "samples").symlink_to(SAMPLE_DIR.parent)
            blocks = shell_blocks(README)
            assert "E=" in blocks[1] and "delete-table" in blocks[-1], "README layout"
            # Everything but the clean-up now; the clean-up (with the
            # block that sets $E) after the tests.
            cls.readme_out = cls("test_readme_output").run_readme(
                cls.readme_part("walkthrough", blocks[:-1]), cls.checkout)
            cls.cleanup_script = cls.readme_part("cleanup", [blocks[1], blocks[-1]])
        except BaseException:
            super().tearDownClass()
            cls.work.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls("test_readme_output").run_readme(cls.cleanup_script, cls.checkout)
            assert cls.ddb.list_tables()["TableNames"] == [], "clean-up left tables"
        finally:
            try:
                super().tearDownClass()
            finally:
                cls.work.cleanup()

    @classmethod
    def readme_part(cls, name, blocks):
        """A file with these ```sh blocks of the README, for run_readme."""
        path = Path(cls.work.name) / f"README-{name}.md"
        path.write_text("".join(f"```sh\n{block}```\n\n" for block in blocks))
        return path

    def generator_top(self):
        """The generator's own top product (its summary's "top 1:" line)."""
        found = re.search(r"^top 1: (\S+) (.+) (\d+\.\d\d)$", self.readme_out, re.M)
        self.assertIsNotNone(found, self.readme_out)
        return found.group(1), found.group(2), D(found.group(3))

    # The README's commands ran verbatim and printed what it shows: the
    # generator's summary (the seed fixes the orders), the top 10 from the
    # index, and the same top 3 after a second trigger delivered it all again.
    def test_readme_output(self):
        summary, top10, _, top3 = text_blocks(README)[1:5]
        for block in (summary, top10, top3):
            self.assertIn(block, self.readme_out)
        product, name, revenue = self.generator_top()
        self.assertTrue(top10.startswith(f"{product}\t{name}\t"))
        self.assertEqual(len(top10.splitlines()), 10)
        again = [line for line in self.handler_lines("analytics")
                 if line.startswith("Orders-again: ") and "already counted" in line]
        self.assertTrue(again, "the second trigger found nothing counted already")

    # The acceptance: the aggregates equal a recomputation from the raw
    # orders (per-minute revenue and count per category, the top 10).
    def test_aggregates_match_orders(self):
        products = self.assertAggregatesMatchOrders()
        product, _, revenue = self.generator_top()
        self.assertEqual(products[product][0], revenue)
        # Backfilled over 10 minutes: that many minutes (or 11) have orders.
        minutes = {m for m, _ in recompute(self.scan("Orders"))[0]}
        self.assertIn(len(minutes), (10, 11))

    # The page: serve.py's JSON, then headless Chromium waits until the
    # leaderboard's first row is the generator's top product, and saves a
    # screenshot.
    def test_page_in_headless_chromium(self):
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            self.skipTest("chromium is not installed (scripts/setup installs it)")
        product, name, _ = self.generator_top()
        port = free_port()
        serve = subprocess.Popen(
            [sys.executable, str(SAMPLE_DIR / "serve.py"), "--port", str(port),
             "--endpoint-url", self.server.endpoint],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: (serve.kill(), serve.wait(), serve.stdout.close()))
        url = f"http://127.0.0.1:{port}/"

        def api():
            try:
                with urllib.request.urlopen(url + "api/aggregates", timeout=5) as r:
                    return r.read().decode()
            except OSError:
                return None
        self.assertIn(f'"productId": "{product}"', wait_until(api, 20, 0.1, "serve.py"))

        profile = tempfile.mkdtemp(prefix="eddy-analytics-chromium-")
        self.addCleanup(shutil.rmtree, profile, True)
        browser = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                   "--disable-dev-shm-usage", "--no-first-run",
                   "--no-default-browser-check", f"--user-data-dir={profile}",
                   "--hide-scrollbars", "--window-size=1200,900",
                   "--virtual-time-budget=5000"]
        deadline = time.monotonic() + 60
        dom = ""
        while True:
            dom = subprocess.run(browser + ["--dump-dom", url], capture_output=True,
                                 text=True, timeout=60).stdout
            first = re.search(r'<tr class="row[^"]*" data-rank="1" '
                              r'data-product-id="([^"]+)"', dom)
            if first and first.group(1) == product:
                break
            if time.monotonic() > deadline:
                self.fail(f"the page never showed {product} first:\n{dom[-3000:]}")
            time.sleep(0.5)
        self.assertIn(html.escape(name, quote=False), dom)
        self.assertRegex(dom, r'<rect [^>]*data-minute="')  # The chart has bars.

        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
        png = OUTPUT_DIR / "analytics-page.png"
        if png.exists():
            png.unlink()
        subprocess.run(browser + [f"--screenshot={png}", url], capture_output=True,
                       timeout=60)
        self.assertTrue(png.exists(), f"no screenshot at {png}")
        self.assertEqual(png_size(png), (1200, 900))
        self.assertGreater(png.stat().st_size, 20_000, "a blank page?")
        print(f"screenshot: {png}", file=sys.stderr)


class AnalyticsRedeliveryTest(AnalyticsTestCase):
    """At-least-once delivery: records delivered again are counted once."""

    def setUp(self):
        # Fresh tables (and no triggers) for each test.
        names = self.ddb.list_tables()["TableNames"]
        for table in ("Orders", "Aggregates"):
            if table in names:
                self.ddb.delete_table(TableName=table)
                self.wait_for_table_gone(table)
        self.create_tables()

    def tearDown(self):
        listed = json.loads(self.eddy("trigger", "list", "--json").stdout)["Triggers"]
        for trigger in listed:
            self.eddy("trigger", "delete", trigger["Name"])

    # A second trigger reads the Orders stream from the start while the
    # first keeps up with new orders: both deliver every record, with other
    # batch boundaries (batch size 7 against 100), and the aggregates still
    # equal the orders.
    def test_second_trigger_counts_nothing_twice(self):
        self.create_trigger("Orders", self.library, "--tumbling-window", "60")
        self.generate("--orders", "400", "--rate", "0", "--seed", "11",
                      "--backfill-minutes", "4")
        self.wait_triggers("Orders")
        self.assertAggregatesMatchOrders()
        self.create_trigger("Orders", self.library, "--tumbling-window", "60",
                            "--name", "Orders-again", "--batch-size", "7")
        self.generate("--orders", "150", "--rate", "0", "--seed", "12",
                      "--cancel-rate", "0.1", "--amend-rate", "0.1")
        self.wait_triggers("Orders")
        self.assertAggregatesMatchOrders()
        skipped = [line for line in self.handler_lines("analytics")
                   if "delivered again, already counted" in line]
        self.assertTrue(skipped, "the second trigger found nothing counted")

    # What counts, as window_state.h says: INSERT adds, REMOVE subtracts, a
    # MODIFY moves an order between minutes, categories and amounts; Amount
    # in any number form; Quantity and ProductName optional; items that are
    # not orders count for nothing.
    def test_what_counts_as_an_order(self):
        self.create_trigger("Orders", self.library, "--tumbling-window", "60")

        def order(order_id, minute, category, product, amount, **more):
            item = {"OrderId": {"S": order_id}, "OrderedAt": {"S": minute + ":07.250Z"},
                    "Category": {"S": category}, "ProductId": {"S": product}}
            if amount is not None:
                item["Amount"] = amount
            item.update(more)
            self.ddb.put_item(TableName="Orders", Item=item)

        order("o1", "2026-01-02T03:04", "toys", "P1", {"N": "10.5"},
              Quantity={"N": "2"}, ProductName={"S": "Kite"})
        order("o2", "2026-01-02T03:04", "toys", "P2", {"N": "1E+2"})
        order("o3", "2026-01-02T03:05", "books", "P1", {"N": "0.99"},
              ProductName={"S": "Kite"})
        order("x1", "2026-01-02T03:04", "toys", "P1", None,              # no Amount
              ProductName={"S": "Kite"})
        order("x2", "2026-01-02T03:04", "toys", "P1", {"S": "12"})       # Amount not N
        order("x3", "yesterday, noon", "toys", "P1", {"N": "5"})         # no minute
        order("x4", "2026-01-02T03:04", "", "P1", {"N": "5"})            # no category
        self.ddb.update_item(  # o3 moves to another minute and category.
            TableName="Orders", Key={"OrderId": {"S": "o3"}},
            UpdateExpression="SET OrderedAt = :t, Category = :c, Amount = :a",
            ExpressionAttributeValues={":t": {"S": "2026-01-02T03:06:00.000Z"},
                                       ":c": {"S": "garden"}, ":a": {"N": "7"}})
        self.ddb.delete_item(TableName="Orders", Key={"OrderId": {"S": "o1"}})
        self.ddb.update_item(  # x1 becomes an order.
            TableName="Orders", Key={"OrderId": {"S": "x1"}},
            UpdateExpression="SET Amount = :a", ExpressionAttributeValues={":a": {"N": "3"}})
        self.wait_triggers("Orders")
        products = self.assertAggregatesMatchOrders()
        self.assertEqual(products, {"P1": (D("10"), 2, 2), "P2": (D("100"), 1, 1)})
        board = self.leaderboard()
        self.assertEqual([(i["productId"]["S"], i["name"]["S"], i["revenue"]["N"])
                          for i in board], [("P2", "P2", "100"), ("P1", "Kite", "10")])

    # kill -9 of the server (and its workers, possibly between a part's
    # write and its totals) while the trigger works through a backlog; after
    # the restart the aggregates equal the orders.
    def test_kill9_during_delivery(self):
        self.generate("--orders", "300", "--rate", "0", "--seed", "21",
                      "--cancel-rate", "0.05", "--amend-rate", "0.05")
        self.create_trigger("Orders", self.library, "--tumbling-window", "60",
                            "--batch-size", "5", "--name", "Orders-k")

        def handled():
            metrics = self.status("Orders-k")["Metrics"]
            return metrics if metrics["RecordsHandled"] >= 50 else None
        metrics = wait_until(handled, 60, 0.01, "the first 50 records")
        self.server.kill9()
        print(f"killed with {metrics['PendingRecords']} records pending", file=sys.stderr)
        self.server.restart()
        self.wait_triggers("Orders")
        self.assertAggregatesMatchOrders()


if __name__ == "__main__":
    unittest.main()
