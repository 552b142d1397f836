#!/usr/bin/env python3
"""Restart time after SIGKILL, against the size of the table (issue 15).

For each size N this starts a fresh server (one table with a
NEW_AND_OLD_IMAGES stream and a sparse GSI), loads N items (~200 bytes each,
BatchWriteItem, several connections), then:

  1. stops the server cleanly (SIGTERM) and starts it again, so that what
     the previous run left unflushed is the same for every N: nothing;
  2. writes --tail items (PutItem; the same count for every N),
  3. kills the server with SIGKILL right after the last acknowledged write,
  4. starts it again and times how long until it answers (ListTables), and
     checks that DescribeTable's ItemCount reaches N + tail (after a crash
     the counts are corrected in the background, so it polls) and that the
     last tail item is there.

Step 4 is the figure: the time a crash costs before the data is served
again. Each repeat measures it twice: as is, and with the page cache
flushed (sync) between the kill and the start: the restart fsyncs what it
recovers, and on ext4 an fsync also waits for other files' dirty data —
here, what LevelDB's compactions (larger for larger tables) had written
just before the kill. Steps 1-2 make "what was not flushed" the same for every size, so the
ratio between sizes shows what grows with the data (it should be ~1). The
raw restart right after loading is reported too ("kill after load"), where
LevelDB's unflushed write-ahead log (up to the 32 MB memtable) varies with N.

  python3 bench/restart.py                         # 10k and 1M items
  python3 bench/restart.py --sizes 10000,3000000 --tail 10000 --repeat 3

Run by hand: loading 1M items takes a few minutes and ~1 GB of disk.
Prints a Markdown table; --json FILE also writes the figures.
"""

import argparse
import concurrent.futures
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = "restart"


class Eddy:
    def __init__(self, binary, data_dir, log_path, threads):
        self.binary, self.data_dir = binary, data_dir
        self.log_path, self.threads = log_path, threads
        self.proc = None
        self.port = None

    def start(self):
        self.port = bench.free_port()
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data", self.data_dir, "--host",
             "127.0.0.1", "--port", str(self.port), "--threads",
             str(self.threads), "--ttl-interval", "0"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        start = time.monotonic()
        wait_ready(self.port, self.proc)
        return time.monotonic() - start

    def client(self):
        return bench.Client("127.0.0.1", self.port, timeout=120)

    def stop(self, sig):
        self.proc.send_signal(sig)
        self.proc.wait(120)
        self.log.close()


def wait_ready(port, proc, timeout=600):
    """Polls ListTables every 2 ms (the restart figure's resolution)."""
    deadline = time.monotonic() + timeout
    client = bench.Client("127.0.0.1", port, timeout=5)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            status, _ = client.call("ListTables", {})
            if status == 200:
                client.close()
                return
        except OSError:
            client.close()
        time.sleep(0.002)
    raise RuntimeError("server not ready after %ss" % timeout)


