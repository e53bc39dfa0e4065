"""Seeded demonstration tasks for recurrent networks, all with one interface (`Task`).

Every task makes batches with ``task.batch(batch_size, seed=...)``, scores a model's output
with ``task.loss`` and ``task.metric``, and tells what a network without memory would score
with ``task.baseline()``.

=====================  =============  =========================================================
task                   kind           what the network must do
=====================  =============  =========================================================
``Echo``               synced         output the symbol seen ``delay`` steps ago
``Lookahead``          synced         output the symbol that comes ``ahead`` steps later
``NeighbourXor``       synced         XOR of the bits ``distance`` steps before and after
``DelayedRecall``      many_to_one    name the first symbol after ``lag`` distractors
``Copy``               many_to_many   read a string, wait, write it back
``Reverse``            many_to_many   write a string backwards (toy translation, encoder-decoder)
``Adding``             many_to_one    add the two marked numbers (Hochreiter & Schmidhuber 1997)
``TemporalOrder``      many_to_one    say whether X or Y came first (Hochreiter & Schmidhuber 1997)
``Parity``             synced         running parity of bits
``Brackets``           synced         current nesting depth of brackets
``Sine``               synced         next value of a sine wave (real-valued)
``CharText``           synced         next character of a small story
``Names``              many_to_one    language of a surname (variable length)
``SineFromFrequency``  one_to_many    from a period given at step 0, generate the sine wave
``Sentiment``          many_to_one    positive or negative; "not" flips the word after it
=====================  =============  =========================================================

``with_seq_len(task, n)`` rebuilds a task at another length (train at T, test at 2T);
``rnnviz.evaluate(model, task, seq_len=n)`` scores a trained model there.

Example:
    >>> import rnnviz
    >>> task = rnnviz.tasks.get("echo", delay=3)
    >>> x, y, lengths = task.batch(8, seed=0)
    >>> x.shape, y.shape
    (torch.Size([8, 12]), torch.Size([8, 12]))
"""

from __future__ import annotations

import difflib
from typing import Any

from rnnviz.i18n import _
from rnnviz.tasks._base import IGNORE_INDEX, Task
from rnnviz.tasks.context import Lookahead, NeighbourXor
from rnnviz.tasks.counting import Brackets, Parity
from rnnviz.tasks.generation import SineFromFrequency
from rnnviz.tasks.lengths import with_seq_len
from rnnviz.tasks.lstm1997 import Adding, TemporalOrder
from rnnviz.tasks.memory import Copy, DelayedRecall, Echo
from rnnviz.tasks.sentiment import Sentiment
from rnnviz.tasks.signals import Sine
from rnnviz.tasks.text import CharText, Names
from rnnviz.tasks.translation import Reverse

_REGISTRY: dict[str, type[Task]] = {
    cls.name: cls
    for cls in (
        Echo,
        DelayedRecall,
        Copy,
        Adding,
        TemporalOrder,
        Parity,
        Brackets,
        Sine,
        CharText,
        Names,
        Reverse,
        Lookahead,
        NeighbourXor,
        SineFromFrequency,
        Sentiment,
    )
}


def _key(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


def names() -> list[str]:
    """Registry names of all tasks, e.g. ``["echo", "delayed_recall", ...]``."""
    return list(_REGISTRY)


def get(name: str, **kwargs: Any) -> Task:
    """Build a task by name: ``get("echo", delay=3)``; the class name works too.

    Raises:
        ValueError: unknown name (the message lists the known ones) or bad task arguments.
    """
    if not isinstance(name, str):
        raise TypeError(_("name must be a task name (str), got {type}").format(
            type=type(name).__name__))
    by_key = {_key(k): cls for k, cls in _REGISTRY.items()}
    cls = by_key.get(_key(name))
    if cls is None:
        close = difflib.get_close_matches(name.lower(), names(), n=1)
        message = _("unknown task {name!r}; known tasks: {known}.").format(name=name, known=names())
        if close:
            message += " " + _("Did you mean {close!r}?").format(close=close[0])
        raise ValueError(message)
    try:
        return cls(**kwargs)
    except TypeError as err:
        if "unexpected keyword" in str(err):
            raise TypeError(_("{task}: {error}; see help(rnnviz.tasks.{task})").format(
                task=cls.__name__, error=err)) from None
        raise


__all__ = [
    "IGNORE_INDEX",
    "Adding",
    "Brackets",
    "CharText",
    "Copy",
    "DelayedRecall",
    "Echo",
    "Lookahead",
    "Names",
    "NeighbourXor",
    "Parity",
    "Reverse",
    "Sentiment",
    "Sine",
    "SineFromFrequency",
    "Task",
    "TemporalOrder",
    "get",
    "names",
    "with_seq_len",
]
