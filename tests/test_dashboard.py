"""The live dashboard without a browser: traits, frames, pacing, play / pause, divergence."""

from __future__ import annotations

import asyncio
import json
import time

import nbformat
import numpy as np
import pytest
import torch

import rnnviz
from rnnviz.live import _figures as F
from rnnviz.live import _sender, _status
from rnnviz.live import _wire as wire
from rnnviz.live._loop import FramePacer


def make_trainer(cell: str = "lstm", *, hidden: int = 8, seq_len: int = 10, **kw) -> rnnviz.Trainer:
    task = rnnviz.tasks.Echo(delay=2, seq_len=seq_len, seed=0)
    model = rnnviz.SequenceModel.from_task(task, cell=cell, hidden_size=hidden, seed=0)
    kw.setdefault("lr", 1e-2)
    return rnnviz.Trainer(model, task, batch_size=8, seed=0, **kw)


class Sent:
    """Records what a dashboard sends to the browser."""

    def __init__(self, dash) -> None:
        self.messages: list[tuple[dict, list]] = []
        dash.send = lambda content, buffers=None: self.messages.append((content, buffers or []))

    def frames(self) -> list[tuple[dict, list]]:
        return [(c, b) for c, b in self.messages if c.get("type") == "frame"]


def decode(content: dict, buffers: list) -> dict[tuple[str, int, str], object]:
    """Every part's value as the browser decodes it (float32, or colour codes: see _wire)."""
    out = {}
    for part in content["parts"]:
        if "layout" in part:  # dotted layout paths
            out.update({(part["fig"], "layout", path): v for path, v in part["layout"].items()})
            continue
        if "buffer" in part:
            raw = buffers[part["buffer"]]
            if "codes" in part:
                mask = buffers[part["missing"]] if "missing" in part else None
                codes = np.frombuffer(raw, dtype=np.uint8).reshape(part["shape"])
                a = wire.decode(codes, *part["codes"], mask)
            else:
                a = np.frombuffer(raw, dtype=np.float32).reshape(part["shape"])
            out[(part["fig"], part["trace"], part["key"])] = a
        else:
            out[(part["fig"], part["trace"], part["key"])] = part["value"]
    return out


# ----------------------------------------------------------------------------- arguments


def test_resize_figure_recomputes_the_narrow_variant() -> None:
    dash = rnnviz.dashboard(make_trainer(), views=("hidden", "unrolled"))
    before = dash.figures["history"]["narrow"]
    dash.resize_figure("history", height=230, margin={"t": 52, "b": 40}, showlegend=False,
                       panel_min=130)
    spec = dash.figures["history"]
    assert spec["layout"]["height"] == 230 and spec["layout"]["showlegend"] is False
    assert spec["layout"]["margin"]["t"] == 52 and spec["layout"]["margin"]["l"] == 70
    assert spec["narrow"] == F.narrow_variant(spec["data"], spec["layout"], panel_min=130)
    assert spec["narrow"]["below"] < before["below"]  # narrower panels allowed side by side
    # a title with a subtitle hangs from the top of its narrow variant, with room below it
    title = dash.figures["unrolled"]["narrow"]["layout"]["title"]
    assert title["yanchor"] == "top" and title["yref"] == "container"
    assert dash.figures["unrolled"]["narrow"]["layout"]["margin"]["t"] >= 130
    with pytest.raises(ValueError, match="name must be one of"):
        dash.resize_figure("gates", height=200)
    with pytest.raises(ValueError, match="height must be"):
        dash.resize_figure("history", height=0)
    with pytest.raises(TypeError, match="margin must be a dict"):
        dash.resize_figure("history", margin=40)
    with pytest.raises(TypeError, match="showlegend must be a bool"):
        dash.resize_figure("history", showlegend="no")


def test_bad_arguments_name_the_argument() -> None:
    trainer = make_trainer()
    with pytest.raises(TypeError, match="trainer must be an rnnviz.Trainer"):
        rnnviz.dashboard(object())
    with pytest.raises(ValueError, match="views must be one of"):
        rnnviz.dashboard(trainer, views=("hidden", "nope"))
    with pytest.raises(ValueError, match="views must not repeat"):
        rnnviz.dashboard(trainer, views=("hidden", "hidden"))
    with pytest.raises(ValueError, match="fps must be"):
        rnnviz.dashboard(trainer, fps=0)
    with pytest.raises(ValueError, match="fps must be at most 60"):
        rnnviz.dashboard(trainer, fps=500)
    with pytest.raises(ValueError, match="theme must be one of"):
        rnnviz.dashboard(trainer, theme="neon")


# ----------------------------------------------------------------------------- traits


def test_state_describes_the_trainer_and_nothing_runs() -> None:
    trainer = make_trainer()
    dash = rnnviz.dashboard(trainer, fps=15, theme="dark")
    state = dash.get_state()
    assert state["playing"] is False and state["status"] == {
        "state": "ready", "step": 0, "loss": None, "metric": None, "steps_per_s": 0.0,
        "message": ""}
    assert state["figure_order"] == ["history", "hidden", "grad_flow", "gates"]
    assert set(state["figures"]) == set(state["figure_order"])
    assert state["seq_len"] == 10 and state["probe_size"] == trainer.probe.x.shape[0]
    assert state["fps"] == 15 and state["theme"] == "dark"
    assert state["lr"] == pytest.approx(trainer.lr) and state["clip_enabled"] is False
    assert state["metric_name"] == "accuracy"
    assert "LSTM" in state["title"] and "hidden 8" in state["title"]
    json.dumps(state["figures"])  # plain JSON, no numpy, no base64 arrays
    assert "bdata" not in json.dumps(state["figures"])
    assert not dash.running
    assert repr(dash) == "rnnviz dashboard (LSTM · hidden 8 · 1 layer · task echo)"
    bundle = dash._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["text/plain"] == repr(dash)


def test_every_trait_has_help() -> None:
    from rnnviz.live import Dashboard

    for name in Dashboard.class_own_traits(sync=True):
        assert Dashboard.class_trait_names(sync=True) and Dashboard.class_traits()[name].help, (
            f"trait {name} has no help")


