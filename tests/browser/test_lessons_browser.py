"""Every lesson, opened in a real JupyterLab and Chromium: Run All renders everything, cleanly,
and every figure fits its slot on a 1280 x 720 projector with the file browser open.

The lessons with a live dashboard (02, 03, 05, 07, and 12's encoder-decoder) are checked again
with the sidebar collapsed and in the dark theme (its figures re-lay themselves out and
recolour live), in the same Run All: no extra notebook runs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.lab import VIEWPORT, figure_fit_problems, set_left_sidebar, set_theme

LESSONS = sorted((Path(__file__).resolve().parents[2] / "lessons").glob("[0-9][0-9]_*.ipynb"))
DASHBOARD_LESSONS = ("02", "03", "05", "07", "12")

# Per output of each kind: did it render? (plotly figures and widget views)
_RENDERED_JS = """() => {
  const area = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)') || document;
  const outs = Array.from(area.querySelectorAll('.jp-OutputArea-output'));
  const plotly = outs.filter(o => o.classList.contains('jp-RenderedPlotly'));
  const widgets = outs.filter(o => o.querySelector(':scope > .jupyter-widgets')
      || o.innerText.includes('Error displaying widget'));
  return {
    plotly: plotly.length,
    plotlyDrawn: plotly.filter(o => o.querySelector('.main-svg')).length,
    widgets: widgets.length,
    widgetsDrawn: widgets.filter(o => !o.innerText.includes('Error displaying widget')
        && o.querySelector(':scope > .jupyter-widgets').getBoundingClientRect().height > 0).length,
  };
}"""


def test_there_are_lessons_to_open() -> None:
    assert len(LESSONS) >= 6, [p.name for p in LESSONS]


def _show_dashboard(page) -> None:
    """Scroll so that the lesson's last dashboard's top (title, status, controls) is at the
    top (lesson 12's Seq2Seq; the others have one)."""
    page.locator(".rnnviz-dashboard").last.evaluate("(e) => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(400)


def _assert_fits(run, what: str, selector: str = ".js-plotly-plot") -> None:
    fit = figure_fit_problems(run.page, selector)
    assert fit["figures"] >= 1, f"{what}: no figure to check"
    if fit["problems"]:
        run.screenshot("misfit")
    assert not fit["problems"], f"{what}:\n" + "\n".join(fit["problems"])


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_all_cleanly_in_jupyterlab(run_notebook_in_lab, lesson: Path) -> None:
    assert VIEWPORT == {"width": 1280, "height": 720}
    run = run_notebook_in_lab(lesson, timeout=180)
    assert not run.problems(), "\n".join(run.problems())
    counts = run.page.evaluate(_RENDERED_JS)
    assert counts["plotly"] >= 1, f"{lesson.name} showed no figure: {counts}"
    assert counts["plotlyDrawn"] == counts["plotly"], f"a figure did not render: {counts}"
    assert counts["widgetsDrawn"] == counts["widgets"], f"a widget did not render: {counts}"
    assert run.screenshots and run.screenshots[0].exists()
    page = run.page
    # every figure, static or live, fits its slot with the sidebar open (after Run All)
    _assert_fits(run, f"{lesson.stem}, sidebar open, light")
    if lesson.stem[:2] not in DASHBOARD_LESSONS:
        return
    dash = ".rnnviz-dashboard"
    assert page.locator(dash).count() >= 1, f"{lesson.name} has no dashboard"
    _show_dashboard(page)
    run.screenshot("projector-sidebar-open")
    set_left_sidebar(page, False)
    _assert_fits(run, f"{lesson.stem}, sidebar collapsed, light", ".rnnviz-fig")
    _show_dashboard(page)
    run.screenshot("projector-sidebar-collapsed")
    set_theme(page, "JupyterLab Dark")
    try:
        _assert_fits(run, f"{lesson.stem}, sidebar collapsed, dark", ".js-plotly-plot")
        set_left_sidebar(page, True)
        _assert_fits(run, f"{lesson.stem}, sidebar open, dark", ".rnnviz-fig")
        _show_dashboard(page)
        run.screenshot("projector-sidebar-open-dark")
    finally:
        set_theme(page, "JupyterLab Light")  # the theme is a server setting: later tests
    _assert_fits(run, f"{lesson.stem}, sidebar open, light again", ".rnnviz-fig")
