"""One live-view interface: a live figure, updated, is the static figure of the new trace.

For every view in the dashboard's registry (and the training curves), the figure the
dashboard sends is built at trace A; then the frame for trace B is packed exactly as the
dashboard packs it (``build_frame`` with the dashboard's ``Bounds``: float32 buffers, a
heatmap's colour codes, rounded sticky colour ranges) and applied to that JSON as
``frames.js`` decodes it. The contract checked against the static ``plot_*`` figure drawn
directly from trace B:

- every number that travels as float32 (curves, small values) equals the static one;
- a heatmap sent as colour codes paints the same picture: each code is exactly the lookup
  table entry ``paint.js`` gives the static value at the colour range the live trace shows
  (``_wire.lut_index``), missing cells are missing in both; so the values shown on hover are
  the static ones to half a colour step, never more (``_wire``);
- a colour range that the view says follows the data ([-b, b], ``Change.symmetric``) is, in
  a fresh frame (no earlier frame's range), ``nice_bound`` of the static figure's b: rounded
  up to 1-2-5, never more; a halved or doubled range fails. Ranges the view does not change
  stay the static figure's.

Across frames the dashboard keeps a range while the data stay within [b / 5, b] (hysteresis,
``Frame.symmetric``), so a later frame may show a wider range than the static figure; that
frame is checked for the same picture at the range it shows, and for a range that covers
the data (nothing clipped). Layout changes a view sends (the cell's title naming the step,
its shared colour axis) must equal the static figure's layout at the same paths. A view
that follows the dashboard's time cursor (the cell) is built at one cursor and updated to
another, and compared with the static figure at that step. A view whose update forgets a
trace, scales its numbers or its colour range, fails here.
"""

from __future__ import annotations

import copy
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
from rnnviz.live import _wire as W
from rnnviz.live._registry import REGISTRY, VIEWS, available_views, kind, left_out_note
from rnnviz.views._data import length_of


def _cursor(tr: Any, s: int, t: int) -> int:
    """The dashboard's cursor t as a real step of sample s (past its end: its last step)."""
    return min(t, length_of(tr, s) - 1)


# The static figure each live view must equal, from the trace (and the dashboard's sample,
# and for the cell its time cursor t). The dashboard shows the last layer; gradient flow is
# the batch mean.
STATIC = {
    "hidden": lambda tr, s, th: V.plot_hidden(tr, sample=s, layer=-1, theme=th),
    "grad_flow": lambda tr, s, th: V.plot_grad_flow(tr, sample=None, layer=-1, theme=th),
    "gates": lambda tr, s, th: V.plot_gates(tr, sample=s, layer=-1, direction=0, theme=th),
    "unrolled": lambda tr, s, th: V.plot_unrolled(tr, sample=s, layer=-1, theme=th),
    "gate_saturation": lambda tr, s, th: V.plot_gate_saturation(tr, layer=-1, theme=th),
    "cell": lambda tr, s, th, t=0: rnnviz.plot_cell(tr, _cursor(tr, s, t), layer=-1, sample=s,
                                                   theme=th),
    "seq2seq": lambda tr, s, th: rnnviz.plot_seq2seq(tr, sample=s, theme=th),
}


def _static(name: str, tr: Any, s: int, th: str, t: int) -> Any:
    return STATIC[name](tr, s, th, t) if REGISTRY[name].follows_t else STATIC[name](tr, s, th)


def test_every_registered_view_has_its_static_figure_here() -> None:
    assert set(VIEWS) == set(REGISTRY) and set(VIEWS) <= set(STATIC)
    assert rnnviz.live.VIEWS == VIEWS


def _plain(fig: Any, part: str = "data") -> Any:
    return F._plain(json.loads(fig.to_json()))[part]


def _at(obj: Any, path: str) -> Any:
    """The value at dotted ``path`` of plotly JSON (``None`` if absent; a number indexes a
    list, as frames.js reads ``"annotations.2.x"``)."""
    for k in path.split("."):
        if isinstance(obj, list) and k.isdigit():
            obj = obj[int(k)] if int(k) < len(obj) else None
        else:
            obj = obj.get(k) if isinstance(obj, dict) else None
    return obj


