"""schema_for and the generated documentation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.errors
import pytest

from evaluation.contract import EXTRACTS
from evaluation.contract.docs import render_markdown
from evaluation.contract.schemas import column_rules, pandas_dtype, schema_for

ROOT = Path(__file__).resolve().parents[1]


def _kommuner(**changes) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "KOM": pd.array([101, 147], dtype="Int64"),
            "KOMNAVN": pd.Series(["København", "Frederiksberg"], dtype="str"),
            "REGION": pd.array([1084, 1084], dtype="Int64"),
        }
    )
    return df.assign(**changes)


@pytest.mark.parametrize("name", list(EXTRACTS))
def test_schema_has_every_column_and_the_key(name):
    extract = EXTRACTS[name]
    schema = schema_for(extract)
    assert list(schema.columns) == extract.names
    assert list(schema.unique or []) == list(extract.key)
    for col in extract.columns:
        assert schema.columns[col.name].nullable == col.nullable
        assert len(schema.columns[col.name].checks) == len(column_rules(col))


def test_valid_frame_passes():
    schema_for(EXTRACTS["kommuner"]).validate(_kommuner())


@pytest.mark.parametrize(
    ("changes", "check"),
    [
        ({"KOM": pd.array([101, 999], dtype="Int64")}, "isin"),
        ({"REGION": pd.array([1084, None], dtype="Int64")}, "not_nullable"),
        ({"KOM": pd.array([101, 101], dtype="Int64")}, "multiple_fields_uniqueness"),
    ],
)
def test_schema_rejects(changes, check):
    with pytest.raises(pandera.errors.SchemaErrors) as info:
        schema_for(EXTRACTS["kommuner"]).validate(_kommuner(**changes), lazy=True)
    assert info.value.failure_cases["check"].str.startswith(check).any()


def test_person_id_check():
    extract = EXTRACTS["udfald"]
    df = pd.DataFrame(
        {
            "PNR": pd.Series(["0505121001", "12345", "abc-def", "a1b2c3d4e5f60718"], dtype="str"),
            "AAR": pd.array([2013] * 4, dtype="Int64"),
            "MAAL": pd.Series(["SDQ", "SDQ", "SDQ", "SDQ"], dtype="str"),
            "VAERDI": [10.0, 11.0, 12.0, 13.0],
        }
    )
    with pytest.raises(pandera.errors.SchemaErrors) as info:
        schema_for(extract).validate(df, lazy=True)
    fc = info.value.failure_cases
    assert sorted(fc.loc[fc["column"] == "PNR", "index"]) == [1, 2]


def test_final_dtypes():
    spells = EXTRACTS["anbringelser_forloeb"]
    assert pandas_dtype(spells.column("UDSTED"), final=True) == "Int64"  # nullable code
    assert pandas_dtype(spells.column("ANBSTED"), final=True) == "int64"
    assert pandas_dtype(spells.column("ANBSTED")) == "Int64"
    assert pandas_dtype(EXTRACTS["udfald"].column("MAAL")) == "str"  # text code keys
    assert pandas_dtype(spells.column("STARTDATO")) == "datetime64[ms]"


def test_committed_contract_document_is_current():
    committed = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "regenerate: python -m evaluation.contract.docs docs/data-contract.md"


def test_document_covers_every_extract_and_column():
    text = render_markdown()
    for extract in EXTRACTS.values():
        assert f"### `{extract.name}`" in text
        for col in extract.columns:
            assert f"| `{col.name}` | `{col.field}` |" in text
    assert "the 98 municipality codes" in text
    assert "`1` dreng/mand; `2` pige/kvinde" in text
