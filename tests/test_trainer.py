"""Trainer: learning, determinism, divergence, interrupts, bounded snapshots, validation; the
same for a Seq2Seq (teacher forcing)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import rnnviz
from rnnviz import tasks
from rnnviz._types import Seq2SeqTrace, Trace, Trainable
from rnnviz.seq2seq import Seq2Seq
from rnnviz.sequence_model import SequenceModel
from rnnviz.trainer import History, Snapshot, Trainer


def _trainer(task=None, *, cell="lstm", hidden_size=8, model_seed=0, **kwargs) -> Trainer:
    task = task or tasks.Echo(delay=1, seq_len=8, seed=0)
    model = SequenceModel.from_task(task, cell=cell, hidden_size=hidden_size, seed=model_seed)
    kwargs.setdefault("batch_size", 16)
    kwargs.setdefault("snapshot_every", 0)
    return Trainer(model, task, **kwargs)


def _weights(trainer: Trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for p in trainer.model.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


# -------------------------------------------------------------------------- learning
def test_lstm_learns_echo_and_beats_the_no_memory_baseline():
    task = tasks.Echo(delay=1, seed=0)
    trainer = _trainer(task, hidden_size=16, lr=2e-2, batch_size=32)
    history = trainer.run(80, progress=False)
    assert isinstance(history, History) and history is trainer.history
    assert history.step == list(range(1, 81)) and trainer.steps == 80
    base = task.baseline()
    assert history.loss[0] > 0.9 * base.loss  # starts near chance
    assert sum(history.loss[-10:]) / 10 < 0.3 * base.loss
    assert sum(history.metric[-10:]) / 10 > base.metric + 0.5
    assert trainer.state == "ready" and trainer.message == ""


def test_step_reports_what_history_records():
    trainer = _trainer()
    result = trainer.step()
    assert (result.step, result.diverged) == (1, False)
    h = trainer.history
    assert (h.step, h.loss, h.metric, h.grad_norm) == (
        [1], [result.loss], [result.metric], [result.grad_norm]
    )
    # loss is measured with the weights before the update, on the step's seeded batch
    fresh = _trainer()
    x, y, lengths = fresh.task.batch(fresh.batch_size, seed=fresh._batch_seed(1))
    want = fresh.task.loss(fresh.model(x, lengths=lengths), y)
    assert result.loss == pytest.approx(float(want.detach()), rel=1e-6)


@pytest.mark.parametrize("task", [tasks.Echo(delay=1, seq_len=8, seed=0),
                                  tasks.Parity(seq_len=9, variable_length=True, seed=0),
                                  tasks.Adding(seq_len=12, seed=0),
                                  tasks.Copy(seed=0)], ids=lambda t: t.name)
def test_unchecked_hot_path_equals_the_public_api_step_by_step(task):
    # after step 1 the trainer skips input checks; every recorded number must still equal a
    # loop written with the public, checking API (model(x), task.loss, task.metric, Adam)
    trainer = _trainer(task, cell="gru", lr=1e-2)
    ref = _trainer(task, cell="gru", lr=1e-2)
    model, opt = ref.model, torch.optim.Adam(ref.model.parameters(), lr=1e-2)
    trainer.run(4, progress=False)
    for k in range(1, 5):
        x, y, lengths = task.batch(ref.batch_size, seed=ref._batch_seed(k))
        opt.zero_grad()
        output = model(x, lengths=lengths)
        loss = task.loss(output, y)
        loss.backward()
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()]))
        assert trainer.history.loss[k - 1] == pytest.approx(float(loss.detach()), rel=1e-6)
        assert trainer.history.metric[k - 1] == pytest.approx(task.metric(output, y), rel=1e-6)
        assert trainer.history.grad_norm[k - 1] == pytest.approx(float(norm), rel=1e-5)
        opt.step()
    assert _same(_weights(trainer), _weights(ref))


def test_loss_fn_set_after_construction_is_used_and_validated():
    trainer = _trainer()
    trainer.run(2, progress=False)  # the hot path is on
    trainer.loss_fn = lambda output, y: trainer.task.loss(output, y) * 0.0
    assert trainer.step().loss == 0.0
    trainer.loss_fn = None  # back to the task's loss
    assert trainer.step().loss > 0.0
    with pytest.raises(TypeError, match="loss_fn must be callable or None, got int"):
        trainer.loss_fn = 3


def test_many_to_one_task_with_real_inputs_trains():
    task = tasks.Adding(seq_len=12, seed=0)
    trainer = _trainer(task, cell="gru", lr=1e-2)
    history = trainer.run(40, progress=False)
    assert len(history) == 40 and all(math.isfinite(v) for v in history.loss)
    assert min(history.loss[-5:]) < history.loss[0]


def test_variable_length_task_trains_with_lengths():
    task = tasks.Parity(seq_len=6, variable_length=True, seed=0)
    trainer = _trainer(task, snapshot_every=5)
    assert trainer.probe.lengths is not None
    trainer.run(10, progress=False)
    assert len(trainer.history) == 10 and trainer.snapshots[-1].trace.lengths is not None


# -------------------------------------------------------------------------- determinism
def test_same_seeds_give_a_bit_identical_history():
    a, b = _trainer(seed=3), _trainer(seed=3)
    a.run(15, progress=False)
    b.run(15, progress=False)
    assert a.history == b.history
    assert _same(_weights(a), _weights(b))
    c = _trainer(seed=4)
    c.run(15, progress=False)
    assert c.history.loss != a.history.loss  # another batch stream


def test_reset_restarts_the_same_run_and_reset_seed_starts_another():
    trainer = _trainer(snapshot_every=5)
    init = _weights(trainer)
    first = trainer.run(10, progress=False)
    first_loss = list(first.loss)
    trainer.reset()
    assert _same(_weights(trainer), init) and len(trainer.history) == 0
    assert [s.step for s in trainer.snapshots] == [0] and trainer.state == "ready"
    trainer.run(10, progress=False)
    assert trainer.history.loss == first_loss
    trainer.reset(seed=5)
    assert trainer.seed == 5 and trainer.model.seed == 5
    assert not _same(_weights(trainer), init)
    trainer.run(10, progress=False)
    assert trainer.history.loss != first_loss


def test_trainer_keeps_weights_edited_before_it_and_reset_returns_to_them():
    task = tasks.Echo(delay=1, seq_len=8, seed=0)
    model = SequenceModel.from_task(task, cell="lstm", hidden_size=8, seed=0)
    H = model.core.hidden_size
    with torch.no_grad():
        model.core.bias_hh_l0[H : 2 * H] = 2.0  # a forget-gate bias, set by hand
    trainer = Trainer(model, task, batch_size=16, snapshot_every=0)
    assert torch.all(model.core.bias_hh_l0[H : 2 * H] == 2.0)
    trainer.run(5, progress=False)
    assert not torch.all(model.core.bias_hh_l0[H : 2 * H] == 2.0)
    trainer.reset()
    assert torch.all(model.core.bias_hh_l0[H : 2 * H] == 2.0)


def test_rounded_history_is_the_same_across_thread_counts():
    threads = torch.get_num_threads()
    runs = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            trainer = _trainer(hidden_size=16, batch_size=32)
            trainer.run(10, progress=False)
            h = trainer.history
            runs.append([round(v, 4) for v in h.loss + h.metric + h.grad_norm])
    finally:
        torch.set_num_threads(threads)
    assert runs[0] == runs[1]


# -------------------------------------------------------------------------- divergence
def test_huge_learning_rate_diverges_cleanly(capsys):
    trainer = _trainer(optimizer="sgd", lr=1e38)
    init = _weights(trainer)
    history = trainer.run(20, progress=False)  # must not raise
    assert trainer.state == "diverged"
    # step 1 was finite and applied; its update made step 2's loss non-finite
    assert len(history) == 1 and all(math.isfinite(v) for v in history.loss + history.grad_norm)
    weights = _weights(trainer)
    assert all(torch.isfinite(w).all() for w in weights)
    assert _same(weights, init)  # the weights that gave the last recorded loss
    x, y, lengths = trainer.probe
    with torch.no_grad():
        assert math.isfinite(float(trainer.task.loss(trainer.model(x, lengths=lengths), y)))
    out = capsys.readouterr().out
    assert out.count("Training diverged") == 1
    assert "learning rate" in trainer.message and "clip" in trainer.message
    assert "step 2" in trainer.message
    with pytest.raises(RuntimeError, match=r"reset\(\)"):
        trainer.step()
    trainer.run(5, progress=False)  # still refuses quietly, history untouched
    assert len(trainer.history) == 1
    trainer.reset()
    assert trainer.state == "ready" and len(trainer.history) == 0


def _nan_at(step: int, task, where: str = "loss"):
    calls = {"n": 0}

    def loss_fn(output, y):
        calls["n"] += 1
        loss = task.loss(output, y)
        if calls["n"] == step:
            if where == "loss":
                return loss * float("nan")
            output.register_hook(lambda g: g * float("inf"))  # finite loss, infinite gradient
        return loss

    return loss_fn


@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_nonfinite_step_is_discarded_and_last_update_undone(where):
    task = tasks.Echo(delay=1, seq_len=8, seed=0)
    trainer = _trainer(task, loss_fn=_nan_at(5, task, where))
    before = []  # weights before each step
    for _ in range(5):
        before.append(_weights(trainer))
        result = trainer.step()
    assert result.diverged and result.step == 5 and trainer.state == "diverged"
    assert ("loss" if where == "loss" else "gradient norm") in trainer.message
    assert len(trainer.history) == 4 and trainer.history.step == [1, 2, 3, 4]
    # back to the weights of step 4's forward pass: those that gave history.loss[-1]
    assert _same(_weights(trainer), before[3])
    assert all(torch.isfinite(w).all() for w in _weights(trainer))
    # the optimizer state was recreated
    assert all(len(s) == 0 for s in trainer.optimizer.state.values())
    trainer.resume()
    trainer.run(3, progress=False)
    assert trainer.history.step == [1, 2, 3, 4, 5, 6, 7] and trainer.state == "ready"


def test_nonfinite_weights_after_an_update_are_rolled_back():
    trainer = _trainer()
    trainer.run(3, progress=False)
    after3 = _weights(trainer)
    real_step = trainer.optimizer.step

    def poisoned_step(*args, **kwargs):
        real_step(*args, **kwargs)
        with torch.no_grad():
            next(trainer.model.parameters())[0, 0] = float("inf")

    trainer.optimizer.step = poisoned_step
    assert not trainer.step().diverged  # step 4 itself was finite; its update was not
    result = trainer.step()
    assert result.diverged and trainer.state == "diverged" and "loss at step 5" in trainer.message
    assert _same(_weights(trainer), after3)  # step 4's update is undone
    assert len(trainer.history) == 4  # step 4's loss was measured with these weights


def test_weights_that_cannot_be_restored_are_reinitialised():
    trainer = _trainer()
    init = _weights(trainer)
    with torch.no_grad():
        next(trainer.model.parameters()).fill_(float("nan"))
    result = trainer.step()  # no earlier finite step to go back to
    assert result.diverged and "re-initialised" in trainer.message
    assert _same(_weights(trainer), init) and len(trainer.history) == 0


# -------------------------------------------------------------------------- interrupts
@pytest.mark.parametrize("when", ["before_update", "mid_update", "in_forward"])
def test_keyboard_interrupt_keeps_the_last_completed_step(when, capsys):
    task = tasks.Echo(delay=1, seq_len=8, seed=0)
    calls = {"n": 0}

    def loss_fn(output, y):
        calls["n"] += 1
        if when == "in_forward" and calls["n"] == 4:
            raise KeyboardInterrupt
        return task.loss(output, y)

    trainer = _trainer(task, loss_fn=loss_fn)
    trainer.run(3, progress=False)
    after3 = _weights(trainer)
    history3 = History(*(list(v) for v in vars(trainer.history).values()))
    optimizer = trainer.optimizer
    real_step = optimizer.step

    def interrupted_step(*args, **kwargs):
        if when == "mid_update":
            real_step(*args, **kwargs)  # the weights have changed when the interrupt comes
        raise KeyboardInterrupt

    if when != "in_forward":
        trainer.optimizer.step = interrupted_step
    history = trainer.run(10, progress=False)  # returns normally
    assert trainer.state == "interrupted" and "after step 3" in trainer.message
    assert capsys.readouterr().out.count("Training interrupted") == 1
    assert history == history3 and trainer.steps == 3
    assert _same(_weights(trainer), after3)
    # training goes on from there (an interrupted update also got a fresh optimizer)
    assert (trainer.optimizer is optimizer) == (when == "in_forward")
    trainer.run(2, progress=False)
    assert trainer.state == "ready" and trainer.history.step == [1, 2, 3, 4, 5]


def test_keyboard_interrupt_in_step_is_reraised_after_cleanup():
    trainer = _trainer()
    trainer.step()
    after1 = _weights(trainer)

    def interrupted_step(*args, **kwargs):
        raise KeyboardInterrupt

    trainer.optimizer.step = interrupted_step
    with pytest.raises(KeyboardInterrupt):
        trainer.step()
    assert trainer.state == "interrupted" and len(trainer.history) == 1
    assert _same(_weights(trainer), after1)


# -------------------------------------------------------------------------- snapshots, memory
def test_snapshots_are_bounded_and_history_holds_only_numbers():
    trainer = _trainer(snapshot_every=1, max_snapshots=3, probe_size=2)
    assert [s.step for s in trainer.snapshots] == [0]  # the untrained model
    trainer.run(12, progress=False)
    assert len(trainer.snapshots) == 3
    assert [s.step for s in trainer.snapshots] == [10, 11, 12]
    snap = trainer.snapshots[-1]
    assert isinstance(snap, Snapshot) and isinstance(snap.trace, Trace)
    assert snap.trace.batch_size == 2 and snap.trace.loss is not None
    assert torch.equal(snap.trace.inputs, trainer.probe.x)
    h = trainer.history
    assert all(type(v) is int for v in h.step)
    assert all(type(v) is float for v in h.loss + h.metric + h.grad_norm)


def test_snapshot_every_and_zero_disables():
    trainer = _trainer(snapshot_every=4, max_snapshots=50)
    trainer.run(10, progress=False)
    assert [s.step for s in trainer.snapshots] == [0, 4, 8]
    off = _trainer(snapshot_every=0)
    off.run(5, progress=False)
    assert len(off.snapshots) == 0 and off.probe.x.shape[0] == off.probe_size


def _same_trace(a, b) -> bool:
    """Two probe traces of the same weights: the same loss, states and adjoints."""
    inner = (lambda t: t.decoder) if isinstance(a, Seq2SeqTrace) else (lambda t: t)
    return a.loss == b.loss and torch.equal(inner(a).hidden, inner(b).hidden) and \
        torch.equal(inner(a).grad_hidden, inner(b).grad_hidden)


@pytest.mark.parametrize("kind", ["sequence", "seq2seq"])
def test_probe_trace_is_the_trace_of_the_current_weights_made_once_per_state(kind):
    make = _trainer if kind == "sequence" else _s2s_trainer
    trainer = make(snapshot_every=3)
    x, y, lengths = trainer.probe
    fresh = lambda: rnnviz.trace(trainer.model, x, y, lengths=lengths)  # noqa: E731
    first = trainer.probe_trace()
    assert first is trainer.snapshots[-1].trace  # the step-0 snapshot is reused
    assert isinstance(first, Seq2SeqTrace if kind == "seq2seq" else Trace)
    trainer.run(2, progress=False)  # no snapshot at steps 1, 2: traced on demand, once
    second = trainer.probe_trace()
    assert second is not first and trainer.probe_trace() is second
    assert trainer.last_probe.step == 2 and trainer.last_probe.trace is second
    assert _same_trace(second, fresh())
    trainer.step()  # step 3 takes a snapshot: it is the probe trace
    assert trainer.probe_trace() is trainer.snapshots[-1].trace
    # a weight edited in place (as a lesson does) makes a new trace at the same step
    with torch.no_grad():
        next(trainer.model.parameters()).add_(0.5)
    edited = trainer.probe_trace()
    assert edited is not trainer.snapshots[-1].trace and _same_trace(edited, fresh())
    # a new loss function too
    trainer.loss_fn = lambda out, target: 2 * trainer.task.loss(out, target)
    assert trainer.probe_trace().loss == pytest.approx(2 * edited.loss, rel=1e-6)
    trainer.reset()  # back to step 0: the new snapshot, nothing older
    assert trainer.last_probe.step == 0 and trainer.probe_trace() is trainer.snapshots[-1].trace


def test_probe_trace_without_snapshots_and_after_divergence():
    trainer = _trainer(optimizer="sgd", snapshot_every=0)
    assert trainer.last_probe is None  # nothing traced yet
    t0 = trainer.probe_trace()
    assert trainer.last_probe.step == 0 and trainer.probe_trace() is t0
    trainer.lr = 1e38  # step 2 blows up; the divergence restores step 1's weights
    trainer.run(5, progress=False)
    assert trainer.state == "diverged" and trainer.steps == 1
    x, y, lengths = trainer.probe
    assert _same_trace(trainer.probe_trace(), rnnviz.trace(trainer.model, x, y, lengths=lengths))


def test_probe_trace_waits_for_a_step_running_on_another_thread():
    import threading

    trainer = _trainer(snapshot_every=0)
    seen = []
    with trainer._lock:  # a step holds the lock (as the dashboard's loop does)
        worker = threading.Thread(target=lambda: seen.append(trainer.probe_trace()))
        worker.start()
        worker.join(0.2)
        assert worker.is_alive() and not seen  # it waits
        trainer._step_once()
    worker.join(5)
    assert trainer.last_probe.step == 1 and seen[0] is trainer.last_probe.trace


def test_probe_is_fixed():
    trainer = _trainer()
    probe = trainer.probe
    trainer.run(3, progress=False)
    assert trainer.probe is probe
    assert torch.equal(_trainer().probe.x, probe.x)


# -------------------------------------------------------------------------- clipping, settings
def test_grad_norm_is_recorded_before_clipping_and_the_update_is_clipped():
    trainer = _trainer(optimizer="sgd", lr=0.5, clip=1e-3)
    before = _weights(trainer)
    result = trainer.step()
    assert result.grad_norm > 1e-2  # far above the clip value: the unclipped norm
    after = _weights(trainer)
    change = torch.sqrt(sum(((a - b) ** 2).sum() for a, b in zip(after, before, strict=True)))
    assert float(change) == pytest.approx(0.5 * 1e-3, rel=1e-3)  # lr * clipped norm


def test_lr_and_clip_are_settable_and_validated():
    trainer = _trainer(lr=1e-2)
    trainer.lr = 3e-3
    assert trainer.lr == 3e-3 and all(g["lr"] == 3e-3 for g in trainer.optimizer.param_groups)
    trainer.clip = 0.5
    assert trainer.clip == 0.5
    trainer.clip = None
    assert trainer.clip is None
    with pytest.raises(ValueError, match="lr must be a positive finite number"):
        trainer.lr = 0
    with pytest.raises(ValueError, match="clip must be a positive finite number"):
        trainer.clip = -1.0
    assert trainer.lr == 3e-3 and trainer.clip is None


@pytest.mark.parametrize("optimizer", ["adam", "sgd", "rmsprop"])
def test_every_optimizer_trains(optimizer):
    trainer = _trainer(optimizer=optimizer, lr=1e-2)
    assert type(trainer.optimizer).__name__.lower() == optimizer
    trainer.run(3, progress=False)
    assert len(trainer.history) == 3


# -------------------------------------------------------------------------- progress
def test_progress_bar_is_plain_text_outside_a_notebook(capsys):
    trainer = _trainer()
    trainer.run(5, progress=True)
    captured = capsys.readouterr()
    assert "5/5" in captured.err and "loss=" in captured.err
    assert captured.out == ""
    trainer.run(3, progress=False)
    assert capsys.readouterr() == ("", "")


# -------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"lr": 0.0}, ValueError, "lr must be a positive finite number"),
        ({"lr": float("nan")}, ValueError, "lr must be a positive finite number"),
        ({"optimizer": "adagrad"}, ValueError, "optimizer must be one of"),
        ({"clip": 0}, ValueError, "clip must be a positive finite number"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive int"),
        ({"batch_size": 2.0}, ValueError, "batch_size must be a positive int"),
        ({"seed": -1}, ValueError, "seed must be a non-negative int"),
        ({"snapshot_every": -1}, ValueError, "snapshot_every must be a non-negative int"),
        ({"max_snapshots": 0}, ValueError, "max_snapshots must be a positive int"),
        ({"probe_size": 0}, ValueError, "probe_size must be a positive int"),
        ({"loss_fn": "mse"}, TypeError, "loss_fn must be callable"),
    ],
)
def test_bad_trainer_arguments_are_named(kwargs, error, match):
    with pytest.raises(error, match=match):
        _trainer(**kwargs)


def test_model_and_task_must_fit():
    echo = tasks.Echo(delay=1, num_symbols=4, seed=0)
    with pytest.raises(TypeError, match="model must be an rnnviz.SequenceModel"):
        Trainer(torch.nn.LSTM(4, 8), echo)
    with pytest.raises(TypeError, match="task must be an rnnviz task"):
        Trainer(SequenceModel(4, 4), "echo")
    with pytest.raises(ValueError, match="model.input_size must equal task.input_size = 4, got 5"):
        Trainer(SequenceModel(5, 4), echo)
    with pytest.raises(ValueError, match="model.output_size must equal task.output_size"):
        Trainer(SequenceModel(4, 3), echo)
    with pytest.raises(ValueError, match="readout must be 'per_step'"):
        Trainer(SequenceModel(4, 4, readout="last"), echo)
    with pytest.raises(ValueError, match="encoding must be 'identity'"):
        Trainer(SequenceModel(2, 1, readout="last"), tasks.Adding(seq_len=12))
    with pytest.raises(ValueError, match="n must be a non-negative int"):
        _trainer().run(-1)


def test_long_run_keeps_only_max_snapshots_alive():
    import gc

    def traces_alive() -> int:
        gc.collect()
        return sum(isinstance(o, Trace) for o in gc.get_objects())

    before = traces_alive()  # other tests may still hold some
    trainer = _trainer(snapshot_every=1, max_snapshots=3)
    trainer.run(300, progress=False)
    grown = traces_alive() - before
    assert len(trainer.snapshots) == 3
    assert grown <= 3, f"{grown} more traces alive after 300 snapshotted steps (bound 3)"
    assert len(trainer.history) == 300


# -------------------------------------------------------------------------- Seq2Seq
def _s2s_trainer(task=None, *, cell="gru", hidden_size=8, model_seed=0, **kwargs) -> Trainer:
    task = task or tasks.Reverse(num_symbols=4, min_len=1, max_len=5, seed=0)
    model = Seq2Seq.from_task(task, cell=cell, hidden_size=hidden_size, seed=model_seed)
    kwargs.setdefault("batch_size", 16)
    kwargs.setdefault("snapshot_every", 0)
    return Trainer(model, task, **kwargs)


def _plain_teacher_forcing(model, x, y, lengths):
    """Teacher forcing with torch.nn modules only: nn.GRU/LSTM/RNN on packed sources, the
    decoder from the encoder's h_n, reading <go> and the true previous words."""
    enc, dec = model.encoder.to_torch(), model.decoder.to_torch()
    e = F.one_hot(x, model.input_size).float()  # (B, S, V_in)
    packed = torch.nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True,
                                                     enforce_sorted=False)
    _, context = enc(packed)  # (L, B, H): each sequence's last real state
    prev = torch.cat([torch.full_like(y[:, :1], model.start), y[:, :-1]], dim=1)  # (B, T)
    prev = torch.where(prev == -100, model.start, prev)
    out, _ = dec(F.one_hot(prev, model.output_size + 1).float(), context)  # (B, T, H)
    return out @ model.linear.weight.T + model.linear.bias  # (B, T, O)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_seq2seq_trainer_equals_a_plain_torch_loop(cell):
    # every recorded number equals a loop with the public API (model(x, y), task.loss, Adam)
    # on the same seeded batches; the first step's loss also equals torch.nn modules alone
    task = tasks.Reverse(num_symbols=4, min_len=1, max_len=5, seed=0)
    trainer = _s2s_trainer(task, cell=cell, lr=1e-2, seed=7)
    ref = _s2s_trainer(task, cell=cell, lr=1e-2, seed=7)
    model, opt = ref.model, torch.optim.Adam(ref.model.parameters(), lr=1e-2)
    trainer.run(4, progress=False)
    for k in range(1, 5):
        x, y, lengths = task.batch(ref.batch_size, seed=ref._batch_seed(k))
        opt.zero_grad()
        output = model(x, y, lengths)  # teacher forcing
        loss = task.loss(output, y)
        if k == 1:
            plain = _plain_teacher_forcing(model, x, y, lengths)
            torch.testing.assert_close(output, plain, atol=1e-5, rtol=1e-5)
        loss.backward()
        norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()]))
        assert trainer.history.loss[k - 1] == pytest.approx(float(loss.detach()), rel=1e-6)
        assert trainer.history.metric[k - 1] == pytest.approx(task.metric(output, y), rel=1e-6)
        assert trainer.history.grad_norm[k - 1] == pytest.approx(float(norm), rel=1e-5)
        opt.step()
    assert _same(_weights(trainer), _weights(ref))