def _set_at(obj: Any, path: str, v: Any) -> None:
    """Set the value at dotted ``path`` of plotly JSON (frames.js: setPath)."""
    *heads, last = path.split(".")
    for k in heads:
        obj = obj[int(k)] if isinstance(obj, list) else obj.setdefault(k, {})
    if isinstance(obj, list):
        obj[int(last)] = v
    else:
        obj[last] = v


def _places(layout: dict) -> list[Any]:
    """Where a figure's shapes and annotations stand (what moves with the sequence shown)."""
    return ([(s.get("x0"), s.get("x1"), s.get("y0"), s.get("y1"))
             for s in layout.get("shapes", [])]
            + [(a.get("x"), a.get("y")) for a in layout.get("annotations", [])])


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


def _apply(data: list[dict], fig: str, content: dict, buffers: list[bytes]) -> dict[tuple, Any]:
    """Apply the frame's parts for ``fig`` to its JSON ``data`` as frames.js decodes them.

    Returns the touched ``(trace, key)``, each with its colour codes ``(codes, zmin, zmax)``
    when it travelled as codes, else ``None``.
    """
    touched: dict[tuple, Any] = {}
    for part in content["parts"]:
        if part["fig"] != fig:
            continue
        if "layout" in part:  # dotted paths into the layout (frames.js: applyLayout)
            for path, v in part["layout"].items():
                touched[("layout", path)] = v
            continue
        codes = None
        if "codes" in part:
            lo, hi = part["codes"]
            k = np.frombuffer(buffers[part["buffer"]], dtype=np.uint8).reshape(part["shape"])
            mask = buffers[part["missing"]] if "missing" in part else None
            value = W.decode(k, lo, hi, mask).astype(np.float64)
            codes = (k, lo, hi)
        elif "buffer" in part:
            value = np.frombuffer(buffers[part["buffer"]], dtype=np.float32).reshape(
                part["shape"]).astype(np.float64)
        else:
            value = part["value"]
        data[part["trace"]][part["key"]] = value
        touched[(part["trace"], part["key"])] = codes
    return touched


def _same_picture(data: list[dict], want: list[dict], touched: dict[tuple, Any],
                  where: str) -> None:
    """Every heatmap sent as colour codes paints the static values' lookup-table entries at
    the colour range the live trace shows; then its ``z`` is replaced by the static one
    (the rest of the trace is compared exactly by the caller)."""
    for (k, key), coded in touched.items():
        if coded is None or k == "layout":
            continue
        codes, lo, hi = coded
        shown = (data[k]["zmin"], data[k]["zmax"])
        assert (lo, hi) == shown, (where, k, "codes at another range than shown", shown)
        z = np.array(want[k][key], dtype=np.float64)
        missing = ~np.isfinite(z)
        np.testing.assert_array_equal(np.isnan(data[k][key]), missing, err_msg=f"{where} {k}")
        lut = W.lut_index(np.where(missing, 0.0, z), lo, hi)
        np.testing.assert_array_equal(np.where(missing, 0, codes), np.where(missing, 0, lut),
                                      err_msg=f"{where} trace {k}: another colour")
        # hover and plotly's redraws show the decoded values: within half a colour step (plus
        # the float32 rounding of the decoded value itself)
        half = 0.5 * (hi - lo) / W.LEVELS + 4 * np.finfo(np.float32).eps * max(abs(lo), abs(hi))
        assert np.all(np.abs(np.where(missing, 0, data[k][key] - z)) <= half), (where, k)
        data[k][key] = want[k][key]


