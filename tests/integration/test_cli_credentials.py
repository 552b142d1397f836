"""The eddy CLI signs every request with SigV4, with credentials and region
from the standard AWS chain (environment, ~/.aws/credentials, ~/.aws/config),
over one kept-alive connection; without credentials it says where to put
them and sends nothing.

The server here is a fake on 127.0.0.1 that checks each signature the way
AWS does and answers the admin API with canned JSON, so the test sees
exactly what the CLI sends.
"""

import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import traceback
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import REPO_ROOT, sigv4_problem  # noqa: E402

EDDY = os.environ.get("EDDY_BIN") or str(REPO_ROOT / "build" / "bin" / "eddy")


class FakeEddy(http.server.ThreadingHTTPServer):
    """Records every request (with its signature checked against `secret`)
    and answers the admin operations the tests call."""

    # WaitForTriggers says Done on this call (1-based), to make `trigger
    # wait` poll a few times.
    DONE_AFTER = 3

    def __init__(self, secret):
        self.secret = secret
        self.requests = []
        super().__init__(("127.0.0.1", 0), self.Handler)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            target = headers.get("x-amz-target", "")
            credential = headers.get("authorization", "").partition("Credential=")[2]
            request = {"target": target, "peer": self.client_address,
                       "scope": credential.split(",")[0].split("/")[1:],
                       "key_id": credential.split("/")[0],
                       "token": headers.get("x-amz-security-token")}
            try:
                request["problem"] = sigv4_problem("POST", self.path, headers, body,
                                                   self.server.secret)
            except Exception:  # noqa: BLE001 - the test reports it
                request["problem"] = traceback.format_exc()
            self.server.requests.append(request)
            operation = target.rpartition(".")[2]
            waits = sum(r["target"].endswith("WaitForTriggers")
                        for r in self.server.requests)
            reply = {
                "SweepExpiredItems": {"DeletedItemCount": 0, "TableNames": []},
                "ListTriggers": {"Triggers": []},
                "WaitForTriggers": {"Done": waits >= FakeEddy.DONE_AFTER,
                                    "Barrier": {"n": waits}},
            }.get(operation, {})
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass


class CliCredentialsTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="eddy-cli-home-")
        self.addCleanup(shutil.rmtree, self.home, ignore_errors=True)
        self.fake = FakeEddy(secret="cli-secret")
        threading.Thread(target=self.fake.serve_forever, daemon=True).start()
        self.addCleanup(self.fake.server_close)
        self.addCleanup(self.fake.shutdown)

    def env(self, **settings):
        """A clean environment: only PATH, a HOME of our own, and `settings`."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "HOME": self.home, **settings}

    def write(self, relative, text):
        path = Path(self.home) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return str(path)

    def eddy(self, env, *args):
        return subprocess.run([EDDY, *args], env=env, capture_output=True, text=True,
                              timeout=60, stdin=subprocess.DEVNULL)

    def sweep(self, env):
        done = self.eddy(env, "ttl", "sweep", "--endpoint-url", self.fake.endpoint)
        self.assertEqual(done.returncode, 0, done.stderr)
        return self.fake.requests[-1]

    def assertSigned(self, request, key_id, region):
        self.assertIsNone(request["problem"])
        self.assertEqual(request["key_id"], key_id)
        self.assertEqual(request["scope"], [request["scope"][0], region, "dynamodb",
                                            "aws4_request"])

    def test_environment_credentials_sign(self):
        """AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY sign; AWS_REGION scopes; the
        session token is sent and signed."""
        request = self.sweep(self.env(AWS_ACCESS_KEY_ID="AKIDENV",
                                      AWS_SECRET_ACCESS_KEY="cli-secret",
                                      AWS_SESSION_TOKEN="session-token",
                                      AWS_REGION="eu-west-1"))
        self.assertSigned(request, "AKIDENV", "eu-west-1")
        self.assertEqual(request["token"], "session-token")
        self.assertEqual(request["target"], "EddyAdmin_20261126.SweepExpiredItems")

    def test_default_region_is_us_east_1(self):
        request = self.sweep(self.env(AWS_ACCESS_KEY_ID="AKIDENV",
                                      AWS_SECRET_ACCESS_KEY="cli-secret"))
        self.assertSigned(request, "AKIDENV", "us-east-1")
        self.assertIsNone(request["token"])

    def test_credentials_file_profile_and_config_region(self):
        """~/.aws/credentials [AWS_PROFILE] signs; the region comes from
        ~/.aws/config [profile NAME]."""
        self.write(".aws/credentials",
                   "[default]\naws_access_key_id = AKIDDEFAULT\n"
                   "aws_secret_access_key = wrong\n"
                   "[dev]\naws_access_key_id = AKIDDEV\n"
                   "aws_secret_access_key = cli-secret\n")
        self.write(".aws/config", "[profile dev]\nregion = ap-southeast-2\n")
        request = self.sweep(self.env(AWS_PROFILE="dev"))
        self.assertSigned(request, "AKIDDEV", "ap-southeast-2")

    def test_config_file_credentials(self):
        """With no credentials file, the config file's [default] is used."""
        config = self.write("elsewhere/config",
                            "[default]\nregion = ca-central-1\n"
                            "aws_access_key_id = AKIDCONFIG\n"
                            "aws_secret_access_key = cli-secret\n")
        request = self.sweep(self.env(AWS_CONFIG_FILE=config))
        self.assertSigned(request, "AKIDCONFIG", "ca-central-1")

    def test_no_credentials_fails_and_says_where_to_put_them(self):
        for args in (["ttl", "sweep", "--endpoint-url", self.fake.endpoint],
                     ["trigger", "list", "--endpoint", self.fake.endpoint],
                     ["stream", "tail", "t", "--endpoint", self.fake.endpoint]):
            done = self.eddy(self.env(), *args)
            self.assertNotEqual(done.returncode, 0, args)
            self.assertIn("Unable to locate credentials", done.stderr)
            self.assertIn("AWS_ACCESS_KEY_ID", done.stderr)
            self.assertIn(os.path.join(self.home, ".aws", "credentials"), done.stderr)
        self.assertEqual(self.fake.requests, [])

    def test_requests_share_one_connection(self):
        """`trigger wait` polls: every poll is signed, on one connection."""
        done = self.eddy(self.env(AWS_ACCESS_KEY_ID="AKIDENV",
                                  AWS_SECRET_ACCESS_KEY="cli-secret"),
                         "trigger", "wait", "--endpoint", self.fake.endpoint)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(len(self.fake.requests), FakeEddy.DONE_AFTER)
        for request in self.fake.requests:
            self.assertSigned(request, "AKIDENV", "us-east-1")
        self.assertEqual(len({r["peer"] for r in self.fake.requests}), 1)


if __name__ == "__main__":
    unittest.main()
