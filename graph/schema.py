"""Column names and types of every table Bellwether writes.

One name for one thing: these names are used in the Parquet files of the
workspace, in the Neo4j properties and in the analysts' Cypher queries.

Tables
------
records
    One normalised, pseudonymised CDR per row (``workspace/records/``).
    ``caller`` and ``callee`` hold the pseudonym as a 64-bit unsigned integer (the
    id's 16 hex characters read as one number: 8 bytes instead of a string, joined
    and grouped as integers; :func:`bellwether.loaders.pseudonym.key_to_id` gives the text id
    used by every other table).  A workspace loaded with ``--no-pseudonymize``
    stores the E.164 text instead, and files written before this layout hold the
    16-character text; :func:`bellwether.graph.build.build_contacts` reads all three.
quarantine
    One rejected input row per row, with the reason (``workspace/quarantine/``).
subscribers
    The graph's vertices (``workspace/graph/subscribers.parquet``): every
    person number seen in the records or in the subscriber extract.  ``vid`` is
    the dense vertex number ``0..n-1`` in row order, used by the contacts table
    so engines are built without string look-ups.
contacts
    The graph's edges (``workspace/graph/contacts.parquet``): one undirected
    contact per pair, stored from the smaller id ``a`` to the larger id ``b``;
    ``_ab`` columns count what ``a`` initiated towards ``b``, ``_ba`` the reverse.
service_numbers
    Numbers recognised as service numbers (short codes, call centres), which
    are kept out of the graph by default (``workspace/graph/service_numbers.parquet``).
"""

from __future__ import annotations

import pyarrow as pa

RECORD_TYPES = ("voice", "sms")

RECORDS = pa.schema(
    [
        ("caller", pa.uint64()),  # pseudonym of the initiating party as a 64-bit integer (E.164 text if not pseudonymised)
        ("callee", pa.uint64()),  # pseudonym of the receiving party, likewise
        ("start_time", pa.timestamp("s")),
        ("duration", pa.int32()),  # seconds; 0 for SMS
        ("type", pa.string()),  # "voice" | "sms"
        ("caller_service", pa.bool_()),  # caller is a short code / service number
        ("callee_service", pa.bool_()),
        ("source", pa.string()),  # content hash of the input file the row came from
    ]
)

QUARANTINE = pa.schema(
    [
        ("file", pa.string()),  # input path as given
        ("line", pa.int64()),  # 1-based physical line in the file (header = line 1); row number for Parquet
        ("column", pa.string()),  # input column name (after mapping), or "" for a whole-row problem
        ("value", pa.string()),  # offending value; numbers masked, never the raw MSISDN
        ("reason", pa.string()),  # stable slug, see loaders.errors
        ("message", pa.string()),  # human sentence
        ("source", pa.string()),  # content hash of the input file
    ]
)

SUBSCRIBERS = pa.schema(
    [
        ("vid", pa.int64()),  # dense vertex number 0..n-1
        ("id", pa.string()),  # pseudonym (16 hex chars of HMAC-SHA256)
        ("on_net", pa.bool_()),  # our customer (present in the subscriber extract)
        ("kind", pa.string()),  # "person" | "service"
        ("plan", pa.string()),
        ("arpu", pa.float64()),
        ("tenure_months", pa.int32()),
        ("region", pa.string()),
        ("status", pa.string()),  # "active" | "churned" | ...
        ("churn_date", pa.date32()),
    ]
)

CONTACTS = pa.schema(
    [
        ("a_vid", pa.int64()),
        ("b_vid", pa.int64()),
        ("a", pa.string()),  # smaller pseudonym
        ("b", pa.string()),  # larger pseudonym
        ("calls_ab", pa.int32()),
        ("calls_ba", pa.int32()),
        ("seconds_ab", pa.int64()),
        ("seconds_ba", pa.int64()),
        ("sms_ab", pa.int32()),
        ("sms_ba", pa.int32()),
        ("first_contact", pa.timestamp("s")),
        ("last_contact", pa.timestamp("s")),
        ("active_days", pa.int32()),
        ("night_share", pa.float64()),  # share of events between 22:00 and 06:00
        ("reciprocity", pa.float64()),  # 1 - |n_ab - n_ba| / (n_ab + n_ba), events of both kinds
        ("weight", pa.float64()),  # tie strength, see graph.tie_strength
    ]
)

