"""Argument checks for the public API: each error names the argument, what was expected and what came.

The messages are in the language in force (:mod:`rnnviz.i18n`); the argument's ``name`` is
inserted as given: a Python identifier stays as it is, and a caller that passes a phrase
(``"the time steps T of x"``) translates it first, ``_("the time steps T of x")``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

from rnnviz.i18n import N_, _, pgettext


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return _("a tensor of shape {shape} and dtype {dtype}").format(
            shape=tuple(value.shape), dtype=value.dtype)
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def task(value: Any, attrs: Iterable[str]) -> None:
    """Raise a TypeError unless ``value`` has every attribute in ``attrs`` (an rnnviz task)."""
    for attr in attrs:
        if not hasattr(value, attr):
            raise TypeError(_("task must be an rnnviz task (with .{attr}), got {type}").format(
                attr=attr, type=type(value).__name__))


def positive_int(name: str, value: Any, *, allow_zero: bool = False) -> int:
    """Return ``value`` if it is an int > 0 (or >= 0), else raise naming ``name``."""
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        message = (_("{name} must be a non-negative int, got {value}") if allow_zero
                   else _("{name} must be a positive int, got {value}"))
        raise ValueError(message.format(name=name, value=_describe(value)))
    return value


def seed(name: str, value: Any) -> int:
    """Return ``value`` if it is an int in ``[0, 2**64)``, the seeds torch's generators take."""
    positive_int(name, value, allow_zero=True)
    if value >= 2**64:
        raise ValueError(_("{name} must be below 2**64 (torch seeds are 64-bit), got {value}")
                         .format(name=name, value=value))
    return value


def number(value: Any) -> float:
    """``value`` as a float if it is a real number (not a bool), ``inf`` if too large for one,
    ``nan`` if it is not a number at all: compare the result, it never raises."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an int beyond 1.8e308
        return math.inf if value > 0 else -math.inf


def positive_float(name: str, value: Any, *, allow_none: bool = False,
                   high: float = math.inf) -> float | None:
    """Return ``value`` as a float if it is a finite number in ``(0, high]``."""
    if value is None and allow_none:
        return None
    if not (0 < number(value) < math.inf):
        raise ValueError(_("{name} must be a positive finite number, got {value}").format(
            name=name, value=_describe(value)))
    if number(value) > high:
        raise ValueError(_("{name} must be a positive finite number at most {high}, got "
                           "{value}").format(name=name, high=f"{high:g}", value=_describe(value)))
    return float(value)


def choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` lower-cased if it is one of ``choices``."""
    options = list(choices)
    if not isinstance(value, str) or value.lower() not in options:
        raise ValueError(_("{name} must be one of {options}, got {value}").format(
            name=name, options=options, value=_describe(value)))
    return value.lower()


