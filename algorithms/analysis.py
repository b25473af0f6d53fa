"""The analysis pipeline behind ``bellwether analyze``: one run, written to ``runs/<run_id>/``.

Steps (each timed, its peak memory and metrics recorded in ``manifest.json``):

0. ``history``: write the churn model's training snapshot (the contacts one horizon before ``as_of``)
   from the records to scratch files, first, before anything else is held (:func:`history_step`);
1. ``graph``: load the workspace graph; when ``as_of`` differs from the graph's
   own, rebuild the contacts for that date in memory
   (:func:`bellwether.graph.build.build_contacts`);
2. ``mask``: erase every CRM fact dated on or after ``as_of`` (churn dates,
   the ``churned`` status they imply) so no later step can see the future;
3. ``communities``: Leiden (default: modularity at a resolution chosen from the graph) for the
   fine level, its communities grouped into a coarse level, the ids of each level matched to the
   same level of the previous run (:mod:`bellwether.algorithms.community`);
4. ``centrality``: degree, strength, weighted PageRank, k-core, initiative,
   two-hop reach (:mod:`bellwether.algorithms.centrality`);
5. ``roles``: bellwether score, rank in community, role (:mod:`bellwether.algorithms.roles`);
6. ``influence``: influence-maximisation seeds (:func:`bellwether.algorithms.influence.select_seeds`);
7. ``churn``: churn risk and contagion scores (:func:`bellwether.algorithms.churn.train_churn` on the
   snapshot of step 0, then :func:`bellwether.algorithms.churn.predict_churn` at ``as_of``);
8. ``write``: the community tables and the run files.

Steps 6 and 7 run when their packages are installed; otherwise the manifest
records them as skipped with the reason.

Without a subscriber (CRM) extract nobody is on-net: the manifest says
``"crm": "absent"`` with a note, every person in the graph is an influence-seed
candidate (:mod:`bellwether.algorithms.crm`), the churn step is skipped (no churn dates)
and the communities' churn rate and on-net share are null (unknown).  A graph
without contacts stops the run with an :class:`AnalysisError` saying what to run.

Outputs
-------
``subscribers.parquet`` (:data:`bellwether.graph.schema.RUN_SUBSCRIBERS`),
``communities.parquet`` (:data:`bellwether.graph.schema.COMMUNITIES`),
``coarse_communities.parquet`` (:data:`bellwether.graph.schema.COARSE_COMMUNITIES`),
``influence_seeds.parquet`` (:data:`bellwether.graph.schema.INFLUENCE_SEEDS`),
``manifest.json``.
"""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import time
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bellwether.algorithms.centrality import centrality_table
from bellwether.algorithms.churn import timeline
from bellwether.algorithms.churn.options import NetworkOptions
from bellwether.algorithms.community import community_table, detect_communities, match_community_ids
from bellwether.algorithms.community.detect import DEFAULT_OBJECTIVE, DEFAULT_RESOLUTION
from bellwether.algorithms.crm import CRM_ABSENT_NOTE, crm_status, customers, persons
from bellwether.algorithms.engines import DEFAULT_ENGINE, get_engine
from bellwether.algorithms.roles import assign_roles, bellwether_scores
from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.dates import parse_day
from bellwether.graph.core.errors import BellwetherError
from bellwether.graph.core.memory import release_free_memory
from bellwether.graph.core.progress import StepProgress
from bellwether.graph.core.workspace import GraphFiles, Workspace, read_json, write_json
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = [
    "AnalysisError", "AnalysisOptions", "CHURN_COLUMNS", "OPTIONAL_STEPS", "STEPS", "analyze", "churn_step",
    "communities_step", "graph_step", "history_step", "influence_step", "mask_after", "mask_step", "roles_step", "write_step",
]

STEPS = ("history", "graph", "mask", "communities", "centrality", "roles", "influence", "churn", "write")
#: steps ``AnalysisOptions.skip`` may leave out
OPTIONAL_STEPS = ("influence", "churn")


class AnalysisError(BellwetherError):
    """The analysis cannot run with the given workspace or options."""


