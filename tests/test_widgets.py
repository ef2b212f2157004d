"""Widget logic without a browser: set the knobs, check the figure and the numbers."""

from __future__ import annotations

import pytest
import torch

from fusionx_lite import FusionXConfig, FusionXMAE
from fusionx_lite.widgets import MaskExplorer, WorldExplorer

CFG = FusionXConfig.tiny()  # image 32, patch 8: L = 16 patches per modality


@pytest.fixture(scope="module")
def models() -> dict[str, FusionXMAE]:
    torch.manual_seed(0)
    return {
        s: FusionXMAE(FusionXConfig.tiny(strategy=s)).eval() for s in ("consistent", "independent")
    }


@pytest.fixture(scope="module")
def sample() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {
        "sar": torch.randn(2, 32, 32, generator=g),
        "optical": torch.randn(12, 32, 32, generator=g),
    }


def titles(view) -> list[str]:
    return [ax.get_title() for ax in view.figure.axes]


@pytest.mark.parametrize("ratio", [0.25, 0.5, 0.75])
def test_consistent_masks_hide_the_same_patches_in_both_modalities(models, sample, ratio):
    view = MaskExplorer(models, sample).update(mask_ratio=ratio, strategy="consistent")
    hidden = round(ratio * CFG.num_patches)
    assert view.counts == {
        "num_patches": 16,
        "hidden_sar": hidden,
        "hidden_optical": hidden,
        "hidden_both": hidden,
    }
    assert view.model_name == "consistent"


def test_independent_masks_hide_the_same_number_at_other_places(models, sample):
    explorer = MaskExplorer(models, sample, seed=3)
    view = explorer.update(mask_ratio=0.5, strategy="independent")
    assert view.counts["hidden_sar"] == view.counts["hidden_optical"] == 8
    assert view.counts["hidden_both"] < 8  # for this seed the masks differ
    assert view.model_name == "independent"
    assert view.figure.get_suptitle().startswith("independent masking, mask ratio 0.50")


def test_the_figure_is_the_reconstruction_grid_of_both_modalities(models, sample):
    view = MaskExplorer(models, sample).update(mask_ratio=0.75, strategy="consistent")
    assert len([ax for ax in view.figure.axes if ax.get_images()]) == 8
    for modality in ("SAR", "optical"):
        for column in ("original", "masked input", "reconstruction", "reconstruction + visible"):
            assert f"{modality}: {column}" in titles(view)
    assert set(view.loss) == {"sar", "optical"} and all(v > 0 for v in view.loss.values())


def test_the_same_knobs_draw_the_same_masks(models, sample):
    a = MaskExplorer(models, sample, seed=5).update(mask_ratio=0.5, strategy="independent")
    b = MaskExplorer(models, sample, seed=5).update(mask_ratio=0.5, strategy="independent")
    assert a.counts == b.counts and a.loss == b.loss


def test_knobs_not_given_keep_their_values(models, sample):
    explorer = MaskExplorer(models, sample, mask_ratio=0.25, strategy="consistent")
    explorer.update(strategy="independent")
    view = explorer.update()
    assert view.counts["hidden_sar"] == 4 and view.model_name == "independent"


def test_a_single_model_serves_both_strategies(models, sample):
    explorer = MaskExplorer(models["consistent"], sample)
    assert explorer.update(strategy="independent").model_name == "model"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mask_ratio": 1.0}, "mask_ratio must be in"),
        ({"strategy": "random"}, "strategy must be one of"),
    ],
)
def test_bad_knob_values_are_refused_by_name(models, sample, kwargs, message):
    with pytest.raises(ValueError, match=message):
        MaskExplorer(models, sample).update(**kwargs)


def test_models_must_be_keyed_by_strategy(models, sample):
    with pytest.raises(ValueError, match="models key"):
        MaskExplorer({"mine": models["consistent"]}, sample)
    with pytest.raises(ValueError, match="at least one"):
        MaskExplorer({}, sample)


def test_moving_the_slider_redraws_the_figure(models, sample):
    pytest.importorskip("ipywidgets")
    explorer = MaskExplorer(models, sample, mask_ratio=0.5, strategy="consistent")
    ui = explorer.widget()
    slider, toggle = ui.children[0].children
    output = ui.children[1]
    assert len(output.outputs) == 1  # the first drawing
    slider.value = 0.75
    assert explorer.mask_ratio == 0.75
    toggle.value = "independent"
    assert explorer.strategy == "independent"
    assert len(output.outputs) == 1 and "image/png" in output.outputs[0]["data"]


def test_clouds_change_only_the_optical_image():
    clear = WorldExplorer(index=1, img_size=32).update(cloud_cover=0.0)
    cloudy = WorldExplorer(index=1, img_size=32).update(cloud_cover=1.0)
    assert clear.cloud_fraction == 0.0 and cloudy.cloud_fraction == 1.0
    assert clear.sar_db_std == cloudy.sar_db_std


def test_more_looks_mean_less_speckle():
    explorer = WorldExplorer(index=0, img_size=32)
    grainy, smooth = explorer.update(looks=1.0), explorer.update(looks=50.0)
    assert grainy.sar_db_std > smooth.sar_db_std
    assert explorer.looks == 50.0
    assert smooth.figure.get_suptitle().endswith("speckle with 50 looks")


def test_world_knobs_are_checked_by_the_world():
    with pytest.raises(ValueError, match="cloud_cover"):
        WorldExplorer().update(cloud_cover=1.5)
