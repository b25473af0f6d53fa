"""The analysis pipeline behind ``bellwether analyze``: one run, written to ``runs/<run_id>/``.

Steps (each timed, its metrics recorded in ``manifest.json``):

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
7. ``churn``: churn risk and contagion scores (:func:`bellwether.algorithms.churn.score_churn`);
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
import platform
import time
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timedelta, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from bellwether.algorithms.centrality import centrality_table
from bellwether.algorithms.churn import timeline
from bellwether.algorithms.community import community_table, detect_communities, match_community_ids
from bellwether.algorithms.community.detect import DEFAULT_OBJECTIVE, DEFAULT_RESOLUTION
from bellwether.algorithms.crm import CRM_ABSENT_NOTE, crm_status, customers
from bellwether.algorithms.engines import DEFAULT_ENGINE, get_engine
from bellwether.algorithms.roles import assign_roles, bellwether_scores
from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.dates import parse_day
from bellwether.graph.core.errors import BellwetherError
from bellwether.graph.core.workspace import Workspace, read_json, write_json
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["AnalysisError", "CHURN_COLUMNS", "analyze", "churn_step", "influence_step", "mask_after", "STEPS"]

STEPS = ("graph", "mask", "communities", "centrality", "roles", "influence", "churn", "write")


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


class _Progress:
    """Rich progress with one line per step, or nothing when ``enabled`` is False."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress = None

    def __enter__(self) -> "_Progress":
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), transient=False)
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    @contextmanager
    def step(self, name: str, timings: dict[str, float]) -> Iterator[None]:
        task = self._progress.add_task(f"{name} ...", total=1) if self._progress else None
        start = time.perf_counter()
        done = False
        try:
            yield
            done = True
        finally:
            timings[name] = round(time.perf_counter() - start, 3)
            if task is not None:
                word = "done" if done else "failed"
                self._progress.update(task, completed=1, description=f"{name} {word} ({timings[name]:.1f}s)")


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
    kind = subscribers["kind"].astype(object).fillna("person").to_numpy() if "kind" in subscribers else np.full(len(subscribers), "person")
    return np.flatnonzero(customers(subscribers, crm) & (kind == "person") & ~churned)


def _rebuild(ws: Workspace, as_of: date, window_days: int) -> ContactGraph:
    build_contacts = _optional("bellwether.graph.build", "build_contacts")
    if build_contacts is None:
        raise AnalysisError(
            f"The workspace graph is not built for as_of {as_of}; rebuild it with "
            f"`bellwether build --as-of {as_of} --workspace {ws.root}`."
        )
    return build_contacts(ws, as_of, window_days)


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


def _history_graph(ws: Workspace, day: date, horizon_days: int, window_days: int) -> tuple[ContactGraph | None, str]:
    """The contact graph ``horizon_days`` before ``day`` (the churn model's training snapshot), as known at ``day``."""
    if not ws.has_graph() or _optional("bellwether.graph.build", "build_contacts") is None:
        return None, "none"
    t0 = day - timedelta(days=horizon_days)
    try:
        h = _rebuild(ws, t0, window_days)
    except BellwetherError as exc:
        return None, f"unavailable: {exc}"
    return ContactGraph(mask_after(h.subscribers, day), h.contacts, h.info), f"contacts before {t0.isoformat()}"