def _trainer(cell: str, layers: int, bidirectional: bool, relu: bool, ragged: bool,
             seed: int) -> rnnviz.Trainer:
    task = (rnnviz.tasks.Parity(seq_len=6, variable_length=True, seed=seed) if ragged
            else rnnviz.tasks.Echo(delay=1, seq_len=6, seed=seed))
    kw = {"nonlinearity": "relu"} if relu and cell == "elman" else {}
    model = rnnviz.SequenceModel.from_task(task, cell=cell, hidden_size=4, num_layers=layers,
                                           bidirectional=bidirectional, seed=seed, **kw)
    return rnnviz.Trainer(model, task, lr=0.1, batch_size=4, seed=seed)


def check_live_equals_static(trainer: rnnviz.Trainer, sample: int, theme: str,
                             t_a: int = 0, t_b: int = 0, sample_b: int | None = None,
                             places: tuple[str, ...] = (),
                             unsent: tuple[tuple[str, int, str], ...] = ()) -> int:
    """Build the dashboard's figures at trace A (time cursor ``t_a``), train, apply the frame
    of trace B (cursor ``t_b``; sequence ``sample_b``, default ``sample``: the dashboard
    switched the sequence shown), compare with the static figures of B. For the views in
    ``places``, the shapes and annotations must then stand where B's static figure has them.
    ``unsent``: ``(view, trace, key)`` a frame leaves as it was (taken from B's static figure).
    Returns how many changed entries were checked."""
    trace_a = F.probe_trace(trainer)
    sample = sample % trace_a.batch_size
    sample_b = sample if sample_b is None else sample_b % trace_a.batch_size
    views = available_views(kind(trace_a), VIEWS)
    figures = F.build_figures(trainer, trace_a, views, sample, theme, t_a)
    assert list(figures) == ["history", *views]
    # the live figures are the static ones of trace A (data; the dashboard lays them out)
    for name in views:
        _same(figures[name]["data"], _plain(_static(name, trace_a, sample, theme, t_a)),
              f"{name} at A")
    _same(figures["history"]["data"], _plain(V.plot_history(trainer, theme=theme)),
          "history at A")

    trainer.run(3, progress=False)
    trace_b = F.probe_trace(trainer)
    static_b = {name: V.plot_history(trainer, theme=theme) if name == "history"
                else _static(name, trace_b, sample_b, theme, t_b) for name in figures}
    want = {name: _plain(fig) for name, fig in static_b.items()}
    want_layout = {name: _plain(fig, "layout") for name, fig in static_b.items()}
    # colour ranges the view says follow the data: [-b, b] with b the static figure's
    follows = {}
    for name in views:
        entry = REGISTRY[name]
        changes = (entry.update(trace_b, sample_b, t_b) if entry.follows_t
                   else entry.update(trace_b, sample_b))
        for c in changes:
            if c.symmetric is not None:
                w = want[name][c.trace]
                assert c.symmetric == pytest.approx(w["zmax"], rel=1e-12), (name, c)
                assert w["zmin"] == pytest.approx(-w["zmax"], rel=1e-12), name
                follows[(name, c.trace)] = w["zmax"]

    def apply_and_compare(bounds: W.Bounds, shown: dict[tuple, float]) -> int:
        """Apply a frame of trace B packed with ``bounds``; the ranges that follow the data
        must be ``shown``; then everything must equal the static figures of B."""
        frame = F.build_frame(trainer, trace_b, views, sample_b,
                              figures["history"]["baselines"], bounds, t_b)
        content = json.loads(json.dumps({"parts": frame.parts}))  # what crosses the wire
        checked = 0
        for name in ("history", *views):
            data = figures[name]["data"]
            touched = _apply(data, name, content, frame.buffers)
            assert len(data) == len(want[name]), name
            _same_picture(data, want[name], touched, name)
            for fig, k, key in unsent:
                if fig == name:
                    data[k][key] = want[name][k][key]
            for (fig, k), big in follows.items():
                if fig == name:
                    b = shown[(fig, k)]
                    assert data[k]["zmin"] == -b and data[k]["zmax"] == b, (name, k, b)
                    assert bounds[(name, k)] == b and b >= big, (name, k)
                    data[k]["zmin"], data[k]["zmax"] = want[name][k]["zmin"], big
            for k, (got, w) in enumerate(zip(data, want[name], strict=True)):
                _same(got, w, f"{name} trace {k} at B")
            layout = copy.deepcopy(figures[name]["layout"])
            for (k, path), v in touched.items():  # the layout the frame sets is the static one
                if k == "layout":
                    _same(v, _at(want_layout[name], path), f"{name} layout {path} at B")
                    _set_at(layout, path, v)
            if name in places:
                _same(_places(layout), _places(want_layout[name]), f"{name} places at B")
            checked += len(touched)
        return checked

    # a fresh frame: each range that follows the data is the static one rounded up to 1-2-5
    bounds = W.Bounds(figures)
    fresh = {key: F.nice_bound(big) for key, big in follows.items()}
    checked = apply_and_compare(bounds, fresh)
    # a later frame keeps a wider range of an earlier frame while the data stay within
    # [b / 5, b]: the same picture at the range it shows
    for key, b in fresh.items():
        bounds[key] = 2 * b
    apply_and_compare(bounds, {key: 2 * b for key, b in fresh.items()})
    return checked


