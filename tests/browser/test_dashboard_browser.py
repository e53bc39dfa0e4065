"""The dashboard in a real JupyterLab and Chromium: it renders, plays, pauses and stops."""

from __future__ import annotations

from pathlib import Path

from tests.browser.lab import VIEWPORT, figure_fit_problems, run_code, set_left_sidebar, wait_for

NOTEBOOK = Path(__file__).parent / "notebooks" / "dashboard.ipynb"
LONG = Path(__file__).parent / "notebooks" / "dashboard_long.ipynb"
_X_RANGE_JS = """() => document.querySelector('.rnnviz-fig[data-fig="history"]')
    ._fullLayout.xaxis.range.slice()"""
DASH = ".rnnviz-dashboard"
# history + hidden + gates + grad_flow + unrolled
FIGURES = 5


def _frames(page) -> int:
    return int(page.get_attribute(DASH, "data-frames") or 0)



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

# How two PNG screenshots differ, decoded by the browser itself: the share of pixels of A
# with no pixel of nearly the same colour in B within one pixel (so a cell edge or a curve
# rounded to the neighbouring pixel row does not count, a wrong or missing mark does).
_DIFF_JS = """async ([a, b]) => {
  const load = async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bmp = await createImageBitmap(new Blob([bytes], {type: 'image/png'}));
    const ctx = new OffscreenCanvas(bmp.width, bmp.height).getContext('2d');
    ctx.drawImage(bmp, 0, 0);
    return ctx.getImageData(0, 0, bmp.width, bmp.height);
  };
  const [A, B] = [await load(a), await load(b)];
  if (A.width !== B.width || A.height !== B.height) return {same_size: false};
  const W = A.width, H = A.height, p = A.data, q = B.data;
  let off = 0, exact = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = 4 * (y * W + x);
      let best = 255;
      for (let dy = -1; dy <= 1 && best > 48; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy, xx = x + dx;
          if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
          const j = 4 * (yy * W + xx);
          const d = Math.max(Math.abs(p[i] - q[j]), Math.abs(p[i + 1] - q[j + 1]),
                             Math.abs(p[i + 2] - q[j + 2]));
          if (d < best) best = d;
          if (dx === 0 && dy === 0 && d > 48) exact += 1;
        }
      }
      if (best > 48) off += 1;
    }
  }
  return {same_size: true, off: off / (W * H), exact: exact / (W * H)};
}"""

# Redraw every figure with plotly itself (this drops the dashboard's canvas overlays).
_PLOTLY_REDRAW_JS = """async () => {
  for (const gd of document.querySelectorAll('.rnnviz-fig.js-plotly-plot')) {
    await window.Plotly.redraw(gd);
  }
  return document.querySelectorAll('.rnnviz-overlay').length;
}"""


def _check_fast_paint_matches_plotly(run) -> None:
    """Frames are painted on canvas overlays (curves, heatmaps, the time cursor), or on a
    canvas in place of plotly's heatmap image: the picture must be the one plotly draws from
    the same data (heatmaps sent as colour codes: the same colours)."""
    import base64

    page = run.page
    figs = page.locator(".rnnviz-fig")
    names = [figs.nth(i).get_attribute("data-fig") for i in range(figs.count())]
    overlays = {n: page.locator(f'.rnnviz-fig[data-fig="{n}"] .rnnviz-overlay').count()
                for n in names}
    # the unrolled network's cells are painted in place, under its boxes and arrows
    assert all(overlays.values()), f"a figure was not painted on overlays: {overlays}"
    assert page.locator('.rnnviz-fig[data-fig="unrolled"] foreignObject.rnnviz-in-place'
                        ' canvas').count() == 1
    assert int(page.get_attribute(DASH, "data-fast-paints")) > 0
    fast = [figs.nth(i).screenshot() for i in range(len(names))]
    assert page.evaluate(_PLOTLY_REDRAW_JS) == 0  # plotly's own drawing now
    page.wait_for_timeout(300)
    for i, name in enumerate(names):
        slow = figs.nth(i).screenshot()
        diff = page.evaluate(_DIFF_JS, [base64.b64encode(fast[i]).decode(),
                                        base64.b64encode(slow).decode()])
        # heatmaps and the cursor match pixel for pixel; long curves differ by plotly's line
        # simplification (it merges nearly collinear points, moving them by a fraction of a
        # pixel), while a missing or misplaced curve differs in about 1 % of the pixels
        assert diff["same_size"] and diff["off"] < (0.003 if name == "history" else 0.0005), (
            name, diff)


