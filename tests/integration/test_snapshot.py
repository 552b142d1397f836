"""`eddy snapshot --to DIR` under concurrent writes (issue 16, point 4).

Writers keep putting items while `eddy snapshot` copies the data directory
of a server whose table has a stream, point-in-time recovery, a backup and
a GSI. A second server then opens the copy with `eddy serve --data DIR` as
it is: each writer's items form a prefix of what it wrote (a cut, no
holes), transactions are whole, the stream holds exactly one INSERT record
per item in the copy, the backup is there and restorable, the item count is
exact. The CLI reports progress; bad targets get an error and leave
nothing; the admin action is eddy:CreateSnapshot.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compat"))

from eddy_server import (ACCESS_KEY, ALLOW_ALL, SECRET_KEY, EddyServer,  # noqa: E402
                         item_av, wait_until, write_auth_file)
from test_streams import read_stream  # noqa: E402

WRITERS = 3
TABLE = "snap"


def cli_env():
    env = dict(os.environ)
    env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_DEFAULT_REGION": "us-east-1"})
    return env


class SnapshotTest(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="eddy-snapshot-test-")
        self.server = EddyServer()
        self.server.start()
        self.ddb = self.server.client()
        self.copy = None

    def tearDown(self):
        self.server.stop()
        if self.copy is not None:
            self.copy.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def snapshot(self, target, check=True):
        done = subprocess.run(
            [str(self.server.binary), "snapshot", "--to", target,
             "--endpoint", self.server.endpoint, "--poll-ms", "20"],
            capture_output=True, text=True, env=cli_env(), timeout=600)
        if check:
            self.assertEqual(done.returncode, 0, done.stderr)
        return done

    def test_copy_under_concurrent_writes_opens_as_is(self):
        self.ddb.create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}],
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "NEW_AND_OLD_IMAGES"})
        wait_until(lambda: self.ddb.describe_table(TableName=TABLE)["Table"]
                   ["TableStatus"] == "ACTIVE", 30, what="the table")
        self.ddb.update_continuous_backups(
            TableName=TABLE,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        for i in range(300):
            self.ddb.put_item(TableName=TABLE, Item=item_av(
                {"p": f"base{i:04d}", "g": f"g{i % 7}", "pad": "x" * 500}))
        backup = self.ddb.create_backup(TableName=TABLE, BackupName="before")
        backup_arn = backup["BackupDetails"]["BackupArn"]
        wait_until(lambda: self.ddb.describe_backup(BackupArn=backup_arn)
                   ["BackupDescription"]["BackupDetails"]["BackupStatus"] == "AVAILABLE",
                   60, what="the backup")

        running = [True]
        written = [0] * WRITERS
        errors = []

        def writer(w):
            client = self.server.client()
            n = 0
            try:
                while running[0]:
                    if n % 10 == 9:
                        # A transaction: both items or neither.
                        client.transact_write_items(TransactItems=[
                            {"Put": {"TableName": TABLE, "Item": item_av(
                                {"p": f"w{w}-{n:06d}", "g": f"g{n % 7}"})}},
                            {"Put": {"TableName": TABLE, "Item": item_av(
                                {"p": f"w{w}-{n:06d}-pair"})}}])
                    else:
                        client.put_item(TableName=TABLE, Item=item_av(
                            {"p": f"w{w}-{n:06d}", "g": f"g{n % 7}"}))
                    n += 1
                    written[w] = n
            except (BotoCoreError, ClientError) as e:
                errors.append(e)
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        for t in threads:
            t.start()
        wait_until(lambda: min(written) >= 50, 60, what="the writers to start")
        target = os.path.join(self.tmp, "copy")
        done = self.snapshot(target)
        after_snapshot = list(written)
        wait_until(lambda: all(written[w] >= after_snapshot[w] + 20
                               for w in range(WRITERS)),
                   60, what="writes after the snapshot")
        running[0] = False
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertIn("copied", done.stderr)
        self.assertIn("snapshot", done.stdout)
        self.assertFalse(os.path.exists(os.path.join(target, "SNAPSHOT-INCOMPLETE")))
        self.assertEqual([p for p in os.listdir(self.server.data_dir)
                          if p.startswith(".snapshot-")], [])

        # The copy, opened as it is.
        self.copy = EddyServer(data_dir=target)
        self.copy.start()
        ddb = self.copy.client()
        items, start = [], {}
        while True:
            page = ddb.scan(TableName=TABLE, ConsistentRead=True, **start)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                break
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
        keys = {i["p"]["S"] for i in items}
        self.assertEqual(sum(k.startswith("base") for k in keys), 300)
        for w in range(WRITERS):
            mine = sorted(int(k.split("-")[1]) for k in keys
                          if k.startswith(f"w{w}-") and not k.endswith("-pair"))
            # A prefix of the writer's sequence: nothing after a hole.
            self.assertEqual(mine, list(range(len(mine))), f"writer {w}")
            self.assertGreaterEqual(len(mine), 50)
            self.assertLess(len(mine), written[w])
            for n in mine:
                if n % 10 == 9:
                    self.assertIn(f"w{w}-{n:06d}-pair", keys)
            self.assertEqual(sum(k.startswith(f"w{w}-") and k.endswith("-pair")
                                 for k in keys), sum(n % 10 == 9 for n in mine))
        # The stream has exactly the writes that are in the copy.
        streams = self.copy.client("dynamodbstreams")
        arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        records = [r for shard in read_stream(streams, arn).values() for r in shard]
        self.assertEqual(sorted(r["dynamodb"]["Keys"]["p"]["S"] for r in records),
                         sorted(keys))
        # The index, the statistics, PITR and the backup came along.
        by_g = ddb.query(TableName=TABLE, IndexName="byG",
                         KeyConditionExpression="g = :g",
                         ExpressionAttributeValues={":g": {"S": "g3"}},
                         Select="COUNT")["Count"]
        self.assertEqual(by_g, sum(1 for i in items if i.get("g", {}).get("S") == "g3"))
        wait_until(lambda: ddb.describe_table(TableName=TABLE)["Table"]["ItemCount"]
                   == len(items), 60, what="the copy's recount")
        self.assertEqual(ddb.describe_continuous_backups(TableName=TABLE)
                         ["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                         ["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertEqual(ddb.describe_backup(BackupArn=backup_arn)["BackupDescription"]
                         ["BackupDetails"]["BackupStatus"], "AVAILABLE")
        ddb.restore_table_from_backup(TargetTableName="restored", BackupArn=backup_arn)
        wait_until(lambda: ddb.describe_table(TableName="restored")["Table"]
                   ["TableStatus"] == "ACTIVE", 60, what="the restore in the copy")
        self.assertEqual(ddb.scan(TableName="restored", Select="COUNT")["Count"], 300)

    def test_bad_targets_leave_nothing(self):
        inside = os.path.join(self.server.data_dir, "inside")
        done = self.snapshot(inside, check=False)
        self.assertEqual(done.returncode, 1)
        self.assertIn("outside the data directory", done.stderr)
        self.assertFalse(os.path.exists(inside))
        full = os.path.join(self.tmp, "full")
        os.makedirs(full)
        with open(os.path.join(full, "keep"), "w") as f:
            f.write("mine")
        done = self.snapshot(full, check=False)
        self.assertEqual(done.returncode, 1)
        self.assertIn("must not exist or be empty", done.stderr)
        self.assertEqual(os.listdir(full), ["keep"])


class SnapshotPolicyTest(unittest.TestCase):
    """CreateSnapshot and DescribeSnapshot are the admin actions
    eddy:CreateSnapshot and eddy:DescribeSnapshot."""

    def test_denied_without_the_action(self):
        tmp = tempfile.mkdtemp(prefix="eddy-snapshot-auth-")
        try:
            auth = write_auth_file(os.path.join(tmp, "auth.json"), [
                ("admin", ACCESS_KEY, SECRET_KEY, ALLOW_ALL),
                ("reader", "AKIDREADER00000TEST0", "reader-secret",
                 {"Version": "2012-10-17", "Statement": [
                     {"Effect": "Allow", "Action": "eddy:DescribeSnapshot",
                      "Resource": "*"}]}),
                ("taker", "AKIDTAKER000000TEST0", "taker-secret",
                 {"Version": "2012-10-17", "Statement": [
                     {"Effect": "Allow", "Action": "eddy:CreateSnapshot",
                      "Resource": "*"}]})])
            server = EddyServer(extra_args=("--auth", auth))
            server.start()
            try:
                env = cli_env()
                env.update({"AWS_ACCESS_KEY_ID": "AKIDREADER00000TEST0",
                            "AWS_SECRET_ACCESS_KEY": "reader-secret"})
                target = os.path.join(tmp, "copy")
                done = subprocess.run(
                    [str(server.binary), "snapshot", "--to", target,
                     "--endpoint", server.endpoint],
                    capture_output=True, text=True, env=env, timeout=120)
                self.assertEqual(done.returncode, 1)
                self.assertIn("AccessDeniedException", done.stderr)
                self.assertIn("eddy:CreateSnapshot", done.stderr)
                self.assertFalse(os.path.exists(target))
                env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY,
                            "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
                done = subprocess.run(
                    [str(server.binary), "snapshot", "--to", target,
                     "--endpoint", server.endpoint],
                    capture_output=True, text=True, env=env, timeout=120)
                self.assertEqual(done.returncode, 0, done.stderr)
                # Allowed to start one but not to follow it: the CLI says so.
                env.update({"AWS_ACCESS_KEY_ID": "AKIDTAKER000000TEST0",
                            "AWS_SECRET_ACCESS_KEY": "taker-secret"})
                taken = os.path.join(tmp, "taken")
                done = subprocess.run(
                    [str(server.binary), "snapshot", "--to", taken,
                     "--endpoint", server.endpoint],
                    capture_output=True, text=True, env=env, timeout=120)
                self.assertEqual(done.returncode, 1)
                self.assertIn("AccessDeniedException", done.stderr)
                self.assertIn("eddy:DescribeSnapshot", done.stderr)
            finally:
                server.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
