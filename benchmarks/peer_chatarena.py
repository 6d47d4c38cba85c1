"""ChatArena's side of the comparison. Runs inside ChatArena's own virtual environment.

Not importable from privy's environment (it imports ``chatarena``); ``peer.py`` starts it
with ``benchmarks/.venv-chatarena/bin/python`` and reads one JSON object from stdout.

Usage: ``python peer_chatarena.py overhead SECONDS`` or
``python peer_chatarena.py latency BASE_URL SECONDS`` (the fixed-latency server).
"""

from __future__ import annotations

import itertools
import json
import sys
import time
import tracemalloc

TURNS = 20
REPLY = "Hello there, nice to meet you."
_COUNT = itertools.count()


def reply() -> str:
    """Numbered, as privy's instant backend does."""
    return f"{REPLY} #{next(_COUNT)}"


def _arena(backend_cls: type, **kwargs: object) -> object:
    from chatarena.agent import Player
    from chatarena.arena import Arena
    from chatarena.environments.conversation import Conversation

    names = ["Alice", "Bob"]
    players = [Player(name=n, role_desc=f"You are {n}. You list your friends.", backend=backend_cls(**kwargs),
                      global_prompt="Two people look for their one mutual friend.") for n in names]
    return Arena(players=players, environment=Conversation(player_names=names))


ROUNDS = 5  # as privy's side: the fastest of 5 rounds


def _episodes(arena: object, seconds: float, rounds: int = 1) -> tuple[int, float]:
    """Run 20-step conversations for about ``seconds`` in ``rounds`` rounds.

    Returns the fastest round's (episodes, wall seconds).
    """
    best: tuple[int, float] | None = None
    for _ in range(rounds):
        n, t0 = 0, time.perf_counter()
        while True:
            arena.reset()  # type: ignore[attr-defined]
            arena.run(num_steps=TURNS)  # type: ignore[attr-defined]
            n += 1
            if time.perf_counter() - t0 >= seconds / rounds:
                break
        r = (n, time.perf_counter() - t0)
        if best is None or r[1] / r[0] < best[1] / best[0]:
            best = r
    assert best is not None
    return best


def overhead(seconds: float) -> dict[str, object]:
    from chatarena.backends.base import IntelligenceBackend
    from chatarena.backends.openai import OpenAIChat

    class Instant(IntelligenceBackend):
        """ChatArena's thinnest possible backend: no prompt at all."""

        stateful = False
        type_name = "bench-instant"

        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)

        def query(self, *args: object, **kwargs: object) -> str:
            return reply()

        async def async_query(self, *args: object, **kwargs: object) -> str:
            return reply()

    class PromptInstant(OpenAIChat):
        """ChatArena's own OpenAI chat backend (it builds the prompt) with an instant model."""

        type_name = "bench-prompt-instant"

        def _get_response(self, messages: list[dict[str, str]]) -> str:
            return reply()

    out: dict[str, object] = {}
    for label, cls in (("trivial", Instant), ("prompt", PromptInstant)):
        arena = _arena(cls)
        _episodes(arena, 0.3)  # warm up
        n, wall = _episodes(arena, seconds, ROUNDS)
        msgs = len(arena.environment.message_pool.get_all_messages())  # type: ignore[attr-defined]
        out[label] = {"episodes": n, "wall_s": wall, "messages_per_episode": msgs,
                      "us_per_message": wall / (n * msgs) * 1e6, "episodes_per_min": n / wall * 60}
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        arenas = [_arena(cls) for _ in range(50)]
        for a in arenas:
            a.run(num_steps=TURNS)  # type: ignore[attr-defined]
        out[label]["bytes_per_episode"] = (tracemalloc.get_traced_memory()[0] - before) / 50  # type: ignore[index]
        tracemalloc.stop()
        del arenas
    return out


def latency(base_url: str, seconds: float) -> dict[str, object]:
    from chatarena.backends.openai import OpenAIChat

    arena = _arena(OpenAIChat, max_tokens=32)
    n, wall = _episodes(arena, seconds)
    msgs = n * TURNS
    return {"episodes": n, "messages": msgs, "wall_s": wall, "calls_per_s": msgs / wall}


def main() -> None:
    import importlib.metadata
    import os

    kind = sys.argv[1]
    # ChatArena builds its OpenAI client when the module is imported: set these first.
    # The instant backends never call it; the latency run talks to the local server.
    os.environ["OPENAI_API_KEY"] = "none"
    os.environ["OPENAI_BASE_URL"] = sys.argv[2] if kind == "latency" else "http://127.0.0.1:9/v1"
    result = overhead(float(sys.argv[2])) if kind == "overhead" else latency(sys.argv[2], float(sys.argv[3]))
    result["version"] = importlib.metadata.version("chatarena")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
