"""Validate a whole folder of extracts and say, in a readable report, whether the pipeline would run.

The report answers two questions. What breaks the data contract (every problem
with its file, row, column and fix)? And would the pipeline's ``ingest`` step,
with the study's ``data`` settings, go on or stop? It goes on when every file
can be read and the rows that break a rule can be quarantined within the budget
(``data.max_quarantined_share``); it stops on a structural problem (a missing
file or column, an unreadable file), on any row problem with
``data.on_invalid_row: stop``, or when an extract is over the budget.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from evaluation.contract.extracts import EXTRACTS, Extract
from evaluation.errors import ConfigError, ExtractError
from evaluation.steps.ingest.accounting import check_budget_option, exceeds_budget
from evaluation.steps.ingest.crossfield import delivery_bound, extract_period_end
from evaluation.steps.ingest.messages import budget_lines, format_problems
from evaluation.steps.ingest.readers import expected_file_names, find_extract_files
from evaluation.steps.ingest.validate import check_extract, empty_problems


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
        Row problems (see :data:`evaluation.steps.ingest.validate.PROBLEM_COLUMNS`).
    errors
        Problems that stop ingestion of the whole extract (missing file or
        column, unreadable file, wrong encoding).
    warnings
        Notes that do not stop ingestion (extra columns, blank lines, exact duplicate rows).
    rows_duplicate
        Exact duplicate rows that ingestion drops (one copy of each is kept).
    stop_reasons
        Why the pipeline would stop on the rows of this extract (``data.on_invalid_row: stop``,
        or over the quarantine budget), as lines (lines that start with a space continue the
        one before); empty when its rows can be quarantined.
    """

    extract: str
    files: list[Path]
    rows_read: int | None = None
    problems: pd.DataFrame = field(default_factory=empty_problems)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rows_duplicate: int = 0
    stop_reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the extract has neither errors nor row problems."""
        return not self.errors and self.problems.empty

    @property
    def would_stop(self) -> bool:
        """Whether the pipeline would stop on this extract."""
        return bool(self.errors or self.stop_reasons)

    @property
    def rows_with_problems(self) -> int:
        """Number of distinct rows with at least one problem."""
        return int(self.problems["_row"].nunique())

    @property
    def status(self) -> str:
        """``OK``, ``QUARANTINE`` (rows would be set aside and the run goes on) or ``STOP``."""
        if self.would_stop:
            return "STOP"
        return "OK" if self.ok else "QUARANTINE"

    def render(self, max_problems: int = 10) -> str:
        """Return the report block of this extract.

        Parameters
        ----------
        max_problems
            Show at most this many row problems, then ``... and N more``.

        Returns
        -------
        str
            The status line, the file, the row counts, errors, reasons to stop, warnings and problems.
        """
        file = ", ".join(p.name for p in self.files) or "(no file)"
        lines = [f"{self.extract}: {self.status}", f"  file: {file}"]
        if self.rows_read is not None:
            duplicates = f", {self.rows_duplicate} exact duplicate(s) to drop" if self.rows_duplicate else ""
            lines.append(
                f"  rows: {self.rows_read} read, {self.rows_with_problems} with problems "
                f"({len(self.problems)} problem(s)){duplicates}"
            )
        lines += [f"  error: {e}" for e in self.errors]
        lines += [f"  {r}" if r.startswith(" ") else f"  stop: {r}" for r in self.stop_reasons]
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
    on_invalid
        The ``data.on_invalid_row`` setting the verdict assumes.
    """

    raw_dir: Path
    extracts: list[ExtractReport]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    on_invalid: str = "quarantine"

    @property
    def ok(self) -> bool:
        """Whether every extract is present, readable and without row problems."""
        return not self.errors and all(e.ok for e in self.extracts)

    @property
    def would_stop(self) -> bool:
        """Whether the pipeline's ingestion would stop (see the module documentation)."""
        return bool(self.errors) or any(e.would_stop for e in self.extracts)

    def __getitem__(self, name: str) -> ExtractReport:
        """Return the report of extract ``name``."""
        for rep in self.extracts:
            if rep.extract == name:
                return rep
        raise KeyError(name)

    def verdict(self) -> str:
        """Return the result line: whether the extracts are valid and whether the pipeline would run.

        Returns
        -------
        str
            ``Result: VALID ...``, ``Result: VALID WITH QUARANTINE ...`` (the run goes on and sets
            rows aside) or ``Result: INVALID ...`` (the run would stop).
        """
        n_bad = sum(not e.ok for e in self.extracts)
        n = len(self.extracts)
        if self.would_stop:
            n_stop = sum(e.would_stop for e in self.extracts)
            where = f"{n_stop} extract(s) marked STOP below" + (", and the errors below" if self.errors else "")
            return (
                f"Result: INVALID ({n_bad} of {n} extracts with problems): the pipeline would STOP "
                f"at ingestion ({where})."
            )
        if self.ok:
            return "Result: VALID: the pipeline would run."
        n_rows = sum(e.rows_with_problems for e in self.extracts)
        return (
            f"Result: VALID WITH QUARANTINE ({n_bad} of {n} extracts with problems): the pipeline would run "
            f"and set {n_rows} row(s) aside (data.on_invalid_row: {self.on_invalid}); see the warnings below."
        )

    def render(self, max_problems: int = 10) -> str:
        """Return the report as readable text: the verdict, then one block per extract.

        Parameters
        ----------
        max_problems
            Row problems shown per extract before ``... and N more``.

        Returns
        -------
        str
            The report, ending in a newline.
        """
        head = [f"Validation of {self.raw_dir} against the data contract (docs/data-contract.md)", self.verdict()]
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


