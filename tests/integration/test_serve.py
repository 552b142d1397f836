"""`eddy serve`: it says where it listens and where its data is, answers the
health check, shuts down cleanly on SIGTERM and SIGINT, and owns its data
directory alone."""

import os
import re
import shutil
import signal
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import EddyServer, free_port, wait_until  # noqa: E402


class ServeIntegrationTest(unittest.TestCase):
    def setUp(self):
        self.server = EddyServer()
        self.server.require_process()
        self.server.start()
        self.addCleanup(self.server.stop)

    def test_logs_listen_address_and_data_directory(self):
        """The log names the host:port it listens on and the data directory."""
        address = f"127.0.0.1:{self.server.port}"
        wait_until(lambda: address in self.server.log_text(), timeout=5,
                   what=f"{address} in the log")
        wait_until(lambda: str(self.server.data_dir) in self.server.log_text(), timeout=5,
                   what="the data directory in the log")

    def test_creates_the_data_directory(self):
        """--data DIR is created if missing and holds the database."""
        data = Path(self.server.data_dir)
        self.assertTrue(data.is_dir())
        self.assertTrue(any(data.iterdir()), "data directory is empty")

    def test_sigterm_exits_cleanly(self):
        """SIGTERM makes the server exit with status 0."""
        self.server.client().list_tables()
        self.assertEqual(self.server.terminate(signal.SIGTERM), 0)

    def test_sigint_exits_cleanly(self):
        """SIGINT (Ctrl-C) makes the server exit with status 0."""
        self.server.client().list_tables()
        self.assertEqual(self.server.terminate(signal.SIGINT), 0)

    def test_second_server_on_same_data_directory_fails(self):
        """A second server on a data directory in use exits non-zero instead of sharing it."""
        command = [str(self.server.binary), "serve", "--data", str(self.server.data_dir),
                   "--host", "127.0.0.1", "--port", str(free_port())]
        try:
            other = subprocess.run(command, capture_output=True, timeout=10)
        except subprocess.TimeoutExpired:
            self.fail("a second server started on a data directory that is in use")
        self.assertNotEqual(other.returncode, 0)
        self.assertTrue(self.server.is_running())
        self.server.client().list_tables()

    def test_port_in_use_fails(self):
        """Asking for a port that is taken exits non-zero."""
        command = [str(self.server.binary), "serve", "--data", str(self.server.data_dir) + "-2",
                   "--host", "127.0.0.1", "--port", str(self.server.port)]
        try:
            other = subprocess.run(command, capture_output=True, timeout=10)
        except subprocess.TimeoutExpired:
            self.fail("a second server kept running on a port that is in use")
        self.assertNotEqual(other.returncode, 0)


class PinnedServer(EddyServer):
    """An EddyServer started under `taskset -c <cpus>`."""

    def __init__(self, cpus, **kwargs):
        super().__init__(**kwargs)
        self.cpus = cpus

    def command(self):
        return ["taskset", "-c", self.cpus, *super().command()]


def loop_threads(pid):
    """Names of the process's event-loop threads (eddy-http-<n>)."""
    names = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
        except FileNotFoundError:
            continue  # The thread ended meanwhile.
        if name.startswith("eddy-http-"):
            names.append(name)
    return sorted(names)


@unittest.skipIf(os.environ.get("EDDY_ENDPOINT"), "needs server processes")
class ServeThreadsIntegrationTest(unittest.TestCase):
    """--threads defaults to the CPUs the process may use (affinity mask and
    cgroup quota), at most 4, and the log says how many and why."""

    def start(self, server):
        server.start()
        self.addCleanup(server.stop)
        return server

    @unittest.skipUnless(shutil.which("taskset"), "needs taskset (util-linux)")
    def test_pinned_to_one_cpu_starts_one_loop(self):
        """Under `taskset -c 0` the server runs one event loop, not one per
        core of the machine (two loops on one core only fight over it)."""
        cpu = str(min(os.sched_getaffinity(0)))
        server = self.start(PinnedServer(cpu))
        self.assertEqual(loop_threads(server.process.pid), ["eddy-http-0"])
        log = server.log_text()
        self.assertRegex(log, r"event-loop threads: 1 \(one per CPU this process "
                              r"may use, at most 4: 1 CPU in the affinity mask")
        server.client().list_tables()

    def test_threads_flag_overrides_the_default(self):
        """--threads N starts N loops whatever the CPUs, and says so."""
        server = self.start(EddyServer(extra_args=["--threads", "3"]))
        self.assertEqual(loop_threads(server.process.pid),
                         ["eddy-http-0", "eddy-http-1", "eddy-http-2"])
        self.assertIn("event-loop threads: 3 (--threads)", server.log_text())

    def test_default_matches_the_logged_cpu_budget(self):
        """Unpinned, the loops are as many as the CPUs the log names, at most 4."""
        server = self.start(EddyServer())
        match = re.search(r"event-loop threads: (\d+) \(one per CPU", server.log_text())
        self.assertIsNotNone(match, server.log_text())
        threads = int(match.group(1))
        self.assertGreaterEqual(threads, 1)
        self.assertLessEqual(threads, min(4, len(os.sched_getaffinity(0))))
        self.assertEqual(len(loop_threads(server.process.pid)), threads)



