"""Replays the completions of a recorded episode, in order, without a model.

The replayed run must make the same calls in the same order: same speaker, same prompt,
same seed. If it diverges (another scenario, mode or seed), the call fails with the
index where it did.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from privy.simulator.backends.base import ChatRequest, Completion
from privy.simulator.backends.errors import PermanentError


class ReplayBackend:
    """Serves ``episode``'s recorded outputs, one per call."""

    name = "replay"

    def __init__(self, episode: str | Path) -> None:
        from privy.simulator.episode import EpisodeError, load_episode

        self.path = Path(episode)
        try:
            self._episode = load_episode(self.path)
        except EpisodeError as err:  # a clean CLI error, not a traceback
            raise PermanentError(f"replay: {err}") from err
        self._calls = [c for c in self._episode.calls]
        self._next = 0

    def settings(self) -> dict[str, Any]:
        return {"backend": self.name, "episode": self.path.name, "recorded": self._episode.backend}

    async def complete(self, request: ChatRequest) -> Completion:
        i = self._next
        if i >= len(self._calls):
            raise PermanentError(f"replay of {self.path}: no recorded call left (asked for call {i})")
        call = self._calls[i]
        if call.speaker != request.speaker:
            raise PermanentError(
                f"replay of {self.path} diverged at call {i}: recorded for {call.speaker!r}, "
                f"asked for {request.speaker!r}"
            )
        if list(request.messages) != call.input:  # same speakers, but another scenario or mode
            pairs = zip(request.messages, call.input, strict=False)
            at = next((k for k, (a, b) in enumerate(pairs) if a != b), min(len(request.messages), len(call.input)))
            raise PermanentError(
                f"replay of {self.path} diverged at call {i}: the prompt for {request.speaker!r} differs "
                f"from the recorded one at chat message {at}"
            )
        if request.seed != call.seed:
            raise PermanentError(
                f"replay of {self.path} diverged at call {i}: seed {request.seed}, recorded {call.seed}"
            )
        self._next += 1
        if call.output is None:
            raise PermanentError(f"replay of {self.path}: call {i} had failed: {call.error}")
        return Completion(
            text=call.output, prompt_tokens=call.prompt_tokens, completion_tokens=call.completion_tokens
        )
