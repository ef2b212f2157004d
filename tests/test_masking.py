"""Masking strategies: specifications as property tests."""

import pytest
import torch

from fusionx_lite.masking import make_masks, mask_to_ids, num_hidden


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("strategy", ["consistent", "independent"])
@pytest.mark.parametrize(("num_patches", "ratio"), [(16, 0.75), (64, 0.75), (49, 0.5), (225, 0.9)])
def test_exact_hidden_count_per_row(strategy, num_patches, ratio):
    mask_sar, mask_opt = make_masks(8, num_patches, ratio, strategy, gen(0))
    expected = round(ratio * num_patches)
    for mask in (mask_sar, mask_opt):
        assert mask.dtype == torch.bool and mask.shape == (8, num_patches)
        assert (mask.sum(dim=1) == expected).all()


def test_consistent_masks_are_equal():
    mask_sar, mask_opt = make_masks(16, 64, 0.75, "consistent", gen(1))
    assert torch.equal(mask_sar, mask_opt)


def test_independent_masks_differ():
    mask_sar, mask_opt = make_masks(16, 64, 0.75, "independent", gen(1))
    assert not torch.equal(mask_sar, mask_opt)
    # each row differs: two random 48-of-64 subsets coincide with negligible probability
    assert (mask_sar != mask_opt).any(dim=1).all()


@pytest.mark.parametrize("strategy", ["consistent", "independent"])
def test_same_seed_same_masks_other_seed_other_masks(strategy):
    a = make_masks(4, 64, 0.75, strategy, gen(7))
    b = make_masks(4, 64, 0.75, strategy, gen(7))
    c = make_masks(4, 64, 0.75, strategy, gen(8))
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
    assert not torch.equal(a[0], c[0])


def test_ratio_zero_hides_nothing():
    for mask in make_masks(4, 16, 0.0, "independent", gen(0)):
        assert not mask.any()


def test_masks_are_uniform_over_positions():
    mask, _ = make_masks(4000, 16, 0.75, "consistent", gen(3))
    freq = mask.float().mean(dim=0)  # each position hidden ~75% of the time
    assert (freq - 0.75).abs().max() < 0.04


def test_mask_to_ids_gives_sorted_visible_positions():
    mask, _ = make_masks(5, 16, 0.75, "independent", gen(2))
    ids = mask_to_ids(mask)
    assert ids.shape == (5, 4)
    assert (ids[:, 1:] > ids[:, :-1]).all()
    assert not mask.gather(1, ids).any()


def test_mask_to_ids_rejects_ragged_masks():
    mask = torch.tensor([[True, False, False], [True, True, False]])
    with pytest.raises(ValueError, match="same number"):
        mask_to_ids(mask)


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.2, float("nan")])
def test_bad_mask_ratio_is_named(ratio):
    with pytest.raises(ValueError, match=r"mask_ratio must be in \[0, 1\)"):
        make_masks(2, 16, ratio, "consistent")


def test_ratio_that_hides_everything_is_refused():
    with pytest.raises(ValueError, match="hides all 4 patches"):
        num_hidden(4, 0.95)


def test_unknown_strategy_is_named():
    with pytest.raises(ValueError, match="strategy must be one of"):
        make_masks(2, 16, 0.5, "random")
