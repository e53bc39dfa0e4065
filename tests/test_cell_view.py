"""plot_cell / animate_cell: every wire's numbers, read back from the figure, against the
trace and against torch's own cells (nn.RNNCell / LSTMCell / GRUCell) run on the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import rnnviz
from rnnviz.models import GRU, LSTM, Elman
from rnnviz.views import _style as S
from rnnviz.views.cell import STRIPS, WIRES

MODELS = {"elman": Elman, "lstm": LSTM, "gru": GRU}
TORCH_CELLS = {"elman": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
F64 = torch.float64


def wires(fig) -> dict[str, np.ndarray]:
    """Each strip's values, unit 0 first, as the figure holds them."""
    return {d.meta: np.asarray(d.z, dtype=float).ravel() for d in fig.data if d.type == "heatmap"}


def torch_steps(core, x, sample, lengths=None):
    """Per (layer, direction): lists over t of h_t, c_t, (layer input x_t) from torch cells.

    One sequence at a time, its real steps only, as packing would run it."""
    n = x.shape[1] if lengths is None else int(lengths[sample])
    seq = x[sample, :n]  # (n, I)
    out = {}
    layer_in = seq
    for layer in range(core.num_layers):
        outs = []
        for d in range(core.num_directions):
            w_ih, w_hh, b_ih, b_hh = core.layer_weights(layer, d)
            extra = {"nonlinearity": core.nonlinearity} if core.cell_type == "elman" else {}
            cell = TORCH_CELLS[core.cell_type](w_ih.shape[1], core.hidden_size, **extra,
                                               dtype=F64)
            with torch.no_grad():
                for name, w in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                                   (w_ih, w_hh, b_ih, b_hh), strict=True):
                    getattr(cell, name).copy_(w)
            h = torch.zeros(1, core.hidden_size, dtype=F64)
            c = torch.zeros(1, core.hidden_size, dtype=F64)
            hs, cs = [None] * n, [None] * n
            for t in range(n) if d == 0 else range(n - 1, -1, -1):
                if core.cell_type == "lstm":
                    h, c = cell(layer_in[t : t + 1], (h, c))
                else:
                    h = cell(layer_in[t : t + 1], h)
                hs[t], cs[t] = h[0], c[0]
            out[layer, d] = {"h": hs, "c": cs, "x": [layer_in[t] for t in range(n)],
                             "cell": cell}
            outs.append(torch.stack(hs))
        layer_in = torch.cat(outs, dim=-1)
    return out


def expected(kind, run, t, direction, n):
    """The number on every wire of torch's cell at step t (initial state zero)."""
    p = t - 1 if direction == 0 else t + 1
    H = run["h"][t].shape[0]
    zero = torch.zeros(H, dtype=F64)
    h_prev = run["h"][p] if 0 <= p < n else zero
    x = run["x"][t]
    cell = run["cell"]
    a = F.linear(x, cell.weight_ih, cell.bias_ih) + F.linear(h_prev, cell.weight_hh, cell.bias_hh)
    v = {"x": x, "h_prev": h_prev, "h": run["h"][t]}
    if kind == "lstm":
        c_prev = run["c"][p] if 0 <= p < n else zero
        i, f, g, o = a.chunk(4)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = run["c"][t]
        v.update({"c_prev": c_prev, "i": i, "f": f, "g": g, "o": o, "f*c_prev": f * c_prev,
                  "i*g": i * g, "c": c, "tanh(c)": torch.tanh(c)})
        torch.testing.assert_close(o * torch.tanh(f * c_prev + i * g), run["h"][t])
    elif kind == "gru":
        gi = F.linear(x, cell.weight_ih, cell.bias_ih).chunk(3)
        gh = F.linear(h_prev, cell.weight_hh, cell.bias_hh).chunk(3)
        r, z = torch.sigmoid(gi[0] + gh[0]), torch.sigmoid(gi[1] + gh[1])
        n_ = torch.tanh(gi[2] + r * gh[2])
        v.update({"r": r, "z": z, "n": n_, "1-z": 1 - z, "z*h_prev": z * h_prev,
                  "(1-z)*n": (1 - z) * n_})
    else:
        v["a"] = a
    return {k: val.detach().numpy() for k, val in v.items()}


@st.composite
def configs(draw):
    cell = draw(st.sampled_from(sorted(MODELS)))
    L, bi = draw(st.integers(1, 2)), draw(st.booleans())
    B, T = draw(st.integers(1, 3)), draw(st.integers(1, 6))
    lengths = draw(st.none() | st.lists(st.integers(1, T), min_size=B, max_size=B))
    sample = draw(st.integers(0, B - 1))
    n = T if lengths is None else lengths[sample]
    t = draw(st.integers(0, n - 1))
    unit_ok = draw(st.booleans())
    H = draw(st.integers(1, 5))
    return {"cell": cell, "L": L, "bi": bi, "B": B, "T": T, "lengths": lengths,
            "sample": sample, "t": t, "layer": draw(st.integers(0, L - 1)),
            "direction": draw(st.integers(0, 1 if bi else 0)), "H": H,
            "unit": draw(st.integers(0, H - 1)) if unit_ok else None,
            "relu": draw(st.booleans()), "seed": draw(st.integers(0, 2**16))}


