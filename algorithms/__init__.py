"""Algorithms on the contact graph: pure functions, graph and parameters in, tables out."""
