"""Danish and English number formatting, with hand-written cases."""

from __future__ import annotations

import math

import pytest

from evaluation.errors import ReportError
from evaluation.report.numbers import format_count, format_number, format_p_value, format_percent


@pytest.mark.parametrize(
    ("value", "decimals", "language", "expected"),
    [
        (1234567.891, 0, "da", "1.234.568"),
        (1234567.891, 2, "da", "1.234.567,89"),
        (-1.5, 2, "da", "\u22121,50"),
        (-1.47, 2, "da", "\u22121,47"),
        (0.5, 0, "da", "0"),  # half to even
        (2.5, 0, "da", "2"),
        (999.96, 1, "da", "1.000,0"),
        (-0.0, 2, "da", "0,00"),  # negative zero has no sign
        (-0.004, 2, "da", "0,00"),  # rounds to zero: no sign
        (-0.005001, 2, "da", "\u22120,01"),
        (1234567.891, 2, "en", "1,234,567.89"),
        (-1.5, 1, "en", "\u22121.5"),
        (12, 0, "da", "12"),
    ],
)
def test_format_number(value: float, decimals: int, language: str, expected: str) -> None:
    assert format_number(value, decimals, language=language) == expected


def test_sign_option_marks_positive_but_not_zero() -> None:
    assert format_number(2.09, 1, sign=True) == "+2,1"
    assert format_number(-2.09, 1, sign=True) == "\u22122,1"
    assert format_number(0.01, 1, sign=True) == "0,0"


@pytest.mark.parametrize(
    ("value", "expected"), [(math.nan, "\u2013"), (None, "\u2013"), (math.inf, "\u221e"), (-math.inf, "\u2212\u221e")]
)
def test_missing_and_infinite_values_are_marked_not_refused(value: float, expected: str) -> None:
    """A value that could not be estimated never stops a report (an unbounded interval end is shown as such)."""
    for language in ("da", "en"):
        assert format_number(value, 2, language=language, sign=True) == expected
        assert format_percent(value, 1, language=language) == expected
    assert format_p_value(math.nan) == format_count(math.nan) == "\u2013"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ReportError, match="'de' is not supported"):
        format_number(1.0, language="de")


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.04249, "0,042"), (0.04251, "0,043"), (0.0005, "<0,001"), (0.001, "0,001"), (1.0, "1,000"), (0.0, "<0,001")],
)
def test_format_p_value(p: float, expected: str) -> None:
    assert format_p_value(p) == expected


@pytest.mark.parametrize("bad", [-0.1, 1.2, math.inf])
def test_p_value_outside_unit_interval_is_refused(bad: float) -> None:
    with pytest.raises(ReportError):
        format_p_value(bad)


def test_negative_numbers_use_the_unicode_minus_in_both_languages() -> None:
    # one glyph for HTML and PDF: U+2212, never the ASCII hyphen-minus
    for language in ("da", "en"):
        text = format_number(-1234.5, 1, language=language)
        assert text[0] == "\u2212" and "-" not in text


def test_format_percent() -> None:
    assert format_percent(0.625, 1, language="en") == "62.5%"
    assert format_percent(0.625, 0, language="da") == "62\u00a0%"  # no-break space, half to even
    assert format_percent(1, 0, language="da") == "100\u00a0%"


def test_format_count() -> None:
    assert format_count(1150000) == "1.150.000"
    assert format_count(1150000.0, language="en") == "1,150,000"
    with pytest.raises(ReportError):
        format_count(2.5)
    with pytest.raises(ReportError):
        format_count(-1)
