"""Real servers for tests, on 127.0.0.1 only.

- :class:`LlamaServer`: llama-cpp-python's own OpenAI-compatible server
  (``python -m llama_cpp.server``) serving the embedded SmolLM2 model.
- :class:`FaultProxy`: an HTTP proxy in front of it that injects faults from a queue
  (429 with Retry-After, 500, 503, stalls, cut connections, garbage JSON, ...), logs
  what it did with each request, and measures how many were in flight at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from privy.simulator.backends.llama import default_model_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """Starts ``python -m llama_cpp.server`` on a free port; stops it on exit."""

    def __init__(self, api_key: str, log: Path, model: Path | None = None) -> None:
        self.api_key = api_key
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        self.model = model or default_model_path()
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LlamaServer:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
               "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "4096",
               "--n_threads", "2", "--api_key", self.api_key, "--model_alias", "smollm2"]
        self._logf = self.log.open("wb")
        self._proc = subprocess.Popen(cmd, stdout=self._logf, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {self.log.read_text()[-2000:]}")
            try:
                req = urllib.request.Request(f"{self.base_url}/models",
                                             headers={"Authorization": f"Bearer {self.api_key}"})
                with urllib.request.urlopen(req, timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise RuntimeError("llama_cpp.server did not start within 120 s")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._logf.close()


FAULTS = {"ok", "429", "500", "503", "stall", "cut", "garbage", "badbytes", "surrogate",
          "empty", "long", "401echo"}


@dataclass
class Served:
    """What the proxy did with one request."""

    fault: str  # the fault it injected; "ok": none, the request was only forwarded
    forwarded: bool = False  # passed on to upstream, whose answer (corrupted by ``fault``) is the reply
    client_gone: bool = False  # forwarded, but the client had hung up (timed out) before upstream answered


class FaultProxy:
    """Forwards to ``upstream``; the n-th request gets ``faults[n]`` (then 'ok').

    A forwarded request whose client hangs up before upstream answers (a generation slower
    than the client's timeout) gets no reply, and its fault, if any, is queued again: every
    queued fault reaches the client.

    Attributes:
        requests: requests received; forwarded: requests that reached upstream;
        log: a :class:`Served` per request, in the order they came (complete once the
        proxy is closed); peak: most requests in flight at once.
    """

    def __init__(self, upstream: str, faults: list[str] | None = None, stall_s: float = 3.0,
                 retry_after: float = 1.0, delay_s: float = 0.0) -> None:
        assert upstream.startswith("http://127.0.0.1:"), "tests only talk to this machine"
        self.upstream = upstream.rstrip("/")
        self.faults: deque[str] = deque(faults or [])
        unknown = set(self.faults) - FAULTS
        assert not unknown, unknown
        self.stall_s, self.retry_after, self.delay_s = stall_s, retry_after, delay_s
        self.requests = 0
        self.forwarded = 0
        self.in_flight = 0
        self.peak = 0
        self.log: list[Served] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        deadline = time.monotonic() + 330  # the requests still being served finish their log entries
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        self._server.shutdown()
        self._server.server_close()

    def push(self, *faults: str) -> None:
        self.faults.extend(faults)

    def _next(self) -> Served:
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            fault = self.faults.popleft() if self.faults else "ok"
            served = Served(fault)
            self.log.append(served)
            return served

    def _client_gone(self, served: Served) -> None:
        with self._lock:
            served.client_gone = True
            if served.fault != "ok":
                self.faults.appendleft(served.fault)

    def _forward(self, served: Served, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        with self._lock:
            self.forwarded += 1
            served.forwarded = True
        req = urllib.request.Request(self.upstream.removesuffix("/v1") + path, data=body, method="POST",
                                     headers={k: v for k, v in headers.items()
                                              if k.lower() in ("authorization", "content-type")})
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: object) -> None:
                pass

            def _send(self, code: int, body: bytes, extra: dict[str, str] | None = None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)  # fails if the client gave up (its timeout)

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                served = proxy._next()
                try:
                    self._serve(served, body)
                finally:
                    with proxy._lock:
                        proxy.in_flight -= 1

            def _serve(self, served: Served, body: bytes) -> None:
                fault = served.fault
                if proxy.delay_s:
                    time.sleep(proxy.delay_s)
                err = json.dumps({"error": {"message": f"injected {fault}", "type": "injected"}}).encode()
                if fault == "429":
                    return self._send(429, err, {"Retry-After": str(proxy.retry_after)})
                if fault in ("500", "503"):
                    return self._send(int(fault), err)
                if fault == "401echo":  # the worst server: echoes the credentials back
                    echo = json.dumps({"error": {"message": f"bad key {self.headers.get('Authorization')}"}})
                    return self._send(401, echo.encode())
                if fault == "stall":
                    time.sleep(proxy.stall_s)
                    self.connection.close()
                    return None
                if fault == "cut":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.connection.close()
                    return None
                if fault == "garbage":
                    return self._send(200, b"<html>this is not JSON{{{")
                code, data = proxy._forward(served, self.path, body, dict(self.headers))
                if _hung_up(self.connection):
                    proxy._client_gone(served)
                    return None
                if code == 200 and fault != "ok":
                    data = _corrupt(fault, data)
                return self._send(code, data)

        return Handler


def _hung_up(conn: socket.socket) -> bool:
    """Whether the client has closed its end: having sent its request, it sends nothing more."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:  # reset
        return True


def _corrupt(fault: str, data: bytes) -> bytes:
    doc = json.loads(data)
    msg = doc["choices"][0]["message"]
    if fault == "badbytes":  # raw bytes that are not UTF-8
        msg["content"] = "MARKER"
        return json.dumps(doc).encode().replace(b"MARKER", b"caf\xe9 \xff\xfe")
    if fault == "surrogate":  # valid JSON, invalid Unicode
        msg["content"] = "hello "
        return json.dumps(doc).encode().replace(b'"hello "', b'"hello \\ud800"')
    if fault == "empty":
        msg["content"] = ""
    elif fault == "long":
        msg["content"] = "blah " * 20_000
    return json.dumps(doc).encode()


def env_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}
