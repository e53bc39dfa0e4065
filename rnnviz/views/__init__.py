"""Views: pure functions from a Trace (or a trainer) to a plotly figure.

``plot_*`` return a static ``plotly.graph_objects.Figure``; ``animate_*`` return one with
frames, a slider and play / pause buttons. Nothing is displayed as a side effect: show a
figure in JupyterLab by leaving it as a cell's last value, or write it with ``export_html``.
"""

from __future__ import annotations

from rnnviz.views._style import GATES, OKABE_ITO
from rnnviz.views.animate import (
    animate_gates,
    animate_grad_flow,
    animate_hidden,
    animate_training,
    animate_unrolled,
)
from rnnviz.views.export import export_html
from rnnviz.views.gradients import plot_grad_flow, plot_jacobian
from rnnviz.views.heatmaps import plot_gate_saturation, plot_gates, plot_hidden
from rnnviz.views.history import plot_history
from rnnviz.views.shapes import plot_task_shapes
from rnnviz.views.text import plot_text_activation
from rnnviz.views.unrolled import plot_unrolled

__all__ = [
    "GATES",
    "OKABE_ITO",
    "animate_gates",
    "animate_grad_flow",
    "animate_hidden",
    "animate_training",
    "animate_unrolled",
    "export_html",
    "plot_gate_saturation",
    "plot_gates",
    "plot_grad_flow",
    "plot_history",
    "plot_hidden",
    "plot_jacobian",
    "plot_task_shapes",
    "plot_text_activation",
    "plot_unrolled",
]
