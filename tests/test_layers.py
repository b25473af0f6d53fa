"""The layering contract, checked on the import graph (grimp parses every import, lazy ones included).

Layers, top to bottom; a module may import its own layer or any layer below it, never one above:

    bellwether.cli          the command line: parse, call, print
    bellwether.algorithms   analysis, lists, report, evaluation, engines
    bellwether.graph        the contact graph: build, stores, Neo4j, exports, the list service
    bellwether.loaders      readers, validation, quarantine, pseudonyms, the synthetic operator
    bellwether.graph.core   errors, settings, dates, the workspace, crash points, DuckDB helpers

And inside every package, the sub-packages and modules import each other one way (no cycle among
siblings), so each can be read, tested and replaced from the bottom up.
"""

from __future__ import annotations

import grimp
import networkx as nx
import pytest

LAYERS = ("bellwether.cli", "bellwether.algorithms", "bellwether.graph", "bellwether.loaders", "bellwether.graph.core")
ROOTS = ("bellwether.graph", "bellwether.loaders", "bellwether.algorithms", "bellwether.cli")


@pytest.fixture(scope="module")
def imports() -> grimp.ImportGraph:
    return grimp.build_graph(*ROOTS)


def layer_of(module: str) -> int:
    """Index in :data:`LAYERS` of the most specific layer holding ``module`` (0 = top)."""
    best = max((name for name in LAYERS if module == name or module.startswith(name + ".")), key=len)
    return LAYERS.index(best)


def test_layer_of():
    assert layer_of("bellwether.graph.core.errors") == 4
    assert layer_of("bellwether.graph.build") == 2
    assert layer_of("bellwether.cli.app") == 0


def _upward(graph: grimp.ImportGraph) -> list[str]:
    found = []
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if layer_of(imported) < layer_of(module):
                lines = graph.get_import_details(importer=module, imported=imported)
                where = ", ".join(f"line {d['line_number']}" for d in lines)
                found.append(f"{module} imports {imported} ({where}): {LAYERS[layer_of(module)]} sits below "
                             f"{LAYERS[layer_of(imported)]}")
    return found


def test_imports_run_down_the_layers(imports):
    assert _upward(imports) == []


def _sibling_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    cycles = []
    packages = [m for m in graph.modules if graph.find_children(m)]
    for package in sorted(packages):
        children = sorted(graph.find_children(package))
        owner = {}
        for child in children:
            owner[child] = child
            for descendant in graph.find_descendants(child):
                owner[descendant] = child
        siblings = nx.DiGraph()
        for module, child in owner.items():
            for imported in graph.find_modules_directly_imported_by(module):
                other = owner.get(imported)
                if other is not None and other != child:
                    siblings.add_edge(child, other)
        cycles += [sorted(c) for c in nx.simple_cycles(siblings)]
    return cycles


def test_no_cycles_among_siblings(imports):
    assert _sibling_cycles(imports) == []


def test_the_checks_can_fail():
    """A graph with an upward import and a cycle between siblings is reported by both checks."""
    graph = grimp.ImportGraph()
    for name in ("bellwether.graph", "bellwether.graph.core", "bellwether.graph.core.errors", "bellwether.graph.build",
                 "bellwether.graph.exports"):
        graph.add_module(name)
    graph.add_import(importer="bellwether.graph.core.errors", imported="bellwether.graph.build", line_number=3,
                     line_contents="from bellwether.graph.build import x")
    graph.add_import(importer="bellwether.graph.build", imported="bellwether.graph.exports")
    graph.add_import(importer="bellwether.graph.exports", imported="bellwether.graph.build")
    assert _upward(graph) and "line 3" in _upward(graph)[0]
    assert ["bellwether.graph.build", "bellwether.graph.exports"] in _sibling_cycles(graph)
