#!/usr/bin/env python3
"""Streams benchmark (issue 3): what change capture costs, and how fast a
shard can be read back.

1. PutItem throughput with streams off and with NEW_AND_OLD_IMAGES on, in
   the same run against the same server: two tables, measured alternately
   (off, on, off, on, ...) so machine noise hits both; reports the medians and
   the ratio on/off (target >= 0.7).
2. GetRecords throughput: 100,000 records written into one shard (one
   partition key, 100,000 sort keys), then read from TRIM_HORIZON in pages of
   1000 through the HTTP API by one reader; reports records/s (target
   >= 200,000).

The server and the load generator are pinned to different cores as in
bench/run.py (whose helpers this reuses).

  python3 bench/streams.py                 # defaults: 4 rounds x 5 s
  python3 bench/streams.py --rounds 6 --duration 10
"""

import argparse
import concurrent.futures
import datetime
import http.client
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402

STREAMS_TARGET = "DynamoDBStreams_20120810."


def create(client, table, stream):
    body = {
        "TableName": table,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream:
        body["StreamSpecification"] = {"StreamEnabled": True,
                                       "StreamViewType": "NEW_AND_OLD_IMAGES"}
    status, out = client.call("CreateTable", body)
    if status != 200:
        raise RuntimeError("CreateTable %s: %s" % (table, out))


def streams_call(conn, op, body):
    data = json.dumps(body, separators=(",", ":")).encode()
    conn.request("POST", "/", body=data, headers=bench.sigv4_headers(
        "%s:%d" % (conn.host, conn.port), op, data, STREAMS_TARGET))
    resp = conn.getresponse()
    raw = resp.read()
    if resp.status != 200:
        raise RuntimeError("%s: %s %s" % (op, resp.status, raw[:300]))
    return raw


def put_throughput(args, server):
    url = "http://127.0.0.1:%d" % server.port
    client = bench.Client("127.0.0.1", server.port)
    create(client, "plain", stream=False)
    create(client, "streamed", stream=True)
    rates = {"plain": [], "streamed": []}
    p99 = {"plain": [], "streamed": []}
    for rnd in range(args.rounds):
        for table in ("plain", "streamed") if rnd % 2 == 0 else ("streamed", "plain"):
            args.table = table
            result = bench.run_wrk(args, url, "put", args.duration, False,
                                   "r%d%s" % (rnd, table))
            if any(result["errors"].values()) or result["non_2xx"]:
                raise RuntimeError("errors during PutItem run: %s" % result)
            rates[table].append(result["requests_per_s"])
            p99[table].append(result["latency_us"]["p99"] / 1000.0)
            bench.log("round %d %-8s %9.0f req/s  p99 %.2f ms  wrk cpu %.0f%%" % (
                rnd, table, result["requests_per_s"], p99[table][-1],
                100 * result["wrk_cpu_share"]))
    off = statistics.median(rates["plain"])
    on = statistics.median(rates["streamed"])
    return {
        "put_streams_off_rps": round(off),
        "put_streams_on_rps": round(on),
        "ratio_on_off": round(on / off, 3),
        "p99_off_ms": statistics.median(p99["plain"]),
        "p99_on_ms": statistics.median(p99["streamed"]),
        "rounds": args.rounds,
        "per_round": rates,
    }


def load_one_shard(port, count, item_bytes, workers=4):
    """Writes `count` items under one partition key (so one shard)."""
    pad = "x" * max(0, item_bytes - 40)

    def worker(w):
        c = bench.Client("127.0.0.1", port)
        for i in range(w, count, workers):
            status, out = c.call("PutItem", {"TableName": "onepart", "Item": {
                "pk": {"S": "hot"}, "sk": {"S": "%08d" % i},
                "pad": {"S": pad}}})
            if status != 200:
                raise RuntimeError("PutItem: %s" % out)
        c.close()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, range(workers)))


def read_shard(port, limit):
    """Reads the loaded shard from TRIM_HORIZON; returns (records, seconds, pages)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c = bench.Client("127.0.0.1", port)
    _, desc = c.call("DescribeTable", {"TableName": "onepart"})
    arn = desc["Table"]["LatestStreamArn"]
    shards = json.loads(streams_call(conn, "DescribeStream", {"StreamArn": arn}))
    shards = shards["StreamDescription"]["Shards"]
    # The loaded shard is the one with records; find it by reading one.
    for shard in shards:
        it = json.loads(streams_call(conn, "GetShardIterator", {
            "StreamArn": arn, "ShardId": shard["ShardId"],
            "ShardIteratorType": "TRIM_HORIZON"}))["ShardIterator"]
        first = json.loads(streams_call(conn, "GetRecords",
                                        {"ShardIterator": it, "Limit": 1}))
        if first["Records"]:
            break
    total = 0
    pages = 0
    start = time.perf_counter()
    while True:
        body = {"ShardIterator": it}
        if limit:
            body["Limit"] = limit
        raw = streams_call(conn, "GetRecords", body)
        # Count without a full JSON parse, so the client is not the limit.
        n = raw.count(b'"eventID"')
        pages += 1
        if n == 0:
            break
        total += n
        key = b'"NextShardIterator":"'
        at = raw.rfind(key)
        it = raw[at + len(key):raw.index(b'"', at + len(key))].decode()
    elapsed = time.perf_counter() - start
    conn.close()
    return total, elapsed, pages


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eddy-bin", default=os.path.join(bench.REPO_DIR, "build", "bin", "eddy"))
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--records", type=int, default=100000)
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    args = parser.parse_args()
    # What bench.run_wrk and bench.Server read.
    args.client_cpu, args.server_cpu = 1, 0
    args.nice = 0
    args.wrk_threads = 1
    args.timeout = 10
    args.partitions, args.per_partition, args.seed = 1000, 10, 42
    args.eddy_threads = None

    results = {"date": datetime.datetime.now().isoformat(timespec="seconds"),
               "machine": bench.machine_info()}
    server = bench.Server("eddy", args)
    try:
        bench.wait_ready("127.0.0.1", server.port, server.proc, 30)
        results["put"] = put_throughput(args, server)
        c = bench.Client("127.0.0.1", server.port)
        create(c, "onepart", stream=True)
        bench.log("loading %d records into one shard..." % args.records)
        load_one_shard(server.port, args.records, 200)
        total, secs, pages = read_shard(server.port, 1000)
        results["get_records_limit_1000"] = {
            "records": total, "seconds": round(secs, 3), "pages": pages,
            "records_per_s": round(total / secs)}
    finally:
        server.stop()
    put = results["put"]
    print("PutItem, 32 connections: streams off %d req/s (p99 %.2f ms), "
          "NEW_AND_OLD_IMAGES on %d req/s (p99 %.2f ms): on/off = %.2f "
          "(target >= 0.7)" % (put["put_streams_off_rps"], put["p99_off_ms"],
                               put["put_streams_on_rps"], put["p99_on_ms"],
                               put["ratio_on_off"]))
    for key, label in (("get_records_limit_1000", "Limit 1000"),):
        r = results[key]
        print("GetRecords, %s: %d records in %d pages, %.2f s: %d records/s "
              "(target >= 200,000)" % (label, r["records"], r["pages"],
                                       r["seconds"], r["records_per_s"]))
    os.makedirs(os.path.join(bench.BENCH_DIR, "results"), exist_ok=True)
    path = os.path.join(bench.BENCH_DIR, "results", "streams-%s.json" %
                        datetime.datetime.now().strftime("%Y-%m-%d-%H%M%S"))
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print("results: %s" % path)


if __name__ == "__main__":
    main()
