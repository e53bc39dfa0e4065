"""Presets (issue #10 §2): the string round-trips, bad strings say what is wrong, a preset
builds the same trainer every time, and the named presets build."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnviz
from rnnviz import tasks
from rnnviz.presets import CONTROLS, PRESETS, TASKS, VIEWS, Preset, get

# ---------------------------------------------------------------------------------------------
# the string


@st.composite
def presets(draw: st.DrawFn) -> Preset:
    """Any valid preset."""
    name = draw(st.sampled_from(sorted(TASKS)))
    spec = TASKS[name]
    knob = draw(st.sampled_from(spec.values)) if spec.values else None
    cell = draw(st.sampled_from(["elman", "lstm", "gru"]))
    layers = draw(st.integers(1, 4))
    plain = not spec.seq2seq
    bidirectional = plain and draw(st.booleans())
    dilations = None
    if plain and not bidirectional and draw(st.booleans()):
        dilations = tuple(draw(st.lists(st.integers(1, 16), min_size=layers, max_size=layers)))
    init = draw(st.sampled_from(["default", "orthogonal", "identity", "radius"]))
    radius = None
    if init == "radius":
        radius = draw(st.floats(0.01, 5.0))
    elif init != "default":
        radius = draw(st.none() | st.floats(0.01, 5.0))  # a gain
    finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-20, max_value=20)
    positive = st.floats(min_value=1e-6, max_value=100.0)
    return Preset(
        task=name, knob=knob, cell=cell,
        hidden_size=draw(st.integers(1, 1024)), num_layers=layers, bidirectional=bidirectional,
        nonlinearity=draw(st.sampled_from(["tanh", "relu"])) if cell == "elman" and plain else "tanh",
        dilations=dilations,
        optimizer=draw(st.sampled_from(["adam", "sgd", "rmsprop"])),
        lr=draw(positive), batch_size=draw(st.integers(1, 4096)),
        clip=draw(st.none() | positive), init=init, radius=radius,
        forget_bias=draw(st.none() | finite) if cell == "lstm" else None,
        tbptt=draw(st.none() | st.integers(1, 200)) if plain and not bidirectional
        and dilations is None else None,
        views=tuple(draw(st.lists(st.sampled_from(VIEWS), unique=True, max_size=4))),
        controls=draw(st.none() | st.lists(st.sampled_from(CONTROLS), unique=True).map(tuple)),
        seed=draw(st.integers(0, 2**64 - 1)),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(presets())
def test_string_round_trips(preset: Preset) -> None:
    text = str(preset)
    assert Preset.parse(text) == preset
    assert str(Preset.parse(text)) == text  # canonical
    shuffled = " ".join(reversed(text.split()))  # any order
    assert Preset.parse(shuffled) == preset


def test_the_issue_example_parses() -> None:
    p = Preset.parse("task=echo:2 cell=lstm h=32 lr=0.01 clip=1 seed=0 views=hidden,gates")
    assert (p.task, p.knob, p.cell, p.hidden_size, p.lr, p.clip, p.seed, p.views) == (
        "echo", 2, "lstm", 32, 0.01, 1.0, 0, ("hidden", "gates"))
    assert str(p) == "task=echo:2 cell=lstm h=32 lr=0.01 clip=1 views=hidden,gates seed=0"


def test_aliases_defaults_and_normalisation() -> None:
    long = Preset.parse("task=TemporalOrder hidden_size=8 num_layers=2 bidirectional=yes "
                        "optimizer=SGD batch_size=16 fb=1 controls=all views=none")
    assert long == Preset(task="temporal_order", knob=40, hidden_size=8, num_layers=2,
                          bidirectional=True, optimizer="sgd", batch_size=16, forget_bias=1.0,
                          views=())
    assert Preset.parse("") == Preset()
    assert Preset(task="echo") == Preset(task="echo", knob=TASKS["echo"].default)
    assert str(Preset()) == "task=echo:2 cell=lstm h=32 lr=0.01 seed=0"
    assert Preset(views=["gates"]).views == ("gates",)  # a list becomes a tuple (hashable)
    with pytest.raises(ValueError, match=r"knob \(delay of task 'echo'\) must be one of .*got 2.0"):
        Preset(task="echo", knob=2.0)
    assert hash(Preset(views=["gates"])) == hash(Preset(views=("gates",)))


@pytest.mark.parametrize(("text", "match"), [
    ("cell", r"preset item 'cell' must be key=value"),
    ("colour=red", r"unknown preset key 'colour'"),
    ("hiden=8", r"unknown preset key 'hiden'.*Did you mean 'hidden'"),
    ("h=8 h=9", r"preset key 'h' is given twice"),
    ("h=eight", r"bad preset value 'h=eight': expected an integer, got 'eight'"),
    ("h=0", r"hidden_size must be a positive int, got 0"),
    ("lr=fast", r"'lr=fast': expected a number"),
    ("lr=-1", r"lr must be a positive finite number, got -1.0"),
    ("lr=nan", r"'lr=nan': expected a finite number"),
    ("cell=lstn", r"cell must be one of \['elman', 'lstm', 'gru'\], got 'lstn'"),
    ("task=ecco", r"task must be one of .*got 'ecco'.*Did you mean 'echo'"),
    ("task=echo:99", r"knob \(delay of task 'echo'\) must be one of \[1, 2, .*got 99"),
    ("task=echo:two", r"'task=echo:two': expected an integer"),
    ("task=names:3", r"knob must be None for task 'names'"),
    ("task=echo:2.0", r"'task=echo:2.0': expected an integer"),
    ("bi=maybe", r"'bi=maybe': expected yes or no"),
    ("init=radius", r"radius is required for init='radius'"),
    ("init=radius:-2", r"radius must be a positive finite number"),
    ("init=default:2", r"radius must be None for init='default'"),
    ("init=xavier", r"init must be one of \['default', 'orthogonal', 'identity', 'radius'\]"),
    ("cell=gru forget_bias=1", r"forget_bias applies to cell='lstm' only"),
    ("cell=lstm act=relu", r"nonlinearity='relu' applies to cell='elman' only"),
    ("layers=2 dilations=1,2,4", r"dilations must have one entry per layer \(num_layers = 2\)"),
    ("dilations=1 bi=yes", r"dilations need a unidirectional SequenceModel"),
    ("task=reverse bi=yes", r"bidirectional must be False for task 'reverse'"),
    ("tbptt=0", r"tbptt must be a positive int, got 0"),
    ("tbptt=5 bi=yes", r"tbptt needs a unidirectional, undilated SequenceModel"),
    ("views=hiden", r"views must be one of \['hidden', 'grad_flow', 'gates', 'gate_saturation', "
                    r"'unrolled', 'cell', 'seq2seq'\]"),
    ("views=gates,gates", r"views must not repeat a name"),
    ("controls=lr,speed", r"controls must be one of .*got 'speed'"),
    ("seed=-1", r"seed must be a non-negative int, got -1"),
    ("batch=5000", r"batch_size must be at most 4096, got 5000"),
])
def test_a_malformed_string_says_what_is_wrong(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Preset.parse(text)


def test_get_takes_a_name_a_string_or_a_preset() -> None:
    assert get("adding") is PRESETS["adding"]
    assert get("task=parity:20 cell=gru h=8 lr=0.01 seed=1") == Preset(
        task="parity", knob=20, cell="gru", hidden_size=8, seed=1)
    assert get(PRESETS["echo"]) is PRESETS["echo"]
    with pytest.raises(ValueError, match=r"preset must be a named preset.*Did you mean 'adding'"):
        get("addding")
    with pytest.raises(TypeError, match="preset must be a preset name or string, got 3"):
        get(3)  # type: ignore[arg-type]


def test_replace_and_what_needs_a_rebuild() -> None:
    p = PRESETS["adding"]
    assert p.replace(lr=1e-3, clip=None, tbptt=10).needs_rebuild(p) is False
    assert p.replace(hidden_size=8).needs_rebuild(p) is True
    q = p.replace(cell="gru")  # the LSTM-only forget bias goes with the LSTM
    assert (q.cell, q.forget_bias) == ("gru", None)
    r = p.replace(task="echo")  # a new task takes its default knob
    assert (r.task, r.knob) == ("echo", TASKS["echo"].default)
    assert PRESETS["vanishing"].replace(init="orthogonal").radius is None
    with pytest.raises(TypeError, match=r"unknown fields \['colour'\]"):
        p.replace(colour="red")


# ---------------------------------------------------------------------------------------------
# building


def test_every_trainable_task_has_a_spec() -> None:
    assert set(TASKS) == set(tasks.names())
    for spec in TASKS.values():
        if spec.knob is not None:
            assert spec.default in spec.values, spec.name


@pytest.mark.parametrize("name", sorted(TASKS))
def test_every_task_and_knob_value_builds_and_trains(name: str) -> None:
    spec = TASKS[name]
    for knob in spec.values or (None,):
        trainer = Preset(task=name, knob=knob, hidden_size=4, batch_size=2).build(snapshot_every=0)
        if spec.knob is not None:
            assert getattr(trainer.task, spec.knob) == knob
        assert not trainer.step().diverged


def _same_trainer(a: rnnviz.Trainer, b: rnnviz.Trainer) -> None:
    for (ka, va), (kb, vb) in zip(a.model.state_dict().items(), b.model.state_dict().items(), strict=True):
        assert ka == kb
        assert torch.equal(va, vb), ka
    for ta, tb in zip(a.probe, b.probe, strict=True):
        assert (ta is None and tb is None) or torch.equal(ta, tb)


@pytest.mark.parametrize("text", [
    "task=echo:3 cell=elman h=8 lr=0.01 init=orthogonal clip=1 seed=4",
    "task=adding:20 cell=lstm h=8 lr=0.003 forget_bias=2 tbptt=5 seed=1",
    "task=reverse:5 cell=gru h=8 lr=0.01 batch=8 seed=2",
    "task=temporal_order:40 cell=elman h=8 layers=3 dilations=1,2,4 init=radius:0.9 lr=0.01 seed=3",
])
def test_the_same_preset_gives_the_same_weights_data_and_history(text: str) -> None:
    preset = Preset.parse(text)
    a, b = preset.build(), Preset.parse(text).build()
    _same_trainer(a, b)
    a.run(6, progress=False)
    b.run(6, progress=False)
    assert dataclasses.asdict(a.history) == dataclasses.asdict(b.history)
    _same_trainer(a, b)
    assert a.preset == preset
    c = preset.replace(seed=preset.seed + 1).build()  # another seed: other weights
    pairs = zip(a.model.parameters(), c.model.parameters(), strict=True)
    assert not all(torch.equal(va, vc) for va, vc in pairs)


def test_the_model_follows_the_preset() -> None:
    t = get("vanishing").build()
    assert float(rnnviz.spectral_radius(t.model)[0]) == pytest.approx(0.5, rel=1e-5)
    assert t.model.cell_type == "elman" and t.task.seq_len == 30
    t = get("adding").build()
    core = t.model.core
    assert torch.all(core.bias_ih_l0[64:128] == 3.0) and torch.all(core.bias_hh_l0[64:128] == 0.0)
    t = get("dilation").build()
    assert isinstance(t.model.core, rnnviz.Dilated) and t.model.core.dilations == (1, 2, 4, 8)
    t = get("reverse").build()
    assert isinstance(t.model, rnnviz.Seq2Seq) and t.batch_size == 64
    t = Preset.parse("task=echo cell=elman act=relu init=identity h=4 tbptt=3 opt=sgd").build()
    assert torch.equal(t.model.core.weight_hh_l0, torch.eye(4))
    assert (t.model.nonlinearity, t.tbptt, t.optimizer_name) == ("relu", 3, "sgd")
    with pytest.raises(TypeError, match=r"build\(\) got \['lr'\], which the preset sets"):
        get("echo").build(lr=1.0)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_named_presets_build_and_train(name: str) -> None:
    trainer = PRESETS[name].build()
    assert not trainer.step().diverged
    assert str(PRESETS[name]) == str(Preset.parse(str(PRESETS[name])))


def test_vanishing_and_exploding_presets_do_what_they_say() -> None:
    # ||dh_T/dh_t|| of the untrained Elman: rho = 0.5 shrinks with distance, rho = 1.5 grows
    far = {}
    for name in ("vanishing", "exploding"):
        trainer = get(name).build()
        jn = rnnviz.jacobian_norms(trainer.model, trainer.task.batch(16, seed=5).x)
        norms = dict(zip(jn.distance.tolist(), jn.norms.tolist(), strict=True))
        far[name] = norms[29] / norms[1]
    assert far["vanishing"] < 1e-6 and far["exploding"] > 1.0


def test_a_preset_names_any_view_of_the_live_registry() -> None:
    from rnnviz.live._registry import REGISTRY

    assert VIEWS == tuple(REGISTRY) == rnnviz.live.VIEWS
    for view in ("seq2seq", "gate_saturation", "cell"):
        p = Preset.parse(f"task=echo:2 cell=lstm h=8 lr=0.01 seed=0 views=hidden,{view}")
        assert p.views == ("hidden", view) and Preset.parse(str(p)) == p
    assert Preset(task="reverse", views=("seq2seq",)).available_views == ("seq2seq",)
    assert "gates" not in Preset(cell="elman").available_views


def test_the_reverse_preset_shows_the_seq2seq_view() -> None:
    p = PRESETS["reverse"]
    assert p.views == ("seq2seq",) and p.kind == "seq2seq"


def test_another_task_keeps_views_that_apply_or_takes_its_defaults() -> None:
    p = Preset(cell="gru", views=("hidden", "gates"))
    assert p.replace(task="reverse").views == ("seq2seq",)  # none applies to a Seq2Seq
    assert p.replace(task="reverse").replace(task="echo").views == ("hidden", "gates", "grad_flow")
    assert p.replace(cell="elman").views == ("hidden", "gates")  # the dashboard says why not
    assert p.replace(views=()).replace(task="reverse").views == ()  # none asked, none given
