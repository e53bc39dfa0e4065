"""Train a model (a SequenceModel or a Seq2Seq: any ``Trainable``) on a task, step by step,
with history, snapshots and safe stops."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from rnnviz import _validate
from rnnviz._types import Batch, Seq2SeqTrace, Trace, Trainable
from rnnviz.i18n import _, pgettext
from rnnviz.tasks._base import Task

__all__ = ["Trainer", "History", "Snapshot", "StepResult"]

# a larger rate cannot be applied to float32 weights (torch raises inside the optimizer); up to
# it, a huge rate diverges cleanly, which the lessons show on purpose
MAX_LR = float(torch.finfo(torch.float32).max)

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


@dataclass
class History:
    """One entry per completed step; all four lists always have the same length.

    ``loss``, ``metric`` and ``grad_norm`` are measured at step ``step`` with the weights
    *before* that step's update; ``grad_norm`` is the total gradient norm before clipping.
    """

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    metric: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.step)

    def _append(self, step: int, loss: float, metric: float, grad_norm: float) -> None:
        self.step.append(step)
        self.loss.append(loss)
        self.metric.append(metric)
        self.grad_norm.append(grad_norm)

    def _truncate(self, n: int) -> None:
        for values in (self.step, self.loss, self.metric, self.grad_norm):
            del values[n:]


@dataclass(frozen=True)
class Snapshot:
    """The trace of the fixed probe batch after ``step`` completed steps: a ``Trace``, or a
    ``Seq2SeqTrace`` (teacher forcing, with loss and gradients) for a ``Seq2Seq``."""

    step: int
    trace: Trace | Seq2SeqTrace


@dataclass(frozen=True)
class StepResult:
    """What one :meth:`Trainer.step` measured. ``diverged`` steps were not applied."""

    step: int
    loss: float
    metric: float
    grad_norm: float
    diverged: bool = False


class Trainer:
    r"""Train ``model`` on ``task`` one mini-batch at a time.

    One step:

    1. draw the batch ``task.batch(batch_size, seed=...)`` (seeded by ``seed`` and the step);
    2. forward on the fused fast path, ``output = model.batch_output(x, y, lengths)`` (a
       ``Seq2Seq`` reads ``y`` by teacher forcing), ``loss = loss_fn(output, y)``; with
       ``tbptt=k``, in chunks of k steps (truncated BPTT, below);
    3. backward; ``grad_norm`` = total gradient norm (clip it to ``clip`` when set);
    4. optimizer update; append ``step, loss, metric, grad_norm`` to :attr:`history`;
    5. every ``snapshot_every`` steps, trace the fixed :attr:`probe` batch into
       :attr:`snapshots` (a deque of at most ``max_snapshots``: memory stays bounded).

    Safe stops, :meth:`run` never raises for these:

    - **Divergence.** A step with a non-finite loss or gradient norm is not applied. The
      weights go back to those that produced the last recorded (finite) loss (an update that
      made the weights non-finite shows up as the next step's loss), the optimizer
      state is recreated, :attr:`state` becomes ``"diverged"`` and :attr:`message` says what to
      do. :meth:`step` then raises ``RuntimeError`` until :meth:`reset` (start again) or
      :meth:`resume` (go on from the restored weights, e.g. after lowering :attr:`lr`).
    - **KeyboardInterrupt** (the notebook's stop button) inside :meth:`run`: weights and history
      stay at the last completed step, :attr:`state` becomes ``"interrupted"``, ``run`` returns.
      If the interrupt hit the optimizer update, its state is recreated too.

    Same seeds on the same machine give a bit-identical history.

    **Truncated BPTT** (``tbptt=k``; Williams & Peng 1990, Sutskever 2013): the forward pass
    runs in chunks of ``k`` steps; the state carried from one chunk into the next is detached,
    so the gradient of a loss at step t reaches back only to the start of t's chunk (at most
    k - 1 steps). The numbers of the forward pass, hence loss and metric, are those of full
    BPTT. There is **one optimizer step per sequence** (per batch): the gradients of all
    chunks are summed by one backward pass of the whole batch's loss, so a step, the history
    and the batch stream mean the same with and without truncation, and ``tbptt >= T`` is
    exactly full BPTT. A many-to-one task (loss at the last step only) therefore learns only
    from the last chunk. It needs a :class:`rnnviz.SequenceModel` with a unidirectional,
    undilated core. Snapshots (and the dashboard's gradient view) trace full BPTT.

    Args:
        model: a :class:`rnnviz.SequenceModel` or :class:`rnnviz.Seq2Seq` that fits ``task``
            (any :class:`rnnviz.Trainable`; ``model.check_task(task)`` must pass).
        task: an :mod:`rnnviz.tasks` task.
        lr: learning rate. Default: 1e-2.
        optimizer: ``"adam"``, ``"sgd"`` or ``"rmsprop"``. Default: ``"adam"``.
        clip: clip the total gradient norm to this value, or ``None``. Default: ``None``.
        batch_size: sequences per step. Default: 32.
        seed: seed of the batch stream (the model has its own ``seed``). Default: 0.
        snapshot_every: trace the probe every this many steps (and at step 0); 0 disables.
        max_snapshots: how many snapshots to keep (the oldest are dropped). Default: 50.
        probe_size: sequences in the fixed probe batch. Default: 4.
        loss_fn: ``loss_fn(output, y) -> scalar``. Default: ``task.loss``.
        tbptt: truncated-BPTT window in steps, or ``None`` for full BPTT (the default).
            Can be changed between steps (``trainer.tbptt = 10``), like ``lr`` and ``clip``.

    Attributes:
        history (History), snapshots (deque of Snapshot), probe (Batch),
        state (``"ready" | "diverged" | "interrupted"``), message (str), steps (int),
        last_probe (Snapshot or None); :meth:`probe_trace` traces the probe now (cached).

    Example:
        >>> import rnnviz
        >>> task = rnnviz.tasks.Echo(delay=1, seed=0)  # doctest: +SKIP
        >>> model = rnnviz.SequenceModel.from_task(task, hidden_size=16)  # doctest: +SKIP
        >>> trainer = Trainer(model, task, lr=1e-2, clip=1.0)  # doctest: +SKIP
        >>> history = trainer.run(200)  # doctest: +SKIP
        >>> history.loss[-1] < task.baseline().loss  # doctest: +SKIP
        True

        An encoder-decoder trains the same way (teacher forcing; snapshots are
        ``Seq2SeqTrace`` records):

        >>> reverse = rnnviz.tasks.Reverse(num_symbols=4, max_len=5, seed=0)  # doctest: +SKIP
        >>> s2s = rnnviz.Seq2Seq.from_task(reverse, hidden_size=16, seed=0)  # doctest: +SKIP
        >>> Trainer(s2s, reverse, lr=1e-2, seed=0).run(300)  # doctest: +SKIP
    """

    def __init__(
        self,
        model: Trainable,
        task: Any,
        *,
        lr: float = 1e-2,
        optimizer: str = "adam",
        clip: float | None = None,
        batch_size: int = 32,
        seed: int = 0,
        snapshot_every: int = 10,
        max_snapshots: int = 50,
        probe_size: int = 4,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        tbptt: int | None = None,
    ) -> None:
        # 1. check the arguments
        if not isinstance(model, Trainable):
            raise TypeError(_(
                "model must be an rnnviz.SequenceModel or rnnviz.Seq2Seq (e.g. "
                "SequenceModel.from_task(task)), or another rnnviz.Trainable with "
                "reset_parameters, check_task and batch_output, got {type}"
            ).format(type=type(model).__name__))
        _check_task(task)
        model.check_task(task)
        self.model = model
        self.task = task
        self._lr = _validate.positive_float("lr", lr, high=MAX_LR)
        self.optimizer_name = _validate.choice("optimizer", optimizer, OPTIMIZERS)
        self._clip = _validate.positive_float("clip", clip, allow_none=True)
        self.batch_size = _validate.positive_int("batch_size", batch_size)
        self.seed = _validate.seed("seed", seed)
        self.snapshot_every = _validate.positive_int(
            "snapshot_every", snapshot_every, allow_zero=True
        )
        self.max_snapshots = _validate.positive_int("max_snapshots", max_snapshots)
        self.probe_size = _validate.positive_int("probe_size", probe_size)
        self.loss_fn = loss_fn  # type: ignore[assignment]  # None means the task's loss
        self.tbptt = tbptt
        # after the first step has passed the public checks, the hot path skips them
        self._metric = task._metric if isinstance(task, Task) else task.metric
        # 2. state
        self._lock = threading.RLock()  # steps, resets and the dashboard's traces take turns
        self._params = [p for p in model.parameters() if p.requires_grad]
        self._backup = [p.detach().clone() for p in self._params]
        self.snapshots: deque[Snapshot] = deque(maxlen=self.max_snapshots)
        self._probe_cache: tuple[tuple, Snapshot] | None = None  # (weights key, trace): see probe_trace
        # the weights as handed over (edits such as a forget-gate bias included): reset() returns here
        self._initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self._start()

    # ------------------------------------------------------------------ settings
    @property
    def lr(self) -> float:
        """Learning rate; setting it updates the optimizer at once."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = _validate.positive_float("lr", value, high=MAX_LR)
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr

    @property
    def loss_fn(self) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """``loss_fn(output, y) -> scalar`` used for training; setting ``None`` means ``task.loss``."""
        return self._loss_fn

    @loss_fn.setter
    def loss_fn(self, value: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None) -> None:
        if value is not None and not callable(value):
            raise TypeError(_("loss_fn must be callable or None, got {type}").format(
                type=type(value).__name__))
        own = value is None and isinstance(self.task, Task)
        self._loss_fn = self.task.loss if value is None else value
        self._loss = self.task._loss if own else self._loss_fn  # the hot path's unchecked loss

    @property
    def clip(self) -> float | None:
        """Maximum total gradient norm, or ``None`` for no clipping."""
        return self._clip

    @clip.setter
    def clip(self, value: float | None) -> None:
        self._clip = _validate.positive_float("clip", value, allow_none=True)

    @property
    def tbptt(self) -> int | None:
        """Truncated-BPTT window in steps, or ``None`` (full BPTT); settable between steps."""
        return self._tbptt

    @tbptt.setter
    def tbptt(self, value: int | None) -> None:
        if value is not None:
            _validate.steps("tbptt", value)
            core = getattr(self.model, "core", None)
            if not hasattr(self.model, "readout") or core is None or not hasattr(core, "_fused"):
                raise ValueError(_("tbptt needs an rnnviz.SequenceModel (an encoder-decoder "
                                   "trains with full BPTT), got {type}").format(
                                       type=type(self.model).__name__))
            if core.bidirectional or hasattr(core, "dilations"):
                raise ValueError(_("tbptt needs a unidirectional, undilated core (the state "
                                   "carried between chunks must be the one of step t - 1)"))
        self._tbptt = value

    @property
    def steps(self) -> int:
        """Number of completed steps."""
        return self._step

    def _make_optimizer(self) -> torch.optim.Optimizer:
        return OPTIMIZERS[self.optimizer_name](self._params, lr=self._lr)

    def _batch_seed(self, step: int) -> int:
        """Seed of step ``step``'s batch (steps count from 1; 0 is the probe's)."""
        return (self.seed << 32) + step

    # ------------------------------------------------------------------ life cycle
    def reset(self, seed: int | None = None) -> None:
        """Start again: the weights the trainer was given, a fresh optimizer, no history.

        The model's weights go back to what they were when the ``Trainer`` was built (so
        edits made before, such as a forget-gate bias, are kept). With ``seed``, the model is
        re-initialised from that seed and the batch stream takes it too (another run);
        without, the same run restarts identically.
        """
        with self._lock:
            if seed is not None:
                self.seed = _validate.seed("seed", seed)
                self.model.seed = self.seed
                self.model.reset_parameters()
            else:
                self.model.load_state_dict(self._initial)
            self._start()

    def _start(self) -> None:
        self.optimizer = self._make_optimizer()
        self.history = History()
        self.snapshots.clear()
        self._probe_cache = None
        self.state = "ready"
        self.message = ""
        self._step = 0
        self._phase = "idle"
        self._pending = 0
        self._backup_valid = False
        self._checked = False
        self.probe: Batch = self.task.batch(self.probe_size, seed=self._batch_seed(0))
        self._snapshot()

    def resume(self) -> None:
        """Leave the ``"diverged"`` state and go on from the restored weights."""
        self.state = "ready"
        self.message = ""

    def _snapshot(self) -> None:
        if self.snapshot_every and self._step % self.snapshot_every == 0:
            self.snapshots.append(self._trace_probe())

    # ------------------------------------------------------------------ the probe's trace
    def _probe_key(self) -> tuple:
        """What the probe's trace depends on besides the fixed probe batch: the step, the
        loss function and every weight (``_version`` counts in-place changes: an optimizer
        step, a restore, ``load_state_dict``, an edit such as ``bias.data[...] = 1`` or
        ``with torch.no_grad(): w.fill_(0)``; a replaced parameter has a new ``id``)."""
        return (self._step, id(self._loss_fn),
                tuple((id(p), p._version) for p in self.model.parameters()))

    def _trace_probe(self) -> Snapshot:
        """Trace the probe batch now (and keep it as the cached probe trace)."""
        from rnnviz.tracing import trace

        x, y, lengths = self.probe
        key = self._probe_key()
        snap = Snapshot(self._step, trace(self.model, x, y, lengths=lengths,
                                          loss_fn=self.loss_fn))
        self._probe_cache = (key, snap)
        return snap

    def probe_trace(self) -> Trace | Seq2SeqTrace:
        """The trace of the fixed :attr:`probe` batch with the current weights.

        ``rnnviz.trace(model, *probe, loss_fn=loss_fn)``: a ``Trace``, or a ``Seq2SeqTrace``
        (teacher forcing) for a ``Seq2Seq``. It is traced at most once per state: the
        snapshot taken at this step, or an earlier call, is reused as long as the step, the
        weights and ``loss_fn`` are unchanged (a step, :meth:`reset`, a divergence's restore
        or a weight edited in place make a new one). Thread-safe: it waits for a step that
        another thread is running (the dashboard's messages may arrive on one).

        Returns:
            The trace (shared: treat it as read-only).
        """
        with self._lock:
            cached = self._probe_cache
            if cached is not None and cached[0] == self._probe_key():
                return cached[1].trace
            return self._trace_probe().trace

    @property
    def last_probe(self) -> Snapshot | None:
        """The newest probe trace already made (a snapshot or :meth:`probe_trace`), with the
        step it was taken at, without tracing; ``None`` if none was made since the last
        reset. It may be older than the current step (for a view that rations tracing)."""
        with self._lock:
            cached = self._probe_cache
            return None if cached is None else cached[1]

    # ------------------------------------------------------------------ one step
    def step(self) -> StepResult:
        """Train on one batch; returns what was measured (see :class:`StepResult`).

        Raises:
            RuntimeError: when the trainer is ``"diverged"`` (call :meth:`reset` or :meth:`resume`).
        """
        with self._lock:  # one step at a time, even from two threads (a cell and a dashboard)
            if self.state == "diverged":
                raise RuntimeError(_("{message} (step() refuses to continue)").format(
                    message=self.message))
            self.state, self.message = "ready", ""
            try:
                return self._step_once()
            except KeyboardInterrupt:
                self._recover_interrupt()
                raise

    def _step_once(self) -> StepResult:
        k = self._pending = self._step + 1
        # 1. the batch of step k
        x, y, lengths = self.task.batch(self.batch_size, seed=self._batch_seed(k))
        # 2. forward (fast path) and loss
        self._phase = "compute"
        for p in self._params:
            p.grad = None
        window = self._tbptt  # read once: it may be set from another thread between steps
        if window is not None:
            output = self._truncated_output(x, lengths, window, check=not self._checked)
            if self._checked:
                loss, score = self._loss(output, y), self._metric
            else:
                loss, score = self.loss_fn(output, y), self.task.metric
                _validate.scalar_loss(loss, needs_grad=True)
        elif self._checked:  # the task's batches were checked once: skip the per-call checks
            output = self.model.batch_output(x, y, lengths, check=False)
            loss, score = self._loss(output, y), self._metric
        else:
            output = self.model.batch_output(x, y, lengths)
            loss, score = self.loss_fn(output, y), self.task.metric
            _validate.scalar_loss(loss, needs_grad=True)
        loss_value = float(loss.detach())
        if not math.isfinite(loss_value):
            return self._diverge(k, _("the loss at step {step} was {value}").format(
                step=k, value=loss_value), loss_value, math.nan, math.nan)
        # 3. backward, gradient norm before clipping, clipping
        loss.backward()
        grads = [p.grad for p in self._params if p.grad is not None]
        norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))) if grads \
            else torch.zeros(())
        grad_norm = float(norm)
        metric = float(score(output.detach(), y))
        self._checked = True
        if not math.isfinite(grad_norm):
            return self._diverge(k, _("the gradient norm at step {step} was {value}").format(
                step=k, value=grad_norm), loss_value, metric, grad_norm)
        if self._clip is not None:
            torch.nn.utils.clip_grads_with_norm_(self._params, self._clip, norm)
        # 4. keep the weights, update, check them, record
        self._phase = "backup"
        with torch.no_grad():
            torch._foreach_copy_(self._backup, self._params)  # one fused copy of every weight
        self._backup_valid = True
        self._phase = "update"  # from here to "idle", an interrupt rolls step k back
        self.optimizer.step()  # non-finite weights show up as a non-finite loss next step
        self.history._append(k, loss_value, metric, grad_norm)
        self._step = k
        self._phase = "idle"
        # 5. snapshot of the probe batch
        self._snapshot()
        return StepResult(k, loss_value, metric, grad_norm)

    def _truncated_output(self, x: torch.Tensor, lengths: torch.Tensor | None, k: int, *,
                          check: bool) -> torch.Tensor:
        """The model's output with the state detached every ``k`` steps (same numbers)."""
        from rnnviz.models import check_lengths

        model = self.model
        core = model.core
        e = model.encode(x) if check else model._encode(x)  # (B, T, I)
        B, T = e.shape[:2]
        if lengths is not None and check:
            lengths = check_lengths(lengths, B, T)
        outs, state = [], None
        for start in range(0, T, k):
            chunk = e[:, start:start + k]  # (B, k', I)
            if lengths is None:
                out, new = core._fused(chunk, state, None)  # (B, k', D*H)
            else:  # a sequence that ended before this chunk keeps its state
                left = lengths - start  # (B,)
                out, new = core._fused(chunk, state, left.clamp(1, chunk.shape[1]))
                if state is not None and bool((left <= 0).any()):
                    keep = (left > 0).view(1, B, 1).to(e.device)
                    new = tuple(torch.where(keep, n, s) for n, s in zip(new, state, strict=True)) \
                        if isinstance(new, tuple) else torch.where(keep, new, state)
            outs.append(out)
            state = tuple(s.detach() for s in new) if isinstance(new, tuple) else new.detach()
        return model.readout(torch.cat(outs, dim=1), lengths)  # (B, T, O) or (B, O)

    # ------------------------------------------------------------------ safe stops
    def _restore_backup(self) -> None:
        with torch.no_grad():
            torch._foreach_copy_(self._params, self._backup)

    def _finite_weights(self) -> bool:
        return all(bool(torch.isfinite(p).all()) for p in self._params)

    def _diverge(
        self, k: int, what: str, loss: float, metric: float, grad_norm: float
    ) -> StepResult:
        """``what``: which value was not finite, already worded (and translated)."""
        # 1. the last update led to a non-finite value: undo it, back to the weights that
        #    produced the last recorded finite loss (no recorded step: nothing was applied)
        last = len(self.history)
        if self._backup_valid:
            self._restore_backup()
            kept = _("weights restored to those that gave the last finite loss "
                     "(step {step})").format(step=last)
        else:
            kept = _("weights left as they were before this step")
        # 2. weights that are still not finite (e.g. poisoned by hand) cannot be kept
        if not self._finite_weights():
            self.model.reset_parameters()
            kept = _("weights were not finite and have been re-initialised")
        # 3. fresh optimizer state (Adam's moments have seen the bad values)
        self.optimizer.zero_grad(set_to_none=True)
        self.optimizer = self._make_optimizer()
        self._backup_valid = False
        self._phase = "idle"
        self.state = "diverged"
        # TRANSLATORS: {what} is "the loss at step 3 was nan" or "the gradient norm at step 3
        # was inf"; {kept} is what happened to the weights ("weights restored to ...")
        self.message = _(
            "Training diverged: {what}; {kept}. Lower the learning rate (lr={lr}) or enable "
            "gradient clipping (e.g. clip=1.0), then call reset() (or resume())."
        ).format(what=what, kept=kept, lr=f"{self._lr:g}")
        return StepResult(k, loss, metric, grad_norm, diverged=True)

    def _recover_interrupt(self) -> None:
        if self._phase == "update":  # weights (and optimizer state) may be half updated
            self._restore_backup()
            self.optimizer = self._make_optimizer()
            self._backup_valid = False
            self._step = self._pending - 1  # step k is rolled back
        elif self._phase == "backup":  # weights untouched, the copy is half written
            self._backup_valid = False
        self.history._truncate(self._step)
        self._phase = "idle"
        self.state = "interrupted"
        self.message = _(
            "Training interrupted: weights and history are those after step {step}. "
            "Call run() to continue."
        ).format(step=self._step)

    # ------------------------------------------------------------------ many steps
    def run(self, n: int, progress: bool = True) -> History:
        """Train ``n`` steps; stops early (without raising) on divergence or interrupt.

        With ``progress=True`` shows a tqdm bar (a widget in a notebook, text elsewhere)
        with the current loss. Returns :attr:`history`.
        """
        _validate.positive_int("n", n, allow_zero=True)
        _validate.flag("progress", progress)
        if self.state == "diverged":
            print(self.message)
            return self.history
        from tqdm.auto import tqdm

        # TRANSLATORS: the progress bar's label and its unit ("12/200 step/s")
        bar = tqdm(total=n, disable=not progress, desc=pgettext("progress bar", "training"),
                   unit=pgettext("progress bar", "step"), leave=True)
        try:
            for _step in range(n):
                result = self.step()
                bar.update(1)
                if result.diverged:
                    break
                if progress:
                    bar.set_postfix_str(pgettext("progress bar", "loss={loss}").format(
                        loss=f"{result.loss:.4f}"), refresh=False)
        except KeyboardInterrupt:
            if self.state != "interrupted":  # the interrupt came between steps
                self._recover_interrupt()
        finally:
            bar.close()
        if self.state != "ready":
            print(self.message)
        return self.history

    def __repr__(self) -> str:
        return (
            f"Trainer(steps={self._step}, state={self.state!r}, lr={self._lr:g}, "
            f"optimizer={self.optimizer_name!r}, clip={self._clip}, batch_size={self.batch_size}"
            + ("" if self._tbptt is None else f", tbptt={self._tbptt}") + ")"
        )


def _check_task(task: Any) -> None:
    _validate.task(task, ("batch", "loss", "metric", "input_size", "output_size", "kind",
                          "input_kind"))
