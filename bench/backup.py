#!/usr/bin/env python3
"""Backups and point-in-time recovery (issue 16), in one run:

  1. backup time of an N-item table (default 1,000,000 items of ~200 bytes,
     with a sparse GSI and a stream, as bench/restart.py loads it) from
     CreateBackup to AVAILABLE, against a plain copy (cp -r) of the data
     directory's LevelDB files taken just before;
  2. PutItem throughput (wrk, bench/wrk/put_item.lua) without a backup, and
     while backups of the table run back to back, with the background jobs
     unpaced (--job-nice 0) and paced (--job-nice 19, the default), and the
     backups' time under that load (the cost of pacing);
  3. PutItem throughput into two fresh tables of the same shape, one with
     point-in-time recovery off and one on, in alternating runs (so that
     neither gets the other's LevelDB compaction debt), and the history's
     disk bytes per write: LevelDB's size estimate of the table's history
     key range (the eddy_table_disk_bytes metric), read after a restart
     has flushed LevelDB's log into its table files, after W inserts and
     after W overwrites of ~200-byte items.

  python3 bench/backup.py                      # 1M items, 10 s per load run
  python3 bench/backup.py --items 200000 --duration 5

Prints a Markdown table; --json FILE also writes the figures. Run by hand:
the 1M-item load takes minutes and ~1 GB of disk.
"""

import argparse
import json
import os
import random
import re
import statistics
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

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


class Eddy(restart.Eddy):
    """restart.Eddy with extra `serve` flags."""

    def __init__(self, *args, extra=()):
        super().__init__(*args)
        self.extra = list(extra)

    def start(self):
        self.port = bench.free_port()
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data", self.data_dir, "--host",
             "127.0.0.1", "--port", str(self.port), "--threads",
             str(self.threads), "--ttl-interval", "0", *self.extra],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        restart.wait_ready(self.port, self.proc)

    def restart(self, extra=None):
        self.stop(restart.signal.SIGTERM)
        if extra is not None:
            self.extra = list(extra)
        self.start()


