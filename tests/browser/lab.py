"""Run notebooks in a real JupyterLab driven by a real Chromium, and report what rendered.

The pieces, reusable by any browser test or benchmark:

- :class:`LabServer` starts ``jupyter lab`` on a free localhost port with a random token and
  every Jupyter directory (config, data, runtime, settings, workspaces, root) in a temporary
  directory; :meth:`LabServer.stop` shuts its kernels down and kills its process group.
- :func:`launch_chromium` starts the Chromium that ``find_browser.py`` finds, or raises
  :class:`BrowserMissing` with the message that says how to get one.
- :func:`run_notebook_in_lab` copies a notebook into the server's root, opens it, runs all
  cells, waits until the kernel is idle, and returns a :class:`NotebookRun` with the number of
  rendered plotly figures and widgets, error outputs, JavaScript console errors and the
  screenshot paths. The page stays open (``run.page``) so a test can go on clicking.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.browser.find_browser import CHROMIUM_ARGS, HOW_TO, find_chromium

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
# A lecture-hall projector: 1280 x 720, JupyterLab's file browser open (as a new user has it).
# A tall viewport once hid clipped dashboards in every lesson: keep the tests at this size.
VIEWPORT = {"width": 1280, "height": 720}


class BrowserMissing(RuntimeError):
    """No Chromium to drive: the message says how to install one."""


# ----------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LabServer:
    """A private ``jupyter lab`` on localhost: random port and token, all state in a temp dir."""

    def __init__(self, *, startup_timeout: float = 60.0) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="rnnviz-lab-"))
        self.root = self.tmp / "root"
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.tmp / "server.log"
        self._proc: subprocess.Popen | None = None
        self._startup_timeout = startup_timeout

    # 1. lay out the private Jupyter directories and the settings that keep Lab quiet
    def _prepare(self) -> dict[str, str]:
        for name in ("root", "config", "data", "runtime", "settings", "workspaces"):
            (self.tmp / name).mkdir(parents=True, exist_ok=True)
        notify = self.tmp / "settings" / "@jupyterlab" / "apputils-extension"
        notify.mkdir(parents=True, exist_ok=True)
        (notify / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(self.tmp / "config"),
            "JUPYTER_DATA_DIR": str(self.tmp / "data"),
            "JUPYTER_RUNTIME_DIR": str(self.tmp / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(self.tmp / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.tmp / "workspaces"),
            "IPYTHONDIR": str(self.tmp / "ipython"),
            "PYTHONPATH": os.pathsep.join(
                p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
            ),
        }
        env.pop("JUPYTER_PLATFORM_DIRS", None)
        return env

    def start(self) -> LabServer:
        env = self._prepare()
        cmd = [
            sys.executable, "-m", "jupyterlab",
            f"--port={self.port}", "--ip=127.0.0.1", "--no-browser",
            f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.open_browser=False",
            "--ServerApp.port_retries=0",
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.user_settings_dir={self.tmp / 'settings'}",
            f"--LabApp.workspaces_dir={self.tmp / 'workspaces'}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        log = open(self.log_path, "wb")  # noqa: SIM115 - lives as long as the server
        self._proc = subprocess.Popen(
            cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                self.api("GET", "/api/status")
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"jupyter lab did not start in {self._startup_timeout} s")

    def api(self, method: str, path: str) -> Any:
        req = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def lab_url(self, notebook: str) -> str:
        return f"{self.url}/lab/tree/{notebook}?token={self.token}&reset"

    def add_notebook(self, path: str | os.PathLike) -> str:
        """Copy a notebook into the server's root; return its name there."""
        src = Path(path)
        shutil.copy(src, self.root / src.name)
        return src.name

    def shutdown_kernels(self) -> None:
        with contextlib.suppress(Exception):
            for kernel in self.api("GET", "/api/kernels"):
                with contextlib.suppress(Exception):
                    self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        """Shut kernels down, then stop the server's whole process group (always)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                self.shutdown_kernels()
            for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ----------------------------------------------------------------------------- browser


def launch_chromium(playwright: Any, *, headless: bool = True) -> Any:
    """Launch the system (or playwright's) Chromium; raise :class:`BrowserMissing` if none."""
    path = find_chromium()
    if path is None:
        raise BrowserMissing(HOW_TO)
    return playwright.chromium.launch(executable_path=path, headless=headless, args=CHROMIUM_ARGS)


@dataclass
class NotebookRun:
    """What one notebook run in JupyterLab produced."""

    name: str
    page: Any
    figures: int = 0
    widgets: int = 0
    widget_errors: list[str] = field(default_factory=list)
    error_outputs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    def screenshot(self, label: str, selector: str | None = None) -> Path:
        """Save a screenshot of the page (or one element) under artifacts/screenshots/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{Path(self.name).stem}-{label}.png"
        target = self.page.locator(selector).first if selector else self.page
        target.screenshot(path=str(path))
        self.screenshots.append(path)
        return path

    def problems(self) -> list[str]:
        """Every widget error, error output and console error, as readable lines."""
        return (
            [f"widget: {e}" for e in self.widget_errors]
            + [f"output: {e}" for e in self.error_outputs]
            + [f"console: {e}" for e in self.console_errors]
        )


_KERNEL_STATE_JS = """() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  if (!w || !w.sessionContext || !w.content) return {ready: false, why: 'no notebook'};
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  const cells = w.content.model ? Array.from(w.content.model.cells) : [];
  const code = cells.filter(c => c.type === 'code');
  const pending = code.filter(c => c.executionCount === null).length;
  const running = Array.from(document.querySelectorAll('.jp-InputArea-prompt'))
      .filter(e => e.textContent.includes('*')).length;
  return {ready: true, status: kernel ? kernel.status : 'none', cells: code.length,
          pending: pending, running: running};
}"""

_COUNTS_JS = """() => {
  const area = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)') || document;
  const texts = sel => Array.from(area.querySelectorAll(sel)).map(e => e.innerText.slice(0, 2000));
  return {
    figures: area.querySelectorAll('.js-plotly-plot').length,
    // a widget view is an lm-Widget inside the output Panel of the widget renderer (it has
    // no data-mime-type attribute)
    widgets: area.querySelectorAll('.jp-OutputArea-output.lm-Panel > .lm-Widget').length,
    widgetErrors: texts('.jp-OutputArea-output').filter(
        t => t.includes('Error displaying widget') || t.includes('Failed to load model class')),
    errorOutputs: texts('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        .filter(t => t.includes('Traceback') || t.includes('Error'))
        .concat(texts('.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]')),
  };
}"""


_EXEC_JS = """async (code) => {
  const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = k.requestExecute({code, store_history: false});
  let out = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') out += msg.content.text;
    if (msg.header.msg_type === 'error') out += 'ERROR ' + msg.content.evalue;
  };
  await future.done;
  return out;
}"""


def wait_for(page: Any, condition: Any, timeout: float, what: str) -> None:
    """Poll ``condition()`` every 0.1 s until it is true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def run_code(page: Any, code: str) -> str:
    """Run ``code`` in the open notebook's kernel like a cell (not shown); return its stdout,
    with ``ERROR <message>`` appended if it raised."""
    return page.evaluate(_EXEC_JS, code)