def test_elman_has_no_gates_view() -> None:
    dash = rnnviz.dashboard(make_trainer("elman"), views=("hidden", "gates", "unrolled"))
    assert dash.views == ["hidden", "unrolled"]
    assert dash.figure_order == ["history", "hidden", "unrolled"]
    # the status line says why the requested view is missing
    assert "gates" in dash.note and "Elman" in dash.note
    only = rnnviz.dashboard(make_trainer("elman"), views=("gates",))
    assert only.views == [] and only.figure_order == ["history"] and "no gates" in only.note
    assert rnnviz.dashboard(make_trainer("lstm"), views=("gates",)).note == ""
    assert rnnviz.dashboard(make_trainer("elman"), views=("hidden",)).note == ""


@pytest.mark.parametrize(("views", "grids"), [
    (("hidden", "grad_flow"), {"hidden": "half", "grad_flow": "half"}),
    (("grad_flow", "gates"), {"grad_flow": "wide", "gates": "wide"}),  # alone: the full row
    (("hidden", "unrolled"), {"hidden": "wide", "unrolled": "wide"}),
])
def test_a_lone_half_width_view_takes_the_full_width(views, grids) -> None:
    dash = rnnviz.dashboard(make_trainer(), views=views)
    assert {n: f["grid"] for n, f in dash.figures.items() if n != "history"} == grids


def test_narrow_slots_stack_the_subplots_and_wrap_the_titles() -> None:
    dash = rnnviz.dashboard(make_trainer(), views=("hidden", "grad_flow", "gates", "unrolled"))
    for name, spec in dash.figures.items():
        narrow, layout = spec["narrow"], spec["layout"]
        assert 320 <= narrow["below"] <= 1400, (name, narrow["below"])
        assert narrow["height"] >= layout["height"]
        title = narrow["layout"]["title"]["text"]
        assert "<br>" in title or F._text_px(title, 21) + 30 <= 320, (name, title)
        stacked = {k: v["domain"] for k, v in narrow["layout"].items() if k.startswith("xaxis")}
        assert all(d == [0.0, 1.0] for d in stacked.values()), name  # one panel per row
        ys = sorted(v["domain"] for k, v in narrow["layout"].items() if k.startswith("yaxis"))
        assert all(a[1] < b[0] for a, b in zip(ys, ys[1:], strict=False)), (name, ys)  # never overlapping
        if not ys:  # one column (hidden, unrolled): only the title wraps
            assert narrow["annotations"] == layout.get("annotations", []), name
            continue
        # subplot titles sit on their panels' tops, centred
        tops = {d[1] for d in ys}
        for ann in narrow["annotations"]:
            if ann.get("xref") == ann.get("yref") == "paper":
                assert ann["x"] == 0.5 and ann["y"] in tops, (name, ann)
    grad = dash.figures["grad_flow"]["narrow"]
    assert grad["below"] >= 2 * F.PANEL_MIN_PX  # two panels side by side need room
    assert set(grad["colorbars"]) == {"2"}  # the heatmap's colour bar moves with it
    assert dash.figures["history"]["narrow"]["below"] <= 1000  # 3 panels side by side on a
    # 1280 x 720 projector with the sidebar open (short subplot titles)
    titles = [a["text"] for a in dash.figures["history"]["layout"]["annotations"]
              if a["xref"] == "paper"]
    assert titles == ["loss", "accuracy", "gradient norm"]


def test_controls_reach_the_trainer() -> None:
    trainer = make_trainer()
    dash = rnnviz.dashboard(trainer)
    dash.lr = 0.05
    assert trainer.lr == pytest.approx(0.05)
    dash.clip_value = 0.5
    assert trainer.clip is None  # clipping is off until enabled
    dash.clip_enabled = True
    assert trainer.clip == pytest.approx(0.5)
    dash.clip_enabled = False
    assert trainer.clip is None
    dash.lr = -1.0  # refused: the trait goes back, the message says why
    assert trainer.lr == pytest.approx(0.05) and dash.lr == pytest.approx(0.05)
    assert "lr must be a positive finite number" in dash.status["message"]
    dash.t = 99
    assert dash.t == dash.seq_len - 1
    dash.sample = 99
    assert dash.sample == 0


# ----------------------------------------------------------------------------- frames


def test_the_cell_view_follows_the_time_cursor() -> None:
    """Moving the cursor while paused sends a frame with the cell at that step, and only the
    views that follow the cursor; the numbers are plot_cell's at that step."""
    trainer = make_trainer("lstm")
    dash = rnnviz.dashboard(trainer, views=("hidden", "cell"))
    assert "t = 0" in dash.figures["cell"]["layout"]["title"]["text"]
    sent = Sent(dash)
    dash.t = 1  # the first frame carries every view
    ((first, _),) = sent.frames()
    assert {p["fig"] for p in first["parts"]} == {"history", "hidden", "cell"}
    dash._on_message(dash, {"type": "drawn", "seq": first["seq"]}, [])
    time.sleep(0.1)  # past the frame cap's interval
    dash.t = 3
    ((content, buffers),) = sent.frames()[1:]
    got = decode(content, buffers)
    assert {fig for fig, *_ in got} == {"history", "cell"}  # the heatmaps did not move
    assert "t = 3" in got[("cell", "layout", "title.text")]
    want = rnnviz.plot_cell(F.probe_trace(trainer), 3, layer=-1)
    strips = {d.meta: k for k, d in enumerate(want.data) if d.type == "heatmap"}
    for name, k in strips.items():
        np.testing.assert_allclose(got[("cell", k, "z")], want.data[k].z, rtol=1e-6,
                                   atol=1e-7, err_msg=name)
    dash.t = 3  # the same cursor: nothing new to send
    assert len(sent.frames()) == 2
    dash.close()