def test_seq2seq_learns_reverse_beyond_the_no_memory_baseline():
    task = tasks.Reverse(num_symbols=3, min_len=1, max_len=3, seed=0)
    trainer = _s2s_trainer(task, hidden_size=16, lr=2e-2, batch_size=32)
    history = trainer.run(60, progress=False)
    base = task.baseline()
    assert sum(history.metric[-5:]) / 5 > base.metric + 0.15
    assert sum(history.loss[-5:]) / 5 < 0.8 * base.loss


def test_seq2seq_snapshots_are_bounded_teacher_forced_traces_of_the_probe():
    trainer = _s2s_trainer(cell="lstm", snapshot_every=1, max_snapshots=3, probe_size=2)
    first = trainer.snapshots[0]
    assert first.step == 0 and isinstance(first.trace, Seq2SeqTrace)
    trainer.run(8, progress=False)
    assert [s.step for s in trainer.snapshots] == [6, 7, 8]
    snap = trainer.snapshots[-1].trace
    x, y, lengths = trainer.probe
    assert snap.teacher_forcing and snap.batch_size == 2
    assert torch.equal(snap.source, x) and torch.equal(snap.target, y)
    assert torch.equal(snap.lengths, lengths)
    assert snap.grad_context is not None and snap.encoder.grad_hidden is not None
    # the snapshot is the trace of the current weights (one record type: rnnviz.trace's)
    again = rnnviz.trace(trainer.model, x, y, lengths=lengths)
    assert snap.loss == again.loss
    with torch.no_grad():
        want = float(trainer.task.loss(trainer.model(x, y, lengths), y))
    assert snap.loss == pytest.approx(want, rel=1e-5)


