"""The Playground without a browser: its traits are the controls (issue #10, sections 1, 2, 5).

Structural choices rebuild the trainer and swap the dashboard (the old one closed), live
choices reach the running trainer, presets round-trip, hidden controls hide, and a lecture's
worst case holds: changing choices while training pauses first, a diverging choice shows
"diverged" and ↺ recovers, and a hundred random changes in a row leave one dashboard, no
background task and bounded memory.
"""

from __future__ import annotations

import asyncio
import gc
import random
import tracemalloc
import warnings
from typing import Any

import ipywidgets
import pytest
from ipywidgets.widgets import widget as ipywidget

import rnnviz
from rnnviz import app as P
from rnnviz import presets
from rnnviz.app import _controls as C
from rnnviz.live import _hooks


def small(**choices: Any) -> P.Playground:
    """A playground of a small model (fast to rebuild), with the given choices."""
    return rnnviz.playground(rnnviz.Preset(**{"hidden_size": 8, "views": ("hidden",), **choices}))


def closed(widget: Any) -> bool:
    return widget.comm is None


def other_tasks() -> set[asyncio.Task]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


def test_a_structural_change_rebuilds_the_trainer_and_closes_the_old_dashboard() -> None:
    pg = small()
    old_dash, old_trainer, rebuilds = pg.dashboard, pg.trainer, pg.rebuilds
    pg.cell = "gru"
    assert pg.trainer is not old_trainer and pg.trainer.model.cell_type == "gru"
    assert pg.dashboard is not old_dash and closed(old_dash) and not closed(pg.dashboard)
    assert pg._right.children == (pg._status_html, pg.dashboard)
    assert pg.rebuilds == rebuilds + 1
    assert "Rebuilt" in pg.status and "GRU" in pg.status
    assert "cell=gru" in pg.preset
    pg.close()


def test_a_new_task_draws_fresh_probe_data() -> None:
    pg = small()
    pg.task = "parity"
    assert pg.trainer.task.name == "parity"
    assert pg.trainer.probe.x.shape[0] == pg.trainer.probe_size
    assert pg.knob == presets.TASKS["parity"].default  # the new task's own default knob
    pg.close()


@pytest.mark.parametrize("name, value", [("lr", 0.1), ("clip", None), ("clip", 5.0), ("tbptt", 5)])
def test_live_choices_reach_the_running_trainer(name: str, value: Any) -> None:
    pg = small(clip=1.0)
    trainer, dash = pg.trainer, pg.dashboard
    setattr(pg, name, value)
    assert pg.trainer is trainer and pg.dashboard is dash  # nothing rebuilt
    assert getattr(trainer, name) == value
    if name == "lr":
        assert dash.lr == value
    elif name == "clip":
        assert dash.clip_enabled == (value is not None)
    if value is None:  # the default: not written
        assert f"{name}=" not in pg.preset
    else:
        assert f"{name}={C.fmt(value)}" in pg.preset
    assert "applied to the running trainer" in pg.status
    pg.close()


def test_the_dashboard_lr_slider_updates_the_playground() -> None:
    pg = small()
    pg.dashboard.lr = 0.003
    assert pg.lr == 0.003 and pg.trainer.lr == 0.003
    pg.close()


def test_the_reverse_preset_shows_the_seq2seq_view_and_offers_only_what_applies() -> None:
    pg = rnnviz.playground("reverse")
    assert pg.views == ("seq2seq",) and list(pg.dashboard.views) == ["seq2seq"]
    offered = [v for v, b in zip(rnnviz.presets.VIEWS, pg._w["views"].children, strict=True)
               if b.layout.display != "none"]
    assert offered == ["seq2seq"]
    pg.task = "echo"  # a SequenceModel: its own views, seq2seq no longer offered
    assert list(pg.dashboard.views) == ["hidden", "gates", "grad_flow"]
    offered = [v for v, b in zip(rnnviz.presets.VIEWS, pg._w["views"].children, strict=True)
               if b.layout.display != "none"]
    assert "seq2seq" not in offered and {"hidden", "gates", "cell"} <= set(offered)
    pg.views = ("seq2seq",)  # no view of this model: refused, the dashboard stays
    assert pg.views == ("hidden", "gates", "grad_flow") and "views must include" in pg.status
    assert list(pg.dashboard.views) == ["hidden", "gates", "grad_flow"]
    pg.close()


def test_views_change_the_dashboard_not_the_trainer() -> None:
    pg = small()
    pg.trainer.run(3, progress=False)
    trainer = pg.trainer
    pg.views = ("hidden", "grad_flow")
    assert pg.trainer is trainer and trainer.steps == 3
    assert list(pg.dashboard.views) == ["hidden", "grad_flow"]
    pg.close()


