"""The dashboard widget: one anywidget that draws every figure with plotly.js in the browser.

Kernel -> browser: the figures once (trait ``figures``, each with its narrow-slot variant),
then binary frames (custom messages ``{"type": "frame", "seq", "parts", "readout"}`` with
float32 buffers; the first frame after a reset also carries ``"reset": true``, and the browser
drops every grown axis range) paced by the browser's acks (see ``_loop.FramePacer``).
plotly.js comes from the installed plotly package, once per page, on request (no network).
Browser -> kernel: ``{"type": "drawn", "seq"}`` acks, ``"hello"`` (a new view wants a
frame), ``"plotly.js?"``, ``"step"`` (one batch), ``"reset"``; and trait changes (play,
speed, learning rate, clipping, time cursor, sample).
"""

from __future__ import annotations

import contextlib
import time
import weakref
from collections import deque
from pathlib import Path
from typing import Any

import anywidget
import traitlets as tl

from rnnviz.live import _figures as F
from rnnviz.live import _wire as W
from rnnviz.live._loop import FramePacer, TrainingLoop, _running_loop

_HERE = Path(__file__).parent
# While training at full speed the browser acks at most every ACK_INTERVAL s (the newest frame
# it drew). Every ack is a shell message, which ipykernel wraps in busy and idle status
# messages, and JupyterLab redraws its kernel indicators for each: at 10 acks/s that cost
# Chromium more than drawing the frames (benchmarks/README.md). WINDOW frames may be in
# flight, enough for the frames of one ack interval plus the round trip at the fps cap; the
# browser draws only the newest frame it has, so they never form a queue.
ACK_INTERVAL = 0.25
WINDOW = 10
STATUS_INTERVAL = 0.25  # seconds between status-trait syncs while playing (frames carry the rest)
_PLOTLY_JS: bytes | None = None
_LIVE: weakref.WeakSet[Dashboard] = weakref.WeakSet()
_HOOKED = False


def plotly_js() -> bytes:
    """plotly.min.js from the installed plotly package (read once)."""
    global _PLOTLY_JS
    if _PLOTLY_JS is None:
        import plotly

        _PLOTLY_JS = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    return _PLOTLY_JS


def _after_cell(*_args: Any) -> None:
    """After every cell: dashboards whose trainer moved (e.g. ``trainer.run(n)``) refresh."""
    for dash in list(_LIVE):
        dash._at_home(dash._refresh_if_changed)


def _hook_cells() -> None:
    global _HOOKED
    if _HOOKED:
        return
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is not None:
        ip.events.register("post_run_cell", _after_cell)
        _HOOKED = True


def for_the_controls(message: str) -> str:
    """The trainer's divergence message, reworded for a person at the dashboard's controls.

    The status line already says "diverged"; the banner says what happened and which control
    to use (the lr slider, the clip box, the ↺ reset button) instead of methods to call.
    """
    import re

    text = re.sub(r"^\s*training diverged\s*[:.,-]?\s*", "", message, flags=re.I)
    text = re.split(r"\.?\s*Lower the learning rate", text, maxsplit=1)[0].strip().rstrip(".")
    text = re.sub(r"diverg\w*", "blew up", text, flags=re.I)
    head = f"Training stopped: {text}. " if text else "Training stopped. "
    return head + "Lower the learning rate (lr) or tick clip, then press ↺ reset."


