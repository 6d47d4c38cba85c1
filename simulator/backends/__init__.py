"""Model backends: the async seam (:class:`Backend`) and a registry by name."""

from simulator.backends.base import Backend, ChatMessage, ChatRequest, Completion
from simulator.backends.registry import BackendError, available, create, register

__all__ = [
    "Backend",
    "BackendError",
    "ChatMessage",
    "ChatRequest",
    "Completion",
    "available",
    "create",
    "register",
]
