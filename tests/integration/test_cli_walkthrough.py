"""The issue's AWS CLI walkthrough, run verbatim through a shell against a real
Eddy server, signed with the test identity."""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import ACCESS_KEY, SECRET_KEY, EddyServer  # noqa: E402

# The walkthrough exactly as a user types it; {endpoint} is the server's URL.
CREATE_TABLE = (
    "aws dynamodb create-table --table-name Employees "
    "--attribute-definitions AttributeName=EmployeeID,AttributeType=S "
    "AttributeName=Department,AttributeType=S "
    "--key-schema AttributeName=EmployeeID,KeyType=HASH AttributeName=Department,KeyType=RANGE "
    "--billing-mode PAY_PER_REQUEST --endpoint-url {endpoint}")
PUT_JOHN = (
    "aws dynamodb put-item --table-name Employees --item "
    """'{{"EmployeeID":{{"S":"E001"}},"Department":{{"S":"IT"}},"""
    """"Name":{{"S":"John Doe"}},"Salary":{{"N":"75000"}}}}' --endpoint-url {endpoint}""")
PUT_JANE = (
    "aws dynamodb put-item --table-name Employees --item "
    """'{{"EmployeeID":{{"S":"E002"}},"Department":{{"S":"HR"}},"""
    """"Name":{{"S":"Jane Smith"}},"Salary":{{"N":"85000"}}}}' --endpoint-url {endpoint}""")
QUERY = (
    "aws dynamodb query --table-name Employees --key-condition-expression \"EmployeeID = :id\" "
    """--expression-attribute-values '{{":id":{{"S":"E001"}}}}' --endpoint-url {endpoint}""")

JOHN_DOE = {"EmployeeID": {"S": "E001"}, "Department": {"S": "IT"},
            "Name": {"S": "John Doe"}, "Salary": {"N": "75000"}}


class CliWalkthroughIntegrationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = EddyServer().start()
        if cls.server.external:  # a shared endpoint may still hold an earlier run's table
            with contextlib.suppress(Exception):
                cls.server.client().delete_table(TableName="Employees")
        cls.home = tempfile.TemporaryDirectory(prefix="eddy-cli-home-")
        cls.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": cls.home.name,  # no user config or credentials files
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_DEFAULT_OUTPUT": "json",
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.home.cleanup()

    def aws(self, command):
        """Run one CLI command line in a shell; return its parsed JSON output."""
        line = command.format(endpoint=self.server.endpoint)
        done = subprocess.run(["bash", "-c", line], env=self.env, capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(done.returncode, 0, f"{line}\nstdout: {done.stdout}\n"
                                             f"stderr: {done.stderr}")
        return json.loads(done.stdout) if done.stdout.strip() else {}

    def test_walkthrough_returns_john_doe(self):
        """create-table, two put-items and the query return exactly John Doe's item."""
        created = self.aws(CREATE_TABLE)
        self.assertEqual(created["TableDescription"]["TableName"], "Employees")
        self.assertEqual(self.aws(PUT_JOHN), {})
        self.assertEqual(self.aws(PUT_JANE), {})
        result = self.aws(QUERY)
        self.assertEqual(result["Items"], [JOHN_DOE])
        self.assertEqual(result["Count"], 1)
        self.assertEqual(result["ScannedCount"], 1)

        # And the table the walkthrough made is what describe-table shows.
        table = self.aws("aws dynamodb describe-table --table-name Employees "
                         "--endpoint-url {endpoint}")["Table"]
        self.assertEqual(table["TableStatus"], "ACTIVE")
        self.assertEqual(table["BillingModeSummary"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(table["ItemCount"], 2)


if __name__ == "__main__":
    unittest.main()
