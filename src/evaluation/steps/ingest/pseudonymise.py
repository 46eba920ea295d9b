"""Keyed pseudonyms for person identifiers, and where the key comes from.

A person identifier (every column with ``identifier == "person"``: the child's
and parents' PNR, the family id, the caseworker id) is replaced by the first 16
hexadecimal characters of HMAC-SHA256(key, id). The same id gives the same
pseudonym in every extract, so joins still work; without the key the mapping
cannot be rebuilt or checked by guessing CPR numbers. Missing stays missing.

The key is secret for real data. It is read from an environment variable or a
file and is never written to an output, a log or an exception message. Only a
synthetic registry (``manifest.json`` with ``"synthetic": true``) may use the
public key :data:`SYNTHETIC_KEY`.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa

from evaluation.contract.extracts import Extract
from evaluation.errors import PseudonymisationError

#: The public key used for synthetic registries only. It protects nothing and is
#: documented so that synthetic runs are reproducible without a secret.
SYNTHETIC_KEY = b"synthetic-registry-public-key"
#: Length of a pseudonym: hexadecimal characters of the HMAC-SHA256 digest kept.
PSEUDONYM_LENGTH = 16

_log = logging.getLogger(__name__)

NO_KEY_MESSAGE = (
    "No pseudonymisation key. Real extracts need a secret key: set EVALUATION_PSEUDONYM_KEY or ingest.key_file "
    "in config. The key must never be committed or put in config."
)


def _is_synthetic(raw_dir: Path) -> bool:
    manifest = Path(raw_dir) / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        content = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PseudonymisationError(f"{manifest}: cannot be read as JSON ({type(exc).__name__}).") from exc
    return isinstance(content, dict) and content.get("synthetic") is True


def load_key(raw_dir: Path, *, env_var: str = "EVALUATION_PSEUDONYM_KEY", key_file: Path | None = None) -> bytes:
    """Return the pseudonymisation key.

    In order: the environment variable ``env_var`` when set and not empty (its
    UTF-8 bytes); else ``key_file`` when given (its bytes, stripped of
    surrounding white space); else, for a synthetic registry (``manifest.json``
    in ``raw_dir`` with ``"synthetic": true``), the public :data:`SYNTHETIC_KEY`
    (logged as a warning); else an error.

    Parameters
    ----------
    raw_dir
        Folder of the extracts.
    env_var
        Environment variable holding the key.
    key_file
        File holding the key (keep it outside the repository).

    Returns
    -------
    bytes
        The key.

    Raises
    ------
    PseudonymisationError
        If ``key_file`` is missing or empty, or no key is available for real data.
    """
    value = os.environ.get(env_var, "")
    if value:
        return value.encode("utf-8")
    if key_file is not None:
        path = Path(key_file)
        if not path.is_file():
            raise PseudonymisationError(f"Pseudonymisation key file {path} does not exist. Check ingest.key_file.")
        key = path.read_bytes().strip()
        if not key:
            raise PseudonymisationError(f"Pseudonymisation key file {path} is empty. Put the secret key in it.")
        return key
    if _is_synthetic(raw_dir):
        _log.warning("Using the public synthetic pseudonymisation key: %s is a synthetic registry.", raw_dir)
        return SYNTHETIC_KEY
    raise PseudonymisationError(NO_KEY_MESSAGE)


def pseudonym(value: str, key: bytes) -> str:
    """Return the pseudonym of one identifier: HMAC-SHA256 hex digest, first 16 characters.

    Parameters
    ----------
    value
        The identifier, as text.
    key
        The secret key.

    Returns
    -------
    str
        16 lower-case hexadecimal characters.
    """
    return hmac.digest(key, value.encode("utf-8"), "sha256").hex()[:PSEUDONYM_LENGTH]


def pseudonymise_series(values: pd.Series, key: bytes) -> pd.Series:
    """Replace every identifier in a text column by its pseudonym; missing stays missing.

    Each distinct value is hashed once.

    Parameters
    ----------
    values
        Identifiers as text.
    key
        The secret key.

    Returns
    -------
    pandas.Series
        Pseudonyms (dtype ``str``), same index.
    """
    if not key:
        raise PseudonymisationError("The pseudonymisation key is empty.")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    digest = hmac.digest  # one C call per distinct value; the same as pseudonym()
    hashed = pa.array(
        [digest(key, str(u).encode("utf-8"), "sha256").hex()[:PSEUDONYM_LENGTH] for u in uniques.tolist()],
        pa.string(),
    )
    out = hashed.take(pa.array(codes, mask=codes < 0)).to_pandas()  # missing stays missing
    out.index = values.index
    return out


def pseudonymise_frame(frame: pd.DataFrame, extract: Extract, key: bytes) -> pd.DataFrame:
    """Pseudonymise every person-identifier column of an extract frame (DST column names).

    Parameters
    ----------
    frame
        Typed frame with the extract's DST column names.
    extract
        The extract; its columns with ``identifier == "person"`` are replaced.
    key
        The secret key.

    Returns
    -------
    pandas.DataFrame
        A copy with pseudonyms; record identifiers are kept.
    """
    out = frame.copy()
    for col in extract.columns:
        if col.identifier == "person":
            out[col.name] = pseudonymise_series(out[col.name], key)
    return out
