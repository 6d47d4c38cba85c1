"""The browser seat: a person plays one agent in a page served on 127.0.0.1 (``privy play --web``).

The same security as ``privy view --serve`` (:mod:`privy.bench.view_html`): the server
listens on 127.0.0.1 only and answers only requests whose ``Host`` is
``127.0.0.1:PORT`` or ``localhost:PORT`` (no DNS rebinding); the page's
Content-Security-Policy allows only its own script (by its SHA-256) and requests to
its own origin; the script inserts every text with ``textContent``. Besides, the page
carries a random token that ``/state`` and ``/move`` require in a header, so no other
page the browser has open can read the agent's view or play a move (a cross-site
form cannot set a header).

``GET /state`` is the seat's view as JSON (its briefing, the messages delivered to it,
whether it is its turn, whose turn a model is writing); ``POST /move`` with ``{"line":
...}`` is read by :func:`privy.bench.seat_moves.read_move`, exactly as a line typed in the
terminal. The page polls ``/state``, so each message delivered to the agent appears as it
is delivered (the seat is a :class:`~privy.simulator.seat.SeatListener`), without a reload.
In ``mindreaders`` mode the view is the agent's Mindreading: every agent's facts under its
holder's name, and the messages between others, marked, from the person's turn on.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.server
import json
import queue
import re
import secrets
import threading
from collections.abc import Callable
from importlib import resources
from typing import Any

from privy.bench.seat_moves import HELP, BadInput, Leave, Say, Show, also_known, commit_rule, read_move
from privy.simulator.backends.human import SeatInterrupted, SeatLeft
from privy.simulator.bus import Message
from privy.simulator.seat import SeatView
from privy.simulator.views import Mindreading

_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
MAX_BODY = 64_000  # bytes of a move: far more than a message


def _page(token: str) -> bytes:
    page = resources.files("privy.bench").joinpath("seat_page.html").read_text(encoding="utf-8")
    script = _SCRIPT.search(page)
    assert script is not None, "seat_page.html has no inline <script>"
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode("utf-8")).digest()).decode()
    return page.replace("__SCRIPT_HASH__", f"sha256-{digest}").replace("__TOKEN__", token).encode("utf-8")


def state_of(view: SeatView | None) -> dict[str, Any]:
    """What the page shows of ``view``: only the seat view's parts."""
    if view is None:
        return {"name": None, "messages": []}
    others: list[dict[str, Any]] = []
    if isinstance(view, Mindreading):  # every agent's facts, each under its holder
        facts = _facts(view, view.agent.id)
        others = [{"name": a.name, "persona": a.persona, "goal": a.goal, "facts": _facts(view, a.id)}
                  for a in view.agents if a.id != view.agent.id]
    else:
        facts = [{"text": f.text, "also": ""} for f in view.facts]  # who else holds one is not the agent's to know
    return {
        "name": view.agent.name, "persona": view.agent.persona, "context": view.context, "goal": view.agent.goal,
        "facts": facts, "mindreader": isinstance(view, Mindreading), "others": others,
        "neighbours": [view.names[a] for a in sorted(view.neighbours)],
        "commit": commit_rule(view), "options": list(view.task.options),
        "messages": [message_of(view, m) for m in view.messages],
    }


def _facts(view: Mindreading, holder: str) -> list[dict[str, str]]:
    return [{"text": f.text, "also": also_known(view, holder, f)} for f in view.facts[holder]]


def message_of(view: SeatView, m: Message) -> dict[str, Any]:
    """One message as the page shows it, names from ``view`` ("you" for the seat's agent)."""
    me = view.agent.id

    def name(a: str) -> str:
        return "you" if a == me else view.names[a]

    return {"turn": m.turn, "from": name(m.sender), "to": ", ".join(name(r) for r in sorted(m.recipients))
            or "no one", "text": m.content, "delivered": m.visible_to(me)}


