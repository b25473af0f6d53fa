"""What every layer shares: errors, settings, dates, the workspace on disk, crash points and DuckDB helpers.

The core imports nothing else of Bellwether.  Layers above it run one way,
``cli`` → ``algorithms`` → ``graph`` → ``loaders`` → ``graph.core``; the
contract is in ``pyproject.toml`` (``[tool.importlinter]``) and checked by
``tests/test_layers.py``.
"""
