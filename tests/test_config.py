from __future__ import annotations

import copy
import re

import pytest

from evaluation.config import (
    config_digest,
    load_config,
    merge,
    schema_defaults,
    section,
    setting,
    validate_config,
)
from evaluation.config_docs import render_config_docs
from evaluation.errors import ConfigError


def test_project_config_is_valid_and_defaults_are_filled(config_path):
    config = load_config(config_path)
    assert config["synthetic"]["scale"] in {"tiny", "demo", "national"}
    # A key absent from the file takes the schema default.
    assert config["report"]["year_published"] is None
    assert config["disclosure"]["min_cell"] >= 3


def test_empty_config_gets_every_default():
    config = validate_config({})
    assert config["data"]["source"] == "synthetic"
    assert config["synthetic"]["effects"]["sdq_change"] == -1.5
    assert config["matching"]["ratio"] == 1


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"synthetic": {"scale": "huge"}}, "synthetic.scale = 'huge' is not allowed; choose one of 'tiny', 'demo'"),
        ({"disclosure": {"min_cell": 2}}, "disclosure.min_cell = 2: must be at least 3"),
        ({"matching": {"ratoi": 2}}, "'ratoi' was unexpected"),
        (
            {"report": {"cutoff_date": "2015/01/01"}},
            "report.cutoff_date = '2015/01/01' does not have the expected form",
        ),
        ({"treatment": {"adoptions": {999: 2013}}}, "999 is not one of the 98 municipality codes"),
        ({"treatment": {"adoptions": {657: 2010}}}, "the adoption year must be after 2010"),
        ({"synthetic": {"seed": "x"}}, "synthetic.seed = 'x' has the wrong type"),
        ({"matching": {"method": "cem"}}, "matching.caliper must be null when matching.method is 'cem'"),
        ({"report": {"factsheets": [999]}}, "report.factsheets: 999 is not one of the 98 municipality codes"),
        (  # an interim release without a treated municipality stopped in prepare_economics, minutes into the run
            {"report": {"cutoff_date": "2012-12-31"}},
            "the interim release ends before the first adoption (2013)",
        ),
    ],
)
def test_bad_values_give_readable_messages(config_path, override, fragment):
    with pytest.raises(ConfigError) as info:
        load_config(config_path, override)
    assert fragment in str(info.value)


def test_values_given_as_text_on_the_command_line_are_typed_by_the_schema(config_path):
    """snakemake --config 'disclosure={min_cell: 7}' passes '7'; the schema says what it is."""
    config = load_config(
        config_path,
        {
            "disclosure": {"min_cell": "7"},
            "estimation": {"alpha": "0.1"},
            "matching": {"caliper": "null", "replace": "false"},
            "prices": {"items": {"network": {"dkk_per_year": "350000", "source": "2019"}}},
            "report": {"title": "2024", "factsheets": ["657"]},
        },
    )
    assert config["disclosure"]["min_cell"] == 7
    assert config["estimation"]["alpha"] == 0.1
    assert config["matching"]["caliper"] is None and config["matching"]["replace"] is False
    assert config["prices"]["items"]["network"]["dkk_per_year"] == 350000  # through the schema's $ref
    # where the schema admits text, text stays text
    assert config["report"]["title"] == "2024" and config["prices"]["items"]["network"]["source"] == "2019"
    assert config["report"]["factsheets"] == [657]
    # text that spells no admitted value still fails the validation, with its key
    with pytest.raises(ConfigError, match="disclosure.min_cell = 'seven' has the wrong type"):
        validate_config({"disclosure": {"min_cell": "seven"}})
    with pytest.raises(ConfigError, match="disclosure.min_cell = '7.5' has the wrong type"):
        validate_config({"disclosure": {"min_cell": "7.5"}})
    # digits are read as decimal digits, and only true/false are booleans (not YAML 1.1's octal and yes/no)
    assert validate_config({"disclosure": {"min_cell": "010"}})["disclosure"]["min_cell"] == 10
    with pytest.raises(ConfigError, match="matching.replace = 'yes' has the wrong type"):
        validate_config({"matching": {"replace": "yes"}})


def test_merge_is_recursive_and_does_not_mutate():
    base = {"a": {"b": 1, "c": 2}, "d": 3}
    out = merge(base, {"a": {"b": 10}})
    assert out == {"a": {"b": 10, "c": 2}, "d": 3}
    assert base["a"]["b"] == 1


def test_digest_depends_on_content_not_order():
    assert config_digest({"a": 1, "b": 2}) == config_digest({"b": 2, "a": 1})
    assert config_digest({"a": 1}) != config_digest({"a": 2})


def test_config_docs_are_current_and_cover_every_key(root):
    text = render_config_docs()
    assert (root / "docs" / "config.md").read_text(encoding="utf-8") == text, (
        "docs/config.md is stale: regenerate it with evaluation.config_docs.render_config_docs()"
    )
    for key in ("data.on_invalid_row", "synthetic.effects.sdq_change", "matching.caliper", "disclosure.min_cell"):
        assert f"`{key}`" in text


