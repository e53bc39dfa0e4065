"""Seq2Seq against a manual loop over torch modules, greedy decoding, the Reverse task, the
seq2seq view, and bad inputs."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnviz
from rnnviz import tasks
from rnnviz.seq2seq import Seq2Seq, Seq2SeqTrace, Translation

SETTINGS = settings(max_examples=25, deadline=None)


def torch_context(model, x, lengths):
    """The encoder's final state, each sequence run alone (cut to its length) by torch.nn."""
    enc = model.encoder.to_torch()
    hs, cs = [], []
    for b in range(x.shape[0]):
        n = x.shape[1] if lengths is None else int(lengths[b])
        _, state = enc(F.one_hot(x[b : b + 1, :n], model.input_size).double())
        h, c = state if model.cell_type == "lstm" else (state, None)
        hs.append(h)
        cs.append(c)
    h = torch.cat(hs, dim=1)  # (L, B, H)
    return (h, torch.cat(cs, dim=1)) if model.cell_type == "lstm" else h


def manual_teacher_forcing(model, x, y, lengths):
    """Decoder one step at a time with torch.nn modules, fed <go> then the true previous word."""
    dec = model.decoder.to_torch()
    state = torch_context(model, x, lengths)
    prev = torch.full((x.shape[0],), model.start)
    logits = []
    for t in range(y.shape[1]):
        step = F.one_hot(prev, model.output_size + 1).double()[:, None]  # (B, 1, V+1)
        out, state = dec(step, state)
        logits.append(out[:, 0] @ model.linear.weight.T + model.linear.bias)
        prev = torch.where(y[:, t] == -100, model.start, y[:, t])
    return torch.stack(logits, dim=1)


@SETTINGS
@given(
    cell=st.sampled_from(["elman", "lstm", "gru"]),
    layers=st.integers(1, 2),
    hidden=st.integers(1, 6),
    vin=st.integers(2, 5),
    vout=st.integers(2, 5),
    B=st.integers(1, 4),
    S=st.integers(1, 7),
    T=st.integers(1, 7),
    with_lengths=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_teacher_forcing_equals_a_manual_loop_with_torch_modules(
    cell, layers, hidden, vin, vout, B, S, T, with_lengths, seed
):
    model = Seq2Seq(vin, vout, cell=cell, hidden_size=hidden, num_layers=layers, seed=seed).double()
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, vin, (B, S), generator=g)
    y = torch.randint(0, vout, (B, T), generator=g)
    y[:, T - 1 :][torch.rand(B, 1, generator=g) < 0.5] = -100  # some padding
    lengths = torch.randint(1, S + 1, (B,), generator=g) if with_lengths else None
    got = model(x, y, lengths)
    want = manual_teacher_forcing(model, x, y, lengths)
    assert got.shape == (B, T, vout)
    torch.testing.assert_close(got, want, atol=1e-9, rtol=1e-9)
    # greedy decoding = the same loop fed with its own argmax
    state = torch_context(model, x, lengths)
    dec, prev, ids = model.decoder.to_torch(), torch.full((B,), model.start), []
    for _ in range(T):
        out, state = dec(F.one_hot(prev, vout + 1).double()[:, None], state)
        prev = (out[:, 0] @ model.linear.weight.T + model.linear.bias).argmax(-1)
        ids.append(prev)
    assert torch.equal(model.greedy(x, lengths, steps=T), torch.stack(ids, dim=1))


def test_translation_records_the_context_and_the_states():
    task = tasks.Reverse(num_symbols=4, min_len=2, max_len=6, seed=0)
    model = Seq2Seq.from_task(task, cell="lstm", hidden_size=5, num_layers=2, seed=1)
    x, y, lengths = task.batch(6, seed=2)
    tr = model.translate(x, lengths, target=y)
    assert isinstance(tr, Seq2SeqTrace) and Translation is Seq2SeqTrace  # one record type
    assert not tr.teacher_forcing and tr.loss is None and tr.grad_context is None
    T = y.shape[1]
    assert tr.tokens.shape == y.shape and tr.decoder.hidden.shape == (2, 6, T, 5)
    assert tr.encoder.hidden.shape == (2, 6, x.shape[1], 5) and tr.vocab == task.vocab
    assert tr.context.shape == tr.context_cell.shape == (2, 6, 5)
    # the context is every layer's encoder state at the last real step, as torch computes it
    want = torch_context(model.double(), x, lengths)
    model.float()
    torch.testing.assert_close(tr.context, want[0].float(), atol=1e-5, rtol=0)
    torch.testing.assert_close(tr.context_cell, want[1].float(), atol=1e-5, rtol=0)
    assert torch.equal(tr.target, y) and torch.equal(tr.lengths, lengths)
    assert torch.equal(tr.source, x)
    # greedy: the decoder read <go>, then its own previous word; its states are decode()'s
    assert torch.equal(tr.decoder.inputs[:, 0], torch.full((6,), model.start))
    assert torch.equal(tr.decoder.inputs[:, 1:], tr.tokens[:, :-1])
    _, ctx = model.encode(x, lengths)
    ids, states = model.decode(ctx, T)
    assert torch.equal(ids, tr.tokens) and torch.equal(model.greedy(x, lengths), tr.tokens)
    torch.testing.assert_close(tr.decoder.hidden[-1], states, atol=1e-5, rtol=0)
    torch.testing.assert_close(tr.output.argmax(-1), tr.tokens)
    # trace without a target is the same greedy record
    again = rnnviz.trace(model, x, lengths=lengths)
    assert torch.equal(again.tokens, tr.tokens) and not again.teacher_forcing
    # the decoder sees the source only through the context: another context, another output
    swapped = tuple(s.flip(1) for s in ctx)  # sequence b gets the context of sequence B-1-b
    ids, _ = model.decode(swapped, y.shape[1])
    assert torch.equal(ids, tr.tokens.flip(0))


