"""Exports and imports through boto3 and the AWS CLI:
ExportTableToPointInTime / DescribeExport / ListExports write DynamoDB's
export format (gzipped DynamoDB JSON lines, manifest-summary.json,
manifest-files.json) into --export-dir; ImportTable / DescribeImport /
ListImports read it back, or CSV. Every attribute type and a ~400 KB item
round-trip, `zcat | jq` reads the export, broken lines are counted and
skipped, DynamoDB's errors (PITR off, a time outside the window, a
destination that is not writable, conflicting client tokens, unknown ARNs,
an unreadable source) leave nothing half created, the policy action of
each operation is enforced, and an import killed by SIGKILL finishes after
the restart."""

import base64
import glob
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from botocore.exceptions import ClientError

from eddy_server import (ACCESS_KEY, ALLOW_ALL, REGION, SECRET_KEY, EddyTestCase,
                         item_av, wait_until, write_auth_file)

ACCOUNT = "000000000000"


def table_arn(table):
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"


def every_type(i):
    """An item with every attribute type, nested ones included."""
    return {
        "p": {"S": f"k{i:05d}"},
        "s": {"S": "text ünïcode \"quoted\" \n newline"},
        "n": {"N": "-12345678901234567890.123456789"},
        "b": {"B": bytes([0, 1, 2, 255, i % 256])},
        "t": {"BOOL": i % 2 == 0},
        "z": {"NULL": True},
        "ss": {"SS": ["a", "b", f"c{i}"]},
        "ns": {"NS": ["1", "2.5", "-3e10"]},
        "bs": {"BS": [b"\x00", b"\xff\xfe"]},
        "l": {"L": [{"S": "x"}, {"N": "1"}, {"L": [{"NULL": True}]},
                    {"M": {"deep": {"BS": [b"z"]}}}]},
        "m": {"M": {"a": {"S": "b"}, "n": {"N": "0"},
                    "nested": {"M": {"list": {"L": [{"BOOL": False}]}}}}},
        "e": {"S": ""},
    }


