"""Parse YAML text with PyYAML's C parser (libyaml) when it is there: the same objects, about eight times faster.

Every Snakemake process parses the config schema and the study's config, and the report parses the words of
``reports/_text``; with the pure-Python parser that was a fifth of a second for each process. The C parser
builds the same Python objects with the same safe constructors (``tests/test_yaml_text.py`` checks every YAML
file of the project both ways); without libyaml the pure-Python parser is used.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["load_yaml"]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Return the object of one YAML document, as :func:`yaml.safe_load` would.

    Parameters
    ----------
    text
        The YAML document.

    Returns
    -------
    Any
        Mappings, lists and scalars (``None`` for an empty document).

    Raises
    ------
    yaml.YAMLError
        When the text is not valid YAML.
    """
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader: the C or the Python SafeLoader)
