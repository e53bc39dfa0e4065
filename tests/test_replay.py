"""The dashboard on a static page (RNNVIZ_STATIC_SITE=1): a recorded replay of the same run."""

from __future__ import annotations

import pytest

import rnnviz
from rnnviz import tasks
from rnnviz.live import _replay


def _trainer(cell: str = "elman", **kwargs) -> rnnviz.Trainer:
    task = tasks.Echo(delay=2, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell=cell, hidden_size=8, seed=1)
    return rnnviz.Trainer(model, task, lr=1e-2, batch_size=16, seed=1, **kwargs)


def test_dashboard_is_a_replay_only_in_a_static_site_build(monkeypatch) -> None:
    monkeypatch.delenv(_replay.ENV, raising=False)
    assert not _replay.enabled()
    monkeypatch.setenv(_replay.ENV, "1")
    assert _replay.enabled()
    monkeypatch.setattr(_replay, "STEPS", 6)
    monkeypatch.setattr(_replay, "FRAMES", 2)
    out = rnnviz.dashboard(_trainer(), views=("hidden",))
    assert isinstance(out, _replay.Replay)
    assert out.steps == (0, 6)
    assert [f.name for f in out.figures[1].frames] == ["s0", "s3", "s6"]


def test_replay_gives_the_numbers_of_the_same_run_and_leaves_the_trainer_alone() -> None:
    trainer = _trainer(cell="lstm")
    trainer.run(5, progress=False)
    before = list(trainer.history.loss)
    out = _replay.replay(trainer, ("hidden",), steps=20, frames=2)
    assert trainer.steps == 5 and trainer.history.loss == before  # untouched
    assert out.steps == (5, 25)
    trainer.run(20, progress=False)  # what ▶ would have trained: the same numbers
    assert out.trainer.history.loss == trainer.history.loss


def test_replay_figures_are_honest_animations() -> None:
    out = _replay.replay(_trainer(), ("hidden", "gates", "unrolled"), steps=12, frames=4)
    hist, *anims = out.figures
    assert hist.layout.title.text.startswith("Recorded replay: 12 steps")
    assert len(anims) == 2  # an Elman RNN has no gates: left out, as the dashboard does
    for fig in anims:
        assert fig.layout.title.text.startswith("Recorded replay: 12 steps")
        assert [f.name for f in fig.frames] == ["s0", "s3", "s6", "s9", "s12"]
        assert fig.layout.sliders and fig.layout.updatemenus  # slider and ▶ play
        assert all(f.layout.title.text.startswith("Recorded replay") for f in fig.frames)
    assert "replay" in repr(out)


def test_replay_of_a_diverging_run_stops_and_says_so() -> None:
    task = tasks.Sine(seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell="elman", hidden_size=8, seed=0)
    trainer = rnnviz.Trainer(model, task, lr=1e6, optimizer="sgd", seed=0)
    out = _replay.replay(trainer, ("hidden",), steps=30, frames=3)
    assert out.trainer.state == "diverged"
    assert out.steps[1] < 30
    assert out.figures[1].frames[-1].name == f"s{out.steps[1]}"


def test_replay_checks_its_arguments(monkeypatch) -> None:
    monkeypatch.setenv(_replay.ENV, "1")  # the dashboard's own checks come first
    with pytest.raises(TypeError, match="rnnviz.Trainer"):
        rnnviz.dashboard(object())
    with pytest.raises(ValueError, match="views"):
        rnnviz.dashboard(_trainer(), ("nope",))
    with pytest.raises(ValueError, match="steps"):
        _replay.replay(_trainer(), steps=0)
