"""Sentences of the report that are built from codes in the results files: read from ``reports/_text``.

The steps write codes (why an analysis could not be made, why a method of inference was chosen); the
report words them with the sentences of ``reports/_text/<language>/<name>.yml``, each a mapping of a code
to one sentence with ``{placeholders}`` for the facts the results files hold.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from evaluation.errors import ReportError
from evaluation.report.numbers import check_language
from evaluation.yaml_text import load_yaml

__all__ = ["TEXT_DIR", "project_words", "read_sentences"]

#: The report's word files in a checkout of the project (``reports/_text``).
TEXT_DIR = Path(__file__).resolve().parents[3] / "reports" / "_text"


def read_sentences(reports_dir: Path, language: str, name: str) -> dict[str, str]:
    """Read ``reports/_text/<language>/<name>``: code -> sentence, runs of spaces and line breaks folded to one space.

    No-break spaces are kept: a sentence may hold them on purpose (``G\u00a0\u2212\u00a01``).

    Parameters
    ----------
    reports_dir : Path
        The ``reports`` folder.
    language : {"da", "en"}
    name : str
        File name, e.g. ``"limits.yml"``.

    Returns
    -------
    dict of str to str

    Raises
    ------
    ReportError
        If the file is missing or is not a mapping of codes to sentences.
    """
    path = Path(reports_dir) / "_text" / check_language(language) / name
    if not path.is_file():
        raise ReportError(f"{path} is missing: the report words the codes of the results files with it")
    data = load_yaml(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ReportError(f"{path} must map each code to one sentence")
    return {str(k): re.sub(r"[ \t\r\n]+", " ", v).strip() for k, v in data.items()}


@functools.cache
def project_words(language: str, name: str) -> dict[str, dict[str, str]]:
    """Read a two-level word file of the project's ``reports/_text/<language>/<name>`` once: group -> code -> words.

    For the words that functions without a ``reports`` folder of their own use: the labels of machine names
    (``labels.yml``) and the economics sentences (``economics-sentences.yml``). The words are kept as written.

    Raises
    ------
    ReportError
        If the file is missing or is not a mapping of groups to mappings of codes to words.
    """
    path = TEXT_DIR / check_language(language) / name
    if not path.is_file():
        raise ReportError(f"{path} is missing: the report takes its words from it")
    data = load_yaml(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(group, dict) and all(isinstance(words, str) for words in group.values()) for group in data.values()
    ):
        raise ReportError(f"{path} must map each group to a mapping of codes to words")
    return {str(key): {str(code): words for code, words in group.items()} for key, group in data.items()}
