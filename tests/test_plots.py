"""Image figures: composites in physical units, masks, reconstructions, attention maps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib import colors
from matplotlib.figure import Figure

from fusionx_lite import FusionXConfig, FusionXMAE, patchify
from fusionx_lite.data import OPTICAL_BANDS, normalize_optical, normalize_sar
from fusionx_lite.plots import (
    CLASS_COLOURS,
    HIDDEN_GREY,
    SAR_STRETCH_DB,
    class_colours,
    hide_patches,
    optical_true_colour,
    overlap_map,
    paste_visible,
    plot_attention,
    plot_masks,
    plot_pairs,
    plot_reconstruction,
    plot_sample,
    plot_sweep,
    sar_false_colour,
    stretch_limits,
)

CFG = FusionXConfig.tiny()  # image 32, patch 8: L = 16
P, L = CFG.patch_size, CFG.num_patches


@pytest.fixture
def sample() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "sar": torch.randn(2, 32, 32, generator=g),
        "optical": torch.randn(12, 32, 32, generator=g),
        "cloud": torch.zeros(32, 32),
    }


def image_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_images()]


def test_sar_composite_maps_the_stated_db_ranges_to_black_and_white():
    (vv_lo, vv_hi), (vh_lo, vh_hi) = SAR_STRETCH_DB["VV"], SAR_STRETCH_DB["VH"]
    db = torch.tensor([[[vv_lo, vv_hi]], [[vh_hi, vh_lo]]])  # [2, 1, 2]: VV, VH
    rgb = sar_false_colour(db)  # [1, 2, 3]
    assert rgb.shape == (1, 2, 3)
    np.testing.assert_allclose(rgb[0, :, 0], [0.0, 1.0])  # red is VV
    np.testing.assert_allclose(rgb[0, :, 1], [1.0, 0.0])  # green is VH
    ratio_lo, ratio_hi = SAR_STRETCH_DB["VV/VH"]
    expected_blue = np.clip(
        ([vv_lo - vh_hi, vv_hi - vh_lo] - np.float32(ratio_lo)) / (ratio_hi - ratio_lo), 0, 1
    )
    np.testing.assert_allclose(rgb[0, :, 2], expected_blue, rtol=1e-6)


def test_optical_composite_is_b04_b03_b02_with_the_given_limits():
    refl = torch.zeros(12, 2, 2)
    for value, band in ((0.3, "B04"), (0.15, "B03"), (0.0, "B02")):
        refl[OPTICAL_BANDS.index(band)] = value
    rgb = optical_true_colour(refl, OPTICAL_BANDS, limits=(0.0, 0.3))
    np.testing.assert_allclose(rgb[0, 0], [1.0, 0.5, 0.0], atol=1e-6)


def test_optical_stretch_leaves_cloudy_pixels_out():
    rgb = torch.full((3, 10, 10), 0.05)
    rgb[:, :5] = 0.7  # a bright cloud over half the image
    cloud = torch.zeros(10, 10)
    cloud[:5] = 1
    assert stretch_limits(rgb)[1] == pytest.approx(0.7)
    assert stretch_limits(rgb, cloud)[1] < 0.06  # the ground sets the stretch


def test_paste_visible_keeps_true_patches_where_visible():
    pred, target = torch.zeros(L, 5), torch.ones(L, 5)
    mask = torch.zeros(L, dtype=torch.bool)
    mask[:4] = True
    out = paste_visible(pred, target, mask)
    assert torch.equal(out[:4], pred[:4]) and torch.equal(out[4:], target[4:])


def test_hide_patches_greys_exactly_the_hidden_patches():
    image = np.zeros((32, 32, 3))
    mask = torch.zeros(L, dtype=torch.bool)
    mask[[0, 5, 15]] = True
    out = hide_patches(image, mask, P)
    assert (out[..., 0] == HIDDEN_GREY).sum() == 3 * P * P
    assert (out[:P, :P] == HIDDEN_GREY).all() and (out[-P:, -P:] == HIDDEN_GREY).all()


def test_overlap_codes_say_which_modality_hides_a_patch():
    m_sar = torch.tensor([False, True, False, True])
    m_opt = torch.tensor([False, False, True, True])
    assert overlap_map(m_sar, m_opt, 2).tolist() == [[0, 1], [2, 3]]


def test_known_classes_get_map_colours():
    assert class_colours(["Water", "Something new"])[0] == colors.to_rgb(CLASS_COLOURS["Water"])
    assert len(class_colours(["a", "b", "c"])) == 3


def test_sample_figure_has_titled_panels_and_a_class_legend(sample):
    cm = torch.zeros(32, 32, dtype=torch.long)
    cm[16:] = 1
    fig = plot_sample(
        sample["sar"],
        sample["optical"],
        class_map=cm,
        class_names=["Water", "Grassland"],
        cloud=sample["cloud"],
    )
    axes = image_axes(fig)
    assert len(axes) == 4
    assert "SAR" in axes[0].get_title() and "dB" in axes[0].get_title()
    assert "B04" in axes[1].get_title()
    assert all(ax.get_xlabel() for ax in axes)
    legend = axes[3].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Water", "Grassland"]
    with pytest.raises(ValueError, match="class_names"):
        plot_sample(sample["sar"], sample["optical"], class_map=cm)


def test_pairs_figure_draws_sar_above_optical(sample):
    fig = plot_pairs([sample, sample, sample], titles=["a", "b", "c"])
    assert len(image_axes(fig)) == 6
    assert "SAR" in fig.axes[0].get_ylabel() and "optical" in fig.axes[3].get_ylabel()


def test_masks_figure_counts_hidden_patches(sample):
    hidden = torch.zeros(L, dtype=torch.bool)
    hidden[:12] = True
    other = hidden.roll(4)
    fig = plot_masks(
        sample["sar"],
        sample["optical"],
        {"consistent": (hidden, hidden), "independent": (hidden, other)},
        P,
    )
    titles = [ax.get_title() for ax in fig.axes]
    assert "consistent: SAR, 12 of 16 hidden" in titles
    assert "consistent: 12 patches hidden in both" in titles
    assert "independent: 8 patches hidden in both" in titles
    assert fig.legends, "the overlap colours need a legend"


def test_reconstruction_grid_reports_the_hidden_patch_error(sample):
    mask = torch.zeros(L, dtype=torch.bool)
    mask[:8] = True
    target_sar = patchify(sample["sar"][None], P)[0]
    pred_sar = target_sar + 0.5  # error 0.25 everywhere
    pred_opt = patchify(sample["optical"][None], P)[0]  # perfect
    fig = plot_reconstruction(sample["sar"], sample["optical"], pred_sar, pred_opt, mask, mask, P)
    axes = image_axes(fig)
    assert len(axes) == 8
    assert [ax.get_title() for ax in axes[:4]] == [
        "SAR: original",
        "SAR: masked input",
        "SAR: reconstruction",
        "SAR: reconstruction + visible",
    ]
    assert "0.250" in axes[2].get_xlabel() and "0.000" in axes[6].get_xlabel()


def test_sweep_has_the_original_then_one_column_per_setting(sample):
    mask = torch.zeros(L, dtype=torch.bool)
    mask[:8] = True
    pred = patchify(sample["optical"][None], P)[0]
    cells = {(s, r): (pred, mask) for s in ("a", "b") for r in ("0.5", "0.75", "0.9")}
    fig = plot_sweep(sample["optical"], "optical", cells, P)
    assert len(image_axes(fig)) == 2 * 4
    assert fig.axes[1].get_title() == "0.5: 8 hidden"
    with pytest.raises(ValueError, match="modality"):
        plot_sweep(sample["optical"], "radar", cells, P)


def test_attention_figure_has_a_colour_bar_and_refuses_hidden_queries(sample):
    torch.manual_seed(0)
    model = FusionXMAE(CFG).eval()
    maps = model.attention_maps(sample["sar"][None], sample["optical"][None])
    fig = plot_attention(sample["sar"], sample["optical"], maps, (1, 2), P)
    assert any("attention weight" in ax.get_ylabel() for ax in fig.axes)  # the colour bar
    heat = fig.axes[2].get_images()[0].get_array()
    assert heat.sum() == pytest.approx(1.0, abs=1e-5)  # one query's weights over all keys
    masked = model.attention_maps(
        sample["sar"][None],
        sample["optical"][None],
        mask_ratio=0.75,
        generator=torch.Generator().manual_seed(0),
    )
    hidden = int(masked["mask_optical"][0].nonzero()[0])
    with pytest.raises(ValueError, match="hidden"):
        plot_attention(sample["sar"], sample["optical"], masked, divmod(hidden, 4), P)
    with pytest.raises(ValueError, match="inside the 4 x 4"):
        plot_attention(sample["sar"], sample["optical"], maps, (4, 0), P)
    with pytest.raises(ValueError, match="direction"):
        plot_attention(sample["sar"], sample["optical"], maps, (0, 0), P, direction="up")


def test_composites_read_physical_units_back_from_standardised_inputs():
    db = torch.full((2, 8, 8), -10.0)
    refl_dn = torch.full((12, 8, 8), 1000.0)  # reflectance 0.1
    fig = plot_sample(normalize_sar(db), normalize_optical(refl_dn), OPTICAL_BANDS)
    sar_rgb = image_axes(fig)[0].get_images()[0].get_array()
    expected = (-10.0 - SAR_STRETCH_DB["VV"][0]) / (
        SAR_STRETCH_DB["VV"][1] - SAR_STRETCH_DB["VV"][0]
    )
    assert float(sar_rgb[0, 0, 0]) == pytest.approx(expected, abs=1e-5)
