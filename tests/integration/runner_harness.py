"""Verbs for the `eddy runner` integration tests.

A source server (EddyServer: the remote endpoint; it speaks the same API
as DynamoDB) holds the table, its stream and the lease table; RunnerProcess
runs `eddy runner` against it with the `ok` handler of tests/handlers/,
which logs every record it handles as Lambda's record JSON; the worker
writes those lines to the runner's log, so each runner's log says which
records it handled and when. A Writer thread writes versions of many keys
in order, as a user's application would.

Under EDDY_TEST_AUTH=1 the source server runs with --auth and the runners
sign with the test identity through the standard credentials chain
(test_environment()).
"""

import datetime
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import free_port, item_av, test_environment, wait_until  # noqa: E402
from trigger_harness import built_handler, install_library  # noqa: E402

LINE_TIME = "%Y-%m-%dT%H:%M:%S.%f"


class RunnerProcess:
    """One `eddy runner` process with its own log file."""

    def __init__(self, binary, endpoint, table, handler_dir, group, log_dir,
                 name, lease_duration="2s", poll_interval="50ms", extra=(),
                 env=None, handler="ok", metrics_port=None):
        self.name = name
        self.log_path = Path(log_dir) / f"runner-{name}.log"
        # 0: the runner picks a free port and logs it (start() reads it).
        self.metrics_port = free_port() if metrics_port is None else metrics_port
        self.lease_duration_s = parse_seconds(lease_duration)
        library = install_library(built_handler(handler), handler_dir)
        self.command = [
            str(binary), "runner", "--endpoint", endpoint, "--table", table,
            "--handler", str(Path(handler_dir) / library), "--group", group,
            "--lease-duration", lease_duration, "--poll-interval", poll_interval,
            "--metrics-port", str(self.metrics_port), *extra]
        self.env = env or test_environment()
        self.process = None

    def start(self):
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            self.command, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, env=self.env)
        if self.metrics_port == 0:
            wait_until(lambda: self.logged_metrics_port() or self.process.poll() is not None,
                       timeout=30, what=f"runner {self.name} to log its metrics port")
            self.metrics_port = self.logged_metrics_port() or 0
        wait_until(lambda: self.healthy() or self.process.poll() is not None,
                   timeout=30, what=f"runner {self.name} to serve /healthz")
        if self.process.poll() is not None:
            raise AssertionError(f"runner {self.name} exited "
                                 f"{self.process.returncode}:\n{self.log_text()}")
        return self

    def logged_metrics_port(self):
        """The port of the runner's "metrics on http://H:P/metrics" line."""
        match = re.search(r"metrics on http://[^:/]+:(\d+)/metrics", self.log_text())
        return int(match.group(1)) if match else None

    def healthy(self):
        try:
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.metrics_port}/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def metrics(self):
        with urllib.request.urlopen(
                f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as r:
            return r.read().decode()

    def metric(self, name):
        """The value of a metric (summed over its label sets)."""
        total = 0
        for line in self.metrics().splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def running(self):
        return self.process is not None and self.process.poll() is None

    def kill9(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        return time.time()

    def terminate(self, timeout=60):
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        return code

    def stop(self):
        if self.running():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        if getattr(self, "_log", None):
            self._log.close()
            self._log = None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def handled(self, table):
        """[(time, record)] the handler logged for `table`, in log order."""
        marker = ":table/" + table + "/stream/"
        out = []
        for line in self.log_text().splitlines():
            if "[handler " not in line or marker not in line:
                continue
            start = line.find("] {", line.find("[handler "))
            try:
                record = json.loads(line[start + 2:])
            except ValueError:
                continue  # A line cut short by SIGKILL.
            stamp = datetime.datetime.strptime(line[:23], LINE_TIME).timestamp()
            out.append((stamp, record))
        return out


def shards_of(runner_logs):
    """{eventID: shard id} from the `ok` handler's batch lines."""
    out = {}
    for text in runner_logs:
        for line in text.splitlines():
            at = line.find("] batch shardId-")
            if at < 0 or "[handler " not in line:
                continue
            parts = line[at + 8:].split(" ")
            if len(parts) < 2:
                continue
            for event_id in parts[1].split(","):
                if event_id:
                    out[event_id] = parts[0]
    return out


def parse_seconds(text):
    if text.endswith("ms"):
        return int(text[:-2]) / 1000
    if text.endswith("s"):
        return float(text[:-1])
    return float(text)


def key_version(record):
    image = record["dynamodb"]["NewImage"]
    return image["p"]["S"], int(image["v"]["N"])


class Writer(threading.Thread):
    """Writes versions 0.. of keys k000.. in order: each key's versions one
    after another on one connection (so they commit in version order),
    interleaving keys. Records what it wrote; stop() ends it after the
    current round."""

    def __init__(self, client_factory, table, keys, versions, pause_s=0.0):
        super().__init__(daemon=True)
        self.client_factory = client_factory
        self.table = table
        self.keys = keys
        self.versions = versions
        self.pause_s = pause_s
        self.written = []  # (key, version), acknowledged.
        self.errors = []
        self._halt = threading.Event()
        self.progress = threading.Condition()

    def run(self):
        client = self.client_factory()
        try:
            for v in range(self.versions):
                for k in range(self.keys):
                    key = f"k{k:03d}"
                    while True:
                        try:
                            client.put_item(TableName=self.table,
                                            Item=item_av({"p": key, "v": v}))
                            break
                        except Exception as e:  # noqa: BLE001 - the source restarts
                            if self._halt.is_set():
                                return
                            self.errors.append(e)
                            time.sleep(0.05)
                    with self.progress:
                        self.written.append((key, v))
                        self.progress.notify_all()
                if self._halt.is_set():
                    return
                if self.pause_s:
                    time.sleep(self.pause_s)
        finally:
            with self.progress:
                self.progress.notify_all()

    def wait_written(self, count, timeout=120):
        deadline = time.monotonic() + timeout
        with self.progress:
            while len(self.written) < count:
                left = deadline - time.monotonic()
                if left <= 0 or not self.is_alive():
                    raise AssertionError(f"writer wrote {len(self.written)} of {count}")
                self.progress.wait(left)

    def stop(self):
        self._halt.set()


def runner_environment(**overrides):
    """The runners' environment: the test identity, minus what a test takes
    away (None removes a variable)."""
    env = test_environment()
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    env.pop("AWS_SHARED_CREDENTIALS_FILE", None)
    env.setdefault("HOME", os.environ.get("HOME", "/tmp"))
    return env
