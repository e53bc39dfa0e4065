"""The dashboard in a real JupyterLab and Chromium: it renders, plays, pauses and stops."""

from __future__ import annotations

import time
from pathlib import Path

from tests.browser.lab import run_code

NOTEBOOK = Path(__file__).parent / "notebooks" / "dashboard.ipynb"
DASH = ".rnnviz-dashboard"
# history + hidden + gates + grad_flow (the dashboard's default views)
FIGURES = 4


def _frames(page) -> int:
    return int(page.get_attribute(DASH, "data-frames") or 0)


def _wait_for(page, condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# Kernel errors published on iopub (e.g. from widget-message handlers or post-cell hooks),
# which no cell output shows.
_WATCH_ERRORS_JS = """() => {
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  window.__kernelErrors = [];
  k.iopubMessage.connect((_, msg) => {
    if (msg.header.msg_type === 'error') {
      window.__kernelErrors.push(msg.content.ename + ': ' + msg.content.evalue);
    }
  });
}"""

def test_dashboard_renders_plays_and_pauses(run_notebook_in_lab) -> None:
    run = run_notebook_in_lab(NOTEBOOK)
    page = run.page
    assert not run.problems(), "\n".join(run.problems())
    assert run.figures == FIGURES, f"expected {FIGURES} plotly figures, got {run.figures}"
    assert page.locator(DASH).count() == 1 and run.widgets == 1
    # trainer.run(5) in a later cell: the dashboard shows it when that cell ends
    _wait_for(page, lambda: page.get_attribute(DASH, "data-step") == "5", 20,
              "the dashboard to show step 5 after trainer.run(5)")
    status = page.inner_text(".rnnviz-status")
    assert status.startswith("paused · step 5 ·"), status

    # 1. play: frames arrive and training moves on
    page.evaluate(_WATCH_ERRORS_JS)
    start = _frames(page)
    page.click(".rnnviz-play")
    _wait_for(page, lambda: _frames(page) >= start + 5, 60, "5 frames while training")
    run.screenshot("training", DASH)
    assert "training" in page.inner_text(".rnnviz-status")
    assert int(page.get_attribute(DASH, "data-step")) > 5

    # 1b. a cell trains and inspects the model while the dashboard trains (widget messages
    #     run on a kernel subshell thread, cells on the main thread: they must take turns)
    for _ in range(3):
        out = run_code(page, "n = trainer.steps; trainer.run(10, progress=False); "
                             "print(trainer.steps - n >= 10, trainer.state)")
        assert out.strip() == "True ready", out
    _wait_for(page, lambda: _frames(page) >= start + 10, 60, "frames after the cells")

    # 2. the time cursor and one time step
    page.evaluate("() => { const s = document.querySelector('.rnnviz-t'); s.value = '3';"
                  " s.dispatchEvent(new Event('input')); }")
    page.click(".rnnviz-tstep")
    _wait_for(page, lambda: page.inner_text(".rnnviz-tvalue").startswith("4 /"), 10,
              "the time cursor at t = 4")
    assert page.inner_text(".rnnviz-readout").startswith("t = 4: input")

    # 3. pause: updates stop within 0.5 s and nothing arrives after that
    page.click(".rnnviz-play")
    page.wait_for_timeout(500)
    _wait_for(page, lambda: page.get_attribute(DASH, "data-status") == "paused", 10,
              "the status to say paused")
    stopped = _frames(page)
    step = page.get_attribute(DASH, "data-step")
    page.wait_for_timeout(2000)
    assert _frames(page) == stopped, "frames kept arriving after pause"
    assert page.get_attribute(DASH, "data-step") == step
    run.screenshot("paused", DASH)

    # 4. one batch, then reset
    page.click(".rnnviz-step")
    _wait_for(page, lambda: page.get_attribute(DASH, "data-step") == str(int(step) + 1), 20,
              "one more step after +1 batch")
    page.click(".rnnviz-reset")
    _wait_for(page, lambda: page.get_attribute(DASH, "data-step") == "0", 20,
              "step 0 after reset")
    assert page.inner_text(".rnnviz-status").startswith("ready · step 0")
    assert not run.console_errors, "\n".join(run.console_errors)
    errors = page.evaluate("() => window.__kernelErrors")
    assert not errors, "kernel errors while the dashboard ran:\n" + "\n".join(errors)
