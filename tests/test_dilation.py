"""Dilated recurrent layers against torch (cells, modules on interleaved subsequences, autograd),
path lengths against a breadth-first search, the dilation view, and bad inputs."""

from __future__ import annotations

from collections import deque

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import rnnviz
from rnnviz import tasks
from rnnviz.dilation import Dilated, dilate, path_lengths
from rnnviz.models import GRU, LSTM, Elman

CORES = {"elman": Elman, "lstm": LSTM, "gru": GRU}
TORCH_CELLS = {"elman": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
SETTINGS = settings(max_examples=30, deadline=None)


@st.composite
def configs(draw):
    cell = draw(st.sampled_from(sorted(CORES)))
    layers = draw(st.integers(1, 3))
    return dict(
        cell=cell,
        kwargs=dict(
            input_size=draw(st.integers(1, 4)),
            hidden_size=draw(st.integers(1, 5)),
            num_layers=layers,
            bias=draw(st.booleans()),
            batch_first=draw(st.booleans()),
            **({"nonlinearity": draw(st.sampled_from(["tanh", "relu"]))} if cell == "elman" else {}),
        ),
        dilations=tuple(draw(st.integers(1, 5)) for _ in range(layers)),
        batch=draw(st.integers(1, 4)),
        seq_len=draw(st.integers(1, 17)),
        with_h0=draw(st.booleans()),
        with_lengths=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )


def make_case(cfg, dtype=torch.float64):
    kw, B, T = cfg["kwargs"], cfg["batch"], cfg["seq_len"]
    g = torch.Generator().manual_seed(cfg["seed"])
    plain = CORES[cfg["cell"]](**kw, dtype=dtype, seed=cfg["seed"])
    core = dilate(plain, cfg["dilations"])
    shape = (B, T, kw["input_size"]) if kw["batch_first"] else (T, B, kw["input_size"])
    x = torch.randn(shape, generator=g, dtype=dtype)
    hx = None
    if cfg["with_h0"]:
        hx = torch.randn(kw["num_layers"], B, kw["hidden_size"], generator=g, dtype=dtype)
        if cfg["cell"] == "lstm":
            hx = (hx, torch.randn(hx.shape, generator=g, dtype=dtype))
    lengths = torch.randint(1, T + 1, (B,), generator=g) if cfg["with_lengths"] else None
    return plain, core, x, hx, lengths


def states(h):
    return list(h) if isinstance(h, tuple) else [h]


def cell_reference(core, x, hx, dilations):
    """h_t = cell(x_t, h_{t-d}) with torch.nn.*Cell, layer by layer: batch-first (B, T, I) -> outputs."""
    cell_type, B, T = core.cell_type, x.shape[0], x.shape[1]
    H = core.hidden_size
    layer_in, finals = x, []
    for layer, d in enumerate(dilations):
        w_ih, w_hh, b_ih, b_hh = core.layer_weights(layer)
        kwargs = {"nonlinearity": core.nonlinearity} if cell_type == "elman" else {}
        cell = TORCH_CELLS[cell_type](w_ih.shape[1], H, bias=core.bias, dtype=x.dtype, **kwargs)
        state = {"weight_ih": w_ih, "weight_hh": w_hh}
        if core.bias:
            state.update(bias_ih=b_ih, bias_hh=b_hh)
        cell.load_state_dict({k: v.detach() for k, v in state.items()})
        h0 = torch.zeros(B, H, dtype=x.dtype) if hx is None else states(hx)[0][layer]
        c0 = (
            (torch.zeros(B, H, dtype=x.dtype) if hx is None else hx[1][layer])
            if cell_type == "lstm"
            else None
        )
        hs, cs = [], []
        for t in range(T):
            h_prev = hs[t - d] if t >= d else h0
            if cell_type == "lstm":
                c_prev = cs[t - d] if t >= d else c0
                h, c = cell(layer_in[:, t], (h_prev, c_prev))
                cs.append(c)
            else:
                h = cell(layer_in[:, t], h_prev)
            hs.append(h)
        layer_in = torch.stack(hs, dim=1)  # (B, T, H)
        finals.append((hs[-1], cs[-1] if cs else None))
    return layer_in, finals


def canonical(x, batch_first):
    return x if batch_first else x.transpose(0, 1)


@SETTINGS
@given(cfg=configs())
def test_dilated_core_matches_torch_cells_and_both_paths_agree(cfg):
    plain, core, x, hx, lengths = make_case(cfg)
    bf = cfg["kwargs"]["batch_first"]
    xb = canonical(x, bf)
    fused_out, fused_h = core(x, hx, lengths=lengths)
    explicit_out, explicit_h = core(x, hx, lengths=lengths, explicit=True)
    torch.testing.assert_close(fused_out, explicit_out, atol=1e-9, rtol=1e-9)
    for a, b in zip(states(fused_h), states(explicit_h), strict=True):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-9)
    if lengths is None:
        ref_out, finals = cell_reference(core, xb, hx, cfg["dilations"])
        torch.testing.assert_close(canonical(fused_out, bf), ref_out, atol=1e-9, rtol=1e-9)
        h_n = torch.stack([h for h, _ in finals])
        torch.testing.assert_close(states(fused_h)[0], h_n, atol=1e-9, rtol=1e-9)
    else:
        # every sequence alone, cut to its real length, gives the same outputs and final state
        for b in range(xb.shape[0]):
            n = int(lengths[b])
            h_b = None if hx is None else tuple(s[:, b : b + 1] for s in states(hx))
            h_b = h_b if h_b is None or cfg["cell"] == "lstm" else h_b[0]
            one = xb[b : b + 1, :n] if bf else xb[b : b + 1, :n].transpose(0, 1)
            out_b, state_b = core(one, h_b)
            torch.testing.assert_close(canonical(out_b, bf)[0], canonical(fused_out, bf)[b, :n])
            assert (canonical(fused_out, bf)[b, n:] == 0).all()
            for a, s in zip(states(state_b), states(fused_h), strict=True):
                torch.testing.assert_close(a[:, 0], s[:, b])


