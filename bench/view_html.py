"""The transcript viewer's page: one self-contained HTML file, and a loopback server for it.

The page (``view_page.html``) is static: the data is embedded as JSON in
``<script type="application/json">`` blocks, with ``<``, ``>`` and ``&`` written as JSON
escapes so no text can close a block, and the page's script builds the DOM with
``textContent`` only, never by parsing text as HTML. One block holds the index (instances,
runs, metrics); each run's transcript has a block of its own (``id="t<N>"``, N its place
in the index), which the page parses only when it shows that run: a page of 12,000 runs
opens without parsing 12,000 transcripts, and still works from ``file://``. A Content-Security-Policy allows
only the page's own script (by its SHA-256) and no network at all, so a model output
that contains ``<script>`` is shown as text and could not load anything even if it
were parsed.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

from privy.bench.view import ViewData

_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_MARKER = re.compile(r"__(SCRIPT_HASH|TITLE|DATA)__")


def _template() -> str:
    return resources.files("privy.bench").joinpath("view_page.html").read_text(encoding="utf-8")


def _json(text: str) -> str:
    """JSON text made safe inside a ``<script>`` block (and for JavaScript's parser)."""
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def chunks(data: ViewData) -> Iterator[str]:
    """The page, in pieces: the template with the index, then one block per run's transcript."""
    page = _template()
    script = _SCRIPT.search(page)
    assert script is not None, "view_page.html has no inline <script>"
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode("utf-8")).digest()).decode()
    values = {"SCRIPT_HASH": f"sha256-{digest}", "TITLE": html.escape(data.title),
              "DATA": _json(data.model_dump_json())}
    head, sep, tail = page.partition("__TRANSCRIPTS__")
    assert sep, "view_page.html has no __TRANSCRIPTS__ marker"
    yield _MARKER.sub(lambda m: values[m.group(1)], head)  # one pass: inserted text is never rescanned
    for i, run in enumerate(data.runs):
        yield f'<script type="application/json" id="t{i}">{_json(data.transcripts[run.key])}</script>\n'
    yield _MARKER.sub(lambda m: values[m.group(1)], tail)


def render(data: ViewData) -> str:
    """The whole page as one string (:func:`write` writes a large one without holding it)."""
    return "".join(chunks(data))


def write(data: ViewData, path: Path) -> None:
    """Write the page to ``path``, a piece at a time."""
    with path.open("w", encoding="utf-8") as f:
        for piece in chunks(data):
            f.write(piece)


def serve(page: str, port: int = 8000) -> http.server.ThreadingHTTPServer:
    """A server for ``page`` on 127.0.0.1 only (``port`` 0 picks a free one); call ``serve_forever``."""
    body = page.encode("utf-8")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self._answer(with_body=True)

        def do_HEAD(self) -> None:  # noqa: N802 (http.server's name): the GET answer's headers, no body
            self._answer(with_body=False)

        def _answer(self, with_body: bool) -> None:
            port = self.server.server_port  # type: ignore[attr-defined]  # an HTTPServer
            if self.headers.get("Host") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
                self.send_error(403, "only http://127.0.0.1:PORT/ is served")  # no DNS rebinding
                return
            if self.path.split("?", 1)[0] not in ("/", "/index.html"):
                self.send_error(404, "the viewer is at /")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # quiet: the CLI prints the address
            pass

    return http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
