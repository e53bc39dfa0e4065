r"""Initialise the recurrent weights W_hh and the LSTM forget-gate bias, in place.

Why it matters: the recurrent Jacobian :math:`\partial h_t / \partial h_{t-1}` is (up to the
nonlinearity) W_hh, so its size at the start decides whether gradients vanish (spectral
radius < 1) or explode (> 1) over long lags. Four schemes, for every layer and direction:

=================  ============================================================================
scheme             each (H, H) block of W_hh becomes
=================  ============================================================================
``"default"``      torch's draw U(-1/sqrt(H), 1/sqrt(H)) (what ``nn.RNN`` / ``nn.LSTM`` do)
``"orthogonal"``   a random orthogonal matrix (Saxe et al. 2014), times ``radius`` (default 1)
``"identity"``     the identity (Le, Jaitly & Hinton 2015, the "IRNN"), times ``radius`` (1)
``"radius"``       torch's draw rescaled to spectral radius ``radius`` (required)
=================  ============================================================================

For a gated cell W_hh stacks one block per gate (LSTM i, f, g, o; GRU r, z, n).
``"orthogonal"`` and ``"identity"`` set every block; ``"radius"`` rescales the candidate
block (LSTM g, GRU n), the one :func:`rnnviz.spectral_radius` measures, as
:func:`rnnviz.set_spectral_radius` does. W_ih and the biases are not touched.

The forget-gate bias (Gers, Schmidhuber & Cummins 2000; Jozefowicz et al. 2015 recommend 1):
:math:`f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})`, so
:func:`set_forget_bias` sets :math:`b_{if} = b` and :math:`b_{hf} = 0`: an untrained LSTM
keeps about :math:`\sigma(b)` of its cell state per step.

Example:
    >>> import rnnviz
    >>> model = rnnviz.LSTM(3, 8, seed=0)
    >>> _ = rnnviz.init_recurrent(model, "orthogonal", seed=0)
    >>> _ = rnnviz.set_forget_bias(model, 1.0)
    >>> model.bias_ih_l0[8:16].min().item(), model.bias_hh_l0[8:16].abs().max().item()
    (1.0, 0.0)
"""

from __future__ import annotations

import math
from typing import Any

import torch

from rnnviz import _validate
from rnnviz.i18n import _
from rnnviz.models import is_core

__all__ = ["SCHEMES", "init_recurrent", "set_forget_bias", "recurrent_cores"]

SCHEMES = ("default", "orthogonal", "identity", "radius")
_GATES = {"elman": 1, "gru": 3, "lstm": 4}  # (H, H) blocks stacked in W_hh


def recurrent_cores(model: Any) -> list[Any]:
    """The rnnviz cores of ``model``: itself (a core), its ``.core`` (a sequence model) or its
    ``.encoder`` and ``.decoder`` (a :class:`rnnviz.Seq2Seq`).

    Raises:
        TypeError: ``model`` is none of these.
    """
    if is_core(model):
        return [model]
    if is_core(getattr(model, "core", None)):
        return [model.core]
    if is_core(getattr(model, "encoder", None)) and is_core(getattr(model, "decoder", None)):
        return [model.encoder, model.decoder]
    raise TypeError(_(
        "model must be an rnnviz Elman / LSTM / GRU, a sequence model with such a .core, or a "
        "Seq2Seq, got {type}").format(type=type(model).__name__))


def _blocks(core: Any) -> list[list[torch.Tensor]]:
    """For every layer and direction, views of the (H, H) gate blocks of its W_hh."""
    H, G = core.hidden_size, _GATES[core.cell_type]
    out = []
    for layer in range(core.num_layers):
        for d in range(core.num_directions):
            w_hh = core.layer_weights(layer, d)[1]  # (G*H, H)
            out.append([w_hh[g * H:(g + 1) * H] for g in range(G)])
    return out


