"""Load and validate the study configuration.

The configuration (``config/config.yaml``) is the study design. It is checked
against the JSON schema in ``workflow/schemas/config.schema.yaml`` at start-up;
defaults written in the schema are filled in, and a bad value stops the run
with a message that names the key, the value and what is allowed.

A study file (``snakemake --configfile my_study.yaml``, templates in ``config/studies/``) is merged
into ``config/config.yaml`` key by key, except the settings of :data:`REPLACED_SETTINGS`: a study
file that names its adopters replaces the demo's adopters instead of adding to them
(:func:`apply_study_file`).

API page: Configuration (`evaluation.config`)
---------------------------------------------
```python
from evaluation.config import load_config, validate_config, release_config, effective_cutoff, RELEASES
config = load_config("config/config.yaml", overrides={"synthetic": {"scale": "tiny"}})
interim = release_config(config, "interim")   # report.release = "interim"
effective_cutoff(interim)                     # report.cutoff_date: the interim report's data
effective_cutoff(release_config(config, "final"))   # None: all data

from evaluation.config import schema_defaults, setting, section   # the schema is the one source of defaults
schema_defaults("inference")                  # the defaults of a section (or of one key)
setting(config, "disclosure", "min_cell")     # a value, or the schema's default where the config is silent
section(config, "synth")                      # a section completed with defaults, as validation completes it
```

The pipeline computes every result once per release (`RELEASES = ("interim", "final")`), into
`results/interim/` and `results/final/`; the interim report is rendered from the first, the final
reports and the factsheets from the second (`evaluation.report.documents.RELEASE_OF`).

Every key is described in `docs/config.md`.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from evaluation.errors import ConfigError
from evaluation.yaml_text import load_yaml

#: Where the schema lives in a checkout of the project.
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def _read_yaml(path: Path, what: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path} is not valid YAML: {exc}") from None


@functools.cache
def _schema() -> dict[str, Any]:
    """Read the project's config schema (once)."""
    return _read_yaml(SCHEMA_PATH, "Config schema")


