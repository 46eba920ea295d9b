"""The module paths from before the methods and steps moved into folders of their own, kept importable.

The methods now live under :mod:`evaluation.methods` and the steps under :mod:`evaluation.steps` (issue 15:
layers you can see). The API page promises that what it lists stays, so ``import evaluation.did``,
``from evaluation.did.imputation import did_imputation`` or ``from evaluation.economics.ceac import
acceptability_curve`` still work: :func:`install` adds a finder that imports the new module for the old name
and registers the same module object under both names (so classes, ``isinstance`` checks and pickles agree).
New code uses the new paths; :data:`OLD_PATHS` lists what moved where.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType

__all__ = ["OLD_PATHS", "install", "new_name"]

_ECONOMICS_METHODS = ("budget", "ceac", "discount", "effects", "net", "prices", "resample", "staff")
_METHODS = (
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
)
_STEPS = (
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
)
#: Old module path -> new module path; a submodule of an old path moved with it (the longest match wins).
OLD_PATHS: dict[str, str] = {
    **{f"evaluation.{name}": f"evaluation.methods.{name}" for name in _METHODS},
    **{f"evaluation.{name}": f"evaluation.steps.{name}" for name in _STEPS},
    **{f"evaluation.economics.{name}": f"evaluation.methods.economics.{name}" for name in _ECONOMICS_METHODS},
}


def new_name(name: str) -> str | None:
    """Return the module path that the old path ``name`` moved to, or None if it did not move."""
    parts = name.split(".")
    for depth in range(len(parts), 1, -1):
        moved = OLD_PATHS.get(".".join(parts[:depth]))
        if moved is not None:
            return ".".join([moved, *parts[depth:]])
    return None


class _OldPathFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old path as the module at its new path (one module object under both names).

    It sits first on ``sys.meta_path``: an old package path's module carries its new folder as ``__path__``, so
    the ordinary finder would load a submodule such as ``evaluation.did.imputation`` a second time under the old
    name. Any name outside ``evaluation.`` is passed on at once.
    """

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        moved = new_name(fullname) if fullname.startswith("evaluation.") else None
        if moved is None:
            return None
        module = importlib.import_module(moved)
        return importlib.util.spec_from_loader(fullname, self, is_package=hasattr(module, "__path__"))

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        return importlib.import_module(str(new_name(spec.name)))

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module was imported under its new path."""


def install() -> None:
    """Let the old paths be imported (once per interpreter)."""
    if not any(isinstance(finder, _OldPathFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _OldPathFinder())