class Dashboard(anywidget.AnyWidget):
    """Live training dashboard; build it with :func:`rnnviz.dashboard`."""

    # one ES module: the painting helpers, then the widget that uses them
    _esm = "\n".join((_HERE / name).read_text(encoding="utf-8") for name in ("paint.js", "dashboard.js"))
    _css = _HERE / "dashboard.css"

    # controls (browser <-> kernel)
    playing = tl.Bool(False, help="Training runs in the background while True.").tag(sync=True)
    steps_per_frame = tl.Int(
        0, help="Slow motion: train this many steps per drawn frame; 0 = as fast as possible."
    ).tag(sync=True)
    lr = tl.Float(1e-2, help="Learning rate of the trainer's optimizer.").tag(sync=True)
    clip_enabled = tl.Bool(False, help="Clip the total gradient norm.").tag(sync=True)
    clip_value = tl.Float(1.0, help="Gradient-norm threshold when clipping.").tag(sync=True)
    t = tl.Int(0, help="Time cursor: the step t highlighted in every time axis.").tag(sync=True)
    sample = tl.Int(0, help="Which sequence of the probe batch the heatmaps show.").tag(
        sync=True)
    # status (kernel -> browser)
    status = tl.Unicode("ready", help="'ready', 'training', 'paused' or 'diverged'.").tag(
        sync=True)
    message = tl.Unicode("", help="Why training stopped (diverged / error), else ''.").tag(
        sync=True)
    note = tl.Unicode("", help="Requested views that do not apply to this model, and why.").tag(
        sync=True)
    step = tl.Int(0, help="Completed training steps.").tag(sync=True)
    loss = tl.Float(None, allow_none=True, help="Loss of the last step.").tag(sync=True)
    metric = tl.Float(None, allow_none=True, help="Metric of the last step.").tag(sync=True)
    metric_name = tl.Unicode("metric", help="Name of the task's metric.").tag(sync=True)
    steps_per_s = tl.Float(0.0, help="Training speed while playing.").tag(sync=True)
    # fixed at construction
    title = tl.Unicode("", help="Headline: model and task.").tag(sync=True)
    seq_len = tl.Int(1, help="T, the probe's number of time steps.").tag(sync=True)
    probe_size = tl.Int(1, help="Sequences in the probe batch.").tag(sync=True)
    views = tl.List(tl.Unicode(), help="Figures shown besides the history.").tag(sync=True)
    theme = tl.Unicode("auto", help="'auto', 'light' or 'dark'.").tag(sync=True)
    fps = tl.Int(23, help="At most this many frames per second.").tag(sync=True)
    figures = tl.Dict(help="Plotly JSON of every figure, sent once; frames update them.").tag(
        sync=True)
    figure_order = tl.List(tl.Unicode(), help="Names of the figures, top to bottom.").tag(
        sync=True)

    def __init__(self, trainer: Any, views: tuple[str, ...], *, fps: int, theme: str) -> None:
        self.trainer = trainer
        self._seq = 0
        self._frame_step = -1
        self._frame_state = ""
        self.frame_bytes = 0  # size of the last frame
        self.frame_ms = 0.0  # kernel time to build and send the last frame
        self.frame_ms_total = 0.0  # ... and of all frames (benchmarks divide by frames_sent)
        self.frame_ms_parts: dict[str, float] = {}  # the total split: status, trace, build, send
        self.latency: deque[tuple[float, float, float]] = deque(maxlen=200)  # to, in, from browser
        self.pacer = FramePacer(self._send_frame, fps=fps, max_in_flight=WINDOW)
        # 40 ms chunks: they end early whenever a frame is due, so in practice training
        # yields once per frame; a pause or an ack waits at most one chunk
        self.loop = TrainingLoop(trainer, self._on_chunk, self.pacer, budget=0.04)
        self.loop.on_stop = self._on_loop_stop
        core = trainer.model.core
        trace = F.probe_trace(trainer)
        shown = F.available_views(trace.cell_type, tuple(views))
        note = F.left_out_note(trace.cell_type, tuple(views))
        figures = F.build_figures(trainer, trace, shown, 0, theme)
        name = getattr(trainer.task, "name", type(trainer.task).__name__)
        super().__init__(
            lr=float(trainer.lr),
            clip_enabled=trainer.clip is not None,
            clip_value=float(trainer.clip) if trainer.clip is not None else 1.0,
            title=f"{trace.cell_type.upper()} · hidden {core.hidden_size} · "
            f"{core.num_layers} layer{'s' if core.num_layers > 1 else ''} · task {name}",
            seq_len=trace.seq_len,
            probe_size=trace.batch_size,
            views=list(shown),
            note=note,
            theme=theme,
            fps=int(fps),
            figures=figures,
            figure_order=list(figures),
            metric_name=str(getattr(trainer.task, "metric_name", "metric")),
        )
        self._baselines = figures["history"]["baselines"]
        self._trace, self._trace_step, self._trace_at, self._trace_cost = trace, trainer.steps, \
            0.0, 0.0
        self._frame_sample = 0
        self._force_views = True  # the next frame carries the views even if the trace is old
        self._status_at = -float("inf")  # when the status traits were last synced while playing
        self._home: Any = None  # the event loop that handles the browser's messages (see _at_home)
        self.trace_share = 0.25  # at most this share of the kernel's time traces the probe
        # colour ranges of the last frame (kept while they fit) and of the figures themselves
        self._bounds: dict = W.Bounds(figures)
        self._fresh_axes = False  # the next frame tells the browser to drop grown axis ranges
        self._sync_status()
        self.on_msg(self._on_message)
        _LIVE.add(self)
        _hook_cells()

    def __repr__(self) -> str:  # stable text/plain for nbval (no ids)
        return f"rnnviz dashboard ({self.title})"

    # ------------------------------------------------------------------ public
    def play(self) -> None:
        """Start training in the background (same as the ▶ button)."""
        self.playing = True

    def pause(self) -> None:
        """Stop training after the current step (same as the ❚❚ button)."""
        self.playing = False

    @property
    def running(self) -> bool:
        """Whether the background training task exists."""
        return self.loop.running

    def step_once(self) -> None:
        """Train one batch and show it."""
        self._at_home(self._step_once)

    def _step_once(self) -> None:
        if self.trainer.state == "diverged":
            self._sync_status()
            return
        self.trainer.step()
        self._sync_status()
        self.pacer.request(urgent=True)

    def reset(self) -> None:
        """Pause, reset the trainer (fresh weights and history) and show it."""
        self.playing = False
        self.loop.stop()  # at once, from any thread; the trainer's lock waits for its step
        self._at_home(self._reset)

    def _reset(self) -> None:
        self.trainer.reset()
        self._trace, self._trace_step, self._force_views = None, -1, True
        self._fresh_axes = True  # a new run: every axis starts again from its data
        self._bounds.clear()
        self.message = ""
        self._sync_status()
        self.pacer.request(urgent=True)

    def refresh(self) -> None:
        """Show the trainer's current state (sends a frame when the browser is ready)."""
        self._at_home(self._refresh)

    def _refresh(self) -> None:
        self._sync_status()
        self.pacer.request(urgent=True)

    # ------------------------------------------------------------------ threads
    # JupyterLab's ipykernel handles widget messages (buttons, acks) on a subshell thread with
    # its own event loop, while cells run on the main thread. Everything that touches the
    # pacer, the training task or the frames runs on that "home" loop; calls from a cell hop
    # over to it. Without a browser (nbclient, tests) there is one thread and calls are direct.
    def _at_home(self, fn: Any, *args: Any) -> None:
        home = self._home
        if home is None or home.is_closed() or _running_loop() is home:
            fn(*args)
        else:
            home.call_soon_threadsafe(fn, *args)

    def close(self) -> None:
        self.playing = False
        self.loop.stop()
        self.pacer.cancel()
        _LIVE.discard(self)
        super().close()

    # ------------------------------------------------------------------ observers
    @tl.observe("playing")
    def _on_playing(self, change: dict) -> None:
        if not change["new"]:
            self.loop.stop()  # at once, from any thread
        self._at_home(self._apply_playing, change)

    def _apply_playing(self, change: dict) -> None:
        if change["new"] != self.playing:  # superseded while hopping threads
            return
        if change["new"]:
            if self.trainer.state == "diverged":
                self.playing = False
                self._sync_status()
                return
            self.loop.steps_per_frame = self.steps_per_frame
            try:
                self.loop.start()
            except RuntimeError as err:
                self.playing = False
                self.message = str(err)
                raise
            self.status = "training"
        else:  # the loop was stopped at once, in _on_playing
            self._sync_status()
            self.pacer.request(urgent=True)

    @tl.observe("steps_per_frame")
    def _on_speed(self, change: dict) -> None:
        self.loop.steps_per_frame = max(0, int(change["new"]))

    @tl.observe("lr")
    def _on_lr(self, change: dict) -> None:
        try:
            self.trainer.lr = change["new"]
        except (TypeError, ValueError) as err:
            self.message = str(err)
            self.lr = change["old"]

    @tl.observe("clip_enabled", "clip_value")
    def _on_clip(self, change: dict) -> None:
        try:
            self.trainer.clip = self.clip_value if self.clip_enabled else None
        except (TypeError, ValueError) as err:
            self.message = str(err)
            self.set_trait(change["name"], change["old"])

    @tl.observe("sample")
    def _on_sample(self, change: dict) -> None:
        if not 0 <= change["new"] < self.probe_size:
            self.sample = change["old"]
            return
        self.pacer.request(urgent=True)

    @tl.validate("t")
    def _valid_t(self, proposal: dict) -> int:
        return int(min(max(proposal["value"], 0), self.seq_len - 1))

    # ------------------------------------------------------------------ messages
    def _on_message(self, _widget: Any, content: Any, buffers: Any) -> None:
        self._home = _running_loop() or self._home  # where the browser's messages arrive
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "drawn":
            self._note_latency(content)
            self.pacer.ack(content.get("seq"))
        elif kind == "hello":
            self.pacer.forget()  # a new view: do not wait for frames it never saw
            self._force_views = True
            self.pacer.request(urgent=True)
        elif kind == "plotly.js?":
            self.send({"type": "plotly.js"}, buffers=[plotly_js()])
        elif kind == "step":
            self._step_once()
        elif kind == "reset":
            self.reset()

    def _note_latency(self, ack: dict) -> None:
        """Diagnostics for benchmarks: one-way delays of the frame and of its ack (seconds)."""
        try:
            there, back = float(ack["arrived"]) - float(ack["sent"]), time.time() - float(ack["acked"])
        except (KeyError, TypeError, ValueError):
            return
        self.latency.append((there, float(ack.get("drawing", 0.0)), back))

    def _on_chunk(self, n: int) -> None:
        # The status traits go out with the frames (see _send_frame), not after every chunk:
        # chunks are short so that acks get through promptly, and each sync is a message.
        self.pacer.request()

    def _on_loop_stop(self, reason: str) -> None:
        if reason.startswith("error"):
            self.message = reason
        self.playing = False
        self._sync_status()
        self.pacer.request(urgent=True)

    def _refresh_if_changed(self) -> None:
        if self.trainer.steps != self._frame_step or self.trainer.state != self._frame_state:
            self.refresh()

    # ------------------------------------------------------------------ status and frames
    def _numbers(self) -> dict[str, Any]:
        """The numbers of the status line: step, loss, metric, steps_per_s."""
        h = self.trainer.history
        return {"step": int(self.trainer.steps),
                "loss": F.finite_or_none(h.loss[-1]) if len(h) else None,
                "metric": F.finite_or_none(h.metric[-1]) if len(h) else None,
                "steps_per_s": round(self.loop.steps_per_second(), 1) if self.loop.running
                else 0.0}

    def _sync_status(self) -> None:
        tr = self.trainer
        h = tr.history
        with self.hold_sync():
            for name, value in self._numbers().items():
                setattr(self, name, value)
            if tr.state == "diverged":
                self.status, self.message = "diverged", for_the_controls(tr.message)
            elif self.loop.running:
                self.status = "training"
            else:
                self.status = "paused" if len(h) else "ready"

    def _probe_trace(self) -> tuple[Any, bool]:
        """The trace to show and whether it is new since the last frame.

        While playing, tracing the probe (an explicit per-step pass plus BPTT) may cost more
        than a training step, so it is rationed: the trainer's own snapshots are used when
        newer, and a fresh trace is made only when the last one is older than
        ``1 / trace_share`` times its cost (at most ~25% of the kernel's time goes to the
        views). The curves and status update every frame regardless. Paused, every frame
        traces the current weights.
        """
        tr = self.trainer
        snaps = getattr(tr, "snapshots", None)
        if snaps and snaps[-1].step == tr.steps or (snaps and snaps[-1].step > self._trace_step
                                                    and self.loop.running):
            snap = snaps[-1]
            new = snap.step != self._trace_step or self._trace is None
            self._trace, self._trace_step = snap.trace, snap.step
            return snap.trace, new
        now = time.perf_counter()
        due = now - self._trace_at >= self._trace_cost / self.trace_share
        if self._trace is None or not self.loop.running or (tr.steps != self._trace_step and due):
            if self._trace is not None and tr.steps == self._trace_step and \
                    tr.state == self._frame_state:
                return self._trace, False
            self._trace = F.probe_trace(tr)
            self._trace_at = time.perf_counter()
            self._trace_cost = self._trace_at - now
            self._trace_step = tr.steps
            return self._trace, True
        return self._trace, False

    def _send_frame(self) -> int:
        start = time.perf_counter()
        tr = self.trainer
        live = None
        if self.loop.running:
            # the status traits are one more message per frame: sync them a few times a
            # second, and let every frame carry the numbers of the status line itself
            if start - self._status_at >= STATUS_INTERVAL:
                self._sync_status()
                self._status_at = start
            live = self._numbers()
        t_status = time.perf_counter()
        with getattr(tr, "_lock", contextlib.nullcontext()):  # not while a cell's step runs
            trace, new = self._probe_trace()
        t_trace = time.perf_counter()
        sample = min(self.sample, trace.batch_size - 1)
        if sample != self._frame_sample or self._force_views:
            new, self._frame_sample, self._force_views = True, sample, False
        views = tuple(self.views) if new else ()
        frame = F.build_frame(tr, trace, views, sample, self._baselines, self._bounds)
        self._seq += 1
        content = {"type": "frame", "seq": self._seq, "step": int(tr.steps), "sent": time.time(),
                   "trace_step": int(self._trace_step), "parts": frame.parts}
        if new:
            content["readout"] = F.readout(tr, trace, sample)
        if self._fresh_axes:
            content["reset"] = True
            self._fresh_axes = False
        if live is not None:
            content["live"] = live
            if not self.loop.steps_per_frame:  # full speed: fewer acks (see ACK_INTERVAL)
                content["ack_after"] = ACK_INTERVAL
        t_build = time.perf_counter()
        self.send(content, buffers=frame.buffers)
        self._frame_step, self._frame_state = tr.steps, tr.state
        self.frame_bytes = frame.nbytes
        end = time.perf_counter()
        self.frame_ms = 1e3 * (end - start)
        self.frame_ms_total += self.frame_ms
        for part, seconds in (("status", t_status - start), ("trace", t_trace - t_status),
                              ("build", t_build - t_trace), ("send", end - t_build)):
            self.frame_ms_parts[part] = self.frame_ms_parts.get(part, 0.0) + 1e3 * seconds
        return self._seq
