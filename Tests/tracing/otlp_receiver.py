"""A small OTLP/HTTP trace receiver for the tracing test.

It takes `POST /v1/traces` bodies as the OTLP/HTTP exporter sends them (binary protobuf, gzip or
not), decodes them with the official definitions (`opentelemetry-proto` from PyPI), appends each
span as one JSON line to SPANS_FILE and each raw body to SPANS_FILE + ".raw", and answers with an
empty ExportTraceServiceResponse. It prints the port it listens on, then serves until killed.

    python otlp_receiver.py SPANS_FILE
"""

import gzip
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

SPAN_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def plain(value):
    """An AnyValue as the Python value it holds."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [plain(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {pair.key: plain(pair.value) for pair in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def spans_of(request):
    for resource_spans in request.resource_spans:
        resource = {pair.key: plain(pair.value) for pair in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "service": resource.get("service.name"),
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "name": span.name,
                    "kind": SPAN_KINDS.get(span.kind, str(span.kind)),
                    "start_ns": span.start_time_unix_nano,
                    "end_ns": span.end_time_unix_nano,
                    "status": span.status.code,
                    "attributes": {pair.key: plain(pair.value) for pair in span.attributes},
                    "events": [event.name for event in span.events],
                }


class Receiver(BaseHTTPRequestHandler):
    spans_file = ""

    def do_POST(self):
        body = self.read_body()
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
            self.answer(415 if self.path == "/v1/traces" else 404, b"")
            return
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        with open(self.spans_file + ".raw", "ab") as raw:
            raw.write(body)
        with open(self.spans_file, "a") as out:
            for span in spans_of(request):
                out.write(json.dumps(span) + "\n")
        self.answer(200, ExportTraceServiceResponse().SerializeToString())

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    Receiver.spans_file = sys.argv[1]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    print(server.server_address[1], flush=True)
    server.serve_forever()