def churn_step(graph: ContactGraph, day: date, history: ContactGraph | None, *, crm: str, skip: bool = False,
               horizon_days: int = 30, recency_days: int = 30, seed: int = DEFAULT_SEED
               ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Churn scores (:data:`CHURN_COLUMNS` and ``churned_contacts`` per vid) and the contagion test at ``day``.

    ``graph`` is already masked at ``day`` (:func:`mask_after`); ``history`` is the training snapshot or None.
    Columns stay empty (NaN / NA) when the step is skipped, the CRM extract is absent or the churn package
    is not installed; the metrics say which.
    """
    out = pd.DataFrame({"vid": np.arange(graph.n_subscribers, dtype=np.int64)})
    for c in CHURN_COLUMNS:
        out[c] = np.nan
    out["churned_contacts"] = pd.array([None] * len(out), dtype="Int64")
    score_churn = None if skip else _optional("bellwether.algorithms.churn", "score_churn")
    if skip:
        return out, {"skipped": "asked"}
    if crm == "absent":
        return out, {"skipped": CRM_ABSENT_NOTE, "contagion": {
            "measured": False, "called": None, "reason": CRM_ABSENT_NOTE,
            "verdict": "Cannot tell whether churn spreads in this network: churn dates come from a subscriber "
                       "extract and none was loaded."}}
    if score_churn is None:
        return out, {"skipped": "algorithms.churn is not installed"}
    result = score_churn(graph, day, history=history, horizon_days=horizon_days, recency_days=recency_days, seed=seed)
    sc = result.scores.set_index("vid").reindex(out["vid"])
    for c in CHURN_COLUMNS:
        if c in sc:
            out[c] = sc[c].to_numpy(np.float64)
    if "churned_contacts" in sc:
        out["churned_contacts"] = pd.array(sc["churned_contacts"].to_numpy(), dtype="Int64")
    metrics = _plain(result.metrics)
    contagion_test = _optional("bellwether.algorithms.churn.contagion", "contagion_test")
    if contagion_test is not None:  # does churn spread here? (metrics.churn.contagion)
        metrics["contagion"] = _plain(contagion_test(graph, day, history=history, seed=seed).metrics)
    return out, metrics


def analyze(
    workspace: Workspace | str | Path,
    *,
    as_of: Any = None,
    engine: str = DEFAULT_ENGINE,
    seed: int = DEFAULT_SEED,
    objective: str | None = None,
    resolution: float | None = None,
    k: int = 50,
    graph: ContactGraph | None = None,
    progress: bool = True,
    method: str = "leiden",
    max_iterations: int | None = 2,
    horizon_days: int = 30,
    recency_days: int = 30,
    label: str | None = None,
    skip: tuple[str, ...] = (),
    influence_simulations: int = 300,
    engine_celf: bool = False,
) -> Path:
    """Run the whole analysis and write one run directory; return its path.

    Parameters
    ----------
    workspace : Workspace or path
        Where the graph lives and where ``runs/<run_id>/`` is written.
    as_of : date or "YYYY-MM-DD", optional
        Analysis date; default the graph's ``as_of``.  A different date than the
        graph's makes the contacts be rebuilt in memory for that date.
    engine : str, default "numba"
        Engine for communities and centrality (:func:`bellwether.algorithms.engines.get_engine`).
    seed : int, default 42
        Seed of every stochastic step; same inputs and seed -> identical tables.
    objective, resolution, method, max_iterations
        Community detection options, see :func:`bellwether.algorithms.community.leiden.leiden`.
        ``objective=None`` takes the engine's ``default_objective`` (``"modularity"`` for ``gds``),
        else the adaptive default ``"auto"``.
    k : int, default 50
        Number of influence seeds.
    graph : ContactGraph, optional
        Use this graph instead of the workspace's (tests, notebooks).
    progress : bool, default True
        Show a progress line per step.
    horizon_days, recency_days : int, default 30
        Churn horizon (training snapshot ``as_of - horizon``) and the window
        that defines recent churners.
    influence_simulations : int, default 300
        Monte-Carlo cascades used to report the expected spread (with its 95% interval) of the
        influence seeds and of the top-PageRank and top-degree seeds; 0 skips the comparison.
    engine_celf : bool, default False
        Also choose seeds with the engine's own CELF (``gds``: in the database, every tie with one
        propagation probability) and record their spread under the same cascade model as the
        IMM seeds, under ``metrics.influence.engine_celf``.  Slow: minutes at 30k subscribers.
    skip : tuple of str, default ()
        Optional steps to leave out: ``"influence"``, ``"churn"`` (recorded as
        skipped in the manifest, their columns left null).

    Returns
    -------
    pathlib.Path
        The run directory.

    Raises
    ------
    AnalysisError
        No ``as_of`` can be determined, or the graph cannot be rebuilt for it.
    graph.workspace.WorkspaceError
        The workspace has no graph.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
    unknown = sorted(set(skip) - {"influence", "churn"})
    if unknown:
        raise AnalysisError(f"Cannot skip step(s) {', '.join(unknown)}; only 'influence' and 'churn' are optional.")
    eng = get_engine(engine)
    if objective is None:
        objective = getattr(eng, "default_objective", DEFAULT_OBJECTIVE)
    timings: dict[str, float] = {}
    metrics: dict[str, Any] = {}
    if resolution is None and objective != "auto":  # "auto" chooses it (metrics.communities.resolution)
        resolution = DEFAULT_RESOLUTION.get(objective, 1.0)
    started = datetime.now(timezone.utc)

    with _Progress(progress) as prog:
        # 1. graph -------------------------------------------------------------
        with prog.step("graph", timings):
            rebuilt = False
            if graph is None:
                ws.require_graph()
                graph = ContactGraph.load(ws)
                day = parse_day(as_of)
                graph_day = parse_day(graph.as_of)
                if day is not None and graph_day is not None and day != graph_day:
                    graph = _rebuild(ws, day, int(graph.info.get("window_days", 30)))
                    rebuilt = True
            day = parse_day(as_of) or parse_day(graph.as_of)
            if day is None:
                raise AnalysisError("No as_of date: the graph does not record one; pass --as-of YYYY-MM-DD.")
            window_days = int(graph.info.get("window_days", 30))
            _require_contacts(graph, ws, day, window_days)
            crm = crm_status(graph.subscribers)
            metrics["graph"] = {
                "subscribers": graph.n_subscribers,
                "contacts": graph.n_contacts,
                "rebuilt_for_as_of": rebuilt,
                "window_days": window_days,
                "crm": crm,
            }

        # 2. mask --------------------------------------------------------------
        with prog.step("mask", timings):
            subs = mask_after(graph.subscribers, day)
            masked = ContactGraph(subs, graph.contacts, {**graph.info, "as_of": day.isoformat()})
            churned = timeline.churned_before(subs, day)
            recent = timeline.recent_churners(subs, day, recency_days)
            metrics["mask"] = {
                "churn_dates_masked": int(timeline.evaluation_labels(timeline.churn_dates(graph.subscribers), day, None).sum()),
                "churned_before_as_of": int(churned.sum()),
                "recent_churners": int(recent.sum()),
            }

        # Engines that work on a server-side copy (gds) project the graph once for steps 3-4.
        shared = eng.projected(masked) if hasattr(eng, "projected") else nullcontext()
        with shared:
            # 3. communities -------------------------------------------------------
            with prog.step("communities", timings):
                found = detect_communities(
                    masked, method=method, objective=objective, resolution=resolution, seed=seed,
                    engine=eng, max_iterations=max_iterations,
                )
                previous, previous_run = _previous_membership(ws)
                stable, stable_coarse, match = _stable_levels(subs["id"].to_numpy(), found, previous)
                metrics["communities"] = {**found.metrics, "previous_run": previous_run,
                                          "id_matching": match["community"]}
                metrics["communities"]["coarse"]["id_matching"] = match["coarse_community"]

            # 4. centrality --------------------------------------------------------
            with prog.step("centrality", timings):
                table = centrality_table(masked, engine=eng)
                table.insert(1, "community", stable)
                table.insert(2, "coarse_community", stable_coarse)
                metrics["centrality"] = {
                    "max_coreness": int(table["coreness"].max()) if len(table) else 0,
                    "mean_degree": float(table["degree"].mean()) if len(table) else 0.0,
                }

        # 5. roles -------------------------------------------------------------
        with prog.step("roles", timings):
            scores = bellwether_scores(masked, table)
            table["bellwether_score"] = scores["bellwether_score"].to_numpy()
            table["community_rank"] = scores["community_rank"].to_numpy()
            roles = assign_roles(masked, table)
            table["role"] = roles["role"].to_numpy()
            metrics["roles"] = {str(r): int(c) for r, c in table["role"].value_counts().sort_index().items()}

        # 6. influence ---------------------------------------------------------
        with prog.step("influence", timings):
            seeds, metrics["influence"] = influence_step(
                masked, seed_candidates(subs, churned, crm), k=k, seed=seed, simulations=influence_simulations,
                skip="influence" in skip, celf_engine=eng if engine_celf else None)

        # 7. churn -------------------------------------------------------------
        with prog.step("churn", timings):
            history, history_note = (None, "none") if "churn" in skip or crm == "absent" else \
                _history_graph(ws, day, horizon_days, window_days)
            churn_table, metrics["churn"] = churn_step(masked, day, history, crm=crm, skip="churn" in skip,
                                                       horizon_days=horizon_days, recency_days=recency_days,
                                                       seed=seed)
            if "skipped" not in metrics["churn"]:
                metrics["churn"]["history"] = history_note
            for c in churn_table.columns.drop("vid"):
                table[c] = churn_table[c].array

        # 8. write -------------------------------------------------------------
        with prog.step("write", timings):
            table["id"] = subs["id"].astype(str).to_numpy()
            table["on_net"] = subs["on_net"].fillna(False).to_numpy(bool)
            table["churned"] = churned
            rank = pd.array([None] * len(table), dtype="Int64")
            if len(seeds):
                r = np.full(len(table), -1, dtype=np.int64)
                r[seeds["vid"].to_numpy(np.int64)] = seeds["rank"].to_numpy(np.int64)
                rank = pd.array(np.where(r > 0, r, 0), dtype="Int64")
                rank[r <= 0] = pd.NA
            table["influence_seed_rank"] = rank
            comm_input = table[["id", "community", "coarse_community", "bellwether_score"]].copy()
            comm_input["arpu"] = subs["arpu"].to_numpy() if "arpu" in subs else np.nan
            comm_input["on_net"] = table["on_net"].to_numpy()
            comm_input["churned"] = churned
            comm_input["recent_churner"] = recent
            communities = community_table(masked, comm_input)
            coarse = community_table(masked, comm_input, level="coarse")
            if crm == "absent":  # unknown without an extract, not 0%
                for t in (communities, coarse):
                    t[["churn_rate", "on_net_share"]] = np.nan

            run_dir = ws.new_run_dir(label)
            out = table[schema.column_names(schema.RUN_SUBSCRIBERS)]
            pq.write_table(pa.Table.from_pandas(out, schema=schema.RUN_SUBSCRIBERS, preserve_index=False),
                           run_dir / "subscribers.parquet")
            pq.write_table(pa.Table.from_pandas(communities, schema=schema.COMMUNITIES, preserve_index=False),
                           run_dir / "communities.parquet")
            pq.write_table(pa.Table.from_pandas(coarse, schema=schema.COARSE_COMMUNITIES, preserve_index=False),
                           run_dir / "coarse_communities.parquet")
            seeds_out = seeds[schema.column_names(schema.INFLUENCE_SEEDS)] if len(seeds) else seeds
            pq.write_table(pa.Table.from_pandas(seeds_out, schema=schema.INFLUENCE_SEEDS, preserve_index=False),
                           run_dir / "influence_seeds.parquet")

    manifest = {
        "run_id": run_dir.name,
        "created": started.isoformat(timespec="seconds"),
        "as_of": day.isoformat(),
        "engine": eng.name,
        "seed": int(seed),
        "crm": crm,
        "notes": ([CRM_ABSENT_NOTE + "; every person in the graph is treated as a possible customer"] if crm == "absent" else [])
        + ([metrics["communities"]["note"]] if "note" in metrics.get("communities", {}) else []),
        "parameters": {
            "method": method,
            "objective": objective,
            "resolution": None if resolution is None else float(resolution),
            "max_iterations": max_iterations,
            "k": int(k),
            "influence_simulations": int(influence_simulations),
            "engine_celf": bool(engine_celf),
            "horizon_days": int(horizon_days),
            "recency_days": int(recency_days),
            "window_days": window_days,
        },
        "versions": _versions(eng.versions()),
        "graph": {"subscribers": graph.n_subscribers, "contacts": graph.n_contacts, "info": _plain(graph.info)},
        "timings": timings,
        "metrics": _plain(metrics),
        "files": ["subscribers.parquet", "communities.parquet", "coarse_communities.parquet", "influence_seeds.parquet"],
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
