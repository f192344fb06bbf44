"""The load and the bookkeeping of deploy/ha/failover-test (standard library only).

Four clients send to new recipients as fast as the API answers; after a warm-up the leader's
Patroni and PostgreSQL are SIGKILLed. Every answer is kept with its time. After the sends stop and
the queue drains, each accepted verification is looked up in the new primary and in the worker's
console output (the console provider prints every message it is given)."""

import base64, collections, json, os, re, subprocess, threading, time, urllib.error, urllib.request

URL, APPID, HA_DIR = os.environ["URL"], os.environ["APPID"], os.environ["HA_DIR"]
AUTH = "Basic " + base64.b64encode(f"{os.environ['KEY_ID']}:{os.environ['SECRET']}".encode()).decode()
WARM_UP, AFTER_KILL = 10, float(os.environ.get("SECONDS_AFTER_KILL", "40"))
NODES = {"pg1": 8008, "pg2": 8009}

answers = []  # (time, status, verification id or None, recipient)
lock, stop = threading.Lock(), threading.Event()
counter = iter(range(10**8))


def send():
    while not stop.is_set():
        with lock:
            recipient = "+55119%08d" % next(counter)
        body = json.dumps({"appid": APPID, "recipient": recipient}).encode()
        request = urllib.request.Request(URL + "/otp/send", data=body,
                                         headers={"Authorization": AUTH, "Content-Type": "application/json"})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                status, vid = answer.status, json.load(answer).get("verification_id")
        except urllib.error.HTTPError as error:
            status, vid = error.code, None
            if status == 503:
                time.sleep(0.2)  # as a client honouring Retry-After would, roughly
        except Exception:
            status, vid = "no answer", None
            time.sleep(0.2)
        with lock:
            answers.append((started, status, vid, recipient))


def is_leader(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/primary", timeout=1) as answer:
            return answer.status == 200
    except Exception:
        return False


def psql(sql):
    env = dict(os.environ, PGPASSWORD="postgres-local")
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", "6432", "-U", "postgres", "-d", "otp", "-qtAc", sql],
                          env=env, capture_output=True, text=True, timeout=30).stdout.split()


clients = [threading.Thread(target=send) for _ in range(4)]
for client in clients:
    client.start()
time.sleep(WARM_UP)

leader = next(name for name, port in NODES.items() if is_leader(port))
survivor = next(name for name in NODES if name != leader)
postmaster = open(f"{HA_DIR}/{leader}/data/postmaster.pid").readline().strip()
patroni = subprocess.run(["pgrep", "-f", f"patroni {HA_DIR}/{leader}/patroni.yml"],
                         capture_output=True, text=True).stdout.split()
killed_at = time.monotonic()
subprocess.run(["kill", "-9", postmaster] + patroni)
print(f"killed the leader {leader} (postmaster {postmaster}, patroni {' '.join(patroni)})", flush=True)

new_leader_at = None
while time.monotonic() - killed_at < AFTER_KILL:
    if new_leader_at is None and is_leader(NODES[survivor]):
        new_leader_at = time.monotonic()
    time.sleep(0.1)
stop.set()
for client in clients:
    client.join()

# The queue drains on the new primary.
drained = False
for _ in range(180):
    left = psql("SELECT count(*) FROM otp.deliveries d JOIN otp.verifications v ON v.id = d.verification_id "
                f"WHERE v.app_id = '{APPID}' AND d.state IN ('queued', 'sending')")
    if left == ["0"]:
        drained = True
        break
    time.sleep(1)

accepted = [(t, vid, r) for t, status, vid, r in answers if status == 202]
after_kill = [(t, status) for t, status, _, _ in answers if t >= killed_at]
first_accepted = min((t for t, status in after_kill if status == 202), default=None)
during = collections.Counter(str(status) for t, status in after_kill if first_accepted is None or t < first_accepted)
stored = set(psql(f"SELECT id FROM otp.verifications WHERE app_id = '{APPID}'"))
printed = collections.Counter(re.findall(r"\[console sms to (\+\d+)", open(os.environ["WORK_LOG"]).read()))
lost_rows = [vid for _, vid, _ in accepted if vid not in stored]
undelivered = [r for _, _, r in accepted if printed[r] == 0]
twice = [r for _, _, r in accepted if printed[r] > 1]
others = {s: n for s, n in collections.Counter(str(s) for _, s, _, _ in answers).items() if s not in ("202", "503")}

report = {
    "sends tried": len(answers), "accepted (202)": len(accepted),
    "answers after the kill, until sends were accepted again": dict(during),
    "answers other than 202 and 503 in the whole run": others,
    "seconds to a new leader": round(new_leader_at - killed_at, 1) if new_leader_at else None,
    "seconds until sends were accepted again": round(first_accepted - killed_at, 1) if first_accepted else None,
    "queue drained": drained,
    "accepted but missing from the new primary": len(lost_rows),
    "accepted but never delivered (lost)": len(undelivered),
    "delivered twice": len(twice),
}
print(json.dumps(report, indent=2))
raise SystemExit(0 if drained and not lost_rows and not undelivered and not others and new_leader_at else 1)
