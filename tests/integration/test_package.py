"""The Debian package: `cpack -G DEB` builds eddy_<version>_amd64.deb from
this build; it is unpacked into a scratch root with `dpkg -x` (never
installed on this machine), its maintainer scripts are run against stub
commands, and the server it ships runs a handler built against the SDK it
ships, as a user of the package would."""

import os
import shutil
import stat
import subprocess
import tempfile
import unittest
import urllib.request
from pathlib import Path

from trigger_harness import TriggerTestCase, install_library

from eddy_server import item_av, sanitized_build  # noqa: E402 (path set by trigger_harness)

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("EDDY_BUILD_DIR") or REPO_ROOT / "build")
VERSION = os.environ.get("EDDY_VERSION", "0.1.0")
CPACK = os.environ.get("EDDY_CPACK") or shutil.which("cpack") or "cpack"


def run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                          stdin=subprocess.DEVNULL, **kwargs)
    if done.returncode != 0:
        raise AssertionError(f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


class DebianPackageTest(TriggerTestCase):
    anonymous = True

    @classmethod
    def setUpClass(cls):
        cls.work = Path(tempfile.mkdtemp(prefix="eddy-deb-"))
        cls.addClassCleanup(shutil.rmtree, cls.work, True)
        run([CPACK, "-G", "DEB", "-B", str(cls.work / "out")], cwd=BUILD_DIR)
        cls.deb = cls.work / "out" / f"eddy_{VERSION}_amd64.deb"
        assert cls.deb.exists(), f"cpack wrote no {cls.deb.name}"
        cls.root = cls.work / "root"
        run(["dpkg", "-x", str(cls.deb), str(cls.root)])
        cls.control = cls.work / "control"
        run(["dpkg-deb", "-e", str(cls.deb), str(cls.control)])
        # A handler built out of tree against the SDK in the package (its
        # CMake package found under the scratch root's /usr).
        handler_build = cls.work / "handler"
        run(["cmake", "-S", str(REPO_ROOT / "tests/handlers/out_of_tree"),
             "-B", str(handler_build), f"-DCMAKE_PREFIX_PATH={cls.root / 'usr'}",
             "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF", "-DCMAKE_BUILD_TYPE=Release"])
        cls.sdk_config = (handler_build / "CMakeCache.txt").read_text()
        run(["cmake", "--build", str(handler_build)])
        cls.library = handler_build / "libaudit.so"
        # Every server of this class is the packaged one.
        cls.saved_bin = os.environ.get("EDDY_BIN")
        os.environ["EDDY_BIN"] = str(cls.root / "usr/bin/eddy")
        cls.addClassCleanup(cls.restore_bin)
        super().setUpClass()

    @classmethod
    def restore_bin(cls):
        if cls.saved_bin is None:
            os.environ.pop("EDDY_BIN", None)
        else:
            os.environ["EDDY_BIN"] = cls.saved_bin

    def field(self, name):
        return run(["dpkg-deb", "-f", str(self.deb), name]).strip()

    # The control fields and the files a user gets: binaries, the SDK
    # headers, the CMake package and the unit; the libraries it links are
    # dependencies (dpkg-shlibdeps), adduser for postinst.
    def test_package_fields_and_contents(self):
        self.assertEqual(self.field("Package"), "eddy")
        self.assertEqual(self.field("Version"), VERSION)
        self.assertEqual(self.field("Architecture"), "amd64")
        depends = [d.strip().split(" ")[0] for d in self.field("Depends").split(",")]
        for package in ("adduser", "libleveldb1d", "libuv1", "libzmq5", "libssl3"):
            self.assertIn(package, depends)
        files = {line.split()[-1].lstrip(".") for line in
                 run(["dpkg-deb", "-c", str(self.deb)]).splitlines()}
        for path in ("/usr/bin/eddy", "/usr/bin/eddy-worker",
                     "/usr/include/eddy/functions/handler.h",
                     "/usr/include/eddy/functions/handler_abi.h",
                     "/usr/lib/cmake/EddyFunctions/EddyFunctionsConfig.cmake",
                     "/usr/lib/cmake/EddyFunctions/EddyHandler.cmake",
                     "/usr/lib/systemd/system/eddy.service"):
            self.assertIn(path, files)
        for script in ("postinst", "prerm", "postrm"):
            mode = (self.control / script).stat().st_mode
            self.assertTrue(mode & stat.S_IXUSR, script)
        # Stripped: the debug information stays out of the package.
        for binary in ("usr/bin/eddy", "usr/bin/eddy-worker"):
            sections = subprocess.run(["readelf", "-S", "-W", str(self.root / binary)],
                                      capture_output=True, text=True, check=True).stdout
            self.assertNotIn(".debug_", sections, binary)
        if not sanitized_build():  # ASan's instrumentation makes it ~130 MB.
            self.assertLess((self.root / "usr/bin/eddy").stat().st_size, 20 * 1024 * 1024)

    # The unit runs the packaged server as eddy with its data in
    # /var/lib/eddy, hardened, with room for the administrator's options.
    def test_systemd_unit(self):
        unit = (self.root / "usr/lib/systemd/system/eddy.service").read_text()
        lines = dict(line.split("=", 1) for line in unit.splitlines()
                     if "=" in line and not line.startswith("#"))
        self.assertEqual(lines["User"], "eddy")
        self.assertEqual(lines["Group"], "eddy")
        self.assertTrue(lines["ExecStart"].startswith(
            "/usr/bin/eddy serve --data /var/lib/eddy --host 127.0.0.1 --port 8000"))
        self.assertTrue(lines["ExecStart"].endswith("$EDDY_OPTS"))
        self.assertEqual(lines["EnvironmentFile"], "-/etc/default/eddy")
        self.assertEqual(lines["StateDirectory"], "eddy")
        self.assertEqual(lines["NoNewPrivileges"], "yes")
        self.assertEqual(lines["WantedBy"], "multi-user.target")
        # The options it passes are ones the packaged eddy accepts.
        help_text = run([str(self.root / "usr/bin/eddy"), "serve", "--help"])
        for option in ("--data", "--host", "--port"):
            self.assertIn(option, help_text)

    def postinst(self, user_exists):
        """Runs the package's postinst `configure` with stub getent,
        addgroup, adduser, install and systemctl; returns what they were
        called with."""
        stubs = self.work / f"stubs-{user_exists}"
        stubs.mkdir()
        calls = stubs / "calls.log"
        for name in ("addgroup", "adduser", "install", "systemctl"):
            (stubs / name).write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\n')
        (stubs / "getent").write_text(
            f'#!/bin/sh\necho "getent $*" >> "{calls}"\nexit {0 if user_exists else 2}\n')
        for stub in stubs.iterdir():
            stub.chmod(0o755)
        env = {"PATH": f"{stubs}:/usr/bin:/bin"}
        run(["sh", str(self.control / "postinst"), "configure"], env=env)
        return calls.read_text().splitlines() if calls.exists() else []

    # On a first install postinst creates the eddy system user and group
    # and /var/lib/eddy (0750, theirs); on an upgrade the user exists and
    # only the directory is checked.
    def test_postinst_creates_user_and_data_dir(self):
        first = self.postinst(user_exists=False)
        self.assertIn("addgroup --system eddy", first)
        self.assertIn("adduser --system --ingroup eddy --home /var/lib/eddy --no-create-home "
                      "--shell /usr/sbin/nologin --gecos Eddy database eddy", first)
        self.assertIn("install -d -o eddy -g eddy -m 0750 /var/lib/eddy", first)
        again = self.postinst(user_exists=True)
        self.assertFalse([c for c in again if c.startswith(("adduser", "addgroup"))], again)
        self.assertIn("install -d -o eddy -g eddy -m 0750 /var/lib/eddy", again)
        run(["sh", "-n", str(self.control / "prerm")])
        run(["sh", "-n", str(self.control / "postrm")])

    # The packaged server (and its worker, found beside it) runs a trigger
    # whose handler was built against the packaged SDK; its console is
    # inside the binary.
    def test_installed_server_runs_handler_built_against_installed_sdk(self):
        self.assertEqual(Path(self.server.binary), self.root / "usr/bin/eddy")
        self.assertIn(str(self.root / "usr/lib/cmake/EddyFunctions"), self.sdk_config)
        table = self.create_table(hash_key=("id", "S"), StreamSpecification={
            "StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.create_trigger(table, install_library(self.library, self.handler_dir))
        self.ddb.put_item(TableName=table, Item=item_av({"id": "p1", "n": 7}))
        self.ddb.delete_item(TableName=table, Key=item_av({"id": "p1"}))
        self.wait_triggers(table, timeout=60)
        log = self.server.log_text()
        lines = [line[line.index(e):] for line in log.splitlines()
                 for e in ("INSERT p1", "REMOVE p1") if e in line]
        self.assertEqual(lines, ["INSERT p1 n=7", "REMOVE p1"])
        with urllib.request.urlopen(
                self.server.endpoint + "/console/", timeout=10) as r:
            self.assertIn(b"Eddy console", r.read())


if __name__ == "__main__":
    unittest.main()