def create_table(client, name):
    """A table of restart.create_table's shape (sparse GSI, stream)."""
    status, body = client.call("CreateTable", {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "tag", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                      {"AttributeName": "sk", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": "by_tag",
            "KeySchema": [{"AttributeName": "tag", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True,
                                "StreamViewType": "NEW_AND_OLD_IMAGES"},
    })
    if status != 200:
        raise RuntimeError("CreateTable: %s %s" % (status, body))


def put_range(client, table, first, count, seed):
    """Items first .. first+count-1; another `seed` gives other payloads
    (a write of an identical item changes nothing and is not written)."""
    rng = random.Random(seed)
    for i in range(first, first + count):
        call(client, "PutItem", {"TableName": table,
                                 "Item": restart.make_item(i, rng)})


def history_bytes(port, table):
    """The eddy_table_disk_bytes{part="history"} metric of `table`."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port,
                                timeout=60) as reply:
        text = reply.read().decode()
    m = re.search(r'^eddy_table_disk_bytes\{table="%s",part="history"\} (\d+)'
                  % re.escape(table), text, re.M)
    if not m:
        raise RuntimeError("no history metric for %s" % table)
    return int(m.group(1))


def wrk_put_table(port, duration, table, tag, connections):
    env = dict(os.environ, BENCH_TABLE=table, BENCH_TAG=tag,
               BENCH_VALIDATE="0")
    out = subprocess.run(
        ["wrk", "-t1", "-c%d" % connections, "-d%ds" % duration,
         "--timeout", "10s", "-s", os.path.join(WRK_DIR, "put_item.lua"),
         "http://127.0.0.1:%d/" % port],
        capture_output=True, text=True, env=env, timeout=duration + 120)
    for line in out.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line[len("BENCH_RESULT "):])["requests_per_s"]
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
        # Not faster: the poller's own requests would be load on the server
        # (and its CPU on this 2-core machine) that the figure blames on
        # the backup.
        time.sleep(0.05)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--eddy-bin", default=os.path.join(restart.REPO, "build",
                                                      "bin", "eddy"))
    p.add_argument("--items", type=int, default=1000000)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--pitr-rounds", type=int, default=3,
                   help="alternating PITR off/on runs")
    p.add_argument("--pitr-writes", type=int, default=50000,
                   help="writes per PITR disk figure")
    p.add_argument("--tmp", default=None)
    p.add_argument("--json", default=None)
    args = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="eddy-backup-bench-", dir=args.tmp)
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    eddy = Eddy(args.eddy_bin, data, os.path.join(tmp, "server.log"),
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
        client.close()

        # 2. Writes without and during backups, jobs unpaced then paced.
        for nice in (0, 19):
            eddy.restart(["--job-nice", str(nice)])
            wrk_put(eddy.port, 2, "warm%d" % nice, args.connections)
            base = wrk_put(eddy.port, args.duration, "base%d" % nice,
                           args.connections)
            backups, running = [], [True]

            def loop():
                c = eddy.client()
                while running[0]:
                    backups.append(backup(c, "during")[0])
                c.close()
            thread = threading.Thread(target=loop)
            thread.start()
            during = wrk_put(eddy.port, args.duration, "during%d" % nice,
                             args.connections)
            running[0] = False
            thread.join()
            key = "nice%d" % nice
            r[key + "_put_per_s_without_backup"] = base["requests_per_s"]
            r[key + "_put_per_s_during_backup"] = during["requests_per_s"]
            r[key + "_backups_during"] = len(backups)
            r[key + "_backup_s_under_load"] = round(
                statistics.mean(backups), 3)
            r[key + "_during_vs_without"] = round(
                during["requests_per_s"] / base["requests_per_s"], 2)
            bench.log("--job-nice %d: %.2fx, backups of %.1f s under load" % (
                nice, r[key + "_during_vs_without"],
                r[key + "_backup_s_under_load"]))

        # 3. Point-in-time recovery off and on: two fresh tables of the
        # same shape, alternating runs.
        client = eddy.client()
        for table in ("pitr_off", "pitr_on"):
            create_table(client, table)
        call(client, "UpdateContinuousBackups", {
            "TableName": "pitr_on",
            "PointInTimeRecoverySpecification": {
                "PointInTimeRecoveryEnabled": True}})
        client.close()
        wrk_put_table(eddy.port, 2, "pitr_off", "warm", args.connections)
        wrk_put_table(eddy.port, 2, "pitr_on", "warm", args.connections)
        offs, ons = [], []
        for i in range(args.pitr_rounds):
            offs.append(wrk_put_table(eddy.port, args.duration, "pitr_off",
                                      "r%d" % i, args.connections))
            ons.append(wrk_put_table(eddy.port, args.duration, "pitr_on",
                                     "r%d" % i, args.connections))
            bench.log("PITR round %d: off %.0f/s, on %.0f/s" % (
                i, offs[-1], ons[-1]))
        r["put_per_s_pitr_off"] = statistics.median(offs)
        r["put_per_s_pitr_on"] = statistics.median(ons)
        r["pitr_on_vs_off"] = round(r["put_per_s_pitr_on"] /
                                    r["put_per_s_pitr_off"], 2)
        r["pitr_on_vs_off_rounds"] = [round(b / a, 2)
                                      for a, b in zip(offs, ons)]
        # History bytes per write: a restart writes LevelDB's log into its
        # table files, where the size estimate sees it.
        eddy.restart()
        h0 = history_bytes(eddy.port, "pitr_on")
        client = eddy.client()
        put_range(client, "pitr_on", 10 ** 8, args.pitr_writes, 1)  # inserts
        client.close()
        eddy.restart()
        h1 = history_bytes(eddy.port, "pitr_on")
        client = eddy.client()
        put_range(client, "pitr_on", 10 ** 8, args.pitr_writes, 2)  # overwrites
        client.close()
        eddy.restart()
        h2 = history_bytes(eddy.port, "pitr_on")
        r["history_bytes_per_insert"] = round((h1 - h0) / args.pitr_writes)
        r["history_bytes_per_overwrite"] = round((h2 - h1) / args.pitr_writes)
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
    print("| backup (CreateBackup to AVAILABLE), idle | %.2f s (%.2fx the "
          "copy) |" % (r["backup_s"], r["backup_vs_copy"]))
    print("| backup files | %.1f MB |" % (r["backup_file_bytes"] / 1e6))
    for nice in (0, 19):
        key = "nice%d" % nice
        print("| --job-nice %d: PutItem/s without / during backups | %.0f / "
              "%.0f (%.2fx) |" % (nice, r[key + "_put_per_s_without_backup"],
                                  r[key + "_put_per_s_during_backup"],
                                  r[key + "_during_vs_without"]))
        print("| --job-nice %d: backup time under that load (%d backups) | "
              "%.2f s |" % (nice, r[key + "_backups_during"],
                            r[key + "_backup_s_under_load"]))
    print("| PutItem/s PITR off (median of %d) | %.0f |" %
          (args.pitr_rounds, r["put_per_s_pitr_off"]))
    print("| PutItem/s PITR on (median of %d) | %.0f (%.2fx; rounds %s) |" %
          (args.pitr_rounds, r["put_per_s_pitr_on"], r["pitr_on_vs_off"],
           ", ".join("%.2f" % x for x in r["pitr_on_vs_off_rounds"])))
    print("| history bytes on disk per insert | %d |" %
          r["history_bytes_per_insert"])
    print("| history bytes on disk per overwrite (~200 B item) | %d |" %
          r["history_bytes_per_overwrite"])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(r, f, indent=2)


if __name__ == "__main__":
    main()
