"""Agents as collaborators in jupyter-collaboration's awareness.

Public API: ``AgentPresence`` (``follow(runtimes)``, ``agent_changed``, ``agent_gone``,
``close``, ``enabled``), ``GLOBAL_ROOM``; ``AwarenessObserver`` and ``collaborators(url,
token)`` (in ``presence.observer``): who a room's collaborators are, seen from Python.
Without jupyter-collaboration installed and enabled, presence is simply off.
"""

from .awareness import GLOBAL_ROOM, AgentPresence, AgentSlot

__all__ = ["GLOBAL_ROOM", "AgentPresence", "AgentSlot"]
