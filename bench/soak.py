#!/usr/bin/env python3
"""bench/soak's driver: two `otp serve` and two `otp work` on the Patroni cluster of deploy/ha
(each node in a network namespace), open-loop traffic, a schedule of faults, then invariants
checked from the database and the fakes' records, printed as a table. Exits 1 when one breaks.

    python3 bench/soak.py --minutes 5           # bench/soak starts the cluster and calls this
    python3 bench/soak.py client URL FILE ...   # (internal) sends from inside a namespace
"""

import argparse, json, os, random, signal, socket, subprocess, sys, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from soak_parts import HA_DIR, OTP, Client, Cluster, Process, Vendor, psql  # noqa: E402

LEASE = 10  # seconds: a paused worker's lease runs out while it is frozen
DEADLINE = 5  # a request's deadline in otp serve
RECIPIENT_LIMIT = 3  # recipient_10m: sends to one number per 10-minute window


def recipient(n):
    return "+55119%08d" % n


class Load:
    """Open-loop traffic: every `interval` seconds per thread, whatever the answers: a send (to a
    number of a small pool, which the recipient limit guards, or a new one), then the app's other
    calls on it: status, a wrong code, the right code (as the vendor got it), a resend, a list."""

    def __init__(self, client, vendor, threads, rate, first_number):
        self.client, self.vendor, self.rate = client, vendor, rate
        self.records = []  # dicts: kind, time, status, latency, vid, recipient
        self.lock, self.stopped = threading.Lock(), threading.Event()
        self.numbers = iter(range(first_number, first_number + 10**7))
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def record(self, kind, status, latency, vid=None, number=None, body=None, **extra):
        if body and "no_answer" in body:
            extra["error"] = body["no_answer"]
        with self.lock:
            self.records.append(dict(kind=kind, time=time.time() - latency, status=status, latency=latency, vid=vid,
                                     recipient=number, **extra))

    def run(self):
        interval = len(self.threads) / self.rate
        next_at = time.monotonic()
        while not self.stopped.is_set():
            next_at += interval
            try:
                self.one()
            except Exception as error:  # a client-side slip must not end the load
                self.record("client_error", str(error), 0)
            time.sleep(max(0, next_at - time.monotonic()))

    def one(self):
        client = self.client
        pooled = random.random() < 0.2
        with self.lock:
            number = recipient(random.randrange(20)) if pooled else recipient(next(self.numbers))
        status, body, latency = client.call("POST", "/otp/send", {"appid": client.appid, "recipient": number})
        vid = body.get("verification_id") if status == 202 else None
        self.record("send", status, latency, vid, number, body, limit=body.get("error", {}).get("limit"))
        if vid is None:
            return
        if random.random() < 0.3:
            status, body, latency = client.call("GET", f"/otp/status?appid={client.appid}&verification_id={vid}")
            self.record("status", status, latency, vid, number, body)
        if random.random() < 0.2:
            status, body, latency = client.call("POST", "/otp/verify", {
                "appid": client.appid, "verification_id": vid, "otp_code": "000000"})
            self.record("verify_wrong", status, latency, vid, number, body, verified=body.get("verified"))
        if random.random() < 0.1 and not pooled:
            status, body, latency = client.call("POST", "/otp/resend", {"appid": client.appid, "verification_id": vid})
            self.record("resend", status, latency, vid, number, body)
        if random.random() < 0.7:
            code = None
            for _ in range(30):  # the code as the user reads it off the phone
                code = self.vendor.code(vid)
                if code or self.stopped.is_set():
                    break
                time.sleep(0.1)
            if code:
                for _ in range(2 if random.random() < 0.1 else 1):  # some users press twice
                    status, body, latency = client.call("POST", "/otp/verify", {
                        "appid": client.appid, "verification_id": vid, "otp_code": code})
                    self.record("verify_right", status, latency, vid, number, body, verified=body.get("verified"))
        if random.random() < 0.05:
            status, body, latency = client.call("GET", f"/otp/list?appid={client.appid}&limit=20")
            self.record("list", status, latency, body=body)

    def stop(self):
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout=60)