def test_the_preset_string_restores_every_choice() -> None:
    pg = small(cell="gru", num_layers=2, lr=0.003, seed=7, task="parity", knob=20)
    again = rnnviz.playground(pg.preset)
    for name in P.FIELDS:
        assert getattr(again, name) == getattr(pg, name), name
    assert again.preset == pg.preset
    # same model, same data
    a, b = pg.trainer.run(5, progress=False), again.trainer.run(5, progress=False)
    assert a.loss == b.loss
    pg.close()
    again.close()


def test_a_pasted_preset_applies_and_a_malformed_one_names_the_bad_key() -> None:
    pg = small()
    text = str(rnnviz.Preset(task="parity", cell="elman", hidden_size=4))
    pg._w["preset"].value = text
    assert pg.task == "parity" and pg.cell == "elman" and pg.hidden_size == 4
    before, trainer = pg.preset, pg.trainer
    pg._w["preset"].value = "task=parity wibble=3"
    assert "wibble" in pg.status and pg.preset == before and pg.trainer is trainer
    assert pg._w["preset"].value == before  # the box shows the preset in force again
    pg._w["preset"].value = "temporal_order_gru"  # a name works too
    assert pg.cell == "gru" and pg.knob == 40
    with pytest.raises(ValueError, match="wibble"):
        rnnviz.playground("task=parity wibble=3")
    pg.close()


def test_a_bad_choice_is_refused_and_the_old_choices_stay() -> None:
    pg = small(cell="gru")
    trainer = pg.trainer
    pg.hidden_size = 0
    assert "hidden_size" in pg.status and pg.hidden_size == 8 and pg.trainer is trainer
    pg.nonlinearity = "relu"  # Elman only
    assert "relu" in pg.status and pg.nonlinearity == "tanh" and pg.trainer is trainer
    assert pg._w["nonlinearity"].value == "tanh"  # the control shows the choice in force
    pg.close()


def test_controls_choose_which_controls_show() -> None:
    pg = rnnviz.playground(controls=["cell", "lr"])
    def shown() -> set[str]:
        return {n for n, w in pg._w.items() if w.layout.display != "none"}

    assert shown() == {"cell", "lr"}
    assert "controls=cell,lr" in pg.preset  # the preset records them
    pg.controls = ("task", "init")
    assert shown() == {"task", "init", "radius"}
    again = rnnviz.playground(pg.preset)
    assert again.controls == ("task", "init")
    again.close()
    with pytest.raises(ValueError, match="controls"):
        pg.controls = ("cell", "colour")
    pg.close()
    with pytest.raises(ValueError, match="controls"):
        rnnviz.playground(controls=["nope"])
    with pytest.raises(ValueError, match="theme"):
        rnnviz.playground(theme="sepia")


def test_controls_that_do_not_apply_are_greyed_out() -> None:
    pg = small(cell="lstm")
    w = pg._w
    assert w["nonlinearity"].disabled and not w["forget_bias"].disabled
    pg.cell = "elman"
    assert not w["nonlinearity"].disabled and w["forget_bias"].disabled
    pg.close()


def test_changing_a_choice_while_training_pauses_first() -> None:
    async def scenario() -> None:
        pg = small()
        old = pg.dashboard
        pg.play()
        await asyncio.sleep(0.3)
        assert old.running and pg.trainer.steps > 0
        pg.hidden_size = 4  # a structural change while training
        assert not old.running and closed(old)
        assert not pg.dashboard.playing and not pg.dashboard.running
        pg.play()
        await asyncio.sleep(0.3)
        assert pg.dashboard.running and pg.trainer.steps > 0
        pg.lr = 0.003  # a live change goes on training
        await asyncio.sleep(0.1)
        assert pg.dashboard.running and pg.trainer.lr == 0.003
        pg.close()
        await asyncio.sleep(0.05)
        assert not other_tasks()

    asyncio.run(scenario())


