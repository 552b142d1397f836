"""On-demand backups and point-in-time recovery through boto3 and the AWS
CLI: CreateBackup / DescribeBackup / ListBackups (filters and paging) /
DeleteBackup / RestoreTableFromBackup with its overrides, and
UpdateContinuousBackups / DescribeContinuousBackups /
RestoreTableToPointInTime; DynamoDB's response shapes and errors, a backup
outliving its table, the policy actions of each operation, and a restore
killed by SIGKILL that finishes after the restart and is never an ACTIVE
table with half its items."""

import datetime
import json
import os
import subprocess
import tempfile
import time
import unittest

from eddy_server import (ACCESS_KEY, ALLOW_ALL, REGION, SECRET_KEY, EddyServer,
                         EddyTestCase, item_av, item_py, wait_until,
                         write_auth_file)

ACCOUNT = "000000000000"


def table_arn(table):
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"


class BackupTestCase(EddyTestCase):
    """EddyTestCase plus the verbs of backups and restores."""

    def fill(self, table, n, prefix="k", **extra):
        for start in range(0, n, 25):
            requests = [{"PutRequest": {"Item": item_av(
                {"p": f"{prefix}{i:06d}", "n": i, **extra})}}
                for i in range(start, min(n, start + 25))]
            self.ddb.batch_write_item(RequestItems={table: requests})

    def contents(self, table, index=None):
        kw = {"IndexName": index} if index else {"ConsistentRead": True}
        items, _ = self.scan_all(table, **kw)
        return sorted((item_py(i) for i in items), key=lambda i: i["p"])

    def wait_backup(self, arn):
        def available():
            d = self.ddb.describe_backup(BackupArn=arn)["BackupDescription"]
            return d["BackupDetails"]["BackupStatus"] == "AVAILABLE"
        wait_until(available, 60, what=f"backup {arn} to be AVAILABLE")

    def wait_active(self, table, timeout=60):
        self._class_tables.append(table)
        self.wait_for_status(table, "ACTIVE", timeout)

    def aws(self, *args):
        with tempfile.TemporaryDirectory(prefix="eddy-cli-home-") as home:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                   "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                   "AWS_DEFAULT_REGION": REGION, "AWS_DEFAULT_OUTPUT": "json",
                   "AWS_PAGER": "", "AWS_EC2_METADATA_DISABLED": "true",
                   "AWS_MAX_ATTEMPTS": "1"}
            done = subprocess.run(["aws", "dynamodb", *args, "--endpoint-url",
                                   self.server.endpoint],
                                  env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        return json.loads(done.stdout) if done.stdout.strip() else {}


class BackupApiTest(BackupTestCase):
    """The backup operations' shapes, and restoring what a backup holds."""

    def test_backup_and_restore_with_an_index(self):
        # create_table defines only the key's attributes: created here.
        table = self.unique_name()
        self.ddb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}])
        self.wait_active(table)
        self.fill(table, 120, g="x")
        before = self.contents(table)

        details = self.ddb.create_backup(TableName=table, BackupName="nightly")["BackupDetails"]
        self.assertRegex(details["BackupArn"],
                         rf"^{table_arn(table)}/backup/\d{{14}}-[0-9a-f]{{8}}$")
        self.assertEqual(details["BackupName"], "nightly")
        self.assertIn(details["BackupStatus"], ("CREATING", "AVAILABLE"))
        self.assertEqual(details["BackupType"], "USER")
        arn = details["BackupArn"]
        self.put(table, {"p": "after-the-backup"})
        self.wait_backup(arn)

        d = self.ddb.describe_backup(BackupArn=arn)["BackupDescription"]
        self.assertEqual(d["SourceTableDetails"]["TableName"], table)
        self.assertEqual(d["SourceTableDetails"]["TableArn"], table_arn(table))
        self.assertEqual(d["SourceTableDetails"]["BillingMode"], "PAY_PER_REQUEST")
        self.assertEqual(d["SourceTableDetails"]["KeySchema"],
                         [{"AttributeName": "p", "KeyType": "HASH"}])
        self.assertEqual([g["IndexName"] for g in
                          d["SourceTableFeatureDetails"]["GlobalSecondaryIndexes"]], ["byG"])
        self.assertGreater(d["BackupDetails"]["BackupSizeBytes"], 0)

        target = self.unique_name("restored")
        desc = self.ddb.restore_table_from_backup(
            TargetTableName=target, BackupArn=arn)["TableDescription"]
        self.assertEqual(desc["TableName"], target)
        self.assertEqual(desc["RestoreSummary"]["SourceBackupArn"], arn)
        self.assertEqual(desc["RestoreSummary"]["SourceTableArn"], table_arn(table))
        self.wait_active(target)
        self.assertEqual(self.contents(target), before)
        self.assertEqual(len(self.contents(target, "byG")), 120)
        restored = self.ddb.describe_table(TableName=target)["Table"]
        self.assertFalse(restored["RestoreSummary"]["RestoreInProgress"])
        self.assertEqual(restored["ItemCount"], 120)

    def test_overrides_drop_an_index_and_change_billing(self):
        table = self.unique_name()
        self.ddb.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "p", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "p", "AttributeType": "S"},
                                  {"AttributeName": "g", "AttributeType": "S"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "byG", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"}}])
        self.wait_active(table)
        self.fill(table, 10, g="x")
        arn = self.ddb.create_backup(TableName=table, BackupName="bak")["BackupDetails"]["BackupArn"]
        self.wait_backup(arn)
        target = self.unique_name("restored")
        self.ddb.restore_table_from_backup(
            TargetTableName=target, BackupArn=arn, BillingModeOverride="PROVISIONED",
            ProvisionedThroughputOverride={"ReadCapacityUnits": 5, "WriteCapacityUnits": 6},
            GlobalSecondaryIndexOverride=[])
        self.wait_active(target)
        t = self.ddb.describe_table(TableName=target)["Table"]
        self.assertNotIn("GlobalSecondaryIndexes", t)
        self.assertEqual(t["ProvisionedThroughput"]["WriteCapacityUnits"], 6)
        self.assertEqual(t["AttributeDefinitions"],
                         [{"AttributeName": "p", "AttributeType": "S"}])
        self.assertEqual(len(self.contents(target)), 10)
        with self.assertValidationError(regex="byX does not match"):
            self.ddb.restore_table_from_backup(
                TargetTableName=self.unique_name(), BackupArn=arn,
                GlobalSecondaryIndexOverride=[{
                    "IndexName": "byX",
                    "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"}}])

    def test_backup_outlives_its_table(self):
        table = self.create_table()
        self.fill(table, 5)
        arn = self.ddb.create_backup(TableName=table, BackupName="last")["BackupDetails"]["BackupArn"]
        self.wait_backup(arn)
        self.ddb.delete_table(TableName=table)
        self.wait_for_table_gone(table)
        self.assertEqual(self.ddb.describe_backup(BackupArn=arn)["BackupDescription"]
                         ["BackupDetails"]["BackupStatus"], "AVAILABLE")
        self.ddb.restore_table_from_backup(TargetTableName=table, BackupArn=arn)
        self.wait_active(table)
        self.assertEqual(len(self.contents(table)), 5)

    def test_list_filters_and_pages(self):
        table, other = self.create_table(), self.create_table()
        arns = []
        for i in range(5):
            arns.append(self.ddb.create_backup(TableName=table, BackupName=f"bak{i}")
                        ["BackupDetails"]["BackupArn"])
        self.ddb.create_backup(TableName=other, BackupName="other")
        listed = self.ddb.list_backups(TableName=table)["BackupSummaries"]
        self.assertEqual([b["BackupArn"] for b in listed], arns)
        self.assertEqual({b["TableName"] for b in listed}, {table})
        # By ARN too, and in pages.
        page = self.ddb.list_backups(TableName=table_arn(table), Limit=2)
        self.assertEqual([b["BackupArn"] for b in page["BackupSummaries"]], arns[:2])
        self.assertEqual(page["LastEvaluatedBackupArn"], arns[1])
        seen = []
        for p in self.ddb.get_paginator("list_backups").paginate(
                TableName=table, PaginationConfig={"PageSize": 2}):
            seen += [b["BackupArn"] for b in p["BackupSummaries"]]
        self.assertEqual(seen, arns)
        self.assertEqual(self.ddb.list_backups(TableName=table, BackupType="SYSTEM")
                         ["BackupSummaries"], [])
        first = listed[0]["BackupCreationDateTime"]
        later = self.ddb.list_backups(TableName=table, TimeRangeLowerBound=first,
                                      TimeRangeUpperBound=first + datetime.timedelta(hours=1))
        self.assertEqual(len(later["BackupSummaries"]), 5)
        self.assertEqual(self.ddb.list_backups(TableName=table,
                                               TimeRangeUpperBound=first)
                         ["BackupSummaries"], [])
        with self.assertValidationError(regex="Member must have value less than or equal to 100"):
            self.ddb.list_backups(Limit=101)

    def test_errors(self):
        table = self.create_table()
        taken = self.create_table()
        missing = f"{table_arn(table)}/backup/01700000000000-00000000"
        with self.assertDynamoError("BackupNotFoundException", f"Backup not found: {missing}"):
            self.ddb.describe_backup(BackupArn=missing)
        with self.assertDynamoError("BackupNotFoundException"):
            self.ddb.delete_backup(BackupArn=missing)
        with self.assertDynamoError("BackupNotFoundException"):
            self.ddb.restore_table_from_backup(TargetTableName="x-new", BackupArn=missing)
        with self.assertDynamoError("TableNotFoundException", "Table not found: nope"):
            self.ddb.create_backup(TableName="nope", BackupName="bak")
        with self.assertValidationError(regex="backupName"):
            self.ddb.create_backup(TableName=table, BackupName="a b")
        with self.assertValidationError(regex="length greater than or equal to 3"):
            self.ddb.create_backup(TableName=table, BackupName="ab")
        arn = self.ddb.create_backup(TableName=table, BackupName="bak")["BackupDetails"]["BackupArn"]
        self.wait_backup(arn)
        with self.assertDynamoError("TableAlreadyExistsException",
                                    f"Table already exists: {taken}"):
            self.ddb.restore_table_from_backup(TargetTableName=taken, BackupArn=arn)
        deleted = self.ddb.delete_backup(BackupArn=arn)["BackupDescription"]
        self.assertEqual(deleted["BackupDetails"]["BackupStatus"], "DELETED")
        with self.assertDynamoError("BackupNotFoundException"):
            self.ddb.describe_backup(BackupArn=arn)
        # Nothing half created by the failed restores.
        self.assertNotIn("x-new", self.ddb.list_tables()["TableNames"])

    def test_aws_cli(self):
        table = self.create_table()
        self.fill(table, 3)
        created = self.aws("create-backup", "--table-name", table, "--backup-name", "cli")
        arn = created["BackupDetails"]["BackupArn"]
        self.wait_backup(arn)
        described = self.aws("describe-backup", "--backup-arn", arn)
        self.assertEqual(described["BackupDescription"]["BackupDetails"]["BackupStatus"],
                         "AVAILABLE")
        listed = self.aws("list-backups", "--table-name", table)
        self.assertEqual([b["BackupArn"] for b in listed["BackupSummaries"]], [arn])
        target = self.unique_name("cli")
        self.aws("restore-table-from-backup", "--target-table-name", target,
                 "--backup-arn", arn)
        self.wait_active(target)
        self.assertEqual(len(self.contents(target)), 3)
        self.aws("update-continuous-backups", "--table-name", table,
                 "--point-in-time-recovery-specification", "PointInTimeRecoveryEnabled=true")
        pitr = self.aws("describe-continuous-backups", "--table-name", table)
        self.assertEqual(pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
                         ["PointInTimeRecoveryStatus"], "ENABLED")
        target2 = self.unique_name("cli-pitr")
        self.aws("restore-table-to-point-in-time", "--source-table-name", table,
                 "--target-table-name", target2, "--use-latest-restorable-time")
        self.wait_active(target2)
        self.assertEqual(len(self.contents(target2)), 3)
        deleted = self.aws("delete-backup", "--backup-arn", arn)
        self.assertEqual(deleted["BackupDescription"]["BackupDetails"]["BackupStatus"],
                         "DELETED")


