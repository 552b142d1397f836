#!/usr/bin/env python3
"""Load benchmark for PutItem, GetItem and Query against DynamoDB servers.

For each target (eddy, moto, dynalite) this starts the server on a free
127.0.0.1 port with a fresh data directory, pinned to one core, creates the
table, pre-loads the items the reads need, then runs each operation with wrk
(pinned to the other core): a warm-up that also checks every response body,
then the measured run. It records wrk's and the server's CPU share, flags
results where wrk was the bottleneck, prints a table and writes everything to
bench/results/<date>.json.

  python3 bench/run.py                         # all targets, 10 s per op
  python3 bench/run.py --targets eddy --duration 5
  python3 bench/run.py --endpoint http://127.0.0.1:8000   # a running server
  python3 bench/run.py --repeat 2              # two rounds, medians reported
  python3 bench/run.py --targets eddy,eddy-auth --ops get_signed,put_signed
                       # SigV4 verification's cost: the same pre-signed
                       # requests against Eddy without and with --auth
  python3 bench/run.py --targets eddy,eddy-tls --ops get,put
                       # HTTPS against plain HTTP, same wrk scripts

Standard library only. See bench/README.md for the method.
"""

import argparse
import concurrent.futures
import datetime
import hashlib
import hmac
import http.client
import json
import os
import platform
import random
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
WRK_DIR = os.path.join(BENCH_DIR, "wrk")
DYNALITE_CLI = os.path.join(BENCH_DIR, ".deps", "node_modules", "dynalite",
                            "cli.js")

OPS = {
    "put": ("PutItem", "put_item.lua"),
    "get": ("GetItem", "get_item.lua"),
    "query": ("Query", "query.lua"),
    # The same Query on a global secondary index over the same items (see
    # GSI_NAME); not in DEFAULT_OPS: run with --ops query,query_gsi.
    "query_gsi": ("Query IndexName", "query_gsi.lua"),
    # Pre-signed requests (signed.lua replays them): every request carries a
    # real SigV4 signature of its own body, so eddy-auth verifies each in
    # full. Run against eddy and eddy-auth for the cost of authentication.
    "get_signed": ("GetItem signed", "signed.lua"),
    "put_signed": ("PutItem signed", "signed.lua"),
}
SIGNED_REQUESTS = 20000  # distinct pre-signed requests per signed op
# The GSI that --ops query_gsi creates with the table: partition key pk, sort
# key count (each item's number), ALL projection, so that "pk = :p" on it
# returns the same items as on the table.
GSI_NAME = "by_count"
# Reads first, so every target's reads see the same 10,000 pre-loaded items
# whatever its write throughput was.
DEFAULT_OPS = "get,query,put"
ALL_TARGETS = ("eddy", "moto", "dynalite")
# Eddy with --auth and one allow-all identity (the bench credentials);
# only on request (--targets eddy,eddy-auth). eddy-tls: Eddy serving HTTPS
# (a throwaway certificate from the openssl binary), reported as
# eddy-tls/eddy (--targets eddy,eddy-tls).
EXTRA_TARGETS = ("eddy-auth", "eddy-tls")

# The targets (issue 2, bench/ acceptance point).
RATIO_TARGETS = {"put": 15.0, "get": 15.0, "query": 20.0}
# HTTPS with keep-alive against plain HTTP, same run (issue 12).
TLS_RATIO_TARGET = 0.7
P99_TARGET_US = 2000
GENERATOR_LIMIT = 0.90  # wrk above this share of its core = bottleneck
CONTENTION_LIMIT = 0.10  # other processes' share of the server core
STARVED_LIMIT = 0.05  # share of the run wrk spent waiting for its core
# Steal time (the hypervisor running other guests on this VM's vCPUs) on
# the server's or wrk's core. Quiet runs measure 0-0.4 %; runs with 5-30 %
# lost up to a third of their throughput (2026-11-27).
STEAL_LIMIT = 0.02

# Every request is signed for real with these (eddy-auth's identity);
# servers without auth accept any signature.
BENCH_KEY, BENCH_SECRET, BENCH_REGION = ("AKIDBENCH00000000000", "bench-secret",
                                         "us-east-1")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# DynamoDB over plain HTTP, signed with SigV4 (stdlib only, no SDK).


def sigv4_headers(host, op, data, target="DynamoDB_20120810."):
    """The headers of a DynamoDB (or, with target "DynamoDBStreams_20120810.",
    DynamoDB Streams: both sign as service "dynamodb") request to `host`
    ("127.0.0.1:8000") with body `data`, signed now with the bench
    credentials."""
    amz_date = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y%m%dT%H%M%SZ")
    headers = {
        "content-type": "application/x-amz-json-1.0",
        "host": host,
        "x-amz-date": amz_date,
        "x-amz-target": target + op,
    }
    names = sorted(headers)
    canonical = "\n".join([
        "POST", "/", "", "".join("%s:%s\n" % (n, headers[n]) for n in names),
        ";".join(names), hashlib.sha256(data).hexdigest()])
    scope = "%s/%s/dynamodb/aws4_request" % (amz_date[:8], BENCH_REGION)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + BENCH_SECRET).encode()
    for part in (amz_date[:8], BENCH_REGION, "dynamodb", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    headers["authorization"] = (
        "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            BENCH_KEY, scope, ";".join(names),
            hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()))
    return headers


