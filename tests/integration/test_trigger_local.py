"""Issue 17's third point: `eddy trigger invoke` runs a handler library on
an event file in a worker as the dispatcher would (success, failure, batch
item failures, window state, crash, timeout; the handler's log), `eddy
trigger generate-event` prints events it and the SDK read, and `eddy trigger
replay` re-runs a trigger over the history still in its stream."""

import datetime
import json
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from trigger_harness import TriggerTestCase, built_handler, worker_own_variables

from eddy_server import DEFAULT_BINARY, test_environment  # noqa: E402 (path set by trigger_harness)

import os  # noqa: E402

EDDY = Path(os.environ.get("EDDY_BIN") or DEFAULT_BINARY)


def eddy(*args, stdin=None, check=None):
    """Runs the eddy CLI (no server); returns the CompletedProcess."""
    done = subprocess.run([str(EDDY), *map(str, args)], input=stdin,
                          capture_output=True, text=True, timeout=120,
                          env=test_environment())
    if check is not None and done.returncode != check:
        raise AssertionError(f"eddy {args} exited {done.returncode} (wanted {check}):\n"
                             f"{done.stdout}\n{done.stderr}")
    return done


class LocalInvokeTest(unittest.TestCase):
    """invoke and generate-event: no server involved."""

    @classmethod
    def setUpClass(cls):
        if not EDDY.exists():
            raise unittest.SkipTest(f"eddy not built: {EDDY}")
        cls.tmp = tempfile.TemporaryDirectory(prefix="eddy-invoke-test-")
        cls.addClassCleanup(cls.tmp.cleanup)

    def event_file(self, *generate_args, name="event.json"):
        path = Path(self.tmp.name) / name
        path.write_text(eddy("trigger", "generate-event", *generate_args, check=0).stdout)
        return path

    def invoke(self, handler, event, *options, check):
        done = eddy("trigger", "invoke", "--handler", built_handler(handler),
                    "--event", event, "--json", *options, check=check)
        return json.loads(done.stdout)

    def test_generated_events_have_lambdas_shape(self):
        """Each kind carries the images its event has, the key given, and the
        stream ARN of the table, as Lambda delivers it."""
        for kind, images in (("insert", {"NewImage"}), ("modify", {"NewImage", "OldImage"}),
                             ("remove", {"OldImage"})):
            doc = json.loads(eddy("trigger", "generate-event", kind, "--table", "Orders",
                                  "--key", "id=o1", "--key", "line:N=2", check=0).stdout)
            record = doc["Records"][0]
            self.assertEqual(record["eventName"], kind.upper())
            self.assertEqual(record["eventSource"], "aws:dynamodb")
            self.assertEqual(record["dynamodb"]["Keys"],
                             {"id": {"S": "o1"}, "line": {"N": "2"}})
            self.assertEqual(images, {k for k in record["dynamodb"] if k.endswith("Image")})
            self.assertRegex(record["eventSourceARN"],
                             r"^arn:aws:dynamodb:us-east-1:\d{12}:table/Orders/stream/")
            self.assertRegex(record["dynamodb"]["SequenceNumber"], r"^\d{21}$")
        doc = json.loads(eddy("trigger", "generate-event", "modify", "--table", "T",
                              "--view-type", "KEYS_ONLY", check=0).stdout)
        self.assertNotIn("NewImage", doc["Records"][0]["dynamodb"])
        doc = json.loads(eddy("trigger", "generate-event", "insert", "--table", "T",
                              "--new-image", '{"total":{"N":"9"}}', check=0).stdout)
        self.assertEqual(doc["Records"][0]["dynamodb"]["NewImage"],
                         {"id": {"S": "item-1"}, "total": {"N": "9"}})
        bad = eddy("trigger", "generate-event", "insert", "--table", "T", "--key", "id",
                   check=2)
        self.assertIn("--key must be NAME=VALUE", bad.stderr)

    def test_success_prints_the_handlers_log(self):
        """The `ok` handler logs each record as Lambda's JSON: the generated
        event reaches it intact, through a real worker."""
        event = self.event_file("insert", "--table", "Orders", "--key", "id=o7")
        out = self.invoke("ok", event, check=0)
        self.assertEqual(out["Outcome"], "success")
        handler_lines = [line["Message"] for line in out["Log"] if line["FromHandler"]]
        # One line per record, then the batch's ("batch <shard> <ids>").
        records = [m for m in handler_lines if not m.startswith("batch ")]
        self.assertEqual(len(records), 1)
        self.assertEqual(len(handler_lines), 2)
        record = json.loads(records[0])
        sent = json.loads(event.read_text())["Records"][0]
        self.assertEqual(record["dynamodb"]["Keys"], {"id": {"S": "o7"}})
        self.assertEqual(record["dynamodb"]["NewImage"], sent["dynamodb"]["NewImage"])
        self.assertEqual(record["dynamodb"]["SequenceNumber"],
                         sent["dynamodb"]["SequenceNumber"])
        self.assertEqual(record["eventSourceARN"], sent["eventSourceARN"])
        # The human form says the same.
        text = eddy("trigger", "invoke", "--handler", built_handler("ok"), "--event",
                    event, check=0).stdout
        self.assertIn("outcome: success", text)
        self.assertIn('"Keys":{"id":{"S":"o7"}}', text)

    def test_failure_has_type_and_message(self):
        event = self.event_file("modify", "--table", "Orders")
        out = self.invoke("returns_failure", event, check=1)
        self.assertEqual(out["Outcome"], "failure")
        self.assertEqual(out["ErrorType"], "TestFailure")
        self.assertIn("returns_failure", out["ErrorMessage"])

    def test_thrown_exception_is_a_failure(self):
        out = self.invoke("throws", self.event_file("insert", "--table", "T"), check=1)
        self.assertEqual(out["ErrorType"], "Unhandled")

    def test_crash_is_a_failure_not_the_end_of_the_command(self):
        out = self.invoke("segfault", self.event_file("insert", "--table", "T"), check=1)
        self.assertEqual(out["ErrorType"], "Runtime.ExitError")
        self.assertIn("Segmentation fault", out["ErrorMessage"])

    def test_timeout_kills_the_worker(self):
        started = time.monotonic()
        out = self.invoke("infinite_loop", self.event_file("insert", "--table", "T"),
                          "--timeout", "1", check=1)
        self.assertEqual(out["ErrorType"], "Runtime.Timeout")
        self.assertEqual(out["ErrorMessage"], "Task timed out after 1.00 seconds")
        self.assertLess(time.monotonic() - started, 30)

    def test_batch_item_failures_and_what_a_trigger_makes_of_them(self):
        """Two records, the second failing: reported by sequence number; a
        trigger would checkpoint after the first and retry from the second."""
        first = json.loads(eddy("trigger", "generate-event", "insert", "--table", "T",
                                "--key", "id=ok1", check=0).stdout)["Records"][0]
        second = json.loads(eddy("trigger", "generate-event", "insert", "--table", "T",
                                 "--key", "id=fail2", check=0).stdout)["Records"][0]
        first["dynamodb"]["SequenceNumber"] = "100000000000000000001"
        second["dynamodb"]["SequenceNumber"] = "100000000000000000002"
        path = Path(self.tmp.name) / "two.json"
        path.write_text(json.dumps({"Records": [first, second]}))
        out = self.invoke("partial_batch_failure", path, check=1)
        self.assertEqual(out["Outcome"], "batch item failures")
        self.assertEqual(out["BatchItemFailures"], ["100000000000000000002"])
        self.assertEqual(out["RetriedFrom"], "100000000000000000002")

    def test_window_state_comes_back(self):
        """A tumbling-window event: the `ok` handler counts records into the
        state it was given."""
        path = Path(self.tmp.name) / "window.json"
        doc = json.loads(eddy("trigger", "generate-event", "insert", "--table", "T",
                              check=0).stdout)
        doc.update({"window": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-01T00:01:00Z"},
                    "state": 41, "shardId": "shardId-1", "isFinalInvokeForWindow": False,
                    "isWindowTerminatedEarly": False})
        path.write_text(json.dumps(doc))
        out = self.invoke("ok", path, check=0)
        self.assertEqual(out["WindowState"], "42")

    def test_records_from_getrecords_and_bad_input(self):
        """GetRecords' answer is accepted; a bad event or library is a usage
        error (exit 2) that says what is wrong."""
        answer = {"Records": [{"eventID": "1", "eventName": "INSERT",
                               "dynamodb": {"Keys": {"id": {"S": "x"}},
                                            "ApproximateCreationDateTime": "2024-01-01T00:00:00Z",
                                            "SequenceNumber": "100000000000000000001",
                                            "StreamViewType": "KEYS_ONLY"}}],
                  "NextShardIterator": "it"}
        done = eddy("trigger", "invoke", "--handler", built_handler("ok"), "--event", "-",
                    "--json", stdin=json.dumps(answer), check=0)
        self.assertEqual(json.loads(done.stdout)["Outcome"], "success")
        done = eddy("trigger", "invoke", "--handler", built_handler("ok"), "--event", "-",
                    stdin='{"Records":[{"eventName":"INSERT"}]}', check=2)
        self.assertIn("Records[0].dynamodb is missing", done.stderr)
        done = eddy("trigger", "invoke", "--handler", "/nonexistent/lib.so", "--event", "-",
                    stdin=json.dumps(answer), check=2)
        self.assertIn("no handler library at /nonexistent/lib.so", done.stderr)

    def test_env_is_the_workers_whole_environment(self):
        """--env as a trigger's: the variables given, the AWS_* ones named,
        PATH, HOME and the locale; not this process's credentials."""
        event = self.event_file("insert", "--table", "T")
        out = self.invoke("sandbox_report", event, "--env", "GREETING=hi",
                          "--env", "AWS_DEFAULT_REGION", check=0)
        [line] = [l["Message"] for l in out["Log"] if l["FromHandler"]]
        env = json.loads(line[len("sandbox "):])["env"]
        self.assertEqual(worker_own_variables(env),
                         {"GREETING": "hi", "AWS_DEFAULT_REGION": "us-east-1"})
        done = eddy("trigger", "invoke", "--handler", built_handler("ok"), "--event",
                    event, "--env", "PASSWORD", check=2)
        self.assertIn("AWS_* variables only", done.stderr)

    def test_load_failure_names_the_users_file(self):
        library = built_handler("init_fails")
        out = self.invoke("init_fails", self.event_file("insert", "--table", "T"), check=1)
        self.assertEqual(out["ErrorType"], "HandlerLoadError")
        self.assertIn(str(library), out["ErrorMessage"])


