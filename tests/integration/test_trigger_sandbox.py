"""Triggers are code (issue 12): handler libraries load only from the
server's handler directory (`eddy serve --handler-dir`), and the workers
that run them are sandboxed. Driven with the real server, its workers and
the `eddy` CLI; the sandbox is observed from inside a worker by the
sandbox_report handler (tests/handlers/sandbox_report.cc), which logs what
its process sees.

These tests run as root (as on the development machines and in CI): some
switch users. They fail, not skip, when that premise is false."""

import json
import os
import pwd
import resource
import shutil
import tempfile
import unittest
from pathlib import Path

from trigger_harness import (TriggerTestCase, built_handler, install_library,  # noqa: I001
                             worker_own_variables)
from eddy_server import DEFAULT_BINARY, EddyServer, sanitized_build  # noqa: E402

NOBODY = pwd.getpwnam("nobody")


def require_root():
    if os.geteuid() != 0:
        raise AssertionError("this test switches users: run it as root (CI does); "
                             f"running as uid {os.geteuid()}")


def sandbox_reports(log_text):
    """What sandbox_report logged, in order."""
    out = []
    for line in log_text.splitlines():
        if "[handler " in line and "] sandbox {" in line:
            out.append(json.loads(line[line.index("] sandbox {") + len("] sandbox "):]))
    return out


def process_limit(pid, name):
    """The soft limit `name` ("Max core file size") of a process, as text."""
    with open(f"/proc/{pid}/limits", encoding="ascii") as f:
        for line in f:
            if line.startswith(name):
                return line[len(name):].split()[0]
    raise AssertionError(f"no {name!r} in /proc/{pid}/limits")


def fd_flags(pid, fd):
    """The open flags of a process's descriptor (O_CLOEXEC is 0o2000000)."""
    with open(f"/proc/{pid}/fdinfo/{fd}", encoding="ascii") as f:
        for line in f:
            if line.startswith("flags:"):
                return int(line.split()[1], 8)
    raise AssertionError(f"no flags in /proc/{pid}/fdinfo/{fd}")


def open_fds(pid):
    """{fd: what it refers to} of a process."""
    out = {}
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            out[int(name)] = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            pass
    return out