@SETTINGS
@given(cfg=configs())
def test_each_layer_is_the_torch_module_on_interleaved_subsequences(cfg):
    cfg["kwargs"]["batch_first"] = True
    cfg["with_h0"] = False
    _, core, x, _, _ = make_case(cfg)
    out, _ = core(x)
    layer_in = x
    for layer, d in enumerate(cfg["dilations"]):
        module = core.layer_to_torch(layer)
        assert isinstance(module, (nn.RNN, nn.LSTM, nn.GRU)) and not isinstance(module, Dilated)
        layer_out = torch.zeros(x.shape[0], x.shape[1], core.hidden_size, dtype=x.dtype)
        for j in range(min(d, x.shape[1])):
            layer_out[:, j::d] = module(layer_in[:, j::d])[0]  # chain j: steps j, j+d, j+2d, ...
        layer_in = layer_out
    torch.testing.assert_close(out, layer_in, atol=1e-9, rtol=1e-9)


@SETTINGS
@given(cfg=configs())
def test_gradients_of_both_paths_agree(cfg):
    _, core, x, hx, lengths = make_case(cfg)
    weights = torch.randn(core.hidden_size, dtype=x.dtype)
    grads = []
    for explicit in (False, True):
        core.zero_grad()
        xg = x.clone().requires_grad_()
        out, h = core(xg, hx, lengths=lengths, explicit=explicit)
        ((out * weights).sum() + sum(s.sum() for s in states(h))).backward()
        grads.append([xg.grad, *(p.grad for p in core.parameters())])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-9)


@pytest.mark.parametrize("cell", sorted(CORES))
def test_dilations_of_one_are_the_plain_torch_module(cell):
    plain = CORES[cell](3, 4, num_layers=2, batch_first=True, seed=1)
    core = dilate(plain, (1, 1))
    x = torch.randn(2, 9, 3, generator=torch.Generator().manual_seed(0))
    ref_out, ref_h = plain.to_torch()(x)
    out, h = core(x)
    torch.testing.assert_close(out, ref_out)
    for a, b in zip(states(h), states(ref_h), strict=True):
        torch.testing.assert_close(a, b)