def autograd_run(model, x, y, lengths, loss_fn):
    """The teacher-forced run through the cores' explicit loops, and torch.autograd.grad of
    the loss w.r.t. every computed state of both halves and the context."""
    lstm = model.cell_type == "lstm"
    e = F.one_hot(x, model.input_size).double()
    out_e, ctx, rec_e = model.encoder._explicit(e, None, lengths, record=True, training=False)
    prev = torch.cat([torch.full_like(y[:, :1], model.start), y[:, :-1]], dim=1)
    prev = torch.where(prev == -100, model.start, prev)
    u = F.one_hot(prev, model.output_size + 1).double()
    out, _, rec_d = model.decoder._explicit(u, ctx, None, record=True, training=False)
    if model.attention is None:
        logits = model.linear(out)
    else:  # the attention written out in this file, on the explicit loops' outputs
        logits = attend_by_hand(model, out, out_e, lengths)[0] @ model.linear.weight.T \
            + model.linear.bias
    loss = loss_fn(logits, y)
    groups = [rec_e.hidden, rec_d.hidden] + ([rec_e.cell, rec_d.cell] if lstm else [])
    flat = [[h for steps in g for h in steps] for g in groups]
    ctx_list = list(ctx) if lstm else [ctx]
    grads = torch.autograd.grad(loss, [t for f in flat for t in f] + ctx_list, allow_unused=True)
    grads = [torch.zeros_like(w) if g is None else g
             for w, g in zip([t for f in flat for t in f] + ctx_list, grads, strict=True)]
    out_groups, i = [], 0
    for g, f in zip(groups, flat, strict=True):
        T = len(g[0])
        chunk = grads[i : i + len(f)]
        out_groups.append(torch.stack([torch.stack(chunk[k * T : (k + 1) * T], dim=1)
                                       for k in range(len(g))]))  # (L, B, T, H)
        i += len(f)
    states = [torch.stack([torch.stack(steps, dim=1) for steps in g]).detach() for g in groups]
    return logits.detach(), float(loss.detach()), states, out_groups, grads[i:]

def _assert_states_and_adjoints(tr, x, lengths, cell, states, grads, grad_ctx):
    """Every state and adjoint of a seq2seq trace equals autograd's (``autograd_run``); returns
    the (B, S) mask of real source steps."""
    S = x.shape[1]
    real = torch.ones(5, S, dtype=torch.bool) if lengths is None else \
        torch.arange(S)[None, :] < lengths[:, None]  # (B, S)
    close = dict(atol=1e-10, rtol=1e-8)
    torch.testing.assert_close(tr.encoder.hidden, states[0] * real[None, :, :, None], **close)
    torch.testing.assert_close(tr.decoder.hidden, states[1], **close)
    torch.testing.assert_close(tr.encoder.grad_hidden, grads[0], **close)
    torch.testing.assert_close(tr.decoder.grad_hidden, grads[1], **close)
    torch.testing.assert_close(tr.grad_context, grad_ctx[0], **close)
    if cell == "lstm":
        torch.testing.assert_close(tr.encoder.grad_cell, grads[2], **close)
        torch.testing.assert_close(tr.decoder.grad_cell, grads[3], **close)
        torch.testing.assert_close(tr.grad_context_cell, grad_ctx[1], **close)
    else:
        assert tr.grad_context_cell is None
    return real



