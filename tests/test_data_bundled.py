"""The six real BigEarthNet patches bundled with bigearthnet-common."""

import numpy as np
import pytest
import torch
from pyproj import Transformer

from fusionx_lite.data import (
    SyntheticWorld,
    build_dataset,
    bundled_bigearthnet_root,
    denormalize_optical,
    denormalize_sar,
)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def real(cache):
    """All six patches at full size, 120 px."""
    return build_dataset("bundled", root=cache, img_size=120)


def test_root_is_a_torchgeo_v1_root(cache):
    from torchgeo.datasets import BigEarthNet

    root = bundled_bigearthnet_root(cache)
    assert bundled_bigearthnet_root(cache) == root  # cached, not laid out twice
    sizes = {
        s: len(BigEarthNet(root=str(root), split=s, bands="all")) for s in ("train", "val", "test")
    }
    assert sizes == {"train": 4, "val": 1, "test": 1}


def test_six_patches_in_the_sample_format(real, cache):
    assert len(real) == 6 and real.num_classes == 19
    s = real[0]
    assert s["sar"].shape == (2, 120, 120) and s["optical"].shape == (12, 120, 120)
    assert s["label"].shape == (19,) and s["bounds"].shape == (4,)
    assert len(build_dataset("bundled", root=cache, split="train")) == 4
    with pytest.raises(ValueError, match="split must be one of"):
        build_dataset("bundled", root=cache, split="dev")


def test_radar_looks_like_sentinel1(real):
    for i in range(len(real)):
        db = denormalize_sar(real[i]["sar"]).double()
        vv, vh = db[0].mean().item(), db[1].mean().item()
        assert -16 < vv < -5 and -22 < vh < -13, real.patch_id(i)
        assert vv > vh + 4  # cross-polarised returns are weaker
        assert db.min() > -45 and db.max() < 20


def test_optics_look_like_sentinel2_l2a(real):
    names = [real.patch_id(i) for i in range(len(real))]
    refl = {n: denormalize_optical(real[i]["optical"]).mean((1, 2)) for i, n in enumerate(names)}
    for n, r in refl.items():
        assert (r > 0).all() and (r < 0.6).all(), n
    pasture = refl["S2A_MSIL2A_20170617T113321_4_55"]  # green vegetation: red edge, high NIR
    assert pasture[7] > 5 * pasture[3] and pasture[6] > pasture[4]
    snow = refl["S2B_MSIL2A_20180204T94161_57_38"]  # Finnish winter: bright visible, dark SWIR
    assert snow[1] > 0.25 and snow[10] < 0.1


def test_labels_and_footprints(real):
    pasture = [real.patch_id(i) for i in range(6)].index("S2A_MSIL2A_20170617T113321_4_55")
    s = real[pasture]
    assert [real.class_names[k] for k in s["label"].nonzero().flatten()] == ["Pastures"]
    assert s["crs"] == "EPSG:32629"
    minx, miny, maxx, maxy = s["bounds"].tolist()
    assert (maxx - minx, maxy - miny) == (1200.0, 1200.0)  # 120 px of 10 m
    lon, lat = Transformer.from_crs(s["crs"], "EPSG:4326", always_xy=True).transform(minx, miny)
    assert -11 < lon < -5 and 51 < lat < 56  # Ireland
    assert torch.equal(real.labels(), torch.stack([real[i]["label"] for i in range(6)]))


def test_cropping_to_64_px_keeps_the_center(real, cache):
    small = build_dataset("bundled", root=cache, img_size=64)
    big, crop = real[0], small[0]
    assert torch.equal(crop["sar"], big["sar"][:, 28:92, 28:92])
    assert (crop["bounds"][2] - crop["bounds"][0]).item() == 640.0


def test_synthetic_grassland_radar_matches_the_real_pasture(real):
    """The check the signatures docstring quotes: grassland dB mean and spread."""
    pasture = [real.patch_id(i) for i in range(6)].index("S2A_MSIL2A_20170617T113321_4_55")
    real_db = denormalize_sar(real[pasture]["sar"]).flatten(1).numpy()  # [2, 14400]
    world = SyntheticWorld(40, 64, seed=0, cloud_cover=0.0)
    grass = world.class_names.index("Grassland")
    pixels = [
        world.render(i)["sar_db"][:, world.render(i)["class_map"] == grass] for i in range(40)
    ]
    synth_db = np.concatenate(pixels, axis=1)
    assert np.abs(synth_db.mean(1) - real_db.mean(1)).max() < 2.5  # dB
    assert np.abs(synth_db.std(1) - real_db.std(1)).max() < 1.0
