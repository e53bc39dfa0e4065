"""One live-view interface: a live figure, updated, is the static figure of the new trace.

For every view in the dashboard's registry (and the training curves), the figure the
dashboard sends is built at trace A; then the frame for trace B is packed exactly as the
dashboard packs it (``build_frame``: float32 buffers, rounded sticky colour ranges) and
applied to that JSON. Every number, value and colour range must then equal the static
``plot_*`` figure drawn directly from trace B. A view whose update forgets a trace, or
scales a colour range, fails here.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnviz
from rnnviz import views as V
from rnnviz.i18n import language
from rnnviz.live import _figures as F
from rnnviz.live._registry import REGISTRY, VIEWS, available_views, kind, left_out_note

# The static figure each live view must equal, from the trace (and the dashboard's sample).
# The dashboard shows the last layer; gradient flow is the batch mean.
STATIC = {
    "hidden": lambda tr, s, th: V.plot_hidden(tr, sample=s, layer=-1, theme=th),
    "grad_flow": lambda tr, s, th: V.plot_grad_flow(tr, sample=None, layer=-1, theme=th),
    "gates": lambda tr, s, th: V.plot_gates(tr, sample=s, layer=-1, direction=0, theme=th),
    "unrolled": lambda tr, s, th: V.plot_unrolled(tr, sample=s, layer=-1, theme=th),
    "gate_saturation": lambda tr, s, th: V.plot_gate_saturation(tr, layer=-1, theme=th),
    "seq2seq": lambda tr, s, th: rnnviz.plot_seq2seq(tr, sample=s, theme=th),
}


def test_every_registered_view_has_its_static_figure_here() -> None:
    assert set(VIEWS) == set(REGISTRY) and set(VIEWS) <= set(STATIC)
    assert rnnviz.live.VIEWS == VIEWS


def _plain(fig: Any) -> list[dict]:
    return F._plain(json.loads(fig.to_json()))["data"]


def _numbers(v: Any) -> np.ndarray | None:
    """``v`` as a float array (None / null as NaN), or None if it is not numbers."""
    if isinstance(v, (dict, str, bool)) or v is None:
        return None
    try:
        a = np.array(v, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return a


def _same(got: Any, want: Any, where: str) -> None:
    """Deep equality of plotly JSON; numbers to float32 precision, NaN equal to NaN."""
    if isinstance(want, dict):
        assert isinstance(got, dict), where
        assert set(got) == set(want), (where, set(got) ^ set(want))
        for k in want:
            _same(got[k], want[k], f"{where}.{k}")
        return
    a, b = _numbers(got), _numbers(want)
    if a is not None and b is not None:
        assert a.shape == b.shape, (where, a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7, equal_nan=True, err_msg=where)
        return
    if isinstance(want, list) and isinstance(got, list) and len(got) == len(want):
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            _same(g, w, f"{where}[{k}]")
        return
    assert got == want, (where, got, want)


def _apply(data: list[dict], fig: str, content: dict, buffers: list[bytes]) -> set[tuple]:
    """Apply the frame's parts for ``fig`` to its JSON ``data`` as dashboard.js does."""
    touched = set()
    for part in content["parts"]:
        if part["fig"] != fig:
            continue
        if "buffer" in part:
            value = np.frombuffer(buffers[part["buffer"]], dtype=np.float32).reshape(
                part["shape"]).astype(np.float64)
        else:
            value = part["value"]
        data[part["trace"]][part["key"]] = value
        touched.add((part["trace"], part["key"]))
    return touched


def _trainer(cell: str, layers: int, bidirectional: bool, relu: bool, ragged: bool,
             seed: int) -> rnnviz.Trainer:
    task = (rnnviz.tasks.Parity(seq_len=6, variable_length=True, seed=seed) if ragged
            else rnnviz.tasks.Echo(delay=1, seq_len=6, seed=seed))
    kw = {"nonlinearity": "relu"} if relu and cell == "elman" else {}
    model = rnnviz.SequenceModel.from_task(task, cell=cell, hidden_size=4, num_layers=layers,
                                           bidirectional=bidirectional, seed=seed, **kw)
    return rnnviz.Trainer(model, task, lr=0.1, batch_size=4, seed=seed)


def check_live_equals_static(trainer: rnnviz.Trainer, sample: int, theme: str) -> int:
    """Build the dashboard's figures at trace A, train, apply the frame of trace B, compare
    with the static figures of B. Returns how many changed entries were checked."""
    trace_a = F.probe_trace(trainer)
    sample = sample % trace_a.batch_size
    views = available_views(kind(trace_a), VIEWS)
    figures = F.build_figures(trainer, trace_a, views, sample, theme)
    assert list(figures) == ["history", *views]
    # the live figures are the static ones of trace A (data; the dashboard lays them out)
    for name in views:
        _same(figures[name]["data"], _plain(STATIC[name](trace_a, sample, theme)),
              f"{name} at A")
    _same(figures["history"]["data"], _plain(V.plot_history(trainer, theme=theme)),
          "history at A")

    trainer.run(3, progress=False)
    trace_b = F.probe_trace(trainer)
    bounds: dict = {}
    frame = F.build_frame(trainer, trace_b, views, sample, figures["history"]["baselines"],
                          bounds)
    content = json.loads(json.dumps({"parts": frame.parts}))  # what crosses the wire
    checked = 0
    for name in ("history", *views):
        data = figures[name]["data"]
        touched = _apply(data, name, content, frame.buffers)
        want = _plain(V.plot_history(trainer, theme=theme) if name == "history"
                      else STATIC[name](trace_b, sample, theme))
        assert len(data) == len(want), name
        # colour ranges the view says follow the data: [-b, b] with b the static figure's,
        # rounded up by the dashboard to a 1-2-5 value (see F.nice_bound)
        changes = [] if name == "history" else REGISTRY[name].update(trace_b, sample)
        for c in changes:
            if c.symmetric is None:
                continue
            w = want[c.trace]
            assert c.symmetric == pytest.approx(w["zmax"], rel=1e-12), (name, c)
            assert w["zmin"] == pytest.approx(-w["zmax"], rel=1e-12), name
            b = F.nice_bound(w["zmax"])
            assert data[c.trace]["zmin"] == -b and data[c.trace]["zmax"] == b, (name, c.trace)
            assert bounds[(name, c.trace)] == b
            data[c.trace]["zmin"], data[c.trace]["zmax"] = w["zmin"], w["zmax"]
        for k, (got, w) in enumerate(zip(data, want, strict=True)):
            _same(got, w, f"{name} trace {k} at B")
        checked += len(touched)
    return checked


@settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cell=st.sampled_from(["elman", "lstm", "gru"]), layers=st.integers(1, 2),
       bidirectional=st.booleans(), relu=st.booleans(), ragged=st.booleans(),
       seed=st.integers(0, 1000), sample=st.integers(0, 20),
       theme=st.sampled_from(["light", "dark"]))
def test_a_live_frame_turns_the_figure_into_the_static_one(cell, layers, bidirectional, relu,
                                                          ragged, seed, sample, theme) -> None:
    trainer = _trainer(cell, layers, bidirectional, relu, ragged, seed)
    assert check_live_equals_static(trainer, sample, theme) > 0


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_every_view_is_checked_for_every_cell(cell: str) -> None:
    trainer = _trainer(cell, 2, True, cell == "elman", True, 0)
    assert F.probe_trace(trainer).cell_type == cell
    views = available_views(cell, VIEWS)
    assert views == tuple(v for v in VIEWS if cell in REGISTRY[v].cells)
    assert check_live_equals_static(trainer, 1, "light") >= 4 + len(views)


def test_left_out_views_are_named_in_the_note() -> None:
    assert available_views("elman", ("hidden", "gates")) == ("hidden",)
    note = left_out_note("elman", ("hidden", "gates"))
    assert "no gates view" in note and "Elman" in note
    core_views = tuple(v for v in VIEWS if v != "seq2seq")
    assert left_out_note("lstm", core_views) == "" and left_out_note("elman", ("hidden",)) == ""
    both = left_out_note("elman", tuple(v for v in core_views if "elman" not in REGISTRY[v].cells))
    assert both.count(" view: ") == len(core_views) - len(available_views("elman", core_views)) >= 2
    # an encoder-decoder has its own view, and the core views are not for it
    assert available_views("seq2seq", VIEWS) == ("seq2seq",)
    assert left_out_note("seq2seq", ("seq2seq",)) == ""
    assert left_out_note("seq2seq", ("gates", "seq2seq")) == "no gates view for a SEQ2SEQ model"
    assert left_out_note("gru", ("seq2seq",)) == "no seq2seq view for a GRU model"
    with language("ru"):  # the note speaks the user's language
        ru = left_out_note("elman", ("gates",))
    assert "gates" in ru and "Элмана" in ru and ru != note


def test_a_replay_frame_is_the_static_figure_of_its_snapshot() -> None:
    """The static site's replay animates each view with the same update (exact ranges)."""
    for trainer in (_trainer("lstm", 2, True, False, True, 3), _s2s_trainer("lstm", "dot", 3)):
        _check_replay(trainer)


def _check_replay(trainer: rnnviz.Trainer) -> None:
    from rnnviz.live._replay import animate_view
    from rnnviz.trainer import Snapshot

    a = F.probe_trace(trainer)
    trainer.run(3, progress=False)
    b = F.probe_trace(trainer)
    for view in available_views(kind(a), VIEWS):
        spec = F._plain(json.loads(animate_view([Snapshot(0, a), Snapshot(3, b)], view, theme="dark",
                                                tag="replay").to_json()))
        assert [f["name"] for f in spec["frames"]] == ["s0", "s3"], view
        data, last = spec["data"], spec["frames"][-1]
        for k, update in zip(last["traces"], last["data"], strict=True):
            data[k].update({key: v for key, v in update.items() if key != "type"})
        _same(data, _plain(STATIC[view](b, 0, "dark")), f"{view} replay at B")


def _s2s_trainer(cell: str, attention: str | None, seed: int) -> rnnviz.Trainer:
    task = rnnviz.tasks.Reverse(num_symbols=4, min_len=1, max_len=5, seed=seed)
    model = rnnviz.Seq2Seq.from_task(task, cell=cell, hidden_size=4, seed=seed,
                                     attention=attention)
    return rnnviz.Trainer(model, task, lr=0.1, batch_size=4, seed=seed)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
@pytest.mark.parametrize("attention", [None, "dot", "additive"])
def test_the_seq2seq_view_is_checked_for_every_cell_and_attention(cell, attention) -> None:
    trainer = _s2s_trainer(cell, attention, 1)
    trace = F.probe_trace(trainer)
    assert kind(trace) == "seq2seq" and available_views("seq2seq", VIEWS) == ("seq2seq",)
    assert check_live_equals_static(trainer, 1, "dark") >= 4 + 3 * 4 + (4 * 3 if attention else 0)


def test_half_views_pair_up_or_take_the_row() -> None:
    assert F._grids(["half", "half", "wide", "half"]) == ["half", "half", "wide", "wide"]
    assert F._grids(["half", "wide", "half"]) == ["wide", "wide", "wide"]
    assert F._grids(["half", "half", "half", "half"]) == ["half"] * 4
    assert F._grids(["half"]) == ["wide"] and F._grids([]) == []
