"""The main job end to end on a synthetic operator: the library side of ``bellwether demo``.

generate (:func:`bellwether.loaders.synthetic.generate_operator`) → load and build the graph →
:func:`bellwether.algorithms.analysis.analyze` → evaluate against the planted truth → segments →
target lists → HTML report, each step timed; :func:`run_demo` returns a summary a caller can print
or serialise.  The demo owns ``OUT/data`` and ``OUT/workspace`` and replaces them on every run; its
pseudonymisation key (``OUT/pseudonym.key``) is a random secret made once and kept.
"""

from __future__ import annotations

import secrets
import shutil
import time
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Callable, Iterator
from bellwether.graph.core.settings import DEFAULT_SEED

__all__ = ["demo_key", "run_demo"]


def demo_key(out: Path) -> bytes:
    """The demo's pseudonymisation key: a random secret kept beside the demo data (never an operator's key)."""
    path = out / "pseudonym.key"
    if not path.exists():
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip().encode()


def run_demo(
    out: Path | str,
    *,
    subscribers: int = 100_000,
    months: int = 3,
    seed: int = DEFAULT_SEED,
    on_step: Callable[[str], AbstractContextManager] | None = None,
) -> dict[str, Any]:
    """Run every step on a fresh synthetic operator under ``out``; return the summary.

    ``on_step(name)`` wraps each step (a spinner, a log line); the seconds per step are in the
    summary's ``seconds`` either way.
    """
    from bellwether.algorithms.analysis import analyze
    from bellwether.algorithms.evaluation.report import evaluate_run_dir
    from bellwether.algorithms.evaluation.truth import read_truth
    from bellwether.algorithms.report import write_report
    from bellwether.algorithms.segments import load_run, segment_run, write_segments
    from bellwether.algorithms.targets.build import build_lists, write_lists
    from bellwether.graph.build import build_graph
    from bellwether.graph.core.workspace import Workspace, read_json
    from bellwether.loaders.load import LoadOptions, load
    from bellwether.loaders.synthetic import generate_operator

    out = Path(out)
    data, ws = out / "data", Workspace(out / "workspace")
    timings: dict[str, float] = {}
    wrap = on_step or (lambda name: nullcontext())

    @contextmanager
    def step(name: str) -> Iterator[None]:
        start = time.perf_counter()
        with wrap(name):
            yield
        timings[name] = round(time.perf_counter() - start, 2)

    key = demo_key(out)
    for old in (data, ws.root):  # the demo owns these two folders; a stale operator must not mix in
        if old.exists():
            shutil.rmtree(old)
    with step("generate"):
        operator = generate_operator(data, subscribers=subscribers, months=months, seed=seed)
    as_of = operator["suggested_as_of"]
    with step("build"):
        loaded = load(ws, [data / "cdr"], subscribers=data / "subscribers.csv",
                      do_not_contact=data / "do_not_contact.csv", options=LoadOptions(key=key))
        build_graph(ws, as_of=as_of, progress=False, load=False)
    with step("analyze"):
        run_dir = analyze(ws, seed=seed, progress=False, label="demo")
    with step("evaluate"):
        evaluation = evaluate_run_dir(run_dir, read_truth(data / "truth.csv", key=key), truth_path=str(data / "truth.csv"))
    with step("segments"):
        tables = load_run(ws, run_dir.name)
        segments = segment_run(tables)
        write_segments(tables, segments)
    with step("targets"):
        exports = write_lists(tables, build_lists(tables, segments.table))
    with step("report"):
        report = write_report(load_run(ws, run_dir.name))

    graph = read_json(ws.graph_info_path)
    churn = evaluation.get("churn") or {}
    contagion = ((read_json(run_dir / "manifest.json").get("metrics") or {}).get("churn") or {}).get("contagion") or {}
    return {
        "data": str(data),
        "workspace": str(ws.root),
        "key_file": str(out / "pseudonym.key"),
        "run": str(run_dir),
        "as_of": as_of,
        "records_loaded": sum(r.records for r in loaded.inputs if r.kind == "cdr"),
        "rows_rejected": sum(r.rejected_rows for r in loaded.inputs),
        "subscribers": graph.get("subscribers"),
        "contacts": graph.get("contacts"),
        "community_nmi": (evaluation.get("communities") or {}).get("nmi"),
        "churn_lift_10": {m: v.get("lift_10") for m, v in (churn.get("methods") or {}).items()},
        "churn_contagion": {k: v for k, v in contagion.items()
                            if k in ("measured", "called", "hr", "ci_low", "ci_high", "p_value", "null_median", "verdict")},
        "influence": evaluation.get("influence") or {},
        "lists": {name: {"rows": e.rows, "path": str(e.path)} for name, e in exports.items()},
        "report": str(report),
        "seconds": timings,
    }
