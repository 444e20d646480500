"""Exceptions raised by rbgia.

Every error names the problem and the fix in one line, so a user can act on it
without reading the traceback.
"""

from __future__ import annotations


class RbgiaError(Exception):
    """Base class for all rbgia errors."""


class DataError(RbgiaError, ValueError):
    """Bad or unreadable input data (files, sequences, scores)."""


class PatternError(RbgiaError, ValueError):
    """A pattern that cannot be embedded (bad letters, out of range, overlapping)."""


class ModelError(RbgiaError, ValueError):
    """A model, predictor or checkpoint that does not fit the request."""


class NonFiniteOutputError(ModelError):
    """A model returned NaN or inf: a p-value or a training step must never be computed from it."""


class StructureToolError(RbgiaError, ImportError):
    """ViennaRNA (the `RNA` Python module) is missing or unusable."""
