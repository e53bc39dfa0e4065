"""Views: figures checked through their data (traces, z, colour ranges, hovers, frames)."""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace as NS

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import torch

import rnnviz
from rnnviz import views as V
from rnnviz._types import GATE_NAMES, Trace
from rnnviz.views import _style as S
from rnnviz.views.shapes import TASKS

SCRIPT = "<script>alert(1)</script>"


def make_trace(cell="lstm", L=1, D=1, B=3, T=8, H=5, grads=True, lengths=False,
               symbols=True, nonlinearity="tanh", seed=0) -> Trace:
    """A random but well-formed Trace (states in range, decaying adjoints, padding zeroed)."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g, dtype=torch.float64)

    LD = L * D
    gates = {k: torch.tanh(2 * r(LD, B, T, H)) if k in "gn" else torch.sigmoid(3 * r(LD, B, T, H))
             for k in GATE_NAMES[cell]}
    hidden = torch.relu(r(LD, B, T, H)) if nonlinearity == "relu" else torch.tanh(r(LD, B, T, H))
    decay = 0.7 ** torch.arange(T - 1, -1, -1, dtype=torch.float64)[None, None, :, None]
    lens = torch.tensor([T] + [max(1, T - 2 * b) for b in range(1, B)]) if lengths else None
    return Trace(
        cell_type=cell, num_layers=L, num_directions=D, hidden_size=H, hidden=hidden,
        inputs=torch.randint(0, 5, (B, T), generator=g) if symbols else r(B, T, 2),
        output=r(B, T, D * H), cell=1.5 * r(LD, B, T, H) if cell == "lstm" else None,
        gates=gates, preact=r(LD, B, T, H) if cell == "elman" else None,
        target=torch.zeros(B, T, dtype=torch.long) if grads else None,
        loss=1.0 if grads else None, lengths=lens,
        grad_hidden=r(LD, B, T, H) * decay if grads else None,
        grad_cell=r(LD, B, T, H) * decay if grads and cell == "lstm" else None,
        grad_input=r(B, T, 4) if grads else None, nonlinearity=nonlinearity)


# every cell, 1 or 2 layers x directions, with gradients or with padding
CASES = [("elman", 1, 1, True, False), ("elman", 2, 2, False, True), ("lstm", 1, 1, False, True),
         ("lstm", 2, 2, True, False), ("gru", 1, 2, True, True), ("gru", 2, 1, False, False)]


def heatmaps(fig: go.Figure) -> list:
    return [t for t in fig.data if t.type == "heatmap"]


def annotations(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


# ---------------------------------------------------------------------------------- hidden


@pytest.mark.parametrize("cell,L,D,grads,lengths", CASES)
def test_plot_hidden_panels_values_and_padding(cell, L, D, grads, lengths) -> None:
    tr = make_trace(cell, L, D, grads=grads, lengths=lengths)
    sample = tr.batch_size - 1
    fig = V.plot_hidden(tr, sample=sample, theme="light")
    hm = heatmaps(fig)
    assert len(hm) == L * D
    n = int(tr.lengths[sample]) if lengths else tr.seq_len
    for k, h in enumerate(hm):
        z = np.asarray(h.z, dtype=float)
        assert z.shape == (tr.hidden_size, tr.seq_len)
        np.testing.assert_allclose(z[:, :n], tr.hidden[k, sample, :n].numpy().T)
        assert np.isnan(z[:, n:]).all()
        assert (h.zmin, h.zmax) == (-1.0, 1.0)
        assert all(w in h.hovertemplate for w in ("layer", "unit %{y}", "t = %{x}", "%{z"))
    assert sum(h.showscale for h in hm) == 1
    assert fig.layout.xaxis.title.text is None or L * D == 1
    assert any(ax.title.text == "time step t" for ax in fig.select_xaxes())
    assert len(fig.layout.shapes) == (L * D if n < tr.seq_len else 0)


def test_plot_hidden_relu_scale_and_one_layer() -> None:
    tr = make_trace("elman", L=2, nonlinearity="relu")
    fig = V.plot_hidden(tr, layer=-1)
    [h] = heatmaps(fig)
    assert h.zmin == 0 and h.zmax == pytest.approx(float(tr.hidden[1, 0].max()))
    assert "layer 1" in h.hovertemplate
    strip = heatmaps(V.plot_unrolled(tr, layer=0))
    assert len(strip) == 1 and strip[0].zmin == 0
    assert strip[0].zmax == pytest.approx(float(tr.hidden[0, 0].max()))


def test_diverged_traces_render_without_warnings() -> None:
    tr = make_trace("lstm", T=4, lengths=True)
    for tensor in (tr.hidden, tr.cell, tr.grad_hidden, *tr.gates.values()):
        tensor[:] = float("nan")
    tr.grad_cell[:] = float("inf")
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        for view in (V.plot_unrolled, V.plot_hidden, V.plot_gates, V.plot_grad_flow,
                     V.animate_unrolled):
            fig = view(tr)
            assert all(np.isfinite([h.zmin, h.zmax]).all() for h in heatmaps(fig))


@pytest.mark.parametrize("kwargs,match", [
    ({"layer": 3}, "layer must be in"), ({"sample": 3}, "sample must be in"),
    ({"sample": -4}, "sample must be in"), ({"theme": "neon"}, "theme must be one of"),
])
def test_plot_hidden_bad_arguments(kwargs, match) -> None:
    with pytest.raises(ValueError, match=match):
        V.plot_hidden(make_trace(L=2), **kwargs)


def test_views_reject_non_traces() -> None:
    with pytest.raises(TypeError, match="Trace"):
        V.plot_hidden({"hidden": 1})
    with pytest.raises(TypeError, match="sample must be an int"):
        V.plot_hidden(make_trace(), sample=0.5)


# ----------------------------------------------------------------------------------- gates


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_plot_gates_panels_titles_and_ranges(cell) -> None:
    tr = make_trace(cell, L=2, D=2, lengths=True)
    fig = V.plot_gates(tr, sample=1, layer=1, direction=1)
    keys = list(GATE_NAMES[cell]) + (["c"] if cell == "lstm" else [])
    hm = heatmaps(fig)
    assert len(hm) == len(keys)
    titles = annotations(fig)
    row = tr.index(1, 1)
    n = int(tr.lengths[1])
    for key, h, title in zip(keys, hm, titles, strict=True):
        if key == "c":
            assert title.startswith("c — cell state")
            assert h.zmin == -h.zmax and h.zmax >= 1
            ref = tr.cell[row, 1]
        else:
            st = S.GATES[key]
            assert f"{key} — {st.name}: {st.role}" in title
            assert (h.zmin, h.zmax) == ((-1.0, 1.0) if key in "gn" else (0.0, 1.0))
            ref = tr.gates[key][row, 1]
        z = np.asarray(h.z, dtype=float)
        np.testing.assert_allclose(z[:, :n], ref[:n].numpy().T)
        assert "layer 1" in h.hovertemplate and "unit" in h.hovertemplate
    roles = " ".join(titles)
    words = {"lstm": ["what to write", "what to keep", "what could be written", "what to show"],
             "gru": ["how much past to use", "keep old vs take new", "candidate state"]}[cell]
    assert all(w in roles for w in words)


def test_gate_views_explain_elman_has_no_gates() -> None:
    tr = make_trace("elman")
    for view in (V.plot_gates, V.plot_gate_saturation, V.animate_gates):
        with pytest.raises(ValueError, match="Elman RNN has no gates"):
            view(tr)


def test_plot_gates_direction_out_of_range() -> None:
    with pytest.raises(ValueError, match="direction must be in"):
        V.plot_gates(make_trace("gru"), direction=1)


@pytest.mark.parametrize("cell,lengths", [("lstm", False), ("gru", True)])
def test_gate_saturation_fractions(cell, lengths) -> None:
    tr = make_trace(cell, B=4, T=9, H=6, lengths=lengths)
    fig = V.plot_gate_saturation(tr)
    dots = [t for t in fig.data if t.mode == "markers"]
    assert [d.name for d in dots] == [S.GATES[g].label for g in S.SIGMOID_GATES[cell]]
    real = (torch.arange(9)[None, :] < (tr.lengths if lengths else torch.full((4,), 9))[:, None])
    for g, d in zip(S.SIGMOID_GATES[cell], dots, strict=True):
        v = tr.gates[g][0][real]  # (n_real, H)
        np.testing.assert_allclose(d.x, (v < 0.1).double().mean(0).numpy(), atol=1e-4)
        np.testing.assert_allclose(d.y, (v > 0.9).double().mean(0).numpy(), atol=1e-4)
        assert np.all(np.asarray(d.x) + np.asarray(d.y) <= 1 + 1e-6)
        assert d.marker.color == S.GATES[g].color and d.marker.symbol == S.GATES[g].symbol
        assert "unit %{customdata}" in d.hovertemplate and "layer 0" in d.hovertemplate
    assert fig.layout.xaxis.title.text.startswith("fraction of time closed")


# -------------------------------------------------------------------------------- unrolled


@pytest.mark.parametrize("cell,L,D,grads,lengths", CASES)
def test_plot_unrolled_strips_and_padding(cell, L, D, grads, lengths) -> None:
    tr = make_trace(cell, L, D, grads=grads, lengths=lengths)
    sample = tr.batch_size - 1
    fig = V.plot_unrolled(tr, sample=sample, step=2)
    T, H = tr.seq_len, tr.hidden_size
    hm = heatmaps(fig)
    assert len(hm) == L * D
    n = int(tr.lengths[sample]) if lengths else T
    for k, h in enumerate(hm):
        z = np.asarray(h.z, dtype=float)
        assert z.shape == (H, 2 * T - 1)
        assert np.isnan(z[:, 1::2]).all()  # gaps between the boxes
        np.testing.assert_allclose(z[:, 0:2 * n:2], tr.hidden[k, sample, :n].numpy().T)
        assert all(w in h.hovertemplate for w in ("layer", "unit", "t = ", "h = "))
    assert any(t.name == "padding" for t in fig.data) == (n < T)
    step = next(t for t in fig.data if t.name == "step")
    assert min(step.x) < 2 < max(step.x) and max(step.x) - min(step.x) < 1
    labels = list(fig.layout.yaxis.ticktext)
    assert labels[0] == "input x_t" and labels[-1] == "output h_t"
    assert len(labels) == L * D + 2


def test_plot_unrolled_reverse_arrows_point_left() -> None:
    tr = make_trace("gru", D=2, T=5, symbols=False)
    fig = V.plot_unrolled(tr)
    xs = next(t for t in fig.data if t.name == "x_t")
    assert xs.customdata[1] == f"[{tr.inputs[0, 1, 0]:.3f}, {tr.inputs[0, 1, 1]:.3f}]"
    rec = next(t for t in fig.data if t.name == "recurrence")
    x = [v for v in rec.x]
    segs = [(x[i], x[i + 1]) for i in range(0, len(x), 3)]
    assert sum(b > a for a, b in segs) == 4 and sum(b < a for a, b in segs) == 4


def test_plot_unrolled_backward_widths_follow_grad_norm() -> None:
    tr = make_trace("lstm", T=7, H=4)
    fig = V.plot_unrolled(tr, backward=True)
    [h] = heatmaps(fig)
    assert h.zmin == -h.zmax  # coloured by dL/dh_t, symmetric
    poly = next(t for t in fig.data if t.name == "dL/dh_t flowing back")
    ys = np.array([np.nan if v is None else v for v in poly.y], dtype=float)
    thick = [ys[i] - ys[i + 6] for i in range(0, len(ys), 9)]  # top minus bottom of shaft
    norms = tr.grad_hidden[0, 0].norm(dim=-1).numpy()[:-1]  # arrows into t = 0..T-2
    assert len(thick) == tr.seq_len - 1
    assert np.argsort(thick).tolist() == np.argsort(norms).tolist()
    hover = next(t for t in fig.data if t.name == "‖dL/dh_t‖")
    assert f"{norms[0]:.4g}" in hover.text[0]


def test_plot_unrolled_errors() -> None:
    with pytest.raises(ValueError, match="needs gradients"):
        V.plot_unrolled(make_trace(grads=False), backward=True)
    with pytest.raises(ValueError, match="step must be in"):
        V.plot_unrolled(make_trace(T=5), step=5)
    with pytest.raises(ValueError, match="layer must be in"):
        V.plot_unrolled(make_trace(), layer=1)
    with pytest.raises(TypeError, match="backward must be a bool"):
        V.plot_unrolled(make_trace(), backward="yes")


def test_plot_unrolled_long_sequence_stays_light() -> None:
    fig = V.plot_unrolled(make_trace("elman", T=60, H=16))
    assert len(fig.data) < 20 and len(fig.layout.annotations) == 0
    assert len(fig.to_json()) < 400_000


# ------------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("cell,sample", [("lstm", None), ("gru", 1), ("elman", None)])
def test_plot_grad_flow(cell, sample) -> None:
    tr = make_trace(cell, L=2, lengths=True)
    fig = V.plot_grad_flow(tr, sample=sample)
    lines = [t for t in fig.data if t.type == "scatter"]
    assert len(lines) == 2 * (2 if cell == "lstm" else 1)
    norms = tr.grad_hidden[0].norm(dim=-1)  # (B, T)
    real = torch.arange(tr.seq_len)[None, :] < tr.lengths[:, None]
    if sample is None:
        want = (norms * real).sum(0) / real.sum(0)
    else:
        want = torch.where(real[sample], norms[sample], torch.nan)
    np.testing.assert_allclose(lines[0].y, want.numpy(), rtol=1e-3)
    assert fig.layout.yaxis.type == "log"
    hm = heatmaps(fig)
    assert len(hm) == 2 and all(h.zmin == -h.zmax for h in hm)
    assert "unit %{y}" in hm[0].hovertemplate and "layer 0" in hm[0].hovertemplate
    assert any("dL/dc_t" in t.name for t in lines) == (cell == "lstm")


def test_plot_grad_flow_needs_grads() -> None:
    with pytest.raises(ValueError, match="needs gradients"):
        V.plot_grad_flow(make_trace(grads=False))


def _jn(rho, T=6):
    return NS(norms=torch.tensor([rho ** k for k in range(T)][::-1]),
              distance=torch.arange(T - 1, -1, -1), spectral_radius=rho)


def test_plot_jacobian_single_list_and_dict() -> None:
    fig = V.plot_jacobian(_jn(0.5))
    main = fig.data[0]
    np.testing.assert_allclose(main.x, np.arange(6))
    np.testing.assert_allclose(main.y, 0.5 ** np.arange(6), rtol=1e-3)
    assert fig.layout.yaxis.type == "log" and "0.5" in fig.layout.title.subtitle.text
    fig = V.plot_jacobian({"tanh": _jn(0.9), "big": _jn(1.2)})
    names = [t.name for t in fig.data]
    assert "tanh (ρ = 0.9)" in names and "big (ρ = 1.2)" in names
    assert len(V.plot_jacobian([_jn(0.9), _jn(0.8)]).data) == 4  # 2 runs + 2 guides
    no_rho = NS(norms=[1.0, 0.5], distance=[1, 0], spectral_radius=None)
    assert len(V.plot_jacobian(no_rho).data) == 1


def test_plot_jacobian_errors() -> None:
    with pytest.raises(TypeError, match="JacobianNorms"):
        V.plot_jacobian([1, 2])
    with pytest.raises(ValueError, match="same length"):
        V.plot_jacobian(NS(norms=[1.0, 2.0], distance=[0], spectral_radius=None))
    with pytest.raises(ValueError, match="at least one"):
        V.plot_jacobian({})


# --------------------------------------------------------------------------------- history


def _history(n=5, loss=None):
    return NS(step=list(range(n)), loss=loss or [2.0 - 0.1 * k for k in range(n)],
              metric=[0.1 * k for k in range(n)], grad_norm=[1.0 + k for k in range(n)])


def test_plot_history_trainer_with_baseline() -> None:
    task = NS(metric_name="accuracy", higher_is_better=True,
              baseline=lambda: NS(loss=1.6, metric=0.25, description="no memory"))
    fig = V.plot_history(NS(history=_history(), task=task), theme="dark")
    assert annotations(fig)[:3] == ["loss", "accuracy (higher is better)",
                                    "gradient norm (before clipping)"]
    base = [t for t in fig.data if t.name == "chance / no memory"]
    assert [t.y[0] for t in base] == [1.6, 0.25] and all(t.line.dash == "dash" for t in base)
    assert annotations(fig).count("chance / no memory") == 2
    assert fig.layout.yaxis3.type == "log"
    assert fig.layout.template.layout.paper_bgcolor is not None  # plotly_dark


def test_plot_history_plain_history_divergence_and_errors() -> None:
    fig = V.plot_history(_history(loss=[1.0, 0.9, float("nan"), float("nan"), float("nan")]))
    assert not [t for t in fig.data if t.name == "chance / no memory"]
    assert "diverged at step 2" in annotations(fig)
    assert np.isnan(np.asarray(fig.data[0].y, dtype=float)[2])
    override = V.plot_history(_history(), baseline=NS(loss=0.5, metric=0.9, description=""))
    assert [t.y[0] for t in override.data if t.name == "chance / no memory"] == [0.5, 0.9]
    bad = _history()
    bad.metric = [0.0]
    with pytest.raises(ValueError, match="equal lengths"):
        V.plot_history(bad)
    with pytest.raises(TypeError, match="Trainer"):
        V.plot_history([1, 2, 3])


# ------------------------------------------------------------------------------------ text


def test_plot_text_activation_grid_values_and_escaping(tmp_path) -> None:
    text = SCRIPT + "\nab & c"
    values = np.linspace(-1, 1, len(text))
    fig = V.plot_text_activation(text, values, unit_name="<b>unit 3</b>")
    [h] = fig.data
    z = np.asarray(h.z, dtype=float)
    assert z.shape == (2, len(SCRIPT) + 1)  # the newline ends row 0
    np.testing.assert_allclose(z[0], values[: len(SCRIPT) + 1], atol=1e-4)
    assert h.text[0][0] == "&lt;" and h.text[0][len(SCRIPT)] == "↵" and h.text[1][3] == "&amp;"
    assert h.customdata[0][0][0] == "&lt;" and h.customdata[1][3][1] == str(len(SCRIPT) + 4)
    js = fig.to_json()
    assert SCRIPT not in js and "<b>unit 3</b>" not in js and "&lt;b&gt;unit 3" in js
    page = V.export_html(fig, tmp_path / "text.html").read_text(encoding="utf-8")
    assert SCRIPT not in page and "&lt;" in page
    wrapped = V.plot_text_activation("abcdef", [0.0] * 6, wrap=4)
    assert np.asarray(wrapped.data[0].z, dtype=float).shape == (2, 4)


def test_plot_text_activation_errors() -> None:
    with pytest.raises(ValueError, match="len\\(text\\) = 3, got 2"):
        V.plot_text_activation("abc", [0.1, 0.2])
    with pytest.raises(TypeError, match="text must be a str"):
        V.plot_text_activation(["a"], [0.1])
    with pytest.raises(ValueError, match="must not be empty"):
        V.plot_text_activation("", [])


# ---------------------------------------------------------------------------------- shapes


def test_plot_task_shapes() -> None:
    fig = V.plot_task_shapes(theme="light")
    texts = " ".join(annotations(fig))
    for title in ("one-to-one", "one-to-many", "many-to-one", "many-to-many",
                  "synchronised<br>many-to-many"):
        assert f"<b>{title}</b>" in texts
    for example in ("plain network", "image captioning", "sentiment classification",
                    "translation", "labelling every<br>video frame"):
        assert example in texts
    boxes = sum(n + len(ins) + len(outs) for _, _, n, ins, outs in TASKS)
    assert len(fig.layout.shapes) == boxes
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == sum(len(ins) + len(outs) + n - 1 for _, _, n, ins, outs in TASKS)


# ------------------------------------------------------------------------------ animations


def _check_controls(fig: go.Figure, n: int) -> None:
    assert len(fig.frames) == n
    [slider] = fig.layout.sliders
    assert len(slider.steps) == n
    assert [s.args[0][0] for s in slider.steps] == [f.name for f in fig.frames]
    [menu] = fig.layout.updatemenus
    assert [b.method for b in menu.buttons] == ["animate", "animate"]
    assert "play" in menu.buttons[0].label and "pause" in menu.buttons[1].label
    for f in fig.frames:  # small frames: never the big heatmaps, numbers rounded
        assert all(d.type == "scatter" for d in f.data)
        for d in f.data:
            v = np.array([np.nan if a is None else a for a in (() if d.x is None else d.x)],
                         dtype=float)
            assert np.allclose(v, np.round(v, 4), equal_nan=True)


@pytest.mark.parametrize("grads", [True, False])
def test_animate_unrolled_forward_then_backward(grads) -> None:
    tr = make_trace("lstm", L=2, D=2, T=6, grads=grads)
    fig = V.animate_unrolled(tr)
    T = tr.seq_len
    _check_controls(fig, 2 * T if grads else T)
    covers = [i for i, t in enumerate(fig.data) if t.name == "not computed yet"]
    assert len(covers) == 4
    for k in range(T):  # forward rows are covered from k + 0.5 on, reverse rows up to T-1-k
        data = dict(zip(fig.frames[k].traces, fig.frames[k].data, strict=True))
        fwd, rev = data[covers[0]], data[covers[1]]
        assert (min(fwd.x) == k + 0.5) if k < T - 1 else not fwd.x
        assert (max(rev.x) == T - 1 - k - 0.5) if k < T - 1 else not rev.x
    if grads:
        grad = next(i for i, t in enumerate(fig.data) if t.name == "dL/dh_t flowing back")
        counts = [list(dict(zip(f.traces, f.data, strict=True))[grad].x).count(None)
                  for f in fig.frames[T:]]
        assert counts == [4 * k for k in range(T)]  # 4 rows, one more arrow each per frame
        assert fig.frames[T].name == "b0" and fig.layout.sliders[0].steps[T].label == f"← {T-1}"


def test_animate_hidden_and_gates_reveal_in_time() -> None:
    tr = make_trace("gru", D=2, T=7, H=4)
    fig = V.animate_hidden(tr)
    _check_controls(fig, 7)
    first = fig.frames[0].data  # forward row covers t >= 1, reverse row t <= 5
    assert min(first[0].x) == 0.5 and max(first[2].x) == 5.5
    assert fig.frames[-1].data[0].x == ()  # everything shown at the end
    _check_controls(V.animate_gates(make_trace("lstm", T=5)), 5)


def test_animate_grad_flow_backward_order() -> None:
    tr = make_trace("lstm", T=6)
    fig = V.animate_grad_flow(tr)
    _check_controls(fig, 6)
    sizes = [len(f.data[0].x) for f in fig.frames]
    assert sizes == [1, 2, 3, 4, 5, 6] and fig.frames[0].data[0].x[0] == 5
    assert fig.layout.sliders[0].steps[0].label == "5"


def test_animate_training_frames_only_changing_data() -> None:
    snaps = [NS(step=10 * k, trace=make_trace("lstm", seed=k)) for k in range(4)]
    fig = V.animate_training(snaps, "hidden", sample=1)
    assert len(fig.frames) == 4 and len(fig.layout.sliders[0].steps) == 4
    assert fig.frames[2].name == "s20" and "training step 20" in fig.frames[2].layout.title.text
    assert all(d.type == "heatmap" for f in fig.frames for d in f.data)
    z = np.asarray(fig.frames[3].data[0].z, dtype=float)
    np.testing.assert_allclose(z, snaps[3].trace.hidden[0, 1].numpy().T, rtol=1e-3, atol=1e-6)
    fig = V.animate_training([(0, snaps[0].trace), (5, snaps[1].trace)], "gates")
    assert len(fig.frames) == 2
    with pytest.raises(ValueError, match="snapshots is empty"):
        V.animate_training([], "hidden")
    with pytest.raises(ValueError, match="view must be one of"):
        V.animate_training(snaps, "movie")


# ------------------------------------------------------------------------------ export etc.


def test_export_html_is_self_contained_and_deterministic(tmp_path) -> None:
    fig = V.animate_hidden(make_trace(T=4))
    a = V.export_html(fig, tmp_path / "a.html")
    b = V.export_html(fig, str(tmp_path / "b.html"))
    again = V.export_html(V.animate_hidden(make_trace(T=4)), tmp_path / "c.html")
    assert a.read_bytes() == b.read_bytes() == again.read_bytes()
    page = a.read_text(encoding="utf-8")
    assert page.lower().startswith("<!doctype html>") and 'id="rnnviz-figure"' in page
    assert "<script src=" not in page and "Plotly.addFrames" in page and len(page) > 1_000_000


def test_export_html_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="folder must exist"):
        V.export_html(go.Figure(), tmp_path / "missing" / "x.html")
    with pytest.raises(ValueError, match="directory"):
        V.export_html(go.Figure(), tmp_path)
    with pytest.raises(TypeError, match="Figure"):
        V.export_html({"data": []}, tmp_path / "x.html")


ALL_VIEWS = [V.plot_unrolled, V.plot_hidden, V.plot_gates, V.plot_gate_saturation,
             V.plot_grad_flow, V.animate_unrolled, V.animate_hidden, V.animate_gates,
             V.animate_grad_flow]


@pytest.mark.parametrize("theme", ["light", "dark", "auto"])
def test_views_are_pure_and_themed(theme, monkeypatch) -> None:
    def boom(*a, **k):
        raise AssertionError("a view displayed something")

    monkeypatch.setattr(go.Figure, "show", boom)
    monkeypatch.setattr(pio, "show", boom)
    tr = make_trace("lstm", T=4)
    before = {k: v.clone() for k, v in tr.gates.items()}
    bg = {"light": "#ffffff", "dark": "#111111", "auto": "rgba(0,0,0,0)"}[theme]
    for view in ALL_VIEWS if theme == "dark" else ALL_VIEWS[1:2]:
        fig = view(tr, theme=theme)
        assert fig.layout.font.size >= 16 and fig.layout.paper_bgcolor == bg
    assert all(torch.equal(before[k], tr.gates[k]) for k in before)  # inputs untouched


def test_top_level_exports_resolve() -> None:
    for name in ("plot_unrolled", "plot_hidden", "plot_gates", "plot_gate_saturation",
                 "plot_grad_flow", "plot_jacobian", "plot_history", "plot_text_activation",
                 "plot_task_shapes", "animate_unrolled", "animate_hidden", "animate_gates",
                 "animate_grad_flow", "animate_training", "export_html"):
        assert getattr(rnnviz, name) is getattr(V, name)


# ------------------------------------------------------------------------- real rnnviz.trace


def test_views_on_a_real_trace_and_trainer(tmp_path) -> None:
    task = rnnviz.tasks.Echo(delay=2, seed=0)
    batch = task.batch(3, seed=1)
    for cell in ("elman", "lstm", "gru"):
        model = rnnviz.SequenceModel.from_task(task, cell=cell, hidden_size=5, seed=0)
        tr = rnnviz.trace(model, batch.x, batch.y, lengths=batch.lengths)
        T = tr.seq_len
        fig = V.plot_unrolled(tr, backward=True)
        np.testing.assert_allclose(np.asarray(heatmaps(fig)[0].z, dtype=float)[:, ::2],
                                   tr.grad_hidden[0, 0].numpy().T, rtol=1e-6, atol=1e-12)
        if cell == "elman":
            assert len(V.animate_unrolled(tr).frames) == 2 * T
            jn = rnnviz.jacobian_norms(model, batch.x)
            fig = V.plot_jacobian({cell: jn})
            assert f"ρ = {jn.spectral_radius:.3g}" in fig.data[0].name
        else:
            assert len(heatmaps(V.plot_gates(tr))) == len(tr.gates) + (cell == "lstm")
    trainer = rnnviz.Trainer(model, task, batch_size=8, seed=0, snapshot_every=2)
    trainer.run(4, progress=False)
    hist = V.plot_history(trainer)
    assert len(hist.data[0].x) == len(trainer.history.step) == 4
    anim = V.animate_training(trainer.snapshots, "gates")
    assert len(anim.frames) == len(trainer.snapshots) >= 2
    page = V.export_html(anim, tmp_path / "training.html").read_text(encoding="utf-8")
    assert json.dumps("training step")[1:-1] in page
