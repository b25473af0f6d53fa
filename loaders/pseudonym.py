"""Keyed pseudonyms for phone numbers.

``id = first 16 hex characters of HMAC-SHA256(key, normalised number)``
(RFC 2104 HMAC, FIPS 180-4 SHA-256), where the normalised number is the E.164
text ``+8613812345678`` or a short code's digits (see :mod:`bellwether.loaders.msisdn`).
The same key gives the same id in every load, so months can be joined; without
the key the ids cannot be turned back into numbers.  16 hex characters (64 bits)
keep the chance of a collision among 10 million numbers below 3e-6.

The key comes from the setting ``pseudonym_key`` (environment variable
``BELLWETHER_PSEUDONYM_KEY``) or from the file named by ``pseudonym_key_file``
(``--key-file``).  Bulk loads compute the HMAC on the distinct new numbers only,
compiled (:func:`bellwether.loaders.kernels.hmac64`); :func:`hmac_sql` is the same function as
a DuckDB expression.  Both equal :func:`hmac_id` (tested).
The 16 hex characters are a 64-bit number: stored records carry it as such
(UBIGINT, :func:`hmac_key_sql`), and :func:`key_to_id` gives back the text id.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from typing import Sequence

from bellwether.graph.core.settings import Settings
from bellwether.loaders.errors import PseudonymKeyError
from bellwether.loaders.msisdn import normalize_msisdn

ID_HEX_CHARS = 16
MIN_KEY_BYTES = 16
_BLOCK = 64  # SHA-256 block size in bytes

KEY_HELP = (
    "Set a secret key of at least 16 characters with the environment variable "
    "BELLWETHER_PSEUDONYM_KEY, the setting `pseudonym_key_file` in bellwether.toml, or "
    "`--key-file FILE` (e.g. create one with `python -c \"import secrets; print(secrets.token_hex(32))\" > key.txt`). "
    "Keep the same key for every load of a workspace. To keep raw numbers instead "
    "(not recommended: they then appear in every output), pass --no-pseudonymize."
)


def _check(key: bytes, origin: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"The pseudonymisation key from {origin} is {len(key)} bytes; at least {MIN_KEY_BYTES} are required. {KEY_HELP}"
        )
    return key


def resolve_key(settings: Settings) -> bytes:
    """Return the pseudonymisation key named by ``settings``.

    ``pseudonym_key`` (UTF-8 encoded) wins over ``pseudonym_key_file`` (its
    bytes without trailing whitespace).

    Raises
    ------
    PseudonymKeyError
        No key is configured, the key file cannot be read, or the key is shorter than 16 bytes.
    """
    if settings.pseudonym_key:
        return _check(settings.pseudonym_key.encode("utf-8"), "BELLWETHER_PSEUDONYM_KEY / setting pseudonym_key")
    if settings.pseudonym_key_file:
        path = Path(settings.pseudonym_key_file).expanduser()
        try:
            key = path.read_bytes().rstrip()
        except OSError as exc:
            raise PseudonymKeyError(f"Cannot read the pseudonymisation key file {path}: {exc.strerror}. {KEY_HELP}") from exc
        return _check(key, f"key file {path}")
    raise PseudonymKeyError(f"No pseudonymisation key configured; phone numbers are never stored in the clear. {KEY_HELP}")


def hmac_id(normalized: str, key: bytes) -> str:
    """Pseudonym of one *normalised* number: 16 hex chars of HMAC-SHA256(key, number)."""
    return hmac.new(key, normalized.encode("ascii"), hashlib.sha256).hexdigest()[:ID_HEX_CHARS]


def pseudonymize(numbers: Sequence[str | None], key: bytes, country_code: str = "86") -> list[str | None]:
    """Normalise each number (:func:`bellwether.loaders.msisdn.normalize_msisdn`) and return its pseudonym.

    Malformed or empty numbers give None.  Each distinct number is hashed once.

    >>> key = b"0123456789abcdef"
    >>> a, b, c = pseudonymize(["13812345678", "+8613812345678", "nope"], key)
    >>> a == b, len(a), c
    (True, 16, None)
    """
    cache: dict[str, str | None] = {}
    out: list[str | None] = []
    for raw in numbers:
        if raw not in cache:
            norm = normalize_msisdn(raw, country_code)
            cache[raw] = None if norm is None else hmac_id(norm, key)
        out.append(cache[raw])
    return out


def key_to_id(k: int) -> str:
    """Text id (16 lower-case hex characters) of a pseudonym stored as a 64-bit integer.

    >>> key_to_id(255)
    '00000000000000ff'
    """
    return f"{int(k):0{ID_HEX_CHARS}x}"


def key_to_id_sql(col: str) -> str:
    """DuckDB expression: text id of the UBIGINT pseudonym column ``col`` (:func:`key_to_id`)."""
    return f"lpad(lower(hex({col})), {ID_HEX_CHARS}, '0')"


def key_fingerprint(key: bytes | None) -> str | None:
    """A non-secret fingerprint of the key, stored in the manifest so loads with another key are refused."""
    if key is None:
        return None
    return hmac.new(key, b"bellwether key fingerprint", hashlib.sha256).hexdigest()[:ID_HEX_CHARS]


def hmac_sql(text_col: str, key: bytes) -> str:
    """DuckDB expression computing :func:`hmac_id` of VARCHAR column ``text_col``.

    HMAC(K, m) = H((K0 xor opad) || H((K0 xor ipad) || m)) with K0 the key padded
    to the 64-byte block (hashed first when longer), RFC 2104 section 2.
    """
    k0 = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
    k0 = k0.ljust(_BLOCK, b"\0")
    ipad = bytes(b ^ 0x36 for b in k0).hex()
    opad = bytes(b ^ 0x5C for b in k0).hex()
    inner = f"unhex(sha256(unhex('{ipad}') || CAST({text_col} AS BLOB)))"
    return f"substr(sha256(unhex('{opad}') || {inner}), 1, {ID_HEX_CHARS})"


def hmac_key_sql(text_col: str, key: bytes) -> str:
    """DuckDB expression: :func:`hmac_sql` as a UBIGINT (the 16 hex characters read as one 64-bit number)."""
    return f"CAST('0x' || {hmac_sql(text_col, key)} AS UBIGINT)"
