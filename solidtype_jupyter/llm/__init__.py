"""Model adapters and the agentic loop.

Public API so far: ``ModelChoice``, ``resolve_model`` (reading the ``model`` setting).
"""

from .model_choice import ModelChoice, resolve_model

__all__ = ["ModelChoice", "resolve_model"]
