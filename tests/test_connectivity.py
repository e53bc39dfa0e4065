"""connectivity against torch.autograd.functional.jacobian of plain torch.nn modules."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import rnnviz
from rnnviz import tasks
from rnnviz.dilation import dilate
from rnnviz.models import GRU, LSTM, Elman
from rnnviz.sensitivity import connectivity

MODELS = {"elman": Elman, "lstm": LSTM, "gru": GRU}
F64 = torch.float64


def torch_reference(core, x, lengths, layer, direction):
    """||d h_t / d x_s||_F from autograd on a plain torch module cut after ``layer``."""
    config = core._config()
    config.update(num_layers=layer + 1, dropout=0.0, batch_first=True)
    module = core._torch_class(**config, dtype=x.dtype)
    keep = {k: v for k, v in core.state_dict().items() if int(k.split("_l")[1][0]) <= layer}
    module.load_state_dict(keep)
    H = core.hidden_size

    def h(e):
        if lengths is None:
            out, _ = module(e)
        else:
            packed = pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
            out, _ = pad_packed_sequence(module(packed)[0], batch_first=True,
                                         total_length=e.shape[1])
        return out[..., direction * H : (direction + 1) * H]  # (B, T, H)

    J = torch.autograd.functional.jacobian(h, x)  # (B, T, H, B, T, I)
    B = x.shape[0]
    J = J[torch.arange(B), :, :, torch.arange(B)]  # (B, T, H, T, I)
    return J.pow(2).sum(dim=(2, 4)).sqrt()  # (B, T, T)


@st.composite
def configs(draw):
    cell = draw(st.sampled_from(sorted(MODELS)))
    L = draw(st.integers(1, 3))
    bi = draw(st.booleans())
    B, T = draw(st.integers(1, 3)), draw(st.integers(1, 6))
    I = draw(st.sampled_from([1, 3, 30]))  # 30 > D*G for small H: the reduced input basis
    H = draw(st.integers(1, 4))
    lengths = draw(st.none() | st.lists(st.integers(1, T), min_size=B, max_size=B))
    layer = draw(st.integers(0, L - 1))
    direction = draw(st.integers(0, 1 if bi else 0))
    seed = draw(st.integers(0, 2**16))
    return cell, L, bi, B, T, I, H, lengths, layer, direction, seed


@settings(max_examples=30, deadline=None)
@given(cfg=configs())
def test_connectivity_equals_autograd_jacobian(cfg) -> None:
    cell, L, bi, B, T, I, H, lengths, layer, direction, seed = cfg
    core = MODELS[cell](I, H, num_layers=L, bidirectional=bi, batch_first=True, seed=seed,
                        dtype=F64)
    x = torch.randn(B, T, I, dtype=F64, generator=torch.Generator().manual_seed(seed))
    lens = None if lengths is None else torch.tensor(lengths)
    C = connectivity(core, x, lengths=lens, layer=layer, direction=direction)
    ref = torch_reference(core, x, lens, layer, direction)
    assert C.shape == (B, T, T) and C.dtype == F64
    torch.testing.assert_close(C, ref, rtol=1e-9, atol=1e-12)
    if not bi:  # causal: the future cannot reach h_t
        assert (C.triu(1) == 0).all()


def test_connectivity_relu_negative_layer_time_major_and_h0() -> None:
    core = Elman(3, 4, num_layers=2, nonlinearity="relu", seed=1, dtype=F64)  # (T, B, I)
    x = torch.randn(5, 2, 3, dtype=F64)
    h0 = torch.randn(2, 2, 4, dtype=F64)
    C = connectivity(core, x, layer=-1, h0=h0)
    batch_first = Elman(3, 4, num_layers=2, nonlinearity="relu", batch_first=True, seed=1,
                        dtype=F64)
    xb = x.transpose(0, 1).requires_grad_()

    def h(e):
        return batch_first(e, h0)[0]

    J = torch.autograd.functional.jacobian(h, xb)[torch.arange(2), :, :, torch.arange(2)]
    torch.testing.assert_close(C, J.pow(2).sum(dim=(2, 4)).sqrt())


@pytest.mark.parametrize("cell", sorted(MODELS))
def test_connectivity_dilated_and_float32(cell) -> None:
    core = dilate(MODELS[cell](2, 3, num_layers=2, batch_first=True, seed=0, dtype=F64), (1, 2))
    x = torch.randn(2, 7, 2, dtype=F64)
    C = connectivity(core, x, layer=1)

    def h(e):
        return core(e)[0]

    J = torch.autograd.functional.jacobian(h, x)[torch.arange(2), :, :, torch.arange(2)]
    torch.testing.assert_close(C, J.pow(2).sum(dim=(2, 4)).sqrt())
    # a dilation of 2 in layer 1 skips no input: every s <= t still reaches h_t
    assert (C[:, 1:, 0] > 0).all()
    c32 = connectivity(MODELS[cell](2, 3, batch_first=True, seed=0), x.float())
    assert c32.dtype == torch.float32


def test_connectivity_of_a_sequence_model_uses_the_encoded_input() -> None:
    task = tasks.Brackets(seq_len=8, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell="gru", hidden_size=6, seed=0).double()
    batch = task.batch(2, seed=1)
    C = rnnviz.connectivity(model, batch.x)
    assert C.shape == (2, 8, 8)
    torch.testing.assert_close(C, connectivity(model.core, model.encode(batch.x)))


def test_connectivity_leaves_the_model_alone() -> None:
    core = LSTM(2, 3, num_layers=2, dropout=0.5, batch_first=True, seed=0)
    core.train()
    before = {k: v.clone() for k, v in core.state_dict().items()}
    C1 = connectivity(core, torch.ones(1, 4, 2))
    C2 = connectivity(core, torch.ones(1, 4, 2))
    assert core.training and torch.equal(C1, C2)  # eval inside: no dropout
    assert all(torch.equal(v, core.state_dict()[k]) for k, v in before.items())
    assert all(p.grad is None for p in core.parameters())


@pytest.mark.parametrize("kwargs,error,match", [
    ({"layer": 2}, ValueError, "layer must be in"),
    ({"layer": 0.5}, TypeError, "layer must be an int"),
    ({"direction": 1}, ValueError, "direction must be in"),
    ({"lengths": [5, 1]}, ValueError, "lengths"),
])
def test_connectivity_bad_arguments(kwargs, error, match) -> None:
    core = GRU(2, 3, num_layers=2, batch_first=True, seed=0)
    with pytest.raises(error, match=match):
        connectivity(core, torch.zeros(2, 4, 2), **kwargs)
    with pytest.raises(TypeError, match="model must be"):
        connectivity(torch.nn.Linear(2, 2), torch.zeros(2, 4, 2))
    with pytest.raises(ValueError, match="input_size"):
        connectivity(core, torch.zeros(2, 4, 5))


# ---------------------------------------------------------------------------------------------
# plot_connectivity


def test_plot_connectivity_heatmap_reads_back_the_numbers() -> None:
    import numpy as np

    core = LSTM(2, 3, batch_first=True, seed=0, dtype=F64)
    C = connectivity(core, torch.randn(2, 6, 2, dtype=F64))
    fig = rnnviz.plot_connectivity(C, sample=1, theme="light")
    [heat] = [d for d in fig.data if d.type == "heatmap"]
    np.testing.assert_allclose(np.asarray(heat.customdata, dtype=float), C[1].numpy(),
                               rtol=1e-3)
    z = np.asarray(heat.z, dtype=float)
    lower = np.tril(np.ones((6, 6), bool))
    np.testing.assert_allclose(z[lower], np.log10(C[1].numpy()[lower]), atol=1e-4)
    assert np.isnan(z[~lower]).all()  # the future does not reach h_t: blank
    assert fig.layout.coloraxis.cmax == pytest.approx(float(z[lower].max()), abs=1e-4)
    [box] = fig.layout.shapes
    assert (box.y0, box.y1) == (4.5, 5.5)  # default step: the last one
    assert fig.layout.width <= 620


def test_plot_connectivity_text_is_coloured_by_one_output_step_and_escaped() -> None:
    import numpy as np

    text = "<b>&x"
    C = torch.rand(1, 5, 5).tril() + 0.1 * torch.eye(5)
    fig = rnnviz.plot_connectivity(C[0], text=text, step=3, wrap=4)
    heat, chars = [d for d in fig.data if d.type == "heatmap"]
    assert chars.z.shape == (2, 4)
    np.testing.assert_allclose(np.asarray(chars.z, dtype=float).ravel()[:4],
                               np.log10(C[0, 3, :4].numpy()), atol=1e-4)
    assert np.isnan(np.asarray(chars.z, dtype=float)[1, 0])  # s = 4 > t = 3: cannot reach
    assert list(chars.text[0]) == ["&lt;", "b", "&gt;", "&amp;"] and chars.text[1][0] == "x"
    assert "&lt;" in heat.hovertemplate or list(fig.layout.xaxis.ticktext)[0] == "&lt;"
    assert "<b>" not in str(fig.layout.xaxis.ticktext)
    assert "step 3" in fig.layout.annotations[-1].text


@pytest.mark.parametrize("args,kwargs,error,match", [
    ((torch.zeros(2, 3, 4),), {}, ValueError, "shape \\(B, T, T\\)"),
    (("abc",), {}, TypeError, "connectivity must be"),
    ((torch.zeros(2, 3, 3),), {"sample": 2}, ValueError, "sample must be in"),
    ((torch.zeros(2, 3, 3),), {"step": 3}, ValueError, "step must be in"),
    ((torch.zeros(2, 3, 3),), {"text": "ab"}, ValueError, "one character per step"),
    ((torch.zeros(2, 3, 3),), {"text": 5}, TypeError, "text must be a str"),
    ((torch.zeros(2, 3, 3),), {"wrap": 0}, ValueError, "wrap must be"),
    ((torch.zeros(2, 3, 3),), {"theme": "neon"}, ValueError, "theme must be"),
])
def test_plot_connectivity_errors(args, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        rnnviz.plot_connectivity(*args, **kwargs)


@pytest.mark.parametrize("cell", sorted(MODELS))
def test_chunks_of_input_steps_and_the_autograd_fallback_agree(cell, monkeypatch) -> None:
    from rnnviz import sensitivity

    core = MODELS[cell](3, 4, num_layers=2, bidirectional=True, batch_first=True, seed=2,
                        dtype=F64)
    x = torch.randn(2, 7, 3, dtype=F64)
    lengths = torch.tensor([7, 5])
    whole = connectivity(core, x, lengths=lengths, layer=1, direction=1)
    monkeypatch.setattr(sensitivity, "_CHUNK_BYTES", 1)  # one input step per chunk
    torch.testing.assert_close(connectivity(core, x, lengths=lengths, layer=1, direction=1),
                               whole)

    class Own(type(core)):  # a core with its own recurrence: autograd through it
        def _explicit(self, *args, **kwargs):
            return super()._explicit(*args, **kwargs)

    own = Own(3, 4, num_layers=2, bidirectional=True, batch_first=True, seed=2, dtype=F64)
    torch.testing.assert_close(connectivity(own, x, lengths=lengths, layer=1, direction=1),
                               whole)