def tensor(
    name: str,
    value: Any,
    *,
    ndim: int | tuple[int, ...] | None = None,
    floating: bool | None = None,
    integer: bool | None = None,
) -> torch.Tensor:
    """Check that ``value`` is a tensor of the given rank and dtype kind."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(_("{name} must be a torch.Tensor, got {value}").format(
            name=name, value=_describe(value)))
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else ndim
        if value.dim() not in dims:
            # TRANSLATORS: {want} is "3" or "2 or 3"
            want = pgettext("alternatives", " or ").join(str(d) for d in dims)
            raise ValueError(_("{name} must have {want} dimensions, got {ndim} (shape {shape})")
                             .format(name=name, want=want, ndim=value.dim(),
                                     shape=tuple(value.shape)))
    if floating and not value.is_floating_point():
        raise TypeError(_("{name} must be a floating-point tensor, got dtype {dtype}").format(
            name=name, dtype=value.dtype))
    if integer and (value.is_floating_point() or value.is_complex() or value.dtype == torch.bool):
        raise TypeError(_("{name} must be an integer tensor, got dtype {dtype}").format(
            name=name, dtype=value.dtype))
    return value


def size(name: str, actual: int, expected: int, what: str) -> None:
    """Raise if a dimension does not have the expected size (``what``, translated by the
    caller, names it: ``_("last dimension (input_size)")``)."""
    if actual != expected:
        # TRANSLATORS: {what} names a dimension, e.g. "last dimension (input_size)"
        raise ValueError(_("{name} must have {what} = {expected}, got {actual}").format(
            name=name, what=what, expected=expected, actual=actual))


# ---------------------------------------------------------------------------------------------
# size limits: one place, one mechanism (``rnnviz.limits.<name> = <larger value>``)


class Limits:
    """Sizes beyond which rnnviz refuses to start work, so a typo never hangs or kills a kernel.

    Every limit says why it is there. A user who really wants more raises it explicitly, for
    the rest of the session: ``rnnviz.limits.max_steps = 1_000_000``.

    Attributes:
        max_steps: time steps of one sequence, generation, decoding, dilation or stride (each
            step of the explicit loop and of ``generate`` is a Python iteration, 0.1-1 ms on
            a shared laptop core; 10 000 of them take up to ~10 s, and a ``trace`` keeps
            every one of them).
        max_elements: numbers in one tensor rnnviz is asked to make (a batch, a weight matrix,
            a one-hot table): 50 000 000 float32 numbers are 200 MB.
        max_drawn: time steps (or characters) one figure draws: each is several SVG
            elements; at 5 000 a view takes ~5 s to build, more stalls the browser.
    """

    max_steps: int = 10_000
    max_elements: int = 50_000_000
    max_drawn: int = 5_000

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in _WHY:
            raise AttributeError(_("rnnviz.limits has no limit {name!r} (one of {names})").format(
                name=name, names=list(_WHY)))
        object.__setattr__(self, name, positive_int(f"limits.{name}", value))

    def __repr__(self) -> str:
        return "Limits(" + ", ".join(f"{k}={getattr(self, k):_}" for k in _WHY) + ")"


_WHY = {  # translated where shown
    "max_steps": N_("each step is one Python iteration and a trace keeps every one"),
    "max_elements": N_("50 000 000 float32 numbers are 200 MB"),
    "max_drawn": N_("each drawn step is several SVG elements; more stalls the browser"),
}

limits = Limits()


def at_most(name: str, value: int, limit: str) -> int:
    """Return ``value`` if it is within ``rnnviz.limits.<limit>``, else raise naming ``name``.

    Raises:
        ValueError: ``value`` exceeds the limit; the message says why and how to raise it.
    """
    bound = getattr(limits, limit)
    if value > bound:
        why = _(_WHY[limit]) if bound == getattr(Limits, limit) else _("a limit set in this session")
        raise ValueError(_(
            "{name} must be at most {bound} (rnnviz.limits.{limit}: {why}), got {value}; "
            "to go further on purpose, set rnnviz.limits.{limit} = {raw}"
        ).format(name=name, bound=f"{bound:_}", limit=limit, why=why, value=f"{value:_}",
                 raw=value))
    return value


def steps(name: str, value: Any, *, allow_zero: bool = False) -> int:
    """A positive (or non-negative) int no larger than ``rnnviz.limits.max_steps``."""
    return at_most(name, positive_int(name, value, allow_zero=allow_zero), "max_steps")


def elements(name: str, *sizes: int) -> None:
    """Raise unless a tensor of shape ``sizes`` is within ``rnnviz.limits.max_elements``."""
    total = 1
    for s in sizes:
        total *= int(s)
    if total > limits.max_elements:
        shape = " x ".join(f"{int(s):_}" for s in sizes)
        at_most(_("{name} ({shape} numbers)").format(name=name, shape=shape), total,
                "max_elements")


# ---------------------------------------------------------------------------------------------
# values


def iterable(name: str, value: Any) -> list[Any]:
    """``value`` as a list if it is iterable (and not a str), else a TypeError naming ``name``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(_("{name} must be a list (or other iterable), got {value}").format(
            name=name, value=_describe(value)))
    return list(value)


