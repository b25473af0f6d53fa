"""``python -m bench``: list the benchmarks and evaluation scripts with the first line of each one's docstring.

Each one is run on its own (``python -m bench.<name> --help``); the big sizes take minutes and
gigabytes, so run one at a time on a quiet machine.
"""

from __future__ import annotations

import ast
from pathlib import Path


def main() -> None:
    here = Path(__file__).parent
    print("Benchmarks and evaluation scripts (run: python -m bench.<name> --help):\n")
    for path in sorted(here.glob("*.py")):
        if path.stem.startswith("_") or path.stem == "planted":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        print(f"  {path.stem:<20} {doc.splitlines()[0] if doc else ''}")


if __name__ == "__main__":
    main()
