"""The static site (``make site``): every page opened from ``file://`` in Chromium, offline.

The site is built once per test session (``python -m tests.site.build`` into a temporary
folder; every lesson executed). Each page is opened with every non-``file://`` request
aborted and counted as a failure, and must show: no console errors, every plotly figure drawn
and none wider than the page, the first animation advancing when its ▶ play is clicked,
typeset maths with no raw ``$...$`` left, solutions collapsed, dashboards as recorded replays,
and no empty output. Screenshots go to ``artifacts/screenshots/site_*.png``.

``RNNVIZ_SITE_DIR=/path/to/site`` tests an existing build instead (for working on the tests).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import SCREENSHOTS

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
VIEWPORT = {"width": 1280, "height": 720}
BUILD_TIMEOUT = 1200  # seconds for the whole site (12 lessons take about 3 minutes)

_PAGE_JS = """() => {
  const figs = Array.from(document.querySelectorAll('.jp-OutputArea-output .plotly-graph-div'));
  const pageWidth = document.documentElement.clientWidth;
  const tooWide = figs.filter(f => {
    const out = f.closest('.jp-OutputArea-output').getBoundingClientRect();
    const r = f.getBoundingClientRect();
    return r.right > out.right + 1 || r.right > pageWidth + 1;
  }).map(f => f.id);
  const outputs = Array.from(document.querySelectorAll('.jp-OutputArea-output'));
  const empty = outputs.filter(o => !o.closest('details:not([open])')).filter(o =>
      o.getBoundingClientRect().height < 2
      || (!o.innerText.trim() && !o.querySelector('svg, img, canvas'))).length;
  const markdown = Array.from(document.querySelectorAll('.jp-MarkdownCell, .jp-RenderedMarkdown'))
      .map(c => c.innerText).join('\\n');
  return {
    figures: figs.length,
    drawn: figs.filter(f => f.querySelector('.main-svg')).length,
    tooWide: tooWide,
    scrollWidth: document.documentElement.scrollWidth,
    pageWidth: pageWidth,
    empty: empty,
    outputs: outputs.length,
    math: document.querySelectorAll('.MathJax, .MathJax_Display, mjx-container').length,
    mathErrors: document.querySelectorAll('.MathJax_Error, merror, [data-mjx-error]').length,
    markdown: markdown,
    solutions: document.querySelectorAll('details.rnnviz-solution').length,
    solutionsOpen: document.querySelectorAll('details.rnnviz-solution[open]').length,
    replays: figs.filter(f => (f.layout && f.layout.title && f.layout.title.text || '')
        .startsWith('Recorded replay')).length,
    animations: figs.filter(f => f._fullLayout && f._fullLayout.sliders
        && f._fullLayout.sliders.length && f._transitionData && f._transitionData._frames
        && f._transitionData._frames.length > 1).length,
  };
}"""

# The first figure with frames and a slider: its id, slider position and first frame's name.
_FIRST_ANIMATION_JS = """() => {
  const figs = Array.from(document.querySelectorAll('.jp-OutputArea-output .plotly-graph-div'));
  const f = figs.find(f => f._fullLayout && f._fullLayout.sliders && f._fullLayout.sliders.length
      && f._transitionData && f._transitionData._frames && f._transitionData._frames.length > 1);
  if (!f) return null;
  return {id: f.id, active: f._fullLayout.sliders[0].active,
          frames: f._transitionData._frames.length};
}"""

_RAW_MATH = re.compile(r"\$\$.+?\$\$|(?<![\\$\w])\$[^$\s][^$\n]*?(?<!\s)\$(?![\w$])")


def _solution_cells(path: Path) -> int:
    from tests.site.build import is_solution

    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(1 for cell in nb["cells"]
               if is_solution({**cell, "source": "".join(cell.get("source", []))}))


def _calls(path: Path, name: str) -> bool:
    """Whether a code cell of the lesson at ``path`` contains ``name``."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return any(name in "".join(c.get("source", [])) for c in nb["cells"]
               if c["cell_type"] == "code")


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site, once per session: every lesson executed and rendered."""
    given = os.environ.get("RNNVIZ_SITE_DIR")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tests.site.build", "--out", str(out), "--jobs", "2"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    if proc.returncode != 0:
        pytest.fail(f"building the site failed (exit {proc.returncode}):\n"
                    f"{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}", pytrace=False)
    print(f"site built in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return out


@pytest.fixture
def offline_page(chromium: Any) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A page at 1280x720 where every request that is not ``file://`` is aborted (and
    recorded), with the console errors recorded too."""
    context = chromium.new_context(viewport=VIEWPORT)
    blocked: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}")
            if r.url.startswith("file://") else None)
    try:
        yield page, blocked, errors
    finally:
        context.close()


