"""Score a trained model on fresh batches of a task, at its own length or another one."""

from __future__ import annotations

from typing import Any

import torch

from rnnviz import _validate
from rnnviz.i18n import _
from rnnviz.tasks.lengths import with_seq_len

__all__ = ["evaluate"]


@torch.no_grad()
def evaluate(
    model: Any, task: Any, *, seq_len: int | None = None, batch_size: int = 512, seed: int = 1_000_000
) -> float:
    """The task's metric (accuracy or MSE) of ``model`` on one fresh seeded batch.

    With ``seq_len`` the task is first rebuilt at that length (:func:`rnnviz.tasks.with_seq_len`),
    so length generalisation is one line per length::

        for n in (T, 2 * T, 4 * T):
            print(n, rnnviz.evaluate(model, task, seq_len=n))

    The model runs in eval mode (restored afterwards), without gradients, on
    ``task.batch(batch_size, seed=seed)``: the same batch for the same arguments. The default
    ``seed`` is none of the batch seeds a Trainer draws (``(trainer seed << 32) + step``) in
    a run of fewer than a million steps, so the batch is fresh data. A
    :class:`rnnviz.Seq2Seq` is scored with teacher forcing (what ``batch_output`` gives).

    Args:
        model: a trained :class:`rnnviz.SequenceModel` (or any ``Trainable``) that fits ``task``.
        task: an :mod:`rnnviz.tasks` task.
        seq_len: evaluate at this length instead of ``task.seq_len``.
        batch_size: sequences in the batch. Default: 512.
        seed: batch seed. Default: 1000000.

    Returns:
        ``task.metric`` on that batch: accuracy (higher is better) or MSE (lower is better).

    Example:
        >>> import rnnviz
        >>> task = rnnviz.tasks.Parity(seq_len=10, seed=0)
        >>> model = rnnviz.SequenceModel.from_task(task, cell="gru", hidden_size=8)
        >>> 0 <= rnnviz.evaluate(model, task, seq_len=40) <= 1
        True
    """
    _validate.task(task, ("batch", "metric", "kind"))
    for attr in ("batch_output", "check_task"):
        if not hasattr(model, attr):
            raise TypeError(_("model must be an rnnviz model (with .{attr}), got {type}").format(
                attr=attr, type=type(model).__name__))
    if seq_len is not None:
        task = with_seq_len(task, seq_len)
    _validate.positive_int("batch_size", batch_size)
    _validate.positive_int("seed", seed, allow_zero=True)
    model.check_task(task)
    x, y, lengths = task.batch(batch_size, seed=seed)
    was_training = model.training
    model.eval()
    try:
        output = model.batch_output(x, y, lengths)
    finally:
        model.train(was_training)
    return float(task.metric(output, y))