class HandlerDirIntegrationTest(TriggerTestCase):
    """Which libraries the server accepts, and what it says when it refuses."""

    def refusal(self, handler, table=None, cwd=None, verb="create"):
        """Runs `eddy trigger create` (or update of `table`'s trigger) with
        `--handler handler`; asserts it fails with a ValidationException and
        returns the CLI's stderr."""
        if verb == "create":
            r = self.eddy("trigger", "create", "--table", table or self.table,
                          "--handler", handler, check=False, cwd=cwd)
        else:
            r = self.eddy("trigger", "update", table, "--handler", handler,
                          check=False, cwd=cwd)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("ValidationException", r.stderr)
        return r.stderr

    def setUp(self):
        self.table = self.stream_table()
        self.outside = Path(tempfile.mkdtemp(prefix="eddy-outside-"))
        self.addCleanup(shutil.rmtree, self.outside, True)

    # The exploit: CreateTrigger naming a system library.
    def test_library_outside_the_directory_is_refused_with_the_fix(self):
        err = self.refusal("/lib/x86_64-linux-gnu/libc.so.6")
        self.assertIn("is outside the handler directory", err)
        self.assertIn(f"Copy the library into {self.handler_dir.resolve()}", err)
        err = self.refusal("../" + self.outside.name + "/libx.so")
        self.assertIn("is outside the handler directory", err)
        # A real handler library, loadable, but outside: still refused.
        err = self.refusal(str(built_handler("ok")))
        self.assertIn("is outside the handler directory", err)

    # A symlink in the directory that points out of it is refused; one that
    # points to another file inside is fine.
    def test_symlinks_out_are_refused_and_in_are_accepted(self):
        target = self.outside / "libevil.so"
        shutil.copyfile(built_handler("ok"), target)
        target.chmod(0o755)
        link = self.handler_dir / f"lib{self.table}-out.so"
        link.symlink_to(target)
        err = self.refusal(link.name)
        self.assertIn(f"leads to {target.resolve()}, outside the handler directory", err)

        real = install_library(built_handler("ok"), self.handler_dir,
                               f"lib{self.table}.so.2")
        (self.handler_dir / f"lib{self.table}.so").symlink_to(real)
        trigger = self.create_trigger(self.table, f"lib{self.table}.so")
        self.assertEqual(trigger["State"], "Enabled")
        self.put(self.table, {"p": "via-symlink"})
        self.wait_triggers(self.table)
        self.assertEqual(len(self.handled_records(self.table)), 1)

    # Whoever can write the file, or owns it, could change the code run.
    def test_writable_foreign_and_non_regular_files_are_refused(self):
        writable = install_library(built_handler("ok"), self.handler_dir,
                                   f"lib{self.table}-gw.so")
        (self.handler_dir / writable).chmod(0o775)
        err = self.refusal(writable)
        self.assertIn("writable by group or others (mode 0775)", err)
        self.assertIn("chmod go-w", err)

        foreign = install_library(built_handler("ok"), self.handler_dir,
                                  f"lib{self.table}-foreign.so")
        require_root()
        os.chown(self.handler_dir / foreign, NOBODY.pw_uid, NOBODY.pw_gid)
        err = self.refusal(foreign)
        self.assertIn(f"belongs to uid {NOBODY.pw_uid}, not to the server's user", err)

        (self.handler_dir / f"lib{self.table}-dir.so").mkdir()
        err = self.refusal(f"lib{self.table}-dir.so")
        self.assertIn("is a directory, not a regular file", err)

        err = self.refusal("libnone.so")
        self.assertIn("Handler library not found", err)

        # UpdateTrigger applies the same rules, and leaves the trigger as it was.
        name = f"{self.table}-upd"
        self.create_trigger(self.table, "ok", "--name", name)
        err = self.refusal(writable, table=name, verb="update")
        self.assertIn("writable by group or others", err)
        self.assertEqual(self.status(name)["Handler"], self.handler("ok"))
        self.assertEqual(self.status(name)["State"], "Enabled")

    # `--handler` names a file in the server's directory; a user who passes
    # a path on their own machine is told what to do.
    def test_cli_explains_a_local_path(self):
        local = self.outside / "build" / "lib"
        local.mkdir(parents=True)
        shutil.copyfile(built_handler("ok"), local / "libmine.so")
        err = self.refusal("build/lib/libmine.so", cwd=self.outside)
        self.assertIn("Handler library not found: "
                      f"{self.handler_dir.resolve()}/build/lib/libmine.so", err)
        self.assertIn("note: --handler names a library in the server's handler "
                      "directory", err)
        self.assertIn("copy build/lib/libmine.so into that directory and pass "
                      "--handler libmine.so", err)

    # A trigger stored by an earlier Eddy, whose handler is anywhere on disk,
    # is never run and never dropped: it stays listed with the reason, its
    # records wait, and once its handler is fixed it handles them.
    def test_persisted_trigger_outside_the_directory_is_listed_not_run(self):
        name = f"{self.table}-old"
        self.create_trigger(self.table, "ok", "--name", name)
        self.put(self.table, {"p": "before"})
        self.wait_triggers(self.table)
        self.server.terminate()
        definition = Path(self.server.data_dir) / "triggers" / name / "trigger.json"
        stored = json.loads(definition.read_text())
        stored["Config"]["Handler"] = str(built_handler("ok"))  # loadable, outside
        definition.write_text(json.dumps(stored))
        self.server.restart()

        status = self.status(name)
        self.assertEqual(status["State"], "HandlerRefused")
        self.assertIn("is outside the handler directory", status["StateTransitionReason"])
        listed = self.eddy("trigger", "list").stdout
        self.assertIn(name, listed)
        self.assertIn("HandlerRefused", listed)
        self.assertIn(f"trigger {name}: its handler is refused", self.server.log_text())

        self.put(self.table, {"p": "after"})
        self.wait_triggers(self.table)  # A refused trigger holds no barrier.
        keys = [r["dynamodb"]["Keys"]["p"]["S"] for r in self.handled_records(self.table)]
        self.assertEqual(keys, ["before"])
        self.assertEqual(self.status(name)["Metrics"]["PendingRecords"], 1)

        # Enabling it again checks the handler again: still refused.
        r = self.eddy("trigger", "update", name, "--enable", check=False)
        self.assertIn("is outside the handler directory", r.stderr)
        # A handler inside the directory: it runs, from its checkpoint.
        self.eddy("trigger", "update", name, "--handler", self.handler("ok"))
        self.assertEqual(self.status(name)["State"], "Enabled")
        self.wait_triggers(self.table)
        keys = [r["dynamodb"]["Keys"]["p"]["S"] for r in self.handled_records(self.table)]
        self.assertEqual(keys, ["before", "after"])


