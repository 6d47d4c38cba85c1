"""A fake model for fast offline tests: scripted outputs, a callable, or a fixed reply.

Every request it receives is kept in ``requests``, so tests can check exactly what a
model would have been sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from privy.simulator.backends.base import ChatRequest, Completion

if TYPE_CHECKING:
    from privy.simulator.probes import OptionScores


class MockBackend:
    """Replies from ``outputs`` in order (then repeats the last), or from ``respond(request)``.

    Belief probes score options by ``beliefs(request, options)`` (log-probabilities;
    uniform without it); their requests go to ``probe_requests``, not ``requests``.
    """

    name = "mock"

    def __init__(
        self,
        outputs: Iterable[str] | None = None,
        respond: Callable[[ChatRequest], str] | None = None,
        beliefs: Callable[[ChatRequest, list[str]], list[float]] | None = None,
    ) -> None:
        self._outputs = list(outputs) if outputs is not None else ["Hello."]
        self._respond = respond
        self._beliefs = beliefs
        self.requests: list[ChatRequest] = []
        self.probe_requests: list[ChatRequest] = []

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name}

    async def complete(self, request: ChatRequest) -> Completion:
        self.requests.append(request)
        if self._respond is not None:
            text = self._respond(request)
        else:
            i = min(len(self.requests) - 1, len(self._outputs) - 1)
            text = self._outputs[i]
        return Completion(text=text, prompt_tokens=len(request.prompt_text().split()),
                          completion_tokens=len(text.split()), finish_reason="stop")

    async def score_options(self, request: ChatRequest, options: Sequence[str]) -> OptionScores:
        from privy.simulator.probes import OptionScores

        self.probe_requests.append(request)
        scores = self._beliefs(request, list(options)) if self._beliefs else [0.0] * len(options)
        return OptionScores(logprobs=scores, method="mock", prompt_tokens=len(request.prompt_text().split()))