def test_seq2seq_runs_are_deterministic_and_reset_restarts_them():
    a, b = _s2s_trainer(seed=3, snapshot_every=4), _s2s_trainer(seed=3, snapshot_every=4)
    init = _weights(a)
    a.run(8, progress=False)
    b.run(8, progress=False)
    assert a.history == b.history and _same(_weights(a), _weights(b))
    first = list(a.history.loss)
    a.reset()
    assert _same(_weights(a), init) and len(a.history) == 0
    assert [s.step for s in a.snapshots] == [0]
    a.run(8, progress=False)
    assert a.history.loss == first
    a.reset(seed=5)
    assert a.model.seed == 5 and not _same(_weights(a), init)
    assert _same(_weights(a), list(Seq2Seq.from_task(a.task, cell="gru", hidden_size=8,
                                                     seed=5).parameters()))


@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_seq2seq_nonfinite_step_is_discarded_and_last_update_undone(where):
    task = tasks.Reverse(num_symbols=4, min_len=1, max_len=5, seed=0)
    trainer = _s2s_trainer(task, loss_fn=_nan_at(4, task, where))
    before = []
    for _ in range(4):
        before.append(_weights(trainer))
        result = trainer.step()
    assert result.diverged and trainer.state == "diverged" and len(trainer.history) == 3
    assert _same(_weights(trainer), before[2])
    trainer.resume()
    trainer.run(2, progress=False)
    assert trainer.history.step == [1, 2, 3, 4, 5] and trainer.state == "ready"


