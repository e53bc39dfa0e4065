"""The lessons' named presets build exactly what each lesson's dashboard cell built by hand.

Each lesson's live cell is ``rnnviz.playground(name, controls=...)``, with a ``lessonNN_...``
preset or, where one matched exactly, a named demo (lesson 05: ``temporal_order_lstm``, lesson
10: ``char_lm``). Before, the cell
wrote the recipe out (task, ``SequenceModel.from_task``, ``Trainer``); here that recipe is written
out again, and the preset must give the same task, the same starting weights, the same trainer
settings and, trained for a few steps, the same losses.

One difference is by design: a preset has one seed for task, weights and batches. Lessons 02, 06
and 08 built their live model and trainer with seed 1 on the lesson's task of seed 0; their
presets use seed 1 for the task too (a fresh data stream, as fresh as the weights).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

import rnnviz
from rnnviz import tasks
from rnnviz.presets import PRESETS, Preset


def _sm(task, **kwargs) -> rnnviz.SequenceModel:
    return rnnviz.SequenceModel.from_task(task, **kwargs)


def _lesson02() -> rnnviz.Trainer:
    task = tasks.Echo(delay=2, seed=1)  # the lesson's task had seed 0; see the module docstring
    return rnnviz.Trainer(_sm(task, cell="elman", hidden_size=16, seed=1), task, lr=1e-2,
                          batch_size=32, seed=1)


def _lesson03() -> rnnviz.Trainer:
    task = tasks.Echo(delay=2, seed=0)
    return rnnviz.Trainer(_sm(task, cell="elman", hidden_size=16, seed=0), task, lr=1e-2,
                          batch_size=32, seed=0)


def _lesson04() -> rnnviz.Trainer:
    sine = tasks.Sine(seed=0)
    return rnnviz.Trainer(_sm(sine, cell="elman", hidden_size=32, seed=0), sine, lr=0.5,
                          optimizer="sgd", clip=1.0, seed=0)


def _lesson05() -> rnnviz.Trainer:
    task = tasks.TemporalOrder(seq_len=40, seed=0)
    lstm = _sm(task, cell="lstm", hidden_size=16, seed=0)
    with torch.no_grad():  # lesson 05's open_forget_gate(lstm, 1.0)
        lstm.core.bias_ih_l0[16:32] = 1.0
        lstm.core.bias_hh_l0[16:32] = 0.0
    return rnnviz.Trainer(lstm, task, lr=1e-2, batch_size=32, seed=0)


def _lesson06() -> rnnviz.Trainer:
    task = tasks.TemporalOrder(seq_len=40, seed=1)  # the lesson's task had seed 0
    return rnnviz.Trainer(_sm(task, cell="gru", hidden_size=16, seed=1), task, lr=1e-2,
                          batch_size=32, seed=1)


def _lesson07() -> rnnviz.Trainer:
    task40 = tasks.TemporalOrder(seq_len=40, seed=0)  # make_model("gru", task40): H = 16
    return rnnviz.Trainer(_sm(task40, cell="gru", hidden_size=16, seed=0), task40, lr=2e-2,
                          batch_size=32, seed=0)


def _lesson08() -> rnnviz.Trainer:
    look = tasks.Lookahead(ahead=3, num_symbols=4, seq_len=16, seed=1)  # the lesson's: seed 0
    return rnnviz.Trainer(_sm(look, cell="elman", hidden_size=16, bidirectional=True, seed=1),
                          look, lr=1e-2, batch_size=32, seed=1)


def _lesson09() -> rnnviz.Trainer:
    names = tasks.Names(split="train", seed=0)
    return rnnviz.Trainer(_sm(names, cell="elman", hidden_size=32, encoding="embedding", seed=0),
                          names, lr=5e-3, batch_size=32, seed=0)


def _lesson10() -> rnnviz.Trainer:
    task = tasks.CharText(seq_len=48, split="train", seed=0)
    return rnnviz.Trainer(_sm(task, cell="lstm", hidden_size=48, seed=0), task, lr=1e-2,
                          batch_size=32, seed=0)


def _lesson11() -> rnnviz.Trainer:
    task = tasks.TemporalOrder(seq_len=40, seed=0)
    fresh = rnnviz.dilate(_sm(task, cell="elman", hidden_size=16, num_layers=4, seed=0),
                          (1, 2, 4, 8))
    return rnnviz.Trainer(fresh, task, lr=1e-2, batch_size=32, seed=0)


RECIPES: dict[str, tuple[Callable[[], rnnviz.Trainer], tuple[str, ...]]] = {
    "lesson02_echo": (_lesson02, ("hidden", "unrolled")),
    "lesson03_bptt": (_lesson03, ("unrolled", "grad_flow")),
    "lesson04_clipping": (_lesson04, ("hidden", "grad_flow")),
    "temporal_order_lstm": (_lesson05, ("gates", "grad_flow")),
    "lesson06_gru": (_lesson06, ("gates", "grad_flow")),
    "lesson07_race": (_lesson07, ("gates", "grad_flow")),
    "lesson08_bidir": (_lesson08, ("unrolled", "hidden")),
    "lesson09_names": (_lesson09, ("hidden", "unrolled")),
    "char_lm": (_lesson10, ("hidden", "gates")),
    "lesson11_dilated": (_lesson11, ("hidden", "grad_flow")),
}


def test_an_encoding_is_kept_checked_and_dropped_with_its_task() -> None:
    p = PRESETS["lesson09_names"]
    assert p.encoding == "embedding" and "enc=embedding" in str(p)
    assert Preset.parse(str(p)) == p
    assert p.make_model().encoding == "embedding"
    assert p.replace(cell="gru").encoding == "embedding"
    assert p.replace(task="echo").encoding is None  # the new task's own: one-hot
    assert Preset(task="echo").make_model().encoding == "onehot"
    for bad in ({"task": "sine"}, {"task": "reverse"}):
        with pytest.raises(ValueError, match="encoding='embedding' needs a SequenceModel"):
            Preset(encoding="embedding", **bad)
    with pytest.raises(ValueError, match="encoding"):
        Preset(encoding="word2vec")


def test_every_lesson_preset_has_its_recipe() -> None:
    assert set(RECIPES) <= set(PRESETS)
    assert {n for n in PRESETS if n.startswith("lesson")} <= set(RECIPES)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_the_preset_builds_the_lessons_recipe(name: str) -> None:
    recipe, views = RECIPES[name]
    expected, got = recipe(), PRESETS[name].build()
    assert PRESETS[name].views == views
    assert repr(got.task) == repr(expected.task)
    assert type(got.model) is type(expected.model)
    want = expected.model.state_dict()
    have = got.model.state_dict()
    assert list(have) == list(want)
    for key in want:
        assert torch.equal(have[key], want[key]), f"{name}: {key} differs"
    for attr in ("lr", "clip", "batch_size", "seed", "optimizer_name", "tbptt"):
        assert getattr(got, attr) == getattr(expected, attr), attr
    assert torch.equal(got.probe.x, expected.probe.x)
    steps = 2 if name == "char_lm" else 3
    assert got.run(steps, progress=False).loss == expected.run(steps, progress=False).loss
