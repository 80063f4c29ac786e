"""The report in a real browser: headless Chromium opens the file, logs no console message
(the page's CSP turns any fetch into one), draws every chart with a size, draws Chinese
with real glyphs (never empty boxes), and leaves a screenshot under tests/artifacts/."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from icp_migrate.reports.build import write_file
from icp_migrate.reports.gx_docs import render_gx_docs
from icp_migrate.reports.html import GX_PAGE, render_report
from icp_migrate.reports.page import CSP
from icp_migrate.reports.page import page as render_page
from test_reports import in_memory_data

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--window-size=1280,2000"]
# Written into the page by the measuring copy only; the report itself has no script.
MEASURE = """<script>
const sizes = [...document.querySelectorAll("svg")].map(s => {
  const r = s.getBoundingClientRect(); return [r.width, r.height]; });
// a character drawn in the body's fonts: how many pixels it inks, and a hash of them
const family = getComputedStyle(document.body).fontFamily;
const glyph = ch => {
  const canvas = document.createElement("canvas"); canvas.width = canvas.height = 64;
  const pen = canvas.getContext("2d"); pen.font = "48px " + family; pen.fillText(ch, 4, 52);
  const px = pen.getImageData(0, 0, 64, 64).data; let ink = 0, hash = 7;
  for (let i = 3; i < px.length; i += 4) { if (px[i]) ink++; hash = (hash * 31 + px[i]) >>> 0; }
  return [ink, hash]; };
const out = document.createElement("pre"); out.id = "measured";
out.textContent = JSON.stringify({sizes: sizes, family: family,
  glyphs: {zhong: glyph("中"), wen: glyph("文"), missing: glyph("\uE000")},
  scripts: document.scripts.length, images: document.images.length,
  handlers: document.querySelectorAll("[onerror],[onload]").length});
document.body.appendChild(out);
console.log("measured");
</script>"""
CONSOLE = re.compile(r":CONSOLE[:(]")


@pytest.fixture(scope="module")
def chromium() -> str:
    if not os.path.exists(CHROMIUM):
        reason = (f"{CHROMIUM} not installed (Debian's chromium; `make test` installs it); "
                  "required when CI=true")
        pytest.fail(reason) if os.environ.get("CI") == "true" else pytest.skip(reason)
    return CHROMIUM


def browse(chromium: str, page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         *extra, page.as_uri()],
        capture_output=True, text=True, timeout=90, check=False)


def console_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines() if CONSOLE.search(line)]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The report of a run with hostile names, quarantine, conflicts, GX results, history."""
    data = in_memory_data()
    folder = tmp_path_factory.mktemp("report") / data.run["run_id"]
    write_file(folder / "index.html", render_report(data))
    write_file(folder / GX_PAGE, render_gx_docs(data.run["run_id"], *data.parts["validation"]))
    return folder / "index.html"


def test_report_opens_without_console_messages_and_leaves_a_screenshot(chromium, report,
                                                                        tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    result = browse(chromium, report, tmp_path / "profile", f"--screenshot={shot}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_lines(result) == [], console_lines(result)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")

    gx = browse(chromium, report.parent / GX_PAGE, tmp_path / "profile-gx", "--dump-dom")
    assert gx.returncode == 0 and console_lines(gx) == [], console_lines(gx)
    assert "Great Expectations results of run" in gx.stdout


def test_charts_have_a_size_and_no_markup_from_the_data_runs(chromium, report, tmp_path):
    html = report.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.split("<body>")[0]
    # A measuring copy: the same page, its CSP opened to one inline script of ours.
    measuring = report.with_name("measure.html")
    measuring.write_text(
        html.replace(CSP, CSP.replace("default-src 'none'",
                                      "default-src 'none'; script-src 'unsafe-inline'"))
        .replace("</body>", MEASURE + "</body>"),
        encoding="utf-8")
    result = browse(chromium, measuring, tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    # our console.log shows the console is seen: the first test's empty list means something
    assert [line for line in console_lines(result) if '"measured"' not in line] == []
    assert any('"measured"' in line for line in console_lines(result))
    found = re.search(r'<pre id="measured">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stdout[-2000:]
    measured = json.loads(found.group(1).replace("&quot;", '"'))
    assert len(measured["sizes"]) >= 7  # sources, reasons, 2 entities, 2 accounts, history
    assert all(w > 0 and h > 0 for w, h in measured["sizes"]), measured["sizes"]
    # Chinese in the page's fonts: real glyphs, each its own, none the box of a missing one
    assert "Noto Sans CJK SC" in measured["family"], measured["family"]
    glyphs = measured["glyphs"]
    assert glyphs["zhong"][0] > 50 and glyphs["wen"][0] > 50, glyphs
    assert len({tuple(g) for g in glyphs.values()}) == 3, (
        f"中 and 文 drawn as the missing-glyph box: install fonts-noto-cjk ({glyphs})")
    # the hostile names stayed text: no image, handler or script but ours
    assert measured == {**measured, "scripts": 1, "images": 0, "handlers": 0}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.stdout
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def test_chinese_text_renders_in_a_screenshot(chromium, tmp_path):
    """Chinese names in the report's fonts, screenshotted: the picture has ink and differs
    from the same number of characters no font has (drawn as missing-glyph boxes)."""
    def shot(text: str) -> bytes:
        html = tmp_path / f"{len(list(tmp_path.iterdir()))}.html"
        html.write_text(render_page("CJK", [f'<p style="font-size:48px">{text}</p>']),
                        encoding="utf-8")
        png = html.with_suffix(".png")
        result = browse(chromium, html, tmp_path / "profile", f"--screenshot={png}",
                        "--window-size=900,160")
        assert result.returncode == 0 and png.read_bytes()[:4] == b"\x89PNG", result.stderr
        return png.read_bytes()

    names, boxes, blank = (hashlib.sha256(shot(text)).hexdigest()
                           for text in ("浙江省星辰科技", "\ue000" * 7, ""))
    assert names != blank and boxes != blank
    assert names != boxes, "Chinese drawn as missing-glyph boxes: install fonts-noto-cjk"
    assert all(p.parent == tmp_path for p in tmp_path.glob("*.png"))
