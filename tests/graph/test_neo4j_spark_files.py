"""Import files written by Spark hold the single-machine writer's rows (tests/neo4j/test_spark_import.py imports them).

The graph has every column filled, missing values, and region names that need CSV quoting
(a comma, a quote, a leading space, an empty string).  Each group's header must equal the
single-machine file's, and its parts, read as the importer types them, must hold the same rows
after sorting.  Under ``CI=true`` a missing pyspark or a Spark that does not start fails the run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from support.spark import SPARK_MARKS, require_pyspark

require_pyspark()

from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.workspace import Workspace
from bellwether.graph.neo4j_store.bulk import write_import_files
from bellwether.graph.neo4j_store.spark_files import write_spark_import_files
from bellwether.graph.synthetic.random_graph import random_contact_graph

pytestmark = SPARK_MARKS

#: values that need quoting in CSV, or that a writer could trim or confuse with a missing value
AWKWARD_REGIONS = ["north, upper", 'the "old" town', "  west", "", "caf\u00e9 \u5317"]


def awkward_graph(n: int = 400, m: int = 1500, seed: int = 11) -> ContactGraph:
    """A random graph with every column filled, some values missing, and regions that need quoting."""
    g = random_contact_graph(n, m, seed=seed)
    for i, region in enumerate(AWKWARD_REGIONS):
        g.subscribers.loc[i * 7, "region"] = region
    g.info = {"as_of": "2025-04-01", "window_days": 30, "note": 'a "quoted", text'}
    return g


@pytest.fixture(scope="module")
def written(spark, tmp_path_factory):
    g = awkward_graph()
    ws = Workspace(tmp_path_factory.mktemp("ws")).create()
    g.save(ws)
    single = write_import_files(ContactGraph.load(ws), tmp_path_factory.mktemp("single"), batch_size=300)
    parallel = write_spark_import_files(spark, ws.graph_dir, tmp_path_factory.mktemp("spark"), partitions=3)
    return g, single, parallel


def header(path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def _type(field: str) -> pa.DataType:
    suffix = field.rsplit(":", 1)[1] if ":" in field and not field.startswith(":") and "(" not in field else ""
    return {"double": pa.float64(), "long": pa.int64(), "boolean": pa.bool_()}.get(suffix, pa.string())


def read_typed(names: list[str], paths: list[Path], with_header: bool) -> pa.Table:
    """The rows of ``paths`` with the importer's types (an empty field is null, ``""`` an empty string)."""
    opts = pacsv.ConvertOptions(column_types={n: _type(n) for n in names}, strings_can_be_null=True,
                                quoted_strings_can_be_null=False)
    read = pacsv.ReadOptions(column_names=names, skip_rows=1 if with_header else 0)
    tables = [pacsv.read_csv(p, read_options=read, convert_options=opts) for p in paths]
    return pa.concat_tables(tables)


def sorted_rows(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in keys])


@pytest.mark.parametrize("table, keys", [("subscribers", ["id:ID(Subscriber)"]),
                                         ("contacts", [":START_ID(Subscriber)", ":END_ID(Subscriber)"])])
def test_parts_hold_the_single_machine_rows(written, table, keys):
    g, single, parallel = written
    single_file = getattr(single, table)
    header_file, folder = parallel.groups[table]
    names = header(single_file)
    assert header(header_file) == names
    with open(header_file, encoding="utf-8") as fh:
        assert len(fh.read().splitlines()) == 1  # the header file holds the header only
    parts = sorted(Path(folder).glob("part-*"))
    assert len(parts) == 3 == parallel.partitions[table]
    want = sorted_rows(read_typed(names, [single_file], with_header=True), keys)
    got = sorted_rows(read_typed(names, parts, with_header=False), keys)
    assert got.num_rows == parallel.counts[table] == (g.n_subscribers if table == "subscribers" else g.n_contacts)
    assert got.equals(want), next(
        f"{n}: {got.column(n).to_pylist()[:5]} != {want.column(n).to_pylist()[:5]}"
        for n in names if not got.column(n).equals(want.column(n)))


def test_awkward_strings_survive(written):
    _, _, parallel = written
    header_file, folder = parallel.groups["subscribers"]
    names = header(header_file)
    regions = set(read_typed(names, sorted(Path(folder).glob("part-*")), with_header=False).column("region").to_pylist())
    assert set(AWKWARD_REGIONS) <= regions


def test_arguments_name_each_header_before_its_parts(written):
    _, _, parallel = written
    args = Path(parallel.args_file).read_text().split("\n")
    out = Path(parallel.directory)
    assert args[:5] == ["database", "import", "full", "neo4j", "--overwrite-destination=true"]
    assert f"--nodes=Subscriber={out}/subscribers.header.csv,{out}/subscribers/part-.*" in args
    assert f"--relationships=CONTACT={out}/contacts.header.csv,{out}/contacts/part-.*" in args
    assert f"--nodes=GraphInfo={out}/graph_info.csv" in args
    assert parallel.command().startswith("neo4j-admin database import full neo4j ")
    with open(out / "graph_info.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows == [["key:ID(GraphInfo)", "info"],
                    ["graph", '{"as_of": "2025-04-01", "note": "a \\"quoted\\", text", "window_days": 30}']]


def test_an_output_elsewhere_names_its_files_relative_to_the_folder():
    from bellwether.graph.neo4j_store.spark_files import SparkImportFiles

    out = "hdfs://lake:8020/exports/neo4j"
    files = SparkImportFiles(out, {"subscribers": (f"{out}/subscribers.header.csv", f"{out}/subscribers"),
                                   "contacts": (f"{out}/contacts.header.csv", f"{out}/contacts")},
                             f"{out}/neo4j-admin-import.args")
    assert "--nodes=Subscriber=subscribers.header.csv,subscribers/part-.*" in files.arguments()
    assert "--relationships=CONTACT=contacts.header.csv,contacts/part-.*" in files.arguments()


def test_uris_in_and_out(spark, tmp_path):
    """Graph tables and output named by URI (here file://, as hdfs:// or s3a:// would be); the arguments name local paths."""
    src = tmp_path / "lake" / "graph"  # graph tables outside any workspace
    src.mkdir(parents=True)
    g = awkward_graph(60, 150, seed=5)
    ws = Workspace(tmp_path / "ws").create()
    g.save(ws)
    for name in ("subscribers.parquet", "contacts.parquet", "graph.json"):
        (src / name).write_bytes((ws.graph_files().dir / name).read_bytes())
    files = write_spark_import_files(spark, src.as_uri(), (tmp_path / "out").as_uri())
    assert files.local and files.counts == {"subscribers": 60, "contacts": 150, "graph_info": 1}
    out = tmp_path / "out"
    assert f"--nodes=Subscriber={out}/subscribers.header.csv,{out}/subscribers/part-.*" in files.arguments()
    assert (out / "neo4j-admin-import.args").read_text().split("\n")[:-1] == files.arguments()
    assert sum(1 for p in (out / "contacts").glob("part-*") for _ in p.open()) == 150
