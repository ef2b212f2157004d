"""Low-label splits: sizes, determinism, nesting, class coverage, files, errors."""

import json

import pytest
import torch

from fusionx_lite.data import label_fraction_indices, load_splits, make_splits, save_splits
from fusionx_lite.data.splits import FRACTIONS, dataset_labels


@pytest.fixture(scope="module")
def labels():
    g = torch.Generator().manual_seed(0)
    common = (torch.rand(2000, 6, generator=g) < 0.3).float()
    rare = torch.zeros(2000, 2)
    rare[[5, 1500], 0] = 1  # a class with two positives
    rare[777, 1] = 1  # a class with one positive
    return torch.cat([common, rare], 1)  # [2000, 8]


def test_sizes_follow_the_fraction(labels):
    for f in FRACTIONS:
        idx = label_fraction_indices(labels, f, seed=0)
        assert len(idx) == round(f * 2000) and len(set(idx)) == len(idx)
        assert all(0 <= i < 2000 for i in idx)
    assert len(label_fraction_indices(labels[:10], 0.01, seed=0)) == 1  # never empty


def test_same_seed_same_split_other_seed_other_split(labels):
    assert label_fraction_indices(labels, 0.05, 1) == label_fraction_indices(labels, 0.05, 1)
    assert label_fraction_indices(labels, 0.05, 1) != label_fraction_indices(labels, 0.05, 2)


def test_small_splits_are_nested_in_larger_ones(labels):
    for seed in (0, 1):
        sets = [set(label_fraction_indices(labels, f, seed)) for f in FRACTIONS]
        assert all(a <= b for a, b in zip(sets, sets[1:], strict=False))


def test_every_class_is_represented_even_at_one_percent(labels):
    for seed in range(5):
        idx = label_fraction_indices(labels, 0.01, seed)  # 20 samples
        assert (labels[idx].sum(0) > 0).all()


def test_make_splits_matches_label_fraction_indices_and_round_trips(labels, tmp_path):
    splits = make_splits(labels, fractions=(0.01, 0.1), seeds=(0, 3))
    assert set(splits) == {0, 3} and set(splits[3]) == {0.01, 0.1}
    assert splits[3][0.1] == label_fraction_indices(labels, 0.1, 3)
    path = save_splits(splits, tmp_path / "splits.json")
    assert load_splits(path) == splits
    assert json.loads(path.read_text())["format"] == "fusionx-lite-splits/1"


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_fraction_outside_zero_one_is_rejected(labels, fraction):
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        label_fraction_indices(labels, fraction, 0)
    with pytest.raises(ValueError, match="fraction"):
        make_splits(labels, fractions=(0.1, fraction))


def test_bad_labels_and_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match=r"\[N, K\]"):
        label_fraction_indices(torch.zeros(10), 0.5, 0)
    bad = tmp_path / "other.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match="not a splits file"):
        load_splits(bad)


def test_dataset_labels_uses_the_fast_path_and_agrees_with_samples():
    from fusionx_lite.data import SyntheticWorld

    world = SyntheticWorld(12, 32, seed=1)
    assert torch.equal(dataset_labels(world), torch.stack([world[i]["label"] for i in range(12)]))
