"""Issue 17's acceptance: the README's "Write your own trigger" section, run
verbatim (every ```sh block of the section, in order, in one bash script
with `set -e`): install, scaffold, build, unit test, invoke, attach, write
with the AWS CLI, and the handler's line in the server's log. It measures
the figure the README states: the number of commands and the seconds from
zero to a firing trigger of one's own.

As the samples' tests do (samples/sample_harness.py), the script runs in a
scratch directory laid out like the repository root, with `scripts/run`'s
server replaced by the test's own: build/bin/eddy is this build's eddy with
--endpoint of the test server, build/lib is that server's handler
directory, build/cmake_install.cmake is this build's (so `cmake --install
build` installs this build), and http://127.0.0.1:8000 in the text becomes
the test server's endpoint. HOME is a scratch directory too.
"""

import os
import re
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from trigger_harness import TriggerTestCase

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("EDDY_BUILD_DIR") or REPO_ROOT / "build")
README = REPO_ROOT / "README.md"
README_ENDPOINT = "http://127.0.0.1:8000"
SECTION = "## Write your own trigger"


def section_text():
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start:end if end != -1 else len(text)]


def blocks(kind):
    return re.findall(rf"^```{kind}\n(.*?)^```", section_text(), flags=re.S | re.M)


def count_commands(script):
    """Simple commands of a script: continuation lines joined, comments and
    blank lines dropped, `a && b` counted as two."""
    joined = script.replace("\\\n", " ")
    count = 0
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        count += len([part for part in line.split("&&") if part.strip()])
    return count


class ReadmeOwnTriggerTest(TriggerTestCase):

    @classmethod
    def setUpClass(cls):
        if not (BUILD_DIR / "cmake_install.cmake").exists():
            raise unittest.SkipTest(f"no build in {BUILD_DIR}")
        super().setUpClass()

    def make_checkout(self, root):
        root = Path(root)
        (root / "build" / "bin").mkdir(parents=True)
        eddy = root / "build" / "bin" / "eddy"
        eddy.write_text(f'#!/bin/sh\nexec "{self.server.binary}" "$@" '
                        f'--endpoint "{self.server.endpoint}"\n')
        eddy.chmod(0o755)
        (root / "build" / "lib").symlink_to(self.handler_dir)
        (root / "build" / "cmake_install.cmake").symlink_to(BUILD_DIR / "cmake_install.cmake")
        (root / ".home").mkdir()
        return root

    def test_readme_walkthrough_fires_a_trigger_of_ones_own(self):
        script = "\n".join(blocks("sh"))
        self.assertIn(README_ENDPOINT, script)
        script = script.replace(README_ENDPOINT, self.server.endpoint)
        commands = count_commands(script)
        with tempfile.TemporaryDirectory(prefix="eddy-own-trigger-") as tmp:
            root = self.make_checkout(tmp)
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "HOME": str(root / ".home"), "AWS_DEFAULT_OUTPUT": "json",
                   "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true", "PS4": "+ "}
            started = time.monotonic()
            done = subprocess.run(["bash", "-x", "-e", "-o", "pipefail", "-c", script],
                                  cwd=root, env=env, capture_output=True, text=True,
                                  timeout=900, stdin=subprocess.DEVNULL)
            seconds = time.monotonic() - started
            if done.returncode != 0:
                self.fail(f"README section exited {done.returncode}\n--- stdout ---\n"
                          f"{done.stdout}\n--- stderr (trace) ---\n{done.stderr}\n"
                          f"--- server log tail ---\n{self.server.log_text()[-4000:]}")
            # The project the installed eddy wrote, built and tested.
            self.assertTrue((root / "greeter" / "build" / "libgreeter.so").exists())
            self.assertTrue((root / ".home" / ".local" / "eddy" / "bin" / "eddy").exists())
        print(f"\nREADME 'Write your own trigger': {commands} commands, "
              f"{seconds:.1f} s from zero to a firing trigger", flush=True)
        self.assertIn("100% tests passed", done.stdout)
        self.assertIn("outcome: success", done.stdout)
        # The handler's output the README shows is in the server's log.
        [expected] = blocks("text")
        lines = self.server.log_text().splitlines()
        for want in expected.strip().splitlines():
            self.assertTrue(any(line.endswith("] " + want) and "[handler " in line
                                for line in lines), want)
        # The figure the README states is the one measured.
        stated = re.search(r"That is (\d+) commands", section_text())
        self.assertIsNotNone(stated)
        self.assertEqual(int(stated.group(1)), commands)


if __name__ == "__main__":
    unittest.main()