def _open(page: Any, path: Path) -> None:
    assert path.is_file(), f"the site has no {path.name}"
    page.goto(path.as_uri(), wait_until="load", timeout=60_000)
    # MathJax 2 typesets after load: wait until its queue has run
    try:
        page.wait_for_function(
            """() => new Promise(done => {
                 if (!window.MathJax || !MathJax.Hub) return done(false);
                 MathJax.Hub.Queue(() => done(true));
               })""", timeout=60_000)
    except Exception as err:  # playwright's TimeoutError
        pytest.fail(f"{path.name}: MathJax did not load or finish typesetting ({err})",
                    pytrace=False)


def _screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"site_{name}.png"
    page.screenshot(path=str(path))
    return path


# ----------------------------------------------------------------------------- tests


def test_site_has_a_page_per_lesson_and_offline_assets(site: Path) -> None:
    for lesson in LESSONS:
        assert (site / f"{lesson.stem}.html").is_file(), lesson.name
    assert (site / "plotly.min.js").stat().st_size > 1_000_000
    assert (site / "mathjax" / "MathJax.js").is_file()
    for page in site.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        loads = re.findall(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=[\"']([^\"']+)", text)
        remote = [u for u in loads if re.match(r"(https?:)?//", u)]
        assert not remote, f"{page.name} loads from the network: {remote}"
        assert "require.js" not in text and "cdnjs" not in text and "jsdelivr" not in text


def test_index_links_every_lesson(site: Path, offline_page: tuple) -> None:
    page, blocked, errors = offline_page
    _open(page, site / "index.html")
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    for lesson in LESSONS:
        assert f"{lesson.stem}.html" in hrefs, f"index.html does not link {lesson.stem}.html"
    assert not [h for h in hrefs if h.endswith(".ipynb")], hrefs
    _screenshot(page, "index")
    assert not blocked, f"index.html tried the network: {blocked}"
    assert not errors, errors


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_page_renders_offline(site: Path, offline_page: tuple, lesson: Path) -> None:
    page, blocked, errors = offline_page
    _open(page, site / f"{lesson.stem}.html")
    info = page.evaluate(_PAGE_JS)
    _screenshot(page, lesson.stem)

    # figures: at least one, all drawn, none wider than its output area or the page
    assert info["figures"] >= 1, f"{lesson.stem}: no figure on the page"
    assert info["drawn"] == info["figures"], f"{lesson.stem}: {info['figures'] - info['drawn']} " \
        f"of {info['figures']} figures not drawn"
    assert not info["tooWide"], f"{lesson.stem}: figures wider than the page: {info['tooWide']}"
    assert info["scrollWidth"] <= info["pageWidth"], \
        f"{lesson.stem}: the page scrolls sideways ({info['scrollWidth']} > {info['pageWidth']})"
    assert info["empty"] == 0, f"{lesson.stem}: {info['empty']} empty outputs"

    # maths typeset, nothing left raw
    assert info["math"] > 0, f"{lesson.stem}: no typeset maths"
    assert info["mathErrors"] == 0, f"{lesson.stem}: {info['mathErrors']} MathJax errors"
    raw = _RAW_MATH.findall(info["markdown"])
    assert not raw, f"{lesson.stem}: raw maths left: {raw[:5]}"

    # links between lessons lead to their pages, which exist
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    local = [h.split("#")[0] for h in hrefs if not re.match(r"[a-z]+:|#", h)]
    assert all(h == "" or h.endswith(".html") for h in local), \
        f"{lesson.stem}: links to files that are not pages: {local}"
    missing = [h for h in local if h.endswith(".html") and not (site / h).is_file()]
    assert not missing, f"{lesson.stem}: links to missing pages: {missing}"

    # solutions collapsed; live dashboards as recorded replays
    assert info["solutions"] == _solution_cells(lesson), info["solutions"]
    assert info["solutionsOpen"] == 0
    if _calls(lesson, "rnnviz.dashboard("):
        assert info["replays"] >= 1, f"{lesson.stem}: the dashboard is not a recorded replay"

    # the first animation: ▶ play advances its slider (lessons with animate_* or a dashboard)
    first = page.evaluate(_FIRST_ANIMATION_JS)
    if _calls(lesson, "animate_") or _calls(lesson, "rnnviz.dashboard("):
        assert first is not None, f"{lesson.stem}: no animation on the page"
    if first is not None:
        fig = page.locator(f"#{first['id']}")
        fig.scroll_into_view_if_needed()
        fig.locator(".updatemenu-button").first.click()  # ▶ play
        page.wait_for_function(
            f"() => document.getElementById({json.dumps(first['id'])})"
            f"._fullLayout.sliders[0].active !== {first['active']}", timeout=15_000)
        _screenshot(page, f"{lesson.stem}_animation")

    assert not blocked, f"{lesson.stem} tried the network: {blocked}"
    assert not errors, f"{lesson.stem}: console errors: {errors}"
