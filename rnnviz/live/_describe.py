"""The dashboard's words about its model: the headline, the probe's number of time steps,
and, per step, the readout of the sequence shown (a sequence model's from
``_figures.readout``; an encoder-decoder's here: what the decoder read, the target and
what it wrote)."""

from __future__ import annotations

from typing import Any

import torch

from rnnviz._types import Seq2SeqTrace
from rnnviz.live import _figures as F


def title(trainer: Any, trace: Any) -> str:
    """The headline: model (cell, size, layers) and task."""
    model = trainer.model
    name = getattr(trainer.task, "name", type(trainer.task).__name__)
    if isinstance(trace, Seq2SeqTrace):
        head = f"Seq2Seq {trace.cell_type.upper()}"
        attention = getattr(model, "attention_type", None)
        if attention:
            head += f" + {attention} attention"
        size, layers = trace.hidden_size, trace.num_layers
    else:
        head, size, layers = trace.cell_type.upper(), model.core.hidden_size, model.core.num_layers
    return (f"{head} · hidden {size} · {layers} layer{'s' if layers > 1 else ''} · "
            f"task {name}")


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
        says = f"says {_name(out_vocab, k)} ({c:.0%})"
        if target is None:
            lines.append(f"source {source} · reads {word} · {says}")
        elif target[t] < 0:
            lines.append(f"source {source} · reads {word} · {says} · not scored")
        else:
            ok = "✓" if k == target[t] else "✗"
            lines.append(f"source {source} · reads {word} · target "
                         f"{_name(out_vocab, target[t])} · {says} {ok}")
    return lines