def test_seq2seq_huge_learning_rate_diverges_cleanly(capsys):
    trainer = _s2s_trainer(optimizer="sgd", lr=1e38, snapshot_every=1)
    history = trainer.run(20, progress=False)
    assert trainer.state == "diverged" and "Training diverged" in capsys.readouterr().out
    assert all(math.isfinite(v) for v in history.loss)
    assert all(torch.isfinite(w).all() for w in _weights(trainer))


def test_seq2seq_must_fit_the_task():
    reverse = tasks.Reverse(num_symbols=4, seed=0)
    with pytest.raises(ValueError, match="model.input_size must equal task.input_size = 5, got 6"):
        Trainer(Seq2Seq(6, 5), reverse)
    with pytest.raises(ValueError, match="model.output_size must equal task.output_size = 5"):
        Trainer(Seq2Seq(5, 4), reverse)
    recall = tasks.DelayedRecall(seed=0)  # one class per sequence: nothing to decode
    with pytest.raises(ValueError, match="symbol inputs and a class target at every step"):
        Trainer(Seq2Seq(recall.input_size, recall.output_size), recall)
    Trainer(Seq2Seq(2, 2), tasks.Parity(seq_len=6)).run(1, progress=False)  # synced: fine
    with pytest.raises(ValueError, match="symbol inputs and a class target at every step"):
        Trainer(Seq2Seq(1, 1), tasks.Sine())
    with pytest.raises(TypeError, match=r"model must be an rnnviz.SequenceModel or rnnviz.Seq2Seq"):
        Trainer(Seq2Seq(5, 5).encoder, reverse)
    assert isinstance(Seq2Seq(5, 5), Trainable) and isinstance(SequenceModel(4, 4), Trainable)
    assert not isinstance(torch.nn.LSTM(4, 8), Trainable)


