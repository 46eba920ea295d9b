"""Digests of the package code that a pipeline step runs, so that editing the code reruns the step.

A rule's ``params`` are Snakemake's rerun contract: a job reruns when one of them differs from the
value recorded when it last ran. The settings a step reads are there; the step's code is not, because
it lives in this package and not in the rule. :func:`step_code_digest` gives each rule one more
parameter, a digest of the code its step runs: the step's adapter function in
:mod:`evaluation.steps.pipeline` (its source text, with the module-level helpers it names), and every module
of the ``evaluation`` package that it imports, directly or through other modules of the package, with
the parent packages an import runs. A package named in a string (``resources.files("evaluation.data")``)
counts with its data files (``data/municipalities.csv``, ``report/templates/*``).

The imports are read from the source, never executed, so the Snakefile stays quick to parse: import
statements are found by a regular expression and each is parsed on its own by :mod:`ast` (a module whose
candidate statements do not all parse is parsed whole). Imports inside functions count, as do imports
only for type checking, although the step may never call the function: the digest errs towards
rerunning. Imports built at run time from strings (``importlib.import_module(name)``) are not seen.

The digest hashes source bytes (line endings normalised), module names and data-file paths relative to
the package, in sorted order, so it does not depend on where the package lies, on file times or on the
Python version.
"""

from __future__ import annotations

import ast
import hashlib
import re
from functools import cache
from pathlib import Path

from evaluation.errors import EvaluationError

#: hexadecimal characters of a digest (64 bits of SHA-256: enough to tell versions of the code apart)
DIGEST_LENGTH = 16

# A line that starts an import statement, with its continuation: a parenthesised name list or
# backslash-continued lines.
_IMPORT_STATEMENT = re.compile(
    r"^[ \t]*(?:from[ \t]+[\w.]+[ \t]+import[ \t]*(?:\([^)]*\)|(?:[^\n\\]|\\\n)*)|import[ \t]+(?:[^\n\\]|\\\n)*)",
    re.MULTILINE,
)

Import = ast.Import | ast.ImportFrom


def step_code_digest(step: str) -> str:
    """Return a digest of the code that the pipeline step ``step`` runs.

    Parameters
    ----------
    step : str
        Name of the step's function in :mod:`evaluation.steps.pipeline` (the rule's name).

    Returns
    -------
    str
        The first :data:`DIGEST_LENGTH` hexadecimal characters of a SHA-256 over the step's function
        and the modules and data files of :func:`step_modules`.

    Raises
    ------
    EvaluationError
        If :mod:`evaluation.steps.pipeline` has no function ``step``.
    """
    return _this_package().step_digest(step)


def step_modules(step: str) -> tuple[str, ...]:
    """Return the modules of the package whose code the pipeline step ``step`` runs, sorted.

    Parameters
    ----------
    step : str
        Name of the step's function in :mod:`evaluation.steps.pipeline`.

    Returns
    -------
    tuple of str
        Module names (a package by its own name, for its ``__init__.py``). ``evaluation.steps.pipeline`` is
        left out: of that module only the step's function and the helpers it names count.

    Raises
    ------
    EvaluationError
        If :mod:`evaluation.steps.pipeline` has no function ``step``.
    """
    return _this_package().step_modules(step)


@cache
def _this_package() -> PackageCode:
    return PackageCode(Path(__file__).resolve().parent, "evaluation", "steps.pipeline")


