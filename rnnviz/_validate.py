"""Argument checks for the public API: each error names the argument, what was expected and what came."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def task(value: Any, attrs: Iterable[str]) -> None:
    """Raise a TypeError unless ``value`` has every attribute in ``attrs`` (an rnnviz task)."""
    for attr in attrs:
        if not hasattr(value, attr):
            raise TypeError(f"task must be an rnnviz task (with .{attr}), got {type(value).__name__}")


def positive_int(name: str, value: Any, *, allow_zero: bool = False) -> int:
    """Return ``value`` if it is an int > 0 (or >= 0), else raise naming ``name``."""
    low = 0 if allow_zero else 1
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        kind = "a non-negative int" if allow_zero else "a positive int"
        raise ValueError(f"{name} must be {kind}, got {_describe(value)}")
    return value


def positive_float(name: str, value: Any, *, allow_none: bool = False) -> float | None:
    """Return ``value`` as a float if it is a finite number > 0."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not (0 < float(value) < float("inf")):
        raise ValueError(f"{name} must be a positive finite number, got {_describe(value)}")
    return float(value)


def choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` lower-cased if it is one of ``choices``."""
    options = list(choices)
    if not isinstance(value, str) or value.lower() not in options:
        raise ValueError(f"{name} must be one of {options}, got {_describe(value)}")
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
        raise TypeError(f"{name} must be a torch.Tensor, got {_describe(value)}")
    if ndim is not None:
        dims = (ndim,) if isinstance(ndim, int) else ndim
        if value.dim() not in dims:
            want = " or ".join(str(d) for d in dims)
            raise ValueError(
                f"{name} must have {want} dimensions, got {value.dim()} (shape {tuple(value.shape)})"
            )
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if integer and (value.is_floating_point() or value.is_complex() or value.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer tensor, got dtype {value.dtype}")
    return value


def size(name: str, actual: int, expected: int, what: str) -> None:
    """Raise if a dimension does not have the expected size."""
    if actual != expected:
        raise ValueError(f"{name} must have {what} = {expected}, got {actual}")