@torch.no_grad()
def init_recurrent(model: Any, scheme: str = "orthogonal", radius: float | None = None, *,
                   seed: int = 0) -> Any:
    """Set every recurrent matrix W_hh of ``model`` in place by ``scheme`` (see the module).

    Args:
        model: an rnnviz core, a sequence model (its ``.core``) or a ``Seq2Seq`` (encoder and
            decoder).
        scheme: ``"default"``, ``"orthogonal"``, ``"identity"`` or ``"radius"``.
        radius: the spectral radius: required for ``"radius"``; the gain of ``"orthogonal"``
            and ``"identity"`` (default 1, which is also their spectral radius); not allowed
            for ``"default"``. A finite number > 0.
        seed: seed of the random draws (``"default"``, ``"orthogonal"``, ``"radius"``); the
            global torch RNG is left untouched.

    Returns:
        ``model`` (for chaining).

    Raises:
        ValueError: unknown ``scheme``; ``radius`` missing for ``"radius"``, given for
            ``"default"``, or not a finite number > 0.
        TypeError: ``model`` is not an rnnviz model.

    Example:
        >>> import rnnviz
        >>> core = rnnviz.Elman(2, 4, nonlinearity="relu", seed=0)
        >>> _ = rnnviz.init_recurrent(core, "identity")  # the IRNN of Le et al. (2015)
        >>> core.weight_hh_l0.diag().tolist()
        [1.0, 1.0, 1.0, 1.0]
    """
    scheme = _validate.choice("scheme", scheme, SCHEMES)
    if scheme == "radius" and radius is None:
        raise ValueError(_("radius is required for scheme='radius' (the spectral radius to set, "
                           "e.g. radius=0.9)"))
    if scheme == "default" and radius is not None:
        raise ValueError(_("radius must be None for scheme='default' (torch's own draw), got "
                           "{value}").format(value=_validate._describe(radius)))
    gain = 1.0 if radius is None else _validate.positive_float("radius", radius)
    seed = _validate.seed("seed", seed)
    cores = recurrent_cores(model)
    generator = torch.Generator().manual_seed(seed)
    for core in cores:
        H = core.hidden_size
        bound = 1.0 / math.sqrt(H)
        for blocks in _blocks(core):
            if scheme == "radius":
                blocks = [blocks[-2 if core.cell_type == "lstm" else -1]]  # g (LSTM), n (GRU)
            for block in blocks:
                if scheme == "identity":
                    new = torch.eye(H, dtype=torch.float64)
                elif scheme == "orthogonal":
                    q, r = torch.linalg.qr(torch.randn(H, H, generator=generator,
                                                       dtype=torch.float64))
                    new = q * torch.sign(torch.diagonal(r))  # Haar-distributed (Mezzadri 2007)
                else:  # default and radius: torch's uniform draw
                    new = (torch.rand(H, H, generator=generator, dtype=torch.float64) * 2 - 1) * bound
                if scheme == "radius":
                    rho = float(torch.linalg.eigvals(new).abs().max())
                    new = new * (gain / rho)
                elif scheme != "default":
                    new = new * gain
                block.copy_(new.to(block.dtype))
    return model


@torch.no_grad()
def set_forget_bias(model: Any, value: float) -> Any:
    """Set the forget-gate bias of every LSTM layer and direction: ``b_if = value, b_hf = 0``.

    Args:
        model: an rnnviz LSTM, a sequence model with an LSTM core, or a ``Seq2Seq`` of LSTMs.
        value: the total forget bias, a finite number (1 is the usual choice; larger values
            make an untrained LSTM remember longer: it keeps ``sigmoid(value)`` per step).

    Returns:
        ``model`` (for chaining).

    Raises:
        ValueError: the model is not an LSTM, has no biases, or ``value`` is not finite.

    Example:
        >>> import rnnviz
        >>> core = rnnviz.LSTM(2, 3, seed=0)
        >>> _ = rnnviz.set_forget_bias(core, 2.0)
        >>> (core.bias_ih_l0 + core.bias_hh_l0)[3:6].tolist()
        [2.0, 2.0, 2.0]
    """
    if not math.isfinite(_validate.number(value)):
        raise ValueError(_("value must be a finite number, got {value}").format(
            value=_validate._describe(value)))
    cores = recurrent_cores(model)
    for core in cores:
        if core.cell_type != "lstm":
            raise ValueError(_("model must be an LSTM to have a forget gate, got cell {cell!r}")
                             .format(cell=core.cell_type))
        if not core.bias:
            raise ValueError(_("model must have biases (bias=True) to set the forget-gate bias"))
    for core in cores:
        H = core.hidden_size
        for layer in range(core.num_layers):
            for d in range(core.num_directions):
                _w_ih, _w_hh, b_ih, b_hh = core.layer_weights(layer, d)
                b_ih[H:2 * H] = float(value)  # rows H:2H are the forget gate (i, f, g, o)
                b_hh[H:2 * H] = 0.0
    return model
