"""What the dashboard's controls do: the buttons, sliders and browser messages act on the
trainer, the training loop and the status, each on the widget's home event loop."""

from __future__ import annotations

import contextlib
from typing import Any

import traitlets as tl

from rnnviz.i18n import _, language
from rnnviz.live._assets import plotly_js
from rnnviz.live._loop import _running_loop
from rnnviz.live._status import status_of


class Controls(tl.HasTraits):
    """The control handlers of :class:`rnnviz.live.Dashboard` (a mixin: the traits, the
    ``trainer``, ``loop``, ``pacer`` and the frame sender are the widget's).

    Threads: JupyterLab's ipykernel handles widget messages (buttons, acks) on a subshell
    thread with its own event loop, while cells run on the main thread. Everything that
    touches the pacer, the training task or the frames runs on that "home" loop; calls from a
    cell hop over to it (:meth:`_at_home`). Without a browser (nbclient, tests) there is one
    thread and calls are direct.
    """

    trainer: Any
    loop: Any
    pacer: Any
    _home: Any = None  # the event loop that handles the browser's messages
    _error = ""  # a control's error (a refused lr, the loop failed) for the status message
    _lang: str | None = None  # the language of the status and messages (set at construction)

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

    def reset(self) -> None:
        """Pause, reset the trainer (fresh weights and history) and show it."""
        self.playing = False
        self.loop.stop()  # at once, from any thread; the trainer's lock waits for its step
        self._at_home(self._reset)

    def refresh(self) -> None:
        """Show the trainer's current state (sends a frame when the browser is ready)."""
        self._at_home(self._refresh)

    # ------------------------------------------------------------------ at home
    def _at_home(self, fn: Any, *args: Any) -> None:
        home = self._home
        if home is None or home.is_closed() or _running_loop() is home:
            fn(*args)
        else:
            home.call_soon_threadsafe(fn, *args)

    def _step_once(self) -> None:
        if self.trainer.state == "diverged":
            self._sync_status()
            return
        self.trainer.step()
        self._sync_status()
        self.pacer.request(urgent=True)

    def _reset(self) -> None:
        self.trainer.reset()
        self._new_run()  # the frame sender starts again: new views, fresh axes and colours
        self._error = ""
        self._sync_status()
        self.pacer.request(urgent=True)

    def _refresh(self) -> None:
        self._sync_status()
        self.pacer.request(urgent=True)

    def _refresh_if_changed(self) -> None:
        """After a cell: refresh if the trainer moved since the last frame."""
        if self._trainer_moved():
            self.refresh()

    def _sync_status(self) -> None:
        """Send the status line (a message only when it changed)."""
        with language(self._lang), getattr(self.trainer, "_lock", contextlib.nullcontext()):
            status = status_of(self.trainer, running=self.loop.running,
                               steps_per_s=self.loop.steps_per_second(), error=self._error)
        self.status = status

    # ------------------------------------------------------------------ trait observers
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
                with language(self._lang):
                    self.loop.start()
            except RuntimeError as err:
                self.playing = False
                self._error = str(err)
                self._sync_status()
                raise
            self._sync_status()
        else:  # the loop was stopped at once, in _on_playing
            self._sync_status()
            self.pacer.request(urgent=True)

    @tl.observe("steps_per_frame")
    def _on_speed(self, change: dict) -> None:
        self.loop.steps_per_frame = max(0, int(change["new"]))

    @tl.observe("lr")
    def _on_lr(self, change: dict) -> None:
        try:
            with language(self._lang):
                self.trainer.lr = change["new"]
        except (TypeError, ValueError) as err:
            self._error = str(err)
            self.lr = change["old"]
            self._sync_status()

    @tl.observe("clip_enabled", "clip_value")
    def _on_clip(self, change: dict) -> None:
        try:
            with language(self._lang):
                self.trainer.clip = self.clip_value if self.clip_enabled else None
        except (TypeError, ValueError) as err:
            self._error = str(err)
            self.set_trait(change["name"], change["old"])
            self._sync_status()

    @tl.observe("sample")
    def _on_sample(self, change: dict) -> None:
        if not 0 <= change["new"] < self.probe_size:
            self.sample = change["old"]
            return
        self.pacer.request(urgent=True)

    @tl.validate("t")
    def _valid_t(self, proposal: dict) -> int:
        return int(min(max(proposal["value"], 0), self.seq_len - 1))

    # ------------------------------------------------------------------ browser messages
    def _on_message(self, _widget: Any, content: Any, buffers: Any) -> None:
        """``drawn`` (an ack), ``hello`` (a new view), ``plotly.js?``, ``step``, ``reset``."""
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

    # ------------------------------------------------------------------ the training loop
    def _on_chunk(self, n: int) -> None:
        # The status goes out with the frames (see FrameSender._send_frame), not after every
        # chunk: chunks are short so that acks get through promptly, and each sync is a message.
        self.pacer.request()

    def _on_loop_stop(self, reason: str) -> None:
        if reason.startswith("error"):  # "error: {type}: {message}" (_loop.TrainingLoop)
            with language(self._lang):
                # TRANSLATORS: the word "error" must match the label "error" (live/_labels.py)
                self._error = _("error: {detail}").format(detail=reason.split(":", 1)[1].strip())
        self.playing = False
        self._sync_status()
        self.pacer.request(urgent=True)
