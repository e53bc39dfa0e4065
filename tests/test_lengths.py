"""Length generalisation helpers: tasks.with_seq_len rebuilds a task at another length, and
rnnviz.evaluate scores a model on a fresh seeded batch, at the task's length or another."""

from __future__ import annotations

import pytest
import torch

import rnnviz
from rnnviz import tasks
from rnnviz.tasks import with_seq_len

MAKERS = {
    "echo": lambda: tasks.Echo(delay=3, num_symbols=5, seq_len=9, seed=4),
    "parity": lambda: tasks.Parity(seq_len=7, variable_length=True, seed=4),
    "brackets": lambda: tasks.Brackets(max_depth=3, seq_len=15, filler=0.3, seed=4),
    "sine": lambda: tasks.Sine(seq_len=12, min_period=5.0, max_period=9.0, seed=4),
    "lookahead": lambda: tasks.Lookahead(ahead=2, num_symbols=3, seq_len=9, seed=4),
    "adding": lambda: tasks.Adding(seq_len=24, variant="uniform", seed=4),
    "sine_from_frequency": lambda: tasks.SineFromFrequency(periods=(5, 7), seq_len=8, seed=4),
    "sentiment": lambda: tasks.Sentiment(seq_len=5, p_not=0.3, seed=4),
}


@pytest.mark.parametrize("key", list(MAKERS))
def test_with_seq_len_changes_only_the_length(key):
    task = MAKERS[key]()
    longer = with_seq_len(task, 2 * task.seq_len)
    assert type(longer) is type(task) and longer is not task
    assert longer.seq_len == 2 * task.seq_len and longer.seed == task.seed
    assert {k: v for k, v in longer._params.items() if k != "seq_len"} == {
        k: v for k, v in task._params.items() if k != "seq_len"
    }
    assert task.seq_len == MAKERS[key]().seq_len  # the original is untouched
    x, y, _ = longer.batch(3, seed=0)
    assert x.shape[:2] == (3, 2 * task.seq_len)
    same = with_seq_len(task, task.seq_len)
    assert all(
        (u is None and v is None) or torch.equal(u, v)
        for u, v in zip(same.batch(4, seed=1), task.batch(4, seed=1), strict=True)
    )


@pytest.mark.parametrize(
    ("make", "arg"),
    [
        (lambda: with_seq_len(tasks.DelayedRecall(lag=5), 20), "seq_len"),
        (lambda: with_seq_len(tasks.Copy(), 20), "seq_len"),
        (lambda: with_seq_len(tasks.Names(), 20), "seq_len"),
        (lambda: with_seq_len(tasks.Echo(delay=3), 3), "seq_len"),  # delay must be < seq_len
        (lambda: with_seq_len(tasks.Adding(seq_len=24), 8), "seq_len"),
        (lambda: with_seq_len(tasks.Echo(), 0), "seq_len"),
        (lambda: with_seq_len(tasks.Echo(), 2.0), "seq_len"),
    ],
)
def test_with_seq_len_errors_name_seq_len(make, arg):
    with pytest.raises(ValueError, match=rf"\b{arg}\b"):
        make()


def test_with_seq_len_rejects_non_tasks():
    with pytest.raises(TypeError, match="task must be an rnnviz task"):
        with_seq_len("echo", 10)


def test_evaluate_is_the_metric_on_a_fixed_seeded_batch():
    task = tasks.Parity(seq_len=6, seed=1)
    model = rnnviz.SequenceModel.from_task(task, cell="gru", hidden_size=8, seed=0)
    model.train()
    x, y, lengths = task.batch(64, seed=5)
    with torch.no_grad():
        want = task.metric(model(x, lengths), y)
    assert rnnviz.evaluate(model, task, batch_size=64, seed=5) == pytest.approx(want)
    assert model.training  # mode restored
    assert rnnviz.evaluate(model, task) == rnnviz.evaluate(model, task)
    long = tasks.with_seq_len(task, 24)
    xl, yl, _ = long.batch(32, seed=0)
    with torch.no_grad():
        want_long = long.metric(model(xl), yl)
    assert rnnviz.evaluate(model, task, seq_len=24, batch_size=32, seed=0) == pytest.approx(want_long)
    assert "evaluate" in rnnviz.__all__


def test_evaluate_many_to_one_and_real_valued():
    sentiment = tasks.Sentiment(seq_len=4)
    model = rnnviz.SequenceModel.from_task(sentiment, cell="lstm", hidden_size=4)
    assert 0.0 <= rnnviz.evaluate(model, sentiment, seq_len=9, batch_size=16) <= 1.0
    sine = tasks.Sine(seq_len=8)
    model = rnnviz.SequenceModel.from_task(sine, cell="elman", hidden_size=4)
    assert rnnviz.evaluate(model, sine, seq_len=16, batch_size=16) > 0.0


def test_evaluate_errors():
    task = tasks.Echo(num_symbols=4)
    model = rnnviz.SequenceModel.from_task(task, hidden_size=4)
    with pytest.raises(ValueError, match="input_size"):
        rnnviz.evaluate(model, tasks.Echo(num_symbols=5))
    with pytest.raises(ValueError, match="batch_size"):
        rnnviz.evaluate(model, task, batch_size=0)
    with pytest.raises(ValueError, match="seed"):
        rnnviz.evaluate(model, task, seed=-1)
    with pytest.raises(ValueError, match="seq_len"):
        rnnviz.evaluate(model, task, seq_len=0)
    with pytest.raises(TypeError, match="model must be an rnnviz model"):
        rnnviz.evaluate(torch.nn.Linear(2, 2), task)
    with pytest.raises(TypeError, match="task must be an rnnviz task"):
        rnnviz.evaluate(model, "echo")


def test_a_trained_echo_model_keeps_working_at_twice_the_length():
    torch.set_num_threads(1)
    task = tasks.Echo(delay=1, num_symbols=3, seq_len=8, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell="gru", hidden_size=8, seed=0)
    rnnviz.Trainer(model, task, lr=3e-2, batch_size=32, seed=0, snapshot_every=0).run(80, progress=False)
    at_t = rnnviz.evaluate(model, task, batch_size=256)
    assert at_t > 0.95
    assert rnnviz.evaluate(model, task, seq_len=32, batch_size=256) > 0.95
