"""Shared verbs for the trigger integration tests.

The tests run the real server, its dispatcher and eddy-worker processes,
with the handler libraries of tests/handlers/ (built into
$EDDY_HANDLER_DIR, default build/lib). A server loads handler libraries
only from its handler directory (`eddy serve --handler-dir`): each test
class gets a fresh one, and handler(name) copies the library a test uses
into it and returns the name to pass to `eddy trigger create --handler`.
They manage triggers with the `eddy trigger` CLI and never sleep to wait
for delivery: `eddy trigger wait` returns once every record committed
before it is handled, filtered or dead-lettered.

What a handler saw: the `ok` handler logs every record it receives as
Lambda's record JSON through the host; the worker writes those lines to
the server's log, in delivery order per shard, as
  ... [worker] [handler <path>] {"eventID": ..., "eventSourceARN": ...}
handled_records() parses them back.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import (REPO_ROOT, EddyTestCase, item_av,  # noqa: E402
                         test_environment)
from test_streams import read_stream  # noqa: E402

# Where the build put the test handlers (not where servers load them from).
BUILT_HANDLERS = Path(os.environ.get("EDDY_HANDLER_DIR") or REPO_ROOT / "build" / "lib")


def built_handler(name):
    """The built library of tests/handlers/<name>.cc, or skip the test."""
    path = BUILT_HANDLERS / f"libtest_handler_{name}.so"
    if not path.exists():
        raise unittest.SkipTest(f"test handler not built: {path}")
    return path


def worker_own_variables(env):
    """A worker's environment beyond what every worker has: PATH, HOME, the
    locale, and in a sanitizer build (scripts/test --sanitize) the
    sanitizers' settings, which the server passes on to its workers
    (runtime/dispatcher/worker_pool.cc)."""
    base = {"PATH", "HOME", "LANG", "LANGUAGE",
            "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}
    return {k: v for k, v in env.items() if k not in base and not k.startswith("LC_")}


def install_library(source, directory, name=None):
    """Copies a library into a handler directory the way the server accepts
    it (owned by us, mode 0755); returns its file name there."""
    source = Path(source)
    target = Path(directory) / (name or source.name)
    if target.exists() and target.samefile(source):
        return target.name
    shutil.copyfile(source, target)
    target.chmod(0o755)
    return target.name


class TriggerTestCase(EddyTestCase):
    """A server per class, with a handler directory of its own, plus
    trigger verbs."""

    @classmethod
    def make_handler_dir(cls):
        """The server's --handler-dir: a fresh directory per class."""
        path = Path(tempfile.mkdtemp(prefix="eddy-handlers-"))
        path.chmod(0o755)
        cls.addClassCleanup(shutil.rmtree, path, True)
        return path

    @classmethod
    def setUpClass(cls):
        cls.handler_dir = cls.make_handler_dir()
        # This class's server gets the directory; subclasses get their own.
        own = cls.__dict__.get("server_args")
        cls.server_args = (*cls.server_args, "--handler-dir", str(cls.handler_dir))
        try:
            super().setUpClass()
        finally:
            if own is None:
                del cls.server_args
            else:
                cls.server_args = own
        cls.server.require_process()
        cls.streams = cls.server.client("dynamodbstreams")
        cls.tmp = Path(cls.server._own_tmp)

    @classmethod
    def handler(cls, name):
        """Installs tests/handlers/<name>.cc's library in the handler
        directory; returns the name to pass to --handler."""
        return install_library(built_handler(name), cls.handler_dir)

    # -- tables and writes -----------------------------------------------------

    @classmethod
    def stream_table(cls, name=None):
        return cls.create_table(name=name, StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})

    def put_many(self, table, items, threads=4):
        """PutItem every item from `threads` connections; items of one key
        stay on one connection, in order."""
        lanes = [[] for _ in range(threads)]
        for item in items:
            lanes[hash(item["p"]) % threads].append(item)
        errors = []

        def run(lane):
            try:
                client = self.server.client()
                for item in lane:
                    client.put_item(TableName=table, Item=item_av(item))
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)

        workers = [threading.Thread(target=run, args=(lane,)) for lane in lanes]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        self.assertEqual(errors, [])

    def stream_records(self, table):
        """Every record of the table's stream, {eventID: record}."""
        arn = self.ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        out = {}
        for records in read_stream(self.streams, arn).values():
            for record in records:
                out[record["eventID"]] = record
        return out

    # -- the CLI ---------------------------------------------------------------

    def eddy(self, *args, check=True, timeout=300, cwd=None):
        command = [str(self.server.binary), *args, "--endpoint", self.server.endpoint]
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=timeout, stdin=subprocess.DEVNULL, cwd=cwd,
                                env=test_environment())
        if check and result.returncode != 0:
            self.fail(f"{' '.join(command)} exited {result.returncode}:\n"
                      f"{result.stdout}\n{result.stderr}\n--- server log tail ---\n"
                      f"{self.server.log_text()[-4000:]}")
        return result

    def create_trigger(self, table, handler, *options):
        """Create a trigger with `eddy trigger create`; returns its JSON.
        `handler`: a test handler's name ("ok"), or a library file name or
        path as --handler takes it ("libx.so", "/abs/inside/libx.so")."""
        if "/" not in handler and not handler.endswith(".so"):
            handler = self.handler(handler)
        out = self.eddy("trigger", "create", "--table", table, "--handler", handler,
                        *options)
        return json.loads(out.stdout)

    def wait_triggers(self, table=None, timeout=240):
        args = ["trigger", "wait", "--timeout", str(timeout)]
        if table:
            args += ["--table", table]
        self.eddy(*args, timeout=timeout + 30)

    def status(self, name):
        return json.loads(self.eddy("trigger", "status", name).stdout)

    def dlq_path(self, label):
        """An on-failure file: one in the server's failure directory
        (<data>/failures, the only place it may write one)."""
        return str(Path(self.server.data_dir).resolve() / "failures" / f"dlq-{label}.jsonl")

    # -- what happened ---------------------------------------------------------

    def handled_records(self, table):
        """Records the `ok` handler logged for `table`, in log order."""
        marker = ":table/" + table + "/stream/"
        out = []
        for line in self.server.log_text().splitlines():
            if "[handler " not in line or marker not in line:
                continue
            start = line.find("] {", line.find("[handler "))
            record = json.loads(line[start + 2:])
            if marker in record.get("eventSourceARN", ""):
                out.append(record)
        return out

    @staticmethod
    def dead_letters(path):
        if not os.path.exists(path):
            return []
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def assertAllDeadLettered(self, table, dlq, condition="RetryAttemptsExhausted"):
        """Audit: every stream record of `table` is in the on-failure
        destination exactly once, in Lambda's document."""
        documents = self.dead_letters(dlq)
        seen = []
        for doc in documents:
            self.assertEqual(doc["requestContext"]["condition"], condition)
            info = doc["DDBStreamBatchInfo"]
            self.assertEqual(info["batchSize"], len(doc["records"]))
            self.assertEqual(info["startSequenceNumber"],
                             doc["records"][0]["dynamodb"]["SequenceNumber"])
            self.assertEqual(info["endSequenceNumber"],
                             doc["records"][-1]["dynamodb"]["SequenceNumber"])
            self.assertIn(f"table/{table}/stream/", info["streamArn"])
            seen.extend(r["eventID"] for r in doc["records"])
        expected = self.stream_records(table)
        self.assertEqual(sorted(seen), sorted(expected))
        return documents