def test_unbatched_input_and_dropout_follow_torch_rules():
    core = dilate(GRU(2, 3, num_layers=2, dropout=0.5, seed=0), (1, 2))
    x = torch.randn(7, 2, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    assert not torch.equal(core(x)[0], core(x)[0])  # training: dropout between the layers
    core.eval()
    out, h = core(x)
    ref, h_ref = core(x[:, None])
    assert out.shape == (7, 3) and h.shape == (2, 3)
    torch.testing.assert_close(out, ref[:, 0])
    torch.testing.assert_close(h, h_ref[:, 0])
    torch.testing.assert_close(out, core(x, explicit=True)[0])


def brute_force_lengths(dilations, strides, T):
    """0-1 breadth-first search on an explicitly listed graph, from every input to the output."""
    period, p = [], 1
    for s in strides:
        p *= s
        period.append(p)
    nodes = {(k, t) for k in range(len(dilations)) for t in range(period[k] - 1, T, period[k])}
    out = max((n for n in nodes if n[0] == len(dilations) - 1), key=lambda n: n[1])
    edges = {}
    for k, t in nodes:
        for nxt, cost in (((k + 1, t), 0), ((k, t + dilations[k] * period[k]), 1)):
            if nxt in nodes:
                edges.setdefault((k, t), []).append((nxt, cost))
    result = []
    for t in range(T):
        if (0, t) not in nodes:
            result.append(None)
            continue
        dist, queue = {(0, t): 0}, deque([(0, t)])
        while queue:
            node = queue.popleft()
            for nxt, cost in edges.get(node, []):
                if dist[node] + cost < dist.get(nxt, 10**9):
                    dist[nxt] = dist[node] + cost
                    queue.appendleft(nxt) if cost == 0 else queue.append(nxt)
        result.append(dist.get(out))
    return result


@settings(max_examples=60, deadline=None)
@given(
    dilations=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    stride_seed=st.integers(0, 10**6),
    T=st.integers(1, 40),
)
def test_path_lengths_match_a_breadth_first_search(dilations, stride_seed, T):
    g = torch.Generator().manual_seed(stride_seed)
    strides = [int(v) for v in torch.randint(1, 3, (len(dilations),), generator=g)]
    top = 1
    for s in strides:
        top *= s
    if top > T:
        with pytest.raises(ValueError, match="seq_len"):
            path_lengths(dilations, T, strides=strides)
        return
    paths = path_lengths(dilations, T, strides=strides)
    want = brute_force_lengths(dilations, strides, T)
    assert paths.length == want
    assert paths.receptive_field == sum(v is not None for v in want)
    for t in range(T):
        route = paths.path(t)
        if want[t] is None:
            assert route == []
            continue
        assert route[0] == (0, t) and route[-1] == paths.output
        along = sum(1 for a, b in zip(route[:-1], route[1:], strict=True) if a[0] == b[0])
        assert along == want[t]


def test_path_lengths_known_cases():
    assert path_lengths((1,), 6).length == [5, 4, 3, 2, 1, 0]
    assert path_lengths((3,), 7).length == [2, None, None, 1, None, None, 0]
    p = path_lengths((1, 2, 4, 8), 64)
    assert p.receptive_field == 64 and p.length[0] == 63 // 8 + bin(63 % 8).count("1")
    assert p.updates == [64] * 4
    s = path_lengths((1, 1), 16, strides=(1, 4))
    assert s.updates == [16, 4] and s.nodes[1] == [3, 7, 11, 15] and s.length[0] == 3 + 3


@settings(max_examples=25, deadline=None)
@given(
    dilations=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    T=st.integers(1, 20),
    seed=st.integers(0, 2**16),
)
def test_receptive_field_is_where_autograd_finds_a_gradient(dilations, T, seed):
    core = dilate(
        Elman(2, 3, num_layers=len(dilations), batch_first=True, dtype=torch.float64, seed=seed), dilations
    )
    x = torch.randn(
        1, T, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    ).requires_grad_()
    out, _ = core(x)
    (grad,) = torch.autograd.grad(out[0, -1].sum(), x)
    reached = [bool(grad[0, t].abs().sum() > 0) for t in range(T)]
    assert reached == [v is not None for v in path_lengths(dilations, T).length]


def test_trace_trainer_and_dashboard_work_with_a_dilated_sequence_model():
    task = tasks.TemporalOrder(seq_len=12, seed=0)
    plain = rnnviz.SequenceModel.from_task(task, cell="lstm", hidden_size=5, num_layers=2, seed=0)
    model = rnnviz.dilate(plain, (1, 3))
    assert isinstance(model.core, Dilated) and not isinstance(plain.core, Dilated)
    for (k, a), (_, b) in zip(plain.state_dict().items(), model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    x, y, _ = task.batch(6, seed=1)
    tr = rnnviz.trace(model, x, y)
    torch.testing.assert_close(tr.output, model(x).detach())
    e = model.encode(x).detach().requires_grad_()
    loss = task.loss(model.readout(model.core(e)[0]), y)
    (grad,) = torch.autograd.grad(loss, e)
    torch.testing.assert_close(tr.grad_input, grad)
    trainer = rnnviz.Trainer(model, task, lr=1e-2, batch_size=8, seed=0, snapshot_every=2)
    trainer.run(3, progress=False)
    assert len(trainer.history) == 3 and trainer.snapshots[-1].step == 2
    board = rnnviz.dashboard(trainer, views=("hidden", "grad_flow"))
    board.close()
    assert "dilations=(1, 3)" in repr(model.core)


# -- the view ---------------------------------------------------------------------------------
def test_plot_dilation_draws_the_paths():
    fig = rnnviz.plot_dilation((1, 2, 4), 16, source=2, theme="light")
    paths = path_lengths((1, 2, 4), 16)
    bars = next(t for t in fig.data if t.type == "bar")
    assert [None if v != v else int(v) for v in bars.y] == paths.length
    highlight = next(t for t in fig.data if t.name == "shortest path from x_2")
    assert highlight.x[0] == 2 and highlight.x[-1] == 15
    assert "x_2 reaches the output in" in fig.layout.title.subtitle.text
    single = rnnviz.plot_dilation((4,), 8, source=1)
    assert any(t.name == "never reaches" for t in single.data)
    assert "never reaches" in single.layout.title.subtitle.text
    assert "receptive field 2 of 8" in single.layout.title.subtitle.text
    strided = rnnviz.plot_dilation((1, 1), 8, strides=(1, 4))
    assert "strides (1, 4)" in strided.layout.title.text


# -- bad inputs ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "err", "match"),
    [
        (lambda: dilate(Elman(2, 3, num_layers=2), (1,)), ValueError, "one entry per layer"),
        (lambda: dilate(Elman(2, 3), (0,)), ValueError, r"dilations\[0\]"),
        (lambda: dilate(Elman(2, 3), (1.5,)), ValueError, r"dilations\[0\]"),
        (lambda: dilate(Elman(2, 3), 2), TypeError, "dilations must be a tuple"),
        (lambda: dilate(Elman(2, 3), ()), ValueError, "at least one"),
        (lambda: dilate(Elman(2, 3, bidirectional=True), (2,)), ValueError, "unidirectional"),
        (lambda: dilate(nn.RNN(2, 3), (2,)), TypeError, "model must be an rnnviz"),
        (lambda: dilate(Elman(2, 3), (2,)).to_torch(), TypeError, "layer_to_torch"),
        (lambda: dilate(Elman(2, 3), (2,)).layer_to_torch(1), ValueError, "layer must be"),
        (lambda: dilate(Elman(2, 3), (2,))(torch.zeros(3, 4)), ValueError, "input_size"),
        (
            lambda: dilate(Elman(2, 3, batch_first=True), (2,))(torch.zeros(1, 4, 2), lengths=[5]),
            ValueError,
            "lengths",
        ),
        (
            lambda: dilate(Elman(2, 3), (2,))(torch.nn.utils.rnn.pack_sequence([torch.zeros(3, 2)])),
            TypeError,
            "PackedSequence",
        ),
        (lambda: path_lengths((1, 2), 0), ValueError, "seq_len"),
        (lambda: path_lengths((1, 2), 8, strides=(1,)), ValueError, "strides"),
        (lambda: path_lengths((1,), 3, strides=(4,)), ValueError, "never runs"),
        (lambda: path_lengths((1,), 3).path(3), ValueError, "t must be"),
        (lambda: rnnviz.plot_dilation((1, 2), 8, source=8), ValueError, "source"),
        (lambda: rnnviz.plot_dilation((1, 2), 8, theme="pink"), ValueError, "theme"),
    ],
)
def test_bad_inputs_name_the_argument(call, err, match):
    with pytest.raises(err, match=match):
        call()
