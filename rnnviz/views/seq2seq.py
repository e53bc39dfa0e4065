"""An encoder-decoder at work: encoder states, the single context vector, decoder states."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from rnnviz._types import Seq2SeqTrace
from rnnviz.tasks._base import IGNORE_INDEX
from rnnviz.views import _data as D
from rnnviz.views import _style as S

INPUT_COLOR = "#E69F00"  # as plot_task_shapes: input orange, output sky blue
OUTPUT_COLOR = "#56B4E9"
RIGHT, WRONG = "#009E73", "#D55E00"  # Okabe-Ito green / vermillion


def _names(ids: list[int], vocab: list[str] | None) -> list[str]:
    return [S.escape(vocab[i]) if vocab is not None and 0 <= i < len(vocab) else str(i) for i in ids]


def plot_seq2seq(translation: Seq2SeqTrace, *, sample: int = 0, theme: str = "auto") -> go.Figure:
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

    Returns:
        A plotly figure (nothing is displayed).
    """
    if not isinstance(translation, Seq2SeqTrace):
        raise TypeError(
            "translation must be a Seq2SeqTrace (from Seq2Seq.translate(x, lengths) or "
            f"rnnviz.trace(seq2seq, x, y)), got {type(translation).__name__}"
        )
    S.check_theme(theme)
    pal = S.palette(theme)
    B = translation.tokens.shape[0]
    if isinstance(sample, bool) or not isinstance(sample, (int, np.integer)) or not -B <= sample < B:
        raise ValueError(f"sample must be an int in [-{B}, {B}) (a sequence of the batch), got {sample!r}")
    s = int(sample) % B
    n_src = int(translation.lengths[s])
    src = _names(translation.source[s, :n_src].tolist(), translation.vocab)
    out_ids = translation.tokens[s].tolist()
    out = _names(out_ids, translation.output_vocab)
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
    x_enc = np.arange(n_src, dtype=float)
    x_ctx = n_src + 0.7
    x_dec = n_src + 2.1 + np.arange(n_out, dtype=float)
    u = max(1.0, H / 16)  # vertical unit for the rows of symbols
    big = D.finite_max([enc, ctx, dec], absolute=True)
    fig = go.Figure()
    # 1. the three heatmaps: encoder states, the context, decoder states
    for k, (xs, z, who) in enumerate(
        ((x_enc, enc, "encoder h_s"), ([x_ctx], ctx, "context c"), (x_dec, dec, "decoder z_t"))
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
                colorbar=S.colorbar("state value", length=0.7),
                xgap=3,
                name=who,
                hovertemplate=f"{who}<br>unit %{{y}}<br>value %{{z:.3f}}<extra></extra>",
            )
        )
    # 2. the context outlined: the bottleneck
    fig.add_shape(
        type="rect",
        x0=x_ctx - 0.5,
        x1=x_ctx + 0.5,
        y0=-0.6,
        y1=H - 0.4,
        line={"color": pal.accent, "width": 4},
    )
    # 3. symbols: source below the encoder, decoder inputs below the decoder, outputs above
    below, above = -1.4 * u, H - 0.5 + 1.3 * u
    ref_y = above + 1.6 * u
    read = translation.decoder.inputs[s, :n_out].tolist()  # (T,) ids, start = <go>
    dec_in = [S.escape("<go>") if i == translation.start else _names([i], translation.output_vocab)[0]
              for i in read]
    colors = (
        [pal.fg] * n_out
        if ref is None
        else [RIGHT if a == b else WRONG for a, b in zip(out, ref, strict=True)]
    )
    rows = [
        (x_enc, below, src, [INPUT_COLOR] * n_src, "source x_s"),
        (x_dec, below, dec_in, [pal.fg] * n_out, "decoder reads"),  # greedy: its own words
        (x_dec, above, out, colors, "decoder writes"),
    ]
    if ref is not None:
        rows.append((x_dec, ref_y, ref, [pal.muted] * n_out, "reference"))
    for xs, y, text, color, who in rows:
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[y] * len(text),
                mode="text",
                text=[f"<b>{t}</b>" for t in text],
                # <go> (4 characters) smaller, so that it fits its column in a narrow notebook
                textfont={"size": [S.FONT_SIZE - 3 if t == S.escape("<go>") else S.FONT_SIZE + 2
                                   for t in text], "color": color, "family": S.MONO_FAMILY},
                showlegend=False,
                name=who,
                hovertemplate=f"{who}: %{{text}}<extra></extra>",
            )
        )
    # 4. labels of the three parts
    notes = [
        ((n_src - 1) / 2, "encoder<br>reads the source"),  # two lines: fits 600 px
        (x_ctx, "context<br>c"),
        (float(x_dec.mean()) if n_out else x_ctx + 1, "decoder<br>writes the translation"),
    ]
    for x, text in notes:
        fig.add_annotation(
            x=x, y=-2.6 * u, text=text, showarrow=False, font={"size": S.FONT_SIZE}, yanchor="top"
        )
    top = ref_y if ref is not None else above
    units = [0, H - 1] if H > 1 else [0]
    ticks = [below, *units, above] + ([ref_y] if ref is not None else [])
    labels = ["reads", *(f"unit {u}" for u in units), "writes"] + (["reference"] if ref is not None else [])
    fig.update_yaxes(
        tickvals=ticks, ticktext=labels, range=[-3.8 * u, top + 1.2 * u], showgrid=False, zeroline=False
    )
    fig.update_xaxes(visible=False, range=[-0.8, (x_dec[-1] if n_out else x_ctx) + 0.8])
    words = "".join(src)
    height = max(420, 260 + 9 * H)
    if translation.alignment is not None:
        height = _alignment_panel(fig, translation, s, src, out, colors, x_enc, height, pal)
    S.apply_theme(fig, theme, title=f"Encoder-decoder: {words} → {''.join(out)}")
    right = "" if ref is None else f" · {sum(a == b for a, b in zip(out, ref, strict=True))} of {n_out} right"
    if translation.teacher_forcing:
        right += "<br>teacher forcing: the decoder reads the true previous word"  # 2nd line
    gist = (f"everything the decoder knows about the source passes through the {H} numbers of c"
            if translation.alignment is None else
            "attention: each output step also reads a weighted mix of all encoder states")
    fig.update_layout(
        title_subtitle_text=f"{gist}{right}",
        height=height + (22 if translation.teacher_forcing else 0),
        margin={"t": 132 if translation.teacher_forcing else 110, "b": 40},
    )
    return fig


