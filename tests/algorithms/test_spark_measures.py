"""Graph measures on Spark against the single-machine ones, on a generated operator graph.

Degree, strength, reciprocity and the churn model's network features must equal what the
igraph engine and :func:`bellwether.algorithms.churn.features.churn_features` compute, row by row
(the counts exactly, the sums to the last bits of a different summation order); PageRank must
rank like the igraph engine's (Spearman >= 0.99) and agree with it to 1e-9.  The graph is the
planted-contagion operator of ``graph/synthetic/planted_churn.py`` (3,000 subscribers with CRM churn dates,
isolated subscribers among them), so every feature has churners to see.

One local SparkSession serves the module.  Under ``CI=true`` a missing pyspark or a Spark that
does not start fails the run; elsewhere the tests are skipped with the reason.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from support.spark import SPARK_MARKS, require_pyspark

require_pyspark()

from scipy.stats import spearmanr

from bellwether.algorithms.centrality.pagerank import pagerank
from bellwether.algorithms.centrality.strength import degree_strength
from bellwether.algorithms.churn.features import NETWORK_FEATURES, churn_features
from bellwether.graph.core import spark as spark_session_module
from bellwether.algorithms.spark.exposure import EXPOSURE_FEATURES, churn_exposure, order_statistic, strong_tie_threshold
from bellwether.algorithms.spark.frames import graph_frames, to_pandas
from bellwether.algorithms.spark.measures import MEASURES, graph_measures, write_graph_measures
from bellwether.graph.core.spark import SparkUnavailable, session_settings, spark_session
from bellwether.graph.contact_graph import ContactGraph
from bellwether.graph.core.workspace import Workspace, write_json
from bellwether.graph.synthetic.planted_churn import planted_churn

pytestmark = SPARK_MARKS

#: columns that count contacts: equal exactly; every other column is a float sum
COUNTED = ("churned_contacts", "churned_contacts_all", "churn_max_weight")


@pytest.fixture(scope="module")
def operator():
    planted = planted_churn(3000, seed=7)
    return planted.graph, planted.as_of


@pytest.fixture(scope="module")
def reference(operator):
    graph, as_of = operator
    return {
        "features": churn_features(graph, as_of),
        "degree_strength": degree_strength(graph),  # igraph engine
        "pagerank": pagerank(graph)["pagerank"].to_numpy(),  # igraph engine
    }


@pytest.fixture(scope="module")
def measured(spark, operator):
    graph, as_of = operator
    subscribers, contacts = graph_frames(spark, graph)
    stats: dict = {}
    table = to_pandas(graph_measures(subscribers, contacts, as_of, stats=stats))
    return table, stats


def _mutual_share(graph: ContactGraph) -> np.ndarray:
    """Share of each subscriber's contacts with a call or SMS each way, straight from the contacts table."""
    con, n = graph.contacts, graph.n_subscribers
    mutual = ((con["calls_ab"] + con["sms_ab"]) > 0) & ((con["calls_ba"] + con["sms_ba"]) > 0)
    m = mutual.to_numpy(np.float64)
    a, b = con["a_vid"].to_numpy(), con["b_vid"].to_numpy()
    k = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
    count = np.bincount(a, m, minlength=n) + np.bincount(b, m, minlength=n)
    return np.divide(count, k, out=np.zeros(n), where=k > 0)


def test_the_table_has_one_row_per_subscriber_and_every_measure(measured, operator):
    table, stats = measured
    graph, _ = operator
    assert list(table.columns) == ["vid", *MEASURES]
    assert table["vid"].tolist() == list(range(graph.n_subscribers))
    assert not table.isna().any().any()
    assert stats["spreading_activation"]["waves"] >= 2
    assert set(stats["power_iteration"]["iterations"]) == {"pagerank", "contagion_score"}


def test_degree_strength_reciprocity_equal_the_single_machine_ones(measured, reference, operator):
    table, _ = measured
    graph, _ = operator
    ds = reference["degree_strength"]
    assert table["degree"].dtype == np.int64
    np.testing.assert_array_equal(table["degree"].to_numpy(), ds["degree"].to_numpy())
    np.testing.assert_allclose(table["strength"].to_numpy(), ds["strength"].to_numpy(), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(table["degree"].to_numpy(), reference["features"].own["degree"].to_numpy())
    expected = _mutual_share(graph)
    np.testing.assert_array_equal(table["reciprocity"].to_numpy(), expected)
    assert 0 < expected.mean() < 1  # both mutual and one-way contacts are present


def test_churn_network_features_equal_churn_features_row_by_row(measured, reference):
    table, _ = measured
    net = reference["features"].network
    assert tuple(c for c in table.columns if c in NETWORK_FEATURES) == NETWORK_FEATURES
    for col in NETWORK_FEATURES:
        got, want = table[col].to_numpy(), net[col].to_numpy()
        assert (want != 0).sum() >= 20, f"{col}: too few exposed subscribers to test"
        if col in COUNTED:
            np.testing.assert_array_equal(got, want, err_msg=col)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15, err_msg=col)


def test_pagerank_ranks_like_the_igraph_engine(measured, reference):
    table, _ = measured
    got, want = table["pagerank"].to_numpy(), reference["pagerank"]
    assert spearmanr(got, want).statistic >= 0.99
    assert np.abs(got - want).max() < 1e-9
    assert got.sum() == pytest.approx(1.0, abs=1e-9)