class TransferTestCase(EddyTestCase):
    @classmethod
    def setUpClass(cls):
        cls.export_root = tempfile.mkdtemp(prefix="eddy-exports-")
        cls.server_args = ("--export-dir", cls.export_root)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.export_root, ignore_errors=True)

    def pitr(self, table):
        self.ddb.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})

    def export(self, table, bucket, prefix=None, **kw):
        if prefix is not None:
            kw["S3Prefix"] = prefix
        d = self.ddb.export_table_to_point_in_time(
            TableArn=table_arn(table), S3Bucket=bucket, **kw)["ExportDescription"]
        return d["ExportArn"]

    def wait_export(self, arn, status="COMPLETED"):
        found = {}

        def done():
            d = self.ddb.describe_export(ExportArn=arn)["ExportDescription"]
            found.update(d)
            return d["ExportStatus"] != "IN_PROGRESS"
        wait_until(done, 120, what=f"export {arn}")
        self.assertEqual(found["ExportStatus"], status, found)
        return found

    def wait_import(self, arn, status="COMPLETED"):
        found = {}

        def done():
            d = self.ddb.describe_import(ImportArn=arn)["ImportTableDescription"]
            found.update(d)
            return d["ImportStatus"] != "IN_PROGRESS"
        wait_until(done, 120, what=f"import {arn}")
        self.assertEqual(found["ImportStatus"], status, found)
        return found

    def import_table(self, name, bucket, prefix, fmt="DYNAMODB_JSON",
                     compression="GZIP", key=("p", "S"), **kw):
        d = self.ddb.import_table(
            S3BucketSource={"S3Bucket": bucket, "S3KeyPrefix": prefix},
            InputFormat=fmt, InputCompressionType=compression,
            TableCreationParameters={
                "TableName": name,
                "AttributeDefinitions": [{"AttributeName": key[0],
                                          "AttributeType": key[1]}],
                "KeySchema": [{"AttributeName": key[0], "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST"}, **kw)
        self._class_tables.append(name)
        return d["ImportTableDescription"]

    def scan(self, table):
        items, _ = self.scan_all(table, ConsistentRead=True)
        return sorted(items, key=lambda i: json.dumps(i, sort_keys=True, default=str))

    def export_dir(self, bucket, prefix, arn):
        return os.path.join(self.export_root, bucket, prefix, "AWSDynamoDB",
                            arn.rsplit("/", 1)[1])

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


class ExportImportTest(TransferTestCase):

    def test_round_trip_of_every_type_and_a_400_kb_item(self):
        table = self.create_table()
        self.pitr(table)
        n = 300
        for start in range(0, n, 25):
            self.ddb.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": every_type(i)}}
                for i in range(start, min(n, start + 25))]})
        big = {"p": {"S": "big"}, "blob": {"B": os.urandom(200 * 1024)},
               "pad": {"S": "x" * (399 * 1024 - 200 * 1024 - 20)}}
        self.ddb.put_item(TableName=table, Item=big)
        arn = self.export(table, "bucket-a", "some/prefix")
        d = self.wait_export(arn)
        self.assertEqual(d["ItemCount"], n + 1)
        self.assertGreater(d["BilledSizeBytes"], 399 * 1024)
        self.assertEqual(d["ExportFormat"], "DYNAMODB_JSON")
        self.assertEqual(d["S3Bucket"], "bucket-a")
        self.assertEqual(d["S3Prefix"], "some/prefix")
        self.assertEqual(d["TableArn"], table_arn(table))
        export_id = arn.rsplit("/", 1)[1]
        self.assertEqual(d["ExportManifest"],
                         f"some/prefix/AWSDynamoDB/{export_id}/manifest-summary.json")

        # DynamoDB's files: the manifests, and data a plain zcat | jq reads.
        out = self.export_dir("bucket-a", "some/prefix", arn)
        self.assertTrue(os.path.exists(os.path.join(out, "_started")))
        with open(os.path.join(out, "manifest-summary.json")) as f:
            summary = json.load(f)
        self.assertEqual(summary["exportArn"], arn)
        self.assertEqual(summary["itemCount"], n + 1)
        self.assertEqual(summary["outputFormat"], "DYNAMODB_JSON")
        self.assertEqual(summary["manifestFilesS3Key"],
                         f"some/prefix/AWSDynamoDB/{export_id}/manifest-files.json")
        with open(os.path.join(out, "manifest-files.json")) as f:
            files = [json.loads(line) for line in f]
        self.assertEqual(sum(f["itemCount"] for f in files), n + 1)
        for f in files:
            path = os.path.join(self.export_root, "bucket-a", f["dataFileS3Key"])
            with open(path, "rb") as data:
                md5 = hashlib.md5(data.read()).digest()
            self.assertEqual(f["md5Checksum"], base64.b64encode(md5).decode())
            self.assertEqual(f["etag"], md5.hex())
        data_files = sorted(glob.glob(os.path.join(out, "data", "*.json.gz")))
        jq = subprocess.run(f"zcat {' '.join(data_files)} | jq -c .Item.p.S",
                            shell=True, capture_output=True, text=True, check=True)
        keys = sorted(json.loads(line) for line in jq.stdout.splitlines())
        self.assertEqual(keys, sorted([f"k{i:05d}" for i in range(n)] + ["big"]))

        # Import it back: the same items, attribute for attribute.
        target = self.unique_name("imported")
        i = self.import_table(target, "bucket-a",
                              f"some/prefix/AWSDynamoDB/{export_id}/data/")
        self.assertEqual(i["ImportStatus"], "IN_PROGRESS")
        self.assertEqual(i["TableArn"], table_arn(target))
        done = self.wait_import(i["ImportArn"])
        self.assertEqual(done["ImportedItemCount"], n + 1)
        self.assertEqual(done["ProcessedItemCount"], n + 1)
        self.assertEqual(done["ErrorCount"], 0)
        self.wait_for_status(target, "ACTIVE", 60)
        self.assertEqual(self.scan(target), self.scan(table))
        self.assertEqual(
            self.ddb.describe_table(TableName=target)["Table"]["ItemCount"], n + 1)

    def test_export_at_a_past_time(self):
        table = self.create_table()
        self.pitr(table)

        # The SDKs send whole seconds: the export time is a second boundary
        # with no write in the milliseconds around it.
        def next_second():
            mark = int(time.time()) + 1
            time.sleep(mark - time.time() + 0.005)
            return mark
        next_second()
        self.ddb.put_item(TableName=table, Item=item_av({"p": "before"}))
        at = next_second()
        self.ddb.put_item(TableName=table, Item=item_av({"p": "after"}))
        self.ddb.put_item(TableName=table, Item=item_av({"p": "before", "v": 2}))
        arn = self.export(table, "bucket-t", ExportTime=at)
        d = self.wait_export(arn)
        self.assertEqual(d["ItemCount"], 1)
        self.assertEqual(d["ExportTime"].timestamp(), at)
        out = self.export_dir("bucket-t", "", arn)
        lines = []
        for path in glob.glob(os.path.join(out, "data", "*.json.gz")):
            with gzip.open(path, "rt") as f:
                lines += [json.loads(line) for line in f]
        self.assertEqual(lines, [{"Item": {"p": {"S": "before"}}}])

    def test_csv_import_counts_broken_rows(self):
        bucket = os.path.join(self.export_root, "csv-bucket", "in")
        os.makedirs(bucket)
        with open(os.path.join(bucket, "part1.csv"), "w") as f:
            f.write('id,name,note\n'
                    '1,alice,"hello, world"\n'
                    '2,bob,"say ""hi"""\n'
                    '3,carol,\n'
                    '4,dave\n'                 # Too few fields.
                    'x5,erin,bad key\n')       # Not a number.
        with gzip.open(os.path.join(bucket, "part2.csv.gz"), "wt") as f:
            f.write("id,name,note\n6,frank,gz\n")
        # Only part1 with NONE: part2 is gzip. Two imports, one per file.
        target = self.unique_name("csv")
        i = self.import_table(target, "csv-bucket", "in/part1", fmt="CSV",
                              compression="NONE", key=("id", "N"))
        done = self.wait_import(i["ImportArn"])
        self.assertEqual(done["ErrorCount"], 2)
        self.assertEqual(done["ProcessedItemCount"], 5)
        self.assertEqual(done["ImportedItemCount"], 3)
        self.assertEqual(done["InputFormat"], "CSV")
        items = {it["id"]["N"]: it for it in self.scan(target)}
        self.assertEqual(items["1"]["note"], {"S": "hello, world"})
        self.assertEqual(items["2"]["note"], {"S": 'say "hi"'})
        self.assertNotIn("note", items["3"])
        gz = self.unique_name("csvgz")
        i = self.import_table(gz, "csv-bucket", "in/part2", fmt="CSV",
                              key=("id", "N"),
                              InputFormatOptions={"Csv": {
                                  "HeaderList": ["id", "name", "note"]}})
        done = self.wait_import(i["ImportArn"])
        # With a HeaderList, the file's first line is a row: "id" is not a
        # number.
        self.assertEqual((done["ImportedItemCount"], done["ErrorCount"]), (1, 1))

    def test_broken_json_lines_are_counted_and_skipped(self):
        bucket = os.path.join(self.export_root, "json-bucket")
        os.makedirs(bucket)
        with gzip.open(os.path.join(bucket, "data.json.gz"), "wt") as f:
            f.write('{"Item":{"p":{"S":"good1"}}}\n'
                    '{"Item":{"p":{"S":"trunc\n'
                    '{"Item":{"q":{"S":"no key"}}}\n'
                    '{"Item":{"p":{"N":"1"}}}\n'
                    '{"NotItem":{}}\n'
                    '\n'
                    '{"Item":{"p":{"S":"good2"},"n":{"N":"1e500"}}}\n'
                    '{"Item":{"p":{"S":"good3"}}}\n')
        target = self.unique_name("json")
        i = self.import_table(target, "json-bucket", "data")
        done = self.wait_import(i["ImportArn"])
        self.assertEqual(done["ErrorCount"], 5)
        self.assertEqual(done["ImportedItemCount"], 2)
        self.assertEqual(sorted(it["p"]["S"] for it in self.scan(target)),
                         ["good1", "good3"])

    def test_export_errors(self):
        table = self.create_table()
        with self.assertDynamoError(
                "PointInTimeRecoveryUnavailableException",
                f"Point in time recovery is not enabled for table '{table}'"):
            self.export(table, "b1")
        self.pitr(table)
        with self.assertDynamoError("InvalidExportTimeException"):
            self.export(table, "b1", ExportTime=int(time.time()) + 3600)
        with self.assertDynamoError("TableNotFoundException"):
            self.export("missing-table", "b1")
        with self.assertDynamoError("ExportNotFoundException"):
            self.ddb.describe_export(ExportArn=table_arn(table) +
                                     "/export/01234567890123-abcdef01")
        with self.assertDynamoError("ValidationException"):
            self.export(table, "b1", prefix="../escape")
        # A destination that cannot be written (a file where the bucket's
        # folder should be): DynamoDB's error, and nothing left behind.
        with open(os.path.join(self.export_root, "not-a-dir"), "w") as f:
            f.write("x")
        before = self.ddb.list_exports()["ExportSummaries"]
        with self.assertDynamoError("ExportConflictException"):
            self.export(table, "not-a-dir", prefix="p")
        self.assertEqual(self.ddb.list_exports()["ExportSummaries"], before)
        # Client tokens: the same request is the same export; another
        # request with the token is a conflict.
        first = self.export(table, "b2", ClientToken="tok-1")
        self.assertEqual(self.export(table, "b2", ClientToken="tok-1"), first)
        with self.assertDynamoError("ExportConflictException"):
            self.export(table, "b3", ClientToken="tok-1")
        self.wait_export(first)
        arns = [e["ExportArn"] for e in self.ddb.list_exports(
            TableArn=table_arn(table))["ExportSummaries"]]
        self.assertEqual(arns, [first])

    def test_import_errors_leave_nothing_behind(self):
        table = self.create_table()
        with self.assertDynamoError("ResourceInUseException"):
            self.import_table(table, "anything", "x")
        with self.assertDynamoError("ImportNotFoundException"):
            self.ddb.describe_import(ImportArn=table_arn(table) +
                                     "/import/01234567890123-abcdef01")
        # No such bucket: the import fails and its table is removed.
        gone = self.unique_name("nobucket")
        i = self.import_table(gone, "no-such-bucket", "x")
        d = self.wait_import(i["ImportArn"], "FAILED")
        self.assertIn("no-such-bucket", d["FailureMessage"])

        def removed():
            try:
                self.ddb.describe_table(TableName=gone)
                return False
            except ClientError as e:
                return e.response["Error"]["Code"] == "ResourceNotFoundException"
        wait_until(removed, 30, what="the failed import's table to go")
        # GZIP asked for a plain file: failed, table removed.
        os.makedirs(os.path.join(self.export_root, "plain"))
        with open(os.path.join(self.export_root, "plain", "a.json"), "w") as f:
            f.write('{"Item":{"p":{"S":"a"}}}\n')
        gone = self.unique_name("notgz")
        i = self.import_table(gone, "plain", "a.json")
        self.wait_import(i["ImportArn"], "FAILED")
        wait_until(removed, 30, what="the failed import's table to go")
        # Client tokens.
        name = self.unique_name("tok")
        first = self.import_table(name, "plain", "a.json", compression="NONE",
                                  ClientToken="itok")
        again = self.import_table(name, "plain", "a.json", compression="NONE",
                                  ClientToken="itok")
        self.assertEqual(again["ImportArn"], first["ImportArn"])
        with self.assertDynamoError("ImportConflictException"):
            self.import_table(self.unique_name("tok"), "plain", "a.json",
                              compression="NONE", ClientToken="itok")
        self.wait_import(first["ImportArn"])
        listed = self.ddb.list_imports(TableArn=table_arn(name))["ImportSummaryList"]
        self.assertEqual([x["ImportArn"] for x in listed], [first["ImportArn"]])

    def test_aws_cli(self):
        table = self.create_table()
        self.aws("update-continuous-backups", "--table-name", table,
                 "--point-in-time-recovery-specification",
                 "PointInTimeRecoveryEnabled=true")
        self.ddb.put_item(TableName=table, Item=item_av({"p": "cli", "n": 7}))
        d = self.aws("export-table-to-point-in-time", "--table-arn", table_arn(table),
                     "--s3-bucket", "cli-bucket", "--s3-prefix", "exp")
        arn = d["ExportDescription"]["ExportArn"]
        self.wait_export(arn)
        d = self.aws("describe-export", "--export-arn", arn)
        self.assertEqual(d["ExportDescription"]["ItemCount"], 1)
        listed = self.aws("list-exports", "--table-arn", table_arn(table))
        self.assertEqual([e["ExportArn"] for e in listed["ExportSummaries"]], [arn])
        target = self.unique_name("cli")
        self._class_tables.append(target)
        d = self.aws("import-table", "--s3-bucket-source",
                     f"S3Bucket=cli-bucket,S3KeyPrefix=exp/AWSDynamoDB/{arn.rsplit('/', 1)[1]}/data/",
                     "--input-format", "DYNAMODB_JSON",
                     "--input-compression-type", "GZIP",
                     "--table-creation-parameters",
                     json.dumps({"TableName": target, "BillingMode": "PAY_PER_REQUEST",
                                 "AttributeDefinitions": [{"AttributeName": "p",
                                                           "AttributeType": "S"}],
                                 "KeySchema": [{"AttributeName": "p",
                                                "KeyType": "HASH"}]}))
        import_arn = d["ImportTableDescription"]["ImportArn"]
        self.wait_import(import_arn)
        d = self.aws("describe-import", "--import-arn", import_arn)
        self.assertEqual(d["ImportTableDescription"]["ImportedItemCount"], 1)
        self.assertEqual(
            d["ImportTableDescription"]["TableCreationParameters"]["TableName"], target)
        listed = self.aws("list-imports", "--table-arn", table_arn(target))
        self.assertEqual([x["ImportArn"] for x in listed["ImportSummaryList"]],
                         [import_arn])
        got = self.ddb.get_item(TableName=target, Key=item_av({"p": "cli"}))["Item"]
        self.assertEqual(got["n"], {"N": "7"})