SERVICE_NUMBERS = pa.schema(
    [
        ("id", pa.string()),
        ("reason", pa.string()),  # "short_code" | "high_in_degree" | "high_out_degree"
        ("in_degree", pa.int64()),
        ("out_degree", pa.int64()),
        ("reciprocity", pa.float64()),
    ]
)


def column_names(schema: pa.Schema) -> list[str]:
    """Return the column names of ``schema`` in order."""
    return [f.name for f in schema]


# --- analysis run tables (workspace/runs/<run_id>/) ---------------------------
# manifest.json: run_id, created, as_of, engine, seed, parameters, versions, graph counts,
# timings per step (seconds), metrics per step (communities, influence, churn, evaluation).

RUN_SUBSCRIBERS = pa.schema(
    [
        ("vid", pa.int64()),
        ("id", pa.string()),
        ("on_net", pa.bool_()),
        ("community", pa.int64()),  # stable id of the fine community (close circle), matched to the previous run
        ("coarse_community", pa.int64()),  # stable id of the coarse community (wider group) holding it
        ("degree", pa.int64()),
        ("strength", pa.float64()),  # sum of tie-strength weights
        ("pagerank", pa.float64()),  # weighted PageRank, damping 0.85
        ("coreness", pa.int64()),  # k-core number
        ("initiative", pa.float64()),  # share of contact events the subscriber initiated
        ("reach", pa.int64()),  # distinct subscribers within two hops
        ("community_rank", pa.int64()),  # 1 = highest bellwether_score in own community
        ("bellwether_score", pa.float64()),
        ("role", pa.string()),  # bellwether | follower | bridge | member | isolate
        ("churned", pa.bool_()),  # churned before as_of (CRM churn_date < as_of)
        ("churn_risk", pa.float64()),  # network model probability of churn within the horizon
        ("churn_risk_baseline", pa.float64()),  # same classifier without network features
        ("spreading_activation", pa.float64()),  # Dasgupta et al. 2008 energy from recent churners
        ("contagion_score", pa.float64()),  # personalised PageRank from recent churners
        ("churned_contacts", pa.int64()),  # contacts who churned in the recency window before as_of
        ("influence_seed_rank", pa.int64()),  # 1..k for influence-maximisation seeds, null otherwise
    ]
)

_COMMUNITY_SUMMARY = [
    ("community", pa.int64()),
    ("size", pa.int64()),
    ("internal_density", pa.float64()),
    ("internal_weight_share", pa.float64()),  # weight inside / total weight of members
    ("churn_rate", pa.float64()),  # share of members churned before as_of
    ("recent_churners", pa.int64()),  # members churned in the recency window before as_of
    ("mean_arpu", pa.float64()),
    ("on_net_share", pa.float64()),
    ("bellwether", pa.string()),  # id of the member with the highest bellwether_score
]

#: communities.parquet: one row per fine community (the close circle)
COMMUNITIES = pa.schema(_COMMUNITY_SUMMARY + [("coarse_community", pa.int64())])  # the wider group holding it

#: coarse_communities.parquet: one row per coarse community (the wider group), ``community`` = its id
COARSE_COMMUNITIES = pa.schema(_COMMUNITY_SUMMARY + [("fine_communities", pa.int64())])  # fine communities inside

INFLUENCE_SEEDS = pa.schema(
    [
        ("rank", pa.int64()),
        ("vid", pa.int64()),
        ("id", pa.string()),
        ("marginal_gain", pa.float64()),  # estimated extra subscribers reached by adding this seed
        ("cumulative_spread", pa.float64()),  # estimated spread of seeds 1..rank
    ]
)
