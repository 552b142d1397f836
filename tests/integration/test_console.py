"""The web console (/console/) in headless Chromium against a real server:
tables with item counts and the paged item browser, streams and shards,
triggers with live counters and recent errors; and, on a server with
--auth, the console under the policy model (a visitor without keys is
asked to sign in, each identity sees what its policy allows and the
server's denial for the rest, keys live in sessionStorage only).

Screenshots go to $EDDY_TEST_OUTPUT_DIR (ctest sets build/test-output/
console), else a temporary directory; each test prints where."""

import json
import os
import sys
import tempfile
import unittest
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from trigger_harness import TriggerTestCase  # noqa: E402  (adds tests/compat)
from chromium import Browser, find_chromium  # noqa: E402
from eddy_server import (ACCESS_KEY, ALLOW_ALL, SECRET_KEY, item_av,  # noqa: E402
                         write_auth_file)

OUTPUT_DIR = Path(os.environ.get("EDDY_TEST_OUTPUT_DIR")
                  or Path(tempfile.gettempdir()) / "eddy-console-test-output")
XSS = '<img src=x onerror="window.__xss = 1">'
VIEWER = ("viewer", "AKIDCONSOLEVIEWER", "console-viewer-secret")
NOBODY = ("nobody", "AKIDCONSOLENOBODY", "console-nobody-secret")


def table_arn(name):
    return f"arn:aws:dynamodb:us-east-1:000000000000:table/{name}"


