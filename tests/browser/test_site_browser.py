"""The static site (``make site``): every page opened from ``file://`` in Chromium, offline.

The site is built once per test session (``python -m tests.site.build`` into a temporary
folder; every lesson of both editions executed: English in the root, Russian in ``ru/``).
Each page is opened with every non-``file://`` request
aborted and counted as a failure, and must show: no console errors, every plotly figure drawn
and none wider than the page, the first animation advancing when its ▶ play is clicked,
typeset maths with no raw ``$...$`` left, solutions collapsed, dashboards as recorded replays,
and no empty output. A Russian page is ``lang="ru"``, its own figures and those of the views
rnnviz translates (tests/browser/translated.py) have Russian words only, and it links the
English page; the two indexes link each other. Screenshots go to
``artifacts/screenshots/site_*.png`` (``site_ru_*.png``).

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
from tests.browser.translated import TRANSLATED_VIEWS, english, view_of
from tests.site.build import EDITIONS, all_lessons, edition_of, page_path

ROOT = Path(__file__).resolve().parents[2]
LESSONS = all_lessons()  # English, then Russian
VIEWPORT = {"width": 1280, "height": 720}
BUILD_TIMEOUT = 1800  # seconds for the whole site (19 lessons take about 5 minutes, --jobs 2)

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
    titles: figs.map(f => f.layout && f.layout.title && (f.layout.title.text || f.layout.title)
        || '').map(t => typeof t === 'string' ? t : ''),
    // each figure's drawn texts (title, axis titles, annotations, legend) and its cell's code
    texts: figs.map(f => Array.from(f.querySelectorAll('.g-gtitle text, g[class$="title"] text, '
        + '.annotation-text, .legendtext')).map(t => t.textContent.trim()).filter(Boolean)),
    code: figs.map(f => { const c = f.closest('.jp-Cell');
                          const i = c && c.querySelector('.jp-InputArea');
                          return i ? i.textContent : ''; }),
    lang: document.documentElement.lang,
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


def _replay_prefixes() -> tuple[str, ...]:
    """How a recorded replay's title starts, in every language rnnviz speaks."""
    from rnnviz import i18n

    prefixes = {"Recorded replay"}
    for lang in i18n.LANGUAGES:
        with i18n.language(lang):
            for n in (1, 2, 5):
                prefixes.add(i18n.ngettext("Recorded replay: {n} step", "Recorded replay: {n} steps",
                                           n).split(":")[0])
    return tuple(prefixes)


def _page(site: Path, lesson: Path) -> Path:
    return site / page_path(lesson)


def _name(lesson: Path) -> str:
    """``02_elman_rnn``, ``ru_02_elman_rnn``: a test id and a screenshot name."""
    return edition_of(lesson).prefix.replace("/", "_") + lesson.stem


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
        assert _page(site, lesson).is_file(), page_path(lesson)
    assert (site / "ru" / "index.html").is_file()
    assert (site / "plotly.min.js").stat().st_size > 1_000_000
    assert (site / "mathjax" / "MathJax.js").is_file()
    for page in site.rglob("*.html"):
        if "mathjax" in page.relative_to(site).parts:
            continue
        text = page.read_text(encoding="utf-8")
        loads = re.findall(r"<(?:script|link|img|iframe)\b[^>]*(?:src|href)=[\"']([^\"']+)", text)
        remote = [u for u in loads if re.match(r"(https?:)?//", u)]
        assert not remote, f"{page.name} loads from the network: {remote}"
        assert "require.js" not in text and "cdnjs" not in text and "jsdelivr" not in text


@pytest.mark.parametrize("lang", list(EDITIONS))
def test_index_links_every_lesson(site: Path, offline_page: tuple, lang: str) -> None:
    """Each edition's index links each of its lessons (the Russian one links the English page
    of a lesson not translated yet) and the other edition's index."""
    page, blocked, errors = offline_page
    edition = EDITIONS[lang]
    index = site / edition.prefix / "index.html"
    _open(page, index)
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    for lesson in EDITIONS["en"].lessons():
        own = edition.folder / lesson.name
        want = lesson.stem + ".html" if own.is_file() else f"{edition.root}{lesson.stem}.html"
        assert want in hrefs, f"{edition.prefix}index.html does not link {want}"
    other = "ru/index.html" if lang == "en" else "../index.html"
    assert other in hrefs, f"{edition.prefix}index.html does not link the other edition's index"
    assert not [h for h in hrefs if h.endswith((".ipynb", ".md"))], hrefs
    missing = [h for h in hrefs if not re.match(r"[a-z]+:|#", h)
               and not (index.parent / h.split("#")[0]).is_file()]
    assert not missing, f"{edition.prefix}index.html links missing pages: {missing}"
    assert page.evaluate("() => document.documentElement.lang") == lang
    _screenshot(page, f"{edition.prefix.replace('/', '_')}index")
    assert not blocked, f"index.html tried the network: {blocked}"
    assert not errors, errors


