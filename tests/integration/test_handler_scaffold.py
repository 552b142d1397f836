"""Issue 17's first point: `cmake --install build --prefix P` gives a
working Eddy in a clean prefix (binaries, SDK headers, CMake package), and
`eddy handler new` writes a project that builds against it, whose unit test
passes out of the box, and whose library the installed server runs as a
trigger."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import EddyServer, test_environment  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("EDDY_BUILD_DIR") or REPO_ROOT / "build")


def run(*command, cwd=None, check=True):
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True,
                          text=True, timeout=600, stdin=subprocess.DEVNULL,
                          env=test_environment())
    if check and done.returncode != 0:
        raise AssertionError(f"{command} exited {done.returncode}:\n"
                             f"{done.stdout}\n{done.stderr}")
    return done


class HandlerScaffoldTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not (BUILD_DIR / "cmake_install.cmake").exists():
            raise unittest.SkipTest(f"no build in {BUILD_DIR}")
        cls.work = Path(tempfile.mkdtemp(prefix="eddy-scaffold-"))
        cls.addClassCleanup(shutil.rmtree, cls.work, True)
        cls.prefix = cls.work / "prefix"
        run("cmake", "--install", BUILD_DIR, "--prefix", cls.prefix)
        cls.eddy = cls.prefix / "bin" / "eddy"
        # One project for the class: written, built and tested once.
        cls.project = cls.work / "greeter"
        cls.scaffold = run(cls.eddy, "handler", "new", "greeter", "--dir", cls.project)
        cls.configure = run("cmake", "-S", cls.project, "-B", cls.project / "build")
        cls.build = run("cmake", "--build", cls.project / "build")

    def test_install_holds_binaries_sdk_and_package(self):
        """A clean prefix gets the server, its worker, every SDK header and
        the CMake package, and nothing of the host."""
        for path in ("bin/eddy", "bin/eddy-worker",
                     "include/eddy/functions/handler.h",
                     "include/eddy/functions/handler_abi.h",
                     "include/eddy/functions/testing.h",
                     "include/eddy/functions/json.h",
                     "include/eddy/functions/aws_credentials.h",
                     "include/eddy/functions/dynamodb.h",
                     "lib/libeddy_functions_dynamodb.a",
                     "lib/cmake/EddyFunctions/EddyFunctionsConfig.cmake",
                     "lib/cmake/EddyFunctions/EddyHandler.cmake"):
            self.assertTrue((self.prefix / path).exists(), path)
        self.assertFalse((self.prefix / "include/eddy/functions/handler_library.h").exists())
        self.assertTrue(os.access(self.eddy, os.X_OK))

    def test_project_has_the_promised_files(self):
        """CMakeLists.txt (find_package + eddy_add_handler), handler.cc, a
        unit test with the SDK's helpers, an event and a README with the
        commands to build, test and attach; the SDK is found without any
        -DCMAKE_PREFIX_PATH (the installed prefix is the hint)."""
        cmake = (self.project / "CMakeLists.txt").read_text()
        self.assertIn("find_package(EddyFunctions REQUIRED", cmake)
        self.assertIn(f'HINTS "{self.prefix}"', cmake)
        self.assertIn("eddy_add_handler(greeter handler.cc)", cmake)
        self.assertIn('#include "eddy/functions/testing.h"',
                      (self.project / "test/handler_test.cc").read_text())
        self.assertIn("EDDY_HANDLER(handle)", (self.project / "handler.cc").read_text())
        readme = (self.project / "README.md").read_text()
        for command in ("cmake -S . -B build && cmake --build build",
                        "ctest --test-dir build --output-on-failure",
                        "eddy trigger create --table"):
            self.assertIn(command, readme)
        self.assertTrue((self.project / "events/insert.json").exists())
        self.assertIn("cmake -S . -B build", self.scaffold.stdout)

    def test_generated_unit_test_passes_out_of_the_box(self):
        """The project builds and its test passes, unmodified."""
        self.assertTrue((self.project / "build/libgreeter.so").exists())
        done = run("ctest", "--test-dir", self.project / "build", "--output-on-failure")
        self.assertIn("100% tests passed", done.stdout)

    def test_generated_unit_test_catches_a_broken_handler(self):
        """The test is a real test: a handler that fails makes it fail."""
        copy = self.work / "broken"
        shutil.copytree(self.project, copy, ignore=shutil.ignore_patterns("build"))
        handler = copy / "handler.cc"
        handler.write_text(handler.read_text().replace(
            "return invocation_response::success();",
            'return invocation_response::failure("broken on purpose");'))
        run("cmake", "-S", copy, "-B", copy / "build")
        run("cmake", "--build", copy / "build")
        done = run("ctest", "--test-dir", copy / "build", "--output-on-failure", check=False)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("FAILED: an INSERT succeeds (outcome: failure HandlerError: "
                      "broken on purpose)", done.stdout)

    def test_installed_server_runs_the_generated_handler(self):
        """The installed eddy and eddy-worker run the library as a trigger on
        a write made with boto3; its line reaches the server's log."""
        handlers = self.work / "handlers"
        handlers.mkdir(mode=0o755, exist_ok=True)
        shutil.copyfile(self.project / "build/libgreeter.so", handlers / "libgreeter.so")
        (handlers / "libgreeter.so").chmod(0o755)
        with EddyServer(binary=self.eddy, extra_args=["--handler-dir", str(handlers)]) as server:
            ddb = server.client()
            ddb.create_table(
                TableName="Greetings",
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification={"StreamEnabled": True,
                                     "StreamViewType": "NEW_AND_OLD_IMAGES"})
            run(self.eddy, "trigger", "create", "--table", "Greetings",
                "--handler", "libgreeter.so", "--endpoint", server.endpoint)
            ddb.put_item(TableName="Greetings", Item={"id": {"S": "world"}})
            run(self.eddy, "trigger", "wait", "--endpoint", server.endpoint)
            self.assertIn('greeter: INSERT id="world" (1 attributes)', server.log_text())

    def test_refuses_a_bad_name_or_a_used_directory(self):
        """Nothing is overwritten, and the name must make a library name."""
        done = run(self.eddy, "handler", "new", "greeter", "--dir", self.project, check=False)
        self.assertEqual(done.returncode, 2)
        self.assertIn("is not an empty directory", done.stderr)
        done = run(self.eddy, "handler", "new", "9-lives", "--dir", self.work / "x",
                   check=False)
        self.assertEqual(done.returncode, 2)
        self.assertIn("the handler's name is a letter", done.stderr)
        self.assertFalse((self.work / "x").exists())


if __name__ == "__main__":
    unittest.main()
