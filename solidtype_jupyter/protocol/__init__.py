"""Wire models, no I/O: AG-UI events, agent runtime commands and events.

Public API: none yet (the chat and runtime issues add the models).
"""