def namespace_client(arguments):
    """Inside pg1's namespace, against the `otp serve` that lives there: sends only, one line of
    JSON per answer, until SIGTERM."""
    client = Client(arguments.url, arguments.appid, arguments.key_id, arguments.secret)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    with open(arguments.out, "a") as out:
        n = 0
        while not stopped.is_set():
            number = recipient(arguments.first + n)
            n += 1
            started = time.time()
            status, body, latency = client.call("POST", "/otp/send", {"appid": arguments.appid, "recipient": number})
            out.write(json.dumps(dict(kind="send", time=started, status=status, latency=latency, recipient=number,
                                      vid=body.get("verification_id") if status == 202 else None,
                                      server="serve2", error=body.get("no_answer"))) + "\n")
            out.flush()
            time.sleep(0.2)


class Faults:
    """The schedule: one fault after another, a quiet spell between them, recorded with the sends
    started while each lasted."""

    def __init__(self, soak):
        self.soak, self.log = soak, []

    def run(self, until):
        kinds = [self.provider_errors, self.worker_kill, self.provider_hang, self.connection_kill,
                 self.worker_pause, self.leader_kill, self.partition]
        n = 0
        while time.monotonic() < until - 40:
            fault = kinds[n % len(kinds)]
            n += 1
            started = time.time()
            details = fault() or {}
            self.log.append(dict(fault=fault.__name__, started=started, ended=time.time(), **details))
            print(f"fault {fault.__name__}: {json.dumps(details)}", flush=True)
            time.sleep(8)

    def provider_errors(self):
        self.soak.vendor.mode = "errors"
        time.sleep(20)
        self.soak.vendor.mode = "normal"

    def provider_hang(self):
        self.soak.vendor.mode = "hang"
        time.sleep(15)
        self.soak.vendor.mode = "normal"

    def worker_kill(self):
        worker = self.soak.workers[0]
        worker.signal(signal.SIGKILL)
        worker.process.wait()
        time.sleep(2)
        worker.start()

    def worker_pause(self):
        """Frozen past its lease, then thawed: what it was sending was claimed by the other worker,
        and its late outcome must not be recorded over the new owner's."""
        worker = self.soak.workers[1]
        worker.signal(signal.SIGSTOP)
        time.sleep(LEASE + 5)
        worker.signal(signal.SIGCONT)

    def connection_kill(self):
        killed = psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'otp'")
        return {"connections killed": int(killed[0][0])}

    def leader_kill(self):
        cluster = self.soak.cluster
        leader = cluster.leader()
        killed_at = time.monotonic()
        cluster.kill(leader)
        new_leader = None
        while time.monotonic() - killed_at < 60 and new_leader is None:
            new_leader = next((n for n in cluster.NODES if n != leader and cluster.rest(n, "/primary") == "200"),
                              None)
            time.sleep(0.2)
        took = round(time.monotonic() - killed_at, 1)
        cluster.start(leader)
        rejoined = cluster.wait_healthy(120)
        return {"killed": leader, "seconds to a new leader": took if new_leader else None, "rejoined": rejoined}

    def partition(self):
        """pg1 (with serve2 beside it) cut off from etcd, pg2, HAProxy and everything else, while
        running; healed after 30 s."""
        cluster = self.soak.cluster
        cluster.switchover("pg1")
        for _ in range(60):
            if cluster.leader() == "pg1" and cluster.healthy():
                break
            time.sleep(1)
        cut_at = time.monotonic()
        cluster.link("pg1", False)
        demoted = promoted = None
        while time.monotonic() - cut_at < 30:
            if demoted is None and cluster.rest("pg1", "/primary", inside=True) != "200":
                demoted = round(time.monotonic() - cut_at, 1)
            if promoted is None and cluster.rest("pg2", "/primary") == "200":
                promoted = round(time.monotonic() - cut_at, 1)
            time.sleep(0.2)
        cluster.link("pg1", True)
        rejoined = cluster.wait_healthy(120)
        return {"old leader demoted after s": demoted, "new leader after s": promoted, "rejoined": rejoined,
                "cut": [time.time() - (time.monotonic() - cut_at), time.time() - (time.monotonic() - cut_at) + 30]}


