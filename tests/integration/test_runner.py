"""`eddy runner` end to end (issue 14): runners with the same group share
the stream of a table at another endpoint (here an Eddy server, which
speaks the same API as DynamoDB) through a lease table, run the same
handler .so as the server's triggers, and survive runner kills, graceful
shutdowns, a killed and restarted source, throttling and 500s, while
every committed record reaches the handler at least once and, per key, in
commit order. Bad input ends a runner with a clear error.

No sleeps to wait for something: the tests poll the runners' logs, their
/metrics and `eddy runner status`.
"""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import urllib.error
import urllib.request

from runner_harness import (RunnerProcess, Writer, key_version, runner_environment,
                            shards_of)
from trigger_harness import TriggerTestCase, built_handler, install_library

from eddy_server import (ACCESS_KEY, SECRET_KEY, free_port, item_av,  # noqa: E402
                         test_environment, wait_until, write_auth_file)

LEASE = "2s"
LEASE_S = 2.0


class RunnerTestCase(TriggerTestCase):
    """The source server (with a handler directory, for in-server triggers)
    plus runner verbs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.log_dir = Path(tempfile.mkdtemp(prefix="eddy-runner-logs-"))
        cls.addClassCleanup(shutil.rmtree, cls.log_dir, True)
        cls.runner_handlers = cls.make_handler_dir()

    def setUp(self):
        self.runners = []

    def tearDown(self):
        for runner in self.runners:
            runner.stop()
        if any(not r.healthy() for r in self.runners) and os.environ.get("EDDY_KEEP_DATA"):
            print(f"runner logs in {self.log_dir}")

    def runner(self, table, group, name, endpoint=None, start=True, **kw):
        r = RunnerProcess(self.server.binary, endpoint or self.server.endpoint,
                          table, self.runner_handlers, group, self.log_dir,
                          f"{group}-{name}", lease_duration=LEASE, **kw)
        self.runners.append(r)
        return r.start() if start else r

    def run_eddy(self, *args, env=None, timeout=60):
        return subprocess.run([str(self.server.binary), *args], capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              env=env or test_environment())

    def status(self, group, endpoint=None):
        out = self.run_eddy("runner", "status", "--group", group, "--endpoint",
                            endpoint or self.server.endpoint, "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)

    def owners(self, group):
        return {s["ShardId"]: s["Owner"] for s in self.status(group)["Shards"]
                if not s["Finished"]}

    def wait_balanced(self, group, runners, timeout=60):
        """Until every unfinished shard has a live owner and every runner
        holds one."""
        ids = {}

        def balanced():
            status = self.status(group)
            ids.update({r["Id"]: r for r in status["Runners"]})
            owners = [s["Owner"] for s in status["Shards"] if not s["Finished"]]
            return (owners and all(owners) and
                    len(set(owners)) == min(len(runners), len(owners)) and
                    len(status["Runners"]) == len(runners))
        wait_until(balanced, timeout, interval=0.2, what=f"group {group} balanced")

    def deliveries(self, runners, table):
        """{(key, version): [(time, runner name, shard id)]} over all runners'
        logs."""
        shards = shards_of(r.log_text() for r in runners)
        out = {}
        for r in runners:
            for stamp, record in r.handled(table):
                out.setdefault(key_version(record), []).append(
                    (stamp, r.name, shards.get(record["eventID"], "?")))
        return out

    def wait_handled(self, runners, table, expected, timeout=180):
        expected = set(expected)

        def done():
            return expected <= set(self.deliveries(runners, table))
        try:
            wait_until(done, timeout, interval=0.2, what="every record handled")
        except AssertionError:
            missing = expected - set(self.deliveries(runners, table))
            for r in runners:
                print(f"---- {r.name} ----\n{r.log_text()[-6000:]}")
            raise AssertionError(f"{len(missing)} records never handled, e.g. "
                                 f"{sorted(missing)[:5]}")

    def assertPerKeyOrder(self, deliveries, owners_return=False, runners=()):
        """Per key, first deliveries in version (commit) order (across
        shard splits too), and no shard delivered by two runners taking
        turns (A, B, A): one runner at a time. `owners_return`: a shard
        may go back to a runner it left (after an outage that let every
        lease lapse), so only the order is checked. Given the `runners`,
        turns are also allowed on a shard whose lease one of them logged
        taking as expired from a live runner (one starved of CPU for a
        whole lease duration on a loaded machine stops delivering it, and
        the batch it was in may end after the new owner's first)."""
        per_key, per_shard = {}, {}
        for (key, version), events in deliveries.items():
            for stamp, name, shard in events:
                per_key.setdefault(key, []).append((stamp, version))
                per_shard.setdefault(shard, []).append((stamp, name))
        for key, events in per_key.items():
            events.sort()
            seen, firsts = set(), []
            for _, version in events:
                if version not in seen:
                    seen.add(version)
                    firsts.append(version)
            self.assertEqual(firsts, sorted(firsts), f"order of {key}")
        self.assertNotIn("?", per_shard, "a record without its batch line")
        if owners_return:
            return
        for shard, events in per_shard.items():
            events.sort()
            owners = []
            for _, name in events:
                if not owners or owners[-1] != name:
                    owners.append(name)
            if len(owners) == len(set(owners)):
                continue
            lapsed = f"lease {shard}: taken (expired from "
            if any(lapsed in r.log_text() for r in runners):
                continue
            for r in runners:
                print(f"---- {r.name} ----\n{r.log_text()[-6000:]}")
            self.fail(f"{shard} was delivered by runners taking turns: {owners}")


class RunnerIntegrationTest(RunnerTestCase):

    # The acceptance test's core: three runners share the shards, a writer
    # over many keys; every record is handled, per key in commit order, by
    # one runner at a time; status shows runners, owners and checkpoints.
    def test_three_runners_share_the_stream(self):
        table = self.stream_table()
        group = "share"
        runners = [self.runner(table, group, n) for n in "abc"]
        self.wait_balanced(group, runners)
        writer = Writer(self.server.client, table, keys=60, versions=20)
        writer.start()
        writer.join(300)
        self.assertEqual(writer.errors, [])
        self.wait_handled(runners, table, writer.written)
        delivered = self.deliveries(runners, table)
        self.assertPerKeyOrder(delivered)
        # Balanced, so nothing moved: exactly once.
        self.assertEqual(sum(len(v) for v in delivered.values()), len(writer.written))
        busy = {name for events in delivered.values() for _, name, _ in events}
        self.assertEqual(len(busy), 3, "every runner delivered a share")
        status = self.status(group)
        self.assertEqual(status["Table"], table)
        self.assertEqual(len(status["Runners"]), 3)
        for shard in status["Shards"]:
            self.assertTrue(shard["Owner"])
            self.assertIn(shard["Checkpoint"].split(":")[0],
                          ("AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON"))
        handled = sum(r.metric("eddy_trigger_records_handled_total") for r in runners)
        self.assertEqual(handled, len(writer.written))
        text = self.run_eddy("runner", "status", "--group", group, "--endpoint",
                             self.server.endpoint).stdout
        self.assertIn("RUNNER", text)
        self.assertIn("CHECKPOINT", text)

    # SIGKILL: the dead runner's shards are taken over within two lease
    # durations and nothing is lost.
    def test_killed_runners_shards_are_taken_over(self):
        table = self.stream_table()
        group = "kill"
        runners = [self.runner(table, group, n) for n in "abc"]
        self.wait_balanced(group, runners)
        writer = Writer(self.server.client, table, keys=40, versions=40, pause_s=0.05)
        writer.start()
        writer.wait_written(400)
        victim = max(runners, key=lambda r: r.metric("eddy_runner_leases_held"))
        victim_id = next(r["Id"] for r in self.status(group)["Runners"]
                         if r["Metrics"].endswith(f":{victim.metrics_port}"))
        killed = victim.kill9()
        wait_until(lambda: victim_id not in self.owners(group).values(),
                   timeout=10 * LEASE_S, interval=0.1,
                   what="the killed runner's shards to be taken")
        takeover = time.time() - killed
        self.assertLess(takeover, 2 * LEASE_S,
                        f"takeover took {takeover:.1f} s with a {LEASE} lease")
        writer.join(300)
        self.assertEqual(writer.errors, [])
        self.wait_handled(runners, table, writer.written)
        self.assertPerKeyOrder(self.deliveries(runners, table))

    # SIGTERM: the runner finishes, checkpoints and releases at once; the
    # others take its shards without waiting for a lease to expire, and no
    # record is delivered twice.
    def test_terminated_runner_hands_over_without_duplicates(self):
        table = self.stream_table()
        group = "term"
        runners = [self.runner(table, group, n) for n in "abc"]
        self.wait_balanced(group, runners)
        writer = Writer(self.server.client, table, keys=40, versions=30, pause_s=0.02)
        writer.start()
        writer.wait_written(300)
        victim = max(runners, key=lambda r: r.metric("eddy_runner_leases_held"))
        started = time.time()
        self.assertEqual(victim.terminate(), 0, victim.log_text()[-3000:])
        self.assertIn("leases are released", victim.log_text())
        wait_until(lambda: all(self.owners(group).values()), timeout=30,
                   interval=0.1, what="the released shards to be taken")
        self.assertLess(time.time() - started, LEASE_S,
                        "released leases were not taken at once")
        writer.join(300)
        self.assertEqual(writer.errors, [])
        self.wait_handled(runners, table, writer.written)
        delivered = self.deliveries(runners, table)
        duplicates = {k: v for k, v in delivered.items() if len(v) > 1}
        self.assertEqual(duplicates, {}, "records delivered twice")
        self.assertPerKeyOrder(delivered)

    # The source server is killed (SIGKILL) and restarted: the runners ride
    # through it (reads back off, leases lapse and are taken again) and
    # every record is handled.
    def test_runners_ride_through_a_source_restart(self):
        table = self.stream_table()
        group = "restart"
        runners = [self.runner(table, group, n) for n in "ab"]
        self.wait_balanced(group, runners)
        writer = Writer(self.server.client, table, keys=30, versions=30, pause_s=0.05)
        writer.start()
        writer.wait_written(200)
        self.server.kill9()
        time.sleep(LEASE_S)  # The outage itself: long enough for leases to lapse.
        self.server.restart()
        writer.join(300)
        self.wait_handled(runners, table, writer.written)
        # Every lease lapsed in the outage: when the source is back, each
        # runner may take a lease of the other's it saw expire while the
        # other renews or takes back, one conditional write winning each
        # change (docs/scaling.md), so a shard can go A, B, A — each turn
        # from the last checkpoint, which the order per key checks.
        self.assertPerKeyOrder(self.deliveries(runners, table),
                               owners_return=True)
        self.assertTrue(all(r.running() for r in runners))
        self.assertGreater(sum(r.metric("eddy_runner_read_errors_total")
                               for r in runners), 0)

    # The same handler library runs unchanged in the server and in a
    # runner, and sees the same records.
    def test_same_handler_in_server_and_in_runner(self):
        table = self.stream_table()
        self.create_trigger(table, "ok", "--name", f"{table}-inserver")
        runner = self.runner(table, "same", "a")
        self.put_many(table, [{"p": f"k{k}", "v": v} for v in range(5) for k in range(20)])
        self.wait_triggers(table)
        in_server = {r["eventID"]: r for r in self.handled_records(table)}
        self.assertEqual(len(in_server), 100)
        wait_until(lambda: len(runner.handled(table)) >= 100, timeout=60,
                   what="the runner to handle every record")
        in_runner = {r["eventID"]: r for _, r in runner.handled(table)}
        self.assertEqual(in_runner, in_server)


class RolloverIntegrationTest(RunnerTestCase):
    """The source rolls its shards over every few seconds (closing each and
    opening a child, as DynamoDB does): runners and in-server triggers
    finish a parent before its child, so per-key order holds across
    splits."""

    server_args = ("--stream-shard-rollover", "3s")

    def generations(self, table):
        arn = self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        return len(shards) // 4

    # The acceptance test: one Eddy as the remote endpoint rolling over
    # every few seconds, three runners, a writer over many keys; a runner
    # is killed on the way. Every record is handled at least once, per key
    # in commit order across splits, one runner at a time per key.
    def test_three_runners_across_shard_splits(self):
        table = self.stream_table()
        group = "splits"
        runners = [self.runner(table, group, n) for n in "abc"]
        self.wait_balanced(group, runners)
        writer = Writer(self.server.client, table, keys=60, versions=50, pause_s=0.15)
        writer.start()
        wait_until(lambda: self.generations(table) >= 3, timeout=120, interval=0.2,
                   what="two rollovers")
        victim = max(runners, key=lambda r: r.metric("eddy_runner_leases_held"))
        victim.kill9()
        writer.join(300)
        self.assertEqual(writer.errors, [])
        self.assertGreaterEqual(self.generations(table), 4)
        self.wait_handled(runners, table, writer.written)
        self.assertPerKeyOrder(self.deliveries(runners, table), runners=runners)
        status = self.status(group)
        finished = [s for s in status["Shards"] if s["Finished"]]
        self.assertGreaterEqual(len(finished), 8, "parents were finished")
        for shard in status["Shards"]:
            if shard["Parents"]:
                self.assertIn(shard["Parents"][0],
                              {s["ShardId"] for s in status["Shards"]})
        self.assertGreater(sum(r.metric("eddy_runner_shards_finished_total")
                               for r in runners if r.running()), 0)

    # The server's own triggers follow the rollovers too: exactly once, in
    # order per key.
    def test_in_server_trigger_follows_rollovers(self):
        table = self.stream_table()
        self.create_trigger(table, "ok", "--name", f"{table}-splits")
        writer = Writer(self.server.client, table, keys=40, versions=40, pause_s=0.15)
        writer.start()
        writer.join(300)
        self.assertEqual(writer.errors, [])
        self.assertGreaterEqual(self.generations(table), 2)
        self.wait_triggers(table)
        seen = self.handled_records(table)
        self.assertEqual(len(seen), len(writer.written))
        self.assertEqual(len({r["eventID"] for r in seen}), len(seen))
        per_key = {}
        for record in seen:
            key, version = key_version(record)
            per_key.setdefault(key, []).append(version)
        for key, versions in per_key.items():
            self.assertEqual(versions, list(range(40)), f"order of {key}")
        status = self.status_of(f"{table}-splits")
        self.assertEqual(status["Metrics"]["PendingRecords"], 0)

    def status_of(self, trigger):
        return json.loads(self.eddy("trigger", "status", trigger).stdout)


class ThrottlingProxy:
    """An HTTP proxy in front of the source: forwards requests as they are
    (the SigV4 signature covers the Host header, which stays the proxy's),
    or answers throttling or 500 errors while told to; counts what it
    answers."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.mode = None  # None, "throttle" (GetRecords) or "error500" (all).
        self.lock = threading.Lock()
        self.faulted = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                target = self.headers.get("X-Amz-Target", "")
                mode = proxy.mode
                if mode == "error500" or (mode == "throttle" and
                                          target.endswith(".GetRecords")):
                    with proxy.lock:
                        proxy.faulted += 1
                    if mode == "throttle":
                        self.answer(400, "com.amazonaws.dynamodb.v20120810#"
                                    "LimitExceededException", "Rate exceeded")
                    else:
                        self.answer(500, "com.amazonaws.dynamodb.v20120810#"
                                    "InternalServerError", "injected")
                    return
                request = urllib.request.Request(
                    proxy.upstream + "/", data=body, method="POST",
                    headers={k: v for k, v in self.headers.items()})
                try:
                    with urllib.request.urlopen(request, timeout=30) as r:
                        status, data = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def answer(self, status, kind, message):
                data = json.dumps({"__type": kind, "message": message}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class RunnerFaultIntegrationTest(RunnerTestCase):

    # A remote endpoint that throttles (LimitExceededException) or answers
    # 500 for a while: the runner backs off (no hot loop), loses nothing,
    # and catches up once the endpoint recovers.
    def test_throttling_and_500s_back_off_without_loss(self):
        table = self.stream_table()
        proxy = ThrottlingProxy(self.server.endpoint)
        self.addCleanup(proxy.close)
        runner = self.runner(table, "proxied", "a", endpoint=proxy.endpoint)
        self.wait_balanced("proxied", [runner])
        first = [{"p": f"k{k}", "v": 0} for k in range(50)]
        self.put_many(table, first)
        wait_until(lambda: len(runner.handled(table)) >= 50, timeout=60,
                   what="the first records")
        for mode, seconds in (("throttle", 3.0), ("error500", 1.0)):
            proxy.mode = mode
            proxy.faulted = 0
            began = time.monotonic()
            self.put_many(table, [{"p": f"k{k}", "v": 1 if mode == "throttle" else 2}
                                  for k in range(50)])
            while time.monotonic() - began < seconds:
                time.sleep(0.1)  # The fault lasts this long, whatever happens.
            proxy.mode = None
            rate = proxy.faulted / seconds
            # Without backoff a failing call is repeated at once (thousands
            # a second); backing off, each shard and the lease rounds make a
            # few a second.
            self.assertGreater(proxy.faulted, 0)
            self.assertLess(rate, 60, f"{mode}: {proxy.faulted} faulted calls "
                                      f"in {seconds} s: a hot loop")
        wait_until(lambda: {key_version(r) for _, r in runner.handled(table)} >=
                   {(f"k{k}", v) for k in range(50) for v in range(3)},
                   timeout=120, what="every record after the faults")
        self.assertGreater(runner.metric("eddy_runner_read_errors_total"), 0)
        self.assertTrue(runner.running())


class RunnerBadInputTest(RunnerTestCase):
    """Bad input ends `eddy runner` with a clear error and a non-zero exit
    code, before it runs."""

    def run_runner(self, *args, env=None, table=None, group="bad", endpoint=None):
        library = install_library(built_handler("ok"), self.runner_handlers)
        command = ["runner", "--endpoint", endpoint or self.server.endpoint,
                   "--table", table or self.table, "--group", group,
                   "--handler", str(Path(self.runner_handlers) / library), *args]
        return self.run_eddy(*command, env=env)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.table = cls.stream_table()

    def assertFails(self, result, *fragments):
        self.assertNotEqual(result.returncode, 0, result.stdout + result.stderr)
        for fragment in fragments:
            self.assertIn(fragment, result.stderr)

    def test_unreachable_endpoint(self):
        result = self.run_runner(endpoint=f"http://127.0.0.1:{free_port()}")
        self.assertFails(result, "cannot reach")

    def test_missing_table(self):
        self.assertFails(self.run_runner(table="no-such-table"), "not found")

    def test_table_without_a_stream(self):
        plain = self.create_table()
        self.assertFails(self.run_runner(table=plain), "has no enabled stream")

    def test_no_credentials(self):
        env = runner_environment(AWS_ACCESS_KEY_ID=None, AWS_SECRET_ACCESS_KEY=None,
                                 HOME=tempfile.mkdtemp())
        self.assertFails(self.run_runner(env=env), "Unable to locate credentials")

    def test_lease_table_written_by_something_else(self):
        self.ddb.create_table(
            TableName="eddy-leases-foreign",
            KeySchema=[{"AttributeName": "leaseKey", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "leaseKey", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST")
        self.ddb.put_item(TableName="eddy-leases-foreign",
                          Item=item_av({"leaseKey": "shardId-1", "leaseOwner": "kcl"}))
        self.assertFails(self.run_runner(group="foreign"), "written by something else")

    def test_lease_table_of_another_stream(self):
        other = self.stream_table()
        runner = self.runner(other, "taken", "a")
        runner.terminate()
        self.assertFails(self.run_runner(group="taken"), "belongs to group taken")

    def test_handler_that_does_not_exist(self):
        result = self.run_eddy("runner", "--endpoint", self.server.endpoint,
                               "--table", self.table, "--group", "nohandler",
                               "--handler", str(Path(self.runner_handlers) / "libnone.so"))
        self.assertFails(result, "--handler")

    def test_missing_required_option(self):
        result = self.run_eddy("runner", "--endpoint", self.server.endpoint,
                               "--table", self.table)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--group is required", result.stderr)


class RunnerOptionsTest(RunnerTestCase):
    """The options a runner adds to those of `eddy trigger create`, and
    those it shares with it, end to end."""

    def empty_read_rate(self, runner, shards, seconds=2.0):
        """Empty GetRecords per second per shard over `seconds` of an idle
        stream, once the backoff from a short interval has had time to grow
        (1, 2, 4 ... ms: the first ten polls)."""
        wait_until(lambda: runner.metric("eddy_runner_empty_reads_total") >= 10 * shards,
                   timeout=30, what="ten polls of every shard")
        before, began = runner.metric("eddy_runner_empty_reads_total"), time.monotonic()
        while time.monotonic() - began < seconds:
            time.sleep(0.1)  # The measured window: the stream stays idle.
        after = runner.metric("eddy_runner_empty_reads_total")
        return (after - before) / (time.monotonic() - began) / shards

    # An empty shard is polled every --poll-interval (Lambda's 250 ms by
    # default); 0 polls again at once but backs off to 250 ms while the
    # shard stays empty, so an idle runner never spins.
    def test_idle_shards_are_polled_without_spinning(self):
        table = self.stream_table()
        shards = len(self.streams.describe_stream(
            StreamArn=self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"])
            ["StreamDescription"]["Shards"])
        for interval in ("250ms", "0"):
            runner = self.runner(table, f"poll{interval.rstrip('ms')}", "a",
                                 poll_interval=interval)
            rate = self.empty_read_rate(runner, shards)
            # 4 a second at 250 ms; a hot loop makes thousands.
            self.assertGreater(rate, 0, interval)
            self.assertLess(rate, 6, f"--poll-interval {interval}: {rate:.1f} empty "
                                     "reads a second per shard")
            self.put_many(table, [{"p": f"{interval}-k{k}", "v": 1} for k in range(10)])
            wait_until(lambda: len([r for _, r in runner.handled(table)
                                    if key_version(r)[0].startswith(f"{interval}-")]) >= 10,
                       timeout=30, what="records after an idle spell")
            runner.terminate()

    # Every option of `eddy trigger create` works in a runner, through the
    # same delivery code: filters drop records (counted, checkpointed past),
    # partial batch failures and an on-failure table at --endpoint take the
    # failing records, the others are handled, and the shards end caught up.
    def test_trigger_options_in_a_runner(self):
        table = self.stream_table()
        failures = self.create_table(hash_key=("id", "S"))
        runner = self.runner(
            table, "options", "a", handler="partial_batch_failure",
            extra=("--filter", '{"eventName":["INSERT"]}', "--report-batch-item-failures",
                   "--max-retries", "0", "--on-failure", f"table:{failures}",
                   "--batch-size", "1"))
        self.put_many(table, [{"p": f"ok{k}"} for k in range(8)] +
                      [{"p": f"fail{k}"} for k in range(3)])
        for k in range(2):  # MODIFY records: dropped by the filter.
            self.ddb.update_item(TableName=table, Key={"p": {"S": f"ok{k}"}},
                                 UpdateExpression="SET v = :v",
                                 ExpressionAttributeValues={":v": {"N": "1"}})
        wait_until(lambda: runner.metric("eddy_trigger_records_handled_total") +
                   runner.metric("eddy_trigger_records_dead_lettered_total") +
                   runner.metric("eddy_trigger_records_filtered_total") >= 13,
                   timeout=60, what="every record handled, dead-lettered or filtered")
        self.assertEqual(runner.metric("eddy_trigger_records_filtered_total"), 2)
        self.assertEqual(runner.metric("eddy_trigger_records_dead_lettered_total"), 3)
        self.assertEqual(runner.metric("eddy_trigger_records_handled_total"), 8)
        items, _ = self.scan_all(failures)
        dead = sorted(json.loads(i["record"]["S"])["dynamodb"]["Keys"]["p"]["S"]
                      for i in items)
        self.assertEqual(dead, ["fail0", "fail1", "fail2"])
        for i in items:
            self.assertTrue(i["id"]["S"].startswith("options/shardId-"), i["id"])
        wait_until(lambda: all(s["PendingRecords"] == 0 for s in self.status("options")["Shards"]),
                   timeout=30, what="every shard checkpointed past its records")

    # --lease-endpoint: the lease table lives at another endpoint than the
    # source (e.g. DynamoDB while the source is Alternator); `eddy runner
    # status` finds it there.
    def test_lease_table_at_another_endpoint(self):
        from eddy_server import EddyServer
        leases = EddyServer()
        leases.start()
        self.addCleanup(leases.stop)
        table = self.stream_table()
        runner = self.runner(table, "remote-leases", "a",
                             extra=("--lease-endpoint", leases.endpoint))
        self.put_many(table, [{"p": f"k{k}", "v": 1} for k in range(10)])
        wait_until(lambda: len(runner.handled(table)) >= 10, timeout=60,
                   what="records handled with the leases elsewhere")
        self.assertIn("eddy-leases-remote-leases",
                      leases.client().list_tables()["TableNames"])
        self.assertNotIn("eddy-leases-remote-leases",
                         self.ddb.list_tables()["TableNames"])
        out = self.run_eddy("runner", "status", "--group", "remote-leases", "--endpoint",
                            self.server.endpoint, "--lease-endpoint", leases.endpoint,
                            "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        status = json.loads(out.stdout)
        self.assertEqual(status["Table"], table)
        self.assertEqual(len(status["Runners"]), 1)
        self.assertTrue(all(s["Owner"] for s in status["Shards"]))
        self.assertTrue(all(s["PendingRecords"] == 0 for s in status["Shards"]))
        # Without it, status looks at the source and says the group is not there.
        missing = self.run_eddy("runner", "status", "--group", "remote-leases",
                                "--endpoint", self.server.endpoint)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("remote-leases", missing.stderr)

    # `eddy runner status` tells how far behind a group is: the records
    # after each shard's checkpoint and the age of the oldest, while no
    # runner is there to handle them.
    def test_status_shows_pending_records_and_lag(self):
        table = self.stream_table()
        runner = self.runner(table, "lagging", "a")
        self.put_many(table, [{"p": f"k{k}", "v": 1} for k in range(5)])
        wait_until(lambda: len(runner.handled(table)) >= 5, timeout=60, what="first records")
        self.assertEqual(runner.terminate(), 0)
        self.put_many(table, [{"p": f"k{k}", "v": 2} for k in range(20)])
        wait_until(lambda: sum(s["PendingRecords"] for s in self.status("lagging")["Shards"])
                   == 20, timeout=30, what="20 pending records in status")
        status = self.status("lagging")
        self.assertEqual(status["Runners"], [])
        lagging = [s for s in status["Shards"] if s["PendingRecords"] > 0]
        self.assertTrue(all(s["LagMs"] >= 0 and s["Owner"] == "" for s in lagging))
        text = self.run_eddy("runner", "status", "--group", "lagging", "--endpoint",
                             self.server.endpoint)
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertIn("PENDING", text.stdout)
        self.assertIn("LAG", text.stdout)

    # --metrics-port 0 picks a free port and logs it; /metrics there carries
    # the runner's and the trigger metrics with the group's labels.
    def test_metrics_on_a_port_of_its_choice(self):
        table = self.stream_table()
        runner = self.runner(table, "anyport", "a", metrics_port=0)
        self.assertGreater(runner.metrics_port, 0)
        self.put_many(table, [{"p": f"k{k}", "v": 1} for k in range(5)])
        wait_until(lambda: runner.metric("eddy_trigger_records_handled_total") >= 5,
                   timeout=60, what="handled records in /metrics")
        text = runner.metrics()
        for name in ("eddy_runner_leases_held", "eddy_runner_reads_total",
                     "eddy_trigger_invocations_total", "eddy_workers_live"):
            self.assertIn(name, text)
        self.assertIn('group="anyport"', text)
        self.assertIn(f'table="{table}"', text)
        status = self.status("anyport")
        self.assertTrue(status["Runners"][0]["Metrics"].endswith(f":{runner.metrics_port}"))


class RunnerTlsTest(RunnerTestCase):
    """An https:// source: the runner verifies it against --ca-bundle, and
    says how to fix it when the CA is unknown."""

    def test_runner_over_https(self):
        from eddy_server import EddyServer
        from test_tls import Pki
        tmp = tempfile.mkdtemp(prefix="eddy-runner-tls-")
        self.addCleanup(shutil.rmtree, tmp, True)
        pki = Pki(tmp)
        cert, key = pki.server_certificate("source", 4242)
        source = EddyServer(tls_cert=cert, tls_key=key, ca_bundle=pki.ca)
        source.start()
        self.addCleanup(source.stop)
        ddb = source.client()
        table = "tls-orders"
        ddb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"}],
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "NEW_AND_OLD_IMAGES"})
        library = install_library(built_handler("ok"), self.runner_handlers)
        handler = str(Path(self.runner_handlers) / library)
        env = runner_environment(AWS_CA_BUNDLE=None)
        untrusted = self.run_eddy("runner", "--endpoint", source.endpoint, "--table",
                                  table, "--group", "tls", "--handler", handler, env=env)
        self.assertEqual(untrusted.returncode, 1, untrusted.stderr)
        self.assertIn("--ca-bundle", untrusted.stderr)
        runner = RunnerProcess(source.binary, source.endpoint, table, self.runner_handlers,
                               "tls", self.log_dir, "tls", lease_duration=LEASE,
                               extra=("--ca-bundle", pki.ca), env=env)
        self.runners.append(runner)
        runner.start()
        for k in range(10):
            ddb.put_item(TableName=table, Item=item_av({"p": f"k{k}", "v": 1}))
        wait_until(lambda: len(runner.handled(table)) >= 10, timeout=60,
                   what="records handled over https")


RUNNER_KEY, RUNNER_SECRET = "AKIDRUNNERTEST", "runner-test-secret"
PARTIAL_KEY, PARTIAL_SECRET = "AKIDPARTIALTEST", "partial-test-secret"


def runner_policy(table, group, stream_actions):
    """The policy docs/scaling.md gives a runner identity."""
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:DescribeTable"],
         "Resource": f"arn:aws:dynamodb:*:*:table/{table}"},
        {"Effect": "Allow", "Action": stream_actions,
         "Resource": f"arn:aws:dynamodb:*:*:table/{table}/stream/*"},
        {"Effect": "Allow",
         "Action": ["dynamodb:CreateTable", "dynamodb:DescribeTable",
                    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem", "dynamodb:Scan"],
         "Resource": f"arn:aws:dynamodb:*:*:table/eddy-leases-{group}"}]}


class RunnerAuthTest(RunnerTestCase):
    """A source with --auth whatever EDDY_TEST_AUTH says: the runner's
    calls are ordinary DynamoDB calls, signed and authorized."""

    anonymous = True  # The class passes --auth itself.
    TABLE = "authorized-orders"

    @classmethod
    def setUpClass(cls):
        cls.auth_dir = tempfile.mkdtemp(prefix="eddy-runner-auth-")
        full = ["dynamodb:DescribeStream", "dynamodb:GetShardIterator",
                "dynamodb:GetRecords"]
        write_auth_file(os.path.join(cls.auth_dir, "auth.json"), [
            ("tester", ACCESS_KEY, SECRET_KEY,
             {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
            ("runner", RUNNER_KEY, RUNNER_SECRET,
             runner_policy(cls.TABLE, "documented", full)),
            ("partial", PARTIAL_KEY, PARTIAL_SECRET,
             runner_policy(cls.TABLE, "partial", full[:2])),
        ])
        cls.server_args = ("--auth", os.path.join(cls.auth_dir, "auth.json"))
        super().setUpClass()
        cls.addClassCleanup(shutil.rmtree, cls.auth_dir, True)
        cls.stream_table(name=cls.TABLE)

    def as_identity(self, key, secret):
        return runner_environment(AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret)

    def run_as(self, env, group):
        library = install_library(built_handler("ok"), self.runner_handlers)
        return self.run_eddy("runner", "--endpoint", self.server.endpoint,
                             "--table", self.TABLE, "--group", group, "--handler",
                             str(Path(self.runner_handlers) / library), env=env)

    def test_unknown_access_key(self):
        result = self.run_as(self.as_identity("AKIDNOBODY", "x"), "documented")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("UnrecognizedClientException", result.stderr)
        self.assertIn("does not accept these credentials", result.stderr)

    def test_wrong_secret(self):
        result = self.run_as(self.as_identity(RUNNER_KEY, "wrong"), "documented")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("InvalidSignatureException", result.stderr)

    # An identity without dynamodb:GetRecords is refused at start, with
    # the operation named.
    def test_identity_without_the_policy_fails_clearly(self):
        result = self.run_as(self.as_identity(PARTIAL_KEY, PARTIAL_SECRET), "partial")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("AccessDeniedException", result.stderr)
        self.assertIn("GetRecords", result.stderr)
        self.assertIn("docs/scaling.md", result.stderr)

    # The documented policy is enough for a runner to run and deliver.
    def test_documented_policy_is_enough(self):
        runner = RunnerProcess(self.server.binary, self.server.endpoint, self.TABLE,
                               self.runner_handlers, "documented", self.log_dir,
                               "documented", lease_duration=LEASE,
                               env=self.as_identity(RUNNER_KEY, RUNNER_SECRET))
        self.runners.append(runner)
        runner.start()
        self.put_many(self.TABLE, [{"p": f"k{k}", "v": 1} for k in range(20)])
        wait_until(lambda: len(runner.handled(self.TABLE)) >= 20, timeout=60,
                   what="records handled under the documented policy")


if __name__ == "__main__":
    unittest.main()
