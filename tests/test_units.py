"""find_units: scores equal numpy's correlations, planted units are found, within-group
correlation, the named text features, and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import rnnviz
from rnnviz.units import bracket_depth, find_units, in_quotes, word_groups, word_position
from tests.test_views import make_trace


def test_text_features() -> None:
    assert bracket_depth("(a[b]))(").tolist() == [1, 1, 2, 2, 1, 0, 0, 1]
    assert in_quotes('say "hi" ok').tolist() == [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    pos = word_position("it's a b2!")
    assert pos[:4].tolist() == [0, 1, 2, 3] and math.isnan(pos[4]) and pos[5] == 0
    assert pos[7:9].tolist() == [0, 1] and math.isnan(pos[9])
    assert word_groups("it's a b2!").tolist() == [0, 0, 0, 0, -1, 1, -1, 2, 2, -1]
    with pytest.raises(TypeError, match="text must be a str"):
        bracket_depth(3)


def planted(B=4, T=30, H=6, seed=0):
    """A trace whose unit 4 follows bracket depth and unit 1 follows it upside down."""
    g = np.random.default_rng(seed)
    texts = ["".join(g.choice(list("(()a"), size=T)) for _ in range(B)]
    depth = np.stack([bracket_depth(s).numpy() for s in texts])  # (B, T)
    tr = make_trace("lstm", B=B, T=T, H=H, grads=False)
    noise = torch.from_numpy(g.normal(size=(B, T)))
    tr.hidden[0, :, :, 4] = torch.from_numpy(depth) * 0.3 + 0.1 * noise
    tr.hidden[0, :, :, 1] = -torch.from_numpy(depth) * 0.2 + 0.3 * noise
    return tr, texts, depth


def test_find_units_finds_planted_units_and_matches_numpy() -> None:
    tr, texts, depth = planted()
    s = find_units(tr, "bracket_depth", text=texts)
    assert s.top == 4 and s.ranking[1] == 1 and s.scores[1] < 0
    h = tr.hidden[0].numpy().reshape(-1, tr.hidden_size)
    ref = [np.corrcoef(h[:, u], depth.ravel())[0, 1] for u in range(tr.hidden_size)]
    np.testing.assert_allclose(s.scores.numpy(), ref, rtol=1e-10)
    assert s.n_steps == depth.size and s.best(2)[0][0] == 4
    assert "unit 4" in s.name() and "bracket_depth" in repr(s)
    # the same numbers given as a (B, T) tensor, as a list of rows, and as a callable
    for feature, kw in ((torch.from_numpy(depth), {}), (list(depth), {}),
                        (bracket_depth, {"text": texts})):
        np.testing.assert_allclose(find_units(tr, feature, **kw).scores, s.scores)
    # values: ready for plot_text_activation
    v = s.values(tr, sample=2)
    assert torch.equal(v, tr.hidden[0, 2, :, 4])
    fig = rnnviz.plot_text_activation(texts[2], v, unit_name=s.name())
    assert "unit 4" in fig.layout.title.text


def test_padding_nan_and_unscored_targets_are_left_out() -> None:
    tr = make_trace("gru", B=3, T=8, H=4, lengths=True, grads=False)  # lengths 8, 6, 4
    y = torch.randn(3, 8, dtype=torch.float64)
    y[0, 1] = float("nan")
    s = find_units(tr, y, state="z")
    mask = (torch.arange(8)[None] < tr.lengths[:, None]) & y.isfinite()
    assert s.n_steps == int(mask.sum()) == 8 + 6 + 4 - 1
    a = tr.gates["z"][0][mask].numpy()
    np.testing.assert_allclose(s.scores, [np.corrcoef(a[:, u], y[mask])[0, 1] for u in range(4)])
    tr.target = torch.randint(0, 3, (3, 8))
    tr.target[1, 0] = -100  # not scored
    assert find_units(tr, "target").n_steps == 8 + 6 + 4 - 1


def test_within_word_correlation_is_the_stricter_test() -> None:
    text = "a bb ccc dddd eeeee ffffff"
    T, H = len(text), 3
    tr = make_trace("elman", B=1, T=T, H=H, grads=False)
    pos = word_position(text)
    groups = word_groups(text)
    length = torch.tensor([float((groups == g).sum()) for g in groups.clamp(min=0)])
    tr.hidden[0, 0, :, 0] = torch.nan_to_num(pos, nan=0.0) * 0.1  # position in word
    tr.hidden[0, 0, :, 1] = length * 0.1  # the word's length: constant inside each word
    loose = find_units(tr, "word_position", text=text)
    strict = find_units(tr, "word_position", text=text, within="word")
    assert loose.scores[1] >= 0.4  # long words have large positions: a spurious match ...
    assert abs(float(strict.scores[1])) < 1e-9  # ... gone within words
    assert strict.top == 0 and float(strict.scores[0]) == pytest.approx(1.0)
    assert strict.within == "word" and strict.n_steps == int((groups >= 0).sum())
    # the same with explicit (B, T) group labels
    again = find_units(tr, "word_position", text=text, within=groups[None])
    np.testing.assert_allclose(again.scores, strict.scores)


def test_find_units_on_a_real_trace() -> None:
    task = rnnviz.tasks.Brackets(seq_len=12, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell="lstm", hidden_size=6, num_layers=2,
                                           seed=0)
    batch = task.batch(8, seed=1)
    tr = rnnviz.trace(model, batch.x, batch.y)
    texts = [task.decode(x) for x in batch.x]
    by_target = find_units(tr, "target", layer=-1, state="cell")
    by_text = find_units(tr, "bracket_depth", text=texts, layer=1, state="cell")
    np.testing.assert_allclose(by_target.scores, by_text.scores)  # the target is the depth
    assert by_target.layer == 1 and by_target.scores.shape == (6,)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"feature": "depth"}, ValueError, "feature must be one of"),
    ({"feature": "bracket_depth"}, ValueError, "text is required"),
    ({"feature": "bracket_depth", "text": ["()"]}, ValueError, "one string per sample"),
    ({"feature": "bracket_depth", "text": ["(" * 9, "(" * 9]}, ValueError, "row 0 must have"),
    ({"feature": torch.zeros(2, 5)}, ValueError, "shape \\(B, T\\)"),
    ({"feature": torch.ones(2, 8)}, ValueError, "does not vary"),
    ({"feature": "target"}, ValueError, "needs a trace made with a target"),
    ({"feature": torch.randn(2, 8), "state": "c"}, ValueError, "state must be one of"),
    ({"feature": torch.randn(2, 8), "state": "cell"}, ValueError, "needs an LSTM"),
    ({"feature": torch.randn(2, 8), "layer": 2}, ValueError, "layer must be in"),
    ({"feature": torch.randn(2, 8), "within": "sentence"}, ValueError, "within must be"),
    ({"feature": torch.randn(2, 8), "within": torch.full((2, 8), 0.5)}, ValueError,
     "integer group"),
    ({"feature": object()}, TypeError, "feature must be numbers"),
])
def test_find_units_errors(kwargs, error, match) -> None:
    tr = make_trace("gru", B=2, T=8, H=3, grads=False)
    with pytest.raises(error, match=match):
        find_units(tr, **kwargs)
    with pytest.raises(TypeError, match="Trace"):
        find_units({}, "target")
