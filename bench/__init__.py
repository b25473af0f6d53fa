"""Benchmarks: each module prints a table of measured figures; run with ``python -m bench.<module>``."""