def test_plot_history_and_animate_training_of_a_seq2seq_trainer():
    from rnnviz import views

    trainer = _s2s_trainer(snapshot_every=2, probe_size=2)
    trainer.run(4, progress=False)
    hist = views.plot_history(trainer)
    assert list(hist.data[0].x) == [1, 2, 3, 4]
    fig = views.animate_training(trainer)  # the seq2seq view by default
    assert len(fig.frames) == 3 and fig.layout.sliders[0].steps[-1].label == "4"
    assert "training step 4" in fig.frames[-1].layout.title.text
    heat = [d for d in fig.data if d.type == "heatmap"]
    assert [d.name for d in heat] == ["encoder h_s", "context c", "decoder z_t"]
    z = np.asarray(fig.frames[-1].data[[i for i, t in enumerate(fig.frames[-1].traces)
                                        if fig.data[t].name == "context c"][0]].z, dtype=float)
    np.testing.assert_allclose(z[:, 0], trainer.snapshots[-1].trace.context[-1, 0].numpy(),
                               rtol=1e-3, atol=1e-5)
    enc = views.animate_training(trainer.snapshots, "hidden", part="encoder")
    assert len(enc.frames) == 3
    dec = views.animate_training(trainer, "grad_flow", part="decoder")
    assert len(dec.frames) == 3
    with pytest.raises(ValueError, match="part must be 'encoder' or 'decoder'"):
        views.animate_training(trainer, "hidden")
    with pytest.raises(ValueError, match="view='seq2seq' needs the snapshots of a Seq2Seq"):
        views.animate_training(_trainer(snapshot_every=1), "seq2seq")
    with pytest.raises(ValueError, match="part is only for seq2seq snapshots"):
        views.animate_training(_trainer(snapshot_every=1), "hidden", part="encoder")


