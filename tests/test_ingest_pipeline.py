"""ingest_folder: clean Parquet, pseudonyms, quarantine, accounting, determinism; load_key."""

from __future__ import annotations

import builtins
import hashlib
import hmac
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from evaluation.contract import EXTRACTS
from evaluation.errors import ConfigError, PseudonymisationError
from evaluation.steps.ingest import SYNTHETIC_KEY, ingest_folder, load_key
from hostile import CHILD_IDS, FATHER_IDS, MOTHER_IDS, valid_frames, write_csv, write_valid_folder

KEY = b"a-secret-key-for-tests"
RAW_IDS = CHILD_IDS[:3] + MOTHER_IDS[:3] + FATHER_IDS[:3] + ["FAM00001", "SB00001"]


def _ingest(raw, tmp_path, name="run", on_invalid="quarantine", key=KEY):
    base = tmp_path / name
    lines = []
    table = ingest_folder(
        raw,
        base / "clean",
        on_invalid=on_invalid,
        quarantine_dir=base / "quarantine",
        accounting_path=base / "accounting.csv",
        key=key,
        progress=lines.append,
    )
    return base, table, lines


def _expected_pseudonym(value: str, key: bytes = KEY) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:16]


@pytest.fixture
def raw(tmp_path):
    folder = tmp_path / "raw"
    write_valid_folder(folder)
    return folder


def test_clean_output_names_dtypes_and_pseudonyms(raw, tmp_path):
    base, table, lines = _ingest(raw, tmp_path)
    assert (table["rows_accepted"] == 3).all() and (table["rows_quarantined"] == 0).all()
    assert len(lines) == len(EXTRACTS)
    pop = pd.read_parquet(base / "clean" / "befolkning.parquet")
    assert list(pop.columns) == [c.field for c in EXTRACTS["befolkning"].columns]
    assert str(pop["sex"].dtype) == "int64" and str(pop["year"].dtype) == "int64"
    assert str(pop["birth_date"].dtype) == "datetime64[ms]"
    assert set(pop["person_id"]) == {_expected_pseudonym(v) for v in CHILD_IDS[:3]}
    assert pop["mother_id"].isna().sum() == 1  # missing stays missing
    keys = list(zip(pop["year"], pop["person_id"], strict=True))
    assert keys == sorted(keys)  # sorted by the key (year, pseudonym)
    cases = pd.read_parquet(base / "clean" / "sagshaendelser.parquet")
    assert list(cases["event_id"]) == sorted(cases["event_id"])
    spells = pd.read_parquet(base / "clean" / "anbringelser_forloeb.parquet")
    assert str(spells["exit_destination"].dtype) == "Int64"
    assert sorted(spells["spell_id"]) == ["F000001", "F000002", "F000003"]  # record ids kept
    outcomes = pd.read_parquet(base / "clean" / "udfald.parquet")
    assert set(outcomes["measure"]) <= set(EXTRACTS["udfald"].column("MAAL").codes)
    # same child, same pseudonym across extracts: joins still work
    assert set(outcomes["person_id"]) == set(pop["person_id"])


def test_no_raw_identifier_or_key_in_outputs(raw, tmp_path):
    base, _, lines = _ingest(raw, tmp_path)
    for path in sorted((base / "clean").iterdir()) + [base / "accounting.csv"]:
        data = path.read_bytes()
        for secret in [*RAW_IDS, KEY.decode()]:
            assert secret.encode() not in data, (path.name, secret)
        if path.suffix == ".parquet":
            decoded = pq.read_table(path).to_pandas().astype(str).to_csv()
            metadata = str(pq.read_metadata(path).metadata) + str(pq.read_metadata(path).row_group(0))
            for secret in [*RAW_IDS, KEY.decode()]:
                assert secret not in decoded and secret not in metadata
    assert not any(secret in line for line in lines for secret in [*RAW_IDS, KEY.decode()])


def test_identical_input_gives_identical_bytes(raw, tmp_path):
    a, _, _ = _ingest(raw, tmp_path, "a")
    b, _, _ = _ingest(raw, tmp_path, "b")
    for path in sorted((a / "clean").iterdir()):
        assert path.read_bytes() == (b / "clean" / path.name).read_bytes()
    assert (a / "accounting.csv").read_bytes() == (b / "accounting.csv").read_bytes()


def test_different_key_gives_different_pseudonyms(raw, tmp_path):
    a, _, _ = _ingest(raw, tmp_path, "a")
    b, _, _ = _ingest(raw, tmp_path, "b", key=b"another-key")
    ids_a = set(pd.read_parquet(a / "clean" / "befolkning.parquet")["person_id"])
    ids_b = set(pd.read_parquet(b / "clean" / "befolkning.parquet")["person_id"])
    assert ids_a.isdisjoint(ids_b)


