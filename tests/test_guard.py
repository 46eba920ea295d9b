"""The output guard finds planted identifiers and small cells, names file and cell, and passes clean outputs."""

from __future__ import annotations

import json
import zlib

import pandas as pd
import pytest

from evaluation.disclosure import DisclosureError
from evaluation.steps.guard import check_outputs, scan_outputs
from evaluation.steps.ingest.pseudonymise import pseudonym

CPR = "0505121001"
PSEUDO = pseudonym(CPR, b"some-key")


def _clean_results(root):
    results = root / "results"
    (results / "estimate").mkdir(parents=True)
    pd.DataFrame({"year": [2010, 2011], "mean": [1.25, 0.1203111002345678], "n": [0, 250]}).to_csv(
        results / "estimate" / "trends.csv", index=False
    )
    pd.DataFrame({"step": ["a", "b"], "n_treated": ["<5", "12"], "n_control": [5, 9999999999]}).to_csv(
        results / "flow.csv", index=False
    )
    study = {"config_sha256": "67cd220a53f93bf4a71bc5c06ef8b9a30f714309c4d0512e128ca988044f6d8a", "min_cell": 5}
    (results / "study.json").write_text(json.dumps(study), encoding="utf-8")
    (root / "reports" / "_output").mkdir(parents=True)
    (root / "reports" / "_output" / "interim.html").write_text(
        "<p>Costs of 1,160,000 DKK; 3213991234 is no date; colour #a1b2c3.</p>", encoding="utf-8"
    )
    return [results, root / "reports" / "_output"]


def test_clean_outputs_pass(tmp_path):
    paths = _clean_results(tmp_path)
    assert scan_outputs(paths, min_cell=5) == []
    check_outputs(paths, min_cell=5)


def test_planted_cpr_in_a_csv_names_file_row_and_column(tmp_path):
    paths = _clean_results(tmp_path)
    pd.DataFrame({"outcome": ["sdq", CPR], "estimate": [1.0, 2.0]}).to_csv(paths[0] / "estimates.csv", index=False)
    found = scan_outputs(paths)
    assert [(f.path.name, f.where, f.rule) for f in found] == [("estimates.csv", "row 2, column outcome", "cpr_number")]
    with pytest.raises(DisclosureError) as info:
        check_outputs(paths)
    message = str(info.value)
    assert "estimates.csv, row 2, column outcome" in message and "05********" in message
    assert CPR not in message  # the guard does not leak what it found


@pytest.mark.parametrize("written", ["050512-1001", f"id {CPR}."])
def test_cpr_in_text_is_found_by_line(tmp_path, written):
    paths = _clean_results(tmp_path)
    (paths[1] / "notes.md").write_text(f"# Notes\n\nsee {written}\n", encoding="utf-8")
    found = scan_outputs(paths)
    assert [(f.path.name, f.where, f.rule) for f in found] == [("notes.md", "line 3", "cpr_number")]


def test_planted_pseudonym_in_html(tmp_path):
    paths = _clean_results(tmp_path)
    (paths[1] / "interim.html").write_text(f"<td>{PSEUDO}</td>", encoding="utf-8")
    found = scan_outputs(paths)
    assert [(f.path.name, f.rule) for f in found] == [("interim.html", "pseudonym")]


def test_id_column_and_small_cells(tmp_path):
    paths = _clean_results(tmp_path)
    pd.DataFrame({"PNR": ["x"], "n": [3], "antal_boern": [4], "n_control": [5], "count": [0]}).to_csv(
        paths[0] / "bad.csv", index=False
    )
    found = {(f.where, f.rule) for f in scan_outputs(paths, min_cell=5)}
    assert found == {
        ("column PNR", "id_column"),
        ("row 1, column n", "small_cell"),
        ("row 1, column antal_boern", "small_cell"),
    }
    # with a threshold of 3, a count of 3 and 4 may be published
    assert {(f.where, f.rule) for f in scan_outputs(paths, min_cell=3)} == {("column PNR", "id_column")}


def test_small_count_in_json_and_parquet(tmp_path):
    paths = _clean_results(tmp_path)
    (paths[0] / "extra.json").write_text(json.dumps({"groups": [{"n": 12}, {"n": 2}]}), encoding="utf-8")
    pd.DataFrame({"person_id": [PSEUDO], "n": [1]}).to_parquet(paths[0] / "leak.parquet")
    found = {(f.path.name, f.where, f.rule) for f in scan_outputs(paths)}
    assert ("extra.json", "key groups[1].n", "small_cell") in found
    assert ("leak.parquet", "column person_id", "id_column") in found
    assert ("leak.parquet", "row 1, column person_id", "pseudonym") in found
    assert ("leak.parquet", "row 1, column n", "small_cell") in found
    assert len(found) == 4


def test_pdf_flate_streams_are_inflated(tmp_path):
    paths = _clean_results(tmp_path)
    stream = zlib.compress(f"BT (child {CPR}) Tj ET".encode())
    pdf = b"%PDF-1.7\n1 0 obj\n<< /Filter /FlateDecode >>\nstream\n" + stream + b"\nendstream\nendobj\n%%EOF\n"
    (paths[1] / "interim.pdf").write_bytes(pdf)
    found = scan_outputs(paths)
    assert [(f.path.name, f.where, f.rule) for f in found] == [("interim.pdf", "stream 1", "cpr_number")]


