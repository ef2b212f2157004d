"""Low-label evaluation: mAP, linear probe, fine-tuning, the results table and curves."""

import csv
import itertools

import pytest
import torch

from fusionx_lite import FusionXConfig, FusionXMAE
from fusionx_lite.checkpoint import weights_hash
from fusionx_lite.curves import plot_learning_curves
from fusionx_lite.data import ArrayDataset, build_dataset, make_splits, materialize
from fusionx_lite.evaluate import (
    COLUMNS,
    EvalConfig,
    evaluate_encoder,
    extract_features,
    finetune,
    linear_probe,
    mean_average_precision,
    subset,
    write_results,
)

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def test_map_matches_a_hand_computed_example():
    scores = torch.tensor([[0.9, 0.1], [0.8, 0.7], [0.3, 0.2]])
    labels = torch.tensor([[1, 0], [0, 1], [1, 0]])
    # class 0 ranks P N P: AP = (1/1 + 2/3) / 2; class 1 ranks P N N: AP = 1
    # micro pools all six pairs: .9P .8N .7P .3P .2N .1N -> (1/1 + 2/3 + 3/4) / 3
    result = mean_average_precision(scores, labels)
    assert result["map_macro"] == pytest.approx((5 / 6 + 1) / 2)
    assert result["map_micro"] == pytest.approx(29 / 36)


def test_macro_map_leaves_out_classes_absent_from_the_evaluation_set():
    scores = torch.tensor([[0.9, 0.1, 0.5], [0.8, 0.7, 0.4], [0.3, 0.2, 0.6]])
    labels = torch.tensor([[1, 0, 0], [0, 1, 0], [1, 0, 0]])
    assert mean_average_precision(scores, labels)["map_macro"] == pytest.approx(11 / 12)


def test_linear_probe_separates_informative_features():
    g = torch.Generator().manual_seed(0)
    y = (torch.rand(300, 4, generator=g) > 0.5).float()
    x = torch.cat([y * 2 - 1, torch.randn(300, 12, generator=g)], 1)
    x = x + 0.5 * torch.randn(300, 16, generator=g)
    mean, std = x.mean(0), x.std(0)
    probs = linear_probe(x[:200], y[:200], x[200:], seed=0, mean=mean, std=std)
    assert probs.shape == (100, 4) and probs.min() >= 0 and probs.max() <= 1
    assert mean_average_precision(probs, y[200:])["map_micro"] > 0.95
    noise = linear_probe(x[:200, 4:], y[:200], x[200:, 4:], seed=0, mean=mean[4:], std=std[4:])
    assert mean_average_precision(noise, y[200:])["map_micro"] < 0.8


@pytest.fixture(scope="module")
def tiny_sets():
    def load(split, n):
        ds = build_dataset("synthetic", split=split, img_size=32, length=n, seed=0)
        return materialize(ds, dtype=torch.float32)

    return load("train", 64), load("test", 48)


@pytest.fixture(scope="module")
def tiny_model(tiny_sets):
    torch.manual_seed(0)
    cfg = FusionXConfig.tiny(optical_channels=len(tiny_sets[0].optical_bands))
    return FusionXMAE(cfg)


def test_tiny_evaluation_writes_a_complete_well_formed_table(tmp_path, tiny_sets, tiny_model):
    cfg = EvalConfig(
        fractions=(0.1, 1.0),
        seeds=(0, 1),
        probe_steps=20,
        finetune_fractions=None,
        finetune_steps=2,
        finetune_batch=8,
    )
    rows = evaluate_encoder(
        tiny_model, *tiny_sets, method="random", strategy="consistent", cfg=cfg, progress=False
    )
    path = write_results(rows, tmp_path / "results.csv")
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == COLUMNS
        table = list(reader)
    keys = {(r["fraction"], r["seed"], r["protocol"], r["metric"]) for r in table}
    expected = itertools.product(
        ("0.1", "1.0"), ("0", "1"), ("linear", "finetune"), ("map_micro", "map_macro")
    )
    assert keys == set(expected) and len(table) == len(keys)  # each combination exactly once
    assert all(0.0 <= float(r["value"]) <= 1.0 for r in table)
    assert {r["method"] for r in table} == {"random"}
    fig = plot_learning_curves(path, tmp_path / "curves.png", protocol="linear")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "mAP" in ax.get_ylabel() and ax.get_title()
    assert "labelled" in ax.get_xlabel() and (tmp_path / "curves.png").stat().st_size > 0
    with pytest.raises(ValueError, match="protocol='knn'"):
        plot_learning_curves(path, protocol="knn")