# -------------------------------------------------------------------------- truncated BPTT
def _torch_tbptt_loop(trainer: Trainer, k: int, steps: int) -> tuple[list, list, list[torch.Tensor]]:
    """Truncated BPTT written with torch.nn alone: the model's core as a torch module, the
    one-hot encoding and readout by hand, the state detached every k steps, one Adam step
    per batch (sum of the chunks' gradients)."""
    model, task = trainer.model, trainer.task
    rnn = model.core.to_torch()
    linear = torch.nn.Linear(model.linear.in_features, model.linear.out_features)
    linear.load_state_dict(model.linear.state_dict())
    params = [*rnn.parameters(), *linear.parameters()]
    opt = torch.optim.Adam(params, lr=trainer.lr)
    losses, norms = [], []
    for step in range(1, steps + 1):
        x, y, _lengths = task.batch(trainer.batch_size, seed=trainer._batch_seed(step))
        e = F.one_hot(x, model.input_size).float() if model.encoding == "onehot" else x
        opt.zero_grad()
        outs, h = [], None
        for start in range(0, e.shape[1], k):
            out, h = rnn(e[:, start:start + k], h)
            h = tuple(s.detach() for s in h) if isinstance(h, tuple) else h.detach()
            outs.append(out)
        out = torch.cat(outs, dim=1)  # (B, T, H)
        logits = linear(out if model.readout_type == "per_step" else out[:, -1])
        loss = task.loss(logits, y)
        loss.backward()
        losses.append(float(loss.detach()))
        norms.append(float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params]))))
        opt.step()
    return losses, norms, [p.detach() for p in params]


