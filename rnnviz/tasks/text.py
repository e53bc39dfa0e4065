"""Tasks on real text from ``assets/``: next-character prediction and surname -> language."""

from __future__ import annotations

import csv
from functools import lru_cache

import torch

from rnnviz import _validate
from rnnviz._types import Baseline, Batch
from rnnviz.i18n import _
from rnnviz.tasks._base import Task, asset, baseline_from_joint

CORPORA = {"tiny": "tiny_corpus.txt"}


@lru_cache(maxsize=8)
def _read_text(filename: str) -> str:
    return asset(filename).read_text(encoding="utf-8")


@lru_cache(maxsize=2)
def _read_names(filename: str) -> tuple[tuple[str, str], ...]:
    with asset(filename).open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f)
        return tuple((row["name"].strip().lower(), row["language"].strip()) for row in rows)


def _check_split(split: str, choices: list[str]) -> str:
    return _validate.choice("split", split, choices)


class CharText(Task):
    """Character-level language model: predict the next character of a text.

        x_t = c_{s+t},   y_t = c_{s+t+1}   for a random window start s

    The vocab is every character of the whole corpus (sorted), so train and valid share ids.
    ``split="train"`` uses the first 90% of the text, ``"valid"`` the last 10%, ``"all"`` all.

    Args:
        seq_len: T, characters per window.
        corpus: name of a bundled corpus (``"tiny"``: an original short story and verses,
            ``assets/tiny_corpus.txt``), ignored when ``text`` is given.
        text: any string to train on instead of a bundled corpus.
        split: ``"train"``, ``"valid"`` or ``"all"``.
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long char ids. y: ``(B, T)`` long next-char ids. output: ``(B, T, V)``.

    Example:
        >>> task = CharText(seq_len=16)
        >>> task.decode(task.encode("the sea"))
        'the sea'
    """

    name = "char_text"

    def __init__(
        self,
        seq_len: int = 32,
        corpus: str = "tiny",
        *,
        text: str | None = None,
        split: str = "train",
        seed: int = 0,
    ) -> None:
        super().__init__(seed)
        self.seq_len = _validate.steps("seq_len", seq_len)
        self.split = _check_split(split, ["train", "valid", "all"])
        if text is None:
            self.corpus = _validate.choice("corpus", corpus, list(CORPORA))
            full = _read_text(CORPORA[self.corpus])
        else:
            if not isinstance(text, str):
                raise TypeError(_("text must be a str, got {type}").format(type=type(text).__name__))
            self.corpus, full = "custom", text
        if len(set(full)) < 2:
            raise ValueError(_("text must contain at least 2 different characters"))
        self.vocab = sorted(set(full))
        self.output_vocab = list(self.vocab)
        ids = self.encode(full)  # (N,)
        cut = int(0.9 * len(ids))
        self.ids = {"train": ids[:cut], "valid": ids[cut:], "all": ids}[self.split]
        if len(self.ids) < seq_len + 1:
            # TRANSLATORS: {split} is "train", "valid" or "all" (the split= argument)
            raise ValueError(_(
                "seq_len must be < {n} (the {split} text has {n} characters), got {value}"
            ).format(n=len(self.ids), split=self.split, value=seq_len))
        self.kind, self.input_kind = "synced", "symbols"
        self.input_size = self.output_size = len(self.vocab)
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"seq_len": seq_len, "corpus": self.corpus, "split": self.split}

    def _summary(self) -> str:
        return _("predict the next character of the text")

    @property
    def text(self) -> str:
        """The text of this split."""
        return self.decode(self.ids)

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        T, N = self.seq_len, len(self.ids)
        starts = torch.randint(0, N - T, (batch_size,), generator=generator)  # (B,)
        window = self.ids[starts[:, None] + torch.arange(T + 1)[None, :]]  # (B, T+1)
        return Batch(window[:, :T].clone(), window[:, 1:].clone())

    def _joint(self) -> torch.Tensor:
        """Exact P(x_t, y_t) pooled over all windows and steps (counts how often each
        character pair (c_i, c_{i+1}) falls inside a window)."""
        T, N = self.seq_len, len(self.ids)
        i = torch.arange(N - 1)  # pair positions
        last_start = N - T - 1
        count = torch.minimum(i, torch.tensor(last_start)) - (i - T + 1).clamp_min(0) + 1
        V = len(self.vocab)
        joint = torch.zeros(V * V, dtype=torch.float64)
        joint.index_add_(0, self.ids[:-1] * V + self.ids[1:], count.clamp_min(0).double())
        return joint.view(V, V)

    def baseline(self) -> Baseline:
        joint = self._joint()
        result = baseline_from_joint(joint, "")
        marginal = joint.sum(dim=0) / joint.sum()
        unigram_loss = float(-(marginal[marginal > 0] * marginal[marginal > 0].log()).sum())
        top = self.vocab[int(marginal.argmax())]
        return Baseline(
            result.loss,
            result.metric,
            _("A network without memory sees only the current character, so the best it can "
              "do is a bigram table: P(next | current), computed exactly from this split. "
              "Accuracy {accuracy}, loss {loss} nats. Ignoring even the current character "
              "(unigram) gives loss {unigram} and accuracy {top_accuracy} (always {top!r}).")
            .format(accuracy=f"{result.metric:.3f}", loss=f"{result.loss:.3f}",
                    unigram=f"{unigram_loss:.3f}", top_accuracy=f"{float(marginal.max()):.3f}",
                    top=top),
        )

    def describe(self) -> str:
        return _(
            "Character text: windows of {seq_len} characters from a small story. At every "
            "step the network reads one character and guesses the next. With memory it can "
            "learn spelling, spaces between words, capitals after full stops and common "
            "phrases; watch single hidden units react to spaces, quotes or line ends."
        ).format(seq_len=self.seq_len)


