"""Bad arguments to the cores and trace functions raise clear errors naming the argument."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnviz.models import GRU, LSTM, Elman
from rnnviz.tracing import jacobian_norms, set_spectral_radius, spectral_radius, trace


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: LSTM(0, 4), "input_size"),
        (lambda: GRU(3, 0), "hidden_size"),
        (lambda: Elman(3, -2), "hidden_size"),
        (lambda: Elman(3, 4, num_layers=0), "num_layers"),
        (lambda: GRU(3.0, 4), "input_size"),
        (lambda: LSTM(3, 4, dropout=1.5), "dropout"),
        (lambda: LSTM(3, 4, proj_size=2), "proj_size"),
        (lambda: Elman(3, 4, nonlinearity="sigmoid"), "nonlinearity"),
        (lambda: GRU(3, 4, seed="x"), "seed"),
    ],
)
def test_bad_constructor_arguments(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_error_messages_say_expected_and_got():
    with pytest.raises(ValueError, match=r"hidden_size must be a positive int, got 0"):
        LSTM(3, 0)
    with pytest.raises(ValueError, match=r"input.*input_size\) = 3, got 5"):
        LSTM(3, 4)(torch.randn(2, 6, 5))
    with pytest.raises(ValueError, match=r"lengths.*\[1, 6\].*got values in \[0, 6\]"):
        GRU(3, 4, batch_first=True)(torch.randn(2, 6, 3), lengths=[6, 0])


@pytest.fixture(params=["elman", "lstm", "gru"])
def core(request):
    return {"elman": Elman, "lstm": LSTM, "gru": GRU}[request.param](
        3, 4, num_layers=2, batch_first=True, seed=0
    )


def _hx(core, shape):
    h = torch.zeros(shape)
    return (h, h) if core.cell_type == "lstm" else h


@pytest.mark.parametrize("explicit", [False, True])
@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda m, e: m(torch.randn(2, 5, 3, 1), explicit=e), ValueError, "input must have 2 or 3"),
        (lambda m, e: m(torch.randn(3), explicit=e), ValueError, "input must have 2 or 3"),
        (lambda m, e: m(torch.randn(2, 5, 7), explicit=e), ValueError, "input_size"),
        (lambda m, e: m(torch.ones(2, 5, 3, dtype=torch.long), explicit=e), TypeError,
         "input must be a floating-point"),
        (lambda m, e: m(torch.randn(2, 5, 3).double(), explicit=e), TypeError, "dtype"),
        (lambda m, e: m([[1.0, 2.0, 3.0]], explicit=e), TypeError, "input must be a torch.Tensor"),
        (lambda m, e: m(torch.randn(2, 0, 3), explicit=e), ValueError, "time step"),
        (lambda m, e: m(torch.randn(2, 5, 3), lengths=[5, 6], explicit=e), ValueError,
         "lengths"),
        (lambda m, e: m(torch.randn(2, 5, 3), lengths=[5], explicit=e), ValueError,
         "lengths must have size"),
        (lambda m, e: m(torch.randn(2, 5, 3), lengths=torch.tensor([[5, 5]]), explicit=e),
         ValueError, "lengths must have 1"),
        (lambda m, e: m(torch.randn(2, 5, 3), lengths=torch.tensor([5.0, 5.0]), explicit=e),
         TypeError, "lengths must be an integer"),
        (lambda m, e: m(torch.randn(2, 5, 3), lengths="55", explicit=e), TypeError, "lengths"),
        (lambda m, e: m(torch.randn(2, 5, 3), _hx(m, (2, 3, 4)), explicit=e), ValueError,
         r"hx.* must have shape \(2, 2, 4\)"),
        (lambda m, e: m(torch.randn(2, 5, 3), _hx(m, (1, 2, 4)), explicit=e), ValueError,
         r"hx.* must have shape"),
        (lambda m, e: m(torch.randn(5, 3), _hx(m, (2, 2, 4)), explicit=e), ValueError,
         r"hx.* must have shape \(2, 4\)"),
    ],
)
def test_bad_forward_arguments(core, call, error, match, explicit):
    with pytest.raises(error, match=match):
        call(core, explicit)


def test_lstm_hx_must_be_a_pair():
    lstm = LSTM(3, 4, batch_first=True)
    with pytest.raises(TypeError, match="hx must be a pair"):
        lstm(torch.randn(2, 5, 3), torch.zeros(1, 2, 4))


def test_from_torch_rejects_other_modules():
    with pytest.raises(TypeError, match="module must be a torch.nn.LSTM"):
        LSTM.from_torch(nn.GRU(3, 4))
    with pytest.raises(ValueError, match="proj_size"):
        LSTM.from_torch(nn.LSTM(3, 4, proj_size=2))


def test_trace_errors(core):
    x = torch.randn(2, 5, 3)
    with pytest.raises(ValueError, match="loss_fn is required"):
        trace(core, x, torch.zeros(2, 5, 4))
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        trace(core, x, torch.zeros(2, 5, 4), loss_fn="mse")
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        trace(core, torch.randn(5, 3))
    with pytest.raises(ValueError, match="x must have last dimension"):
        trace(core, torch.randn(2, 5, 2))
    with pytest.raises(ValueError, match="lengths"):
        trace(core, x, lengths=[5, 9])
    with pytest.raises(ValueError, match=r"h0.* must have shape \(2, 2, 4\)"):
        trace(core, x, h0=_hx(core, (1, 2, 4)))
    with pytest.raises(ValueError, match="scalar"):
        trace(core, x, torch.zeros(2, 5, 4), loss_fn=lambda o, y: o - y)
    with pytest.raises(TypeError, match="model must be"):
        trace(nn.LSTM(3, 4), x)
    with pytest.raises(ValueError, match="layer must be in"):
        jacobian_norms(core, x, layer=2)
    with pytest.raises(ValueError, match="rho"):
        set_spectral_radius(core, -1.0)
    with pytest.raises(ValueError, match="layer"):
        set_spectral_radius(core, 1.0, layer=5)
    with pytest.raises(TypeError, match="model must be"):
        spectral_radius(object())
