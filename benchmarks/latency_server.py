"""A fake OpenAI-compatible chat server that answers every request after a fixed delay.

Run as its own process, so that its threads do not share privy's interpreter:
``python benchmarks/latency_server.py PORT DELAY_S``. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_COUNT = itertools.count()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server
    disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (40 ms)
    delay_s = 0.2

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self._reply(json.dumps({"object": "list", "data": [{"id": "latency", "object": "model"}]}).encode())

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        time.sleep(self.delay_s)
        n = next(_COUNT)
        doc = {
            "id": f"c{n}", "object": "chat.completion", "created": 0, "model": "latency",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": f"Hello there, nice to meet you. #{n}"}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
        }
        self._reply(json.dumps(doc).encode())


def main() -> None:
    port, Handler.delay_s = int(sys.argv[1]), float(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    server.serve_forever()


if __name__ == "__main__":
    main()
