"""Agents as collaborators in jupyter-collaboration's awareness.

Public API: ``AgentPresence`` (``follow(runtimes)``, ``agent_changed``, ``agent_gone``,
``close``, ``enabled``), ``GLOBAL_ROOM``. Without jupyter-collaboration installed and
enabled, presence is simply off.
"""

from .awareness import GLOBAL_ROOM, AgentPresence, AgentSlot

__all__ = ["GLOBAL_ROOM", "AgentPresence", "AgentSlot"]
