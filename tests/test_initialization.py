"""init_recurrent and set_forget_bias (issue #10 §1): what torch's own modules then compute."""

from __future__ import annotations

import math

import pytest
import torch

import rnnviz
from rnnviz.seq2seq import Seq2Seq

GATES = {"elman": 1, "gru": 3, "lstm": 4}


def _core(cell: str, **kw) -> rnnviz.LSTM:
    cls = {"elman": rnnviz.Elman, "lstm": rnnviz.LSTM, "gru": rnnviz.GRU}[cell]
    return cls(3, 6, num_layers=2, bidirectional=True, batch_first=True, seed=0, **kw)


def _blocks(module: torch.nn.RNNBase, cell: str) -> list[torch.Tensor]:
    """The (H, H) gate blocks of every W_hh of a torch module, read by torch's names."""
    H = module.hidden_size
    out = []
    for name, w in module.named_parameters():
        if name.startswith("weight_hh"):
            out += [w.detach()[g * H:(g + 1) * H] for g in range(GATES[cell])]
    return out


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
@pytest.mark.parametrize("gain", [None, 0.5])
def test_orthogonal_makes_every_block_a_scaled_rotation(cell, gain):
    core = _core(cell)
    before = {k: v.clone() for k, v in core.state_dict().items()}
    assert rnnviz.init_recurrent(core, "orthogonal", gain, seed=1) is core
    g = 1.0 if gain is None else gain
    blocks = _blocks(core.to_torch(), cell)
    assert len(blocks) == 2 * 2 * GATES[cell]
    for w in blocks:  # W^T W = g^2 I: every singular value, and every |eigenvalue|, is g
        torch.testing.assert_close(w.T @ w, g * g * torch.eye(6), atol=1e-5, rtol=0)
        torch.testing.assert_close(torch.linalg.eigvals(w).abs(), torch.full((6,), g), atol=1e-4, rtol=0)
    assert not torch.equal(blocks[0], blocks[1])  # independent draws
    for k, v in core.state_dict().items():  # W_ih and biases untouched
        if not k.startswith("weight_hh"):
            assert torch.equal(v, before[k]), k
    again = rnnviz.init_recurrent(_core(cell), "orthogonal", gain, seed=1)
    other = rnnviz.init_recurrent(_core(cell), "orthogonal", gain, seed=2)
    assert torch.equal(again.weight_hh_l0, core.weight_hh_l0)
    assert not torch.equal(other.weight_hh_l0, core.weight_hh_l0)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_identity_and_default(cell):
    core = rnnviz.init_recurrent(_core(cell), "identity")
    for w in _blocks(core.to_torch(), cell):
        assert torch.equal(w, torch.eye(6))
    core = rnnviz.init_recurrent(_core(cell), "identity", 0.01)
    for w in _blocks(core, cell):
        torch.testing.assert_close(w, 0.01 * torch.eye(6), rtol=0, atol=0)
    # default: torch's U(-1/sqrt(H), 1/sqrt(H)) (a fresh nn.RNN draws the same law), seeded
    core = rnnviz.init_recurrent(_core(cell), "default", seed=5)
    blocks = torch.cat(_blocks(core, cell))
    bound = 1 / math.sqrt(6)
    assert blocks.abs().max() <= bound and blocks.std() > 0.4 * bound
    assert torch.equal(rnnviz.init_recurrent(_core(cell), "default", seed=5).weight_hh_l0,
                       core.weight_hh_l0)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_radius_sets_what_spectral_radius_measures(cell):
    core = rnnviz.init_recurrent(_core(cell), "radius", 1.7, seed=0)
    torch.testing.assert_close(rnnviz.spectral_radius(core), torch.full((4,), 1.7), rtol=1e-5, atol=0)
    # the candidate block (LSTM g, GRU n), read from torch's module by torch's names
    block = {"elman": 0, "lstm": 2, "gru": 2}[cell]
    w = core.to_torch().weight_hh_l1_reverse.detach()[block * 6:(block + 1) * 6]
    assert float(torch.linalg.eigvals(w.double()).abs().max()) == pytest.approx(1.7, rel=1e-5)


def test_a_sequence_model_and_a_seq2seq_are_initialised_through_their_cores():
    task = rnnviz.tasks.Echo(delay=1, seq_len=6, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell="elman", hidden_size=4, nonlinearity="relu")
    rnnviz.init_recurrent(model, "identity")
    assert torch.equal(model.core.weight_hh_l0, torch.eye(4))  # the IRNN of Le et al. (2015)
    s2s = Seq2Seq(4, 3, cell="lstm", hidden_size=5, seed=0)
    rnnviz.init_recurrent(s2s, "radius", 0.9)
    rnnviz.set_forget_bias(s2s, 2.0)
    for core in (s2s.encoder, s2s.decoder):
        assert float(rnnviz.spectral_radius(core)[0]) == pytest.approx(0.9, rel=1e-5)
        assert torch.all(core.bias_ih_l0[5:10] == 2.0)


def test_forget_bias_is_what_a_torch_lstm_computes_with_it():
    core = rnnviz.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, seed=0)
    ref = core.to_torch()
    with torch.no_grad():  # torch: gate rows are i, f, g, o; forget = rows H:2H
        for name, p in ref.named_parameters():
            if name.startswith("bias_ih"):
                p[4:8] = 1.5
            elif name.startswith("bias_hh"):
                p[4:8] = 0.0
    assert rnnviz.set_forget_bias(core, 1.5) is core
    x = torch.randn(2, 7, 3, generator=torch.Generator().manual_seed(0))
    out, (h, c) = core(x)
    ref_out, (ref_h, ref_c) = ref(x)
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(c, ref_c)
    # an untrained LSTM with zero weights keeps sigmoid(b) of its cell state per step
    with torch.no_grad():
        for p in core.parameters():
            p.zero_()
    rnnviz.set_forget_bias(core, 2.0)
    c0 = torch.ones(4, 1, 4)
    _out, (_h, c1) = core(torch.zeros(1, 1, 3), (torch.zeros(4, 1, 4), c0))
    torch.testing.assert_close(c1, c0 * torch.sigmoid(torch.tensor(2.0)))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="scheme must be one of"):
        rnnviz.init_recurrent(_core("lstm"), "xavier")
    with pytest.raises(ValueError, match="radius is required for scheme='radius'"):
        rnnviz.init_recurrent(_core("lstm"), "radius")
    with pytest.raises(ValueError, match="radius must be None for scheme='default'"):
        rnnviz.init_recurrent(_core("lstm"), "default", 1.0)
    with pytest.raises(TypeError, match="model must be an rnnviz Elman / LSTM / GRU"):
        rnnviz.init_recurrent(torch.nn.LSTM(3, 4), "orthogonal")
    with pytest.raises(ValueError, match="model must be an LSTM to have a forget gate, got cell 'gru'"):
        rnnviz.set_forget_bias(_core("gru"), 1.0)
    with pytest.raises(ValueError, match="model must have biases"):
        rnnviz.set_forget_bias(rnnviz.LSTM(3, 4, bias=False), 1.0)
    with pytest.raises(ValueError, match="value must be a finite number, got nan"):
        rnnviz.set_forget_bias(_core("lstm"), math.nan)
