"""Find extract files in a folder and read them as they are, without interpreting values.

Reading is split from type conversion (:mod:`evaluation.steps.ingest.convert`): a CSV
file is read with every column as text, so that nothing is guessed (leading
zeros in identifiers survive) and every value that does not fit the contract
can be reported with its row. Parquet, Stata and SAS files keep their own types.
A SAS transport file (``.xpt``) of version 5 holds names of at most 8 characters;
its short names are translated to the contract's names with the alias table of
:mod:`evaluation.contract.aliases`.

A :class:`RawTable` carries the values, the data row number of every row
(``_row``: 1-based, the line number in a CSV file minus the header line) and
the lines that could not be split into the right number of fields.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from evaluation.contract.aliases import xport_renames
from evaluation.contract.extracts import Extract
from evaluation.errors import ExtractError
from evaluation.steps.ingest.binary_dates import dates_from_formats

#: File extensions accepted for an extract (lower case, without the dot).
EXTENSIONS: tuple[str, ...] = ("csv", "parquet", "dta", "sas7bdat", "xpt")

#: Files in a raw folder that are not extracts and are skipped silently.
#: ``truth.json`` (the synthetic registry's ground truth) is never opened.
NOT_EXTRACTS: frozenset[str] = frozenset({"manifest.json", "truth.json", "calibration.csv", "readme.md"})

_CHUNK = 1 << 24
_DELIMITERS = (",", ";", "\t")


@dataclass
class RawTable:
    """An extract as read from its file, before conversion to the contract's types.

    CSV and Parquet files are held as an Arrow table (compact, and converted to pandas a slice at a
    time by :meth:`slice`); Stata and SAS files as the pandas frame their reader returns. Every
    slice of a column converts to the same pandas dtype, whichever rows it holds: an integer column
    with a missing value anywhere is read as floats in every slice, as it is when the whole column is
    converted at once.

    Attributes
    ----------
    path
        The file.
    data
        The values, one column per column in the file (text for CSV).
    rows
        Data row number (``_row``) of every row of ``data``.
    bad_lines
        Lines that could not be read as a row: columns ``_row``, ``fields``
        (number of fields found), ``expected`` and ``text`` (the raw line).
    encoding
        Text encoding (CSV), or ``""``.
    delimiter
        Field delimiter (CSV), or ``""``.
    warnings
        Notes for the report (blank lines skipped, identifiers stored as numbers).
    """

    path: Path
    data: pa.Table | pd.DataFrame
    rows: np.ndarray
    bad_lines: pd.DataFrame
    encoding: str = ""
    delimiter: str = ""
    warnings: list[str] = field(default_factory=list)
    _renames: dict[str, str] | None = field(default=None, repr=False)
    _names: list[str] | None = field(default=None, repr=False)

    @property
    def columns(self) -> list[str]:
        """The column names, as in the file (or as renamed by :meth:`select`)."""
        if self._names is not None:
            return list(self._names)
        if isinstance(self.data, pa.Table):
            index = set(_pandas_index_columns(self.data))
            return [c for c in self.data.column_names if c not in index]
        return [str(c) for c in self.data.columns]

    @property
    def n_rows(self) -> int:
        """Number of rows read (lines that could not be split are not rows)."""
        return len(self.data) if isinstance(self.data, pd.DataFrame) else self.data.num_rows

    @property
    def rows_read(self) -> int:
        """Number of data rows in the file: rows read plus lines that could not be split."""
        return self.n_rows + len(self.bad_lines)

    @property
    def frame(self) -> pd.DataFrame:
        """All rows as one pandas frame (a new frame for Arrow-backed tables)."""
        return self.slice(0, self.n_rows)

    def select(self, renames: dict[str, str], names: list[str]) -> None:
        """Keep only the columns ``renames`` maps (file name -> new name), renamed, in the order of ``names``."""
        if isinstance(self.data, pa.Table):
            self._renames, self._names = dict(renames), list(names)
        else:
            self.data = self.data[list(renames)].rename(columns=renames)[names]

    def slice(self, start: int, stop: int, columns: list[str] | None = None) -> pd.DataFrame:
        """Return rows ``start`` to ``stop`` (positions) as a pandas frame with a positional index.

        ``columns``: only these columns (names after :meth:`select`), in that order; ``None``: all.
        """
        if isinstance(self.data, pd.DataFrame):
            frame = self.data.iloc[start:stop].reset_index(drop=True)
            return frame if columns is None else frame[columns]
        frame = self._to_pandas(self.data.slice(start, max(stop - start, 0)))
        return frame if columns is None else frame[columns]

    def text_column(self, name: str, start: int, stop: int) -> pd.Series | None:
        """Return rows ``start`` to ``stop`` of a column if it holds text, else ``None`` (cheap: one column)."""
        if isinstance(self.data, pd.DataFrame):
            return self.data[name].iloc[start:stop].reset_index(drop=True)
        original = {new: old for old, new in (self._renames or {}).items()}.get(name, name)
        column = self.data.column(original)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            return None
        return column.slice(start, max(stop - start, 0)).to_pandas().reset_index(drop=True)

    def take(self, positions: np.ndarray) -> pd.DataFrame:
        """Return the rows at ``positions`` as a pandas frame with a positional index."""
        if isinstance(self.data, pd.DataFrame):
            return self.data.iloc[positions].reset_index(drop=True)
        return self._to_pandas(self.data.take(pa.array(np.asarray(positions, dtype=np.int64))))

    def _to_pandas(self, table: pa.Table) -> pd.DataFrame:
        frame = table.to_pandas().reset_index(drop=True)  # the file's own pandas index, if any, is not data
        for name in frame.columns:
            dtype = frame[name].dtype
            if isinstance(dtype, np.dtype) and dtype.kind in "iub" and self.data.column(name).null_count:
                # as if the whole column were converted at once: integers with a gap anywhere become floats
                frame[name] = frame[name].astype("float64" if dtype.kind in "iu" else "object")
        if self._renames is not None:
            frame = frame[list(self._renames)].rename(columns=self._renames)[self._names]
        return frame


def find_extract_files(raw_dir: Path, extracts: dict[str, Extract]) -> tuple[dict[str, list[Path]], list[Path]]:
    """Match the files in a folder to extracts by name.

    Parameters
    ----------
    raw_dir
        Folder holding the extracts.
    extracts
        The extracts of the contract, by name.

    Returns
    -------
    found : dict
        Extract name -> files named ``<name>.<ext>`` (``ext`` in :data:`EXTENSIONS`,
        any case); an empty list when the extract is missing.
    unknown : list of Path
        Other files, apart from :data:`NOT_EXTRACTS`, hidden files and folders.

    Raises
    ------
    ExtractError
        If ``raw_dir`` is not a folder.
    """
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        raise ExtractError(f"Extract folder {raw_dir} does not exist. Put the extracts there or set data.raw_dir.")
    found: dict[str, list[Path]] = {name: [] for name in extracts}
    unknown: list[Path] = []
    for path in sorted(raw_dir.iterdir()):
        if path.is_dir() or path.name.startswith(".") or path.name.lower() in NOT_EXTRACTS:
            continue
        stem, _, ext = path.name.partition(".")
        if ext.lower() in EXTENSIONS and stem in found:
            found[stem].append(path)
        else:
            unknown.append(path)
    return found, unknown


def expected_file_names(extract: Extract) -> str:
    """Return the accepted file names of an extract, for messages: ``befolkning.csv, befolkning.parquet, ...``."""
    return ", ".join(f"{extract.name}.{ext}" for ext in EXTENSIONS)


def read_raw(path: Path, extract: Extract) -> RawTable:
    """Read an extract file without converting its values.

    Parameters
    ----------
    path
        The file; its extension (any case) selects the reader.
    extract
        The extract the file holds (used for messages, and to translate the
        short names of a SAS transport file).

    Returns
    -------
    RawTable
        The values and their row numbers.

    Raises
    ------
    ExtractError
        If the file cannot be read: unknown extension, wrong encoding, NUL
        bytes, no header, no data rows, or a corrupt binary file.
    ExtractValidationError
        If a SAS transport file lacks a column of the contract under its own or
        its short name (see :func:`~evaluation.contract.aliases.xport_renames`).
    """
    path = Path(path)
    ext = path.suffix.lower().lstrip(".")
    try:
        if ext == "csv":
            table = _read_csv(path)
        elif ext == "parquet":
            table = _read_parquet(path)
        elif ext in ("dta", "sas7bdat", "xpt"):
            table = _read_readstat(path, ext, extract)
        else:
            raise ExtractError(f"{path.name}: unknown file type '.{ext}'. Accepted: {expected_file_names(extract)}.")
    except ExtractError:
        raise
    except (OSError, ValueError, pa.ArrowException) as exc:  # corrupt or unreadable file
        raise ExtractError(
            f"{path.name}: the file cannot be read as {ext.upper()} ({type(exc).__name__}: {exc})."
        ) from exc
    if table.rows_read == 0:
        raise ExtractError(
            f"{path.name}: the file has a header but no data rows. An empty extract is almost always a failed "
            "export; export it again."
        )
    return table


# -- CSV -----------------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """Detect the text encoding of a CSV file: ``utf-8``, ``utf-8-sig`` or ``latin-1``.

    The whole file is decoded as strict UTF-8; if that fails, it must be
    plausible Latin-1 text (no control characters apart from tab and line ends).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str
        A Python codec name.

    Raises
    ------
    ExtractError
        If the file is UTF-16 or UTF-32, holds NUL bytes, or is neither UTF-8
        nor plausible Latin-1 text.
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head[:4] in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE):
            raise ExtractError(f"{path.name}: the file is encoded as UTF-32. Save it as UTF-8 (or Latin-1) text.")
        if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            raise ExtractError(f"{path.name}: the file is encoded as UTF-16. Save it as UTF-8 (or Latin-1) text.")
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        utf8 = True
        line = 1
        controls = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
        while chunk := fh.read(_CHUNK):
            nul = chunk.find(b"\x00")
            if nul >= 0:
                at = line + chunk.count(b"\n", 0, nul)
                utf16 = chunk.count(b"\x00") * 4 > len(chunk)
                kind = " (it looks like UTF-16 without a byte-order mark)" if utf16 else ""
                raise ExtractError(
                    f"{path.name}, line {at}: the file contains NUL bytes{kind}; it is not UTF-8 or Latin-1 text. "
                    "Export the extract again as UTF-8 text."
                )
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            if not utf8:
                bad = controls.search(chunk)
                if bad:
                    at = line + chunk.count(b"\n", 0, bad.start())
                    raise ExtractError(
                        f"{path.name}, line {at}: the file is not valid UTF-8 and not plausible Latin-1 text "
                        f"(control byte 0x{bad.group()[0]:02X}; perhaps Windows-1252 or another code page). "
                        "Export the extract again as UTF-8 text."
                    )
            line += chunk.count(b"\n")
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        return "utf-8-sig" if head[:3] == codecs.BOM_UTF8 else "utf-8"
    return "latin-1"


