"""The dashboard's readout: per time step, what went in, the target and what the model says."""

from __future__ import annotations

from typing import Any

import torch

from rnnviz._types import Trace
from rnnviz.i18n import _
from rnnviz.views import _data as D


def _label(vocab: list[str] | None, value: int) -> str:
    if vocab is not None and 0 <= value < len(vocab):
        return vocab[value]
    return str(value)


def readout(trainer: Any, trace: Trace, sample: int) -> list[str]:
    """Per time step of ``sample``: what went in, the target and what the model says."""
    task = trainer.task
    T = trace.seq_len
    x = trace.inputs[sample]
    # plain lists first: iterating a tensor makes a tensor of every element (~1 ms a frame)
    ins = ([_label(task.vocab, int(v)) for v in x.tolist()] if x.dim() == 1
           else [", ".join(f"{v:.2f}" for v in row) for row in x[:, :3].tolist()])
    out = trace.output[sample] if trace.output is not None else None
    y = trace.target[sample] if trace.target is not None else None
    lines = [_("input {x}").format(x=ins[t]) for t in range(T)]
    if out is not None and out.dim() == 2 and y is not None:  # a prediction at every step
        said = _says_all(task, out, y)
        lines = [f"{line} · {s}" for line, s in zip(lines, said, strict=True)]
    elif out is not None and out.dim() == 1:
        last = D.length_of(trace, sample) - 1
        lines[last] += " · " + _says(task, out, y)
    return lines


def _says_all(task: Any, out: torch.Tensor, y: torch.Tensor) -> list[str]:
    """:func:`_says` for every step of ``out`` (T, O) against ``y`` (T, ...), vectorised."""
    if getattr(task, "loss_name", "") != "cross_entropy":
        return [_says(task, out[t], y[t]) for t in range(out.shape[0])]
    p = torch.softmax(out.float(), dim=-1)  # (T, O)
    conf, k = p.max(dim=-1)  # (T,)
    vocab = getattr(task, "output_vocab", None)
    lines = []
    for kt, ct, yt in zip(k.tolist(), conf.tolist(), y.tolist(), strict=True):
        said = _("says {y} ({p})").format(y=_label(vocab, kt), p=f"{ct:.0%}")
        if yt < 0:
            lines.append(said + " · " + _("not scored"))
        else:
            lines.append(_("target {y}").format(y=_label(vocab, yt))
                         + f" · {said} {'✓' if kt == yt else '✗'}")
    return lines


def _says(task: Any, out: torch.Tensor, y: torch.Tensor | None) -> str:
    if getattr(task, "loss_name", "") == "cross_entropy":
        p = torch.softmax(out.float(), dim=-1)
        k = int(p.argmax())
        vocab = getattr(task, "output_vocab", None)
        said = _("says {y} ({p})").format(y=_label(vocab, k), p=f"{float(p[k]):.0%}")
        if y is None or int(y) < 0:
            return said + " · " + _("not scored")
        ok = "✓" if k == int(y) else "✗"
        return _("target {y}").format(y=_label(vocab, int(y))) + f" · {said} {ok}"
    vals = ", ".join(f"{float(v):.2f}" for v in out.flatten()[:3])
    if y is None:
        return _("says {y}").format(y=vals)
    want = ", ".join(f"{float(v):.2f}" for v in y.flatten()[:3])
    return _("target {y}").format(y=want) + " · " + _("says {y}").format(y=vals)