@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("with_lengths", [True, False])
def test_trace_of_a_teacher_forced_run_equals_torch_and_autograd(cell, layers, with_lengths):
    task = tasks.Reverse(num_symbols=3, min_len=1, max_len=5, seed=0)
    model = Seq2Seq.from_task(task, cell=cell, hidden_size=4, num_layers=layers, seed=3).double()
    x, y, lengths = task.batch(5, seed=7)
    if not with_lengths:
        lengths = None
    tr = rnnviz.trace(model, x, y, lengths=lengths)
    assert isinstance(tr, Seq2SeqTrace) and tr.teacher_forcing
    # 1. forward: the logits and loss of the model's own (torch) forward
    logits = model(x, y, lengths)
    torch.testing.assert_close(tr.output, logits.detach(), atol=1e-10, rtol=1e-10)
    assert tr.loss == pytest.approx(float(task.loss(logits, y).detach()), rel=1e-10)
    torch.testing.assert_close(tr.tokens, logits.argmax(-1))
    assert tr.decoder.loss == tr.encoder.loss == tr.loss and tr.encoder.target is None
    ctx = torch_context(model, x, lengths)
    torch.testing.assert_close(tr.context, ctx[0] if cell == "lstm" else ctx, atol=1e-10, rtol=0)
    # 2. every state and adjoint, against autograd through the explicit loops
    want_logits, want_loss, states, grads, grad_ctx = autograd_run(model, x, y, lengths,
                                                                   task.loss)
    assert tr.loss == pytest.approx(want_loss, rel=1e-10)
    _assert_states_and_adjoints(tr, x, lengths, cell, states, grads, grad_ctx)
    assert tr.encoder.grad_hidden.abs().sum() > 0  # the gradient reaches the encoder via c
    # 3. nothing changed in the model
    assert all(p.grad is None for p in model.parameters()) and model.training


def test_trace_with_a_custom_loss_and_an_encoder_h0():
    model = Seq2Seq(4, 3, cell="gru", hidden_size=5, seed=0).double()  # no task: no loss_fn
    g = torch.Generator().manual_seed(0)
    x, y = torch.randint(0, 4, (2, 5), generator=g), torch.randint(0, 3, (2, 4), generator=g)
    tr = rnnviz.trace(model, x, y)  # default: cross entropy over the scored steps
    with torch.no_grad():
        want = float(F.cross_entropy(model(x, y).reshape(-1, 3), y.reshape(-1)))
    assert tr.loss == pytest.approx(want, rel=1e-10)
    half = rnnviz.trace(model, x, y, loss_fn=lambda out, t: 0.5 * F.cross_entropy(
        out.reshape(-1, 3), t.reshape(-1)))
    torch.testing.assert_close(half.grad_context, 0.5 * tr.grad_context)
    h0 = torch.randn(1, 2, 5, generator=g, dtype=torch.float64)
    with_h0 = rnnviz.trace(model, x, y, h0=h0)
    enc = model.encoder.to_torch()
    _, h_n = enc(F.one_hot(x, 4).double(), h0)
    torch.testing.assert_close(with_h0.context, h_n)
