#!/usr/bin/env python3
"""Scale-out benchmark (issue 14): `eddy runner` against Eddy's in-server
triggers, three runners against one, and failover time. One run, one
machine, so the ratios compare like with like.

1. In-server trigger: N records (default 100,000) are written while the
   trigger is disabled, then it is enabled and timed until `eddy trigger
   wait` returns (as bench/triggers.py): records/s to a no-op handler
   (bench/handlers/noop.cc), batch size 100, 6 shards (--shards).
2. One runner: the same N records in another table of the same server,
   then one `eddy runner` (the same no-op handler .so, batch size 100,
   --poll-interval 0) started and timed until its /metrics count all N.
   Target: >= 0.5x the in-server rate.
3. Three runners (one group) on a third table: timed until the three
   together count N. Target: >= 2x one runner once the work is split;
   the CPU each process used is measured, to say what a 2-core machine
   allows (see "model" in the output).
4. Failover: two runners with the `ok` test handler on a table written at
   a steady rate; the runner holding the most leases is SIGKILLed; the
   time from the kill to the first batch the other runner handles from
   each of its shards, as a multiple of the lease duration.

  python3 bench/scaleout.py [--records 100000] [--lease-duration 3]
      [--eddy build/bin/eddy] [--handlers build/lib]
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402
import triggers  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def children(pid):
    """Pids whose parent is `pid` (a runner's eddy-worker processes)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                out.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return out


class CpuMeter:
    """CPU seconds used by some processes (and their children) between
    start() and stop(); children that come and go in between are sampled
    while they live."""

    def __init__(self):
        self.seen = {}
        self.base = {}
        self.pids = []
        self._stop = threading.Event()

    def start(self, pids):
        self.pids = list(pids)
        for pid in self.pids:
            self.base[pid] = cpu_seconds(pid)
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while not self._stop.is_set():
            for pid in self.pids:
                for child in children(pid):
                    self.base.setdefault(child, 0.0)
                    self.seen[child] = cpu_seconds(child)
            self._stop.wait(0.05)

    def stop(self):
        self._stop.set()
        self.thread.join()
        for pid in self.pids:
            self.seen[pid] = cpu_seconds(pid)
            for child in children(pid):
                self.seen[child] = cpu_seconds(child)
        return {pid: self.seen.get(pid, 0.0) - base for pid, base in self.base.items()}


class Runner:
    def __init__(self, args, endpoint, table, group, handler, log_dir, name,
                 extra=()):
        self.port = bench.free_port()
        self.log_path = os.path.join(log_dir, f"runner-{name}.log")
        self.log = open(self.log_path, "wb")
        cmd = [args.eddy, "runner", "--endpoint", endpoint, "--table", table,
               "--group", group, "--handler", os.path.join(args.handlers, handler),
               "--metrics-port", str(self.port), *extra]
        if args.nice:
            cmd = ["nice", "-n", str(args.nice)] + cmd
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=environment())

    @property
    def pid(self):
        return self.proc.pid

    def metric(self, name):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics",
                                        timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return None
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def kill(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)
        self.log.close()


# The eddy CLI and the runners sign with the standard chain; an anonymous
# server accepts any identity.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIDBENCHSCALEOUT")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench-secret")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def environment():
    return dict(os.environ, TZ="UTC")