def wait_for_kernel_idle(page: Any, *, timeout: float = 120.0, need_all_run: bool = True) -> None:
    """Wait until the notebook's kernel is idle and (optionally) every code cell has run."""
    deadline = time.monotonic() + timeout
    stable = 0
    state: dict = {}
    while time.monotonic() < deadline:
        state = page.evaluate(_KERNEL_STATE_JS)
        done = state.get("ready") and state.get("status") == "idle" and not state.get("running")
        if done and need_all_run:
            done = state.get("pending") == 0
        stable = stable + 1 if done else 0
        if stable >= 3:  # idle on three polls in a row, not a gap between two cells
            return
        page.wait_for_timeout(150)
    raise TimeoutError(f"notebook did not finish in {timeout} s: {state}")


def open_notebook(server: LabServer, browser: Any, name: str) -> tuple[Any, list[str]]:
    """Open ``name`` (already in the server's root) in a new page; collect console errors."""
    page = browser.new_page(viewport=VIEWPORT)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.goto(server.lab_url(name))
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel",
        timeout=60_000,
    )
    wait_for_kernel_idle(page, timeout=60, need_all_run=False)
    set_left_sidebar(page, True)
    return page, errors


# ----------------------------------------------------------------------------- lab chrome


def left_sidebar_open(page: Any) -> bool:
    return not page.evaluate("() => window.jupyterapp.shell.leftCollapsed")