def test_from_task_and_a_few_steps_of_training_lower_the_loss():
    task = tasks.Reverse(num_symbols=3, max_len=3, seed=0)
    model = Seq2Seq.from_task(task, hidden_size=8, seed=0)
    assert model.loss_fn == task.loss and model.task is task
    assert model.num_parameters == sum(p.numel() for p in model.parameters())
    again = Seq2Seq.from_task(task, hidden_size=8, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters(), strict=True))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y, lengths = task.batch(32, seed=0)
    first = float(task.loss(model(x, y, lengths), y).detach())
    for _ in range(20):
        loss = task.loss(model(x, y, lengths), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < first


# -- the Reverse task -------------------------------------------------------------------------
def test_reverse_targets_are_the_reversed_source():
    task = tasks.Reverse(num_symbols=5, min_len=1, max_len=7, seed=3)
    x, y, lengths = task.batch(200, seed=0)
    assert task.seq_len == 8 and x.shape == y.shape == (200, 8)
    assert set(lengths.tolist()) == set(range(2, 9))
    for b in range(200):
        n = int(lengths[b]) - 1
        source = task.decode(x[b])
        assert source == source[:n] + "." * (8 - n) and "." not in source[:n]
        scored = [v for v in y[b].tolist() if v != -100]
        assert task.decode(scored) == source[:n][::-1] + "."
        assert (y[b, n + 1 :] == -100).all()
    assert isinstance(tasks.get("reverse"), tasks.Reverse)


def test_reverse_baseline_matches_counting():
    task = tasks.Reverse(num_symbols=3, min_len=1, max_len=3, seed=0)
    # by hand: per length L, L letters (the middle one of odd L is its own reverse) and '.'
    # L=1: 1 matched letter + '.', L=2: 2 guesses + '.', L=3: 2 guesses, 1 matched + '.'
    steps = 2 + 3 + 4
    hits = (1 + 1) + (2 / 3 + 1) + (2 / 3 + 1 + 1)
    assert task.baseline().metric == pytest.approx(hits / steps)
    assert "middle letter" in task.baseline().description


# -- the view ---------------------------------------------------------------------------------
def _bold(text):
    return text.removeprefix("<b>").removesuffix("</b>")


@pytest.mark.parametrize("theme", ["light", "dark", "auto"])
def test_the_context_outline_does_not_tint_the_context(theme):
    """The outline is a line only: no fill, full opacity, whatever the theme's template says
    of shapes (the "auto" template's defaults, a 30 % black fill, greyed the column)."""
    task = tasks.Reverse(num_symbols=4, min_len=3, max_len=5, seed=0)
    model = Seq2Seq.from_task(task, hidden_size=6, seed=0)
    x, y, lengths = task.batch(3, seed=1)
    fig = rnnviz.plot_seq2seq(model.translate(x, lengths, target=y), theme=theme)
    plain = json.loads(fig.to_json())["layout"]
    defaults = plain.get("template", {}).get("layout", {}).get("shapedefaults", {})
    (shape,) = plain["shapes"]
    assert shape.get("opacity", defaults.get("opacity", 1)) == 1
    fill = shape.get("fillcolor", defaults.get("fillcolor", "rgba(0,0,0,0)"))
    assert fill.replace(" ", "").endswith(",0)"), fill  # transparent


def test_plot_seq2seq_shows_source_context_and_words():
    task = tasks.Reverse(num_symbols=4, min_len=3, max_len=5, seed=0)
    model = Seq2Seq.from_task(task, hidden_size=6, seed=0)
    x, y, lengths = task.batch(3, seed=1)
    tr = model.translate(x, lengths, target=y)
    fig = rnnviz.plot_seq2seq(tr, sample=1, theme="light")
    n = int(lengths[1])
    heat = {t.name: t for t in fig.data if t.type == "heatmap"}
    assert list(heat) == ["encoder h_s", "context c", "decoder z_t"]
    assert len(heat["encoder h_s"].x) == n
    torch.testing.assert_close(
        torch.tensor(heat["context c"].z)[:, 0].float(), tr.context[-1, 1], atol=1e-4, rtol=0
    )
    src = next(t for t in fig.data if t.name == "source x_s")
    assert [s.strip("<b/>") for s in src.text] == list(task.decode(x[1, :n]))
    ref = [v for v in y[1].tolist() if v != -100]
    written = next(t for t in fig.data if t.name == "decoder writes")
    assert len(written.text) == len(ref)
    right = [a == b for a, b in zip(tr.tokens[1].tolist(), ref, strict=False)]
    assert [c == "#009E73" for c in written.textfont.color] == right
    reads = next(t for t in fig.data if t.name == "decoder reads")
    assert [_bold(s) for s in reads.text] == ["&lt;go&gt;"] + [  # <go>, escaped
        task.output_vocab[i] for i in tr.tokens[1, : len(ref) - 1].tolist()]  # its own words
    no_ref = rnnviz.plot_seq2seq(model.translate(x, lengths), sample=-1)
    assert not any(t.name == "reference" for t in no_ref.data)
    # a teacher-forced trace (what the Trainer snapshots): the decoder reads the true words
    forced = rnnviz.trace(model, x, y, lengths=lengths)
    fig = rnnviz.plot_seq2seq(forced, sample=1)
    reads = next(t for t in fig.data if t.name == "decoder reads")
    assert [_bold(s) for s in reads.text] == ["&lt;go&gt;"] + [  # <go>, escaped
        task.output_vocab[i] for i in ref[:-1]]
    assert "teacher forcing" in fig.layout.title.subtitle.text
    written = next(t for t in fig.data if t.name == "decoder writes")
    assert [_bold(s) for s in written.text] == [
        task.output_vocab[i] for i in forced.tokens[1, : len(ref)].tolist()]


# -- bad inputs ---------------------------------------------------------------------------------
def _model():
    return Seq2Seq(4, 3, hidden_size=5, seed=0)


@pytest.mark.parametrize(
    ("call", "err", "match"),
    [
        (lambda: Seq2Seq(0, 3), ValueError, "input_size"),
        (lambda: Seq2Seq(4, 3, cell="rnn"), ValueError, "cell"),
        (lambda: Seq2Seq(4, 3, hidden_size=2.0), ValueError, "hidden_size"),
        (lambda: Seq2Seq.from_task(object()), TypeError, "task must be an rnnviz task"),
        (lambda: Seq2Seq.from_task(tasks.Sine()), ValueError, "symbol inputs"),
        (lambda: Seq2Seq.from_task(tasks.DelayedRecall()), ValueError, "a class target at every step"),
        (lambda: _model()(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long)), TypeError, "x must be"),
        (
            lambda: _model()(torch.full((2, 3), 4), torch.zeros(2, 3, dtype=torch.long)),
            ValueError,
            r"x must hold ids in \[0, 4\)",
        ),
        (
            lambda: _model()(torch.zeros(2, 3, dtype=torch.long), torch.full((2, 3), 3)),
            ValueError,
            r"y must hold ids in \[0, 3\) or -100",
        ),
        (
            lambda: _model()(torch.zeros(2, 3, dtype=torch.long), torch.zeros(3, 3, dtype=torch.long)),
            ValueError,
            "batch size",
        ),
        (
            lambda: _model()(
                torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 3, dtype=torch.long), [4, 1]
            ),
            ValueError,
            "lengths",
        ),
        (lambda: _model().greedy(torch.zeros(2, 3, dtype=torch.long), steps=0), ValueError, "steps"),
        (lambda: _model().decode(torch.zeros(1, 2, 4), 3), ValueError, "context"),
        (lambda: _model().decode((torch.zeros(1, 2, 5),) * 2, 3), TypeError, "context"),
        (
            lambda: _model().translate(torch.zeros(2, 3, dtype=torch.long), target=torch.full((2, 3), 7)),
            ValueError,
            "target",
        ),
        (lambda: rnnviz.plot_seq2seq("nope"), TypeError, "must be a Seq2SeqTrace"),
        (
            lambda: rnnviz.plot_hidden(rnnviz.trace(_model(), torch.zeros(2, 3, dtype=torch.long))),
            TypeError,
            r"got a Seq2SeqTrace: pass its trace.encoder or trace.decoder",
        ),
        (
            lambda: rnnviz.jacobian_norms(_model(), torch.zeros(2, 3, dtype=torch.long)),
            TypeError,
            r"for a Seq2Seq, pass model.encoder or model.decoder",
        ),
        (
            lambda: rnnviz.trace(_model(), torch.zeros(2, 3, dtype=torch.long),
                                 torch.zeros(3, 3, dtype=torch.long)),
            ValueError,
            r"target must have the batch size of x \(2\)",
        ),
        (
            lambda: rnnviz.trace(_model(), torch.zeros(2, 3, dtype=torch.long),
                                 torch.full((2, 3), 5)),
            ValueError,
            r"target must hold ids in \[0, 3\) or -100",
        ),
        (
            lambda: rnnviz.trace(_model(), torch.zeros(2, 3, dtype=torch.long),
                                 torch.zeros(2, 3, dtype=torch.long), loss_fn="ce"),
            TypeError,
            "loss_fn must be callable",
        ),
        (
            lambda: rnnviz.trace(_model(), torch.zeros(2, 3, dtype=torch.long),
                                 h0=torch.zeros(2, 2, 5)),
            ValueError,
            "h0 must have shape",
        ),
        (
            lambda: rnnviz.trace(_model(), torch.zeros(2, 3, dtype=torch.long),
                                 torch.zeros(2, 3, dtype=torch.long),
                                 loss_fn=lambda o, t: o.sum(-1)),
            ValueError,
            "loss_fn must return a scalar",
        ),
        (
            lambda: rnnviz.plot_seq2seq(_model().translate(torch.zeros(2, 3, dtype=torch.long)), sample=2),
            ValueError,
            "sample",
        ),
        (lambda: tasks.Reverse(min_len=5, max_len=4), ValueError, "max_len"),
        (lambda: tasks.Reverse(num_symbols=1), ValueError, "num_symbols"),
        (lambda: tasks.Reverse(min_len=0), ValueError, "min_len"),
    ],
)
def test_bad_inputs_name_the_argument(call, err, match):
    with pytest.raises(err, match=match):
        call()


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
def test_core_views_draw_either_half_of_a_seq2seq_trace(cell):
    # the encoder and decoder of a Seq2SeqTrace are ordinary Traces: every core view draws them
    task = tasks.Reverse(num_symbols=3, min_len=1, max_len=4, seed=0)
    model = Seq2Seq.from_task(task, cell=cell, hidden_size=4, num_layers=2, seed=0)
    x, y, lengths = task.batch(3, seed=1)
    tr = rnnviz.trace(model, x, y, lengths=lengths)
    for part in (tr.encoder, tr.decoder):
        assert isinstance(part, rnnviz.Trace)
        rnnviz.plot_hidden(part, sample=1)
        rnnviz.plot_grad_flow(part)
        rnnviz.plot_unrolled(part, sample=0, backward=True)
        if cell != "elman":
            rnnviz.plot_gates(part, layer=-1)
            rnnviz.plot_gate_saturation(part)
    # what the views read: the encoder is zero on padding, the decoder runs every step
    assert torch.all(tr.encoder.hidden[:, 0, int(lengths[0]):] == 0)
    assert tr.decoder.lengths is None and tr.decoder.output.shape == (3, y.shape[1], 4)


