"""Frames on the wire: heatmaps go as colour codes that paint exactly the same colours."""

from __future__ import annotations

import numpy as np
import pytest

import rnnviz
from rnnviz.live import _figures as F
from rnnviz.live import _wire as W


def js_round(x: np.ndarray) -> np.ndarray:
    """JavaScript's Math.round, written out: the nearest integer, halves towards +infinity."""
    out = np.empty_like(x)
    for i, v in enumerate(x.ravel()):
        lo = np.floor(v)
        out.ravel()[i] = lo + 1 if v - lo >= 0.5 else lo
    return out


def test_lut_index_is_the_browsers_formula() -> None:
    rng = np.random.default_rng(0)
    v = rng.uniform(-1.5, 1.5, 2000).astype(np.float32)
    lo, hi = -1.0, 1.0
    x = (v.astype(np.float64) - lo) * (255 / (hi - lo))
    want = np.clip(js_round(x), 0, 255)
    np.testing.assert_array_equal(W.lut_index(v, lo, hi), want)
    # halves go up (numpy's own rounding would send 0.5 to 0 and 2.5 to 2), then the clamp
    half = np.array([0.5, 1.5, 2.5, 254.5, -3.0, 300.0], dtype=np.float32)
    assert W.lut_index(half, 0.0, 255.0).tolist() == [1, 2, 3, 255, 0, 255]


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (0.0, 1.0), (-0.002, 0.002), (-5.0, 5.0)])
def test_codes_paint_the_same_colours_and_keep_the_gaps(lo: float, hi: float) -> None:
    rng = np.random.default_rng(1)
    v = rng.uniform(lo, hi, (16, 31)).astype(np.float32)
    # values on the edges between two table entries, and the ends of the range
    edges = (lo + (np.arange(31) + 0.5) * (hi - lo) / 255).astype(np.float32)
    v[0] = edges
    v[1, :2] = [lo, hi]
    v[:, 1::2] = np.nan  # the unrolled view's gaps
    v[3, 4] = np.inf
    codes, mask = W.encode(v, lo, hi)
    assert codes.dtype == np.uint8 and codes.shape == v.shape
    assert mask is not None and len(mask) == -(-v.size // 8)
    back = W.decode(codes, lo, hi, mask)
    missing = ~np.isfinite(v)
    np.testing.assert_array_equal(np.isnan(back), missing)
    # the browser paints the decoded values (hover, plotly's own redraw) with the same entries
    np.testing.assert_array_equal(W.lut_index(back, lo, hi)[~missing], codes[~missing])
    np.testing.assert_array_equal(W.lut_index(v, lo, hi)[~missing], codes[~missing])
    step = (hi - lo) / 255
    assert np.nanmax(np.abs(back - v)) <= step / 2 * (1 + 1e-5)


def test_no_mask_without_missing_cells() -> None:
    codes, mask = W.encode(np.zeros((3, 4), np.float32), -1, 1)
    assert mask is None and codes.tolist() == [[128] * 4] * 3


def test_values_outside_the_range_or_no_range_are_not_coded() -> None:
    v = np.array([[0.0, 1.2]], np.float32)
    assert W.encode(v, -1.0, 1.0) is None  # the codes would clamp 1.2 to 1
    assert W.encode(v, -2.0, 2.0) is not None
    step = 2.0 / 255  # within half a colour step of the range: the rounding moves it as far
    assert W.encode(np.array([1 + 0.49 * step]), -1.0, 1.0)[0].tolist() == [255]
    assert W.encode(np.array([-1 - 0.49 * step]), -1.0, 1.0)[0].tolist() == [0]
    assert W.encode(np.array([1 + 0.51 * step]), -1.0, 1.0) is None
    assert W.encode(np.array([-1 - 0.51 * step]), -1.0, 1.0) is None
    for lo, hi in ((None, 1.0), (1.0, 1.0), (float("nan"), 1.0), (0.0, float("inf"))):
        assert W.encode(v, lo, hi) is None
    codes, mask = W.encode(np.full((2, 2), np.nan, np.float32), 0.0, 1.0)  # all missing
    assert codes.tolist() == [[0, 0], [0, 0]] and mask == bytes([15])


def _buffer(frame: F.Frame, k: int) -> bytes:
    return frame.buffers[frame.parts[k]["buffer"]]


def test_frame_codes_a_heatmap_when_its_range_is_known() -> None:
    figures = {"hidden": {"data": [{"type": "heatmap", "zmin": -1, "zmax": 1}]},
               "gates": {"data": [{"type": "heatmap", "zmin": 0.0, "zmax": 1.0},
                                  {"type": "heatmap"}]},
               "history": {"data": [{"type": "scatter"}]}}
    bounds = W.Bounds(figures)
    assert bounds.fixed == {("hidden", 0): (-1.0, 1.0), ("gates", 0): (0.0, 1.0)}
    bounds.clear()  # a reset forgets the chosen ranges, not the figures' own
    assert bounds.fixed
    frame = F.Frame(bounds=bounds)
    z = np.linspace(-1, 1, 24, dtype=np.float32).reshape(4, 6)
    frame.array("hidden", 0, "z", z)  # the figure's own range
    assert frame.parts[0]["codes"] == [-1.0, 1.0] and len(_buffer(frame, 0)) == 24
    frame.array("history", 0, "y", np.arange(5.0))  # curves stay float32
    assert "codes" not in frame.parts[1] and len(_buffer(frame, 1)) == 20
    frame.array("gates", 1, "z", 3 * z)  # no known range yet: float32 ...
    assert "codes" not in frame.parts[2] and len(_buffer(frame, 2)) == 96
    frame.symmetric("gates", 1, 3.0)  # ... until this frame sets one: coded in [-5, 5]
    assert frame.parts[2]["codes"] == [-5.0, 5.0] and len(_buffer(frame, 2)) == 24
    np.testing.assert_array_equal(np.frombuffer(_buffer(frame, 2), np.uint8).reshape(4, 6),
                                  W.lut_index(3 * z, -5, 5))
    frame.array("gates", 0, "z", 2 * z)  # values outside the figure's range [0, 1]: float32
    assert "codes" not in frame.parts[-1]
    np.testing.assert_array_equal(np.frombuffer(_buffer(frame, len(frame.parts) - 1),
                                                np.float32), (2 * z).ravel())


def test_frame_mask_follows_its_heatmap_through_a_new_range() -> None:
    frame = F.Frame(bounds=W.Bounds({"g": {"data": [{"type": "heatmap", "zmin": -1,
                                                     "zmax": 1}]}}))
    z = np.array([[0.5, np.nan, -0.5, np.nan]], np.float32)
    frame.array("g", 0, "z", z)
    frame.symmetric("g", 0, 0.5)  # two new ends, one after the other: recoded twice
    (part,) = [p for p in frame.parts if p.get("key") == "z"]
    assert part["codes"] == [-0.5, 0.5]
    assert len(frame.buffers) == 2  # the codes and one mask
    back = W.decode(np.frombuffer(frame.buffers[part["buffer"]], np.uint8).reshape(1, 4),
                    -0.5, 0.5, frame.buffers[part["missing"]])
    np.testing.assert_allclose(back, z, atol=0.5 / 255)


def test_a_dashboard_frame_sends_one_byte_per_heatmap_cell() -> None:
    task = rnnviz.tasks.Echo(delay=2, seq_len=20, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell="lstm", hidden_size=16, seed=0)
    trainer = rnnviz.Trainer(model, task, batch_size=8, seed=0)
    views = ("hidden", "gates", "grad_flow", "unrolled")
    dash = rnnviz.dashboard(trainer, views=views)
    tr = F.probe_trace(trainer)

    def heat_bytes(frame: F.Frame) -> int:
        return sum(len(frame.buffers[p["buffer"]]) + len(frame.buffers[p.get("missing", -1)])
                   * ("missing" in p) for p in frame.parts if p.get("key") == "z")

    coded = F.build_frame(trainer, tr, views, 0, [], W.Bounds(dash.figures))
    # hidden 16 x 20, gates i f g o c and the grad flow's 16 x 20 each, unrolled 16 x 39 with
    # a mask of its gaps (16 x 39 bits)
    assert heat_bytes(coded) == 16 * 20 * 7 + 16 * 39 + 16 * 39 // 8
    # without the figures' own ranges only c and the grad flow's (set per frame) are coded
    plain = F.build_frame(trainer, tr, views, 0, [], {})
    assert heat_bytes(plain) == 4 * (16 * 20 * 5 + 16 * 39) + 16 * 20 * 2
