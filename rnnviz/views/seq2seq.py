"""An encoder-decoder at work: encoder states, the single context vector, decoder states.

:func:`plot_seq2seq` draws one run; :func:`live_seq2seq` / :func:`update_seq2seq` are the
same figure as a live view of the dashboard (its numbers from :func:`_numbers`, the one
source of both).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from rnnviz._types import Seq2SeqTrace
from rnnviz.i18n import N_, _, uses_language
from rnnviz.tasks._base import IGNORE_INDEX
from rnnviz.views import _data as D
from rnnviz.views import _live as L
from rnnviz.views import _style as S

INPUT_COLOR = "#E69F00"  # as plot_task_shapes: input orange, output sky blue
OUTPUT_COLOR = "#56B4E9"
RIGHT, WRONG = "#009E73", "#D55E00"  # Okabe-Ito green / vermillion


def _names(ids: list[int], vocab: list[str] | None) -> list[str]:
    return [S.escape(vocab[i]) if vocab is not None and 0 <= i < len(vocab) else str(i) for i in ids]


@dataclass
class _Numbers:
    """Everything of one sequence of a run that the figure draws (see :func:`_numbers`)."""

    src: list[str]  # the source symbols (n_src)
    out: list[str]  # the words written (n_out)
    ref: list[str] | None  # the reference (n_out), or None without a target
    dec_in: list[str]  # what the decoder read (n_out): <go>, then the previous words
    right: list[bool] | None  # out == ref per step, or None
    enc: np.ndarray  # (H, n_src) encoder states h_s, top layer
    ctx: np.ndarray  # (H, 1) the context c, top layer
    dec: np.ndarray  # (H, n_out) decoder states z_t, top layer
    big: float  # the states' colour range [-big, big]
    align: np.ndarray | None  # (n_out, n_src) the alignment a_ts, or None
    x_enc: np.ndarray  # columns of the encoder, the context and the decoder
    x_ctx: float
    x_dec: np.ndarray
    u: float  # vertical unit of the rows of symbols
    below: float  # y of the rows read (source, decoder inputs)
    above: float  # y of the words written
    ref_y: float  # y of the reference

    @property
    def n_src(self) -> int:
        return len(self.src)

    @property
    def n_out(self) -> int:
        return len(self.out)


def _numbers(translation: Seq2SeqTrace, s: int) -> _Numbers:
    """The numbers and words of sequence ``s`` (an index in ``[0, B)``), and where they go."""
    n_src = int(translation.lengths[s])
    src = _names(translation.source[s, :n_src].tolist(), translation.vocab)
    out = _names(translation.tokens[s].tolist(), translation.output_vocab)
    ref: list[str] | None = None
    if translation.target is not None:
        tgt = [v for v in translation.target[s].tolist() if v != IGNORE_INDEX]
        n_out = min(len(tgt), len(out))
        ref = _names(tgt[:n_out], translation.output_vocab)
    else:
        end = S.escape(translation.output_vocab[-1]) if translation.output_vocab else None
        n_out = out.index(end) + 1 if end in out else len(out)
    out = out[:n_out]
    enc = D.as_numpy(translation.encoder.hidden[-1, s, :n_src]).T  # (H, S) top layer
    ctx = D.as_numpy(translation.context[-1, s])[:, None]  # (H, 1)
    dec = D.as_numpy(translation.decoder.hidden[-1, s, :n_out]).T  # (H, T)
    H = enc.shape[0]
    read = translation.decoder.inputs[s, :n_out].tolist()  # (T,) ids, start = <go>
    dec_in = [S.escape("<go>") if i == translation.start else _names([i], translation.output_vocab)[0]
              for i in read]
    align = (None if translation.alignment is None else
             D.as_numpy(translation.alignment[s, :n_out, :n_src]))  # (T, S) rows sum to 1
    u = max(1.0, H / 16)  # vertical unit for the rows of symbols
    above = H - 0.5 + 1.3 * u
    return _Numbers(
        src=src, out=out, ref=ref, dec_in=dec_in,
        right=None if ref is None else [a == b for a, b in zip(out, ref, strict=True)],
        enc=enc, ctx=ctx, dec=dec, big=D.finite_max([enc, ctx, dec], absolute=True),
        align=align, x_enc=np.arange(n_src, dtype=float), x_ctx=n_src + 0.7,
        x_dec=n_src + 2.1 + np.arange(n_out, dtype=float), u=u, below=-1.4 * u, above=above,
        ref_y=above + 1.6 * u)


def _text_rows(n: _Numbers, pal: S.Palette) -> list[tuple]:
    """The rows of symbols, as traces: (xs, y, text, colours, name)."""
    colors = [pal.fg] * n.n_out if n.right is None else [RIGHT if r else WRONG for r in n.right]
    rows = [
        (n.x_enc, n.below, n.src, [INPUT_COLOR] * n.n_src, N_("source x_s")),
        (n.x_dec, n.below, n.dec_in, [pal.fg] * n.n_out, N_("decoder reads")),  # greedy: its own
        (n.x_dec, n.above, n.out, colors, N_("decoder writes")),
    ]
    if n.ref is not None:
        rows.append((n.x_dec, n.ref_y, n.ref, [pal.muted] * n.n_out, N_("reference")))
    return rows


def _label_xs(n: _Numbers) -> list[float]:
    """Where the three part labels (encoder, context, decoder) sit on the x axis."""
    return [(n.n_src - 1) / 2, n.x_ctx, float(n.x_dec.mean()) if n.n_out else n.x_ctx + 1]


def _text_font(text: list[str], color: list[str]) -> dict:
    # <go> (4 characters) smaller, so that it fits its column in a narrow notebook
    return {"size": [S.FONT_SIZE - 3 if t == S.escape("<go>") else S.FONT_SIZE + 2 for t in text],
            "color": color, "family": S.MONO_FAMILY}


@uses_language
def plot_seq2seq(translation: Seq2SeqTrace, *, sample: int = 0, theme: str = "auto",
                 lang: str | None = None) -> go.Figure:
    """One seq2seq run: the source read by the encoder, the context vector, the decoder's words.

    Columns, left to right: the encoder's states ``h_s`` (top layer, units x source steps, the
    source symbols below), the context ``c`` (outlined: the only thing the decoder learns
    about the source), then the decoder's states ``z_t`` with what it read below (``<go>``,
    then its own previous word when decoding greedily, or the true previous word under
    teacher forcing) and what it wrote above (its argmax), green where it matches the
    reference and red where it does not (the reference is shown above when the run has a
    target). The decoder columns stop at the reference's length, or after the first end symbol.

    With attention (the trace has an ``alignment``), a panel below shows the alignment
    ``a_ts`` as a heatmap: one row per output word (top to bottom), one column per source
    symbol, under the encoder column it weights; every row sums to 1.

    Args:
        translation: a :class:`rnnviz.Seq2SeqTrace`: from :meth:`rnnviz.Seq2Seq.translate`
            (greedy), ``rnnviz.trace(seq2seq, x, y)`` (teacher forcing) or a seq2seq
            trainer's snapshot (``trainer.snapshots[-1].trace``).
        sample: which sequence of the batch.
        theme: ``"auto"``, ``"light"`` or ``"dark"``.
        lang: ``"en"`` or ``"ru"`` for this figure only (default: :func:`rnnviz.set_language`).

    Returns:
        A plotly figure (nothing is displayed).
    """
    if not isinstance(translation, Seq2SeqTrace):
        raise TypeError(
            _("translation must be a Seq2SeqTrace (from Seq2Seq.translate(x, lengths) or "
              "rnnviz.trace(seq2seq, x, y)), got {type}").format(type=type(translation).__name__)
        )
    S.check_theme(theme)
    pal = S.palette(theme)
    B = translation.tokens.shape[0]
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or not -B <= sample < B:
        raise ValueError(_("sample must be an int in [-{B}, {B}) (a sequence of the batch), got "
                           "{value!r}").format(B=B, value=sample))
    s = int(sample) % B
    n = _numbers(translation, s)
    src, out, ref, H = n.src, n.out, n.ref, n.enc.shape[0]
    n_out, x_enc, x_ctx, x_dec, u = n.n_out, n.x_enc, n.x_ctx, n.x_dec, n.u
    big = n.big
    fig = go.Figure()
    # 1. the three heatmaps: encoder states, the context, decoder states
    for k, (xs, z, who) in enumerate(
        ((x_enc, n.enc, N_("encoder h_s")), ([x_ctx], n.ctx, N_("context c")),
         (x_dec, n.dec, N_("decoder z_t")))
    ):
        fig.add_trace(
            go.Heatmap(
                x=xs,
                y=np.arange(H),
                z=D.rounded(z),
                zmin=-big,
                zmax=big,
                colorscale=S.STATE_SCALE,
                showscale=k == 0,
                colorbar=S.colorbar(_("state value"), length=0.7),
                xgap=3,
                name=who,
                hovertemplate=_("{who}<br>unit {unit}<br>value {value}").format(
                    who=_(who), unit="%{y}", value="%{z:.3f}") + "<extra></extra>",
            )
        )
    # 2. the context outlined: the bottleneck (a line only, whatever the template's shape
    # defaults: "auto"'s 30 % black fill greyed the context column)
    fig.add_shape(
        type="rect",
        x0=x_ctx - 0.5,
        x1=x_ctx + 0.5,
        y0=-0.6,
        y1=H - 0.4,
        line={"color": pal.accent, "width": 4},
        fillcolor="rgba(0,0,0,0)",
        opacity=1,
    )
    # 3. symbols: source below the encoder, decoder inputs below the decoder, outputs above
    below, above, ref_y = n.below, n.above, n.ref_y
    rows = _text_rows(n, pal)
    colors = rows[2][3]
    for xs, y, text, color, who in rows:
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[y] * len(text),
                mode="text",
                text=[f"<b>{t}</b>" for t in text],
                textfont=_text_font(text, color),
                showlegend=False,
                name=who,
                hovertemplate=f"{_(who)}: %{{text}}<extra></extra>",
            )
        )
    # 4. labels of the three parts
    notes = zip(_label_xs(n), (_("encoder<br>reads the source"),  # two lines: fits 600 px
                               _("context<br>c"), _("decoder<br>writes the translation")),
                strict=True)
    for x, text in notes:
        fig.add_annotation(
            x=x, y=-2.6 * u, text=text, showarrow=False, font={"size": S.FONT_SIZE}, yanchor="top"
        )
    top = ref_y if ref is not None else above
    units = [0, H - 1] if H > 1 else [0]
    ticks = [below, *units, above] + ([ref_y] if ref is not None else [])
    labels = [_("reads"), *(_("unit {u}").format(u=u) for u in units), _("writes")] + (
        [_("reference")] if ref is not None else [])
    fig.update_yaxes(
        tickvals=ticks, ticktext=labels, range=[-3.8 * u, top + 1.2 * u], showgrid=False, zeroline=False
    )
    fig.update_xaxes(visible=False, range=[-0.8, (x_dec[-1] if n_out else x_ctx) + 0.8])
    words = "".join(src)
    height = max(420, 260 + 9 * H)
    if n.align is not None:
        height = _alignment_panel(fig, n.align, src, out, colors, x_enc, height, pal)
    S.apply_theme(fig, theme, title=_("Encoder-decoder: {source} → {output}").format(
        source=words, output="".join(out)))
    right = "" if ref is None else " · " + _("{k} of {n} right").format(
        k=sum(a == b for a, b in zip(out, ref, strict=True)), n=n_out)
    if translation.teacher_forcing:  # 2nd line
        right += "<br>" + _("teacher forcing: the decoder reads the true previous word")
    gist = (_("everything the decoder knows about the source passes through the {H} numbers "
              "of c").format(H=H)
            if translation.alignment is None else
            _("attention: each output step also reads a weighted mix of all encoder states"))
    fig.update_layout(
        title_subtitle_text=f"{gist}{right}",
        height=height + (22 if translation.teacher_forcing else 0),
        margin={"t": 132 if translation.teacher_forcing else 110, "b": 40},
    )
    return fig


def _alignment_panel(fig: go.Figure, a: np.ndarray, src: list[str], out: list[str],
                     colors: list[str], x_enc: np.ndarray, height: int, pal: S.Palette) -> int:
    """Add the alignment heatmap below the main panel, on its own axes ``x2``/``y2`` with the
    source columns under the encoder's; return the new figure height.

    The words are text traces, not tick labels, so that an animation's frames (which replace
    trace data, not the layout) update them too. Every label is HTML-escaped. Its one
    annotation comes after the three part labels (``update_seq2seq`` moves those by index)."""
    n_out = len(out)  # a: (T, S) the alignment, rows sum to 1
    main_px, gap_px, panel_px = height - 150, 95, max(150, 34 * n_out + 40)
    area = main_px + gap_px + panel_px
    split = panel_px / area  # paper fraction of the plot area under the panel's top
    rows = np.arange(n_out, dtype=float)
    fig.add_trace(
        go.Heatmap(
            x=x_enc,
            y=rows,
            z=D.rounded(a),
            zmin=0.0,
            zmax=1.0,
            colorscale=S.GATE_SCALE,
            colorbar=S.colorbar(_("attention"), y=split / 2, length=split),
            xgap=2,
            ygap=2,
            name="alignment",  # i18n-ignore: an id
            xaxis="x2",
            yaxis="y2",
            hovertemplate=_("output step {t} looks at source step {s}<br>weight {w}").format(
                t="%{y}", s="%{x}", w="%{z:.3f}") + "<extra>" + _("alignment") + "</extra>",
        )
    )
    text = {"size": S.FONT_SIZE, "family": S.MONO_FAMILY}
    for xs, ys, words, color, position, who in _alignment_rows(src, out, colors, x_enc):
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="text",
                text=list(words),  # escaped by _names
                textposition=position,
                textfont={**text, "color": color},
                cliponaxis=False,
                showlegend=False,
                name=who,
                xaxis="x2",
                yaxis="y2",
                hovertemplate=f"{_(who)}: %{{text}}<extra></extra>",
            )
        )
    fig.update_layout(
        yaxis={"domain": [split + gap_px / area, 1.0]},
        xaxis2={"domain": [0.0, 1.0], "anchor": "y2", "range": fig.layout.xaxis.range,
                "visible": False},
        yaxis2={"domain": [0.0, split], "anchor": "x2", "range": [n_out + 0.6, -0.6],
                "visible": False},
    )
    # the main colour bar beside the main panel only
    fig.update_traces(colorbar={"y": (1 + split + gap_px / area) / 2,
                                "len": 0.7 * (1 - split - gap_px / area)},
                      selector={"name": "encoder h_s"})  # i18n-ignore: an id
    fig.add_annotation(
        x=0.0, xref="paper", xanchor="left", y=split + 0.2 * gap_px / area, yref="paper",
        yanchor="bottom", showarrow=False, font={"size": S.FONT_SIZE, "color": pal.fg},
        text=_("attention: where each written word looks in the source"),
    )
    return int(area + 150)


def _alignment_rows(src: list[str], out: list[str], colors: list[str],
                    x_enc: np.ndarray) -> list[tuple]:
    """The alignment panel's words: (xs, ys, words, colour, textposition, name)."""
    n_out, n_src = len(out), len(src)
    return [
        (x_enc, [n_out - 0.5 + 0.55] * n_src, src, INPUT_COLOR, "bottom center",
         N_("alignment source")),
        ([x_enc[0] - 0.6] * n_out, np.arange(n_out, dtype=float), out, colors, "middle left",
         N_("alignment writes")),
    ]