def test_dashboard_renders_plays_and_pauses(run_notebook_in_lab) -> None:
    run = run_notebook_in_lab(NOTEBOOK)
    page = run.page
    assert not run.problems(), "\n".join(run.problems())
    assert run.figures == FIGURES, f"expected {FIGURES} plotly figures, got {run.figures}"
    assert page.locator(DASH).count() == 1 and run.widgets == 1
    # trainer.run(5) in a later cell: the dashboard shows it when that cell ends
    wait_for(page, lambda: page.get_attribute(DASH, "data-step") == "5", 20,
              "the dashboard to show step 5 after trainer.run(5)")
    status = page.inner_text(".rnnviz-status")
    assert status.startswith("paused · step 5 ·"), status

    # 1. play: frames arrive and training moves on
    page.evaluate(_WATCH_ERRORS_JS)
    start = _frames(page)
    page.click(".rnnviz-play")
    wait_for(page, lambda: _frames(page) >= start + 5, 60, "5 frames while training")
    # the README's picture: the whole dashboard at the projector's width (a taller viewport
    # only for the screenshot; widths, and so the layout, stay those of 1280 x 720)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 3000})
    page.wait_for_timeout(300)
    run.screenshot("training", DASH)
    page.set_viewport_size(VIEWPORT)
    assert "training" in page.inner_text(".rnnviz-status")
    assert int(page.get_attribute(DASH, "data-step")) > 5

    # 1b. a cell trains and inspects the model while the dashboard trains (widget messages
    #     run on a kernel subshell thread, cells on the main thread: they must take turns)
    for _ in range(3):
        out = run_code(page, "n = trainer.steps; trainer.run(10, progress=False); "
                             "print(trainer.steps - n >= 10, trainer.state)")
        assert out.strip() == "True ready", out
    wait_for(page, lambda: _frames(page) >= start + 10, 60, "frames after the cells")

    # 2. the time cursor and one time step
    page.evaluate("() => { const s = document.querySelector('.rnnviz-t'); s.value = '3';"
                  " s.dispatchEvent(new Event('input')); }")
    page.click(".rnnviz-tstep")
    wait_for(page, lambda: page.inner_text(".rnnviz-tvalue").startswith("4 /"), 10,
              "the time cursor at t = 4")
    assert page.inner_text(".rnnviz-readout").startswith("t = 4: input")

    # 3. pause: updates stop within 0.5 s and nothing arrives after that
    page.click(".rnnviz-play")
    page.wait_for_timeout(500)
    wait_for(page, lambda: page.get_attribute(DASH, "data-status") == "paused", 10,
              "the status to say paused")
    stopped = _frames(page)
    step = page.get_attribute(DASH, "data-step")
    page.wait_for_timeout(2000)
    assert _frames(page) == stopped, "frames kept arriving after pause"
    assert page.get_attribute(DASH, "data-step") == step
    run.screenshot("paused", DASH)

    # 4. one batch (twice: the first may move a colour range, which plotly redraws), then reset
    for k in (1, 2):
        page.click(".rnnviz-step")
        wait_for(page, lambda k=k: page.get_attribute(DASH, "data-step") == str(int(step) + k),
                  20, "one more step after +1 batch")
        page.wait_for_timeout(1300)  # any redraw plotly still owes (colour bars: within 1 s)
    _check_fast_paint_matches_plotly(run)
    grown = page.evaluate(_X_RANGE_JS)
    page.click(".rnnviz-reset")
    wait_for(page, lambda: page.get_attribute(DASH, "data-step") == "0", 20,
              "step 0 after reset")
    assert page.inner_text(".rnnviz-status").startswith("ready · step 0")
    # every axis starts again from the new run (not the old run's steps)
    page.wait_for_timeout(300)
    fresh = page.evaluate(_X_RANGE_JS)
    assert fresh[1] < grown[1] and fresh[1] <= 100, (grown, fresh)  # 100: the least span

    # 5. the layout follows the slot: sidebar collapsed and open again, every figure fits
    for sidebar in (False, True):
        set_left_sidebar(page, sidebar)
        fit = figure_fit_problems(page, ".rnnviz-fig")
        assert fit["figures"] == FIGURES and not fit["problems"], fit
    # ... and the narrowest slot promised: ~350 px (>= 320), subplots stacked, titles wrapped
    set_left_sidebar(page, False)
    page.set_viewport_size({"width": 480, "height": 720})
    page.wait_for_timeout(800)
    widths = page.evaluate("() => Array.from(document.querySelectorAll('.rnnviz-fig'))"
                           ".map((d) => d.getBoundingClientRect().width)")
    assert all(320 <= w <= 400 for w in widths), widths
    fit = figure_fit_problems(page, ".rnnviz-fig")
    assert fit["figures"] == FIGURES and not fit["problems"], fit
    page.set_viewport_size({"width": 480, "height": 4000})  # the whole stacked dashboard
    page.wait_for_timeout(500)
    run.screenshot("narrow-slot", DASH)
    page.set_viewport_size(VIEWPORT)
    set_left_sidebar(page, True)
    assert not run.console_errors, "\n".join(run.console_errors)
    errors = page.evaluate("() => window.__kernelErrors")
    assert not errors, "kernel errors while the dashboard ran:\n" + "\n".join(errors)


