"""The Neo4j store: one object through which all Neo4j traffic goes.

:class:`Neo4jStore` holds the driver, the database name and the Cypher library.
It runs statements by name (from ``cypher/``) or as text, always with values as
parameters, and turns connection failures into one :class:`Neo4jError` line
that names the URI and the setting or command that fixes it, in the manner of
the GDS client's ``QueryRunner`` and its ``GdsNotFound`` error.

Write transactions go through the driver's managed transactions
(``Session.execute_write``), which retry transient errors (deadlocks, leader
switches, lost connections) with exponential back-off and jitter until
``max_transaction_retry_time`` has passed.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pandas as pd

from bellwether.graph.cypher_library import CypherLibrary, CypherQuery, default_library
from bellwether.graph.core.errors import BellwetherError

if TYPE_CHECKING:
    import neo4j

    from bellwether.graph.core.settings import Settings

SETTINGS_HINT = "set `neo4j_uri` in bellwether.toml [neo4j] (`uri = ...`) or BELLWETHER_NEO4J_URI"
START_HINT = "start one with `scripts/neo4j-server start` or `docker compose up -d neo4j`"
_NAME_LIKE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


class Neo4jError(BellwetherError):
    """Neo4j cannot be reached or used; the message says which URI and what to fix."""


class Neo4jStore:
    """A connection to one Neo4j database and the named statements of ``cypher/``.

    Parameters
    ----------
    uri : str
        Bolt URI, e.g. ``bolt://127.0.0.1:7687`` or ``neo4j://host:7687``.
    user, password : str, optional
        Basic-auth credentials; with no password the connection is made without
        authentication (servers with ``dbms.security.auth_enabled=false``).
    database : str
        Database name (``neo4j`` on Community Edition).
    library : CypherLibrary, optional
        Named statements; the project's ``cypher/`` directory by default.
    max_retry_time : float
        Seconds the driver keeps retrying a transaction that failed transiently.

    The driver is created lazily; use the store as a context manager, or call
    :meth:`close`.
    """

    def __init__(
        self,
        uri: str,
        user: str | None = "neo4j",
        password: str | None = None,
        database: str = "neo4j",
        library: CypherLibrary | None = None,
        max_retry_time: float = 60.0,
    ) -> None:
        self.uri = uri
        self.user = user
        self.password = password
        self.database = database
        self.max_retry_time = max_retry_time
        self._library = library
        self._driver: neo4j.Driver | None = None

    @classmethod
    def from_settings(cls, settings: "Settings", **kwargs: Any) -> "Neo4jStore":
        """A store for the ``neo4j_*`` settings (config file ``[neo4j]`` table, ``BELLWETHER_NEO4J_*``)."""
        return cls(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password, settings.neo4j_database, **kwargs)

    # --- lifecycle ---------------------------------------------------------------------------------
    @property
    def library(self) -> CypherLibrary:
        if self._library is None:
            self._library = default_library()
        return self._library

    @property
    def driver(self) -> "neo4j.Driver":
        """The driver, created on first use (raises :class:`Neo4jError` for an invalid URI)."""
        if self._driver is None:
            import neo4j

            auth = (self.user or "neo4j", self.password) if self.password else None
            try:
                self._driver = neo4j.GraphDatabase.driver(
                    self.uri,
                    auth=auth,
                    max_transaction_retry_time=self.max_retry_time,
                    connection_timeout=10.0,
                    notifications_min_severity="OFF",
                )
            except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
                raise Neo4jError(
                    f"Neo4j URI {self.uri!r} is not valid ({exc}); expected e.g. bolt://127.0.0.1:7687: {SETTINGS_HINT}."
                ) from None
        return self._driver

    def connect(self) -> "Neo4jStore":
        """Check that the server answers and the database exists; return self.

        Raises
        ------
        Neo4jError
            The server is down, refuses the credentials, or has no such database.
        """
        with self.translate_errors():
            self.driver.verify_connectivity()
            with self.session() as s:
                s.run(self._text("server.ping", {})).consume()
        return self

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    def __enter__(self) -> "Neo4jStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Neo4jStore({self.uri!r}, database={self.database!r})"

    # --- errors ------------------------------------------------------------------------------------
    @contextmanager
    def translate_errors(self) -> Iterator[None]:
        """Turn driver errors about reaching or using the server into one-line :class:`Neo4jError`."""
        import neo4j.exceptions as ne

        try:
            yield
        except Neo4jError:
            raise
        except ne.AuthError:
            raise Neo4jError(
                f"Neo4j at {self.uri} refused the credentials of user {self.user!r}: set BELLWETHER_NEO4J_USER "
                f"and BELLWETHER_NEO4J_PASSWORD (or `user`/`password` in bellwether.toml [neo4j])."
            ) from None
        except (ne.ServiceUnavailable, ne.SessionExpired, ConnectionError) as exc:
            raise Neo4jError(
                f"Cannot reach Neo4j at {self.uri} ({_first_line(exc)}): is the server running? "
                f"{START_HINT.capitalize()}, or {SETTINGS_HINT}."
            ) from None
        except ne.ClientError as exc:
            if exc.code == "Neo.ClientError.Database.DatabaseNotFound":
                raise Neo4jError(
                    f"Neo4j at {self.uri} has no database {self.database!r}: set `database` in bellwether.toml "
                    f"[neo4j] or BELLWETHER_NEO4J_DATABASE (Community Edition has only `neo4j`)."
                ) from None
            if _is_missing_gds(exc):
                raise self._gds_missing() from None
            raise

    def _gds_missing(self) -> Neo4jError:
        return Neo4jError(
            f"Neo4j at {self.uri} has no Graph Data Science plugin (gds.* procedures are missing): install GDS 2.13 "
            f"for Neo4j 5.26 (docker-compose.yml sets NEO4J_PLUGINS='[\"graph-data-science\"]'), or "
            f"{START_HINT.split(' or ')[0]}."
        )

    # --- statements --------------------------------------------------------------------------------
    def query(self, name_or_text: str) -> CypherQuery | None:
        """The library statement called ``name_or_text``; None when it is Cypher text.

        A dotted identifier such as ``load.contacts`` that is not in the library raises
        (it was meant as a name), anything else is taken as Cypher text.
        """
        if name_or_text in self.library:
            return self.library.get(name_or_text)
        if _NAME_LIKE.match(name_or_text.strip()):
            self.library.get(name_or_text.strip())  # raises with close names
        return None

    def _text(self, name_or_text: str, params: dict[str, Any]) -> str:
        q = self.query(name_or_text)
        if q is None:
            return name_or_text
        params.update(q.bind(params))  # optional parameters take their declared defaults
        return q.text

    @contextmanager
    def session(self, **config: Any) -> Iterator["neo4j.Session"]:
        """A driver session on the store's database (errors translated as in :meth:`connect`)."""
        with self.translate_errors():
            with self.driver.session(database=self.database, **config) as s:
                yield s

    def run(self, query: str, **params: Any) -> pd.DataFrame:
        """Run a statement (library name or Cypher text) in a managed read-write transaction.

        Returns the records as a DataFrame (one column per returned field, in order),
        an empty DataFrame for statements that return nothing.  Retried on transient errors.
        """
        text = self._text(query, params)

        def work(tx: "neo4j.ManagedTransaction") -> pd.DataFrame:
            result = tx.run(text, params)
            return result.to_df()

        with self.session() as s:
            return s.execute_write(work)

    def read(self, query: str, **params: Any) -> pd.DataFrame:
        """Like :meth:`run` in a read transaction (routed to a reader in a cluster)."""
        text = self._text(query, params)
        with self.session() as s:
            return s.execute_read(lambda tx: tx.run(text, params).to_df())

    def execute(self, query: str, **params: Any) -> dict[str, int]:
        """Run a write statement in a managed transaction (retried); return its update counters."""
        text = self._text(query, params)
        with self.session() as s:
            summary = s.execute_write(lambda tx: tx.run(text, params).consume())
        return _counters(summary)

    def execute_auto(self, query: str, **params: Any) -> dict[str, int]:
        """Run a statement in an auto-commit transaction (needed by ``CALL {...} IN TRANSACTIONS``); not retried."""
        text = self._text(query, params)
        with self.session() as s:
            summary = s.run(text, params).consume()
        return _counters(summary)

    def write_transaction(self, work: Callable[["neo4j.ManagedTransaction"], Any]) -> Any:
        """Run ``work(tx)`` in a managed write transaction, retried on transient errors."""
        with self.session() as s:
            return s.execute_write(work)

    def scalar(self, query: str, **params: Any) -> Any:
        """The single value of a statement that returns one row and one column."""
        text = self._text(query, params)
        with self.session() as s:
            return s.execute_read(lambda tx: tx.run(text, params).single(strict=True).value())

    # --- server ------------------------------------------------------------------------------------
    def gds_version(self) -> str:
        """The GDS version; :class:`Neo4jError` naming the install step when GDS is missing."""
        import neo4j.exceptions as ne

        try:
            with self.translate_errors():
                return str(self.scalar("server.gds_version"))
        except ne.ClientError as exc:  # pragma: no cover - translate_errors maps the known codes
            raise self._gds_missing() from exc

    def gds(self, show_progress: bool = False) -> Any:
        """A ``graphdatascience.GraphDataScience`` client on the store's driver and database.

        OpenGDS has no Arrow server, so the client talks Cypher only (``arrow=False``).
        Raises :class:`Neo4jError` when GDS is missing.  Close the store, not the client.
        """
        from graphdatascience import GraphDataScience

        self.gds_version()
        with self.translate_errors():
            return GraphDataScience(self.driver, database=self.database, arrow=False, show_progress=show_progress)

    def server_info(self) -> dict[str, Any]:
        """Neo4j version and edition, the GDS version (or None) and the graph's counts."""
        with self.session() as s:
            rec = s.run(self._text("server.components", {})).single()
        try:
            gds = self.gds_version()
        except Neo4jError:
            gds = None
        return {
            "uri": self.uri,
            "database": self.database,
            "neo4j_version": rec["v"],
            "edition": rec["edition"],
            "gds_version": gds,
            **self.counts(),
        }

    def counts(self) -> dict[str, int]:
        """Numbers of subscribers, contacts, fine and coarse communities and MEMBER_OF links (from the count store)."""
        df = self.read("store.counts")
        return {k: int(v) for k, v in df.iloc[0].items()}


def _counters(summary: Any) -> dict[str, int]:
    c = summary.counters
    names = (
        "nodes_created", "nodes_deleted", "relationships_created", "relationships_deleted",
        "properties_set", "constraints_added", "indexes_added",
    )
    return {n: getattr(c, n) for n in names}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _is_missing_gds(exc: Any) -> bool:
    msg = str(getattr(exc, "message", "") or exc)
    return exc.code in (
        "Neo.ClientError.Procedure.ProcedureNotFound",
        "Neo.ClientError.Statement.SyntaxError",
    ) and ("gds." in msg and ("Unknown function" in msg or "no procedure" in msg.lower() or "not found" in msg.lower()))