class StreamRolloverOptionTest(unittest.TestCase):
    """`--stream-shard-rollover D` (issue 14 §3): 4h unless given, `0` turns
    rollovers off, anything else is refused before the server starts."""

    def serve(self, *args):
        server = EddyServer(extra_args=args)
        server.require_process()
        server.start()
        self.addCleanup(server.stop)
        return server

    def test_default_is_four_hours(self):
        server = self.serve()
        wait_until(lambda: "shards roll over every 4h" in server.log_text(), timeout=5,
                   what="the rollover period in the log")

    def test_zero_turns_rollovers_off(self):
        server = self.serve("--stream-shard-rollover", "0")
        wait_until(lambda: "shards never roll over" in server.log_text(), timeout=5,
                   what="rollovers off in the log")

    def test_malformed_period_is_refused(self):
        binary = EddyServer().binary
        for bad in ("soon", "-1h", "4x", "99999999999999999999h"):
            result = subprocess.run(
                [str(binary), "serve", "--data", "/nonexistent/eddy-never-created",
                 "--port", str(free_port()), "--stream-shard-rollover", bad],
                capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
            self.assertEqual(result.returncode, 2, f"{bad}: {result.stderr}")
            self.assertIn("--stream-shard-rollover must be a duration", result.stderr)



@unittest.skipIf(os.environ.get("EDDY_ENDPOINT"), "needs server processes")
class ServeMemoryIntegrationTest(unittest.TestCase):
    """--block-cache-mb and --write-buffer-mb bound the store's memory; the
    log says what they are."""

    def serve(self, *args):
        server = EddyServer(extra_args=args)
        server.start()
        self.addCleanup(server.stop)
        return server

    @staticmethod
    def table_files(server):
        return sorted(p.name for p in (Path(server.data_dir) / "leveldb").glob("*.ldb"))

    def write_megabytes(self, server, megabytes):
        ddb = server.client()
        ddb.create_table(TableName="mem", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "k",
                                                "AttributeType": "S"}])
        blob = "x" * 20000
        for batch in range(megabytes * 50 // 25 + 1):
            ddb.batch_write_item(RequestItems={"mem": [
                {"PutRequest": {"Item": {"k": {"S": f"{batch}-{i}"}, "v": {"S": blob}}}}
                for i in range(25)]})

    def test_the_write_buffer_is_what_the_flag_says(self):
        """6 MB of items: written out to a table file with a 4 MiB write
        buffer, still all in memory with the default 32 MiB."""
        small = self.serve("--block-cache-mb", "8", "--write-buffer-mb", "4")
        self.assertIn("store memory: block cache 8 MiB, write buffer 4 MiB",
                      small.log_text())
        self.write_megabytes(small, 6)
        wait_until(lambda: self.table_files(small), timeout=30,
                   what="a table file written out of the 4 MiB buffer")
        default = self.serve()
        self.assertIn("store memory: block cache 64 MiB, write buffer 32 MiB",
                      default.log_text())
        self.write_megabytes(default, 6)
        self.assertEqual(self.table_files(default), [])

    def test_out_of_range_sizes_are_refused(self):
        binary = EddyServer().binary
        for flag, bad in (("--block-cache-mb", "0"), ("--write-buffer-mb", "0"),
                          ("--write-buffer-mb", "2048"), ("--block-cache-mb", "lots")):
            result = subprocess.run(
                [str(binary), "serve", "--data", "/nonexistent/eddy-never-created",
                 "--port", str(free_port()), flag, bad],
                capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
            self.assertNotEqual(result.returncode, 0, f"{flag} {bad}: {result.stderr}")
            self.assertIn(flag, result.stderr)
            self.assertFalse(os.path.exists("/nonexistent/eddy-never-created"))


if __name__ == "__main__":
    unittest.main()