class PointInTimeRecoveryTest(BackupTestCase):
    """Continuous backups: the window, and restoring to times in it."""

    def pitr(self, table, enabled):
        return self.ddb.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled}
        )["ContinuousBackupsDescription"]

    def test_restore_to_times_between_writes(self):
        table = self.create_table()
        d = self.pitr(table, True)
        self.assertEqual(d["ContinuousBackupsStatus"], "ENABLED")
        p = d["PointInTimeRecoveryDescription"]
        self.assertEqual(p["PointInTimeRecoveryStatus"], "ENABLED")
        self.assertEqual(p["RecoveryPeriodInDays"], 35)
        # The SDKs send whole seconds: each state is marked at a second
        # boundary, with no write in the millisecond around it.
        def next_second():
            mark = int(time.time()) + 1
            time.sleep(mark - time.time() + 0.005)
            return mark
        next_second()
        states = []
        for round_ in range(3):
            self.put(table, {"p": f"r{round_}", "v": round_})
            self.update(table, {"p": "counter"}, "ADD c :one", {":one": 1})
            if round_ == 1:
                self.delete(table, {"p": "r0"})
            states.append((next_second(), self.contents(table)))
        for i, (when, expected) in enumerate(states):
            target = self.unique_name(f"pitr{i}")
            desc = self.ddb.restore_table_to_point_in_time(
                SourceTableName=table, TargetTableName=target,
                RestoreDateTime=when)["TableDescription"]
            self.assertEqual(desc["RestoreSummary"]["SourceTableArn"], table_arn(table))
            self.assertTrue(desc["RestoreSummary"]["RestoreInProgress"])
            self.wait_active(target)
            self.assertEqual(self.contents(target), expected, f"state {i}")

    def test_errors(self):
        table = self.create_table()
        with self.assertDynamoError("PointInTimeRecoveryUnavailableException",
                                    f"Point in time recovery is not enabled for table '{table}'"):
            self.ddb.restore_table_to_point_in_time(
                SourceTableName=table, TargetTableName="x-never", UseLatestRestorableTime=True)
        with self.assertDynamoError("SourceTableNotFoundException"):
            self.ddb.restore_table_to_point_in_time(
                SourceTableName="nope", TargetTableName="x-never", UseLatestRestorableTime=True)
        with self.assertDynamoError("TableNotFoundException", "Table not found: nope"):
            self.ddb.describe_continuous_backups(TableName="nope")
        d = self.pitr(table, True)["PointInTimeRecoveryDescription"]
        with self.assertDynamoError("InvalidRestoreTimeException"):
            self.ddb.restore_table_to_point_in_time(
                SourceTableArn=table_arn(table), TargetTableName="x-never",
                RestoreDateTime=d["EarliestRestorableDateTime"] - datetime.timedelta(seconds=60))
        with self.assertDynamoError("TableAlreadyExistsException"):
            self.ddb.restore_table_to_point_in_time(
                SourceTableName=table, TargetTableName=table, UseLatestRestorableTime=True)
        with self.assertValidationError(regex="RecoveryPeriodInDays"):
            self.ddb.update_continuous_backups(
                TableName=table, PointInTimeRecoverySpecification={
                    "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7})
        off = self.pitr(table, False)["PointInTimeRecoveryDescription"]
        self.assertEqual(off["PointInTimeRecoveryStatus"], "DISABLED")
        self.assertNotIn("x-never", self.ddb.list_tables()["TableNames"])


class BackupPolicyTest(EddyTestCase):
    """Each operation is a policy action on DynamoDB's resource: the table,
    the backup ARN, and for a restore the target table's item actions."""

    @classmethod
    def setUpClass(cls):
        cls.auth_dir = tempfile.mkdtemp(prefix="eddy-backup-auth-")
        backups_only = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:CreateBackup", "dynamodb:DescribeBackup",
                                           "dynamodb:ListBackups",
                                           "dynamodb:RestoreTableFromBackup"],
             "Resource": "*"}]}
        cls.auth_path = write_auth_file(os.path.join(cls.auth_dir, "auth.json"), [
            ("admin", ACCESS_KEY, SECRET_KEY, ALLOW_ALL),
            ("backups", "AKIDBACKUPS00000TEST", "backups-secret", backups_only)])
        cls.server_args = ("--auth", cls.auth_path)
        super().setUpClass()

    def denied(self, action, resource):
        return self.assertDynamoError(
            "AccessDeniedException",
            f"User: arn:aws:iam::{ACCOUNT}:user/backups is not authorized to perform: "
            f"{action} on resource: {resource} because no identity-based policy allows "
            f"the {action} action")

    def test_each_operation_needs_its_action(self):
        table = self.create_table()
        user = self.server.client(access_key="AKIDBACKUPS00000TEST",
                                  secret_key="backups-secret")
        arn = user.create_backup(TableName=table, BackupName="bak")["BackupDetails"]["BackupArn"]
        user.describe_backup(BackupArn=arn)
        user.list_backups()
        with self.denied("dynamodb:DeleteBackup", arn):
            user.delete_backup(BackupArn=arn)
        # Restoring writes the target's items: the backup alone is not enough.
        with self.denied("dynamodb:PutItem", table_arn("target")):
            user.restore_table_from_backup(TargetTableName="target", BackupArn=arn)
        with self.denied("dynamodb:UpdateContinuousBackups", table_arn(table)):
            user.update_continuous_backups(
                TableName=table,
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        with self.denied("dynamodb:DescribeContinuousBackups", table_arn(table)):
            user.describe_continuous_backups(TableName=table)
        with self.denied("dynamodb:RestoreTableToPointInTime", table_arn(table)):
            user.restore_table_to_point_in_time(
                SourceTableName=table, TargetTableName="target",
                UseLatestRestorableTime=True)


class RestoreCrashTest(BackupTestCase):
    """A restore killed by SIGKILL finishes after the restart; no one ever
    sees the table ACTIVE with part of its items."""

    def test_sigkill_mid_restore(self):
        table = self.create_table()
        n = 20000
        self.fill(table, n, pad="x" * 200)
        arn = self.ddb.create_backup(TableName=table, BackupName="big")["BackupDetails"]["BackupArn"]
        self.wait_backup(arn)
        target = self.unique_name("crash")
        self.ddb.restore_table_from_backup(TargetTableName=target, BackupArn=arn)
        # Killed while it restores (or just after, on a fast machine: then
        # the restart has nothing to finish and the check still holds).
        self.server.kill9()
        self.server.restart()
        self.ddb = self.server.client()

        wait_until(lambda: self.active_and_never_partial(target, {"p": "k000000"}), 120,
                   what="the restore to finish after restart")
        count = self.ddb.scan(TableName=target, Select="COUNT")
        total = count["Count"]
        while "LastEvaluatedKey" in count:
            count = self.ddb.scan(TableName=target, Select="COUNT",
                                  ExclusiveStartKey=count["LastEvaluatedKey"])
            total += count["Count"]
        self.assertEqual(total, n)
        self._class_tables.append(target)


if __name__ == "__main__":
    unittest.main()
