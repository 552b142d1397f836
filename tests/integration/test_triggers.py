"""Triggers end to end: a handler .so runs on every change of a table, in
worker processes, with Lambda's event source mapping semantics (DESIGN.md
"Triggers", invariant 4). Managed with `eddy trigger`; no sleeps: `eddy
trigger wait` is the barrier."""

import json
import urllib.request

from trigger_harness import TriggerTestCase, built_handler, install_library


class TriggersIntegrationTest(TriggerTestCase):

    # Invariant 4 and the acceptance: 10,000 writes over many keys;
    # the handler sees each record exactly once, in order per key.
    def test_ten_thousand_writes_exactly_once_in_order_per_key(self):
        table = self.stream_table()
        trigger = self.create_trigger(table, "ok", "--name", "e2e")
        self.assertEqual(trigger["State"], "Enabled")
        keys, versions = 500, 20
        items = [{"p": f"k{k:04d}", "v": v} for v in range(versions)
                 for k in range(keys)]
        self.put_many(table, items)
        self.wait_triggers(table)

        seen = self.handled_records(table)
        ids = [r["eventID"] for r in seen]
        self.assertEqual(len(ids), keys * versions)
        self.assertEqual(len(set(ids)), len(ids), "a record was delivered twice")
        self.assertEqual(set(ids), set(self.stream_records(table)))
        per_key = {}
        for r in seen:
            key = r["dynamodb"]["Keys"]["p"]["S"]
            per_key.setdefault(key, []).append(int(r["dynamodb"]["NewImage"]["v"]["N"]))
        self.assertEqual(len(per_key), keys)
        for key, vs in per_key.items():
            self.assertEqual(vs, list(range(versions)), f"order of {key}")

        status = self.status("e2e")
        self.assertEqual(status["Metrics"]["RecordsHandled"], keys * versions)
        self.assertEqual(status["Metrics"]["DeadLettered"], 0)
        self.assertEqual(status["Metrics"]["Errors"], 0)
        self.assertEqual(status["Metrics"]["PendingRecords"], 0)
        with urllib.request.urlopen(self.server.endpoint + "/metrics") as r:
            metrics = r.read().decode()
        self.assertIn(f'eddy_trigger_records_handled_total{{trigger="e2e",'
                      f'table="{table}"}} {keys * versions}', metrics)
        self.assertIn("eddy_trigger_iterator_age_ms{", metrics)

    # ParallelizationFactor: several batches of a shard in flight at once,
    # still exactly once and in order per partition key.
    def test_parallelization_keeps_per_key_order(self):
        table = self.stream_table()
        self.create_trigger(table, "ok", "--name", f"{table}-pf",
                            "--parallelization", "5", "--batch-size", "10")
        keys, versions = 200, 10
        self.put_many(table, [{"p": f"k{k:03d}", "v": v} for v in range(versions)
                              for k in range(keys)])
        self.wait_triggers(table)
        seen = self.handled_records(table)
        self.assertEqual(len(seen), keys * versions)
        self.assertEqual(len({r["eventID"] for r in seen}), keys * versions)
        per_key = {}
        for r in seen:
            per_key.setdefault(r["dynamodb"]["Keys"]["p"]["S"], []).append(
                int(r["dynamodb"]["NewImage"]["v"]["N"]))
        for key, vs in per_key.items():
            self.assertEqual(vs, list(range(versions)), f"order of {key}")
        self.assertEqual(self.status(f"{table}-pf")["ParallelizationFactor"], 5)

    # Inserts, updates and deletes reach the handler with Lambda's record
    # shape: images per event, keys, sequence numbers, the stream ARN.
    def test_insert_modify_remove_records(self):
        table = self.stream_table()
        self.create_trigger(table, "ok")
        self.put(table, {"p": "a", "n": 1})
        self.update(table, {"p": "a"}, "SET n = n + :one", {":one": 1})
        self.delete(table, {"p": "a"})
        self.wait_triggers(table)
        seen = self.handled_records(table)
        self.assertEqual([r["eventName"] for r in seen], ["INSERT", "MODIFY", "REMOVE"])
        self.assertNotIn("OldImage", seen[0]["dynamodb"])
        self.assertEqual(seen[1]["dynamodb"]["OldImage"]["n"], {"N": "1"})
        self.assertEqual(seen[1]["dynamodb"]["NewImage"]["n"], {"N": "2"})
        self.assertNotIn("NewImage", seen[2]["dynamodb"])
        self.assertEqual(seen[2]["dynamodb"]["Keys"], {"p": {"S": "a"}})
        arn = self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        self.assertEqual({r["eventSourceARN"] for r in seen}, {arn})

    # LATEST starts after the records already in the stream.
    def test_latest_skips_existing_records(self):
        table = self.stream_table()
        self.put(table, {"p": "before"})
        self.create_trigger(table, "ok", "--starting-position", "LATEST")
        self.put(table, {"p": "after"})
        self.wait_triggers(table)
        keys = [r["dynamodb"]["Keys"]["p"]["S"] for r in self.handled_records(table)]
        self.assertEqual(keys, ["after"])

    # Disabling keeps the checkpoint; enabling resumes exactly there.
    def test_disable_keeps_checkpoint(self):
        table = self.stream_table()
        self.create_trigger(table, "ok", "--name", f"{table}-d")
        self.put(table, {"p": "one"})
        self.wait_triggers(table)
        self.eddy("trigger", "update", f"{table}-d", "--disable")
        self.put(table, {"p": "two"})
        self.wait_triggers(table)  # Disabled triggers hold no barrier.
        self.assertEqual(self.status(f"{table}-d")["State"], "Disabled")
        self.assertEqual(len(self.handled_records(table)), 1)
        self.eddy("trigger", "update", f"{table}-d", "--enable", "--batch-size", "7")
        self.wait_triggers(table)
        keys = [r["dynamodb"]["Keys"]["p"]["S"] for r in self.handled_records(table)]
        self.assertEqual(keys, ["one", "two"])
        self.assertEqual(self.status(f"{table}-d")["BatchSize"], 7)

    # Rebuilding the handler file is picked up without a restart.
    def test_rebuilt_handler_is_reloaded(self):
        table = self.stream_table()
        lib = install_library(built_handler("ok"), self.handler_dir, f"lib{table}.so")
        dlq = self.dlq_path(table)
        self.create_trigger(table, lib, "--max-retries", "0",
                            "--on-failure", f"file:{dlq}")
        self.put(table, {"p": "v1"})
        self.wait_triggers(table)
        # "Rebuild": a new file (new inode) under the same name.
        new = install_library(built_handler("returns_failure"), self.handler_dir,
                              f"lib{table}.new")
        (self.handler_dir / new).replace(self.handler_dir / lib)
        self.put(table, {"p": "v2"})
        self.wait_triggers(table)
        self.assertEqual(len(self.handled_records(table)), 1)
        docs = self.dead_letters(dlq)
        self.assertEqual(len(docs), 1)
        self.assertEqual(docs[0]["records"][0]["dynamodb"]["Keys"], {"p": {"S": "v2"}})
        self.assertEqual(docs[0]["responseContext"]["functionError"], "TestFailure")

    # Filters (Lambda's syntax, typed values): records matching no pattern
    # are dropped, counted, and the checkpoint moves past them.
    def test_filters_drop_records_and_advance(self):
        table = self.stream_table()
        self.create_trigger(
            table, "ok", "--name", f"{table}-f",
            "--filter", '{"eventName":["INSERT"],"dynamodb":{"NewImage":'
                        '{"n":{"N":[{"numeric":[">=",10]}]}}}}',
            "--filter", '{"dynamodb":{"Keys":{"p":{"S":[{"prefix":"vip-"}]}}}}')
        self.put(table, {"p": "a", "n": 5})        # dropped
        self.put(table, {"p": "b", "n": 10})       # pattern 1
        self.update(table, {"p": "b"}, "SET n = :n", {":n": 50})  # MODIFY: dropped
        self.put(table, {"p": "vip-c", "n": 1})    # pattern 2
        self.delete(table, {"p": "vip-c"})         # pattern 2
        self.wait_triggers(table)
        seen = [(r["eventName"], r["dynamodb"]["Keys"]["p"]["S"])
                for r in self.handled_records(table)]
        self.assertEqual(sorted(seen), sorted([("INSERT", "b"), ("INSERT", "vip-c"),
                                               ("REMOVE", "vip-c")]))
        metrics = self.status(f"{table}-f")["Metrics"]
        self.assertEqual(metrics["Filtered"], 2)
        self.assertEqual(metrics["RecordsHandled"], 3)
        self.assertEqual(metrics["PendingRecords"], 0)

    # Tumbling windows: each call gets the window and the state the last
    # call returned; the state is kept with the checkpoint, so it survives
    # a restart. The ok handler's state is its running record count.
    def test_tumbling_window_state_is_kept_with_checkpoint(self):
        table = self.stream_table()
        name = f"{table}-w"
        self.create_trigger(table, "ok", "--name", name, "--tumbling-window", "900",
                            "--batch-size", "3")
        self.put_many(table, [{"p": f"k{i}"} for i in range(20)])
        self.wait_triggers(table)
        self.assertEqual(len(self.handled_records(table)), 20)
        states, starts = 0, set()
        for path in sorted((self.tmp / "data" / "triggers" / name).glob("*.checkpoint")):
            lines = path.read_text().splitlines()
            if len(lines) == 2:
                _, start, end, state = lines[1].split(" ")
                self.assertEqual(int(end) - int(start), 900_000)
                starts.add(start)
                states += int(bytes.fromhex(state).decode())
        self.assertTrue(starts, "no open window was saved with a checkpoint")
        if len(starts) == 1:  # The run did not straddle a window boundary.
            self.assertEqual(states, 20)

    # In a window, a reply without state is a failure (Lambda's rule).
    def test_window_reply_without_state_fails(self):
        table = self.stream_table()
        dlq = self.dlq_path(table)
        self.create_trigger(table, "partial_batch_failure", "--name", table,
                            "--tumbling-window", "900", "--max-retries", "0",
                            "--on-failure", f"file:{dlq}")
        self.put(table, {"p": "a"})
        self.wait_triggers(table)
        docs = self.dead_letters(dlq)
        self.assertEqual(len(docs), 1)
        self.assertEqual(docs[0]["responseContext"]["functionError"], "MissingWindowState")

    def test_list_status_delete(self):
        table = self.stream_table()
        self.create_trigger(table, "ok", "--name", f"{table}-x")
        listed = json.loads(self.eddy("trigger", "list", "--table", table,
                                      "--json").stdout)["Triggers"]
        self.assertEqual([t["Name"] for t in listed], [f"{table}-x"])
        self.assertIn(f"{table}-x", self.eddy("trigger", "list").stdout)
        status = self.status(f"{table}-x")
        self.assertEqual(status["MaximumRetryAttempts"], -1)
        self.assertEqual(status["BatchSize"], 100)
        self.assertEqual(len(status["Shards"]), 4)
        on = json.loads(self.eddy("trigger", "update", f"{table}-x", "--bisect-on-error",
                                  "--report-batch-item-failures").stdout)
        self.assertTrue(on["BisectBatchOnFunctionError"])
        self.assertEqual(on["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        off = json.loads(self.eddy("trigger", "update", f"{table}-x",
                                   "--no-bisect-on-error",
                                   "--no-report-batch-item-failures").stdout)
        self.assertFalse(off["BisectBatchOnFunctionError"])
        self.assertEqual(off["FunctionResponseTypes"], [])
        self.eddy("trigger", "delete", f"{table}-x")
        missing = self.eddy("trigger", "status", f"{table}-x", check=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("ResourceNotFoundException", missing.stderr)

    # Lambda's ranges, and options not built yet, are refused with a reason.
    def test_invalid_options_are_refused(self):
        table = self.stream_table()
        ok = self.handler("ok")
        cases = [
            (["--batch-size", "0"], "BatchSize"),
            (["--batch-size", "10001"], "BatchSize"),
            (["--max-retries", "10001"], "MaximumRetryAttempts"),
            (["--max-record-age", "30"], "MaximumRecordAgeInSeconds"),
            (["--filter", '{"eventName":"INSERT"}'], "Invalid filter pattern"),
            (["--filter", '{"eventName":[{"wildcard":"I*"}]}'], "unknown operator"),
            (["--tumbling-window", "60", "--parallelization", "2"],
             "not supported yet"),
            (["--tumbling-window", "901"], "TumblingWindowInSeconds"),
            (["--on-failure", "sqs:queue"], "OnFailureDestination"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                r = self.eddy("trigger", "create", "--table", table, "--handler", ok,
                              *args, check=False)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("ValidationException", r.stderr)
                self.assertIn(message, r.stderr)
        r = self.eddy("trigger", "create", "--table", "no-such-table",
                      "--handler", ok, check=False)
        self.assertIn("ResourceNotFoundException", r.stderr)
        plain = self.create_table()
        r = self.eddy("trigger", "create", "--table", plain, "--handler", ok,
                      check=False)
        self.assertIn("no enabled stream", r.stderr)
        r = self.eddy("trigger", "create", "--table", table, "--handler",
                      "libnone.so", check=False)
        self.assertIn("Handler library not found", r.stderr)