@pytest.mark.parametrize("cell", ["lstm", "gru", "elman"])
def test_frame_arrays_match_the_views(cell: str) -> None:
    """What the widget sends equals what rnnviz.views puts in the same trace of the same
    figure: numbers, and colour ranges (those that follow the data rounded up to 1-2-5)."""
    from tests.test_live_views import STATIC

    trainer = make_trainer(cell)
    dash = rnnviz.dashboard(trainer, views=("hidden", "gates", "grad_flow", "unrolled"))
    trainer.run(3, progress=False)
    sent = Sent(dash)
    dash.sample = 1
    ((content, buffers),) = sent.frames()
    got = decode(content, buffers)
    tr = F.probe_trace(trainer)
    figs = {name: STATIC[name](tr, 1, "auto") for name in dash.views}
    assert set(figs) == ({"hidden", "grad_flow", "unrolled"} | ({"gates"} if cell != "elman"
                                                                else set()))
    coded = {(p["fig"], p["trace"]): p["codes"] for p in content["parts"] if "codes" in p}
    checked = ranges = 0
    for (fig, k, key), value in got.items():
        if fig == "history":
            continue
        want = figs[fig].data[k][key]
        if key in ("zmin", "zmax") and abs(want) != 1.0:  # a range that follows the data
            assert value == np.sign(want) * F.nice_bound(abs(want)), (fig, k, key)
            ranges += 1
            continue
        if (fig, k) in coded and key == "z":  # colour codes: the same colours, values to
            lo, hi = coded[(fig, k)]  # half a colour step
            want = np.asarray(want, dtype=np.float64)
            np.testing.assert_array_equal(np.isnan(value), np.isnan(want))
            np.testing.assert_array_equal(wire.lut_index(value, lo, hi),
                                          wire.lut_index(want, lo, hi),
                                          err_msg=f"{fig} trace {k} {key}")
            np.testing.assert_allclose(value, want, rtol=0, atol=(hi - lo) / 510 + 1e-6,
                                       equal_nan=True, err_msg=f"{fig} trace {k} {key}")
        else:
            np.testing.assert_allclose(np.asarray(value, dtype=np.float64),
                                       np.asarray(want, dtype=np.float64), rtol=1e-6,
                                       atol=1e-7, equal_nan=True, err_msg=f"{fig} trace {k} {key}")
        checked += key in ("z", "y")
    # every heatmap goes as colour codes: hidden, gates, the grad flow's, unrolled
    assert len(coded) == {"lstm": 1 + 5 + 1 + 1, "gru": 1 + 3 + 1 + 1, "elman": 1 + 1 + 1}[cell]
    # hidden + gates (LSTM i f g o c, GRU r z n) + grad flow (h, c lines, heatmap) + unrolled
    assert checked == {"lstm": 1 + 5 + 3 + 1, "gru": 1 + 3 + 2 + 1, "elman": 1 + 2 + 1}[cell]
    assert ranges >= 2  # the gradient heatmap's [-b, b] at least
    assert content["step"] == 3 and len(content["readout"]) == tr.seq_len


def test_history_frame_follows_the_trainer() -> None:
    trainer = make_trainer()
    dash = rnnviz.dashboard(trainer)
    trainer.run(4, progress=False)
    sent = Sent(dash)
    dash.refresh()
    got = decode(*sent.frames()[-1])
    np.testing.assert_allclose(got[("history", 0, "x")], [1, 2, 3, 4])
    np.testing.assert_allclose(got[("history", 0, "y")], trainer.history.loss, rtol=1e-6)
    np.testing.assert_allclose(got[("history", 1, "y")], trainer.history.metric, rtol=1e-6)
    for k in dash.figures["history"]["baselines"]:
        assert got[("history", k, "x")] == [1.0, 4.0]
    assert dash.status["step"] == 4 and dash.status["loss"] == pytest.approx(trainer.history.loss[-1])
    assert dash.status["state"] == "paused"


def test_history_is_decimated() -> None:
    idx = F._decimate(10_000, 100)
    assert len(idx) <= 100 and idx[0] == 0 and idx[-1] == 9_999
    assert np.all(np.diff(idx) > 0)
    assert list(F._decimate(5, 100)) == [0, 1, 2, 3, 4]


def test_colour_bounds_are_round_and_sticky() -> None:
    assert [F.nice_bound(v) for v in (0.003, 0.01, 0.7, 1.2, 3, 7, 0)] == [
        0.005, 0.01, 1.0, 2.0, 5.0, 10.0, 1.0]
    now = [0.0]
    frame = F.Frame(clock=lambda: now[0])
    frame.symmetric("g", 0, 0.7)
    assert frame.parts[-1]["value"] == 1.0
    frame.symmetric("g", 0, 0.3)  # still within [b / 5, b]: unchanged
    assert frame.parts[-1]["value"] == 1.0
    frame.symmetric("g", 0, 0.1)  # fell below b / 5: shrinks only after SHRINK_AFTER_S
    assert frame.parts[-1]["value"] == 1.0
    now[0] = F.SHRINK_AFTER_S - 0.1
    frame.symmetric("g", 0, 0.12)
    assert frame.parts[-1]["value"] == 1.0
    now[0] = F.SHRINK_AFTER_S
    frame.symmetric("g", 0, 0.1)
    assert frame.parts[-1]["value"] == 0.1
    frame.symmetric("g", 0, 0.15)  # grew past b: grows at once
    assert frame.parts[-1]["value"] == 0.2
    frame.symmetric("g", 0, 0.03)  # small again, but back within the range before it is due:
    now[0] += 2
    frame.symmetric("g", 0, 0.1)  # the wait starts over
    now[0] += 2
    frame.symmetric("g", 0, 0.03)
    now[0] += 2
    frame.symmetric("g", 0, 0.03)
    assert frame.parts[-1]["value"] == 0.2
    now[0] += 1
    frame.symmetric("g", 0, 0.03)
    assert frame.parts[-1]["value"] == 0.05


def test_plotly_js_is_served_from_the_package() -> None:
    dash = rnnviz.dashboard(make_trainer())
    sent = Sent(dash)
    dash._on_message(dash, {"type": "plotly.js?"}, [])
    ((content, buffers),) = sent.messages
    assert content == {"type": "plotly.js"}
    assert b"Plotly" in buffers[0][:5000] and len(buffers[0]) > 1_000_000