class WorkerSandboxIntegrationTest(TriggerTestCase):
    """What a handler sees from inside its worker, as the server's user."""

    @classmethod
    def setUpClass(cls):
        # The server's own descriptors are close-on-exec; this one is not:
        # the server is started through a shell that opens fd 7 on a file
        # and execs it, so only the sandbox keeps fd 7 from the workers.
        scratch = Path(tempfile.mkdtemp(prefix="eddy-sandbox-"))
        cls.addClassCleanup(shutil.rmtree, scratch, True)
        cls.secret = scratch / "secret.txt"
        cls.secret.write_text("not for handlers\n")
        real = Path(os.environ.get("EDDY_BIN") or DEFAULT_BINARY).resolve()
        wrapper = scratch / "eddy"
        wrapper.write_text(f'#!/bin/sh\nexec 7<"{cls.secret}"\nexec "{real}" "$@"\n')
        wrapper.chmod(0o755)
        # And it may dump core (its hard limit allowing), so that the
        # workers' RLIMIT_CORE 0 is the sandbox's doing too.
        core = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (core[1], core[1]))
        saved_bin = os.environ.get("EDDY_BIN")
        os.environ["EDDY_BIN"] = str(wrapper)
        try:
            super().setUpClass()
        finally:
            resource.setrlimit(resource.RLIMIT_CORE, core)
            if saved_bin is None:
                del os.environ["EDDY_BIN"]
            else:
                os.environ["EDDY_BIN"] = saved_bin

    def test_worker_runs_with_no_new_privileges_limits_and_few_descriptors(self):
        require_root()
        table = self.stream_table()
        name = f"{table}-sandbox"
        self.create_trigger(table, "sandbox_report", "--name", name,
                            "--memory-mb", "256")
        server_fds = open_fds(self.server.process.pid)
        data_dir = str(Path(self.server.data_dir).resolve())
        # The premises: the server holds data files a worker must not
        # inherit, and has other limits than its workers.
        self.assertTrue(any(t.startswith(data_dir) for t in server_fds.values()),
                        server_fds)
        pid = self.server.process.pid
        self.assertEqual(server_fds.get(7), str(self.secret))
        self.assertFalse(fd_flags(pid, 7) & 0o2000000, "fd 7 is close-on-exec")
        if not sanitized_build():  # ASan turns the server's core dumps off.
            self.assertNotEqual(process_limit(pid, "Max core file size"), "0")
        self.assertNotEqual(process_limit(pid, "Max open files"), "1024")
        self.assertEqual(process_limit(pid, "Max address space"), "unlimited")
        probe = str(Path(data_dir) / "triggers" / name / "trigger.json")
        self.put(table, {"p": "x", "probe": probe})
        self.wait_triggers(table)
        [report] = sandbox_reports(self.server.log_text())

        self.assertEqual(report["no_new_privs"], 1)
        self.assertEqual(report["core"], [0, 0])
        self.assertEqual(report["nofile"], [1024, 1024])
        if sanitized_build():
            # The cap is ASan's, in the worker's ASAN_OPTIONS.
            self.assertIn("hard_rss_limit_mb=256", report["env"]["ASAN_OPTIONS"])
        else:
            self.assertEqual(report["as"], [256 << 20, 256 << 20])
        self.assertEqual((report["uid"], report["euid"]), (0, 0))
        fds = {int(fd): target for fd, target in report["fds"].items()}
        self.assertEqual(fds[0], "/dev/null")
        # Beyond stdin, stdout and stderr only the worker's own sockets,
        # pipes and event descriptors: no file of the server's.
        files = {fd: t for fd, t in fds.items() if fd > 2 and t.startswith("/")}
        self.assertEqual(files, {})
        self.assertFalse(any(t.startswith(data_dir) for t in fds.values()), fds)
        self.assertNotIn(str(self.secret), fds.values())
        self.assertLess(len(fds), len(server_fds))
        # As the server's user it can still read the server's files (the
        # docs say so): open() succeeded.
        self.assertEqual(report["probe"], {"path": probe, "errno": 0})


