"""What ``bench_dashboard`` runs: its configurations (notebook setup and goals) and, in the
kernel, the naive FigureWidget loop it is compared with.

A configuration is a :class:`Config` in :data:`CONFIGS`: setup code that defines ``trainer``
and ``dash`` (any model the dashboard shows), the goals its measures are checked against,
and whether the naive loop runs too (it draws an LSTM's gates).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

# Kernel code shared by every configuration: counts what the dashboard sends (all frames,
# and those that carry the views: a frame between two traces carries only the curves).
COUNT_SENT = """
import json as _json
_send, sent = dash.send, {"frames": 0, "bytes": 0, "view_frames": 0, "view_bytes": 0}
def _counting_send(content, buffers=None):
    if content.get("type") == "frame":
        n = sum(len(b) for b in buffers or ()) + len(_json.dumps(content))
        sent["frames"] += 1
        sent["bytes"] += n
        if "readout" in content:
            sent["view_frames"] += 1
            sent["view_bytes"] += n
    return _send(content, buffers=buffers)
dash.send = _counting_send
"""

LSTM_ECHO = """\
import time, torch, rnnviz
torch.set_num_threads(THREADS)
task = rnnviz.tasks.Echo(delay=2, seq_len={T}, seed=0)
model = rnnviz.SequenceModel.from_task(task, cell="lstm", hidden_size={H}, seed=0)
trainer = rnnviz.Trainer(model, task, lr=1e-2, batch_size=32, seed=0)
dash = rnnviz.dashboard(trainer, views={views}{fps})
"""


SEQ2SEQ = """\
import time, torch, rnnviz
torch.set_num_threads(THREADS)
task = rnnviz.tasks.Reverse(num_symbols=8, min_len=1, max_len=8, seed=0)
model = rnnviz.Seq2Seq.from_task(task, cell="gru", hidden_size=32, seed=0, attention="additive")
trainer = rnnviz.Trainer(model, task, lr=1e-2, batch_size=64, seed=0)
dash = rnnviz.dashboard(trainer)
"""


@dataclass
class Config:
    """One benchmark configuration: the notebook's setup code and the goals to check.

    ``setup`` must define ``trainer`` and ``dash`` (``THREADS`` is replaced by the torch
    thread count); ``naive`` adds the naive FigureWidget loop (LSTM only: it draws i f g o).
    """

    label: str
    setup: str
    goals: dict[str, tuple[str, Any]] = field(default_factory=dict)
    naive: bool = True


def lstm_echo(hidden: int, seq_len: int, views: tuple[str, ...], fps: int | None) -> str:
    return LSTM_ECHO.format(H=hidden, T=seq_len, views=views,
                            fps="" if fps is None else f", fps={fps}")


FPS, LAG, RATIO, LAST = ("dashboard frames/s", "lag after pause, s",
                         "throughput ratio (dashboard / headless)",
                         "last frame shows the final step")
FULL, BYTES, AHEAD = ("full plotly redraws/s", "bytes per frame with views",
                      "dashboard frames / naive renders")
VIEWS = ("hidden", "gates", "grad_flow")

# The goals of issue #9 (section 4). Every configuration: LSTM on Echo, batch 32.
CONFIGS: dict[str, Config] = {
    "h32": Config(
        "LSTM H=32 T=50, hidden + gates + grad flow, default frame cap",
        lstm_echo(32, 50, VIEWS, None),
        {FPS: (">= 30", lambda v: v >= 30), RATIO: (">= 0.6", lambda v: v >= 0.6),
         LAG: ("<= 0.2", lambda v: v <= 0.2), LAST: ("1 (yes)", lambda v: v == 1),
         AHEAD: (">= 3", lambda v: v >= 3)}),
    "h32-cap60": Config(
        "LSTM H=32 T=50, hidden + gates + grad flow, fps=60",
        lstm_echo(32, 50, VIEWS, 60),
        {FPS: (">= 40", lambda v: v >= 40), FULL: ("<= 0.5", lambda v: v <= 0.5),
         LAST: ("1 (yes)", lambda v: v == 1)},
        naive=False),
    "h128": Config(
        "LSTM H=128 T=100, hidden + gates + grad flow + unrolled, fps=60",
        lstm_echo(128, 100, (*VIEWS, "unrolled"), 60),
        {FPS: (">= 24", lambda v: v >= 24), RATIO: (">= 0.5", lambda v: v >= 0.5),
         BYTES: ("<= 150 KB", lambda v: v <= 150e3), FULL: ("<= 0.5", lambda v: v <= 0.5),
         LAST: ("1 (yes)", lambda v: v == 1), AHEAD: (">= 3", lambda v: v >= 3)}),
    # lesson 12's encoder-decoder with attention, its own view (encoder and decoder states,
    # context, words, alignment); no naive loop (it draws the LSTM's gates)
    "seq2seq": Config(
        "Seq2Seq GRU H=32 with additive attention, Reverse (up to 8 letters), default cap",
        SEQ2SEQ,
        {FPS: (">= 30", lambda v: v >= 30), RATIO: (">= 0.6", lambda v: v >= 0.6),
         LAG: ("<= 0.2", lambda v: v <= 0.2), LAST: ("1 (yes)", lambda v: v == 1)},
        naive=False),
}

NAIVE_SETUP = """\
from benchmarks.dashboard_configs import naive_figures
naive = naive_figures(trainer)
import ipywidgets
ipywidgets.VBox(naive)"""


# ----------------------------------------------------------------------------- kernel side


def naive_figures(trainer: Any) -> list:
    """Four FigureWidgets (loss, hidden, gates, grad flow): the obvious way to animate."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    import rnnviz

    x, y, lengths = trainer.probe
    tr = rnnviz.trace(trainer.model, x, y, lengths=lengths)
    H, T = tr.hidden_size, tr.seq_len
    loss = go.FigureWidget(go.Scatter(x=[], y=[], mode="lines"), layout={"height": 250})
    hidden = go.FigureWidget(go.Heatmap(z=[[0] * T] * H, colorscale="RdBu_r", zmin=-1, zmax=1),
                             layout={"height": 300})
    gates = go.FigureWidget(make_subplots(rows=1, cols=4))
    for k in range(4):
        gates.add_trace(go.Heatmap(z=[[0] * T] * H, zmin=0, zmax=1, showscale=False),
                        row=1, col=k + 1)
    gates.update_layout(height=300)
    grad = go.FigureWidget(go.Scatter(x=list(range(T)), y=[1] * T), layout={
        "height": 250, "yaxis": {"type": "log"}})
    return [loss, hidden, gates, grad]


def naive_loop(trainer: Any, figs: list, seconds: float) -> dict:
    """Step, trace, assign every array to its FigureWidget; no pacing at all."""
    import rnnviz

    loss, hidden, gates, grad = figs
    x, y, lengths = trainer.probe
    start = time.perf_counter()
    steps = 0
    while time.perf_counter() - start < seconds:
        trainer.step()
        steps += 1
        tr = rnnviz.trace(trainer.model, x, y, lengths=lengths)
        h = trainer.history
        loss.data[0].x, loss.data[0].y = h.step, h.loss
        hidden.data[0].z = tr.hidden[-1, 0].T.numpy().round(3)
        for k, g in enumerate("ifgo"):
            gates.data[k].z = tr.gates[g][-1, 0].T.numpy().round(3)
        grad.data[0].y = tr.grad_hidden[-1].norm(dim=-1).mean(0).numpy()
    return {"steps": steps, "seconds": time.perf_counter() - start}
