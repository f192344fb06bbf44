#!/usr/bin/env python3
"""Merges the phase-*.json files bench/run wrote, prints the table, writes results/latest.json.

  report.py WORK_DIR OUT_JSON OTP_BINARY
"""
import glob, json, os, platform, subprocess, sys, time

work, out, binary = sys.argv[1:4]
phases = {os.path.basename(p)[6:-5]: json.load(open(p)) for p in sorted(glob.glob(f"{work}/phase-*.json"))}


def get(phase, key):
    return phases.get(phase, {}).get(key)


base = get("baseline", "tps")
rows = []  # metric, value, unit, target text, check (ratio or pass)


def row(metric, value, unit="", target="", check=""):
    rows.append({"metric": metric, "value": value, "unit": unit, "target": target, "check": check})


def at_least(value, goal):
    return "" if value is None or goal is None else ("pass" if value >= goal else "MISS")


def at_most(value, goal):
    return "" if value is None else ("pass" if value <= goal else "MISS")


send = get("send", "rps")
base_extended = get("baseline", "tps_extended")
row("baseline: send SQL in pgbench, prepared (16 clients)", base, "tx/s")
row("baseline: send SQL in pgbench, parsed each time", base_extended, "tx/s")
for n in (8, 32):   # the batched ceiling: n sends per statement
    batched = get("baseline_batched", f"n{n}") or {}
    sends = batched.get("sends_per_second")
    row(f"baseline batched: {n} sends per statement, prepared", batched.get("statements_per_second"), "statements/s")
    row(f"baseline batched: {n} sends per statement, in sends", sends, "sends/s", "",
        "" if None in (sends, base) else f"{sends / base:.2f} x baseline")
# The targets: send at least the prepared one-send baseline, verify at least 0.8 of it, the drain at
# least PgQueuer's at batch 10, all in this run.
verify = get("verify", "rps")
row("send: POST /otp/send (16 connections)", send, "req/s", ">= 1.0 x baseline",
    "" if None in (send, base) else f"{send / base:.2f} x, {at_least(send, base)}")
row("send p50", get("send", "p50_ms"), "ms")
floor = get("floor", "rps")
row("floor: POST /otp/send on the bare stack (bench-floor)", floor, "req/s", "send >= 0.7 x floor",
    "" if None in (send, floor) else f"send {send / floor:.2f} x floor, {at_least(send, 0.7 * floor)}")
for name, label in (("send", "send"), ("send_unguarded", "send, guard off"), ("floor", "floor"), ("verify", "verify")):
    otp_cpu, pg_cpu = get(name, "otp_cpu_ms_per_request"), get(name, "postgres_cpu_ms_per_request")
    row(f"CPU per request, {label}: otp / PostgreSQL", None if otp_cpu is None else f"{otp_cpu:.3f} / {pg_cpu:.3f}", "ms")
    switches, instructions = get(name, "otp_context_switches_per_request"), get(name, "otp_instructions_per_request")
    row(f"  otp per request, {label}: context switches / instructions",
        None if switches is None else f"{switches:.2f} / {instructions if instructions is not None else 'n/a'}", "",
        "", "" if get(name, "idle_pct") is None else f"machine idle {get(name, 'idle_pct')}%"
        + ("" if get(name, "otp_busiest_thread_pct") is None
           else f", otp's busiest thread {get(name, 'otp_busiest_thread_pct')}% of its CPU"))
otp_send_cpu, otp_floor_cpu = get("send", "otp_cpu_ms_per_request"), get("floor", "otp_cpu_ms_per_request")
if None not in (otp_send_cpu, otp_floor_cpu) and otp_floor_cpu:
    row("otp's CPU per send against the floor's", otp_send_cpu / otp_floor_cpu, "x", "<= 2", at_most(otp_send_cpu / otp_floor_cpu, 2))
unguarded = get("send_unguarded", "rps")
judged = get("send_judged", "rps")
row("send, fraud guard judging, nothing over a line", judged, "req/s", "",
    "" if None in (judged, unguarded) else f"{judged / unguarded:.2f} x guard off")
row("send, fraud guard off (the same load)", unguarded, "req/s", "",
    "" if None in (send, unguarded) else f"every send flagged (above): {send / unguarded:.2f} x guard off")
row("send p99", get("send", "p99_ms"), "ms")
row("verify, wrong code (16 connections)", verify, "req/s", ">= 0.8 x baseline",
    "" if None in (verify, base) else f"{verify / base:.2f} x, {at_least(verify, 0.8 * base)}")
row("verify p50", get("verify", "p50_ms"), "ms")
row("verify p99", get("verify", "p99_ms"), "ms")
peer_goal = (get("pgqueuer", "batch_10") or {}).get("per_second")
for name, label, goal, target in (
        ("drain_instant", "drain, provider answers at once", peer_goal, ">= PgQueuer b10"),
        ("drain_delay200", "drain, provider answers after 200 ms", 1000, ">= 1000")):
    rate = get(name, "per_second")
    row(f"{label} (concurrency {get(name, 'concurrency')})", rate, "deliveries/s", target,
        at_least(rate, goal))
    if get(name, "worker_busiest_thread_pct") is not None:
        row(f"  the worker's busiest thread, {label.split(', ')[1]}", get(name, "worker_busiest_thread_pct"),
            "% of its CPU")
