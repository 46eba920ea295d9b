"""The layers of ``docs/architecture.md`` are folders, and imports go their way (read from the source with ``ast``).

Methods (``evaluation/methods/``) import no step, no report, and neither the config nor the file layer (every
setting is an argument, every input a frame or an array); the report (``evaluation/report/``) imports neither
steps (``evaluation/steps/``) nor methods (it reads ``results/``). Every other module at the top of the package
is support code used by every layer, listed here, so that a new module has to be placed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from evaluation.old_paths import new_name

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "evaluation"

#: The three layers, each a folder of the package named as the layer.
LAYERS = frozenset({"methods", "steps", "report"})
#: Support code at the top of the package: used by every layer.
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
        "old_paths",
        "results",
        "scope",
        "second_process",
        "yaml_text",
    }
)
#: What methods may not import besides steps and the report.
FILE_AND_CONFIG = frozenset({"config", "io"})


def _layer(module: str) -> str:
    """The layer of a dotted module name below ``evaluation`` (a path from before the move counts as its new one)."""
    module = (new_name(f"evaluation.{module}") or f"evaluation.{module}").removeprefix("evaluation.")
    top = module.split(".")[0]
    if top in LAYERS:
        return top
    return "support" if top in SUPPORT else "unplaced"


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
    unplaced = [module for module in MODULES if _layer(module) == "unplaced"]
    assert unplaced == [], (
        f"place these modules in methods/, steps/ or report/, or list them as support (tests/test_layers.py, "
        f"docs/architecture.md): {unplaced}"
    )
    assert {_layer(m) for m in MODULES} == {"methods", "steps", "report", "support"}


def test_the_old_paths_import_the_moved_modules() -> None:
    """``evaluation.did`` and the rest of the paths from before the move are the same module objects."""
    import importlib

    from evaluation.old_paths import OLD_PATHS

    for old, new in OLD_PATHS.items():
        assert importlib.import_module(old) is importlib.import_module(new), old
    from evaluation.did.imputation import did_imputation

    from evaluation.methods.did.imputation import did_imputation as moved

    assert did_imputation is moved
    assert new_name("evaluation.economics.ceac") == "evaluation.methods.economics.ceac"
    assert new_name("evaluation.economics.accounts") == "evaluation.steps.economics.accounts"
    assert new_name("evaluation.report.tables") is None


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
    source.write_text("def f():\n    from evaluation.steps.estimate import headline_fit\n    import evaluation.io\n")
    assert {_layer(name) for name in _imports(source)} == {"steps", "support"}
    assert _layer("methods.economics.ceac") == "methods" and _layer("steps.economics.pipeline") == "steps"
    assert _layer("estimate") == "steps" and _layer("economics.ceac") == "methods"  # paths from before the move
