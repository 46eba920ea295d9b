"""Provenance: hashes against published test vectors, deterministic records, the run date kept apart."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from evaluation import __version__
from evaluation.errors import EvaluationError
from evaluation.steps.provenance import (
    code_version,
    config_seeds,
    file_sha256,
    input_hashes,
    package_versions,
    provenance,
    write_provenance,
    write_run_info,
)

# FIPS 180-2 test vector: SHA-256("abc")
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
CONFIG = {"data": {"source": "synthetic"}, "synthetic": {"seed": 7}, "matching": {"bootstrap_seed": 11, "ratio": 1}}


def test_file_hash_matches_the_published_test_vectors(tmp_path: Path) -> None:
    (tmp_path / "abc.txt").write_bytes(b"abc")
    (tmp_path / "empty.txt").write_bytes(b"")
    assert file_sha256(tmp_path / "abc.txt") == ABC
    assert file_sha256(tmp_path / "empty.txt") == EMPTY
    with pytest.raises(EvaluationError, match="missing"):
        file_sha256(tmp_path / "absent.txt")


def test_a_folder_stands_for_its_files_sorted_and_relative(tmp_path: Path) -> None:
    raw = tmp_path / "data" / "raw"
    (raw / "sub").mkdir(parents=True)
    (raw / "b.csv").write_bytes(b"abc")
    (raw / "sub" / "a.csv").write_bytes(b"")
    hashes = input_hashes([raw], root=tmp_path)
    assert list(hashes) == ["data/raw/b.csv", "data/raw/sub/a.csv"]
    assert hashes == {"data/raw/b.csv": ABC, "data/raw/sub/a.csv": EMPTY}


def test_seeds_are_found_at_any_depth() -> None:
    assert config_seeds(CONFIG) == {"matching.bootstrap_seed": 11, "synthetic.seed": 7}


def test_package_versions_include_python_and_mark_absent_packages() -> None:
    versions = package_versions(["numpy", "surely-not-installed-xyz"])
    assert set(versions) == {"numpy", "python", "surely-not-installed-xyz"}
    assert versions["surely-not-installed-xyz"] == "not installed"
    assert versions["numpy"][0].isdigit()


def test_code_version_without_git_falls_back_to_the_package_version(tmp_path: Path) -> None:
    assert code_version(tmp_path) == f"{__version__} (no git)"


def test_provenance_is_deterministic_and_holds_no_date(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_bytes(b"abc")
    first = write_provenance(CONFIG, [tmp_path / "x.csv"], tmp_path / "a" / "provenance.json", root=tmp_path)
    second = write_provenance(CONFIG, [tmp_path / "x.csv"], tmp_path / "b" / "provenance.json", root=tmp_path)
    assert first.read_bytes() == second.read_bytes()
    record = json.loads(first.read_text(encoding="utf-8"))
    assert record["inputs"] == {"x.csv": ABC}
    assert record["seeds"] == {"matching.bootstrap_seed": 11, "synthetic.seed": 7}
    assert not any("date" in key or "time" in key for key in record)
    # a changed input changes the combined digest
    (tmp_path / "x.csv").write_bytes(b"abd")
    assert provenance(CONFIG, [tmp_path / "x.csv"], root=tmp_path)["inputs_sha256"] != record["inputs_sha256"]


def test_run_info_records_the_date_in_utc(tmp_path: Path) -> None:
    moment = dt.datetime(2024, 3, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    info = json.loads(write_run_info(tmp_path / "run_info.json", now=moment).read_text(encoding="utf-8"))
    assert info == {"run_date": "2024-02-29", "run_time_utc": "2024-02-29T22:30:00Z"}