def _stop_reasons(rep: ExtractReport, on_invalid: str, max_quarantined_share: float | None, file: str) -> list[str]:
    if rep.problems.empty or rep.rows_read is None:
        return []
    if on_invalid == "stop":
        return [
            f"{rep.rows_with_problems} row(s) break the contract and data.on_invalid_row is stop; fix them, or set "
            "data.on_invalid_row: quarantine to set them aside"
        ]
    if max_quarantined_share is not None and exceeds_budget(
        rep.rows_with_problems, rep.rows_read, max_quarantined_share
    ):
        return budget_lines(file, rep.problems, rep.rows_read, max_quarantined_share, examples=False)
    return []


def validate_folder(
    raw_dir: Path,
    *,
    on_invalid: Literal["stop", "quarantine"] = "quarantine",
    max_quarantined_share: float | None = None,
    delivery_date: str | dt.date | None = None,
) -> ValidationReport:
    """Validate every extract in a folder against the data contract and decide whether ingestion would run.

    Never raises for a data problem: missing or unreadable files, missing
    columns and row problems are all collected in the report.

    Parameters
    ----------
    raw_dir
        Folder holding ``<extract>.<ext>`` files; ``manifest.json``,
        ``truth.json`` and ``calibration.csv`` are skipped (and ``truth.json``
        is never opened).
    on_invalid
        ``data.on_invalid_row``: with ``"stop"`` any row problem would stop the pipeline.
    max_quarantined_share
        ``data.max_quarantined_share``: with ``"quarantine"``, an extract with a larger share of
        rows to quarantine would stop the pipeline. ``None``: no budget.
    delivery_date
        ``data.delivery_date`` (``YYYY-MM-DD``), for the ``future_date`` rule; ``None``: the date of the run.

    Returns
    -------
    ValidationReport
        ``report.ok``, ``report.would_stop`` and ``report.render()``.

    Raises
    ------
    ConfigError
        If ``on_invalid``, ``max_quarantined_share`` or ``delivery_date`` is not valid.
    """
    if on_invalid not in ("stop", "quarantine"):
        raise ConfigError(f"data.on_invalid_row must be 'stop' or 'quarantine', not {on_invalid!r}.")
    check_budget_option(max_quarantined_share)
    bound = delivery_bound(delivery_date)
    raw_dir = Path(raw_dir)
    try:
        found, warnings, errors = locate_extracts(raw_dir)
    except ExtractError as exc:
        return ValidationReport(
            raw_dir, [ExtractReport(n, []) for n in EXTRACTS], errors=[str(exc)], on_invalid=on_invalid
        )
    reports = []
    period_end = None  # set from the population extract, which comes first
    for name, extract in EXTRACTS.items():
        rep = ExtractReport(name, found[name])
        if name in errors:
            rep.errors.append(errors[name])
        else:
            try:
                checked = check_extract(found[name][0], extract, period_end=period_end, delivery_date=bound)
            except ExtractError as exc:
                rep.errors.append(str(exc))
            else:
                if name == "befolkning":
                    period_end = extract_period_end(checked.accepted())
                rep.rows_read = checked.rows_read
                rep.problems = checked.problems
                rep.warnings = checked.warnings
                rep.rows_duplicate = checked.rows_duplicate
                rep.stop_reasons = _stop_reasons(rep, on_invalid, max_quarantined_share, found[name][0].name)
        reports.append(rep)
    return ValidationReport(raw_dir, reports, warnings=warnings, on_invalid=on_invalid)