def _header(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, newline="") as fh:
        return fh.readline().rstrip("\r\n")


def _blank_lines(path: Path) -> list[int]:
    """Return the 1-based line numbers of empty lines after the header (the CSV reader skips them)."""
    blank = []
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            if number > 1 and line in (b"\n", b"\r\n", b"\r"):
                blank.append(number)
    return blank


def sniff_delimiter(header: str) -> str:
    """Return the field delimiter of a CSV header line: the most frequent of ``,``, ``;`` and tab.

    Parameters
    ----------
    header
        The first line of the file.

    Returns
    -------
    str
        The delimiter; ``","`` for a header with a single column.
    """
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _read_csv(path: Path) -> RawTable:
    encoding = detect_encoding(path)
    header = _header(path, encoding)
    if not header.strip():
        raise ExtractError(
            f"{path.name}: the file is empty or its first line is blank; the first line must be the header."
        )
    delimiter = sniff_delimiter(header)
    names = [n.strip().strip('"') for n in header.split(delimiter)]
    bad: list[tuple[int, int, int, str]] = []

    blank = _blank_lines(path)

    def on_invalid(row: pacsv.InvalidRow) -> str:
        # row.number counts the non-empty lines (header = 1); mapped to physical lines below
        bad.append((row.number, row.actual_columns, row.expected_columns, row.text or ""))
        return "skip"

    read_options = pacsv.ReadOptions(
        encoding="utf8" if encoding.startswith("utf-8") else "latin1",
        use_threads=False,  # line numbers of invalid rows are only known when reading in order
        column_names=[f"c{i}" for i in range(len(names))],
        skip_rows=1,
    )
    parse_options = pacsv.ParseOptions(
        delimiter=delimiter, invalid_row_handler=on_invalid, ignore_empty_lines=True, newlines_in_values=False
    )
    convert_options = pacsv.ConvertOptions(
        column_types={f"c{i}": pa.string() for i in range(len(names))},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    table = pacsv.read_csv(
        path, read_options=read_options, parse_options=parse_options, convert_options=convert_options
    )
    if encoding == "utf-8-sig" and names:
        names[0] = names[0].lstrip("\ufeff")
    table = table.rename_columns(names)
    # Row numbers: the physical line number minus the header line. The reader skips empty lines and
    # numbers invalid rows among the non-empty lines, so map its numbers to physical lines.
    n_lines = table.num_rows + len(bad) + len(blank)
    nonblank = np.setdiff1d(np.arange(2, n_lines + 2, dtype=np.int64), np.array(blank, dtype=np.int64))
    bad_numbers = np.array([b[0] for b in bad], dtype=np.int64) - 2
    if len(bad_numbers) and (bad_numbers.min() < 0 or bad_numbers.max() >= len(nonblank)):
        raise ExtractError(f"{path.name}: could not number the lines that have the wrong number of fields.")
    bad_physical = nonblank[bad_numbers]
    bad = [(int(p) - 1, *rest) for p, (_, *rest) in zip(bad_physical, bad, strict=True)]
    rows = np.setdiff1d(nonblank, bad_physical, assume_unique=True) - 1
    if len(rows) != table.num_rows:
        raise ExtractError(
            f"{path.name}: could not number the rows ({table.num_rows} rows read, {len(rows)} line numbers). "
            "Values with line breaks inside quotes are not supported; remove them."
        )
    bad_lines = pd.DataFrame(bad, columns=["_row", "fields", "expected", "text"])
    table_ = RawTable(path, table, rows, bad_lines, encoding=encoding, delimiter=delimiter)
    if blank:
        table_.warnings.append(f"{len(blank)} blank line(s) skipped (first at line {min(blank)}).")
    return table_


# -- binary formats ------------------------------------------------------------------------------


def _empty_bad_lines() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "_row": pd.Series(dtype="int64"),
            "fields": pd.Series(dtype="int64"),
            "expected": pd.Series(dtype="int64"),
            "text": pd.Series(dtype="str"),
        }
    )


