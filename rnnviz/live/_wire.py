"""How a frame's arrays travel to the browser: float32, or a heatmap's colour codes.

The browser colours a heatmap cell of value ``v`` with entry ``k`` of a 256-entry lookup
table spread over the colour range ``[zmin, zmax]`` (``entries`` in ``paint.js``)::

    k = round((v - zmin) * 255 / (zmax - zmin)),  clamped to 0..255,  round half up

so when the kernel knows the colour range it sends ``k`` itself, one byte per cell instead of
four, plus a bit mask of the missing cells (NaN or infinite: padding, the gaps of the unrolled
view) when there are any. The browser paints ``k`` directly and decodes the values shown on
hover and in plotly's own redraws as ``zmin + k (zmax - zmin) / 255``, which fall on the
same entries: the picture is unchanged, to the colour map's resolution. A part is sent as
float32 when its colour range is unknown or a value lies outside it by more than half a
colour step (its code would clamp it), so no value moves by more than half a colour step.

A coded part carries ``"codes": [zmin, zmax]`` and, if cells are missing, ``"missing"``: the
index of a buffer of ``ceil(n / 8)`` bytes, bit ``i % 8`` (least significant first) of byte
``i // 8`` set when cell ``i`` (row-major) is missing.

Example:
    >>> import numpy as np
    >>> k, missing = encode(np.array([-1.0, 0.0, 0.5, np.nan], np.float32), -1.0, 1.0)
    >>> k.tolist(), np.unpackbits(np.frombuffer(missing, np.uint8), bitorder="little")[:4].tolist()
    ([0, 128, 191, 0], [0, 0, 0, 1])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

LEVELS = 255  # the lookup table's last entry (paint.js: colorLut, entries)


def _round_clamp(x: np.ndarray) -> np.ndarray:
    """``Math.round`` (halves up; exactly, not as ``floor(x + 0.5)`` rounds) and the clamp
    to 0..255, in place on float64 ``x``; returns uint8."""
    k = np.floor(x)
    np.subtract(x, k, out=x)
    k += x >= 0.5
    np.clip(k, 0, LEVELS, out=k)
    return k.astype(np.uint8)


def lut_index(values: np.ndarray, zmin: float, zmax: float) -> np.ndarray:
    """The lookup-table entry the browser gives each value, as ``paint.js`` computes it.

    The same double-precision steps as JavaScript: ``(v - zmin) * (255 / (zmax - zmin))``,
    then ``Math.round`` (halves up) and the clamp to 0..255. Missing values get 0.

    Args:
        values: any shape, float32 as the browser receives them.
        zmin, zmax: the colour range, ``zmin < zmax``.

    Returns:
        uint8 entries, same shape.
    """
    x = np.subtract(np.asarray(values, dtype=np.float32), zmin, dtype=np.float64)
    x *= LEVELS / (zmax - zmin)
    x[~np.isfinite(x)] = 0.0
    return _round_clamp(x)


def encode(values: np.ndarray, zmin: Any, zmax: Any) -> tuple[np.ndarray, bytes | None] | None:
    """Colour codes (uint8, same shape) and the missing-cell bit mask (``None`` if none), or
    ``None`` when ``values`` cannot go as codes: no colour range (``zmin``, ``zmax`` not two
    finite numbers, ``zmin < zmax``), or a finite value further than half a colour step out
    of it (its code would clamp it more than rounding moves the others)."""
    if not all(isinstance(b, (int, float)) and math.isfinite(b) for b in (zmin, zmax)) \
            or not zmin < zmax:
        return None
    a = np.asarray(values, dtype=np.float32)
    finite = np.isfinite(a)
    whole = bool(finite.all())
    seen = a if whole else a[finite]
    half = 0.5 * (zmax - zmin) / LEVELS
    if seen.size and (float(seen.min()) < zmin - half or float(seen.max()) > zmax + half):
        return None
    x = np.subtract(a, zmin, dtype=np.float64)
    x *= LEVELS / (zmax - zmin)
    if whole:
        return _round_clamp(x), None
    x[~finite] = 0.0
    return _round_clamp(x), np.packbits(~finite.ravel(), bitorder="little").tobytes()


def decode(codes: np.ndarray, zmin: float, zmax: float, mask: bytes | None) -> np.ndarray:
    """The values the browser shows for ``codes`` (float32, NaN where missing): the mirror
    of ``colourCodes`` in ``frames.js``."""
    k = np.asarray(codes, dtype=np.float64)
    out = (zmin + k * ((zmax - zmin) / LEVELS)).astype(np.float32)
    if mask is not None:
        bits = np.unpackbits(np.frombuffer(mask, dtype=np.uint8), bitorder="little")
        out[bits[: out.size].reshape(out.shape).astype(bool)] = np.nan
    return out


def fixed_ranges(figures: dict[str, dict[str, Any]]) -> dict[tuple[str, int], tuple[float, float]]:
    """``(figure, trace) -> (zmin, zmax)`` of every heatmap of the dashboard's figures that
    has both: the colour range its frames keep unless they send a new ``zmin`` / ``zmax``."""
    out = {}
    for name, spec in figures.items():
        for k, trace in enumerate(spec.get("data", [])):
            lo, hi = trace.get("zmin"), trace.get("zmax")
            if trace.get("type") == "heatmap" and isinstance(lo, (int, float)) \
                    and isinstance(hi, (int, float)):
                out[(name, k)] = (float(lo), float(hi))
    return out


class Bounds(dict):
    """The colour ranges the frames chose (``Frame.symmetric``: ``(figure, trace) -> b``),
    and in ``fixed`` the figures' own colour ranges (:func:`fixed_ranges`), which ``clear()``
    keeps: they are part of the figures, not of a run."""

    def __init__(self, figures: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.fixed = fixed_ranges(figures or {})
