"""The transcript viewer's page: one self-contained HTML file, and a loopback server for it.

The page (``view_page.html``) is static: the data is embedded as JSON in a
``<script type="application/json">`` block, with ``<``, ``>`` and ``&`` written as JSON
escapes so no text can close that block, and the page's script builds the DOM with
``textContent`` only, never by parsing text as HTML. A Content-Security-Policy allows
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
from importlib import resources

from privy.bench.view import ViewData

_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_MARKER = re.compile(r"__(SCRIPT_HASH|TITLE|DATA)__")


def _template() -> str:
    return resources.files("privy.bench").joinpath("view_page.html").read_text(encoding="utf-8")


def render(data: ViewData) -> str:
    page = _template()
    script = _SCRIPT.search(page)
    assert script is not None, "view_page.html has no inline <script>"
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode("utf-8")).digest()).decode()
    payload = (data.model_dump_json().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
               .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    values = {"SCRIPT_HASH": f"sha256-{digest}", "TITLE": html.escape(data.title), "DATA": payload}
    return _MARKER.sub(lambda m: values[m.group(1)], page)  # one pass: inserted text is never rescanned


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