def _read_parquet(path: Path) -> RawTable:
    table = pq.read_table(path)
    return RawTable(path, table, np.arange(1, table.num_rows + 1, dtype=np.int64), _empty_bad_lines())


def _pandas_index_columns(table: pa.Table) -> list[str]:
    """Return the columns that hold the index of a frame written by pandas (not data)."""
    meta = (table.schema.metadata or {}).get(b"pandas")
    if not meta:
        return []
    return [c for c in json.loads(meta).get("index_columns", []) if isinstance(c, str)]


def _read_readstat(path: Path, ext: str, extract: Extract) -> RawTable:
    import pyreadstat

    reader = {"dta": pyreadstat.read_dta, "sas7bdat": pyreadstat.read_sas7bdat, "xpt": pyreadstat.read_xport}[ext]
    try:
        frame, meta = reader(str(path))
    except pyreadstat.ReadstatError as exc:
        if ext == "dta":
            raise ExtractError(f"{path.name}: the file cannot be read as Stata .dta ({exc}).") from exc
        try:  # SAS files often declare an encoding that readstat does not know; Latin-1 is the usual truth
            frame, meta = reader(str(path), encoding="LATIN1")
        except pyreadstat.ReadstatError as exc2:
            raise ExtractError(f"{path.name}: the file cannot be read as SAS .{ext} ({exc2}).") from exc2
    frame = frame.reset_index(drop=True)
    frame, warnings = dates_from_formats(frame, meta.original_variable_types, "dta" if ext == "dta" else "sas")
    if ext == "xpt":
        renames = xport_renames(list(frame.columns), extract, path.name)
        frame = frame.rename(columns=renames)
        if renames:
            translated = ", ".join(f"{short} as {long}" for short, long in renames.items())
            warnings.append(f"SAS transport names read with the alias table: {translated}.")
    table = RawTable(path, frame, np.arange(1, len(frame) + 1, dtype=np.int64), _empty_bad_lines())
    table.warnings.extend(warnings)
    return table