# ----------------------------------------------------------------------------- pacing


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_pacer(fps: float = 20, timeout: float = 1.0, in_flight: int = 1):
    clock, sent = Clock(), []

    def send() -> int:
        sent.append(clock.now)
        return len(sent)

    pacer = FramePacer(send, fps=fps, ack_timeout=timeout, max_in_flight=in_flight, clock=clock)
    return pacer, clock, sent


def test_no_second_frame_before_the_ack() -> None:
    pacer, clock, sent = make_pacer()
    assert pacer.request() and len(sent) == 1
    for _ in range(50):  # training keeps asking: nothing queues up
        clock.now += 0.1 if clock.now < 100.5 else 0.0
        assert not pacer.request()
    assert len(sent) == 1 and pacer.dirty and pacer.busy


def test_ack_sends_only_the_latest_state() -> None:
    pacer, clock, sent = make_pacer()
    pacer.request()
    clock.now += 0.2
    for _ in range(10):
        pacer.request()
    assert pacer.ack(1) and len(sent) == 2  # one frame for all ten requests
    assert not pacer.ack(1)  # a stale or repeated ack changes nothing
    assert list(pacer.in_flight) == [2] and not pacer.dirty
    clock.now += 0.2
    assert not pacer.ack(2)  # acked, but nothing new to show
    assert len(sent) == 2 and not pacer.in_flight and pacer.idle


def test_two_frames_in_flight_hide_the_round_trip_but_never_queue() -> None:
    pacer, clock, sent = make_pacer(in_flight=2)
    assert pacer.request() and len(sent) == 1
    clock.now += 0.06  # past 1 / fps: a second frame may go before the first is acked
    assert pacer.request() and len(sent) == 2 and pacer.busy
    for _ in range(20):  # training keeps asking: no third frame, no queue
        clock.now += 0.01
        assert not pacer.request()
    assert len(sent) == 2 and pacer.dirty
    # the browser drew only the newest frame (it drops older undrawn ones): its ack retires both
    assert pacer.ack(2) and len(sent) == 3 and list(pacer.in_flight) == [3]
    assert not pacer.ack(1)  # frame 1 was retired by the ack of 2
    clock.now += 0.06
    assert not pacer.ack(3) and pacer.idle and len(sent) == 3


def test_pacer_rejects_an_empty_window() -> None:
    with pytest.raises(ValueError, match="max_in_flight must be at least 1, got 0"):
        FramePacer(lambda: 1, max_in_flight=0)


def test_frame_rate_is_capped() -> None:
    pacer, clock, sent = make_pacer(fps=10)
    pacer.request()
    pacer.ack(1)
    clock.now += 0.05  # less than 1 / fps later
    assert not pacer.request() and len(sent) == 1
    clock.now += 0.06
    assert pacer.request() and len(sent) == 2


def test_late_frames_do_not_lower_the_frame_rate() -> None:
    pacer, clock, sent = make_pacer(fps=25)
    end = clock.now + 10.0
    while clock.now < end:  # the loop gets to ask only every 7 ms: most frames go late
        if pacer.request():
            pacer.ack(len(sent))  # the browser draws each at once
        clock.now += 0.007
    gaps = np.diff(sent)
    assert 24.7 <= len(sent) / 10.0 <= 25.3  # not the 23.8 frames/s of 42 ms gaps
    assert gaps.min() >= 0.75 / 25 - 1e-9  # and never bunched up


def test_a_lost_ack_does_not_block_forever() -> None:
    pacer, clock, sent = make_pacer(timeout=1.0)
    pacer.request()
    clock.now += 0.5
    assert not pacer.request()
    clock.now += 0.6  # past the ack timeout
    assert pacer.request() and len(sent) == 2


def test_pacer_timer_sends_the_deferred_frame() -> None:
    async def scenario() -> list:
        sent: list = []
        pacer = FramePacer(lambda: sent.append(1) or len(sent), fps=50, ack_timeout=0.05)
        pacer.request()
        pacer.request()  # deferred: in flight
        await asyncio.sleep(0.15)  # the ack never comes; the timeout timer sends it
        pacer.cancel()
        return sent

    assert len(asyncio.run(scenario())) == 2


# ----------------------------------------------------------------------------- play / pause


def test_play_trains_in_the_background_and_pause_stops() -> None:
    trainer = make_trainer()
    dash = rnnviz.dashboard(trainer)
    sent = Sent(dash)

    async def scenario() -> tuple[int, int, bool]:
        dash.play()
        assert dash.running and dash.status["state"] == "training"
        while trainer.steps < 5:
            await asyncio.sleep(0.01)  # the kernel stays responsive: we get to run
        dash.pause()
        stopped_at = trainer.steps
        running = dash.running
        await asyncio.sleep(0.1)
        return stopped_at, trainer.steps, running

    stopped_at, later, running = asyncio.run(scenario())
    assert stopped_at >= 5 and later == stopped_at and not running
    assert dash.status["state"] == "paused" and not dash.playing and dash.status["step"] == trainer.steps
    assert sent.frames(), "training sent no frame"
    assert sent.frames()[-1][0]["step"] <= trainer.steps


def test_slow_motion_waits_for_each_frame() -> None:
    trainer = make_trainer()
    dash = rnnviz.dashboard(trainer)
    sent = Sent(dash)
    dash.steps_per_frame = 1
    dash.pacer.ack_timeout = 1e9  # an ack that never comes never times out here

    async def until(condition) -> None:
        while not condition():
            await asyncio.sleep(0.005)

    async def scenario() -> tuple[int, int]:
        dash.play()
        await until(lambda: sent.frames())
        for _ in range(20):  # no ack yet: the loop must not train on
            await asyncio.sleep(0.005)
        before_ack = trainer.steps
        dash._on_message(dash, {"type": "drawn", "seq": sent.frames()[-1][0]["seq"]}, [])
        await until(lambda: len(sent.frames()) >= 2)
        dash.pause()
        return before_ack, trainer.steps

    before_ack, after = asyncio.run(scenario())
    assert before_ack == 1, "slow motion trained ahead of the frames"
    assert after == 2
    assert [c["step"] for c, _ in sent.frames()][:2] == [1, 2]