def test_sar_only_input_is_evaluated_under_its_own_protocol_name(tiny_sets, tiny_model):
    cfg = EvalConfig(fractions=(1.0,), seeds=(0,), protocols=("linear",), probe_steps=5)
    rows = evaluate_encoder(
        tiny_model,
        *tiny_sets,
        method="m",
        strategy="s",
        cfg=cfg,
        modalities=("sar",),
        protocol_suffix="-sar-only",
        progress=False,
    )
    assert {r["protocol"] for r in rows} == {"linear-sar-only"}


def test_finetuning_leaves_the_pretrained_model_untouched(tiny_sets, tiny_model):
    before = weights_hash(tiny_model)
    cfg = EvalConfig(finetune_steps=3, finetune_batch=8)
    probs = finetune(tiny_model, tiny_sets[0], tiny_sets[1], seed=0, cfg=cfg)
    assert probs.shape == (48, tiny_sets[0].num_classes)
    assert weights_hash(tiny_model) == before


def test_finetuning_starts_from_a_linear_probe_on_the_labelled_subset(tiny_sets, tiny_model):
    train, test = subset(tiny_sets[0], range(20)), tiny_sets[1]
    cfg = EvalConfig(finetune_steps=0, probe_steps=50)
    modalities = ("sar", "optical")
    x = extract_features(tiny_model, train, modalities)
    mean, std = x.mean(0), x.std(0)
    probe = linear_probe(
        x,
        train.arrays["label"],
        extract_features(tiny_model, test, modalities),
        seed=3,
        mean=mean,
        std=std,
        steps=50,
    )
    lpft = finetune(tiny_model, train, test, seed=3, cfg=cfg)
    torch.testing.assert_close(lpft, probe, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("fractions", [(0.0,), (1.5,), (0.1, -0.01), ()])
def test_fractions_outside_zero_one_are_refused(fractions):
    with pytest.raises(ValueError, match=r"fractions must be .* in \(0, 1\]"):
        EvalConfig(fractions=fractions)


def test_finetune_fractions_must_meet_the_fractions():
    with pytest.raises(ValueError, match="finetune_fractions .* share no value"):
        EvalConfig(fractions=(0.5, 1.0), finetune_fractions=(0.01,))
    assert EvalConfig(fractions=(0.5,), protocols=("linear",)).fractions == (0.5,)


def test_unknown_protocol_lists_the_allowed_ones(tiny_sets, tiny_model):
    with pytest.raises(ValueError, match=r"protocol must be one of \('linear', 'finetune'\)"):
        EvalConfig(protocols=("knn",))
    with pytest.raises(ValueError, match="protocol must be one of"):
        evaluate_encoder(tiny_model, *tiny_sets, method="m", strategy="s", protocols=("knn",))


def test_splits_missing_a_fraction_are_refused(tiny_sets, tiny_model):
    splits = make_splits(tiny_sets[0].arrays["label"], fractions=(1.0,), seeds=(0,))
    cfg = EvalConfig(fractions=(0.5, 1.0), seeds=(0,), protocols=("linear",))
    with pytest.raises(ValueError, match=r"splits lack .*\(0, 0.5\)"):
        evaluate_encoder(
            tiny_model, *tiny_sets, method="m", strategy="s", cfg=cfg, splits=splits, progress=False
        )


def test_in_memory_subsets_keep_names():
    data = ArrayDataset(
        {
            "sar": torch.zeros(4, 2, 8, 8),
            "optical": torch.zeros(4, 3, 8, 8),
            "label": torch.eye(4)[:, :2],
        },
        ["a", "b"],
        ["B2", "B3", "B4"],
    )
    part = subset(data, [1, 3])
    assert len(part) == 2 and part.class_names == ["a", "b"]
    assert torch.equal(part.arrays["label"], torch.eye(4)[[1, 3], :2])