# ----------------------------------------------------------------------------- live


def update_seq2seq(translation: Seq2SeqTrace, sample: int) -> list[L.Change]:
    """What changes in :func:`live_seq2seq`'s figure for ``translation``: the encoder
    states, the context and the decoder states (one colour range, [-b, b]), the words
    written and whether each is right, and with attention the alignment.

    The rows of symbols and the columns move with the sequence shown (their lengths are
    the sequence's). Fonts are sent where their colours do not depend on the theme: the
    source's, and the words written when the run has a target (green right, red wrong; a
    trainer's probe always has one). The rows read and the reference keep the fonts of the
    figure's first sequence (its theme colour, one size per symbol), as the layout does.

    The layout items that stand at the columns move with them, as layout changes
    (:func:`rnnviz.views._live.layout`, paths into the lists): the outline around the context
    (``shapes.0.x0`` / ``x1``) and the three part labels (``annotations.0.x`` to ``2``), so
    that after switching the sequence shown they sit where :func:`plot_seq2seq` puts them
    for that sequence (their y and the alignment panel's caption do not depend on it).
    """
    B = translation.batch_size
    n = _numbers(translation, int(sample) % B)
    changes = []
    for k, (xs, z) in enumerate(((n.x_enc, n.enc), ([n.x_ctx], n.ctx), (n.x_dec, n.dec))):
        changes += [L.value(k, "x", [float(x) for x in xs]), L.array(k, "z", D.rounded(z)),
                    L.symmetric(k, n.big)]
    changes += [L.layout("shapes.0.x0", n.x_ctx - 0.5), L.layout("shapes.0.x1", n.x_ctx + 0.5)]
    changes += [L.layout(f"annotations.{i}.x", float(x)) for i, x in enumerate(_label_xs(n))]
    rows = _text_rows(n, S.palette("light"))  # positions and words; colours below
    for k, (xs, y, text, color, _who) in enumerate(rows, start=3):
        changes += [L.value(k, "x", [float(x) for x in xs]), L.value(k, "y", [y] * len(text)),
                    L.value(k, "text", [f"<b>{t}</b>" for t in text])]
        if k == 3 or (k == 5 and n.right is not None):  # the source (orange), the words
            changes.append(L.value(k, "textfont", _text_font(text, color)))  # written (✓ / ✗)
    if n.align is not None:
        k = 3 + len(rows)
        changes += [L.value(k, "x", [float(x) for x in n.x_enc]),
                    L.value(k, "y", [float(v) for v in range(n.n_out)]),
                    L.array(k, "z", D.rounded(n.align))]
        colors = rows[2][3]
        for j, (xs, ys, words, color, _pos, _who) in enumerate(
                _alignment_rows(n.src, n.out, colors, n.x_enc), start=k + 1):
            changes += [L.value(j, "x", [float(x) for x in xs]),
                        L.value(j, "y", [float(v) for v in ys]), L.value(j, "text", list(words))]
            if n.right is not None and j == k + 2:
                changes.append(L.value(j, "textfont", {"size": S.FONT_SIZE,
                                                       "family": S.MONO_FAMILY, "color": color}))
    return changes