def test_play_outside_an_event_loop_is_a_clear_error() -> None:
    dash = rnnviz.dashboard(make_trainer())
    with pytest.raises(RuntimeError, match="running asyncio event loop"):
        dash.play()
    assert not dash.playing and not dash.running


def test_divergence_stops_training_and_says_why() -> None:
    blow_up = {"on": False}
    task = rnnviz.tasks.Echo(delay=2, seq_len=10, seed=0)

    def loss_fn(output, y):  # the task's loss, until it turns NaN
        loss = task.loss(output, y)
        return loss * float("nan") if blow_up["on"] else loss

    trainer = make_trainer()
    trainer.loss_fn = loss_fn
    dash = rnnviz.dashboard(trainer)
    Sent(dash)

    async def scenario() -> None:
        dash.play()
        while trainer.steps < 2:
            await asyncio.sleep(0.01)
        blow_up["on"] = True
        for _ in range(200):
            if not dash.running:
                break
            await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert trainer.state == "diverged"
    assert not dash.running and not dash.playing
    assert dash.status["state"] == "diverged"
    assert dash.status["message"] == _status.for_the_controls(trainer.message)
    # for a person at the controls: no "diverged" twice, no methods to call
    assert "diverg" not in dash.status["message"].lower() and "reset()" not in dash.status["message"]
    assert dash.status["message"].endswith("press ↺ reset.") and "step" in dash.status["message"]
    dash.step_once()  # refused quietly: no exception, still diverged
    assert dash.status["state"] == "diverged"
    dash.reset()
    assert dash.status["state"] == "ready" and dash.status["message"] == "" and dash.status["step"] == 0


def test_divergence_message_speaks_to_the_controls() -> None:
    msg = ("Training diverged: the loss at step 12 was nan; weights restored to those that gave "
           "the last finite loss (step 11). Lower the learning rate (lr=3) or enable gradient "
           "clipping (e.g. clip=1.0), then call reset() (or resume()).")
    assert _status.for_the_controls(msg) == (
        "Training stopped: the loss at step 12 was nan; weights restored to those that gave "
        "the last finite loss (step 11). Lower the learning rate (lr) or tick clip, then press "
        "↺ reset.")
    assert _status.for_the_controls("") == ("Training stopped. Lower the learning rate (lr) or tick "
                                      "clip, then press ↺ reset.")


def test_reset_clears_every_axis_back_to_the_new_run() -> None:
    trainer = make_trainer()
    dash = rnnviz.dashboard(trainer)
    sent = Sent(dash)
    trainer.run(30, progress=False)
    dash.refresh()
    first = sent.frames()[-1][0]
    assert "reset" not in first  # an ordinary frame keeps the grown axes
    dash._on_message(dash, {"type": "drawn", "seq": first["seq"]}, [])
    dash._bounds[("gates", 4)] = 50.0  # a colour range grown by the old run
    time.sleep(0.1)  # past the frame-rate cap: the reset's frame goes out at once
    dash._on_message(dash, {"type": "reset"}, [])
    content, buffers = sent.frames()[-1]
    assert content["reset"] is True  # the browser lays every figure out afresh
    assert content["step"] == 0 and content["readout"]  # with the new run's curves and views
    parts = decode(content, buffers)
    assert parts[("history", 0, "x")].size == 0  # the step axis starts from the new run
    assert ("gates", 4) not in dash._bounds or dash._bounds[("gates", 4)] < 50.0
    dash._on_message(dash, {"type": "drawn", "seq": content["seq"]}, [])
    time.sleep(0.1)
    dash.step_once()
    assert sent.frames()[-1][0]["step"] == 1 and "reset" not in sent.frames()[-1][0]  # once


def test_buttons_step_and_reset() -> None:
    trainer = make_trainer()
    dash = rnnviz.dashboard(trainer)
    sent = Sent(dash)
    dash._on_message(dash, {"type": "step"}, [])
    assert trainer.steps == 1 and dash.status["step"] == 1
    assert sent.frames()[-1][0]["step"] == 1
    dash._on_message(dash, {"type": "drawn", "seq": sent.frames()[-1][0]["seq"]}, [])
    dash._on_message(dash, {"type": "reset"}, [])
    assert trainer.steps == 0 and dash.status["step"] == 0 and dash.status["state"] == "ready"


def test_closing_stops_everything() -> None:
    dash = rnnviz.dashboard(make_trainer())
    dash.close()
    assert not dash.running and not dash.playing


# ----------------------------------------------------------------------------- a real kernel


