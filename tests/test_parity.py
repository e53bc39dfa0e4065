"""Elman / LSTM / GRU, fast and explicit paths, against torch.nn.RNN / LSTM / GRU."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnviz.models import GRU, LSTM, Elman

MODELS = {"elman": (Elman, nn.RNN), "lstm": (LSTM, nn.LSTM), "gru": (GRU, nn.GRU)}
SETTINGS = settings(max_examples=40, deadline=None)


def tol(dtype: torch.dtype) -> dict:
    return {"atol": 1e-5, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 1e-9, "rtol": 1e-9}


def flat(output, state) -> list[torch.Tensor]:
    return [output, *(state if isinstance(state, tuple) else (state,))]


def torch_reference(module, x, hx, lengths):
    """torch's own route: packing for a padded batch."""
    if lengths is None:
        return module(x, hx)
    T = x.shape[1] if module.batch_first else x.shape[0]
    packed = pack_padded_sequence(x, lengths, module.batch_first, enforce_sorted=False)
    out, state = module(packed, hx)
    out, _ = pad_packed_sequence(out, module.batch_first, total_length=T)
    return out, state


@st.composite
def configs(draw, max_len: int = 40):
    cell = draw(st.sampled_from(sorted(MODELS)))
    return dict(
        cell=cell,
        kwargs=dict(
            input_size=draw(st.integers(1, 5)),
            hidden_size=draw(st.integers(1, 6)),
            num_layers=draw(st.integers(1, 3)),
            bias=draw(st.booleans()),
            batch_first=draw(st.booleans()),
            bidirectional=draw(st.booleans()),
            **({"nonlinearity": draw(st.sampled_from(["tanh", "relu"]))} if cell == "elman"
               else {}),
        ),
        batch=draw(st.integers(1, 4)),
        seq_len=draw(st.integers(1, max_len)),
        dtype=draw(st.sampled_from([torch.float32, torch.float64])),
        with_h0=draw(st.booleans()),
        with_lengths=draw(st.booleans()),
        seed=draw(st.integers(0, 2**16)),
    )


def make_case(cfg):
    """A torch module, our copy of it, an input, h0, lengths and random functionals."""
    ours_cls, torch_cls = MODELS[cfg["cell"]]
    kw, dtype, B, T = cfg["kwargs"], cfg["dtype"], cfg["batch"], cfg["seq_len"]
    g = torch.Generator().manual_seed(cfg["seed"])
    torch.manual_seed(cfg["seed"])
    ref = torch_cls(**kw, dtype=dtype)
    ours = ours_cls.from_torch(ref)
    shape = (B, T, kw["input_size"]) if kw["batch_first"] else (T, B, kw["input_size"])
    x = torch.randn(shape, generator=g, dtype=dtype)
    LD = kw["num_layers"] * (2 if kw["bidirectional"] else 1)
    hx = None
    if cfg["with_h0"]:
        hx = torch.randn(LD, B, kw["hidden_size"], generator=g, dtype=dtype)
        if cfg["cell"] == "lstm":
            hx = (hx, torch.randn(hx.shape, generator=g, dtype=dtype))
    lengths = None
    if cfg["with_lengths"]:
        lengths = torch.randint(1, T + 1, (B,), generator=g)
    return ref, ours, x, hx, lengths, g


@SETTINGS
@given(cfg=configs())
def test_both_paths_match_torch(cfg):
    ref, ours, x, hx, lengths, g = make_case(cfg)
    tl = tol(cfg["dtype"])
    x_ref = x.clone().requires_grad_()
    want = flat(*torch_reference(ref, x_ref, hx, lengths))
    weights = [torch.randn(w.shape, generator=g, dtype=w.dtype) for w in want]
    sum((w * v).sum() for w, v in zip(want, weights, strict=True)).backward()
    ref_grads = {name: p.grad for name, p in ref.named_parameters()}
    for explicit in (False, True):
        ours.zero_grad(set_to_none=True)
        x_ours = x.clone().requires_grad_()
        got = flat(*ours(x_ours, hx, lengths=lengths, explicit=explicit))
        assert [v.shape for v in got] == [v.shape for v in want]
        for a, b in zip(got, want, strict=True):
            torch.testing.assert_close(a, b, **tl)
        sum((w * v).sum() for w, v in zip(got, weights, strict=True)).backward()
        for name, p in ours.named_parameters():
            torch.testing.assert_close(p.grad, ref_grads[name], **tl)
        torch.testing.assert_close(x_ours.grad, x_ref.grad, **tl)