# -- attention ----------------------------------------------------------------------------------
def attend_by_hand(model, z, e, lengths):
    """The attention equations written out, one sequence and one output step at a time:
    ``(attended (B, T, H), alignment (B, T, S))`` from decoder outputs ``z`` ``(B, T, H)`` and
    encoder outputs ``e`` ``(B, S, H)``, only the first ``lengths[b]`` source steps scored."""
    att = model.attention
    B, T, _ = z.shape
    S = e.shape[1]
    attended, alignment = [], []
    for b in range(B):
        n = S if lengths is None else int(lengths[b])
        keys = e[b, :n]  # (n, H)
        outs, rows = [], []
        for t in range(T):
            q = z[b, t]  # (H,)
            if att.score == "dot":
                score = torch.stack([q @ keys[s] for s in range(n)])  # (n,)
            else:
                score = torch.stack([
                    att.v.weight[0] @ torch.tanh(att.query.weight @ q + att.key.weight @ keys[s])
                    for s in range(n)])  # (n,)
            w = torch.exp(score - score.max())
            w = w / w.sum()  # softmax over the real source steps
            c = (w[:, None] * keys).sum(0)  # (H,)
            outs.append(torch.tanh(att.combine.weight @ torch.cat([c, q]) + att.combine.bias))
            rows.append(torch.cat([w, w.new_zeros(S - n)]))  # (S,) zero beyond the length
        attended.append(torch.stack(outs))
        alignment.append(torch.stack(rows))
    return torch.stack(attended), torch.stack(alignment)  # (B, T, H), (B, T, S)