# The peer queue: otp's drain (provider answering at once) as a ratio to PgQueuer's on the same jobs count.
otp_drain = get("drain_instant", "per_second")
if get("pgqueuer", "error"):
    row("peer: PgQueuer drain", None, "jobs/s", "", get("pgqueuer", "error"))
for batch in (10, 100):
    peer = get("pgqueuer", f"batch_{batch}")
    if peer:
        rate = peer.get("per_second")
        row(f"peer: PgQueuer drain, batch {batch}, {peer.get('consumers')} consumers", rate, "jobs/s", "",
            "" if not otp_drain or not rate else f"otp drain {otp_drain / rate:.2f} x")
row("end to end p50 at 100 sends/s", get("e2e", "p50_ms"), "ms", "<= 10", at_most(get("e2e", "p50_ms"), 10))
row("end to end p99 at 100 sends/s", get("e2e", "p99_ms"), "ms", "<= 50", at_most(get("e2e", "p99_ms"), 50))
for metric, value in (("peak RSS: serve", get("memory", "serve_peak_rss_mb")),
                      ("peak RSS: work, drain at once", get("drain_instant", "worker_peak_rss_mb")),
                      ("peak RSS: work, drain 200 ms", get("drain_delay200", "worker_peak_rss_mb")),
                      ("peak RSS: work, end to end", get("e2e", "worker_peak_rss_mb"))):
    row(metric, value, "MB", "< 150", "" if value is None else ("pass" if value < 150 else "MISS"))

# What else is worth a look: answers that were not the expected one, deliveries not sent.
notes = []
for phase, expected in (("send", "202"), ("send_judged", "202"), ("send_unguarded", "202"), ("floor", "202"),
                        ("verify", "422")):
    statuses = get(phase, "statuses") or {}
    other = {k: v for k, v in statuses.items() if k != expected}
    if other or get(phase, "socket_errors"):
        notes.append(f"{phase}: answers other than {expected}: {other}; socket errors {get(phase, 'socket_errors')}")
for name in ("drain_instant", "drain_delay200"):
    states, count = get(name, "states") or {}, get(name, "deliveries")
    if states.get("sent") != count or get(name, "left"):
        notes.append(f"{name}: {count} queued, ended as {states}, {get(name, 'left')} left")
    if get(name, "provider_requests") not in (None, count):
        notes.append(f"{name}: the provider got {get(name, 'provider_requests')} calls for {count} deliveries")
for batch in (10, 100):
    peer = get("pgqueuer", f"batch_{batch}") or {}
    if peer and (peer.get("left") or peer.get("logged_successful") != peer.get("jobs")):
        notes.append(f"pgqueuer batch {batch}: {peer.get('jobs')} queued, {peer.get('logged_successful')} "
                     f"logged successful, {peer.get('left')} left")
if get("e2e", "arrived") != get("e2e", "sent") or get("e2e", "send_errors"):
    notes.append(f"e2e: {get('e2e', 'sent')} sent, {get('e2e', 'arrived')} reached the provider, "
                 f"{get('e2e', 'send_errors')} send errors")
idle = get("baseline", "cpu_idle_before_pct")
if idle is not None and idle < 85:
    notes.append(f"the machine was only {idle}% idle before the run: something else is using the CPU, "
                 "numbers are not trustworthy")
if None not in (send, base_extended):
    notes.append(f"send is {send / base_extended:.2f} x the baseline parsed each time (how runs before prepared statements compared)")
notes.append("verify measures WRONG codes (422): the right code is only known to the provider, as a keyed hash in the database")

width = max(len(r["metric"]) for r in rows)
print(f"\n{'metric':<{width}}  {'value':>12}  {'unit':<13} {'target':<20} ratio/pass")
for r in rows:
    value = ("n/a" if r["value"] is None else r["value"] if isinstance(r["value"], str)
             else f"{r['value']:,.1f}" if isinstance(r["value"], float) else f"{r['value']:,}")
    print(f"{r['metric']:<{width}}  {value:>12}  {r['unit']:<13} {r['target']:<20} {r['check']}")
for note in notes:
    print(f"note: {note}")

try:
    # The commit of the checkout the binary sits in (.build/release/otp), when it sits in one.
    commit = subprocess.run(["git", "-C", os.path.dirname(os.path.realpath(binary)), "rev-parse", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or None
except OSError:
    commit = None
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump({"at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "binary": binary, "commit": commit,
               "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
               "table": rows, "notes": notes, "phases": phases}, f, indent=2)
print(f"\nwritten: {out}")
