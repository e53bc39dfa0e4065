r"""Interpretable units, found rather than hand-picked (Karpathy, Johnson & Fei-Fei 2015).

``find_units(trace, feature)`` scores every unit by the correlation of its activation with a
named per-step feature (bracket depth, position in word, inside quotes, a task's target, or
any ``(B, T)`` numbers) over all real steps of the batch, and ranks them:

.. math::
    r_u = \frac{\sum_{b,t} (a_{btu} - \bar a_u)(y_{bt} - \bar y)}
               {\sqrt{\sum_{b,t} (a_{btu} - \bar a_u)^2 \sum_{b,t} (y_{bt} - \bar y)^2}}

With ``within=`` groups (e.g. ``"word"``), the means are taken per group instead (the pooled
within-group correlation): a unit then only scores if it follows the feature *inside* each
group, not merely from one group to the next. That is the stricter test for "position in
word": a unit that just tells words apart (long from short, first from second) gets 0.

The top unit's activation colours text with ``rnnviz.plot_text_activation``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnviz import _validate
from rnnviz._types import Trace
from rnnviz.i18n import _

__all__ = ["UnitScores", "find_units", "bracket_depth", "word_position", "in_quotes",
           "word_groups", "FEATURES"]


# ---------------------------------------------------------------------------------------------
# named text features: one number per character, the state *after* reading it


def bracket_depth(text: str, *, opening: str = "([{", closing: str = ")]}") -> Tensor:
    """Nesting depth after each character (never below 0).

    Example:
        >>> bracket_depth("(a(b))").tolist()
        [1.0, 1.0, 2.0, 2.0, 1.0, 0.0]
    """
    _check_text(text)
    depth, out = 0, []
    for ch in text:
        if ch in opening:
            depth += 1
        elif ch in closing:
            depth = max(depth - 1, 0)
        out.append(float(depth))
    return torch.tensor(out, dtype=torch.float64)  # (len,)


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch in "'_"


def word_position(text: str) -> Tensor:
    """Position of each character in its word (0 = first letter); ``nan`` outside words.

    A word is a run of letters, digits, ``'`` and ``_``.

    Example:
        >>> word_position("to be").tolist()
        [0.0, 1.0, nan, 0.0, 1.0]
    """
    _check_text(text)
    out, k = [], 0
    for ch in text:
        if _is_word(ch):
            out.append(float(k))
            k += 1
        else:
            out.append(float("nan"))
            k = 0
    return torch.tensor(out, dtype=torch.float64)  # (len,)


def word_groups(text: str) -> Tensor:
    """Index of each character's word (0, 1, ...), ``-1`` outside words: ``within="word"``.

    Example:
        >>> word_groups("to be!").tolist()
        [0, 0, -1, 1, 1, -1]
    """
    _check_text(text)
    out, word, inside = [], -1, False
    for ch in text:
        if _is_word(ch):
            if not inside:
                word += 1
            inside = True
            out.append(word)
        else:
            inside = False
            out.append(-1)
    return torch.tensor(out, dtype=torch.long)  # (len,)


def in_quotes(text: str, *, quote: str = '"') -> Tensor:
    """1 after an opening quote up to (not including) its closing quote, else 0.

    Example:
        >>> in_quotes('a"bc"d').tolist()
        [0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    """
    _check_text(text)
    inside, out = False, []
    for ch in text:
        if ch in quote:
            inside = not inside
        out.append(1.0 if inside else 0.0)
    return torch.tensor(out, dtype=torch.float64)  # (len,)


FEATURES: dict[str, Callable[[str], Tensor]] = {
    "bracket_depth": bracket_depth,
    "word_position": word_position,
    "in_quotes": in_quotes,
}
GROUPS: dict[str, Callable[[str], Tensor]] = {"word": word_groups}


def _check_text(text: Any) -> None:
    if not isinstance(text, str):
        raise TypeError(_("text must be a str, got {type}").format(type=type(text).__name__))


# ---------------------------------------------------------------------------------------------
# scores


@dataclass
class UnitScores:
    """How well each unit tracks a feature.

    Attributes:
        scores: ``(H,)`` signed correlation of each unit with the feature (0 for a constant
            unit); a negative score is a unit that tracks the feature upside down.
        ranking: ``(H,)`` units by ``|score|``, best first.
        feature: the feature's name. state: ``"hidden"``, ``"cell"`` or a gate letter.
        layer, direction: which layer and direction. within: the grouping, or ``None``.
        n_steps: how many (sample, step) pairs were scored.
    """

    scores: Tensor  # (H,)
    ranking: Tensor  # (H,)
    feature: str
    state: str
    layer: int
    direction: int
    within: str | None
    n_steps: int

    @property
    def top(self) -> int:
        """The best unit."""
        return int(self.ranking[0])

    def best(self, k: int = 5) -> list[tuple[int, float]]:
        """The ``k`` best ``(unit, score)`` pairs."""
        _validate.positive_int("k", k)
        return [(int(u), float(self.scores[u])) for u in self.ranking[:k]]

    def name(self, unit: int | None = None) -> str:
        """A label such as ``"layer 0 unit 7 (r = 0.93 with bracket_depth)"``."""
        u = self.top if unit is None else unit
        return (f"layer {self.layer} {self.state} unit {u} "
                f"(r = {float(self.scores[u]):.2f} with {self.feature})")

    def values(self, trace: Trace, sample: int = 0, unit: int | None = None) -> Tensor:
        """``(length,)`` activation of ``unit`` (default: the top one) over ``sample``'s real
        steps, ready for ``rnnviz.plot_text_activation(text, values)``."""
        u = self.top if unit is None else unit
        tensor = _state_tensor(trace, self.state)
        row = trace.index(self.layer, self.direction)
        b = _sample(trace, sample)
        n = trace.seq_len if trace.lengths is None else int(trace.lengths[b])
        return tensor[row, b, :n, u].clone()  # (length,)

    def __repr__(self) -> str:
        top = ", ".join(f"{u}: {s:+.3f}" for u, s in self.best(min(5, len(self.ranking))))
        how = f", within {self.within}" if self.within else ""
        return (f"UnitScores({self.feature!r}, layer {self.layer} {self.state}{how}, "
                f"{self.n_steps} steps; best {top})")


def _sample(trace: Trace, sample: Any) -> int:
    if isinstance(sample, bool) or not isinstance(sample, int):
        raise TypeError(_("sample must be an int, got {value!r}").format(value=sample))
    B = trace.batch_size
    if not -B <= sample < B:
        raise ValueError(_("sample must be in [0, {B}) for this batch of {B}, got {value}").format(
            B=B, value=sample))
    return sample % B


def _state_tensor(trace: Trace, state: str) -> Tensor:
    if state == "hidden":
        return trace.hidden
    if state == "cell":
        if trace.cell is None:
            raise ValueError(_("state='cell' needs an LSTM trace, got a {cell} trace").format(
                cell=trace.cell_type))
        return trace.cell
    if state in trace.gates:
        return trace.gates[state]
    options = ["hidden"] + (["cell"] if trace.cell is not None else []) + list(trace.gates)
    raise ValueError(_("state must be one of {options}, got {value!r}").format(options=options,
                                                                             value=state))


def _texts(text: Any, B: int) -> list[str]:
    if text is None:
        raise ValueError(_("text is required for a named text feature or grouping (the characters "
                           "the model read: a str for one sample, or one str per sample)"))
    texts = [text] if isinstance(text, str) else text
    if not isinstance(texts, Sequence) or not all(isinstance(t, str) for t in texts):
        raise TypeError(_("text must be a str or a sequence of str, got {type}").format(
            type=type(text).__name__))
    if len(texts) != B:
        raise ValueError(_("text must have one string per sample (B = {B}), got {n}").format(
            B=B, n=len(texts)))
    return list(texts)


def _per_step(name: str, value: Any, B: int, T: int, lengths: np.ndarray) -> np.ndarray:
    """``(B, T)`` float64 numbers from a tensor, array or per-sample list (NaN-padded)."""
    if isinstance(value, (list, tuple)) and value and not isinstance(value[0], (int, float)):
        rows = [np.asarray(torch.as_tensor(v, dtype=torch.float64), dtype=np.float64).ravel()
                for v in value]
        if len(rows) != B:
            raise ValueError(_("{name} must have one row per sample (B = {B}), got {n}").format(
                name=name, B=B, n=len(rows)))
        out = np.full((B, T), np.nan)
        for b, r in enumerate(rows):
            if r.size < lengths[b] or r.size > T:
                raise ValueError(_("{name} row {b} must have between {low} (the sample's length) "
                                   "and {T} values, got {n}").format(
                    name=name, b=b, low=lengths[b], T=T, n=r.size))
            out[b, : r.size] = r
        return out
    if isinstance(value, Tensor):
        a = value.detach().cpu().to(torch.float64).numpy()
    else:
        try:
            a = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(_("{name} must be numbers of shape (B, T), got {value}").format(
                name=name, value=_validate._describe(value))) from None
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 1 and B == 1:
        a = a[None, :]
    if a.shape != (B, T):
        raise ValueError(_("{name} must have shape (B, T) = ({B}, {T}) (one number per step), "
                           "got {shape}").format(name=name, B=B, T=T, shape=tuple(a.shape)))
    return a


def find_units(trace: Trace, feature: Any, *, text: str | Sequence[str] | None = None,
               layer: int = 0, direction: int = 0, state: str = "hidden",
               within: Any = None) -> UnitScores:
    r"""Rank the units of one layer by how well they track a per-step feature.

    .. math::
        r_u = \operatorname{corr}_{(b, t)}\bigl(a_{btu},\ y_{bt}\bigr)
        \quad\text{(within groups: both centred on each group's mean)}

    over the real steps of every sample (padding, ``nan`` features and steps in group
    ``-1`` left out).

    Args:
        trace: from ``rnnviz.trace``.
        feature: what to track, one number per step:

            * ``"bracket_depth"``, ``"word_position"``, ``"in_quotes"``: computed from
              ``text`` (``rnnviz.units.FEATURES``);
            * ``"target"``: the trace's per-step target ``(B, T)`` (e.g. the depth of the
              ``Brackets`` task, the running parity);
            * a ``(B, T)`` tensor or array (``(T,)`` for one sample, or a list of per-sample
              rows), ``nan`` where undefined;
            * a callable ``str -> (len,)`` numbers, applied to ``text``.
        text: the characters read, for named or callable features and ``within="word"``: a
            str (one sample) or one str per sample, each as long as the sample (or T).
        layer, direction: which layer and direction (negative layer ok).
        state: ``"hidden"`` (h_t), ``"cell"`` (LSTM c_t) or a gate letter (``i, f, g, o``;
            ``r, z, n``).
        within: ``None``; ``"word"`` (one group per word of ``text``; characters outside
            words are left out); or ``(B, T)`` integer group labels (``-1`` = leave out).
            The pooled within-group correlation asks whether a unit follows the feature
            inside each group: the stricter test for position-in-word units.

    Shapes:
        trace tensors ``(L*D, B, T, H)``; feature ``(B, T)``.

    Returns:
        ``UnitScores`` with ``scores (H,)``, ``ranking``, ``top``, ``best(k)`` and
        ``values(trace, sample)`` (the activation to colour text with).

    Example:
        >>> import rnnviz, torch
        >>> task = rnnviz.tasks.Brackets(seq_len=20, seed=0)
        >>> model = rnnviz.SequenceModel.from_task(task, cell="lstm", hidden_size=8, seed=0)
        >>> batch = task.batch(16, seed=1)
        >>> tr = rnnviz.trace(model, batch.x, batch.y)
        >>> units = find_units(tr, "target")          # the depth is the Brackets target
        >>> units.scores.shape
        torch.Size([8])
        >>> text = task.decode(batch.x[0])
        >>> fig = rnnviz.plot_text_activation(text, units.values(tr, 0), unit_name=units.name())
    """
    if not isinstance(trace, Trace):
        raise TypeError(_("trace must be an rnnviz Trace (from rnnviz.trace(model, x)), got "
                          "{type}").format(type=type(trace).__name__))
    if isinstance(layer, bool) or not isinstance(layer, int):
        raise TypeError(_("layer must be an int, got {value!r}").format(value=layer))
    if isinstance(direction, bool) or not isinstance(direction, int):
        raise TypeError(_("direction must be an int, got {value!r}").format(value=direction))
    row = trace.index(layer, direction)
    layer %= trace.num_layers
    if not isinstance(state, str):
        raise TypeError(_("state must be a str, got {value!r}").format(value=state))
    act = _state_tensor(trace, state)[row].detach().cpu().to(torch.float64).numpy()  # (B, T, H)
    B, T, H = act.shape
    lengths = np.full(B, T) if trace.lengths is None else trace.lengths.numpy().astype(int)
    # 1. the feature, (B, T)
    if isinstance(feature, str):
        name = feature
        if feature == "target":
            if trace.target is None:
                raise ValueError(_("feature='target' needs a trace made with a target"))
            y = _per_step("the trace's target", trace.target, B, T, lengths)
            y = np.where(y == -100, np.nan, y)  # unscored steps of class targets
        elif feature in FEATURES:
            texts = _texts(text, B)
            y = _per_step("feature", [FEATURES[feature](s) for s in texts], B, T, lengths)
        else:
            raise ValueError(_("feature must be one of {options}, a (B, T) tensor or a callable, "
                               "got {value!r}").format(options=["target", *FEATURES], value=feature))
    elif callable(feature):
        name = getattr(feature, "__name__", "feature")
        y = _per_step("feature", [feature(s) for s in _texts(text, B)], B, T, lengths)
    else:
        name = "feature"
        y = _per_step("feature", feature, B, T, lengths)
    # 2. which steps count, and the groups
    use = np.arange(T)[None, :] < lengths[:, None]  # (B, T) real steps
    use &= np.isfinite(y)
    if within is None:
        groups = np.zeros((B, T), dtype=np.int64)
        within_name = None
    else:
        if isinstance(within, str):
            if within not in GROUPS:
                raise ValueError(_("within must be None, one of {options} or (B, T) group labels, "
                                   "got {value!r}").format(options=list(GROUPS), value=within))
            rows = [GROUPS[within](s).numpy() for s in _texts(text, B)]
            groups = np.full((B, T), -1, dtype=np.int64)
            for b, r in enumerate(rows):
                if r.size < lengths[b] or r.size > T:
                    raise ValueError(_("text[{b}] must have between {low} and {T} characters, "
                                       "got {n}").format(b=b, low=lengths[b], T=T, n=r.size))
                groups[b, : r.size] = r
            within_name = within
        else:
            g = _per_step("within", within, B, T, lengths)
            if not np.all(np.isfinite(g) & (g == np.round(g))):
                raise ValueError(_("within must hold integer group labels (-1 = leave out)"))
            groups = g.astype(np.int64)
            within_name = "groups"
        use &= groups >= 0
        # groups are per sample: make the labels unique across the batch
        groups = np.where(groups >= 0, groups + (groups.max(initial=0) + 1) * np.arange(B)[:, None],
                          -1)
    n = int(use.sum())
    if n < 2:
        raise ValueError(_("find_units needs at least 2 scored steps, got {n} (check lengths, "
                           "nan features and the within groups)").format(n=n))
    a = act[use]  # (n, H)
    f = y[use]  # (n,)
    gid = groups[use]  # (n,)
    # 3. centre on the overall (or each group's) mean, then correlate
    _groups, inv = np.unique(gid, return_inverse=True)
    count = np.bincount(inv).astype(np.float64)  # (G,)
    f_c = f - (np.bincount(inv, weights=f) / count)[inv]  # (n,)
    a_mean = np.stack([np.bincount(inv, weights=a[:, u]) for u in range(H)], axis=1) / count[:, None]
    a_c = a - a_mean[inv]  # (n, H)
    f_ss = float(f_c @ f_c)
    if f_ss <= 1e-12 * max(1.0, float(f @ f)):
        if within is None:
            message = _("feature {name!r} does not vary on the scored steps: nothing to "
                        "correlate with")
        else:
            message = _("feature {name!r} does not vary on the scored steps within the groups: "
                        "nothing to correlate with")
        raise ValueError(message.format(name=name))
    a_ss = (a_c * a_c).sum(axis=0)  # (H,)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a_c.T @ f_c) / np.sqrt(a_ss * f_ss)  # (H,)
    r = np.where(a_ss > 1e-24, r, 0.0)
    r = np.clip(np.nan_to_num(r), -1.0, 1.0)
    scores = torch.from_numpy(r)  # (H,)
    ranking = torch.from_numpy(np.argsort(-np.abs(r), kind="stable").copy())  # (H,)
    return UnitScores(scores=scores, ranking=ranking, feature=name, state=state, layer=layer,
                      direction=direction, within=within_name, n_steps=n)
