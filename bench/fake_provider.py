#!/usr/bin/env python3
"""A fake SMS vendor for the benchmark: answers every request 200 {"id":"fake-N"}.

Raw asyncio protocol, HTTP/1.1 keep-alive, Content-Length bodies only (what otp's webhook sends).
--delay S answers after S seconds. With --record, the arrival time of each POST is kept under the
body's data.verification_id, and GET /arrivals returns them as JSON {id: unix_seconds}.
The id in the answer is unique per request: otp stores it under a unique index
(deliveries_provider_message_idx), so a constant id would make every finish after the first fail.
"""
import argparse, asyncio, json, signal, time

ARRIVALS = {}
COUNT = 0


class Vendor(asyncio.Protocol):
    def __init__(self, delay, record):
        self.delay, self.record, self.buf = delay, record, b""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        now = time.time()
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end].decode("latin-1").split("\r\n")
            length = 0
            for line in head[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buf) < end + 4 + length:
                return
            body, self.buf = self.buf[end + 4:end + 4 + length], self.buf[end + 4 + length:]
            method, path = (head[0].split(" ") + ["", ""])[:2]
            self.handle(method, path, body, now)

    def handle(self, method, path, body, now):
        global COUNT
        if method == "POST":
            COUNT += 1
        if path == "/arrivals":
            payload = json.dumps(ARRIVALS).encode()
        else:
            if self.record and body:
                try:
                    ARRIVALS[json.loads(body)["data"]["verification_id"]] = now
                except (ValueError, KeyError, TypeError):
                    pass
            payload = b'{"id":"fake-%d"}' % COUNT
        answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                  % len(payload)) + payload
        if self.delay > 0:
            asyncio.get_running_loop().call_later(self.delay, self.write, answer)
        else:
            self.write(answer)

    def write(self, answer):
        if not self.transport.is_closing():
            self.transport.write(answer)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before answering")
    parser.add_argument("--record", action="store_true", help="keep arrival times per verification_id")
    args = parser.parse_args()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Vendor(args.delay, args.record), "127.0.0.1", args.port, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"fake provider on 127.0.0.1:{args.port} delay={args.delay}", flush=True)
    async with server:
        await stop.wait()
    print(f"fake provider answered {COUNT} requests", flush=True)  # POSTs only


if __name__ == "__main__":
    asyncio.run(main())
