"""The Russian edition in a real JupyterLab and Chromium, as a Russian class sees it.

A JupyterLab server started with ``RNNVIZ_LANG=ru`` (so every kernel speaks Russian by
default), at 1280 x 720 with the file browser open, runs two Russian lessons (Run All) and
checks, in each:

- everything ran and rendered, and every figure fits its slot (``figure_fit_problems``);
- **Cyrillic where rnnviz translates**: the texts of the figures that the views listed in
  ``TRANSLATED_VIEWS`` draw (found by the ``rnnviz.<view>(`` call in the figure's cell), every
  text of the lesson's own figures that has words, and the dashboard's parts listed in
  ``TRANSLATED_DASHBOARD`` (both lists in tests/browser/translated.py). rnnviz is being
  translated module by module: when a view or a dashboard part is converted to
  ``rnnviz.i18n``, adding its name to one of these lists is all the test needs. The English
  that is left is reported in the test's output (``-s``);
- **no text overflows its box**: figure, axis, subplot and legend texts inside the drawn
  figure; each dashboard button's text inside the button; the dashboard's labels, status line
  and title inside the dashboard (Russian words are longer than English ones).

Screenshots: ``artifacts/screenshots/ru_lesson_NN.png`` (the first screen after Run All),
``ru_lesson_NN_figure.png`` (the first figure with Russian text, centred) and
``ru_lesson_NN_dashboard.png`` (the dashboard at the top of the screen); the README shows
copies in ``assets/screenshots/``.

The Playground (``lessons/playground.ipynb``, which does not call ``set_language``) is run the
same way, its controls (``.rnnviz-playground``: its own widgets and its dashboard) checked like
the dashboard's; another notebook joins as one more entry of ``RU_NOTEBOOKS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import (
    SCREENSHOTS,
    VIEWPORT,
    LabServer,
    figure_fit_problems,
    run_code,
    run_notebook_in_lab,
)
from tests.browser.translated import (
    CYRILLIC,
    TRANSLATED_DASHBOARD,
    TRANSLATED_VIEWS,
    english,
    view_of,
)

ROOT = Path(__file__).resolve().parents[2]
RU = ROOT / "lessons" / "ru"

@dataclass
class RuNotebook:
    """A Russian notebook to run, and what in it must be Cyrillic."""

    path: Path
    label: str  # screenshot name
    controls: str | None = ".rnnviz-dashboard"  # root of its live controls, if any
    translated_controls: list[str] = field(default_factory=lambda: TRANSLATED_DASHBOARD)
    timeout: float = 240.0


RU_NOTEBOOKS = [
    RuNotebook(RU / "02_elman_rnn.ipynb", "ru_lesson_02"),
    RuNotebook(RU / "06_gru.ipynb", "ru_lesson_06"),
    # the Playground: no set_language in it, so RNNVIZ_LANG=ru alone must make it Russian
    # (its own labels, options and tooltips are not all translated yet: reported, not required)
    RuNotebook(ROOT / "lessons" / "playground.ipynb", "ru_playground",
               controls=".rnnviz-playground",
               translated_controls=["title", "status", "buttons", "banner"]),
]

# Every plotly figure of the open notebook: the rnnviz call of its cell, its texts (main
# title, axis titles, subplot titles and other annotations, legend entries) with their
# boxes checked against the drawn figure, and its hover templates.
_FIGURES_JS = r"""async (settle) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const area = panel.node;
  const cells = panel.content.widgets;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const texts = (gd, sel) => Array.from(gd.querySelectorAll(sel))
      .filter(t => t.textContent.trim() && t.getBoundingClientRect().width > 0);
  const result = [];
  for (const [i, gd] of Array.from(area.querySelectorAll('.js-plotly-plot')).entries()) {
    gd.scrollIntoView({block: 'center'});  // off-screen cells are not laid out
    await sleep(settle);
    const cellNode = gd.closest('.jp-Cell');
    const k = cells.findIndex(w => w.node === cellNode);
    const code = k >= 0 ? cells[k].model.sharedModel.getSource() : '';
    const svg = gd.querySelector('.main-svg');
    const drawn = svg ? svg.getBoundingClientRect() : gd.getBoundingClientRect();
    const out = [];
    const kinds = {title: '.g-gtitle text', axis: 'g[class^="g-x"][class$="title"] text, '
                   + 'g[class^="g-y"][class$="title"] text', annotation: '.annotation-text',
                   legend: '.legendtext'};
    const found = {};
    for (const [kind, sel] of Object.entries(kinds)) {
      found[kind] = texts(gd, sel).map(t => t.textContent.trim());
      for (const t of texts(gd, sel)) {
        const b = t.getBoundingClientRect();
        if (b.left < drawn.left - 1 || b.right > drawn.right + 1
            || b.top < drawn.top - 1 || b.bottom > drawn.bottom + 1) {
          out.push(`${kind} "${t.textContent.trim().slice(0, 50)}" outside the figure `
                   + `(${Math.round(b.left - drawn.left)}..${Math.round(b.right - drawn.left)} x `
                   + `${Math.round(b.top - drawn.top)}..${Math.round(b.bottom - drawn.top)} in `
                   + `${Math.round(drawn.width)} x ${Math.round(drawn.height)})`);
        }
      }
    }
    const hover = (gd.data || []).map(d => d.hovertemplate || '').filter(Boolean);
    result.push({i, cell: k, fig: gd.dataset.fig || null, code,
                 dashboard: !!gd.closest('.rnnviz-dashboard'), ...found, hover, overflow: out});
  }
  return result;
}"""

# The live controls under ``root`` (the dashboard): their words, and every text that does
# not fit its box (a button's text wider than the button, a label or the status line
# cut off or sticking out of the dashboard).
_CONTROLS_JS = r"""(root) => {
  const panel = window.jupyterapp.shell.currentWidget;
  const dash = panel.node.querySelector(root);
  if (!dash) return null;
  const box = dash.getBoundingClientRect();
  const textBox = (e) => { const r = document.createRange(); r.selectNodeContents(e);
                           return r.getBoundingClientRect(); };
  const words = (sel) => Array.from(dash.querySelectorAll(sel)).map(e => e.textContent.trim())
      .filter(Boolean);
  const out = [];
  for (const b of dash.querySelectorAll('button')) {
    const r = b.getBoundingClientRect(), t = textBox(b);
    if (!r.width) continue;
    if (t.left < r.left - 0.5 || t.right > r.right + 0.5 || b.scrollWidth > b.clientWidth + 1) {
      out.push(`button "${b.innerText.trim()}": text ${Math.round(t.width)} px in a `
               + `${Math.round(r.width)} px button`);
    }
  }
  for (const e of dash.querySelectorAll('.rnnviz-group > span, .rnnviz-status, .rnnviz-title, '
                                       + '.rnnviz-readout, .rnnviz-note, .rnnviz-banner, select')) {
    const r = e.getBoundingClientRect();
    if (!r.width || e.hidden) continue;
    const t = e.tagName === 'SELECT' ? r : textBox(e);
    if (e.scrollWidth > e.clientWidth + 1 && e.tagName !== 'SELECT') {
      out.push(`${e.className || e.tagName} "${e.innerText.trim().slice(0, 60)}" is cut off `
               + `(${e.scrollWidth} > ${e.clientWidth} px)`);
    }
    if (t.left < box.left - 0.5 || t.right > box.right + 0.5) {
      out.push(`${e.className || e.tagName} "${e.innerText.trim().slice(0, 60)}" sticks out of `
               + `the dashboard`);
    }
  }
  for (const s of dash.querySelectorAll('select')) {  // the chosen option fits its select
    const o = s.options[s.selectedIndex];
    if (!o) continue;
    const probe = document.createElement('span');
    probe.style.font = getComputedStyle(s).font;
    probe.style.position = 'absolute';
    probe.style.whiteSpace = 'pre';
    probe.textContent = o.text;
    document.body.append(probe);
    const need = probe.getBoundingClientRect().width;
    probe.remove();
    const cs = getComputedStyle(s);
    const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    if (need > room + 1) {
      out.push(`select: "${o.text}" needs ${Math.round(need)} px, has ${Math.round(room)}`);
    }
  }
  return {
    title: words('.rnnviz-title'),
    status: words('.rnnviz-status'),
    buttons: words('button'),
    labels: words('.rnnviz-group > span, .widget-label'),
    options: Array.from(dash.querySelectorAll('option')).map(o => o.text.trim()),
    tooltips: Array.from(dash.querySelectorAll('[title]')).map(e => e.title.trim()).filter(Boolean),
    banner: words('.rnnviz-banner:not([hidden])'),
    overflow: out,
  };
}"""


class RuLabServer(LabServer):
    """A private JupyterLab whose kernels speak Russian: ``RNNVIZ_LANG=ru`` in its environment."""

    def _prepare(self) -> dict[str, str]:
        return {**super()._prepare(), "RNNVIZ_LANG": "ru"}


@pytest.fixture(scope="module")
def ru_lab() -> Iterator[LabServer]:
    server = RuLabServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.mark.parametrize("nb", RU_NOTEBOOKS, ids=lambda n: n.label)
def test_russian_lesson_speaks_russian_and_fits(ru_lab: LabServer, chromium: Any,
                                                nb: RuNotebook) -> None:
    assert VIEWPORT == {"width": 1280, "height": 720}
    run = run_notebook_in_lab(ru_lab, chromium, nb.path, timeout=nb.timeout, screenshot=False)
    try:
        _check(run, nb)
    finally:
        run.page.close()
        ru_lab.shutdown_kernels()


def _check(run: Any, nb: RuNotebook) -> None:
    page = run.page
    assert page.evaluate("() => !window.jupyterapp.shell.leftCollapsed"), "the sidebar is closed"
    page.evaluate("() => window.jupyterapp.shell.currentWidget.content.scrollToItem(0)")
    page.wait_for_timeout(300)
    _screenshot(page, nb.label)
    assert not run.problems(), "\n".join(run.problems())
    # the kernel speaks Russian because of the server's environment, before the lesson's own
    # rnnviz.set_language("ru") (the variable must reach the kernel)
    lang = run_code(page, "import os; print(os.environ.get('RNNVIZ_LANG'))").strip()
    assert lang == "ru", f"the kernel's RNNVIZ_LANG is {lang!r}"

    # every figure fits its slot (titles and annotations inside, no overlaps)
    fit = figure_fit_problems(page)
    assert fit["figures"] >= 1, f"{nb.label}: no figure"
    if fit["problems"]:  # figure_fit_problems left the first figure that misfits in view
        _screenshot(page, f"{nb.label}_misfit")
    figures = page.evaluate(_FIGURES_JS, 150)
    assert len(figures) == fit["figures"]

    problems: list[str] = [f"fit: {p}" for p in fit["problems"]]
    untranslated: list[str] = []  # what is still English, for the report
    russian = [f for f in figures if any(CYRILLIC.search(t) for t in f["title"] + f["axis"]
                                         + f["annotation"] + f["legend"])]
    assert russian, f"{nb.label}: no figure with Russian text"  # a whole run in English
    page.evaluate("(i) => document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
                  ".js-plotly-plot')[i].scrollIntoView({block: 'center'})", russian[0]["i"])
    page.wait_for_timeout(400)
    _screenshot(page, f"{nb.label}_figure")
    for f in figures:
        where = f"cell {f['cell']} " + (f"dashboard {f['fig']}" if f["dashboard"] else
                                        (view_of(f["code"]) or "lesson's own figure"))
        problems += [f"{where}: {p}" for p in f["overflow"]]
        latin = english(f["title"] + f["axis"] + f["annotation"] + f["legend"])
        view = "dashboard" if f["dashboard"] else view_of(f["code"])
        if view is None:  # the lesson's own figure: the Russian edition translated its words
            problems += [f"{where}: English text {t!r}" for t in latin]
        elif view in TRANSLATED_VIEWS:
            problems += [f"{where}: English text {t!r} from a translated view" for t in latin]
        elif latin:
            untranslated.append(f"{where}: {latin[:4]}")

    if nb.controls:
        assert page.locator(nb.controls).count() >= 1, f"{nb.label}: no {nb.controls}"
        page.locator(nb.controls).first.evaluate("(e) => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
        _screenshot(page, f"{nb.label}_dashboard")
        controls = page.evaluate(_CONTROLS_JS, nb.controls)
        problems += [f"{nb.controls}: {p}" for p in controls["overflow"]]
        for part in ("title", "status", "buttons", "labels", "options", "tooltips", "banner"):
            latin = english(controls[part])
            if part in nb.translated_controls:
                problems += [f"{nb.controls} {part}: English {t!r}" for t in latin]
            elif latin:
                untranslated.append(f"{nb.controls} {part}: {latin[:6]}")

    print(f"\n{nb.label}: {len(figures)} figures, {len(russian)} with Russian text; "
          "still English (not translated yet):\n  "
          + "\n  ".join(untranslated or ["nothing"]))
    if problems:
        _screenshot(page, f"{nb.label}_problem")
    assert not problems, f"{nb.label}:\n" + "\n".join(problems)
