"""The status line's one dict (state, step, loss, metric, speed, message), and the trainer's
divergence message reworded for a person at the dashboard's controls."""

from __future__ import annotations

import math
import re
from typing import Any

# At full speed the status goes out at most once per STATUS_INTERVAL seconds (each change is
# a message); in slow motion with every frame.
STATUS_INTERVAL = 0.25
START: dict[str, Any] = {"state": "ready", "step": 0, "loss": None, "metric": None,
                         "steps_per_s": 0.0, "message": ""}


def finite_or_none(value: Any) -> float | None:
    """A float for a status line, or ``None`` for missing / non-finite values."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def status_of(trainer: Any, *, running: bool, steps_per_s: float, error: str) -> dict[str, Any]:
    """The status line of ``trainer``.

    Args:
        trainer: the dashboard's trainer (``state``, ``steps``, ``history``, ``message``).
        running: whether the dashboard's training loop runs.
        steps_per_s: the loop's measured speed (shown while running).
        error: a control's error (a refused lr, the loop failed), shown unless diverged.

    Returns:
        ``{"state", "step", "loss", "metric", "steps_per_s", "message"}``; ``state`` is
        ``"ready"``, ``"training"``, ``"paused"`` or ``"diverged"``.
    """
    h = trainer.history
    if trainer.state == "diverged":
        state, message = "diverged", for_the_controls(trainer.message)
    else:
        state = "training" if running else "paused" if len(h) else "ready"
        message = error
    return {"state": state, "step": int(trainer.steps),
            "loss": finite_or_none(h.loss[-1]) if len(h) else None,
            "metric": finite_or_none(h.metric[-1]) if len(h) else None,
            "steps_per_s": round(steps_per_s, 1) if running else 0.0,
            "message": message}


def for_the_controls(message: str) -> str:
    """The trainer's divergence message, reworded for a person at the dashboard's controls.

    The status line already says "diverged"; the banner says what happened and which control
    to use (the lr slider, the clip box, the ↺ reset button) instead of methods to call.
    """
    text = re.sub(r"^\s*training diverged\s*[:.,-]?\s*", "", message, flags=re.I)
    text = re.split(r"\.?\s*Lower the learning rate", text, maxsplit=1)[0].strip().rstrip(".")
    text = re.sub(r"diverg\w*", "blew up", text, flags=re.I)
    head = f"Training stopped: {text}. " if text else "Training stopped. "
    return head + "Lower the learning rate (lr) or tick clip, then press ↺ reset."