class ReplayTest(TriggerTestCase):
    """replay against a server: the checkpoint moves back, records come
    again."""

    def event_ids(self, table):
        return [r["eventID"] for r in self.handled_records(table)]

    def test_replay_from_trim_horizon_and_from_a_time(self):
        table = self.stream_table()
        trigger = self.create_trigger(table, "ok")["Name"]
        self.put(table, {"p": "a"})
        self.wait_triggers(table)
        # A boundary strictly between a's and b's creation times.
        boundary = datetime.datetime.now(datetime.timezone.utc)
        start = time.time()
        while time.time() - start < 0.005:  # the clock must move past it
            pass
        self.put(table, {"p": "b"})
        self.wait_triggers(table)
        first = self.event_ids(table)
        self.assertEqual(len(first), 2)

        out = json.loads(self.eddy("trigger", "replay", trigger, "--from",
                                   "trim-horizon").stdout)
        self.assertEqual(out["Name"], trigger)
        self.wait_triggers(table)
        self.assertEqual(sorted(self.event_ids(table)), sorted(first * 2))

        iso = boundary.strftime("%Y-%m-%dT%H:%M:%S.") + f"{boundary.microsecond // 1000:03d}Z"
        self.eddy("trigger", "replay", trigger, "--from", iso)
        self.wait_triggers(table)
        b = [r["eventID"] for r in self.handled_records(table)
             if r["dynamodb"]["Keys"]["p"]["S"] == "b"]
        a = [r["eventID"] for r in self.handled_records(table)
             if r["dynamodb"]["Keys"]["p"]["S"] == "a"]
        self.assertEqual((len(a), len(b)), (2, 3))

        self.eddy("trigger", "replay", trigger, "--from", "1h")
        self.wait_triggers(table)
        self.assertEqual(len(self.event_ids(table)), 7)

    def test_replay_errors(self):
        done = self.eddy("trigger", "replay", "no-such-trigger", "--from", "trim-horizon",
                         check=False)
        self.assertEqual(done.returncode, 1)
        self.assertIn("ResourceNotFoundException", done.stderr)
        done = self.eddy("trigger", "replay", "x", "--from", "yesterday", check=False)
        self.assertEqual(done.returncode, 2)
        self.assertIn("--from is trim-horizon", done.stderr)


if __name__ == "__main__":
    unittest.main()