def test_pdf_image_streams_are_not_read_but_the_text_streams_around_them_are(tmp_path):
    """Image XObjects hold pixels (any ten bytes may look like a CPR number); text streams are still scanned."""
    paths = _clean_results(tmp_path)
    pixels = zlib.compress(f"{CPR}".encode() * 4)  # digits in an image's pixel data: not text
    text = zlib.compress(f"BT (child {CPR}) Tj ET".encode())
    image = b"<< /Type /XObject /Subtype /Image /Width 4 /Height 1 /Filter /FlateDecode >>"
    pdf = (
        b"%PDF-1.7\n1 0 obj\n" + image + b"\nstream\n" + pixels + b"\nendstream\nendobj\n"
        b"2 0 obj\n<< /Filter /FlateDecode >>\nstream\n" + text + b"\nendstream\nendobj\n%%EOF\n"
    )
    (paths[1] / "final.pdf").write_bytes(pdf)
    found = scan_outputs(paths)
    assert [(f.path.name, f.where, f.rule) for f in found] == [("final.pdf", "stream 2", "cpr_number")]


def test_internal_folder_is_skipped(tmp_path):
    paths = _clean_results(tmp_path)
    (paths[0] / "internal").mkdir()
    pd.DataFrame({"person_id": [CPR]}).to_csv(paths[0] / "internal" / "keys.csv", index=False)
    assert scan_outputs(paths) == []
    assert len(scan_outputs(paths, internal=())) == 2


def test_guard_refuses_a_threshold_below_three(tmp_path):
    from evaluation.errors import ConfigError

    with pytest.raises(ConfigError):
        scan_outputs([tmp_path], min_cell=2)


def test_digits_inside_an_embedded_image_are_not_a_cpr_number(tmp_path):
    from evaluation.steps.guard import scan_file

    page = tmp_path / "report.html"
    # a valid-date ten-digit run occurs by chance in base64; the same run in the text is found
    page.write_bytes(b'<img src="data:image/png;base64,iVBORw0K1103991234Gg\nAAA=="/>\n<p>1103991234</p>\n')
    found = scan_file(page)
    assert [(f.rule, f.where) for f in found] == [("cpr_number", "line 3")]


def test_counts_of_municipalities_pass_and_counts_of_persons_below_min_cell_fail(tmp_path):
    """The results registry declares the unit of each count: min_cell applies to persons and child-years only."""
    paths = _clean_results(tmp_path)
    final = paths[0] / "final"
    (final / "estimate").mkdir(parents=True)
    (final / "synth").mkdir()
    (final / "cohort").mkdir()
    inference = {"outcome": ["sdq"], "n_clusters": [98], "n_treated_clusters": [1], "draws": [97]}
    pd.DataFrame(inference).to_csv(final / "estimate" / "inference.csv", index=False)
    pd.DataFrame({"outcome": ["placement_rate"], "att_average": [0.1], "n_adopters": [1]}).to_csv(
        final / "synth" / "average.csv", index=False
    )
    (final / "study.json").write_text(json.dumps({"n_municipalities": 4, "min_cell": 5}), encoding="utf-8")
    estimates = {"outcome": ["sdq", "caseload"], "n_treated": [120, 1], "n_control": [300, 97]}
    pd.DataFrame(estimates).to_csv(final / "estimates.csv", index=False)
    assert scan_outputs(paths, min_cell=5) == []
    check_outputs(paths, min_cell=5)

    pd.DataFrame({"step": ["matched"], "n_treated": [3], "n_control": [40]}).to_csv(
        final / "cohort" / "sample_flow.csv", index=False
    )
    estimates["n_treated"] = [3, 1]  # three treated children: a person count, still refused
    pd.DataFrame(estimates).to_csv(final / "estimates.csv", index=False)
    found = {(f.path.name, f.where, f.rule) for f in scan_outputs(paths, min_cell=5)}
    assert found == {
        ("sample_flow.csv", "row 1, column n_treated", "small_cell"),
        ("estimates.csv", "row 1, column n_treated", "small_cell"),
    }
    with pytest.raises(DisclosureError, match=r"estimates\.csv, row 1, column n_treated: count 3 is below"):
        check_outputs(paths, min_cell=5)


def test_a_national_sum_of_kroner_is_no_cpr_number_but_an_identifier_in_its_column_is(tmp_path):
    """Reconciliation totals of 1-10 billion DKK have ten digits that begin like a date (found on the national run).

    The registry declares such columns as amounts; a number there is money. Text, a dashed CPR number or a
    leading zero in the same column, and the same number in any other column, are still refused.
    """
    paths = _clean_results(tmp_path)
    economics = paths[0] / "final" / "economics"
    economics.mkdir(parents=True)
    table = {
        "year": [2019, 2019],
        "function": ["5.28.20", "5.28.21"],
        "accounts_dkk": ["2705142000", "11959138000"],
        "micro_dkk": ["2740493400.5", "4199568100"],
        "share_explained": [0.98, 0.35],
        "n_children": [1000, 2000],
    }
    pd.DataFrame(table).to_csv(economics / "reconciliation.csv", index=False)
    assert scan_outputs(paths, min_cell=5) == []

    for written in ("050512-1001", CPR, "id 2705142000"):
        table["accounts_dkk"] = [written, "11959138000"]
        pd.DataFrame(table).to_csv(economics / "reconciliation.csv", index=False)
        found = [(f.path.name, f.where, f.rule) for f in scan_outputs(paths, min_cell=5)]
        assert found == [("reconciliation.csv", "row 1, column accounts_dkk", "cpr_number")], written
    table["accounts_dkk"] = ["2705142000", "11959138000"]
    table["share_explained"] = ["2705142000", 0.35]  # a number column that holds no money
    pd.DataFrame(table).to_csv(economics / "reconciliation.csv", index=False)
    found = [(f.where, f.rule) for f in scan_outputs(paths, min_cell=5)]
    assert found == [("row 1, column share_explained", "cpr_number")]
