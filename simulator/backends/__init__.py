"""Model backends: the async seam (:class:`Backend`) and a registry by name."""

from privy.simulator.backends.base import Backend, ChatMessage, ChatRequest, Completion
from privy.simulator.backends.errors import Attempt, BackendError, PermanentError, TransientError
from privy.simulator.backends.registry import BackendInfo, available, create, describe, register
from privy.simulator.backends.spec import BackendsConfig, BackendSpec, build, load_backends_config

__all__ = [
    "Attempt",
    "Backend",
    "BackendError",
    "BackendInfo",
    "BackendSpec",
    "BackendsConfig",
    "PermanentError",
    "TransientError",
    "build",
    "describe",
    "load_backends_config",
    "ChatMessage",
    "ChatRequest",
    "Completion",
    "available",
    "create",
    "register",
]
