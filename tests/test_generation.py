"""SineFromFrequency, the one-to-many task: layout, targets, seeds, the exact no-memory
baseline, the model path (input at step 0 only, scored at every step) and a short training."""

from __future__ import annotations

import math

import pytest
import torch

import rnnviz
from rnnviz import tasks
from rnnviz.tasks.generation import SineFromFrequency


def test_layout_and_targets():
    task = SineFromFrequency(periods=(5, 8, 13), seq_len=11, seed=0)
    x, y, lengths = task.batch(64, seed=0)
    assert task.kind == "one_to_many" and task.input_kind == "symbols" and lengths is None
    assert x.shape == (64, 11) and x.dtype == torch.long
    assert y.shape == (64, 11, 1) and y.dtype == torch.float32
    assert task.input_size == len(task.vocab) == 4 and task.output_size == 1
    assert task.vocab == ["P5", "P8", "P13", "."] and task.output_vocab is None
    assert (x[:, 1:] == 3).all() and int(x[:, 0].max()) <= 2
    assert set(x[:, 0].tolist()) == {0, 1, 2}
    for b in range(64):
        period = (5, 8, 13)[int(x[b, 0])]
        for t in range(11):
            assert float(y[b, t, 0]) == pytest.approx(math.sin(2 * math.pi * (t + 1) / period), abs=1e-6)



@pytest.mark.parametrize(("periods", "seq_len"), [((6, 10, 16), 24), ((4, 7), 9), ((12,), 5), ((9, 3), 1)])
def test_baseline_is_exact(periods, seq_len):
    task = SineFromFrequency(periods=periods, seq_len=seq_len)
    base = task.baseline()
    # Independently, in plain floats: step 0 is known from the class (error 0); after it, the
    # best constant is the mean over classes and steps, its error the spread around it.
    K, T = len(periods), seq_len
    values = [math.sin(2 * math.pi * (t + 1) / p) for p in periods for t in range(1, T)]
    mean = sum(values) / len(values) if values else 0.0
    want = sum((v - mean) ** 2 for v in values) / (K * T)
    assert base.metric == pytest.approx(want, abs=1e-12) and base.loss == base.metric
    assert "exact" in base.description.lower()
    # A memoryless predictor (y_0 by class, then the mean) reaches it on a fresh batch ...
    x, y, _ = task.batch(4000, seed=5)
    waves = torch.tensor([[math.sin(2 * math.pi * (t + 1) / p) for t in range(T)] for p in periods])
    guess = torch.full_like(y, mean)
    guess[:, 0, 0] = waves[x[:, 0], 0]
    assert task.metric(guess, y) == pytest.approx(base.metric, rel=0.03, abs=1e-6)
    # ... and a fitted one (per class at t = 0, one constant after) does no better.
    xf, yf, _ = task.batch(4000, seed=6)
    fitted = torch.full_like(y, float(yf[:, 1:].mean()) if T > 1 else 0.0)
    for k in range(K):
        fitted[x[:, 0] == k, 0, 0] = float(yf[xf[:, 0] == k, 0, 0].mean())
    assert task.metric(fitted, y) >= base.metric - 1e-3
    assert task.metric(torch.zeros_like(y), y) >= base.metric


def test_decode_and_encode_period():
    task = SineFromFrequency(periods=(6, 10.5), seq_len=5)
    x, _, _ = task.batch(3, seed=0)
    for row in x:
        assert task.decode(row) == task.vocab[int(row[0])] + "...."
    ids = task.encode_period(10.5)
    assert ids.tolist() == [1, 2, 2, 2, 2] and task.decode(ids) == "P10.5...."
    assert task.encode_period(6, seq_len=2).tolist() == [0, 2]
    assert task.waves().shape == (2, 5) and task.waves(9).shape == (2, 9)


@pytest.mark.parametrize(
    ("make", "arg"),
    [
        (lambda: SineFromFrequency(periods=()), "periods"),
        (lambda: SineFromFrequency(periods="6"), "periods"),
        (lambda: SineFromFrequency(periods=(6, 2)), "periods"),
        (lambda: SineFromFrequency(periods=(6, -1)), "periods"),
        (lambda: SineFromFrequency(periods=(6, 6.0)), "periods"),
        (lambda: SineFromFrequency(seq_len=0), "seq_len"),
        (lambda: SineFromFrequency(seed=-1), "seed"),
        (lambda: SineFromFrequency().encode_period(7), "period"),
        (lambda: SineFromFrequency().waves(0), "seq_len"),
        (lambda: SineFromFrequency().decode([0, 9]), "ids"),
    ],
)
def test_bad_arguments_name_the_argument(make, arg):
    with pytest.raises(ValueError, match=rf"\b{arg}\b"):
        make()


def test_registry_repr_and_describe():
    task = tasks.get("sine_from_frequency", seq_len=10)
    assert isinstance(task, SineFromFrequency) and task.seq_len == 10
    assert isinstance(tasks.get("SineFromFrequency"), SineFromFrequency)
    r = repr(task)
    assert r.startswith("SineFromFrequency(") and "one_to_many" in r and "seed=0" in r
    assert len(task.describe()) > 80 and "\n" not in task.describe()


def test_model_path_per_step_readout_and_scoring():
    task = SineFromFrequency(seq_len=7)
    model = rnnviz.SequenceModel.from_task(task, cell="gru", hidden_size=8, seed=0)
    assert model.readout_type == "per_step" and model.encoding == "onehot"
    model.check_task(task)
    x, y, _ = task.batch(5, seed=0)
    out = model(x)
    assert out.shape == (5, 7, 1)
    assert float(task.loss(out, y).detach()) == pytest.approx(float(((out - y) ** 2).mean().detach()))
    with pytest.raises(ValueError, match="shape of y"):
        task.loss(out[:, :, 0], y)
    # the model runs at any length: generate twice as far
    assert model(task.encode_period(16, seq_len=14)[None]).shape == (1, 14, 1)


def test_a_short_training_beats_the_no_memory_baseline():
    torch.set_num_threads(1)
    task = SineFromFrequency(periods=(6, 12), seq_len=12, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell="gru", hidden_size=16, seed=0)
    trainer = rnnviz.Trainer(model, task, lr=2e-2, clip=1.0, batch_size=32, seed=0, snapshot_every=0)
    trainer.run(100, progress=False)  # about 0.3 s of CPU time
    mse = rnnviz.evaluate(model, task, batch_size=256)
    assert mse < 0.1 * task.baseline().metric  # about 0.001 against 0.45
