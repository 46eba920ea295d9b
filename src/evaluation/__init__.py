"""Evaluation of the Herning model in Danish municipalities: from registry extracts to reports.

API page: Public Python API
---------------------------
Everything below is stable: later versions add keyword arguments with defaults but do not
change what is here. Each function's docstring holds the full description, the conventions
and the references; this page lists the entry points. Errors are subclasses of
`evaluation.errors.EvaluationError` (`ConfigError`, `ExtractError`, `ExtractValidationError`,
`PseudonymisationError`, `NoOverlapError`, `ModelNotIdentifiedError`, `ReportError`, and
`evaluation.disclosure.DisclosureError`), and the
warning `LowOverlapWarning` flags matching that drops many treated units.
"""

from evaluation.errors import EvaluationError

__version__ = "0.1.0"

__all__ = ["EvaluationError", "__version__"]