def flag(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (``'yes'``, ``'no'``, 0 and 1 are not flags)."""
    if not isinstance(value, bool):
        raise TypeError(_("{name} must be a bool (True or False), got {value}").format(
            name=name, value=_describe(value)))
    return value


def float_dtype(name: str, value: Any) -> Any:
    """Return ``value`` if it is ``None`` or a floating torch dtype (weights must be floats)."""
    if value is not None and (not isinstance(value, torch.dtype) or not value.is_floating_point):
        raise TypeError(_("{name} must be None or a floating torch dtype (e.g. torch.float32), "
                          "got {value}").format(name=name, value=_describe(value)))
    return value


def text(name: str, value: Any, *, allow_none: bool = False) -> str | None:
    """Return ``value`` if it is a str (or ``None`` when allowed)."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        message = (_("{name} must be a str or None, got {value}") if allow_none
                   else _("{name} must be a str, got {value}"))
        raise TypeError(message.format(name=name, value=_describe(value)))
    return value


def finite(name: str, value: Any, *, dims: tuple[str, ...] = ("batch", "step")) -> Any:
    """Return ``value``; raise if it is a floating tensor holding NaN or inf.

    One ``torch.isfinite(value).all()``; only on failure is the first bad element located.
    ``dims`` names the leading dimensions for the message (``("step", "batch")`` for a
    time-first input, ``("layer", "batch")`` for a state).

    Raises:
        ValueError: naming ``name``, the first non-finite value and where it is.
    """
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        ok = torch.isfinite(value)
        if not bool(ok.all()):
            index = (~ok).nonzero()[0].tolist()
            bad = float(value[tuple(index)])
            where = ", ".join(f"{_dim(d)} {i}" for d, i in zip(dims, index, strict=False))
            where = f"({where})"
            if len(index) > len(dims):
                where = _("{where}, index {index}").format(where=where, index=tuple(index))
            raise ValueError(_("{name} must be finite (no NaN or inf), got {bad} at {where}")
                             .format(name=name, bad=bad, where=where))
    return value


def _dim(d: str) -> str:
    """A leading dimension's name for :func:`finite`'s message, in the language in force."""
    words = {"batch": pgettext("tensor index", "batch"), "step": pgettext("tensor index", "step"),
             "layer": pgettext("tensor index", "layer")}
    return words.get(d, d)


def state_finite(name: str, value: Any) -> Any:
    """:func:`finite` for a state ``(L*D, B, H)`` or an LSTM pair ``(h, c)`` of them."""
    if isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            finite(f"{name}[{i}]", v, dims=("layer", "batch"))
        return value
    return finite(name, value, dims=("layer", "batch"))


def class_targets(name: str, y: torch.Tensor, num_classes: int, *, ignore: int | None = None) -> torch.Tensor:
    """Return ``y``; raise unless every entry is a class id in ``[0, num_classes)`` (or ``ignore``).

    Raises:
        ValueError: naming ``name``, the allowed range and the first value outside it.
    """
    scored = y if ignore is None else y[y != ignore]
    if scored.numel() and (int(scored.min()) < 0 or int(scored.max()) >= num_classes):
        bad = scored[(scored < 0) | (scored >= num_classes)][0]
        if ignore is None:
            message = _("{name} must hold class ids in [0, {n}), got {bad} (values from {low} "
                        "to {high})")
        else:
            message = _("{name} must hold class ids in [0, {n}) (or {ignore}: not scored), got "
                        "{bad} (values from {low} to {high})")
        raise ValueError(message.format(name=name, n=num_classes, ignore=ignore, bad=int(bad),
                                        low=int(scored.min()), high=int(scored.max())))
    return y


def int_ids(name: str, values: Any) -> list[int]:
    """A 1-D sequence (or tensor) of ints as a list; floats such as ``1.5`` are not ids.

    Raises:
        TypeError: ``values`` is a str, not a sequence, or holds a non-integer.
    """
    if isinstance(values, torch.Tensor):
        if values.dim() != 1:
            raise ValueError(_("{name} must be 1-D (one sequence of ids), got shape {shape}")
                             .format(name=name, shape=tuple(values.shape)))
        tensor(name, values, integer=True)
        return [int(v) for v in values.tolist()]
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(_("{name} must be a sequence of int ids, got {value}").format(
            name=name, value=_describe(values)))
    out = list(values)
    for i, v in enumerate(out):
        if isinstance(v, (list, tuple)):
            raise ValueError(_("{name} must be 1-D (one sequence of ids, not a batch), got "
                               "{name}[{i}] = {value}").format(name=name, i=i, value=_describe(v)))
        if isinstance(v, bool) or not isinstance(v, int) and not _is_int_scalar(v):
            raise TypeError(_("{name} must hold int ids, got {name}[{i}] = {value}").format(
                name=name, i=i, value=_describe(v)))
    return [int(v) for v in out]


