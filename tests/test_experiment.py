"""The comparison: every method under one budget, one evaluation, one table."""

import csv
import dataclasses
import json

import pytest

from fusionx_lite import FusionXConfig
from fusionx_lite.evaluate import EvalConfig
from fusionx_lite.experiment import (
    METHODS,
    ExperimentConfig,
    method_config,
    results_table,
    run_experiment,
)

FRACTIONS, SEEDS = (0.25, 1.0), (0, 1)


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def tiny_experiment(**overrides):
    ev = EvalConfig(
        fractions=FRACTIONS,
        seeds=SEEDS,
        probe_steps=30,
        finetune_fractions=None,
        finetune_steps=2,
        finetune_batch=8,
    )
    settings = dict(train_size=64, test_size=48, epochs=1, batch_size=16, eval=ev)
    return ExperimentConfig.quick(**{**settings, **overrides})


def expected_protocols(method):
    if method == "supervised":
        return {"finetune"}
    if method == "random-init":
        return {"linear", "linear-cloudy"}
    protocols = {"linear", "finetune", "linear-cloudy"}
    if "sar" in method_config(FusionXConfig.tiny(), method).modalities:
        protocols.add("linear-sar-only")
    return protocols


@pytest.mark.slow
def test_quick_comparison_writes_a_complete_table_and_curves(tmp_path):
    result = run_experiment(tiny_experiment(), tmp_path / "exp", progress=False)
    with result.csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for method in METHODS:
        mine = [r for r in rows if r["method"] == method]
        assert {r["protocol"] for r in mine} == expected_protocols(method), method
        for protocol in expected_protocols(method):
            keys = [
                (r["fraction"], r["seed"], r["metric"]) for r in mine if r["protocol"] == protocol
            ]
            assert sorted(keys) == sorted(
                (str(f), str(s), m)
                for f in FRACTIONS
                for s in SEEDS
                for m in ("map_micro", "map_macro")
            )
    assert all(0.0 <= float(r["value"]) <= 1.0 for r in rows)
    out = tmp_path / "exp"
    pretrained = [m for m, (changes, _) in METHODS.items() if changes is not None]
    assert sorted(p.name for p in (out / "pretrain").iterdir()) == sorted(pretrained)
    assert all((out / "pretrain" / m / "checkpoint.pt").exists() for m in pretrained)
    assert {p.name for p in result.figures} == {
        f"curves_{p}.png" for p in ("linear", "finetune", "linear-cloudy", "linear-sar-only")
    }
    assert all(p.stat().st_size > 0 for p in result.figures)
    assert (out / "results.md").read_text() == result.table
    assert "| fusionx-consistent | consistent |" in result.table
    assert json.loads((out / "experiment.json").read_text())["seconds"] > 0
    assert (out / "splits.json").exists()


def test_all_mae_methods_share_one_architecture_budget():
    base = FusionXConfig.lite()
    configs = {m: method_config(base, m) for m in METHODS}
    assert configs["fusionx-independent"].strategy == "independent"
    assert configs["fusionx-consistent"].fusion == "cross"
    assert configs["joint"].fusion == "joint" and configs["concat"].fusion == "concat"
    assert configs["sar-only"].modalities == ("sar",)
    assert configs["optical-only"].modalities == ("optical",)
    sizes = {(c.embed_dim, c.depth, c.decoder_dim, c.mask_ratio) for c in configs.values()}
    assert len(sizes) == 1


def test_results_table_reports_mean_and_spread_over_seeds():
    rows = [
        dict(
            method="a",
            strategy="s",
            fraction=0.1,
            seed=seed,
            protocol="linear",
            metric="map_micro",
            value=value,
        )
        for seed, value in ((0, 0.5), (1, 0.7))
    ]
    table = results_table(rows)
    assert "| method | strategy | 10% |" in table
    assert "| a | s | 60.0 +- 10.0 |" in table


def test_an_existing_experiment_is_refused_then_resumed(tmp_path):
    ev = EvalConfig(fractions=(1.0,), seeds=(0,), protocols=("linear",), probe_steps=5)
    exp = tiny_experiment(methods=("sar-only",), eval=ev)
    out = tmp_path / "exp"
    run_experiment(exp, out, progress=False)
    ckpt = out / "pretrain" / "sar-only" / "checkpoint.pt"
    saved = ckpt.read_bytes()
    with pytest.raises(FileExistsError, match="already holds an experiment"):
        run_experiment(exp, out, progress=False)
    result = run_experiment(exp, out, resume=True, progress=False)
    assert ckpt.read_bytes() == saved  # the finished pretraining run is reused, not redone
    assert {r["method"] for r in result.rows} == {"sar-only"}


@pytest.mark.parametrize(
    ("overrides", "name"), [({"preset": "huge"}, "preset"), ({"methods": ("mae",)}, "method")]
)
def test_unknown_settings_name_the_parameter_and_choices(overrides, name):
    with pytest.raises(ValueError, match=f"{name} must be one of"):
        ExperimentConfig(**overrides)


def test_lite_budget_is_the_documented_one():
    exp = ExperimentConfig()
    assert exp.preset == "lite" and exp.eval.fractions == (0.01, 0.05, 0.1, 0.25, 1.0)
    assert exp.eval.seeds == (0, 1, 2) and set(exp.methods) == set(METHODS)
    assert dataclasses.replace(exp, epochs=1).epochs == 1
