"""Regenerate the README's screenshots of every view from a real trained LSTM.

Usage: ``.venv/bin/python -m tests.browser.readme_screenshots`` (writes assets/screenshots/);
``... readme_screenshots --projector`` makes only the projector screenshots.
The dashboard screenshot comes from the browser test (artifacts/screenshots/dashboard-training.png).
The projector screenshots (1280 x 720, JupyterLab's file browser open) of the live dashboards
of lessons 02, 07 and 12 are made here: Run All in a real JupyterLab, then a few training
steps (``live.run(n)`` in the kernel, as a later cell would), then the dashboard's top
(``projector_NN.png``) and its views (``projector_NN_views.png``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import rnnviz
from rnnviz import tasks
from tests.browser.lab import (
    ROOT,
    SCREENSHOTS,
    LabServer,
    figure_fit_problems,
    launch_chromium,
    run_code,
    run_notebook_in_lab,
    set_left_sidebar,
)

OUT = ROOT / "assets" / "screenshots"
WIDTH = {"attention": 900}  # viewport width where it is not 1200 px


def figures() -> dict[str, object]:
    task = tasks.Echo(delay=2, seq_len=12, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell="lstm", hidden_size=16, seed=0)
    trainer = rnnviz.Trainer(model, task, lr=1e-2, batch_size=32, seed=0, snapshot_every=25)
    trainer.run(150, progress=False)
    tr = rnnviz.trace(model, trainer.probe.x, trainer.probe.y)
    x = trainer.probe.x
    elman = rnnviz.SequenceModel.from_task(task, cell="elman", hidden_size=16, seed=0)
    text = task.decode(x[0])  # the probe sequence, one character per step
    return {
        "unrolled": rnnviz.plot_unrolled(tr, step=5),
        "unrolled_backward": rnnviz.plot_unrolled(tr, backward=True),
        "hidden": rnnviz.plot_hidden(tr),
        "gates": rnnviz.plot_gates(tr),
        "gate_saturation": rnnviz.plot_gate_saturation(tr),
        "grad_flow": rnnviz.plot_grad_flow(tr),
        "jacobian": rnnviz.plot_jacobian(
            {"LSTM": rnnviz.jacobian_norms(model.core, model.encode(x)),
             "Elman": rnnviz.jacobian_norms(elman.core, elman.encode(x))}
        ),
        "history": rnnviz.plot_history(trainer),
        "text_activation": rnnviz.plot_text_activation(
            text, tr.hidden[0, 0, :, 0].tolist(), unit_name="LSTM unit 0"
        ),
        "task_shapes": rnnviz.plot_task_shapes(),
        "attention": attention_figure(),
        **cell_figures(tr),
    }


def cell_figures(tr) -> dict[str, object]:
    """plot_cell of the trained LSTM and of a GRU trained the same way; connectivity of an
    LSTM trained on the tiny corpus (next character), with its text."""
    task = tasks.Echo(delay=2, seq_len=12, seed=0)
    gru = rnnviz.SequenceModel.from_task(task, cell="gru", hidden_size=16, seed=0)
    trainer = rnnviz.Trainer(gru, task, lr=1e-2, batch_size=32, seed=0, snapshot_every=0)
    trainer.run(150, progress=False)
    tr_gru = rnnviz.trace(gru, trainer.probe.x, trainer.probe.y)
    text_task = tasks.CharText(seq_len=32, seed=0)
    lm = rnnviz.SequenceModel.from_task(text_task, cell="lstm", hidden_size=32, seed=0)
    rnnviz.Trainer(lm, text_task, lr=1e-2, batch_size=32, seed=0, snapshot_every=0).run(
        150, progress=False)
    x = text_task.batch(1, seed=3).x
    return {
        "cell_lstm": rnnviz.plot_cell(tr, 5, theme="light"),
        "cell_gru": rnnviz.plot_cell(tr_gru, 5, unit=3, theme="light"),
        "connectivity": rnnviz.plot_connectivity(rnnviz.connectivity(lm, x),
                                                 text=text_task.decode(x[0]), theme="light"),
    }


def attention_figure() -> object:
    """A GRU encoder-decoder with additive attention, 300 steps on Reverse: the alignment."""
    task = tasks.Reverse(num_symbols=8, min_len=1, max_len=8, seed=0)
    model = rnnviz.Seq2Seq.from_task(task, cell="gru", hidden_size=32, seed=0,
                                     attention="additive")
    rnnviz.Trainer(model, task, lr=1e-2, batch_size=64, seed=0, snapshot_every=0).run(
        300, progress=False)
    test = task.batch(8, seed=1)
    tr = model.translate(test.x, test.lengths, target=test.y)
    return rnnviz.plot_seq2seq(tr, sample=int((test.lengths - 1).argmax()), theme="light")


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1200, "height": 700})
        for name, fig in figures().items():
            width = WIDTH.get(name, int(fig.layout.width or 1160) + 40)
            page.set_viewport_size({"width": width, "height": 700})
            html = rnnviz.export_html(fig, Path(tmp) / f"{name}.html")
            page.goto(html.as_uri())
            page.wait_for_selector(".main-svg")
            page.wait_for_timeout(300)
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
            print("wrote", OUT / f"{name}.png")
        browser.close()
    live = SCREENSHOTS / "dashboard-training.png"
    if live.exists():
        shutil.copy(live, OUT / "dashboard.png")
        print("copied", live)


# lesson -> (its live trainer's name in the notebook, training steps before the screenshot);
# the dashboard shown is the lesson's last one (lesson 12's Seq2Seq)
PROJECTOR = {"02_elman_rnn": ("live", 150), "07_cell_race": ("live", 300),
             "12_seq2seq": ("live", 200)}


def projector() -> None:
    """Projector screenshots of the lessons' live dashboards; prints any figure that does not
    fit its slot (the lesson browser test asserts that)."""
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with LabServer() as server, sync_playwright() as p:
        browser = launch_chromium(p)
        for stem, (name, steps) in PROJECTOR.items():
            run = run_notebook_in_lab(server, browser, ROOT / "lessons" / f"{stem}.ipynb",
                                      timeout=300, screenshot=False)
            page = run.page
            assert not run.problems(), run.problems()
            out = run_code(page, f"{name}.run({steps}, progress=False)")
            assert "ERROR" not in out, out
            dash = page.locator(".rnnviz-dashboard").last
            page.wait_for_function(
                "([el, n]) => el.querySelector('.rnnviz-status').textContent.includes(`step ${n}`)",
                arg=[dash.element_handle(), steps], timeout=60_000)
            set_left_sidebar(page, True)
            page.wait_for_timeout(1500)  # the last frame drawn
            fit = figure_fit_problems(page, ".rnnviz-fig")
            print(stem, "figures:", fit["figures"], "problems:", fit["problems"] or "none")
            dash.evaluate("(e) => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(600)
            page.screenshot(path=str(OUT / f"projector_{stem[:2]}.png"))
            views = dash.locator(".rnnviz-fig").nth(1)  # the first view after the history
            views.evaluate("(e) => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(600)
            page.screenshot(path=str(OUT / f"projector_{stem[:2]}_views.png"))
            print("wrote", OUT / f"projector_{stem[:2]}.png", "and _views.png")
            page.close()
            server.shutdown_kernels()
        browser.close()


if __name__ == "__main__":
    if "--projector" not in sys.argv[1:]:
        main()
    projector()
