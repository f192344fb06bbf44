"""One send is one trace, from the API's request to the provider call in the worker.

Run by .ci/tracing, which starts `otp serve` and `otp work` (two processes) exporting to
otlp_receiver.py, and passes OTP_URL, APPID, KEY_ID, SECRET, SPANS_FILE and WORK_LOG.
"""

import base64
import json
import os
import re
import secrets
import time
import urllib.request

URL = os.environ["OTP_URL"]
APPID = os.environ["APPID"]
KEY_ID = os.environ["KEY_ID"]
SECRET = os.environ["SECRET"]
SPANS_FILE = os.environ["SPANS_FILE"]
WORK_LOG = os.environ["WORK_LOG"]


def post(path, body, headers=None):
    request = urllib.request.Request(
        URL + path,
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{KEY_ID}:{SECRET}".encode()).decode(),
            **(headers or {}),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def spans():
    if not os.path.exists(SPANS_FILE):
        return []
    with open(SPANS_FILE) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def wait_for(find, what, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {seconds} s; spans: {json.dumps(spans(), indent=1)[-4000:]}")


def only(items, what):
    assert len(items) == 1, f"expected one {what}, found {len(items)}: {items}"
    return items[0]


def delivery_trace(verification_id, last_span="otp.provider_call"):
    """The spans of the trace whose delivery span is this verification's, once `last_span` is in."""

    def find():
        all_spans = spans()
        deliveries = [
            s for s in all_spans
            if s["name"] == "otp.deliver" and s["attributes"].get("otp.verification.id") == verification_id
        ]
        if not deliveries:
            return None
        trace = [s for s in all_spans if s["trace_id"] == deliveries[0]["trace_id"]]
        return trace if any(s["name"] == last_span for s in trace) else None

    return wait_for(find, f"trace of {verification_id}")


def code_sent_to(recipient):
    def find():
        with open(WORK_LOG) as log:
            for line in log:
                if f"to {recipient}]" in line:
                    return re.findall(r"\b(\d{4,10})\b", line.split("]", 1)[1])[0]
        return None

    return wait_for(find, f"console message to {recipient}")


def test_one_send_is_one_trace_from_the_request_to_the_provider_call():
    status, sent = post("/otp/send", {"appid": APPID, "recipient": "+14155550101"})
    assert status == 202
    trace = delivery_trace(sent["verification_id"])
    by_id = {s["span_id"]: s for s in trace}

    request = only([s for s in trace if s["kind"] == "server"], "server span")
    assert request["name"] == "POST /otp/send"
    assert request["service"] == "otp-serve"
    assert request["parent_span_id"] == ""
    assert request["attributes"]["http.route"] == "/otp/send"
    assert request["attributes"]["http.response.status_code"] == 202

    store = only([s for s in trace if s["name"] == "otp.send_batch"], "store span")
    assert store["parent_span_id"] == request["span_id"]
    assert store["kind"] == "client"
    assert store["attributes"]["db.system.name"] == "postgresql"
    assert store["attributes"]["db.operation.batch.size"] >= 1

    # The worker, another process, continues the request's trace from the context stored with the job.
    wait = only([s for s in trace if s["name"] == "otp.queue_wait"], "queue wait span")
    deliver = only([s for s in trace if s["name"] == "otp.deliver"], "delivery span")
    for span in (wait, deliver):
        assert span["service"] == "otp-work"
        assert span["parent_span_id"] == request["span_id"]
        assert span["attributes"]["otp.delivery.attempt"] == 1
    assert wait["start_ns"] <= wait["end_ns"]
    assert deliver["attributes"]["otp.delivery.resolution"] == "sent"

    call = only([s for s in trace if s["name"] == "otp.provider_call"], "provider call span")
    assert call["parent_span_id"] == deliver["span_id"]
    assert call["attributes"]["otp.provider"] == "console"
    assert call["attributes"]["otp.provider.outcome"] == "accepted"

    # One tree: every span's parent is in the trace, and everything hangs off the request.
    for span in trace:
        assert span["parent_span_id"] == "" or span["parent_span_id"] in by_id, span


def test_a_callers_trace_context_is_continued():
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    status, sent = post(
        "/otp/send",
        {"appid": APPID, "recipient": "+14155550102"},
        headers={"traceparent": f"00-{trace_id}-{parent_id}-01"},
    )
    assert status == 202
    trace = delivery_trace(sent["verification_id"])
    request = only([s for s in trace if s["kind"] == "server"], "server span")
    assert request["trace_id"] == trace_id
    assert request["parent_span_id"] == parent_id


def test_no_number_code_or_secret_reaches_a_span():
    recipient = "+14155550103"
    status, sent = post("/otp/send", {"appid": APPID, "recipient": recipient})
    assert status == 202
    code = code_sent_to(recipient)
    status, verified = post(
        "/otp/verify", {"appid": APPID, "verification_id": sent["verification_id"], "otp_code": code}
    )
    assert status == 200 and verified["verified"] is True
    wait_for(
        lambda: [s for s in spans() if s["name"] == "POST /otp/verify"
                 and s["attributes"].get("http.response.status_code") == 200],
        "verify span",
    )
    wait_for(lambda: [s for s in spans() if s["name"] == "otp.verify_batch"], "verify store span")
    delivery_trace(sent["verification_id"])

    with open(SPANS_FILE + ".raw", "rb") as raw:
        exported = raw.read()
    for secret in (recipient, recipient[1:], recipient[2:], code, SECRET):
        assert secret.encode() not in exported, f"{secret!r} was exported in a span"