def test_release_config_keeps_the_cutoff_for_the_interim_release_only(config_path):
    from evaluation.config import effective_cutoff, release_config, user_config
    from evaluation.report.documents import planned_documents

    config = load_config(config_path, {"report": {"cutoff_date": "2016-06-30"}})
    interim, final = release_config(config, "interim"), release_config(config, "final")
    assert interim["report"]["release"] == "interim" and final["report"]["release"] == "final"
    assert effective_cutoff(interim) == "2016-06-30" and effective_cutoff(final) is None
    assert effective_cutoff(config) == "2016-06-30"  # outside a release: the configured cut-off
    assert "release" not in config["report"]  # the caller's config is untouched
    # both releases carry the digest of the configuration the user wrote
    assert config_digest(interim) == config_digest(final) == config_digest(config)
    assert user_config(final) == config
    with pytest.raises(ConfigError, match="unknown release 'draft'"):
        release_config(config, "draft")
    # every planned document is rendered from exactly one release; the interim report from the cut-off data
    by_release = {r: planned_documents(config, r) for r in ("interim", "final")}
    assert [d for d, _, _ in by_release["interim"]] == ["interim"]
    assert sorted(by_release["interim"] + by_release["final"], key=str) == sorted(planned_documents(config), key=str)


def test_schema_defaults_are_what_validation_fills_into_a_config_that_leaves_a_section_out():
    full = validate_config({})
    for name, value in full.items():
        assert schema_defaults(name) == value, name
    assert schema_defaults("estimation", "staggered", "seed") == full["estimation"]["staggered"]["seed"]
    assert schema_defaults("inference") is not schema_defaults("inference")  # a copy: callers may change it
    with pytest.raises(ConfigError, match=r"no default for estimation\.no_such_key"):
        schema_defaults("estimation", "no_such_key")


def test_setting_reads_the_config_and_falls_back_to_the_schema_only_where_it_is_silent():
    assert setting({"disclosure": {"min_cell": 11}}, "disclosure", "min_cell") == 11
    default = schema_defaults("disclosure", "min_cell")
    assert setting({}, "disclosure", "min_cell") == default
    assert setting({"disclosure": None}, "disclosure", "min_cell") == default  # a null section is left out
    assert setting({"disclosure": {}}, "disclosure", "min_cell") == default
    assert setting({"report": {"cutoff_date": None}}, "report", "cutoff_date") is None  # a null value is a value
    with pytest.raises(ConfigError, match=r"no default for report\.no_such_key"):
        setting({"report": {}}, "report", "no_such_key")


def test_section_completes_a_partial_section_as_validation_would():
    partial = {"synth": {"sdid": {"seed": 7}}, "montecarlo": {"scenarios": {"only": {"sdq_change": 0.0}}}}
    validated = validate_config(copy.deepcopy(partial))
    for name in ("synth", "montecarlo"):
        assert section(partial, name) == validated[name], name
    assert section(partial, "synth")["sdid"] == {**schema_defaults("synth", "sdid"), "seed": 7}
    # a map the user writes replaces the default map: the four default scenarios do not come back
    assert list(section(partial, "montecarlo")["scenarios"]) == ["only"]
    assert section({}, "estimation", "staggered") == schema_defaults("estimation", "staggered")
    assert partial == {"synth": {"sdid": {"seed": 7}}, "montecarlo": {"scenarios": {"only": {"sdq_change": 0.0}}}}


def test_steps_keep_no_copy_of_a_config_default(root):
    """Every config default lives in the schema: steps read it through setting(), section() or schema_defaults().

    Two ways a copy creeps back in: a module-level ``*_DEFAULTS = {...}`` literal, and a chained
    ``config.get("section", ...).get("key", literal)``.
    """
    literal_defaults = re.compile(r"^[A-Z_]*DEFAULTS\b[^=\n]*= *\{", re.MULTILINE)
    chained_get = re.compile(r"config\.get\(\"[a-z_]+\"[^)]*\)(?: or \{\}\))?\.get\(\"[a-z_]+\", ")
    offenders = []
    for path in sorted((root / "src" / "evaluation").rglob("*.py")):
        if "simulate" in path.parts:  # the generator's own model (synthetic.model); the schema points to it
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [
            f"{path.name}: {m.group(0)}" for pattern in (literal_defaults, chained_get) for m in pattern.finditer(text)
        ]
    assert offenders == []


def test_the_inference_policys_own_defaults_are_the_schemas():
    # the method layer reads no config, so choose_inference(..., None) keeps a copy of four schema defaults;
    # this is the check that the copy and its source agree
    from evaluation.methods.inference import DEFAULT_POLICY

    schema = schema_defaults("inference")
    assert DEFAULT_POLICY == {key: schema[key] for key in DEFAULT_POLICY}
