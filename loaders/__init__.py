"""Loaders: CDR and subscriber files in, validated, normalised, pseudonymised records out.

Public functions other code uses::

    loaders.msisdn.normalize_msisdn(s, country_code="86") -> str | None   # "+8613812345678", "10086" or None
    loaders.msisdn.is_short_code(normalized) -> bool
    loaders.pseudonym.resolve_key(settings) -> bytes                      # raises PseudonymKeyError, says how to set one
    loaders.pseudonym.pseudonymize(numbers, key, country_code="86") -> list[str | None]
    loaders.pseudonym.hmac_id(normalized, key) -> str                     # 16 hex chars of HMAC-SHA256
    loaders.do_not_contact.read_do_not_contact(path, key, country_code="86") -> set[str]
    loaders.load.load(workspace, cdr_paths, subscribers=None, do_not_contact=None, options=LoadOptions(...)) -> LoadSummary

One module per source layout (:mod:`~bellwether.loaders.cdr_csv`, :mod:`~bellwether.loaders.cdr_parquet`,
:mod:`~bellwether.loaders.bandicoot`, :mod:`~bellwether.loaders.subscribers`), one validation step
shared by all (:mod:`~bellwether.loaders.validate`), the error catalogue
(:mod:`~bellwether.loaders.errors`) and the manifest (:mod:`~bellwether.loaders.manifest`).
"""
