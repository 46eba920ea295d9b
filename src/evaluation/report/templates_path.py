"""Locate the templates shipped with the package (Typst, HTML, CSS)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from evaluation.errors import ReportError


def template_path(name: str) -> Path:
    """Return the path of a template shipped with the package.

    Parameters
    ----------
    name : str
        File name inside ``evaluation/report/templates``, for example ``"report.typ"``.

    Returns
    -------
    Path
        The template's path.

    Raises
    ------
    ReportError
        If the template is missing from the installed package.
    """
    path = Path(str(files("evaluation.report") / "templates" / name))
    if not path.is_file():
        raise ReportError(f"template {path} is missing from the installed package: reinstall evaluation")
    return path
