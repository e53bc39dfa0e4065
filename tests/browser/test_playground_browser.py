"""The Playground at a lecture-hall projector's size (1280 x 720), in Voila and in JupyterLab.

Voila is what ``make present`` runs (``rnnviz/app/serve.py``: the same command line); the page
must fetch nothing from the internet. In both: no console errors; the controls, the status
line, the history and the first view on one screen; ▶ gives frames and ❚❚ stops them within
0.3 s; another cell rebuilds and keeps animating; "trained" shows a checkpoint's trained state
at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.lab import ROOT, VIEWPORT, _free_port, wait_for

NOTEBOOK = ROOT / "lessons" / "playground.ipynb"
SCREENSHOT = ROOT / "assets" / "screenshots" / "playground.png"
PG = ".rnnviz-playground"
DASH = ".rnnviz-dashboard"
# the parts a lecturer needs on one screen
PARTS = {
    "controls": ".rnnviz-pg-controls",
    "playground status": ".rnnviz-pg-status",
    "dashboard status": ".rnnviz-status",
    "play button": ".rnnviz-play",
    "history": '.rnnviz-fig[data-fig="history"]',
    "first view": ".rnnviz-grid > .rnnviz-fig:nth-child(2)",
}



def _frames(page: Any) -> int:
    return int(page.get_attribute(DASH, "data-frames") or 0)


_BOTTOM_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-notebook');
  return panel ? panel.getBoundingClientRect().bottom : window.innerHeight;
}"""


def _off_screen(page: Any) -> list[str]:
    """The parts that are not wholly inside the viewport (in JupyterLab: the notebook panel,
    above the status bar)."""
    bottom = min(VIEWPORT["height"], page.evaluate(_BOTTOM_JS))
    out = []
    for name, selector in PARTS.items():
        box = page.locator(selector).first.bounding_box()
        if box is None:
            out.append(f"{name}: not shown")
        elif (box["x"] < 0 or box["y"] < 0 or box["x"] + box["width"] > VIEWPORT["width"] + 0.5
              or box["y"] + box["height"] > bottom + 0.5):
            out.append(f"{name}: {json.dumps({k: round(v) for k, v in box.items()})}")
    return out


