"""One place for configuration: defaults, then a TOML file, then environment variables.

Precedence (later wins): built-in defaults < ``bellwether.toml`` < ``BELLWETHER_*``
environment variables < command-line options (applied by the CLI).

The file is looked up at the path in ``BELLWETHER_CONFIG``, else ``./bellwether.toml``.
Every key may sit at the top level or in a ``[bellwether]`` table; Neo4j keys may
also sit in a ``[neo4j]`` table without their prefix::

    workspace = "/data/bellwether"
    country_code = "86"

    [neo4j]
    uri = "bolt://127.0.0.1:7687"
    user = "neo4j"

Each environment variable is the key upper-cased with a ``BELLWETHER_`` prefix,
e.g. ``BELLWETHER_NEO4J_URI``, ``BELLWETHER_PSEUDONYM_KEY``.

Values are checked whenever settings are made or overridden (:meth:`Settings.validate`):
a bad one raises :class:`ConfigError` naming the setting, its command-line option and
environment variable, the value and what is expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from bellwether.graph.core.errors import BellwetherError


class ConfigError(BellwetherError):
    """A configuration file or value is invalid."""


#: the seed of every stochastic step unless told otherwise (setting ``seed``)
DEFAULT_SEED = 42
#: the Spark master of the Spark steps unless told otherwise (setting ``spark_master``): two local cores
DEFAULT_SPARK_MASTER = "local[2]"


@dataclass(frozen=True)
class Settings:
    workspace: str = "bellwether-workspace"
    country_code: str = "86"
    pseudonym_key: str | None = None  # secret; prefer pseudonym_key_file
    pseudonym_key_file: str | None = None
    max_reject_ratio: float = 0.01
    window_days: int = 30
    engine: str = "numba"
    seed: int = DEFAULT_SEED
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str = "neo4j"
    api_token: str | None = None  # secret: `bellwether serve` requires it as a Bearer token when set
    spark_master: str = DEFAULT_SPARK_MASTER  # local[N], spark://host:7077, yarn, ...

    def __post_init__(self) -> None:
        cc = str(self.country_code).strip().lstrip("+")  # "+86" and TOML's 86 mean "86"
        object.__setattr__(self, "country_code", cc)
        self.validate()

    def validate(self) -> None:
        """Raise :class:`ConfigError` for the first value out of its range (see :data:`_CHECKS`)."""
        for name, (ok, expected) in _CHECKS.items():
            value = getattr(self, name)
            if not ok(value):
                raise ConfigError(f"{_describe(name)} is {value!r}: expected {expected}.")

    def with_overrides(self, **values: Any) -> "Settings":
        """Return a copy with the given non-None values set (command-line options)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    def public(self) -> dict[str, Any]:
        """Settings safe to record in a manifest (secrets removed)."""
        hidden = {"pseudonym_key", "neo4j_password", "api_token"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in hidden}


# setting -> (check, what is expected); run on every Settings made or overridden
_CHECKS: dict[str, tuple[Any, str]] = {
    "country_code": (lambda v: re.fullmatch(r"[1-9][0-9]{0,2}", v) is not None,
                     "a country calling code of 1 to 3 digits, not starting with 0 (e.g. 86, 1, 44)"),
    "max_reject_ratio": (lambda v: 0.0 <= v <= 1.0, "a share of rows between 0 and 1 (e.g. 0.01 for 1%)"),
    "window_days": (lambda v: v >= 1, "a whole number of days, at least 1"),
    "seed": (lambda v: v >= 0, "a whole number, 0 or more"),
}
# the command-line option of a setting, where it differs from --name-with-dashes
_OPTIONS = {"window_days": "--window"}


def _describe(name: str) -> str:
    """``"Setting country_code (--country-code, BELLWETHER_COUNTRY_CODE)"``."""
    option = _OPTIONS.get(name, "--" + name.replace("_", "-"))
    return f"Setting {name} ({option}, BELLWETHER_{name.upper()})"


def _coerce(name: str, raw: Any, typ: Any) -> Any:
    if raw is None:
        return None
    target = {"int": int, "float": float, "str": str, "str | None": str}.get(str(typ), str)
    try:
        return target(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{_describe(name)}: cannot read {raw!r} as {target.__name__}.") from exc


def _flatten(data: Mapping[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "bellwether" and isinstance(value, Mapping):
            flat.update(_flatten(value))
        elif key == "neo4j" and isinstance(value, Mapping):
            flat.update({f"neo4j_{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def load_settings(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Return the settings from defaults, the config file and the environment.

    Raises
    ------
    ConfigError
        The file cannot be parsed, names an unknown key, or a value has the wrong type.
    """
    env = os.environ if environ is None else environ
    known = {f.name: f.type for f in fields(Settings)}
    values: dict[str, Any] = {}

    cfg = Path(path) if path else Path(env.get("BELLWETHER_CONFIG", "bellwether.toml"))
    if path and not cfg.exists():
        raise ConfigError(f"Config file {cfg} does not exist.")
    if cfg.exists():
        try:
            data = _flatten(tomllib.loads(cfg.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"Config file {cfg}: {exc}") from exc
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(
                f"Config file {cfg}: unknown setting(s) {', '.join(unknown)}; "
                f"known settings are {', '.join(sorted(known))}."
            )
        values.update(data)

    for name in known:
        env_name = f"BELLWETHER_{name.upper()}"
        if env_name in env and env[env_name] != "":
            values[name] = env[env_name]

    return Settings(**{k: _coerce(k, v, known[k]) for k, v in values.items()})
