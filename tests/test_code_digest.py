"""The digest of the code a pipeline step runs (evaluation.code_digest), the rules' ``params: code=``."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.code_digest import PackageCode, step_code_digest, step_modules
from evaluation.errors import EvaluationError
from workspace import rule_blocks

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = ROOT / "src" / "evaluation"

#: A package of five modules: ``first`` runs a -> b -> c (and c reads data/), ``second`` runs d.
TOY = {
    "__init__.py": '"""The toy package."""\n',
    "pipeline.py": (
        "from toy.logs import step_log\n"
        "from toy import unused\n"
        "\n"
        "\n"
        "def first(output):\n"
        "    from toy.a import run\n"
        "\n"
        "    with step_log(output):\n"
        "        run()\n"
        "\n"
        "\n"
        "def second(output):\n"
        "    from toy.d import run\n"
        "\n"
        "    run()\n"
    ),
    "logs.py": "def step_log(path):\n    pass\n",
    "unused.py": "VALUE = 1\n",
    "a.py": "from toy.b import helper\n\n\ndef run():\n    helper()\n",
    "b.py": "from . import c\n\n\ndef helper():\n    c.read()\n",
    "c.py": (
        "from importlib import resources\n"
        "\n"
        "\n"
        "def read():\n"
        '    return resources.files("toy.data").joinpath("table.csv").read_text()\n'
    ),
    "d.py": "def run():\n    pass\n",
    "data/__init__.py": "",
    "data/table.csv": "code,name\n657,Herning\n",
}


def make_toy(folder: Path, files: dict[str, str] = TOY) -> Path:
    for name, text in files.items():
        path = folder / "toy" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return folder / "toy"


def digests(folder: Path) -> dict[str, str]:
    code = PackageCode(folder, "toy")
    return {step: code.step_digest(step) for step in ("first", "second")}


def test_a_step_runs_the_modules_it_imports_transitively_and_not_the_others(tmp_path):
    code = PackageCode(make_toy(tmp_path), "toy")
    assert code.step_modules("first") == ("toy", "toy.a", "toy.b", "toy.c", "toy.data", "toy.logs")
    assert code.step_modules("second") == ("toy", "toy.d")


def test_the_digest_is_a_short_hex_string_and_stable_across_calls_and_readers(tmp_path):
    folder = make_toy(tmp_path)
    first = digests(folder)
    assert all(re.fullmatch(r"[0-9a-f]{16}", digest) for digest in first.values())
    assert first["first"] != first["second"]
    assert digests(folder) == first == digests(folder)


@pytest.mark.parametrize(
    ("edit", "changed"),
    [
        ("c.py", {"first"}),  # imported by b, which a imports: two steps from the pipeline
        ("b.py", {"first"}),
        ("logs.py", {"first"}),  # a module-level import of the pipeline that first uses
        ("data/table.csv", {"first"}),  # data of a package that c names in a string
        ("d.py", {"second"}),
        ("unused.py", set()),  # imported by the pipeline module, used by no step
        ("__init__.py", {"first", "second"}),  # every import runs the package's __init__
    ],
)
def test_editing_a_module_changes_the_digest_of_exactly_the_steps_that_run_it(tmp_path, edit, changed):
    before = digests(make_toy(tmp_path / "before"))
    folder = make_toy(tmp_path / "after")
    path = folder / edit
    path.write_text(path.read_text(encoding="utf-8") + "# an edit\n", encoding="utf-8")
    after = digests(folder)
    assert {step for step in before if before[step] != after[step]} == changed


def test_editing_one_step_function_leaves_the_other_steps_digests(tmp_path):
    before = digests(make_toy(tmp_path / "before"))
    pipeline = TOY["pipeline.py"].replace("    from toy.d import run\n", "    from toy.d import run  # edited\n")
    after = digests(make_toy(tmp_path / "after", TOY | {"pipeline.py": pipeline}))
    assert after["first"] == before["first"] and after["second"] != before["second"]


def test_the_digest_ignores_where_the_package_lies_file_times_line_endings_and_caches(tmp_path):
    here = digests(make_toy(tmp_path / "here"))
    crlf = {name: text.replace("\n", "\r\n") if name.endswith(".py") else text for name, text in TOY.items()}
    there = make_toy(tmp_path / "somewhere" / "else", crlf)
    (there / "__pycache__").mkdir()
    (there / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    os.utime(there / "c.py", (0, 0))
    assert digests(there) == here


@pytest.mark.parametrize(
    "statement",
    [
        "import toy.c",
        "import toy.c as other",
        "from toy import c",
        "from toy.c import read",
        "from toy.c import (\n    read,  # a comment (with parentheses)\n)",
        "from toy.c import \\\n    read",
        "from . import c",
        "from .c import read",
        "if True:\n    from toy.c import read",
    ],
)
def test_every_form_of_import_is_seen(tmp_path, statement):
    folder = make_toy(tmp_path, TOY | {"d.py": f"{statement}\n\n\ndef run():\n    pass\n"})
    assert "toy.c" in PackageCode(folder, "toy").step_modules("second")


def test_a_step_that_is_not_in_the_pipeline_is_an_error_naming_the_steps():
    with pytest.raises(EvaluationError, match="no step 'estimate_everything'.*estimate_effects"):
        step_code_digest("estimate_everything")


def test_the_quick_reading_of_imports_finds_what_a_full_parse_finds():
    """Every module of the package: the import statements found line by line are those of ast.parse."""
    code = PackageCode(PACKAGE_DIR, "evaluation", "steps.pipeline")
    for module, path in code.files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parsed = {
            t
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for t in code.targets(node, module)
        }
        assert code.imports(module) == (parsed | code.named(module)) - {module}, module


@pytest.mark.parametrize(
    ("step", "entry"),
    [
        ("estimate_economics", "evaluation.steps.economics"),
        ("match_children", "evaluation.steps.compare"),
        ("render_report", "evaluation.report"),
        ("synthetic_control", "evaluation.steps.fewclusters"),
    ],
)
def test_the_modules_of_a_step_include_every_module_python_loads_for_it(step, entry):
    """Importing the step's entry module (what its pipeline function imports) loads only modules in the digest."""
    script = f"import sys, {entry}; print(*sorted(m for m in sys.modules if m.split('.')[0] == 'evaluation'))"
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert entry in loaded.stdout.split()
    assert set(loaded.stdout.split()) - {"evaluation.steps.pipeline"} <= set(step_modules(step))


def test_the_digest_of_a_copy_of_the_package_in_another_process_is_the_same(tmp_path):
    shutil.copytree(PACKAGE_DIR, tmp_path / "evaluation", ignore=shutil.ignore_patterns("__pycache__"))
    script = "from evaluation.code_digest import step_code_digest as d; print(d('estimate_economics'))"
    env = os.environ | {"PYTHONPATH": str(tmp_path)}
    copied = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert copied.stdout.strip() == step_code_digest("estimate_economics")


def test_every_rule_that_calls_a_step_declares_the_digest_of_that_step():
    """The rerun contract for code: ``params: code=get_code_digest("<rule>")`` in every rule that runs its step.

    A rule runs the step named as the rule through ``workflow/scripts/step.py`` (``evaluation.steps.pipeline.run_job``).
    """
    rules = {
        name: (
            [name] if re.search(r'script:\s*"\.\./scripts/step\.py"', block) else [],
            re.findall(r'code=get_code_digest\("(\w+)"\)', block),
        )
        for name, (_, block) in rule_blocks().items()
    }
    assert len(rules) > 20
    for name, (called, declared) in rules.items():
        assert called == declared == [name], name