def torch_encoder_outputs(model, x, lengths):
    """Top-layer encoder outputs ``(B, S, H)`` (zero beyond each length), torch.nn, one
    sequence at a time."""
    enc = model.encoder.to_torch()
    B, S = x.shape
    e = torch.zeros(B, S, model.hidden_size, dtype=torch.float64)
    for b in range(B):
        n = S if lengths is None else int(lengths[b])
        out, _ = enc(F.one_hot(x[b : b + 1, :n], model.input_size).double())  # (1, n, H)
        e[b, :n] = out[0]
    return e


def manual_attention_loop(model, x, steps, lengths, y=None):
    """The attention model step by step with torch.nn cores and the equations above: teacher
    forcing when ``y`` is given, else greedy. Returns ``(logits, alignment, ids)``."""
    dec = model.decoder.to_torch()
    state = torch_context(model, x, lengths)
    e = torch_encoder_outputs(model, x, lengths)
    prev = torch.full((x.shape[0],), model.start)
    logits, rows, ids = [], [], []
    for t in range(steps):
        out, state = dec(F.one_hot(prev, model.output_size + 1).double()[:, None], state)
        attended, a = attend_by_hand(model, out, e, lengths)  # (B, 1, H), (B, 1, S)
        step = attended[:, 0] @ model.linear.weight.T + model.linear.bias  # (B, O)
        logits.append(step)
        rows.append(a[:, 0])
        ids.append(step.argmax(-1))
        prev = ids[-1] if y is None else torch.where(y[:, t] == -100, model.start, y[:, t])
    return torch.stack(logits, 1), torch.stack(rows, 1), torch.stack(ids, 1)


@SETTINGS
@given(
    cell=st.sampled_from(["elman", "lstm", "gru"]),
    score=st.sampled_from(["dot", "additive"]),
    layers=st.integers(1, 2),
    hidden=st.integers(1, 6),
    vin=st.integers(2, 5),
    vout=st.integers(2, 5),
    B=st.integers(1, 4),
    S=st.integers(1, 7),
    T=st.integers(1, 7),
    with_lengths=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_attention_equals_a_manual_loop_with_torch_modules(
    cell, score, layers, hidden, vin, vout, B, S, T, with_lengths, seed
):
    model = Seq2Seq(vin, vout, cell=cell, hidden_size=hidden, num_layers=layers, seed=seed,
                    attention=score).double()
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, vin, (B, S), generator=g)
    y = torch.randint(0, vout, (B, T), generator=g)
    y[:, T - 1 :][torch.rand(B, 1, generator=g) < 0.5] = -100
    lengths = torch.randint(1, S + 1, (B,), generator=g) if with_lengths else None
    close = dict(atol=1e-9, rtol=1e-9)
    # teacher forcing: logits and alignment, on the checked and the trainer's fast path
    want, want_a, _ = manual_attention_loop(model, x, T, lengths, y)
    got = model(x, y, lengths)
    assert got.shape == (B, T, vout)
    torch.testing.assert_close(got, want, **close)
    torch.testing.assert_close(model.batch_output(x, y, lengths, check=False), want, **close)
    torch.testing.assert_close(model.align(x, y, lengths), want_a, **close)
    # greedy decoding: the same loop fed with its own argmax; translate records its alignment
    _, greedy_a, ids = manual_attention_loop(model, x, T, lengths)
    assert torch.equal(model.greedy(x, lengths, steps=T), ids)
    tr = model.translate(x, lengths, steps=T)
    assert torch.equal(tr.tokens, ids)
    torch.testing.assert_close(tr.alignment, greedy_a, **close)