def test_row_with_several_problems_is_quarantined_once(raw, tmp_path):
    frame = valid_frames()["befolkning"]
    frame.loc[1, "KOEN"] = 3
    frame.loc[1, "FOED_DAG"] = "2013-02-30"
    frame.loc[1, "PNR"] = "12345"
    write_csv(frame, raw / "befolkning.csv")
    base, table, _ = _ingest(raw, tmp_path)
    q = pd.read_csv(base / "quarantine" / "befolkning.csv", dtype=str, keep_default_na=False)
    assert len(q) == 1 and q.loc[0, "_row"] == "2"
    assert set(q.loc[0, "_rule"].split("; ")) == {"code", "date", "person_id"}
    assert q.loc[0, "PNR"] == "12345" and q.loc[0, "FOED_DAG"] == "2013-02-30"  # raw values kept in quarantine
    row = table.set_index("extract").loc["befolkning"]
    assert (row["rows_read"], row["rows_accepted"], row["rows_quarantined"]) == (3, 2, 1)


def test_truncated_line_keeps_raw_text_in_quarantine(raw, tmp_path):
    path = raw / "kommuner.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines[:3], "151,Ballerup"]), encoding="utf-8")
    base, table, _ = _ingest(raw, tmp_path)
    q = pd.read_csv(base / "quarantine" / "kommuner.csv", dtype=str, keep_default_na=False)
    assert list(q["_row"]) == ["3"] and list(q["_line"]) == ["151,Ballerup"] and list(q["_rule"]) == ["fields"]
    assert table.set_index("extract").loc["kommuner", "rows_accepted"] == 2


def test_invalid_on_invalid_option(raw, tmp_path):
    with pytest.raises(ConfigError, match="stop' or 'quarantine"):
        _ingest(raw, tmp_path, on_invalid="skip")


def test_empty_key_is_refused(raw, tmp_path):
    with pytest.raises(PseudonymisationError):
        _ingest(raw, tmp_path, key=b"")


def test_truth_json_is_never_opened(raw, tmp_path, monkeypatch):
    (raw / "truth.json").write_text(json.dumps({"att": 1.0}), encoding="utf-8")
    real_open, real_io_open = builtins.open, io.open

    def guarded(opener):
        def inner(file, *args, **kwargs):
            if Path(str(file)).name == "truth.json":
                raise AssertionError("truth.json was opened")
            return opener(file, *args, **kwargs)

        return inner

    monkeypatch.setattr(builtins, "open", guarded(real_open))
    monkeypatch.setattr(io, "open", guarded(real_io_open))
    _, table, _ = _ingest(raw, tmp_path)
    assert "truth" not in " ".join(table["file"])


# -- load_key ------------------------------------------------------------------------------------


def test_load_key_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALUATION_PSEUDONYM_KEY", "from-env")
    assert load_key(tmp_path) == b"from-env"


def test_load_key_from_file(tmp_path, monkeypatch):
    monkeypatch.delenv("EVALUATION_PSEUDONYM_KEY", raising=False)
    key_file = tmp_path / "key.txt"
    key_file.write_bytes(b"  file-key\n")
    assert load_key(tmp_path, key_file=key_file) == b"file-key"
    key_file.write_bytes(b"\n")
    with pytest.raises(PseudonymisationError, match="is empty"):
        load_key(tmp_path, key_file=key_file)
    with pytest.raises(PseudonymisationError, match="does not exist"):
        load_key(tmp_path, key_file=tmp_path / "nope.txt")


def test_empty_environment_variable_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv("EVALUATION_PSEUDONYM_KEY", "")
    (tmp_path / "manifest.json").write_text(json.dumps({"synthetic": True}), encoding="utf-8")
    assert load_key(tmp_path) == SYNTHETIC_KEY == b"synthetic-registry-public-key"


@pytest.mark.parametrize("manifest", [None, {"synthetic": False}, {"synthetic": "yes"}])
def test_real_data_without_key_stops(tmp_path, monkeypatch, manifest):
    monkeypatch.delenv("EVALUATION_PSEUDONYM_KEY", raising=False)
    if manifest is not None:
        (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(PseudonymisationError, match="No pseudonymisation key. Real extracts need a secret key"):
        load_key(tmp_path)


def test_key_never_in_error_messages(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_KEY", "super-secret-value")
    assert load_key(tmp_path, env_var="MY_KEY") == b"super-secret-value"
    with pytest.raises(ConfigError) as info:
        ingest_folder(
            tmp_path,
            tmp_path / "o",
            on_invalid="bad",
            quarantine_dir=tmp_path / "q",
            accounting_path=tmp_path / "a.csv",
            key=b"super-secret-value",
            progress=lambda _: None,
        )
    assert "super-secret-value" not in str(info.value)
