"""The words of the dashboard's own HTML (buttons, tooltips, labels, status words), in the
language in force when the dashboard is built.

They reach the browser in one trait, ``Dashboard.labels``; the JavaScript (``ui.js``) only
reads them and fills ``{name}`` fields, so every translation lives in the gettext catalogue.
"""

from __future__ import annotations

from rnnviz.i18n import _, pgettext

#: The status line's states (``_status.status_of``), as the keys of ``labels()["states"]``.
STATES = ("ready", "training", "paused", "diverged")


def labels() -> dict[str, object]:
    """Every word the dashboard's HTML shows, keyed by what it labels."""
    return {
        # buttons (text and tooltip)
        "play": _("▶ play"),
        "pause": _("❚❚ pause"),
        "play_tip": _("Play / pause training"),
        "step": _("+1 batch"),
        "step_tip": _("Train one batch"),
        "t_step": "t + 1",
        "t_step_tip": _("Move the time cursor one step"),
        "reset": _("↺ reset"),
        "reset_tip": _("Fresh weights, empty history"),
        # control groups and their tooltips
        "speed": _("speed"),
        "speed_tip": _("Training speed"),
        "speed_max": pgettext("training speed", "max"),
        "speed_one": _("1 step/frame"),
        "lr": "lr",  # torch's argument name, in every language
        "lr_tip": _("Learning rate (log scale)"),
        "clip": pgettext("gradient clipping", "clip"),
        "clip_tip": _("Clip the gradient norm"),
        "clip_value_tip": _("Clipping threshold"),
        "t": "t",
        "t_tip": _("Time step t"),
        "show": pgettext("which sequence the views show", "show"),
        "sample_tip": _("Probe sequence shown"),
        "sequence": _("sequence {i}"),
        # the status line: "{state} · step 12 · loss 0.6931 · accuracy 0.500 · 250.0 steps/s"
        "states": {
            "ready": pgettext("training state", "ready"),
            "training": pgettext("training state", "training"),
            "paused": pgettext("training state", "paused"),
            "diverged": pgettext("training state", "diverged"),
        },
        "status_step": _("step {step}"),
        "status_loss": _("loss {loss}"),
        "status_speed": _("{speed} steps/sec"),
        "readout": "t = {t}: {what}",
        # a banner that starts with this is an error (see Controls._on_loop_stop)
        "error": _("error"),
    }
