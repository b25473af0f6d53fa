"""The report renders in a real browser: headless Chromium loads the file offline and draws every chart.

Needs Debian's ``chromium`` (``scripts/install-chromium``; ``make test`` runs it).  Without
a browser the test is skipped locally and fails in CI (``CI=true``), so CI cannot pass
without rendering the report.  Set ``BELLWETHER_CHROMIUM`` to use another binary.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess

import pytest

from algorithms.report import SECTIONS, write_report
from algorithms.segments import load_run, segment_run, write_segments
from algorithms.targets import build_lists, write_lists
from marketing_run import make_marketing_run


def _chromium() -> str | None:
    for name in (os.environ.get("BELLWETHER_CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


CHROMIUM = _chromium()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        msg = "headless Chromium not found: run scripts/install-chromium (apt-get install chromium)"
        if IN_CI:
            pytest.fail(msg + " — required in CI")
        pytest.skip(msg)
    return CHROMIUM


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    m = make_marketing_run(tmp_path_factory.mktemp("browser") / "ws")
    run = load_run(m.workspace)
    write_segments(run, segment_run(run))
    write_lists(run, build_lists(run))
    return write_report(run)


def _run(browser: str, *args: str, cwd) -> subprocess.CompletedProcess:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--hide-scrollbars", "--disable-extensions", f"--user-data-dir={cwd}/profile", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd)


PROBE = """<script>
window.addEventListener('load', function () {
  var out = {svgs: [], sections: {}};
  document.querySelectorAll('svg').forEach(function (s) {
    var r = s.getBoundingClientRect();
    out.svgs.push({w: r.width, h: r.height, shapes: s.querySelectorAll('rect,circle,polyline,polygon,line').length,
                   section: s.closest('section') ? s.closest('section').id : ''});
  });
  document.querySelectorAll('section').forEach(function (s) { out.sections[s.id] = s.getBoundingClientRect().height; });
  var pre = document.createElement('pre'); pre.id = 'probe'; pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


def test_chromium_renders_every_chart(browser, report, tmp_path):
    probe = tmp_path / "probe.html"  # the report plus a measuring script; the report itself has no script
    probe.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    res = _run(browser, "--virtual-time-budget=10000", "--window-size=1200,2000", "--dump-dom", probe.as_uri(), cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    found = re.search(r'<pre id="probe">(.*?)</pre>', res.stdout, re.S)
    assert found, "the page did not finish loading: " + res.stdout[:500]
    data = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(data["svgs"]) >= 10
    for svg in data["svgs"]:
        assert svg["w"] > 50 and svg["h"] > 50, svg
        assert svg["shapes"] > 3, svg
    charted = {s["section"] for s in data["svgs"]}
    assert {"graph", "communities", "contagion", "lift", "influence", "bellwethers", "segments"} <= charted
    assert set(data["sections"]) == {k for k, _ in SECTIONS}
    assert all(h > 40 for h in data["sections"].values()), data["sections"]


def test_chromium_screenshot_is_a_full_page(browser, report, tmp_path):
    shot = tmp_path / "report.png"
    res = _run(browser, "--window-size=1200,5000", f"--screenshot={shot}", report.as_uri(), cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1200, 5000)
    assert len(png) > 100_000  # a blank or unstyled page compresses to a few kilobytes