def _alignment_panel(fig: go.Figure, translation: Seq2SeqTrace, s: int, src: list[str],
                     out: list[str], colors: list[str], x_enc: np.ndarray, height: int,
                     pal: S.Palette) -> int:
    """Add the alignment heatmap below the main panel, on its own axes ``x2``/``y2`` with the
    source columns under the encoder's; return the new figure height.

    The words are text traces, not tick labels, so that an animation's frames (which replace
    trace data, not the layout) update them too. Every label is HTML-escaped."""
    n_out, n_src = len(out), len(src)
    a = D.as_numpy(translation.alignment[s, :n_out, :n_src])  # (T, S) rows sum to 1
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
            colorbar=S.colorbar("attention", y=split / 2, length=split),
            xgap=2,
            ygap=2,
            name="alignment",
            xaxis="x2",
            yaxis="y2",
            hovertemplate="output step %{y} looks at source step %{x}<br>weight %{z:.3f}"
            "<extra>alignment</extra>",
        )
    )
    text = {"size": S.FONT_SIZE, "family": S.MONO_FAMILY}
    for xs, ys, words, color, position, who in (
        (x_enc, [n_out - 0.5 + 0.55] * n_src, src, INPUT_COLOR, "bottom center",
         "alignment source"),
        ([x_enc[0] - 0.6] * n_out, rows, out, colors, "middle left", "alignment writes"),
    ):
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
                hovertemplate=f"{who}: %{{text}}<extra></extra>",
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
                      selector={"name": "encoder h_s"})
    fig.add_annotation(
        x=0.0, xref="paper", xanchor="left", y=split + 0.2 * gap_px / area, yref="paper",
        yanchor="bottom", showarrow=False, font={"size": S.FONT_SIZE, "color": pal.fg},
        text="attention: where each written word looks in the source",
    )
    return int(area + 150)