def test_long_sequences_and_views_that_do_not_apply(run_notebook_in_lab) -> None:
    """An Elman RNN at T = 100: "gates" does not apply (the status line says why), the lone
    hidden-state view takes the full width, and every figure (the unrolled network of 100
    steps too) fits its slot without overlapping titles or tick labels."""
    run = run_notebook_in_lab(LONG)
    page = run.page
    assert not run.problems(), "\n".join(run.problems())
    assert page.locator(".rnnviz-fig").count() == 3  # history, hidden, unrolled
    note = page.inner_text(".rnnviz-note")
    assert "no gates view" in note and "Elman" in note, note
    grid = page.locator(".rnnviz-grid").bounding_box()
    hidden = page.locator('.rnnviz-fig[data-fig="hidden"]').bounding_box()
    assert hidden["width"] >= 0.98 * grid["width"], (hidden, grid)  # alone: the full row
    for sidebar in (True, False):
        set_left_sidebar(page, sidebar)
        fit = figure_fit_problems(page, ".rnnviz-fig")
        assert fit["figures"] == 3 and not fit["problems"], fit
    set_left_sidebar(page, True)
    page.locator('.rnnviz-fig[data-fig="unrolled"]').scroll_into_view_if_needed()
    run.screenshot("unrolled-T100", '.rnnviz-fig[data-fig="unrolled"]')


