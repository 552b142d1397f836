#!/usr/bin/env python3
"""Export -> import round trip of an N-item table (issue 16), in one run:

  1. loads N items (default 1,000,000 of ~200 bytes, with a sparse GSI and
     a stream, as bench/restart.py loads them) and enables point-in-time
     recovery;
  2. ExportTableToPointInTime to --export-dir, polled until COMPLETED: time,
     items, data files and their bytes;
  3. ImportTable of the export's data files into a new table with the same
     keys, polled until COMPLETED: time, ImportedItemCount, ErrorCount;
  4. checks the round trip: the new table's ItemCount is N and every item
     of a sample (every N/1000th key) is equal in both tables.

  python3 bench/transfer.py                    # 1M items
  python3 bench/transfer.py --items 100000

Prints a Markdown table; --json FILE also writes the figures. Exits
non-zero when the round trip is not exact. Run by hand: the 1M-item load
takes minutes and ~1 GB of disk.
"""

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backup  # noqa: E402
import restart  # noqa: E402
import run as bench  # noqa: E402


def poll(client, op, body, key, status_key):
    while True:
        d = backup.call(client, op, body)[key]
        if d[status_key] != "IN_PROGRESS":
            return d
        time.sleep(0.2)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--eddy-bin", default=os.path.join(restart.REPO, "build",
                                                      "bin", "eddy"))
    p.add_argument("--items", type=int, default=1000000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--tmp", default=None)
    p.add_argument("--json", default=None)
    args = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="eddy-transfer-bench-", dir=args.tmp)
    data, exports = os.path.join(tmp, "data"), os.path.join(tmp, "exports")
    os.makedirs(data)
    os.makedirs(exports)
    eddy = backup.Eddy(args.eddy_bin, data, os.path.join(tmp, "server.log"),
                       args.threads, extra=["--export-dir", exports])
    r = {"items": args.items}
    ok = True
    try:
        eddy.start()
        client = eddy.client()
        restart.create_table(client)
        t = time.monotonic()
        restart.load(eddy.port, 0, args.items)
        r["load_s"] = round(time.monotonic() - t, 1)
        bench.log("loaded %d items in %.1f s" % (args.items, r["load_s"]))
        backup.call(client, "UpdateContinuousBackups", {
            "TableName": restart.TABLE,
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": True}})
        arn = "arn:aws:dynamodb:us-east-1:000000000000:table/" + restart.TABLE
        t = time.monotonic()
        e = backup.call(client, "ExportTableToPointInTime", {
            "TableArn": arn, "S3Bucket": "bench", "S3Prefix": "run"}
        )["ExportDescription"]
        e = poll(client, "DescribeExport", {"ExportArn": e["ExportArn"]},
                 "ExportDescription", "ExportStatus")
        r["export_s"] = round(time.monotonic() - t, 1)
        r["export_status"] = e["ExportStatus"]
        r["export_items"] = e.get("ItemCount")
        export_id = e["ExportArn"].rsplit("/", 1)[1]
        files = glob.glob(os.path.join(exports, "bench", "run", "AWSDynamoDB",
                                       export_id, "data", "*.json.gz"))
        r["export_files"] = len(files)
        r["export_gz_bytes"] = sum(os.path.getsize(f) for f in files)
        bench.log("export %s in %.1f s" % (e["ExportStatus"], r["export_s"]))
        t = time.monotonic()
        i = backup.call(client, "ImportTable", {
            "S3BucketSource": {
                "S3Bucket": "bench",
                "S3KeyPrefix": "run/AWSDynamoDB/%s/data/" % export_id},
            "InputFormat": "DYNAMODB_JSON", "InputCompressionType": "GZIP",
            "TableCreationParameters": {
                "TableName": "imported", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}]}}
        )["ImportTableDescription"]
        i = poll(client, "DescribeImport", {"ImportArn": i["ImportArn"]},
                 "ImportTableDescription", "ImportStatus")
        r["import_s"] = round(time.monotonic() - t, 1)
        r["import_status"] = i["ImportStatus"]
        r["imported_items"] = i["ImportedItemCount"]
        r["import_errors"] = i["ErrorCount"]
        bench.log("import %s in %.1f s" % (i["ImportStatus"], r["import_s"]))
        count = backup.call(client, "DescribeTable", {"TableName": "imported"}
                            )["Table"]["ItemCount"]
        r["imported_table_item_count"] = count
        mismatches = 0
        for n in range(0, args.items, max(1, args.items // 1000)):
            key = {"pk": {"S": "p%d" % (n // 10)}, "sk": {"S": "s%d" % (n % 10)}}
            a = backup.call(client, "GetItem", {"TableName": restart.TABLE,
                                                "Key": key})
            b = backup.call(client, "GetItem", {"TableName": "imported",
                                                "Key": key})
            mismatches += a.get("Item") != b.get("Item") or "Item" not in a
        r["sample_mismatches"] = mismatches
        ok = (e["ExportStatus"] == "COMPLETED" and
              i["ImportStatus"] == "COMPLETED" and
              r["export_items"] == args.items and
              r["imported_items"] == args.items and count == args.items and
              r["import_errors"] == 0 and mismatches == 0)
        client.close()
    finally:
        try:
            eddy.stop(restart.signal.SIGTERM)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
        shutil.rmtree(tmp, ignore_errors=True)

    print("| figure | value |")
    print("|---|---|")
    for k, v in r.items():
        print("| %s | %s |" % (k, v))
    print("| round trip exact | %s |" % ("yes" if ok else "NO"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=2)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
