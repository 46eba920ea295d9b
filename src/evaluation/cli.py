"""The ``evaluation`` command line.

Commands
--------
``evaluation simulate --scale S --out DIR [--seed N] [--format csv|parquet] [--config FILE]``
    Write the synthetic registry as extracts (and ``truth.json`` beside them).
``evaluation validate [DIR] [--config FILE]``
    Check a folder of extracts (default: ``data.raw_dir``) against the data contract and say whether
    the pipeline would run with the study's ``data`` settings; exit 0 when it would run (rows to
    quarantine are shown as warnings), 1 when it would stop.
``evaluation check-config [FILE]``
    Validate a study configuration: the schema, and the adopters and factsheets against the data's years
    and municipalities. A study file is layered over ``config/config.yaml`` as ``--configfile`` does.

Errors are printed as one readable message, never as a traceback; add
``--debug`` before the command to see the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from evaluation import __version__
from evaluation.errors import EvaluationError

DEFAULT_CONFIG = Path("config/config.yaml")


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _load_config(path: Path | None, overrides: dict | None = None) -> dict:
    """Load the study: ``config/config.yaml`` with the study file ``path`` layered over it (as ``--configfile``).

    ``path`` itself is the whole configuration when it is ``config/config.yaml`` or when there is no
    ``config/config.yaml`` (outside a checkout); no path gives the defaults.
    """
    from evaluation.config import load_config

    default = DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None
    if path is None:
        path = default
    if path is None:
        from evaluation.config import validate_config

        return validate_config(overrides or {})
    if default is not None and Path(path).resolve() != default.resolve():
        return load_config(default, overrides, study_files=[Path(path)])
    return load_config(path, overrides)


def _cmd_simulate(args: argparse.Namespace) -> int:
    from evaluation.steps.simulate import simulate

    overrides: dict = {"synthetic": {"scale": args.scale, "format": args.format}}
    if args.seed is not None:
        overrides["synthetic"]["seed"] = args.seed
    config = _load_config(args.config, overrides)
    syn = config["synthetic"]
    result = simulate(
        args.out, scale=syn["scale"], seed=syn["seed"], fmt=syn["format"], config=config, progress=_progress
    )
    print(f"Synthetic registry ({syn['scale']}, seed {syn['seed']}) written to {result.out_dir}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from evaluation.steps.ingest import validate_folder

    data = _load_config(args.config)["data"]
    raw_dir = Path(args.dir) if args.dir is not None else Path(data["raw_dir"])
    report = validate_folder(
        raw_dir,
        on_invalid=data["on_invalid_row"],
        max_quarantined_share=data["max_quarantined_share"],
        delivery_date=data["delivery_date"],
    )
    print(report.render())
    return 1 if report.would_stop else 0


def _cmd_check_config(args: argparse.Namespace) -> int:
    from evaluation.scope import check_design, study_scope

    config = _load_config(args.config)
    scope = study_scope(config, cache=False)
    for note in check_design(config, scope):
        print(f"note: {note}")
    adopters = ", ".join(f"{k} ({v})" for k, v in sorted(config["treatment"]["adoptions"].items()))
    data = (
        f"synthetic registry at scale {config['synthetic']['scale']}"
        if scope.source == "synthetic"
        else f"extracts in {config['data']['raw_dir']}"
    )
    print(
        f"The configuration is valid ({args.config or DEFAULT_CONFIG}): {data}, years {scope.first_year}-"
        f"{scope.last_year}, {len(scope.municipalities)} municipalities; adopters {adopters}."
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``evaluation`` command."""
    parser = argparse.ArgumentParser(
        prog="evaluation",
        description="Evaluation of the Herning model: synthetic registry, extract validation and more.",
    )
    parser.add_argument("--version", action="version", version=f"evaluation {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = sub.add_parser("simulate", help="write the synthetic registry as extracts")
    sim.add_argument("--scale", choices=["tiny", "demo", "national"], default="demo", help="size (default: demo)")
    sim.add_argument("--out", required=True, type=Path, help="folder to write the extracts to")
    sim.add_argument("--seed", type=int, default=None, help="seed (default: synthetic.seed of the config)")
    sim.add_argument(
        "--format",
        choices=["csv", "parquet"],
        default="parquet",
        help="csv writes the extracts as a registry delivers them (latin-1, ';', decimal comma)",
    )
    sim.add_argument("--config", type=Path, default=None, help="study config (default: config/config.yaml if present)")
    sim.set_defaults(func=_cmd_simulate)

    val = sub.add_parser(
        "validate",
        help="check a folder of extracts against the data contract; exit 1 when the pipeline would stop",
    )
    val.add_argument("dir", nargs="?", type=Path, default=None, help="folder of the extracts (default: data.raw_dir)")
    val.add_argument(
        "--config",
        type=Path,
        default=None,
        help="study config whose data settings apply (default: config/config.yaml if present)",
    )
    val.set_defaults(func=_cmd_validate)

    chk = sub.add_parser("check-config", help="validate a study configuration against its schema")
    chk.add_argument(
        "config", nargs="?", type=Path, default=None, help="study file or config file (default: config/config.yaml)"
    )
    chk.set_defaults(func=_cmd_check_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 success, 1 invalid input or error, 2 internal error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except EvaluationError as err:
        if args.debug:
            traceback.print_exc()
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the last line of defence: no bare traceback for users
        if args.debug:
            traceback.print_exc()
        print(
            f"internal error: {type(err).__name__}: {err}\n"
            "This is a bug in the evaluation package; rerun with --debug and report the traceback.",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
