"""The AWS SDK for JavaScript v3 against the real server: the node:test
suite in js/ (@aws-sdk/client-dynamodb, lib-dynamodb's DocumentClient,
client-dynamodb-streams; installed there by scripts/setup with `npm ci`)
covering items, expressions, batches, transactions, paging, streams and
signatures. This wrapper starts the server through the harness (so the
suite also runs as compat-auth.js_sdk against a server with --auth) and
runs `node --test` on it with the harness's credentials."""

import os
import shutil
import subprocess
import unittest
from pathlib import Path

from eddy_server import AUTH_MODE, EddyTestCase, test_environment

JS_DIR = Path(__file__).resolve().parent / "js"


class JsSdkTest(EddyTestCase):

    def test_js_sdk_suite(self):
        node = shutil.which("node")
        self.assertIsNotNone(node, "node is not installed: run scripts/setup")
        for package in ("client-dynamodb", "lib-dynamodb", "client-dynamodb-streams",
                        "util-dynamodb"):
            self.assertTrue((JS_DIR / "node_modules" / "@aws-sdk" / package).is_dir(),
                            f"@aws-sdk/{package} is not installed in {JS_DIR}: "
                            "run scripts/setup (npm ci there)")
        files = sorted(p.name for p in JS_DIR.glob("*.test.mjs"))
        self.assertGreaterEqual(len(files), 7, files)
        env = test_environment()
        env.update(EDDY_ENDPOINT=self.server.endpoint,
                   EDDY_TEST_AUTH="1" if AUTH_MODE else "0",
                   AWS_REGION="us-east-1", NODE_NO_WARNINGS="1")
        # The SDK must not read the developer's own configuration.
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            env.pop(name, None)
        env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        done = subprocess.run(
            [node, "--test", "--test-reporter=spec", *files], cwd=JS_DIR, env=env,
            capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)
        print(done.stdout[-20000:])
        print(done.stderr[-5000:])
        self.assertEqual(done.returncode, 0, "the JavaScript suite failed (output above)")
        # The spec reporter's summary: every test ran, none failed or skipped.
        self.assertRegex(done.stdout, r"ℹ fail 0\b")
        self.assertRegex(done.stdout, r"ℹ skipped 0\b")
        self.assertRegex(done.stdout, r"ℹ pass [1-9]\d+\b")


if __name__ == "__main__":
    unittest.main()