class WorkerEnvironmentTest(TriggerTestCase):
    """Workers start with a clean environment: the trigger's own variables
    (`--env`, Lambda's Environment.Variables), PATH, HOME and the locale,
    and the server's AWS_* variables only when the trigger names them;
    never the rest of the server's environment. The admin API shows the
    variables masked."""

    SERVER_ONLY = "EDDY_TEST_SERVER_ONLY_VARIABLE"

    @classmethod
    def setUpClass(cls):
        # A variable only the server has; the harness gives it AWS_*
        # credentials too.
        os.environ[cls.SERVER_ONLY] = "server-only-value"
        try:
            super().setUpClass()
        finally:
            del os.environ[cls.SERVER_ONLY]

    def report_after_a_write(self, table, key):
        self.put(table, {"p": key})
        self.wait_triggers(table)
        reports = [r for r in sandbox_reports(self.server.log_text())]
        return reports[-1]["env"]

    def own(self, env):
        return worker_own_variables(env)

    def test_trigger_variables_and_named_aws_variables_only(self):
        table = self.stream_table()
        name = f"{table}-env"
        out = self.create_trigger(table, "sandbox_report", "--name", name,
                                  "--env", "GREETING=hello world",
                                  "--env", "API_TOKEN=tok-3c1a9",
                                  "--env", "AWS_ACCESS_KEY_ID")
        env = self.report_after_a_write(table, "x")
        self.assertEqual(self.own(env), {"GREETING": "hello world", "API_TOKEN": "<set>",
                                         "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"]})
        self.assertIn("PATH", env)
        self.assertIn("HOME", env)
        # Masked wherever the admin API shows the trigger; never in the log.
        self.assertEqual(out["Environment"], {
            "Variables": {"API_TOKEN": "****", "GREETING": "****"},
            "Inherit": ["AWS_ACCESS_KEY_ID"]})
        status = self.eddy("trigger", "status", name).stdout
        listing = self.eddy("trigger", "list", "--json").stdout
        for text in (status, listing, self.server.log_text()):
            self.assertNotIn("tok-3c1a9", text)
        self.assertIn('"GREETING": "****"', status)
        # Kept across a restart (the definition holds it, readable by the
        # server's user only).
        definition = Path(self.server.data_dir) / "triggers" / name / "trigger.json"
        self.assertEqual(definition.stat().st_mode & 0o777, 0o600)
        self.server.restart()
        env = self.report_after_a_write(table, "y")
        self.assertEqual(self.own(env)["GREETING"], "hello world")

    def test_no_variables_means_a_bare_environment(self):
        table = self.stream_table()
        self.create_trigger(table, "sandbox_report", "--name", f"{table}-bare")
        env = self.report_after_a_write(table, "x")
        self.assertEqual(self.own(env), {})
        self.assertNotIn(self.SERVER_ONLY, env)

    def test_update_replaces_and_clears_the_environment(self):
        table = self.stream_table()
        name = f"{table}-upd"
        self.create_trigger(table, "sandbox_report", "--name", name, "--env", "A=1")
        self.eddy("trigger", "update", name, "--env", "B=2")
        self.assertEqual(self.own(self.report_after_a_write(table, "x")), {"B": "2"})
        out = json.loads(self.eddy("trigger", "update", name, "--no-env").stdout)
        self.assertNotIn("Environment", out)
        self.assertEqual(self.own(self.report_after_a_write(table, "y")), {})

    def test_bad_variables_are_refused(self):
        table = self.stream_table()
        for env, message in (("1X=a", "Environment variable names"),
                             ("HOME", "passes on the server's AWS_* variables only"),
                             ("=x", "--env wants KEY=VALUE"),
                             ("BIG=" + "x" * 5000, "at most 4 KB")):
            done = self.eddy("trigger", "create", "--table", table, "--handler",
                             self.handler("sandbox_report"), "--env", env, check=False)
            self.assertNotEqual(done.returncode, 0, env)
            self.assertIn(message, done.stderr, env)


class WorkerUserIntegrationTest(TriggerTestCase):
    """`eddy serve --worker-user nobody`: workers run as nobody."""

    server_args = ("--worker-user", "nobody")

    @classmethod
    def setUpClass(cls):
        require_root()
        super().setUpClass()

    def test_workers_run_as_the_worker_user(self):
        table = self.stream_table()
        name = f"{table}-nobody"
        self.create_trigger(table, "sandbox_report", "--name", name)
        data_dir = Path(self.server.data_dir).resolve()
        probe = str(data_dir / "triggers" / name / "trigger.json")
        self.put(table, {"p": "x", "probe": probe})
        self.wait_triggers(table)
        [report] = sandbox_reports(self.server.log_text())
        self.assertEqual((report["uid"], report["euid"], report["gid"]),
                         (NOBODY.pw_uid, NOBODY.pw_uid, NOBODY.pw_gid))
        self.assertEqual(report["groups"], 0)
        self.assertEqual(report["no_new_privs"], 1)
        # The server's data directory (mode 0700, root's) is out of its reach.
        self.assertEqual(report["probe"], {"path": probe, "errno": 13})  # EACCES
        self.assertEqual(self.status(name)["Metrics"]["RecordsHandled"], 1)
        self.assertIn("workers run as nobody (uid", self.server.log_text())
        self.assertNotIn("but it can enter", self.server.log_text())

    # A library the worker user cannot read is refused when the trigger is
    # created, not when a batch fails.
    def test_library_the_worker_user_cannot_read_is_refused(self):
        table = self.stream_table()
        private = install_library(built_handler("ok"), self.handler_dir,
                                  f"lib{table}-private.so")
        (self.handler_dir / private).chmod(0o700)
        r = self.eddy("trigger", "create", "--table", table, "--handler", private,
                      check=False)
        self.assertIn("ValidationException", r.stderr)
        self.assertIn(f"not readable by the worker user (uid {NOBODY.pw_uid}", r.stderr)


