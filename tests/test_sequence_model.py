"""SequenceModel: encoding -> core -> readout, built by hand or from a task."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from rnnviz import models, tasks
from rnnviz.sequence_model import SequenceModel

CELLS = ["elman", "lstm", "gru"]
TORCH = {"elman": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _ids(B: int = 3, T: int = 6, V: int = 5, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("encoding", ["onehot", "embedding", "identity"])
@pytest.mark.parametrize("readout", ["per_step", "last"])
def test_shapes_for_every_cell_encoding_and_readout(cell, encoding, readout):
    model = SequenceModel(5, 3, cell=cell, hidden_size=4, encoding=encoding, readout=readout)
    x = torch.randn(2, 6, 5) if encoding == "identity" else _ids(2, 6, 5)
    e = model.encode(x)
    want_i = 4 if encoding == "embedding" else 5  # embedding_dim defaults to hidden_size
    assert e.shape == (2, 6, want_i) and e.dtype == torch.float32
    assert isinstance(model.core, models.CORES[cell]) and model.core.batch_first
    out = model(x)
    assert out.shape == ((2, 6, 3) if readout == "per_step" else (2, 3))
    assert torch.isfinite(out).all()


def test_onehot_and_embedding_encodings_are_what_they_say():
    x = _ids(2, 4, 5)
    onehot = SequenceModel(5, 2, encoding="onehot").encode(x)  # (B, T, V)
    assert torch.equal(onehot.argmax(-1), x) and torch.equal(onehot.sum(-1), torch.ones(2, 4))
    model = SequenceModel(5, 2, encoding="embedding", embedding_dim=3)
    assert model.encoder.weight.shape == (5, 3) and model.core.input_size == 3
    assert torch.equal(model.encode(x), model.encoder.weight[x])
    real = torch.randn(2, 4, 5, dtype=torch.float64)
    assert torch.equal(SequenceModel(5, 2, encoding="identity").encode(real), real.float())


def test_core_matches_torch_module_on_the_encoded_input():
    model = SequenceModel(5, 3, cell="gru", hidden_size=6, num_layers=2, bidirectional=True)
    ref = model.core.to_torch()
    x = _ids(3, 7, 5)
    out, _ = ref(model.encode(x))  # (B, T, 2H)
    torch.testing.assert_close(model(x), model.linear(out))
    assert model.linear.in_features == 12


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_last_readout_equals_each_sequence_alone(cell, bidirectional):
    model = SequenceModel(
        5, 3, cell=cell, hidden_size=4, num_layers=2, bidirectional=bidirectional,
        readout="last", seed=1,
    ).double()
    x = _ids(4, 7, 5, seed=2)
    lengths = torch.tensor([7, 1, 4, 2])
    batched = model(x, lengths=lengths)  # (B, O)
    for b in range(4):
        alone = model(x[b : b + 1, : int(lengths[b])])  # (1, O), no padding at all
        torch.testing.assert_close(batched[b : b + 1], alone, rtol=1e-10, atol=1e-12)
    # padding content is never read
    noisy = x.clone()
    for b in range(4):
        noisy[b, int(lengths[b]) :] = 4 - noisy[b, int(lengths[b]) :]
    torch.testing.assert_close(model(noisy, lengths=lengths), batched, rtol=0, atol=0)


def test_bidirectional_last_readout_reads_forward_end_and_backward_start():
    model = SequenceModel(5, 2, cell="lstm", hidden_size=3, bidirectional=True, readout="last")
    x, lengths = _ids(2, 5, 5), torch.tensor([5, 3])
    out, _ = model.core(model.encode(x), lengths=lengths)  # (B, T, 2H)
    want = torch.stack([
        torch.cat([out[0, 4, :3], out[0, 0, 3:]]),
        torch.cat([out[1, 2, :3], out[1, 0, 3:]]),
    ])  # (B, 2H)
    torch.testing.assert_close(model(x, lengths=lengths), model.linear(want))


@settings(max_examples=30, deadline=None)
@given(
    cell=st.sampled_from(CELLS),
    readout=st.sampled_from(["per_step", "last"]),
    bidirectional=st.booleans(),
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    seed=st.integers(0, 100),
)
def test_fast_and_explicit_paths_agree(cell, readout, bidirectional, lengths, seed):
    model = SequenceModel(
        4, 3, cell=cell, hidden_size=5, bidirectional=bidirectional, readout=readout, seed=seed
    ).double()
    x = _ids(len(lengths), 6, 4, seed=seed)
    lens = torch.tensor(lengths)
    fast = model(x, lengths=lens)
    slow = model(x, lengths=lens, explicit=True)
    if readout == "per_step":  # padded steps are not compared (their core output is zero)
        mask = torch.arange(6)[None, :] < lens[:, None]  # (B, T)
        fast, slow = fast[mask], slow[mask]
    torch.testing.assert_close(fast, slow, rtol=1e-9, atol=1e-10)


def test_seeded_init_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = SequenceModel(5, 3, cell="lstm", encoding="embedding", seed=7)
    after = torch.rand(3)
    assert torch.equal(before, after)  # building a model did not consume the global RNG
    b = SequenceModel(5, 3, cell="lstm", encoding="embedding", seed=7)
    c = SequenceModel(5, 3, cell="lstm", encoding="embedding", seed=8)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert all(not torch.equal(sa[k], sc[k]) for k in sa)


def test_reset_parameters_restores_the_initial_weights():
    model = SequenceModel(5, 3, cell="gru", seed=3)
    init = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    model.reset_parameters()
    assert all(torch.equal(init[k], v) for k, v in model.state_dict().items())


def test_num_parameters_counts_every_weight():
    model = SequenceModel(5, 3, cell="lstm", hidden_size=4)
    lstm = nn.LSTM(5, 4)
    want = sum(p.numel() for p in lstm.parameters()) + 4 * 3 + 3
    assert model.num_parameters == want


@pytest.mark.parametrize(
    "task, encoding, readout, out_shape",
    [
        (tasks.Echo(delay=2, seed=0), "onehot", "per_step", "BTO"),
        (tasks.DelayedRecall(lag=4, seed=0), "onehot", "last", "BO"),
        (tasks.Copy(num_symbols=3, length=2, delay=3, seed=0), "onehot", "per_step", "BTO"),
        (tasks.Parity(seq_len=6, variable_length=True, seed=0), "onehot", "per_step", "BTO"),
        (tasks.Adding(seq_len=12, seed=0), "identity", "last", "BO"),
        (tasks.Sine(seq_len=10, seed=0), "identity", "per_step", "BTO"),
    ],
    ids=lambda v: getattr(v, "name", None),
)
def test_from_task_builds_a_model_the_task_can_score(task, encoding, readout, out_shape):
    model = SequenceModel.from_task(task, cell="gru", hidden_size=8, seed=0)
    assert (model.encoding, model.readout_type) == (encoding, readout)
    assert (model.input_size, model.output_size) == (task.input_size, task.output_size)
    assert model.task is task and model.loss_fn == task.loss
    x, y, lengths = task.batch(5, seed=1)
    out = model(x, lengths=lengths)
    B, T = x.shape[:2]
    assert out.shape == ((B, T, task.output_size) if out_shape == "BTO" else (B, task.output_size))
    loss = model.loss_fn(out, y)
    assert loss.dim() == 0 and torch.isfinite(loss)
    loss.backward()
    assert model.linear.weight.grad is not None


def test_from_task_passes_extra_arguments():
    task = tasks.Echo(delay=1, seed=0)
    model = SequenceModel.from_task(
        task, cell="elman", hidden_size=6, num_layers=2, bidirectional=True, seed=4,
        nonlinearity="relu", encoding="embedding", embedding_dim=2,
    )
    assert model.core.nonlinearity == "relu" and model.core.num_layers == 2
    assert model.core.bidirectional and model.encoder.embedding_dim == 2 and model.seed == 4


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"cell": "transformer"}, ValueError, r"cell must be one of \['elman', 'lstm', 'gru'\]"),
        ({"encoding": "bytes"}, ValueError, "encoding must be one of"),
        ({"readout": "mean"}, ValueError, "readout must be one of"),
        ({"hidden_size": 0}, ValueError, "hidden_size must be a positive int"),
        ({"seed": -1}, ValueError, "seed must be a non-negative int"),
        ({"cell": "lstm", "nonlinearity": "relu"}, ValueError, "applies to cell='elman' only"),
        ({"embedding_dim": 3}, ValueError, "only used with encoding='embedding'"),
        ({"bidirectional": 1}, TypeError, "bidirectional must be a bool"),
    ],
)
def test_bad_constructor_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        SequenceModel(5, 3, **kwargs)


def test_from_task_rejects_a_non_task():
    with pytest.raises(TypeError, match="task must be an rnnviz task"):
        SequenceModel.from_task("echo")


@pytest.mark.parametrize(
    "encoding, x, error, match",
    [
        ("onehot", torch.randn(2, 4), TypeError, "x must hold integer symbol ids"),
        ("onehot", torch.tensor([[0, 5]]), ValueError, r"x must hold symbol ids in \[0, 5\)"),
        ("embedding", torch.tensor([[-1, 2]]), ValueError, r"x must hold symbol ids in \[0, 5\)"),
        ("onehot", torch.zeros(2, 4, 5, dtype=torch.long), ValueError, "x must have 2 dim"),
        ("onehot", [[0, 1]], TypeError, "x must be a torch.Tensor"),
        ("identity", torch.zeros(2, 4, dtype=torch.long), ValueError, "x must have 3 dim"),
        ("identity", torch.zeros(2, 4, 5, dtype=torch.long), TypeError, "x must be a floating"),
        ("identity", torch.zeros(2, 4, 3), ValueError, r"x must have size\(-1\)"),
    ],
)
def test_bad_inputs_name_x(encoding, x, error, match):
    model = SequenceModel(5, 3, encoding=encoding)
    with pytest.raises(error, match=match):
        model(x)


@pytest.mark.parametrize(
    "lengths, error, match",
    [
        (torch.tensor([3, 0]), ValueError, "lengths must have values in"),
        (torch.tensor([5, 3]), ValueError, "lengths must have values in"),
        (torch.tensor([3]), ValueError, "lengths must have size"),
        (torch.tensor([3.0, 2.0]), TypeError, "lengths must be an integer tensor"),
    ],
)
def test_bad_lengths_are_named(lengths, error, match):
    model = SequenceModel(5, 3, readout="last")
    with pytest.raises(error, match=match):
        model(_ids(2, 4, 5), lengths=lengths)
