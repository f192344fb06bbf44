"""The moving parts of bench/soak (standard library only): the fake vendor and app webhook
receiver, the otp processes, the cluster's nodes, and the clients."""

import base64, json, os, random, signal, subprocess, threading, time, urllib.error, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HA_DIR = os.environ.get("HA_DIR", "/tmp/otp-soak")
OTP = os.environ["OTP"]
PGPASSWORD = "postgres-local"


class Vendor:
    """The webhook provider's endpoint (`POST /message`, every message with its code) and the
    app's status webhooks (`POST /hook`), on 127.0.0.1. `mode` scripts the vendor's faults:
    `errors` answers 503 to 40 % of messages (and 500 to 20 % of hooks), `hang` answers after 12 s,
    past the provider's 10 s timeout, having taken the message ("maybe delivered")."""

    def __init__(self):
        self.mode = "normal"
        self.lock = threading.Lock()
        self.messages = []  # (time, delivery id, verification id, recipient, code)
        self.codes = {}  # verification id -> the last code it was sent
        self.hooks = []  # (time, webhook id, verification id, type)
        vendor = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = vendor.answer(self.path, self.headers, body)
                payload = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        # A worker killed mid-request leaves its connection broken: nothing to report.
        self.server.handle_error = lambda request, address: None
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path, headers, body):
        mode = self.mode
        if path == "/hook":
            if mode == "errors" and random.random() < 0.2:
                return 500, None
            event = json.loads(body)
            with self.lock:
                self.hooks.append((time.time(), headers.get("webhook-id"), event["data"]["verification_id"],
                                   event["type"]))
            return 204, None
        data = json.loads(body)["data"]
        if mode == "errors" and random.random() < 0.4:
            return 503, {"error": "unavailable"}
        if mode == "hang":
            time.sleep(12)
        with self.lock:
            self.messages.append((time.time(), data["delivery_id"], data["verification_id"], data["to"],
                                  data["code"]))
            self.codes[data["verification_id"]] = data["code"]
            return 200, {"id": f"v-{len(self.messages)}"}

    def code(self, verification_id):
        with self.lock:
            return self.codes.get(verification_id)


class Process:
    """One otp process (in a network namespace when `namespace` is given), restartable."""

    def __init__(self, name, arguments, environment, namespace=None):
        self.name, self.arguments, self.environment, self.namespace = name, arguments, environment, namespace
        self.log = open(os.path.join(HA_DIR, f"soak-{name}.log"), "a")
        self.process = None
        self.start()

    def start(self):
        prefix = ["ip", "netns", "exec", self.namespace] if self.namespace else []
        self.process = subprocess.Popen(prefix + [OTP] + self.arguments, env=self.environment, stdout=self.log,
                                        stderr=self.log)

    def signal(self, number):
        self.process.send_signal(number)

    def alive(self):
        return self.process.poll() is None

    def rss_kb(self):
        # `ip netns exec` execs the command: in a namespace too, the pid is otp's own.
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            return None

    def stop(self):
        if self.alive():
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return "hung on SIGTERM"
        return self.process.returncode


def psql(sql, port=6432, host="127.0.0.1", timeout=60):
    result = subprocess.run(["psql", "-h", host, "-p", str(port), "-U", "postgres", "-d", "otp", "-qtAX", "-F", "\t",
                             "-c", sql], env=dict(os.environ, PGPASSWORD=PGPASSWORD), capture_output=True,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip())
    return [line.split("\t") for line in result.stdout.splitlines() if line]


class Cluster:
    """The two Patroni nodes of deploy/ha/start with HA_NAMESPACES=1: pg1 in namespace otp-pg1
    (its link to the bridge is otp-v1), pg2 in otp-pg2."""

    NODES = {"pg1": ("otp-pg1", "otp-v1", "10.77.0.11:8008"), "pg2": ("otp-pg2", "otp-v2", "10.77.0.12:8009")}

    def rest(self, node, path, inside=False, method="GET", body=None):
        namespace, _, address = self.NODES[node]
        command = ["curl", "-s", "-m", "1", "-o", "/dev/null", "-w", "%{http_code}", "-X", method]
        if body is not None:
            user, password = self.rest_credentials()
            command += ["-u", f"{user}:{password}", "-H", "Content-Type: application/json", "-d", json.dumps(body)]
        command.append(f"http://{address}{path}")
        if inside:
            command = ["ip", "netns", "exec", namespace] + command
        return subprocess.run(command, capture_output=True, text=True).stdout

    def rest_credentials(self):
        text = open(os.path.join(HA_DIR, "pg1", "patroni.yml")).read()
        section = text.split("authentication:")[1]
        user = section.split("username:")[1].split()[0]
        password = section.split("password:")[1].split()[0]
        return user, password

    def leader(self):
        for node in self.NODES:
            if self.rest(node, "/primary") == "200":
                return node
        return None

    def healthy(self):
        """A leader and a synchronous standby."""
        return self.leader() is not None and any(self.rest(node, "/sync") == "200" for node in self.NODES)

    def wait_healthy(self, seconds=120):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.healthy():
                return True
            time.sleep(1)
        return False

    def kill(self, node):
        postmaster = open(os.path.join(HA_DIR, node, "data", "postmaster.pid")).readline().strip()
        patroni = subprocess.run(["pgrep", "-f", f"patroni {HA_DIR}/{node}/patroni.yml"], capture_output=True,
                                 text=True).stdout.split()
        subprocess.run(["kill", "-9", postmaster] + patroni)

    def start(self, node):
        namespace = self.NODES[node][0]
        log = open(os.path.join(HA_DIR, f"{node}.log"), "a")
        subprocess.Popen(["ip", "netns", "exec", namespace, "runuser", "-u", "postgres", "--", "patroni",
                          os.path.join(HA_DIR, node, "patroni.yml")], stdout=log, stderr=log,
                         start_new_session=True)

    def switchover(self, to):
        current = self.leader()
        if current and current != to:
            self.rest(current, "/switchover", method="POST", body={"leader": current, "candidate": to})

    def link(self, node, up):
        subprocess.run(["ip", "link", "set", self.NODES[node][1], "up" if up else "down"], check=True)


class Client:
    """An app's calls to one `otp serve`, each answer recorded with its time and latency."""

    def __init__(self, url, appid, key_id, secret):
        self.url, self.appid = url, appid
        self.auth = "Basic " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()

    def call(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Authorization": self.auth, "Content-Type": "application/json"})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                status, payload = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        except Exception as error:  # no HTTP answer: the body says why, for the judge's examples
            return "no answer", {"no_answer": f"{type(error).__name__}: {error}"}, time.monotonic() - started
        try:
            parsed = json.loads(payload) if payload else {}
        except ValueError:
            parsed = {}
        return status, parsed, time.monotonic() - started