def test_notebook_runs_headless_and_leaves_nothing_running() -> None:
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        "import asyncio, threading, rnnviz\n"
        "task = rnnviz.tasks.Echo(delay=2, seq_len=10, seed=0)\n"
        "model = rnnviz.SequenceModel.from_task(task, cell='lstm', hidden_size=8, seed=0)\n"
        "trainer = rnnviz.Trainer(model, task, batch_size=8, seed=0)\n"
        "trainer.run(1, progress=False)  # tqdm starts its own monitor thread once\n"
        "trainer.reset()\n"
        "threads = {t.ident for t in threading.enumerate()}",
        "dash = rnnviz.dashboard(trainer)\ndash",
        "trainer.run(5, progress=False)\ntrainer.steps",
        # pyzmq starts one garbage-collector thread per process for zero-copy sends (binary
        # widget buffers): infrastructure, not ours; any other new thread would be.
        "extra = [t.name for t in threading.enumerate() if t.ident not in threads\n"
        "         and not type(t).__module__.startswith('zmq.')]\n"
        "tasks = [t.get_name() for t in asyncio.all_tasks() if 'rnnviz' in t.get_name()]\n"
        "print('extra threads', extra, 'tasks', tasks, 'running', dash.running,\n"
        "      'step', dash.status['step'], 'status', dash.status['state'])",
    )]
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    outputs = [o for cell in nb.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert nb.cells[1].outputs[0]["data"]["text/plain"].startswith("rnnviz dashboard (LSTM")
    assert nb.cells[2].outputs[0]["data"]["text/plain"] == "5"
    text = nb.cells[3].outputs[0]["text"]
    assert text.strip() == "extra threads [] tasks [] running False step 5 status paused", text


def test_views_cover_the_probe_of_a_variable_length_task() -> None:
    """The trace comes from the trainer's probe, with its lengths (padding shows as gaps)."""
    trainer = make_trainer()
    dash = rnnviz.dashboard(trainer, views=("hidden",))
    sent = Sent(dash)
    dash.refresh()
    got = decode(*sent.frames()[-1])
    z = got[("hidden", 0, "z")]
    tr = F.probe_trace(trainer)
    want = tr.hidden[tr.index(-1, 0), 0].T.to(torch.float32).numpy()
    # sent as colour codes of the colour range [-1, 1]: the same colours, values to half a step
    np.testing.assert_array_equal(wire.lut_index(z, -1, 1), wire.lut_index(want, -1, 1))
    np.testing.assert_allclose(z, want, rtol=0, atol=2 / 510 + 1e-6)


# ----------------------------------------------------------------------------- threads


def test_widget_messages_on_another_thread_and_cells_on_this_one_never_race() -> None:
    # JupyterLab's ipykernel handles widget messages on a subshell thread (own event loop)
    # while cells run on the main thread. Simulate both: the dashboard's home loop runs in a
    # thread; this thread plays, trains with trainer.run, reads and pauses at the same time.
    import threading

    trainer = make_trainer(hidden=16, seq_len=20)
    dash = rnnviz.dashboard(trainer)
    senders: set[str] = set()
    sent = Sent(dash)
    record = dash.send
    dash.send = lambda content, buffers=None: (senders.add(threading.current_thread().name),
                                              record(content, buffers))
    home = asyncio.new_event_loop()
    worker = threading.Thread(target=home.run_forever, name="subshell", daemon=True)
    worker.start()
    try:
        ready = threading.Event()
        home.call_soon_threadsafe(lambda: (dash._on_message(dash, {"type": "hello"}, []),
                                           ready.set()))
        assert ready.wait(5) and dash._home is home
        dash.play()  # from "a cell": training starts on the home loop, not here
        deadline = time.monotonic() + 10
        while trainer.steps < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert dash.running and dash.loop.home is home
        before = trainer.steps
        trainer.run(20, progress=False)  # a cell trains while the dashboard trains
        assert trainer.steps >= before + 20
        from rnnviz.live._hooks import after_cell as _after_cell

        _after_cell()  # the post-cell refresh hops to the home loop too
        dash.pause()
        stopped = time.monotonic()
        while dash.running and time.monotonic() - stopped < 2:
            time.sleep(0.01)
        assert not dash.running and time.monotonic() - stopped < 0.5
        time.sleep(0.2)
        steps = trainer.steps
        time.sleep(0.2)
        assert trainer.steps == steps  # nothing trains after pause
    finally:
        home.call_soon_threadsafe(home.stop)
        worker.join(5)
        home.close()
    h = trainer.history
    assert trainer.state == "ready" and h.step == list(range(1, trainer.steps + 1))
    assert all(np.isfinite(h.loss)) and len(h.loss) == len(h.metric) == len(h.grad_norm)
    assert senders == {"subshell"} and sent.frames()  # every frame was built at home
    assert dash.status["state"] == "paused"


def test_an_urgent_frame_may_exceed_the_window_by_one() -> None:
    pacer, clock, sent = make_pacer(in_flight=2)
    pacer.request()
    clock.now += 0.06
    pacer.request()
    clock.now += 0.06
    assert not pacer.request() and pacer.busy  # the window is full
    assert pacer.request(urgent=True) and len(sent) == 3  # pause: the person sees it now
    clock.now += 0.06
    assert not pacer.request(urgent=True) and len(sent) == 3  # but only one over the window
    assert pacer.ack(3) and len(sent) == 4 and not pacer._urgent


def test_without_acks_only_one_frame_at_a_time_is_sent() -> None:
    pacer, clock, sent = make_pacer(in_flight=4, timeout=1.0)
    for _ in range(4):  # nobody draws: the window fills once
        assert pacer.request()
        clock.now += 0.06
    assert not pacer.request() and len(sent) == 4
    clock.now += 1.0  # every frame timed out: no browser is acking
    assert pacer.request() and pacer.window == 1 and len(sent) == 5
    clock.now += 0.06
    assert not pacer.request() and len(sent) == 5  # one at a time now
    assert pacer.ack(5) and pacer.window == 4 and len(sent) == 6  # a view acks again


def test_status_travels_on_one_channel_and_frames_ask_for_fewer_acks() -> None:
    """The status line has one source, the ``status`` trait: frames carry none. At full speed
    it changes a few times a second (each change is a message), not with every frame."""
    trainer = make_trainer()
    dash = rnnviz.dashboard(trainer)
    sent = Sent(dash)
    changes: list[tuple[float, dict]] = []
    dash.observe(lambda c: changes.append((time.perf_counter(), dict(c["new"]))), "status")

    async def scenario() -> None:
        dash.play()
        started = time.perf_counter()
        while len(sent.frames()) < 8 or time.perf_counter() - started < 4 * _status.STATUS_INTERVAL:
            await asyncio.sleep(0.01)
            for content, _ in sent.frames():  # the browser acks every frame at once
                dash._on_message(dash, {"type": "drawn", "seq": content["seq"]}, [])
        dash.pause()
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    frames = [c for c, _ in sent.frames()]
    assert not [c for c in frames if set(c) & {"live", "status", "loss", "metric"}]
    playing = [c for c in frames if "ack_after" in c]
    assert len(playing) >= 4 and all(c["ack_after"] == _sender.ACK_INTERVAL for c in playing)
    training = [(at, st) for at, st in changes if st["state"] == "training"]
    assert len(training) >= 2 and len(training) < len(playing)  # fewer syncs than frames
    gaps = np.diff([at for at, _ in training[1:]])  # the first is play itself
    assert (gaps >= 0.9 * _status.STATUS_INTERVAL).all(), gaps
    assert [st["step"] for _, st in training] == sorted(st["step"] for _, st in training)
    # the window holds the frames of one ack interval at the fps cap, plus the round trip
    assert dash.pacer.max_in_flight == _sender.window(dash.fps)
    for fps in (1, 23, 32, 60):
        assert _sender.window(fps) >= fps * (_sender.ACK_INTERVAL + 0.1) + 2
    assert rnnviz.dashboard(trainer, fps=60).pacer.max_in_flight == _sender.window(60) >= 23
    last = frames[-1]  # after pause: every frame acked, the status says where it stopped
    assert "ack_after" not in last and last["step"] == trainer.steps
    assert dash.status == {"state": "paused", "step": trainer.steps,
                           "loss": pytest.approx(trainer.history.loss[-1]),
                           "metric": pytest.approx(trainer.history.metric[-1]),
                           "steps_per_s": 0.0, "message": ""}


def test_slow_motion_sends_the_status_with_every_frame() -> None:
    trainer = make_trainer()
    dash = rnnviz.dashboard(trainer)
    sent = Sent(dash)
    steps: list[int] = []
    dash.observe(lambda c: steps.append(c["new"]["step"]), "status")
    dash.steps_per_frame = 1

    async def scenario() -> None:
        dash.play()
        while len(sent.frames()) < 4:
            await asyncio.sleep(0.005)
            for content, _ in sent.frames():
                dash._on_message(dash, {"type": "drawn", "seq": content["seq"]}, [])
        dash.pause()

    asyncio.run(scenario())
    shown = [c["step"] for c, _ in sent.frames()]
    assert set(shown) - {0} <= set(steps), (shown, steps)  # each frame's step had its status


def test_a_training_chunk_ends_early_when_a_frame_is_due() -> None:
    from rnnviz.live._loop import TrainingLoop

    class Pacer:
        ready = False

    trainer = make_trainer()
    pacer = Pacer()
    loop = TrainingLoop(trainer, lambda n: None, pacer, budget=10.0)
    loop.steps_per_frame = 7
    assert loop._chunk() == 7  # no frame due: the whole chunk
    pacer.ready = True
    assert loop._chunk() == 1  # a frame is due: one step, then yield to it
    assert trainer.steps == 8


def test_plotly_internals_stay_behind_the_adapter() -> None:
    """The widget's ES module is joined from its parts, and only plotly_adapter.js reads
    plotly's private state or the structure of its SVG (a plotly.js upgrade touches it only)."""
    import re

    from rnnviz.live import _assets

    esm = _assets.esm()
    for name in _assets.ESM_PARTS:
        assert (_assets.HERE / name).read_text(encoding="utf-8") in esm
    assert esm.count("export default") == 1 and _assets.ESM_PARTS[-1] == "dashboard.js"
    internals = re.compile(r"_fullLayout|_fullData|calcdata|__data__|\bPlotly\.|window\.Plotly"
                           r"|\.c2p\(|_offset|_length\b|main-svg|plotly_afterplot")
    for name in _assets.ESM_PARTS:
        code = "\n".join(line.split("//")[0] for line in
                         (_assets.HERE / name).read_text(encoding="utf-8").splitlines())
        found = sorted(set(internals.findall(code)))
        assert (name == "plotly_adapter.js") == bool(found), (name, found)


# ----------------------------------------------------------------------------- Seq2Seq


def make_s2s_trainer(attention: str | None = None, cell: str = "gru") -> rnnviz.Trainer:
    task = rnnviz.tasks.Reverse(num_symbols=4, min_len=1, max_len=5, seed=0)
    model = rnnviz.Seq2Seq.from_task(task, cell=cell, hidden_size=8, seed=0, attention=attention)
    return rnnviz.Trainer(model, task, batch_size=8, seed=0)


def _frame_applied(dash, sent, data: list[dict]) -> tuple[dict, dict]:
    """Apply the last frame's seq2seq parts to ``data`` (as the browser does); its content
    and the touched (trace, key), each with its colour codes if it came as codes
    (``tests.test_live_views._apply``)."""
    from tests.test_live_views import _apply

    content, buffers = sent.frames()[-1]
    content = json.loads(json.dumps(content))  # what crosses the wire
    touched = _apply(data, "seq2seq", content, buffers)
    assert touched
    return content, touched


def _same_as_static(data: list[dict], trace, sample: int, touched: dict,
                    skip: dict | None = None) -> None:
    """``data`` is plot_seq2seq's of ``trace`` (colour ranges: the dashboard's round ones;
    heatmaps that came as colour codes: the same colours at the range shown), but for
    ``skip``: trace index -> keys not compared."""
    from tests.test_live_views import _plain, _same, _same_picture

    want = _plain(rnnviz.plot_seq2seq(trace, sample=sample, theme="light"))
    assert len(data) == len(want)
    coded = {k for (k, _key), c in touched.items() if c is not None and k != "layout"}
    assert set(range(3)) <= coded  # encoder, context, decoder travel as colour codes
    _same_picture(data, want, touched, "seq2seq")
    for k in range(3):  # encoder, context, decoder: one range [-b, b], b rounded up
        b = F.nice_bound(want[k]["zmax"])
        assert data[k]["zmax"] == b and data[k]["zmin"] == -b
        data[k]["zmin"], data[k]["zmax"] = want[k]["zmin"], want[k]["zmax"]
    for k, (got, w) in enumerate(zip(data, want, strict=True)):
        for key in (skip or {}).get(k, ()):
            got, w = dict(got), dict(w)
            got.pop(key, None), w.pop(key, None)
        _same(got, w, f"seq2seq trace {k}")


@pytest.mark.parametrize("attention", [None, "dot"])
def test_a_seq2seq_trainer_gets_a_live_dashboard(attention) -> None:
    trainer = make_s2s_trainer(attention)
    dash = rnnviz.dashboard(trainer, theme="light")
    assert dash.views == ["seq2seq"] and dash.note == ""
    assert dash.figure_order == ["history", "seq2seq"]
    want_title = "Seq2Seq GRU" + (" + dot attention" if attention else "")
    assert dash.title == f"{want_title} · hidden 8 · 1 layer · task reverse"
    x, y, _lengths = trainer.probe
    assert dash.seq_len == y.shape[1] and dash.probe_size == x.shape[0]
    assert "→" not in dash.figures["seq2seq"]["layout"]["title"]["text"]  # no stale words
    data = json.loads(json.dumps(dash.figures["seq2seq"]["data"]))
    sent = Sent(dash)
    trainer.run(5, progress=False)
    dash.refresh()
    content, touched = _frame_applied(dash, sent, data)
    trace = trainer.probe_trace()
    _same_as_static(data, trace, 0, touched)  # the live figure is the static one of the new trace
    assert dash.status["step"] == 5 and content["trace_step"] == 5
    # the readout: per decoder step, what it read, the target, what it wrote
    out = trace.output[0].argmax(-1).tolist()
    lines = content["readout"]
    assert len(lines) == dash.seq_len and lines[0].split(" · ")[1] == "reads <go>"
    for t, line in enumerate(lines):
        target = int(trace.target[0, t])
        if target < 0:
            assert line.endswith("not scored")
        else:
            assert line.endswith("✓" if out[t] == target else "✗")
            assert f"target {trace.output_vocab[target]}" in line
            assert f"says {trace.output_vocab[out[t]]} (" in line


def test_a_seq2seq_dashboard_shows_another_sequence_of_the_probe() -> None:
    """Another sequence, of another length: its columns, words and numbers (the figure is
    wide enough for the longest). What belongs to the layout stays: the colour bars' places
    (the alignment panel's height follows the first sequence), and the fonts of the rows read
    and of the reference (theme colours, which the update does not know)."""
    trainer = make_s2s_trainer("dot")
    trace = trainer.probe_trace()
    lengths = trace.lengths.tolist()
    other = next(s for s in range(1, len(lengths)) if lengths[s] != lengths[0])
    dash = rnnviz.dashboard(trainer, theme="light")
    data = json.loads(json.dumps(dash.figures["seq2seq"]["data"]))
    sent = Sent(dash)
    dash.sample = other
    _content, touched = _frame_applied(dash, sent, data)
    _same_as_static(data, trace, other, touched, skip={0: ["colorbar"], 4: ["textfont"], 6: ["textfont"],
                                              7: ["colorbar"]})
    layout = dash.figures["seq2seq"]["layout"]
    right = max(float(max(d["x"])) for d in data[:3])
    assert layout["xaxis"]["range"][1] >= right + 0.5  # nothing is cut off


def test_a_seq2seq_dashboard_plays_and_pauses() -> None:
    trainer = make_s2s_trainer("additive", cell="lstm")
    dash = rnnviz.dashboard(trainer)
    sent = Sent(dash)

    async def scenario() -> None:
        dash.play()
        while trainer.steps < 10:
            await asyncio.sleep(0.01)
            for content, _ in sent.frames():
                dash._on_message(dash, {"type": "drawn", "seq": content["seq"]}, [])
        dash.pause()
        await asyncio.sleep(0.05)

    asyncio.run(scenario())
    assert trainer.state == "ready" and dash.status["state"] == "paused"
    assert dash.status["step"] == trainer.steps and not dash.running
    frames = [c for c, _ in sent.frames()]
    assert len(frames) >= 2 and frames[-1]["step"] == trainer.steps
    assert any(p["fig"] == "seq2seq" for c in frames for p in c["parts"])
    dash._on_message(dash, {"type": "drawn", "seq": frames[-1]["seq"]}, [])
    time.sleep(0.1)  # past the frame-rate cap: the reset's frame goes out at once
    dash.reset()
    assert trainer.steps == 0 and sent.frames()[-1][0]["reset"] is True


def test_views_that_do_not_apply_to_a_seq2seq_are_named() -> None:
    dash = rnnviz.dashboard(make_s2s_trainer(), views=("hidden", "seq2seq"))
    assert dash.views == ["seq2seq"] and dash.note == "no hidden view for a SEQ2SEQ model"
    dash = rnnviz.dashboard(make_trainer(), views=("hidden", "seq2seq"))
    assert dash.views == ["hidden"] and dash.note == "no seq2seq view for a LSTM model"
    assert rnnviz.dashboard(make_trainer("elman")).views == ["hidden", "grad_flow"]


def test_a_frame_is_of_one_step_even_while_a_cell_trains(monkeypatch) -> None:
    """A cell's trainer.run (main thread) records a step while the dashboard's home thread
    builds a frame: the frame waits for it, and never packs a history half recorded."""
    import threading

    trainer = make_trainer()
    trainer.run(3, progress=False)
    dash = rnnviz.dashboard(trainer)
    sent = Sent(dash)
    h = trainer.history
    began = threading.Event()

    def half_recorded_step() -> None:
        with trainer._lock:  # as Trainer.step: the four lists grow one after the other
            h.step.append(4)
            began.set()
            time.sleep(0.3)
            h.loss.append(1.0), h.metric.append(0.5), h.grad_norm.append(1.0)
            trainer._step = 4

    cell = threading.Thread(target=half_recorded_step)
    probe, build = dash._probe_trace, F.build_frame

    def probe_then_a_cell_steps():
        out = probe()
        cell.start()  # the cell's step starts right after the trace is taken
        return out

    def build_once_the_cell_began(*args, **kwargs):
        began.wait(0.5)  # it can begin only if the frame does not hold the trainer's lock
        return build(*args, **kwargs)

    dash._probe_trace = probe_then_a_cell_steps
    monkeypatch.setattr(F, "build_frame", build_once_the_cell_began)
    dash._send_frame()
    cell.join(5)
    parts = decode(*sent.frames()[-1])
    xs, ys = parts[("history", 0, "x")], parts[("history", 0, "y")]
    assert xs.size == ys.size == 3 and sent.frames()[-1][0]["step"] == 3


def test_a_closed_dashboard_is_garbage_collected():
    """Nothing keeps a closed dashboard (and its trainer and model) alive: anywidget watches a
    ``_css`` given as a file path and holds every instance, so the CSS goes as a string."""
    import gc
    import weakref

    dash = rnnviz.dashboard(make_trainer(), views=("hidden",))
    model = weakref.ref(dash.trainer.model)
    ref = weakref.ref(dash)
    dash.close()
    del dash
    gc.collect()
    assert ref() is None and model() is None
