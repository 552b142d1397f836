"""User code never takes the server down (DESIGN.md invariant 5), and no
record is lost on the way (invariant 4): one test per failure mode of
tests/handlers/. Each shows Lambda's documented behaviour (retries, bisect,
checkpoint at the lowest failed item, dead-letter after the limits), that
the server keeps serving reads and writes while the handler fails, and an
audit that every record was handled or dead-lettered."""

import json
from pathlib import Path
import urllib.request

from trigger_harness import TriggerTestCase

RECORDS = 6


class TriggerFailuresIntegrationTest(TriggerTestCase):

    def run_failing(self, handler, *options, retries=1, records=RECORDS):
        """Writes `records` items under a trigger running `handler`, checks
        the server serves meanwhile, waits, and returns (table, dlq, docs)."""
        table = self.stream_table()
        dlq = self.dlq_path(table)
        self.create_trigger(table, handler, "--name", table,
                            "--max-retries", str(retries),
                            "--on-failure", f"file:{dlq}", *options)
        self.put_many(table, [{"p": f"k{i}", "n": i} for i in range(records)])
        # The database keeps answering while the handler fails.
        other = self.create_table()
        for i in range(20):
            self.put(other, {"p": f"x{i}"})
            self.assertEqual(self.get(other, {"p": f"x{i}"}), {"p": f"x{i}"})
        self.assertEqual(self.get(table, {"p": "k0"}), {"p": "k0", "n": 0})
        self.wait_triggers(table)
        with urllib.request.urlopen(self.server.endpoint + "/healthz") as r:
            self.assertEqual(r.status, 200)
        docs = self.assertAllDeadLettered(table, dlq)
        status = self.status(table)
        self.assertEqual(status["Metrics"]["DeadLettered"], records)
        self.assertEqual(status["Metrics"]["RecordsHandled"], 0)
        self.assertEqual(status["Metrics"]["PendingRecords"], 0)
        return table, dlq, docs

    def assertRetried(self, docs, retries, function_error=None, message=None):
        for doc in docs:
            self.assertEqual(doc["requestContext"]["approximateInvokeCount"],
                             retries + 1)
            if function_error is not None:
                self.assertIn(doc["responseContext"]["functionError"],
                              function_error if isinstance(function_error, tuple)
                              else (function_error,))
            if message is not None:
                self.assertIn(message, doc["responseContext"]["errorMessage"])

    # A function error is retried MaximumRetryAttempts times, then the batch
    # goes to the on-failure destination with Lambda's document.
    def test_returns_failure(self):
        _, _, docs = self.run_failing("returns_failure", retries=2)
        self.assertRetried(docs, 2, "TestFailure", "returns_failure: refusing")

    # An exception in the handler is a function error with its what().
    def test_throws(self):
        _, _, docs = self.run_failing("throws")
        self.assertRetried(docs, 1, message="throws: deliberate exception")

    # A segfault kills only the worker; the invocation counts as failed.
    def test_segfault(self):
        _, _, docs = self.run_failing("segfault")
        self.assertRetried(docs, 1, "Runtime.ExitError", "Segmentation fault")
        self.assertGreater(self.status_metric("eddy_worker_crashes_total"), 0)

    def test_abort(self):
        _, _, docs = self.run_failing("abort")
        self.assertRetried(docs, 1, "Runtime.ExitError", "Aborted")

    # A hang is killed at the trigger's timeout.
    def test_infinite_loop_times_out(self):
        _, _, docs = self.run_failing("infinite_loop", "--timeout", "1",
                                      retries=0, records=2)
        self.assertRetried(docs, 0, "Runtime.Timeout",
                           "Task timed out after 1.00 seconds")

    # Memory is capped per worker (RLIMIT_AS): the blow-up fails the batch
    # (bad_alloc, or the worker dies), never the server.
    def test_memory_blowup(self):
        _, _, docs = self.run_failing("memory_blowup", "--memory-mb", "256",
                                      retries=0, records=2)
        self.assertRetried(docs, 0, ("Unhandled", "Runtime.ExitError"))

    # Handlers that cannot load fail every invocation with a clear reason.
    def test_abi_mismatch(self):
        _, _, docs = self.run_failing("abi_mismatch", retries=0)
        self.assertRetried(docs, 0, "HandlerLoadError", "ABI version")

    def test_missing_entry(self):
        _, _, docs = self.run_failing("missing_entry", retries=0)
        self.assertRetried(docs, 0, "HandlerLoadError", "eddy_handler_init")

    def test_init_fails(self):
        _, _, docs = self.run_failing("init_fails", retries=0)
        self.assertRetried(docs, 0, "HandlerLoadError", "init_fails")

    # Bisect splits failing batches down to single records before giving up
    # (splits consume no retries), so each record is dead-lettered alone.
    def test_bisect_isolates_records(self):
        _, _, docs = self.run_failing("returns_failure", "--bisect-on-error",
                                      "--batching-window-ms", "200", retries=0,
                                      records=8)
        self.assertTrue(all(d["DDBStreamBatchInfo"]["batchSize"] == 1 for d in docs))

    # ReportBatchItemFailures: records before the lowest failed one are
    # handled; the batch is retried from it, and each dead-lettered batch
    # starts at a failed record.
    def test_partial_batch_failure_checkpoints_at_lowest(self):
        table = self.stream_table()
        dlq = self.dlq_path(table)
        self.create_trigger(table, "partial_batch_failure", "--name", table,
                            "--report-batch-item-failures", "--max-retries", "1",
                            "--on-failure", f"file:{dlq}")
        items = [{"p": f"ok{i}"} for i in range(40)] + [{"p": f"fail{i}"} for i in range(4)]
        self.put_many(table, items, threads=1)
        self.wait_triggers(table)
        docs = self.dead_letters(dlq)
        dead = [r["eventID"] for d in docs for r in d["records"]]
        for doc in docs:
            self.assertTrue(doc["records"][0]["dynamodb"]["Keys"]["p"]["S"].startswith("fail"))
            self.assertEqual(doc["requestContext"]["approximateInvokeCount"], 2)
        dead_keys = {r["dynamodb"]["Keys"]["p"]["S"] for d in docs for r in d["records"]}
        self.assertTrue({f"fail{i}" for i in range(4)} <= dead_keys)
        status = self.status(table)["Metrics"]
        # Audit: handled + dead-lettered = every record, none twice.
        self.assertEqual(len(set(dead)), len(dead))
        self.assertEqual(status["RecordsHandled"] + status["DeadLettered"], len(items))
        self.assertEqual(status["DeadLettered"], len(dead))
        self.assertGreater(status["RecordsHandled"], 0)

    # The on-failure destination may be an Eddy table: one item per record,
    # keyed by trigger/shard/sequence, holding the failure document and the
    # record.
    def test_dead_letters_to_a_table(self):
        table = self.stream_table()
        failures = self.create_table(hash_key=("id", "S"))
        self.create_trigger(table, "returns_failure", "--name", table,
                            "--max-retries", "0", "--on-failure", f"table:{failures}")
        self.put_many(table, [{"p": f"k{i}"} for i in range(5)])
        self.wait_triggers(table)
        items, _ = self.scan_all(failures)
        records = [json.loads(i["record"]["S"]) for i in items]
        self.assertEqual(sorted(r["eventID"] for r in records),
                         sorted(self.stream_records(table)))
        for i in items:
            failure = json.loads(i["failure"]["S"])
            self.assertEqual(failure["requestContext"]["condition"], "RetryAttemptsExhausted")
            self.assertEqual(failure["responseContext"]["functionError"], "TestFailure")
            self.assertTrue(i["id"]["S"].startswith(f"{table}/shardId-"))
        ranged = self.create_table(hash_key=("id", "S"), range_key=("n", "N"))
        for bad in (f"table:{ranged}", "table:no-such-table"):
            r = self.eddy("trigger", "create", "--table", table, "--handler",
                          self.handler("ok"), "--on-failure", bad, check=False)
            self.assertIn("OnFailureDestination table", r.stderr)

    # A file destination is a file in the server's failure directory
    # (<data>/failures): a relative name lands there; anywhere else on the
    # server's disk is refused with the fix, at create and at update.
    def test_on_failure_files_stay_in_the_failure_directory(self):
        table = self.stream_table()
        failures = Path(self.server.data_dir).resolve() / "failures"
        outside = self.tmp / "outside.jsonl"
        for bad in (f"file:{outside}", "file:../outside.jsonl", "file:/etc/cron.d/x"):
            r = self.eddy("trigger", "create", "--table", table, "--handler",
                          self.handler("ok"), "--on-failure", bad, check=False)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertIn("--failure-dir", r.stderr)
        (failures / "escape").symlink_to(self.tmp, target_is_directory=True)
        r = self.eddy("trigger", "create", "--table", table, "--handler",
                      self.handler("ok"), "--on-failure", "file:escape/x.jsonl",
                      check=False)
        self.assertIn("outside", r.stderr)
        self.create_trigger(table, "returns_failure", "--name", table,
                            "--max-retries", "0", "--on-failure", "file:relative.jsonl")
        self.assertEqual(self.status(table)["OnFailureDestination"],
                         f"file:{failures / 'relative.jsonl'}")
        r = self.eddy("trigger", "update", table, "--on-failure", f"file:{outside}",
                      check=False)
        self.assertIn("--failure-dir", r.stderr)
        self.put_many(table, [{"p": f"k{i}"} for i in range(3)])
        self.wait_triggers(table)
        docs = self.dead_letters(str(failures / "relative.jsonl"))
        self.assertEqual(sum(len(d["records"]) for d in docs), 3)
        self.assertFalse(outside.exists())

    # A failing trigger does not hold back a healthy one on the same table.
    def test_failing_trigger_does_not_block_others(self):
        table = self.stream_table()
        self.create_trigger(table, "returns_failure", "--name", f"{table}-bad",
                            "--max-retries", "3")
        self.create_trigger(table, "ok", "--name", f"{table}-good")
        self.put_many(table, [{"p": f"k{i}"} for i in range(10)])
        self.wait_triggers(table)
        self.assertEqual(len(self.handled_records(table)), 10)
        self.assertEqual(self.status(f"{table}-bad")["Metrics"]["DeadLettered"], 10)

    def status_metric(self, name):
        for line in self.server.metrics().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return 0.0
