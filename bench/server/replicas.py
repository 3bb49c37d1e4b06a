"""Replicas on PostgreSQL beside SQLite, in one run on one machine (driven by
bench/server/replicas.sh; issue 12, item 7).

Three deployments, each on a fresh database, started by this script:
  sqlite  one `rolewright serve` on its SQLite data directory (the default; the anchor),
  pg1     one replica on PostgreSQL,
  pg2     two replicas sharing one PostgreSQL database, the load spread over both.
The PostgreSQL cluster is a throwaway one on a loopback port (tests/e2e/pgcluster.py), with
`fsync` ON unless FSYNC=off: "durable" means on disk, as on SQLite (`synchronous=FULL`).

Each round runs, per deployment: rolewright-loadgen `get-role` (signed, authorized iam:GetRole
reads) and `create-role-put-policy` (durable CreateRole + PutRolePolicy pairs). Then, on pg2, the
replication delay: a role created through replica A, read back through replica B at once,
`--delay-samples` times: the time from A's acknowledgement until B's first successful answer,
and how many were there at B's first read.

Prints a table of medians over the rounds (throughput, p50 and p99 latency), the ratios to
SQLite, and the delay's median and p99; FORMAT=json prints JSON lines instead.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "e2e"))
import pgcluster  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

REGION = "us-east-1"


class Serve:
    """One `rolewright serve` process."""

    def __init__(self, binary, data_dir, extra=()):
        os.makedirs(data_dir, mode=0o700, exist_ok=True)
        self.data_dir = data_dir
        self.err = open(os.path.join(data_dir, "serve.err"), "wb")
        self.proc = subprocess.Popen(
            [binary, "serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0",
             "--max-roles", "100000000", *extra],
            stdout=subprocess.PIPE, stderr=self.err, stdin=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("listening on http://"):
            self.stop()
            raise SystemExit(f"error: rolewright serve did not start: {line!r}; see "
                             f"{data_dir}/serve.err")
        self.url = line.split(" ", 2)[2].rstrip("/")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.err.close()


def wait_for(path, seconds=10):
    deadline = time.time() + seconds
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.05)
    if not os.path.exists(path):
        raise SystemExit(f"error: {path} was not written")


def loadgen(args, urls, credentials, workload, seconds, setup=False):
    command = [args.loadgen, "--url", urls[0], "--credentials", credentials,
               "--profile", "rolewright", "--workload", workload, "--format", "json",
               "--concurrency", str(args.concurrency), "--allow-errors"]
    for url in urls[1:]:
        command += ["--also-url", url]
    if setup:
        command += ["--setup", "--requests", "1", "--duration", "5"]
    else:
        command += ["--duration", str(seconds), "--warmup", "1"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0:
        raise SystemExit(f"error: {' '.join(command)} exited {done.returncode}: {done.stderr}")
    return json.loads(done.stdout)


class Deployment:
    def __init__(self, name, servers, credentials):
        self.name = name
        self.servers = servers
        self.credentials = credentials

    @property
    def urls(self):
        return [s.url for s in self.servers]

    def stop(self):
        for s in self.servers:
            s.stop()


def start(args, work, cluster, key_file, name):
    if name == "sqlite":
        server = Serve(args.binary, os.path.join(work, name))
        deployment = Deployment(name, [server], os.path.join(server.data_dir, "credentials"))
    else:
        url = cluster.create_database(name)
        shared = ["--database-url", url, "--master-key-file", key_file]
        first = Serve(args.binary, os.path.join(work, name + "-a"), shared)
        wait_for(os.path.join(first.data_dir, "credentials"))
        servers = [first]
        if name == "pg2":
            servers.append(Serve(args.binary, os.path.join(work, name + "-b"), shared))
        deployment = Deployment(name, servers, os.path.join(first.data_dir, "credentials"))
    wait_for(deployment.credentials)
    loadgen(args, deployment.urls[:1], deployment.credentials, "get-role", 5, setup=True)
    return deployment


def replication_delay(args, deployment):
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = deployment.credentials
    session = boto3.Session(profile_name="rolewright", region_name=REGION)
    config = Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=30)
    a, b = (session.client("iam", endpoint_url=u, config=config) for u in deployment.urls)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole"}]})
    b.get_role(RoleName="rolewright-loadgen")  # connections warm
    delays, first_try = [], 0
    stamp = time.time_ns()
    for i in range(args.delay_samples):
        name = f"delay-{stamp}-{i}"
        a.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        acked = time.perf_counter()
        tries = 0
        while True:
            tries += 1
            try:
                b.get_role(RoleName=name)
                break
            except b.exceptions.NoSuchEntityException:
                if time.perf_counter() - acked > 10:
                    raise SystemExit(f"error: {name} was not visible on replica B after 10 s")
        delays.append((time.perf_counter() - acked) * 1000)
        first_try += tries == 1
    return delays, first_try


def median(values):
    return statistics.median(values) if values else float("nan")


def p99(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--loadgen", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--delay-samples", type=int, default=200)
    parser.add_argument("--fsync", choices=["on", "off"], default="on")
    parser.add_argument("--cluster-jit", choices=["on", "off"], default="on",
                        help="the cluster's own jit setting (rolewright turns it off for its "
                             "sessions since 2026-12-04; off here measures older builds "
                             "without it)")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="rolewright-bench-replicas-")
    cluster = pgcluster.Cluster()
    deployments = []
    try:
        cluster.run("pg_ctl", "-D", cluster.data, "-w", "stop", check=False)
        cluster.start = _starter(cluster, args.fsync, args.cluster_jit)
        cluster.start()
        key_file = os.path.join(work, "shared.key")
        with open(key_file, "w") as f:
            f.write(subprocess.run([args.binary, "admin", "new-master-key"], check=True,
                                   capture_output=True, text=True).stdout)
        os.chmod(key_file, 0o600)
        for name in ("sqlite", "pg1", "pg2"):
            deployments.append(start(args, work, cluster, key_file, name))
        results = {(d.name, w): [] for d in deployments
                   for w in ("get-role", "create-role-put-policy")}
        for _ in range(args.rounds):
            for d in deployments:
                for workload in ("get-role", "create-role-put-policy"):
                    results[(d.name, workload)].append(
                        loadgen(args, d.urls, d.credentials, workload, args.seconds))
        delays, first_try = replication_delay(args, deployments[-1])
    finally:
        for d in deployments:
            d.stop()
        cluster.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    report(args, results, delays, first_try)


def _starter(cluster, fsync, jit):
    def start():
        options = (f"-c listen_addresses=127.0.0.1 -c port={cluster.port} "
                   f"-c unix_socket_directories={cluster.dir} -c fsync={fsync} "
                   f"-c jit={jit} -c max_connections=200")
        cluster.run("pg_ctl", "-D", cluster.data, "-l", os.path.join(cluster.dir, "log"),
                    "-o", options, "-w", "-t", "30", "start")
    return start


def report(args, results, delays, first_try):
    rows = []
    for (name, workload), runs in results.items():
        rate = [r["operationsPerSecond"] for r in runs]
        rows.append({
            "deployment": name, "workload": workload,
            "opsPerSecond": median(rate), "runs": rate,
            "p50Ms": median([r["latencyMicros"]["p50"] / 1000 for r in runs]),
            "p99Ms": median([r["latencyMicros"]["p99"] / 1000 for r in runs]),
            "errors": sum(r["errors"] for r in runs),
        })
    base = {r["workload"]: r["opsPerSecond"] for r in rows if r["deployment"] == "sqlite"}
    for r in rows:
        r["ratioToSqlite"] = r["opsPerSecond"] / base[r["workload"]]
    delay = {"medianMs": median(delays), "p99Ms": p99(delays), "maxMs": max(delays),
             "samples": len(delays), "visibleAtFirstRead": first_try}
    if args.format == "json":
        for r in rows:
            print(json.dumps(r))
        print(json.dumps({"replicationDelay": delay}))
        return
    print(f"PostgreSQL fsync={args.fsync}, cluster jit={args.cluster_jit}; {args.rounds} rounds of {args.seconds:g} s, "
          f"concurrency {args.concurrency}; medians over the rounds")
    print(f"{'deployment':<8} {'workload':<24} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'x sqlite':>9}  errors  rounds")
    for r in rows:
        runs = " · ".join(f"{x:,.0f}" for x in r["runs"])
        print(f"{r['deployment']:<8} {r['workload']:<24} {r['opsPerSecond']:>9,.0f} "
              f"{r['p50Ms']:>8.2f} {r['p99Ms']:>8.2f} {r['ratioToSqlite']:>9.2f}  "
              f"{r['errors']:>6}  {runs}")
    print(f"replication delay (pg2, A's acknowledgement to B's first successful GetRole, "
          f"{delay['samples']} roles): median {delay['medianMs']:.2f} ms, p99 "
          f"{delay['p99Ms']:.2f} ms, max {delay['maxMs']:.2f} ms; visible at B's first read: "
          f"{first_try}/{delay['samples']}")


if __name__ == "__main__":
    main()
