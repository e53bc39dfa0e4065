"""Length generalisation: the same task at another sequence length."""

from __future__ import annotations

import inspect
from typing import Any

from rnnviz import _validate
from rnnviz.i18n import _


def with_seq_len(task: Any, seq_len: int) -> Any:
    """A copy of ``task`` that makes sequences of ``seq_len`` steps, all else unchanged.

    Same class, same arguments and the same task seed: only T differs. A trained
    :class:`rnnviz.SequenceModel` runs on any length, so "train at T, test at 2T" is
    ``rnnviz.evaluate(model, with_seq_len(task, 2 * T))`` (or ``rnnviz.evaluate(model, task,
    seq_len=2 * T)``).

    Args:
        task: a task whose class takes a ``seq_len`` argument (Echo, Parity, Brackets, Sine,
            SineFromFrequency, Sentiment, ...). Tasks whose length follows from other
            arguments (DelayedRecall's ``lag``, Copy's ``length`` and ``delay``) are rebuilt by
            hand instead.
        seq_len: the new T.

    Raises:
        ValueError: ``seq_len`` is not a positive int, the task has no ``seq_len`` argument,
            or the task does not allow this length (the task's own message).

    Example:
        >>> from rnnviz import tasks
        >>> long = with_seq_len(tasks.Parity(seq_len=10, seed=3), 40)
        >>> long.seq_len, long.seed
        (40, 3)
    """
    _validate.task(task, ("seq_len", "seed", "batch"))
    _validate.positive_int("seq_len", seq_len)
    cls = type(task)
    params = dict(getattr(task, "_params", {}))
    if "seq_len" not in inspect.signature(cls).parameters or "seq_len" not in params:
        raise ValueError(_(
            "seq_len cannot be changed for {task}: its length follows from its other "
            "arguments {params}; build a new {task} with longer ones instead"
        ).format(task=cls.__name__, params=sorted(params)))
    params["seq_len"] = seq_len
    try:
        return cls(**params, seed=task.seed)
    except (TypeError, ValueError) as err:
        raise ValueError(_("seq_len={seq_len}: cannot rebuild {task} with it: {error}").format(
            seq_len=seq_len, task=cls.__name__, error=err)) from err