def write_signed_requests(path, host, op, table, args):
    """SIGNED_REQUESTS pre-signed GetItem or PutItem requests, as signed.lua
    reads them. Returns the string a 200 body must contain."""
    rng = random.Random(args.seed)
    with open(path, "wb") as f:
        for n in range(SIGNED_REQUESTS):
            if op == "get_signed":
                body = {"TableName": table, "Key": {
                    "pk": {"S": "p%d" % rng.randrange(args.partitions)},
                    "sk": {"S": "s%d" % rng.randrange(args.per_partition)}}}
                name = "GetItem"
            else:
                body = {"TableName": table,
                        "Item": item("w%d" % n, "s0", n, rng)}
                name = "PutItem"
            data = json.dumps(body, separators=(",", ":")).encode()
            headers = sigv4_headers(host, name, data)
            text = "POST / HTTP/1.1\r\n" + "".join(
                "%s: %s\r\n" % (k, v) for k, v in headers.items()) + (
                "content-length: %d\r\n\r\n" % len(data))
            request = text.encode() + data
            f.write(b"%d\n" % len(request) + request)
    return '"Item"' if op == "get_signed" else "{}"


class Client:
    """One keep-alive connection speaking DynamoDB JSON 1.0 (over TLS when
    given an ssl_context)."""

    def __init__(self, host, port, timeout=30.0, ssl_context=None):
        self.host, self.port, self.timeout = host, port, timeout
        self.ssl_context = ssl_context
        self.conn = None

    def call(self, op, body):
        data = json.dumps(body, separators=(",", ":")).encode()
        headers = sigv4_headers("%s:%d" % (self.host, self.port), op, data)
        for attempt in range(2):
            if self.conn is None and self.ssl_context is not None:
                self.conn = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout,
                    context=self.ssl_context)
            elif self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("POST", "/", body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                break
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 1:
                    raise
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {"raw": raw[:200].decode(errors="replace")}
        return resp.status, payload

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def item(pk, sk, n, rng):
    """The ~200-byte item of bench/wrk/common.lua (DynamoDB size formula)."""
    payload = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz")
                      for _ in range(150))
    return {
        "pk": {"S": pk}, "sk": {"S": sk}, "payload": {"S": payload},
        "count": {"N": str(n)}, "active": {"BOOL": True},
        "tag": {"S": "bench-item"},
    }


def item_size(it):
    """DynamoDB's item size for the S/N/BOOL attributes used here."""
    size = 0
    for name, value in it.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        elif "N" in value:
            size += (len(value["N"].lstrip("-").replace(".", "")) + 1) // 2 + 1
        else:
            size += 1
    return size


def wait_ready(host, port, proc, timeout, ssl_context=None):
    deadline = time.monotonic() + timeout
    client = Client(host, port, timeout=2.0, ssl_context=ssl_context)
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            status, body = client.call("ListTables", {})
            if status == 200:
                client.close()
                return
            last = (status, body)
        except OSError as e:
            last = e
        time.sleep(0.1)
    raise RuntimeError("server not ready after %ss: %r" % (timeout, last))


def create_table(client, table, with_gsi=False, stream_view_type=None):
    """Creates the table (with the GSI GSI_NAME when `with_gsi`, a stream of
    `stream_view_type` when given) and waits until it and its index are
    ACTIVE."""
    request = {
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
    if with_gsi:
        request["AttributeDefinitions"].append(
            {"AttributeName": "count", "AttributeType": "N"})
        request["GlobalSecondaryIndexes"] = [{
            "IndexName": GSI_NAME,
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "count", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }]
    if stream_view_type:
        request["StreamSpecification"] = {"StreamEnabled": True,
                                          "StreamViewType": stream_view_type}
    status, body = client.call("CreateTable", request)
    if status != 200 and "ResourceInUse" not in str(body.get("__type", "")):
        raise RuntimeError("CreateTable: %s %s" % (status, body))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, body = client.call("DescribeTable", {"TableName": table})
        if status == 200 and body["Table"]["TableStatus"] == "ACTIVE" and all(
                i.get("IndexStatus") == "ACTIVE"
                for i in body["Table"].get("GlobalSecondaryIndexes", [])):
            return
        time.sleep(0.05)
    raise RuntimeError("table %s never became ACTIVE" % table)


def preload(host, port, table, partitions, per_partition, seed, workers=8,
            ssl_context=None):
    """PutItem p<i>/s<j> for every i, j with `workers` connections."""
    keys = [(i, j) for i in range(partitions) for j in range(per_partition)]
    local = threading.local()
    errors = []

    def put(chunk):
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = Client(host, port,
                                           ssl_context=ssl_context)
        rng = random.Random(seed * 1000003 + chunk[0][0])
        for i, j in chunk:
            status, body = client.call("PutItem", {
                "TableName": table,
                "Item": item("p%d" % i, "s%d" % j, i * per_partition + j, rng),
            })
            if status != 200:
                errors.append((status, body))
                return

    chunks = [keys[k:k + per_partition] for k in range(0, len(keys),
                                                       per_partition)]
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(put, chunks))
    if errors:
        raise RuntimeError("pre-load PutItem failed: %r" % (errors[0],))
    return time.monotonic() - start


