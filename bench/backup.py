#!/usr/bin/env python3
"""Backups and point-in-time recovery (issue 16), in one run:

  1. backup time of an N-item table (default 1,000,000 items of ~200 bytes,
     with a sparse GSI and a stream, as bench/restart.py loads it) from
     CreateBackup to AVAILABLE, against a plain copy (cp -r) of the data
     directory's LevelDB files taken just before;
  2. PutItem throughput (wrk, bench/wrk/put_item.lua) without a backup, and
     while backups of the table run back to back;
  3. PutItem throughput with point-in-time recovery off and on, and the
     data directory's growth per write (du, after the same number of
     writes) for each, with the bytes of the history entries themselves.

  python3 bench/backup.py                      # 1M items, 10 s per load run
  python3 bench/backup.py --items 200000 --duration 5

Prints a Markdown table; --json FILE also writes the figures. Run by hand:
the 1M-item load takes minutes and ~1 GB of disk.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import restart  # noqa: E402
import run as bench  # noqa: E402

WRK_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk")


def wrk_put(port, duration, tag, connections, threads=1):
    env = dict(os.environ, BENCH_TABLE=restart.TABLE, BENCH_TAG=tag,
               BENCH_VALIDATE="0")
    out = subprocess.run(
        ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % duration,
         "--timeout", "10s", "-s", os.path.join(WRK_DIR, "put_item.lua"),
         "http://127.0.0.1:%d/" % port],
        capture_output=True, text=True, env=env, timeout=duration + 120)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])
    raise RuntimeError("wrk failed: %s %s" % (out.stdout, out.stderr))


def call(client, op, body):
    status, payload = client.call(op, body)
    if status != 200:
        raise RuntimeError("%s: %s %s" % (op, status, payload))
    return payload


def backup(client, name):
    """CreateBackup, then polls until AVAILABLE; returns (seconds, details)."""
    start = time.monotonic()
    arn = call(client, "CreateBackup", {"TableName": restart.TABLE,
                                        "BackupName": name}
               )["BackupDetails"]["BackupArn"]
    while True:
        d = call(client, "DescribeBackup", {"BackupArn": arn})
        details = d["BackupDescription"]["BackupDetails"]
        if details["BackupStatus"] == "AVAILABLE":
            return time.monotonic() - start, arn, details
        time.sleep(0.005)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--eddy-bin", default=os.path.join(restart.REPO, "build",
                                                      "bin", "eddy"))
    p.add_argument("--items", type=int, default=1000000)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--pitr-writes", type=int, default=50000,
                   help="writes per PITR disk figure")
    p.add_argument("--tmp", default=None)
    p.add_argument("--json", default=None)
    args = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="eddy-backup-bench-", dir=args.tmp)
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    eddy = restart.Eddy(args.eddy_bin, data, os.path.join(tmp, "server.log"),
                        args.threads)
    r = {"items": args.items}
    try:
        eddy.start()
        client = eddy.client()
        restart.create_table(client)
        t = time.monotonic()
        restart.load(eddy.port, 0, args.items)
        bench.log("loaded %d items in %.1f s" % (args.items,
                                                time.monotonic() - t))
        # 1. A plain copy of the LevelDB files, then a backup.
        copy_dir = os.path.join(tmp, "copy")
        t = time.monotonic()
        # LevelDB keeps flushing and compacting meanwhile: a file that
        # vanishes during the copy is skipped (it is not a consistent copy;
        # that is what the backup is for).
        os.makedirs(copy_dir)
        for name in os.listdir(os.path.join(data, "leveldb")):
            try:
                shutil.copy2(os.path.join(data, "leveldb", name), copy_dir)
            except FileNotFoundError:
                pass
        r["copy_s"] = round(time.monotonic() - t, 3)
        r["leveldb_bytes"] = restart.du(copy_dir)
        shutil.rmtree(copy_dir)
        seconds, arn, details = backup(client, "full")
        r["backup_s"] = round(seconds, 3)
        r["backup_file_bytes"] = restart.du(os.path.join(
            data, "backups", arn.rsplit("/", 1)[1]))
        r["backup_size_bytes"] = details.get("BackupSizeBytes")
        r["backup_vs_copy"] = round(r["backup_s"] / r["copy_s"], 2)
        bench.log("copy %.2f s, backup %.2f s" % (r["copy_s"], r["backup_s"]))

        # 2. Writes without and during backups.
        wrk_put(eddy.port, 2, "warm", args.connections)
        base = wrk_put(eddy.port, args.duration, "base", args.connections)
        backups, running = [], [True]

        def loop():
            c = eddy.client()
            while running[0]:
                backups.append(backup(c, "during")[0])
            c.close()
        thread = threading.Thread(target=loop)
        thread.start()
        during = wrk_put(eddy.port, args.duration, "during", args.connections)
        running[0] = False
        thread.join()
        r["put_per_s_without_backup"] = base["requests_per_s"]
        r["put_per_s_during_backup"] = during["requests_per_s"]
        r["backups_during"] = len(backups)
        r["during_vs_without"] = round(
            during["requests_per_s"] / base["requests_per_s"], 2)

        # 3. Point-in-time recovery off and on.
        off = wrk_put(eddy.port, args.duration, "pitroff", args.connections)
        # The disk figures: the same overwrites of the same items, PITR off
        # then on (the first pass inserts them).
        restart.put_tail(client, 10 ** 8, args.pitr_writes)
        before = restart.du(data)
        restart.put_tail(client, 10 ** 8, args.pitr_writes)
        grown_off = restart.du(data) - before
        call(client, "UpdateContinuousBackups", {
            "TableName": restart.TABLE,
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": True}})
        on = wrk_put(eddy.port, args.duration, "pitron", args.connections)
        before = restart.du(data)
        # Each history entry holds the ~200-byte item its write replaced.
        restart.put_tail(client, 10 ** 8, args.pitr_writes)
        grown_on = restart.du(data) - before
        r["put_per_s_pitr_off"] = off["requests_per_s"]
        r["put_per_s_pitr_on"] = on["requests_per_s"]
        r["pitr_on_vs_off"] = round(on["requests_per_s"] /
                                    off["requests_per_s"], 2)
        r["disk_bytes_per_write_pitr_off"] = round(grown_off /
                                                   args.pitr_writes)
        r["disk_bytes_per_write_pitr_on"] = round(grown_on / args.pitr_writes)
    finally:
        try:
            eddy.stop(restart.signal.SIGTERM)
        except Exception:  # noqa: BLE001 - best effort at exit
            pass
        shutil.rmtree(tmp, ignore_errors=True)

    print("| figure | value |")
    print("|---|---|")
    print("| items | %d |" % r["items"])
    print("| LevelDB files | %.1f MB |" % (r["leveldb_bytes"] / 1e6))
    print("| plain copy of the LevelDB files | %.2f s |" % r["copy_s"])
    print("| backup (CreateBackup to AVAILABLE) | %.2f s (%.2fx the copy) |" %
          (r["backup_s"], r["backup_vs_copy"]))
    print("| backup files | %.1f MB |" % (r["backup_file_bytes"] / 1e6))
    print("| PutItem/s without a backup | %.0f |" %
          r["put_per_s_without_backup"])
    print("| PutItem/s during backups (%d back to back) | %.0f (%.2fx) |" %
          (r["backups_during"], r["put_per_s_during_backup"],
           r["during_vs_without"]))
    print("| PutItem/s PITR off | %.0f |" % r["put_per_s_pitr_off"])
    print("| PutItem/s PITR on | %.0f (%.2fx) |" %
          (r["put_per_s_pitr_on"], r["pitr_on_vs_off"]))
    print("| disk bytes per write (overwrite, ~200 B item), PITR off | %d |" %
          r["disk_bytes_per_write_pitr_off"])
    print("| disk bytes per write (overwrite, ~200 B item), PITR on | %d |" %
          r["disk_bytes_per_write_pitr_on"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=2)


if __name__ == "__main__":
    main()
