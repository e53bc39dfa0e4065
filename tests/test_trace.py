"""trace / jacobian_norms / spectral_radius against independent computations.

The references here never call rnnviz's loop: they unroll ``torch.nn.*Cell`` copies of the
weights one sequence at a time, use autograd on that graph, finite differences, or
``torch.autograd.functional.jacobian``.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from rnnviz._types import GATE_NAMES
from rnnviz.models import GRU, LSTM, Elman
from rnnviz.tracing import JacobianNorms, jacobian_norms, set_spectral_radius, spectral_radius, trace

MODELS = {"elman": Elman, "lstm": LSTM, "gru": GRU}
TORCH_CELLS = {"elman": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
F64 = torch.float64
SETTINGS = settings(max_examples=30, deadline=None)


# ---------------------------------------------------------------------------------------------
# an independent reference: torch cells, one sequence at a time


def torch_cells(core) -> dict[tuple[int, int], nn.Module]:
    cells = {}
    for layer in range(core.num_layers):
        for d in range(core.num_directions):
            sfx = f"l{layer}" + ("_reverse" if d else "")
            w_ih = getattr(core, f"weight_ih_{sfx}")
            extra = {"nonlinearity": core.nonlinearity} if core.cell_type == "elman" else {}
            cell = TORCH_CELLS[core.cell_type](w_ih.shape[1], core.hidden_size, core.bias,
                                               **extra, dtype=w_ih.dtype)
            with torch.no_grad():
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    if hasattr(core, f"{name}_{sfx}"):
                        getattr(cell, name).copy_(getattr(core, f"{name}_{sfx}"))
            cells[layer, d] = cell
    return cells


def unroll(core, x_seq, h0=None, perturb=None):
    """Run one sequence ``x_seq (n, I)`` through torch cells.

    Returns ``(output (n, D*H), hs, cs, layer_inputs)`` where ``hs[k][t]`` is ``(1, H)`` with
    ``retain_grad``. ``perturb = (k, t, dh, dc)`` adds ``dh`` (and ``dc``) to a state right
    after step ``t`` of row ``k``.
    """
    cells, lstm = torch_cells(core), core.cell_type == "lstm"
    n, D, H = x_seq.shape[0], core.num_directions, core.hidden_size
    hs, cs, layer_inputs = {}, {}, []
    layer_in = x_seq
    for layer in range(core.num_layers):
        layer_inputs.append(layer_in)
        outs = []
        for d in range(D):
            k = layer * D + d
            h = torch.zeros(1, H, dtype=x_seq.dtype) if h0 is None else h0[0][k : k + 1] if lstm \
                else h0[k : k + 1]
            c = (torch.zeros(1, H, dtype=x_seq.dtype) if h0 is None else h0[1][k : k + 1]) \
                if lstm else None
            hs[k], cs[k] = [None] * n, [None] * n
            for t in range(n) if d == 0 else range(n - 1, -1, -1):
                h_prev, x_t, cell = h, layer_in[t : t + 1], cells[layer, d]
                if lstm:
                    h, c = cell(x_t, (h, c))
                else:
                    h = cell(x_t, h)
                if perturb is not None and perturb[:2] == (k, t):
                    if lstm:  # h_t = o_t * tanh(c_t) sees the perturbed c_t
                        a = F.linear(x_t, cell.weight_ih, cell.bias_ih) + F.linear(
                            h_prev, cell.weight_hh, cell.bias_hh)
                        c = c + perturb[3]
                        h = torch.sigmoid(a[:, 3 * H :]) * torch.tanh(c)
                    h = h + perturb[2]
                if h.requires_grad:
                    h.retain_grad()
                hs[k][t] = h
                if lstm:
                    if c.requires_grad:
                        c.retain_grad()
                    cs[k][t] = c
            outs.append(torch.cat(hs[k], 0))  # (n, H)
        layer_in = torch.cat(outs, -1)  # (n, D*H)
    return layer_in, hs, cs, layer_inputs


def row(h0, b):
    if h0 is None:
        return None
    return tuple(v[:, b] for v in h0) if isinstance(h0, tuple) else h0[:, b]


def recompute_step(core, k, x_t, h, c):
    """The cell equations written out once more from the raw stacked weights."""
    layer, d = divmod(k, core.num_directions)
    sfx = f"l{layer}" + ("_reverse" if d else "")
    w_ih, w_hh = getattr(core, f"weight_ih_{sfx}"), getattr(core, f"weight_hh_{sfx}")
    b_ih = getattr(core, f"bias_ih_{sfx}", None)
    b_hh = getattr(core, f"bias_hh_{sfx}", None)
    a_x = x_t @ w_ih.T + (0 if b_ih is None else b_ih)
    a_h = h @ w_hh.T + (0 if b_hh is None else b_hh)
    H = core.hidden_size
    if core.cell_type == "elman":
        pre = a_x + a_h
        return {"preact": pre, "h": torch.tanh(pre) if core.nonlinearity == "tanh" else pre.relu()}
    if core.cell_type == "lstm":
        a = a_x + a_h
        i, f = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H : 2 * H])
        g, o = torch.tanh(a[:, 2 * H : 3 * H]), torch.sigmoid(a[:, 3 * H :])
        c_new = f * c + i * g
        return {"i": i, "f": f, "g": g, "o": o, "c": c_new, "h": o * torch.tanh(c_new)}
    r = torch.sigmoid(a_x[:, :H] + a_h[:, :H])
    z = torch.sigmoid(a_x[:, H : 2 * H] + a_h[:, H : 2 * H])
    n = torch.tanh(a_x[:, 2 * H :] + r * a_h[:, 2 * H :])
    return {"r": r, "z": z, "n": n, "h": (1 - z) * n + z * h}


def linear_loss(out, w):
    return (out * w).sum()


# ---------------------------------------------------------------------------------------------
# trace


@SETTINGS
@given(
    cell=st.sampled_from(sorted(MODELS)),
    relu=st.booleans(),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    batch_first=st.booleans(),
    bias=st.booleans(),
    batch=st.integers(1, 3),
    seq_len=st.integers(1, 7),
    with_lengths=st.booleans(),
    with_h0=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_trace_matches_independent_unrolled_graph(
    cell, relu, num_layers, bidirectional, batch_first, bias, batch, seq_len, with_lengths,
    with_h0, seed,
):
    g = torch.Generator().manual_seed(seed)
    extra = {"nonlinearity": "relu" if relu else "tanh"} if cell == "elman" else {}
    core = MODELS[cell](3, 4, num_layers, bias=bias, batch_first=batch_first,
                        bidirectional=bidirectional, **extra, dtype=F64, seed=seed)
    B, T, H, LD = batch, seq_len, 4, num_layers * core.num_directions
    x_bf = torch.randn(B, T, 3, generator=g, dtype=F64)
    x = x_bf if batch_first else x_bf.transpose(0, 1)
    w_bf = torch.randn(B, T, core.num_directions * H, generator=g, dtype=F64)
    w = w_bf if batch_first else w_bf.transpose(0, 1)
    lengths = torch.randint(1, T + 1, (B,), generator=g) if with_lengths else None
    h0 = None
    if with_h0:
        h0 = torch.randn(LD, B, H, generator=g, dtype=F64)
        h0 = (h0, torch.randn(LD, B, H, generator=g, dtype=F64)) if cell == "lstm" else h0
    tr = trace(core, x, w, lengths=lengths, h0=h0, loss_fn=linear_loss)

    # 1. shapes and metadata
    assert tr.cell_type == cell and tr.num_layers == num_layers and tr.hidden_size == H
    for value in (tr.hidden, tr.grad_hidden, *tr.gates.values()):
        assert value.shape == (LD, B, T, H) and not value.requires_grad
    assert set(tr.gates) == set(GATE_NAMES[cell])
    assert (tr.cell is None) == (tr.grad_cell is None) == (cell != "lstm")
    assert (tr.preact is None) == (cell != "elman")
    assert tr.grad_input.shape == (B, T, 3) and torch.equal(tr.inputs, x_bf)
    # 2. output = the module's own (fused) output, and the top layer's hidden states
    out, _ = core(x, h0, lengths=lengths)
    out_bf = out if batch_first else out.transpose(0, 1)
    torch.testing.assert_close(tr.output, out_bf.detach())
    top = tr.hidden[-core.num_directions :]  # (D, B, T, H)
    torch.testing.assert_close(torch.cat(list(top), dim=-1), out_bf.detach())
    assert tr.loss == pytest.approx(float(linear_loss(out, w).detach()), rel=1e-9, abs=1e-9)

    ns = [T] * B if lengths is None else lengths.tolist()
    for b, n in enumerate(ns):
        # 3. an independent graph for sequence b alone
        x_b = x_bf[b, :n].clone().requires_grad_()
        ref_out, hs, cs, layer_inputs = unroll(core, x_b, row(h0, b))
        linear_loss(ref_out, w_bf[b, :n]).backward()
        torch.testing.assert_close(tr.grad_input[b, :n], x_b.grad)
        assert torch.count_nonzero(tr.grad_input[b, n:]) == 0
        for k in range(LD):
            d = k % core.num_directions
            for t in range(n):
                torch.testing.assert_close(tr.hidden[k, b, t], hs[k][t][0].detach())
                torch.testing.assert_close(tr.grad_hidden[k, b, t], hs[k][t].grad[0])
                if cell == "lstm":
                    torch.testing.assert_close(tr.cell[k, b, t], cs[k][t][0].detach())
                    torch.testing.assert_close(tr.grad_cell[k, b, t], cs[k][t].grad[0])
                # 4. gates from the weights, the traced h_{t-1} and the layer input x_t
                prev = t - 1 if d == 0 else t + 1
                first = prev < 0 or prev >= n
                start = row(h0, b)
                if first:
                    h_prev = torch.zeros(H, dtype=F64) if start is None else \
                        (start[0][k] if cell == "lstm" else start[k])
                    c_prev = (torch.zeros(H, dtype=F64) if start is None else start[1][k]) \
                        if cell == "lstm" else None
                else:
                    h_prev = tr.hidden[k, b, prev]
                    c_prev = tr.cell[k, b, prev] if cell == "lstm" else None
                x_t = layer_inputs[k // core.num_directions][t].detach()
                want = recompute_step(core, k, x_t[None], h_prev[None],
                                      None if c_prev is None else c_prev[None])
                with torch.no_grad():
                    for name in GATE_NAMES[cell]:
                        torch.testing.assert_close(tr.gates[name][k, b, t], want[name][0])
                    if cell == "elman":
                        torch.testing.assert_close(tr.preact[k, b, t], want["preact"][0])
                    torch.testing.assert_close(tr.hidden[k, b, t], want["h"][0])
            # 5. padded steps are zero in every per-step tensor
            for value in (tr.hidden, tr.grad_hidden, *tr.gates.values()):
                assert torch.count_nonzero(value[k, b, n:]) == 0


@pytest.mark.parametrize("cell", sorted(MODELS))
def test_grad_hidden_matches_finite_differences(cell):
    core = MODELS[cell](2, 3, batch_first=True, dtype=F64, seed=1)
    g = torch.Generator().manual_seed(0)
    B, T, H = 2, 5, 3
    x = torch.randn(B, T, 2, generator=g, dtype=F64)
    w = torch.randn(B, T, H, generator=g, dtype=F64)
    tr = trace(core, x, w, loss_fn=lambda out, y: (out * y).sum() + (out**2 * y).sum())
    eps = 1e-6

    def loss(b, t, dh, dc):
        with torch.no_grad():
            out, *_ = unroll(core, x[b], perturb=(0, t, dh, dc))
            return float((out * w[b]).sum() + (out**2 * w[b]).sum())

    zero = torch.zeros(1, H, dtype=F64)
    for b in range(B):
        for t in range(T):
            for j in range(H):
                e = torch.zeros(1, H, dtype=F64)
                e[0, j] = eps
                fd = (loss(b, t, e, zero) - loss(b, t, -e, zero)) / (2 * eps)
                assert tr.grad_hidden[0, b, t, j].item() == pytest.approx(fd, rel=1e-5, abs=1e-7)
                if cell == "lstm":
                    fd = (loss(b, t, zero, e) - loss(b, t, zero, -e)) / (2 * eps)
                    assert tr.grad_cell[0, b, t, j].item() == pytest.approx(fd, rel=1e-5,
                                                                            abs=1e-7)


@pytest.mark.parametrize("cell", sorted(MODELS))
def test_trace_leaves_the_model_alone(cell):
    core = MODELS[cell](3, 4, num_layers=2, dropout=0.5, batch_first=True, seed=0)
    params = list(core.parameters())
    params[0].grad = torch.full_like(params[0], 7.0)
    before = [p.detach().clone() for p in params]
    core.train()
    x, y = torch.randn(2, 5, 3), torch.randn(2, 5, 4)
    first = trace(core, x, y, loss_fn=F.mse_loss)
    second = trace(core, x, y, loss_fn=F.mse_loss)
    assert core.training and all(m.training for m in core.modules())
    assert torch.equal(params[0].grad, torch.full_like(params[0], 7.0))
    assert all(p.grad is None for p in params[1:])
    assert all(torch.equal(p, q) for p, q in zip(params, before, strict=True))
    # eval semantics inside trace: no dropout, so the same numbers twice and as in eval mode
    torch.testing.assert_close(first.grad_hidden, second.grad_hidden, atol=0, rtol=0)
    core.eval()
    torch.testing.assert_close(first.output, core(x)[0].detach())


@pytest.mark.parametrize("cell", sorted(MODELS))
def test_float32_trace_stays_float32_and_agrees_with_float64(cell):
    # the hand-written BPTT runs in the model's dtype; float32 must agree with float64
    core = MODELS[cell](3, 8, num_layers=2, bidirectional=True, batch_first=True, seed=1)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(3, 20, 3, generator=g), torch.randn(3, 20, 16, generator=g)
    lengths = torch.tensor([20, 7, 13])
    tr32 = trace(core, x, y, lengths=lengths, loss_fn=F.mse_loss)
    tr64 = trace(core.double(), x.double(), y.double(), lengths=lengths, loss_fn=F.mse_loss)
    for name in ("hidden", "grad_hidden", "grad_input", "output"):
        a, b = getattr(tr32, name), getattr(tr64, name)
        assert a.dtype == torch.float32, name
        torch.testing.assert_close(a, b.float(), rtol=1e-4, atol=1e-6)
    for name in tr32.gates:
        torch.testing.assert_close(tr32.gates[name], tr64.gates[name].float(), rtol=1e-4, atol=1e-6)


def test_exploding_gradients_overflow_silently_like_autograd():
    import warnings

    core = Elman(3, 16, nonlinearity="relu", batch_first=True, seed=0)
    with torch.no_grad():
        core.weight_hh_l0.copy_(20.0 * torch.eye(16))  # states and gradients grow 20x a step
    x, y = torch.rand(2, 60, 3), torch.randn(2, 60, 16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would fail here
        tr = trace(core, x, y, loss_fn=F.mse_loss)
    assert not torch.isfinite(tr.hidden).all() and not torch.isfinite(tr.grad_hidden).all()


def test_trace_without_target_has_no_gradients():
    tr = trace(GRU(3, 4, batch_first=True, seed=0), torch.randn(2, 5, 3))
    assert tr.loss is None and tr.grad_hidden is None and tr.grad_input is None
    assert tr.target is None and tr.gates["z"].shape == (1, 2, 5, 4)


class ToySequenceModel(nn.Module):
    """The duck-typed sequence model contract: .core, .encode, .readout, .loss_fn."""

    def __init__(self, cell: str) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Embedding(5, 3)
        self.core = MODELS[cell](3, 4, batch_first=True, bidirectional=True, seed=0)
        self.head = nn.Linear(8, 2)
        self.loss_fn = F.cross_entropy

    def encode(self, x):
        return self.embed(x)  # (B, T, 3)

    def readout(self, out, lengths):
        last = out[torch.arange(out.shape[0]), lengths - 1]  # (B, 8)
        return self.head(last)  # (B, 2)


@pytest.mark.parametrize("cell", sorted(MODELS))
def test_trace_of_a_sequence_model(cell):
    model = ToySequenceModel(cell)
    x = torch.randint(0, 5, (3, 6))
    y = torch.tensor([0, 1, 1])
    lengths = torch.tensor([6, 2, 4])
    tr = trace(model, x, y, lengths=lengths)
    enc = model.encode(x)
    enc.retain_grad()
    logits = model.readout(model.core(enc, lengths=lengths)[0], lengths)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    torch.testing.assert_close(tr.output, logits.detach())
    assert tr.loss == pytest.approx(loss.item(), rel=1e-5)
    torch.testing.assert_close(tr.grad_input, enc.grad)
    assert torch.equal(tr.inputs, x) and torch.equal(tr.lengths, lengths)
    assert tr.hidden.shape == (2, 3, 6, 4)


# ---------------------------------------------------------------------------------------------
# Jacobian norms and spectral radius


def reference_jacobian_norms(core, x_bf, lengths, layer):
    """Per sequence: ``torch.autograd.functional.jacobian`` of h_last w.r.t. each h_t."""
    B, T, _ = x_bf.shape
    ns = [T] * B if lengths is None else lengths.tolist()
    cells, lstm = torch_cells(core), core.cell_type == "lstm"
    by_distance: list[list[float]] = [[] for _ in range(T)]
    for b, n in enumerate(ns):
        with torch.no_grad():
            _, hs, cs, layer_inputs = unroll(core, x_bf[b, :n])
        k = layer * core.num_directions
        inp = layer_inputs[layer].detach()

        for t in range(n):
            def tail(h, t=t, n=n, inp=inp, c_t=cs[k][t]):
                c = c_t.detach() if lstm else None
                for s in range(t + 1, n):
                    if lstm:
                        h, c = cells[layer, 0](inp[s : s + 1], (h, c))
                    else:
                        h = cells[layer, 0](inp[s : s + 1], h)
                return h

            jac = torch.autograd.functional.jacobian(tail, hs[k][t].detach())  # (1,H,1,H)
            by_distance[n - 1 - t].append(float(jac.reshape(core.hidden_size, -1).norm()))
    means = [sum(v) / len(v) if v else float("nan") for v in by_distance]
    return torch.tensor(means[::-1], dtype=torch.float64)


@pytest.mark.parametrize("cell", sorted(MODELS))
@pytest.mark.parametrize(("num_layers", "layer"), [(1, -1), (2, 0), (2, -1)])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_jacobian_norms_match_autograd_functional(cell, num_layers, layer, with_lengths):
    core = MODELS[cell](2, 3, num_layers, batch_first=True, bidirectional=num_layers == 2,
                        dtype=F64, seed=2)
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 6, 2, generator=g, dtype=F64)
    lengths = torch.tensor([4, 6, 2]) if with_lengths else None
    if with_lengths and layer == -1:
        lengths = torch.tensor([3, 4, 2])  # max < T: distances nobody reaches are nan
    jn = jacobian_norms(core, x, lengths=lengths, layer=layer)
    assert isinstance(jn, JacobianNorms)
    want = reference_jacobian_norms(core, x, lengths, layer % num_layers)
    torch.testing.assert_close(jn.norms.double(), want, rtol=1e-5, atol=1e-7, equal_nan=True)
    assert torch.equal(jn.distance, torch.arange(5, -1, -1))
    rho = spectral_radius(core)[(layer % num_layers) * core.num_directions]
    assert jn.spectral_radius == pytest.approx(float(rho))


@pytest.mark.parametrize("cell", sorted(MODELS))
def test_spectral_radius_and_set_spectral_radius(cell):
    core = MODELS[cell](3, 5, num_layers=2, bidirectional=True, seed=0)
    chunks = {"elman": 1, "lstm": 4, "gru": 3}[cell]
    block = 0 if cell == "elman" else 2  # W_hh, W_hg, W_hn
    names = ["weight_hh_l0", "weight_hh_l0_reverse", "weight_hh_l1", "weight_hh_l1_reverse"]

    def blocks():
        return [getattr(core, n).detach().chunk(chunks, 0)[block].clone() for n in names]

    want = torch.stack([torch.linalg.eigvals(w.double()).abs().max() for w in blocks()])
    got = spectral_radius(core)
    assert got.shape == (4,)
    torch.testing.assert_close(got.double(), want, rtol=1e-6, atol=1e-6)

    before = {n: getattr(core, n).detach().clone() for n in names}
    assert set_spectral_radius(core, 1.3, layer=1) is core
    after = spectral_radius(core)
    torch.testing.assert_close(after[2:], torch.full((2,), 1.3), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(after[:2], got[:2])
    assert torch.equal(core.weight_hh_l0, before["weight_hh_l0"])
    if chunks > 1:  # the other gates' rows are untouched
        rest = [i for i in range(chunks) if i != block]
        for i in rest:
            assert torch.equal(core.weight_hh_l1.detach().chunk(chunks, 0)[i],
                               before["weight_hh_l1"].chunk(chunks, 0)[i])
    set_spectral_radius(core, 0.5)
    torch.testing.assert_close(spectral_radius(core), torch.full((4,), 0.5), rtol=1e-5,
                               atol=1e-5)
    model = ToySequenceModel(cell)
    set_spectral_radius(model, 0.7)
    torch.testing.assert_close(spectral_radius(model), torch.full((2,), 0.7), rtol=1e-5,
                               atol=1e-5)


def test_frozen_weights_and_no_grad_context_give_the_same_numbers():
    core = LSTM(2, 3, batch_first=True, seed=0)
    x, y = torch.randn(2, 4, 2), torch.randn(2, 4, 3)
    want_tr = trace(core, x, y, loss_fn=F.mse_loss)
    want_jn = jacobian_norms(core, x)
    core.requires_grad_(False)
    with torch.no_grad():
        got_tr = trace(core, x, y, loss_fn=F.mse_loss)
        got_jn = jacobian_norms(core, x)
    torch.testing.assert_close(got_tr.grad_hidden, want_tr.grad_hidden)
    torch.testing.assert_close(got_tr.grad_input, want_tr.grad_input)
    torch.testing.assert_close(got_jn.norms, want_jn.norms)
    assert torch.count_nonzero(want_tr.grad_hidden) > 0
    assert all(p.grad is None for p in core.parameters())


@SETTINGS
@given(
    cell=st.sampled_from(sorted(MODELS)),
    dilations=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    seq_len=st.integers(1, 12),
    with_lengths=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_hand_written_bptt_follows_a_dilated_recurrence_like_autograd(
    cell, dilations, seq_len, with_lengths, seed
):
    # a dilated core (step t continues step t - d) is traced by hand too; autograd through
    # the core's own explicit loop is the oracle
    from rnnviz.dilation import dilate
    from rnnviz.tracing import _by_autograd

    core = dilate(MODELS[cell](3, 4, len(dilations), batch_first=True, dtype=F64, seed=seed),
                  tuple(dilations))
    g = torch.Generator().manual_seed(seed)
    B, T = 2, seq_len
    x, w = torch.randn(B, T, 3, generator=g, dtype=F64), torch.randn(B, T, 4, generator=g, dtype=F64)
    lengths = torch.randint(1, T + 1, (B,), generator=g) if with_lengths else None
    tr = trace(core, x, w, lengths=lengths, loss_fn=linear_loss)
    want = _by_autograd(core, None, x, None, lengths, w, linear_loss)
    mask = torch.ones(1, B, T, 1, dtype=torch.bool) if lengths is None else \
        (torch.arange(T)[None, :] < lengths[:, None])[None, :, :, None]
    for name in ("hidden", "grad_hidden", "cell", "grad_cell"):
        if want[name] is not None:
            torch.testing.assert_close(getattr(tr, name), torch.where(mask, want[name], 0.0))
    torch.testing.assert_close(tr.grad_input, want["grad_input"])
    assert tr.loss == pytest.approx(want["loss"], rel=1e-9, abs=1e-12)