@pytest.mark.parametrize("cell", ["elman", "lstm", "gru"])
@pytest.mark.parametrize("score", ["dot", "additive"])
@pytest.mark.parametrize(("layers", "with_lengths"), [(1, True), (2, False), (2, True)])
def test_trace_with_attention_equals_torch_and_autograd(cell, score, layers, with_lengths):
    task = tasks.Reverse(num_symbols=3, min_len=1, max_len=5, seed=0)
    model = Seq2Seq.from_task(task, cell=cell, hidden_size=4, num_layers=layers, seed=3,
                              attention=score).double()
    x, y, lengths = task.batch(5, seed=7)
    if not with_lengths:
        lengths = None
    tr = rnnviz.trace(model, x, y, lengths=lengths)
    # 1. forward: logits, loss and alignment of the manual loop
    logits, alignment, _ = manual_attention_loop(model, x, y.shape[1], lengths, y)
    torch.testing.assert_close(tr.output, logits.detach(), atol=1e-10, rtol=1e-10)
    torch.testing.assert_close(tr.alignment, alignment.detach(), atol=1e-10, rtol=1e-10)
    assert tr.loss == pytest.approx(float(task.loss(logits, y).detach()), rel=1e-10)
    # 2. every state and adjoint, against autograd through the explicit loops and attend_by_hand
    want_logits, want_loss, states, grads, grad_ctx = autograd_run(model, x, y, lengths,
                                                                   task.loss)
    torch.testing.assert_close(want_logits, logits.detach(), atol=1e-10, rtol=1e-10)
    real = _assert_states_and_adjoints(tr, x, lengths, cell, states, grads, grad_ctx)
    # attention sends gradient to the top encoder layer at every real source step directly
    top = tr.encoder.grad_hidden[-1].abs().sum(-1)  # (B, S)
    assert bool((top[real] > 0).all()) and bool((top[~real] == 0).all())
    # 3. nothing changed in the model
    assert all(p.grad is None for p in model.parameters()) and model.training


def test_alignment_rows_sum_to_one_and_are_zero_beyond_the_source():
    task = tasks.Reverse(num_symbols=4, min_len=1, max_len=6, seed=0)
    model = Seq2Seq.from_task(task, cell="lstm", hidden_size=6, num_layers=2, seed=0,
                              attention="additive")
    x, y, lengths = task.batch(8, seed=3)
    forced = rnnviz.trace(model, x, y, lengths=lengths)
    greedy = model.translate(x, lengths, target=y)
    beyond = torch.arange(x.shape[1])[None, None, :] >= lengths[:, None, None]  # (B, 1, S)
    for tr in (forced, greedy):
        assert tr.alignment.shape == (8, y.shape[1], x.shape[1])
        torch.testing.assert_close(tr.alignment.sum(-1), torch.ones(8, y.shape[1]))
        assert bool((tr.alignment.masked_select(beyond) == 0).all())
        assert bool((tr.alignment.masked_select(~beyond) > 0).all())
    torch.testing.assert_close(forced.alignment, model.align(x, y, lengths).detach())
    # without attention there is no alignment anywhere
    plain = Seq2Seq.from_task(task, hidden_size=6, seed=0)
    assert rnnviz.trace(plain, x, y, lengths=lengths).alignment is None
    assert plain.translate(x, lengths).alignment is None


def test_attention_none_is_todays_model_and_attention_weights_are_seeded():
    task = tasks.Reverse(num_symbols=4, max_len=5, seed=0)
    plain = Seq2Seq.from_task(task, hidden_size=8, seed=5)
    assert plain.attention is None and plain.attention_type is None
    assert list(plain.state_dict()) == [
        f"{core}.{w}_{k}_l0" for core in ("encoder", "decoder") for w in ("weight", "bias")
        for k in ("ih", "hh")] + ["linear.weight", "linear.bias"]
    assert "attention" not in repr(plain)
    rng = torch.get_rng_state()
    for score in ("dot", "additive", "DOT"):
        att = Seq2Seq.from_task(task, hidden_size=8, seed=5, attention=score)
        assert att.attention_type == score.lower() and f"attention={score.lower()!r}" in repr(att)
        shared = {k: v for k, v in att.state_dict().items() if not k.startswith("attention.")}
        assert list(shared) == list(plain.state_dict())  # the same weights from the same seed
        assert all(torch.equal(v, plain.state_dict()[k]) for k, v in shared.items())
        again = Seq2Seq.from_task(task, hidden_size=8, seed=5, attention=score)
        assert all(torch.equal(a, b) for a, b in zip(att.parameters(), again.parameters(),
                                                         strict=True))
        with torch.no_grad():
            for p in att.parameters():
                p.add_(1.0)
        att.reset_parameters()
        assert all(torch.equal(a, b) for a, b in zip(att.parameters(), again.parameters(),
                                                         strict=True))
    assert torch.equal(torch.get_rng_state(), rng)  # the global RNG is untouched
    names = {k for k in Seq2Seq(4, 3, hidden_size=5, attention="additive").state_dict()
             if k.startswith("attention.")}
    assert names == {"attention.query.weight", "attention.key.weight", "attention.v.weight",
                     "attention.combine.weight", "attention.combine.bias"}
    assert {k for k in Seq2Seq(4, 3, hidden_size=5, attention="dot").state_dict()
            if k.startswith("attention.")} == {"attention.combine.weight", "attention.combine.bias"}


