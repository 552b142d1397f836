"""`eddy serve`: it says where it listens and where its data is, answers the
health check, shuts down cleanly on SIGTERM and SIGINT, and owns its data
directory alone."""

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


if __name__ == "__main__":
    unittest.main()
