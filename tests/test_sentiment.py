"""Sentiment, the word-order task: sentences, the "not" rule recomputed from the words, seeds,
the exact no-memory and order-free baselines, words in and out, and the claim that an RNN
beats every order-free model while an average of embeddings does not."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import pytest
import torch

import rnnviz
from rnnviz import tasks
from rnnviz.tasks.sentiment import FILLERS, NEGATIVE, POSITIVE, Sentiment


def _rule(words):
    """The label from the words, written independently: polarity, flipped by a 'not' before."""
    sentiment = [t for t, w in enumerate(words) if w in POSITIVE or w in NEGATIVE]
    assert len(sentiment) == 1
    t = sentiment[0]
    return int((words[t] in POSITIVE) != ("not" in words[:t]))


def test_sentences_and_labels():
    task = Sentiment(seq_len=7, p_not=0.5, seed=0)
    x, y, lengths = task.batch(2000, seed=0)
    assert task.kind == "many_to_one" and lengths is None
    assert x.shape == (2000, 7) and x.dtype == torch.long and y.shape == (2000,) and y.dtype == torch.long
    assert task.input_size == len(task.vocab) == 17 and task.output_vocab == ["negative", "positive"]
    nots, before = 0, 0
    positions = Counter()
    for b in range(2000):
        words = task.decode(x[b]).split()
        assert len(words) == 7 and words.count("not") <= 1
        assert sum(w in FILLERS for w in words) == 7 - 1 - words.count("not")
        assert int(y[b]) == _rule(words) and task.output_vocab[int(y[b])] == task.label(" ".join(words))
        if "not" in words:
            nots += 1
            word = next(t for t, w in enumerate(words) if w in POSITIVE or w in NEGATIVE)
            before += words.index("not") < word
        positions[next(t for t, w in enumerate(words) if w in POSITIVE or w in NEGATIVE)] += 1
    assert nots / 2000 == pytest.approx(0.5, abs=0.04)
    assert before / nots == pytest.approx(0.5, abs=0.05)  # "not good" and "good not" alike
    assert set(positions) == set(range(7)) and float(y.float().mean()) == pytest.approx(0.5, abs=0.04)
    assert tasks.Sentiment(p_not=0.0).batch(200, seed=1).x.eq(task.not_id).sum() == 0
    assert (tasks.Sentiment(p_not=1.0).batch(200, seed=1).x == task.not_id).sum(1).eq(1).all()



def test_label_rule_examples():
    task = Sentiment()
    assert task.label("the film was good") == "positive"
    assert task.label("the film was not good") == "negative"
    assert task.label("not the plot was awful") == "positive"
    assert task.label("awful and not the") == "negative"
    assert task.label("good not") == "positive" and task.label("not good") == "negative"
    assert task.label("not not good") == "positive"  # each 'not' before the word flips it


@pytest.mark.parametrize(("seq_len", "p_not"), [(6, 0.5), (3, 0.3), (2, 1.0), (9, 0.0), (4, 0.8)])
def test_order_free_baseline_is_exact(seq_len, p_not):
    task = Sentiment(seq_len=seq_len, p_not=p_not)
    base = task.order_free_baseline()
    assert base.metric == pytest.approx(1 - p_not / 2, abs=1e-12)
    assert base.loss == pytest.approx(p_not * math.log(2), abs=1e-12)
    assert "order" in base.description


def test_order_free_baseline_matches_a_fitted_bag_of_words_table():
    # Few fillers per sentence, so every bag of words is seen often enough to fit P(y | bag).
    task = Sentiment(seq_len=3, p_not=0.5)
    fit = defaultdict(Counter)
    xf, yf, _ = task.batch(40000, seed=100)
    for bag, label in zip(xf.sort(dim=1).values.tolist(), yf.tolist(), strict=True):
        fit[tuple(bag)][label] += 1
    x, y, _ = task.batch(20000, seed=200)
    hits = 0
    for bag, label in zip(x.sort(dim=1).values.tolist(), y.tolist(), strict=True):
        counts = fit.get(tuple(bag), Counter({0: 1}))
        hits += counts.most_common(1)[0][0] == label
    assert hits / 20000 == pytest.approx(task.order_free_baseline().metric, abs=0.015)


@pytest.mark.parametrize(("seq_len", "p_not"), [(6, 0.5), (4, 0.2), (3, 0.9)])
def test_no_memory_baseline_is_exact(seq_len, p_not):
    task = Sentiment(seq_len=seq_len, p_not=p_not)
    base = task.baseline()
    # Independently: the last word is the sentiment word with probability 1/T (a 'not' is
    # then before it, flipping it, with probability p_not); otherwise the label is a coin.
    q = max(p_not, 1 - p_not)
    assert base.metric == pytest.approx(q / seq_len + (1 - 1 / seq_len) / 2, abs=1e-12)
    h = -sum(v * math.log(v) for v in (p_not, 1 - p_not) if v > 0)
    assert base.loss == pytest.approx(h / seq_len + (1 - 1 / seq_len) * math.log(2), abs=1e-12)
    # and a fitted last-word table scores it on a fresh batch
    xf, yf, _ = task.batch(20000, seed=100)
    counts = torch.full((task.input_size, 2), 1e-3, dtype=torch.float64)
    counts.index_put_((xf[:, -1], yf), torch.ones(len(yf), dtype=torch.float64), accumulate=True)
    x, y, _ = task.batch(20000, seed=200)
    accuracy = float((counts.argmax(1)[x[:, -1]] == y).double().mean())
    assert accuracy == pytest.approx(base.metric, abs=0.015)
    if p_not <= 0.5:  # with many 'not's the last word says more than the bag: 0.633 > 0.55 at (3, 0.9)
        assert base.metric <= task.order_free_baseline().metric


def test_encode_decode_round_trip():
    task = Sentiment()
    ids = task.encode("The film was NOT good")
    assert task.decode(ids) == "the film was not good" and ids.dtype == torch.long
    assert task.vocab[:8] == [*POSITIVE, *NEGATIVE] and task.vocab[task.not_id] == "not"
    x, _, _ = task.batch(4, seed=0)
    for row in x:
        assert torch.equal(task.encode(task.decode(row)), row)


@pytest.mark.parametrize(
    ("make", "arg"),
    [
        (lambda: Sentiment(seq_len=1), "seq_len"),
        (lambda: Sentiment(seq_len=0), "seq_len"),
        (lambda: Sentiment(p_not=1.5), "p_not"),
        (lambda: Sentiment(p_not=True), "p_not"),
        (lambda: Sentiment(seed=-2), "seed"),
        (lambda: Sentiment().encode("the movie was good"), "text"),
        (lambda: Sentiment().encode("   "), "text"),
        (lambda: Sentiment().decode([0, 99]), "ids"),
        (lambda: Sentiment().decode([[0, 1]]), "ids"),
        (lambda: Sentiment().label("the film was"), "text"),
        (lambda: Sentiment().batch(0), "batch_size"),
    ],
)
def test_bad_arguments_name_the_argument(make, arg):
    with pytest.raises(ValueError, match=rf"\b{arg}\b"):
        make()


def test_registry_repr_and_describe():
    task = tasks.get("sentiment", seq_len=5, p_not=0.25)
    assert isinstance(task, Sentiment) and (task.seq_len, task.p_not) == (5, 0.25)
    r = repr(task)
    assert r.startswith("Sentiment(") and "many_to_one" in r and "seed=0" in r
    assert len(task.describe()) > 80 and "\n" not in task.describe()


def test_an_rnn_beats_every_order_free_model_and_an_average_of_embeddings_does_not():
    torch.set_num_threads(1)
    task = Sentiment(seq_len=6, seed=0)
    bound = task.order_free_baseline().metric  # 0.75
    model = rnnviz.SequenceModel.from_task(task, cell="gru", hidden_size=16, seed=0)
    trainer = rnnviz.Trainer(model, task, lr=1e-2, clip=1.0, batch_size=32, seed=0, snapshot_every=0)
    trainer.run(200, progress=False)  # about 0.5 s of CPU time; 100% after 150-175 steps
    assert rnnviz.evaluate(model, task, batch_size=1024) > bound + 0.15
    # An average of embeddings with a small MLP on top, trained the same way, stays at the bound.
    torch.manual_seed(0)
    emb = torch.nn.Embedding(task.input_size, 16)
    head = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2))
    opt = torch.optim.Adam([*emb.parameters(), *head.parameters()], lr=1e-2)
    for step in range(200):
        x, y, _ = task.batch(32, seed=step)
        loss = task.loss(head(emb(x).mean(dim=1)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y, _ = task.batch(4096, seed=999)
    with torch.no_grad():
        accuracy = task.metric(head(emb(x).mean(dim=1)), y)
    assert 0.6 < accuracy < bound + 0.02