@SETTINGS
@given(cfg=configs(max_len=12).filter(lambda c: c["with_lengths"]))
def test_lengths_equal_each_sequence_alone_and_ignore_padding(cfg):
    ref, ours, x, hx, lengths, g = make_case(cfg)
    bf = cfg["kwargs"]["batch_first"]
    tl = tol(cfg["dtype"])
    lstm = cfg["cell"] == "lstm"
    for explicit in (False, True):
        out, state = ours(x, hx, lengths=lengths, explicit=explicit)
        h_n = state[0] if lstm else state
        # 1. every sequence alone, cut to its length, gives the same output and final state
        for b, n in enumerate(lengths.tolist()):
            x_b = x[b : b + 1, :n] if bf else x[:n, b : b + 1]
            hx_b = None if hx is None else (
                tuple(v[:, b : b + 1] for v in hx) if lstm else hx[:, b : b + 1])
            out_b, state_b = ref(x_b, hx_b)
            torch.testing.assert_close(out[b : b + 1, :n] if bf else out[:n, b : b + 1], out_b,
                                       **tl)
            torch.testing.assert_close(h_n[:, b], (state_b[0] if lstm else state_b)[:, 0], **tl)
            pad = out[b, n:] if bf else out[n:, b]
            assert torch.count_nonzero(pad) == 0
        # 2. padded inputs are ignored: values and gradients unchanged, no gradient to padding
        pad_mask = torch.arange(x.shape[1] if bf else x.shape[0])[None, :] >= lengths[:, None]
        pad_mask = (pad_mask if bf else pad_mask.T)[..., None]  # like x
        results = []
        for noise in (0.0, 1e3):
            x2 = torch.where(pad_mask, x + noise, x).requires_grad_()
            ours.zero_grad(set_to_none=True)
            vals = flat(*ours(x2, hx, lengths=lengths, explicit=explicit))
            weights = [torch.randn(v.shape, generator=torch.Generator().manual_seed(1),
                                   dtype=v.dtype) for v in vals]
            sum((w * v).sum() for w, v in zip(vals, weights, strict=True)).backward()
            assert torch.count_nonzero(x2.grad * pad_mask) == 0
            results.append((vals, [p.grad.clone() for p in ours.parameters()]))
        for a, b in zip(results[0][0] + results[0][1], results[1][0] + results[1][1],
                        strict=True):
            torch.testing.assert_close(a, b, atol=0, rtol=0)


@pytest.mark.parametrize("cell", sorted(MODELS))
@pytest.mark.parametrize("with_hx", [False, True])
def test_unbatched_input_matches_torch(cell, with_hx):
    ours_cls, torch_cls = MODELS[cell]
    ours = ours_cls(3, 4, num_layers=2, bidirectional=True, seed=0).double()
    ref = ours.to_torch()
    x = torch.randn(6, 3, dtype=torch.float64)
    hx = torch.randn(4, 4, dtype=torch.float64) if with_hx else None
    if hx is not None and cell == "lstm":
        hx = (hx, torch.randn_like(hx))
    want = flat(*ref(x, hx))
    for explicit in (False, True):
        got = flat(*ours(x, hx, explicit=explicit))
        for a, b in zip(got, want, strict=True):
            torch.testing.assert_close(a, b)
        got = flat(*ours(x, hx, lengths=[6], explicit=explicit))
        for a, b in zip(got, want, strict=True):
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("cell", sorted(MODELS))
def test_dropout_between_layers_like_torch(cell):
    ours_cls, _ = MODELS[cell]
    # dropout=1 zeroes every inter-layer activation: deterministic, so both paths must agree
    ours = ours_cls(3, 4, num_layers=3, dropout=1.0, batch_first=True, seed=1).double()
    x = torch.randn(2, 5, 3, dtype=torch.float64)
    ours.train()
    fused, explicit = ours(x)[0], ours(x, explicit=True)[0]
    torch.testing.assert_close(explicit, fused)
    ours.eval()
    evaluated = ours(x, explicit=True)[0]
    torch.testing.assert_close(evaluated, ours.to_torch().eval()(x)[0])
    assert not torch.allclose(evaluated, explicit)  # dropout really acted in training mode


@pytest.mark.parametrize("cell", sorted(MODELS))
def test_state_dict_and_round_trip(cell):
    ours_cls, torch_cls = MODELS[cell]
    torch.manual_seed(3)
    ref = torch_cls(2, 5, num_layers=2, bidirectional=True, batch_first=True)
    ours = ours_cls(2, 5, num_layers=2, bidirectional=True, batch_first=True, seed=3)
    # same seed, same init, same keys and layout
    assert list(ours.state_dict()) == list(ref.state_dict())
    for key, value in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[key], value)
    other = ours_cls(2, 5, num_layers=2, bidirectional=True, batch_first=True, seed=4)
    other.load_state_dict(ref.state_dict())
    ref.load_state_dict(ours_cls(2, 5, num_layers=2, bidirectional=True, batch_first=True,
                                 seed=5).state_dict())
    x = torch.randn(3, 4, 2)
    plain = ours.to_torch()
    assert type(plain) is torch_cls and plain.batch_first and plain.bidirectional
    again = ours_cls.from_torch(plain)
    assert type(again) is ours_cls and again.cell_type == cell
    for a, b in zip(flat(*again(x, explicit=True)), flat(*plain(x)), strict=True):
        torch.testing.assert_close(a, b)
    for a, b in zip(flat(*other(x)), flat(*ours(x)), strict=True):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_elman_keeps_nonlinearity_through_round_trip():
    ours = Elman(2, 3, nonlinearity="relu", seed=0)
    plain = ours.to_torch()
    assert plain.nonlinearity == "relu"
    assert Elman.from_torch(plain).nonlinearity == "relu"
