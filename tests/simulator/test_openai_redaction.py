"""The openai backend keeps credentials out of every file and the terminal, against a server that echoes them.

A tiny chat-completions server (stdlib, in a thread, no model) answers every request with
the request's ``Authorization`` header, decoded when it is HTTP Basic: the worst server,
one that sends the credentials back in a 200 reply, or in a 401 error body. The API key
(from ``--api-key-env``) and the credentials of a ``--base-url`` such as
``http://user:KEY@host/v1`` must not reach the episode, the cache or the terminal.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import SCENARIO_DIR
from typer.testing import CliRunner, Result

from privy.cli import app
from privy.simulator import load_episode

KEY_ENV = "PRIVY_TEST_ECHO_KEY"
KEY = "sk-privy-ECHOED-9d2b-do-not-leak"
URL_PASSWORD = "pw-ECHOED-77c1-do-not-leak"


class EchoServer:
    """Replies to each chat completion with its Authorization header (decoded too); 401s on request."""

    def __init__(self) -> None:
        self.statuses: list[int] = []  # the next replies' statuses; 200 once empty
        self.seen: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("content-length", 0)))
                auth = self.headers.get("Authorization", "")
                outer.seen.append(auth)
                kind, _, token = auth.partition(" ")
                decoded = base64.b64decode(token).decode() if kind == "Basic" else ""
                echo = f"I got {auth} ({decoded}) at {self.headers.get('Host')}"
                status = outer.statuses.pop(0) if outer.statuses else 200
                if status == 200:
                    body = {"id": "c", "object": "chat.completion", "created": 0, "model": "echo",
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": echo}}],
                            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
                else:
                    body = {"error": {"message": f"bad credentials: {echo}"}}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]

    def __enter__(self) -> EchoServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[EchoServer]:
    monkeypatch.setenv(KEY_ENV, KEY)
    with EchoServer() as s:
        yield s


def run(base_url: str, out: Path, cache: Path) -> Result:
    args = ["run", str(SCENARIO_DIR / "mutual_friends.yaml"), "--backend", "openai", "--model", "echo",
            "--base-url", base_url, "--api-key-env", KEY_ENV, "--cache", str(cache), "--out", str(out)]
    return CliRunner().invoke(app, args, env={"COLUMNS": "200"})


def secrets_of(server: EchoServer) -> list[str]:
    basic = base64.b64encode(f"user:{URL_PASSWORD}".encode()).decode()
    return [KEY, URL_PASSWORD, basic]


def assert_nothing_leaked(server: EchoServer, folder: Path, outputs: list[str]) -> None:
    written = [p for p in folder.rglob("*") if p.is_file()]
    assert written
    for secret in secrets_of(server):
        for p in written:
            assert secret.encode() not in p.read_bytes(), (secret, p)
        for text in outputs:
            assert secret not in text, secret


def test_a_key_echoed_in_a_reply_is_redacted(server: EchoServer, tmp_path: Path) -> None:
    result = run(f"http://127.0.0.1:{server.port}/v1", tmp_path / "ep.json", tmp_path / "cache.db")
    assert result.exit_code == 0, result.output
    assert server.seen and all(s == f"Bearer {KEY}" for s in server.seen)  # the key was sent, and echoed
    ep = load_episode(tmp_path / "ep.json")
    assert ep.calls[0].output == f"I got Bearer [REDACTED] () at 127.0.0.1:{server.port}"
    assert "I got Bearer [REDACTED]" in result.stdout
    assert_nothing_leaked(server, tmp_path, [result.output])


def test_credentials_in_the_base_url_are_redacted_everywhere(server: EchoServer, tmp_path: Path) -> None:
    url = f"http://user:{URL_PASSWORD}@127.0.0.1:{server.port}/v1"
    ok = run(url, tmp_path / "ok.json", tmp_path / "cache.db")
    assert ok.exit_code == 0, ok.output
    assert server.seen and all(s.startswith("Basic ") for s in server.seen)  # the URL's credentials were sent
    ep = load_episode(tmp_path / "ok.json")
    assert ep.backend["base_url"] == f"http://[REDACTED]@127.0.0.1:{server.port}/v1"
    assert ep.calls[0].output == f"I got Basic [REDACTED] (user:[REDACTED]) at 127.0.0.1:{server.port}"
    server.statuses = [401]  # the credentials echoed in an error body, and the error printed
    failed = run(url, tmp_path / "failed.json", tmp_path / "cache2.db")
    (call,) = load_episode(tmp_path / "failed.json").calls
    assert call.error == (f"HTTP 401 from http://[REDACTED]@127.0.0.1:{server.port}/v1: Error code: 401 - "
                          f"bad credentials: I got Basic [REDACTED] (user:[REDACTED]) at 127.0.0.1:{server.port}")
    assert "HTTP 401 from http://[REDACTED]@" in failed.stderr
    assert_nothing_leaked(server, tmp_path, [ok.output, failed.output])


def test_a_user_only_url_token_is_redacted(server: EchoServer, tmp_path: Path) -> None:
    """``http://TOKEN@host``: the user is the credential."""
    url = f"http://{URL_PASSWORD}@127.0.0.1:{server.port}/v1"
    result = run(url, tmp_path / "ep.json", tmp_path / "cache.db")
    assert result.exit_code == 0, result.output
    ep = load_episode(tmp_path / "ep.json")
    assert ep.backend["base_url"] == f"http://[REDACTED]@127.0.0.1:{server.port}/v1"
    assert ep.calls[0].output == f"I got Basic [REDACTED] ([REDACTED]:) at 127.0.0.1:{server.port}"
    assert_nothing_leaked(server, tmp_path, [result.output])
