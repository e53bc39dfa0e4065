r"""Sampling text from a character-level language model, with a temperature.

.. math::
    p_\tau(c \mid c_{<t}) = \operatorname{softmax}(z_t / \tau)_c, \qquad
    z_t = W_{hy} h_t + b_y \ \text{(the model's logits after reading } c_{\le t})

The temperature :math:`\tau > 0` rescales the logits before the softmax: :math:`\tau = 1` is
the model's own distribution, :math:`\tau < 1` sharpens it (safer, more repetitive text),
:math:`\tau > 1` flattens it (more surprising text, more mistakes). :math:`\tau = 0` is the
limit: always the most likely character (greedy decoding, ``argmax``).

Generation reads the prompt once, then feeds every sampled character back as the next input,
carrying the recurrent state from step to step (it does not re-read the whole text).

The module is called ``sampling`` (not ``generate``) so that ``rnnviz.generate`` is always the
function.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from rnnviz import _validate
from rnnviz.i18n import _

__all__ = ["generate", "next_distribution"]


def _check_temperature(temperature: Any) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError(_("temperature must be a number >= 0, got {value}").format(
            value=_validate._describe(temperature)))
    value = _validate.number(temperature)
    if not (0.0 <= value < math.inf):
        raise ValueError(_("temperature must be a finite number >= 0, got {value!r}").format(
            value=temperature))
    return value


def _check_model_and_task(model: Any, task: Any) -> None:
    """A per-step, forward-only symbol model whose input and output vocab is ``task.vocab``."""
    for attr in ("encode", "core", "readout", "readout_type", "input_size", "output_size"):
        if not hasattr(model, attr):
            raise TypeError(_(
                "model must be an rnnviz.SequenceModel (e.g. SequenceModel.from_task(task)), "
                "got {type}").format(type=type(model).__name__))
    vocab = getattr(task, "vocab", None)
    if not isinstance(vocab, list) or not hasattr(task, "encode") or not hasattr(task, "decode"):
        raise TypeError(_(
            "task must be an rnnviz task with a symbol vocab (e.g. tasks.CharText), "
            "got {type}").format(type=type(task).__name__))
    if model.readout_type != "per_step":
        raise ValueError(_(
            "model must read out at every step (readout='per_step') to predict the next symbol, "
            "got readout={readout!r}").format(readout=model.readout_type))
    if getattr(model, "encoding", "onehot") == "identity":
        raise ValueError(_("model must take symbol ids (encoding 'onehot' or 'embedding'), got "
                           "'identity'"))
    if getattr(model, "bidirectional", False):
        raise ValueError(_("model must be unidirectional: a bidirectional model reads the future"))
    if model.input_size != len(vocab) or model.output_size != len(vocab):
        raise ValueError(_(
            "model must have input_size = output_size = len(task.vocab) = {n} (each "
            "sampled symbol is fed back in), got input_size={input_size}, "
            "output_size={output_size}").format(n=len(vocab), input_size=model.input_size,
                                                output_size=model.output_size))


def _probabilities(logits: Tensor, temperature: float) -> Tensor:
    """softmax(logits / temperature) over the last axis; one-hot at the argmax for 0."""
    if temperature == 0.0:
        probs = torch.zeros_like(logits)  # (..., V)
        return probs.scatter_(-1, logits.argmax(dim=-1, keepdim=True), 1.0)
    return torch.softmax(logits / temperature, dim=-1)  # (..., V)


def _encode_prompt(task: Any, prompt: Any) -> Tensor:
    if not isinstance(prompt, str):
        raise TypeError(_("prompt must be a str, got {value}").format(
            value=_validate._describe(prompt)))
    if not prompt:
        raise ValueError(_("prompt must have at least one character (the model needs an input to "
                           "start from)"))
    unknown = sorted(set(prompt) - set(task.vocab))
    if unknown:
        raise ValueError(_("prompt must use characters of task.vocab, got some not in the vocab: "
                           "{unknown}").format(unknown=unknown))
    return task.encode(prompt).view(1, -1)  # (1, P)


@torch.no_grad()
def next_distribution(model: Any, task: Any, prompt: str, *, temperature: float = 1.0) -> Tensor:
    """The distribution of the character that follows ``prompt``: softmax(logits / temperature).

    Args:
        model: an :class:`rnnviz.SequenceModel` with a per-step readout, built for ``task``.
        task: a symbol task (e.g. :class:`rnnviz.tasks.CharText`); its vocab names the ids.
        prompt: the text read so far (non-empty, characters from ``task.vocab``).
        temperature: ``>= 0``; 1 is the model's own distribution, 0 puts all mass on the argmax.

    Shapes:
        returns ``(V,)`` probabilities, ``V = len(task.vocab)``, summing to 1.

    Example:
        >>> import rnnviz
        >>> task = rnnviz.tasks.CharText(seq_len=16)
        >>> model = rnnviz.SequenceModel.from_task(task, hidden_size=8, seed=0)
        >>> p = next_distribution(model, task, "The sea", temperature=0.5)
        >>> p.shape == (len(task.vocab),), round(float(p.sum()), 4)
        (True, 1.0)
    """
    _check_model_and_task(model, task)
    temperature = _check_temperature(temperature)
    ids = _encode_prompt(task, prompt)  # (1, P)
    _validate.finite_weights("model", model)
    was_training = model.training
    model.eval()
    try:
        logits = model(ids)[0, -1]  # (V,)
    finally:
        model.train(was_training)
    return _probabilities(logits, temperature)


@torch.no_grad()
def generate(
    model: Any, task: Any, prompt: str, length: int, *, temperature: float = 1.0, seed: int = 0
) -> str:
    """Continue ``prompt`` by ``length`` characters sampled from the model at ``temperature``.

    Steps: 1. read the prompt, keep the final state and the logits of the next character;
    2. pick a character: ``argmax`` if ``temperature == 0``, else a draw from
    softmax(logits / temperature) with a generator seeded by ``seed``; 3. feed it back as the
    next input (the state carries over) and repeat.

    Same arguments give the same text on the same machine. (Across machines, float rounding
    can differ in the last bit, which can change a draw that falls on a boundary.)

    Args:
        model: an :class:`rnnviz.SequenceModel` with a per-step readout whose input and output
            vocab is ``task.vocab`` (e.g. ``SequenceModel.from_task(CharText(...))``).
        task: the symbol task that names the ids (``task.encode`` / ``task.decode``).
        prompt: the text to start from (non-empty, characters from ``task.vocab``).
        length: number of characters to generate (``>= 0``).
        temperature: ``>= 0``; 1 samples the model's distribution, < 1 sharpens it, > 1
            flattens it, 0 is greedy (always the most likely character).
        seed: seed of the sampling generator (the global torch RNG is not used).

    Returns:
        The ``length`` generated characters (without the prompt).

    Example:
        >>> import rnnviz
        >>> task = rnnviz.tasks.CharText(seq_len=16)
        >>> model = rnnviz.SequenceModel.from_task(task, hidden_size=8, seed=0)
        >>> text = generate(model, task, "The ", 20, temperature=0.8, seed=0)
        >>> len(text), set(text) <= set(task.vocab)
        (20, True)
    """
    # 1. check the arguments
    _check_model_and_task(model, task)
    temperature = _check_temperature(temperature)
    length = _validate.steps("length", length, allow_zero=True)
    seed = _validate.seed("seed", seed)
    ids = _encode_prompt(task, prompt)  # (1, P)
    _validate.finite_weights("model", model)
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        # 2. read the prompt once
        out, state = model.core(model.encode(ids))  # (1, P, H)
        logits = model.readout(out)[0, -1]  # (V,)
        picked: list[int] = []
        for _step in range(length):
            # 3. pick the next character and feed it back
            _validate.finite(_("model's logits"), logits[None, None])  # overflow, e.g. ReLU
            if temperature == 0.0:
                nxt = int(logits.argmax())
            else:
                probs = _probabilities(logits.double(), temperature)  # (V,)
                nxt = int(torch.multinomial(probs, 1, generator=generator))
            picked.append(nxt)
            x = torch.tensor([[nxt]], dtype=torch.long)  # (1, 1)
            out, state = model.core(model.encode(x), state)  # (1, 1, H)
            logits = model.readout(out)[0, -1]  # (V,)
    finally:
        model.train(was_training)
    return task.decode(picked)