class Soak:
    def __init__(self, minutes, rate):
        self.minutes, self.rate = minutes, rate
        self.cluster = Cluster()
        self.vendor = Vendor()
        self.environment = self.base_environment()
        self.limit, self.otp_path = RECIPIENT_LIMIT, OTP
        # `otp audit seal` is the schema owner's job (the crontab's).
        self.owner_environment = dict(self.environment, DATABASE_URL=self.environment["OTP_MIGRATE_DATABASE_URL"])
        self.appid, self.key_id, self.secret = self.make_app()

    def base_environment(self):
        environment = dict(os.environ)
        for line in open(os.path.join(HA_DIR, "env")):
            name, _, value = line.strip().partition("=")
            environment[name] = value
        environment.pop("DATABASE_READ_URL", None)
        environment.update(
            OTP_SECRET_KEY=os.environ.get("OTP_SECRET_KEY") or subprocess.run(
                ["sh", "-c", "head -c32 /dev/urandom | base64"], capture_output=True, text=True).stdout.strip(),
            OTP_SMS_PROVIDERS="webhook", OTP_WHATSAPP_PROVIDERS="webhook",
            OTP_WEBHOOK_URL=f"http://127.0.0.1:{self.vendor.port}/message", OTP_WEBHOOK_SECRET="whsec_c29haw==",
            OTP_WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8", OTP_LOG_LEVEL="warning")
        return environment

    def otp(self, *arguments):
        result = subprocess.run([OTP] + list(arguments), env=self.environment, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"otp {' '.join(arguments)}: {result.stderr.strip()}")
        return result.stdout

    def make_app(self):
        limits = []
        for rule in ["recipient_1h", "recipient_1d", "ip_5m", "app_1h", "country_1h", "prefix_1h", "verify_ip_5m",
                     "verify_failures_1d"]:
            limits += ["--rate-limit", f"{rule}=0"]
        app = json.loads(self.otp("apps", "create", "--name", "Soak", "--account", "soak", "--json",
                                  "--rate-limit", f"recipient_10m={RECIPIENT_LIMIT}", "--fraud-guard", "off",
                                  "--ttl", "120", "--resend-cooldown", "0", *limits))
        appid = app["appid"]
        self.otp("apps", "update", appid, "--webhook-url", f"http://127.0.0.1:{self.vendor.port}/hook")
        key = json.loads(self.otp("keys", "create", "--app", appid, "--json"))
        return appid, key["key_id"], key["secret"]

    def free_port(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def start_processes(self):
        port1, port2 = self.free_port(), self.free_port()
        serve1 = dict(self.environment, OTP_HTTP_ADDRESS=f"127.0.0.1:{port1}")
        # serve2 lives beside pg1 and talks to it directly: the client on the old leader's side.
        pg1 = self.environment["HA_PG1"]
        serve2 = dict(self.environment, OTP_HTTP_ADDRESS=f"10.77.0.11:{port2}",
                      DATABASE_URL=f"postgres://otp:otp-local@{pg1}/otp?sslmode=disable")
        self.serves = [Process("serve1", ["serve"], serve1), Process("serve2", ["serve"], serve2, "otp-pg1")]
        self.workers = [Process(f"work{n}", ["work", "--concurrency", "32", "--lease", str(LEASE)], self.environment)
                        for n in (1, 2)]
        self.urls = [f"http://127.0.0.1:{port1}", f"http://10.77.0.11:{port2}"]
        for url in self.urls:
            for _ in range(120):
                if Client(url, "", "", "").call("GET", "/readyz", timeout=2)[0] == 200:
                    break
                time.sleep(0.5)

    def resources(self):
        connections = psql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'otp'")[0][0]
        return {"rss_kb": {p.name: p.rss_kb() for p in self.serves + self.workers}, "connections": int(connections)}

    def run(self):
        self.start_processes()
        client = Client(self.urls[0], self.appid, self.key_id, self.secret)
        self.load = Load(client, self.vendor, threads=8, rate=self.rate, first_number=1000)
        inside_out = os.path.join(HA_DIR, "soak-serve2-answers.jsonl")
        inside = subprocess.Popen(["ip", "netns", "exec", "otp-pg1", sys.executable, os.path.abspath(__file__),
                                   "client", self.urls[1], inside_out, self.appid, self.key_id, self.secret,
                                   "--first", str(50_000_000)])
        started = time.monotonic()
        until = started + self.minutes * 60
        time.sleep(min(30, self.minutes * 6))  # warm-up
        self.warm = self.resources()
        faults = Faults(self)
        sealing = threading.Thread(target=self.seal_every_minute, args=(until,), daemon=True)
        sealing.start()
        faults.run(until)
        while time.monotonic() < until:
            time.sleep(1)
        sealing.join(timeout=120)
        self.end = self.resources()
        self.load.stop()
        inside.terminate()
        inside.wait(timeout=60)
        self.inside = [json.loads(line) for line in open(inside_out)]
        self.faults = faults.log
        drained = self.drain()
        self.alive = {p.name: p.alive() for p in self.serves + self.workers}
        self.ready = {url: Client(url, "", "", "").call("GET", "/readyz", timeout=3)[0] for url in self.urls}
        self.exits = {p.name: p.stop() for p in self.serves + self.workers}
        return self.judge(drained)

    def seal_every_minute(self, until):
        """`otp audit seal` every minute, as the crontab runs it, through the faults: a run that
        fails (no leader) leaves its rows to the next, as cron would."""
        self.seals = {"runs": 0, "failed": 0, "sealed": 0}
        while time.monotonic() < until:
            time.sleep(60)
            self.seals["runs"] += 1
            try:
                run = subprocess.run([self.otp_path, "audit", "seal", "--json"], env=self.owner_environment,
                                     capture_output=True, text=True, timeout=55)
                if run.returncode != 0:
                    raise RuntimeError(run.stderr)
                self.seals["sealed"] += json.loads(run.stdout.strip().splitlines()[-1]).get("sealed", 0)
            except (subprocess.TimeoutExpired, RuntimeError, ValueError, IndexError):
                self.seals["failed"] += 1

    def drain(self, seconds=240):
        """Until no delivery and no status webhook of the app waits (expiry ends the undeliverable),
        but the status webhooks the app's retry schedule holds back (5 min after a second failure,
        then 30 min: Standard Webhooks' schedule), and the ones queued behind them."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                waiting, now = psql(f"""
                    SELECT (SELECT count(*) FROM otp.deliveries WHERE app_id = '{self.appid}'
                            AND state IN ('queued', 'sending'))
                         + (SELECT count(*) FROM otp.webhook_events q WHERE app_id = '{self.appid}'
                            AND state IN ('queued', 'sending') AND NOT EXISTS (
                                SELECT 1 FROM otp.webhook_events p WHERE p.verification_id = q.verification_id
                                AND p.id <= q.id AND p.state = 'queued' AND p.attempts > 0
                                AND p.run_at > now())), extract(epoch FROM now())""")[0]
                if waiting == "0":
                    # The judge counts as held back what was not due yet at this moment: the workers
                    # stop next, and an event due after it is one the drain chose not to wait for.
                    self.drained_at = float(now)
                    return True
            except RuntimeError:
                pass
            time.sleep(2)
        return False

    def judge(self, drained):
        from soak_judge import judge
        return judge(self, drained)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    client = sub.add_parser("client")
    for name in ("url", "out", "appid", "key_id", "secret"):
        client.add_argument(name)
    client.add_argument("--first", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--rate", type=float, default=20, help="sends a second through serve1")
    parser.add_argument("--report", default=None, help="write the table as JSON here too")
    arguments = parser.parse_args()
    if arguments.command == "client":
        namespace_client(arguments)
        return
    soak = Soak(arguments.minutes, arguments.rate)
    try:
        held, table = soak.run()
    finally:
        for process in getattr(soak, "serves", []) + getattr(soak, "workers", []):
            process.stop()
    if arguments.report:
        with open(arguments.report, "w") as out:
            json.dump(table, out, indent=2, default=str)
    sys.exit(0 if held else 1)


if __name__ == "__main__":
    main()