def spot_check(client, table, per_partition, with_gsi=False):
    """The data the read scripts expect is there."""
    status, body = client.call("GetItem", {
        "TableName": table, "Key": {"pk": {"S": "p0"}, "sk": {"S": "s0"}}})
    if status != 200 or "Item" not in body:
        raise RuntimeError("GetItem p0/s0: %s %s" % (status, body))
    status, body = client.call("Query", {
        "TableName": table, "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "p0"}}})
    if status != 200 or body.get("Count") != per_partition:
        raise RuntimeError("Query p0: %s %s" % (status, str(body)[:300]))
    if with_gsi:
        status, gsi = client.call("Query", {
            "TableName": table, "IndexName": GSI_NAME,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "p0"}}})
        if status != 200 or gsi.get("Count") != per_partition:
            raise RuntimeError("Query p0 on %s: %s %s" % (GSI_NAME, status,
                                                        str(gsi)[:300]))
    return item_size(body["Items"][0])


# --------------------------------------------------------------------------
# CPU accounting from /proc.


def process_tree_ticks(root_pid):
    """utime+stime (clock ticks) of root_pid and all its descendants."""
    parents, ticks = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        pid = int(entry)
        parents[pid] = int(fields[1])
        ticks[pid] = int(fields[11]) + int(fields[12])
    total = 0
    for pid in ticks:
        p = pid
        while p and p != root_pid:
            p = parents.get(p)
        if p == root_pid:
            total += ticks[pid]
    return total


def cpu_busy_ticks():
    """{cpu index: (busy, total, steal)} from /proc/stat. Busy includes
    steal (time the hypervisor gave the vCPU to someone else)."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *vals = line.split()
                vals = [int(v) for v in vals[:8]]
                idle = vals[3] + vals[4]
                out[int(name[3:])] = (sum(vals) - idle, sum(vals), vals[7])
    return out


def wait_idle(pid, limit=0.05, timeout=60.0):
    """Waits until the server uses < limit of a core (backlog drained)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = process_tree_ticks(pid)
        time.sleep(0.25)
        if (process_tree_ticks(pid) - before) / CLK_TCK / 0.25 < limit:
            return True
    return False


def wait_machine_quiet(max_wait, limit=0.10):
    """Waits up to max_wait s until all CPUs together are < limit busy over
    one second (nothing else, e.g. a compile, is running). Returns the busy
    share last seen."""
    deadline = time.monotonic() + max_wait
    while True:
        before = cpu_busy_ticks()
        time.sleep(1.0)
        after = cpu_busy_ticks()
        busy = sum(after[c][0] - before[c][0] for c in after)
        total = max(1, sum(after[c][1] - before[c][1] for c in after))
        share = busy / total
        if share < limit or time.monotonic() >= deadline:
            return round(share, 3)


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


# --------------------------------------------------------------------------
# wrk.


class SchedSampler:
    """Samples /proc/<pid>/task/*/schedstat (ns on CPU, ns waiting on a run
    queue) every 0.2 s while the process lives; keeps the last sum."""

    def __init__(self, pid):
        self.pid = pid
        self.wait_ns = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self):
        total = 0
        try:
            tasks = os.listdir("/proc/%d/task" % self.pid)
        except OSError:
            return None
        for tid in tasks:
            try:
                with open("/proc/%d/task/%s/schedstat" % (self.pid, tid)) as f:
                    total += int(f.read().split()[1])
            except (OSError, IndexError, ValueError):
                pass
        return total

    def _run(self):
        while not self._done.wait(0.2):
            value = self._sample()
            if value is not None:
                self.wait_ns = max(self.wait_ns, value)

    def stop(self):
        self._done.set()
        self._thread.join()


