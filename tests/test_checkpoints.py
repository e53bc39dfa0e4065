"""Shipped checkpoints (issue #10 §3): plain formats, small, the named preset's, and their
stored metric reproduced by the reloaded weights on fresh probe data."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

import rnnviz
from rnnviz import checkpoints
from rnnviz.checkpoints import EVAL_SEED, available, checkpoint_dir, fresh_metric
from rnnviz.presets import PRESETS, Preset

ROOT = checkpoint_dir().parents[1]
NAMES = available()
MAX_TOTAL_BYTES = 5 * 2**20


def test_checkpoints_are_shipped_small_and_documented() -> None:
    assert {"adding", "temporal_order_lstm", "temporal_order_gru", "echo"} <= set(NAMES)
    files = [p for p in checkpoint_dir().iterdir() if p.suffix in (".pt", ".json", ".npz")]
    assert {p.stem for p in files} == set(NAMES)
    assert len(files) == 3 * len(NAMES)
    assert sum(p.stat().st_size for p in files) < MAX_TOTAL_BYTES
    readme = (checkpoint_dir() / "README.md").read_text(encoding="utf-8")
    assert "python assets/checkpoints/make_checkpoints.py" in readme
    for name in NAMES:
        assert f"`{name}`" in readme, name


@pytest.mark.parametrize("name", NAMES)
def test_files_are_plain_tensors_json_and_arrays(name: str) -> None:
    folder = checkpoint_dir()
    state = torch.load(folder / f"{name}.pt", weights_only=True)  # no pickled objects
    assert isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())
    record = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    # the checkpoint belongs to the named preset as it is now (else: re-run the script)
    assert Preset.parse(record["preset"]) == PRESETS[name]
    with np.load(folder / f"{name}.npz", allow_pickle=False) as arrays:
        steps = sorted({int(k.split("/")[0]) for k in arrays.files})
        assert steps == record["snapshot_steps"] and steps[0] == 0 and steps[-1] == record["steps"]
        for k in state:
            np.testing.assert_array_equal(arrays[f"{record['steps']}/{k}"], state[k].numpy())
    h = record["history"]
    assert h["step"] == list(range(1, record["steps"] + 1))
    assert len(h["loss"]) == len(h["metric"]) == len(h["grad_norm"]) == record["steps"]


@pytest.mark.parametrize("name", NAMES)
def test_reloaded_checkpoint_reproduces_its_metric_on_fresh_probe_data(name: str) -> None:
    trainer = rnnviz.presets.load(name)
    record = trainer.checkpoint
    assert trainer.steps == record["steps"] == len(trainer.history)
    assert trainer.history.loss == record["history"]["loss"]
    # the very batch it was measured on: the same number
    assert fresh_metric(trainer) == pytest.approx(record["metric"], rel=1e-5, abs=1e-7)
    # fresh probe data never seen in training or in the record: the same within sampling noise
    fresh = fresh_metric(trainer, size=2000, seed=EVAL_SEED + 12345)
    if record["metric_name"] == "mse":
        assert fresh == pytest.approx(record["metric"], rel=0.3)
    else:
        assert abs(fresh - record["metric"]) < 0.03
    # snapshots: the probe traced with the stored weights, the last one the final weights
    assert [s.step for s in trainer.snapshots] == record["snapshot_steps"]
    probe = trainer.probe
    last = rnnviz.trace(trainer.model, probe.x, probe.y, lengths=probe.lengths)
    shown = trainer.snapshots[-1].trace
    if isinstance(last, rnnviz.Seq2SeqTrace):
        shown, last = shown.decoder, last.decoder
    torch.testing.assert_close(shown.hidden, last.hidden)
    # training goes on from there, and reset() returns to the untrained weights
    assert not trainer.step().diverged and trainer.steps == record["steps"] + 1
    trainer.reset()
    assert trainer.steps == 0
    fresh_build = PRESETS[name].build()
    for a, b in zip(trainer.model.parameters(), fresh_build.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_the_adding_problem_at_t100_is_solved() -> None:
    trainer = rnnviz.presets.load("adding")
    assert trainer.task.seq_len == 100 and trainer.model.cell_type == "lstm"
    record = trainer.checkpoint
    baseline = trainer.task.baseline().metric
    assert record["metric"] < 0.1 * baseline
    assert fresh_metric(trainer, size=2000, seed=EVAL_SEED + 999) < 0.1 * baseline
    x, y, _ = trainer.task.batch(2000, seed=EVAL_SEED + 998)
    with torch.no_grad():
        solved = trainer.task.solved_fraction(trainer.model(x), y)
    assert solved > 0.8  # |error| < 0.04, Hochreiter & Schmidhuber's criterion
    assert record["solved_at_step"] is not None
    assert record["solved_at_sequences"] == record["solved_at_step"] * trainer.batch_size


def test_temporal_order_at_t40_lstm_and_gru_succeed_where_elman_fails() -> None:
    for name in ("temporal_order_lstm", "temporal_order_gru"):
        assert rnnviz.presets.load(name).checkpoint["metric"] > 0.95, name
    if "temporal_order_elman" in NAMES:
        assert rnnviz.presets.load("temporal_order_elman").checkpoint["metric"] < 0.6


def test_unknown_checkpoint_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"name must be a named preset with a checkpoint, one of \["):
        rnnviz.presets.load("vanishing")


def test_the_script_reproduces_a_shipped_checkpoint(tmp_path) -> None:
    script = ROOT / "assets" / "checkpoints" / "make_checkpoints.py"
    subprocess.run([sys.executable, str(script), "echo", "--out", str(tmp_path)], check=True,
                   capture_output=True, cwd=ROOT)
    new = json.loads((tmp_path / "echo.json").read_text(encoding="utf-8"))
    old = json.loads((checkpoint_dir() / "echo.json").read_text(encoding="utf-8"))
    assert new.keys() == old.keys()
    for key in old:
        if key != "history":
            assert new[key] == pytest.approx(old[key], rel=1e-4) if isinstance(old[key], float) \
                else new[key] == old[key], key
    np.testing.assert_allclose(new["history"]["loss"], old["history"]["loss"], rtol=1e-4)
    a = torch.load(tmp_path / "echo.pt", weights_only=True)
    b = torch.load(checkpoint_dir() / "echo.pt", weights_only=True)
    for k in b:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)
    assert not math.isnan(new["metric"])
    assert checkpoints.read_record("echo", tmp_path)["steps"] == old["steps"]


def test_trained_lists_the_named_presets_with_a_checkpoint() -> None:
    assert rnnviz.presets.trained() == NAMES


def test_the_brackets_lstm_has_a_counting_unit() -> None:
    trainer = rnnviz.presets.load("brackets")
    batch = trainer.task.batch(64, seed=EVAL_SEED + 3)
    tr = rnnviz.trace(trainer.model, batch.x, batch.y)
    units = rnnviz.find_units(tr, "target", state="cell")  # the target is the depth
    (_unit, score), = units.best(1)
    assert abs(score) > 0.95
