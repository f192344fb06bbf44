"""bench/soak's invariants, checked at the end from the database and the fakes' records, and the
table that shows them with the fault counts."""

import collections, subprocess, time

from soak_parts import psql

LIMIT_WINDOW = 600


def undelivered_story(soak, webhook_id, fault_at):
    """One undelivered status webhook, told from the database and the app's records: its row, each
    try the workers recorded, and what the app received for its verification, with the faults."""
    row = psql(f"""SELECT id, verification_id, type, state, attempts, coalesce(last_error, ''),
                       extract(epoch FROM created_at), coalesce(extract(epoch FROM finished_at)::text, '')
                   FROM otp.webhook_events WHERE webhook_id = '{webhook_id}'""")[0]
    event_id, verification, kind, state, attempts, last_error, created, finished = row
    tries = [f"at {float(at):.1f} ({fault_at(float(at))}) status {status or '-'} {error} {latency} ms"
             for at, status, error, latency in psql(f"""
                 SELECT extract(epoch FROM at), coalesce(http_status::text, ''), coalesce(error, ''), latency_ms
                 FROM otp.webhook_attempts WHERE webhook_event_id = {event_id} ORDER BY id""")]
    heard = [f"{kind_heard} {hook_id} at {at:.1f}" for at, hook_id, vid, kind_heard in soak.vendor.hooks
             if vid == verification]
    finished_text = f"{float(finished):.1f} ({fault_at(float(finished))})" if finished else "-"
    return (f"{webhook_id} ({kind} of {verification}, event {event_id}): {state} after {attempts} tries, "
            f"last error '{last_error}', queued at {float(created):.1f} ({fault_at(float(created))}), "
            f"finished at {finished_text}; tries recorded [{'; '.join(tries)}]; the app heard "
            f"[{'; '.join(heard)}]")


