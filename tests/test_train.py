"""The pretraining engine: learning, logs, folder protection and exact resumption."""

import csv
import json
import os
import subprocess
import sys

import pytest
import torch

from fusionx_lite import FusionXConfig
from fusionx_lite.checkpoint import ConfigMismatchError, load_checkpoint, weights_hash
from fusionx_lite.data import ArrayDataset
from fusionx_lite.distributed import DistInfo
from fusionx_lite.train import (
    KILL_ENV,
    TrainConfig,
    epoch_batches,
    load_pretrained,
    pick_device,
    pretrain,
)

pytestmark = pytest.mark.usefixtures("torch_one_thread")


CFG = FusionXConfig.tiny()


def smooth_pairs(n=64, size=32, seed=0):
    """Paired images with spatial structure shared by SAR and optical: learnable."""
    g = torch.Generator().manual_seed(seed)
    base = torch.nn.functional.interpolate(
        torch.randn(n, 1, 4, 4, generator=g), size=size, mode="bilinear", align_corners=False
    )
    sar = torch.cat([base, -base], 1) + 0.05 * torch.randn(n, 2, size, size, generator=g)
    gains = torch.linspace(-1, 1, 12).view(1, 12, 1, 1)
    optical = base * gains + 0.05 * torch.randn(n, 12, size, size, generator=g)
    arrays = {"sar": sar, "optical": optical, "label": torch.zeros(n, 3)}
    return ArrayDataset(arrays, ["a", "b", "c"], [f"B{i}" for i in range(12)])


def read_log(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_loss_falls_and_run_files_are_written(tmp_path):
    result = pretrain(
        CFG, smooth_pairs(), tmp_path / "run", epochs=4, batch_size=8, lr=3e-3, progress=False
    )
    losses = [r["loss"] for r in result.losses]
    assert result.steps == 4 * 64 // 8 == len(losses)
    assert sum(losses[-4:]) / 4 < 0.7 * sum(losses[:4]) / 4
    assert {p.name for p in (tmp_path / "run").iterdir()} == {
        "run.json",
        "checkpoint.pt",
        "loss.csv",
        "loss.png",
    }
    log = read_log(tmp_path / "run" / "loss.csv")
    assert [int(r["step"]) for r in log] == list(range(1, 33))
    assert float(log[-1]["loss"]) == pytest.approx(losses[-1])
    model = load_pretrained(tmp_path / "run")
    assert weights_hash(model) == weights_hash(result.model)
    assert not model.training


def test_learning_rate_follows_mae_scaling_with_accumulation(tmp_path):
    # effective batch 4 x 2 = 8; base_lr scaled by 8/256; warmup of one epoch = 8 steps
    result = pretrain(
        CFG,
        smooth_pairs(),
        None,
        epochs=2,
        batch_size=4,
        accum_steps=2,
        base_lr=0.256,
        progress=False,
    )
    peak = 0.256 * 8 / 256
    assert result.steps == 16
    assert result.losses[0]["lr"] == pytest.approx(peak / 8)
    assert result.losses[7]["lr"] == pytest.approx(peak)
    assert result.losses[-1]["lr"] < peak / 10


def test_data_order_is_a_permutation_per_epoch_split_across_ranks():
    train = TrainConfig(batch_size=4)
    ranks = [epoch_batches(40, train, 3, 0, 5, DistInfo(r, 2, r)) for r in range(2)]
    seen = [i for batches in ranks for b in batches for i in b]
    assert sorted(seen) == list(range(40))  # every sample once, no rank overlap
    one = epoch_batches(40, train, 3, 0, 5, DistInfo())
    assert epoch_batches(40, train, 3, 2, 5, DistInfo()) == one[2:]  # resume mid-epoch
    assert epoch_batches(40, train, 4, 0, 5, DistInfo()) != one  # a new order each epoch


def test_existing_run_is_refused_and_left_untouched(tmp_path):
    out = tmp_path / "run"
    pretrain(CFG, smooth_pairs(32), out, epochs=1, batch_size=8, progress=False)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(FileExistsError, match="resume.*overwrite"):
        pretrain(CFG, smooth_pairs(32), out, epochs=1, batch_size=8, progress=False)
    other = FusionXConfig.tiny(strategy="independent")
    with pytest.raises(ConfigMismatchError, match="strategy: checkpoint 'consistent'"):
        pretrain(other, smooth_pairs(32), out, epochs=1, batch_size=8, resume=True, progress=False)
    with pytest.raises(ConfigMismatchError, match="epochs"):
        pretrain(CFG, smooth_pairs(32), out, epochs=5, batch_size=8, resume=True, progress=False)
    with pytest.raises(ValueError, match="not both"):
        pretrain(CFG, smooth_pairs(32), out, resume=True, overwrite=True, progress=False)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    (out / "notes.txt").write_text("mine")
    pretrain(other, smooth_pairs(32), out, epochs=1, batch_size=8, overwrite=True, progress=False)
    assert load_checkpoint(out / "checkpoint.pt")["config"]["strategy"] == "independent"
    assert (out / "notes.txt").read_text() == "mine"  # only the run's own files replaced


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"epochs": 0}, "epochs"),
        ({"device": "tpu"}, "device"),
        ({"precision": "fp8"}, "precision"),
        ({"lr": -1.0}, "lr"),
        ({"batch_size": 1000}, "batch_size"),
    ],
)
def test_bad_settings_name_the_parameter(overrides, name):
    with pytest.raises(ValueError, match=name):
        pretrain(CFG, smooth_pairs(32), None, progress=False, **overrides)


def test_unknown_setting_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown training settings.*known"):
        pretrain(CFG, smooth_pairs(32), None, epoch=3)


def test_auto_device_says_when_it_falls_back_to_cpu(capsys, monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    monkeypatch.setattr("fusionx_lite.train._NOTES", set())  # said once per process
    assert pick_device("auto").type == "cpu"
    assert "no CUDA GPU found" in capsys.readouterr().out


def _cli(out, env=None):
    args = [
        "--preset",
        "tiny",
        "--data",
        "synthetic",
        "--length",
        "48",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--lr",
        "1e-3",
        "--ckpt-every",
        "2",
        "--no-progress",
    ]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "fusionx_lite",
            "pretrain",
            *args,
            "--out",
            str(out),
            *([] if env is None else ["--resume"]),
        ],
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.slow
def test_run_killed_mid_epoch_resumes_to_identical_weights(tmp_path):
    full = _cli(tmp_path / "full")
    assert full.returncode == 0, full.stderr
    # 6 steps per epoch; killed (SIGKILL) after step 5, the last checkpoint is at step 4
    killed = _cli(tmp_path / "killed", env={KILL_ENV: "5"})
    assert killed.returncode == -9
    assert load_checkpoint(tmp_path / "killed" / "checkpoint.pt")["step"] == 4
    assert len(read_log(tmp_path / "killed" / "loss.csv")) == 5
    resumed = _cli(tmp_path / "killed", env={})
    assert resumed.returncode == 0, resumed.stderr
    a = load_checkpoint(tmp_path / "full" / "checkpoint.pt")
    b = load_checkpoint(tmp_path / "killed" / "checkpoint.pt")
    assert a["step"] == b["step"] == 12
    for key, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][key]), key
    assert read_log(tmp_path / "full" / "loss.csv") == read_log(tmp_path / "killed" / "loss.csv")
    assert json.loads((tmp_path / "killed" / "run.json").read_text())["train"]["seed"] == 0
