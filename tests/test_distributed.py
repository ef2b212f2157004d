"""Several processes through torchrun + DDP: the launcher and a real 2-process CPU run."""

import json
import os
import subprocess
import sys

import pytest

from fusionx_lite.checkpoint import weights_hash
from fusionx_lite.distributed import DistInfo, init_distributed, torchrun_command
from fusionx_lite.train import load_pretrained


def test_single_node_command_runs_the_same_cli_under_torchrun():
    cmd = torchrun_command(["pretrain", "--preset", "tiny"], devices=4)
    assert cmd[:3] == [sys.executable, "-m", "torch.distributed.run"]
    assert "--nproc-per-node=4" in cmd and "--standalone" in cmd
    assert cmd[-5:] == ["-m", "fusionx_lite", "pretrain", "--preset", "tiny"]


def test_multi_node_command_names_the_master_and_this_node():
    cmd = torchrun_command(
        ["pretrain"], devices=8, num_nodes=2, node_rank=1, master_addr="node0", master_port=1234
    )
    for arg in ("--nnodes=2", "--node-rank=1", "--master-addr=node0", "--master-port=1234"):
        assert arg in cmd
    assert "--standalone" not in cmd


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"devices": 0}, "devices"),
        ({"devices": 2, "num_nodes": 0}, "num_nodes"),
        ({"devices": 2, "num_nodes": 2, "node_rank": 2}, "node_rank"),
    ],
)
def test_bad_launch_settings_name_the_parameter(kwargs, name):
    with pytest.raises(ValueError, match=name):
        torchrun_command(["pretrain"], **kwargs)


def test_a_plain_process_is_rank_zero_of_one(monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    info = init_distributed("cpu")
    assert info == DistInfo() and info.is_main and not info.distributed


@pytest.mark.slow
def test_two_cpu_processes_end_with_identical_weights(tmp_path):
    out = tmp_path / "ddp"
    args = [
        "pretrain",
        "--preset",
        "tiny",
        "--data",
        "synthetic",
        "--length",
        "64",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--lr",
        "1e-3",
        "--device",
        "cpu",
        "--devices",
        "2",
        "--no-progress",
        "--out",
        str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        env.pop(var, None)
    run = subprocess.run(
        [sys.executable, "-m", "fusionx_lite", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    hashes = json.loads((out / "weights_sha256.json").read_text())
    assert sorted(hashes) == ["rank_0", "rank_1"]
    assert hashes["rank_0"] == hashes["rank_1"]
    # the checkpoint holds those weights, and 64 samples / (8 per rank x 2 ranks) = 4 steps
    assert weights_hash(load_pretrained(out)) == hashes["rank_0"]
    assert len((out / "loss.csv").read_text().splitlines()) == 1 + 4
    assert json.loads((out / "run.json").read_text())["train"]["world_size"] == 2
