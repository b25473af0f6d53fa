"""Input files for `neo4j-admin database import` (no server needed; tests/neo4j/test_bulk_import.py loads them)."""

from __future__ import annotations

import csv

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from bellwether.graph.cypher_library import default_library
from bellwether.graph.neo4j_store.bulk import write_import_files
from bellwether.graph.neo4j_store.push import CONTACT_COLUMNS, SUBSCRIBER_COLUMNS, batch_key, load_batches
from bellwether.graph.synthetic.random_graph import random_contact_graph


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    g = random_contact_graph(500, 2000, seed=3)
    return g, write_import_files(g, tmp_path_factory.mktemp("import"), batch_size=300)


def header(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def read_all_strings(path) -> pa.Table:
    names = header(path)
    return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names}, strings_can_be_null=True))


def test_headers_name_the_id_spaces_and_the_types(written):
    _, files = written
    assert header(files.subscribers) == [
        "id:ID(Subscriber)", "on_net:boolean", "kind", "plan", "arpu:double", "tenure_months:long",
        "region", "status", "churn_date:date"]
    h = header(files.contacts)
    assert h[:2] == [":START_ID(Subscriber)", ":END_ID(Subscriber)"]
    assert "first_contact:datetime" in h and "weight:double" in h and "calls_ab:long" in h
    assert len(h) == len(CONTACT_COLUMNS)
    assert header(files.load_batches) == ["key:ID(LoadBatch)", "load", "kind", "rows:long"]


def test_rows_values_and_missing_values(written):
    g, files = written
    subs = read_all_strings(files.subscribers)
    assert subs.num_rows == g.n_subscribers
    assert subs.column("id:ID(Subscriber)").to_pylist() == g.subscribers["id"].tolist()
    # a missing value is an empty field (no property), never "nan" or "None"
    arpu = subs.column("arpu:double").to_pylist()
    assert sum(v is None for v in arpu) == int(g.subscribers["arpu"].isna().sum()) > 0
    assert not {"nan", "NaN", "None"} & set(filter(None, arpu))
    churn = subs.column("churn_date:date").to_pylist()
    assert sum(v is not None for v in churn) == int(g.subscribers["churn_date"].notna().sum())
    contacts = read_all_strings(files.contacts)
    assert contacts.num_rows == g.n_contacts
    first = contacts.column("first_contact:datetime").to_pylist()
    assert first[0] == g.contacts["first_contact"].iloc[0].strftime("%Y-%m-%dT%H:%M:%SZ")
    weights = [float(w) for w in contacts.column("weight:double").to_pylist()]
    assert weights == g.contacts["weight"].tolist()  # doubles round-trip exactly


def test_load_batches_are_those_a_push_would_commit(written):
    g, files = written
    lib = default_library()
    want = []
    for kind, df, cols in (("subscribers", g.subscribers, SUBSCRIBER_COLUMNS), ("contacts", g.contacts, CONTACT_COLUMNS)):
        load, _, plan = load_batches(lib, kind, df, cols, 300, writers=2)
        want += [(batch_key(kind, load, i), str(stop - start)) for i, (start, stop) in enumerate(plan.bounds)]
    got = read_all_strings(files.load_batches)
    assert list(zip(got.column("key:ID(LoadBatch)").to_pylist(), got.column("rows:long").to_pylist())) == want
    assert files.counts == {"subscribers": 500, "contacts": 2000, "load_batches": len(want)}


def test_arguments_file_replaces_the_database_with_absolute_paths(written):
    _, files = written
    args = files.args_file.read_text().split()
    assert args[:4] == ["database", "import", "full", "neo4j"] and "--overwrite-destination=true" in args
    assert f"--relationships=CONTACT={files.contacts}" in args and files.contacts.is_absolute()
    assert files.command().startswith("neo4j-admin database import full neo4j ")