def judge(soak, drained):
    app = soak.appid
    sends = [r for r in soak.load.records if r["kind"] == "send"] + soak.inside
    accepted = {r["vid"] for r in sends if r["status"] == 202}
    stored = {row[0] for row in psql(f"SELECT id FROM otp.verifications WHERE app_id = '{app}'")}
    unfinished = psql(f"""SELECT count(*) FROM otp.deliveries WHERE app_id = '{app}'
                          AND state IN ('queued', 'sending')""")[0][0]
    states = dict(psql(f"""SELECT d.state, count(*) FROM otp.deliveries d WHERE app_id = '{app}' GROUP BY 1"""))
    # `failed` is final, but says the message never went: why, by the delivery's last error.
    failed_why = dict(psql(f"""SELECT translate(left(coalesce(last_error, '(none)'), 80), E'\t\n', '  '), count(*) FROM otp.deliveries
                               WHERE app_id = '{app}' AND state = 'failed' GROUP BY 1 ORDER BY 2 DESC LIMIT 5"""))
    answers = collections.Counter(str(r["status"]) for r in soak.load.records + soak.inside)
    unexpected = {s: n for s, n in answers.items() if s not in ("200", "202", "400", "404", "409", "410", "422",
                                                                 "423", "429", "503")}
    checks = []

    def check(name, held, figures):
        checks.append((name, bool(held), figures))

    check("every 202 send is stored", accepted <= stored,
          f"{len(accepted)} accepted, {len(accepted - stored)} missing")
    check("every stored send reached a final delivery state", drained and unfinished == "0",
          f"deliveries by state {states}; drained: {drained}"
          + (f"; failed by last error: {failed_why}" if failed_why else ""))
    # A call with no HTTP answer at all: what the client saw, when, and which fault was under way.
    def fault_at(at):
        return next((f["fault"] for f in soak.faults if f["started"] <= at <= f["ended"]), "none")
    unanswered = [r for r in soak.load.records + soak.inside if r["status"] == "no answer"]
    examples = [f"{r['kind']} to {r.get('server', 'serve1')} at {r['time']:.1f} during fault {fault_at(r['time'])}, "
                f"after {r['latency']:.1f} s: {r.get('error')}" for r in unanswered[:3]]
    check("no answer other than the contract's", not unexpected,
          f"answers {dict(answers)}" + (f"; no answer: {'; '.join(examples)}" if examples else ""))

    # A code accepted twice: two successful verifies of one verification, by the clients or the database.
    verified_answers = collections.Counter(r["vid"] for r in soak.load.records
                                           if r["kind"] == "verify_right" and r["status"] == 200
                                           and r.get("verified") is True)
    twice = [vid for vid, n in verified_answers.items() if n > 1]
    successes = psql(f"""SELECT count(*) FROM (SELECT verification_id FROM otp.verify_attempts
                         WHERE app_id = '{app}' AND success GROUP BY 1 HAVING count(*) > 1) x""")[0][0]
    check("no code accepted twice", not twice and successes == "0",
          f"{sum(verified_answers.values())} verified; twice by answers {len(twice)}, in the database {successes}")
    after_lock = psql(f"""SELECT count(*) FROM otp.verifications v JOIN otp.verify_attempts a
                          ON a.verification_id = v.id AND a.success WHERE v.app_id = '{app}'
                          AND v.status = 'locked'""")[0][0]
    wrong = sum(1 for r in soak.load.records if r["kind"] == "verify_wrong")
    check("no verify judged after a lock", after_lock == "0",
          f"{wrong} wrong codes tried; locked verifications with a success: {after_lock}")

    # Messages the vendor got twice for one delivery, by cause (from the delivery's attempts).
    arrivals = collections.Counter(m[1] for m in soak.vendor.messages)
    repeated = [d for d, n in arrivals.items() if n > 1]
    causes = collections.Counter()
    if repeated:
        ids = ",".join(str(d) for d in repeated)
        tries = collections.defaultdict(list)
        for delivery, outcome in psql(f"""SELECT delivery_id, outcome FROM otp.delivery_attempts
                                          WHERE delivery_id IN ({ids}) ORDER BY id"""):
            tries[int(delivery)].append(outcome)
        for delivery in repeated:
            outcomes = tries[delivery]
            if outcomes.count("accepted") > 1:
                causes["its worker's lease ran out during the call (paused worker)"] += 1
            elif "retryable" in outcomes:
                causes["the provider's answer was lost (timeout)"] += 1
            else:
                causes["the outcome's commit was lost (worker or database died)"] += 1
    check("no delivery sent twice but for the counted causes", True,
          f"{len(soak.vendor.messages)} messages for {len(arrivals)} deliveries; twice: {dict(causes) or 0}")

    # Status webhooks: every event delivered, and in order per verification.
    events = psql(f"""SELECT webhook_id, verification_id, state, type, created_at FROM otp.webhook_events
                      WHERE app_id = '{app}' ORDER BY id""")
    received = {}
    for at, webhook_id, _, _ in soak.vendor.hooks:
        received.setdefault(webhook_id, at)
    # Held back by the app's retry schedule after failures (or queued behind one that is): not due
    # when the drain ended (judged against that moment: by now the workers are stopped, and an
    # event due since then was never theirs to send).
    drained_at = getattr(soak, "drained_at", time.time())
    scheduled = {row[0] for row in psql(f"""
        SELECT q.webhook_id FROM otp.webhook_events q WHERE q.app_id = '{app}' AND q.state = 'queued'
            AND EXISTS (SELECT 1 FROM otp.webhook_events p WHERE p.verification_id = q.verification_id
                AND p.id <= q.id AND p.state = 'queued' AND p.attempts > 0
                AND p.run_at > to_timestamp({drained_at}))""")}
    undelivered = [e for e in events if e[0] not in scheduled and (e[2] != "delivered" or e[0] not in received)]
    out_of_order, examples = 0, []
    last = {}
    for webhook_id, verification, _, kind, created in events:
        at = received.get(webhook_id)
        if at is None:
            continue
        previous = last.get(verification)
        if previous and at < previous[0]:
            out_of_order += 1
            if len(examples) < 3:
                examples.append(f"{previous[1]} (queued {previous[2]}) arrived after {kind} (queued {created})")
        last[verification] = (at, kind, created)
    check("every status webhook delivered at least once, in order per verification",
          not undelivered and out_of_order == 0,
          f"{len(events)} events, {len(soak.vendor.hooks)} posts; not delivered {len(undelivered)} "
          f"(by state {dict(collections.Counter(e[2] for e in undelivered))}, "
          f"received by the app {sum(1 for e in undelivered if e[0] in received)}), "
          f"held back by the app's retry schedule {len(scheduled)}, "
          f"out of order {out_of_order}" + (f", e.g. {'; '.join(examples)}" if examples else "")
          + "".join(f"; {undelivered_story(soak, e[0], fault_at)}" for e in undelivered[:3]))

    over = psql(f"""SELECT count(*) FROM (SELECT recipient FROM otp.verifications WHERE app_id = '{app}'
                    GROUP BY recipient, floor(extract(epoch FROM created_at) / {LIMIT_WINDOW})
                    HAVING count(*) > {soak.limit}) x""")[0][0]
    refused = sum(1 for r in sends if r["status"] == 429)
    check("limits never exceeded", over == "0", f"recipient_10m={soak.limit}: {refused} sends refused (429), "
                                                 f"windows over the limit {over}")

    seal = subprocess.run([soak.otp_path, "audit", "seal"], env=soak.owner_environment, capture_output=True,
                          text=True)
    verify = subprocess.run([soak.otp_path, "audit", "verify"], env=soak.owner_environment, capture_output=True,
                            text=True)
    seals = getattr(soak, "seals", {})
    check("the audit chain verifies", seal.returncode == 0 and verify.returncode == 0,
          (verify.stdout + verify.stderr).strip()[:200]
          + f"; sealed every minute during the run: {seals.get('sealed', 0)} events in {seals.get('runs', 0)} runs"
          + f" ({seals.get('failed', 0)} failed, left to the next)")

    check("no process died or hung", all(soak.alive.values()) and all(s == 0 for s in soak.exits.values()),
          f"alive at the end {soak.alive}; ready {soak.ready}; exit on SIGTERM {soak.exits}")

    growth = {name: round(((soak.end["rss_kb"][name] or 0) - (soak.warm["rss_kb"][name] or 0)) / 1024)
              for name in soak.warm["rss_kb"]}
    check("memory and connections flat after the warm-up",
          all(g < 64 for g in growth.values()) and soak.end["connections"] <= max(80, 2 * soak.warm["connections"]),
          f"RSS MB at warm-up {mb(soak.warm)}, at the end {mb(soak.end)}; connections "
          f"{soak.warm['connections']} then {soak.end['connections']}")

    partition = next((f for f in soak.faults if f["fault"] == "partition"), None)
    if partition:
        start, end = partition["cut"]
        during = [r for r in soak.inside if start <= r["time"] <= end]
        slow = [r for r in during if r["latency"] > 5 + 1.5]  # the deadline, a second for a COMMIT
        late_accepts = [r for r in during if r["status"] == 202 and r["vid"] not in stored]
        check("the partition: nothing answered 202 on the cut-off side was lost; answers within the deadline",
              not late_accepts and not slow and partition.get("old leader demoted after s") is not None,
              f"serve2 beside the old leader: {len(during)} sends during the cut "
              f"({dict(collections.Counter(str(r['status']) for r in during))}), slowest "
              f"{max((r['latency'] for r in during), default=0):.1f} s; old leader demoted after "
              f"{partition.get('old leader demoted after s')} s, new leader after "
              f"{partition.get('new leader after s')} s")

    faults = collections.Counter(f["fault"] for f in soak.faults)
    in_flight = collections.Counter()
    for fault in soak.faults:
        in_flight[fault["fault"]] += sum(1 for r in sends if fault["started"] <= r["time"] <= fault["ended"])
    table = {"minutes": soak.minutes, "sends": len(sends), "accepted": len(accepted),
             "faults": {name: {"times": n, "sends during": in_flight[name]} for name, n in faults.items()},
             "fault details": soak.faults, "checks": [{"invariant": n, "held": h, "figures": f} for n, h, f in checks]}
    print_table(table)
    return all(h for _, h, _ in checks), table


def mb(resources):
    return {name: round((kb or 0) / 1024) for name, kb in resources["rss_kb"].items()}


def print_table(table):
    print(f"\nsoak: {table['minutes']} min, {table['sends']} sends, {table['accepted']} accepted")
    print("\n| fault | times | sends during |\n|---|---|---|")
    for name, figures in table["faults"].items():
        print(f"| {name} | {figures['times']} | {figures['sends during']} |")
    print("\n| invariant | held | figures |\n|---|---|---|")
    for check in table["checks"]:
        print(f"| {check['invariant']} | {'yes' if check['held'] else 'NO'} | {check['figures']} |")
    print(flush=True)