@pytest.mark.parametrize(("cell", "task", "k"), [
    ("elman", tasks.Echo(delay=3, seq_len=12, seed=0), 4),
    ("lstm", tasks.Echo(delay=2, seq_len=12, seed=0), 5),
    ("gru", tasks.Adding(seq_len=15, seed=0), 4),
    ("lstm", tasks.Adding(seq_len=15, seed=0), 6),
])
def test_tbptt_equals_a_hand_written_torch_loop(cell, task, k):
    trainer = _trainer(task, cell=cell, lr=1e-2, tbptt=k, seed=3)
    ref = _trainer(task, cell=cell, lr=1e-2, seed=3)
    losses, norms, weights = _torch_tbptt_loop(ref, k, 4)
    trainer.run(4, progress=False)
    np.testing.assert_allclose(trainer.history.loss, losses, rtol=1e-5)
    np.testing.assert_allclose(trainer.history.grad_norm, norms, rtol=1e-4)
    mine = [*trainer.model.core.parameters(), *trainer.model.linear.parameters()]
    for a, b in zip(mine, weights, strict=True):
        torch.testing.assert_close(a.detach(), b, rtol=1e-4, atol=1e-6)


def test_tbptt_of_the_whole_sequence_is_full_bptt_and_a_short_one_cuts_the_gradient():
    task = tasks.Adding(seq_len=16, seed=0)
    full = _trainer(task, cell="lstm")
    whole = _trainer(task, cell="lstm", tbptt=16)
    longer = _trainer(task, cell="lstm", tbptt=100)
    short = _trainer(task, cell="lstm", tbptt=4)
    for t in (full, whole, longer, short):
        t.run(3, progress=False)
    assert full.history.loss == whole.history.loss == longer.history.loss  # bit-identical
    assert _same(_weights(full), _weights(whole)) and _same(_weights(full), _weights(longer))
    # the same forward numbers, hence the same first loss; another gradient
    assert short.history.loss[0] == pytest.approx(full.history.loss[0], rel=1e-6)
    assert short.history.grad_norm[0] != pytest.approx(full.history.grad_norm[0], rel=1e-3)


