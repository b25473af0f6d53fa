"""The synthetic operator: file contract, determinism, planted structure and planted churn contagion.

Everything is checked from the written files, parsed here independently of the
generator's own code, so the files are what is tested.
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from bellwether.cli.app import app
from bellwether.loaders.synthetic import ChurnModel, GeneratorError, generate_operator

CDR_HEADER = ["caller", "callee", "start_time", "duration", "type"]


# --- an independent reader of the generated files ---------------------------------------------------


def national(number: str) -> str | None:
    """Canonical national form of a written number, or None if it is not a number."""
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif number.startswith("86") and len(number) == 13:
        number = number[2:]
    return number if number.isdigit() else None


def read_cdrs(outdir: Path) -> tuple[pd.DataFrame, Counter, int]:
    """Valid rows (duplicates kept, numbers normalised), bad-row reasons, header problems."""
    rows, bad = [], Counter()
    for path in sorted((outdir / "cdr").glob("cdr_*.csv")):
        with open(path, newline="") as fh:
            reader = csv.reader(fh)
            assert next(reader) == CDR_HEADER
            for row in reader:
                if len(row) != 5:
                    bad["column_count"] += 1
                    continue
                caller, callee, t, dur, typ = row
                a, b = national(caller), national(callee)
                if a is None or b is None or not a or not b:
                    bad["bad_number"] += 1
                    continue
                try:
                    ts = datetime.strptime(t, "%Y-%m-%d %H:%M:%S")
                except ValueError:
                    bad["bad_time"] += 1
                    continue
                if typ not in ("voice", "sms"):
                    bad["unknown_type"] += 1
                    continue
                if int(dur) < 0:
                    bad["negative_duration"] += 1
                    continue
                if a == b:
                    bad["self_call"] += 1
                    continue
                rows.append((caller, callee, a, b, ts, int(dur), typ, path.name))
    df = pd.DataFrame(rows, columns=["caller_raw", "callee_raw", "caller", "callee", "start_time", "duration", "type", "file"])
    return df, bad


def read_cdrs_fast(outdir: Path) -> pd.DataFrame:
    """The good rows of :func:`read_cdrs` (``caller, callee, start_time, duration, type``), read column-wise with pandas."""
    parts = [
        pd.read_csv(p, dtype=str, keep_default_na=False, on_bad_lines="skip")
        for p in sorted((outdir / "cdr").glob("cdr_*.csv"))
    ]
    df = pd.concat(parts, ignore_index=True)
    for col in ("caller", "callee"):
        df[col] = df[col].str.replace(r"^(\+86|0086)", "", regex=True).str.replace(r"^86(\d{11})$", r"\1", regex=True)
    df["start_time"] = pd.to_datetime(df["start_time"], format="%Y-%m-%d %H:%M:%S", errors="coerce")
    dur = pd.to_numeric(df["duration"], errors="coerce")
    ok = (
        df["caller"].str.fullmatch(r"\d+") & df["callee"].str.fullmatch(r"\d+") & df["start_time"].notna()
        & df["type"].isin(["voice", "sms"]) & (dur >= 0) & (df["caller"] != df["callee"])
    )
    return df.loc[ok, ["caller", "callee", "start_time", "type"]].assign(duration=dur[ok].astype(int))


@pytest.fixture(scope="module")
def operator(tmp_path_factory):
    out = tmp_path_factory.mktemp("op")
    summary = generate_operator(out, subscribers=4000, months=3, seed=11)
    cdr, bad = read_cdrs(out)
    truth = pd.read_csv(out / "truth.csv", dtype={"msisdn": str, "churn_date": str}, keep_default_na=False)
    subs = pd.read_csv(out / "subscribers.csv", dtype={"msisdn": str, "churn_date": str}, keep_default_na=False)
    return {"dir": out, "summary": summary, "cdr": cdr, "bad": bad, "truth": truth, "subs": subs}


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


# --- contract -----------------------------------------------------------------------------------------


def test_same_seed_gives_same_bytes_and_another_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_operator(a, subscribers=1500, months=2, seed=5)
    generate_operator(b, subscribers=1500, months=2, seed=5)
    generate_operator(c, subscribers=1500, months=2, seed=6)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_file_layout_and_headers(operator):
    out = operator["dir"]
    assert sorted(p.name for p in (out / "cdr").iterdir()) == ["cdr_2026-01.csv", "cdr_2026-02.csv", "cdr_2026-03.csv"]
    first = lambda p: (out / p).read_text().splitlines()[0]  # noqa: E731
    assert first("subscribers.csv") == "msisdn,plan,arpu,tenure_months,region,status,churn_date"
    assert first("do_not_contact.csv") == "msisdn"
    assert first("truth.csv") == "msisdn,on_net,kind,community,role,churn_date"
    meta = json.loads((out / "operator.json").read_text())
    assert meta["country_code"] == "86"
    assert meta["seed"] == 11
    assert meta["start"] == "2026-01-01" and meta["end"] == "2026-03-31"
    assert meta["suggested_as_of"] == "2026-03-01"
    assert meta["planted"]["churn"]["contagion"] == pytest.approx(1.8)
    # every record sits in the file of its month, roughly in time order
    cdr = operator["cdr"]
    assert (cdr["start_time"].dt.strftime("cdr_%Y-%m.csv") == cdr["file"]).all()
    for _, part in cdr.groupby("file"):
        t = part["start_time"].astype("int64").to_numpy() // 10**9
        assert np.mean(np.diff(t) >= -3 * 3600) > 0.999


def test_subscribers_extract_and_do_not_contact(operator):
    subs, truth, out = operator["subs"], operator["truth"], operator["dir"]
    assert len(subs) == 4000 and subs["msisdn"].is_unique
    assert subs["msisdn"].str.fullmatch(r"1\d{10}").all()
    assert set(subs["status"]) == {"active", "churned"}
    assert ((subs["status"] == "churned") == (subs["churn_date"] != "")).all()
    on_net = truth[truth["on_net"]]
    assert set(on_net["msisdn"]) == set(subs["msisdn"])
    # value: postpaid customers pay more than prepaid
    prepaid = subs["plan"].str.startswith("prepaid")
    assert subs.loc[~prepaid, "arpu"].median() > 1.5 * subs.loc[prepaid, "arpu"].median()
    assert subs["region"].nunique() >= 5
    dnc = pd.read_csv(out / "do_not_contact.csv", dtype=str)["msisdn"]
    assert 0.01 < len(dnc) / len(subs) < 0.03 and dnc.isin(subs["msisdn"]).all()


def test_every_cdr_number_is_in_truth_in_mixed_formats(operator):
    cdr, truth = operator["cdr"], operator["truth"]
    known = set(truth["msisdn"])
    assert set(cdr["caller"]) | set(cdr["callee"]) <= known
    raw = pd.concat([cdr["caller_raw"], cdr["callee_raw"]])
    share = {p: raw.str.startswith(p).mean() for p in ("+86", "0086")}
    plain = raw.str.fullmatch(r"1\d{10}").mean()
    bare86 = raw.str.fullmatch(r"86\d{11}").mean()
    assert plain > 0.7 and min(share.values()) > 0.01 and bare86 > 0.01
    # off-net numbers of other operators are a fifth to a third of the numbers seen
    seen = truth[truth["msisdn"].isin(known & (set(cdr["caller"]) | set(cdr["callee"])))]
    off = (~seen["on_net"] & (seen["kind"] == "person")).mean()
    assert 0.18 < off < 0.35


def test_duplicates_and_bad_rows_match_operator_json(operator):
    counts = operator["summary"]["counts"]
    cdr = operator["cdr"]
    raw = cdr[["caller_raw", "callee_raw", "start_time", "duration", "type"]]
    assert int(raw.duplicated().sum()) == counts["duplicates"]
    # duplicates are exact copies; even after normalising numbers nothing else collides
    assert int(cdr[["caller", "callee", "start_time", "duration", "type"]].duplicated().sum()) == counts["duplicates"]
    assert len(cdr) - counts["duplicates"] == counts["records"]
    assert sum(operator["bad"].values()) == counts["bad_rows"] > 0
    assert dict(operator["bad"]) == {k: v for k, v in counts["bad_rows_by_kind"].items() if v}


def test_community_sizes_span_families_to_workplaces(operator):
    truth = operator["truth"]
    persons = truth[(truth["kind"] == "person") & (truth["community"] >= 0)]
    sizes = persons.groupby("community").size()
    assert sizes.min() <= 4
    assert ((sizes >= 10) & (sizes <= 30)).sum() >= 10
    assert sizes.max() >= 100
    # heavy-tailed: most communities are small, most people are not in the smallest ones
    assert sizes.median() <= 8
    services = truth[truth["kind"] == "service"]
    assert {"10086", "95588", "12345"} <= set(services["msisdn"])
    assert (services["role"] == "").all() and (services["community"] == -1).all()


def test_person_ties_mostly_stay_inside_communities_but_not_all(operator):
    cdr, truth = operator["cdr"], operator["truth"]
    comm = truth.set_index("msisdn")["community"]
    kind = truth.set_index("msisdn")["kind"]
    pp = cdr[(cdr["caller"].map(kind) == "person") & (cdr["callee"].map(kind) == "person")]
    ca, cb = pp["caller"].map(comm), pp["callee"].map(comm)
    both = (ca >= 0) & (cb >= 0)
    mixing = (ca[both] != cb[both]).mean()
    assert 0.08 < mixing < 0.25
    # families: strong and reciprocal
    sizes = truth[truth["community"] >= 0].groupby("community").size()
    small = set(sizes[sizes <= 8].index)
    fam = pp[both & ca.isin(small) & (ca == cb)]
    pair = fam.groupby(["caller", "callee"]).size()
    rev = pair.rename_axis(["callee", "caller"]).reorder_levels(["caller", "callee"])
    recip = pair.index.isin(rev.index).mean()
    assert recip > 0.7
    assert pair.mean() > 2.5


def test_ties_look_like_real_call_and_sms_data(tmp_path):
    """Tie volumes, reciprocity and mixing in generous bands around real data.

    ``python -m bench.realism`` measures the same figures on the Copenhagen calls + SMS
    (median 8 events per tie, 15% single-event ties, 77% reciprocated, top 10% of ties
    carry 68% of events, degree assortativity +0.23); before its calibration the generator
    gave 1, 54%, 28%, 36% and -0.02.  One month, ties between customers.
    """
    from bellwether.algorithms.evaluation.ties import generated_ties, tie_measures

    generate_operator(tmp_path, subscribers=3000, months=1, seed=3)
    ties, _ = generated_ties(tmp_path)
    m = tie_measures(ties)
    assert m["events per tie, median"] >= 4
    assert m["events per tie, mean"] >= 12
    assert m["share of single-event ties"] < 0.3
    assert m["reciprocity (ties with events both ways)"] > 0.6
    assert m["share of events on the top 10% of ties"] > 0.5
    assert m["active days per tie, median"] <= 4  # bursty: a tie's events cluster on a few days
    assert m["degree, median"] <= 4 and m["degree, p90"] <= 10  # few ties, used often
    assert m["degree assortativity"] > 0
    assert 0 < m["weight-overlap Spearman"] < 0.4


def test_bellwethers_are_called_more_than_they_call_back(operator):
    cdr, truth = operator["cdr"], operator["truth"]
    t = truth.set_index("msisdn")
    persons = cdr[cdr["caller"].map(t["kind"]).eq("person") & cdr["callee"].map(t["kind"]).eq("person")]
    same = persons["caller"].map(t["community"]) == persons["callee"].map(t["community"])
    inside = persons[same & (persons["caller"].map(t["community"]) >= 0)]
    bw = set(truth.loc[truth["role"] == "bellwether", "msisdn"])
    assert len(bw) > 50
    received = inside["callee"].isin(bw).sum()
    sent = inside["caller"].isin(bw).sum()
    assert received > 1.5 * sent
    # bellwethers have more contacts than other persons
    pairs = pd.concat([persons[["caller", "callee"]], persons[["callee", "caller"]].set_axis(["caller", "callee"], axis=1)])
    degree = pairs.drop_duplicates().groupby("caller").size()
    is_bw = degree.index.isin(bw)
    assert degree[is_bw].mean() > 1.5 * degree[~is_bw].mean()


def test_rhythm_durations_and_service_numbers(operator):
    cdr, truth = operator["cdr"], operator["truth"]
    hour = cdr["start_time"].dt.hour
    assert ((hour >= 2) & (hour < 6)).mean() < 0.02
    assert (hour.between(19, 21)).mean() > 2 * (hour.between(6, 8)).mean()
    voice = cdr.loc[cdr["type"] == "voice", "duration"]
    assert 50 <= voice.median() <= 110 and (voice > 0).all()
    assert (cdr.loc[cdr["type"] == "sms", "duration"] == 0).all()
    assert 0.1 < (cdr["type"] == "sms").mean() < 0.35
    # service numbers: huge in-degree, almost nobody called back
    service = set(truth.loc[truth["kind"] == "service", "msisdn"])
    to_svc = cdr[cdr["callee"].isin(service)]
    assert to_svc["caller"].nunique() > 0.2 * 4000 * 0.5
    top = to_svc["callee"].value_counts()
    assert top.index[0] == "10086"
    from_svc = cdr[cdr["caller"].isin(service) & (cdr["type"] == "voice")]
    assert len(from_svc) > 0
    inbound_calls = to_svc[to_svc["type"] == "voice"]
    # call centres call back a few; telemarketing lines call many and are rarely called back
    tm = from_svc.groupby("caller")["callee"].nunique()
    tm_lines = set(tm[tm > 50].index)
    assert tm_lines
    replies = inbound_calls["callee"].isin(tm_lines).sum()
    assert replies < 0.05 * from_svc["caller"].isin(tm_lines).sum()


def test_churners_traffic_stops_at_churn_date(operator):
    cdr, truth = operator["cdr"], operator["truth"]
    churned = truth[truth["churn_date"] != ""].set_index("msisdn")["churn_date"]
    assert len(churned) > 100
    churned = pd.to_datetime(churned)
    for col in ("caller", "callee"):
        hit = cdr[cdr[col].isin(churned.index)]
        assert (hit["start_time"] < hit[col].map(churned)).all()
    # churn only on-net, a few per cent a month
    assert truth.loc[truth["churn_date"] != "", "on_net"].all()
    monthly = operator["summary"]["measured"]["monthly_churn_rate"]
    assert all(0.01 <= r <= 0.04 for r in monthly)


def contagion_rate_ratio(outdir: Path, window: int = 30, min_records: int = 3) -> tuple[float, int]:
    """Daily churn rate of customers with a strong tie that churned in the last ``window`` days, over the rest.

    A strong tie: at least ``min_records`` records between the two customers
    (either direction) in the whole period.  Returns the ratio and the number
    of exposed churn events.
    """
    cdr = read_cdrs_fast(outdir)
    subs = pd.read_csv(outdir / "subscribers.csv", dtype={"msisdn": str, "churn_date": str}, keep_default_na=False)
    meta = json.loads((outdir / "operator.json").read_text())
    start, days = pd.Timestamp(meta["start"]), meta["days"]
    idx = pd.Series(np.arange(len(subs)), index=subs["msisdn"])
    cdr = cdr.drop_duplicates(["caller", "callee", "start_time", "duration", "type"])
    cdr = cdr[cdr["caller"].isin(idx.index) & cdr["callee"].isin(idx.index)]
    a, b = idx[cdr["caller"]].to_numpy(), idx[cdr["callee"]].to_numpy()
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pair = pd.Series(1, index=pd.MultiIndex.from_arrays([lo, hi])).groupby(level=[0, 1]).sum()
    strong = pair[pair >= min_records].index.to_frame().to_numpy()
    u = np.concatenate([strong[:, 0], strong[:, 1]])
    v = np.concatenate([strong[:, 1], strong[:, 0]])
    cd = np.full(len(subs), -1)
    has = subs["churn_date"] != ""
    cd[has.to_numpy()] = (pd.to_datetime(subs.loc[has, "churn_date"]) - start).dt.days.to_numpy()
    ever = np.where(cd < 0, days, cd)
    e_days = u_days = e_ev = u_ev = 0
    for t in range(days):
        recent = (cd[v] >= t - window) & (cd[v] >= 0) & (cd[v] < t)
        exposed = np.zeros(len(subs), dtype=bool)
        exposed[u[recent]] = True
        risk = ever >= t
        event = cd == t
        e_days += (risk & exposed).sum()
        u_days += (risk & ~exposed).sum()
        e_ev += (event & exposed).sum()
        u_ev += (event & ~exposed).sum()
    return (e_ev / e_days) / (u_ev / u_days), int(e_ev)


def test_planted_contagion_is_measurable_in_the_files(tmp_path):
    # a higher baseline churn than the default gives enough events to measure at this size
    ratios = {}
    for m in (1.8, 1.0):
        out = tmp_path / f"m{m}"
        generate_operator(out, subscribers=10000, months=3, seed=2, churn=ChurnModel(monthly_churn=0.05, contagion=m))
        ratios[m] = contagion_rate_ratio(out)
    (with_c, events), (without, _) = ratios[1.8], ratios[1.0]
    assert events >= 40
    assert with_c > 1.3
    assert with_c > without + 0.25


# --- command line -------------------------------------------------------------------------------------


def test_cli_generates_files(tmp_path):
    out = tmp_path / "op"
    result = CliRunner().invoke(app, ["generate", str(out), "--subscribers", "1000", "--months", "2", "--seed", "9", "--quiet"])
    assert result.exit_code == 0, result.output
    meta = json.loads((out / "operator.json").read_text())
    assert meta["parameters"]["subscribers"] == 1000 and meta["seed"] == 9
    assert sorted(p.name for p in (out / "cdr").iterdir()) == ["cdr_2026-01.csv", "cdr_2026-02.csv"]
    # the library gives the same bytes as the command
    lib = tmp_path / "lib"
    generate_operator(lib, subscribers=1000, months=2, seed=9)
    assert _digest(lib) == _digest(out)


def test_cli_rejects_bad_parameters_with_one_line(tmp_path):
    with pytest.raises(GeneratorError, match="first day of a month"):
        generate_operator(tmp_path, subscribers=1000, start="2026-01-05")
    proc = subprocess.run(
        [sys.executable, "-m", "bellwether.cli", "generate", str(tmp_path / "x"), "--subscribers", "1000", "--bad-row-rate", "2"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "--bad-row-rate" in proc.stderr and "Traceback" not in proc.stderr
