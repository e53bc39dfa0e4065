"""Word order matters: a tiny generated sentiment task where "not" flips what follows it."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from rnnviz import _validate
from rnnviz._types import Baseline, Batch
from rnnviz.i18n import _
from rnnviz.tasks._base import Task, baseline_from_joint

POSITIVE = ("good", "great", "fine", "nice")
NEGATIVE = ("bad", "awful", "poor", "dull")
FILLERS = ("the", "film", "plot", "was", "very", "really", "quite", "and")


class Sentiment(Task):
    """Sentiment of a tiny generated sentence in which word order matters.

    Each sentence has ``seq_len`` words: one sentiment word (4 positive: good, great, fine,
    nice; 4 negative: bad, awful, poor, dull), with probability ``p_not`` one ``not``, and
    filler words (the, film, plot, was, ...) everywhere else. The sentiment word's position,
    and the ``not``'s, are uniformly random (all orders equally likely). The rule::

        label = polarity of the sentiment word, flipped if "not" comes BEFORE it

    so "the film was not good" and "not the film was good" are negative, while "good film
    and not the" (``not`` after the word) stays positive. "not good" and "good not" hold the
    same words: any order-free model (a bag of words, an average of embeddings) sees them as
    one input and must give them one answer.
    :meth:`order_free_baseline` is the exact best such a model can score, ``1 - p_not / 2``
    accuracy (0.75 by default); an RNN can learn to flip a bit of its state at ``not`` and
    reach 100%.

    Args:
        seq_len: T, words per sentence (>= 2).
        p_not: probability that a sentence has a ``not``, in [0, 1].
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long word ids. y: ``(B,)`` long, 0 = negative, 1 = positive.
        output: ``(B, 2)``.

    Example:
        >>> task = Sentiment(seq_len=5, seed=0)
        >>> task.decode(task.encode("the film was not good"))
        'the film was not good'
        >>> task.label("the film was not good"), task.label("good film was not the")
        ('negative', 'positive')
        >>> task.order_free_baseline().metric
        0.75
    """

    name = "sentiment"

    def __init__(self, seq_len: int = 6, *, p_not: float = 0.5, seed: int = 0) -> None:
        super().__init__(seed)
        self.seq_len = _validate.positive_int("seq_len", seq_len)
        if seq_len < 2:
            raise ValueError(_("seq_len must be at least 2 (a word and 'not'), got {value}")
                             .format(value=seq_len))
        ok = isinstance(p_not, (int, float)) and not isinstance(p_not, bool)
        if not ok or not 0.0 <= float(p_not) <= 1.0:
            raise ValueError(_("p_not must be a probability in [0, 1], got {value!r}").format(
                value=p_not))
        self.p_not = float(p_not)
        self.vocab = [*POSITIVE, *NEGATIVE, "not", *FILLERS]
        self.positive = list(range(len(POSITIVE)))
        self.negative = list(range(len(POSITIVE), len(POSITIVE) + len(NEGATIVE)))
        self.not_id = self.vocab.index("not")
        self.fillers = list(range(self.not_id + 1, len(self.vocab)))
        self.output_vocab = ["negative", "positive"]
        self.kind, self.input_kind = "many_to_one", "symbols"
        self.input_size, self.output_size = len(self.vocab), 2
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"seq_len": seq_len, "p_not": self.p_not}

    def _summary(self) -> str:
        return _("positive or negative? 'not' flips the sentiment word after it")

    # -- words ------------------------------------------------------------------------------
    def encode(self, text: str) -> torch.Tensor:
        """Word ids ``(n,)`` of a sentence of space-separated vocab words."""
        if not isinstance(text, str):
            raise TypeError(_("text must be a str, got {type}").format(type=type(text).__name__))
        words = text.lower().split()
        if not words:
            raise ValueError(_("text must hold at least one word"))
        index = {w: i for i, w in enumerate(self.vocab)}
        unknown = sorted({w for w in words if w not in index})
        if unknown:
            raise ValueError(_("text has words not in the vocab {vocab}: {unknown}").format(
                vocab=self.vocab, unknown=unknown))
        return torch.tensor([index[w] for w in words], dtype=torch.long)

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        """The sentence (words joined by spaces) for ids ``(T,)``."""
        values = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        if values and isinstance(values[0], list):
            raise ValueError(_("ids must be one sequence (T,), not a batch"))
        bad = [v for v in values if not 0 <= int(v) < len(self.vocab)]
        if bad:
            raise ValueError(_("ids must be in [0, {n}), got {bad}").format(n=len(self.vocab),
                                                                              bad=bad[:5]))
        return " ".join(self.vocab[int(v)] for v in values)

    def label(self, text: str) -> str:
        """The rule applied to any sentence: ``"positive"`` or ``"negative"``.

        The polarity of the last sentiment word, flipped once for every ``not`` before it.
        """
        ids = self.encode(text).tolist()
        found = [t for t, i in enumerate(ids) if i in self.positive or i in self.negative]
        if not found:
            raise ValueError(_("text must hold a sentiment word ({words})").format(
                words=", ".join(POSITIVE + NEGATIVE)))
        t = found[-1]
        positive = ids[t] in self.positive
        flips = sum(1 for i in ids[:t] if i == self.not_id)
        return self.output_vocab[int(positive) ^ (flips % 2)]

    # -- batches -------------------------------------------------------------------------
    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        B, T = batch_size, self.seq_len
        x = self.fillers[0] + torch.randint(0, len(self.fillers), (B, T), generator=generator)
        word = torch.randint(0, len(POSITIVE) + len(NEGATIVE), (B,), generator=generator)  # (B,)
        has_not = torch.rand(B, generator=generator) < self.p_not  # (B,)
        # a uniformly random ordered pair of distinct positions (word, not)
        order = torch.rand(B, T, generator=generator).argsort(dim=1)  # (B, T) random permutations
        pos_word, pos_not = order[:, 0], order[:, 1]
        rows = torch.arange(B)
        x[rows[has_not], pos_not[has_not]] = self.not_id
        x[rows, pos_word] = word
        positive = word < len(POSITIVE)
        flipped = has_not & (pos_not < pos_word)
        y = (positive ^ flipped).long()  # (B,)
        return Batch(x, y)

    # -- baselines ------------------------------------------------------------------------
    def _layouts(self) -> Iterator[tuple[float, int, int | None]]:
        """Every (probability, position of the sentiment word, position of not or None) the
        generator makes: the word's position is uniform, the pair (word, not) a uniformly
        random ordered pair of distinct positions."""
        T = self.seq_len
        for w in range(T):
            if self.p_not < 1:
                yield (1 - self.p_not) / T, w, None
            if self.p_not > 0:
                for n in range(T):
                    if n != w:
                        yield self.p_not / (T * (T - 1)), w, n

    def order_free_baseline(self) -> Baseline:
        """The best any order-free model can score (bag of words, mean of embeddings, ...).

        Such a model sees the multiset of words. Fillers are drawn independently of the
        label, so the multiset says which sentiment word there is and whether there is a
        ``not``, never which came first. With no ``not`` the word decides; with one, "not
        before the word" and "after" are equally likely (a random order), so it is right at
        most half the time. Computed exactly by enumerating the generator's layouts:
        accuracy ``1 - p_not / 2`` and loss ``p_not * ln 2``.
        """
        # joint over (what the bag shows: sentiment polarity, has not) x label
        joint = torch.zeros(4, 2, dtype=torch.float64)
        for prob, w, n in self._layouts():
            flipped = n is not None and n < w
            for positive in (0, 1):  # polarity of the word, 1/2 each
                seen = 2 * positive + (n is not None)
                joint[seen, positive ^ int(flipped)] += prob / 2
        result = baseline_from_joint(joint, "")
        return Baseline(
            result.loss,
            result.metric,
            _("An order-free model (bag of words, average of embeddings) sees which words are "
              "in the sentence, not their order. Without 'not' that is enough; with 'not' (a "
              "share {share} of sentences) it cannot tell 'not good' from 'good not', which are "
              "equally likely, so it is right half the time. Exact best: accuracy {accuracy}, "
              "loss {loss}.").format(share=f"{self.p_not:g}", accuracy=f"{result.metric:.3f}",
                                     loss=f"{result.loss:.3f}"),
        )

    def baseline(self) -> Baseline:
        # No memory: only the last word x_{T-1} is seen. Joint of (last word, label) by
        # enumerating layouts; fillers and words are uniform within their groups.
        V, T = len(self.vocab), self.seq_len
        words = self.positive + self.negative
        joint = torch.zeros(V, 2, dtype=torch.float64)
        for prob, w, n in self._layouts():
            flipped = n is not None and n < w
            for word in words:
                p = prob / len(words)
                label = int(word in self.positive) ^ int(flipped)
                if w == T - 1:
                    joint[word, label] += p
                elif n == T - 1:
                    joint[self.not_id, label] += p
                else:
                    for f in self.fillers:
                        joint[f, label] += p / len(self.fillers)
        result = baseline_from_joint(joint, "")
        bag = self.order_free_baseline().metric
        return Baseline(
            result.loss,
            result.metric,
            _("A network without memory sees only the last word. If that is the sentiment word "
              "it can guess from it (any 'not' then came before, so it is flipped when there is "
              "one, which the last word does not show); otherwise it can only guess. Computed "
              "exactly: accuracy {accuracy}, loss {loss}. An order-free model that sees every "
              "word scores at most {bag} (order_free_baseline()).").format(
                accuracy=f"{result.metric:.3f}", loss=f"{result.loss:.3f}", bag=f"{bag:.3f}"),
        )

    def describe(self) -> str:
        return _(
            "Sentiment: sentences of {seq_len} words with one sentiment word (good, "
            "great, bad, awful, ...), sometimes a 'not', and fillers. The answer is the "
            "word's sentiment, flipped when 'not' comes before it: 'the film was not good' is "
            "negative, 'good film and not the' is positive. Averaging the words loses their "
            "order, so it cannot tell these apart; an RNN can remember that it has seen 'not'."
        ).format(seq_len=self.seq_len)
