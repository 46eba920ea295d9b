"""Validate a whole folder of extracts and describe what is wrong in a readable report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from evaluation.contract.extracts import EXTRACTS, Extract
from evaluation.errors import ExtractError
from evaluation.ingest.crossfield import extract_period_end
from evaluation.ingest.messages import format_problems
from evaluation.ingest.readers import expected_file_names, find_extract_files
from evaluation.ingest.validate import check_extract, empty_problems


@dataclass
class ExtractReport:
    """What validation found for one extract.

    Attributes
    ----------
    extract
        Extract name.
    files
        The files found for it (none when missing, several when ambiguous).
    rows_read
        Data rows read, or ``None`` when the file could not be read.
    problems
        Row problems (see :data:`evaluation.ingest.validate.PROBLEM_COLUMNS`).
    errors
        Problems that stop ingestion of the whole extract (missing file or
        column, unreadable file, wrong encoding).
    warnings
        Notes that do not stop ingestion (extra columns, blank lines).
    """

    extract: str
    files: list[Path]
    rows_read: int | None = None
    problems: pd.DataFrame = field(default_factory=empty_problems)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the extract has neither errors nor row problems."""
        return not self.errors and self.problems.empty

    @property
    def rows_with_problems(self) -> int:
        """Number of distinct rows with at least one problem."""
        return int(self.problems["_row"].nunique())

    def render(self, max_problems: int = 10) -> str:
        """Return the report block of this extract.

        Parameters
        ----------
        max_problems
            Show at most this many row problems, then ``... and N more``.
        """
        file = ", ".join(p.name for p in self.files) or "(no file)"
        status = "OK" if self.ok else "INVALID"
        lines = [f"{self.extract}: {status}", f"  file: {file}"]
        if self.rows_read is not None:
            lines.append(
                f"  rows: {self.rows_read} read, {self.rows_with_problems} with problems "
                f"({len(self.problems)} problem(s))"
            )
        lines += [f"  error: {e}" for e in self.errors]
        lines += [f"  warning: {w}" for w in self.warnings]
        name = self.files[0].name if self.files else self.extract
        shown = format_problems(name, self.problems, max_problems)
        lines += [f"  {line}" for line in shown]
        if len(self.problems) > len(shown):
            lines.append(f"  ... and {len(self.problems) - len(shown)} more")
        return "\n".join(lines)


@dataclass
class ValidationReport:
    """The result of :func:`validate_folder`.

    Attributes
    ----------
    raw_dir
        The folder validated.
    extracts
        One :class:`ExtractReport` per extract of the contract, in contract order.
    warnings
        Folder-level notes, such as unknown files.
    errors
        Folder-level errors, such as a missing folder.
    """

    raw_dir: Path
    extracts: list[ExtractReport]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every extract is present, readable and without row problems."""
        return not self.errors and all(e.ok for e in self.extracts)

    def __getitem__(self, name: str) -> ExtractReport:
        """Return the report of extract ``name``."""
        for rep in self.extracts:
            if rep.extract == name:
                return rep
        raise KeyError(name)

    def render(self, max_problems: int = 10) -> str:
        """Return the report as readable text: a summary, then one block per extract.

        Parameters
        ----------
        max_problems
            Row problems shown per extract before ``... and N more``.
        """
        n_bad = sum(not e.ok for e in self.extracts)
        head = [
            f"Validation of {self.raw_dir} against the data contract (docs/data-contract.md)",
            "Result: VALID" if self.ok else f"Result: INVALID ({n_bad} of {len(self.extracts)} extracts with problems)",
        ]
        head += [f"error: {e}" for e in self.errors]
        head += [f"warning: {w}" for w in self.warnings]
        blocks = [rep.render(max_problems) for rep in self.extracts]
        return "\n\n".join(["\n".join(head), *blocks]) + "\n"


def locate_extracts(
    raw_dir: Path, extracts: dict[str, Extract] | None = None
) -> tuple[dict[str, list[Path]], list[str], dict[str, str]]:
    """Find the file of every extract and say what is missing, ambiguous or unknown.

    Parameters
    ----------
    raw_dir
        Folder of extracts.
    extracts
        Extracts to look for (default: all of the contract).

    Returns
    -------
    found : dict
        Extract name -> files found.
    warnings : list of str
        One line per unknown file.
    errors : dict
        Extract name -> message, for extracts with no file or several files.
    """
    extracts = EXTRACTS if extracts is None else extracts
    found, unknown = find_extract_files(raw_dir, extracts)
    warnings = [f"unknown file {p.name} ignored (not an extract of the contract)" for p in unknown]
    errors: dict[str, str] = {}
    for name, files in found.items():
        if not files:
            errors[name] = f"no file found in {raw_dir}; expected one of {expected_file_names(extracts[name])}"
        elif len(files) > 1:
            errors[name] = f"several files for the same extract: {', '.join(p.name for p in files)}; keep exactly one"
    return found, warnings, errors


def validate_folder(raw_dir: Path) -> ValidationReport:
    """Validate every extract in a folder against the data contract.

    Never raises for a data problem: missing or unreadable files, missing
    columns and row problems are all collected in the report.

    Parameters
    ----------
    raw_dir
        Folder holding ``<extract>.<ext>`` files; ``manifest.json``,
        ``truth.json`` and ``calibration.csv`` are skipped (and ``truth.json``
        is never opened).

    Returns
    -------
    ValidationReport
        ``report.ok`` and ``report.render()``.
    """
    raw_dir = Path(raw_dir)
    try:
        found, warnings, errors = locate_extracts(raw_dir)
    except ExtractError as exc:
        return ValidationReport(raw_dir, [ExtractReport(n, []) for n in EXTRACTS], errors=[str(exc)])
    reports = []
    last_date = None  # set from the population extract, which comes first
    for name, extract in EXTRACTS.items():
        rep = ExtractReport(name, found[name])
        if name in errors:
            rep.errors.append(errors[name])
        else:
            try:
                checked = check_extract(found[name][0], extract, last_date=last_date)
            except ExtractError as exc:
                rep.errors.append(str(exc))
            else:
                if name == "befolkning":
                    last_date = extract_period_end(checked.accepted())
                rep.rows_read = checked.rows_read
                rep.problems = checked.problems
                rep.warnings = checked.warnings
        reports.append(rep)
    return ValidationReport(raw_dir, reports, warnings=warnings)