def create_table(client):
    status, body = client.call("CreateTable", {
        "TableName": TABLE,
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


def make_item(i, rng):
    it = bench.item("p%d" % (i // 10), "s%d" % (i % 10), i, rng)
    if i % 100 != 0:
        del it["tag"]  # A sparse index: 1% of the items have its key.
    return it


def load(port, first, count, workers=6):
    """BatchWriteItem of items first .. first+count-1."""
    def put(start):
        client = bench.Client("127.0.0.1", port, timeout=120)
        rng = random.Random(start)
        end = min(start + 25000, first + count)
        for lo in range(start, end, 25):
            requests = [{"PutRequest": {"Item": make_item(i, rng)}}
                        for i in range(lo, min(lo + 25, end))]
            pending = {TABLE: requests}
            while pending:
                status, body = client.call("BatchWriteItem",
                                           {"RequestItems": pending})
                if status != 200:
                    raise RuntimeError("BatchWriteItem: %s %s" % (status, body))
                pending = body.get("UnprocessedItems") or {}
        client.close()

    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, range(first, first + count, 25000)))


def put_tail(client, first, count):
    rng = random.Random(first)
    for i in range(first, first + count):
        status, body = client.call("PutItem", {"TableName": TABLE,
                                               "Item": make_item(i, rng)})
        if status != 200:
            raise RuntimeError("PutItem: %s %s" % (status, body))


def check(client, expected, last):
    status, body = client.call("GetItem", {"TableName": TABLE, "Key": {
        "pk": {"S": "p%d" % (last // 10)}, "sk": {"S": "s%d" % (last % 10)}}})
    if status != 200 or "Item" not in body:
        raise RuntimeError("last acknowledged item missing: %s %s" %
                           (status, body))
    deadline = time.monotonic() + 600
    while True:
        status, body = client.call("DescribeTable", {"TableName": TABLE})
        count = body["Table"]["ItemCount"]
        if count == expected:
            return
        if time.monotonic() > deadline:
            raise RuntimeError("ItemCount %d, expected %d" % (count, expected))
        time.sleep(0.2)


def measure(args, size):
    tmp = tempfile.mkdtemp(prefix="eddy-restart-", dir=args.tmp)
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    eddy = Eddy(args.eddy_bin, data, os.path.join(tmp, "server.log"),
                args.threads)
    result = {"items": size}
    try:
        eddy.start()
        create_table(eddy.client())
        t = time.monotonic()
        load(eddy.port, 0, size)
        bench.log("loaded %d items in %.1f s" % (size, time.monotonic() - t))
        eddy.stop(signal.SIGKILL)
        result["kill_after_load_s"] = eddy.start()
        check(eddy.client(), size, size - 1)
        kills, flushed = [], []
        written = size
        for _ in range(args.repeat):
            for runs, flush in ((kills, False), (flushed, True)):
                # Other work on a shared machine moves these ~0.1 s figures
                # by tens of ms: start each cycle in a quiet moment.
                if args.quiet_wait > 0:
                    bench.wait_machine_quiet(args.quiet_wait)
                eddy.stop(signal.SIGTERM)
                eddy.start()
                client = eddy.client()
                put_tail(client, written, args.tail)
                written += args.tail
                eddy.stop(signal.SIGKILL)
                if flush:
                    # What the killed process left in the page cache (its
                    # last writes, LevelDB's interrupted compactions) is
                    # written out first, so that the restart's own fsyncs
                    # do not wait for it.
                    os.sync()
                runs.append(eddy.start())
                check(eddy.client(), written, written - 1)
        result["restart_min_s"] = min(kills)
        result["restart_flushed_min_s"] = min(flushed)
        result["restart_s"] = sorted(kills)[len(kills) // 2]
        result["restarts_s"] = kills
        result["restart_flushed_s"] = sorted(flushed)[len(flushed) // 2]
        result["restarts_flushed_s"] = flushed
        result["disk_bytes"] = bench.usage(data)[0]
        bench.log("%d items: restart %.3f s (runs %s), page cache flushed "
                  "first %.3f s (runs %s), after load %.3f s" %
                  (size, result["restart_s"],
                   ", ".join("%.3f" % k for k in kills),
                   result["restart_flushed_s"],
                   ", ".join("%.3f" % k for k in flushed),
                   result["kill_after_load_s"]))
        eddy.stop(signal.SIGTERM)
    finally:
        if eddy.proc is not None and eddy.proc.poll() is None:
            os.killpg(eddy.proc.pid, signal.SIGKILL)
            eddy.proc.wait()
        if args.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return result


def main():
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eddy-bin", default=os.path.join(REPO, "build", "bin",
                                                      "eddy"))
    p.add_argument("--sizes", default="10000,1000000")
    p.add_argument("--tail", type=int, default=10000,
                   help="items written after the clean restart (default "
                        "10000)")
    p.add_argument("--repeat", type=int, default=3,
                   help="kills per size; the median is reported")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quiet-wait", type=float, default=30,
                   help="wait up to S s for an idle machine before each "
                        "cycle (0: do not wait)")
    p.add_argument("--tmp", default=None, help="where the data goes")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = [measure(args, n) for n in sizes]
    base = results[0]["restart_s"]
    base_flushed = results[0]["restart_flushed_s"]
    print("| items | restart after SIGKILL (s) | ratio | same, page cache "
          "flushed first (s) | ratio | kill right after load (s) | data dir "
          "(MB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print("| %d | %.3f | %.2f× | %.3f | %.2f× | %.3f | %.0f |" % (
            r["items"], r["restart_s"], r["restart_s"] / base,
            r["restart_flushed_s"], r["restart_flushed_s"] / base_flushed,
            r["kill_after_load_s"], r["disk_bytes"] / 1e6))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tail": args.tail, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