def mask_after(subscribers: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    """Return a copy of the subscribers table as it was known at ``as_of``.

    ``churn_date`` on or after ``as_of`` becomes null, and a ``status`` of
    ``"churned"`` backed by such a date becomes ``"active"`` (the subscriber was
    still a customer at ``as_of``).  Every score is computed from this table,
    so moving future churn dates cannot change any output.
    """
    out = subscribers.copy()
    if "churn_date" not in out:
        return out
    future = timeline.evaluation_labels(timeline.churn_dates(out), parse_day(as_of), None)
    if future.any():
        out["churn_date"] = out["churn_date"].where(~future, None)
        if "status" in out:
            st = out["status"].astype(object).to_numpy().copy()
            st[future & (st == "churned")] = "active"
            out["status"] = st
    return out


def _versions(engine_versions: dict[str, str]) -> dict[str, str]:
    v = {"python": platform.python_version()}
    for pkg in ("bellwether", "igraph", "leidenalg", "networkx", "numpy", "pandas", "pyarrow"):
        try:
            v[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    v.update(engine_versions)
    return v


def _optional(module: str, attr: str):
    """Return ``module.attr`` when the module exists, else None (only a missing module is tolerated)."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        raise
    return getattr(mod, attr, None)


def _plain(value: Any) -> Any:
    """Turn NumPy scalars and containers into plain Python for JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _previous_membership(ws: Workspace) -> tuple[pd.DataFrame | None, str | None]:
    """``id, community, coarse_community`` of the latest run (``coarse_community`` null for runs
    made before the coarse level existed), and its run id."""
    for run in reversed(ws.run_dirs()):
        path = run / "subscribers.parquet"
        if path.exists():
            names = pq.read_schema(path).names
            prev = pq.read_table(path, columns=[c for c in ("id", "community", "coarse_community")
                                                if c in names]).to_pandas()
            if "coarse_community" not in prev:
                prev["coarse_community"] = None
            return prev, run.name
    return None, None


def _stable_levels(ids: np.ndarray, found, previous: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Stable ids of both community levels, each matched to the same level of the previous run."""
    out, info = [], {}
    for level, labels in (("community", found.labels), ("coarse_community", found.coarse_labels)):
        prev = None
        if previous is not None and previous[level].notna().any():
            prev = previous[["id", level]].dropna().rename(columns={level: "community"})
        stable, match = match_community_ids(pd.DataFrame({"id": ids, "community": labels}), prev)
        out.append(stable)
        info[level] = match
    return out[0], out[1], info


def _engine_celf(eng: Any, graph: ContactGraph, k: int, seed: int, simulations: int) -> dict[str, Any]:
    """Seeds from the engine's own CELF (GDS: one propagation probability for every tie) and their
    expected spread under Bellwether's tie-strength cascade model, for comparison with the IMM seeds."""
    from bellwether.algorithms.influence import estimate_spread

    start = time.perf_counter()
    celf = eng.influence_seeds(graph, k, seed=seed)
    out: dict[str, Any] = {"k": int(len(celf)), "seconds": round(time.perf_counter() - start, 2)}
    if simulations > 0 and len(celf):
        mean, lo, hi = estimate_spread(graph, celf["vid"].to_numpy(np.int64), n_simulations=simulations, seed=seed)
        out.update(expected_spread=float(mean), ci_low=float(lo), ci_high=float(hi))
    return out


def _require_contacts(graph: ContactGraph, ws: Workspace, day: date, window_days: int) -> None:
    """Raise :class:`AnalysisError` saying what to run when the graph has no contact to analyse."""
    if graph.n_contacts:
        return
    start = day - timedelta(days=window_days)
    raise AnalysisError(
        f"The contact graph of workspace {ws.root} has no contacts (no call or SMS between two subscribers) "
        f"from {start} to {day}: load CDR files of that period with `bellwether build CDR_FILES --workspace {ws.root}`, "
        f"or choose another --as-of."
    )


def seed_candidates(subscribers: pd.DataFrame, churned: np.ndarray, crm: str) -> np.ndarray:
    """Vertex numbers that may be influence seeds: our persons not churned before ``as_of``.

    Without a CRM extract every person counts as ours (:func:`bellwether.algorithms.crm.customers`).
    """
    return np.flatnonzero(customers(subscribers, crm) & persons(subscribers) & ~churned)


#: The contact columns a run reads: the pseudonyms ``a`` and ``b`` stay on disk (the vertex numbers stand for them).
ANALYSIS_CONTACT_COLUMNS = tuple(c for c in schema.CONTACTS.names if c not in ("a", "b"))


def _rebuild(ws: Workspace, as_of: date, window_days: int) -> ContactGraph:
    build_contacts = _optional("bellwether.graph.build", "build_contacts")
    if build_contacts is None:
        raise AnalysisError(
            f"The workspace graph is not built for as_of {as_of}; rebuild it with "
            f"`bellwether build --as-of {as_of} --workspace {ws.root}`."
        )
    return build_contacts(ws, as_of, window_days, contact_columns=ANALYSIS_CONTACT_COLUMNS)


CHURN_COLUMNS = ("churn_risk", "churn_risk_baseline", "spreading_activation", "contagion_score")


def influence_step(graph: ContactGraph, candidates: np.ndarray, *, k: int, seed: int, simulations: int,
                   skip: bool = False, celf_engine: Any = None) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The influence seeds (:func:`bellwether.algorithms.influence.select_seeds`, IMM) and their metrics.

    ``candidates`` are the vids a seed may be (:func:`seed_candidates`); with ``celf_engine`` (gds) the
    engine's own CELF seeds are chosen too and judged under the same cascade model.
    """
    seeds = schema.INFLUENCE_SEEDS.empty_table().to_pandas()
    select_seeds = None if skip else _optional("bellwether.algorithms.influence", "select_seeds")
    if skip:
        return seeds, {"skipped": "asked"}
    if select_seeds is None:
        return seeds, {"skipped": "algorithms.influence is not installed"}
    if not candidates.size:
        return seeds, {"skipped": "no candidate for a seed: every subscriber is a service number or churned"}
    result = select_seeds(graph, k=k, seed=seed, candidates=candidates, n_simulations=simulations)
    metrics = _plain(result.metrics)
    if celf_engine is not None:
        if not hasattr(celf_engine, "influence_seeds"):
            raise AnalysisError(f"Engine {celf_engine.name!r} has no CELF influence maximisation; use --engine gds.")
        metrics["engine_celf"] = _engine_celf(celf_engine, graph, k, seed, simulations)
    return result.seeds, metrics


@dataclass(frozen=True)
class AnalysisOptions:
    """Everything a run is asked to do: one object shared by the steps of :func:`analyze`.

    Attributes
    ----------
    as_of : date or "YYYY-MM-DD", optional
        Analysis date; default the graph's ``as_of``.  A different date than the graph's makes the
        contacts be rebuilt in memory for that date.
    engine : str or Engine, default "numba"
        Engine for communities and centrality (:func:`bellwether.algorithms.engines.get_engine`).
    seed : int, default 42
        Seed of every stochastic step; same inputs and seed -> identical tables.
    method, objective, resolution, max_iterations
        Community detection (:func:`bellwether.algorithms.community.detect_communities`).
        ``objective=None`` takes the engine's ``default_objective`` (``"modularity"`` for ``gds``),
        else the adaptive default ``"auto"``; ``resolution=None`` the objective's default.
    k : int, default 50
        Number of influence seeds.
    influence_simulations : int, default 300
        Monte-Carlo cascades used to report the expected spread (with its 95% interval) of the
        influence seeds and of the top-PageRank and top-degree seeds; 0 skips the comparison.
    engine_celf : bool, default False
        Also choose seeds with the engine's own CELF (``gds``: in the database, every tie with one
        propagation probability) and record their spread under the same cascade model as the IMM
        seeds, under ``metrics.influence.engine_celf``.  Slow: minutes at 30k subscribers.
    horizon_days : int, default 30
        Churn horizon: the training snapshot is the graph of ``as_of - horizon_days``.
    network : NetworkOptions
        How churned contacts count (:class:`bellwether.algorithms.churn.options.NetworkOptions`;
        ``recency_days`` also defines the recent churners of the community table).
    skip : tuple of str, default ()
        Optional steps to leave out: ``"influence"``, ``"churn"`` (recorded as skipped in the
        manifest, their columns left null).
    """

    as_of: Any = None
    engine: Any = DEFAULT_ENGINE
    seed: int = DEFAULT_SEED
    method: str = "leiden"
    objective: str | None = None
    resolution: float | None = None
    max_iterations: int | None = 2
    k: int = 50
    influence_simulations: int = 300
    engine_celf: bool = False
    horizon_days: int = 30
    network: NetworkOptions = NetworkOptions()
    skip: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "skip", tuple(self.skip))
        unknown = sorted(set(self.skip) - set(OPTIONAL_STEPS))
        if unknown:
            raise AnalysisError(f"Cannot skip step(s) {', '.join(unknown)}; only 'influence' and 'churn' are optional.")
        if self.k < 0 or self.influence_simulations < 0 or self.horizon_days <= 0:
            raise AnalysisError("k and influence_simulations must be 0 or more and horizon_days positive "
                                f"(got k={self.k}, influence_simulations={self.influence_simulations}, "
                                f"horizon_days={self.horizon_days}).")

    def community_objective(self, eng: Any) -> tuple[str, float | None]:
        """The objective and resolution the communities step runs with on engine ``eng``."""
        objective = self.objective or getattr(eng, "default_objective", DEFAULT_OBJECTIVE)
        resolution = self.resolution
        if resolution is None and objective != "auto":  # "auto" chooses it (metrics.communities.resolution)
            resolution = DEFAULT_RESOLUTION.get(objective, 1.0)
        return objective, resolution

    def parameters(self, eng: Any, window_days: int) -> dict[str, Any]:
        """The run manifest's ``parameters``."""
        objective, resolution = self.community_objective(eng)
        return {
            "method": self.method, "objective": objective,
            "resolution": None if resolution is None else float(resolution),
            "max_iterations": self.max_iterations, "k": int(self.k),
            "influence_simulations": int(self.influence_simulations), "engine_celf": bool(self.engine_celf),
            "horizon_days": int(self.horizon_days), "recency_days": int(self.network.recency_days),
            "window_days": window_days, "churn_network": self.network.to_dict(),
        }


@dataclass
class _History:
    """The churn model's training snapshot, written to Parquet by :func:`history_step` and read by the churn step."""

    files: GraphFiles | None
    day: date | None
    note: str

    def load(self) -> tuple[ContactGraph | None, str]:
        """The snapshot, masked at ``day`` (its files removed once read), and the note saying which it is."""
        if self.files is None:
            return None, self.note
        h = ContactGraph.read(self.files, ANALYSIS_CONTACT_COLUMNS)
        self.discard()
        return ContactGraph(mask_after(h.subscribers, self.day), h.contacts, h.info), self.note

    def discard(self) -> None:
        if self.files is not None:
            shutil.rmtree(self.files.dir, ignore_errors=True)

    def __enter__(self) -> "_History":
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()


def history_step(ws: Workspace, as_of: Any, horizon_days: int, graph: ContactGraph | None = None,
                 skip: bool = False) -> _History:
    """Write the contact graph ``horizon_days`` before the run's day (the churn model's training snapshot) to
    scratch files under the workspace.

    It runs first, before the run's graph is loaded, so the rebuild's working memory (DuckDB's) is not
    added to the graph and the tables the later steps hold; the snapshot is read back only in the churn
    step.  Nothing is written when churn will not be scored (skipped, not installed, no CRM extract) or the
    workspace has no records to rebuild from.
    """
    write_contacts = _optional("bellwether.graph.build", "write_contacts")
    scored = _optional("bellwether.algorithms.churn", "train_churn") is not None
    if skip or not scored or write_contacts is None or not ws.has_graph():
        return _History(None, None, "none")
    info = graph.info if graph is not None else (ws.graph_info() or {})
    day = parse_day(as_of) or parse_day(info.get("as_of"))
    subscribers = (graph.subscribers if graph is not None
                   else pq.read_table(ws.subscribers_path, columns=["on_net"]).to_pandas())  # enough for crm_status
    if day is None or crm_status(subscribers) == "absent":
        return _History(None, None, "none")
    t0 = day - timedelta(days=horizon_days)
    files = GraphFiles(ws.root / ".tmp" / f"history-{os.getpid()}")
    try:
        write_contacts(ws, files, t0, int(info.get("window_days", 30)), contact_columns=ANALYSIS_CONTACT_COLUMNS)
    except BellwetherError as exc:
        shutil.rmtree(files.dir, ignore_errors=True)
        return _History(None, None, f"unavailable: {exc}")
    return _History(files, day, f"contacts before {t0.isoformat()}")


def churn_step(graph: ContactGraph, day: date, history: Callable[[], tuple[ContactGraph | None, str]], *, crm: str,
               skip: bool = False, horizon_days: int = 30, network: NetworkOptions = NetworkOptions(),
               seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Churn scores (:data:`CHURN_COLUMNS` and ``churned_contacts`` per vid) and the contagion test at ``day``.

    ``graph`` is already masked at ``day`` (:func:`mask_after`).  ``history()`` gives the training
    snapshot (or None) and a note saying which it is (:meth:`_History.load`); it is called only when
    churn is scored, and the snapshot is let go once the classifiers are fitted and the contagion
    test has read it, before the features at ``day`` are computed, so the two graphs' features are
    never held together.  Columns stay empty (NaN / NA) when the step is skipped, the CRM extract is
    absent or the churn package is not installed; the metrics say which.
    """
    out = pd.DataFrame({"vid": np.arange(graph.n_subscribers, dtype=np.int64)})
    for c in CHURN_COLUMNS:
        out[c] = np.nan
    out["churned_contacts"] = pd.array([None] * len(out), dtype="Int64")
    if skip:
        return out, {"skipped": "asked"}
    if crm == "absent":
        return out, {"skipped": CRM_ABSENT_NOTE, "contagion": {
            "measured": False, "called": None, "reason": CRM_ABSENT_NOTE,
            "verdict": "Cannot tell whether churn spreads in this network: churn dates come from a subscriber "
                       "extract and none was loaded."}}
    train_churn = _optional("bellwether.algorithms.churn", "train_churn")
    predict_churn = _optional("bellwether.algorithms.churn", "predict_churn")
    if train_churn is None or predict_churn is None:
        return out, {"skipped": "algorithms.churn is not installed"}
    snapshot, history_note = history()
    release_free_memory()  # the read's buffers, before the fit adds to what the snapshot holds
    training = train_churn(graph, day, history=snapshot, horizon_days=horizon_days, network=network, seed=seed)
    release_free_memory()
    contagion_test = _optional("bellwether.algorithms.churn.contagion", "contagion_test")
    contagion = None if contagion_test is None else contagion_test(graph, day, history=snapshot, seed=seed).metrics
    del snapshot
    release_free_memory()
    result = predict_churn(graph, training)
    sc = result.scores.set_index("vid").reindex(out["vid"])
    for c in CHURN_COLUMNS:
        if c in sc:
            out[c] = sc[c].to_numpy(np.float64)
    if "churned_contacts" in sc:
        out["churned_contacts"] = pd.array(sc["churned_contacts"].to_numpy(), dtype="Int64")
    metrics = _plain(result.metrics)
    if contagion is not None:  # does churn spread here? (metrics.churn.contagion)
        metrics["contagion"] = _plain(contagion)
    metrics["history"] = history_note
    return out, metrics


@dataclass
class _Loaded:
    """The graph step's result: the graph at ``day`` and what the later steps need to know of it."""

    graph: ContactGraph
    day: date
    window_days: int
    crm: str
    metrics: dict[str, Any]


def graph_step(ws: Workspace, as_of: Any, graph: ContactGraph | None = None) -> _Loaded:
    """The contact graph of the run: ``graph`` when given, else the workspace's, rebuilt in memory
    when ``as_of`` differs from the date it was built for."""
    rebuilt = False
    if graph is None:
        ws.require_graph()
        graph = ContactGraph.load(ws, contact_columns=ANALYSIS_CONTACT_COLUMNS)
        day, graph_day = parse_day(as_of), parse_day(graph.as_of)
        if day is not None and graph_day is not None and day != graph_day:
            graph = _rebuild(ws, day, int(graph.info.get("window_days", 30)))
            rebuilt = True
    day = parse_day(as_of) or parse_day(graph.as_of)
    if day is None:
        raise AnalysisError("No as_of date: the graph does not record one; pass --as-of YYYY-MM-DD.")
    window_days = int(graph.info.get("window_days", 30))
    _require_contacts(graph, ws, day, window_days)
    crm = crm_status(graph.subscribers)
    metrics = {"subscribers": graph.n_subscribers, "contacts": graph.n_contacts, "rebuilt_for_as_of": rebuilt,
               "window_days": window_days, "crm": crm}
    return _Loaded(graph, day, window_days, crm, metrics)


@dataclass
class _Masked:
    """The mask step's result: the graph as known at ``day`` and who had churned by then."""

    graph: ContactGraph
    churned: np.ndarray
    recent: np.ndarray
    metrics: dict[str, Any]

    @property
    def subscribers(self) -> pd.DataFrame:
        return self.graph.subscribers


def mask_step(graph: ContactGraph, day: date, recency_days: int) -> _Masked:
    """Erase every CRM fact dated on or after ``day`` (:func:`mask_after`); churners before ``day`` and recent ones."""
    subs = mask_after(graph.subscribers, day)
    masked = ContactGraph(subs, graph.contacts, {**graph.info, "as_of": day.isoformat()})
    churned = timeline.churned_before(subs, day)
    recent = timeline.recent_churners(subs, day, recency_days)
    metrics = {
        "churn_dates_masked": int(timeline.evaluation_labels(timeline.churn_dates(graph.subscribers), day, None).sum()),
        "churned_before_as_of": int(churned.sum()),
        "recent_churners": int(recent.sum()),
    }
    return _Masked(masked, churned, recent, metrics)


def communities_step(ws: Workspace, graph: ContactGraph, eng: Any, opts: AnalysisOptions
                     ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Stable ids of the fine and coarse communities of every vid, matched to the latest run, and their metrics."""
    objective, resolution = opts.community_objective(eng)
    found = detect_communities(graph, method=opts.method, objective=objective, resolution=resolution,
                               seed=opts.seed, engine=eng, max_iterations=opts.max_iterations)
    previous, previous_run = _previous_membership(ws)
    stable, stable_coarse, match = _stable_levels(graph.subscribers["id"].to_numpy(), found, previous)
    metrics = {**found.metrics, "previous_run": previous_run, "id_matching": match["community"]}
    metrics["coarse"]["id_matching"] = match["coarse_community"]
    return stable, stable_coarse, metrics


def roles_step(graph: ContactGraph, table: pd.DataFrame) -> dict[str, int]:
    """Add ``bellwether_score``, ``community_rank`` and ``role`` to the centrality ``table``; return the role counts."""
    scores = bellwether_scores(graph, table)
    table["bellwether_score"] = scores["bellwether_score"].to_numpy()
    table["community_rank"] = scores["community_rank"].to_numpy()
    table["role"] = assign_roles(graph, table)["role"].to_numpy()
    return {str(r): int(c) for r, c in table["role"].value_counts().sort_index().items()}


def _seed_ranks(n: int, seeds: pd.DataFrame) -> pd.arrays.IntegerArray:
    """``influence_seed_rank`` per vid: the seed's rank, NA for everyone else."""
    rank = pd.array([None] * n, dtype="Int64")
    if len(seeds):
        r = np.full(n, -1, dtype=np.int64)
        r[seeds["vid"].to_numpy(np.int64)] = seeds["rank"].to_numpy(np.int64)
        rank = pd.array(np.where(r > 0, r, 0), dtype="Int64")
        rank[r <= 0] = pd.NA
    return rank


def write_step(run_dir: Path, masked: _Masked, table: pd.DataFrame, seeds: pd.DataFrame, crm: str) -> list[str]:
    """Complete the per-subscriber ``table``, summarise both community levels and write the run's tables."""
    subs = masked.subscribers
    table["id"] = subs["id"].astype(str).to_numpy()
    table["on_net"] = subs["on_net"].fillna(False).to_numpy(bool)
    table["churned"] = masked.churned
    table["influence_seed_rank"] = _seed_ranks(len(table), seeds)
    comm_input = table[["id", "community", "coarse_community", "bellwether_score"]].copy()
    comm_input["arpu"] = subs["arpu"].to_numpy() if "arpu" in subs else np.nan
    comm_input["on_net"] = table["on_net"].to_numpy()
    comm_input["churned"] = masked.churned
    comm_input["recent_churner"] = masked.recent
    communities = community_table(masked.graph, comm_input)
    coarse = community_table(masked.graph, comm_input, level="coarse")
    if crm == "absent":  # unknown without an extract, not 0%
        for t in (communities, coarse):
            t[["churn_rate", "on_net_share"]] = np.nan
    seeds_out = seeds[schema.column_names(schema.INFLUENCE_SEEDS)] if len(seeds) else seeds
    tables = {
        "subscribers.parquet": (table[schema.column_names(schema.RUN_SUBSCRIBERS)], schema.RUN_SUBSCRIBERS),
        "communities.parquet": (communities, schema.COMMUNITIES),
        "coarse_communities.parquet": (coarse, schema.COARSE_COMMUNITIES),
        "influence_seeds.parquet": (seeds_out, schema.INFLUENCE_SEEDS),
    }
    for name, (frame, target) in tables.items():
        pq.write_table(pa.Table.from_pandas(frame, schema=target, preserve_index=False), run_dir / name)
    return list(tables)


def analyze(
    workspace: Workspace | str | Path,
    options: AnalysisOptions | None = None,
    /,
    *,
    graph: ContactGraph | None = None,
    progress: bool = True,
    label: str | None = None,
    **overrides: Any,
) -> Path:
    """Run the whole analysis and write one run directory; return its path.

    Parameters
    ----------
    workspace : Workspace or path
        Where the graph lives and where ``runs/<run_id>/`` is written.
    options : AnalysisOptions, optional
        What to run (:class:`AnalysisOptions`); default all defaults.
    graph : ContactGraph, optional
        Use this graph instead of the workspace's (tests, notebooks).
    progress : bool, default True
        Show a progress line per step.
    label : str, optional
        Suffix of the run id.
    **overrides
        Fields of :class:`AnalysisOptions` to change, e.g. ``analyze(ws, seed=7, skip=("churn",))``.

    Returns
    -------
    pathlib.Path
        The run directory.

    Raises
    ------
    AnalysisError
        An option is out of range, no ``as_of`` can be determined, or the graph cannot be rebuilt for it.
    graph.workspace.WorkspaceError
        The workspace has no graph.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    opts = options or AnalysisOptions()
    if overrides:
        unknown = sorted(set(overrides) - {f.name for f in fields(AnalysisOptions)})
        if unknown:
            raise TypeError(f"analyze() got unknown option(s) {', '.join(unknown)}; "
                            f"options are {', '.join(f.name for f in fields(AnalysisOptions))}.")
        opts = replace(opts, **overrides)
    eng = get_engine(opts.engine)
    timings: dict[str, float] = {}
    peaks: dict[str, int] = {}  # MiB per step
    metrics: dict[str, Any] = {}
    started = datetime.now(timezone.utc)

    with ExitStack() as cleanup, StepProgress(progress, release_memory=True) as prog:
        with prog.step("history", timings, peaks):  # its files are removed when the run ends, read or not
            history = cleanup.enter_context(history_step(ws, opts.as_of, opts.horizon_days, graph,
                                                         skip="churn" in opts.skip))

        with prog.step("graph", timings, peaks):
            loaded = graph_step(ws, opts.as_of, graph)
            day, crm, metrics["graph"] = loaded.day, loaded.crm, loaded.metrics

        with prog.step("mask", timings, peaks):
            masked = mask_step(loaded.graph, day, opts.network.recency_days)
            metrics["mask"] = masked.metrics
            info = loaded.graph.info
            del loaded.graph  # every later step reads the masked graph (which shares the contacts table)

        # Engines that work on a server-side copy (gds) project the graph once for steps 3-4.
        with eng.projected(masked.graph) if hasattr(eng, "projected") else nullcontext():
            with prog.step("communities", timings, peaks):
                stable, stable_coarse, metrics["communities"] = communities_step(ws, masked.graph, eng, opts)

            with prog.step("centrality", timings, peaks):
                table = centrality_table(masked.graph, engine=eng)
                table.insert(1, "community", stable)
                table.insert(2, "coarse_community", stable_coarse)
                metrics["centrality"] = {
                    "max_coreness": int(table["coreness"].max()) if len(table) else 0,
                    "mean_degree": float(table["degree"].mean()) if len(table) else 0.0,
                }

        with prog.step("roles", timings, peaks):
            metrics["roles"] = roles_step(masked.graph, table)

        with prog.step("influence", timings, peaks):
            seeds, metrics["influence"] = influence_step(
                masked.graph, seed_candidates(masked.subscribers, masked.churned, crm), k=opts.k, seed=opts.seed,
                simulations=opts.influence_simulations, skip="influence" in opts.skip,
                celf_engine=eng if opts.engine_celf else None)

        with prog.step("churn", timings, peaks):
            churn_table, metrics["churn"] = churn_step(masked.graph, day, history.load, crm=crm, skip="churn" in opts.skip,
                                                       horizon_days=opts.horizon_days, network=opts.network,
                                                       seed=opts.seed)
            for c in churn_table.columns.drop("vid"):
                table[c] = churn_table[c].array

        with prog.step("write", timings, peaks):
            run_dir = ws.new_run_dir(label)
            files = write_step(run_dir, masked, table, seeds, crm)

    manifest = {
        "run_id": run_dir.name,
        "created": started.isoformat(timespec="seconds"),
        "as_of": day.isoformat(),
        "engine": eng.name,
        "seed": int(opts.seed),
        "crm": crm,
        "notes": ([CRM_ABSENT_NOTE + "; every person in the graph is treated as a possible customer"] if crm == "absent" else [])
        + ([metrics["communities"]["note"]] if "note" in metrics.get("communities", {}) else []),
        "parameters": opts.parameters(eng, loaded.window_days),
        "versions": _versions(eng.versions()),
        "graph": {"subscribers": metrics["graph"]["subscribers"], "contacts": metrics["graph"]["contacts"],
                  "info": _plain(info)},
        "timings": timings,
        "peak_memory_mib": peaks,
        "metrics": _plain(metrics),
        "files": files,
    }
    write_json(run_dir / "manifest.json", manifest)
    return run_dir


def run_summary(run_dir: Path) -> dict[str, Any]:
    """A short summary of a run (what ``bellwether analyze`` prints)."""
    m = read_json(Path(run_dir) / "manifest.json")
    c = m["metrics"].get("communities", {})
    return {
        "run_id": m["run_id"],
        "run_dir": str(run_dir),
        "as_of": m["as_of"],
        "engine": m["engine"],
        "seed": m["seed"],
        "subscribers": m["graph"]["subscribers"],
        "contacts": m["graph"]["contacts"],
        "communities": c.get("n_communities"),
        "coarse_communities": (c.get("coarse") or {}).get("n_communities"),
        "modularity": c.get("modularity"),
        "roles": m["metrics"].get("roles", {}),
        "influence": "skipped" if "skipped" in m["metrics"].get("influence", {}) else "done",
        "churn": "skipped" if "skipped" in m["metrics"].get("churn", {}) else "done",
        "contagion": (m["metrics"].get("churn", {}).get("contagion") or {}).get("verdict"),
        "seconds": round(sum(m["timings"].values()), 2),
        "crm": m.get("crm", "present"),
        "notes": list(m.get("notes", [])),
    }