@settings(max_examples=14, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cell=st.sampled_from(["elman", "lstm", "gru"]), layers=st.integers(1, 2),
       bidirectional=st.booleans(), relu=st.booleans(), ragged=st.booleans(),
       seed=st.integers(0, 1000), sample=st.integers(0, 20),
       theme=st.sampled_from(["light", "dark"]), t_a=st.integers(0, 7), t_b=st.integers(0, 7))
def test_a_live_frame_turns_the_figure_into_the_static_one(cell, layers, bidirectional, relu,
                                                          ragged, seed, sample, theme, t_a,
                                                          t_b) -> None:
    trainer = _trainer(cell, layers, bidirectional, relu, ragged, seed)
    assert check_live_equals_static(trainer, sample, theme, t_a, t_b) > 0


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_every_view_is_checked_for_every_cell(cell: str) -> None:
    trainer = _trainer(cell, 2, True, cell == "elman", True, 0)
    assert F.probe_trace(trainer).cell_type == cell
    views = available_views(cell, VIEWS)
    assert views == tuple(v for v in VIEWS if cell in REGISTRY[v].cells)
    assert check_live_equals_static(trainer, 1, "light", 5, 2) >= 4 + len(views)


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
    checked = check_live_equals_static(trainer, 1, "dark", places=("seq2seq",))
    assert checked >= 4 + 3 * 4 + (4 * 3 if attention else 0)


@pytest.mark.parametrize("cell", ["elman", "gru"])
def test_switching_the_seq2seq_sequence_moves_its_outline_and_labels(cell) -> None:
    """The dashboard shows sequence 0, then the user picks one of another length: the
    columns move, and so must the context's outline and the three part labels. (Without
    attention: with it, the static figure's alignment panel is as tall as the sequence's
    output, the live one as the batch's longest.)"""
    trainer = _s2s_trainer(cell, None, 1)
    lengths = F.probe_trace(trainer).lengths.tolist()
    other = next(s for s, n in enumerate(lengths) if n != lengths[0])  # another source length
    # known: the fonts of the rows read and of the reference (theme colours, one size per
    # symbol) stay those of the first sequence (see update_seq2seq)
    assert check_live_equals_static(trainer, 0, "light", sample_b=other, places=("seq2seq",),
                                    unsent=(("seq2seq", 4, "textfont"),
                                            ("seq2seq", 6, "textfont"))) > 0


def test_half_views_pair_up_or_take_the_row() -> None:
    assert F._grids(["half", "half", "wide", "half"]) == ["half", "half", "wide", "wide"]
    assert F._grids(["half", "wide", "half"]) == ["wide", "wide", "wide"]
    assert F._grids(["half", "half", "half", "half"]) == ["half"] * 4
    assert F._grids(["half"]) == ["wide"] and F._grids([]) == []