class TransferCrashTest(TransferTestCase):
    """An import or export killed by SIGKILL is finished after the restart;
    an import's table is never ACTIVE with part of the items, an export
    never COMPLETED with part of them."""

    def test_sigkill_mid_export(self):
        table = self.create_table()
        self.pitr(table)
        n = 20000
        for start in range(0, n, 25):
            self.ddb.batch_write_item(RequestItems={table: [
                {"PutRequest": {"Item": item_av({"p": f"k{i:06d}", "pad": "x" * 200})}}
                for i in range(start, min(n, start + 25))]})
        arn = self.export(table, "crash-export")
        self.server.kill9()
        self.server.restart()
        self.ddb = self.server.client()
        d = self.wait_export(arn)
        self.assertEqual(d["ItemCount"], n)
        out = self.export_dir("crash-export", "", arn)
        with open(os.path.join(out, "manifest-files.json")) as f:
            files = [json.loads(line) for line in f]
        count = 0
        for entry in files:
            path = os.path.join(self.export_root, "crash-export", entry["dataFileS3Key"])
            with gzip.open(path, "rt") as data:
                count += sum(1 for _ in data)
        self.assertEqual(count, n)
        # Only the files the manifest names: an interrupted attempt's are gone.
        self.assertEqual(len(glob.glob(os.path.join(out, "data", "*"))), len(files))

    def test_sigkill_mid_import(self):
        n = 20000
        os.makedirs(os.path.join(self.export_root, "crash"))
        with gzip.open(os.path.join(self.export_root, "crash", "d.json.gz"), "wt") as f:
            for i in range(n):
                f.write(json.dumps({"Item": {"p": {"S": f"k{i:06d}"},
                                             "pad": {"S": "x" * 200}}}) + "\n")
        target = self.unique_name("crash")
        i = self.import_table(target, "crash", "d.json.gz")
        self.server.kill9()
        self.server.restart()
        self.ddb = self.server.client()

        wait_until(lambda: self.active_and_never_partial(target, {"p": "k000000"}), 180,
                   what="the import to finish after the restart")
        d = self.wait_import(i["ImportArn"])
        self.assertEqual(d["ImportedItemCount"], n)
        count, start = 0, {}
        while True:
            page = self.ddb.scan(TableName=target, Select="COUNT", **start)
            count += page["Count"]
            if "LastEvaluatedKey" not in page:
                break
            start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}
        self.assertEqual(count, n)


