"""In-memory arrays: materialize, save / load, and the errors of the entry point."""

import pytest
import torch

from fusionx_lite.data import ArrayDataset, SyntheticWorld, build_dataset, materialize
from fusionx_lite.data.arrays import center_crop_bounds


def test_save_and_load_round_trip(tmp_path):
    arrays = materialize(SyntheticWorld(6, 32, seed=2), dtype=torch.float32)
    path = arrays.save(tmp_path / "a.npz")
    back = ArrayDataset.load(path)
    assert back.class_names == arrays.class_names and back.optical_bands == arrays.optical_bands
    for key in ("sar", "optical", "label", "cloud"):
        assert torch.equal(back[5][key], arrays[5][key])
    loaded = build_dataset("subset", root=path, img_size=16, optical_bands=["B04"], length=3)
    assert len(loaded) == 3 and loaded[0]["optical"].shape == (1, 16, 16)
    assert torch.equal(loaded[0]["optical"][0], arrays[0]["optical"][3, 8:24, 8:24])


def test_center_crop_bounds_keeps_the_pixel_size():
    bounds = torch.tensor([1000.0, 2000.0, 2200.0, 3200.0], dtype=torch.float64)  # 120 px of 10 m
    assert center_crop_bounds(bounds, 120, 64).tolist() == [1280.0, 2280.0, 1920.0, 2920.0]


def test_bad_arrays_and_empty_datasets_are_clear_errors():
    ok = {
        "sar": torch.zeros(2, 2, 4, 4),
        "optical": torch.zeros(2, 1, 4, 4),
        "label": torch.zeros(2, 3),
    }
    with pytest.raises(ValueError, match="missing \\['label'\\]"):
        ArrayDataset({k: v for k, v in ok.items() if k != "label"}, ["a"] * 3, ["B04"])
    with pytest.raises(ValueError, match="same length"):
        ArrayDataset({**ok, "label": torch.zeros(3, 3)}, ["a"] * 3, ["B04"])
    with pytest.raises(ValueError, match="empty"):
        materialize(SyntheticWorld(0, 32))


def test_entry_point_errors_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match="length must be"):
        build_dataset("synthetic", length=-5)
    with pytest.raises(ValueError, match="needs root="):
        build_dataset("subset")
    with pytest.raises(ValueError, match="split must be one of"):
        build_dataset("subset", root=tmp_path, split="dev")
    with pytest.raises(ValueError, match="optical_bands"):
        build_dataset("synthetic", optical_bands=["red"])