@pytest.mark.parametrize("lesson", LESSONS, ids=_name)
def test_lesson_page_renders_offline(site: Path, offline_page: tuple, lesson: Path) -> None:
    page, blocked, errors = offline_page
    name = _name(lesson)
    here = _page(site, lesson)
    _open(page, here)
    info = page.evaluate(_PAGE_JS)
    _screenshot(page, name)

    # figures: at least one, all drawn, none wider than its output area or the page
    assert info["figures"] >= 1, f"{name}: no figure on the page"
    assert info["drawn"] == info["figures"], f"{name}: {info['figures'] - info['drawn']} " \
        f"of {info['figures']} figures not drawn"
    assert not info["tooWide"], f"{name}: figures wider than the page: {info['tooWide']}"
    assert info["scrollWidth"] <= info["pageWidth"], \
        f"{name}: the page scrolls sideways ({info['scrollWidth']} > {info['pageWidth']})"
    assert info["empty"] == 0, f"{name}: {info['empty']} empty outputs"

    # maths typeset, nothing left raw
    assert info["math"] > 0, f"{name}: no typeset maths"
    assert info["mathErrors"] == 0, f"{name}: {info['mathErrors']} MathJax errors"
    raw = _RAW_MATH.findall(info["markdown"])
    assert not raw, f"{name}: raw maths left: {raw[:5]}"

    # links between lessons lead to their pages, which exist
    hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
    local = [h.split("#")[0] for h in hrefs if not re.match(r"[a-z]+:|#", h)]
    assert all(h == "" or h.endswith(".html") for h in local), \
        f"{name}: links to files that are not pages: {local}"
    missing = [h for h in local if h.endswith(".html") and not (here.parent / h).is_file()]
    assert not missing, f"{name}: links to missing pages: {missing}"

    # the page's language; a Russian page draws Russian figures and links the English one
    edition = edition_of(lesson)
    assert info["lang"] == edition.lang, f"{name}: <html lang={info['lang']!r}>"
    other = EDITIONS[edition.words["other_lang"]].folder / lesson.name
    if other.is_file():
        assert os.path.relpath(site / page_path(other), here.parent) in hrefs, \
            f"{name}: no link to the same lesson in the other edition"
    if edition.lang == "ru":  # the lesson's own figures and rnnviz's translated views
        figures = zip(info["code"], info["texts"], strict=True)
        left = [(view_of(code), english(texts)) for code, texts in figures
                if view_of(code) in (None, *TRANSLATED_VIEWS)]
        left = [(view or "own figure", words) for view, words in left if words]
        assert not left, f"{name}: English words in figures that are translated: {left[:5]}"

    # solutions collapsed; live dashboards as recorded replays
    assert info["solutions"] == _solution_cells(lesson), info["solutions"]
    assert info["solutionsOpen"] == 0
    if _calls(lesson, "rnnviz.dashboard("):
        replays = [t for t in info["titles"] if t.startswith(_replay_prefixes())]
        assert replays, f"{name}: the dashboard is not a recorded replay"

    # the first animation: ▶ play advances its slider (lessons with animate_* or a dashboard)
    first = page.evaluate(_FIRST_ANIMATION_JS)
    if _calls(lesson, "animate_") or _calls(lesson, "rnnviz.dashboard("):
        assert first is not None, f"{name}: no animation on the page"
    if first is not None:
        fig = page.locator(f"#{first['id']}")
        fig.scroll_into_view_if_needed()
        fig.locator(".updatemenu-button").first.click()  # ▶ play
        page.wait_for_function(
            f"() => document.getElementById({json.dumps(first['id'])})"
            f"._fullLayout.sliders[0].active !== {first['active']}", timeout=15_000)
        _screenshot(page, f"{name}_animation")

    assert not blocked, f"{name} tried the network: {blocked}"
    assert not errors, f"{name}: console errors: {errors}"
