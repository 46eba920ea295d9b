"""The project's exceptions and warnings.

Every error a user can cause (a bad config value, a broken extract, a design the
data cannot identify) is an :class:`EvaluationError` with a message that names
the file, row, column and the fix. The command line prints the message without
a traceback; ``--debug`` shows the traceback.
"""

from __future__ import annotations


class EvaluationError(Exception):
    """Base class of every error the pipeline raises on purpose."""


class ConfigError(EvaluationError):
    """The study configuration is invalid or inconsistent."""


class ExtractError(EvaluationError):
    """An extract cannot be read at all (missing, unreadable, wrong encoding)."""


class ExtractValidationError(ExtractError):
    """An extract breaks the data contract (columns, types, codes, dates)."""


class PseudonymisationError(EvaluationError):
    """Identifiers cannot be pseudonymised safely (for example, no key for real data)."""


class NoOverlapError(EvaluationError):
    """Treated and comparison units share no common support."""


class ModelNotIdentifiedError(EvaluationError):
    """The data cannot identify the requested estimate."""


class DisclosureError(EvaluationError):
    """An output would disclose persons: a small cell, an identifier, or unsafe disclosure settings."""


class ReportError(EvaluationError):
    """A report cannot be rendered."""


class LowOverlapWarning(UserWarning):
    """Matching dropped a notable share of treated units for lack of support."""
