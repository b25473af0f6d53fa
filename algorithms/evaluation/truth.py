"""The known truth of a synthetic operator (``truth.csv``), keyed by the same pseudonyms as the graph.

``bellwether generate`` writes ``truth.csv`` with columns
``msisdn,on_net,kind,community,role,churn_date``.  Numbers are pseudonymised
with the workspace's key (:func:`bellwether.loaders.pseudonym.pseudonymize`), or only
normalised to E.164 (:func:`bellwether.loaders.msisdn.normalize_msisdn`) for a workspace
loaded with ``--no-pseudonymize``, so truth rows join run rows on ``id``.  A
file that already carries an ``id`` column is used as is.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from bellwether.graph.core.errors import BellwetherError

__all__ = ["TruthError", "read_truth", "TRUTH_COLUMNS"]

TRUTH_COLUMNS = ("id", "on_net", "kind", "community", "role", "churn_date")


class TruthError(BellwetherError):
    """The truth file is missing, unreadable or lacks a column."""


def _bool(col: pd.Series) -> pd.Series:
    return col.astype(str).str.strip().str.lower().isin(["true", "1", "yes", "t"])


def read_truth(
    path: str | Path, *, key: bytes | None = None, pseudonymized: bool = True, country_code: str = "86"
) -> pd.DataFrame:
    """Read a truth file into columns :data:`TRUTH_COLUMNS` (``churn_date`` as ``datetime64``).

    Parameters
    ----------
    path : path
        CSV with ``msisdn`` (or ``id``), ``on_net``, ``kind``, ``community``, ``role``, ``churn_date``.
    key : bytes, optional
        Pseudonymisation key (:func:`bellwether.loaders.pseudonym.resolve_key`); required when the file has
        ``msisdn`` and ``pseudonymized``.
    pseudonymized : bool, default True
        The workspace stores pseudonyms (False: E.164 numbers, ``--no-pseudonymize``).
    country_code : str, default "86"
        Country code of national numbers in the file.

    Raises
    ------
    TruthError
        The file does not exist, misses a column, or has ``msisdn`` but no key was given.
    """
    p = Path(path)
    if not p.exists():
        raise TruthError(f"Truth file {p} does not exist (`bellwether generate` writes OUTDIR/truth.csv).")
    raw = pd.read_csv(p, dtype=str, keep_default_na=False)
    missing = [c for c in ("on_net", "kind", "community", "role", "churn_date") if c not in raw.columns]
    if "id" not in raw.columns and "msisdn" not in raw.columns:
        missing.insert(0, "msisdn")
    if missing:
        raise TruthError(f"Truth file {p}: missing column(s) {', '.join(missing)}.")
    if "id" in raw.columns:
        ids = raw["id"].astype(str)
    elif not pseudonymized:
        from bellwether.loaders.msisdn import normalize_msisdn

        ids = pd.Series([normalize_msisdn(x, country_code) for x in raw["msisdn"]], index=raw.index, dtype=object)
    else:
        if key is None:
            raise TruthError(f"Truth file {p} holds phone numbers: a pseudonymisation key is needed to match them.")
        from bellwether.loaders.pseudonym import pseudonymize

        ids = pd.Series(pseudonymize(raw["msisdn"].tolist(), key, country_code), index=raw.index, dtype=object)
    community = pd.to_numeric(raw["community"].replace("", None), errors="coerce")
    churn = pd.to_datetime(raw["churn_date"].replace("", None), errors="coerce")
    bad = churn.isna() & (raw["churn_date"].str.strip() != "")
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise TruthError(f"Truth file {p}, line {row + 2}, column churn_date: not a date: {raw['churn_date'].iloc[row]!r}.")
    return pd.DataFrame({
        "id": ids.astype(object).to_numpy(),
        "on_net": _bool(raw["on_net"]).to_numpy(),
        "kind": raw["kind"].astype(object).to_numpy(),
        "community": community.astype("Int64").to_numpy(),
        "role": raw["role"].astype(object).to_numpy(),
        "churn_date": churn.to_numpy(dtype="datetime64[ns]"),
    })