def test_a_seq2seq_trainer_trains_live(run_notebook_in_lab) -> None:
    """A Seq2Seq with attention: its view (encoder, context, decoder, alignment) is drawn,
    fits its slot, trains live, and the readout speaks of the decoder's steps."""
    run = run_notebook_in_lab(Path(__file__).parent / "notebooks" / "dashboard_seq2seq.ipynb")
    page = run.page
    assert not run.problems(), "\n".join(run.problems())
    assert page.locator(".rnnviz-fig").count() == 2  # history, seq2seq
    assert page.inner_text(".rnnviz-title").startswith("Seq2Seq GRU + dot attention")
    wait_for(page, lambda: page.get_attribute(DASH, "data-step") == "3", 20, "step 3")
    page.evaluate(_WATCH_ERRORS_JS)
    start = _frames(page)
    page.click(".rnnviz-play")
    wait_for(page, lambda: _frames(page) >= start + 5, 60, "5 frames while training")
    page.click(".rnnviz-play")
    wait_for(page, lambda: page.get_attribute(DASH, "data-status") == "paused", 10,
              "the status to say paused")
    page.wait_for_timeout(600)
    assert page.inner_text(".rnnviz-status").startswith("paused · step ")
    assert page.inner_text(".rnnviz-readout").startswith("t = 0: source ")
    assert "reads <go>" in page.inner_text(".rnnviz-readout")
    for sidebar in (False, True):
        set_left_sidebar(page, sidebar)
        fit = figure_fit_problems(page, ".rnnviz-fig")
        assert fit["figures"] == 2 and not fit["problems"], fit
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 2000})
    page.wait_for_timeout(300)
    run.screenshot("seq2seq", DASH)
    page.set_viewport_size(VIEWPORT)
    assert not run.console_errors, "\n".join(run.console_errors)
    errors = page.evaluate("() => window.__kernelErrors")
    assert not errors, "kernel errors while the dashboard ran:\n" + "\n".join(errors)


# Every control of the dashboard's own HTML whose text does not fit its box, or that runs
# out of the dashboard.
_CONTROLS_FIT_JS = """() => {
  const root = document.querySelector('.rnnviz-dashboard').getBoundingClientRect();
  const out = [];
  for (const e of document.querySelectorAll(
      '.rnnviz-dashboard button, .rnnviz-dashboard select, .rnnviz-group > span, '
      + '.rnnviz-title, .rnnviz-status, .rnnviz-readout')) {
    const r = e.getBoundingClientRect();
    if (e.scrollWidth > e.clientWidth + 1) out.push(`${e.className}: text wider than its box`);
    if (r.right > root.right + 1 || r.left < root.left - 1) out.push(`${e.className}: outside`);
  }
  return out;
}"""
_CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"


def test_the_dashboard_speaks_russian(run_notebook_in_lab) -> None:
    """rnnviz.set_language("ru"): the buttons, labels, tooltips, status line, readout and
    every figure's title are Russian, and nothing overflows its box, with the sidebar open
    or closed."""
    run = run_notebook_in_lab(Path(__file__).parent / "notebooks" / "dashboard_ru.ipynb")
    page = run.page
    assert not run.problems(), "\n".join(run.problems())
    wait_for(page, lambda: page.get_attribute(DASH, "data-step") == "3", 20, "step 3")
    page.wait_for_timeout(600)
    assert page.inner_text(".rnnviz-status").startswith("пауза · шаг 3 · потери "), \
        page.inner_text(".rnnviz-status")
    assert page.inner_text(".rnnviz-play") == "▶ пуск"
    assert page.inner_text(".rnnviz-reset") == "↺ сброс"
    assert page.get_attribute(".rnnviz-step", "title") == "Обучить на одном батче"
    assert "задача echo" in page.inner_text(".rnnviz-title")
    assert page.inner_text(".rnnviz-readout").startswith("t = 0: вход ")
    titles = page.evaluate("""() => Array.from(document.querySelectorAll('.rnnviz-fig'))
        .map(d => d._fullLayout.title.text)""")
    assert len(titles) == FIGURES and all(any(ch in _CYRILLIC for ch in t) for t in titles), titles
    for sidebar in (True, False):
        set_left_sidebar(page, sidebar)
        fit = figure_fit_problems(page, ".rnnviz-fig")
        assert fit["figures"] == FIGURES and not fit["problems"], fit
        assert page.evaluate(_CONTROLS_FIT_JS) == []
    set_left_sidebar(page, True)
    page.locator(DASH).scroll_into_view_if_needed()
    run.screenshot("russian", DASH)
    assert not run.console_errors, "\n".join(run.console_errors)
