"""The backend seam: one async call, a chat request in and a completion out.

Every model privy talks to implements :class:`Backend`. Wrappers (retries, cache,
concurrency limits) and new providers plug in here without touching the modes.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from privy.simulator.backends.errors import Attempt
from privy.simulator.views import Observation, State


class ChatMessage(BaseModel):
    model_config = ConfigDict(frozen=True)
    role: Literal["system", "user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    """What a backend is asked. ``view`` is the same data the prompt was built from.

    Rule-based backends (``scripted``) read ``view`` instead of parsing the prompt;
    it is never serialised into logs (the prompt is). ``grammar`` constrains a backend
    that can use it (the ``llama`` backend, by default) to one legal move.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)
    messages: tuple[ChatMessage, ...]
    max_tokens: int = 160
    temperature: float = 0.7
    seed: int | None = None
    stop: tuple[str, ...] = ()
    speaker: str | None = Field(default=None, description="Agent id the text is written for.")
    view: Observation | State | None = Field(default=None, exclude=True, repr=False)
    mode: str | None = Field(
        default=None, exclude=True, repr=False,
        description="The mode whose writer the request is for ('agents', 'mindreaders', ...): a human seat shows "
                    "its person that mode's view of ``view``. Not logged, not part of a cache key.")
    grammar: str | None = Field(
        default=None, exclude=True, repr=False,
        description="The legal moves as a llama.cpp GBNF grammar (privy.simulator.moves); a backend that can "
                    "constrain generation uses it, the others ignore it. Not logged: the prompt states the moves.")

    def prompt_text(self) -> str:
        return "\n".join(m.content for m in self.messages)


class Completion(BaseModel):
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    finish_reason: str | None = None
    attempts: list[Attempt] = Field(default_factory=list, description="Failed tries before this one.")
    cached: bool = Field(default=False, description="Served from the response cache.")


@runtime_checkable
class Backend(Protocol):
    """A model privy can call."""

    name: str

    async def complete(self, request: ChatRequest) -> Completion: ...

    def settings(self) -> dict[str, Any]:
        """Settings to record in the episode log (never secrets)."""
        ...


# Optional for a backend: one that can write only some modes lists them in a class
# attribute ``modes`` (mode names, e.g. ``frozenset({"agents", "omniscient"})``);
# :func:`privy.simulator.backends.registry.modes` reads it without building the backend,
# and a suite pairing the backend with another mode is refused before anything runs.


async def aclose(backend: Backend) -> None:
    """Release what ``backend`` (and any backend it wraps) holds for the running event loop.

    Optional for a backend: one that opens connections may define ``async def aclose()``;
    the runner calls this when its event loop is about to end, so no connection is left
    for the closed loop to finish (which prints "Event loop is closed" at exit).
    """
    b: Any = backend
    for _ in range(16):  # wrappers (retry, cache, limit) keep the backend they wrap in ``inner``
        if b is None:
            break
        close = getattr(b, "aclose", None)
        if close is not None:
            await close()
        b = getattr(b, "inner", None)