class PackageCode:
    """The code of a package and of the steps of its ``pipeline`` module, read from its folder, never imported.

    Every file is read and hashed once; the results are kept for the life of the object.

    Parameters
    ----------
    folder : Path
        The package's folder (the one holding its ``__init__.py``).
    name : str
        The package's import name.
    pipeline : str
        The module holding one function per step, below the package (``evaluation.steps.pipeline``).
    """

    def __init__(self, folder: Path, name: str, pipeline: str = "pipeline") -> None:
        self.folder = Path(folder)
        self.name = name
        self.pipeline = f"{name}.{pipeline}"
        self.files = self._module_files()
        self._module_string = re.compile(r"""["'](""" + re.escape(name) + r"""(?:\.\w+)*)["']""")
        self._sources: dict[str, str] = {}
        self._digests: dict[str, str] = {}
        self._imports: dict[str, frozenset[str]] = {}
        self._named: dict[str, frozenset[str]] = {}
        self._data: dict[str, tuple[tuple[str, str], ...]] = {}
        self._steps: dict[str, str] = {}
        self._definitions: tuple[dict[str, ast.stmt], dict[str, frozenset[str]], list[str]] | None = None

    def step_digest(self, step: str) -> str:
        """Return the digest of the code that ``step`` runs (see :func:`step_code_digest`)."""
        if step not in self._steps:
            sources, modules = self._step(step)
            digest = hashlib.sha256()
            for source in sources:
                digest.update(b"function\0" + _normalise(source.encode("utf-8")) + b"\0")
            with_data = {package for module in modules for package in self.named(module)}
            for module in sorted(modules):
                digest.update(f"module\0{module}\0{self.module_digest(module)}\0".encode())
                for name, data_digest in self.package_data(module) if module in with_data else ():
                    digest.update(f"data\0{name}\0{data_digest}\0".encode())
            self._steps[step] = digest.hexdigest()[:DIGEST_LENGTH]
        return self._steps[step]

    def step_modules(self, step: str) -> tuple[str, ...]:
        """Return the modules whose code ``step`` runs (see :func:`step_modules`)."""
        return tuple(sorted(self._step(step)[1]))

    def module_digest(self, module: str) -> str:
        """Return the SHA-256 of a module's source, line endings normalised."""
        if module not in self._digests:
            self._digests[module] = hashlib.sha256(_normalise(self.files[module].read_bytes())).hexdigest()
        return self._digests[module]

    def imports(self, module: str) -> frozenset[str]:
        """Return the package's modules that ``module`` imports anywhere in its source, or names in a string."""
        if module not in self._imports:
            found = {
                target for node in _import_statements(self.source(module)) for target in self.targets(node, module)
            }
            self._imports[module] = frozenset((found | self.named(module)) - {module})
        return self._imports[module]

    def named(self, module: str) -> frozenset[str]:
        """Return the package's modules that ``module`` names in a string literal (as importlib.resources does)."""
        if module not in self._named:
            names = self._module_string.findall(self.source(module))
            self._named[module] = frozenset(t for name in names if name in self.files for t in self.with_parents(name))
        return self._named[module]

    def package_data(self, package: str) -> tuple[tuple[str, str], ...]:
        """Return the data files of a package, subpackages left out: (path relative to its folder, SHA-256)."""
        if package not in self._data:
            found = []
            if self.files[package].name == "__init__.py":
                folder = self.files[package].parent
                packages = {path.parent for path in self.files.values() if path.name == "__init__.py"}
                for path in folder.rglob("*"):
                    relative = path.relative_to(folder)
                    if not path.is_file() or path.suffix in (".py", ".pyc") or _hidden_or_cache(relative):
                        continue
                    if next(parent for parent in path.parents if parent in packages) == folder:  # not a subpackage's
                        found.append((relative.as_posix(), hashlib.sha256(path.read_bytes()).hexdigest()))
            self._data[package] = tuple(sorted(found))
        return self._data[package]

    def source(self, module: str) -> str:
        """Return a module's source text."""
        if module not in self._sources:
            self._sources[module] = self.files[module].read_bytes().decode("utf-8")
        return self._sources[module]

    def with_parents(self, module: str) -> set[str]:
        """Return the module and the packages above it, which importing it runs first."""
        parts = module.split(".")
        return {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & self.files.keys()

    def targets(self, node: Import, module: str) -> set[str]:
        """Return the package's modules that the import statement ``node`` in ``module`` runs."""
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            if node.level:
                package = module if self.files[module].name == "__init__.py" else module.rpartition(".")[0]
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                origin = ".".join([*base, node.module] if node.module else base)
            else:
                origin = node.module or ""
            names = [origin] + [f"{origin}.{alias.name}" for alias in node.names]
        return {target for name in names if name in self.files for target in self.with_parents(name)}

    def closure(self, modules: set[str]) -> set[str]:
        """Return the modules and every module of the package they import, transitively (``pipeline`` left out)."""
        seen: set[str] = set()
        stack = list(modules)
        while stack:
            module = stack.pop()
            if module not in seen:
                seen.add(module)
                stack.extend(self.imports(module) - seen)
        seen.discard(self.pipeline)
        return seen

    def _module_files(self) -> dict[str, Path]:
        """Every module of the package: dotted name -> file (a package's name -> its ``__init__.py``)."""
        files = {}
        for path in sorted(self.folder.rglob("*.py")):
            parts = path.relative_to(self.folder).with_suffix("").parts
            if _hidden_or_cache(Path(*parts)):
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join((self.name, *parts))] = path
        return files

    def _pipeline(self) -> tuple[dict[str, ast.stmt], dict[str, frozenset[str]], list[str]]:
        """Read the pipeline module: its top-level definitions by name, the modules its imports bind, its lines."""
        if self._definitions is None:
            source = self.source(self.pipeline)
            definitions: dict[str, ast.stmt] = {}
            bound: dict[str, frozenset[str]] = {}
            for node in ast.parse(source).body:
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    definitions[node.name] = node
                elif isinstance(node, ast.Assign | ast.AnnAssign):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for name in (n for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)):
                        definitions[name.id] = node
                elif isinstance(node, Import):
                    modules = frozenset(self.targets(node, self.pipeline))
                    for alias in node.names:
                        bound[(alias.asname or alias.name).split(".")[0]] = modules
            self._definitions = definitions, bound, source.splitlines(keepends=True)
        return self._definitions

    def _step(self, step: str) -> tuple[list[str], set[str]]:
        """Find the source texts of a step's function and of the pipeline helpers it names, and the modules they run."""
        definitions, bound, lines = self._pipeline()
        if not isinstance(definitions.get(step), ast.FunctionDef):
            steps = sorted(name for name, node in definitions.items() if isinstance(node, ast.FunctionDef))
            raise EvaluationError(f"{self.pipeline} has no step {step!r}; its steps are: {', '.join(steps)}")
        sources: set[str] = set()
        modules: set[str] = set()
        seen = {step}
        stack = [definitions[step]]
        while stack:
            node = stack.pop()
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            sources.add("".join(lines[first - 1 : node.end_lineno]))
            for statement in (n for n in ast.walk(node) if isinstance(n, Import)):
                modules |= self.targets(statement, self.pipeline)
            for name in {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}:
                modules |= bound.get(name, frozenset())
                if name in definitions and name not in seen:
                    seen.add(name)
                    stack.append(definitions[name])
        return sorted(sources), self.closure(modules)


def _normalise(source: bytes) -> bytes:
    return source.replace(b"\r\n", b"\n")


def _hidden_or_cache(relative: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in relative.parts)


_MODULE_DOCSTRING = re.compile(r'\A(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*[rRuU]?("""|\'\'\')')


def _without_module_docstring(source: str) -> str:
    """Return the source with its module docstring blanked: its usage examples are text, not imports."""
    start = _MODULE_DOCSTRING.match(source)
    if start is None:
        return source
    end = source.find(start.group(1), start.end())
    if end < 0:
        return source
    return source[: start.end()] + "\n" * source.count("\n", start.end(), end) + source[end:]


def _import_statements(source: str) -> list[Import]:
    """Return the import statements of a source text, wherever they are (module level, functions, blocks)."""
    found: list[Import] = []
    for match in _IMPORT_STATEMENT.finditer(_without_module_docstring(source)):
        try:
            found.extend(node for node in ast.parse(match.group(0).strip()).body if isinstance(node, Import))
        except SyntaxError:  # prose in a docstring, or a statement the expression cut short: read it all
            return [node for node in ast.walk(ast.parse(source)) if isinstance(node, Import)]
    return found