@settings(max_examples=25, deadline=None)
@given(cfg=configs())
def test_every_wire_equals_the_trace_and_torch_cells(cfg) -> None:
    kind, H = cfg["cell"], cfg["H"]
    extra = {"nonlinearity": "relu"} if kind == "elman" and cfg["relu"] else {}
    core = MODELS[kind](3, H, num_layers=cfg["L"], bidirectional=cfg["bi"], batch_first=True,
                        seed=cfg["seed"], dtype=F64, **extra)
    x = torch.randn(cfg["B"], cfg["T"], 3, dtype=F64,
                    generator=torch.Generator().manual_seed(cfg["seed"]))
    lengths = None if cfg["lengths"] is None else torch.tensor(cfg["lengths"])
    tr = rnnviz.trace(core, x, lengths=lengths)
    s, t, layer, d, u = cfg["sample"], cfg["t"], cfg["layer"], cfg["direction"], cfg["unit"]
    fig = rnnviz.plot_cell(tr, t, layer=layer, direction=d, sample=s, unit=u)
    got = wires(fig)
    assert set(got) == set(STRIPS[kind])
    n = x.shape[1] if lengths is None else int(lengths[s])
    want = expected(kind, torch_steps(core, x, s, lengths)[layer, d], t, d, n)
    row = tr.index(layer, d)
    for wire, values in want.items():
        shown = values if u is None or wire == "x" else values[u : u + 1]
        np.testing.assert_allclose(got[wire], shown, rtol=1e-5, atol=1e-6, err_msg=wire)
    # ... and the trace's own tensors, where it keeps them
    np.testing.assert_allclose(got["h"], tr.hidden[row, s, t].numpy()[[u] if u is not None
                                                                     else slice(None)],
                               rtol=1e-5, atol=1e-6)
    for g in tr.gates:
        ref = tr.gates[g][row, s, t].numpy()
        np.testing.assert_allclose(got[g], ref if u is None else ref[[u]], rtol=1e-5, atol=1e-6)


def test_strips_hover_equations_boxes_and_labels() -> None:
    core = LSTM(2, 4, batch_first=True, seed=0)
    tr = rnnviz.trace(core, torch.rand(1, 5, 2))  # |x| < 1: x on the h colour scale
    fig = rnnviz.plot_cell(tr, 2, theme="light")
    strips = {d.meta: d for d in fig.data if d.type == "heatmap"}
    for wire, h in strips.items():
        eq = WIRES["lstm"][wire].format(p="t−1", phi="tanh")
        assert h.hovertemplate.startswith(eq) and "unit %{customdata}" in h.hovertemplate
        assert np.asarray(h.customdata).ravel().tolist() == list(range(np.asarray(h.z).size))
    assert strips["f"].coloraxis == "coloraxis2" and strips["h"].coloraxis == "coloraxis"
    assert (fig.layout.coloraxis2.cmin, fig.layout.coloraxis2.cmax) == (0, 1)
    assert fig.layout.coloraxis3.cmax == pytest.approx(
        max(1.0, float(tr.cell[0, 0].abs().max())), rel=1e-6)
    box_colors = {sh.line.color for sh in fig.layout.shapes}
    assert {S.GATES[g].color for g in "ifgo"} <= box_colors
    [hover] = [d for d in fig.data if d.name == "equations"]
    assert any(text.startswith("f<sub>t</sub> = σ(") for text in hover.text)
    assert any("element-wise product" in text for text in hover.text)
    [labels] = [d for d in fig.data if d.name == "labels"]
    assert "f<sub>t</sub>" in labels.text and "c<sub>t−1</sub>" in labels.text
    assert fig.layout.width <= 620 and "LSTM cell at t = 2" in fig.layout.title.text
    # one unit: its value written next to every wire
    one = rnnviz.plot_cell(tr, 2, unit=3)
    [labels] = [d for d in one.data if d.name == "labels"]
    assert f"= {float(tr.hidden[0, 0, 2, 3]):.2f}" in " ".join(labels.text)
    # reverse direction: the previous state is h_{t+1}
    bi = rnnviz.trace(GRU(2, 3, bidirectional=True, batch_first=True, seed=0),
                      torch.randn(1, 4, 2))
    rev = rnnviz.plot_cell(bi, 1, direction=1)
    assert "h<sub>t+1</sub>" in {d.meta: d for d in rev.data if d.type == "heatmap"}[
        "h_prev"].hovertemplate
    np.testing.assert_allclose(wires(rev)["h_prev"], bi.hidden[1, 0, 2].numpy(), atol=1e-6)
    assert "Olah" in rev.layout.title.subtitle.text