class HandlerDirStartupIntegrationTest(unittest.TestCase):
    """The server refuses to start, saying how to fix it, when its handler
    directory or worker user cannot be trusted or used."""

    def start_fails(self, server):
        """Starts `server`, expects it to exit; returns its log."""
        self.addCleanup(lambda: Path(server.log_path).unlink(missing_ok=True))
        self.addCleanup(server.stop)
        with self.assertRaises(RuntimeError):
            server.start()
        return server.log_text()

    def scratch(self):
        path = Path(tempfile.mkdtemp(prefix="eddy-startup-"))
        self.addCleanup(shutil.rmtree, path, True)
        return path

    def test_handler_directory_writable_by_others(self):
        handlers = self.scratch() / "handlers"
        handlers.mkdir()
        handlers.chmod(0o777)
        log = self.start_fails(EddyServer(extra_args=("--handler-dir", str(handlers))))
        self.assertIn(f"the handler directory {handlers} is writable by group or "
                      "others (mode 0777)", log)
        self.assertIn(f"Fix: chmod go-w {handlers}", log)

    # Without --handler-dir: <data>/handlers, created, and the only place.
    def test_default_directory_is_created_under_the_data_directory(self):
        with EddyServer() as server:
            handlers = Path(server.data_dir) / "handlers"
            self.assertTrue(handlers.is_dir())
            self.assertEqual(handlers.stat().st_mode & 0o022, 0)
            self.assertIn(f"handler libraries load from {handlers.resolve()}",
                          server.log_text())

    # The data directory Eddy creates is 0755 (umask): where the worker user
    # can enter it, the server says so and how to fix it.
    def test_worker_user_who_can_enter_the_data_directory_is_warned(self):
        require_root()
        work = self.scratch()
        work.chmod(0o755)
        data = work / "data"
        with EddyServer(data_dir=str(data),
                        extra_args=("--worker-user", "nobody")) as server:
            self.addCleanup(lambda: Path(server.log_path).unlink(missing_ok=True))
            self.assertIn(f"workers run as nobody, but it can enter {data}: handlers "
                          f"could read what it holds (tables, stream logs). Fix: "
                          f"chmod 700 {data}", server.log_text())

    def test_unknown_worker_user(self):
        log = self.start_fails(EddyServer(extra_args=("--worker-user", "no-such-user-x")))
        self.assertIn("--worker-user no-such-user-x: no such user", log)

    def test_worker_user_who_cannot_read_the_handler_directory(self):
        require_root()
        private = self.scratch()  # 0700, root's
        handlers = private / "handlers"
        handlers.mkdir(mode=0o755)
        log = self.start_fails(EddyServer(extra_args=(
            "--worker-user", "nobody", "--handler-dir", str(handlers))))
        self.assertIn(f"cannot read the handler directory {handlers}", log)
        self.assertIn("chmod o+rx", log)

    # A server that is not root cannot switch its workers to another user.
    def test_worker_user_needs_a_server_that_can_switch_users(self):
        require_root()
        work = self.scratch()
        os.chown(work, NOBODY.pw_uid, NOBODY.pw_gid)

        class AsNobody(EddyServer):
            def command(self):
                return ["setpriv", f"--reuid={NOBODY.pw_uid}",
                        f"--regid={NOBODY.pw_gid}", "--clear-groups",
                        *super().command()]

        # Anonymous: nobody could not read a 0600 auth file of root's.
        server = AsNobody(data_dir=str(work / "data"),
                          extra_args=("--worker-user", "root"), anonymous=True)
        log = self.start_fails(server)
        self.assertIn("--worker-user root (uid 0, gid 0): the server cannot switch "
                      "to that user (Operation not permitted)", log)
        self.assertIn("needs a server started as root", log)


if __name__ == "__main__":
    unittest.main()
