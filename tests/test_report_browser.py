"""report.html in a real browser (headless Chromium, driven by Playwright): the answer
is on the first screen, nothing makes the page scroll sideways, a table wider than the
page scrolls inside its own box, and no model name is broken across lines; printed,
every collapsed section is open."""

import os
import shutil
from pathlib import Path

import pytest
from conftest import write_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI") != "true":  # in CI it must run (.ci/run installs it)
    pytest.skip("no chromium binary on PATH (Debian: apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
ARGS += ["--disable-sync", "--no-first-run"]
NAMES = ["a-rather-long-model-name-svd", "sklearn-nmf-zero-filled", "bias", "most-popular", "global-mean"]
CONFIG = {
    "name": "browser",
    "seed": 5,
    "dataset": {"type": "synthetic", "params": {"n_users": 90, "n_items": 70, "ratings_per_user": 18}},
    "split": {"type": "kfold", "params": {"n_folds": 2}},
    "factors": [2, 4, 8],
    "models": [
        {"type": "truncated-svd", "name": NAMES[0]},
        {"type": "sklearn-nmf", "name": NAMES[1], "params": {"max_iter": 50}},
        *NAMES[2:],
    ],
    "metrics": ["rmse", "mae", "precision@[5,10,20]", "recall@[5,10,20]", "ndcg@10", "coverage@10"],
    "selection": {"metric": ["rmse", "ndcg@10"]},
}

LAYOUT = """(names) => {
  const page = document.documentElement, body = document.body.getBoundingClientRect();
  const containers = [...document.querySelectorAll("table")].map((table) => {
    const box = table.closest("div.table");
    return {id: table.id, box: box ? box.clientWidth : null, right: box ? box.getBoundingClientRect().right : null,
            wide: box ? table.scrollWidth > box.clientWidth : false,
            scrolls: box ? getComputedStyle(box).overflowX : null};
  });
  const broken = [];
  for (const cell of document.querySelectorAll("td")) {
    if (!names.includes(cell.textContent.trim())) continue;
    const range = document.createRange(); range.selectNodeContents(cell);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (lines.size > 1) broken.push(cell.textContent);
  }
  const answer = document.getElementById("answer");
  return {scrollWidth: page.scrollWidth, innerWidth: innerWidth, bodyRight: body.right, containers, broken,
          answerTop: answer ? answer.getBoundingClientRect().top : null,
          answerBottom: answer ? answer.querySelector(".card").getBoundingClientRect().bottom : null};
}"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    return write_run(CONFIG, tmp_path_factory.mktemp("results") / "browser") / "report.html"


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("CI must test the report in Chromium: .ci/run installs it")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.mark.slow
@pytest.mark.parametrize("width, height", [(1366, 900), (1920, 1080)])
def test_the_answer_is_on_the_first_screen_and_nothing_overflows(report, browser, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(report.as_uri())
    first = page.evaluate(LAYOUT, NAMES)
    assert first["answerTop"] is not None and 0 <= first["answerTop"] < 900
    assert first["answerBottom"] < height + 200  # the first headline (nearly) whole on the first screen
    page.evaluate("() => document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    layout = page.evaluate(LAYOUT, NAMES)
    assert layout["scrollWidth"] <= layout["innerWidth"]
    assert len(layout["containers"]) > 10
    for table in layout["containers"]:
        assert table["box"] is not None, f"table {table['id']} is not in a scroll container"
        assert table["right"] <= layout["bodyRight"] + 1, table
        if table["wide"]:
            assert table["scrolls"] in ("auto", "scroll"), table
    assert any(table["wide"] for table in layout["containers"])  # the check above was exercised
    assert layout["broken"] == []
    page.close()


@pytest.mark.slow
def test_printing_opens_every_section_and_cuts_no_table(report, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(report.as_uri())
    page.emulate_media(media="print")
    hidden = page.evaluate(
        "() => [...document.querySelectorAll('details table, details pre')]"
        ".filter((e) => e.getBoundingClientRect().height === 0).length"
    )
    assert hidden == 0
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('div.table')]"
        ".filter((box) => getComputedStyle(box).overflowX !== 'visible').length"
    )
    assert clipped == 0
    assert page.pdf(format="A4")[:5] == b"%PDF-"
    page.close()


def test_the_page_has_no_failed_cells_section_when_none_failed(report):
    text = report.read_text()
    assert 'id="failed"' not in text and "Traceback" not in text
    assert "`" not in text.split("<script>")[0]  # commands are shown as code, not as Markdown
