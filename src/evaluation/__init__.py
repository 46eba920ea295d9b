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

The package has three layers, each a folder: `evaluation.methods` (estimators, their inference and the
economic arithmetic; no files, no config), `evaluation.steps` (what the pipeline's rules run: read files,
call methods, write results) and `evaluation.report` (renders from `results/` only), with support code
(`contract`, `io`, `disclosure`, `config`, ...) beside them. The paths from before the layers were folders
(`evaluation.did`, `evaluation.estimate`, `evaluation.economics.ceac`, ...) still import the same modules
(`evaluation.old_paths`).
"""

from evaluation.errors import EvaluationError
from evaluation.old_paths import install as _install_old_paths

__version__ = "0.1.0"

_install_old_paths()

__all__ = ["EvaluationError", "__version__"]
