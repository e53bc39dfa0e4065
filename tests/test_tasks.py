"""Tasks: shapes, seeds, targets recomputed from the inputs, baselines, scoring and errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnviz import tasks
from rnnviz.tasks import _base, text

ROOT = Path(__file__).resolve().parents[1]

# Small but complete settings for every task; each factory makes a fresh instance.
FACTORIES = {
    "echo": lambda seed=0: tasks.Echo(delay=3, num_symbols=5, seq_len=9, seed=seed),
    "delayed_recall": lambda seed=0: tasks.DelayedRecall(lag=6, num_symbols=3, seed=seed),
    "delayed_recall_blank": lambda seed=0: tasks.DelayedRecall(
        lag=5, num_symbols=4, distractors="blank", seed=seed
    ),
    "copy": lambda seed=0: tasks.Copy(num_symbols=4, length=3, delay=4, seed=seed),
    "adding": lambda seed=0: tasks.Adding(seq_len=24, seed=seed),
    "adding_uniform": lambda seed=0: tasks.Adding(seq_len=16, variant="uniform", seed=seed),
    "temporal_order": lambda seed=0: tasks.TemporalOrder(seq_len=20, seed=seed),
    "parity": lambda seed=0: tasks.Parity(seq_len=7, seed=seed),
    "parity_var": lambda seed=0: tasks.Parity(seq_len=7, variable_length=True, seed=seed),
    "brackets": lambda seed=0: tasks.Brackets(max_depth=3, seq_len=15, seed=seed),
    "sine": lambda seed=0: tasks.Sine(seq_len=12, seed=seed),
    "char_text": lambda seed=0: tasks.CharText(seq_len=16, seed=seed),
    "names": lambda seed=0: tasks.Names(seed=seed),
    "reverse": lambda seed=0: tasks.Reverse(num_symbols=4, min_len=1, max_len=6, seed=seed),
    "lookahead": lambda seed=0: tasks.Lookahead(ahead=2, num_symbols=3, seq_len=9, seed=seed),
    "neighbour_xor": lambda seed=0: tasks.NeighbourXor(distance=2, seq_len=9, seed=seed),
    "sine_from_frequency": lambda seed=0: tasks.SineFromFrequency(periods=(4, 7), seq_len=9, seed=seed),
    "sentiment": lambda seed=0: tasks.Sentiment(seq_len=5, seed=seed),
}
ALL = list(FACTORIES)
# symbol inputs and class targets (a real-valued target has its baseline tested with its task)
SYMBOL_TASKS = [k for k in ALL if FACTORIES[k]().input_kind == "symbols"
                and FACTORIES[k]().loss_name == "cross_entropy"]


def _lengths(task, batch):
    B, T = batch.x.shape[:2]
    return batch.lengths if batch.lengths is not None else torch.full((B,), T)


# -- shapes, dtypes, attributes ----------------------------------------------------------
@pytest.mark.parametrize("key", ALL)
def test_batch_shapes_dtypes_and_attributes(key):
    task = FACTORIES[key]()
    B, T = 5, task.seq_len
    x, y, lengths = task.batch(B, seed=3)
    assert task.kind in ("many_to_one", "many_to_many", "synced", "one_to_many")
    assert task.loss_name in ("cross_entropy", "mse") and task.metric_name in ("accuracy", "mse")
    assert task.higher_is_better == (task.metric_name == "accuracy")
    if task.input_kind == "symbols":
        assert x.shape == (B, T) and x.dtype == torch.long
        assert task.input_size == len(task.vocab)
        assert 0 <= int(x.min()) and int(x.max()) < task.input_size
    else:
        assert task.vocab is None
        assert x.shape == (B, T, task.input_size) and x.dtype == torch.float32
    if task.loss_name == "cross_entropy":
        assert task.output_size == len(task.output_vocab)
        assert y.dtype == torch.long
        assert y.shape == ((B,) if task.kind == "many_to_one" else (B, T))
        scored = y[y != -100]
        assert scored.numel() > 0 and 0 <= int(scored.min()) and int(scored.max()) < task.output_size
    else:
        assert task.output_vocab is None and y.dtype == torch.float32
        assert y.shape == ((B, task.output_size) if task.kind == "many_to_one" else (B, T, task.output_size))
    if lengths is not None:
        assert lengths.shape == (B,) and lengths.dtype == torch.long
        assert 1 <= int(lengths.min()) and int(lengths.max()) <= T


# -- determinism -----------------------------------------------------------------------
@pytest.mark.parametrize("key", ALL)
def test_seeds_are_deterministic_and_matter(key):
    a, b, other = FACTORIES[key](seed=1), FACTORIES[key](seed=1), FACTORIES[key](seed=2)

    def same(p, q):
        return all(
            (u is None and v is None) or (u is not None and v is not None and torch.equal(u, v))
            for u, v in zip(p, q, strict=True)
        )

    assert same(a.batch(16, seed=7), b.batch(16, seed=7))
    assert not same(a.batch(16, seed=7), a.batch(16, seed=8))
    assert not same(a.batch(16, seed=7), other.batch(16, seed=7))
    # Unseeded: successive batches differ but repeat for a task built with the same seed.
    first, second = a.batch(16), a.batch(16)
    assert not same(first, second)
    assert same(first, b.batch(16)) and same(second, b.batch(16))
    # A seeded batch does not disturb the task's own stream; reset restarts it.
    a.reset()
    b.reset()
    a.batch(4, seed=0)
    assert same(a.batch(16), b.batch(16))


# -- targets recomputed independently ----------------------------------------------------
def test_echo_targets():
    task = FACTORIES["echo"]()
    x, y, _ = task.batch(64, seed=0)
    for b in range(64):
        for t in range(task.seq_len):
            want = int(x[b, t - 3]) if t >= 3 else -100
            assert int(y[b, t]) == want


@pytest.mark.parametrize("key", ["delayed_recall", "delayed_recall_blank"])
def test_delayed_recall_targets(key):
    task = FACTORIES[key]()
    x, y, _ = task.batch(128, seed=0)
    assert task.seq_len == task.lag + 1
    assert torch.equal(y, x[:, 0])
    assert int(x[:, 0].max()) < task.num_symbols
    if task.distractors == "blank":
        assert (x[:, 1:] == task.vocab.index(".")).all()
    else:
        assert int(x[:, 1:].max()) < task.num_symbols
        assert len(set(x[:, 1:].flatten().tolist())) == task.num_symbols


def test_copy_layout_and_targets():
    task = FACTORIES["copy"]()  # length 3, delay 4 -> T = 10
    x, y, _ = task.batch(64, seed=0)
    assert task.seq_len == 10
    for b in range(64):
        row, tgt = x[b].tolist(), y[b].tolist()
        data = row[:3]
        assert all(s < task.num_symbols for s in data)
        assert task.decode(row[3:]) == "___:___"
        assert tgt == [-100] * 7 + data


def _adding_reference(x, variant):
    value, marker = x[..., 0], x[..., 1]
    out = []
    for b in range(x.shape[0]):
        marked = [t for t in range(x.shape[1]) if marker[b, t] == 1.0]
        assert len(marked) == 2
        total = sum(float(value[b, t]) for t in marked)
        out.append(0.5 + total / 4.0 if variant == "hochreiter1997" else total)
    return torch.tensor(out)


def test_adding_hochreiter1997_definition():
    task = FACTORIES["adding"]()  # T = 24
    x, y, _ = task.batch(256, seed=0)
    value, marker = x[..., 0], x[..., 1]
    T = task.seq_len
    assert value.min() >= -1 and value.max() <= 1 and value.min() < -0.9 and value.max() > 0.9
    assert set(marker.unique().tolist()) <= {-1.0, 0.0, 1.0}
    for b in range(256):
        marked = (marker[b] == 1).nonzero().flatten().tolist()
        assert len(marked) == 2 and marked[0] < 10 and marked[1] < T // 2
        assert marker[b, T - 1] == -1
        assert marker[b, 0] == (1 if 0 in marked else -1)
        assert ((marker[b] == -1).sum() + (marker[b] == 0).sum()) == T - 2
    assert torch.allclose(y[:, 0], _adding_reference(x, "hochreiter1997"), atol=1e-6)
    assert y.min() >= 0 and y.max() <= 1


def test_adding_uniform_definition():
    task = FACTORIES["adding_uniform"]()
    x, y, _ = task.batch(256, seed=0)
    marker, T = x[..., 1], task.seq_len
    assert x[..., 0].min() >= 0 and x[..., 0].max() <= 1
    assert set(marker.unique().tolist()) == {0.0, 1.0}
    assert (marker[:, : T // 2].sum(1) == 1).all() and (marker[:, T // 2 :].sum(1) == 1).all()
    assert torch.allclose(y[:, 0], _adding_reference(x, "uniform"), atol=1e-6)


def test_temporal_order_definition():
    task = FACTORIES["temporal_order"]()  # T = 20
    x, y, _ = task.batch(256, seed=0)
    (lo1, hi1), (lo2, hi2) = task.first_range, task.second_range
    assert (lo1, hi1, lo2, hi2) == (2, 4, 10, 12)
    assert tasks.TemporalOrder(seq_len=100).first_range == (10, 20)
    assert tasks.TemporalOrder(seq_len=100).second_range == (50, 60)
    classes = {("X", "X"): 0, ("X", "Y"): 1, ("Y", "X"): 2, ("Y", "Y"): 3}
    for b in range(256):
        s = task.decode(x[b])
        assert s[0] == "E" and s[-1] == "B" and set(s[1:-1]) <= set("abcdXY")
        pos = [t for t, c in enumerate(s) if c in "XY"]
        assert len(pos) == 2 and lo1 <= pos[0] <= hi1 and lo2 <= pos[1] <= hi2
        assert int(y[b]) == classes[(s[pos[0]], s[pos[1]])]
    assert set(y.tolist()) == {0, 1, 2, 3}


@pytest.mark.parametrize("key", ["parity", "parity_var"])
def test_parity_targets_and_mask(key):
    task = FACTORIES[key]()
    x, y, lengths = task.batch(128, seed=0)
    L = _lengths(task, task.batch(128, seed=0))
    for b in range(128):
        count = 0
        for t in range(task.seq_len):
            if t < int(L[b]):
                count += int(x[b, t])
                assert int(y[b, t]) == count % 2
            else:
                assert int(y[b, t]) == -100 and int(x[b, t]) == 0
    if key == "parity_var":
        assert lengths is not None and set(lengths.tolist()) == set(range(1, 8))
    else:
        assert lengths is None


def test_brackets_depth_by_counting():
    task = FACTORIES["brackets"]()
    x, y, _ = task.batch(128, seed=0)
    for b in range(128):
        depth = 0
        for t, c in enumerate(task.decode(x[b])):
            depth += {"(": 1, ")": -1, "a": 0}[c]
            assert 0 <= depth <= task.max_depth
            assert int(y[b, t]) == depth
    assert set(y.flatten().tolist()) == set(range(task.max_depth + 1))
    assert set(x.flatten().tolist()) == {0, 1, 2}


def test_sine_is_a_shifted_sine_wave():
    task = FACTORIES["sine"]()
    x, y, _ = task.batch(64, seed=0)
    assert torch.equal(y[:, :-1], x[:, 1:])
    s = torch.cat([x[..., 0], y[:, -1:, 0]], dim=1).double()  # (B, T+1)
    assert s.abs().max() <= 1
    # A sine obeys s_{t+1} + s_{t-1} = 2 cos(omega) s_t with one omega per sequence.
    t = s[:, 1:-1].abs().argmax(dim=1) + 1  # an inner step with |s_t| near 1
    rows = torch.arange(64)
    c = (s[rows, t + 1] + s[rows, t - 1]) / (2 * s[rows, t])  # (B,) = cos omega
    lo, hi = task.omega_range
    assert (c <= math.cos(lo) + 1e-4).all() and (c >= math.cos(hi) - 1e-4).all()
    resid = s[:, 2:] + s[:, :-2] - 2 * c[:, None] * s[:, 1:-1]
    assert resid.abs().max() < 1e-5


def test_char_text_windows_come_from_the_text():
    task = FACTORIES["char_text"]()
    x, y, _ = task.batch(32, seed=0)
    assert torch.equal(x[:, 1:], y[:, :-1])
    body = task.text
    for b in range(32):
        window = task.decode(x[b]) + task.decode(y[b, -1:])
        assert window in body


def test_names_batch_is_real_names_with_lengths():
    task = FACTORIES["names"]()
    x, y, lengths = task.batch(64, seed=0)
    known = dict(task.names)
    for b in range(64):
        n = int(lengths[b])
        name = task.decode(x[b])
        assert len(name) == n and (x[b, n:] == 0).all() and (x[b, :n] > 0).all()
        assert known[name] == task.output_vocab[int(y[b])]
    assert task.vocab[0] == "<pad>" and task.seq_len == max(len(n) for n, _ in task.names)


# -- baselines: a memoryless predictor measured on a big batch matches -----------------
def _memoryless_inputs(task, batch):
    """What a no-memory model sees for each scored target: the current or last input."""
    x, y = batch.x, batch.y
    if task.kind == "many_to_one":
        last = x[torch.arange(x.shape[0]), _lengths(task, batch) - 1]
        return last, y
    mask = y != -100
    return x[mask], y[mask]


@pytest.mark.parametrize("key", SYMBOL_TASKS)
def test_symbol_baseline_matches_a_fitted_memoryless_table(key):
    task = FACTORIES[key]()
    base = task.baseline()
    assert isinstance(base.description, str) and len(base.description) > 40
    n = 3000 if task.kind != "many_to_one" else 20000
    xs_fit, ys_fit = _memoryless_inputs(task, task.batch(n, seed=100))
    xs, ys = _memoryless_inputs(task, task.batch(n, seed=200))
    counts = torch.full((task.input_size, task.output_size), 1e-3, dtype=torch.float64)
    counts.index_put_((xs_fit, ys_fit), torch.ones(len(xs_fit), dtype=torch.float64), accumulate=True)
    logp = (counts / counts.sum(1, keepdim=True)).log()  # (X, Y) best guess P(y | x)
    accuracy = float((logp.argmax(1)[xs] == ys).double().mean())
    loss = float(-logp[xs, ys].mean())
    assert abs(accuracy - base.metric) < 0.02
    assert abs(loss - base.loss) < 0.03
    # Guessing is never above a model with memory: the bar is below 1 and positive.
    assert 0 < base.metric < 1 and base.loss > 0


def test_parity_baseline_is_exact():
    T = 7
    for task, w in ((FACTORIES["parity"](), 1 / T), (FACTORIES["parity_var"](), 2 / (T + 1))):
        q = w + (1 - w) / 2
        assert task.baseline().metric == pytest.approx(q)
        assert task.baseline().loss == pytest.approx(-(q * math.log(q) + (1 - q) * math.log(1 - q)))


@pytest.mark.parametrize("key", ["echo", "copy", "delayed_recall", "temporal_order"])
def test_chance_baselines(key):
    task = FACTORIES[key]()
    assert task.baseline().metric == pytest.approx(1 / task.output_size)
    assert task.baseline().loss == pytest.approx(math.log(task.output_size))


def test_adding_baselines_predict_the_mean():
    task = FACTORIES["adding"]()
    x, y, _ = task.batch(40000, seed=5)
    const = torch.full_like(y, 0.5)
    base = task.baseline()
    assert base.metric == pytest.approx((2 - 0.1) / 48)
    assert task.metric(const, y) == pytest.approx(base.metric, rel=0.03)
    assert task.solved_fraction(const, y) == pytest.approx(0.154, abs=0.01)
    assert task.solved_fraction(y, y) == 1.0
    uniform = FACTORIES["adding_uniform"]()
    _, yu, _ = uniform.batch(40000, seed=5)
    assert uniform.baseline().metric == pytest.approx(1 / 6)
    assert uniform.metric(torch.ones_like(yu), yu) == pytest.approx(1 / 6, rel=0.03)


def test_sine_baseline_is_the_best_memoryless_guess():
    task = FACTORIES["sine"]()
    x, y, _ = task.batch(4000, seed=5)
    m = task.mean_cos_omega()
    base = task.baseline()
    assert task.metric(m * x, y) == pytest.approx(base.metric, rel=0.03)
    slope = float((x * y).sum() / (x * x).sum())  # least-squares memoryless linear fit
    assert slope == pytest.approx(m, abs=0.01)
    assert task.metric(x, y) == pytest.approx(1 - m, rel=0.03) and task.metric(x, y) > base.metric


# -- loss and metric against torch.nn.functional ----------------------------------------
@pytest.mark.parametrize("key", ALL)
def test_loss_and_metric_match_torch(key):
    task = FACTORIES[key]()
    x, y, _ = task.batch(6, seed=1)
    g = torch.Generator().manual_seed(0)
    B = y.shape[0]
    if task.loss_name == "mse":
        out = torch.randn(y.shape, generator=g, requires_grad=True)
        want = ((out - y) ** 2).mean()
        assert torch.allclose(task.loss(out, y), want)
        assert task.metric(out, y) == pytest.approx(float(want.detach()), rel=1e-6)
        task.loss(out, y).backward()
        assert out.grad is not None
        return
    shape = (B, task.output_size) if task.kind == "many_to_one" else (*y.shape, task.output_size)
    out = torch.randn(shape, generator=g, requires_grad=True)
    flat_out, flat_y = out.reshape(-1, task.output_size), y.reshape(-1)
    keep = flat_y != -100
    per = [F.cross_entropy(flat_out[i : i + 1], flat_y[i : i + 1]) for i in keep.nonzero()[:, 0]]
    assert torch.allclose(task.loss(out, y), torch.stack(per).mean())
    hits = [int(flat_out[i].argmax() == flat_y[i]) for i in keep.nonzero()[:, 0]]
    assert task.metric(out, y) == pytest.approx(sum(hits) / len(hits))
    # A perfect output scores 1.0 and a near-zero loss.
    perfect = torch.full(shape, -20.0)
    idx = flat_y.clamp_min(0).reshape(y.shape).unsqueeze(-1)
    perfect.scatter_(-1, idx, 20.0)
    assert task.metric(perfect, y) == 1.0 and float(task.loss(perfect, y)) < 1e-6


@settings(max_examples=40, deadline=None)
@given(
    batch=st.integers(1, 6),
    delay=st.integers(1, 5),
    extra=st.integers(1, 6),
    k=st.integers(2, 6),
    seed=st.integers(0, 2**31),
)
def test_echo_any_sizes(batch, delay, extra, k, seed):
    task = tasks.Echo(delay=delay, num_symbols=k, seq_len=delay + extra, seed=seed)
    x, y, _ = task.batch(batch, seed=seed)
    assert torch.equal(y[:, delay:], x[:, :-delay]) and (y[:, :delay] == -100).all()
    assert task.metric(F.one_hot(y.clamp_min(0), k).float(), y) == 1.0


@pytest.mark.parametrize(
    ("key", "bad", "err", "match"),
    [
        (
            "echo",
            lambda t: (torch.zeros(2, 9, 4), torch.zeros(2, 9, dtype=torch.long)),
            ValueError,
            "last dimension O",
        ),
        (
            "echo",
            lambda t: (torch.zeros(2, 5), torch.zeros(2, 9, dtype=torch.long)),
            ValueError,
            "output must have shape",
        ),
        (
            "echo",
            lambda t: (torch.zeros(2, 8, 5), torch.zeros(2, 9, dtype=torch.long)),
            ValueError,
            "does not match y",
        ),
        ("echo", lambda t: (torch.zeros(2, 9, 5), torch.zeros(2, 9)), TypeError, "y must be an integer"),
        (
            "delayed_recall",
            lambda t: (torch.zeros(2, 7, 3), torch.zeros(2, dtype=torch.long)),
            ValueError,
            r"output must have shape \(B, O\)",
        ),
        ("adding", lambda t: (torch.zeros(2), torch.zeros(2, 1)), ValueError, "shape of y"),
        ("echo", lambda t: ([0.0], torch.zeros(2, 9, dtype=torch.long)), TypeError, "output"),
    ],
)
def test_scoring_rejects_bad_shapes(key, bad, err, match):
    task = FACTORIES[key]()
    output, y = bad(task)
    with pytest.raises(err, match=match):
        task.loss(output, y)
    with pytest.raises(err, match=match):
        task.metric(output, y)


# -- registry ------------------------------------------------------------------------------
def test_registry_builds_every_task():
    assert tasks.names() == [
        "echo",
        "delayed_recall",
        "copy",
        "adding",
        "temporal_order",
        "parity",
        "brackets",
        "sine",
        "char_text",
        "names",
        "reverse",
        "lookahead",
        "neighbour_xor",
        "sine_from_frequency",
        "sentiment",
    ]
    for name in tasks.names():
        task = tasks.get(name)
        assert isinstance(task, tasks.Task) and task.name == name and task.seed == 0
    assert tasks.get("echo", delay=3).delay == 3
    assert isinstance(tasks.get("DelayedRecall"), tasks.DelayedRecall)
    assert isinstance(tasks.get("temporal-order", seq_len=12), tasks.TemporalOrder)
    assert set(tasks.__all__) >= {"Task", "get", "names", "Echo", "Names", "CharText"}


def test_registry_errors():
    with pytest.raises(ValueError, match=r"unknown task 'ecko'.*known tasks.*Did you mean 'echo'"):
        tasks.get("ecko")
    with pytest.raises(TypeError, match="Echo.*unexpected keyword.*lag"):
        tasks.get("echo", lag=3)
    with pytest.raises(TypeError, match="name must be a task name"):
        tasks.get(3)
    with pytest.raises(ValueError, match="delay must be smaller than seq_len"):
        tasks.get("echo", delay=20)


# -- argument checks ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "arg"),
    [
        (lambda: tasks.Echo(delay=0), "delay"),
        (lambda: tasks.Echo(delay=12, seq_len=12), "delay"),
        (lambda: tasks.Echo(num_symbols=1), "num_symbols"),
        (lambda: tasks.Echo(num_symbols=27), "num_symbols"),
        (lambda: tasks.Echo(seq_len=2.5), "seq_len"),
        (lambda: tasks.Echo(seed=-1), "seed"),
        (lambda: tasks.Echo(seed=True), "seed"),
        (lambda: tasks.DelayedRecall(lag=0), "lag"),
        (lambda: tasks.DelayedRecall(distractors="noise"), "distractors"),
        (lambda: tasks.Copy(length=0), "length"),
        (lambda: tasks.Copy(delay=-1), "delay"),
        (lambda: tasks.Adding(seq_len=10), "seq_len"),
        (lambda: tasks.Adding(variant="le2015"), "variant"),
        (lambda: tasks.TemporalOrder(seq_len=7), "seq_len"),
        (lambda: tasks.Parity(seq_len=0), "seq_len"),
        (lambda: tasks.Brackets(max_depth=0), "max_depth"),
        (lambda: tasks.Brackets(filler=1.0), "filler"),
        (lambda: tasks.Sine(min_period=2.0), "min_period"),
        (lambda: tasks.Sine(min_period=10.0, max_period=5.0), "max_period"),
        (lambda: tasks.CharText(corpus="shakespeare"), "corpus"),
        (lambda: tasks.CharText(seq_len=50_000), "seq_len"),
        (lambda: tasks.CharText(text="aaaa"), "text"),
        (lambda: tasks.Names(split="valid"), "split"),
        (lambda: tasks.Echo().batch(0), "batch_size"),
        (lambda: tasks.Echo().batch(4, seed=-3), "seed"),
        (lambda: tasks.Names().encode("O'Brien"), "name"),
        (lambda: tasks.Echo().encode("ABZ"), "text"),
        (lambda: tasks.Echo().decode([0, 9]), "ids"),
    ],
)
def test_bad_arguments_name_the_argument(make, arg):
    with pytest.raises(ValueError, match=rf"\b{arg}\b"):
        make()


def test_type_errors():
    with pytest.raises(TypeError, match="variable_length"):
        tasks.Parity(variable_length=1)
    with pytest.raises(TypeError, match="real-valued"):
        tasks.Sine().encode("abc")


# -- text helpers, repr, describe -----------------------------------------------------
def test_encode_decode_round_trips():
    echo = tasks.Echo()
    assert echo.encode("DCBA").tolist() == [3, 2, 1, 0] and echo.decode([3, 2, 1, 0]) == "DCBA"
    char = tasks.CharText()
    s = "The cat sits on the sill."
    assert char.decode(char.encode(s)) == s
    assert tasks.CharText(split="valid").vocab == char.vocab
    names = tasks.Names()
    ids = names.encode("  Papadopoulos ")
    assert names.decode(ids) == "papadopoulos" and (ids > 0).all()
    assert names.decode(torch.cat([ids, torch.zeros(3, dtype=torch.long)])) == "papadopoulos"


def test_custom_text_and_splits():
    task = tasks.CharText(seq_len=4, text="abcabcabcabcabcabcabcd", split="all")
    assert task.vocab == ["a", "b", "c", "d"] and task.corpus == "custom"
    x, y, _ = task.batch(8, seed=0)
    follows = (y == (x + 1) % 3) | ((x == 2) & (y == 3))  # a->b->c->a, and the final c->d
    assert follows.all()
    train, test = tasks.Names("train"), tasks.Names("test")
    assert len(train.names) == 320 and len(test.names) == 80
    assert not set(train.names) & set(test.names)
    assert set(train.names) | set(test.names) == set(tasks.Names("all").names)


@pytest.mark.parametrize("key", ALL)
def test_repr_and_describe(key):
    task = FACTORIES[key]()
    r = repr(task)
    assert r.startswith(type(task).__name__ + "(") and "seed=0" in r and "\n" not in r
    assert task.kind in r
    d = task.describe()
    assert isinstance(d, str) and len(d) > 80 and "\n" not in d


# -- assets ------------------------------------------------------------------------------
def test_assets_are_small_documented_ascii():
    folder = _base.assets_dir()
    assert folder == ROOT / "assets"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for name in ("tiny_corpus.txt", "names.csv"):
        path = folder / name
        raw = path.read_bytes()
        assert 1000 < len(raw) < 200_000
        assert raw.decode("utf-8").isascii()
        assert name in readme
    assert "CC0" in readme


def test_names_csv_is_balanced_and_unique():
    rows = text._read_names("names.csv")
    names = [n for n, _ in rows]
    assert len(names) == len(set(names)) == 400
    langs = {}
    for _, lang in rows:
        langs[lang] = langs.get(lang, 0) + 1
    assert len(langs) == 8 and set(langs.values()) == {50}
    assert all(n.isalpha() and n.isascii() for n in names)


def test_assets_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNVIZ_ASSETS", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="RNNVIZ_ASSETS"):
        _base.assets_dir()
    monkeypatch.setenv("RNNVIZ_ASSETS", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="tiny_corpus.txt"):
        _base.asset("tiny_corpus.txt")
    (tmp_path / "tiny_corpus.txt").write_text("ab" * 100, encoding="utf-8")
    text._read_text.cache_clear()
    try:
        assert tasks.CharText(seq_len=8).vocab == ["a", "b"]
    finally:
        text._read_text.cache_clear()
