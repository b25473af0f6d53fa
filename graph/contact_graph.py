"""The contact graph: a subscribers table plus a contacts table, and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from bellwether.graph import schema
from bellwether.graph.core.workspace import GraphFiles, Workspace, read_json

if TYPE_CHECKING:  # imported lazily: engines are heavy and optional per call
    import igraph as ig
    import networkx as nx


@dataclass
class ContactGraph:
    """Subscribers (vertices) and contacts (undirected weighted edges).

    Attributes
    ----------
    subscribers : pandas.DataFrame
        Columns of :data:`bellwether.graph.schema.SUBSCRIBERS`; row ``i`` has ``vid == i``.
    contacts : pandas.DataFrame
        Columns of :data:`bellwether.graph.schema.CONTACTS`; ``a_vid < b_vid`` is not
        required, but each unordered pair appears once.
    info : dict
        How the tables were built (``as_of``, ``window_days``, counts...).
    """

    subscribers: pd.DataFrame
    contacts: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        vid = self.subscribers["vid"].to_numpy()
        if len(vid) and not np.array_equal(vid, np.arange(len(vid))):
            raise ValueError("subscribers.vid must be 0..n-1 in row order")

    # --- size ------------------------------------------------------------
    @property
    def n_subscribers(self) -> int:
        return len(self.subscribers)

    @property
    def n_contacts(self) -> int:
        return len(self.contacts)

    @property
    def as_of(self) -> str | None:
        return self.info.get("as_of")

    def edge_array(self) -> np.ndarray:
        """Return the ``(m, 2)`` int64 array of contact endpoints as vertex numbers."""
        return np.column_stack(
            [self.contacts["a_vid"].to_numpy(np.int64), self.contacts["b_vid"].to_numpy(np.int64)]
        )

    def weights(self, weight: str | None = "weight") -> np.ndarray:
        """Return edge weights from column ``weight``, or ones when ``weight`` is None."""
        if weight is None:
            return np.ones(self.n_contacts, dtype=np.float64)
        return self.contacts[weight].to_numpy(np.float64)

    @classmethod
    def from_edges(
        cls,
        edges: Sequence[tuple[int, int]] | np.ndarray,
        weights: Sequence[float] | np.ndarray | None = None,
        n: int | None = None,
        subscribers: pd.DataFrame | None = None,
        **contact_columns: Sequence[Any] | np.ndarray,
    ) -> "ContactGraph":
        """Build a small graph from vertex-number pairs (for tests, examples and generated graphs).

        Ids are ``s0000000000000000``-style strings derived from the vertex number unless a
        ``subscribers`` table is given; missing subscriber columns get neutral values
        (on-net persons without CRM attributes).  Extra keyword arrays become contact columns.
        """
        e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
        if n is None:
            n = int(e.max()) + 1 if len(e) else 0
            if subscribers is not None:
                n = max(n, len(subscribers))
        base = empty_subscribers().reindex(range(n))
        base["vid"] = np.arange(n, dtype=np.int64)
        base["id"] = [f"{i:016x}" for i in range(n)]
        base["on_net"] = True
        base["kind"] = "person"
        if subscribers is not None:
            for col in subscribers.columns:
                base[col] = subscribers[col].to_numpy()
        lo, hi = np.minimum(e[:, 0], e[:, 1]), np.maximum(e[:, 0], e[:, 1])
        ids = base["id"].to_numpy()
        contacts = pd.DataFrame({"a_vid": lo, "b_vid": hi, "a": ids[lo], "b": ids[hi]})
        contacts["weight"] = np.ones(len(e)) if weights is None else np.asarray(weights, dtype=np.float64)
        for name, col in contact_columns.items():
            contacts[name] = np.asarray(col)
        return cls(base, contacts)

    # --- stores ----------------------------------------------------------
    @classmethod
    def load(cls, workspace: Workspace | str | Path, contact_columns: Sequence[str] | None = None) -> "ContactGraph":
        """Read the graph tables of a workspace; ``contact_columns`` limits the contact columns read to those
        of them the file holds (``a_vid`` and ``b_vid`` always)."""
        ws = workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))
        ws.require_graph()
        return cls.read(ws.graph_files(), contact_columns)  # resolved once: all three from one published graph

    @classmethod
    def read(cls, files: GraphFiles, contact_columns: Sequence[str] | None = None) -> "ContactGraph":
        """Read the graph tables of one graph directory (see :meth:`load` for ``contact_columns``)."""
        # each Arrow table gives its buffers up column by column as pandas takes them (one copy alive, not two)
        subscribers = pq.read_table(files.subscribers_path).to_pandas(split_blocks=True, self_destruct=True)
        cols = None
        if contact_columns is not None:
            held = set(pq.read_schema(files.contacts_path).names)
            cols = [c for c in dict.fromkeys(["a_vid", "b_vid", *contact_columns]) if c in held]
        contacts = pq.read_table(files.contacts_path, columns=cols).to_pandas(split_blocks=True, self_destruct=True)
        info = read_json(files.info_path) if files.info_path.exists() else {}
        return cls(subscribers, contacts, info)

    def save(self, workspace: Workspace | str | Path) -> Workspace:
        """Publish these tables (and ``graph.json``) as the workspace's graph, replacing it all or nothing.

        No ``service_numbers.parquet`` is written: this graph does not say which numbers were left out.
        """
        import pyarrow as pa

        from bellwether.graph.core.workspace import write_json

        ws = (workspace if isinstance(workspace, Workspace) else Workspace(Path(workspace))).create()
        with ws.writing_graph("graph save") as new:
            pq.write_table(pa.Table.from_pandas(self.subscribers, schema=schema.SUBSCRIBERS, preserve_index=False),
                           new.subscribers_path)
            pq.write_table(pa.Table.from_pandas(self.contacts, schema=schema.CONTACTS, preserve_index=False),
                           new.contacts_path)
            write_json(new.info_path, self.info)
        return ws

    # --- engines ---------------------------------------------------------
    def to_igraph(self, weight: str | None = "weight", edge_attrs: Sequence[str] = ()) -> "ig.Graph":
        """Build an undirected :class:`igraph.Graph`; vertex ``i`` is subscriber ``vid == i``.

        The edge weight is stored as the ``weight`` edge attribute; vertex names are not
        set (look ids up in ``subscribers`` by vertex number) to keep the build cheap.
        """
        import igraph as ig

        g = ig.Graph(n=self.n_subscribers, edges=self.edge_array(), directed=False)
        g.es["weight"] = self.weights(weight)
        for col in edge_attrs:
            g.es[col] = self.contacts[col].to_numpy()
        return g

    @classmethod
    def from_networkx(cls, graph: "nx.Graph") -> tuple["ContactGraph", list]:
        """A networkx graph as a contact graph (edge attribute ``weight``, else 1); returns it and the node
        names in vertex order (for tests and benchmarks on published graphs: karate club, Florentine families)."""
        nodes = list(graph.nodes())
        index = {x: i for i, x in enumerate(nodes)}
        edges = [(index[a], index[b]) for a, b in graph.edges()]
        weights = [float(d.get("weight", 1.0)) for _, _, d in graph.edges(data=True)]
        return cls.from_edges(edges, weights, n=len(nodes)), nodes

    def to_networkx(self, weight: str | None = "weight", edge_attrs: Sequence[str] = ()) -> "nx.Graph":
        """Build an undirected :class:`networkx.Graph` with vertex numbers as nodes and a ``weight`` attribute."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(self.n_subscribers))
        w = self.weights(weight)
        extra = [self.contacts[c].to_numpy() for c in edge_attrs]
        edges = self.edge_array()
        for i in range(len(edges)):
            attrs = {"weight": float(w[i])}
            for name, col in zip(edge_attrs, extra):
                attrs[name] = col[i].item() if hasattr(col[i], "item") else col[i]
            g.add_edge(int(edges[i, 0]), int(edges[i, 1]), **attrs)
        return g

    def to_csr(self, weight: str | None = "weight"):
        """Return the symmetric weighted adjacency as a ``scipy.sparse.csr_array`` (n x n).

        Indices are 32-bit when the vertex numbers and the entry count fit (:func:`index_dtype`):
        64-bit ones would double the indices and the COO -> CSR copies.
        """
        import scipy.sparse as sp

        n = self.n_subscribers
        index = index_dtype(n, 2 * self.n_contacts)
        a = self.contacts["a_vid"].to_numpy(index)
        b = self.contacts["b_vid"].to_numpy(index)
        w = self.weights(weight)
        return sp.csr_array((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(n, n))


def index_dtype(*sizes: int) -> type:
    """``np.int32`` when every size (vertex count, entry count...) is below 2**31, else ``np.int64``.

    Index arrays of graphs and sparse matrices in 32 bits take half the memory; scipy keeps the
    index type it is given, so the choice made here holds through its conversions.
    """
    return np.int32 if max(sizes, default=0) < 2**31 else np.int64


def id_rows(ids: Any, lookup: Any) -> np.ndarray:
    """Row of each of ``ids`` in ``lookup`` (-1 where absent), e.g. a snapshot's vertices in another graph.

    Matched by Arrow's hash table on the text (``pyarrow.compute.index_in``): no Python string is made,
    about half the memory and twice the speed of a pandas index look-up on a million ids.  ``lookup``
    holds each id once (subscriber ids do).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(x: Any) -> pa.Array:  # Arrow-backed text columns go over without a copy of their strings
        arr = pa.array(pd.Series(x).astype(str))
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr

    return pc.index_in(text(ids), value_set=text(lookup)).fill_null(-1).to_numpy().astype(np.int64)


def empty_subscribers() -> pd.DataFrame:
    """An empty subscribers table with the right columns and dtypes."""
    return schema.SUBSCRIBERS.empty_table().to_pandas()
