"""Pull the contact graph out of Neo4j as the workspace's tables.

``pull_graph`` returns a :class:`bellwether.graph.contact_graph.ContactGraph` whose
subscribers table has the columns of :data:`bellwether.graph.schema.SUBSCRIBERS` with dense
vertex numbers in id order, and whose contacts table has the columns of
:data:`bellwether.graph.schema.CONTACTS` ordered by ``(a_vid, b_vid)``, so an analysis run
from Neo4j sees the same tables as one run from the workspace.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from bellwether.graph import schema
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.neo4j_store.rows import frame_to_schema
from bellwether.graph.neo4j_store.store import Neo4jError, Neo4jStore


def pull_graph(store: Neo4jStore) -> ContactGraph:
    """Read every Subscriber and CONTACT of the store's database as a ContactGraph.

    Raises
    ------
    Neo4jError
        The database holds no subscribers (nothing was pushed), or a contact
        joins nodes without an id.
    """
    subs = store.read("pull.subscribers")
    if subs.empty:
        raise Neo4jError(
            f"Neo4j at {store.uri} (database {store.database!r}) holds no Subscriber nodes: "
            f"push a graph first with `bellwether neo4j push`."
        )
    subs = subs.sort_values("id", kind="stable").reset_index(drop=True)
    subs.insert(0, "vid", np.arange(len(subs), dtype=np.int64))
    subscribers = frame_to_schema(subs, schema.SUBSCRIBERS)

    contacts = store.read("pull.contacts")
    index = pd.Index(subscribers["id"].astype(object))
    if len(contacts):
        contacts["a_vid"] = index.get_indexer(contacts["a"].astype(object))
        contacts["b_vid"] = index.get_indexer(contacts["b"].astype(object))
        if (contacts["a_vid"] < 0).any() or (contacts["b_vid"] < 0).any():
            raise Neo4jError(f"Neo4j at {store.uri}: a CONTACT joins a Subscriber without an id; re-run the push.")
        contacts = contacts.sort_values(["a_vid", "b_vid"], kind="stable").reset_index(drop=True)
    contacts = frame_to_schema(contacts, schema.CONTACTS)

    info_df = store.read("pull.graph_info")
    info = json.loads(info_df["info"].iloc[0]) if len(info_df) and info_df["info"].iloc[0] else {}
    info["source"] = f"neo4j:{store.uri}/{store.database}"
    return ContactGraph(subscribers, contacts, info)