def _exercise(page: Any, label: str, *, screenshot: Path | None = None,
              scroll: bool = False) -> None:
    """Everything both front ends must do, on a page showing the Playground."""
    page.wait_for_selector(f"{PG} {DASH} .js-plotly-plot", timeout=120_000)
    wait_for(page, lambda: _frames(page) >= 1, 60, "the first frame")
    page.wait_for_timeout(500)
    # 1. one screen: controls, status, history and the first view
    if scroll:  # the widget's top at the top of JupyterLab's notebook panel
        page.evaluate(f"() => document.querySelector('{PG}').scrollIntoView({{block: 'start'}})")
        page.wait_for_timeout(500)
    assert not _off_screen(page), f"{label}: off screen at 1280 x 720: {_off_screen(page)}"
    # 2. play gives frames; pause stops them within 0.3 s
    start = _frames(page)
    page.click(f"{DASH} .rnnviz-play")
    wait_for(page, lambda: _frames(page) >= start + 5, 60, "5 frames while training")
    step = int(page.get_attribute(DASH, "data-step") or 0)
    wait_for(page, lambda: int(page.get_attribute(DASH, "data-step") or 0) > step, 30,
              "training to move on")
    page.click(f"{DASH} .rnnviz-play")
    page.wait_for_timeout(300)
    stopped = _frames(page)
    page.wait_for_timeout(1500)
    assert _frames(page) == stopped, f"{label}: frames kept arriving more than 0.3 s after pause"
    assert page.get_attribute(DASH, "data-status") == "paused"
    # 3. another cell: a new dashboard, which animates when played
    old_title = page.inner_text(f"{DASH} .rnnviz-title")
    page.select_option(".rnnviz-pg-cell select", label="GRU")
    wait_for(page, lambda: "GRU" in page.inner_text(f"{DASH} .rnnviz-title"), 60,
              "the GRU dashboard")
    assert "GRU" not in old_title
    assert "Rebuilt" in page.inner_text(".rnnviz-pg-status")
    assert page.locator(DASH).count() == 1
    wait_for(page, lambda: _frames(page) >= 1, 60, "the new dashboard's first frame")
    start = _frames(page)
    page.click(f"{DASH} .rnnviz-play")
    wait_for(page, lambda: _frames(page) >= start + 5, 60, "5 frames of the GRU")
    page.click(f"{DASH} .rnnviz-play")
    wait_for(page, lambda: page.get_attribute(DASH, "data-status") == "paused", 10, "pause")
    # 4. a named preset with a checkpoint, then "trained": its trained state at once
    page.fill(".rnnviz-pg-preset textarea", "echo")
    page.locator(".rnnviz-pg-status").click()  # leaving the box submits it
    wait_for(page, lambda: "ELMAN" in page.inner_text(f"{DASH} .rnnviz-title"), 60,
              "the echo preset's Elman dashboard")
    wait_for(page, lambda: page.locator(".rnnviz-pg-trained").is_enabled(), 20,
              "the trained button")
    page.click(".rnnviz-pg-trained")
    wait_for(page, lambda: "Loaded" in page.inner_text(".rnnviz-pg-status"), 60,
              "the checkpoint to load")
    loaded = page.inner_text(".rnnviz-pg-status")
    steps = int(loaded.split("step ")[1].split(";")[0])
    assert steps > 0
    wait_for(page, lambda: page.get_attribute(DASH, "data-step") == str(steps), 30,
              f"the dashboard to show step {steps} without training")
    assert page.inner_text(f"{DASH} .rnnviz-status").startswith(f"paused · step {steps} ·")
    page.wait_for_timeout(1000)  # the history's full redraw
    if scroll:
        page.evaluate(f"() => document.querySelector('{PG}').scrollIntoView({{block: 'start'}})")
        page.wait_for_timeout(500)
    assert not _off_screen(page), f"{label}: off screen after loading: {_off_screen(page)}"
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot))


# ----------------------------------------------------------------------------- Voila


@pytest.fixture(scope="module")
def voila() -> Iterator[str]:
    """``make present``'s server (rnnviz/app/serve.py's command) on a free port."""
    from rnnviz.app.serve import command, environment

    port = _free_port()
    env = environment()
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    log = open(ROOT / "artifacts" / "voila.log", "wb") if (ROOT / "artifacts").is_dir() \
        else subprocess.DEVNULL
    proc = subprocess.Popen(command(NOTEBOOK, port), env=env, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, "voila exited early"
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url, timeout=5).close()  # noqa: S310 - localhost
                break
            assert time.monotonic() < deadline, "voila did not start in 60 s"
            time.sleep(0.3)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        if log is not subprocess.DEVNULL:
            log.close()


def test_playground_in_voila(chromium: Any, voila: str) -> None:
    page = chromium.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))

    def offline(route: Any) -> None:  # a lecture hall without internet
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", offline)
    try:
        page.goto(voila, timeout=120_000)
        _exercise(page, "voila", screenshot=ROOT / "artifacts" / "screenshots" / "playground-voila.png")
        # no code on the page: only the title and the app
        assert "rnnviz.playground(" not in page.inner_text("body")
        assert page.locator(".jp-CodeMirrorEditor, .cm-editor").count() == 0
        assert not errors, f"console errors: {errors}"
        assert not outside, f"requests outside this computer: {outside}"
    finally:
        page.close()


# ----------------------------------------------------------------------------- JupyterLab


def test_playground_in_jupyterlab(run_notebook_in_lab: Any) -> None:
    run = run_notebook_in_lab(NOTEBOOK)
    page = run.page
    assert not run.problems(), "\n".join(run.problems())
    _exercise(page, "jupyterlab", screenshot=SCREENSHOT, scroll=True)
    assert not run.problems(), "\n".join(run.problems())