class Names(Task):
    """Surname -> language classification (variable length, many-to-one).

    400 common surnames, 50 each in 8 languages (ASCII transliterations, lower-cased), from
    ``assets/names.csv``. Names are padded with ``<pad>`` (id 0) to the longest name and
    ``lengths`` gives the real lengths. ``split="train"`` holds 4 of every 5 names of each
    language, ``"test"`` the 5th, ``"all"`` all 400.

    Args:
        split: ``"train"``, ``"test"`` or ``"all"``.
        seed: task seed.

    Shapes:
        x: ``(B, T)`` long, 0 after the name. y: ``(B,)`` long language ids. lengths: ``(B,)``.
        output: ``(B, 8)``.

    Example:
        >>> task = Names()
        >>> task.decode(task.encode("Rossi"))
        'rossi'
    """

    name = "names"

    def __init__(self, split: str = "train", *, seed: int = 0) -> None:
        super().__init__(seed)
        self.split = _check_split(split, ["train", "test", "all"])
        rows = _read_names("names.csv")
        if not rows:
            raise ValueError(_("assets/names.csv has no names"))
        self.output_vocab = sorted({lang for _name, lang in rows})
        self.vocab = ["<pad>"] + sorted({c for name, _lang in rows for c in name})
        self.seq_len = max(len(name) for name, _lang in rows)
        per_lang: dict[str, int] = {}
        chosen = []
        for name, lang in rows:
            k = per_lang.get(lang, 0)
            per_lang[lang] = k + 1
            in_test = k % 5 == 4
            if self.split == "all" or in_test == (self.split == "test"):
                chosen.append((name, lang))
        self.names = chosen  # list of (name, language)
        self.x = torch.zeros(len(chosen), self.seq_len, dtype=torch.long)  # (N, T)
        for n, (name, _lang) in enumerate(chosen):
            self.x[n, : len(name)] = self.encode(name)
        self.lengths = torch.tensor([len(name) for name, _lang in chosen])  # (N,)
        self.labels = torch.tensor([self.output_vocab.index(lang) for _name, lang in chosen])
        self.kind, self.input_kind = "many_to_one", "symbols"
        self.input_size, self.output_size = len(self.vocab), len(self.output_vocab)
        self.loss_name, self.metric_name, self.higher_is_better = "cross_entropy", "accuracy", True
        self._params = {"split": self.split}

    def _summary(self) -> str:
        return _("read a surname, name its language ({n} classes)").format(n=len(self.output_vocab))

    def _make(self, batch_size: int, generator: torch.Generator) -> Batch:
        idx = torch.randint(0, len(self.names), (batch_size,), generator=generator)  # (B,)
        return Batch(self.x[idx].clone(), self.labels[idx].clone(), self.lengths[idx].clone())

    def encode(self, name: str) -> torch.Tensor:
        """Ids ``(len(name),)`` of a name (lower-cased; letters only, no padding)."""
        if not isinstance(name, str):
            raise TypeError(_("name must be a str, got {type}").format(type=type(name).__name__))
        text = name.strip().lower()
        if not text:
            raise ValueError(_("name must not be empty"))
        index = {s: i for i, s in enumerate(self.vocab) if i > 0}
        unknown = sorted({c for c in text if c not in index})
        if unknown:
            raise ValueError(_(
                "name has characters {unknown} not in the vocab (ASCII letters {letters})"
            ).format(unknown=unknown, letters="".join(self.vocab[1:])))
        return torch.tensor([index[c] for c in text], dtype=torch.long)

    def decode(self, ids: torch.Tensor | list[int]) -> str:
        """The name for ids ``(T,)``, padding dropped."""
        values = ids.tolist() if isinstance(ids, torch.Tensor) else list(ids)
        return super().decode([v for v in values if int(v) != 0])

    def baseline(self) -> Baseline:
        last = self.x[torch.arange(len(self.names)), self.lengths - 1]  # (N,) last letters
        joint = torch.zeros(len(self.vocab), self.output_size, dtype=torch.float64)
        joint.index_put_((last, self.labels), torch.ones(len(last), dtype=torch.float64), accumulate=True)
        result = baseline_from_joint(joint, "")
        majority = float(torch.bincount(self.labels).max()) / len(self.labels)
        return Baseline(
            result.loss,
            result.metric,
            _("A network without memory sees only the last letter of a name. The best it can "
              "do is guess the likeliest language for that letter ('-v' Russian, '-o' Italian or "
              "Japanese, ...), computed exactly on this split: accuracy {accuracy}, loss {loss}. "
              "Always guessing one language scores {majority}.").format(
                accuracy=f"{result.metric:.3f}", loss=f"{result.loss:.3f}",
                majority=f"{majority:.3f}"),
        )

    def describe(self) -> str:
        langs = ", ".join(self.output_vocab)
        return _(
            "Names: the network reads a surname letter by letter and then says which language "
            "it comes from ({languages}). Endings carry a lot ('-ov', '-ez', '-poulos'), but "
            "earlier letters help too ('sch', 'yama'). Names have different lengths, so the "
            "answer is read from the state at each name's own last letter."
        ).format(languages=langs)
