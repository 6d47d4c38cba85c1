"""A fake OpenAI-compatible chat server that answers every request after a fixed delay.

Run as its own process, so that it does not share privy's interpreter:
``python benchmarks/latency_server.py PORT DELAY_S``. Listens on 127.0.0.1 only.

One asyncio loop serves every connection (HTTP/1.1 keep-alive, as a real server): a
thread per connection, as ``http.server`` does it, spent CPU the client needs on a
2-core machine and now and then dropped a kept-alive connection under 32 clients.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys

_COUNT = itertools.count()
_MODELS = json.dumps({"object": "list", "data": [{"id": "latency", "object": "model"}]}).encode()


def _completion() -> bytes:
    n = next(_COUNT)
    return json.dumps({
        "id": f"c{n}", "object": "chat.completion", "created": 0, "model": "latency",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": f"Hello there, nice to meet you. #{n}"}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110},
    }).encode()


def _response(status: str, body: bytes) -> bytes:
    head = (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: keep-alive\r\n\r\n")
    return head.encode() + body


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay_s: float) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                return  # the client closed its connection
            lines = head.decode("latin-1").split("\r\n")
            method = lines[0].split(" ", 1)[0]
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if length:
                await reader.readexactly(length)
            if method == "POST":
                await asyncio.sleep(delay_s)
                writer.write(_response("200 OK", _completion()))
            elif method == "GET":
                writer.write(_response("200 OK", _MODELS))
            else:
                writer.write(_response("405 Method Not Allowed", b"{}"))
            await writer.drain()
    finally:
        writer.close()


async def main(port: int, delay_s: float) -> None:
    server = await asyncio.start_server(lambda r, w: _serve(r, w, delay_s), "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2])))
