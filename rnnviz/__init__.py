"""rnnviz: train small recurrent networks live in JupyterLab and watch them think.

Models (same arguments and weights as ``torch.nn``): ``Elman``, ``LSTM``, ``GRU``, their
one-step cells, and ``SequenceModel`` (encoding + core + readout, built from a task).
Numbers: ``trace`` (a ``Trace``; a ``Seq2SeqTrace`` for a ``Seq2Seq``), ``jacobian_norms``,
``spectral_radius``; ``init_recurrent``, ``set_forget_bias``. Data: ``tasks``. Training:
``Trainer`` (of any ``Trainable``: a ``SequenceModel`` or a ``Seq2Seq``). Presets: ``Preset``
(every choice in one string, ``Preset.parse(...).build()``), ``presets`` (named ones,
trained checkpoints). Views return plotly figures: ``plot_*`` and ``animate_*``. Live:
``dashboard``; ``playground`` (every choice as a control, no code).

Example:
    >>> import rnnviz
    >>> task = rnnviz.tasks.Echo(delay=2, seed=0)
    >>> model = rnnviz.SequenceModel.from_task(task, cell="lstm", hidden_size=16, seed=0)
    >>> trainer = rnnviz.Trainer(model, task, lr=1e-2, batch_size=32, seed=0)
    >>> trainer.run(100, progress=False)  # doctest: +SKIP
    >>> batch = task.batch(4, seed=1)
    >>> rnnviz.plot_hidden(rnnviz.trace(model, batch.x, batch.y))  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name -> module that defines it. Imported on first use, so `import rnnviz` is fast.
_EXPORTS: dict[str, str] = {
    # models
    "Elman": "rnnviz.models",
    "LSTM": "rnnviz.models",
    "GRU": "rnnviz.models",
    "ElmanCell": "rnnviz.cells",
    "LSTMCell": "rnnviz.cells",
    "GRUCell": "rnnviz.cells",
    "SequenceModel": "rnnviz.sequence_model",
    "Dilated": "rnnviz.dilation",
    "dilate": "rnnviz.dilation",
    "Seq2Seq": "rnnviz.seq2seq",
    "path_lengths": "rnnviz.dilation",
    # numbers
    "Trace": "rnnviz._types",
    "Seq2SeqTrace": "rnnviz._types",
    "Batch": "rnnviz._types",
    "trace": "rnnviz.tracing",
    "jacobian_norms": "rnnviz.tracing",
    "JacobianNorms": "rnnviz.tracing",
    "spectral_radius": "rnnviz.tracing",
    "set_spectral_radius": "rnnviz.tracing",
    "init_recurrent": "rnnviz.initialization",
    "set_forget_bias": "rnnviz.initialization",
    "connectivity": "rnnviz.sensitivity",
    "find_units": "rnnviz.units",
    "UnitScores": "rnnviz.units",
    "generate": "rnnviz.sampling",
    # training
    "Trainer": "rnnviz.trainer",
    "Trainable": "rnnviz._types",
    "evaluate": "rnnviz.evaluation",
    "Preset": "rnnviz.presets",  # the Playground's choices as a string; named ones: rnnviz.presets
    # views
    "plot_unrolled": "rnnviz.views",
    "plot_hidden": "rnnviz.views",
    "plot_gates": "rnnviz.views",
    "plot_gate_saturation": "rnnviz.views",
    "plot_grad_flow": "rnnviz.views",
    "plot_jacobian": "rnnviz.views",
    "plot_history": "rnnviz.views",
    "plot_text_activation": "rnnviz.views",
    "plot_task_shapes": "rnnviz.views",
    "plot_dilation": "rnnviz.views.dilation",
    "plot_seq2seq": "rnnviz.views.seq2seq",
    "plot_cell": "rnnviz.views.cell",
    "animate_cell": "rnnviz.views.cell",
    "plot_connectivity": "rnnviz.views.connectivity",
    "animate_unrolled": "rnnviz.views",
    "animate_hidden": "rnnviz.views",
    "animate_gates": "rnnviz.views",
    "animate_grad_flow": "rnnviz.views",
    "animate_training": "rnnviz.views",
    "export_html": "rnnviz.views",
    # live
    "dashboard": "rnnviz.live",
    "playground": "rnnviz.app",
    "Playground": "rnnviz.app",
    "set_language": "rnnviz.i18n", "get_language": "rnnviz.i18n",  # language: en, ru
    # size limits (raise one on purpose: rnnviz.limits.max_steps = 10**6)
    "limits": "rnnviz._validate",
}

_SUBMODULES = ("tasks", "tokens", "presets")

__all__ = [*_SUBMODULES, *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"rnnviz.{name}")
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    # Python's own wording, as for any module (tools and hasattr() rely on it)
    raise AttributeError(f"module 'rnnviz' has no attribute {name!r}")  # i18n-ignore


def __dir__() -> list[str]:
    return sorted(__all__)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext rnnviz``: registers the ``%%solution`` cell magic of the lessons."""
    from rnnviz._solution import load_ipython_extension as load

    load(ipython)


def _register_solution_magic() -> None:
    from rnnviz._solution import register_if_ipython

    register_if_ipython()


_register_solution_magic()
