"""Issue 4's first acceptance point: a handler built from one .cc out of the
tree, against the installed SDK, runs as a trigger on inserts, updates and
deletes written with the AWS CLI."""

import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from trigger_harness import TriggerTestCase, install_library

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("EDDY_BUILD_DIR") or REPO_ROOT / "build")


class OutOfTreeHandlerTest(TriggerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = tempfile.TemporaryDirectory(prefix="eddy-oot-")
        prefix = Path(cls.work.name) / "prefix"
        build = Path(cls.work.name) / "build"
        for command in (
                ["cmake", "--install", str(BUILD_DIR), "--component",
                 "eddy_functions_sdk", "--prefix", str(prefix)],
                ["cmake", "-S", str(REPO_ROOT / "tests/handlers/out_of_tree"),
                 "-B", str(build), f"-DCMAKE_PREFIX_PATH={prefix}",
                 "-DCMAKE_BUILD_TYPE=Release"],
                ["cmake", "--build", str(build)]):
            done = subprocess.run(command, capture_output=True, text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"{command}: {done.stdout}\n{done.stderr}")
        cls.library = build / "libaudit.so"
        cls.env = dict(os.environ, AWS_ACCESS_KEY_ID="dummy", AWS_SECRET_ACCESS_KEY="dummy",
                       AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="", AWS_MAX_ATTEMPTS="1")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.work.cleanup()

    def aws(self, *args):
        done = subprocess.run(["aws", *args, "--endpoint-url", self.server.endpoint],
                              capture_output=True, text=True, env=self.env, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_handler_sees_cli_inserts_updates_and_deletes(self):
        """INSERT, MODIFY and REMOVE made with the AWS CLI reach the handler."""
        # The handler reads the key attribute "id".
        table = self.create_table(hash_key=("id", "S"), StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        # Deployed as a user would: copied into the server's handler directory.
        self.create_trigger(table, install_library(self.library, self.handler_dir))
        self.aws("dynamodb", "put-item", "--table-name", table,
                 "--item", '{"id":{"S":"o1"},"n":{"N":"1"}}')
        self.aws("dynamodb", "update-item", "--table-name", table,
                 "--key", '{"id":{"S":"o1"}}', "--update-expression", "SET n = :n",
                 "--expression-attribute-values", '{":n":{"N":"2"}}')
        self.aws("dynamodb", "delete-item", "--table-name", table,
                 "--key", '{"id":{"S":"o1"}}')
        self.wait_triggers(table, timeout=60)
        log = self.server.log_text()
        lines = [line[line.index("INSERT o1"):] if "INSERT o1" in line else
                 line[line.index("MODIFY o1"):] if "MODIFY o1" in line else
                 line[line.index("REMOVE o1"):]
                 for line in log.splitlines()
                 if any(e in line for e in ("INSERT o1", "MODIFY o1", "REMOVE o1"))]
        self.assertEqual(lines, ["INSERT o1 n=1", "MODIFY o1 n=2", "REMOVE o1"])


if __name__ == "__main__":
    unittest.main()
