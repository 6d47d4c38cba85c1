"""Any OpenAI-compatible chat endpoint, through the official ``openai`` client (async).

OpenAI, vLLM, Ollama, llama.cpp's server, LM Studio: anything that serves
``/v1/chat/completions``. The API key is read from a named environment variable when
the backend is built; it is never returned by ``settings()`` and is redacted from
every error message and every completion (a server may echo it back). So are the
credentials of a ``base_url`` such as ``http://user:KEY@host/v1``: ``settings()`` and
messages show it as ``http://[REDACTED]@host/v1``. The client's own retries are off:
:mod:`retry` does them, so that each one is recorded.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit, urlunsplit

from privy.simulator.backends.base import ChatRequest, Completion
from privy.simulator.backends.errors import PermanentError, TransientError, redact

if TYPE_CHECKING:
    from privy.simulator.probes import OptionScores


def _retry_after(err: Any) -> float | None:
    response = getattr(err, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to backoff


def _url_secrets(url: str | None) -> tuple[str | None, list[str]]:
    """``url`` with its userinfo (``user:password@``) redacted, and the secrets to redact from text.

    The secrets are the password as written and decoded (the user instead, if there is no
    password: ``http://KEY@host``), and the HTTP Basic token made of the user and password,
    which is what a server that echoes its headers would send back.
    """
    if not url:
        return url, []
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, []
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    basic = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
    secret = password or user
    secrets = [x for x in (secret, unquote(secret), basic) if x]
    # the longest first, so that no part of a longer secret is left after a shorter one is replaced
    return urlunsplit(parts._replace(netloc=f"[REDACTED]@{host}")), sorted(set(secrets), key=len, reverse=True)


class OpenAIBackend:
    """A chat model behind an OpenAI-compatible HTTP API.

    Args:
        model: model name sent with each request.
        base_url: endpoint, e.g. ``http://127.0.0.1:8000/v1`` (default: OpenAI's).
        api_key_env: name of the environment variable holding the key. A missing
            variable is an error unless ``api_key_env`` is None (no key needed).
        timeout_s: per-request timeout.
        temperature, seed: override the request's values when set.
        response_format: e.g. ``{"type": "json_schema", "json_schema": {...}}`` where
            the server supports it.
        grammar: send the request's grammar (the agent's legal moves, GBNF) as the body's
            ``grammar`` field, which llama-cpp-python's server (``CreateChatCompletionRequest``)
            and llama.cpp's ``llama-server`` apply; off by default, since other servers (OpenAI's
            among them) refuse or ignore unknown fields. Recorded in ``settings()`` when on.
    """

    name = "openai"

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        base_url: str | None = None,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout_s: float = 60.0,
        temperature: float | None = None,
        seed: int | None = None,
        response_format: dict[str, Any] | None = None,
        grammar: bool = False,
    ) -> None:
        from openai import AsyncOpenAI

        key = None
        if api_key_env is not None:
            key = os.environ.get(api_key_env)
            if not key:
                raise PermanentError(f"the openai backend reads its API key from ${api_key_env}, which is not set")
        self.model = model
        self.base_url, url_secrets = _url_secrets(base_url)  # as recorded and printed: no credentials
        self.api_key_env = api_key_env
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.seed = seed
        self.response_format = response_format
        self.grammar = bool(grammar)
        self._secrets = ([key] if key else []) + url_secrets
        self._make_client = lambda: AsyncOpenAI(
            api_key=key or "none", base_url=base_url, timeout=timeout_s, max_retries=0
        )
        self._clients: dict[int, Any] = {}

    def _client(self) -> Any:
        """One client per event loop: its connection pool belongs to the loop that made it."""
        import asyncio

        loop = id(asyncio.get_running_loop())
        if loop not in self._clients:
            self._clients = {loop: self._make_client()}  # drop clients of finished loops
        return self._clients[loop]

    async def aclose(self) -> None:
        """Close this event loop's client (its connection pool belongs to the loop)."""
        import asyncio

        client = self._clients.pop(id(asyncio.get_running_loop()), None)
        if client is not None:
            await client.close()

    def settings(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model,
            "base_url": self.base_url,
            "api_key_env": self.api_key_env,
            "timeout_s": self.timeout_s,
            "temperature": self.temperature,
            "seed": self.seed,
            "response_format": self.response_format,
        } | ({"grammar": True} if self.grammar else {})  # absent when off: older caches' keys stay valid

    async def complete(self, request: ChatRequest) -> Completion:
        import openai
        from openai.types.chat import ChatCompletion

        params: dict[str, Any] = {
            "model": self.model,
            "messages": [m.model_dump() for m in request.messages],
            "max_tokens": request.max_tokens,
            "temperature": self.temperature if self.temperature is not None else request.temperature,
        }
        seed = self.seed if self.seed is not None else request.seed
        if seed is not None:
            params["seed"] = seed
        if request.stop:
            params["stop"] = list(request.stop)[:4]  # the API accepts at most four
        if self.response_format is not None:
            params["response_format"] = self.response_format
        elif self.grammar and request.grammar:
            params["grammar"] = request.grammar
        try:
            # ``chat.completions.create(**params)`` sends the same body, after walking it against
            # the SDK's TypedDicts (aliases, file encodings: none apply to plain chat messages).
            # That walk costs milliseconds of CPU per call and grows with the prompt, enough to
            # make one event loop driving 32 episodes CPU-bound; the client's documented
            # ``post`` skips it and keeps its auth, retries, errors and response parsing.
            out = await self._client().post("/chat/completions", body=params, cast_to=ChatCompletion)
        except openai.APIStatusError as err:
            msg = redact(f"HTTP {err.status_code} from {self.base_url or 'OpenAI'}: {err.message}", self._secrets)
            if err.status_code == 429 or err.status_code >= 500 or err.status_code == 408:
                raise TransientError(msg, retry_after=_retry_after(err)) from None
            raise PermanentError(msg) from None
        except openai.APITimeoutError:
            raise TransientError(f"no answer within {self.timeout_s}s from {self.base_url}") from None
        except openai.APIConnectionError as err:
            raise TransientError(redact(f"connection failed: {err}", self._secrets)) from None
        except (openai.APIResponseValidationError, ValueError) as err:  # garbage instead of JSON
            raise TransientError(redact(f"unparsable response: {err}"[:300], self._secrets)) from None
        if not getattr(out, "choices", None):
            raise TransientError("response has no choices")
        choice = out.choices[0]
        usage = out.usage
        return Completion(
            text=redact(choice.message.content or "", self._secrets),  # a server may echo the key back
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            finish_reason=choice.finish_reason,
        )

    async def score_options(self, request: ChatRequest, options: Sequence[str]) -> OptionScores:
        """Belief probes: see :mod:`privy.simulator.backends.openai_scoring` (logprobs, else elicited JSON)."""
        import openai
        from openai.types.chat import ChatCompletion

        from privy.simulator.backends.openai_scoring import score_options

        async def post(params: dict[str, Any]) -> Any:
            try:
                return await self._client().post("/chat/completions", body=params, cast_to=ChatCompletion)
            except openai.OpenAIError as err:
                raise PermanentError(redact(f"probe failed: {err}"[:300], self._secrets)) from None

        return await score_options(post, self.model, request, options)
