"""The status line's one dict (state, step, loss, metric, speed, message), and the trainer's
divergence message reworded for a person at the dashboard's controls."""

from __future__ import annotations

import math
import re
from typing import Any

from rnnviz.i18n import LANGUAGES, N_, _, language

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


# The trainer's divergence message (rnnviz/trainer.py), the same msgid: its {what} and
# {kept} are taken out of it in whichever language it was written
DIVERGED = N_("Training diverged: {what}; {kept}. Lower the learning rate (lr={lr}) or enable "
              "gradient clipping (e.g. clip=1.0), then call reset() (or resume()).")


def _diverged_parts(message: str) -> tuple[str, str] | None:
    """``(what, kept)`` of a trainer's divergence message in any language rnnviz speaks."""
    for lang in LANGUAGES:
        with language(lang):
            template = _(DIVERGED)
        pattern = re.escape(template)
        for name, group in (("what", r"(?P<what>.+?)"), ("kept", r"(?P<kept>.+?)"),
                            ("lr", r"[^)]*")):
            pattern = pattern.replace(re.escape("{" + name + "}"), group, 1)
        found = re.fullmatch(pattern, message.strip(), flags=re.S)
        if found:
            return found["what"], found["kept"]
    return None


def for_the_controls(message: str) -> str:
    """The trainer's divergence message, reworded for a person at the dashboard's controls.

    The status line already says "diverged"; the banner says what happened and which control
    to use (the lr slider, the clip box, the ↺ reset button) instead of methods to call.
    """
    todo = _("Lower the learning rate (lr) or tick clip, then press ↺ reset.")
    parts = _diverged_parts(message)
    if parts is not None:
        what = _("{what}; {kept}").format(what=parts[0], kept=parts[1])
    else:  # not the trainer's message: keep what it says before the advice
        what = re.sub(r"^\s*training diverged\s*[:.,-]?\s*", "", message, flags=re.I)
        what = re.split(r"\.?\s*Lower the learning rate", what, maxsplit=1)[0].strip().rstrip(".")
        what = re.sub(r"diverg\w*", "blew up", what, flags=re.I)  # i18n-ignore: English text
    if what:
        return _("Training stopped: {what}. {todo}").format(what=what, todo=todo)
    return _("Training stopped. {todo}").format(todo=todo)