def timed_runners(args, endpoint, server_pid, table, group, count, log_dir):
    """Starts `count` runners on an already loaded table; returns (records/s
    from the moment they hold their first leases, those seconds, CPU seconds
    by process kind, seconds from the start of the processes). A runner's
    first lease round only looks (it waits a third of a lease duration to
    see the others' heartbeats), which the first figure leaves out."""
    meter = CpuMeter()
    start = time.monotonic()
    runners = [Runner(args, endpoint, table, group, "libbench_handler_noop.so", log_dir,
                      f"{group}-{i}", extra=("--batch-size", "100", "--poll-interval", "0",
                                             "--lease-duration", "3s"))
               for i in range(count)]
    meter.start([server_pid] + [r.pid for r in runners])
    leased = None
    try:
        deadline = start + 900
        while True:
            if leased is None and sum(r.metric("eddy_runner_leases_held") or 0
                                      for r in runners) > 0:
                leased = time.monotonic()
            handled = sum(r.metric("eddy_trigger_records_handled_total") or 0
                          for r in runners)
            if handled >= args.records:
                break
            for r in runners:
                if r.proc.poll() is not None:
                    raise RuntimeError(f"a runner exited: see {r.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"runners handled {handled} of {args.records}")
            time.sleep(0.02)
        done = time.monotonic()
        used = meter.stop()
    finally:
        for r in runners:
            r.kill()
    elapsed = done - (leased if leased is not None else start)
    cpu = {"server": used.pop(server_pid, 0.0),
           "runners": sum(used.get(r.pid, 0.0) for r in runners)}
    cpu["workers"] = sum(v for pid, v in used.items()
                         if pid not in {r.pid for r in runners})
    return args.records / elapsed, elapsed, cpu, done - start


def in_server(args, port, endpoint, server_pid):
    meter = CpuMeter()
    table = "bench-throughput"
    client = bench.Client("127.0.0.1", port)
    triggers.create_table(client, table)
    triggers.eddy(["trigger", "create", "--table", table, "--name", "tput",
                   "--handler", "libbench_handler_noop.so", "--batch-size", "100",
                   "--disabled"], args.eddy, endpoint)
    triggers.preload(port, table, args.records)
    meter.start([server_pid])
    start = time.monotonic()
    triggers.eddy(["trigger", "update", "tput", "--enable"], args.eddy, endpoint)
    triggers.eddy(["trigger", "wait", "--table", table, "--timeout", "900"], args.eddy,
                  endpoint)
    elapsed = time.monotonic() - start
    used = meter.stop()
    status = json.loads(triggers.eddy(["trigger", "status", "tput"], args.eddy,
                                      endpoint).stdout)
    if status["Metrics"]["RecordsHandled"] != args.records:
        raise RuntimeError(f"handled {status['Metrics']['RecordsHandled']}")
    cpu = {"server": used.pop(server_pid, 0.0), "workers": sum(used.values())}
    return args.records / elapsed, elapsed, cpu


def status(args, endpoint, group):
    r = subprocess.run([args.eddy, "runner", "status", "--group", group, "--endpoint",
                        endpoint, "--json"], capture_output=True, text=True,
                       env=environment())
    return json.loads(r.stdout) if r.returncode == 0 else None


def failover(args, port, endpoint, log_dir):
    """Seconds from SIGKILL to the first batch the survivor handles from each
    of the dead runner's shards."""
    table = "bench-failover"
    client = bench.Client("127.0.0.1", port)
    triggers.create_table(client, table)
    duration = f"{args.lease_duration}s"
    runners = [Runner(args, endpoint, table, "failover", "libtest_handler_ok.so", log_dir,
                      f"failover-{i}", extra=("--lease-duration", duration,
                                              "--poll-interval", "50ms"))
               for i in range(2)]
    stop = threading.Event()

    def write():
        writer = bench.Client("127.0.0.1", port)
        i = 0
        while not stop.is_set():
            writer.call("PutItem", {"TableName": table,
                                    "Item": {"p": {"S": f"f{i % 64:03d}"},
                                             "n": {"N": str(i)}}})
            i += 1
            time.sleep(0.004)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    try:
        owners = {}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            s = status(args, endpoint, "failover")
            if s:
                owners = {x["ShardId"]: x["Owner"] for x in s["Shards"]}
                ids = {r["Id"]: r["Metrics"] for r in s["Runners"]}
                if len(ids) == 2 and owners and all(owners.values()) and \
                        len(set(owners.values())) == 2:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("the two runners never shared the shards")
        time.sleep(2)  # Steady state: both delivering.
        by_port = {m.rsplit(":", 1)[1]: rid for rid, m in ids.items()}
        victim = max(runners, key=lambda r: sum(
            1 for o in owners.values() if o == by_port.get(str(r.port))))
        survivor = runners[1 - runners.index(victim)]
        victim_id = by_port[str(victim.port)]
        shards = [s for s, o in owners.items() if o == victim_id]
        killed = time.time()
        victim.kill(signal.SIGKILL)
        first = {}
        deadline = time.monotonic() + 30 * args.lease_duration
        while len(first) < len(shards) and time.monotonic() < deadline:
            with open(survivor.log_path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    at = line.find("] batch shardId-")
                    if at < 0:
                        continue
                    shard = line[at + 8:].split(" ")[0]
                    stamp = datetime.datetime.strptime(
                        line[:23], "%Y-%m-%dT%H:%M:%S.%f").replace(
                            tzinfo=datetime.timezone.utc).timestamp()
                    if shard in shards and stamp >= killed and shard not in first:
                        first[shard] = stamp - killed
            time.sleep(0.05)
        if len(first) < len(shards):
            raise RuntimeError(f"shards never taken over: {set(shards) - set(first)}")
    finally:
        stop.set()
        thread.join()
        for r in runners:
            r.kill()
    return max(first.values()), sorted(first.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--eddy", default=os.path.join(REPO, "build", "bin", "eddy"))
    parser.add_argument("--handlers", default=os.path.join(REPO, "build", "lib"),
                        help="where the bench and test handlers are built")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--shards", type=int, default=6,
                        help="the server's --stream-shards: 6 gives each of three "
                        "runners two shards")
    parser.add_argument("--lease-duration", type=int, default=3,
                        help="the failover runners' --lease-duration, seconds")
    parser.add_argument("--nice", type=int, default=-10 if os.geteuid() == 0 else 0)
    parser.add_argument("--output")
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    tmp = tempfile.mkdtemp(prefix="eddy-bench-scaleout-")
    port = bench.free_port()
    endpoint = f"http://127.0.0.1:{port}"
    cores = os.cpu_count()
    with open(os.path.join(tmp, "eddy.log"), "wb") as log:
        cmd = [args.eddy, "serve", "--data", os.path.join(tmp, "data"), "--port",
               str(port), "--handler-dir", args.handlers, "--stream-shards",
               str(args.shards)]
        if args.nice:
            cmd = ["nice", "-n", str(args.nice)] + cmd
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                  env=environment())
        try:
            bench.wait_ready("127.0.0.1", port, server, 10)
            loadavg = bench.loadavg()
            rate_in, t_in, cpu_in = in_server(args, port, endpoint, server.pid)
            print(f"in-server trigger: {args.records} records in {t_in:.2f} s = "
                  f"{rate_in:,.0f} records/s (CPU s: {cpu_in})", flush=True)
            client = bench.Client("127.0.0.1", port)
            results = {}
            for count in (1, 3):
                table = f"bench-runners-{count}"
                triggers.create_table(client, table)
                triggers.preload(port, table, args.records)
                rate, elapsed, cpu, total = timed_runners(
                    args, endpoint, server.pid, table, f"bench{count}", count, tmp)
                results[count] = (rate, elapsed, cpu)
                print(f"{count} runner(s): {args.records} records in {elapsed:.2f} s = "
                      f"{rate:,.0f} records/s once leased ({total:.2f} s from the "
                      f"processes' start; CPU s: {cpu})", flush=True)
            worst, each = failover(args, port, endpoint, tmp)
        finally:
            server.terminate()
            server.wait(timeout=60)
    shutil.rmtree(tmp, ignore_errors=True)
    rate1, t1, cpu1 = results[1]
    rate3, t3, cpu3 = results[3]
    cpu_per_record_1 = sum(cpu1.values()) / args.records
    cpu_per_record_3 = sum(cpu3.values()) / args.records
    cores_used_1 = sum(cpu1.values()) / t1
    print()
    print(f"one runner / in-server: {rate1 / rate_in:.2f}x (target >= 0.5x)")
    print(f"three runners / one runner: {rate3 / rate1:.2f}x (target >= 2x)")
    print(f"model: one runner's pipeline (server GetRecords + runner + workers) "
          f"costs {cpu_per_record_1 * 1e6:.1f} CPU us per record and kept "
          f"{cores_used_1:.2f} of {cores} cores busy; three runners cost "
          f"{cpu_per_record_3 * 1e6:.1f} us per record. On {cores} cores the "
          f"pipeline is bounded by {cores / cpu_per_record_3:,.0f} records/s "
          f"whatever the number of runners, i.e. "
          f"{cores / cpu_per_record_3 / rate1:.2f}x one runner; with a core per "
          f"runner and the endpoint on its own machines, N runners would do "
          f"N x {rate1:,.0f} records/s until the endpoint saturates")
    print(f"failover: {worst:.2f} s from SIGKILL to the first batch of every shard "
          f"on the other runner = {worst / args.lease_duration:.2f}x the "
          f"{args.lease_duration} s lease duration (each shard: "
          f"{', '.join(f'{x:.2f}' for x in each)} s)")
    output = args.output or os.path.join(
        REPO, "bench", "results", f"scaleout-{started.strftime('%Y-%m-%d-%H%M%S')}.json")
    with open(output, "w", encoding="utf-8") as f:
        json.dump({"started": started.isoformat(timespec="seconds"),
                   "machine": bench.machine_info(), "config": vars(args),
                   "loadavg_before": loadavg,
                   "in_server": {"records_per_s": round(rate_in), "elapsed_s": t_in,
                                 "cpu_s": cpu_in},
                   "one_runner": {"records_per_s": round(rate1), "elapsed_s": t1,
                                  "cpu_s": cpu1},
                   "three_runners": {"records_per_s": round(rate3), "elapsed_s": t3,
                                     "cpu_s": cpu3},
                   "ratios": {"runner_vs_in_server": rate1 / rate_in,
                              "three_vs_one": rate3 / rate1},
                   "failover": {"lease_duration_s": args.lease_duration,
                                "worst_s": worst, "per_shard_s": each,
                                "multiple_of_lease": worst / args.lease_duration}},
                  f, indent=1)
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
