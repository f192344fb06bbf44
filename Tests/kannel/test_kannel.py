"""The `kannel` provider against real Kannel: bearerbox and smsbox (Debian's kannel) with Kannel's
own fake SMSC (kannel-extras' fakesmsc) in place of an SMPP aggregator.

Run by .ci/kannel, which starts `otp serve` (with KANNEL_DLR_SECRET, so the receipt route is on)
and passes OTP, OTP_URL, APPID, KEY_ID, SECRET, WORK, KANNEL_DLR_SECRET and the database's
variables; this file runs Kannel and `otp work` itself, since it restarts them.
"""

import base64
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

OTP = os.environ["OTP"]
URL = os.environ["OTP_URL"]
APPID = os.environ["APPID"]
KEY_ID = os.environ["KEY_ID"]
SECRET = os.environ["SECRET"]
WORK = os.environ["WORK"]
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Kannel:
    """bearerbox, smsbox and the fake SMSC, on ports of their own, with a spool store."""

    def __init__(self):
        self.admin, self.box, self.smsc, self.sendsms = (free_port() for _ in range(4))
        self.config = os.path.join(WORK, "kannel.conf")
        self.spool = os.path.join(WORK, "spool")
        os.makedirs(self.spool, exist_ok=True)
        self.smsc_log = os.path.join(WORK, "fakesmsc.log")
        with open(self.config, "w") as conf:
            conf.write(f"""
group = core
admin-port = {self.admin}
admin-password = admin
admin-allow-ip = "127.0.0.1"
smsbox-port = {self.box}
log-file = "{WORK}/bearerbox.log"
log-level = 1
dlr-storage = internal
store-type = spool
store-location = "{self.spool}"

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
sendsms-port = {self.sendsms}
sendsms-interface = 127.0.0.1
log-file = "{WORK}/smsbox.log"
log-level = 2

group = sendsms-user
username = otp
password = kannel-secret
default-sender = OTP
max-messages = 3
concatenation = true
""")
        self.processes = []

    @property
    def sendsms_url(self):
        return f"http://127.0.0.1:{self.sendsms}/cgi-bin/sendsms"

    def start(self):
        out = open(os.path.join(WORK, "kannel.out"), "a")
        self.processes = [subprocess.Popen(["bearerbox", self.config], stdout=out, stderr=out)]
        wait_for_port(self.box)
        self.processes.append(subprocess.Popen(["smsbox", self.config], stdout=out, stderr=out))
        wait_for_port(self.sendsms)
        smsc_log = open(self.smsc_log, "a")
        self.processes.append(
            subprocess.Popen([FAKESMSC, "-H", "127.0.0.1", "-r", str(self.smsc), "-m", "0", "1 2 text x"],
                             stdout=smsc_log, stderr=smsc_log))
        time.sleep(1)  # the fake SMSC's bind

    def stop_smsc(self):
        """The SMSC link goes down: bearerbox keeps what it accepts in its store."""
        smsc = self.processes.pop()
        smsc.terminate()
        smsc.wait(timeout=15)

    def crash(self):
        """bearerbox killed outright (SIGKILL), with what it queued in its store; smsbox follows it."""
        self.processes[0].kill()
        self.processes[0].wait()
        self.stop()

    def stop(self):
        # bearerbox first, as a restart would (smsbox and the fake SMSC follow it down).
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes = []

    def received(self):
        """What the SMSC got: (receiver, text) of each message."""
        with open(self.smsc_log, errors="replace") as log:
            return re.findall(r"Got message \d+: <\S+ (\S+) (?:text|ucs-2) (.*)>", log.read())


def wait_for_port(port, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


class Worker:
    def __init__(self, kannel, password="kannel-secret"):
        environment = dict(os.environ)
        environment.update({
            "OTP_SMS_PROVIDERS": "kannel",
            "KANNEL_SENDSMS_URL": kannel.sendsms_url,
            "KANNEL_USERNAME": "otp",
            "KANNEL_PASSWORD": password,
            "KANNEL_DLR_URL": f"{URL}/webhooks/kannel/status",
        })
        self.log = open(os.path.join(WORK, "work.log"), "a")
        self.process = subprocess.Popen([OTP, "work"], env=environment, stdout=self.log, stderr=self.log)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=40)