class TransferPolicyTest(EddyTestCase):
    """Each operation is its policy action on DynamoDB's resource."""

    @classmethod
    def setUpClass(cls):
        cls.export_root = tempfile.mkdtemp(prefix="eddy-exports-auth-")
        cls.auth_dir = tempfile.mkdtemp(prefix="eddy-transfer-auth-")
        some = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:ExportTableToPointInTime",
             "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/allowed-*"},
            {"Effect": "Allow", "Action": "dynamodb:ListExports", "Resource": "*"}]}
        nothing = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:DescribeLimits", "Resource": "*"}]}
        cls.auth_path = write_auth_file(os.path.join(cls.auth_dir, "auth.json"), [
            ("admin", ACCESS_KEY, SECRET_KEY, ALLOW_ALL),
            ("mover", "AKIDMOVER000000TEST0", "mover-secret", some),
            ("nobody", "AKIDNOBODY00000TEST0", "nobody-secret", nothing)])
        cls.server_args = ("--auth", cls.auth_path, "--export-dir", cls.export_root)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.export_root, ignore_errors=True)
        shutil.rmtree(cls.auth_dir, ignore_errors=True)

    def denied(self, action, resource):
        return self.assertDynamoError(
            "AccessDeniedException",
            f"User: arn:aws:iam::{ACCOUNT}:user/mover is not authorized to perform: "
            f"{action} on resource: {resource} because no identity-based policy allows "
            f"the {action} action")

    def test_each_operation_needs_its_action(self):
        table = self.create_table(name=self.unique_name("allowed"))
        self.ddb.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        user = self.server.client(access_key="AKIDMOVER000000TEST0",
                                  secret_key="mover-secret")
        arn = user.export_table_to_point_in_time(
            TableArn=table_arn(table), S3Bucket="pol")["ExportDescription"]["ExportArn"]
        user.list_exports()
        with self.denied("dynamodb:DescribeExport", arn):
            user.describe_export(ExportArn=arn)
        with self.denied("dynamodb:ListImports", "*"):
            user.list_imports()
        with self.denied("dynamodb:ImportTable", table_arn("target")):
            user.import_table(
                S3BucketSource={"S3Bucket": "pol"}, InputFormat="DYNAMODB_JSON",
                TableCreationParameters={
                    "TableName": "target", "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "p", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "p", "KeyType": "HASH"}]})
        import_arn = table_arn("target") + "/import/01234567890123-abcdef01"
        with self.denied("dynamodb:DescribeImport", import_arn):
            user.describe_import(ImportArn=import_arn)
        other = self.create_table()
        with self.denied("dynamodb:ExportTableToPointInTime", table_arn(other)):
            user.export_table_to_point_in_time(TableArn=table_arn(other),
                                               S3Bucket="pol")
        nobody = self.server.client(access_key="AKIDNOBODY00000TEST0",
                                    secret_key="nobody-secret")
        with self.assertDynamoError(
                "AccessDeniedException",
                f"User: arn:aws:iam::{ACCOUNT}:user/nobody is not authorized to "
                f"perform: dynamodb:ListExports on resource: * because no "
                f"identity-based policy allows the dynamodb:ListExports action"):
            nobody.list_exports()

if __name__ == "__main__":
    unittest.main()