def test_trainer_trains_a_seq2seq_with_attention():
    task = tasks.Reverse(num_symbols=3, min_len=1, max_len=3, seed=0)
    model = Seq2Seq.from_task(task, hidden_size=16, seed=0, attention="dot")
    trainer = rnnviz.Trainer(model, task, lr=2e-2, batch_size=32, seed=0, snapshot_every=30)
    history = trainer.run(60, progress=False)
    base = task.baseline()
    assert sum(history.metric[-5:]) / 5 > base.metric + 0.15
    assert sum(history.loss[-5:]) / 5 < 0.8 * base.loss
    snap = trainer.snapshots[-1].trace
    assert snap.teacher_forcing and snap.alignment is not None
    assert snap.alignment.shape == (*trainer.probe.y.shape, trainer.probe.x.shape[1])
    fig = rnnviz.views.animate_training(trainer)  # the alignment changes from frame to frame
    heat = [i for i, t in enumerate(fig.data) if t.name == "alignment"]
    assert len(fig.frames) == 3 and heat and heat[0] in fig.frames[-1].traces


def test_plot_seq2seq_draws_the_alignment_with_source_on_x_and_output_on_y():
    task = tasks.Reverse(num_symbols=4, min_len=3, max_len=5, seed=0)
    task.vocab = ["<b>", "B", "C", "D", "."]  # user text: shown, never markup
    task.output_vocab = list(task.vocab)
    model = Seq2Seq.from_task(task, hidden_size=6, seed=0, attention="dot")
    x, y, lengths = task.batch(3, seed=1)
    x[1, 0] = 0  # the source shows "<b>"
    for tr in (model.translate(x, lengths, target=y), rnnviz.trace(model, x, y, lengths=lengths)):
        fig = rnnviz.plot_seq2seq(tr, sample=1, theme="light")
        heat = {t.name: t for t in fig.data if t.type == "heatmap"}
        assert list(heat) == ["encoder h_s", "context c", "decoder z_t", "alignment"]
        n_src = int(lengths[1])
        n_out = len([v for v in y[1].tolist() if v != -100])
        a = heat["alignment"]
        assert (a.xaxis, a.yaxis) == ("x2", "y2")
        torch.testing.assert_close(torch.tensor(a.z).float(),
                                   tr.alignment[1, :n_out, :n_src], atol=1e-4, rtol=0)
        # source tokens on x (under the encoder columns), output tokens on y, escaped
        src = [task.vocab[i] for i in x[1, :n_src].tolist()]
        out = [task.output_vocab[i] for i in tr.tokens[1, :n_out].tolist()]
        esc = lambda words: [w.replace("<", "&lt;").replace(">", "&gt;") for w in words]  # noqa: E731
        on_x = next(t for t in fig.data if t.name == "alignment source")
        on_y = next(t for t in fig.data if t.name == "alignment writes")
        assert list(on_x.text) == esc(src) and "&lt;b&gt;" in on_x.text
        assert list(on_x.x) == list(a.x) == list(heat["encoder h_s"].x)  # under the encoder
        assert list(on_y.text) == esc(out) and list(on_y.y) == list(a.y) == list(range(n_out))
        assert {on_x.xaxis, on_y.xaxis, on_x.yaxis, on_y.yaxis} == {"x2", "y2"}
        ys = fig.layout.yaxis2
        assert ys.range[0] > ys.range[1]  # the first output word at the top
        ref = [v for v in y[1].tolist() if v != -100]
        assert [c == "#009E73" for c in on_y.textfont.color] == [
            p == q for p, q in zip(tr.tokens[1].tolist(), ref, strict=False)]
        # the panels do not overlap and the figure grew to hold the second one
        assert fig.layout.yaxis2.domain[1] < fig.layout.yaxis.domain[0]
        assert fig.layout.height > rnnviz.plot_seq2seq(
            Seq2Seq.from_task(task, hidden_size=6, seed=0).translate(x, lengths)).layout.height
        assert "attention" in fig.layout.title.subtitle.text


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: Seq2Seq(4, 3, attention="luong"),
         r"attention must be None, 'dot' or 'additive', got 'luong'"),
        (lambda: Seq2Seq(4, 3, attention=1), r"attention must be None, 'dot' or 'additive'"),
        (lambda: Seq2Seq(4, 3, attention=True), r"attention must be None, 'dot' or 'additive'"),
        (lambda: Seq2Seq(4, 3, hidden_size=5, attention="dot").decode(torch.zeros(1, 2, 5), 3),
         "memory .* is required with attention"),
        (lambda: Seq2Seq(4, 3, hidden_size=5, attention="dot").decode(
            torch.zeros(1, 2, 5), 3, memory=torch.zeros(2, 4, 3)), r"memory must have shape"),
        (lambda: _model().decode(torch.zeros(1, 2, 5), 3, memory=torch.zeros(2, 4, 5)),
         "memory and lengths are for a Seq2Seq with attention"),
        (lambda: _model().align(torch.zeros(2, 3, dtype=torch.long),
                                torch.zeros(2, 3, dtype=torch.long)),
         "align needs a Seq2Seq with attention"),
    ],
)
def test_bad_attention_arguments_name_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