def call(method, path, body=None):
    request = urllib.request.Request(
        URL + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{KEY_ID}:{SECRET}".encode()).decode(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def send(recipient, **extra):
    status, answer = call("POST", "/otp/send", {"appid": APPID, "recipient": recipient, **extra})
    assert status == 202, answer
    return answer["verification_id"]


def delivery_status(verification_id):
    status, answer = call("GET", f"/otp/status?appid={APPID}&verification_id={verification_id}")
    assert status == 200, answer
    return answer["delivery_status"]


def wait_until(condition, what, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"{what} within {seconds} s")


@pytest.fixture(scope="module")
def kannel():
    gateway = Kannel()
    gateway.start()
    yield gateway
    gateway.stop()


def test_a_message_reaches_the_smsc_and_its_receipt_comes_back(kannel):
    worker = Worker(kannel)
    try:
        gsm = send("+14155550301")
        status, created = call("POST", "/otp/templates",
                               {"appid": APPID, "name": "pt", "locale": "pt-BR", "body": "Código: {{code}}"})
        assert status == 201, created
        ucs2 = send("+14155550302", template=created["id"])
        for verification_id in (gsm, ucs2):
            wait_until(lambda: delivery_status(verification_id) == "delivered",
                       f"{verification_id} delivered (Kannel's report type 1 through the receipt route)")
    finally:
        worker.stop()
    received = dict(kannel.received())
    assert re.fullmatch(r".*\d{6}.*", received["+14155550301"]), received
    # The UCS-2 one went as UCS-2 (coding 2): Kannel shows it as UTF-16 escapes.
    assert "%00C%00%F3%00d%00i%00g%00o" in received["+14155550302"], received
    # The code reaches the SMSC and no log: at the levels deploy/kannel/kannel.conf sets, neither box
    # writes a message's text (smsbox logs every sendsms with its text at level 1, info).
    code = re.search(r"\d{6}", received["+14155550301"]).group()
    for name in ("smsbox.log", "bearerbox.log"):
        with open(os.path.join(WORK, name), errors="replace") as log:
            text = log.read()
        assert code not in text and "msg:<" not in text, f"{name} holds a message's text"


def test_a_gateway_crash_with_messages_queued_loses_nothing(kannel):
    worker = Worker(kannel)
    recipients = [f"+1415555{n:04d}" for n in range(400, 420)]
    try:
        ids = []
        for n, recipient in enumerate(recipients):
            ids.append(send(recipient))
            if n == 5:
                kannel.stop_smsc()
            if n == 12:
                # The sends since the SMSC went away were accepted ("Queued for later delivery") and
                # wait in bearerbox's store when it is killed.
                queued = ids[6:13]
                wait_until(lambda: all(delivery_status(i) == "sent" for i in queued),
                           "the sends queued by Kannel recorded as sent")
                kannel.crash()
                kannel.start()
            time.sleep(0.1)
        wait_until(lambda: all(delivery_status(i) in ("sent", "delivered") for i in ids),
                   "every send accepted by Kannel", seconds=120)
        wait_until(lambda: set(recipients) <= {to for to, _ in kannel.received()},
                   "every message at the SMSC, the ones queued at the crash included", seconds=60)
    finally:
        worker.stop()
    counts = [to for to, _ in kannel.received() if to in recipients]
    print(f"crash: {len(recipients)} sends, 7 queued in Kannel at the crash, {len(counts)} messages at the "
          f"SMSC ({len(counts) - len(set(counts))} twice)")


def test_a_refusal_is_classified_and_not_retried():
    # A worker with the wrong password: Kannel answers 403, which no retry fixes.
    gateway = Kannel()
    gateway.start()
    worker = Worker(gateway, password="wrong")
    try:
        refused = send("+14155550399")
        wait_until(lambda: delivery_status(refused) == "failed", "the refused send failed")
    finally:
        worker.stop()
        gateway.stop()
    status, attempts = call("GET", f"/otp/attempts?appid={APPID}&verification_id={refused}&kind=delivery")
    assert status == 200, attempts
    tries = [(a["provider"], a["outcome"], a.get("http_status")) for a in attempts["items"]]
    assert tries == [("kannel", "permanent", 403)], attempts
    assert "uthorization" in (attempts["items"][0].get("error") or ""), attempts
