"""The direction of imports between the layers of ``docs/architecture.md``, read from the source with ``ast``.

Methods import no step, no report, and neither the config nor the file layer (every setting is an argument,
every input a frame or an array); the report imports neither steps nor methods (it reads ``results/``).
Every module of the package belongs to exactly one layer, so that a new module has to be placed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "evaluation"

#: Pure methods: estimators, their inference, and the economic arithmetic.
METHODS = frozenset(
    {
        "costs",
        "did",
        "dose",
        "eventstudy",
        "inference",
        "matching",
        "multiplicity",
        "municipalities",
        "panel",
        "power",
        "sensitivity",
        "synth",
        "weighting",
        "within",
        *(
            f"economics.{name}"
            for name in ("budget", "ceac", "discount", "effects", "net", "prices", "resample", "staff")
        ),
    }
)
#: Steps: read the study's files and the config, call methods, write results (the rules call them through
#: ``evaluation.pipeline``); ``simulate`` and ``ingest`` are the data steps.
STEPS = frozenset(
    {
        "cohort",
        "compare",
        "design_randomization",
        "economics",
        "estimate",
        "fewclusters",
        "guard",
        "implementation",
        "ingest",
        "keyfigures",
        "montecarlo",
        "municipality_comparison",
        "municipality_panel",
        "pipeline",
        "provenance",
        "simulate",
        "staggered",
        "study",
    }
)
REPORT = frozenset({"report"})
#: Used by every layer.
SUPPORT = frozenset(
    {
        "__init__",
        "api_docs",
        "cli",
        "code_digest",
        "config",
        "config_docs",
        "contract",
        "data",
        "disclosure",
        "errors",
        "io",
        "logs",
        "results",
        "scope",
        "second_process",
    }
)
#: What methods may not import besides steps and the report.
FILE_AND_CONFIG = frozenset({"config", "io"})


def _layer(module: str) -> str:
    """The layer of a dotted module name below ``evaluation`` (the most specific entry wins)."""
    parts = module.split(".")
    for depth in range(len(parts), 0, -1):
        name = ".".join(parts[:depth])
        for layer, members in (("methods", METHODS), ("steps", STEPS), ("report", REPORT), ("support", SUPPORT)):
            if name in members:
                return layer
    return "unplaced"


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(path: Path) -> set[str]:
    """The ``evaluation`` modules a file imports anywhere (also inside functions), without the prefix."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name.removeprefix("evaluation.") for name in names if name.startswith("evaluation.")}
    return found


MODULES = _modules()


def test_every_module_belongs_to_one_layer() -> None:
    assert not METHODS & STEPS and not (METHODS | STEPS) & (REPORT | SUPPORT) and not REPORT & SUPPORT
    unplaced = [module for module in MODULES if _layer(module) == "unplaced"]
    assert unplaced == [], f"place these modules in a layer (tests/test_layers.py, docs/architecture.md): {unplaced}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) == "methods"))
def test_methods_import_no_step_no_report_and_no_file_or_config_layer(module: str) -> None:
    imported = _imports(MODULES[module])
    wrong = sorted(
        name for name in imported if _layer(name) in ("steps", "report") or name.split(".")[0] in FILE_AND_CONFIG
    )
    assert wrong == [], f"{module} (a method) imports {wrong}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) == "report"))
def test_the_report_imports_neither_steps_nor_methods(module: str) -> None:
    wrong = sorted(name for name in _imports(MODULES[module]) if _layer(name) in ("steps", "methods"))
    assert wrong == [], f"{module} (the report) imports {wrong}"


def test_the_checks_find_a_wrong_import(tmp_path: Path) -> None:
    source = tmp_path / "method.py"
    source.write_text("def f():\n    from evaluation.estimate import headline_fit\n    import evaluation.io\n")
    assert {_layer(name) for name in _imports(source)} == {"steps", "support"}
    assert _layer("economics.ceac") == "methods" and _layer("economics.pipeline") == "steps"