def run_wrk(args, url, op, duration, validate, tag):
    """Runs one wrk pass; returns its parsed BENCH_RESULT plus CPU figures."""
    _, script = OPS[op]
    cmd = []
    if args.pin:
        cmd += ["taskset", "-c", str(args.client_cpu)]
    if args.nice:
        cmd += ["nice", "-n", str(args.nice)]
    cmd += ["wrk", "-t%d" % args.wrk_threads, "-c%d" % args.connections,
            "-d%ds" % duration, "--timeout", "%ds" % args.timeout,
            "-s", os.path.join(WRK_DIR, script), url]
    env = dict(os.environ,
               BENCH_TABLE=args.table,
               BENCH_PARTITIONS=str(args.partitions),
               BENCH_PER_PARTITION=str(args.per_partition),
               BENCH_SEED=str(args.seed),
               BENCH_INDEX=GSI_NAME,
               BENCH_TAG=tag,
               BENCH_VALIDATE="1" if validate else "0")
    if op in ("get_signed", "put_signed"):
        env.update(BENCH_REQUESTS=args.signed_files[op][0],
                   BENCH_EXPECT=args.signed_files[op][1], BENCH_OP=OPS[op][0])
    with tempfile.TemporaryFile("w+") as out:
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                env=env)
        sampler = SchedSampler(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    result = None
    for line in text.splitlines():
        if line.startswith("BENCH_RESULT "):
            result = json.loads(line[len("BENCH_RESULT "):])
    if proc.returncode != 0 or result is None:
        raise RuntimeError("wrk failed (%s):\n%s" % (proc.returncode, text))
    # Time wrk was runnable but waiting for its core: another process on
    # the generator's core delays requests even when wrk's share is low.
    result["wrk_runqueue_wait_share"] = round(sampler.wait_ns / 1e9 / wall,
                                              3)
    result["wrk_cpu_s"] = round(usage.ru_utime + usage.ru_stime, 3)
    result["wrk_wall_s"] = round(wall, 3)
    # wrk -tN can use up to N cores; its share is of the cores it may use.
    result["wrk_cpu_share"] = round(
        (usage.ru_utime + usage.ru_stime) / wall / args.wrk_threads, 3)
    return result


# --------------------------------------------------------------------------
# Targets.


def usage(path):
    """(apparent bytes, allocated bytes) of the files under `path`."""
    apparent = allocated = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except OSError:
                continue
            apparent += st.st_size
            allocated += st.st_blocks * 512
    return apparent, allocated


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tool_version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return None


def eddy_version(binary):
    """Where the binary came from. The repo's commit is only reported for a
    binary built inside this repo; otherwise only the build time."""
    info = {"binary": binary}
    try:
        info["built"] = datetime.datetime.fromtimestamp(
            os.path.getmtime(binary)).isoformat(timespec="seconds")
        if os.path.realpath(binary).startswith(REPO_DIR + os.sep):
            rev = subprocess.run(["git", "-C", REPO_DIR, "rev-parse",
                                  "--short", "HEAD"], capture_output=True,
                                 text=True)
            dirty = subprocess.run(["git", "-C", REPO_DIR, "status",
                                    "--porcelain", "--untracked-files=no"],
                                   capture_output=True, text=True)
            info["repo_head"] = rev.stdout.strip() + (
                " with uncommitted changes" if dirty.stdout.strip() else "")
    except OSError:
        pass
    return info


def moto_command():
    beside = os.path.join(os.path.dirname(sys.executable), "moto_server")
    return beside if os.path.exists(beside) else shutil.which("moto_server")


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1 (EC P-256, as a TLS server
    would use); returns (cert, key) paths."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def server_command(target, args, port, data_dir):
    """eddy-tls makes its certificate beside `data_dir`."""
    host = "127.0.0.1"
    if target in ("eddy", "eddy-auth", "eddy-tls"):
        cmd = [args.eddy_bin, "serve", "--data", data_dir, "--host", host,
               "--port", str(port)]
        if target == "eddy-auth":
            auth = os.path.join(os.path.dirname(data_dir), "auth.json")
            fd = os.open(auth, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump({"identities": [{
                    "name": "bench", "accessKeyId": BENCH_KEY,
                    "secretAccessKey": BENCH_SECRET,
                    "policy": {"Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Action": "*",
                        "Resource": "*"}]}}]}, f)
            cmd += ["--auth", auth]
        if target == "eddy-tls":
            cert, key = make_certificate(os.path.dirname(data_dir))
            cmd += ["--tls-cert", cert, "--tls-key", key]
        threads = args.eddy_threads
        if threads is None:
            threads = 1 if args.pin else 0
        cmd += ["--threads", str(threads)]
        return cmd
    if target == "moto":
        exe = moto_command()
        if exe is None:
            raise RuntimeError("moto_server not found (pip install moto[server])")
        return [exe, "-H", host, "-p", str(port)]
    if target == "dynalite":
        if not os.path.exists(DYNALITE_CLI):
            raise RuntimeError(
                "dynalite not installed: npm install --prefix bench/.deps "
                "dynalite")
        return ["node", DYNALITE_CLI, "--host", host, "--port", str(port),
                "--path", data_dir]
    raise ValueError(target)


def target_versions(target, args):
    if target in ("eddy", "eddy-auth", "eddy-tls"):
        return eddy_version(args.eddy_bin)
    if target == "moto":
        try:
            import moto  # noqa: F401  (only for the version)
            return {"moto": moto.__version__}
        except ImportError:
            return {}
    if target == "dynalite":
        try:
            with open(os.path.join(os.path.dirname(DYNALITE_CLI),
                                   "package.json")) as f:
                return {"dynalite": json.load(f)["version"],
                        "node": tool_version(["node", "--version"])}
        except OSError:
            return {}
    return {}


