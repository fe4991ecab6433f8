"""Errors of the CAD layer; their messages are written for the model to read and act on."""

from __future__ import annotations


class CadError(Exception):
    """Base class: anything the document refused to do, with a message a model can act on."""


class FeatureError(CadError):
    """A feature cannot be built (bad input, kernel failure, invalid result)."""

    def __init__(self, message: str, feature_id: str | None = None) -> None:
        super().__init__(message)
        self.feature_id = feature_id


class DocumentError(CadError):
    """A document-level request is impossible (unknown id, nothing to undo, bad file)."""
