"""Every lesson, opened in a real JupyterLab and Chromium: Run All renders everything, cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

LESSONS = sorted((Path(__file__).resolve().parents[2] / "lessons").glob("[0-9][0-9]_*.ipynb"))

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


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_all_cleanly_in_jupyterlab(run_notebook_in_lab, lesson: Path) -> None:
    run = run_notebook_in_lab(lesson, timeout=180)
    assert not run.problems(), "\n".join(run.problems())
    counts = run.page.evaluate(_RENDERED_JS)
    assert counts["plotly"] >= 1, f"{lesson.name} showed no figure: {counts}"
    assert counts["plotlyDrawn"] == counts["plotly"], f"a figure did not render: {counts}"
    assert counts["widgetsDrawn"] == counts["widgets"], f"a widget did not render: {counts}"
    assert run.screenshots and run.screenshots[0].exists()