def _live_titles(fig: go.Figure, teacher_forcing: bool) -> None:
    """Live, the words change as the model learns (a dashboard's readout names them): a
    short title without them, and one line of subtitle (the gist), so that both fit the top
    margin of a dashboard slot on one line each; teacher forcing, when used, is named in the
    title."""
    title = (_("Encoder-decoder, teacher forced — states h_s, c, z_t") if teacher_forcing
             else _("Encoder-decoder — states h_s, c, z_t"))
    fig.update_layout(title_text=title)
    sub = fig.layout.title.subtitle.text or ""
    fig.update_layout(title_subtitle_text=sub.partition(" · ")[0].partition("<br>")[0])


# The live figure's x axis spans the batch's longest sequence, so a short one's columns are
# narrow (about 30 px in a dashboard slot at 1280 x 720): its three part labels get one short
# word each, which fit over two columns ("context c" and "decoder writes the translation"
# overlapped for a 2-letter source).
_LIVE_PART_LABELS = {"encoder<br>": "encoder", "context<br>": "c", "decoder<br>": "decoder"}


def _live_part_labels(fig: go.Figure) -> None:
    """The part labels of :func:`plot_seq2seq` shortened to one word each (see above)."""
    for note in fig.layout.annotations:
        for start, short in _LIVE_PART_LABELS.items():
            if (note.text or "").startswith(start):
                note.text = short


def live_seq2seq(translation: Seq2SeqTrace, *, sample: int, theme: str) -> L.LiveView:
    """:func:`plot_seq2seq` as a live view of a Seq2Seq trainer's probe (:func:`update_seq2seq`).

    Its axes are wide enough for the longest sequence of the batch, so that showing another
    sequence of the probe moves the columns and words but never cuts them off, and its
    titles name no words (they change as it learns; see :func:`_live_titles`).
    """
    fig = plot_seq2seq(translation, sample=sample, theme=theme)
    _live_titles(fig, translation.teacher_forcing)
    _live_part_labels(fig)
    ns = [_numbers(translation, s) for s in range(translation.batch_size)]
    right = max(float(n.x_dec[-1]) if n.n_out else n.x_ctx for n in ns) + 0.8
    fig.update_xaxes(range=[-0.8, right])
    if translation.alignment is not None:
        fig.update_layout(xaxis2_range=[-0.8, right],
                          yaxis2_range=[max(n.n_out for n in ns) + 0.6, -0.6])
    return L.LiveView(fig, update_seq2seq, grid="wide", height=int(fig.layout.height or 500))
