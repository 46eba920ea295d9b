"""Number formatting for the reports, in Danish or English conventions.

Danish reports group thousands with a full stop and mark decimals with a comma
(``1.234.567,89``); English reports use ``1,234,567.89``. Every number a report
shows passes through :func:`format_number`, so that text, tables and figures
agree on rounding and on the sign of zero. Negative numbers carry the Unicode
minus sign (U+2212, :data:`MINUS`) in both languages and both formats, as
typesetting asks, so HTML and PDF show the same glyph.

A value that could not be estimated never stops a report: a missing value (``NaN``,
``None``) is shown as :data:`MISSING` ("–") and an unbounded one (the end of a
randomization-inference interval when too few reassignments exist to reject any
effect) as "−∞" or "∞". The report's text says which analyses could not be made,
and why (:mod:`evaluation.report.limits`).
"""

from __future__ import annotations

import math
from typing import Literal

from evaluation.errors import ReportError

Language = Literal["da", "en"]

_SEPARATORS: dict[str, tuple[str, str]] = {"da": (".", ","), "en": (",", ".")}
#: the minus sign of every negative number the reports show
MINUS = "\u2212"
#: a value that could not be estimated, or that is suppressed, in tables and text
MISSING = "\u2013"
#: the end of an unbounded interval
INFINITY = "\u221e"


def _not_finite(value: object) -> str | None:
    """Return the mark of a missing or infinite value (``–``, ``−∞``, ``∞``), or None for a finite number."""
    if value is None:
        return MISSING
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number):
        return MISSING
    if math.isinf(number):
        return MINUS + INFINITY if number < 0 else INFINITY
    return None


def check_language(language: str) -> Language:
    """Return ``language`` when the reports support it, else raise.

    Parameters
    ----------
    language : str
        A language code, ``"da"`` or ``"en"``.

    Returns
    -------
    Language
        The same code, typed.

    Raises
    ------
    ReportError
        If the language is not supported.
    """
    if language not in _SEPARATORS:
        raise ReportError(
            f"report language {language!r} is not supported: use 'da' or 'en' (report.language in config/config.yaml)"
        )
    return language  # type: ignore[return-value]


def format_number(value: float | int, decimals: int = 0, *, language: str = "da", sign: bool = False) -> str:
    """Format a number with fixed decimals and the language's separators.

    Rounding is half-to-even on the decimal representation Python prints, as
    in ``format(value, ".2f")``. A value that rounds to zero is shown without a
    minus sign (``-0.001`` with two decimals gives ``"0,00"``).

    Parameters
    ----------
    value : float or int
        The number. ``NaN`` (or None) gives :data:`MISSING`, an infinity ``"−∞"`` or ``"∞"``.
    decimals : int, default 0
        Number of decimals shown.
    language : {"da", "en"}, default "da"
        ``"da"``: thousands ``.``, decimals ``,``; ``"en"``: thousands ``,``, decimals ``.``.
    sign : bool, default False
        Show a ``+`` in front of positive numbers.

    Returns
    -------
    str
        The formatted number, with the Unicode minus sign (U+2212) for negative numbers.

    Raises
    ------
    ReportError
        If ``decimals`` is negative, or the language is unknown.

    Examples
    --------
    >>> format_number(1234567.891)
    '1.234.568'
    >>> format_number(-1.5, 2)
    '\u22121,50'
    >>> format_number(1234.5, 1, language="en")
    '1,234.5'
    """
    thousands, decimal = _SEPARATORS[check_language(language)]
    if decimals < 0:
        raise ReportError(f"decimals must be 0 or more, got {decimals}")
    mark = _not_finite(value)
    if mark is not None:
        return mark
    number = float(value)
    text = format(abs(number), f",.{decimals}f")
    negative = number < 0 and any(ch not in "0.," for ch in text)
    text = text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)
    if negative:
        return MINUS + text
    if sign and any(ch not in "0.," for ch in text):
        return "+" + text
    return text


def format_p_value(value: float, *, language: str = "da") -> str:
    """Format a p-value with three decimals, and ``<0,001`` below that.

    Parameters
    ----------
    value : float
        The p-value, between 0 and 1.
    language : {"da", "en"}, default "da"
        Decimal convention.

    Returns
    -------
    str
        For example ``"0,043"`` or ``"<0,001"``; :data:`MISSING` for a missing p-value.

    Raises
    ------
    ReportError
        If the value is outside ``[0, 1]``.
    """
    if value is None or math.isnan(float(value)):
        check_language(language)
        return MISSING
    number = float(value)
    if not math.isfinite(number) or number < 0 or number > 1:
        raise ReportError(f"p-value {value!r} is outside [0, 1]: check results/estimates.csv")
    if number < 0.001:
        return "<" + format_number(0.001, 3, language=language)
    return format_number(number, 3, language=language)


def format_count(value: int | float, *, language: str = "da") -> str:
    """Format a count of rows or persons with thousands separators.

    Parameters
    ----------
    value : int or float
        A whole, non-negative number.
    language : {"da", "en"}, default "da"
        Separator convention.

    Returns
    -------
    str
        For example ``"12.345"``; :data:`MISSING` for a missing count.

    Raises
    ------
    ReportError
        If the value is negative or not a whole number.
    """
    if value is None or math.isnan(float(value)):
        check_language(language)
        return MISSING
    number = float(value)
    if not math.isfinite(number) or number < 0 or number != math.floor(number):
        raise ReportError(f"a count must be a whole number of 0 or more, got {value!r}")
    return format_number(number, 0, language=language)


def format_percent(share: float, decimals: int = 0, *, language: str = "da") -> str:
    """Format a share (0-1) as a percentage: ``"62 %"`` in Danish, ``"62%"`` in English.

    The Danish form puts a no-break space (U+00A0) before the sign, so that a line never breaks there.

    Parameters
    ----------
    share : float
        The share, for example ``0.62``.
    decimals : int, default 0
        Decimals of the percentage.
    language : {"da", "en"}, default "da"
        Convention.

    Returns
    -------
    str
        The percentage; a missing or infinite share gives its mark without the sign (see :func:`format_number`).

    Examples
    --------
    >>> format_percent(0.625, 1, language="en")
    '62.5%'
    """
    mark = _not_finite(share)
    if mark is not None:
        check_language(language)
        return mark
    text = format_number(100 * float(share), decimals, language=language)
    return f"{text}\u00a0%" if check_language(language) == "da" else f"{text}%"
