"""The Jupyter server extension: configuration (``SolidTypeApp``) and HTTP handlers.

Public API: ``SolidTypeApp``, ``SolidTypeAPIHandler`` (the base of every route).
"""

from .base import SolidTypeAPIHandler
from .extension import SolidTypeApp

__all__ = ["SolidTypeAPIHandler", "SolidTypeApp"]
