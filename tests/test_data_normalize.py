"""Band names, normalisation statistics and their inverses."""

import pytest
import torch
from bigearthnet_common.constants import BAND_STATS_S1, BAND_STATS_S2

from fusionx_lite.data import (
    OPTICAL_BANDS,
    OPTICAL_MEAN,
    OPTICAL_STD,
    SAR_MEAN,
    SAR_STD,
    denormalize_optical,
    denormalize_sar,
    normalize_optical,
    normalize_sar,
    optical_band_indices,
    rgb_indices,
)


def test_statistics_are_the_published_bigearthnet_v1_values():
    assert OPTICAL_BANDS == [
        "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12"
    ]  # fmt: skip
    assert OPTICAL_MEAN == [BAND_STATS_S2["mean"][b] for b in OPTICAL_BANDS]
    assert OPTICAL_STD == [BAND_STATS_S2["std"][b] for b in OPTICAL_BANDS]
    assert SAR_MEAN == [BAND_STATS_S1["mean"]["VV"], BAND_STATS_S1["mean"]["VH"]]
    assert SAR_STD == [BAND_STATS_S1["std"]["VV"], BAND_STATS_S1["std"]["VH"]]
    assert round(SAR_MEAN[0], 2) == -12.62 and round(SAR_STD[1], 2) == 5.46  # field notes


def test_sar_round_trip_and_known_value():
    db = torch.tensor([-12.619993741972035, -19.29044597721542]).reshape(2, 1, 1).expand(2, 3, 3)
    assert normalize_sar(db).abs().max() < 1e-5  # the mean maps to 0
    x = torch.randn(4, 2, 8, 8)
    torch.testing.assert_close(normalize_sar(denormalize_sar(x)), x)


def test_optical_round_trip_with_a_band_subset():
    bands = ["B08", "B04"]
    x = torch.randn(3, 2, 5, 5)
    refl = denormalize_optical(x, bands)
    torch.testing.assert_close(normalize_optical(refl * 10000, bands), x, atol=1e-4, rtol=1e-4)
    zero = denormalize_optical(torch.zeros(2, 1, 1), bands)
    torch.testing.assert_close(zero.flatten(), torch.tensor([2218.94553375, 590.23569706]) / 1e4)


def test_rgb_indices_find_red_green_blue():
    assert rgb_indices() == [3, 2, 1]
    assert rgb_indices(["B02", "B03", "B04", "B08"]) == [2, 1, 0]
    with pytest.raises(ValueError, match="B02"):
        rgb_indices(["B03", "B04"])


def test_band_selection_errors_list_the_allowed_bands():
    assert optical_band_indices(None) == list(range(12))
    assert optical_band_indices(["B12", "B01"]) == [11, 0]
    with pytest.raises(ValueError, match="B8A"):  # the allowed list is in the message
        optical_band_indices(["B10"])
    with pytest.raises(ValueError, match="repeat"):
        optical_band_indices(["B04", "B04"])
    with pytest.raises(ValueError, match="empty"):
        optical_band_indices([])
    with pytest.raises(ValueError, match="list of band names"):
        optical_band_indices("B04")


def test_wrong_channel_count_is_a_clear_error():
    with pytest.raises(ValueError, match=r"sar must have shape \[\.\.\., 2, H, W\]"):
        denormalize_sar(torch.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="optical"):
        denormalize_optical(torch.zeros(12, 4, 4), ["B04"])
