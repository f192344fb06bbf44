#!/usr/bin/env python3
"""HTTP client for the benchmark (standard library only).

  e2e.py ids  --count N --out FILE   make N verifications (16 connections), write their ids
  e2e.py pace --rate R --seconds S   send R/s on a fixed schedule; read the fake provider's arrival
                                     times (GET FAKE/arrivals) and print "BENCH {json}" with the
                                     send -> provider latency p50/p99 per verification_id
Common: --url http://127.0.0.1:PORT --appid APP --auth BASE64(key:secret)
"""
import argparse, asyncio, json, random, time, urllib.request


class Connection:
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self, host, port):
        self.host, self.port, self.reader = host, port, None

    async def post(self, path, body, auth):
        if self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        data = json.dumps(body).encode()
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Basic {auth}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        length = next((int(h.split(":", 1)[1]) for h in head if h.lower().startswith("content-length:")), 0)
        return int(head[0].split(" ")[1]), json.loads(await self.reader.readexactly(length))


class Client:
    def __init__(self, args):
        host, port = args.url.split("//", 1)[1].rstrip("/").split(":")
        self.host, self.port, self.args, self.idle = host, int(port), args, []

    async def send(self):
        connection = self.idle.pop() if self.idle else Connection(self.host, self.port)
        body = {"appid": self.args.appid, "recipient": "+55119%08d" % random.randrange(10**8)}
        started = time.time()
        try:
            status, answer = await connection.post("/otp/send", body, self.args.auth)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            return started, None, None  # the connection is dropped
        self.idle.append(connection)
        return started, status, answer.get("verification_id")


async def make_ids(args):
    client, ids, errors = Client(args), [], {}

    async def loop(n):
        for _ in range(n):
            _, status, vid = await client.send()
            if status == 202:
                ids.append(vid)
            else:
                errors[status] = errors.get(status, 0) + 1

    per = -(-args.count // 16)
    await asyncio.gather(*(loop(per) for _ in range(16)))
    with open(args.out, "w") as out:
        out.write("\n".join(ids) + "\n")
    print(f"made {len(ids)} verifications; errors by status: {errors}")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


async def pace(args):
    client, sent, errors = Client(args), {}, 0
    total, start = int(args.rate * args.seconds), time.monotonic() + 0.1

    async def one():
        nonlocal errors
        started, status, vid = await client.send()
        if status == 202:
            sent[vid] = started
        else:
            errors += 1

    tasks = []
    for i in range(total):
        await asyncio.sleep(max(0.0, start + i / args.rate - time.monotonic()))
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    deadline, arrivals = time.time() + 10, {}
    while time.time() < deadline:
        await asyncio.sleep(0.5)
        with urllib.request.urlopen(args.fake.rstrip("/") + "/arrivals") as answer:
            arrivals = json.loads(answer.read())
        if all(vid in arrivals for vid in sent):
            break
    latencies = [(arrivals[vid] - t) * 1000 for vid, t in sent.items() if vid in arrivals]
    print("BENCH " + json.dumps({
        "sent": len(sent), "send_errors": errors, "arrived": len(latencies),
        "seconds": round(time.monotonic() - start, 2),
        "p50_ms": round(percentile(latencies, 50), 2), "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies, default=float("nan")), 2)}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["ids", "pace"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--appid", required=True)
    parser.add_argument("--auth", required=True)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--out")
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--fake")
    args = parser.parse_args()
    asyncio.run(make_ids(args) if args.mode == "ids" else pace(args))


if __name__ == "__main__":
    main()