def test_strong_tie_threshold_is_numpys_quantile(spark, operator):
    graph, _ = operator
    _, contacts = graph_frames(spark, graph)
    w = graph.contacts["weight"].to_numpy()
    for q in (0.75, 0.5):
        threshold = strong_tie_threshold(contacts, q)
        assert ((w >= threshold) == (w >= np.quantile(w, q))).all()
    values = spark.createDataFrame(pd.DataFrame({"x": [5.0, 1.0, 3.0, 3.0, 2.0, 8.0]}))
    assert [order_statistic(values, "x", k, relative_error=0.4) for k in (0, 2, 3, 5)] == [1.0, 3.0, 3.0, 8.0]


def test_a_churn_moved_to_as_of_changes_the_features_and_both_engines_agree(spark, operator, reference):
    """The parity check can fail: moving the best-connected recent churner's churn date to ``as_of``
    (so it is future, and must be ignored) changes its contacts' features, in Spark as in pandas."""
    graph, as_of = operator
    net = reference["features"].network
    dates = pd.to_datetime(graph.subscribers["churn_date"])
    cut = pd.Timestamp(as_of)
    recent = np.flatnonzero(((dates < cut) & (dates >= cut - pd.Timedelta(days=30))).to_numpy())
    degree = reference["degree_strength"]["degree"].to_numpy()
    who = int(recent[np.argmax(degree[recent])])
    assert degree[who] >= 3
    subs = graph.subscribers.copy()
    subs.loc[who, "churn_date"] = cut
    moved = ContactGraph(subs, graph.contacts, dict(graph.info))
    subscribers, contacts = graph_frames(spark, moved)
    got = to_pandas(churn_exposure(subscribers, contacts, as_of))
    want = churn_features(moved, as_of).network
    for col in EXPOSURE_FEATURES:
        np.testing.assert_allclose(got[col].to_numpy(), want[col].to_numpy(), rtol=1e-9, atol=1e-15, err_msg=col)
    changed = np.flatnonzero(~np.isclose(got["exposure_decay"].to_numpy(), net["exposure_decay"].to_numpy(),
                                         rtol=1e-9, atol=1e-15))
    neighbours = set(graph.contacts.loc[graph.contacts["a_vid"] == who, "b_vid"]) | set(
        graph.contacts.loc[graph.contacts["b_vid"] == who, "a_vid"])
    assert set(changed.tolist()) == neighbours
    assert (got["churned_contacts"].to_numpy() <= net["churned_contacts"].to_numpy()).all()


def test_session_settings_suit_a_small_box():
    settings = session_settings("local[2]")
    assert settings["spark.sql.shuffle.partitions"] == "2"
    assert settings["spark.ui.enabled"] == "false"
    assert settings["spark.driver.bindAddress"] == "127.0.0.1"
    assert "spark.driver.bindAddress" not in session_settings("spark://10.0.0.1:7077")
    assert session_settings("local[2]", shuffle_partitions=7)["spark.sql.shuffle.partitions"] == "7"


def test_no_java_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(spark_session_module, "find_java_home", lambda: None)
    with pytest.raises(SparkUnavailable, match="Java 17"):
        spark_session()


def test_measures_from_the_graph_files_equal_those_from_memory(spark, operator, measured, tmp_path):
    """The workspace's Parquet graph read by Spark gives the same table as the in-memory graph."""
    graph, as_of = operator
    ws = Workspace(tmp_path / "ws").create()
    graph.subscribers.to_parquet(ws.subscribers_path, index=False)
    graph.contacts.to_parquet(ws.contacts_path, index=False)
    write_json(ws.graph_info_path, {"as_of": str(as_of)[:10], "window_days": 30})
    done = write_graph_measures(spark, str(ws.graph_files().dir), str(tmp_path / "measures"), partitions=2)
    assert done["rows"] == graph.n_subscribers and done["as_of"] == str(as_of)[:10]
    got = pd.read_parquet(tmp_path / "measures").sort_values("vid").reset_index(drop=True)
    want, _ = measured
    assert list(got.columns) == ["vid", *MEASURES]
    pd.testing.assert_frame_equal(got, want[["vid", *MEASURES]], check_exact=False, rtol=1e-9, atol=1e-15,
                                  check_dtype=False)


def test_the_measures_command_writes_parquet_and_refuses_a_graph_without_a_date(tmp_path):
    graph, _ = planted_churn(300, seed=3).graph, None
    ws = Workspace(tmp_path / "ws").create()
    graph.subscribers.to_parquet(ws.subscribers_path, index=False)
    graph.contacts.to_parquet(ws.contacts_path, index=False)
    write_json(ws.graph_info_path, {"window_days": 30})
    run = lambda *a: subprocess.run([sys.executable, "-m", "bellwether.cli", "measures", *a], capture_output=True,  # noqa: E731
                                    text=True, timeout=300)
    r = run(str(tmp_path / "m"), "-w", str(ws.root))
    assert r.returncode == 1 and "records no as_of date" in r.stderr and "--as-of" in r.stderr
    r = run(str(tmp_path / "m"), "-w", str(ws.root), "--as-of", "2024-03-01", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["rows"] == graph.n_subscribers == len(pd.read_parquet(tmp_path / "m"))