def test_tbptt_with_variable_lengths_equals_one_sequence_at_a_time():
    # padded batch: each sequence's chunks stop at its own length; its state is carried
    # only through its own steps. Reference: every sequence alone (no padding), same k.
    task = tasks.Names(seed=0)
    trainer = _trainer(task, cell="gru", optimizer="sgd", lr=1.0, batch_size=6, tbptt=3)
    ref = _trainer(task, cell="gru", batch_size=6)
    model = ref.model
    x, y, lengths = task.batch(6, seed=trainer._batch_seed(1))
    assert len(set(lengths.tolist())) > 1
    before = _weights(trainer)
    result = trainer.step()
    grads = [torch.zeros_like(p) for p in model.parameters()]
    total = 0.0
    for b in range(6):
        e = F.one_hot(x[b:b + 1, :lengths[b]], model.input_size).float()  # (1, T_b, V)
        outs, h = [], None
        for start in range(0, e.shape[1], 3):
            out, h = model.core._fused(e[:, start:start + 3], h, None)
            h = h.detach()
            outs.append(out)
        logits = model.linear(torch.cat(outs, dim=1)[:, -1])  # (1, O)
        loss = task.loss(logits, y[b:b + 1]) / 6
        model.zero_grad()
        loss.backward()
        total += float(loss.detach())
        for g, p in zip(grads, model.parameters(), strict=True):
            g += p.grad
    assert result.loss == pytest.approx(total, rel=1e-5)
    for w0, w1, g in zip(before, _weights(trainer), grads, strict=True):
        torch.testing.assert_close(w0 - w1, g, rtol=1e-4, atol=1e-6)  # SGD, lr=1: w1 = w0 - g


def test_tbptt_is_settable_between_steps_and_validated():
    trainer = _trainer(tasks.Echo(delay=1, seq_len=8, seed=0))
    assert trainer.tbptt is None
    trainer.step()
    trainer.tbptt = 3
    assert trainer.tbptt == 3 and "tbptt=3" in repr(trainer)
    trainer.step()
    trainer.tbptt = None
    trainer.step()
    assert trainer.steps == 3
    for bad in (0, -1, 2.5, "4", True):
        with pytest.raises(ValueError, match="tbptt must be a positive int"):
            trainer.tbptt = bad
    assert trainer.tbptt is None
    reverse = tasks.Reverse(num_symbols=4, max_len=4, seed=0)
    with pytest.raises(ValueError, match="tbptt needs an rnnviz.SequenceModel"):
        Trainer(Seq2Seq.from_task(reverse, hidden_size=4), reverse, tbptt=2)
    echo = tasks.Echo(delay=1, seq_len=8, seed=0)
    bi = SequenceModel.from_task(echo, hidden_size=4, bidirectional=True)
    with pytest.raises(ValueError, match="tbptt needs a unidirectional, undilated core"):
        Trainer(bi, echo, tbptt=2)
    dilated = rnnviz.dilate(SequenceModel.from_task(echo, hidden_size=4, num_layers=2), (1, 2))
    with pytest.raises(ValueError, match="tbptt needs a unidirectional, undilated core"):
        Trainer(dilated, echo, tbptt=2)
