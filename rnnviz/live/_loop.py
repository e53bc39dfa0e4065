"""Frame pacing and the background training loop of the dashboard.

Frames are paced by what the browser has drawn (latest wins, never a queue):

1. ``FramePacer.request()`` marks the picture dirty;
2. a frame is sent only when fewer than ``max_in_flight`` are unacknowledged and its slot in
   a schedule of ``fps`` frames per second has come; it is built from the state *at send
   time*, so a backlog cannot form;
3. the browser keeps only the newest frame, draws it and acks its ``seq`` (at most every
   quarter second while training); ``ack(seq)`` frees that slot and those of older frames
   and, if the picture got dirty meanwhile, sends the next frame at once;
4. an ack that never comes (no browser, hidden tab) frees the slot after ``ack_timeout`` s,
   and until the next ack arrives only one frame at a time is sent;
5. an urgent request (pause, one step, reset: a person is waiting for it) may exceed the
   window by one frame.

``TrainingLoop`` trains on the kernel's own asyncio event loop: a chunk of steps (at most
``budget`` s of work, or ``steps_per_frame`` steps), then it yields so the kernel can handle
widget messages (pause, sliders, acks) and other cells. No thread: the model is only touched
between cells, so a cell can inspect or change it safely while training is paused or running.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from rnnviz.i18n import _

YIELD_S = 0.001  # how long the training loop yields to the kernel after every chunk


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class FramePacer:
    """At most ``max_in_flight`` frames unacknowledged; each is built only when it is sent.

    Several frames in flight hide the round trip and let the browser ack rarely, without
    letting a queue form: the browser keeps only the newest frame that arrived, and its ack
    retires every older frame too.

    Args:
        send: builds and sends a frame from the current state; returns its sequence number.
        fps: at most this many frames per second.
        ack_timeout: seconds after which an unacknowledged frame no longer counts as in flight.
        max_in_flight: frames sent but not yet acknowledged (1: strict send-ack-send).
        clock: time source (tests pass a fake one).
    """

    def __init__(self, send: Callable[[], int], *, fps: float = 20.0, ack_timeout: float = 1.0,
                 max_in_flight: int = 2, clock: Callable[[], float] = time.monotonic) -> None:
        if max_in_flight < 1:
            raise ValueError(_("max_in_flight must be at least 1, got {value}").format(
                value=max_in_flight))
        self._send = send
        self.min_interval = 1.0 / fps
        self.ack_timeout = ack_timeout
        self.max_in_flight = max_in_flight
        self._clock = clock
        self.dirty = False
        self._urgent = False  # the pending request may exceed the window by one frame
        self.in_flight: dict[Any, float] = {}  # seq -> when it was sent
        self.next_at = -float("inf")  # when the next frame may go (see _pump)
        self.acking = True  # acks arrive (False after a frame timed out, until the next ack)
        self.frames_sent = 0
        self.frames_acked = 0
        self._timer: asyncio.TimerHandle | None = None
        self.ack_delays: deque[float] = deque(maxlen=100)  # seconds from send to ack

    def _expire(self, now: float) -> None:
        for seq in [s for s, at in self.in_flight.items() if now - at >= self.ack_timeout]:
            del self.in_flight[seq]
            self.acking = False  # nobody draws: one frame at a time until an ack comes

    @property
    def window(self) -> int:
        """Frames that may be in flight now: ``max_in_flight``, or 1 while no acks come."""
        return self.max_in_flight if self.acking else 1

    @property
    def busy(self) -> bool:
        """No further frame may be sent until an ack (or a timeout) frees a slot."""
        self._expire(self._clock())
        return len(self.in_flight) >= self.window

    @property
    def ready(self) -> bool:
        """A frame requested now would be sent at once (a slot is free and its time came)."""
        return not self.busy and self._clock() >= self.next_at

    @property
    def idle(self) -> bool:
        """Every frame sent has been acknowledged (or timed out)."""
        self._expire(self._clock())
        return not self.in_flight

    def request(self, urgent: bool = False) -> bool:
        """Ask for a frame of the current state; returns whether one was sent now.

        ``urgent``: a person is waiting for this frame (pause, one step, reset): it may exceed
        the window by one frame, so it never waits for the browser's next ack.
        """
        self.dirty = True
        self._urgent = self._urgent or urgent
        return self._pump()

    def ack(self, seq: Any) -> bool:
        """The browser drew frame ``seq``; returns whether a newer frame was sent."""
        if seq not in self.in_flight:  # a stale or repeated ack (e.g. a second view)
            return False
        now = self._clock()
        self.ack_delays.append(now - self.in_flight[seq])
        for older in [s for s in self.in_flight if s <= seq]:  # frames the browser skipped
            del self.in_flight[older]
        self.frames_acked += 1
        self.acking = True
        return self._pump()

    def forget(self) -> None:
        """Stop waiting for acks (a new view will never ack frames it did not see)."""
        self.in_flight.clear()
        self.acking = True

    def _pump(self) -> bool:
        if not self.dirty:
            return False
        now = self._clock()
        self._expire(now)
        wait = self.next_at - now
        if len(self.in_flight) >= self.window + self._urgent:
            wait = max(wait, min(self.in_flight.values()) + self.ack_timeout - now)
        if wait > 0:
            self._schedule(wait)
            return False
        self.dirty = self._urgent = False
        seq = self._send()
        self.in_flight[seq] = now
        # Frames keep to a schedule of one per 1 / fps: one sent late (a training step or a
        # message was running when it fell due) shortens the next wait by up to a quarter of
        # the interval, so lateness does not lower the frame rate, and frames never bunch up.
        self.next_at = max(self.next_at, now - self.min_interval / 4) + self.min_interval
        self.frames_sent += 1
        return True

    def _schedule(self, delay: float) -> None:
        loop = _running_loop()
        if loop is None or self._timer is not None:
            return
        self._timer = loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._pump()

    def cancel(self) -> None:
        """Forget pending work (no timer stays on the event loop)."""
        self.dirty = self._urgent = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class TrainingLoop:
    """Train ``trainer`` in chunks on the running asyncio loop until stopped or diverged.

    Args:
        trainer: has ``step()``, ``state`` and ``steps``.
        on_chunk: called after every chunk with the number of steps it trained.
        pacer: the frame pacer (slow motion waits for each frame to be drawn).
        budget: seconds of training per chunk before yielding to the kernel.
    """

    def __init__(self, trainer: Any, on_chunk: Callable[[int], None], pacer: FramePacer, *,
                 budget: float = 0.03) -> None:
        self.trainer = trainer
        self.on_chunk = on_chunk
        self.pacer = pacer
        self.budget = budget
        self.steps_per_frame = 0  # 0: as fast as possible; n: n steps, then wait for the frame
        self.on_stop: Callable[[str], None] | None = None
        self._task: asyncio.Task | None = None
        self._stop = False
        self._rate: deque[tuple[float, int]] = deque(maxlen=64)
        self.timing = {"chunks": 0.0, "chunks_cpu": 0.0, "after_chunk": 0.0, "yields": 0}  # benchmarks

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start training in the background of the running event loop (a Jupyter kernel)."""
        if self.running:
            return
        loop = _running_loop()
        if loop is None:
            raise RuntimeError(_(
                "play needs a running asyncio event loop (a Jupyter kernel); outside one, "
                "call trainer.run(n)"
            ))
        self._stop = False
        self._rate.clear()
        self._task = loop.create_task(self._run(), name="rnnviz-dashboard-training")  # i18n-ignore: an id

    @property
    def home(self) -> asyncio.AbstractEventLoop | None:
        """The event loop the training task runs on (None when not running)."""
        return self._task.get_loop() if self.running else None

    def stop(self) -> None:
        """Stop after the current step (at the latest, one chunk budget from now).

        Safe from any thread: JupyterLab's ipykernel handles widget messages on a subshell
        thread, so training may run there while a cell (on the main thread) pauses it.
        """
        self._stop = True  # seen by the chunk loop before its next step
        task, self._task = self._task, None
        if task is not None and not task.done():
            loop = task.get_loop()
            if _running_loop() is loop:
                task.cancel()
            elif not loop.is_closed():
                loop.call_soon_threadsafe(task.cancel)

    def steps_per_second(self) -> float:
        if len(self._rate) < 2:
            return 0.0
        (t0, s0), (t1, s1) = self._rate[0], self._rate[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def _chunk(self) -> int:
        """Train up to ``budget`` s or ``steps_per_frame`` steps, or until a frame is due
        (after at least one step); return how many ran."""
        start = time.perf_counter()
        limit = self.steps_per_frame or float("inf")
        n = 0
        while not self._stop and n < limit and time.perf_counter() - start < self.budget:
            if n and self.pacer.ready:  # a frame is due: yield to it instead of making it wait
                break
            result = self.trainer.step()
            n += 1
            if getattr(result, "diverged", False) or self.trainer.state != "ready":
                break
        return n

    async def _run(self) -> None:
        reason = "paused"
        try:
            while not self._stop:
                if self.trainer.state == "diverged":
                    reason = "diverged"
                    break
                t0, c0 = time.perf_counter(), time.thread_time()
                n = self._chunk()
                t1 = time.perf_counter()
                self.timing["chunks_cpu"] += time.thread_time() - c0
                self._rate.append((t1, self.trainer.steps))
                self.on_chunk(n)
                self.timing["chunks"] += t1 - t0
                self.timing["after_chunk"] += time.perf_counter() - t1
                self.timing["yields"] += 1
                if self.trainer.state == "diverged":
                    reason = "diverged"
                    break
                if self.steps_per_frame:  # slow motion: each frame shows steps_per_frame steps
                    await asyncio.sleep(YIELD_S)
                    while not self._stop and (not self.pacer.idle or self.pacer.dirty):
                        await asyncio.sleep(0.005)
                else:
                    # A message (pause, an ack) needs several loop iterations to get through
                    # ipykernel; a short sleep lets them all run, sleep(0) gives only one.
                    await asyncio.sleep(YIELD_S)
        except asyncio.CancelledError:
            reason = "paused"
        except (Exception, KeyboardInterrupt) as err:  # never kill the kernel's event loop
            reason = f"error: {type(err).__name__}: {err}"
        finally:
            if self._task is asyncio.current_task():
                self._task = None
            if self._task is None and self.on_stop is not None:  # not superseded by a restart
                with contextlib.suppress(Exception):
                    self.on_stop(reason)
