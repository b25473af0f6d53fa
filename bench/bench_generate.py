"""Speed and memory of the synthetic operator generator (``bellwether generate``).

Each size runs in a fresh child process so its peak resident memory is its own.
Output goes to ``.cache/bench/generate-<subscribers>`` and is removed unless
``--keep`` is given.

Usage::

    python -m bench.bench_generate --subscribers 1000000
    python -m bench.bench_generate --subscribers 20000 --subscribers 200000 --keep
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import shutil
import time
from pathlib import Path


def _run(outdir: str, subscribers: int, months: int, seed: int, queue) -> None:
    from bellwether.loaders.synthetic import generate_operator

    t0 = time.perf_counter()
    summary = generate_operator(outdir, subscribers=subscribers, months=months, seed=seed)
    seconds = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    queue.put({"seconds": seconds, "peak_mib": peak_kib / 1024, "summary": summary})


def measure(subscribers: int, months: int = 3, seed: int = 42, keep: bool = False, root: Path = Path(".cache/bench")) -> dict:
    """Generate one operator in a child process; return time, peak RSS and the generator's summary."""
    outdir = root / f"generate-{subscribers}"
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(str(outdir), subscribers, months, seed, queue))
    proc.start()
    result = queue.get()
    proc.join()
    size = sum(p.stat().st_size for p in outdir.rglob("*") if p.is_file())
    if not keep:
        shutil.rmtree(outdir, ignore_errors=True)
    result["bytes"] = size
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, action="append", help="size(s) to run [default: 20000 and 200000]")
    parser.add_argument("--months", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the generated files under .cache/bench/")
    args = parser.parse_args(argv)
    sizes = args.subscribers or [20000, 200000]
    header = f"{'subscribers':>12} {'months':>6} {'records':>12} {'rows written':>13} {'seconds':>8} {'rows/s':>11} {'peak RSS MiB':>13} {'files MiB':>10}"
    print(header)
    print("-" * len(header))
    for n in sizes:
        r = measure(n, months=args.months, seed=args.seed, keep=args.keep)
        c = r["summary"]["counts"]
        print(
            f"{n:>12,} {args.months:>6} {c['records']:>12,} {c['rows_written']:>13,} {r['seconds']:>8.1f} "
            f"{c['rows_written'] / r['seconds']:>11,.0f} {r['peak_mib']:>13,.0f} {r['bytes'] / 2**20:>10,.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
