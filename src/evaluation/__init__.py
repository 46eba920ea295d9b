"""Evaluation of the Herning model in Danish municipalities: from registry extracts to reports."""

from evaluation.errors import EvaluationError

__version__ = "0.1.0"

__all__ = ["EvaluationError", "__version__"]