def test_symbol_inputs_are_written_as_ids() -> None:
    task = rnnviz.tasks.Brackets(seq_len=6, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell="gru", hidden_size=4, seed=0)
    batch = task.batch(2, seed=0)
    tr = rnnviz.trace(model, batch.x, batch.y)
    fig = rnnviz.plot_cell(tr, 3, sample=1)
    assert "x" not in wires(fig)
    [labels] = [d for d in fig.data if d.name == "labels"]
    assert f"x<sub>t</sub> = id {int(batch.x[1, 3])}" in labels.text


def test_animate_cell_frames_match_plot_cell() -> None:
    core = GRU(2, 3, batch_first=True, seed=0)
    tr = rnnviz.trace(core, torch.randn(2, 5, 2), lengths=[5, 3])
    fig = rnnviz.animate_cell(tr, sample=1, unit=1)
    assert [f.name for f in fig.frames] == ["t0", "t1", "t2"]
    assert len(fig.layout.sliders[0].steps) == 3
    for frame, t in zip(fig.frames, range(3), strict=True):
        ref = wires(rnnviz.plot_cell(tr, t, sample=1, unit=1))
        got = {fig.data[i].meta: np.asarray(d.z, dtype=float).ravel()
               for i, d in zip(frame.traces, frame.data, strict=True) if d.type == "heatmap"}
        assert set(got) == set(ref)
        for wire in ref:
            np.testing.assert_allclose(got[wire], ref[wire])
        assert f"t = {t}" in frame.layout.title.text
    bi = rnnviz.trace(LSTM(2, 3, bidirectional=True, batch_first=True, seed=0),
                      torch.randn(1, 4, 2))
    assert [f.name for f in rnnviz.animate_cell(bi, direction=1).frames] == [
        "t3", "t2", "t1", "t0"]


@pytest.mark.parametrize("kwargs,error,match", [
    ({"t": 4}, ValueError, "padded step"), ({"t": 9}, ValueError, "t must be in"),
    ({"t": 1.0}, TypeError, "t must be an int"), ({"t": 0, "unit": 3}, ValueError, "unit must be"),
    ({"t": 0, "layer": 1}, ValueError, "layer must be"),
    ({"t": 0, "sample": 2}, ValueError, "sample must be"),
    ({"t": 0, "theme": "neon"}, ValueError, "theme must be"),
])
def test_plot_cell_bad_arguments(kwargs, error, match) -> None:
    tr = rnnviz.trace(Elman(2, 3, batch_first=True, seed=0), torch.randn(2, 6, 2),
                      lengths=[6, 6])
    tr.lengths = torch.tensor([6, 4])  # sample 1 has 4 real steps
    t = kwargs.pop("t")
    with pytest.raises(error, match=match):
        rnnviz.plot_cell(tr, t, sample=kwargs.pop("sample", 1), **kwargs)
    with pytest.raises(TypeError, match="Trace"):
        rnnviz.plot_cell({"hidden": 1}, 0)


def test_animation_exports_and_top_level_names(tmp_path) -> None:
    from rnnviz import sensitivity, units
    from rnnviz.views import cell, connectivity

    tr = rnnviz.trace(Elman(2, 3, batch_first=True, seed=0), torch.randn(1, 4, 2))
    path = rnnviz.export_html(rnnviz.animate_cell(tr, theme="dark"), tmp_path / "cell.html")
    text = path.read_text()
    assert "plotly" in text and text.count('"name":"t') >= 4
    assert rnnviz.plot_cell is cell.plot_cell and rnnviz.animate_cell is cell.animate_cell
    assert rnnviz.plot_connectivity is connectivity.plot_connectivity
    assert rnnviz.connectivity is sensitivity.connectivity
    assert rnnviz.find_units is units.find_units and rnnviz.UnitScores is units.UnitScores


@pytest.mark.parametrize("theme", ["light", "dark", "auto"])
def test_new_views_are_pure_and_themed(theme, monkeypatch) -> None:
    import plotly.graph_objects as go
    import plotly.io as pio

    def boom(*a, **k):
        raise AssertionError("a view displayed something")

    monkeypatch.setattr(go.Figure, "show", boom)
    monkeypatch.setattr(pio, "show", boom)
    tr = rnnviz.trace(LSTM(2, 3, batch_first=True, seed=0), torch.randn(1, 4, 2))
    before = tr.hidden.clone()
    bg = {"light": "#ffffff", "dark": "#111111", "auto": "rgba(0,0,0,0)"}[theme]
    C = torch.rand(1, 4, 4).tril()
    for fig in (rnnviz.plot_cell(tr, 1, theme=theme), rnnviz.animate_cell(tr, theme=theme),
                rnnviz.plot_connectivity(C, theme=theme),
                rnnviz.plot_connectivity(C, text="ab<c", theme=theme)):
        assert fig.layout.font.size >= 16 and fig.layout.paper_bgcolor == bg
        assert fig.layout.width <= 620  # a ~600 px notebook slot
    assert torch.equal(before, tr.hidden)