def set_left_sidebar(page: Any, want_open: bool) -> None:
    """Open (the file browser) or collapse JupyterLab's left sidebar; wait for the layout."""
    if left_sidebar_open(page) == want_open:
        return
    if want_open:
        page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
    else:
        page.evaluate("() => window.jupyterapp.commands.execute('application:toggle-left-area')")
    page.wait_for_function(
        "(want) => !window.jupyterapp.shell.leftCollapsed === want", arg=want_open, timeout=10_000)
    page.wait_for_timeout(600)  # the panels' resize, then the figures' re-layout


def set_theme(page: Any, name: str) -> None:
    """Switch JupyterLab's theme (``"JupyterLab Light"`` / ``"JupyterLab Dark"``) and wait."""
    light = "false" if "Dark" in name else "true"
    page.evaluate("(theme) => window.jupyterapp.commands.execute('apputils:change-theme', "
                  "{theme})", name)
    page.wait_for_function("(light) => document.body.dataset.jpThemeLight === light",
                           arg=light, timeout=20_000)
    page.wait_for_timeout(800)  # the theme's CSS, then the figures' redraw


# Every plotly figure of the open notebook, scrolled into view one by one: is it drawn inside
# its slot and does it fill it; do its titles, subplot titles or tick labels overlap or stick
# out; and is its title readable on the notebook's background (contrast ratio).
_FIT_JS = r"""async ({selector, settle}) => {
  const area = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)') || document;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const rgb = (c) => { // any CSS colour -> [r, g, b(, a)]
    const e = document.createElement('i');
    e.style.color = c;
    document.body.append(e);
    const v = getComputedStyle(e).color;
    e.remove();
    return (v.match(/[\d.]+/g) || []).map(Number);
  };
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.5)) return c;
    }
    return [255, 255, 255];
  };
  const meet = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 &&
                         a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const out = [];
  const figs = Array.from(area.querySelectorAll(selector));
  for (const [i, gd] of figs.entries()) {
    gd.scrollIntoView({ block: 'center' });
    await sleep(settle);
    const name = gd.dataset.fig || `figure ${i}`;
    const where = gd.closest('.jp-Cell');
    const cell = where ? Array.from(area.querySelectorAll('.jp-Cell')).indexOf(where) : -1;
    const label = `cell ${cell} ${name}`;
    const svg = gd.querySelector('.main-svg');
    if (!svg) { out.push(`${label}: not drawn`); continue; }
    const slot = gd.getBoundingClientRect();
    const drawn = svg.getBoundingClientRect();
    const row = { label, slot: Math.round(slot.width), drawn: Math.round(drawn.width) };
    if (slot.width < 50) out.push(`${label}: slot only ${slot.width} px wide`);
    if (drawn.width > slot.width + 1) {
      out.push(`${label}: drawn ${row.drawn} px in a ${row.slot} px slot`);
    }
    // fill the slot, unless a notebook's own figure asked for a width (that still fits)
    const ownWidth = !gd.classList.contains('rnnviz-fig') && gd.layout && gd.layout.width;
    if (drawn.width < 0.9 * slot.width && !ownWidth) {
      out.push(`${label}: drawn ${row.drawn} px fills < 90% of ${row.slot} px`);
    }
    const texts = Array.from(gd.querySelectorAll('.g-gtitle text, .annotation-text'))
        .filter((t) => t.textContent.trim());
    const boxes = texts.map((t) => [t.textContent.trim().slice(0, 40), t.getBoundingClientRect()]);
    for (const [text, b] of boxes) {
      if (b.left < drawn.left - 1 || b.right > drawn.right + 1) {
        const [x0, x1] = [b.left - drawn.left, b.right - drawn.left].map(Math.round);
        out.push(`${label}: "${text}" sticks out of the figure (${x0}..${x1} of ${row.drawn} px)`);
      }
    }
    for (let a = 0; a < boxes.length; a++) {
      for (let b = a + 1; b < boxes.length; b++) {
        if (meet(boxes[a][1], boxes[b][1])) out.push(`${label}: "${boxes[a][0]}" overlaps "${boxes[b][0]}"`);
      }
    }
    for (const layer of gd.querySelectorAll('.xaxislayer-above, .yaxislayer-above')) {
      const ticks = Array.from(layer.querySelectorAll('text')).filter((t) => t.textContent.trim())
          .map((t) => [t.textContent, t.getBoundingClientRect()]).filter(([, r]) => r.width > 0);
      for (let a = 0; a < ticks.length; a++) {
        for (let b = a + 1; b < ticks.length; b++) {
          if (meet(ticks[a][1], ticks[b][1])) {
            out.push(`${label}: tick labels "${ticks[a][0]}" and "${ticks[b][0]}" overlap`);
            a = ticks.length;
            break;
          }
        }
      }
    }
    const title = gd.querySelector('.g-gtitle text') || texts[0];
    if (title) {
      const paper = rgb((gd._fullLayout || {}).paper_bgcolor || '');
      const opaque = paper.length >= 3 && (paper.length < 4 || paper[3] > 0.5);
      const fg = rgb(getComputedStyle(title).fill), bg = opaque ? paper : background(gd);
      const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (hi + 0.05) / (lo + 0.05);
      if (ratio < 3) out.push(`${label}: title contrast ${ratio.toFixed(2)} (fill ${fg}, background ${bg})`);
    }
  }
  const bad = out.length ? figs.find((gd, i) => out[0].includes(gd.dataset.fig || `figure ${i}`))
      : null;
  if (bad) bad.scrollIntoView({ block: 'center' }); // for the screenshot of a failure
  return { problems: out, figures: figs.length };
}"""


