"""``evaluation.yaml_text.load_yaml``: the C parser gives what the pure-Python safe parser gives, on every YAML file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from evaluation.yaml_text import load_yaml

ROOT = Path(__file__).resolve().parents[1]
YAML_FILES = subprocess.run(
    ["git", "ls-files", "*.yml", "*.yaml"], cwd=ROOT, capture_output=True, text=True, check=False
).stdout.split() or [str(p.relative_to(ROOT)) for p in ROOT.glob("**/*.y*ml") if ".venv" not in p.parts]


def test_the_project_has_yaml_files_to_check() -> None:
    assert {"workflow/schemas/config.schema.yaml", "config/config.yaml"} <= set(YAML_FILES)
    assert sum(name.startswith("reports/_text/") for name in YAML_FILES) >= 10


@pytest.mark.parametrize("name", YAML_FILES)
def test_every_yaml_file_parses_to_the_same_objects(name: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    fast, safe = load_yaml(text), yaml.safe_load(text)
    assert fast == safe and repr(fast) == repr(safe)


def test_unsafe_tags_and_bad_yaml_are_refused() -> None:
    with pytest.raises(yaml.YAMLError):
        load_yaml("!!python/object/apply:os.system ['true']")
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [1, 2")
    assert load_yaml("") is None
