"""Provenance of a run: what a reader needs to rerun exactly the same analysis.

:func:`provenance` collects the SHA-256 of every input extract file, the
versions of the key dependencies and of Python, every seed in the config, the
config digest and the code version. Nothing in it depends on the time or the
machine of the run, so rerunning on the same inputs writes the same bytes to
``results/provenance.json`` (the reproducibility tests compare ``results/``
byte by byte).

The run date cannot live in a file that must be byte-identical across reruns:
:func:`write_run_info` writes it to a separate small file (``run_info.json``),
which the reproducibility comparison leaves out and the report shows beside
the provenance.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from evaluation import __version__
from evaluation.config import config_digest, setting, user_config
from evaluation.errors import EvaluationError

#: distributions whose versions can change a number in the results
KEY_PACKAGES: tuple[str, ...] = (
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "pyarrow",
    "matplotlib",
    "pandera",
    "pyreadstat",
    "pypandoc_binary",
    "typst",
    "snakemake",
)
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """Return the SHA-256 of a file's bytes, read in chunks.

    Parameters
    ----------
    path : Path
        The file.

    Returns
    -------
    str
        64 hexadecimal digits.

    Raises
    ------
    EvaluationError
        If the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise EvaluationError(f"{path} is missing: cannot record its hash in the provenance")
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def input_hashes(files: Iterable[Path], *, root: Path | None = None) -> dict[str, str]:
    """Hash input files; a folder stands for every file below it.

    Parameters
    ----------
    files : iterable of Path
        Files or folders.
    root : Path, optional
        Paths are written relative to it (POSIX separators); default: as given.

    Returns
    -------
    dict of str to str
        Path -> SHA-256, sorted by path.
    """
    paths: list[Path] = []
    for item in files:
        item = Path(item)
        paths += sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]

    def name(path: Path) -> str:
        if root is None:
            return path.as_posix()
        try:
            return path.resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    return dict(sorted((name(p), file_sha256(p)) for p in paths))


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str]:
    """Return the installed version of each distribution (``"not installed"`` when absent).

    Parameters
    ----------
    names : iterable of str, default :data:`KEY_PACKAGES`
        Distribution names.

    Returns
    -------
    dict of str to str
        Name -> version, sorted by name, plus ``python``.
    """
    versions = {"python": platform.python_version()}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return dict(sorted(versions.items()))


def code_version(repo_dir: Path | None = None) -> str:
    """Return the code version: ``git describe --tags --always --dirty`` when possible, else the package version.

    Parameters
    ----------
    repo_dir : Path, optional
        Folder of the code's Git working tree; default the folder the package is installed from.

    Returns
    -------
    str
        For example ``"v0.2.0-3-gabc1234"`` or ``"abc1234-dirty"``; ``"0.1.0 (no git)"``
        when Git or the repository is not available.
    """
    repo = Path(repo_dir) if repo_dir is not None else Path(__file__).resolve().parents[2]
    try:
        done = subprocess.run(
            ["git", "describe", "--tags", "--always", "--dirty"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
            timeout=20,
        )
    except (OSError, subprocess.SubprocessError):
        return f"{__version__} (no git)"
    if done.returncode != 0 or not done.stdout.strip():
        return f"{__version__} (no git)"
    return done.stdout.strip()


def config_seeds(config: Mapping[str, Any], _prefix: str = "") -> dict[str, int]:
    """Find every key named ``seed`` (or ending in ``_seed``) in a nested config.

    Parameters
    ----------
    config : mapping
        The validated config.

    Returns
    -------
    dict of str to int
        Dotted key path -> seed, for example ``{"synthetic.seed": 20130101}``.
    """
    seeds: dict[str, int] = {}
    for key, value in config.items():
        path = f"{_prefix}{key}"
        if isinstance(value, Mapping):
            seeds.update(config_seeds(value, f"{path}."))
        elif (key == "seed" or str(key).endswith("_seed")) and isinstance(value, int) and not isinstance(value, bool):
            seeds[path] = int(value)
    return dict(sorted(seeds.items()))


def provenance(
    config: Mapping[str, Any],
    inputs: Iterable[Path],
    *,
    root: Path | None = None,
    repo_dir: Path | None = None,
    packages: Iterable[str] = KEY_PACKAGES,
) -> dict[str, Any]:
    """Collect the provenance of a run.

    Parameters
    ----------
    config : mapping
        The validated config.
    inputs : iterable of Path
        The raw extract files (or their folder).
    root : Path, optional
        Input paths are recorded relative to it (usually the project folder).
    repo_dir : Path, optional
        See :func:`code_version`.
    packages : iterable of str
        See :func:`package_versions`.

    Returns
    -------
    dict
        ``code_version``, ``package_version``, ``config_sha256``, ``seeds``,
        ``data_source``, ``inputs`` (path -> SHA-256), ``inputs_sha256`` (one
        digest over the sorted list) and ``packages``.
    """
    hashes = input_hashes(inputs, root=root)
    combined = hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in hashes.items()).encode("utf-8")).hexdigest()
    return {
        "code_version": code_version(repo_dir),
        "package_version": __version__,
        "config_sha256": config_digest(config),
        "seeds": config_seeds(config),
        "data_source": str(setting(config, "data", "source")),
        "inputs": hashes,
        "inputs_sha256": combined,
        "packages": package_versions(packages),
    }


def write_provenance(
    config: Mapping[str, Any], inputs: Iterable[Path], output: Path, *, root: Path | None = None
) -> Path:
    """Pipeline step: write :func:`provenance` as sorted, indented JSON.

    Parameters
    ----------
    config : mapping
        The validated config.
    inputs : iterable of Path
        The raw extract files (or their folder).
    output : Path
        Usually ``results/provenance.json``.
    root : Path, optional
        See :func:`provenance`.

    Returns
    -------
    Path
        ``output``.
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(provenance(config, inputs, root=root), ensure_ascii=False, indent=2, sort_keys=True)
    output.write_text(text + "\n", encoding="utf-8")
    return output


def write_config(config: Mapping[str, Any], output: Path) -> Path:
    """Write the configuration as the user wrote it (validated, defaults filled in) as YAML.

    With the code version of :func:`provenance`, this file is all a reader needs to rerun the
    analysis: check out that version, use this file as ``config/config.yaml`` and run ``make run``.
    Its SHA-256 digest is :func:`evaluation.config.config_digest` of the same configuration.

    Parameters
    ----------
    config : mapping
        The validated configuration (a release's, see :func:`evaluation.config.release_config`).
    output : Path
        Usually ``results/<release>/config.yaml``.

    Returns
    -------
    Path
        ``output``.
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    header = "# The configuration this analysis ran with (validated, defaults filled in); see provenance.json.\n"
    text = yaml.safe_dump(user_config(config), sort_keys=True, allow_unicode=True, default_flow_style=False)
    output.write_text(header + text, encoding="utf-8")
    return output


def write_run_info(output: Path, *, now: dt.datetime | None = None) -> Path:
    """Write the run date (UTC) to its own file, kept out of the byte-identical results.

    Parameters
    ----------
    output : Path
        Usually ``results/run_info.json``.
    now : datetime, optional
        The time to record (default: the current time, UTC).

    Returns
    -------
    Path
        ``output``.
    """
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    info = {"run_date": moment.date().isoformat(), "run_time_utc": moment.isoformat().replace("+00:00", "Z")}
    output.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return output
