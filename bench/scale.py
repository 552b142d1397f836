#!/usr/bin/env python3
"""Cost growth with the data (issue 15, section 4 and its figures).

One Eddy server, one table `bench` (pk S, sk S) with a NEW_AND_OLD_IMAGES
stream, loaded in stages to each of --sizes items (~200 bytes each, the
shape of bench/wrk/common.lua: pk "p<i>", sk "s0".."s9", 150 random
letters). After each stage's load it waits for LevelDB's compactions to
settle, reads at random for --read-warmup seconds (unmeasured) and waits
again (the seek-triggered compactions those reads start), then measures,
on the same machine and in the same run:

  - the ceiling: bench/http_ceiling (a trivial server answering a canned
    200) under wrk's GetItem and PutItem scripts, pinned like Eddy;
  - Eddy's GetItem, Query and PutItem throughput and p50/p99 with the same
    wrk scripts (bench/run.py's measure_op: server on CPU 0 with one event
    loop, wrk -t1 -c32 on CPU 1, responses checked during the warm-up,
    results flagged when not quotable); reads pick random keys over every
    loaded item, PutItem writes new items (after every round of the reads,
    so that they read the size they are reported at);
  - resident memory (VmRSS, VmHWM) after each operation, and of a fresh
    server after --duration s of GetItem and then of PutItem;
  - disk bytes per item: the LevelDB directory and the stream logs (du:
    allocated blocks; and apparent sizes), over DescribeTable's ItemCount;
    and the stream's bytes per record, from how much the logs grew while
    loading (INSERT: one image) and while overwriting --modify items
    (MODIFY: both images), against the mean DynamoDB size of the items
    written (longer keys and counts at larger sizes: 195 bytes for items
    0..10k, 200 for 1M..10M);
  - restart after SIGKILL, --restarts times (as bench/restart.py: clean
    restart, --tail PutItems, SIGKILL after the last acknowledgement, time
    until ListTables answers, the last item checked).

The figures of the issue are then computed as ratios between the first and
the last size (RSS: the last two) and printed with the table; everything
goes to bench/results/scale-<date>.json.

  python3 bench/scale.py                                 # 10k, 1M, 10M
  python3 bench/scale.py --sizes 10000,1000000 --duration 5
  python3 bench/scale.py --tmp /var/tmp --keep           # keep the data

Run by hand (10M items: ~5 GB of disk and some 15-30 minutes). Standard
library and wrk only; bench/run.py's helpers do the measuring.
"""

import argparse
import concurrent.futures
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import restart  # noqa: E402
import run as bench  # noqa: E402

TABLE = "bench"
PER_PARTITION = 10
STREAM_VIEW = "NEW_AND_OLD_IMAGES"
CHUNK = 25000  # items per loader task
# The figures (ratios in one run).
TARGETS = {
    "put_ratio": 0.7,       # PutItem at the largest size / at the smallest
    "get_ratio": 0.8,       # GetItem likewise
    "restart_ratio": 1.2,   # restart at the largest size / at the smallest
    "rss_spread": 0.10,     # RSS at the last two sizes within 10 %
    "insert_record": 1.2,   # stream bytes per INSERT record / item size
    "modify_record": 2.4,   # per MODIFY record (both images) / item size
}
# 150 random bytes -> 150 lower-case letters, as fast as os.urandom.
LETTERS = bytes(97 + b % 26 for b in range(256))