class Server:
    """A server process pinned to the server core, with its own temp dir."""

    def __init__(self, target, args):
        self.target = target
        self.tmp = tempfile.mkdtemp(prefix="eddy-bench-%s-" % target)
        self.port = free_port()
        os.makedirs(os.path.join(self.tmp, "data"))
        cmd = server_command(target, args, self.port,
                             os.path.join(self.tmp, "data"))
        # How run.py's own clients reach it (wrk does not verify).
        self.scheme, self.ssl_context = "http", None
        if target == "eddy-tls":
            self.scheme = "https"
            self.ssl_context = ssl.create_default_context(
                cafile=os.path.join(self.tmp, "cert.pem"))
        if args.nice:
            cmd = ["nice", "-n", str(args.nice)] + cmd
        if args.pin:
            cmd = ["taskset", "-c", str(args.server_cpu)] + cmd
        self.cmd = cmd
        self.log_path = os.path.join(self.tmp, "server.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     cwd=self.tmp, start_new_session=True)

    def log_tail(self, n=20):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def measure(args, label, url, server_pid):
    """Warm-up and measured run of each op against one endpoint."""
    host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(
        url).port
    results = {}
    args.signed_files = {}
    signed_dir = tempfile.mkdtemp(prefix="eddy-bench-signed-")
    try:
        for op in args.ops:
            if op in ("get_signed", "put_signed"):
                # Signed now: valid for the 15 minutes around this run.
                path = os.path.join(signed_dir, op)
                expect = write_signed_requests(path, "%s:%d" % (host, port),
                                               op, args.table, args)
                args.signed_files[op] = (path, expect)
            results[op] = measure_op(args, label, url, server_pid, op)
    finally:
        shutil.rmtree(signed_dir, ignore_errors=True)
    return results


def measure_op(args, label, url, server_pid, op, check=True):
    """Warm-up and measured run of one op. `check=False`: the warm-up does
    not check the responses (for a server that answers a canned 200)."""
    tag = "%s%d" % (op, int(time.time() * 1000) % 10**9)
    if server_pid and not wait_idle(server_pid):
        log("  %s still busy before %s" % (label, op))
    if args.quiet_wait > 0:
        share = wait_machine_quiet(args.quiet_wait)
        if share >= 0.10:
            log("  machine still %.0f%% busy after %ds; measuring anyway"
                % (100 * share, args.quiet_wait))
    log("  %s %s: warm-up %ds%s" % (label, op, args.warmup,
                                  " (validating responses)" if check else ""))
    warm = run_wrk(args, url, op, args.warmup, check, tag + "w")
    log("  %s %s: measuring %ds" % (label, op, args.duration))
    load_before = loadavg()
    cpus_before = cpu_busy_ticks()
    ticks_before = process_tree_ticks(server_pid) if server_pid else 0
    t0 = time.monotonic()
    res = run_wrk(args, url, op, args.duration, False, tag)
    wall = time.monotonic() - t0
    if server_pid:
        ticks = process_tree_ticks(server_pid) - ticks_before
        res["server_cpu_share"] = round(ticks / CLK_TCK / wall, 3)
    cpus_after = cpu_busy_ticks()
    res["cpu_busy"] = {
        str(c): round((cpus_after[c][0] - cpus_before[c][0]) /
                      max(1, cpus_after[c][1] - cpus_before[c][1]), 3)
        for c in cpus_after if c in cpus_before}
    res["cpu_steal"] = {
        str(c): round((cpus_after[c][2] - cpus_before[c][2]) /
                      max(1, cpus_after[c][1] - cpus_before[c][1]), 3)
        for c in cpus_after if c in cpus_before}
    res["loadavg_before"] = load_before
    res["warmup"] = {k: warm[k] for k in ("requests", "requests_per_s",
                                          "non_2xx", "errors", "checked",
                                          "bad_responses", "first_bad")}
    problems = []
    errs = sum(res["errors"].values()) + sum(warm["errors"].values())
    if errs:
        problems.append("%d socket errors/timeouts" % errs)
    if res["non_2xx"] or warm["non_2xx"]:
        problems.append("%d non-2xx" % (res["non_2xx"] + warm["non_2xx"]))
    if warm["bad_responses"]:
        problems.append("%d of %d warm-up responses failed the check: %s"
                        % (warm["bad_responses"], warm["checked"],
                           warm["first_bad"]))
    if check and warm["checked"] == 0:
        problems.append("warm-up checked no response")
    if res["requests"] == 0:
        problems.append("no requests completed")
    res["valid"] = not problems
    res["problems"] = problems
    res["generator_bound"] = res["wrk_cpu_share"] > GENERATOR_LIMIT
    # Other processes on the server's core (e.g. a compile) skew the
    # comparison: flag when they took more than 10% of it.
    res["server_core_other"] = None
    if server_pid and args.pin:
        res["server_core_other"] = round(max(
            0.0, res["cpu_busy"].get(str(args.server_cpu), 0) -
            res["server_cpu_share"]), 3)
    res["contended"] = (res["server_core_other"] or 0) > CONTENTION_LIMIT
    res["generator_starved"] = (res["wrk_runqueue_wait_share"] >
                                STARVED_LIMIT)
    res["stolen"] = None
    if args.pin:
        res["stolen"] = max(res["cpu_steal"].get(str(c), 0)
                            for c in (args.server_cpu, args.client_cpu))
    res["host_contended"] = (res["stolen"] or 0) > STEAL_LIMIT
    res["quotable"] = (res["valid"] and not res["generator_bound"]
                       and not res["contended"]
                       and not res["generator_starved"]
                       and not res["host_contended"])
    log("    %s %s: %.0f req/s p50 %.2f ms p99 %.2f ms, wrk CPU %.0f%% (waited %.0f%%)%s%s"
        % (label, op, res["requests_per_s"],
           res["latency_us"]["p50"] / 1000, res["latency_us"]["p99"] / 1000,
           100 * res["wrk_cpu_share"], 100 * res["wrk_runqueue_wait_share"],
           ", server CPU %.0f%%" % (100 * res["server_cpu_share"])
           if server_pid else "",
           "" if res["valid"] else "  INVALID: " + "; ".join(problems)))
    return res


def bench_target(target, args):
    server = Server(target, args)
    info = {"command": server.cmd, "versions": target_versions(target, args)}
    try:
        wait_ready("127.0.0.1", server.port, server.proc, args.start_timeout,
                   server.ssl_context)
        client = Client("127.0.0.1", server.port,
                        ssl_context=server.ssl_context)
        with_gsi = "query_gsi" in args.ops
        create_table(client, args.table, with_gsi)
        took = preload("127.0.0.1", server.port, args.table, args.partitions,
                       args.per_partition, args.seed,
                       ssl_context=server.ssl_context)
        info["item_size_bytes"] = spot_check(client, args.table,
                                             args.per_partition, with_gsi)
        client.close()
        info["preload_s"] = round(took, 2)
        log("  %s: pre-loaded %d items in %.1fs" % (
            target, args.partitions * args.per_partition, took))
        info["ops"] = measure(args, target, "%s://127.0.0.1:%d/" % (
            server.scheme, server.port), server.proc.pid)
    except Exception as e:  # noqa: BLE001  a target failing must not stop the rest
        info["failed"] = "%s: %s" % (type(e).__name__, e)
        info["server_log_tail"] = server.log_tail()
        log("  %s FAILED: %s\n%s" % (target, info["failed"],
                                     info["server_log_tail"]))
    finally:
        server.stop()
    return info


def bench_endpoint(args):
    parts = urllib.parse.urlsplit(args.endpoint)
    https = parts.scheme == "https"
    host, port = parts.hostname, parts.port or (443 if https else 80)
    info = {"endpoint": args.endpoint}
    # HTTPS: verified against AWS_CA_BUNDLE if set, else the system's CAs.
    context = (ssl.create_default_context(
        cafile=os.environ.get("AWS_CA_BUNDLE")) if https else None)
    client = Client(host, port, ssl_context=context)
    with_gsi = "query_gsi" in args.ops
    create_table(client, args.table, with_gsi)
    status, body = client.call("Query", {
        "TableName": args.table, "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "p%d" % (args.partitions -
                                                            1)}},
        "Select": "COUNT"})
    if status != 200 or body.get("Count") != args.per_partition:
        took = preload(host, port, args.table, args.partitions,
                       args.per_partition, args.seed, ssl_context=context)
        info["preload_s"] = round(took, 2)
    info["item_size_bytes"] = spot_check(client, args.table,
                                         args.per_partition, with_gsi)
    client.close()
    url = "%s://%s:%d/" % (parts.scheme, host, port)
    info["ops"] = measure(args, "endpoint", url, None)
    return info


