"""The explicit cells against torch.nn.RNNCell / LSTMCell / GRUCell (torch is the oracle)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from rnnviz.cells import ElmanCell, GRUCell, LSTMCell, elman_step, gru_step, lstm_step

CELLS = {"elman": (ElmanCell, nn.RNNCell), "lstm": (LSTMCell, nn.LSTMCell), "gru": (GRUCell, nn.GRUCell)}
SETTINGS = settings(max_examples=40, deadline=None)


def tol(dtype: torch.dtype) -> dict:
    return {"atol": 1e-5, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 1e-10, "rtol": 1e-9}


def flat(result) -> list[torch.Tensor]:
    return list(result) if isinstance(result, tuple) else [result]


@SETTINGS
@given(
    cell=st.sampled_from(sorted(CELLS)),
    relu=st.booleans(),
    input_size=st.integers(1, 6),
    hidden_size=st.integers(1, 7),
    batch=st.integers(0, 4),  # 0 = unbatched
    bias=st.booleans(),
    with_hx=st.booleans(),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    seed=st.integers(0, 2**16),
)
def test_cell_matches_torch(cell, relu, input_size, hidden_size, batch, bias, with_hx, dtype, seed):
    ours_cls, torch_cls = CELLS[cell]
    torch.manual_seed(seed)
    extra = {"nonlinearity": "relu" if relu else "tanh"} if cell == "elman" else {}
    ref = torch_cls(input_size, hidden_size, bias, **extra, dtype=dtype)
    ours = ours_cls.from_torch(ref)
    lead = (batch,) if batch else ()
    x = torch.randn(*lead, input_size, dtype=dtype)
    hx = None
    if with_hx:
        hx = torch.randn(*lead, hidden_size, dtype=dtype)
        hx = (hx, torch.randn_like(hx)) if cell == "lstm" else hx
    got, want = flat(ours(x, hx)), flat(ref(x, hx))
    assert [g.shape for g in got] == [w.shape for w in want]
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, **tol(dtype))
    # parameter gradients of a random linear functional
    weights = [torch.randn_like(w) for w in want]
    sum((g * w).sum() for g, w in zip(got, weights, strict=True)).backward()
    sum((r * w).sum() for r, w in zip(want, weights, strict=True)).backward()
    for (name, p), (name_ref, p_ref) in zip(
        ours.named_parameters(), ref.named_parameters(), strict=True
    ):
        assert name == name_ref
        torch.testing.assert_close(p.grad, p_ref.grad, **tol(dtype))


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_seeded_init_matches_torch_init(cell):
    ours_cls, torch_cls = CELLS[cell]
    torch.manual_seed(7)
    ref = torch_cls(3, 5)
    ours = ours_cls(3, 5, seed=7)
    assert ours.state_dict().keys() == ref.state_dict().keys()
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(ours.state_dict()[key], value, atol=0, rtol=0)
    # seeded construction leaves the global generator alone
    state = torch.get_rng_state()
    ours_cls(3, 5, seed=1)
    assert torch.equal(state, torch.get_rng_state())
    assert not torch.equal(ours_cls(3, 5, seed=1).weight_hh, ours_cls(3, 5, seed=2).weight_hh)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_to_torch_round_trip(cell):
    ours_cls, torch_cls = CELLS[cell]
    ours = ours_cls(4, 3, bias=False, seed=0).double()
    ref = ours.to_torch()
    assert type(ref) is torch_cls and ref.bias is False
    back = ours_cls.from_torch(ref)
    x = torch.randn(2, 4, dtype=torch.float64)
    for a, b in zip(flat(back(x)), flat(ref(x)), strict=True):
        torch.testing.assert_close(a, b)
    ref.load_state_dict(back.state_dict())  # layouts agree both ways
    back.load_state_dict(ref.state_dict())


def test_step_functions_expose_torch_gate_order():
    torch.manual_seed(0)
    H, x, h, c = 4, torch.randn(3, 2), torch.randn(3, 4), torch.randn(3, 4)
    lstm = nn.LSTMCell(2, H)
    w = (lstm.weight_ih, lstm.weight_hh, lstm.bias_ih, lstm.bias_hh)
    h1, c1, gates = lstm_step(x, h, c, *w)
    pre = (x @ w[0].T + w[2] + h @ w[1].T + w[3]).split(H, dim=1)
    torch.testing.assert_close(gates["i"], torch.sigmoid(pre[0]))
    torch.testing.assert_close(gates["f"], torch.sigmoid(pre[1]))
    torch.testing.assert_close(gates["g"], torch.tanh(pre[2]))
    torch.testing.assert_close(gates["o"], torch.sigmoid(pre[3]))
    torch.testing.assert_close((h1, c1), lstm(x, (h, c)))

    gru = nn.GRUCell(2, H)
    w = (gru.weight_ih, gru.weight_hh, gru.bias_ih, gru.bias_hh)
    h1, gates = gru_step(x, h, *w)
    gi, gh = (x @ w[0].T + w[2]).split(H, 1), (h @ w[1].T + w[3]).split(H, 1)
    torch.testing.assert_close(gates["r"], torch.sigmoid(gi[0] + gh[0]))
    torch.testing.assert_close(gates["z"], torch.sigmoid(gi[1] + gh[1]))
    torch.testing.assert_close(gates["n"], torch.tanh(gi[2] + gates["r"] * gh[2]))
    torch.testing.assert_close(h1, (1 - gates["z"]) * gates["n"] + gates["z"] * h)
    torch.testing.assert_close(h1, gru(x, h))

    rnn = nn.RNNCell(2, H, nonlinearity="relu")
    h1, extra = elman_step(x, h, rnn.weight_ih, rnn.weight_hh, rnn.bias_ih, rnn.bias_hh, "relu")
    torch.testing.assert_close(extra["preact"], x @ rnn.weight_ih.T + rnn.bias_ih
                               + h @ rnn.weight_hh.T + rnn.bias_hh)
    torch.testing.assert_close(h1, rnn(x, h))


@pytest.mark.parametrize(
    ("make", "call", "match"),
    [
        (lambda: ElmanCell(0, 3), None, "input_size"),
        (lambda: LSTMCell(3, 0), None, "hidden_size"),
        (lambda: ElmanCell(3, 4, nonlinearity="sigmoid"), None, "nonlinearity"),
        (lambda: GRUCell(3, 4), lambda m: m(torch.randn(2, 5)), "input_size"),
        (lambda: GRUCell(3, 4), lambda m: m(torch.randn(2, 2, 3)), "input"),
        (lambda: GRUCell(3, 4), lambda m: m(torch.ones(2, 3, dtype=torch.long)), "input"),
        (lambda: ElmanCell(3, 4), lambda m: m(torch.randn(2, 3), torch.randn(3, 4)), "hx"),
        (lambda: LSTMCell(3, 4), lambda m: m(torch.randn(2, 3), torch.randn(2, 4)), "hx"),
        (lambda: LSTMCell(3, 4),
         lambda m: m(torch.randn(2, 3), (torch.randn(2, 4), torch.randn(2, 5))), r"hx\[1\]"),
    ],
)
def test_cell_errors_name_the_argument(make, call, match):
    if call is None:
        with pytest.raises((ValueError, TypeError), match=match):
            make()
        return
    module = make()
    with pytest.raises((ValueError, TypeError), match=match):
        call(module)
