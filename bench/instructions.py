#!/usr/bin/env python3
"""Instructions per request: a noise-free A/B figure for server changes.

Wall-clock benchmarks on this shared 2-core machine move by 10-30 % with
other engineers' compiles. Valgrind's callgrind counts the instructions the
server executes instead, which do not depend on what else runs. For each
Eddy binary and each operation this starts a fresh server under callgrind,
pre-loads the same items as run.py (fewer of them), sends N1 and then, on a
second fresh server, N2 requests of the operation over one keep-alive
connection, and reports (I(N2) - I(N1)) / (N2 - N1): the instructions one
request costs in the server process (all its threads, user space only, so
the kernel's TCP work is not counted), with start-up and pre-load cancelled
out.

  python3 bench/instructions.py --eddy-bin /tmp/eddy-before --eddy-bin build/bin/eddy
  python3 bench/instructions.py --ops get,query --n1 500 --n2 2500
  python3 bench/instructions.py --ops get,put --auth   # + each with --auth
  python3 bench/instructions.py --ops get --tls        # all over HTTPS
  python3 bench/instructions.py --ops put,overwrite --pitr  # + PITR on

The first binary is the baseline; later ones are reported as ratios to it.
With --auth every binary is also measured serving with `--auth` (one
allow-all identity; every request verified), reported as "<binary> --auth".
The client signs every request for real either way. With --pitr every
binary is also measured with point-in-time recovery on for the table
("<binary> pitr"). Ops: get, query, put (new items), overwrite (PutItem
over the pre-loaded items, so each write replaces one).
"""

import argparse
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = "bench"


def requests_for(op, n, partitions, per_partition, seed):
    rng = random.Random(seed)
    for k in range(n):
        i, j = rng.randrange(partitions), rng.randrange(per_partition)
        if op == "get":
            yield "GetItem", {"TableName": TABLE,
                              "Key": {"pk": {"S": f"p{i}"}, "sk": {"S": f"s{j}"}}}
        elif op == "query":
            yield "Query", {"TableName": TABLE,
                            "KeyConditionExpression": "pk = :p",
                            "ExpressionAttributeValues": {":p": {"S": f"p{i}"}}}
        elif op == "put":
            yield "PutItem", {"TableName": TABLE,
                              "Item": bench.item(f"w{k}", "s0", k, rng)}
        elif op == "overwrite":
            yield "PutItem", {"TableName": TABLE,
                              "Item": bench.item(f"p{i}", f"s{j}", k, rng)}
        else:
            raise ValueError(op)


def instructions(binary, op, n, args, auth=False, pitr=False):
    """Total user-space instructions of a server that served `n` requests."""
    tmp = tempfile.mkdtemp(prefix="eddy-instructions-")
    out = os.path.join(tmp, "callgrind.out")
    port = bench.free_port()
    os.makedirs(os.path.join(tmp, "data"))
    serve = bench.server_command("eddy-auth" if auth else "eddy", args, port,
                                 os.path.join(tmp, "data"))
    serve[0] = binary
    serve[serve.index("--threads") + 1] = "1"
    context = None
    if args.tls:
        cert, key = bench.make_certificate(tmp)
        serve += ["--tls-cert", cert, "--tls-key", key]
        context = bench.ssl.create_default_context(cafile=cert)
    proc = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
         *serve],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        bench.wait_ready("127.0.0.1", port, proc, 120, context)
        client = bench.Client("127.0.0.1", port, timeout=120,
                              ssl_context=context)
        bench.create_table(client, TABLE)
        if pitr:
            status, reply = client.call("UpdateContinuousBackups", {
                "TableName": TABLE, "PointInTimeRecoverySpecification": {
                    "PointInTimeRecoveryEnabled": True}})
            if status != 200:
                raise RuntimeError(f"UpdateContinuousBackups: {reply}")
        bench.preload("127.0.0.1", port, TABLE, args.partitions,
                      args.per_partition, args.seed, workers=2,
                      ssl_context=context)
        for name, body in requests_for(op, n, args.partitions,
                                       args.per_partition, args.seed):
            status, reply = client.call(name, body)
            if status != 200:
                raise RuntimeError(f"{name}: {status} {reply}")
        client.close()
    finally:
        proc.terminate()
        proc.wait(timeout=300)
    total = 0
    for path in [out] + [os.path.join(tmp, f) for f in os.listdir(tmp)
                         if f.startswith("callgrind.out.")]:
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"(?:summary|totals):\s+(\d+)", line)
                if m:
                    total += int(m.group(1))
                    break
    shutil.rmtree(tmp, ignore_errors=True)
    if total == 0:
        raise RuntimeError("callgrind wrote no totals")
    return total


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--eddy-bin", action="append",
                   help="an eddy binary (repeat; the first is the baseline)")
    p.add_argument("--ops", default="get,query,put")
    p.add_argument("--n1", type=int, default=300)
    p.add_argument("--n2", type=int, default=1300)
    p.add_argument("--partitions", type=int, default=100)
    p.add_argument("--per-partition", type=int, default=10)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--auth", action="store_true",
                   help="also measure each binary serving with --auth")
    p.add_argument("--pitr", action="store_true",
                   help="also measure each binary with point-in-time "
                        "recovery on")
    p.add_argument("--tls", action="store_true",
                   help="serve and send over HTTPS (a throwaway certificate)")
    args = p.parse_args()
    args.eddy_threads, args.pin = 1, False  # for bench.server_command
    binaries = args.eddy_bin or [os.path.join(REPO, "build", "bin", "eddy")]
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    configs = [(b, False, False) for b in binaries]
    if args.auth:
        configs = [(b, auth, False) for b in binaries for auth in (False, True)]
    if args.pitr:
        configs = [(b, auth, pitr) for b, auth, _ in configs
                   for pitr in (False, True)]

    def label(binary, auth, pitr):
        return binary + (" --auth" if auth else "") + (" pitr" if pitr else "")

    results = {}
    for op in ops:
        for binary, auth, pitr in configs:
            lo = instructions(binary, op, args.n1, args, auth, pitr)
            hi = instructions(binary, op, args.n2, args, auth, pitr)
            per = (hi - lo) / (args.n2 - args.n1)
            results[(op, binary, auth, pitr)] = per
            bench.log(f"{op} {label(binary, auth, pitr)}: "
                      f"{per:,.0f} instructions/request")
    print("| op | binary | instructions/request | ratio to first |")
    print("|---|---|---:|---:|")
    for op in ops:
        base = results[(op, binaries[0], False, False)]
        for binary, auth, pitr in configs:
            per = results[(op, binary, auth, pitr)]
            print(f"| {op} | {label(binary, auth, pitr)} | {per:,.0f} "
                  f"| {per / base:.3f} |")


if __name__ == "__main__":
    main()