# --------------------------------------------------------------------------
# Report.


def machine_info():
    model = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"nproc": os.cpu_count(), "cpu_model": model,
            "kernel": platform.release(), "python": platform.python_version(),
            "wrk": tool_version(["wrk", "-v"])}


def summarize(rounds, ops):
    """Median per target and op over the rounds; ratios against eddy."""
    summary = {}
    targets = []
    for rnd in rounds:
        for t in rnd:
            if t not in targets:
                targets.append(t)
    for t in targets:
        summary[t] = {}
        for op in ops:
            every = [rnd[t]["ops"][op] for rnd in rounds
                     if t in rnd and op in rnd[t].get("ops", {})]
            if not every:
                continue
            # Medians over the quotable rounds; over all of them only when
            # none is quotable (then flagged below).
            runs = [r for r in every if r["quotable"]] or every

            def med(f):
                return statistics.median(f(r) for r in runs)
            summary[t][op] = {
                "runs": len(every),
                "quotable_runs": sum(1 for r in every if r["quotable"]),
                "requests_per_s": round(med(lambda r: r["requests_per_s"]), 1),
                "p50_us": med(lambda r: r["latency_us"]["p50"]),
                "p99_us": med(lambda r: r["latency_us"]["p99"]),
                "wrk_cpu_share": med(lambda r: r["wrk_cpu_share"]),
                "server_cpu_share": med(lambda r: r.get("server_cpu_share",
                                                        0)),
                "all_valid": all(r["valid"] for r in runs),
                "any_generator_bound": any(r["generator_bound"] for r in runs),
                "any_contended": any(r.get("contended") or
                                     r.get("generator_starved") or
                                     r.get("host_contended") for r in runs),
            }
    ratios = {}
    if "eddy" in summary and "eddy-auth" in summary:
        for op in ops:
            e, a = summary["eddy"].get(op), summary["eddy-auth"].get(op)
            if e and a and e["requests_per_s"]:
                ratios.setdefault("eddy-auth/eddy", {})[op] = round(
                    a["requests_per_s"] / e["requests_per_s"], 3)
    # HTTPS against plain HTTP: Eddy with and without TLS, same run.
    if "eddy" in summary and "eddy-tls" in summary:
        for op in ops:
            e, t = summary["eddy"].get(op), summary["eddy-tls"].get(op)
            if e and t and e["requests_per_s"]:
                ratios.setdefault("eddy-tls/eddy", {})[op] = round(
                    t["requests_per_s"] / e["requests_per_s"], 3)
    if "eddy" in summary:
        for other in ("dynalite", "moto"):
            for op in ops:
                e = summary["eddy"].get(op)
                o = summary.get(other, {}).get(op)
                if e and o and o["requests_per_s"]:
                    ratios.setdefault("eddy/" + other, {})[op] = round(
                        e["requests_per_s"] / o["requests_per_s"], 1)
    # Query on the GSI against Query on the table, per target.
    index_ratios = {}
    for t, per_op in summary.items():
        q, g = per_op.get("query"), per_op.get("query_gsi")
        if q and g and q["requests_per_s"]:
            index_ratios[t] = round(g["requests_per_s"] / q["requests_per_s"],
                                    2)
    targets_met = {}
    if "eddy" in summary:
        for op in ops:
            e = summary["eddy"].get(op)
            if not e or op not in RATIO_TARGETS:
                continue
            r = ratios.get("eddy/dynalite", {}).get(op)
            o = summary.get("dynalite", {}).get(op)
            quotable = bool(e["quotable_runs"]) and bool(
                o is None or o["quotable_runs"])
            targets_met[op] = {
                "ratio_vs_dynalite": r,
                "ratio_target": RATIO_TARGETS[op],
                "ratio_met": (r is not None and r >= RATIO_TARGETS[op]
                              and quotable),
                "p99_us": e["p99_us"],
                "p99_met": e["p99_us"] < P99_TARGET_US and quotable,
                "quotable": quotable,
            }
    return {"medians": summary, "ratios": ratios, "targets": targets_met,
            "index_ratios": index_ratios}


