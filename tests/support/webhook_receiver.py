#!/usr/bin/python3
"""A webhook receiver for the integration tests: an HTTP server on the
loopback that records every POST it gets (one JSON line per request in
RECORD: the headers, the body as text, the time) and answers with the
statuses of PLAN in turn ("500,200": the first request 500, every later
one 200). Logs {"msg": "listening", "port": N} once it listens, as the
harness reads it (tests/support/harness.h).

    webhook_receiver.py PORT RECORD [PLAN]
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
RECORD = sys.argv[2]
PLAN = [int(s) for s in (sys.argv[3] if len(sys.argv) > 3 else "200").split(",")]
LOCK = threading.Lock()
SEEN = [0]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8")
        with LOCK:
            status = PLAN[min(SEEN[0], len(PLAN) - 1)]
            SEEN[0] += 1
            with open(RECORD, "a", encoding="utf-8") as out:
                out.write(json.dumps({"path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body, "received": time.time(), "answered": status}) + "\n")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print(json.dumps({"msg": "listening", "port": server.server_address[1]}), flush=True)
server.serve_forever()