class WebSeat:
    """Reads one agent's turns from a person in a browser; serves until :meth:`close`."""

    kind = "web"

    def __init__(self, port: int = 8000, should_stop: Callable[[], bool] | None = None) -> None:
        """Listen on 127.0.0.1:``port`` (0: any free one) at once. Raises OSError if it cannot."""
        self.token = secrets.token_urlsafe(24)
        self._page = _page(self.token)
        self._lock = threading.Lock()
        self._view: SeatView | None = None
        self._state: dict[str, Any] = {**state_of(None), "seq": 0, "your_turn": False, "over": None, "writing": None}
        self._moves: queue.Queue[str | Leave] = queue.Queue()
        self._seen_over = threading.Event()
        self._should_stop = should_stop or (lambda: False)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, name="privy-web-seat", daemon=True)
        self._thread.start()

    def seated(self, view: SeatView) -> None:
        """The briefing, on the page before the first turn."""
        self._show(view, your_turn=False)

    def writing(self, agent: str) -> None:
        with self._lock:
            if self._view is not None:
                self._state["writing"] = self._view.names[agent]

    def delivered(self, message: Message) -> None:
        """A message delivered to the agent: on the page at its next poll."""
        with self._lock:
            if self._view is None:
                return
            self._state = {**self._state, "messages": [*self._state["messages"], message_of(self._view, message)],
                           "seq": self._state["seq"] + 1, "writing": None}

    async def turn(self, view: SeatView, max_tokens: int) -> str:
        self._show(view, your_turn=True)
        try:
            while True:
                if self._should_stop():
                    raise SeatInterrupted()
                try:
                    move = self._moves.get_nowait()
                except queue.Empty:
                    await asyncio.sleep(0.05)
                    continue
                if isinstance(move, Leave):
                    raise SeatLeft()
                return move
        finally:
            with self._lock:
                self._state["your_turn"] = False

    def finish(self, view: SeatView, summary: str, wait_s: float = 5.0) -> None:
        """Show the end of the game (the messages delivered since the last turn, and ``summary``).

        Waits up to ``wait_s`` seconds for the page to fetch it, so an open page shows it.
        """
        self._show(view, your_turn=False, over=summary)
        self._seen_over.wait(wait_s)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _show(self, view: SeatView, your_turn: bool, over: str | None = None) -> None:
        with self._lock:
            self._view = view
            self._state = {**state_of(view), "seq": self._state["seq"] + 1, "your_turn": your_turn, "over": over,
                           "writing": None}

    def _move(self, line: str) -> tuple[int, dict[str, Any]]:
        """The answer to a POSTed line: (HTTP status, JSON body)."""
        with self._lock:
            view = self._view
            if view is None or not self._state["your_turn"]:
                return 409, {"error": "it is not your turn; wait for the others"}
            try:
                move = read_move(line, view)
            except BadInput as e:
                return 400, {"error": str(e)}
            if isinstance(move, Show):
                return 200, {"info": HELP if move.what == "help" else "(your briefing and the conversation are "
                                                                       "on this page)"}
            self._state["your_turn"] = False
        self._moves.put(move.text if isinstance(move, Say) else move)
        return 200, {"ok": True}

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        seat = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if not self._allowed():
                    return
                path = self.path.split("?", 1)[0]
                if path in ("/", "/index.html"):
                    self._send(200, seat._page, "text/html; charset=utf-8")
                elif path == "/state" and self._token():
                    with seat._lock:
                        body = json.dumps(seat._state)
                        if seat._state["over"] is not None:
                            seat._seen_over.set()
                    self._send(200, body.encode("utf-8"), "application/json")
                elif path != "/state":
                    self.send_error(404, "the seat is at /")

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                if not self._allowed():
                    return
                if self.path != "/move":
                    self.send_error(404, "moves go to /move")
                    return
                if not self._token():
                    return
                try:
                    n = int(self.headers.get("Content-Length", "0"))
                    if not 0 < n <= MAX_BODY:
                        raise ValueError(f"expected a body of 1 to {MAX_BODY} bytes")
                    data = json.loads(self.rfile.read(n).decode("utf-8"))
                    line = data["line"]
                    if not isinstance(line, str):
                        raise ValueError("expected 'line' to be a string")
                except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
                    status, answer = 400, {"error": f'expected JSON {{"line": "..."}} ({e})'}
                else:
                    status, answer = seat._move(line)
                self._send(status, json.dumps(answer).encode("utf-8"), "application/json")

            def _allowed(self) -> bool:
                port = seat.server.server_address[1]
                if self.headers.get("Host") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
                    self.send_error(403, "only http://127.0.0.1:PORT/ is served")  # no DNS rebinding
                    return False
                return True

            def _token(self) -> bool:
                if not secrets.compare_digest(self.headers.get("X-Privy-Seat", ""), seat.token):
                    self.send_error(403, "the seat's page sends its token; other pages cannot play")
                    return False
                return True

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # quiet: the CLI prints the address
                pass

        return Handler
