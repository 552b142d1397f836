#!/usr/bin/env python3
"""Descriptors a server holds open for its streams, against how many stream
shards it retains (issue 15).

Starts a server (one event loop) with a short `--stream-shard-rollover`,
creates --tables tables with a NEW_AND_OLD_IMAGES stream, writes to all of
them for --seconds (so every stream rolls over several times and retains a
generation of 4 shards per rollover), reads every retained shard once from
TRIM_HORIZON (GetRecords, as a consumer catching up would: closed shards'
files are opened), then counts the server's descriptors on files under
data/streams (/proc/PID/fd). Give several binaries to compare them in one
run:

  python3 bench/stream_descriptors.py build/bin/eddy /tmp/old/build/bin/eddy
  python3 bench/stream_descriptors.py --tables 10 build/bin/eddy

Run by hand; takes --seconds plus a few seconds per binary.
"""

import argparse
import os
import shutil
import socket
import subprocess
import tempfile
import time

import boto3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stream_descriptors(pid):
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if "/streams/" in os.readlink(f"/proc/{pid}/fd/{fd}"):
                count += 1
        except OSError:
            pass  # Closed meanwhile.
    return count


def measure(binary, args):
    tmp = tempfile.mkdtemp(prefix="eddy-descriptors-")
    port = free_port()
    with open(os.path.join(tmp, "server.log"), "w") as log:
        server = subprocess.Popen(
            [binary, "serve", "--data", os.path.join(tmp, "data"), "--host",
             "127.0.0.1", "--port", str(port), "--threads", "1",
             "--stream-shard-rollover", args.rollover],
            stdout=log, stderr=subprocess.STDOUT)
    try:
        kw = dict(endpoint_url=f"http://127.0.0.1:{port}",
                  region_name="us-east-1", aws_access_key_id="bench",
                  aws_secret_access_key="bench")
        ddb = boto3.client("dynamodb", **kw)
        streams = boto3.client("dynamodbstreams", **kw)
        for _ in range(100):
            try:
                ddb.list_tables()
                break
            except Exception:  # Not listening yet.
                time.sleep(0.1)
        names = [f"table{t}" for t in range(args.tables)]
        for name in names:
            ddb.create_table(
                TableName=name, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "pk",
                                       "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                StreamSpecification={"StreamEnabled": True,
                                     "StreamViewType": "NEW_AND_OLD_IMAGES"})
        writes, end = 0, time.monotonic() + args.seconds
        while time.monotonic() < end:
            for name in names:
                ddb.put_item(TableName=name,
                             Item={"pk": {"S": f"k{writes % 50}"},
                                   "v": {"N": str(writes)}})
                writes += 1
        shards = 0
        for name in names:
            arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
            for shard in streams.describe_stream(
                    StreamArn=arn)["StreamDescription"]["Shards"]:
                shards += 1
                iterator = streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"],
                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                streams.get_records(ShardIterator=iterator)
        return shards, writes, stream_descriptors(server.pid)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("binaries", nargs="+", help="eddy binaries to compare")
    p.add_argument("--tables", type=int, default=3)
    p.add_argument("--seconds", type=float, default=14)
    p.add_argument("--rollover", default="2s",
                   help="--stream-shard-rollover (default 2s)")
    args = p.parse_args()
    print("| binary | tables | retained shards | writes | "
          "stream descriptors | per retained shard |")
    print("|---|---:|---:|---:|---:|---:|")
    for binary in args.binaries:
        shards, writes, fds = measure(binary, args)
        print(f"| {binary} | {args.tables} | {shards} | {writes} | {fds} | "
              f"{fds / max(shards, 1):.2f} |", flush=True)


if __name__ == "__main__":
    main()