def make_item(idx, payload):
    """bench.item's shape and size, with a payload given (bench.item draws
    its 150 letters one by one, too slow for 10 million items)."""
    return {
        "pk": {"S": "p%d" % (idx // PER_PARTITION)},
        "sk": {"S": "s%d" % (idx % PER_PARTITION)},
        "payload": {"S": payload}, "count": {"N": str(idx)},
        "active": {"BOOL": True}, "tag": {"S": "bench-item"},
    }


def mean_item_size(first, end):
    """The mean DynamoDB size of make_item(first) .. make_item(end - 1),
    the items a load of that range writes. Constant within a decade of the
    index (pk, sk and count depend only on its digits), so summed by
    decade."""
    total, lo = 0, first
    while lo < end:
        hi = min(end, 10 ** len(str(lo)))
        total += (hi - lo) * bench.item_size(make_item(lo, "x" * 150))
        lo = hi
    return total / (end - first)


def load_range(port, first, end):
    """BatchWriteItem of items first..end-1 (25 per request) over one
    keep-alive connection; unprocessed items and throttled requests are
    retried with backoff. Runs in a loader process."""
    client = bench.Client("127.0.0.1", port, timeout=120)
    retries = 0
    for lo in range(first, end, 25):
        hi = min(lo + 25, end)
        letters = os.urandom(150 * (hi - lo)).translate(LETTERS).decode()
        pending = {TABLE: [
            {"PutRequest": {"Item": make_item(
                i, letters[150 * (i - lo):150 * (i - lo + 1)])}}
            for i in range(lo, hi)]}
        delay = 0.005
        while pending:
            status, body = client.call("BatchWriteItem",
                                       {"RequestItems": pending})
            if status == 200:
                pending = body.get("UnprocessedItems") or {}
            elif "Throttling" not in str(body.get("__type", "")):
                raise RuntimeError("BatchWriteItem: %s %s" % (status, body))
            if pending:
                retries += 1
                time.sleep(delay)
                delay = min(1.0, delay * 2)
    client.close()
    return end - first, retries


def load(port, first, end, loaders):
    """Items first..end-1 with `loaders` processes; returns retries."""
    if end <= first:
        return 0
    started, done, retries, last_log = time.monotonic(), 0, 0, 0.0
    with concurrent.futures.ProcessPoolExecutor(loaders) as pool:
        futures = [pool.submit(load_range, port, lo, min(lo + CHUNK, end))
                   for lo in range(first, end, CHUNK)]
        for f in concurrent.futures.as_completed(futures):
            n, r = f.result()
            done += n
            retries += r
            now = time.monotonic()
            if now - last_log > 15 or done == end - first:
                last_log = now
                bench.log("  loaded %d/%d items (%.0f items/s)" % (
                    first + done, end, done / (now - started)))
    return retries


def set_affinity(pid, cpus):
    """Every thread of `pid` may run on `cpus` (threads created later
    inherit their creator's mask)."""
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass


def memory(pid):
    """VmRSS, VmHWM, RssAnon and RssFile of `pid`, in kB. RssFile is the
    binary's and its libraries' pages (the store reads its table files
    with pread, so their page cache is not mapped into the process)."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:", "RssFile:")):
                name, value = line.split(":", 1)
                out[name.lower() + "_kb"] = int(value.split()[0])
    return out


def disk(data_dir):
    out = {}
    for part in ("leveldb", "streams"):
        apparent, allocated = bench.usage(os.path.join(data_dir, part))
        out[part] = {"apparent_bytes": apparent, "allocated_bytes": allocated}
    apparent, allocated = bench.usage(data_dir)
    out["total"] = {"apparent_bytes": apparent, "allocated_bytes": allocated}
    return out


class Eddy:
    """The server under test on one data directory, pinned like run.py's
    (CPU 0, one event loop, nice -10 as root), restarted on a new port."""

    def __init__(self, args, data_dir, log_path):
        self.args, self.data_dir, self.log_path = args, data_dir, log_path
        self.proc = self.port = self.log = None

    def start(self):
        """Starts the server; returns the seconds until it answers."""
        self.port = bench.free_port()
        cmd = bench.server_command("eddy", self.args, self.port,
                                   self.data_dir)
        if self.args.nice:
            cmd = ["nice", "-n", str(self.args.nice)] + cmd
        if self.args.pin:
            cmd = ["taskset", "-c", str(self.args.server_cpu)] + cmd
        self.cmd = cmd
        self.log = open(self.log_path, "a")
        start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        restart.wait_ready(self.port, self.proc)
        return time.monotonic() - start

    def url(self):
        return "http://127.0.0.1:%d/" % self.port

    def client(self):
        return bench.Client("127.0.0.1", self.port, timeout=120)

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(120)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.log is not None:
            self.log.close()
            self.log = None


class Ceiling:
    """bench/http_ceiling, pinned and niced like Eddy."""

    def __init__(self, args, log_path):
        self.port = bench.free_port()
        cmd = [args.ceiling_bin, str(self.port)]
        if args.nice:
            cmd = ["nice", "-n", str(args.nice)] + cmd
        if args.pin:
            cmd = ["taskset", "-c", str(args.server_cpu)] + cmd
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                with bench.socket.create_connection(("127.0.0.1", self.port),
                                                    timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("http_ceiling did not start")
                time.sleep(0.02)

    def url(self):
        return "http://127.0.0.1:%d/" % self.port

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


def item_count(client):
    status, body = client.call("DescribeTable", {"TableName": TABLE})
    if status != 200:
        raise RuntimeError("DescribeTable: %s %s" % (status, body))
    return body["Table"]["ItemCount"]


def put_tail(client, prefix, count):
    """`count` PutItems of new items "<prefix>-<n>"; returns the last key."""
    letters = os.urandom(150 * count).translate(LETTERS).decode()
    key = None
    for n in range(count):
        it = make_item(0, letters[150 * n:150 * (n + 1)])
        it["pk"] = {"S": "%s-%d" % (prefix, n)}
        status, body = client.call("PutItem", {"TableName": TABLE,
                                               "Item": it})
        if status != 200:
            raise RuntimeError("PutItem: %s %s" % (status, body))
        key = it["pk"], it["sk"]
    return key


def stage(args, eddy, ceiling, first, size, modified):
    """Loads items first..size-1, then measures everything at this size.
    `modified`: the MODIFY records written so far (the other records are
    one per item). Returns the stage's results and the new `modified`."""
    res = {"items_loaded": size}
    pid = eddy.proc.pid
    bench.log("stage %d items" % size)
    # Loading: the server may use every CPU (one event loop still, but
    # LevelDB's compactions get the other core), the loaders too.
    set_affinity(pid, set(range(os.cpu_count())))
    streams_before = disk(eddy.data_dir)["streams"]["apparent_bytes"]
    t0 = time.monotonic()
    res["load_retries"] = load(eddy.port, first, size, args.loaders)
    res["load_s"] = round(time.monotonic() - t0, 1)
    res["load_items_per_s"] = round((size - first) / max(1e-9, time.monotonic()
                                                         - t0))
    streams_after = disk(eddy.data_dir)["streams"]["apparent_bytes"]
    if size > first:
        res["stream_bytes_per_insert"] = round(
            (streams_after - streams_before) / (size - first), 1)
        # Against the items this load wrote: larger at larger sizes (longer
        # keys and counts) than the spot-checked first item.
        res["inserted_item_bytes"] = round(mean_item_size(first, size), 1)
    t0 = time.monotonic()
    res["settled"] = bench.wait_idle(pid, limit=0.05, timeout=args.settle)
    res["settle_s"] = round(time.monotonic() - t0, 1)
    if args.pin:
        set_affinity(pid, {args.server_cpu})
    client = eddy.client()
    res["item_size_bytes"] = bench.spot_check(client, TABLE, PER_PARTITION)
    client.close()
    res["memory_after_load"] = memory(pid)
    # Random reads over a freshly loaded LSM tree start LevelDB's
    # seek-triggered compactions (files that reads passed through in vain
    # too often); they run for a while and then stop. Measured in steady
    # state: reads first, unmeasured, until the server is idle again.
    if args.read_warmup > 0 and "get" in args.ops:
        args.partitions = size // PER_PARTITION
        t0 = time.monotonic()
        bench.run_wrk(args, eddy.url(), "get", args.read_warmup, False,
                      "readwarm%d" % size)
        bench.wait_idle(pid, limit=0.05, timeout=args.settle)
        res["read_warmup_s"] = round(time.monotonic() - t0, 1)
    bench.log("  loaded in %.0f s (%d items/s), settled in %.0f s, RSS %d MB"
              % (res["load_s"], res["load_items_per_s"], res["settle_s"],
                 res["memory_after_load"]["vmrss_kb"] / 1024))

    # The ceiling, then Eddy, with the same wrk scripts, --repeat rounds:
    # every round of the reads before the first PutItem, which adds items
    # (~300k in 10 s) and would have the next round read another table.
    args.partitions = size // PER_PARTITION
    res["rounds"] = [{"ceiling": {}, "ops": {}, "memory": {}}
                     for _ in range(args.repeat)]
    reads = [op for op in args.ops if op != "put"]
    writes = [op for op in args.ops if op == "put"]
    for ops in (reads, writes):
        for n, rnd in enumerate(res["rounds"]):
            if ops is reads:
                for op in ("get", "put"):
                    rnd["ceiling"][op] = bench.measure_op(
                        args, "ceiling", ceiling.url(), ceiling.proc.pid, op,
                        check=False)
            for op in ops:
                rnd["ops"][op] = bench.measure_op(
                    args, "eddy@%d round %d" % (size, n + 1), eddy.url(), pid,
                    op)
                rnd["memory"][op] = memory(pid)
    res["ceiling"] = {op: median_round(res["rounds"], "ceiling", op)
                      for op in ("get", "put")}
    res["ops"] = {op: median_round(res["rounds"], "ops", op)
                  for op in args.ops}
    res["memory"] = res["rounds"][-1]["memory"]
    res["rss_kb"] = max(m["vmrss_kb"] for m in res["memory"].values())
    res["rss_anon_kb"] = max(m["rssanon_kb"] for m in res["memory"].values())

    # Disk, per item and per stream record (before the restarts' tails).
    client = eddy.client()
    res["item_count"] = item_count(client)
    res["disk"] = disk(eddy.data_dir)
    # Every write so far was one stream record: the loads, wrk's puts (its
    # count misses the at most `connections` requests in flight at the end,
    # so ItemCount is used), the tails, and the overwrites.
    records = res["item_count"] + modified
    res["stream_records"] = records
    d = res["disk"]
    res["table_bytes_per_item"] = round(
        d["leveldb"]["allocated_bytes"] / res["item_count"], 1)
    res["stream_bytes_per_record"] = round(
        d["streams"]["allocated_bytes"] / records, 1)

    # MODIFY records (both images): overwrite --modify loaded items once.
    if args.modify and size >= args.modify and "modify" not in args.done:
        args.done.add("modify")
        before = disk(eddy.data_dir)["streams"]["apparent_bytes"]
        load(eddy.port, 0, args.modify, 1)
        after = disk(eddy.data_dir)["streams"]["apparent_bytes"]
        res["modified_items"] = args.modify
        res["stream_bytes_per_modify"] = round(
            (after - before) / args.modify, 1)
        res["modified_item_bytes"] = round(mean_item_size(0, args.modify), 1)
        modified += args.modify
        bench.wait_idle(pid, limit=0.05, timeout=args.settle)
    client.close()

    # Restart after SIGKILL, as bench/restart.py: the same unflushed tail
    # at every size.
    kills = []
    for r in range(args.restarts):
        if args.quiet_wait > 0:
            bench.wait_machine_quiet(args.quiet_wait)
        eddy.stop(signal.SIGTERM)
        eddy.start()
        client = eddy.client()
        pk, sk = put_tail(client, "t%d-%d" % (size, r), args.tail)
        client.close()
        eddy.stop(signal.SIGKILL)
        kills.append(round(eddy.start(), 4))
        client = eddy.client()
        status, body = client.call("GetItem", {"TableName": TABLE,
                                               "Key": {"pk": pk, "sk": sk}})
        client.close()
        if status != 200 or "Item" not in body:
            raise RuntimeError("last acknowledged item missing after the "
                               "restart: %s %s" % (status, body))
    if kills:
        res["restarts_s"] = kills
        res["restart_s"] = statistics.median(kills)
        res["restart_min_s"] = min(kills)

    # Memory of a fresh server doing the same work at every size: GetItem
    # for --duration s, then PutItem as long. The figures above come from
    # the process that loaded the stage, and count also what its allocator
    # kept of the write buffers it churned through (a freed memtable's
    # memory stays with the process for reuse), which follows how much
    # that process wrote and when, not the table's size.
    if "get" in args.ops and "put" in args.ops:
        if args.quiet_wait > 0:
            bench.wait_machine_quiet(args.quiet_wait)
        eddy.stop(signal.SIGTERM)
        eddy.start()
        fresh = {"start": memory(eddy.proc.pid)}
        for op in ("get", "put"):
            bench.run_wrk(args, eddy.url(), op, args.duration, False,
                          "fresh%s%d" % (op, size))
            fresh[op] = memory(eddy.proc.pid)
        res["memory_fresh"] = fresh
    bench.log("  %d items: restarts %s s; RSS %d MB; table %.0f B/item, "
              "stream %.0f B/record" % (
                  size, kills, res["rss_kb"] / 1024,
                  res["table_bytes_per_item"], res["stream_bytes_per_record"]))
    return res, modified


def median_round(rounds, where, op):
    """The round whose rate is the median of the quotable rounds (of all
    of them if none is quotable), with how many were quotable."""
    every = [r[where][op] for r in rounds]
    for r in every:
        # The server's CPU per request (user + system, all its threads):
        # unlike req/s, it hardly moves when other processes share the
        # cores, so it compares sizes on a busy machine.
        r["server_us_per_request"] = round(
            1e6 * r.get("server_cpu_share", 0) / max(1.0,
                                                     r["requests_per_s"]), 2)
    pool = [r for r in every if r["quotable"]] or every
    pick = dict(sorted(pool, key=lambda r: r["requests_per_s"])[
        len(pool) // 2])
    pick["quotable_rounds"] = sum(1 for r in every if r["quotable"])
    pick["rounds_requests_per_s"] = [r["requests_per_s"] for r in every]
    pick["server_us_per_request_median"] = statistics.median(
        r["server_us_per_request"] for r in every)
    return pick


def rate(stage_res, op, where="ops"):
    r = stage_res.get(where, {}).get(op)
    return r["requests_per_s"] if r else None


def cpu(stage_res, op):
    return stage_res["ops"][op]["server_us_per_request_median"]


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def summarize(stages):
    first, last = stages[0], stages[-1]
    quotable = all(r["quotable"] for s in (first, last)
                   for r in list(s["ops"].values()) +
                   list(s["ceiling"].values()))
    out = {
        "sizes": [s["items_loaded"] for s in stages],
        "put_ratio": ratio(rate(last, "put"), rate(first, "put")),
        "get_ratio": ratio(rate(last, "get"), rate(first, "get")),
        "query_ratio": ratio(rate(last, "query"), rate(first, "query")),
        # Server CPU per request, smallest / largest size (1 = no growth;
        # the inverse of the req/s ratios on a saturated, unshared core).
        "cpu_per_request_ratio": {
            op: ratio(cpu(first, op), cpu(last, op))
            for op in first["ops"] if op in last["ops"]},
        "restart_ratio": ratio(last.get("restart_s"), first.get("restart_s")),
        "restart_min_ratio": ratio(last.get("restart_min_s"),
                                   first.get("restart_min_s")),
        "first_and_last_quotable": quotable,
        "of_ceiling": {
            str(s["items_loaded"]): {
                "get": ratio(rate(s, "get"), rate(s, "get", "ceiling")),
                "put": ratio(rate(s, "put"), rate(s, "put", "ceiling")),
            } for s in stages},
    }
    if len(stages) >= 2:
        out["rss_ratio"] = ratio(stages[-1]["rss_kb"], stages[-2]["rss_kb"])
        out["rss_anon_ratio"] = ratio(stages[-1]["rss_anon_kb"],
                                      stages[-2]["rss_anon_kb"])
    if len(stages) >= 2 and all("memory_fresh" in s for s in stages[-2:]):
        out["fresh_rss_ratio"] = {
            op: ratio(stages[-1]["memory_fresh"][op]["vmrss_kb"],
                      stages[-2]["memory_fresh"][op]["vmrss_kb"])
            for op in ("get", "put")}
    sizes = [s["item_size_bytes"] for s in stages]
    item_size = statistics.median(sizes)
    out["item_size_bytes"] = item_size
    # Stream bytes per record against the mean size of the items written.
    inserts = [s["stream_bytes_per_insert"] / s["inserted_item_bytes"]
               for s in stages if "stream_bytes_per_insert" in s]
    if inserts:
        out["insert_record_ratio"] = round(statistics.median(inserts), 3)
    modify = [s["stream_bytes_per_modify"] / s["modified_item_bytes"]
              for s in stages if "stream_bytes_per_modify" in s]
    if modify:
        out["modify_record_ratio"] = round(modify[0], 3)
    met = {
        "put_ratio": out["put_ratio"] is not None and
        out["put_ratio"] >= TARGETS["put_ratio"],
        "get_ratio": out["get_ratio"] is not None and
        out["get_ratio"] >= TARGETS["get_ratio"],
        "restart_ratio": out["restart_ratio"] is not None and
        out["restart_ratio"] <= TARGETS["restart_ratio"],
    }
    if "rss_ratio" in out:
        met["rss_spread"] = abs(out["rss_ratio"] - 1) <= TARGETS["rss_spread"]
        met["rss_anon_spread"] = (abs(out["rss_anon_ratio"] - 1) <=
                                  TARGETS["rss_spread"])
    for op, r in out.get("fresh_rss_ratio", {}).items():
        met["fresh_rss_spread_" + op] = abs(r - 1) <= TARGETS["rss_spread"]
    if "insert_record_ratio" in out:
        met["insert_record"] = (out["insert_record_ratio"] <=
                                TARGETS["insert_record"])
    if "modify_record_ratio" in out:
        met["modify_record"] = (out["modify_record_ratio"] <=
                                TARGETS["modify_record"])
    out["met"] = met
    return out


def status_of(r):
    if not r["valid"]:
        return "INVALID"
    flags = [name for name, on in (
        ("wrk-bound", r["generator_bound"]),
        ("core shared", r.get("contended")),
        ("wrk starved", r.get("generator_starved")),
        ("host contended", r.get("host_contended"))) if on]
    text = ", ".join(flags) + " (not quotable)" if flags else "ok"
    if "quotable_rounds" in r:
        text += "; %d/%d rounds quotable" % (
            r["quotable_rounds"], len(r["rounds_requests_per_s"]))
    return text


def print_report(stages, summary):
    print("| items | op | req/s | p50 ms | p99 ms | server µs/req | of ceiling "
          "| status |")
    print("|---:|---|---:|---:|---:|---:|---:|---|")
    for s in stages:
        for where, ops in (("ceiling", ("get", "put")), ("ops", s["ops"])):
            for op in ops:
                r = s[where][op]
                frac = ""
                if where == "ops" and op in s["ceiling"]:
                    frac = "%.2f" % (r["requests_per_s"] /
                                     s["ceiling"][op]["requests_per_s"])
                print("| %d | %s%s | %.0f | %.2f | %.2f | %.1f | %s | %s |" % (
                    s["items_loaded"], "ceiling " if where == "ceiling"
                    else "", bench.OPS[op][0], r["requests_per_s"],
                    r["latency_us"]["p50"] / 1000,
                    r["latency_us"]["p99"] / 1000,
                    r["server_us_per_request_median"], frac, status_of(r)))
    print()
    print("| items | ItemCount | load items/s | restart s (median, min) "
          "| RSS MB (anon) | fresh RSS MB: GetItem, PutItem "
          "| table B/item | stream B/record | stream B/INSERT |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in stages:
        fresh = s.get("memory_fresh")
        print("| %d | %d | %d | %s | %.0f (%.0f) | %s | %.0f | %.0f | %s |" % (
            s["items_loaded"], s["item_count"], s["load_items_per_s"],
            "%.3f, %.3f" % (s["restart_s"], s["restart_min_s"])
            if "restart_s" in s else "-", s["rss_kb"] / 1024,
            s["rss_anon_kb"] / 1024,
            "%.0f, %.0f" % (fresh["get"]["vmrss_kb"] / 1024,
                            fresh["put"]["vmrss_kb"] / 1024)
            if fresh else "-",
            s["table_bytes_per_item"], s["stream_bytes_per_record"],
            "%.0f" % s["stream_bytes_per_insert"]
            if "stream_bytes_per_insert" in s else "-"))
    print()
    met = summary["met"]

    def line(name, value, target, key):
        if value is None:
            return
        print("%s: %.3f (target %s: %s)" % (
            name, value, target, "met" if met.get(key) else "NOT met"))
    line("PutItem largest/smallest", summary["put_ratio"], "≥ 0.7",
         "put_ratio")
    line("GetItem largest/smallest", summary["get_ratio"], "≥ 0.8",
         "get_ratio")
    if summary["query_ratio"] is not None:
        print("Query largest/smallest: %.3f" % summary["query_ratio"])
    for op, r in summary["cpu_per_request_ratio"].items():
        if r is not None:
            print("%s server CPU per request, smallest/largest: %.3f" % (
                bench.OPS[op][0], r))
    line("Restart largest/smallest (median)", summary["restart_ratio"],
         "≤ 1.2", "restart_ratio")
    if summary["restart_min_ratio"] is not None:
        print("Restart largest/smallest (min): %.3f" %
              summary["restart_min_ratio"])
    line("RSS of the loading process, last/second-to-last size",
         summary.get("rss_ratio"), "within 10 %", "rss_spread")
    line("RSS of the loading process without file pages (RssAnon)",
         summary.get("rss_anon_ratio"), "within 10 %", "rss_anon_spread")
    for op, r in summary.get("fresh_rss_ratio", {}).items():
        line("RSS of a fresh server after %s, last/second-to-last"
             % bench.OPS[op][0], r, "within 10 %", "fresh_rss_spread_" + op)
    line("Stream bytes per INSERT record / item size",
         summary.get("insert_record_ratio"), "≤ 1.2", "insert_record")
    line("Stream bytes per MODIFY record / item size",
         summary.get("modify_record_ratio"), "≤ 2.4", "modify_record")
    for size, f in summary["of_ceiling"].items():
        print("Of the ceiling at %s items: GetItem %s, PutItem %s" % (
            size, f["get"], f["put"]))
    if not summary["first_and_last_quotable"]:
        print("(some results of the first or last size are not quotable: "
              "see the status column)")


def main():
    p = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,1000000,10000000",
                   help="items after each stage (multiples of 10)")
    p.add_argument("--ops", default="get,query,put",
                   help="measured at each size, in this order")
    p.add_argument("--duration", type=int, default=10,
                   help="measured seconds per op")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3,
                   help="rounds of the ceiling and Eddy's ops per size; "
                   "the median quotable round is reported")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--timeout", type=int, default=10,
                   help="wrk request timeout, seconds")
    p.add_argument("--loaders", type=int, default=3,
                   help="loader processes (one connection each)")
    p.add_argument("--settle", type=float, default=600,
                   help="after loading, wait up to S s for the server to "
                   "be idle (compactions done)")
    p.add_argument("--read-warmup", type=int, default=30,
                   help="seconds of unmeasured random GetItems after each "
                   "load, then a wait for idle (LevelDB's seek compactions "
                   "settle; 0: none)")
    p.add_argument("--restarts", type=int, default=3,
                   help="SIGKILL restarts per size (median reported)")
    p.add_argument("--tail", type=int, default=10000,
                   help="PutItems between the clean restart and the kill")
    p.add_argument("--modify", type=int, default=10000,
                   help="items overwritten once (at the first size that has "
                   "them) to measure MODIFY records (0: don't)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--eddy-bin", default=os.path.join(bench.REPO_DIR, "build",
                                                      "bin", "eddy"))
    p.add_argument("--ceiling-bin", default=os.path.join(
        bench.REPO_DIR, "build", "bin", "http_ceiling"))
    p.add_argument("--eddy-threads", type=int,
                   help="eddy --threads (default: 1 when pinned, else 0)")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--no-pin", dest="pin", action="store_false")
    p.add_argument("--nice", type=int, default=-10 if os.geteuid() == 0
                   else 0)
    p.add_argument("--quiet-wait", type=int, default=20,
                   help="before each op and restart, wait up to S s for an "
                   "idle machine (0: don't)")
    p.add_argument("--tmp", help="where the data directory goes")
    p.add_argument("--keep", action="store_true",
                   help="keep the data directory")
    p.add_argument("--label", help="free text stored in the results JSON")
    p.add_argument("--output", help="JSON path (default "
                   "bench/results/scale-<date>.json)")
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if sizes != sorted(sizes) or any(s % PER_PARTITION for s in sizes):
        p.error("--sizes must be increasing multiples of %d" % PER_PARTITION)
    args.ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    for op in args.ops:
        if op not in ("get", "query", "put"):
            p.error("unknown op %s" % op)
    for tool in ("wrk",) + (("taskset",) if args.pin else ()):
        if shutil.which(tool) is None:
            p.error("%s not found" % tool)
    for binary in (args.eddy_bin, args.ceiling_bin):
        if not os.access(binary, os.X_OK):
            p.error("%s not built (scripts/build)" % binary)
    # What run.py's helpers read.
    args.table, args.per_partition, args.wrk_threads = TABLE, PER_PARTITION, 1
    args.done = set()

    started = datetime.datetime.now()
    bench.log("load average %s, %d CPUs" % (bench.loadavg(), os.cpu_count()))
    tmp = tempfile.mkdtemp(prefix="eddy-scale-", dir=args.tmp)
    data_dir = os.path.join(tmp, "data")
    os.makedirs(data_dir)
    eddy = Eddy(args, data_dir, os.path.join(tmp, "server.log"))
    ceiling = None
    stages = []
    failed = None
    try:
        ceiling = Ceiling(args, os.path.join(tmp, "ceiling.log"))
        eddy.start()
        client = eddy.client()
        bench.create_table(client, TABLE, stream_view_type=STREAM_VIEW)
        client.close()
        loaded, modified = 0, 0
        for size in sizes:
            res, modified = stage(args, eddy, ceiling, loaded, size,
                                  modified)
            stages.append(res)
            loaded = size
    except Exception as e:  # noqa: BLE001  report what was measured
        failed = "%s: %s" % (type(e).__name__, e)
        bench.log("FAILED: %s" % failed)
        try:
            with open(os.path.join(tmp, "server.log")) as f:
                bench.log("".join(f.readlines()[-20:]))
        except OSError:
            pass
    finally:
        eddy.stop(signal.SIGTERM)
        if ceiling is not None:
            ceiling.stop()
        if args.keep:
            bench.log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    summary = summarize(stages) if stages else {}
    if stages:
        print_report(stages, summary)
    config = {k: v for k, v in vars(args).items() if k != "done"}
    result = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": bench.machine_info(),
        "eddy": bench.eddy_version(args.eddy_bin),
        "config": config,
        "stages": stages,
        "summary": summary,
        "targets": TARGETS,
    }
    if failed:
        result["failed"] = failed
    out = args.output or os.path.join(
        bench.BENCH_DIR, "results",
        "scale-" + started.strftime("%Y-%m-%d-%H%M%S") + ".json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    bench.log("wrote %s" % out)
    bad = failed or any(not r["ops"][op]["valid"] for s in stages
                        for r in s["rounds"] for op in r["ops"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