class ConsoleTestCase(TriggerTestCase):
    """A server with two tables (Orders with a stream and 61 items, Plain
    with 3) and one Chromium for the class."""

    anonymous = True  # Each class chooses its own mode.

    @classmethod
    def setUpClass(cls):
        find_chromium()
        super().setUpClass()
        cls.orders = cls.create_table(name="Orders", StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        cls.plain = cls.create_table(name="Plain")
        for i in range(60):
            cls.ddb.put_item(TableName="Orders", Item=item_av(
                {"p": f"order-{i:02d}", "amount": i, "tags": {"a", "b"}}))
        cls.ddb.put_item(TableName="Orders", Item=item_av({"p": "order-xss", "note": XSS}))
        for i in range(3):
            cls.ddb.put_item(TableName="Plain", Item=item_av({"p": f"plain-{i}"}))
        cls.browser = Browser().start()
        cls.addClassCleanup(cls.browser.close)
        OUTPUT_DIR.mkdir(parents=True, exist_ok=True)

    def setUp(self):
        # Every test starts from a page without keys (the tab's
        # sessionStorage outlives a navigation: clear it, then load afresh).
        self.open("tables")
        self.browser.evaluate("sessionStorage.clear()")
        self.open("tables")

    def tearDown(self):
        self.assertEqual(self.browser.page_errors(), [], "the page reported errors")

    # -- verbs -----------------------------------------------------------------

    def open(self, view):
        """Loads /console/#/<view> as a new document and waits for its
        first render."""
        b = self.browser
        b.navigate("about:blank")
        b.navigate(f"{self.server.endpoint}/console/#/{view}")
        b.wait_for("(() => { const v = document.getElementById('view');"
                   " return v && v.dataset.loaded; })()", what="the first render")

    def act(self, script, route=None):
        """Runs `script` (a click, a hash change, ...) and waits until the
        view shows a render started after it (of `route`, when given): the
        page re-renders by itself every few seconds, so "something
        changed" is not enough."""
        before = int(self.browser.evaluate(
            "document.getElementById('view').dataset.started || 0"))
        self.browser.evaluate(script)
        check = "" if route is None else f" && v.dataset.route === {json.dumps(route)}"
        self.browser.wait_for(
            f"(() => {{ const v = document.getElementById('view');"
            f" return Number(v.dataset.started) > {before}"
            f" && v.dataset.loaded === v.dataset.started{check}; }})()",
            what=f"the view to render after {script}")

    def go(self, view):
        """Navigates inside the page (a hash change, as a click on a link)."""
        self.act(f"location.hash = {json.dumps('#/' + view)}", route=f"#/{view}")

    def text(self, selector):
        return self.browser.evaluate(
            f"[...document.querySelectorAll({json.dumps(selector)})].map(e => e.textContent)")

    def click(self, selector):
        self.browser.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def sign_in(self, key, secret):
        """Fills in the sign-in form and submits it, as a user would."""
        self.click("#sign-in-button")
        self.act(
            f"document.getElementById('access-key-id').value = {json.dumps(key)};"
            f"document.getElementById('secret-access-key').value = {json.dumps(secret)};"
            "document.getElementById('sign-in-submit').click()")

    def error_types(self):
        return self.text("#view .error strong")

    def screenshot(self, name):
        path = self.browser.screenshot(OUTPUT_DIR / f"{name}.png")
        self.assertGreater(path.stat().st_size, 10_000, f"{path}: a blank page?")
        print(f"screenshot: {path}", file=sys.stderr)

    def get(self, path):
        """GET without following redirects: (status, headers, body)."""
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(self.server.endpoint + path, timeout=10) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def all_keys(self, table):
        return sorted(i["p"]["S"] for i in self.ddb.scan(TableName=table)["Items"])


class ConsoleAnonymousTest(ConsoleTestCase):
    """An anonymous server on loopback: the console works without keys."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        runner = cls("test_static_files")
        dlq = runner.dlq_path("broken")
        runner.create_trigger("Orders", "ok", "--name", "audit")
        runner.create_trigger("Orders", "returns_failure", "--name", "broken",
                              "--max-retries", "0", "--on-failure", f"file:{dlq}")
        runner.wait_triggers()

    # The files are public and locked down: a CSP that allows only the
    # console's own scripts and same-origin requests, no framing, no
    # sniffing; /console redirects to /console/.
    def test_static_files(self):
        status, headers, _ = self.get("/console")
        self.assertEqual((status, headers["Location"]), (301, "/console/"))
        status, headers, body = self.get("/console/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn(b'<script type="module" src="console.js">', body)
        csp = headers["Content-Security-Policy"]
        for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'",
                          "frame-ancestors 'none'"):
            self.assertIn(directive, csp)
        self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
        for name, kind in (("console.js", "text/javascript"), ("sigv4.js", "text/javascript"),
                           ("console.css", "text/css")):
            status, headers, body = self.get(f"/console/{name}?v=1")
            self.assertEqual(status, 200, name)
            self.assertTrue(headers["Content-Type"].startswith(kind), name)
            self.assertGreater(len(body), 500)
        self.assertEqual(self.get("/console/../metrics")[0], 404)
        self.assertEqual(self.get("/console/nothing.js")[0], 404)

    # Every table with its item count; a write shows up without reloading
    # the page (the list refreshes itself).
    def test_tables_show_item_counts_live(self):
        counts = dict(zip(self.text("#tables tbody tr td:first-child"),
                          self.text("#tables tbody tr td.item-count")))
        self.assertEqual(counts, {"Orders": str(len(self.all_keys("Orders"))), "Plain": "3"})
        self.browser.evaluate("window.__same_page = true")
        self.ddb.put_item(TableName="Plain", Item=item_av({"p": "plain-live"}))
        self.browser.wait_for(
            "document.querySelector('#tables tr[data-table=\"Plain\"] td.item-count')"
            ".textContent === '4'", what="Plain's count to become 4")
        self.assertTrue(self.browser.evaluate("window.__same_page"))
        self.screenshot("tables")
        self.ddb.delete_item(TableName="Plain", Key=item_av({"p": "plain-live"}))

    # The browser pages through a table 25 items at a time: every item
    # exactly once, Previous goes back, and item values are text (an
    # attribute holding HTML stays text and runs nothing).
    def test_item_browser_pages_through_every_item(self):
        self.go("tables/Orders")
        self.assertEqual(self.text("#view .summary .item-count"),
                         [str(len(self.all_keys("Orders")))])
        pages = []
        while True:
            keys = self.text("#items tbody tr td[data-attr='p']")
            pages.append(keys)
            if self.browser.evaluate("document.getElementById('next-page').disabled"):
                break
            if len(pages) == 2:
                self.screenshot("items")
            self.act("document.getElementById('next-page').click()")
        everything = self.all_keys("Orders")
        n = len(everything)
        self.assertEqual([len(p) for p in pages],
                         [25] * (n // 25) + ([n % 25] if n % 25 else []))
        seen = [k for page in pages for k in page]
        self.assertEqual(sorted(seen), everything)
        self.assertEqual(self.text("#page-range"), [f"Items {n - len(pages[-1]) + 1}–{n}"])

        self.act("document.getElementById('prev-page').click()")
        self.assertEqual(self.text("#items tbody tr td[data-attr='p']"), pages[1])


    # The item holding HTML, found on whichever page it is, shows as text.
    def test_item_values_are_text(self):
        self.go("tables/Orders")
        while XSS not in self.text("#items td[data-attr='note']"):
            self.assertFalse(self.browser.evaluate(
                "document.getElementById('next-page').disabled"), "the item was never shown")
            self.act("document.getElementById('next-page').click()")
        self.assertEqual(self.browser.evaluate("document.querySelectorAll('#view img').length"), 0)
        self.assertIsNone(self.browser.evaluate("window.__xss"))
        # A click shows the whole item as DynamoDB JSON.
        self.browser.evaluate(
            "[...document.querySelectorAll('#items tr.item')]"
            ".find(r => r.textContent.includes('order-xss')).click()")
        detail = json.loads(self.text("#item-detail")[0])
        self.assertEqual(detail, {"p": {"S": "order-xss"}, "note": {"S": XSS}})

    # Streams: the table with a stream, and its shards as DescribeStream
    # gives them; the table without one is not listed.
    def test_streams_and_shards(self):
        self.go("streams")
        arn = self.ddb.describe_table(TableName="Orders")["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.assertEqual(self.browser.evaluate(
            "[...document.querySelectorAll('section.stream')].map(s => s.dataset.table)"),
            ["Orders"])
        self.assertEqual(self.browser.evaluate(
            "document.querySelector('section.stream').dataset.streamArn"), arn)
        self.assertEqual(self.browser.evaluate(
            "[...document.querySelectorAll('tr.shard')].map(r => r.dataset.shardId)"),
            [s["ShardId"] for s in shards])
        self.screenshot("streams")

    # Triggers: state, counters and lag follow the server while the page
    # stays open; a failing trigger shows its errors, dead letters and the
    # handler's own error message.
    def test_triggers_update_live(self):
        self.go("triggers")
        card = "section.trigger[data-trigger=\"{}\"] .{} .value"

        def shown(trigger, metric):
            values = self.text(card.format(trigger, metric))
            return values[0] if values else None

        self.assertEqual(self.browser.evaluate(
            "[...document.querySelectorAll('section.trigger')].map(s => s.dataset.state)"),
            ["Enabled", "Enabled"])
        status = self.status("audit")["Metrics"]
        self.assertEqual(shown("audit", "records-handled"), f"{status['RecordsHandled']:,}")
        self.assertEqual(status["RecordsHandled"], len(self.all_keys("Orders")))

        self.browser.evaluate("window.__same_page = true")
        for i in range(5):
            self.ddb.put_item(TableName="Orders", Item=item_av({"p": f"live-{i}"}))
        self.wait_triggers()
        audit, broken = self.status("audit"), self.status("broken")
        total = len(self.all_keys("Orders"))
        self.assertEqual(audit["Metrics"]["RecordsHandled"], total)
        self.browser.wait_for(
            f"document.querySelector('{card.format('audit', 'records-handled')}')"
            f".textContent === '{total}'", what=f"the live count of {total}")
        self.assertTrue(self.browser.evaluate("window.__same_page"))
        self.assertEqual(shown("audit", "invocations"),
                         f"{audit['Metrics']['Invocations']:,}")
        self.assertEqual(shown("audit", "errors"), "0")
        self.assertEqual(self.text('section.trigger[data-trigger="audit"] .no-errors'),
                         ["No recent errors."])

        m = broken["Metrics"]
        self.assertGreater(m["Errors"], 0)
        self.assertEqual(m["DeadLettered"], total)
        self.browser.wait_for(
            f"document.querySelector('{card.format('broken', 'dead-lettered')}')"
            f".textContent === '{total}'", what="the broken trigger's dead letters")
        self.assertEqual(shown("broken", "errors"), f"{m['Errors']:,}")
        self.assertRegex(shown("broken", "lag"), r"^\d+(\.\d)? (ms|s|min|h)$")
        # Its recent errors, newest first, as the admin API has them.
        recent = broken["RecentErrors"]
        self.assertEqual(len(recent), min(m["Errors"], 10))
        self.assertEqual(recent[0]["ErrorType"], "TestFailure")
        self.assertRegex(recent[0]["ErrorMessage"], r"^returns_failure: refusing \d+ records$")
        self.assertEqual(self.text('section.trigger[data-trigger="broken"] .error-type'),
                         [e["ErrorType"] for e in recent])
        self.assertEqual(self.text('section.trigger[data-trigger="broken"] .error-message'),
                         [e["ErrorMessage"] for e in recent])
        self.screenshot("triggers")


class ConsoleAuthTest(ConsoleTestCase):
    """A server with --auth: the console signs with the keys a user
    enters, and the server's policies decide what it shows."""

    anonymous = False

    @classmethod
    def setUpClass(cls):
        auth_dir = tempfile.mkdtemp(prefix="eddy-console-auth-")
        cls.addClassCleanup(__import__("shutil").rmtree, auth_dir, True)
        viewer_policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:ListTables", "dynamodb:DescribeTable",
                                           "dynamodb:ListStreams", "dynamodb:DescribeStream"],
             "Resource": "*"},
            {"Effect": "Allow", "Action": "dynamodb:Scan", "Resource": table_arn("Orders")}]}
        nobody_policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:DescribeLimits", "Resource": "*"}]}
        path = write_auth_file(os.path.join(auth_dir, "auth.json"), [
            ("tester", ACCESS_KEY, SECRET_KEY, ALLOW_ALL),
            (*VIEWER, viewer_policy), (*NOBODY, nobody_policy)])
        cls.server_args = ("--auth", path)
        super().setUpClass()
        runner = cls("test_visitor_without_keys_is_asked_to_sign_in")
        runner.create_trigger("Orders", "ok", "--name", "audit")
        runner.wait_triggers()

    # No keys: the files load, but the API refuses the placeholder
    # signature, so the page shows that error, opens the sign-in form and
    # shows no data.
    def test_visitor_without_keys_is_asked_to_sign_in(self):
        self.assertEqual(self.get("/console/console.js")[0], 200)
        self.open("tables")
        self.assertEqual(self.error_types(), ["UnrecognizedClientException"])
        self.assertIn("requires credentials", self.text("#view .error")[0])
        self.assertFalse(self.browser.evaluate("document.getElementById('sign-in').hidden"))
        self.assertEqual(self.text("#tables"), [])
        self.screenshot("auth-sign-in")

    # An identity whose policy allows none of it sees the server's
    # AccessDeniedException, logged and counted by the server as a denial.
    def test_denied_identity_sees_the_denial(self):
        self.sign_in(NOBODY[1], NOBODY[2])
        self.assertEqual(self.error_types(), ["AccessDeniedException"])
        message = self.text("#view .error")[0]
        self.assertIn("User: arn:aws:iam::000000000000:user/nobody is not authorized to "
                      "perform: dynamodb:ListTables", message)
        self.assertEqual(self.text("#identity-label"), [f"Signed in as {NOBODY[1]}"])
        self.screenshot("auth-denied")
        self.go("triggers")
        self.assertEqual(self.error_types(), ["AccessDeniedException"])
        self.assertIn("eddy:ListTriggers", self.text("#view .error")[0])
        log = self.server.log_text()
        self.assertIn("access denied: identity=nobody key=AKIDCONSOLENOBODY "
                      "action=dynamodb:ListTables", log)
        self.assertIn("action=eddy:ListTriggers", log)

    # A viewer allowed to list and scan Orders only: tables and counts,
    # Orders' items and the streams show; Plain's items and the triggers
    # are the server's denials.
    def test_viewer_sees_what_its_policy_allows(self):
        self.sign_in(VIEWER[1], VIEWER[2])
        self.assertEqual(dict(zip(self.text("#tables tbody tr td:first-child"),
                                  self.text("#tables tbody tr td.item-count"))),
                         {"Orders": "61", "Plain": "3"})
        self.go("tables/Orders")
        self.assertEqual(len(self.text("#items tbody tr")), 25)
        self.go("tables/Plain")
        self.assertEqual(self.text("#view .summary .item-count"), ["3"])
        self.assertEqual(self.error_types(), ["AccessDeniedException"])
        self.assertIn(f"dynamodb:Scan on resource: {table_arn('Plain')}",
                      self.text("#view .error")[0])
        self.assertEqual(self.text("#items"), [])
        self.screenshot("auth-viewer-denied-scan")
        self.go("streams")
        self.assertEqual(len(self.text("section.stream")), 1)
        self.go("triggers")
        self.assertEqual(self.error_types(), ["AccessDeniedException"])

    # An identity allowed everything sees the triggers too; the keys live
    # in this tab's sessionStorage (never localStorage or a cookie), and
    # signing out forgets them.
    def test_admin_sees_triggers_and_keys_stay_in_the_tab(self):
        self.sign_in(ACCESS_KEY, SECRET_KEY)
        self.go("triggers")
        self.assertEqual(self.error_types(), [])
        self.assertEqual(self.browser.evaluate(
            "[...document.querySelectorAll('section.trigger')].map(s => s.dataset.trigger)"),
            ["audit"])
        self.screenshot("auth-admin-triggers")
        stored = json.loads(self.browser.evaluate(
            "sessionStorage.getItem('eddy.console.credentials')"))
        self.assertEqual(stored["accessKeyId"], ACCESS_KEY)
        self.assertEqual(self.browser.evaluate("localStorage.length"), 0)
        self.assertEqual(self.browser.evaluate("document.cookie"), "")
        self.act("document.getElementById('sign-out-button').click()")
        self.assertIsNone(self.browser.evaluate(
            "sessionStorage.getItem('eddy.console.credentials')"))
        self.assertEqual(self.error_types(), ["UnrecognizedClientException"])

    # A wrong secret is the server's InvalidSignatureException, and the
    # page says the keys were not accepted.
    def test_wrong_secret_is_refused(self):
        self.sign_in(VIEWER[1], "not-the-secret")
        self.assertEqual(self.error_types(), ["InvalidSignatureException"])
        self.assertIn("did not accept these keys", self.text("#view .error")[0])


if __name__ == "__main__":
    unittest.main()