def figure_fit_problems(page: Any, selector: str = ".js-plotly-plot", settle: int = 200) -> dict:
    """Scroll to every plotly figure of the open notebook and list what does not fit:
    ``{"problems": [...], "figures": n}`` (see ``_FIT_JS``)."""
    return page.evaluate(_FIT_JS, {"selector": selector, "settle": settle})


def run_notebook_in_lab(
    server: LabServer,
    browser: Any,
    path: str | os.PathLike,
    *,
    timeout: float = 120.0,
    screenshot: bool = True,
) -> NotebookRun:
    """Open ``path`` in JupyterLab, run all cells, wait for idle, count what rendered.

    The returned run keeps its page open for more interaction; close it with
    ``run.page.close()`` (the browser fixture closes everything at the end anyway).
    """
    start = time.monotonic()
    name = server.add_notebook(path)
    page, errors = open_notebook(server, browser, name)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_timeout(300)
    wait_for_kernel_idle(page, timeout=timeout)
    page.wait_for_timeout(500)  # let widget views and figures finish their first render
    run = NotebookRun(name=name, page=page, console_errors=errors)
    counts = page.evaluate(_COUNTS_JS)
    run.figures = counts["figures"]
    run.widgets = counts["widgets"]
    run.widget_errors = counts["widgetErrors"]
    run.error_outputs = counts["errorOutputs"]
    run.seconds = time.monotonic() - start
    if screenshot:
        run.screenshot("after-run-all")
    return run