def print_tables(args, rounds, summary, ops):
    lines = []
    lines.append("| round | target | op | req/s | p50 ms | p99 ms | wrk CPU "
                 "| server CPU | server core busy | status |")
    lines.append("|---|---|---|---:|---:|---:|---:|---:|---:|---|")
    for i, rnd in enumerate(rounds, 1):
        for t, info in rnd.items():
            if "failed" in info:
                lines.append("| %d | %s | - | - | - | - | - | - | - | FAILED: "
                             "%s |" % (i, t, info["failed"][:80]))
                continue
            for op in ops:
                r = info["ops"].get(op)
                if r is None:
                    continue
                status = "ok"
                if not r["valid"]:
                    status = "INVALID: " + "; ".join(r["problems"])[:80]
                elif r["generator_bound"]:
                    status = "wrk-bound, not quotable"
                elif r.get("generator_starved"):
                    status = ("wrk waited %.0f%% of the time for its core, "
                              "not quotable" % (
                                  100 * r["wrk_runqueue_wait_share"]))
                elif r.get("contended"):
                    status = "server core shared (%.0f%% other), not quotable" % (
                        100 * r["server_core_other"])
                elif r.get("host_contended"):
                    status = ("host stole %.0f%% of a core, not quotable" %
                              (100 * r["stolen"]))
                lines.append(
                    "| %d | %s | %s | %.0f | %.2f | %.2f | %.0f%% | %s | %s "
                    "| %s |" % (
                        i, t, OPS[op][0], r["requests_per_s"],
                        r["latency_us"]["p50"] / 1000,
                        r["latency_us"]["p99"] / 1000,
                        100 * r["wrk_cpu_share"],
                        "%.0f%%" % (100 * r["server_cpu_share"])
                        if "server_cpu_share" in r else "-",
                        "%.0f%%" % (100 * r["cpu_busy"].get(
                            str(args.server_cpu), 0)),
                        status))
    print("\n".join(lines))
    print()
    med = summary["medians"]
    if len(rounds) > 1:
        print("Medians over the quotable rounds (of %d):\n" % len(rounds))
        print("| target | op | rounds | req/s | p50 ms | p99 ms | wrk CPU "
              "| server CPU |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for t in med:
            for op in ops:
                m = med[t].get(op)
                if m:
                    print("| %s | %s | %s | %.0f | %.2f | %.2f | %.0f%% | %.0f%% |"
                          % (t, OPS[op][0], m["quotable_runs"] or
                             "0 (all shown)", m["requests_per_s"],
                             m["p50_us"] / 1000, m["p99_us"] / 1000,
                             100 * m["wrk_cpu_share"],
                             100 * m["server_cpu_share"]))
        print()
    if summary["ratios"]:
        print("| ratio | " + " | ".join(OPS[op][0] for op in ops) + " |")
        print("|---|" + "---:|" * len(ops))
        for name, r in summary["ratios"].items():
            print("| %s | %s |" % (name, " | ".join(
                ("%.3f×" if r[op] < 2 else "%.1f×") % r[op] if op in r else "-"
                for op in ops)))
        print()
    for op, r in summary["ratios"].get("eddy-tls/eddy", {}).items():
        quotable = all(summary["medians"][t][op]["quotable_runs"]
                       for t in ("eddy", "eddy-tls"))
        print("%s: HTTPS/HTTP %.2f× (target ≥ %g×: %s)%s" % (
            OPS[op][0], r, TLS_RATIO_TARGET,
            "met" if r >= TLS_RATIO_TARGET and quotable else "NOT met",
            "" if quotable else "  [no quotable round]"))
    for op, t in summary["targets"].items():
        print("%s: Eddy/dynalite %s (target ≥ %g×: %s), p99 %.2f ms "
              "(target < 2 ms: %s)%s" % (
                  OPS[op][0],
                  "%.1f×" % t["ratio_vs_dynalite"]
                  if t["ratio_vs_dynalite"] is not None else "n/a",
                  t["ratio_target"], "met" if t["ratio_met"] else "NOT met",
                  t["p99_us"] / 1000, "met" if t["p99_met"] else "NOT met",
                  "" if t["quotable"] else "  [no quotable round]"))
    for t, r in summary.get("index_ratios", {}).items():
        print("%s: Query IndexName / Query = %.2f×" % (t, r))


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--targets", default=",".join(ALL_TARGETS),
                   help="comma-separated: eddy,moto,dynalite,eddy-auth,"
                   "eddy-tls")
    p.add_argument("--endpoint", help="benchmark this running endpoint "
                   "instead of starting targets (e.g. http://127.0.0.1:8000)")
    p.add_argument("--ops", default=DEFAULT_OPS,
                   help="comma-separated: get,query,put,query_gsi,get_signed,"
                   "put_signed (run in this order; query_gsi adds the GSI %s "
                   "to the table)" % GSI_NAME)
    p.add_argument("--duration", type=int, default=10,
                   help="measured seconds per op")
    p.add_argument("--warmup", type=int, default=2,
                   help="warm-up seconds per op (responses validated)")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--timeout", type=int, default=10,
                   help="wrk request timeout, seconds")
    p.add_argument("--repeat", type=int, default=1,
                   help="rounds over all targets; medians are reported")
    p.add_argument("--partitions", type=int, default=1000)
    p.add_argument("--per-partition", type=int, default=10)
    p.add_argument("--table", default="bench")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--eddy-bin", default=os.path.join(REPO_DIR, "build",
                                                      "bin", "eddy"))
    p.add_argument("--label", help="free text stored in the results JSON "
                   "(e.g. which commit the Eddy binary was built from)")
    p.add_argument("--eddy-threads", type=int,
                   help="eddy --threads (default: 1 when pinned, else 0)")
    p.add_argument("--server-cpu", type=int, default=0)
    p.add_argument("--client-cpu", type=int, default=1)
    p.add_argument("--no-pin", dest="pin", action="store_false",
                   help="do not pin the server and wrk with taskset")
    p.add_argument("--nice", type=int, default=-10 if os.geteuid() == 0
                   else 0, help="run the server and wrk at this nice level "
                   "(default -10 as root: on a shared machine they then get "
                   "~90%% of their cores against a compile at nice 0)")
    p.add_argument("--start-timeout", type=float, default=60)
    p.add_argument("--quiet-wait", type=int, default=60,
                   help="before each op, wait up to this many seconds for "
                   "the machine to be idle (0: don't)")
    p.add_argument("--output", help="JSON path (default "
                   "bench/results/<date>.json)")
    p.add_argument("--report", metavar="RESULTS_JSON",
                   help="only print the tables of an earlier results file")
    args = p.parse_args()
    if args.report:
        with open(args.report) as f:
            saved = json.load(f)
        args.ops = saved["config"]["ops"]
        args.server_cpu = saved["config"]["server_cpu"]
        print_tables(args, saved["rounds"], summarize(saved["rounds"],
                                                      args.ops), args.ops)
        return 0
    args.ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    for op in args.ops:
        if op not in OPS:
            p.error("unknown op %s" % op)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    for t in targets:
        if t not in ALL_TARGETS + EXTRA_TARGETS:
            p.error("unknown target %s" % t)
    if shutil.which("wrk") is None:
        p.error("wrk not found: apt-get install wrk")
    if args.pin:
        if shutil.which("taskset") is None:
            p.error("taskset not found (util-linux); or use --no-pin")
        # The runner and its pre-loader stay off the server's core.
        os.sched_setaffinity(0, {args.client_cpu})

    started = datetime.datetime.now()
    log("load average %s, %d CPUs" % (loadavg(), os.cpu_count()))
    rounds = []
    for i in range(args.repeat):
        log("round %d/%d" % (i + 1, args.repeat))
        rnd = {}
        if args.endpoint:
            rnd["endpoint"] = bench_endpoint(args)
        else:
            for t in targets:
                log(" target %s" % t)
                rnd[t] = bench_target(t, args)
        rounds.append(rnd)

    summary = summarize(rounds, args.ops)
    print_tables(args, rounds, summary, args.ops)
    result = {
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.datetime.now().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "config": {k: v for k, v in vars(args).items()},
        "rounds": rounds,
        "summary": summary,
    }
    out = args.output or os.path.join(
        BENCH_DIR, "results", started.strftime("%Y-%m-%d-%H%M%S") + ".json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    log("wrote %s" % out)
    bad = any("failed" in info or any(not r["valid"] for r in
                                      info.get("ops", {}).values())
              for rnd in rounds for info in rnd.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