def _is_int_scalar(v: Any) -> bool:
    """A numpy or 0-d torch integer (``np.int64(3)``, ``torch.tensor(3)``)."""
    if isinstance(v, torch.Tensor):
        return v.dim() == 0 and not v.is_floating_point() and not v.is_complex() and v.dtype != torch.bool
    return type(v).__module__ == "numpy" and hasattr(v, "dtype") and v.dtype.kind in "iu"


def same_dtype(name: str, value: torch.Tensor, dtype: torch.dtype, owner: str) -> torch.Tensor:
    """Raise a TypeError unless ``value`` has ``owner``'s dtype (e.g. a cell's weights)."""
    if value.dtype != dtype:
        # TRANSLATORS: {owner} is an identifier such as "cell" or "model"
        raise TypeError(_(
            "{name} must have the {owner}'s dtype {dtype}, got {got} "
            "(convert with {name}.to({dtype}) or the {owner} with .to({got}))"
        ).format(name=name, owner=owner, dtype=dtype, got=value.dtype))
    return value


def scalar_loss(loss: Any, *, needs_grad: bool = False) -> torch.Tensor:
    """Return ``loss`` if it is what a ``loss_fn`` must return: a one-element float tensor
    (with a graph to the weights when ``needs_grad``).

    Raises:
        TypeError: not a tensor (e.g. a Python float: it has no gradient).
        ValueError: more than one element, or no graph to the weights.
    """
    if not isinstance(loss, torch.Tensor):
        raise TypeError(_("loss_fn must return a scalar tensor (with a gradient), got {value}")
                        .format(value=_describe(loss)))
    if loss.numel() != 1 or not loss.is_floating_point():
        raise ValueError(_("loss_fn must return a scalar tensor, got {value}").format(
            value=_describe(loss)))
    if needs_grad and not loss.requires_grad:
        raise ValueError(_(
            "loss_fn must return a loss computed from the model's output (it has no gradient "
            "to the weights), got a constant tensor"
        ))
    return loss


def rescalable(name: str, tensors: list[torch.Tensor], factors: list[float]) -> None:
    """Raise unless every ``tensor * factor`` stays finite in the tensor's own dtype.

    Raises:
        ValueError: naming ``name``, the first tensor that would overflow to inf.
    """
    for i, (t, f) in enumerate(zip(tensors, factors, strict=True)):
        if not bool(torch.isfinite(t.detach().abs().max() * f)):
            raise ValueError(_("{name} must keep the {dtype} weights finite: rescaling matrix "
                               "{i} by {factor} would overflow them to inf").format(
                name=name, dtype=t.dtype, i=i, factor=f"{f:g}"))


def same(name: str, values: Iterable[Any], what: str) -> None:
    """Raise a ValueError unless every value is equal (``what`` says which property)."""
    seen = list(values)
    if any(v != seen[0] for v in seen[1:]):
        first = next(i for i, v in enumerate(seen) if v != seen[0])
        # TRANSLATORS: {what} names a property (translated by the caller), e.g. "model"
        raise ValueError(_(
            "{name} must all have the same {what}, got {first!r} at 0 and {other!r} at {index}"
        ).format(name=name, what=what, first=seen[0], other=seen[first], index=first))


def finite_weights(name: str, model: Any) -> Any:
    """Return ``model``; raise if one of its parameters holds NaN or inf.

    Raises:
        ValueError: naming ``name`` and the first parameter with a non-finite value.
    """
    for pname, p in model.named_parameters():
        if not bool(torch.isfinite(p).all()):
            raise ValueError(_(
                "{name} must have finite weights, got NaN or inf in {param} (a diverged run? "
                "reset or reload the weights)"
            ).format(name=name, param=pname))
    return model