def _extend_with_defaults(validator_class: type) -> type:
    """Return a validator class that fills in ``default`` values while validating."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):  # type: ignore[no-untyped-def]
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_DefaultFillingValidator = _extend_with_defaults(jsonschema.Draft202012Validator)


def _describe(error: jsonschema.ValidationError) -> str:
    key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
    if error.validator == "enum":
        allowed = ", ".join(repr(v) for v in error.validator_value)
        return f"{key} = {error.instance!r} is not allowed; choose one of {allowed}"
    if error.validator == "additionalProperties":
        return f"{key}: {error.message} (check the spelling against the schema)"
    if error.validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }
        return f"{key} = {error.instance!r}: must be {words[error.validator]} {error.validator_value}"
    if error.validator == "type":
        return f"{key} = {error.instance!r} has the wrong type; expected {error.validator_value}"
    if error.validator == "pattern":
        return f"{key} = {error.instance!r} does not have the expected form ({error.validator_value})"
    return f"{key}: {error.message}"


#: Settings that a study file or ``--config`` replaces as a whole rather than merging into the defaults.
REPLACED_SETTINGS: tuple[tuple[str, ...], ...] = (("treatment", "adoptions"),)


def apply_study_file(config: dict[str, Any], study: Mapping[str, Any] | None) -> dict[str, Any]:
    """Give the settings of :data:`REPLACED_SETTINGS` in ``study`` precedence over the merged ``config``.

    Snakemake (and :func:`merge`) merge a ``--configfile`` into the defaults key by key, which would add a
    study's adopters to the demo's. This sets each replaced setting that ``study`` names to exactly its
    value. ``config`` is changed in place and returned.

    Parameters
    ----------
    config
        The merged configuration (defaults, study files and ``--config`` values).
    study
        What the study files and ``--config`` set (Snakemake's ``overwrite_config``), or None.
    """
    for path in REPLACED_SETTINGS:
        source: Any = study or {}
        for key in path:
            source = source.get(key) if isinstance(source, Mapping) else None
        if source is None:
            continue
        target = config
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = copy.deepcopy(source)
    return config


def _integer_like(value: Any) -> Any:
    """Return ``value`` as an int when it is a string of digits (``--config`` passes every value as text)."""
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def _normalise(config: dict[str, Any]) -> None:
    """Turn municipality codes given as text (``--config 'treatment={adoptions: {657: 2014}}'``) into ints.

    Only the keys: values given as text are typed by the schema (:func:`_typed_from_text`).
    """
    treatment = config.get("treatment")
    if isinstance(treatment, dict) and isinstance(treatment.get("adoptions"), dict):
        treatment["adoptions"] = {_integer_like(k): v for k, v in treatment["adoptions"].items()}


_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def _number_from_text(text: str) -> int | float | None:
    """Return the number ``text`` spells (an int when it has no point or exponent), or None."""
    if _INTEGER_TEXT.fullmatch(text):
        return int(text)
    return float(text) if _DECIMAL_TEXT.fullmatch(text) else None


#: For each JSON schema type, the value a text spells, or None (``--config`` passes nested values as text).
#: Stricter than YAML 1.1, which would read ``'010'`` as octal 8 and ``'yes'`` as true.
_SCALAR_TEXT = {
    "integer": lambda text: int(text) if _INTEGER_TEXT.fullmatch(text) else None,
    "number": _number_from_text,
    "boolean": lambda text: {"true": True, "false": False}.get(text.lower()),
}
_NULL_TEXT = frozenset({"null", "Null", "NULL", "~"})


def _typed_from_text(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Any:
    """Return ``value`` with text the schema does not allow as text read as the scalar it spells.

    ``snakemake --config 'disclosure={min_cell: 7}'`` passes nested values as text (``'7'``). Where the
    schema of a value admits no string, text that spells a value of an admitted type is
    replaced by that value (:data:`_SCALAR_TEXT`): ``'7'`` for an integer, ``'0.1'`` for a number,
    ``'true'`` for a boolean, ``'null'`` where null is allowed. Anything else, and every value whose
    schema admits strings, is left as it is, for the validation to judge. Mappings are changed in place.

    Parameters
    ----------
    value
        A configuration value (a mapping for the whole configuration).
    schema
        Its JSON schema; local references (``#/$defs/...``) are resolved against ``root``.
    root
        The whole schema; default ``schema``.

    Returns
    -------
    Any
        The value, typed where the schema says so.
    """
    root = schema if root is None else root
    while "$ref" in schema:
        target: Any = root
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        schema = target
    if isinstance(value, dict):
        properties, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key, extra)
            if isinstance(sub, Mapping):
                value[key] = _typed_from_text(item, sub, root)
        return value
    if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
        return [_typed_from_text(item, schema["items"], root) for item in value]
    types = schema.get("type")
    types = [types] if isinstance(types, str) else list(types or [])
    if isinstance(value, str) and types and "string" not in types:
        text = value.strip()
        if "null" in types and text in _NULL_TEXT:
            return None
        for kind in types:
            read = _SCALAR_TEXT[kind](text) if kind in _SCALAR_TEXT else None
            if read is not None:
                return read
    return value


def validate_config(config: dict[str, Any], schema_path: Path | None = None) -> dict[str, Any]:
    """Validate ``config`` against the schema, filling in defaults in place.

    Parameters
    ----------
    config
        The parsed configuration. Missing keys with a default in the schema
        are added.
    schema_path
        The JSON schema (YAML). Defaults to ``workflow/schemas/config.schema.yaml``.

    Returns
    -------
    dict
        The same ``config`` object, completed with defaults.

    Raises
    ------
    ConfigError
        When a value breaks the schema or the design is inconsistent; the
        message lists every problem with its key.
    """
    if not isinstance(config, dict):
        raise ConfigError("The configuration must be a mapping of keys to values.")
    _normalise(config)
    schema = _read_yaml(schema_path, "Config schema") if schema_path else _schema()
    _typed_from_text(config, schema)
    validator = _DefaultFillingValidator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = "\n".join(f"  - {_describe(e)}" for e in errors)
        raise ConfigError(f"The configuration is invalid:\n{lines}")
    _check_consistency(config)
    return config


def _check_consistency(config: Mapping[str, Any]) -> None:
    """Check what the schema cannot express: years in range, known municipalities, an adopter in the interim release."""
    from evaluation.contract.codes import MUNICIPALITY

    first, last = setting(config, "synthetic", "first_year"), setting(config, "synthetic", "last_year")
    if first >= last:
        raise ConfigError(f"synthetic.first_year ({first}) must be before synthetic.last_year ({last}).")
    problems = []
    years = []  # adoption years of known municipalities
    for code, year in (setting(config, "treatment", "adoptions") or {}).items():
        try:
            kom = int(code)
        except (TypeError, ValueError):
            problems.append(f"treatment.adoptions: {code!r} is not a municipality code")
            continue
        if kom not in MUNICIPALITY:
            problems.append(f"treatment.adoptions: {kom} is not one of the 98 municipality codes")
            continue
        years.append(int(year))
        if setting(config, "data", "source") == "synthetic" and not first < int(year) <= last:
            problems.append(
                f"treatment.adoptions.{kom} = {year}: the adoption year must be after {first} "
                f"(so that there is a pre-period) and no later than {last}"
            )
    cutoff = setting(config, "report", "cutoff_date")
    if cutoff and years and min(years) > int(str(cutoff)[:4]):
        problems.append(
            f"report.cutoff_date = {cutoff}: the interim release ends before the first adoption ({min(years)}), so "
            f"it has no treated municipality to estimate anything for; set a cut-off in {min(years)} or later, or null "
            "(the interim release then uses all data)"
        )
    matching = config.get("matching", {})
    if matching.get("method") in ("exact", "cem") and matching.get("caliper") is not None:
        problems.append(f"matching.caliper must be null when matching.method is {matching['method']!r}")
    for code in setting(config, "report", "factsheets") or []:
        if int(code) not in MUNICIPALITY:
            problems.append(f"report.factsheets: {code} is not one of the 98 municipality codes")
    if problems:
        raise ConfigError("The configuration is invalid:\n" + "\n".join(f"  - {p}" for p in problems))


def load_config(
    path: Path,
    overrides: Mapping[str, Any] | None = None,
    schema_path: Path | None = None,
    study_files: Sequence[Path] = (),
) -> dict:
    """Read a YAML config file, merge study files and ``overrides`` into it and validate it.

    Parameters
    ----------
    path
        The config file, usually ``config/config.yaml``.
    overrides
        Nested values that replace those of the file (as Snakemake's ``--config``).
    schema_path
        The schema; see :func:`validate_config`.
    study_files
        Study files merged in order after ``path`` (as Snakemake's ``--configfile``); the settings of
        :data:`REPLACED_SETTINGS` they name replace the defaults' (:func:`apply_study_file`).

    Returns
    -------
    dict
        The validated configuration, with defaults filled in.
    """
    config = _read_yaml(path, "Config file") or {}
    study: dict[str, Any] = {}
    for file in study_files:
        study = merge(study, _read_yaml(file, "Study file") or {})
    if overrides:
        study = merge(study, overrides)
    config = apply_study_file(merge(config, study), study)
    return validate_config(config, schema_path)


@functools.cache
def _schema_default_config() -> dict[str, Any]:
    """Every default the schema declares, filled in as :func:`validate_config` fills them into an empty config."""
    config: dict[str, Any] = {}
    for _ in _DefaultFillingValidator(_schema()).iter_errors(config):
        pass  # an empty config misses required keys; only the filled-in defaults matter here
    return config


def schema_defaults(*keys: str) -> Any:
    """Return the default the schema declares at ``keys`` (a section's defaults as a dict): the one source of defaults.

    ``schema_defaults("inference")`` is the ``inference`` section of a configuration that sets nothing;
    ``schema_defaults("estimation", "alpha")`` one value. Steps that are called with a configuration that was not
    validated (a test's, a user's partial one) take what is missing from here, never from a literal of their own.

    Raises
    ------
    ConfigError
        If the schema declares no default at ``keys``.
    """
    node: Any = _schema_default_config()
    for depth, key in enumerate(keys):
        if not isinstance(node, Mapping) or key not in node:
            raise ConfigError(f"The config schema declares no default for {'.'.join(keys[: depth + 1])}.")
        node = node[key]
    return copy.deepcopy(node)


def setting(config: Mapping[str, Any], *keys: str) -> Any:
    """Return the value of ``keys`` in ``config``, or the schema's default where the config leaves it out.

    A section that is absent or null counts as left out; a value that is null is returned as null.
    ``setting(config, "disclosure", "min_cell")`` replaces a chained ``dict.get`` with a literal default, which
    would be a second copy of the schema's.

    Raises
    ------
    ConfigError
        If the config leaves the value out and the schema declares no default for it.
    """
    node: Any = config
    for depth, key in enumerate(keys):
        inner = depth < len(keys) - 1  # a section on the way to the value
        if not isinstance(node, Mapping) or key not in node or (inner and node[key] is None):
            return schema_defaults(*keys)
        node = node[key]
    return node


def section(config: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """Return the config section at ``keys`` completed with the schema's defaults, as :func:`validate_config` would.

    ``section(config, "synth")`` is the ``synth`` section of a validated configuration, also for one that was not
    validated or leaves the section out: keys it leaves out take their defaults (nested sections too), keys it
    sets keep their values (a map it sets, such as ``montecarlo.scenarios``, replaces the default map).
    """
    given = setting(config, *keys)
    if not isinstance(given, Mapping):
        return schema_defaults(*keys)
    nested: Any = copy.deepcopy(dict(given))
    for key in reversed(keys):
        nested = {key: nested}
    for _ in _DefaultFillingValidator(_schema()).iter_errors(nested):
        pass  # only the filled-in defaults matter here; values are checked where the step reads them
    for key in keys:
        nested = nested[key]
    return nested


def merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``update`` merged in recursively (``update`` wins)."""
    out = copy.deepcopy(dict(base))
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def config_digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of the configuration in canonical JSON: the same design gives the same digest.

    The ``report.release`` key added by :func:`release_config` is left out (:func:`user_config`).
    """
    text = json.dumps(user_config(config), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: The two result sets of a study: the interim report's, at ``report.cutoff_date``, and the final report's, on all data.
RELEASES: tuple[str, ...] = ("interim", "final")


def release_config(config: Mapping[str, Any], release: str) -> dict[str, Any]:
    """Return the configuration that one release of the study is computed with.

    The pipeline computes every result twice, into ``results/interim/`` and ``results/final/``.
    The interim release applies the data cut-off ``report.cutoff_date``; the final release uses
    all data. The release is recorded as ``report.release``; every step reads the cut-off through
    :func:`effective_cutoff`, so that it reaches the cohort, the study description and the report
    alike, and :func:`config_digest` leaves the key out, so that both releases carry the digest of
    the configuration the user wrote.

    Parameters
    ----------
    config : mapping
        The validated configuration.
    release : {"interim", "final"}
        Which result set.

    Returns
    -------
    dict
        A copy of ``config`` with ``report.release`` set.

    Raises
    ------
    ConfigError
        If ``release`` is not one of :data:`RELEASES`.
    """
    if release not in RELEASES:
        raise ConfigError(f"unknown release {release!r}: expected one of {', '.join(RELEASES)}")
    return merge(config, {"report": {"release": release}})


def effective_cutoff(config: Mapping[str, Any]) -> str | None:
    """Return the data cut-off a step applies: ``report.cutoff_date``, or None in the final release (all data)."""
    report = config.get("report") or {}
    if report.get("release") == "final":
        return None
    return report.get("cutoff_date")


def inference_outcomes(config: Mapping[str, Any]) -> list[str]:
    """Return the outcomes of the inference step: ``outcomes.primary`` then ``outcomes.secondary``."""
    outcomes = config.get("outcomes") or {}
    return list(outcomes.get("primary") or []) + list(outcomes.get("secondary") or [])


def user_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the configuration as the user wrote it (validated), without what the pipeline adds.

    The pipeline adds ``report.release`` (:func:`release_config`) and ``scope``, the years and
    municipalities of the data (:mod:`evaluation.scope`).
    """
    out = copy.deepcopy(dict(config))
    out.pop("scope", None)
    if isinstance(out.get("report"), Mapping):
        out["report"] = {k: v for k, v in out["report"].items() if k != "release"}
    return out
