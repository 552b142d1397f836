"""What the samples' end-to-end tests share.

Each sample's test (samples/<name>/test/test_<name>.py) starts the real
server of this build on a free 127.0.0.1 port (tests/compat/eddy_server.py,
through tests/integration/trigger_harness.py) and runs the sample's README
verbatim: every ```sh block, in order, in one bash script with `set -e`.

The README is written for a user at the repository root with `scripts/run`
serving on 127.0.0.1:8000 with `--handler-dir build/lib`, so the test's
server loads handlers from this build's library directory too, and the
script runs in a scratch directory that looks like the repository root:
  scripts/run        a no-op (the test's server is already running)
  build/bin/eddy     this build's eddy, with --endpoint <the test server>
  build/bin/eddy-audit, build/lib/
                     this build's tools and handler libraries
and http://127.0.0.1:8000 in the README's text becomes the test server's
endpoint. Nothing else is changed.
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
REPO_ROOT = SAMPLES_DIR.parent
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))

from trigger_harness import TriggerTestCase  # noqa: E402

LIB_DIR = Path(os.environ.get("EDDY_SAMPLE_LIB_DIR") or REPO_ROOT / "build" / "lib")
README_ENDPOINT = "http://127.0.0.1:8000"


def sample_library(name):
    """The path of build/lib/lib<name>.so, or skip the test."""
    path = LIB_DIR / f"lib{name}.so"
    if not path.exists():
        raise unittest.SkipTest(f"sample handler not built: {path}")
    return str(path)


def shell_blocks(readme):
    """The ```sh blocks of a README, in order."""
    text = Path(readme).read_text(encoding="utf-8")
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)


def text_blocks(readme):
    """The ```text blocks of a README (expected output), in order."""
    text = Path(readme).read_text(encoding="utf-8")
    return re.findall(r"^```text\n(.*?)^```", text, flags=re.S | re.M)


class SampleTestCase(TriggerTestCase):
    """A server per class, trigger verbs, and the README runner."""

    @classmethod
    def make_handler_dir(cls):
        """As scripts/run: the build's library directory."""
        return LIB_DIR

    @classmethod
    def make_checkout(cls, root, tools=()):
        """Lays out the fake repository root described above in `root`."""
        root = Path(root)
        (root / "scripts").mkdir(parents=True, exist_ok=True)
        (root / "build" / "bin").mkdir(parents=True, exist_ok=True)
        run = root / "scripts" / "run"
        run.write_text("#!/bin/sh\necho 'scripts/run: the server of the test "
                       "is already running'\n")
        run.chmod(0o755)
        eddy = root / "build" / "bin" / "eddy"
        eddy.write_text(f'#!/bin/sh\nexec "{cls.server.binary}" "$@" '
                        f'--endpoint "{cls.server.endpoint}"\n')
        eddy.chmod(0o755)
        for tool in tools:
            (root / "build" / "bin" / Path(tool).name).symlink_to(tool)
        (root / "build" / "lib").symlink_to(LIB_DIR)
        return root

    def run_readme(self, readme, checkout):
        """Runs the README's ```sh blocks in `checkout`; returns stdout."""
        script = "\n".join(shell_blocks(readme))
        self.assertIn(README_ENDPOINT, script)
        script = script.replace(README_ENDPOINT, self.server.endpoint)
        home = Path(checkout) / ".home"
        home.mkdir(exist_ok=True)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),  # no user config or credentials files
            "AWS_DEFAULT_OUTPUT": "json",
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
            "PS4": "+ ",
        }
        done = subprocess.run(["bash", "-x", "-e", "-o", "pipefail", "-c", script],
                              cwd=checkout, env=env, capture_output=True, text=True,
                              timeout=600, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            self.fail(f"{readme} exited {done.returncode}\n--- stdout ---\n"
                      f"{done.stdout}\n--- stderr (trace) ---\n{done.stderr}\n"
                      f"--- server log tail ---\n{self.server.log_text()[-4000:]}")
        return done.stdout

    def handler_lines(self, library_name):
        """What handlers loaded from lib<library_name>.so logged, in order."""
        marker = f"/lib{library_name}.so] "
        out = []
        for line in self.server.log_text().splitlines():
            if "[handler " in line and marker in line:
                out.append(line[line.index(marker) + len(marker):])
        return out

    @staticmethod
    def scratch(prefix):
        return tempfile.TemporaryDirectory(prefix=prefix)