@pytest.mark.parametrize("choice", ["huge lr", "spectral radius 3"])
def test_a_diverging_choice_shows_diverged_and_reset_recovers(choice: str) -> None:
    if choice == "huge lr":
        pg = small(optimizer="sgd", task="sine")
        pg.lr = 1e3
    else:  # a ReLU Elman network whose activity grows 3x per step overflows in 100 steps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the probe's trace overflows too
            pg = small(task="adding", knob=100, cell="elman", nonlinearity="relu",
                       init="radius", radius=3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow itself
        for _step in range(30):
            pg.dashboard.step_once()
            if pg.trainer.state == "diverged":
                break
    assert pg.dashboard.status["state"] == "diverged" and "reset" in pg.dashboard.status["message"]
    if choice == "huge lr":
        pg.lr = 1e-3
    else:
        pg.radius = 0.9  # a rebuild: a new trainer, not diverged
    pg.dashboard.reset()
    assert pg.dashboard.status["state"] == "ready" and pg.dashboard.status["message"] == ""
    pg.dashboard.step_once()
    assert pg.trainer.state == "ready" and pg.dashboard.status["state"] == "paused"
    pg.close()


def _random_change(pg: P.Playground, rng: random.Random) -> str:
    """What a restless lecturer does: pick any control and any value it offers."""
    name = rng.choice([*P.CONTROLS, "radius", "play", "pause", "reset"])
    w = pg._w.get(name)
    if name == "play":
        pg.play()
    elif name == "pause":
        pg.pause()
    elif name == "reset":
        pg.dashboard.reset()
    elif name == "views":
        box = rng.choice(w.children)
        box.value = not box.value
    elif name == "trained":
        w.click()
    elif name == "preset":
        w.value = rng.choice([pg.preset, "echo", "task=echo:3 cell=gru h=4 lr=0.01 seed=1",
                              "task=nonsense"])
    elif isinstance(w, ipywidgets.Checkbox):
        w.value = not w.value
    else:
        options = [o[1] if isinstance(o, tuple) else o for o in w.options]
        if name == "task":
            options = [t for t in options if t not in ("names", "char_text")]  # slow to build
        if name == "hidden_size":
            options = [h for h in options if h <= 32]
        w.value = rng.choice(options)
    return name


def test_a_hundred_random_changes_keep_memory_bounded_and_leave_nothing_running() -> None:
    async def scenario() -> None:
        rng = random.Random(0)
        earlier = list(_hooks.LIVE)
        pg = small()
        widgets_before = len(ipywidget._instances)
        done: list[str] = []
        for i in range(100):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                done.append(_random_change(pg, rng))
            await asyncio.sleep(0.02 if pg.dashboard.playing else 0)
            if i == 19:  # caches and first imports are filled by now
                gc.collect()
                objects = len(gc.get_objects())
            if i == 59:  # tracing every allocation is slow: the last 40 changes
                gc.collect()
                tracemalloc.start()
        pg.pause()
        for _wait in range(30):  # a frame the (absent) browser never acked times out in 1 s
            await asyncio.sleep(0.1)
            if pg.dashboard.pacer._timer is None:
                break
        gc.collect()
        grown, _peak = tracemalloc.get_traced_memory()  # allocated since change 60, still alive
        tracemalloc.stop()
        more_objects = len(gc.get_objects()) - objects
        print(f"100 changes ({len(set(done))} kinds): {grown / 1e6:.1f} MB more than after 60, "
              f"{more_objects} objects more than after 20; {pg.rebuilds} rebuilds")
        # one live dashboard: every replaced one was closed and let go
        # dashboards of the tests before this one may still be alive: count this run's only
        live = [d for d in _hooks.LIVE if not closed(d) and d not in earlier]
        assert live == [pg.dashboard], live
        assert len([d for d in _hooks.LIVE if d not in earlier]) == 1
        # the widgets of the playground, and no pile of old dashboards' comms
        assert len(ipywidget._instances) <= widgets_before + 5, len(ipywidget._instances)
        # nothing running or queued: no training task, no frame timer, no pending frame
        assert not pg.dashboard.running and not other_tasks()
        assert pg.dashboard.pacer._timer is None
        assert grown < 10e6, f"memory grew by {grown / 1e6:.1f} MB over 40 changes"
        assert more_objects < 20_000, f"{more_objects} more Python objects after 80 changes"
        pg.close()

    asyncio.run(scenario())


def test_trained_loads_the_checkpoint_and_training_goes_on() -> None:
    pg = rnnviz.playground("echo")
    assert not pg._w["trained"].disabled
    pg._w["trained"].click()
    steps = pg.trainer.steps
    assert steps > 0 and len(pg.trainer.history) == steps
    assert pg.dashboard.status["step"] == steps and pg.dashboard.status["state"] == "paused"
    assert "echo" in pg.status and str(steps) in pg.status
    pg.dashboard.step_once()
    assert pg.trainer.steps == steps + 1
    pg.cell = "gru"  # a structural change leaves the checkpoint: no longer "trained"
    assert pg.trainer.steps == 0 and pg._w["trained"].disabled
    pg.close()
    untrained = small()
    assert untrained._w["trained"].disabled
    untrained.close()
