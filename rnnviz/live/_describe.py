"""The dashboard's words about its model: the headline, the probe's number of time steps,
and, per step, the readout of the sequence shown (a sequence model's from
``_figures.readout``; an encoder-decoder's here: what the decoder read, the target and
what it wrote)."""

from __future__ import annotations

from typing import Any

import torch

from rnnviz._types import Seq2SeqTrace
from rnnviz.i18n import _, ngettext
from rnnviz.live import _figures as F


def title(trainer: Any, trace: Any) -> str:
    """The headline: model (cell, size, layers) and task."""
    model = trainer.model
    name = getattr(trainer.task, "name", type(trainer.task).__name__)
    if isinstance(trace, Seq2SeqTrace):
        head = f"Seq2Seq {trace.cell_type.upper()}"
        attention = getattr(model, "attention_type", None)
        if attention:
            # TRANSLATORS: {kind} is "dot" or "additive" (an identifier)
            head += " + " + _("{kind} attention").format(kind=attention)
        size, layers = trace.hidden_size, trace.num_layers
    else:
        head, size, layers = trace.cell_type.upper(), model.core.hidden_size, model.core.num_layers
    n_layers = ngettext("{n} layer", "{n} layers", layers).format(n=layers)
    return _("{cell} · hidden {size} · {layers} · task {task}").format(
        cell=head, size=size, layers=n_layers, task=name)


def seq_len(trace: Any) -> int:
    """T of the time cursor: the probe's steps (an encoder-decoder's: the decoder's)."""
    return trace.decoder.seq_len if isinstance(trace, Seq2SeqTrace) else trace.seq_len


def readout(trainer: Any, trace: Any, sample: int) -> list[str]:
    """Per time step of ``sample``: what went in, the target and what the model says."""
    if isinstance(trace, Seq2SeqTrace):
        return seq2seq_readout(trace, sample)
    return F.readout(trainer, trace, sample)


def _name(vocab: list[str] | None, i: int) -> str:
    return vocab[i] if vocab is not None and 0 <= i < len(vocab) else str(i)


def seq2seq_readout(trace: Seq2SeqTrace, sample: int) -> list[str]:
    """Per decoder step t of ``sample``: the word read (``<go>`` first), the target and the
    word written with its probability, ✓ / ✗; steps without a target are "not scored".
    The source leads every line (the decoder's steps all depend on it)."""
    s = int(sample) % trace.batch_size
    n_src = int(trace.lengths[s])
    source = "".join(_name(trace.vocab, i) for i in trace.source[s, :n_src].tolist())
    p = torch.softmax(trace.output[s].float(), dim=-1)  # (T, O)
    conf, said = p.max(dim=-1)  # (T,)
    out_vocab = trace.output_vocab
    target = trace.target[s].tolist() if trace.target is not None else None
    lines = []
    for t, (read, k, c) in enumerate(zip(trace.decoder.inputs[s].tolist(), said.tolist(),
                                         conf.tolist(), strict=True)):
        word = "<go>" if read == trace.start else _name(out_vocab, read)
        says = _("says {y} ({p})").format(y=_name(out_vocab, k), p=f"{c:.0%}")
        head = _("source {x} · reads {word}").format(x=source, word=word)
        if target is None:
            lines.append(f"{head} · {says}")
        elif target[t] < 0:
            lines.append(f"{head} · {says} · " + _("not scored"))
        else:
            ok = "✓" if k == target[t] else "✗"
            target_t = _("target {y}").format(y=_name(out_vocab, target[t]))
            lines.append(f"{head} · {target_t} · {says} {ok}")
    return lines
