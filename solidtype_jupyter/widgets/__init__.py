"""The notebook experience: the chat panel (anywidget), ``Chat`` and the ``%ai_chat`` magics.

Public API:

- ``ChatWidget``: the panel (``static/chat.js`` + ``static/chat.css``; the same ES module is
  mounted by the JupyterLab side panel through ``mountChat(element, transport)``);
  ``parse_command`` / ``CommandError``: the commands the panel sends.
- ``Chat``: a session in this kernel (``send``, ``approve``, ``reject``, ``stop``,
  ``messages``, ``document``, ``shape``, ``to_script``, ``sessions``); ``Turn``;
  ``ChatUsageError``.
- ``ChatRuntime`` / ``shared_runtime``: the agent's background loop in the kernel;
  ``notebook_user``.
- ``AIChatMagics``, ``load_ipython_extension``: ``%ai_chat`` / ``%%ai_chat``.
"""

from .chat import Chat, ChatUsageError, Turn
from .chat_widget import ChatWidget, CommandError, parse_command
from .magics import AIChatMagics, load_ipython_extension, unload_ipython_extension
from .runtime import ChatRuntime, notebook_user, shared_runtime

__all__ = [
    "AIChatMagics",
    "Chat",
    "ChatRuntime",
    "ChatUsageError",
    "ChatWidget",
    "CommandError",
    "Turn",
    "load_ipython_extension",
    "notebook_user",
    "parse_command",
    "shared_runtime",
    "unload_ipython_extension",
]
