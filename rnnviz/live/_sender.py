"""Frame sending: each frame is built from the trainer's state when the pacer lets it go
(the probe's trace rationed while training), sent as JSON parts plus binary buffers
(float32, or a heatmap's one-byte colour codes: ``_wire``), and timed for the benchmarks.

A frame is the custom message ``{"type": "frame", "seq", "step", "sent", "trace_step",
"parts"}`` with its buffers (see ``_figures.Frame``), plus ``"readout"`` when the views
changed, ``"reset": true`` for the first frame of a new run (the browser drops every grown
axis range) and ``"ack_after"`` while training at full speed (see :data:`ACK_INTERVAL`).

Views that follow the time cursor (the cell, ``_registry.Entry.follows_t``) get the cursor
``t`` with every frame; moving the cursor asks the pacer for a frame (throttled by it, the
newest cursor wins), and a frame whose trace is not new carries only those views.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import deque
from typing import Any

import traitlets as tl

from rnnviz.i18n import language
from rnnviz.live import _describe
from rnnviz.live import _figures as F
from rnnviz.live._registry import REGISTRY
from rnnviz.live._status import STATUS_INTERVAL

# While training at full speed the browser acks at most every ACK_INTERVAL s (the newest frame
# it drew). Every ack is a shell message, which ipykernel wraps in busy and idle status
# messages, and JupyterLab redraws its kernel indicators for each: at 10 acks/s that cost
# Chromium more than drawing the frames (benchmarks/README.md). window(fps) frames may be in
# flight, enough for the frames of one ack interval plus the round trip at the fps cap; the
# browser draws only the newest frame it has, so they never form a queue.
ACK_INTERVAL = 0.25
ROUND_TRIP_S = 0.1  # an ack's way back, with room to spare (median 15-50 ms, benchmarks)


def window(fps: float) -> int:
    """Frames that may be in flight at ``fps``: those sent in one ack interval and a round
    trip, and two more. Fewer would cap the frame rate: at 60 frames/s a window of 10 let
    only ~34 through (benchmarks/README.md)."""
    return math.ceil(fps * (ACK_INTERVAL + ROUND_TRIP_S)) + 2


class FrameSender(tl.HasTraits):
    """The frame side of :class:`rnnviz.live.Dashboard` (a mixin: ``trainer``, ``loop``,
    ``views``, ``sample`` and ``send`` are the widget's).

    Attributes (diagnostics, read by ``benchmarks/bench_dashboard.py``):
        frame_bytes: size of the last frame; frame_ms: kernel time to build and send it;
        frame_ms_total: of all frames; frame_ms_parts: that total split into status, trace,
        build and send; latency: (to, in, from the browser) seconds of recent frames;
        trace_share: at most this share of the kernel's time traces the probe while training.
    """

    trainer: Any
    loop: Any

    def _init_sender(self, baselines: list[int]) -> None:
        self._seq = 0
        self._frame_step = -1  # the trainer's step and state in the last frame
        self._frame_state = ""
        self._frame_sample = 0
        self._frame_t = 0  # the time cursor the views that follow it last showed
        self._baselines = baselines  # trace indices of the history's baseline lines
        self._shown = self.trainer.last_probe  # the probe trace (a Snapshot) last shown
        self._trace_at, self._trace_cost = 0.0, 0.0  # when the last fresh trace was made, its cost
        self._force_views = True  # the next frame carries the views even if the trace is old
        self._status_at = -float("inf")  # when the status was last synced while playing
        self._bounds: dict = {}  # colour ranges of the last frame (kept while they fit)
        self._fresh_axes = False  # the next frame tells the browser to drop grown axis ranges
        self.trace_share = 0.25
        self.frame_bytes = 0
        self.frame_ms = 0.0
        self.frame_ms_total = 0.0
        self.frame_ms_parts: dict[str, float] = {}
        self.latency: deque[tuple[float, float, float]] = deque(maxlen=200)

    def _new_run(self) -> None:
        """After a reset: the next frame carries new views, fresh axes and colour ranges."""
        self._shown, self._force_views = None, True
        self._fresh_axes = True
        self._bounds.clear()

    @tl.observe("t")
    def _on_t(self, change: dict) -> None:
        """The cursor moved: a frame for the views that follow it (the pacer throttles it,
        the newest cursor wins)."""
        if any(REGISTRY[v].follows_t for v in self.views):
            self.pacer.request()

    def _trainer_moved(self) -> bool:
        """Whether the trainer's step or state changed since the last frame."""
        return self.trainer.steps != self._frame_step or self.trainer.state != self._frame_state

    def _note_latency(self, ack: dict) -> None:
        """Diagnostics for benchmarks: one-way delays of the frame and of its ack (seconds)."""
        try:
            there, back = float(ack["arrived"]) - float(ack["sent"]), time.time() - float(ack["acked"])
        except (KeyError, TypeError, ValueError):
            return
        self.latency.append((there, float(ack.get("drawing", 0.0)), back))

    def _probe_trace(self) -> tuple[Any, bool]:
        """The trace to show and whether it is new since the last frame.

        The trainer owns the probe's trace (``Trainer.probe_trace``: made once per state,
        snapshots reused); this only decides how fresh it must be. While playing, tracing the
        probe (an explicit per-step pass plus BPTT) may cost more than a training step, so it
        is rationed: the newest trace the trainer already has is shown (a snapshot is free),
        and a fresh one is asked for only when that is older than ``1 / trace_share`` times
        its cost (at most ~25% of the kernel's time goes to the views). The curves and status
        update every frame regardless. Paused, every frame shows the current weights.
        """
        tr = self.trainer
        last = tr.last_probe
        now = time.perf_counter()
        due = now - self._trace_at >= self._trace_cost / self.trace_share
        if not (self.loop.running and last is not None and
                (last is not self._shown or last.step == tr.steps or not due)):
            tr.probe_trace()
            if tr.last_probe is not last:  # traced just now: its cost rations the next one
                self._trace_at = time.perf_counter()
                self._trace_cost = self._trace_at - now
            last = tr.last_probe
        new = last is not self._shown
        self._shown = last
        return last.trace, new

    def _send_frame(self) -> int:
        """Build a frame of the current state and send it; returns its ``seq`` (the pacer's)."""
        start = time.perf_counter()
        tr = self.trainer
        if self.loop.running:
            # the status is one more message per frame: at full speed it goes a few times a
            # second; in slow motion (a frame every few steps) with every frame
            if start - self._status_at >= STATUS_INTERVAL or self.loop.steps_per_frame:
                self._sync_status()
                self._status_at = start
        t_status = time.perf_counter()
        # Not while a step runs (a cell's trainer.run on the main thread): the trace and the
        # history (its four lists grow one after the other) are then of one and the same step.
        with getattr(tr, "_lock", contextlib.nullcontext()):
            trace, new = self._probe_trace()
            t_trace = time.perf_counter()
            sample = min(self.sample, trace.batch_size - 1)
            if sample != self._frame_sample or self._force_views:
                new, self._frame_sample, self._force_views = True, sample, False
            t = int(self.t)
            views = tuple(self.views) if new else tuple(
                v for v in self.views if t != self._frame_t and REGISTRY[v].follows_t)
            if views:
                self._frame_t = t
            frame = F.build_frame(tr, trace, views, sample, self._baselines, self._bounds, t)
            step, state = int(tr.steps), tr.state
        self._seq += 1
        content = {"type": "frame", "seq": self._seq, "step": step, "sent": time.time(),
                   "trace_step": int(self._shown.step), "parts": frame.parts}
        if new:
            with language(getattr(self, "_lang", None)):
                content["readout"] = _describe.readout(tr, trace, sample)
        if self._fresh_axes:
            content["reset"] = True
            self._fresh_axes = False
        if self.loop.running and not self.loop.steps_per_frame:  # fewer acks (ACK_INTERVAL)
            content["ack_after"] = ACK_INTERVAL
        t_build = time.perf_counter()
        self.send(content, buffers=frame.buffers)
        self._frame_step, self._frame_state = step, state
        self.frame_bytes = frame.nbytes
        end = time.perf_counter()
        self.frame_ms = 1e3 * (end - start)
        self.frame_ms_total += self.frame_ms
        for part, seconds in (("status", t_status - start), ("trace", t_trace - t_status),
                              ("build", t_build - t_trace), ("send", end - t_build)):
            self.frame_ms_parts[part] = self.frame_ms_parts.get(part, 0.0) + 1e3 * seconds
        return self._seq
